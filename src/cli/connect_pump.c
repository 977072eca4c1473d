/* The stream pump of sockit connect (connect.h): stdin to the socket and the
 * socket to stdout, both at once, binary-safe, with half-close: at stdin EOF
 * the write side is shut down (FIN) and reading goes on. */
#include "connect.h"
#include "hexdump.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>

void connect_pump_reset(connect_pump *p, int sock, const char *name)
{
    p->sock = sock;
    p->name = name;
    p->out_len = p->out_off = 0;
    p->shut = p->sock_eof = false;
    p->sent = p->received = 0;
    p->tracer = NULL;
    p->hold_ms = 0;
    p->close_at_eof = false;
}

static int write_stdout(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static bool finished(const connect_pump *p)
{
    if (!p->sock_eof)
        return false;
    return !p->send_after_fin || (p->stdin_eof && p->out_len == 0);
}

static void read_stdin(connect_pump *p)
{
    ssize_t n = read(STDIN_FILENO, p->out, sizeof p->out);
    if (n > 0) {
        p->out_len = (size_t)n;
        p->out_off = 0;
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        p->stdin_eof = true;
    }
}

/* Returns 0, 1 when the reader of our stdout went away, or -1 (printed). */
static int read_sock(connect_pump *p)
{
    ssize_t n = sk_tr_recv(p->tracer, p->sock, p->in, sizeof p->in, MSG_DONTWAIT);
    if (n > 0) {
        if (p->hex)
            cli_hexdump(p->hex, '<', p->received, p->in, (size_t)n);
        p->received += (uint64_t)n;
        return write_stdout(p->in, (size_t)n) < 0 ? 1 : 0;
    }
    if (n == 0)
        p->sock_eof = true;
    else if (errno != EINTR && errno != EAGAIN) {
        cli_error("recv %s: %s", p->name, strerror(errno));
        return -1;
    }
    return 0;
}

static int send_sock(connect_pump *p)
{
    const char *at = p->out + p->out_off;
    ssize_t n = sk_tr_send(p->tracer, p->sock, at, p->out_len - p->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
        if (p->hex)
            cli_hexdump(p->hex, '>', p->sent, at, (size_t)n);
        p->out_off += (size_t)n;
        p->sent += (uint64_t)n;
        if (p->out_off == p->out_len)
            p->out_len = p->out_off = 0;
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        cli_error("send %s: %s", p->name, strerror(errno));
        return -1;
    }
    return 0;
}

int connect_pump_run(connect_pump *p)
{
    for (;;) {
        struct pollfd fds[2] = {{.fd = -1}, {.fd = p->sock}};
        if (p->stdin_eof && p->out_len == 0 && !p->shut && p->hold_ms > 0) {
            /* --hold: the connection as it is, for a while, still reading. */
            int64_t until = sk_now_ms() + p->hold_ms;
            p->hold_ms = 0;
            while (!p->sock_eof) {
                int64_t left = until - sk_now_ms();
                if (left <= 0)
                    break;
                struct pollfd h = {.fd = p->sock, .events = POLLIN};
                if (poll(&h, 1, (int)left) > 0 && read_sock(p) != 0)
                    return EXIT_FAIL;
            }
        }
        if (p->stdin_eof && p->out_len == 0 && p->close_at_eof)
            return EXIT_OK; /* --linger: the caller closes */
        if (p->stdin_eof && p->out_len == 0 && !p->shut) {
            /* Everything sent: half-close so the peer sees EOF, and keep
             * reading its answer. */
            if (p->tracer)
                sk_tr_shutdown(p->tracer, p->sock, SHUT_WR);
            else
                sk_shutdown_write(p->sock);
            p->shut = true;
        }
        if (finished(p))
            return EXIT_OK;
        if (!p->stdin_eof && p->out_len == 0)
            fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        if (!p->sock_eof)
            fds[1].events |= POLLIN;
        if (p->out_len > 0)
            fds[1].events |= POLLOUT;
        if (fds[1].events == 0)
            fds[1].fd = -1; /* after the peer's FIN, an error or hangup would wake us for nothing */
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            cli_error("poll: %s", strerror(errno));
            return EXIT_FAIL;
        }
        if (fds[0].revents)
            read_stdin(p);
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR) && !p->sock_eof) {
            int rc = read_sock(p);
            if (rc != 0)
                return rc > 0 ? EXIT_OK : EXIT_FAIL; /* > 0: the reader of our output went away */
        }
        if (p->out_len > 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) && send_sock(p) < 0)
            return EXIT_FAIL;
    }
}
