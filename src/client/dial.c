/* Happy Eyeballs v2 (RFC 8305) on an sk_loop of its own: the AAAA and A
 * lookups (sk_resolver_addrinfo) and the connection attempts are all
 * watched by one loop, so an attempt to the first address can start while
 * the other family's answer is still on its way, and that answer joins the
 * race when it comes. */
#include <sockit/clock.h>
#include <sockit/dial.h>
#include <sockit/error.h>
#include <sockit/loop.h>
#include <sockit/sock.h>
#include <sockit/trace.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DIAL_MAX 64
#define DEFAULT_ATTEMPT_MS 250
#define DEFAULT_RESOLUTION_MS 50

typedef struct attempt {
    int fd; /* -1 once it ended */
    sk_addr addr;
    int64_t timer; /* its timeout, 0: none */
    struct dial *d;
} attempt;

/* One family's addresses, in the resolver's order, and how far the race
 * has used them. */
typedef struct family_queue {
    sk_addr a[DIAL_MAX];
    size_t n, next;
    bool asked, done;
    int err;
} family_queue;

typedef struct dial {
    sk_loop *loop;
    sk_resolver *res;
    const sk_dial_opts *o;
    const char *host;
    uint16_t port;
    bool connect; /* false: sk_lookup, only the addresses */
    int64_t t0, attempt_us, resolution_us, timeout_us;
    family_queue v6, v4;
    bool delay_over; /* the resolution delay passed (or was not needed) */
    int64_t wait_timer, start_timer;
    int last_family; /* of the attempt started last, 0 before the first */
    int prefer;      /* the family to start with: AF_INET6 unless the caller's list says otherwise */
    int64_t last_start;
    attempt at[2 * DIAL_MAX];
    size_t nat;
    int live;
    bool over;
    int fd; /* the winner */
    int err;
    sk_addr last;       /* the winner, or the last address that failed */
    sk_addr literal[2]; /* a numeric host's address (two for "": loopback) */
} dial;

static void report(dial *d, sk_dial_kind kind, int family, size_t n, int err, const sk_addr *a, double ms)
{
    if (d->o->on_event == NULL)
        return;
    sk_dial_event ev = {
        .at_us = sk_now_us() - d->t0, .kind = kind, .family = family, .n = n, .err = err, .addr = a, .lookup_ms = ms};
    d->o->on_event(d->o->userdata, &ev);
}

static void finish(dial *d, int fd, int err)
{
    d->over = true;
    d->fd = fd;
    d->err = err;
    sk_loop_stop(d->loop);
}

static bool lookups_done(const dial *d) { return (!d->v6.asked || d->v6.done) && (!d->v4.asked || d->v4.done); }

static bool queued(const dial *d) { return d->v6.next < d->v6.n || d->v4.next < d->v4.n; }

/* Why nothing connected: an attempt's error when there was one, otherwise
 * what the lookups said (A's, unless it only says "no A record"). */
static int failure(const dial *d)
{
    if (d->nat > 0)
        return d->err;
    if (d->v4.asked && d->v4.err != 0 && (d->v4.err != SK_ENOADDR || !d->v6.asked || d->v6.err == 0))
        return d->v4.err;
    return d->v6.asked && d->v6.err ? d->v6.err : SK_ENOADDR;
}

static void pump(dial *d);

static void attempt_end(attempt *a)
{
    if (a->timer > 0)
        sk_loop_timer_cancel(a->d->loop, a->timer);
    a->timer = 0;
    if (a->fd >= 0) {
        sk_loop_watch(a->d->loop, a->fd, 0, NULL, NULL);
        sk_tr_close(a->d->o->tracer, a->fd);
    }
    a->fd = -1;
}

static void attempt_failed(attempt *a, int err)
{
    dial *d = a->d;
    attempt_end(a);
    d->live--;
    d->err = err;
    d->last = a->addr;
    report(d, SK_DIAL_FAIL, 0, 0, err, &a->addr, 0);
    pump(d);
}

static void won(attempt *a)
{
    dial *d = a->d;
    int fd = a->fd;
    sk_loop_watch(d->loop, fd, 0, NULL, NULL);
    a->fd = -1;
    d->last = a->addr;
    report(d, SK_DIAL_WON, 0, 0, 0, &a->addr, 0);
    finish(d, fd, 0);
}

