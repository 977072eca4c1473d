/* One HTTP/1.1 POST at a time to etcd's JSON gateway on an sk_loop: a
 * non-blocking connect through the resolved addresses in turn, the request
 * written as room comes, the answer read by sk_http_response_feed() and
 * kept whole (bounded) or handed over a line at a time (watch streams). */
#include "etcd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>

#define MAX_ADDRS 8
#define MAX_BODY (8u << 20) /* a range answer of thousands of instances fits */
#define MAX_LINE (1u << 20) /* one watch batch */
#define READ_CHUNK 16384

struct sk__etcd_http {
    sk_loop *loop;
    sk_addr addrs[MAX_ADDRS];
    int naddrs, ai;
    char host[SK_HOST_MAX + SK_SERV_MAX + 4]; /* the Host header */
    int fd;
    bool busy, streaming, got_bytes;
    int64_t timer;
    char *req;
    size_t req_len, req_off;
    sk_http_response resp;
    char *body;
    size_t blen, bcap;
    sk__etcd_line_fn on_line;
    sk__etcd_done_fn done;
    void *userdata;
    int late_err; /* a failure found inside post(), reported from the loop */
};

sk__etcd_http *sk__etcd_http_new(sk_loop *loop, const char *host, const char *port, int *err)
{
    sk__etcd_http *h = calloc(1, sizeof *h);
    char text[SK_HOST_MAX + SK_SERV_MAX + 4];
    if (h == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    bool v6 = strchr(host, ':') != NULL;
    snprintf(text, sizeof text, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
    int n = sk_addr_resolve(text, SOCK_STREAM, 0, h->addrs, MAX_ADDRS);
    if (n < 0) {
        *err = n;
        free(h);
        return NULL;
    }
    h->naddrs = n < MAX_ADDRS ? n : MAX_ADDRS;
    snprintf(h->host, sizeof h->host, "%s", text);
    h->loop = loop;
    h->fd = -1;
    return h;
}

static void drop_conn(sk__etcd_http *h)
{
    if (h->fd >= 0) {
        sk_loop_watch(h->loop, h->fd, 0, NULL, NULL);
        close(h->fd);
        h->fd = -1;
    }
    if (h->timer > 0)
        sk_loop_timer_cancel(h->loop, h->timer);
    h->timer = 0;
    free(h->req);
    h->req = NULL;
}

void sk__etcd_http_cancel(sk__etcd_http *h)
{
    drop_conn(h);
    h->busy = false;
}

void sk__etcd_http_free(sk__etcd_http *h)
{
    if (h == NULL)
        return;
    sk__etcd_http_cancel(h);
    free(h->body);
    free(h);
}

bool sk__etcd_http_busy(const sk__etcd_http *h) { return h->busy; }

/* The exchange is over: tell the owner, who may start the next one. */
static void finish(sk__etcd_http *h, int err)
{
    drop_conn(h);
    h->busy = false;
    bool whole = err == 0 && !h->streaming;
    if (h->done)
        h->done(h->userdata, err, err == 0 ? h->resp.status : 0, whole ? h->body : NULL, whole ? h->blen : 0);
}

static int append(sk__etcd_http *h, const char *p, size_t n, size_t max)
{
    if (h->blen + n > max)
        return -EMSGSIZE;
    if (h->blen + n + 1 > h->bcap) {
        size_t cap = h->bcap ? h->bcap : 4096;
        while (cap < h->blen + n + 1)
            cap *= 2;
        char *b = realloc(h->body, cap);
        if (b == NULL)
            return -ENOMEM;
        h->body = b;
        h->bcap = cap;
    }
    memcpy(h->body + h->blen, p, n);
    h->blen += n;
    h->body[h->blen] = '\0';
    return 0;
}

/* Streaming: hand over every complete line buffered so far. */
static int lines(sk__etcd_http *h, bool all)
{
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; i < h->blen && rc == 0; i++) {
        if (h->body[i] != '\n')
            continue;
        if (i > start)
            rc = h->on_line(h->userdata, h->body + start, i - start);
        start = i + 1;
    }
    if (rc == 0 && all && start < h->blen)
        rc = h->on_line(h->userdata, h->body + start, h->blen - start);
    if (all)
        start = h->blen;
    memmove(h->body, h->body + start, h->blen - start);
    h->blen -= start;
    return rc;
}

/* Bytes of the answer: returns 1 when it is complete, 0 for more, < 0. */
static int feed(sk__etcd_http *h, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        long used = sk_http_response_feed(&h->resp, buf + off, n - off);
        if (used < 0)
            return SK_EETCDBAD;
        off += (size_t)used;
        if (h->resp.events & SK_HTTP_RESP_HEAD) {
            /* Only a 200 streams; an error's body is kept whole. */
            h->streaming = h->on_line && h->resp.status == 200;
            if (h->streaming && h->timer > 0) {
                sk_loop_timer_cancel(h->loop, h->timer);
                h->timer = 0;
            }
        }
        if (h->resp.events & SK_HTTP_RESP_BODY) {
            int rc = append(h, h->resp.body, h->resp.body_len, h->streaming ? MAX_LINE : MAX_BODY);
            if (rc == 0 && h->streaming)
                rc = lines(h, false);
            if (rc != 0)
                return rc;
        }
        if (h->resp.events & SK_HTTP_RESP_DONE) {
            int rc = h->streaming ? lines(h, true) : 0;
            return rc != 0 ? rc : 1;
        }
    }
    return 0;
}

