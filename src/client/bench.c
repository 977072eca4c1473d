/* sockit bench's engine: worker threads, each running its own sk_loop over
 * its share of non-blocking connections, closed-loop (as fast as the server
 * answers, N requests in flight per connection) or open-loop at a fixed
 * rate with latency taken from each request's intended send time; one
 * request per connection (new_conn), connections held and checked now and
 * then (idle_ms), and echo over UDP with every datagram numbered. */
#include <sockit/bench.h>
#include <sockit/clock.h>
#include <sockit/http.h>
#include <sockit/loop.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 /* linux/in.h, Linux 4.2 */
#endif

#define SCRATCH (64 * 1024)
#define TICK_US (10 * 1000LL)                /* housekeeping: timeouts, reconnects */
#define IDLE_TICK_US (100 * 1000LL)          /* the same for held connections */
#define SCHEDULE_WAIT_US 1000LL              /* rate mode: how often to look for all open */
#define CONNECT_WINDOW 256                   /* default connects in flight per thread */
#define UDP_BATCH 32                         /* datagrams per sendmmsg / recvmmsg */
#define UDP_BATCH_SIZE (SCRATCH / UDP_BATCH) /* up to this size they are batched */
#define RETRY_ERR_NS (10 * 1000000LL)
#define RETRY_CONNECT_NS (100 * 1000000LL)

enum { C_IDLE, C_CONNECTING, C_OPEN };

typedef struct bthread bthread;

typedef struct bconn {
    bthread *t;
    int fd;
    uint8_t state;
    bool ever; /* connected at least once */
    bool failed_first;
    uint8_t events;  /* what the loop watches now (SK_READ | SK_WRITE) */
    uint32_t idx;    /* position in the thread's schedule */
    uint32_t target; /* into cfg->targets */
    uint32_t source; /* offset into the source addresses */
    uint32_t inflight, ring_head;
    int64_t *ring;    /* start time (ns) of each request in flight */
    uint64_t next_k;  /* rate mode: number of the next request to send */
    size_t out_left;  /* queued request bytes not yet written */
    size_t out_phase; /* where in a request the next byte to write is */
    size_t in_phase;  /* echo: bytes of the current answer already read */
    int64_t wait_since, retry_at;
    int64_t last_ok; /* idle_ms: when a request last completed */
    uint64_t *useq;  /* UDP: sequence number in each slot (0: free) */
    int64_t *usent;  /* UDP: when each slot's datagram went out */
    sk_http_response resp;
} bconn;

struct bthread {
    const sk_bench_config *cfg;
    const char *tmpl;
    size_t reqlen;
    sk_loop *loop;
    pthread_t tid;
    bconn *conns;
    int nconns;
    int64_t *ring;
    uint64_t *useq;
    int64_t *usent;
    char *scratch;
    char *dgram; /* UDP: the datagrams being sent, batch of them */
    uint32_t batch;
    struct mmsghdr mmsg_out[UDP_BATCH], mmsg_in[UDP_BATCH];
    struct iovec iov_out[UDP_BATCH], iov_in[UDP_BATCH];
    uint64_t seq;
    uint32_t tag;
    int ramp;       /* connections started so far (the rest wait) */
    int connecting; /* connects in flight */
    int window;
    int ever_open; /* connections that have been open once */
    bool limited;  /* requests_max: this thread sends quota requests */
    uint64_t quota, sent;
    int done; /* all of the quota sent and settled; read by the main thread */
    int64_t established_ns, max_gap_ns;
    sk_hist hist, conn_hist;
    sk_bench_counts n; /* written by this thread, read by the main one */
    uint64_t per_target[SK_BENCH_TARGETS_MAX];
    uint64_t failed_first;
    uint64_t open_at_end;
    int last_connect_err;
    int64_t t0; /* the run's start */
    /* The schedule's start and end (s0 + duration): t0 and t0 + duration,
     * but with a rate over held connections it starts once they are all
     * open (schedule_start); until then t_end is 0. Written once by this
     * thread, read by the main one. */
    int64_t s0, t_end;
    double slot_ns; /* rate mode: gap between two sends of this thread */
    uint64_t next_slot;
    const int *stop; /* set by the main thread at the end */
};

static bool stopping(const bthread *t) { return __atomic_load_n(t->stop, __ATOMIC_RELAXED) != 0; }

/* Single writer: a relaxed store keeps the main thread's progress reads
 * free of data races without a locked instruction. */
#define ADD(t, field, v) __atomic_store_n(&(t)->n.field, (t)->n.field + (v), __ATOMIC_RELAXED)

static const char *const proto_names[] = {
    [SK_BENCH_ECHO] = "echo", [SK_BENCH_HTTP] = "http", [SK_BENCH_DISCARD] = "discard", [SK_BENCH_UDP] = "udp"};

int sk_bench_proto_parse(const char *name)
{
    for (size_t i = 0; i < sizeof proto_names / sizeof proto_names[0]; i++) {
        if (name && strcmp(name, proto_names[i]) == 0)
            return (int)i;
    }
    return -EINVAL;
}

const char *sk_bench_proto_name(sk_bench_proto p)
{
    return (unsigned)p < sizeof proto_names / sizeof proto_names[0] ? proto_names[p] : "?";
}

static void on_io(sk_loop *l, int fd, void *data, int events);

/* Change what the loop watches for c, and only when it changes: on the
 * request path a connection stays watched for reading and no watch call
 * (no epoll_ctl) is made. */