static void on_writable(sk_loop *l, int fd, void *data, int events)
{
    attempt *a = data;
    int err = 0;
    (void)l;
    (void)events;
    if (a->d->over)
        return;
    if (sk_tr_so_error(a->d->o->tracer, fd, &err) < 0)
        err = errno;
    if (err == 0)
        won(a);
    else
        attempt_failed(a, -err);
}

static int64_t on_attempt_timeout(sk_loop *l, void *data)
{
    attempt *a = data;
    (void)l;
    a->timer = 0;
    if (!a->d->over)
        attempt_failed(a, -ETIMEDOUT);
    return -1;
}

/* RFC 8305 section 4: the family other than the last attempt's when it has
 * an address left, else the same one; AAAA first. */
static sk_addr *next_address(dial *d)
{
    family_queue *first = &d->v6, *second = &d->v4;
    if (d->last_family == AF_INET6 || (d->last_family == 0 && d->prefer == AF_INET)) {
        first = &d->v4;
        second = &d->v6;
    }
    family_queue *q = first->next < first->n ? first : second->next < second->n ? second : NULL;
    return q ? &q->a[q->next++] : NULL;
}

static void start_one(dial *d, const sk_addr *addr)
{
    attempt *a = &d->at[d->nat++];
    *a = (attempt){.fd = -1, .addr = *addr, .d = d};
    d->last_family = addr->ss.ss_family;
    d->last_start = sk_now_us();
    report(d, SK_DIAL_START, 0, 0, 0, &a->addr, 0);
    int fd = sk_tr_socket(d->o->tracer, addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        d->live++;
        attempt_failed(a, -errno);
        return;
    }
    a->fd = fd;
    d->live++;
    if (sk_tr_connect(d->o->tracer, fd, addr) == 0) {
        won(a);
        return;
    }
    int err = errno;
    if (err != EINPROGRESS) {
        attempt_failed(a, -err);
        return;
    }
    int rc = sk_loop_watch(d->loop, fd, SK_WRITE, on_writable, a);
    if (rc < 0) {
        attempt_failed(a, rc);
        return;
    }
    if (d->timeout_us > 0) {
        int64_t id = sk_loop_timer_us(d->loop, d->timeout_us, on_attempt_timeout, a);
        a->timer = id > 0 ? id : 0;
    }
}

static int64_t on_start_timer(sk_loop *l, void *data)
{
    dial *d = data;
    (void)l;
    d->start_timer = 0;
    pump(d);
    return -1;
}

/* Start what may start now, arm the timer for the next start, or end the
 * dial when nothing is left to try. */
static void pump(dial *d)
{
    while (!d->over) {
        bool ready = d->delay_over || d->v6.done || !d->v6.asked;
        if (!d->connect) {
            if (lookups_done(d))
                finish(d, 0, 0);
            return;
        }
        if (ready && queued(d)) {
            int64_t due = d->last_family ? d->last_start + d->attempt_us : 0;
            if (d->live == 0 || sk_now_us() >= due) {
                if (d->start_timer > 0)
                    sk_loop_timer_cancel(d->loop, d->start_timer);
                d->start_timer = 0;
                start_one(d, next_address(d));
                continue;
            }
            if (d->start_timer == 0) {
                int64_t id = sk_loop_timer_us(d->loop, due - sk_now_us(), on_start_timer, d);
                d->start_timer = id > 0 ? id : 0;
            }
            return;
        }
        if (d->live == 0 && !queued(d) && lookups_done(d))
            finish(d, -1, failure(d));
        return;
    }
}

static int64_t on_resolution_delay(sk_loop *l, void *data)
{
    dial *d = data;
    (void)l;
    d->wait_timer = 0;
    d->delay_over = true;
    pump(d);
    return -1;
}

static void add_addrs(family_queue *q, const sk_addr *a, size_t n)
{
    for (size_t i = 0; i < n && q->n < DIAL_MAX; i++)
        q->a[q->n++] = a[i];
}

/* Names the hosts file and DNS do not know may still be known to the
 * system's other sources (nsswitch.conf: myhostname, mdns, ...). Only when
 * the caller did not name DNS servers: then DNS's word is final. */