static void on_io(sk_loop *l, int fd, void *data, int events);

static void on_readable(sk__etcd_http *h)
{
    char buf[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(h->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            finish(h, -errno);
            return;
        }
        if (n == 0) {
            int rc = sk_http_response_eof(&h->resp);
            if (rc == 1 && h->streaming && (rc = lines(h, true)) == 0)
                rc = 1;
            /* Cut short (etcd went away mid-answer) reads as a reset. */
            finish(h, rc == 1 ? 0 : -ECONNRESET);
            return;
        }
        h->got_bytes = true;
        int rc = feed(h, buf, (size_t)n);
        if (rc != 0) {
            finish(h, rc < 0 ? rc : 0);
            return;
        }
    }
}

static void on_writable(sk__etcd_http *h)
{
    while (h->req_off < h->req_len) {
        ssize_t n = send(h->fd, h->req + h->req_off, h->req_len - h->req_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            finish(h, -errno);
            return;
        }
        h->req_off += (size_t)n;
    }
    int rc = sk_loop_watch(h->loop, h->fd, SK_READ, on_io, h);
    if (rc < 0)
        finish(h, rc);
}

static void try_connect(sk__etcd_http *h);

static void on_io(sk_loop *l, int fd, void *data, int events)
{
    sk__etcd_http *h = data;
    (void)l;
    (void)fd;
    if (h->req_off == 0 && (events & SK_WRITE)) {
        /* The connect finished, one way or the other. */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr != 0) {
            h->late_err = -soerr;
            sk_loop_watch(h->loop, h->fd, 0, NULL, NULL);
            close(h->fd);
            h->fd = -1;
            h->ai++;
            try_connect(h);
            return;
        }
    }
    if (h->req_off < h->req_len) {
        if (events & SK_WRITE)
            on_writable(h);
        return;
    }
    if (events & SK_READ)
        on_readable(h);
}

static int64_t on_late(sk_loop *l, void *data)
{
    sk__etcd_http *h = data;
    (void)l;
    h->timer = 0;
    finish(h, h->late_err);
    return -1;
}

/* Connect to the next address; when none is left, the last failure is the
 * answer. */
static void try_connect(sk__etcd_http *h)
{
    while (h->ai < h->naddrs) {
        const sk_addr *a = &h->addrs[h->ai];
        int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            h->late_err = -errno;
            h->ai++;
            continue;
        }
        int rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
        if (rc < 0 && errno != EINPROGRESS) {
            h->late_err = -errno;
            close(fd);
            h->ai++;
            continue;
        }
        h->fd = fd;
        rc = sk_loop_watch(h->loop, fd, SK_WRITE, on_io, h);
        if (rc < 0) {
            h->late_err = rc;
            close(fd);
            h->fd = -1;
            break;
        }
        return;
    }
    /* Reported from the loop, never from inside sk__etcd_http_post(). */
    if (h->timer > 0)
        sk_loop_timer_cancel(h->loop, h->timer);
    h->timer = sk_loop_timer(h->loop, 0, on_late, h);
    if (h->timer < 0) {
        h->timer = 0;
        finish(h, h->late_err);
    }
}

static int64_t on_timeout(sk_loop *l, void *data)
{
    sk__etcd_http *h = data;
    (void)l;
    h->timer = 0;
    finish(h, -ETIMEDOUT);
    return -1;
}

int sk__etcd_http_post(sk__etcd_http *h, const char *path, const char *body, int64_t timeout_ms,
                       sk__etcd_line_fn on_line, sk__etcd_done_fn done, void *userdata)
{
    if (h->busy)
        return -EBUSY;
    size_t blen = strlen(body);
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      path, h->host, blen);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return -ENAMETOOLONG;
    h->req = malloc((size_t)hl + blen);
    if (h->req == NULL)
        return -ENOMEM;
    memcpy(h->req, head, (size_t)hl);
    memcpy(h->req + hl, body, blen);
    h->req_len = (size_t)hl + blen;
    h->req_off = 0;
    h->blen = 0;
    h->streaming = h->got_bytes = false;
    h->on_line = on_line;
    h->done = done;
    h->userdata = userdata;
    h->ai = 0;
    h->late_err = -ECONNREFUSED;
    sk_http_response_init(&h->resp, 0);
    h->busy = true;
    h->timer = sk_loop_timer(h->loop, timeout_ms > 0 ? timeout_ms : 2000, on_timeout, h);
    if (h->timer < 0) {
        h->timer = 0;
        drop_conn(h);
        h->busy = false;
        return -ENOMEM;
    }
    try_connect(h);
    return 0;
}

int sk__etcd_wait(sk_loop *loop, const bool *flag, int64_t deadline_ms)
{
    while (!*flag) {
        int64_t left = deadline_ms - sk_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        int rc = sk_loop_once(loop, left > 1000 ? 1000 : (int)left);
        if (rc < 0 && rc != -EINTR)
            return rc;
    }
    return 0;
}
