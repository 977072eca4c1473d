/* Unicast DNS on an sk_loop through c-ares: c-ares says which sockets it
 * wants watched (the socket-state callback) and when its next retry is due
 * (ares_timeout); the loop watches them and runs one timer; readiness goes
 * back through ares_process_fd. Answers are parsed by codec/dns.c, which
 * gives every record type its TTL. */
#include <sockit/clock.h>
#include <sockit/error.h>
#include <sockit/resolve.h>

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct sk_resolver {
    sk_loop *loop;
    ares_channel ch;
    int64_t timer; /* the loop timer for c-ares' next timeout, 0: none */
    bool in_timer; /* inside that timer: it re-arms itself by returning */
    int cur_fd;    /* the socket being processed: the answering server's */
    int pending;
    bool closing;            /* inside sk_resolver_free: answers are cancellations */
    int peek_rcode;          /* rcode of the datagram about to be read, or -1 */
    struct lookup *deferred; /* address answers waiting for their loop turn */
};

typedef struct query {
    sk_resolver *r;
    sk_dns_fn fn;
    void *data;
    int type;
    bool submitting; /* still inside ares_query: an answer now is an error */
    int sync_status;
    int64_t start_us;
    char name[SK_DNS_NAME_MAX];
} query;

static int status_of(int ares)
{
    switch (ares) {
    case ARES_SUCCESS:
        return 0;
    case ARES_ENODATA:
        return SK_ENODATA;
    case ARES_ENOTFOUND:
        return SK_ENXDOMAIN;
    case ARES_ESERVFAIL:
        return SK_ESERVFAIL;
    case ARES_EREFUSED:
        return SK_EREFUSED;
    case ARES_ETIMEOUT:
        return SK_EDNSTIMEOUT;
    case ARES_EFORMERR:
    case ARES_EBADRESP:
        return SK_EDNSBAD;
    case ARES_ECONNREFUSED:
        return -ECONNREFUSED;
    case ARES_ENOMEM:
        return -ENOMEM;
    case ARES_EBADNAME:
    case ARES_EBADSTR:
        return -EINVAL;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
        return -ECANCELED;
    default:
        return SK_EDNS;
    }
}

static void rearm(sk_resolver *r);
static void cancel_deferred(sk_resolver *r);

static int64_t on_timer(sk_loop *l, void *data)
{
    sk_resolver *r = data;
    struct timeval tv;
    (void)l;
    r->in_timer = true;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    r->in_timer = false;
    if (ares_timeout(r->ch, NULL, &tv) == NULL) {
        r->timer = 0;
        return -1;
    }
    int64_t ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > 0 ? ms : 1;
}

/* After any c-ares call: one loop timer at c-ares' next deadline. */
static void rearm(sk_resolver *r)
{
    struct timeval tv;
    if (r->in_timer)
        return;
    if (r->timer > 0)
        sk_loop_timer_cancel(r->loop, r->timer);
    r->timer = 0;
    if (ares_timeout(r->ch, NULL, &tv) == NULL)
        return;
    int64_t ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    int64_t id = sk_loop_timer(r->loop, ms > 0 ? ms : 1, on_timer, r);
    r->timer = id > 0 ? id : 0;
}

/* c-ares 1.18 retries a server that says SERVFAIL or REFUSED (right for
 * several servers) but, once the tries are spent, reports the query as
 * ARES_ECONNREFUSED. The rcode of the datagram it is about to read tells
 * the two apart; c-ares ends the query while processing that datagram. */
static int peek_rcode(int fd)
{
    int type = 0;
    socklen_t tl = sizeof type;
    uint8_t hdr[4];
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM)
        return -1;
    if (recv(fd, hdr, sizeof hdr, MSG_PEEK | MSG_DONTWAIT) < (ssize_t)sizeof hdr || !(hdr[2] & 0x80))
        return -1;
    return hdr[3] & 0x0f;
}

static void on_io(sk_loop *l, int fd, void *data, int events)
{
    sk_resolver *r = data;
    /* Errors come as both events; give c-ares only what it asked for. */
    events &= sk_loop_watched(l, fd);
    r->peek_rcode = (events & SK_READ) ? peek_rcode(fd) : -1;
    r->cur_fd = fd;
    ares_process_fd(r->ch, (events & SK_READ) ? fd : ARES_SOCKET_BAD, (events & SK_WRITE) ? fd : ARES_SOCKET_BAD);
    r->cur_fd = -1;
    r->peek_rcode = -1;
    rearm(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    sk_resolver *r = data;
    /* A socket the loop cannot watch (past its size) leaves the query to
     * c-ares' own timeout, which still ends it. */
    (void)sk_loop_watch(r->loop, fd, (readable ? SK_READ : 0) | (writable ? SK_WRITE : 0), on_io, r);
}

static void format_node(const struct ares_addr_port_node *s, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    int port = s->udp_port ? s->udp_port : 53;
    memset(&ss, 0, sizeof ss);
    if (s->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr = s->addr.addr4;
        in->sin_port = htons((uint16_t)port);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, &s->addr.addr6, sizeof in6->sin6_addr);
        in6->sin6_port = htons((uint16_t)port);
    }
    sk_addr_format((struct sockaddr *)&ss, buf, len);
}

