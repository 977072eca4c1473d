/* One run of a lifecycle scenario: both sides in threads with a shared
 * clock, the capture in a third, everything merged in time order, printed
 * as three columns (client | wire | server) or JSON lines, and checked
 * against what the scenario expects. */
#include "cli.h"
#include "lifecycle.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define COL 50
#define WIRE 34

void lc_signal(lc_run *r, int step)
{
    pthread_mutex_lock(&r->lock);
    if (step > r->step)
        r->step = step;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void lc_wait(lc_run *r, int step)
{
    pthread_mutex_lock(&r->lock);
    while (r->step < step)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

void lc_barrier(lc_run *r, int side)
{
    int64_t end = sk_now_us() + 2000000;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    /* Two threads only overlap when both run: on a loaded machine one is
     * often waiting for a core. As root each gets a core of its own and
     * a real-time priority for the moment (undone by lc_barrier_done);
     * otherwise they spin and hope, and the scenario tries again. */
    if (ncpu >= 2) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(side % ncpu, &one);
        if (pthread_getaffinity_np(pthread_self(), sizeof r->affinity[side], &r->affinity[side]) == 0)
            pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    struct sched_param sp = {.sched_priority = 1};
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    __atomic_add_fetch(&r->barrier, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&r->barrier, __ATOMIC_ACQUIRE) < 2 && sk_now_us() < end)
        ;
}

void lc_barrier_done(lc_run *r, int side)
{
    struct sched_param sp = {.sched_priority = 0};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
    if (CPU_COUNT(&r->affinity[side]) > 0)
        pthread_setaffinity_np(pthread_self(), sizeof r->affinity[side], &r->affinity[side]);
}

static void add(lc_run *r, const lc_event *e)
{
    pthread_mutex_lock(&r->lock);
    if (r->nev < LC_EVENTS_MAX) {
        r->ev[r->nev] = *e;
        r->ev[r->nev].n = (unsigned)r->nev;
        r->nev++;
    }
    pthread_mutex_unlock(&r->lock);
}

static void on_call(void *ud, const sk_trace_event *ev)
{
    lc_run *r = ud;
    lc_event e = {.at_us = ev->at_us, .call = *ev};
    e.side = strcmp(ev->side, "client") == 0 ? 'c' : 's';
    add(r, &e);
}

/* TcpExt ListenOverflows (0 when the kernel does not say). */
static uint64_t listen_overflows(void)
{
    static const char *const names[] = {"ListenOverflows"};
    int64_t v;
    sk_tcpext_read(names, 1, &v);
    return v > 0 ? (uint64_t)v : 0;
}

typedef struct capture {
    lc_run *r;
    int fd;
    volatile int stop;
    pthread_t tid;
} capture;

static void *capture_main(void *arg)
{
    capture *c = arg;
    sk_segment s;
    for (;;) {
        int rc = sk_capture_next(c->fd, 20, &s);
        if (rc < 0)
            break;
        if (rc == 0) {
            if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        lc_event e = {.at_us = s.at_us - c->r->t0, .side = 'w', .seg = s};
        add(c->r, &e);
    }
    return NULL;
}

/* The tracepoint's changes: a socket whose own port is the server's is
 * the server's (its listener too), the others the client's. */
typedef struct tpreader {
    lc_run *r;
    volatile int stop;
    pthread_t tid;
} tpreader;

static void *tp_main(void *arg)
{
    tpreader *t = arg;
    sk_state_change c;
    int sport = sk_addr_port((const struct sockaddr *)&t->r->addr.ss);
    for (;;) {
        int rc = sk_tcpstate_next(t->r->tp, 20, &c);
        if (rc < 0)
            break;
        if (rc == 0) {
            if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        bool srv = sk_addr_port((const struct sockaddr *)&c.local.ss) == sport;
        if (!srv && sk_addr_port((const struct sockaddr *)&c.peer.ss) != sport)
            continue;
        lc_event e = {.at_us = c.at_us - t->r->t0, .side = srv ? 's' : 'c'};
        e.call.at_us = e.at_us;
        e.call.side = srv ? "server" : "client";
        e.call.call = "state";
        e.call.fd = -1;
        e.call.state = c.to;
        e.call.from = c.from;
        e.call.local = c.local;
        e.call.peer = c.peer;
        add(t->r, &e);
    }
    return NULL;
}

/* Against ADDR: the server is another program's, and all there is of it
 * is what this host's table shows (when it runs here): its socket of the
 * client's connection, looked at every 2 ms, each change a server state
 * (from the tracepoint instead when that runs, but TIME_WAIT). */
static int peer_state(const sk_addr *srv, const sk_addr *cli)
{
    sk_diag_filter f = {.local_port = sk_addr_port((const struct sockaddr *)&srv->ss), .local = srv};
    sk_diag_sock *v;
    size_t n;
    int state = -1;
    char want[SK_ADDRSTRLEN], got[SK_ADDRSTRLEN];
    if (sk_diag_tcp(&f, &v, &n) < 0)
        return -1;
    sk_addr_format((const struct sockaddr *)&cli->ss, want, sizeof want);
    for (size_t i = 0; i < n && state < 0; i++) {
        sk_addr_format((const struct sockaddr *)&v[i].peer.ss, got, sizeof got);
        if (v[i].state != 10 && strcmp(want, got) == 0)
            state = v[i].state;
    }
    free(v);
    return state;
}

static void server_state(lc_run *r, int state, const sk_addr *cli)
{
    lc_event e = {.at_us = sk_now_us() - r->t0, .side = 's'};
    e.call.at_us = e.at_us;
    e.call.side = "server";
    e.call.call = "state";
    e.call.fd = -1;
    e.call.state = state;
    e.call.local = r->addr;
    e.call.peer = *cli;
    add(r, &e);
}

static int watch_server(lc_run *r)
{
    int last = -3;
    bool seen = false;
    int64_t done_at = 0, end = sk_now_ms() + 10000;
    lc_signal(r, 1);
    while (!__atomic_load_n(&r->cli_known, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&r->lock);
        bool over = r->step >= 3;
        pthread_mutex_unlock(&r->lock);
        if (over || sk_now_ms() >= end)
            break; /* never connected (refused) */
        usleep(1000);
    }
    if (!__atomic_load_n(&r->cli_known, __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(&r->lock);
    sk_addr cli = r->cli_local;
    pthread_mutex_unlock(&r->lock);
    while (sk_now_ms() < end) {
        int st = peer_state(&r->addr, &cli);
        seen = seen || st >= 0;
        __atomic_store_n(&r->watch_ready, 1, __ATOMIC_RELEASE);
        bool report = seen && st != last && (!r->tp || st < 0 || st == 6);
        if (report)
            server_state(r, st, &cli);
        last = st;
        if (seen && (st < 0 || st == 6))
            break;
        pthread_mutex_lock(&r->lock);
        bool over = r->step >= 3;
        pthread_mutex_unlock(&r->lock);
        if (over && done_at == 0)
            done_at = sk_now_ms();
        if (done_at && sk_now_ms() - done_at > 1000)
            break;
        usleep(2000);
    }
    r->server_seen = seen;
    return 0;
}

typedef struct side {
    lc_run *r;
    int (*fn)(lc_run *r);
    pthread_t tid;
} side;

static void *side_main(void *arg)
{
    side *s = arg;
    s->fn(s->r);
    return NULL;
}

static int by_time(const void *a, const void *b)
{
    const lc_event *x = a, *y = b;
    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

static bool from_server(const lc_run *r, const sk_segment *s)
{
    return sk_addr_port((const struct sockaddr *)&s->src.ss) == sk_addr_port((const struct sockaddr *)&r->addr.ss);
}

/* Sequence numbers relative to each connection's and direction's first
 * (as tcpdump prints them); a connection is its client port. */
typedef struct rel1 {
    int cport;
    bool have_c, have_s;
    uint32_t isn_c, isn_s;
} rel1;

typedef struct rel {
    rel1 c[16];
    int n;
} rel;

/* The segment's seq and ack relative to their connection's first. */
static void relative(const lc_run *r, rel *q, const sk_segment *s, uint32_t *seq, uint32_t *ack)
{
    bool srv = from_server(r, s);
    int cport = sk_addr_port((const struct sockaddr *)(srv ? &s->dst.ss : &s->src.ss));
    rel1 *c = NULL;
    for (int i = 0; i < q->n && c == NULL; i++)
        c = q->c[i].cport == cport ? &q->c[i] : NULL;
    if (c == NULL) {
        c = &q->c[q->n < 16 ? q->n++ : 15];
        *c = (rel1){.cport = cport};
    }
    uint32_t *isn = srv ? &c->isn_s : &c->isn_c, *other = srv ? &c->isn_c : &c->isn_s;
    bool *have = srv ? &c->have_s : &c->have_c, other_have = srv ? c->have_c : c->have_s;
    if (!*have) {
        *isn = s->seq;
        *have = true;
    }
    *seq = s->seq - *isn;
    *ack = (s->flags & SK_TCP_ACK) && other_have ? s->ack - *other : 0;
}

static void wire_text(const lc_run *r, rel *q, const sk_segment *s, char *buf, size_t len)
{
    char f[8], body[64];
    uint32_t seq, ack;
    relative(r, q, s, &seq, &ack);
    sk_segment_flags(s->flags, f, sizeof f);
    snprintf(body, sizeof body, "%s seq %" PRIu32 " ack %" PRIu32 " len %" PRIu32, f, seq, ack, s->len);
    if (from_server(r, s))
        snprintf(buf, len, "<-- %s", body);
    else
        snprintf(buf, len, "%s -->", body);
}

static void call_text(const sk_trace_event *ev, char *buf, size_t len)
{
    char res[64] = "";
    if (strcmp(ev->call, "state") == 0 && ev->from > 0) {
        snprintf(buf, len, "(tracepoint) %s -> %s", sk_tcp_state_name(ev->from), sk_tcp_state_name(ev->state));
        return;
    }
    if (strcmp(ev->call, "state") == 0) {
        snprintf(buf, len, "(kernel) %s", ev->state >= 0 ? sk_tcp_state_name(ev->state) : "gone");
        return;
    }
    if (ev->result < 0 && ev->err)
        snprintf(res, sizeof res, "-1 %s", strerrorname_np(ev->err) ? strerrorname_np(ev->err) : "?");
    else if (strcmp(ev->call, "getsockopt") == 0)
        snprintf(res, sizeof res, "%s", ev->err ? strerrorname_np(ev->err) : "0");
    else
        snprintf(res, sizeof res, "%ld", ev->result);
    const char *args = ev->args;
    char shortargs[64];
    /* A poll's arguments are long; its outcome is what matters here. */
    if (strcmp(ev->call, "poll") == 0) {
        const char *arrow = strstr(args, "-> ");
        snprintf(shortargs, sizeof shortargs, "%.60s", arrow ? arrow + 3 : args);
        args = shortargs;
    }
    snprintf(buf, len, "%s(%d%s%.40s) = %s%s%s", ev->call, ev->fd, args[0] ? ", " : "", args, res,
             ev->state >= 0 ? " " : "", ev->state >= 0 ? sk_tcp_state_name(ev->state) : "");
}

static void print_text(lc_run *r)
{
    rel q = {0};
    if (r->target)
        printf("sockit lifecycle: %s against %s: the client's side of: %s\n", r->sc->name, r->target, r->sc->about);
    else
        printf("sockit lifecycle: %s: %s\n", r->sc->name, r->sc->about);
    printf("%-10s  %-*s  %-*s  %s\n", "time", COL, "client", WIRE, r->packets ? "wire" : "", "server");
    for (size_t i = 0; i < r->nev; i++) {
        const lc_event *e = &r->ev[i];
        char text[256];
        if (e->side == 'w')
            wire_text(r, &q, &e->seg, text, sizeof text);
        else
            call_text(&e->call, text, sizeof text);
        printf("%+8.3f ms  ", (double)e->at_us / 1000.0);
        if (e->side == 'c')
            printf("%s\n", text);
        else if (e->side == 'w')
            printf("%-*s  %s\n", COL, "", text);
        else
            printf("%-*s  %-*s  %s\n", COL, "", WIRE, "", text);
    }
}

static void print_json(lc_run *r)
{
    char buf[1024];
    rel q = {0};
    for (size_t i = 0; i < r->nev; i++) {
        const lc_event *e = &r->ev[i];
        if (e->side != 'w') {
            puts(sk_trace_json(&e->call, buf, sizeof buf));
            continue;
        }
        const sk_segment *s = &e->seg;
        char f[8];
        bool srv = from_server(r, s);
        uint32_t seq, ack;
        relative(r, &q, s, &seq, &ack);
        printf("{\"event\":\"segment\",\"t_us\":%" PRId64 ",\"from\":\"%s\",\"flags\":\"%s\",\"seq\":%" PRIu32
               ",\"ack\":%" PRIu32 ",\"len\":%" PRIu32 ",\"window\":%u}\n",
               e->at_us, srv ? "server" : "client", sk_segment_flags(s->flags, f, sizeof f), seq, ack, s->len,
               s->window);
    }
}

/* The checks. Each failure is one line into out. */
typedef struct verdict {
    char lines[16][4096];
    int n;
} verdict;

static void failed(verdict *v, const char *fmt, const char *a, const char *b)
{
    if (v->n < 16)
        snprintf(v->lines[v->n++], sizeof v->lines[0], fmt, a, b);
}

static bool token_is(const char *tok, size_t len, const char *word)
{
    /* "B|C": any alternative. */
    const char *p = tok, *end = tok + len;
    while (p < end) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        size_t n = bar ? (size_t)(bar - p) : (size_t)(end - p);
        if (strlen(word) == n && strncmp(p, word, n) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

/* Whether want (comma-separated tokens) is a subsequence of seen[]. */
static bool subsequence(const char *want, const char *const *seen, size_t n)
{
    size_t k = 0;
    for (const char *p = want; *p;) {
        size_t len = strcspn(p, ",");
        while (k < n && !token_is(p, len, seen[k]))
            k++;
        if (k == n)
            return false;
        k++;
        p += len + (p[len] == ',');
    }
    return true;
}

static size_t states_of(const lc_run *r, char side, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev && n < max; i++) {
        const lc_event *e = &r->ev[i];
        if (e->side != side || e->call.state < 0)
            continue;
        const char *s = sk_tcp_state_name(e->call.state);
        if (n == 0 || strcmp(out[n - 1], s) != 0)
            out[n++] = s;
    }
    return n;
}

static void join(char *buf, size_t len, const char *const *v, size_t n)
{
    size_t w = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && w < len; i++)
        w += (size_t)snprintf(buf + w, len - w, "%s%s", i ? " " : "", v[i]);
}

static void check_states(const lc_run *r, char side, const char *want, const char *never, verdict *v)
{
    const char *seen[LC_EVENTS_MAX];
    char list[1024];
    size_t n = states_of(r, side, seen, LC_EVENTS_MAX);
    const char *who = side == 'c' ? "client" : "server";
    join(list, sizeof list, seen, n);
    if (want && !subsequence(want, seen, n)) {
        char what[300];
        snprintf(what, sizeof what, "%s states: wanted %s", who, want);
        failed(v, "%s; seen %s", what, list);
    }
    for (const char *p = never; p && *p;) {
        size_t len = strcspn(p, ",");
        for (size_t i = 0; i < n; i++) {
            if (token_is(p, len, seen[i])) {
                char what[300];
                snprintf(what, sizeof what, "%s was in %s", who, seen[i]);
                failed(v, "%s, which this scenario never passes through; seen %s", what, list);
                break;
            }
        }
        p += len + (p[len] == ',');
    }
}

/* Segment tokens: "c>SA" = from the client with flags SA. */
static size_t segments_of(const lc_run *r, char out[][8], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nev && n < max; i++) {
        if (r->ev[i].side != 'w')
            continue;
        char f[6];
        sk_segment_flags(r->ev[i].seg.flags, f, sizeof f);
        snprintf(out[n++], 8, "%c>%s", from_server(r, &r->ev[i].seg) ? 's' : 'c', f);
    }
    return n;
}

static void check_flags(const lc_run *r, verdict *v)
{
    static char segs[LC_EVENTS_MAX][8];
    const char *seen[LC_EVENTS_MAX], *bare[LC_EVENTS_MAX];
    char list[2048];
    size_t n = segments_of(r, segs, LC_EVENTS_MAX);
    for (size_t i = 0; i < n; i++) {
        seen[i] = segs[i];
        bare[i] = segs[i] + 2;
    }
    join(list, sizeof list, seen, n);
    if (r->sc->flags && !subsequence(r->sc->flags, seen, n))
        failed(v, "segments: wanted %s; seen %s", r->sc->flags, list);
    for (const char *p = r->sc->flags_never; p && *p;) {
        size_t len = strcspn(p, ",");
        bool dir = len > 2 && p[1] == '>';
        for (size_t i = 0; i < n; i++) {
            if (dir && seen[i][0] != p[0])
                continue;
            const char *want = dir ? p + 2 : p;
            size_t wl = dir ? len - 2 : len;
            bool all = true;
            for (size_t k = 0; k < wl; k++)
                all = all && strchr(bare[i], want[k]) != NULL;
            if (all) {
                char tok[16];
                snprintf(tok, sizeof tok, "%.*s", (int)len, p);
                failed(v, "segments: a %s, which this scenario never sends; seen %s", tok, list);
                break;
            }
        }
        p += len + (p[len] == ',');
    }
}

static void check_errors(const lc_run *r, verdict *v)
{
    const char *seen[LC_EVENTS_MAX];
    static char names[LC_EVENTS_MAX][40];
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const lc_event *e = &r->ev[i];
        if (e->side == 'w' || e->call.err == 0 || strcmp(e->call.call, "state") == 0)
            continue;
        const char *name = strerrorname_np(e->call.err);
        snprintf(names[n], sizeof names[n], "%c:%s", e->side, name ? name : "?");
        seen[n] = names[n];
        n++;
    }
    char list[2048], want[256] = "";
    join(list, sizeof list, seen, n);
    /* Against ADDR, only the client's errors are expected. */
    for (const char *p = r->sc->errors; p && *p;) {
        size_t len = strcspn(p, ",");
        if (!r->target || p[0] == 'c')
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%.*s", want[0] ? "," : "", (int)len, p);
        p += len + (p[len] == ',');
    }
    if (want[0] && !subsequence(want, seen, n))
        failed(v, "errors: wanted %s; seen %s", want, n ? list : "none");
}

/* The capture's filter is the server's port; another program's
 * connection may use the same number as its own port. Keep the segments
 * whose other end is one of the client's sockets. */
static void keep_ours(lc_run *r)
{
    int ports[64], np = 0;
    size_t w = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const lc_event *e = &r->ev[i];
        if (e->side == 'c' && e->call.local.len && np < 64)
            ports[np++] = sk_addr_port((const struct sockaddr *)&e->call.local.ss);
    }
    for (size_t i = 0; i < r->nev; i++) {
        const lc_event *e = &r->ev[i];
        bool keep = e->side != 'w' && e->call.from == 0;
        if (e->side != 'w' && !keep) {
            /* A tracepoint change: its client end must be one of ours
             * (or it is the listener, with no peer). */
            const sk_addr *other = e->side == 's' ? &e->call.peer : &e->call.local;
            int p = sk_addr_port((const struct sockaddr *)&other->ss);
            keep = e->side == 's' && p == 0;
            for (int k = 0; k < np && !keep; k++)
                keep = ports[k] == p;
        } else if (!keep) {
            const sk_addr *other = from_server(r, &e->seg) ? &e->seg.dst : &e->seg.src;
            int p = sk_addr_port((const struct sockaddr *)&other->ss);
            for (int k = 0; k < np && !keep; k++)
                keep = ports[k] == p;
        }
        if (keep)
            r->ev[w++] = *e;
    }
    r->nev = w;
}

/* One run of the scenario: both sides, the capture and the tracepoint's
 * reader; the events checked into v. */
static int run_once(lc_run *r, verdict *v, uint64_t *overflows)
{
    capture cap = {.r = r, .fd = -1};
    tpreader tpr = {.r = r};
    bool tp_running = false;
    side c = {.r = r, .fn = r->sc->client}, s = {.r = r, .fn = r->target ? watch_server : r->sc->server};

    r->nev = 0;
    r->step = 0;
    r->barrier = 0;
    r->cli_known = 0;
    r->watch_ready = 0;
    r->server_seen = false;
    r->t0 = sk_now_us();
    r->client =
        (sk_tracer){.fn = on_call, .userdata = r, .side = "client", .t0_us = r->t0, .kernel_states = r->tp != NULL};
    r->server =
        (sk_tracer){.fn = on_call, .userdata = r, .side = "server", .t0_us = r->t0, .kernel_states = r->tp != NULL};
    r->overflows_before = listen_overflows();
    if (pthread_create(&s.tid, NULL, side_main, &s) != 0) {
        cli_error("lifecycle: cannot start the server thread");
        return EXIT_FAIL;
    }
    lc_wait(r, 1);
    if (r->tp) {
        sk_tcpstate_port(r->tp, (uint16_t)sk_addr_port((struct sockaddr *)&r->addr.ss));
        tp_running = pthread_create(&tpr.tid, NULL, tp_main, &tpr) == 0;
    }
    if (r->packets) {
        cap.fd = sk_capture_open((uint16_t)sk_addr_port((struct sockaddr *)&r->addr.ss));
        if (cap.fd < 0) {
            fprintf(stderr, "sockit: lifecycle --packets: a packet socket on lo: %s%s; going on without the wire\n",
                    sk_strerror(cap.fd),
                    cap.fd == -EPERM || cap.fd == -EACCES ? " (needs CAP_NET_RAW: run as root)" : "");
            r->packets = false;
        } else if (pthread_create(&cap.tid, NULL, capture_main, &cap) != 0) {
            close(cap.fd);
            cap.fd = -1;
            r->packets = false;
        }
    }
    lc_signal(r, 2);
    if (pthread_create(&c.tid, NULL, side_main, &c) != 0) {
        cli_error("lifecycle: cannot start the client thread");
        lc_signal(r, 3);
        pthread_join(s.tid, NULL);
        return EXIT_FAIL;
    }
    pthread_join(c.tid, NULL);
    lc_signal(r, 3);
    pthread_join(s.tid, NULL);
    if (cap.fd >= 0 || tp_running)
        usleep(50 * 1000); /* the last ACKs */
    if (cap.fd >= 0) {
        __atomic_store_n(&cap.stop, 1, __ATOMIC_RELEASE);
        pthread_join(cap.tid, NULL);
        close(cap.fd);
    }
    if (tp_running) {
        __atomic_store_n(&tpr.stop, 1, __ATOMIC_RELEASE);
        pthread_join(tpr.tid, NULL);
    }
    keep_ours(r);
    qsort(r->ev, r->nev, sizeof r->ev[0], by_time);

    const char *cs = r->tp && r->sc->client_states_tp ? r->sc->client_states_tp : r->sc->client_states;
    const char *ss = r->tp && r->sc->server_states_tp ? r->sc->server_states_tp : r->sc->server_states;
    check_states(r, 'c', cs, r->sc->client_never, v);
    /* Against ADDR only the client's side is ours to expect things of. */
    if (!r->target)
        check_states(r, 's', ss, r->sc->server_never, v);
    check_errors(r, v);
    if (r->packets)
        check_flags(r, v);
    *overflows = listen_overflows() - r->overflows_before;
    if (r->sc->check_overflow && *overflows == 0)
        failed(v, "%s%s", "ListenOverflows did not grow: no SYN was dropped at the full queue", "");
    return EXIT_OK;
}

int lc_run_scenario(lc_run *r)
{
    verdict v = {.n = 0};
    uint64_t overflows = 0;
    int attempts = r->sc->attempts > 0 ? r->sc->attempts : 1, attempt;
    int rc;

    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    /* The tracepoint before any thread: it may mount a private tracefs. */
    rc = sk_tcpstate_open(0, &r->tp);
    if (rc < 0) {
        r->tp = NULL;
        fprintf(stderr,
                "sockit: lifecycle: the sock:inet_sock_set_state tracepoint: %s; the states after close come "
                "from sock_diag (short ones may not show)\n",
                sk_tcpstate_why(rc));
    }
    for (attempt = 1; attempt <= attempts; attempt++) {
        v.n = 0;
        if ((rc = run_once(r, &v, &overflows)) != EXIT_OK)
            break;
        if (v.n == 0 || attempt == attempts)
            break;
        /* Another try: say what this one saw. */
        if (r->json) {
            char js[4096];
            cli_json_str(js, sizeof js, v.lines[0]);
            printf("{\"event\":\"attempt\",\"scenario\":\"%s\",\"attempt\":%d,\"ok\":false,\"failure\":%s}\n",
                   r->sc->name, attempt, js);
        } else {
            printf("attempt %d of %d: %s; again\n", attempt, attempts, v.lines[0]);
        }
    }
    if (attempt > attempts)
        attempt = attempts;
    sk_tcpstate_close(r->tp);
    r->tp = NULL;
    if (rc != EXIT_OK) {
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        return rc;
    }

    if (r->json) {
        print_json(r);
        printf("{\"event\":\"verdict\",\"scenario\":\"%s\",\"ok\":%s,\"listen_overflows\":%" PRIu64
               ",\"attempts\":%d,\"tracepoint\":%s,",
               r->sc->name, v.n ? "false" : "true", overflows, attempt, r->client.kernel_states ? "true" : "false");
        if (r->target) {
            char js[600];
            cli_json_str(js, sizeof js, r->target);
            printf("\"target\":%s,\"server_seen\":%s,", js, r->server_seen ? "true" : "false");
        }
        printf("\"failures\":[");
        for (int i = 0; i < v.n; i++) {
            char js[512];
            cli_json_str(js, sizeof js, v.lines[i]);
            printf("%s%s", i ? "," : "", js);
        }
        printf("]}\n");
    } else {
        print_text(r);
        if (r->sc->check_overflow)
            printf("ListenOverflows grew by %" PRIu64 "\n", overflows);
        if (attempts > 1)
            printf("attempts: %d of %d\n", attempt, attempts);
        if (r->target && !r->server_seen)
            printf("server: %s: its socket of this connection never showed in this host's table (another host's, "
                   "or its states too short to see)\n",
                   r->target);
        for (int i = 0; i < v.n; i++)
            printf("unexpected: %s\n", v.lines[i]);
        printf("%s\n", v.n ? "verdict: the kernel did something else" : "verdict: as expected");
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    return v.n ? EXIT_FAIL : EXIT_OK;
}
