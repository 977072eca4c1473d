/* loop_client: a client driven by sockit's event loop. It starts a
 * non-blocking connect, sends MESSAGE once the socket is writable, reads
 * whatever comes back while it sends, half-closes when all is sent, and
 * prints the reply to stdout until the server closes. Every step is an
 * sk_loop_watch() callback; an sk_loop_timer() gives up after TIMEOUT_MS.
 *     ./loop_client ADDR MESSAGE [TIMEOUT_MS [BACKEND]]
 * TIMEOUT_MS defaults to 5000, BACKEND (epoll, poll, select, uring) to the
 * best one compiled in. Exits 0 once the server has closed, 1 on a failure
 * or the timeout, 2 on bad usage. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sockit/sockit.h>

typedef struct client {
    sk_loop *loop;
    int fd;
    bool connected, shut; /* connect finished; all sent and FIN queued */
    bool done;            /* the exchange is over, the loop is stopping */
    const char *msg;
    size_t len, sent;
    int err;          /* 0, or the code that ended the exchange */
    const char *step; /* what failed: "connect", "write", "read", "wait" */
} client;

static void on_io(sk_loop *l, int fd, void *data, int events);

static void finish(client *c, int err, const char *step)
{
    c->done = true;
    c->err = err;
    c->step = step;
    sk_loop_stop(c->loop); /* sk_loop_run() returns after this iteration */
}

/* Send what the socket takes now; once everything is out, half-close (the
 * server sees EOF and can finish) and watch for reading only. */
static void send_some(client *c)
{
    while (c->sent < c->len) {
        ssize_t n = send(c->fd, c->msg + c->sent, c->len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN)
            return; /* called again when there is room */
        if (n < 0 && errno != EINTR) {
            finish(c, -errno, "write");
            return;
        }
        if (n > 0)
            c->sent += (size_t)n;
    }
    int rc = sk_shutdown_write(c->fd);
    if (rc == 0)
        rc = sk_loop_watch(c->loop, c->fd, SK_READ, on_io, c);
    if (rc < 0)
        finish(c, rc, "write");
    c->shut = true;
}

/* Print what has arrived until the socket would block, or finish when the
 * server closes (read returns 0). */
static void read_some(client *c)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) {
            fwrite(buf, 1, (size_t)n, stdout);
        } else if (n == 0) {
            finish(c, 0, NULL);
            return;
        } else if (errno == EAGAIN) {
            return;
        } else if (errno != EINTR) {
            finish(c, -errno, "read");
            return;
        }
    }
}

static void on_io(sk_loop *l, int fd, void *data, int events)
{
    client *c = data;
    if (c->done)
        return;
    if (!c->connected) {
        /* Writable (or an error, reported as both events) means the connect
         * finished; SO_ERROR says how. */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr != 0) {
            finish(c, -soerr, "connect");
            return;
        }
        c->connected = true;
        /* Read while sending: a server that answers as bytes arrive (echo)
         * would otherwise fill both directions and stall both sides. */
        int rc = sk_loop_watch(l, fd, SK_READ | SK_WRITE, on_io, c);
        if (rc < 0) {
            finish(c, rc, "wait");
            return;
        }
    }
    if ((events & SK_WRITE) && !c->shut)
        send_some(c);
    if ((events & SK_READ) && !c->done)
        read_some(c);
}

/* A timer callback returns the delay until its next call; < 0 ends it. */
static int64_t on_timeout(sk_loop *l, void *data)
{
    (void)l;
    finish(data, -ETIMEDOUT, "wait");
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: loop_client ADDR MESSAGE [TIMEOUT_MS [BACKEND]]\n");
        return 2;
    }
    const char *addr = argv[1];
    int timeout_ms = argc > 3 ? atoi(argv[3]) : 5000;
    client c = {.msg = argv[2], .len = strlen(argv[2]), .fd = -1};

    sk_addr a;
    int64_t timer;
    int rc = sk_addr_resolve(addr, SOCK_STREAM, 0, &a, 1); /* the first address will do here */
    if (rc < 0) {
        fprintf(stderr, "loop_client: %s: %s\n", addr, sk_strerror(rc));
        return rc == SK_EADDRSYNTAX || rc == SK_EV6NOBRACKET || rc == SK_ENOPORT ? 2 : 1;
    }
    c.loop = sk_loop_new(argc > 4 ? argv[4] : NULL, 0, &rc);
    if (!c.loop && rc == -EINVAL) {
        fprintf(stderr, "loop_client: unknown backend '%s'\n", argv[4]);
        return 2;
    }
    if (!c.loop) {
        fprintf(stderr, "loop_client: event loop: %s\n", sk_strerror(rc));
        return 1;
    }

    /* A non-blocking connect returns at once, usually with EINPROGRESS;
     * the loop reports the socket writable when the handshake is done. */
    c.fd = socket(a.ss.ss_family, SOCK_STREAM, 0);
    if (c.fd < 0) {
        rc = -errno;
        c.step = "socket";
    } else if ((rc = sk_set_nonblock(c.fd, true)) < 0) {
        c.step = "socket";
    } else if (connect(c.fd, (const struct sockaddr *)&a.ss, a.len) < 0 && errno != EINPROGRESS) {
        rc = -errno;
        c.step = "connect";
    } else if ((rc = sk_loop_watch(c.loop, c.fd, SK_WRITE, on_io, &c)) < 0) {
        c.step = "wait";
    } else if ((timer = sk_loop_timer(c.loop, timeout_ms, on_timeout, &c)) < 0) {
        rc = (int)timer;
        c.step = "timer";
    } else if ((rc = sk_loop_run(c.loop)) < 0) {
        c.step = "loop";
    } else {
        rc = c.err;
    }
    fflush(stdout);
    if (rc < 0)
        fprintf(stderr, "loop_client: %s %s: %s\n", c.step, addr, sk_strerror(rc));
    if (c.fd >= 0)
        close(c.fd);
    sk_loop_free(c.loop);
    return rc < 0 ? 1 : 0;
}
