/* sockit bench's engine: worker threads, each running its own sk_loop over
 * its share of non-blocking connections, closed-loop (as fast as the server
 * answers, N requests in flight per connection) or open-loop at a fixed
 * rate with latency taken from each request's intended send time. */
#include <sockit/bench.h>
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

#include <netinet/in.h>
#include <netinet/tcp.h>

#define SCRATCH (64 * 1024)
#define TICK_US (10 * 1000LL) /* housekeeping: timeouts, reconnects */
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
    uint32_t inflight, ring_head;
    int64_t *ring;    /* start time (ns) of each request in flight */
    uint64_t next_k;  /* rate mode: number of the next request to send */
    size_t out_left;  /* queued request bytes not yet written */
    size_t out_phase; /* where in a request the next byte to write is */
    size_t in_phase;  /* echo: bytes of the current answer already read */
    int64_t wait_since, retry_at;
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
    char *scratch;
    sk_hist hist;
    sk_bench_counts n; /* written by this thread, read by the main one */
    uint64_t per_target[SK_BENCH_TARGETS_MAX];
    uint64_t failed_first;
    int last_connect_err;
    int64_t t0;
    double slot_ns; /* rate mode: gap between two sends of this thread */
    uint64_t next_slot;
    const int *stop; /* set by the main thread at the end */
};

static bool stopping(const bthread *t) { return __atomic_load_n(t->stop, __ATOMIC_RELAXED) != 0; }

/* Single writer: a relaxed store keeps the main thread's progress reads
 * free of data races without a locked instruction. */
#define ADD(t, field, v) __atomic_store_n(&(t)->n.field, (t)->n.field + (v), __ATOMIC_RELAXED)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *const proto_names[] = {
    [SK_BENCH_ECHO] = "echo", [SK_BENCH_HTTP] = "http", [SK_BENCH_DISCARD] = "discard"};

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
    c->fd = -1;
    c->state = C_IDLE;
    c->events = 0;
    c->inflight = c->ring_head = 0;
    c->out_left = c->out_phase = c->in_phase = 0;
    c->retry_at = now_ns() + retry_in;
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

static void conn_start(bthread *t, bconn *c)
{
    const sk_addr *a = t->cfg->ntargets ? &t->cfg->targets[c->target] : &t->cfg->addr;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(t, c, -errno);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->events = 0;
    c->wait_since = now_ns();
    sk_http_response_init(&c->resp, 0);
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
        connect_failed(t, c, -errno);
        return;
    }
    c->state = C_CONNECTING;
    int rc = watch(t, c, SK_READ | SK_WRITE);
    if (rc < 0)
        connect_failed(t, c, rc);
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
    return t->t0 + (int64_t)((double)(c->next_k * (uint64_t)t->nconns + c->idx) * t->slot_ns);
}

/* Send what the mode allows: fill the pipeline, or in rate mode every
 * request whose intended time has come (late ones keep their time). */
static void refill(bthread *t, bconn *c, int64_t now)
{
    uint32_t depth = (uint32_t)t->cfg->pipeline;
    if (c->state != C_OPEN || stopping(t))
        return;
    if (t->slot_ns > 0) {
        while (c->inflight < depth) {
            int64_t when = intended(t, c);
            if (when > now)
                break;
            queue(t, c, 1, when, now);
            c->next_k++;
        }
    } else if (c->inflight < depth) {
        queue(t, c, depth - c->inflight, now, now);
    }
    if (c->out_left > 0)
        conn_flush(t, c);
}

/* A request finished at `now`. */
static void complete(bthread *t, bconn *c, int64_t now, bool ok)
{
    uint32_t depth = (uint32_t)t->cfg->pipeline;
    int64_t start = c->ring[c->ring_head];
    c->ring_head = (c->ring_head + 1) % depth;
    c->inflight--;
    c->wait_since = now;
    sk_hist_record(&t->hist, now > start ? (uint64_t)(now - start) / 1000 : 0);
    ADD(t, requests, 1);
    t->per_target[c->target]++;
    if (!ok)
        ADD(t, err_status, 1);
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
            int64_t now = now_ns();
            for (size_t i = 0; i < done; i++)
                complete(t, c, now, true);
            c->out_phase = (c->out_phase + (size_t)n) % t->reqlen;
            if (c->out_left == 0 && !stopping(t) && t->slot_ns <= 0)
                queue(t, c, (uint32_t)t->cfg->pipeline - c->inflight, now, now);
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
            if (!(c->resp.flags & SK_HTTP_KEEPALIVE)) {
                conn_close(t, c, 0);
                return false;
            }
        }
    }
    return true;
}

