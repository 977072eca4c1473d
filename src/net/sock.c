/* Sockets: listen, connect with a timeout over every resolved address,
 * accept, and the fd helpers shared by every model and the CLI. */
#include <sockit/sock.h>

#include "sock_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sk_set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int sk_set_nodelay(int fd, bool on)
{
    int v = on;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0 ? -errno : 0;
}

int sk__listen_options(int fd, int family, int flags)
{
    int one = 1;
    /* Without SO_REUSEADDR a restarted server could not bind while old
     * connections sit in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        return -errno;
    if ((flags & SK_LISTEN_REUSEPORT) && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return -errno;
    if (family == AF_INET6) {
        int v6only = (flags & SK_LISTEN_V6ONLY) ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0)
            return -errno;
    }
    return 0;
}

int sk_tcp_listen(const sk_addr *a, int backlog, int flags)
{
    int err;
    int type = SOCK_STREAM | SOCK_CLOEXEC | ((flags & SK_LISTEN_NONBLOCK) ? SOCK_NONBLOCK : 0);
    int fd = socket(a->ss.ss_family, type, 0);

    if (fd < 0)
        return -errno;
    if (sk__listen_options(fd, a->ss.ss_family, flags) < 0)
        goto fail;
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
        goto fail;
    if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        goto fail;
    return fd;
fail:
    err = -errno;
    close(fd);
    return err;
}

/* One non-blocking connect bounded by timeout_ms. */
static int connect_one(const sk_addr *a, int timeout_ms)
{
    int err = 0;
    socklen_t elen = sizeof err;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
        if (errno != EINPROGRESS) {
            err = -errno;
            goto fail;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int64_t deadline = timeout_ms >= 0 ? sk_now_ms() + timeout_ms : -1;
        for (;;) {
            int wait = deadline < 0 ? -1 : (int)(deadline - sk_now_ms());
            if (deadline >= 0 && wait < 0)
                wait = 0;
            int n = poll(&p, 1, wait);
            if (n > 0)
                break;
            if (n == 0) {
                err = -ETIMEDOUT;
                goto fail;
            }
            if (errno != EINTR) {
                err = -errno;
                goto fail;
            }
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) {
            err = -errno;
            goto fail;
        }
        if (err != 0) {
            err = -err;
            goto fail;
        }
    }
    if (sk_set_nonblock(fd, false) < 0) {
        err = -errno;
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return err;
}

int sk_tcp_connect(const sk_addr *addrs, int n, int timeout_ms, int *which)
{
    int rc = -EINVAL;

    for (int i = 0; i < n; i++) {
        if (which)
            *which = i;
        rc = connect_one(&addrs[i], timeout_ms);
        if (rc >= 0)
            return rc;
    }
    return rc;
}

int sk_accept(int lfd, bool nonblock, sk_addr *peer)
{
    sk_addr tmp = {0};
    sk_addr *p = peer ? peer : &tmp;
    int flags = SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);

    for (;;) {
        p->len = sizeof p->ss;
        int fd = accept4(lfd, (struct sockaddr *)&p->ss, &p->len, flags);
        if (fd >= 0)
            return fd;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

int sk_shutdown_write(int fd) { return shutdown(fd, SHUT_WR) < 0 ? -errno : 0; }

int sk_tuple_get(int fd, sk_tuple *t)
{
    memset(t, 0, sizeof *t);
    t->peer.len = sizeof t->peer.ss;
    t->local.len = sizeof t->local.ss;
    if (getpeername(fd, (struct sockaddr *)&t->peer.ss, &t->peer.len) < 0)
        return -errno;
    if (getsockname(fd, (struct sockaddr *)&t->local.ss, &t->local.len) < 0)
        return -errno;
    return 0;
}

char *sk_tuple_format(const sk_tuple *t, char *buf, size_t len)
{
    char a[SK_ADDRSTRLEN], b[SK_ADDRSTRLEN];
    snprintf(buf, len, "%s -> %s", sk_addr_format((const struct sockaddr *)&t->peer.ss, a, sizeof a),
             sk_addr_format((const struct sockaddr *)&t->local.ss, b, sizeof b));
    return buf;
}

long sk_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t left = len;

    while (left > 0) {
        ssize_t n = send(fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = {.fd = fd, .events = POLLOUT};
                poll(&pf, 1, -1);
                continue;
            }
            return -errno;
        }
        p += n;
        left -= (size_t)n;
    }
    return (long)len;
}