static void first_server(const sk_resolver *r, char *buf, size_t len)
{
    struct ares_addr_port_node *list = NULL;
    buf[0] = '\0';
    if (ares_get_servers_ports(r->ch, &list) == ARES_SUCCESS && list != NULL)
        format_node(list, buf, len);
    ares_free_data(list);
}

/* Who answered: c-ares connects its UDP and TCP sockets, so the peer of
 * the socket being read is the server. */
static void answering_server(const sk_resolver *r, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (r->cur_fd >= 0 && getpeername(r->cur_fd, (struct sockaddr *)&ss, &sl) == 0)
        sk_addr_format((struct sockaddr *)&ss, buf, len);
    else
        first_server(r, buf, len);
}

static void deliver(query *q, int status, const unsigned char *abuf, int alen)
{
    sk_resolver *r = q->r;
    sk_dns_result res = {.name = q->name, .type = q->type, .status = status_of(status)};
    sk_dns_rr *rrs = NULL;

    res.time_ms = (double)(sk_now_us() - q->start_us) / 1000.0;
    if (!r->closing)
        answering_server(r, res.server, sizeof res.server);
    if (status == ARES_SUCCESS && abuf != NULL) {
        int n = sk_dns_parse(abuf, (size_t)alen, NULL, NULL, 0);
        if (n > 0 && (rrs = calloc((size_t)n, sizeof *rrs)) == NULL)
            res.status = -ENOMEM;
        else if (n < 0 || (n > 0 && sk_dns_parse(abuf, (size_t)alen, NULL, rrs, (size_t)n) != n))
            res.status = SK_EDNSBAD;
        else
            res.n = (size_t)n;
        res.rrs = rrs;
        bool found = false;
        for (size_t i = 0; i < res.n; i++)
            found = found || rrs[i].type == q->type;
        if (res.status == 0 && !found)
            res.status = SK_ENODATA; /* only a CNAME, or records of other types */
    }
    r->pending--;
    q->fn(&res, q->data);
    free(rrs);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    query *q = arg;
    (void)timeouts;
    if (q->submitting) {
        q->sync_status = status_of(status);
        if (q->sync_status == 0)
            q->sync_status = SK_EDNS;
        return;
    }
    if (status == ARES_ECONNREFUSED && q->r->peek_rcode == SK_DNS_SERVFAIL)
        status = ARES_ESERVFAIL;
    else if (status == ARES_ECONNREFUSED && q->r->peek_rcode == SK_DNS_REFUSED)
        status = ARES_EREFUSED;
    deliver(q, status, abuf, alen);
    free(q);
}

/* c-ares 1.18 takes any number as a port and keeps its low 16 bits, and
 * more forms than sockit documents: check "ip[:port],..." first. */
static bool servers_ok(const char *csv)
{
    char item[SK_ADDRSTRLEN + 8];
    unsigned char a[16];

    while (*csv) {
        size_t n = strcspn(csv, ",");
        if (n == 0 || n >= sizeof item)
            return false;
        memcpy(item, csv, n);
        item[n] = '\0';
        csv += n + (csv[n] == ',');
        char *host = item, *port = NULL;
        if (item[0] == '[') {
            char *close = strchr(item, ']');
            if (close == NULL || (close[1] != '\0' && close[1] != ':'))
                return false;
            *close = '\0';
            host = item + 1;
            port = close[1] == ':' ? close + 2 : NULL;
            if (inet_pton(AF_INET6, host, a) != 1)
                return false;
        } else if (inet_pton(AF_INET6, item, a) != 1) {
            port = strchr(item, ':');
            if (port)
                *port++ = '\0';
            if (inet_pton(AF_INET, host, a) != 1)
                return false;
        }
        if (port) {
            char *end;
            long v = strtol(port, &end, 10);
            if (*port < '0' || *port > '9' || *end != '\0' || v < 1 || v > 65535)
                return false;
        }
    }
    return true;
}