static void on_readable(bthread *t, bconn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, t->scratch, SCRATCH, MSG_DONTWAIT);
        if (n > 0) {
            int64_t now = now_ns();
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
            complete(t, c, now_ns(), c->resp.status >= 200 && c->resp.status < 300);
            conn_close(t, c, 0);
            return;
        }
        /* The server closed or reset: an error only if answers were due. */
        if (n < 0 || c->inflight > 0)
            ADD(t, err_read, 1);
        conn_close(t, c, n < 0 || c->inflight > 0 ? RETRY_ERR_NS : 0);
        return;
    }
    refill(t, c, now_ns());
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
            return;
        }
        /* Errors and hangups come as both events. */
        if (!(ev & SK_WRITE))
            return;
        c->state = C_OPEN;
        c->ever = true;
        ADD(t, connects, 1);
        watch(t, c, SK_READ);
        refill(t, c, now_ns());
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
    for (int i = 0; i < t->nconns; i++) {
        bconn *c = &t->conns[i];
        if (c->state == C_IDLE && c->retry_at <= now) {
            conn_start(t, c);
        } else if (c->state == C_CONNECTING && now - c->wait_since > to) {
            connect_failed(t, c, -ETIMEDOUT);
        } else if (c->state == C_OPEN && c->inflight > 0 && now - c->wait_since > to) {
            ADD(t, err_timeout, c->inflight);
            conn_close(t, c, 0);
        }
    }
}

/* Rate mode: offer each slot that came due to its connection. */
static void run_schedule(bthread *t, int64_t now)
{
    for (;;) {
        int64_t when = t->t0 + (int64_t)((double)t->next_slot * t->slot_ns);
        if (when > now)
            break;
        bconn *c = &t->conns[t->next_slot % (uint64_t)t->nconns];
        t->next_slot++;
        refill(t, c, now);
    }
}

/* A loop timer: housekeeping every TICK_US, at the loop's wakeup time. */
static int64_t on_tick(sk_loop *l, void *data)
{
    housekeeping(data, sk_loop_now_us(l) * 1000);
    return TICK_US;
}

/* Rate mode: a loop timer that comes due at the next slot's time. */
static int64_t on_slot(sk_loop *l, void *data)
{
    bthread *t = data;
    int64_t now = now_ns();
    (void)l;
    run_schedule(t, now);
    int64_t next = t->t0 + (int64_t)((double)t->next_slot * t->slot_ns);
    /* The delay counts from when this returns (the loop re-arms from a
     * fresh clock), not from before the sends above, or every slot would
     * come late by their time. Microseconds, rounded so that the slot is
     * due when the timer runs. */
    now = now_ns();
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
    int64_t until = now_ns() + spin;
    do {
        int n = sk_loop_once(t->loop, 0);
        if (n != 0)
            return n > 0 ? n : 0;
    } while (now_ns() < until && !stopping(t));
    return 0;
}

static void *worker(void *arg)
{
    bthread *t = arg;

    for (int i = 0; i < t->nconns; i++)
        conn_start(t, &t->conns[i]);
    /* The wait is bounded by the housekeeping timer, so a stop is seen
     * within TICK_US. */
    while (!stopping(t)) {
        if (busy_poll(t) > 0)
            continue;
        if (sk_loop_once(t->loop, -1) < 0)
            break;
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
        int k = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", cfg->path ? cfg->path : "/",
                         cfg->host ? cfg->host : "localhost");
        if (k < 0 || (size_t)k >= sizeof head)
            return NULL;
        len = (size_t)k;
    } else {
        len = cfg->size;
    }
    size_t copies = (size_t)cfg->pipeline + 1;
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

