/* sockit connect -l: listen mode, like nc -l and socat TCP-LISTEN. Bind ADDR
 * (every address it names; port 0 is resolved and printed), accept one
 * client and pump stdin/stdout with half-close honoured both ways: at stdin
 * EOF our FIN goes out and reading goes on; at the client's FIN reading
 * stops and stdin is still sent until its EOF. With -k the next client is
 * accepted after one leaves. */
#include "connect.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define MAX_LISTENERS 4

/* Bind every address; print each one as bound. Returns the count, or minus
 * the exit code. */
static int open_listeners(const connect_opts *o, int *lfds)
{
    sk_addr addrs[MAX_LISTENERS];
    char a[SK_ADDRSTRLEN];
    int n = connect_resolve(o, SOCK_STREAM, SK_RESOLVE_PASSIVE, addrs, MAX_LISTENERS), port = 0;

    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        /* Port 0 asked for: every family gets the port the first got. */
        if (port > 0 && sk_addr_port((struct sockaddr *)&addrs[i].ss) == 0)
            sk_addr_set_port(&addrs[i], (uint16_t)port);
        int fd = sk_tcp_listen(&addrs[i], 1, SK_LISTEN_NONBLOCK | (n > 1 ? SK_LISTEN_V6ONLY : 0));
        sk_addr_format((struct sockaddr *)&addrs[i].ss, a, sizeof a);
        if (fd < 0) {
            cli_error("listen %s: %s", a, sk_strerror(fd));
            while (i-- > 0)
                close(lfds[i]);
            return -EXIT_FAIL;
        }
        lfds[i] = fd;
        sk_addr bound = {.len = sizeof bound.ss};
        getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len);
        port = sk_addr_port((struct sockaddr *)&bound.ss);
        fprintf(stderr, "sockit: listening on %s\n", sk_addr_format((struct sockaddr *)&bound.ss, a, sizeof a));
    }
    return n;
}

/* Wait for the next client on any listener, at most timeout_ms (< 0: no
 * limit). Returns its fd, -ETIMEDOUT or -errno. */
static int accept_next(const int *lfds, int n, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms;

    for (;;) {
        struct pollfd fds[MAX_LISTENERS];
        for (int i = 0; i < n; i++)
            fds[i] = (struct pollfd){.fd = lfds[i], .events = POLLIN};
        int wait = -1;
        if (deadline >= 0) {
            int64_t left = deadline - sk_now_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            wait = (int)left;
        }
        if (poll(fds, (nfds_t)n, wait) < 0 && errno != EINTR)
            return -errno;
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            int fd = sk_accept(lfds[i], false, NULL);
            /* A client that gave up between poll and accept is no error. */
            if (fd >= 0 || (fd != -EAGAIN && fd != -ECONNABORTED))
                return fd;
        }
    }
}

int connect_listen_tcp(const connect_opts *o)
{
    static connect_pump p;
    int lfds[MAX_LISTENERS], served = 0, rc = EXIT_OK;
    int n = open_listeners(o, lfds);
    char name[2 * SK_ADDRSTRLEN + 8];

    if (n < 0)
        return -n;
    p.send_after_fin = true;
    p.hex = o->hex;
    for (;;) {
        int fd = accept_next(lfds, n, connect_timeout(o, -1));
        if (fd < 0) {
            if (fd == -ETIMEDOUT && served > 0) {
                rc = EXIT_OK; /* -k -w: quiet for long enough after serving */
                break;
            }
            if (fd == -ETIMEDOUT)
                cli_error("listen %s: no client within %.3g s", o->operands[0], (double)o->timeout_ms / 1000.0);
            else
                cli_error("accept: %s", sk_strerror(fd));
            rc = EXIT_FAIL;
            break;
        }
        sk_tuple t;
        sk_tuple_get(fd, &t);
        sk_tuple_format(&t, name, sizeof name);
        if (o->verbose)
            fprintf(stderr, "sockit: accepted %s\n", name);
        if (!o->keep) {
            /* One client, like nc -l: nobody else can connect meanwhile. */
            for (int i = 0; i < n; i++)
                close(lfds[i]);
            n = 0;
        }
        connect_pump_reset(&p, fd, name);
        rc = connect_pump_run(&p);
        served++;
        if (o->verbose)
            fprintf(stderr, "sockit: closed %s, sent %" PRIu64 " bytes, received %" PRIu64 " bytes\n", name, p.sent,
                    p.received);
        close(fd);
        if (!o->keep)
            return rc;
    }
    for (int i = 0; i < n; i++)
        close(lfds[i]);
    return rc;
}