sk_resolver *sk_resolver_new(sk_loop *l, const sk_resolver_opts *o, int *err)
{
    struct ares_options opts;
    int64_t timeout = o && o->timeout_ms > 0 ? o->timeout_ms : 5000;
    sk_resolver *r;
    int rc;

    if (l == NULL || (o && o->servers && (o->servers[0] == '\0' || !servers_ok(o->servers)))) {
        *err = -EINVAL;
        return NULL;
    }
    if ((r = calloc(1, sizeof *r)) == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    r->loop = l;
    r->cur_fd = -1;
    r->peek_rcode = -1;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        free(r);
        *err = SK_EDNS;
        return NULL;
    }
    memset(&opts, 0, sizeof opts);
    opts.sock_state_cb = on_sock_state;
    opts.sock_state_cb_data = r;
    /* Two tries, the second twice the first (c-ares doubles per round):
     * together the timeout. */
    opts.timeout = (int)(timeout / 3 > 0 ? timeout / 3 : 1);
    opts.tries = 2;
    rc = ares_init_options(&r->ch, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc == ARES_SUCCESS && o && o->servers)
        rc = ares_set_servers_ports_csv(r->ch, o->servers);
    if (rc != ARES_SUCCESS) {
        *err = rc == ARES_ENOMEM ? -ENOMEM : rc == ARES_EBADSTR || rc == ARES_ENODATA ? -EINVAL : SK_EDNS;
        if (r->ch)
            ares_destroy(r->ch);
        ares_library_cleanup();
        free(r);
        return NULL;
    }
    return r;
}

void sk_resolver_free(sk_resolver *r)
{
    if (r == NULL)
        return;
    /* Every pending query's callback runs now, with ARES_EDESTRUCTION. */
    r->closing = true;
    ares_destroy(r->ch);
    cancel_deferred(r);
    if (r->timer > 0)
        sk_loop_timer_cancel(r->loop, r->timer);
    ares_library_cleanup();
    free(r);
}

int sk_resolver_query(sk_resolver *r, const char *name, int type, sk_dns_fn fn, void *data)
{
    size_t len = name ? strlen(name) : 0;
    query *q;

    if (r == NULL || fn == NULL || len == 0 || len >= SK_DNS_NAME_MAX || type <= 0 || type > 65535)
        return -EINVAL;
    if ((q = calloc(1, sizeof *q)) == NULL)
        return -ENOMEM;
    q->r = r;
    q->fn = fn;
    q->data = data;
    q->type = type;
    memcpy(q->name, name, len + 1);
    q->start_us = sk_now_us();
    q->submitting = true;
    r->pending++;
    ares_query(r->ch, name, 1 /* C_IN */, type, on_answer, q);
    q->submitting = false;
    if (q->sync_status != 0) {
        r->pending--;
        int rc = q->sync_status;
        free(q);
        return rc;
    }
    rearm(r);
    return 0;
}

int sk_resolver_pending(const sk_resolver *r) { return r->pending; }

/* An address lookup. c-ares answers from the hosts file (and numeric
 * names) inside ares_getaddrinfo(); such an answer is kept here and given
 * to the caller from a loop timer, so fn never runs before the call that
 * asked returns. */
typedef struct lookup {
    sk_resolver *r;
    sk_addr_fn fn;
    void *data;
    int family;
    uint16_t port;
    bool submitting, answered;
    int status;
    sk_addr *addrs;
    size_t n;
    int64_t start_us, timer;
    struct lookup *next; /* in r->deferred */
    char name[SK_DNS_NAME_MAX];
} lookup;

static int addr_status_of(int ares)
{
    switch (ares) {
    case ARES_ENOTFOUND:
        return SK_ENONAME;
    case ARES_ENODATA:
        return SK_ENOADDR;
    default:
        return status_of(ares);
    }
}

static void lookup_deliver(lookup *q)
{
    sk_addr_result res = {.name = q->name,
                          .family = q->family,
                          .status = q->status,
                          .addrs = q->addrs,
                          .n = q->n,
                          .time_ms = (double)(sk_now_us() - q->start_us) / 1000.0};
    if (res.status == 0 && res.n == 0)
        res.status = SK_ENOADDR;
    q->r->pending--;
    q->fn(&res, q->data);
    free(q->addrs);
    free(q);
}

static void unlink_deferred(lookup *q)
{
    for (lookup **p = &q->r->deferred; *p; p = &(*p)->next) {
        if (*p == q) {
            *p = q->next;
            return;
        }
    }
}

static int64_t on_deferred(sk_loop *l, void *data)
{
    lookup *q = data;
    (void)l;
    unlink_deferred(q);
    lookup_deliver(q);
    return -1;
}