int sk_bench_run(const sk_bench_config *cfg_in, sk_bench_result *out)
{
    sk_bench_config cfg = *cfg_in;
    int stop = 0;
    bthread *ts = NULL;
    char *tmpl = NULL;
    size_t reqlen = 0;
    int nt, started = 0, rc = 0;

    memset(out, 0, sizeof *out);
    if (cfg.conns < 1 || cfg.threads < 1 || cfg.pipeline < 1 || cfg.duration_ms < 0 || cfg.rate < 0 ||
        (cfg.proto != SK_BENCH_HTTP && cfg.size < 1) || sk_bench_proto_name(cfg.proto)[0] == '?' || !targets_ok(&cfg))
        return -EINVAL;
    if (cfg.timeout_ms <= 0)
        cfg.timeout_ms = 5000;
    nt = cfg.threads < cfg.conns ? cfg.threads : cfg.conns;
    rc = sk_hist_init(&out->latency, SK_BENCH_HIST_MAX);
    if (rc < 0)
        return rc;
    tmpl = make_template(&cfg, &reqlen);
    ts = calloc((size_t)nt, sizeof *ts);
    if (tmpl == NULL || ts == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    int64_t t0 = now_ns();
    for (int i = 0; i < nt; i++) {
        bthread *t = &ts[i];
        t->cfg = &cfg;
        t->tmpl = tmpl;
        t->reqlen = reqlen;
        t->stop = &stop;
        t->t0 = t0;
        t->nconns = cfg.conns / nt + (i < cfg.conns % nt);
        if (cfg.rate > 0)
            t->slot_ns = 1e9 / (cfg.rate * t->nconns / cfg.conns);
        /* Watches fds below RLIMIT_NOFILE, which bounds every fd. */
        t->loop = sk_loop_new(NULL, 0, &rc);
        t->conns = calloc((size_t)t->nconns, sizeof *t->conns);
        t->ring = calloc((size_t)t->nconns * (size_t)cfg.pipeline, sizeof *t->ring);
        t->scratch = malloc(SCRATCH);
        if (t->loop == NULL || t->conns == NULL || t->ring == NULL || t->scratch == NULL) {
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
        if (rc < 0)
            goto done;
        for (int j = 0; j < t->nconns; j++) {
            t->conns[j].t = t;
            t->conns[j].fd = -1;
            t->conns[j].idx = (uint32_t)j;
            t->conns[j].target = target_of(&cfg, j * nt + i);
            t->conns[j].ring = t->ring + (size_t)j * (size_t)cfg.pipeline;
        }
    }
    for (; started < nt; started++) {
        rc = -pthread_create(&ts[started].tid, NULL, worker, &ts[started]);
        if (rc < 0)
            goto done;
    }

    int64_t end = t0 + cfg.duration_ms * 1000000LL, next_report = t0 + 1000000000LL;
    for (;;) {
        int64_t now = now_ns();
        if (now >= end || (cfg.stop && *cfg.stop))
            break;
        sk_bench_counts sofar = {0};
        uint64_t failed_first = 0;
        for (int i = 0; i < nt; i++) {
            sum_counts(&sofar, &ts[i].n);
            failed_first += __atomic_load_n(&ts[i].failed_first, __ATOMIC_RELAXED);
        }
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
    out->elapsed_ms = (now_ns() - t0) / 1000000;

done:
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < started; i++)
        pthread_join(ts[i].tid, NULL);
    for (int i = 0; ts && i < nt; i++) {
        bthread *t = &ts[i];
        if (rc == 0) {
            sum_counts(&out->n, &t->n);
            if (t->hist.counts)
                sk_hist_merge(&out->latency, &t->hist);
            if (t->last_connect_err)
                out->last_connect_err = t->last_connect_err;
            for (size_t k = 0; k < cfg.ntargets; k++)
                out->target_requests[k] += t->per_target[k];
        }
        sk_hist_free(&t->hist);
        sk_loop_free(t->loop);
        free(t->conns);
        free(t->ring);
        free(t->scratch);
    }
    free(ts);
    free(tmpl);
    if (rc < 0)
        sk_hist_free(&out->latency);
    return rc;
}

void sk_bench_result_free(sk_bench_result *r) { sk_hist_free(&r->latency); }