static int watch(bthread *t, bconn *c, int ev)
{
    if (ev == c->events)
        return 0;
    int rc = sk_loop_watch(t->loop, c->fd, ev, on_io, c);
    if (rc == 0)
        c->events = (uint8_t)ev;
    return rc;
}

static void conn_start(bthread *t, bconn *c);
static void udp_lose(bthread *t, bconn *c, int64_t older_than);

/* Close; reconnect at once when retry_in is 0 (the server ended a
 * keep-alive connection), else after retry_in ns (after an error). */
static void conn_close(bthread *t, bconn *c, int64_t retry_in)
{
    if (c->fd >= 0) {
        /* The loop must forget the fd before its number can be reused. */
        if (c->events)
            sk_loop_watch(t->loop, c->fd, 0, NULL, NULL);
        close(c->fd);
    }
    if (c->useq != NULL)
        udp_lose(t, c, INT64_MAX);
    if (c->state == C_CONNECTING)
        t->connecting--;
    c->fd = -1;
    c->state = C_IDLE;
    c->events = 0;
    c->inflight = c->ring_head = 0;
    c->out_left = c->out_phase = c->in_phase = 0;
    c->retry_at = sk_now_ns() + retry_in;
    if (retry_in == 0 && !stopping(t))
        conn_start(t, c);
}

static void connect_failed(bthread *t, bconn *c, int err)
{
    ADD(t, err_connect, 1);
    t->last_connect_err = err;
    if (!c->ever && !c->failed_first) {
        c->failed_first = true;
        __atomic_store_n(&t->failed_first, t->failed_first + 1, __ATOMIC_RELAXED);
    }
    conn_close(t, c, RETRY_CONNECT_NS);
}

/* Bind fd to the connection's source address, the port left to connect
 * (TCP) or to the kernel (UDP). Returns 0 or -errno. */
static int bind_source(const sk_bench_config *cfg, int fd, const bconn *c, bool udp)
{
    sk_addr src = *cfg->source;
    if (src.ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&src.ss;
        in->sin_addr.s_addr = htonl(ntohl(in->sin_addr.s_addr) + c->source);
    }
    sk_addr_set_port(&src, 0);
    int one = 1;
    if (!udp)
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    return bind(fd, (const struct sockaddr *)&src.ss, src.len) < 0 ? -errno : 0;
}

static void refill(bthread *t, bconn *c, int64_t now);

static void conn_start(bthread *t, bconn *c)
{
    const sk_bench_config *cfg = t->cfg;
    const sk_addr *a = cfg->ntargets ? &cfg->targets[c->target] : &cfg->addr;
    bool udp = cfg->proto == SK_BENCH_UDP;
    int fd = socket(a->ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(t, c, -errno);
        return;
    }
    int one = 1, rc;
    if (!udp)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* connect() then returns at once and the first send carries the
     * request in the SYN (a plain handshake while there is no cookie). */
    if (!udp && cfg->fastopen && setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one) < 0) {
        close(fd);
        connect_failed(t, c, -errno);
        return;
    }
    c->fd = fd;
    c->events = 0;
    c->wait_since = sk_now_ns();
    sk_http_response_init(&c->resp, 0);
    if (cfg->source_count && (rc = bind_source(cfg, fd, c, udp)) < 0) {
        connect_failed(t, c, rc);
        return;
    }
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
        connect_failed(t, c, -errno);
        return;
    }
    if (udp) {
        /* Connected at once; it counts as a connection set up when its
         * first answer comes back. */
        c->state = C_OPEN;
        if ((rc = watch(t, c, SK_READ)) < 0) {
            connect_failed(t, c, rc);
            return;
        }
        refill(t, c, sk_now_ns());
        return;
    }
    c->state = C_CONNECTING;
    t->connecting++;
    rc = watch(t, c, SK_READ | SK_WRITE);
    if (rc < 0)
        connect_failed(t, c, rc);
}

/* Start the connections not started yet, as many as the window allows. */
static void ramp(bthread *t)
{
    while (t->ramp < t->nconns && t->connecting < t->window && !stopping(t))
        conn_start(t, &t->conns[t->ramp++]);
}

static void conn_flush(bthread *t, bconn *c);

/* Queue k more requests that started (for latency) at `start`. */
static void queue(bthread *t, bconn *c, uint32_t k, int64_t start, int64_t now)
{
    uint32_t depth = (uint32_t)t->cfg->pipeline;
    if (c->inflight == 0)
        c->wait_since = now;
    for (uint32_t i = 0; i < k; i++)
        c->ring[(c->ring_head + c->inflight + i) % depth] = start;
    c->inflight += k;
    c->out_left += (size_t)k * t->reqlen;
}

static int64_t intended(const bthread *t, const bconn *c)
{
    return t->s0 + (int64_t)((double)(c->next_k * (uint64_t)t->nconns + c->idx) * t->slot_ns);
}

static void udp_fill(bthread *t, bconn *c, int64_t now);

/* How many of k more requests the thread's share of requests_max still
 * allows (all k without one); counts them as sent. */
static uint32_t allow(bthread *t, uint32_t k)
{
    if (!t->limited)
        return k;
    if (t->quota - t->sent < k)
        k = (uint32_t)(t->quota - t->sent);
    t->sent += k;
    return k;
}

/* Send what the mode allows: fill the pipeline, or in rate mode every
 * request whose intended time has come (late ones keep their time). */