static void ask_system(dial *d)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    hints.ai_family = d->v6.asked && d->v4.asked ? AF_UNSPEC : d->v6.asked ? AF_INET6 : AF_INET;
    int64_t t = sk_now_us();
    if (getaddrinfo(d->host, NULL, &hints, &res) != 0)
        return;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        family_queue *q = p->ai_family == AF_INET6 ? &d->v6 : p->ai_family == AF_INET ? &d->v4 : NULL;
        if (q == NULL || p->ai_addrlen > sizeof q->a[0].ss || q->n >= DIAL_MAX)
            continue;
        sk_addr *a = &q->a[q->n++];
        memcpy(&a->ss, p->ai_addr, p->ai_addrlen);
        a->len = p->ai_addrlen;
        sk_addr_set_port(a, d->port);
        q->err = 0;
    }
    freeaddrinfo(res);
    report(d, SK_DIAL_ANSWER, AF_UNSPEC, d->v6.n + d->v4.n, 0, NULL, (double)(sk_now_us() - t) / 1000.0);
}

static void on_lookup(const sk_addr_result *res, void *data)
{
    dial *d = data;
    family_queue *q = res->family == AF_INET6 ? &d->v6 : &d->v4;
    if (d->over || res->status == -ECANCELED)
        return;
    q->done = true;
    q->err = res->status;
    add_addrs(q, res->addrs, res->n);
    report(d, SK_DIAL_ANSWER, res->family, res->n, res->status, NULL, res->time_ms);
    if (res->family == AF_INET6) {
        d->delay_over = true;
        if (d->wait_timer > 0)
            sk_loop_timer_cancel(d->loop, d->wait_timer);
        d->wait_timer = 0;
    } else if (d->v6.asked && !d->v6.done && res->n > 0 && d->connect && !d->delay_over) {
        report(d, SK_DIAL_WAIT, AF_INET6, 0, 0, NULL, 0);
        int64_t id = sk_loop_timer_us(d->loop, d->resolution_us, on_resolution_delay, d);
        d->wait_timer = id > 0 ? id : 0;
        d->delay_over = id <= 0;
    }
    if (lookups_done(d) && d->v6.n + d->v4.n == 0 && d->o->dns_servers == NULL &&
        (!d->v4.asked || d->v4.err == SK_ENONAME) && (!d->v6.asked || d->v6.err == SK_ENONAME))
        ask_system(d);
    pump(d);
}

/* A numeric host ("127.0.0.1", "::1", "fe80::1%eth0") needs no lookup. */
static size_t numeric(const char *host, uint16_t port, sk_addr *out)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res;
    size_t n = 0;
    if (host[0] == '\0') {
        /* No host: loopback, ::1 first, as for every sockit client. */
        struct sockaddr_in6 v6 = {
            .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(port)};
        v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        memcpy(&out[0].ss, &v6, sizeof v6);
        out[0].len = sizeof v6;
        memcpy(&out[1].ss, &v4, sizeof v4);
        out[1].len = sizeof v4;
        return 2;
    }
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return 0;
    if (res->ai_addrlen <= sizeof out->ss) {
        memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
        out->len = res->ai_addrlen;
        sk_addr_set_port(out, port);
        n = 1;
    }
    freeaddrinfo(res);
    return n;
}

