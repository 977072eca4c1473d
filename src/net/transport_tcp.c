/* The plain TCP transport: the socket calls, errors as -errno. */
#include "transport.h"
#include "base/sys.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t tcp_recv(void *ctx, int fd, void *buf, size_t len)
{
    (void)ctx;
    for (;;) {
        ssize_t n = sk__sys_recv(fd, buf, len, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static ssize_t tcp_send(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx;
    for (;;) {
        ssize_t n = sk__sys_send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static int tcp_shutdown(void *ctx, int fd)
{
    (void)ctx;
    return shutdown(fd, SHUT_WR) < 0 ? -errno : 0;
}

static void tcp_close(void *ctx, int fd)
{
    (void)ctx;
    close(fd);
}

const sk__transport sk__transport_tcp = {
    .name = "tcp",
    .recv = tcp_recv,
    .send = tcp_send,
    .shutdown = tcp_shutdown,
    .close = tcp_close,
};