static void refill(bthread *t, bconn *c, int64_t now)
{
    uint32_t depth = (uint32_t)t->cfg->pipeline;
    if (c->state != C_OPEN || stopping(t) || t->t_end == 0)
        return; /* (a schedule not started yet: schedule_start) */
    if (t->cfg->proto == SK_BENCH_UDP) {
        udp_fill(t, c, now);
        return;
    }
    if (t->slot_ns > 0) {
        while (c->inflight < depth) {
            int64_t when = intended(t, c);
            if (when > now || allow(t, 1) == 0)
                break;
            queue(t, c, 1, when, now);
            c->next_k++;
        }
    } else if (c->inflight < depth) {
        uint32_t k = allow(t, depth - c->inflight);
        if (k > 0)
            queue(t, c, k, now, now);
    }
    if (c->out_left > 0)
        conn_flush(t, c);
}

/* A request that started at `start` finished at `now`. */
static void record(bthread *t, bconn *c, int64_t start, int64_t now, bool ok)
{
    c->wait_since = now;
    sk_hist_record(&t->hist, now > start ? (uint64_t)(now - start) / 1000 : 0);
    if (t->cfg->idle_ms > 0) {
        if (now - c->last_ok > t->max_gap_ns)
            t->max_gap_ns = now - c->last_ok;
        c->last_ok = now;
    }
    ADD(t, requests, 1);
    t->per_target[c->target]++;
    if (!ok)
        ADD(t, err_status, 1);
}

/* The oldest request in flight finished at `now`. */
static void complete(bthread *t, bconn *c, int64_t now, bool ok)
{
    uint32_t depth = (uint32_t)t->cfg->pipeline;
    int64_t start = c->ring[c->ring_head];
    c->ring_head = (c->ring_head + 1) % depth;
    c->inflight--;
    record(t, c, start, now, ok);
}

static void conn_flush(bthread *t, bconn *c)
{
    /* The template holds pipeline + 1 copies of the request, so any
     * phase plus what is queued is one contiguous run. */
    for (int round = 0; round < 16 && c->out_left > 0; round++) {
        ssize_t n = send(c->fd, t->tmpl + c->out_phase, c->out_left, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            ADD(t, err_write, 1);
            conn_close(t, c, RETRY_ERR_NS);
            return;
        }
        ADD(t, bytes_out, (uint64_t)n);
        c->out_left -= (size_t)n;
        if (t->cfg->proto == SK_BENCH_DISCARD) {
            /* Nothing comes back: a request is done once written. */
            size_t done = (c->out_phase + (size_t)n) / t->reqlen;
            int64_t now = sk_now_ns();
            for (size_t i = 0; i < done; i++)
                complete(t, c, now, true);
            c->out_phase = (c->out_phase + (size_t)n) % t->reqlen;
            if (done > 0 && t->cfg->new_conn) {
                conn_close(t, c, 0);
                return;
            }
            uint32_t k = 0;
            if (c->out_left == 0 && !stopping(t) && t->slot_ns <= 0)
                k = allow(t, (uint32_t)t->cfg->pipeline - c->inflight);
            if (k > 0)
                queue(t, c, k, now, now);
        } else {
            c->out_phase = (c->out_phase + (size_t)n) % t->reqlen;
        }
    }
    watch(t, c, c->out_left > 0 ? SK_READ | SK_WRITE : SK_READ);
}

/* Hand received bytes to the protocol. Returns false when the connection
 * was closed. */
static bool consume(bthread *t, bconn *c, const char *p, size_t n, int64_t now)
{
    if (t->cfg->proto == SK_BENCH_ECHO) {
        size_t done = (c->in_phase + n) / t->reqlen;
        if (done > c->inflight) {
            ADD(t, err_read, 1); /* more than was sent: not an echo */
            conn_close(t, c, RETRY_ERR_NS);
            return false;
        }
        for (size_t i = 0; i < done; i++)
            complete(t, c, now, true);
        c->in_phase = (c->in_phase + n) % t->reqlen;
        if (done > 0 && t->cfg->new_conn) {
            conn_close(t, c, 0);
            return false;
        }
        return true;
    }
    if (t->cfg->proto == SK_BENCH_DISCARD)
        return true;
    while (n > 0) {
        long k = sk_http_response_feed(&c->resp, p, n);
        bool done = k >= 0 && (c->resp.events & SK_HTTP_RESP_DONE);
        if (k < 0 || (done && c->inflight == 0)) {
            ADD(t, err_read, 1);
            conn_close(t, c, RETRY_ERR_NS);
            return false;
        }
        p += k;
        n -= (size_t)k;
        if (done) {
            complete(t, c, now, c->resp.status >= 200 && c->resp.status < 300);
            if (!(c->resp.flags & SK_HTTP_KEEPALIVE) || t->cfg->new_conn) {
                conn_close(t, c, 0);
                return false;
            }
        }
    }
    return true;
}

/* UDP: send what the window and the mode allow, up to t->batch numbered
 * datagrams in one sendmmsg. A datagram takes a free slot of the window
 * before it goes out and gives it back if it did not. */