static int run(dial *d, const char *host, const sk_addr *given, size_t ngiven)
{
    static const sk_dial_opts defaults;
    const sk_dial_opts *o = d->o ? d->o : &defaults;
    int err = 0;

    d->o = o;
    d->fd = -1;
    d->t0 = sk_now_us();
    d->attempt_us = (o->attempt_delay_ms > 0 ? o->attempt_delay_ms : DEFAULT_ATTEMPT_MS) * 1000LL;
    d->resolution_us = (o->resolution_delay_ms > 0 ? o->resolution_delay_ms : DEFAULT_RESOLUTION_MS) * 1000LL;
    d->timeout_us = o->timeout_ms > 0 ? o->timeout_ms * 1000LL : 0;
    if ((d->loop = sk_loop_new(NULL, 0, &err)) == NULL)
        return err;
    if (given == NULL) {
        size_t nlit = numeric(host, d->port, d->literal);
        if (nlit > 0) {
            given = d->literal;
            ngiven = nlit;
        }
    }
    if (given != NULL) {
        for (size_t i = 0; i < ngiven; i++) {
            int f = given[i].ss.ss_family;
            if (o->family == 0 || o->family == f)
                add_addrs(f == AF_INET6 ? &d->v6 : &d->v4, &given[i], 1);
        }
        /* The caller's order decides which family goes first. */
        if (ngiven > 0 && given[0].ss.ss_family == AF_INET)
            d->prefer = AF_INET;
        d->delay_over = true;
        d->v4.done = d->v6.done = true;
        if (d->v6.n + d->v4.n == 0)
            d->v4.asked = true, d->v4.err = SK_ENOADDR;
        pump(d);
    } else {
        sk_resolver_opts ro = {.servers = o->dns_servers, .timeout_ms = o->timeout_ms};
        if ((d->res = sk_resolver_new(d->loop, &ro, &err)) == NULL) {
            sk_loop_free(d->loop);
            return err;
        }
        d->v6.asked = o->family != AF_INET;
        d->v4.asked = o->family != AF_INET6;
        if (d->v6.asked && (err = sk_resolver_addrinfo(d->res, host, AF_INET6, d->port, on_lookup, d)) < 0)
            d->v6.done = true, d->v6.err = err;
        if (d->v4.asked && (err = sk_resolver_addrinfo(d->res, host, AF_INET, d->port, on_lookup, d)) < 0)
            d->v4.done = true, d->v4.err = err;
        pump(d);
    }
    while (!d->over) {
        int rc = sk_loop_run(d->loop);
        if (rc < 0 && !d->over)
            finish(d, -1, rc);
    }
    for (size_t i = 0; i < d->nat; i++)
        attempt_end(&d->at[i]);
    if (d->wait_timer > 0)
        sk_loop_timer_cancel(d->loop, d->wait_timer);
    if (d->start_timer > 0)
        sk_loop_timer_cancel(d->loop, d->start_timer);
    sk_resolver_free(d->res);
    sk_loop_free(d->loop);
    if (d->fd >= 0 && sk_set_nonblock(d->fd, false) < 0) {
        err = -errno;
        close(d->fd);
        return err;
    }
    return d->connect ? (d->fd >= 0 ? d->fd : d->err) : 0;
}

int sk_dial(const char *host, uint16_t port, const sk_dial_opts *opts, sk_addr *peer)
{
    dial *d;
    int rc;

    if (host == NULL || strlen(host) >= SK_HOST_MAX)
        return -EINVAL;
    if ((d = calloc(1, sizeof *d)) == NULL)
        return -ENOMEM;
    d->o = opts;
    d->host = host;
    d->port = port;
    d->connect = true;
    rc = run(d, host, NULL, 0);
    if (peer && (rc >= 0 || d->nat > 0))
        *peer = d->last;
    free(d);
    return rc;
}

int sk_dial_addrs(const sk_addr *addrs, size_t n, const sk_dial_opts *opts, sk_addr *peer)
{
    dial *d;
    int rc;

    if (addrs == NULL || n == 0)
        return -EINVAL;
    if ((d = calloc(1, sizeof *d)) == NULL)
        return -ENOMEM;
    d->o = opts;
    d->host = "";
    d->connect = true;
    rc = run(d, NULL, addrs, n < DIAL_MAX ? n : DIAL_MAX);
    if (peer && (rc >= 0 || d->nat > 0))
        *peer = d->last;
    free(d);
    return rc;
}

int sk_lookup(const char *host, uint16_t port, const sk_dial_opts *opts, sk_addr *out, size_t max)
{
    dial *d;
    int rc;

    if (host == NULL || strlen(host) >= SK_HOST_MAX || out == NULL || max == 0)
        return -EINVAL;
    if ((d = calloc(1, sizeof *d)) == NULL)
        return -ENOMEM;
    d->o = opts;
    d->host = host;
    d->port = port;
    rc = run(d, host, NULL, 0);
    if (rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < d->v6.n && k < max; i++)
            out[k++] = d->v6.a[i];
        for (size_t i = 0; i < d->v4.n && k < max; i++)
            out[k++] = d->v4.a[i];
        rc = k > 0 ? (int)k : failure(d);
    }
    free(d);
    return rc;
}