/* Answers that were waiting for the loop become cancellations. */
static void cancel_deferred(sk_resolver *r)
{
    while (r->deferred) {
        lookup *q = r->deferred;
        r->deferred = q->next;
        sk_loop_timer_cancel(r->loop, q->timer);
        free(q->addrs);
        q->addrs = NULL;
        q->status = -ECANCELED;
        q->n = 0;
        lookup_deliver(q);
    }
}

static void answered(lookup *q);

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    lookup *q = arg;
    size_t n = 0;
    (void)timeouts;
    q->status = addr_status_of(status);
    for (struct ares_addrinfo_node *p = ai ? ai->nodes : NULL; p; p = p->ai_next)
        n += p->ai_family == q->family;
    if (q->status == 0 && n > 0 && (q->addrs = calloc(n, sizeof *q->addrs)) == NULL)
        q->status = -ENOMEM;
    for (struct ares_addrinfo_node *p = ai ? ai->nodes : NULL; q->addrs && p; p = p->ai_next) {
        if (p->ai_family != q->family || (size_t)p->ai_addrlen > sizeof q->addrs[0].ss)
            continue;
        sk_addr *a = &q->addrs[q->n++];
        memcpy(&a->ss, p->ai_addr, (size_t)p->ai_addrlen);
        a->len = (socklen_t)p->ai_addrlen;
        sk_addr_set_port(a, q->port);
    }
    ares_freeaddrinfo(ai);
    answered(q);
}

/* The answer is in q: to the caller now, or from the loop when it came
 * inside the call that asked. */
static void answered(lookup *q)
{
    q->answered = true;
    if (!q->submitting || q->r->closing) {
        lookup_deliver(q);
        return;
    }
    q->timer = sk_loop_timer(q->r->loop, 0, on_deferred, q);
    if (q->timer > 0) {
        q->next = q->r->deferred;
        q->r->deferred = q;
    }
}

/* RFC 6761 section 6.3: "localhost" and names under it are the loopback
 * address, whatever any file or server says; they never leave the host.
 * (This also keeps them away from c-ares 1.18's hosts-file path, which
 * leaks a name when it falls back to that rule itself.) */
static bool is_localhost(const char *host)
{
    size_t len = strlen(host);
    if (len > 0 && host[len - 1] == '.')
        len--;
    return (len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (len > 10 && strncasecmp(host + len - 10, ".localhost", 10) == 0);
}

static void answer_localhost(lookup *q)
{
    q->status = 0;
    if ((q->addrs = calloc(1, sizeof *q->addrs)) == NULL) {
        q->status = -ENOMEM;
    } else if (q->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&q->addrs->ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(q->port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        q->addrs->len = sizeof *in;
        q->n = 1;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&q->addrs->ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(q->port);
        in6->sin6_addr = in6addr_loopback;
        q->addrs->len = sizeof *in6;
        q->n = 1;
    }
    answered(q);
}

int sk_resolver_addrinfo(sk_resolver *r, const char *host, int family, uint16_t port, sk_addr_fn fn, void *data)
{
    size_t len = host ? strlen(host) : 0;
    struct ares_addrinfo_hints hints = {.ai_family = family};
    lookup *q;

    if (r == NULL || fn == NULL || len == 0 || len >= SK_DNS_NAME_MAX || (family != AF_INET && family != AF_INET6))
        return -EINVAL;
    if ((q = calloc(1, sizeof *q)) == NULL)
        return -ENOMEM;
    q->r = r;
    q->fn = fn;
    q->data = data;
    q->family = family;
    q->port = port;
    q->start_us = sk_now_us();
    memcpy(q->name, host, len + 1);
    r->pending++;
    q->submitting = true;
    if (is_localhost(host))
        answer_localhost(q);
    else
        ares_getaddrinfo(r->ch, host, NULL, &hints, on_addrinfo, q);
    if (q->answered && q->timer <= 0) {
        /* Answered at once, and no timer to hand the answer over later. */
        r->pending--;
        free(q->addrs);
        free(q);
        return -ENOMEM;
    }
    q->submitting = false;
    rearm(r);
    return 0;
}

int sk_resolver_servers(const sk_resolver *r, char *buf, size_t len)
{
    struct ares_addr_port_node *list = NULL;
    size_t w = 0;
    if (ares_get_servers_ports(r->ch, &list) != ARES_SUCCESS)
        return SK_EDNS;
    if (len > 0)
        buf[0] = '\0';
    for (struct ares_addr_port_node *s = list; s; s = s->next) {
        char one[SK_ADDRSTRLEN];
        format_node(s, one, sizeof one);
        int k = snprintf(buf + (w < len ? w : len), w < len ? len - w : 0, "%s%s", w ? "," : "", one);
        w += (size_t)k;
    }
    ares_free_data(list);
    return (int)w;
}