static void udp_fill(bthread *t, bconn *c, int64_t now)
{
    uint32_t depth = (uint32_t)t->cfg->pipeline, k = 0, slots[UDP_BATCH];
    int64_t starts[UDP_BATCH];
    uint32_t slot = 0;
    while (k < t->batch && c->inflight + k < depth) {
        int64_t when = now;
        if (t->slot_ns > 0) {
            when = t->s0 + (int64_t)((double)((c->next_k + k) * (uint64_t)t->nconns + c->idx) * t->slot_ns);
            if (when > now)
                break;
        }
        if (allow(t, 1) == 0)
            break;
        while (c->useq[slot] != 0)
            slot++;
        uint64_t seq = ++t->seq;
        char *d = t->dgram + (size_t)k * t->reqlen;
        memcpy(d, &seq, 8);
        memcpy(d + 8, &slot, 4);
        memcpy(d + 12, &t->tag, 4);
        c->useq[slot] = seq;
        slots[k] = slot;
        starts[k] = when;
        t->mmsg_out[k].msg_hdr.msg_iovlen = 1;
        t->iov_out[k] = (struct iovec){.iov_base = d, .iov_len = t->reqlen};
        t->mmsg_out[k].msg_hdr.msg_iov = &t->iov_out[k];
        k++;
    }
    if (k == 0)
        return;
    int m;
    do
        m = sendmmsg(c->fd, t->mmsg_out, k, MSG_DONTWAIT);
    while (m < 0 && errno == EINTR);
    int err = m < 0 ? errno : 0;
    if (m < 0)
        m = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (i < (uint32_t)m) {
            c->usent[slots[i]] = now;
            c->ring[slots[i]] = starts[i];
            if (c->inflight++ == 0)
                c->wait_since = now;
            c->next_k += t->slot_ns > 0;
        } else {
            c->useq[slots[i]] = 0; /* not sent: the next refill tries again */
            t->sent -= t->limited;
        }
    }
    ADD(t, dgrams_sent, (uint64_t)m);
    ADD(t, bytes_out, (uint64_t)m * t->reqlen);
    if ((uint32_t)m < k && err != 0) {
        /* A full send buffer drops these; another error ends the socket. */
        ADD(t, err_write, 1);
        if (err != EAGAIN && err != ENOBUFS)
            conn_close(t, c, RETRY_ERR_NS);
    }
}

/* UDP: every datagram in flight is lost (timed out, or refused). */
static void udp_lose(bthread *t, bconn *c, int64_t older_than)
{
    for (int s = 0; s < t->cfg->pipeline; s++) {
        if (c->useq[s] != 0 && c->usent[s] <= older_than) {
            c->useq[s] = 0;
            c->inflight--;
            ADD(t, dgrams_lost, 1);
        }
    }
}

static void udp_answer(bthread *t, bconn *c, const char *p, size_t n, int64_t now);

/* UDP: take what came, up to t->batch datagrams per recvmmsg. */
static void udp_readable(bthread *t, bconn *c)
{
    for (int round = 0; round < 64; round++) {
        int got = recvmmsg(c->fd, t->mmsg_in, t->batch, MSG_DONTWAIT, NULL);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            /* ICMP port unreachable: nothing listens there (now). */
            int err = -errno;
            udp_lose(t, c, INT64_MAX);
            if (err == -ECONNREFUSED) {
                connect_failed(t, c, err);
            } else {
                ADD(t, err_read, 1);
                conn_close(t, c, RETRY_ERR_NS);
            }
            return;
        }
        int64_t now = sk_now_ns();
        for (int i = 0; i < got; i++)
            udp_answer(t, c, t->mmsg_in[i].msg_hdr.msg_iov->iov_base, t->mmsg_in[i].msg_len, now);
        if ((uint32_t)got < t->batch)
            break;
    }
    refill(t, c, sk_now_ns());
}

/* One datagram that came back. */
static void udp_answer(bthread *t, bconn *c, const char *p, size_t n, int64_t now)
{
    uint64_t seq;
    uint32_t slot, tag;
    ADD(t, bytes_in, (uint64_t)n);
    if (n != t->reqlen) {
        ADD(t, err_read, 1); /* not the datagram sent: not an echo */
        return;
    }
    memcpy(&seq, p, 8);
    memcpy(&slot, p + 8, 4);
    memcpy(&tag, p + 12, 4);
    if (tag != t->tag || slot >= (uint32_t)t->cfg->pipeline || c->useq[slot] != seq) {
        ADD(t, dgrams_late, 1);
        return;
    }
    c->useq[slot] = 0;
    if (!c->ever) {
        c->ever = true;
        ADD(t, connects, 1);
        if (++t->ever_open == t->nconns)
            t->established_ns = now - t->t0;
    }
    c->inflight--;
    record(t, c, c->ring[slot], now, true);
}

static void on_readable(bthread *t, bconn *c)
{
    if (t->cfg->proto == SK_BENCH_UDP) {
        udp_readable(t, c);
        return;
    }
    for (;;) {
        ssize_t n = recv(c->fd, t->scratch, SCRATCH, MSG_DONTWAIT);
        if (n > 0) {
            int64_t now = sk_now_ns();
            ADD(t, bytes_in, (uint64_t)n);
            if (!consume(t, c, t->scratch, (size_t)n, now))
                return;
            if ((size_t)n < SCRATCH)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n == 0 && t->cfg->proto == SK_BENCH_HTTP && c->inflight > 0 && sk_http_response_eof(&c->resp) == 1) {
            complete(t, c, sk_now_ns(), c->resp.status >= 200 && c->resp.status < 300);
            conn_close(t, c, 0);
            return;
        }
        /* The server closed or reset: an error only if answers were due,
         * or when the connection was to be held (--idle). */
        if (n < 0 || c->inflight > 0 || t->cfg->idle_ms > 0)
            ADD(t, err_read, 1);
        conn_close(t, c, n < 0 || c->inflight > 0 ? RETRY_ERR_NS : 0);
        return;
    }
    refill(t, c, sk_now_ns());
}

static void on_io(sk_loop *l, int fd, void *data, int ev)
{
    bconn *c = data;
    bthread *t = c->t;
    (void)l;
    (void)fd;
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0) {
            connect_failed(t, c, -err);
            ramp(t);
            return;
        }
        /* Errors and hangups come as both events. */
        if (!(ev & SK_WRITE))
            return;
        int64_t now = sk_now_ns();
        c->state = C_OPEN;
        t->connecting--;
        sk_hist_record(&t->conn_hist, (uint64_t)(now - c->wait_since) / 1000);
        c->wait_since = now;
        if (!c->ever && ++t->ever_open == t->nconns)
            t->established_ns = now - t->t0;
        c->ever = true;
        if (t->cfg->idle_ms > 0) {
            /* A held connection's gaps count from its connect, and its
             * schedule from the next of its slots still to come, so the
             * time to open them all is not taken for slow answers. */
            c->last_ok = now;
            double k = ((double)(now - t->s0) / t->slot_ns - c->idx) / t->nconns;
            if (k > (double)c->next_k)
                c->next_k = (uint64_t)k + 1;
        }
        ADD(t, connects, 1);
        watch(t, c, SK_READ);
        refill(t, c, now);
        ramp(t);
        return;
    }
    if (ev & SK_READ) {
        on_readable(t, c);
        if (c->state != C_OPEN)
            return;
    }
    if ((ev & SK_WRITE) && c->out_left > 0)
        conn_flush(t, c);
}

/* Timeouts and reconnects, every TICK_US. */
static void housekeeping(bthread *t, int64_t now)
{
    int64_t to = t->cfg->timeout_ms * 1000000LL;
    bool udp = t->cfg->proto == SK_BENCH_UDP;
    for (int i = 0; i < t->ramp; i++) {
        bconn *c = &t->conns[i];
        if (udp && c->state == C_OPEN) {
            if (c->inflight > 0) {
                udp_lose(t, c, now - to);
                refill(t, c, now);
            } else if (t->slot_ns <= 0) {
                refill(t, c, now); /* after a send that found no room */
            }
        } else if (c->state == C_IDLE && c->retry_at <= now) {
            if (!stopping(t))
                conn_start(t, c);
        } else if (c->state == C_CONNECTING && now - c->wait_since > to) {
            connect_failed(t, c, -ETIMEDOUT);
        } else if (c->state == C_OPEN && c->inflight > 0 && now - c->wait_since > to) {
            ADD(t, err_timeout, c->inflight);
            conn_close(t, c, 0);
        }
    }
    ramp(t);
    if (t->limited && t->sent >= t->quota && !t->done) {
        /* Every request of the share answered, failed or lost. */
        bool settled = true;
        for (int i = 0; i < t->ramp && settled; i++)
            settled = t->conns[i].state != C_OPEN || t->conns[i].inflight == 0;
        if (settled)
            __atomic_store_n(&t->done, 1, __ATOMIC_RELAXED);
    }
}

/* Rate mode: offer each slot that came due to its connection. */
static void run_schedule(bthread *t, int64_t now)
{
    for (;;) {
        int64_t when = t->s0 + (int64_t)((double)t->next_slot * t->slot_ns);
        /* A slot at or past the end is not offered even when the stop is
         * seen late: D seconds at R per second send R x D requests. */
        if (when > now || when >= t->t_end)
            break;
        bconn *c = &t->conns[t->next_slot % (uint64_t)t->nconns];
        t->next_slot++;
        refill(t, c, now);
    }
}

/* A loop timer: housekeeping every TICK_US, at the loop's wakeup time. */
static int64_t on_tick(sk_loop *l, void *data)
{
    bthread *t = data;
    housekeeping(t, sk_loop_now_us(l) * 1000);
    return t->cfg->idle_ms > 0 ? IDLE_TICK_US : TICK_US;
}

/* Rate mode over held connections: whether the schedule starts now, and
 * if so its start. It waits until every connection of the thread has been
 * started and none is still connecting (each is open or has failed once),
 * at the longest the timeout: a request's latency counts from its slot,
 * and a slot that passed while its connection was still being opened
 * would charge the connect - reported on its own - to the request. The
 * duration counts from here, so -d D --rate R still sends R x D. */
static bool schedule_start(bthread *t, int64_t now)
{
    if (t->t_end != 0)
        return true;
    if ((t->ramp < t->nconns || t->connecting > 0) && now - t->t0 < t->cfg->timeout_ms * 1000000LL)
        return false;
    __atomic_store_n(&t->s0, now, __ATOMIC_RELAXED);
    __atomic_store_n(&t->t_end, now + t->cfg->duration_ms * 1000000LL, __ATOMIC_RELAXED);
    return true;
}

/* Rate mode: a loop timer that comes due at the next slot's time (every
 * SCHEDULE_WAIT_US until the schedule starts). */
static int64_t on_slot(sk_loop *l, void *data)
{
    bthread *t = data;
    int64_t now = sk_now_ns();
    (void)l;
    if (!schedule_start(t, now))
        return SCHEDULE_WAIT_US;
    run_schedule(t, now);
    int64_t next = t->s0 + (int64_t)((double)t->next_slot * t->slot_ns);
    /* The delay counts from when this returns (the loop re-arms from a
     * fresh clock), not from before the sends above, or every slot would
     * come late by their time. Microseconds, rounded so that the slot is
     * due when the timer runs. */
    now = sk_now_ns();
    if (next >= t->t_end)
        return -1; /* no slot left in the run */
    return next > now ? (next - now) / 1000 + 1 : 0;
}

/* --busy-poll: look for events without sleeping (sk_loop_once with no
 * wait, which also runs the timers that come due), for up to busy_poll_us.
 * On loopback the server's send pays for waking a sleeping client thread; a
 * client still polling needs no wakeup, so the server spends its CPU on
 * requests instead. Costs the client's own CPU: for a client with a core to
 * itself. Returns events found (0: none, sleep now). */
static int busy_poll(bthread *t)
{
    int64_t spin = (int64_t)t->cfg->busy_poll_us * 1000;
    if (spin <= 0)
        return 0;
    int64_t until = sk_now_ns() + spin;
    do {
        int n = sk_loop_once(t->loop, 0);
        if (n != 0)
            return n > 0 ? n : 0;
    } while (sk_now_ns() < until && !stopping(t));
    return 0;
}

static void *worker(void *arg)
{
    bthread *t = arg;

    ramp(t);
    /* The wait is bounded by the housekeeping timer, so a stop is seen
     * within TICK_US. */
    while (!stopping(t)) {
        if (busy_poll(t) > 0)
            continue;
        if (sk_loop_once(t->loop, -1) < 0)
            break;
    }
    /* UDP: nothing more is sent; the answers still due get the timeout
     * to come back, then count as lost, so sent == answered + lost. */
    if (t->cfg->proto == SK_BENCH_UDP) {
        int64_t until = sk_now_ns() + t->cfg->timeout_ms * 1000000LL;
        for (;;) {
            uint64_t due = 0;
            for (int i = 0; i < t->ramp; i++)
                due += t->conns[i].state == C_OPEN ? t->conns[i].inflight : 0;
            if (due == 0 || sk_now_ns() > until || sk_loop_once(t->loop, -1) < 0)
                break;
        }
        for (int i = 0; i < t->ramp; i++) {
            if (t->conns[i].state == C_OPEN)
                udp_lose(t, &t->conns[i], INT64_MAX);
        }
    }
    int64_t end = sk_now_ns();
    for (int i = 0; i < t->nconns; i++) {
        if (t->conns[i].state != C_OPEN)
            continue;
        t->open_at_end++;
        if (t->cfg->idle_ms > 0 && end - t->conns[i].last_ok > t->max_gap_ns)
            t->max_gap_ns = end - t->conns[i].last_ok;
    }
    for (int i = 0; i < t->nconns; i++) {
        if (t->conns[i].fd >= 0)
            close(t->conns[i].fd);
    }
    return NULL;
}

/* The request bytes, pipeline + 1 times over. */
static char *make_template(const sk_bench_config *cfg, size_t *reqlen)
{
    char head[2048];
    size_t len;
    if (cfg->proto == SK_BENCH_HTTP) {
        int k = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", cfg->path ? cfg->path : "/",
                         cfg->host ? cfg->host : "localhost", cfg->new_conn ? "Connection: close\r\n" : "");
        if (k < 0 || (size_t)k >= sizeof head)
            return NULL;
        len = (size_t)k;
    } else {
        len = cfg->size;
    }
    /* UDP sends one datagram at a time, numbered as it goes. */
    size_t copies = cfg->proto == SK_BENCH_UDP ? 1 : (size_t)cfg->pipeline + 1;
    char *tmpl = malloc(len * copies);
    if (tmpl == NULL)
        return NULL;
    for (size_t i = 0; i < copies; i++) {
        if (cfg->proto == SK_BENCH_HTTP) {
            memcpy(tmpl + i * len, head, len);
        } else {
            for (size_t j = 0; j < len; j++)
                tmpl[i * len + j] = (char)('a' + j % 26);
        }
    }
    *reqlen = len;
    return tmpl;
}

static void sum_counts(sk_bench_counts *to, const sk_bench_counts *from)
{
    const uint64_t *f = (const uint64_t *)from;
    uint64_t *d = (uint64_t *)to;
    for (size_t i = 0; i < sizeof *from / sizeof(uint64_t); i++)
        d[i] += __atomic_load_n(&f[i], __ATOMIC_RELAXED);
}

static bool targets_ok(const sk_bench_config *cfg)
{
    long sum = 0;
    if (cfg->ntargets == 0)
        return true;
    if (cfg->ntargets > SK_BENCH_TARGETS_MAX || cfg->targets == NULL || cfg->target_conns == NULL)
        return false;
    for (size_t i = 0; i < cfg->ntargets; i++) {
        if (cfg->target_conns[i] < 0)
            return false;
        sum += cfg->target_conns[i];
    }
    return sum == cfg->conns;
}

/* The target of connection number g (0 .. conns-1), in consecutive
 * blocks; connection j of thread i is number j * threads + i, so each
 * block spreads over the threads. */
static uint32_t target_of(const sk_bench_config *cfg, int g)
{
    for (size_t i = 0; i < cfg->ntargets; i++) {
        if (g < cfg->target_conns[i])
            return (uint32_t)i;
        g -= cfg->target_conns[i];
    }
    return 0;
}

uint64_t sk_bench_share(uint64_t total, uint64_t upto, uint64_t of)
{
    /* total * upto / of without overflow for any total below 2^64. */
    return (uint64_t)((unsigned __int128)total * upto / of);
}

/* Whether a rate's schedule waits for the connections to open
 * (schedule_start): over held connections; one request per connection
 * counts the connect in, and --idle starts each one's slots at its connect. */
static bool schedule_waits(const sk_bench_config *cfg) { return cfg->rate > 0 && cfg->idle_ms == 0 && !cfg->new_conn; }

/* When the run ends: the duration after the start, or, for a schedule
 * that waits for its connections (schedule_start), once every thread's
 * schedule has ended - at the latest the timeout and the duration after the
 * start. *start becomes the earliest schedule's start, the run's elapsed
 * time counting from there. */
static int64_t run_end(bthread *ts, int nt, const sk_bench_config *cfg, int64_t t0, int64_t *start)
{
    int64_t d = cfg->duration_ms * 1000000LL, end = t0 + d;
    if (!schedule_waits(cfg))
        return end;
    int64_t last = 0, first = INT64_MAX;
    for (int i = 0; i < nt; i++) {
        int64_t e = __atomic_load_n(&ts[i].t_end, __ATOMIC_RELAXED);
        if (e == 0) {
            last = INT64_MAX; /* one still waiting: the bound, looked at again each nap */
            continue;
        }
        int64_t s = __atomic_load_n(&ts[i].s0, __ATOMIC_RELAXED);
        first = s < first ? s : first;
        last = e > last ? e : last;
    }
    if (first != INT64_MAX)
        *start = first;
    int64_t bound = t0 + cfg->timeout_ms * 1000000LL + d + 1000000000LL;
    return last < bound ? last : bound;
}

int sk_bench_run(const sk_bench_config *cfg_in, sk_bench_result *out)
{
    sk_bench_config cfg = *cfg_in;
    int stop = 0;
    bthread *ts = NULL;
    char *tmpl = NULL;
    size_t reqlen = 0;
    int nt, started = 0, rc = 0;

    memset(out, 0, sizeof *out);
    bool udp = cfg.proto == SK_BENCH_UDP;
    out->established_ms = -1;
    if (cfg.conns < 1 || cfg.threads < 1 || cfg.pipeline < 1 || cfg.duration_ms < 0 || cfg.rate < 0 ||
        (cfg.proto != SK_BENCH_HTTP && cfg.size < 1) || sk_bench_proto_name(cfg.proto)[0] == '?' || !targets_ok(&cfg))
        return -EINVAL;
    if ((udp && (cfg.size < SK_BENCH_UDP_MIN || cfg.size > SCRATCH || cfg.new_conn || cfg.idle_ms > 0)) ||
        (cfg.new_conn && (cfg.pipeline != 1 || cfg.idle_ms > 0)) || (cfg.idle_ms > 0 && cfg.rate > 0) ||
        cfg.idle_ms < 0 || (cfg.source_count > 0 && cfg.source == NULL) ||
        (cfg.source_count > 1 && cfg.source->ss.ss_family != AF_INET))
        return -EINVAL;
    if (cfg.timeout_ms <= 0)
        cfg.timeout_ms = 5000;
    if (cfg.idle_ms > 0)
        cfg.rate = (double)cfg.conns * 1000.0 / (double)cfg.idle_ms;
    nt = cfg.threads < cfg.conns ? cfg.threads : cfg.conns;
    rc = sk_hist_init(&out->latency, SK_BENCH_HIST_MAX);
    if (rc == 0 && (rc = sk_hist_init(&out->connect_latency, SK_BENCH_HIST_MAX)) < 0)
        sk_hist_free(&out->latency);
    if (rc < 0)
        return rc;
    tmpl = make_template(&cfg, &reqlen);
    ts = calloc((size_t)nt, sizeof *ts);
    if (tmpl == NULL || ts == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    int64_t t0 = sk_now_ns();
    for (int i = 0; i < nt; i++) {
        bthread *t = &ts[i];
        t->cfg = &cfg;
        t->tmpl = tmpl;
        t->reqlen = reqlen;
        t->stop = &stop;
        t->t0 = t0;
        if (!schedule_waits(&cfg)) {
            t->s0 = t0;
            t->t_end = t0 + cfg.duration_ms * 1000000LL;
        }
        t->nconns = cfg.conns / nt + (i < cfg.conns % nt);
        t->window = cfg.connect_window > 0 ? cfg.connect_window : CONNECT_WINDOW;
        if (cfg.requests_max > 0) {
            /* By connection count; the shares add up to requests_max. */
            uint64_t before =
                (uint64_t)(cfg.conns / nt) * (uint64_t)i + (uint64_t)(i < cfg.conns % nt ? i : cfg.conns % nt);
            t->limited = true;
            t->quota = sk_bench_share(cfg.requests_max, before + (uint64_t)(cfg.conns / nt + (i < cfg.conns % nt)),
                                      (uint64_t)cfg.conns) -
                       sk_bench_share(cfg.requests_max, before, (uint64_t)cfg.conns);
        }
        t->tag = (uint32_t)(t0 ^ ((uint64_t)getpid() << 16)) + (uint32_t)i;
        if (cfg.rate > 0)
            t->slot_ns = 1e9 / (cfg.rate * t->nconns / cfg.conns);
        /* Watches fds below RLIMIT_NOFILE, which bounds every fd. */
        t->loop = sk_loop_new(NULL, 0, &rc);
        t->conns = calloc((size_t)t->nconns, sizeof *t->conns);
        t->ring = calloc((size_t)t->nconns * (size_t)cfg.pipeline, sizeof *t->ring);
        t->scratch = malloc(SCRATCH);
        if (udp) {
            t->useq = calloc((size_t)t->nconns * (size_t)cfg.pipeline, sizeof *t->useq);
            t->usent = calloc((size_t)t->nconns * (size_t)cfg.pipeline, sizeof *t->usent);
            /* Small datagrams go UDP_BATCH to a call, into and out of
             * buffers of their own; a large one alone. */
            t->batch = reqlen <= UDP_BATCH_SIZE ? UDP_BATCH : 1;
            t->dgram = malloc(reqlen * t->batch);
            for (uint32_t k = 0; t->dgram && k < t->batch; k++) {
                memcpy(t->dgram + k * reqlen, tmpl, reqlen);
                t->iov_in[k] =
                    (struct iovec){.iov_base = t->scratch + k * (SCRATCH / t->batch), .iov_len = SCRATCH / t->batch};
                t->mmsg_in[k].msg_hdr = (struct msghdr){.msg_iov = &t->iov_in[k], .msg_iovlen = 1};
            }
        }
        if (t->loop == NULL || t->conns == NULL || t->ring == NULL || t->scratch == NULL ||
            (udp && (t->useq == NULL || t->usent == NULL || t->dgram == NULL))) {
            if (t->loop != NULL)
                rc = -ENOMEM;
            goto done;
        }
        /* Timers are set before the thread starts, so a failure is the
         * run's; the loop passes to the worker with pthread_create. */
        int64_t id = sk_loop_timer_us(t->loop, TICK_US, on_tick, t);
        if (id >= 0 && t->slot_ns > 0)
            id = sk_loop_timer_us(t->loop, 0, on_slot, t);
        if (id < 0) {
            rc = (int)id;
            goto done;
        }
        rc = sk_hist_init(&t->hist, SK_BENCH_HIST_MAX);
        if (rc == 0)
            rc = sk_hist_init(&t->conn_hist, SK_BENCH_HIST_MAX);
        if (rc < 0)
            goto done;
        for (int j = 0; j < t->nconns; j++) {
            t->conns[j].t = t;
            t->conns[j].fd = -1;
            t->conns[j].idx = (uint32_t)j;
            t->conns[j].target = target_of(&cfg, j * nt + i);
            t->conns[j].ring = t->ring + (size_t)j * (size_t)cfg.pipeline;
            t->conns[j].retry_at = INT64_MAX; /* ramp() starts it */
            if (cfg.source_count)
                t->conns[j].source = (uint32_t)((j * nt + i) % (int64_t)cfg.source_count);
            if (udp) {
                t->conns[j].useq = t->useq + (size_t)j * (size_t)cfg.pipeline;
                t->conns[j].usent = t->usent + (size_t)j * (size_t)cfg.pipeline;
            }
        }
    }
    for (; started < nt; started++) {
        rc = -pthread_create(&ts[started].tid, NULL, worker, &ts[started]);
        if (rc < 0)
            goto done;
    }

    int64_t next_report = t0 + 1000000000LL, start = t0;
    for (;;) {
        int64_t now = sk_now_ns();
        int64_t end = run_end(ts, nt, &cfg, t0, &start);
        if (now >= end || (cfg.stop && *cfg.stop))
            break;
        sk_bench_counts sofar = {0};
        uint64_t failed_first = 0;
        int done = 0;
        for (int i = 0; i < nt; i++) {
            sum_counts(&sofar, &ts[i].n);
            failed_first += __atomic_load_n(&ts[i].failed_first, __ATOMIC_RELAXED);
            done += __atomic_load_n(&ts[i].done, __ATOMIC_RELAXED);
        }
        if (cfg.requests_max > 0 && done == nt)
            break;
        /* Nothing listens there: every connection failed once and none
         * ever worked. Waiting out the duration would tell nothing more. */
        if (sofar.connects == 0 && failed_first == (uint64_t)cfg.conns)
            break;
        if (now >= next_report) {
            if (cfg.on_progress)
                cfg.on_progress(cfg.userdata, &sofar, (now - t0) / 1000000);
            next_report += 1000000000LL;
        }
        int64_t nap = end - now;
        if (nap > 20000000LL)
            nap = 20000000LL;
        struct timespec ts_nap = {.tv_sec = 0, .tv_nsec = nap};
        nanosleep(&ts_nap, NULL);
    }
    out->elapsed_ms = (sk_now_ns() - start) / 1000000;

done:
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < started; i++)
        pthread_join(ts[i].tid, NULL);
    bool all_open = true;
    for (int i = 0; ts && i < nt; i++) {
        bthread *t = &ts[i];
        if (rc == 0) {
            sum_counts(&out->n, &t->n);
            if (t->hist.counts)
                sk_hist_merge(&out->latency, &t->hist);
            if (t->conn_hist.counts)
                sk_hist_merge(&out->connect_latency, &t->conn_hist);
            all_open = all_open && t->ever_open == t->nconns;
            if (t->established_ns / 1000000 > out->established_ms)
                out->established_ms = t->established_ns / 1000000;
            if (t->max_gap_ns / 1000000 > out->max_gap_ms)
                out->max_gap_ms = t->max_gap_ns / 1000000;
            out->open_at_end += t->open_at_end;
            if (t->last_connect_err)
                out->last_connect_err = t->last_connect_err;
            for (size_t k = 0; k < cfg.ntargets; k++)
                out->target_requests[k] += t->per_target[k];
        }
        sk_hist_free(&t->hist);
        sk_hist_free(&t->conn_hist);
        sk_loop_free(t->loop);
        free(t->conns);
        free(t->ring);
        free(t->useq);
        free(t->usent);
        free(t->dgram);
        free(t->scratch);
    }
    if (!all_open)
        out->established_ms = -1;
    free(ts);
    free(tmpl);
    if (rc < 0)
        sk_bench_result_free(out);
    return rc;
}

void sk_bench_result_free(sk_bench_result *r)
{
    sk_hist_free(&r->latency);
    sk_hist_free(&r->connect_latency);
}
