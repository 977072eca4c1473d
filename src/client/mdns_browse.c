/* The mDNS querier: browse one DNS-SD type (PTR questions for
 * _svc._proto.local, or _services._dns-sd._udp.local to enumerate types),
 * resolve each instance (SRV, TXT, then A/AAAA of its host) and keep the
 * records until their TTL runs out, with RFC 6762's continuous querying
 * (1 s, 2 s, 4 s ... up to an hour), known-answer suppression, refresh
 * queries at 80-95% of a TTL, cache-flush handling and goodbyes. One loop,
 * one thread: the caller's. */
#include "mdns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>
#include <sockit/loop.h>

#define MAX_INST 256
#define MAX_HOSTREC 256
#define MAX_TYPES 128
#define TICK_MS 50
/* sk_mdns_resolve of a named instance: once it has an address of one
 * family, how long to wait for the other's (A and AAAA often come in
 * separate answers); the caller then races both (RFC 8305's spirit). */
#define SETTLE_MS 250
#define QUERY_MAX_MS (3600 * 1000)
#define ENUM_NAME "_services._dns-sd._udp.local"

/* A cached record's life: when it expires, its TTL, and how many of the
 * refresh queries (at 80, 85, 90, 95% of the TTL) went out. */
typedef struct life {
    int64_t expire, ttl_ms, got;
    int refresh;
} life;

typedef struct entry {
    sk_mdns_instance in;
    life ptr, srv, txt;
    bool has_srv, has_txt, reported, used;
    int64_t next_resolve;
    int tries;
    uint64_t sig; /* what was last reported */
} entry;

typedef struct hostrec {
    char name[SK_DNS_NAME_MAX];
    sk_mdns_addr a;
    life l;
    bool used;
} hostrec;

typedef struct typerec {
    char type[SK_DNS_NAME_MAX];
    life l;
    bool used;
} typerec;

struct sk_mdns_browser {
    sk_mdns_browse_opts o;
    char browse[SK_DNS_NAME_MAX]; /* the PTR name asked: "_echo._tcp.local" */
    bool enumerate;
    sk__mdns_net net;
    sk_loop *loop;
    int efd;
    int64_t next_query, interval, deadline, tick;
    bool asked; /* the first browse query went out (it asked for unicast) */
    entry *inst;
    hostrec *hosts;
    typerec *types;
    size_t ninst;
    sk_mdns_instance *listed;
    uint64_t packets, bad;
    sk__mdns_pkt pkt;
    sk_dns_rr *rrs;
    bool stop_on_first; /* sk_mdns_resolve: */
    char want[SK_DNS_NAME_MAX];
    int64_t first_resolved, last_browse;
    int64_t settle_since; /* the wanted instance has one family only */
    bool settle_asked;
};

#define RR_MAX 64

static void emit(sk_mdns_browser *b, sk_mdns_event_kind k, const sk_mdns_instance *in, const char *type)
{
    sk_mdns_event ev = {.kind = k, .in = in, .type = type};
    if (b->o.on_event)
        b->o.on_event(b->o.userdata, &ev);
}

static void life_set(life *l, uint32_t ttl, int64_t now)
{
    /* A goodbye leaves the record one more second (RFC 6762 10.1). */
    l->ttl_ms = ttl ? (int64_t)ttl * 1000 : 1000;
    l->expire = now + l->ttl_ms;
    l->got = now;
    l->refresh = ttl ? 0 : 4;
}

/* Whether a refresh query for this record is due now (and count it). */
static bool refresh_due(life *l, int64_t now)
{
    if (l->refresh >= 4 || l->ttl_ms <= 0)
        return false;
    int64_t at = l->got + l->ttl_ms * (80 + 5 * l->refresh) / 100 + sk__mdns_random(0, l->ttl_ms / 50);
    if (now < at)
        return false;
    l->refresh++;
    return true;
}

/* The text form of an instance's first label, its type after it. */
static void split_instance(sk_mdns_instance *in)
{
    const char *rest = "";
    if (sk_dns_label_first(in->name, in->instance, sizeof in->instance, &rest) < 0)
        in->instance[0] = '\0';
    snprintf(in->type, sizeof in->type, "%s", rest);
    size_t l = strlen(in->type);
    if (l > 6 && strcasecmp(in->type + l - 6, ".local") == 0)
        in->type[l - 6] = '\0';
}

static entry *inst_find(sk_mdns_browser *b, const char *name)
{
    for (size_t i = 0; i < b->ninst; i++)
        if (b->inst[i].used && sk_dns_name_equal(b->inst[i].in.name, name))
            return &b->inst[i];
    return NULL;
}

static entry *inst_add(sk_mdns_browser *b, const char *name, int64_t now)
{
    entry *e = NULL;
    for (size_t i = 0; i < b->ninst && !e; i++)
        if (!b->inst[i].used)
            e = &b->inst[i];
    if (e == NULL && b->ninst < MAX_INST)
        e = &b->inst[b->ninst++];
    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof *e);
    e->used = true;
    snprintf(e->in.name, sizeof e->in.name, "%s", name);
    split_instance(&e->in);
    e->next_resolve = now + sk__mdns_random(20, 120);
    return e;
}

static void set_ifname(unsigned idx, char *out)
{
    char n[IF_NAMESIZE];
    snprintf(out, SK_MDNS_IFNAME, "%s", if_indextoname(idx, n) ? n : "?");
}

/* The instance's addresses from the host records, and a signature of what
 * a user sees, so a change is reported once. */
static uint64_t gather(sk_mdns_browser *b, entry *e)
{
    sk_mdns_instance *in = &e->in;
    in->naddrs = 0;
    /* IPv4 first, then global IPv6, then link-local (which needs its
     * interface to mean anything): clients try them in this order. */
    for (int pass = 0; pass < 3 && e->has_srv; pass++) {
        for (size_t k = 0; k < MAX_HOSTREC && in->naddrs < SK_MDNS_ADDRS; k++) {
            const sk_mdns_addr *a = &b->hosts[k].a;
            bool ll = a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
            int rank = a->family == AF_INET ? 0 : ll ? 2 : 1;
            if (b->hosts[k].used && rank == pass && sk_dns_name_equal(b->hosts[k].name, in->host))
                in->addrs[in->naddrs++] = *a;
        }
    }
    in->resolved = e->has_srv && in->naddrs > 0;
    uint64_t h = 1469598103934665603ull;
#define MIX(p, n)                                                                                                      \
    for (size_t z = 0; z < (n); z++)                                                                                   \
    h = (h ^ ((const uint8_t *)(p))[z]) * 1099511628211ull
    MIX(in->host, strlen(in->host));
    MIX(&in->port, sizeof in->port);
    MIX(in->txt, in->txt_len);
    for (size_t k = 0; k < in->naddrs; k++)
        MIX(in->addrs[k].addr, 16);
#undef MIX
    return h;
}

/* The family an instance has no address of (AF_INET or AF_INET6), or 0
 * when it has both. */
static int missing_family(const sk_mdns_instance *in)
{
    bool v4 = false, v6 = false;
    for (size_t k = 0; k < in->naddrs; k++) {
        v4 |= in->addrs[k].family == AF_INET;
        v6 |= in->addrs[k].family == AF_INET6;
    }
    return !v4 ? AF_INET : !v6 ? AF_INET6 : 0;
}

static void report(sk_mdns_browser *b, int64_t now)
{
    for (size_t i = 0; i < b->ninst; i++) {
        entry *e = &b->inst[i];
        if (!e->used)
            continue;
        uint64_t sig = gather(b, e);
        if (!e->in.resolved)
            continue;
        if (!e->reported) {
            e->reported = true;
            e->sig = sig;
            if (b->first_resolved == 0)
                b->first_resolved = now;
            emit(b, SK_MDNS_ADD, &e->in, NULL);
        } else if (sig != e->sig) {
            e->sig = sig;
            emit(b, SK_MDNS_UPDATE, &e->in, NULL);
        }
        if (b->stop_on_first && b->want[0] && sk_dns_name_equal(e->in.name, b->want)) {
            if (b->o.family || missing_family(&e->in) == 0)
                sk_loop_stop(b->loop);
            else if (b->settle_since == 0)
                b->settle_since = now;
        }
    }
}

static void inst_remove(sk_mdns_browser *b, entry *e)
{
    if (e->reported)
        emit(b, SK_MDNS_REMOVE, &e->in, NULL);
    e->used = false;
}

/* Reading answers ----------------------------------------------------------- */

static void on_ptr(sk_mdns_browser *b, const sk_dns_rr *rr, const sk__mdns_pkt *p, int64_t now)
{
    if (b->enumerate) {
        char t[SK_DNS_NAME_MAX];
        if (sk__mdns_type_norm(rr->target, t, sizeof t) < 0)
            return;
        typerec *free_slot = NULL;
        for (size_t k = 0; k < MAX_TYPES; k++) {
            if (b->types[k].used && strcasecmp(b->types[k].type, t) == 0) {
                life_set(&b->types[k].l, rr->ttl, now);
                return;
            }
            if (!b->types[k].used && !free_slot)
                free_slot = &b->types[k];
        }
        if (free_slot && rr->ttl) {
            free_slot->used = true;
            snprintf(free_slot->type, sizeof free_slot->type, "%s", t);
            life_set(&free_slot->l, rr->ttl, now);
            emit(b, SK_MDNS_TYPE, NULL, t);
        }
        return;
    }
    entry *e = inst_find(b, rr->target);
    if (e == NULL) {
        if (rr->ttl == 0 || (e = inst_add(b, rr->target, now)) == NULL)
            return;
        e->in.ifindex = p->ifindex;
        set_ifname(p->ifindex, e->in.ifname);
        snprintf(e->in.from, sizeof e->in.from, "%s", p->from_text);
    }
    e->in.ttl = rr->ttl;
    life_set(&e->ptr, rr->ttl, now);
}

static void on_srv_txt(sk_mdns_browser *b, const sk_dns_rr *rr, int64_t now)
{
    entry *e = inst_find(b, rr->name);
    if (e == NULL)
        return;
    if (rr->type == SK_DNS_SRV) {
        snprintf(e->in.host, sizeof e->in.host, "%s", rr->target);
        e->in.port = rr->port;
        e->in.priority = rr->priority;
        e->in.weight = rr->weight;
        e->has_srv = true;
        life_set(&e->srv, rr->ttl, now);
    } else {
        size_t n = rr->rdlen < SK_MDNS_TXT_MAX ? rr->rdlen : 0;
        memcpy(e->in.txt, rr->rdata, n);
        e->in.txt_len = n;
        e->has_txt = true;
        life_set(&e->txt, rr->ttl, now);
    }
}

static bool host_wanted(const sk_mdns_browser *b, const char *name)
{
    for (size_t i = 0; i < b->ninst; i++)
        if (b->inst[i].used && b->inst[i].has_srv && sk_dns_name_equal(b->inst[i].in.host, name))
            return true;
    return false;
}

static void on_addr(sk_mdns_browser *b, const sk_dns_rr *rr, const sk__mdns_pkt *p, int64_t now)
{
    if (!host_wanted(b, rr->name))
        return;
    int fam = rr->type == SK_DNS_A ? AF_INET : AF_INET6;
    size_t alen = fam == AF_INET ? 4 : 16;
    hostrec *slot = NULL, *oldest = NULL;
    for (size_t k = 0; k < MAX_HOSTREC; k++) {
        hostrec *h = &b->hosts[k];
        if (!h->used) {
            if (!slot)
                slot = h;
            continue;
        }
        if (!sk_dns_name_equal(h->name, rr->name) || h->a.family != fam)
            continue;
        if (memcmp(h->a.addr, rr->addr, alen) == 0 && h->a.ifindex == p->ifindex) {
            life_set(&h->l, rr->ttl, now);
            return;
        }
        /* Cache-flush: the sender owns the whole set; what we had from
         * more than a second ago goes in a second (RFC 6762 10.2). */
        if (rr->cache_flush && now - h->l.got > 1000 && h->l.expire > now + 1000)
            h->l.expire = now + 1000;
        if (!oldest || h->l.got < oldest->l.got)
            oldest = h;
    }
    if (rr->ttl == 0)
        return;
    if (!slot)
        slot = oldest;
    if (!slot)
        return;
    memset(slot, 0, sizeof *slot);
    slot->used = true;
    snprintf(slot->name, sizeof slot->name, "%s", rr->name);
    slot->a.family = fam;
    memcpy(slot->a.addr, rr->addr, alen);
    slot->a.ifindex = p->ifindex;
    set_ifname(p->ifindex, slot->a.ifname);
    life_set(&slot->l, rr->ttl, now);
}

static void on_packet(sk_mdns_browser *b, int64_t now)
{
    sk_dns_header h;
    sk__mdns_pkt *p = &b->pkt;
    int n = sk_dns_read(p->buf, p->len, &h, NULL, 0, b->rrs, RR_MAX);
    b->packets++;
    if (n < 0) {
        b->bad++;
        sk_mdns_event ev = {.kind = SK_MDNS_BAD, .from = p->from_text, .err = n};
        if (b->o.on_event)
            b->o.on_event(b->o.userdata, &ev);
        return;
    }
    /* Queries, and responses with another opcode or an rcode, are not
     * answers (RFC 6762 18.3, 18.11). */
    if (!h.response || h.opcode != 0 || h.rcode != 0)
        return;
    if (n > RR_MAX)
        n = RR_MAX;
    /* PTRs first, then what they name, then the hosts those name. */
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < n; i++) {
            const sk_dns_rr *rr = &b->rrs[i];
            if (rr->rclass != SK_DNS_CLASS_IN)
                continue;
            if (pass == 0 && rr->type == SK_DNS_PTR && sk_dns_name_equal(rr->name, b->browse))
                on_ptr(b, rr, p, now);
            else if (pass == 1 && (rr->type == SK_DNS_SRV || rr->type == SK_DNS_TXT))
                on_srv_txt(b, rr, now);
            else if (pass == 2 && (rr->type == SK_DNS_A || rr->type == SK_DNS_AAAA))
                on_addr(b, rr, p, now);
        }
    }
    report(b, now);
}

static void on_readable(sk_loop *l, int fd, void *data, int events)
{
    sk_mdns_browser *b = data;
    (void)events;
    for (int k = 0; k < 64; k++) {
        int rc = sk__mdns_recv(&b->net, fd, &b->pkt);
        if (rc == -EAGAIN)
            break;
        if (rc < 0)
            continue;
        if (sk__mdns_own(&b->net, &b->pkt, sk_loop_now(l)))
            continue;
        on_packet(b, sk_loop_now(l));
    }
}

/* Asking --------------------------------------------------------------------- */

typedef struct query {
    uint8_t buf[1472];
    sk_dns_writer w;
    int nq;
    /* Known answers go after every question, so they wait here. */
    const entry *known[MAX_INST];
    const typerec *known_types[MAX_TYPES];
    size_t nknown, nknown_types;
    bool browse;
} query;

static void q_init(query *q)
{
    memset(q, 0, sizeof *q);
    sk_dns_writer_init(&q->w, q->buf, sizeof q->buf, 0, 0);
}

static void q_ask_qu(query *q, const char *name, int type, bool qu)
{
    if (sk_dns_write_question(&q->w, name, type, qu) == 0)
        q->nq++;
}

static void q_ask(query *q, const char *name, int type) { q_ask_qu(q, name, type, false); }

static void q_send(sk_mdns_browser *b, query *q, int64_t now)
{
    if (q->nq == 0)
        return;
    /* Known answers (RFC 6762 7.1): the PTRs we hold with more than half
     * their TTL left, so responders that see theirs stay quiet. */
    if (q->browse) {
        for (size_t i = 0; i < b->ninst; i++) {
            const entry *e = &b->inst[i];
            if (!e->used || e->ptr.expire - now <= e->ptr.ttl_ms / 2)
                continue;
            sk_dns_rr rr = {0};
            snprintf(rr.name, sizeof rr.name, "%s", b->browse);
            rr.type = SK_DNS_PTR;
            rr.ttl = (uint32_t)((e->ptr.expire - now) / 1000);
            snprintf(rr.target, sizeof rr.target, "%s", e->in.name);
            if (sk_dns_write_rr(&q->w, SK_DNS_ANSWER, &rr) < 0)
                break; /* the rest would need TC and a second packet */
        }
        for (size_t k = 0; b->enumerate && k < MAX_TYPES; k++) {
            const typerec *t = &b->types[k];
            if (!t->used || t->l.expire - now <= t->l.ttl_ms / 2)
                continue;
            sk_dns_rr rr = {0};
            snprintf(rr.name, sizeof rr.name, "%s", ENUM_NAME);
            rr.type = SK_DNS_PTR;
            rr.ttl = (uint32_t)((t->l.expire - now) / 1000);
            if (snprintf(rr.target, sizeof rr.target, "%s.local", t->type) >= (int)sizeof rr.target)
                continue;
            if (sk_dns_write_rr(&q->w, SK_DNS_ANSWER, &rr) < 0)
                break;
        }
    }
    sk__mdns_send_all(&b->net, q->buf, q->w.len);
}

static void expire(sk_mdns_browser *b, int64_t now)
{
    for (size_t i = 0; i < b->ninst; i++) {
        entry *e = &b->inst[i];
        if (e->used && (e->ptr.expire <= now || (e->has_srv && e->srv.expire <= now)))
            inst_remove(b, e);
        if (e->used && e->has_txt && e->txt.expire <= now) {
            e->has_txt = false;
            e->in.txt_len = 0;
        }
    }
    for (size_t k = 0; k < MAX_HOSTREC; k++)
        if (b->hosts[k].used && b->hosts[k].l.expire <= now)
            b->hosts[k].used = false;
    for (size_t k = 0; b->enumerate && k < MAX_TYPES; k++)
        if (b->types[k].used && b->types[k].l.expire <= now) {
            b->types[k].used = false;
            emit(b, SK_MDNS_TYPE_GONE, NULL, b->types[k].type);
        }
    report(b, now);
}

/* Resolving a whole type: done a second after the first instance resolved,
 * once the answers to the browse query sent since (shared records come 20-120
 * ms late, RFC 6762 6) have had time to arrive and every instance seen by PTR
 * has resolved; at the latest three seconds after the first. */
static bool type_settled(const sk_mdns_browser *b, int64_t now)
{
    if (b->first_resolved == 0 || now - b->first_resolved < 1000)
        return false;
    if (now - b->first_resolved >= 3000)
        return true;
    if (now - b->last_browse < SETTLE_MS)
        return false;
    for (size_t i = 0; i < b->ninst; i++)
        if (b->inst[i].used && !b->inst[i].in.resolved)
            return false;
    return true;
}

static int64_t on_tick(sk_loop *l, void *data)
{
    sk_mdns_browser *b = data;
    int64_t now = sk_loop_now(l);
    query q;

    if (b->deadline && now >= b->deadline) {
        sk_loop_stop(l);
        return -1;
    }
    if (b->stop_on_first && !b->want[0] && type_settled(b, now)) {
        sk_loop_stop(l);
        return -1;
    }
    if (b->settle_since && now - b->settle_since >= SETTLE_MS) {
        sk_loop_stop(l);
        return -1;
    }
    expire(b, now);
    q_init(&q);
    bool refresh = false;
    if (b->o.continuous) {
        for (size_t i = 0; i < b->ninst; i++)
            if (b->inst[i].used && refresh_due(&b->inst[i].ptr, now))
                refresh = true;
        for (size_t k = 0; b->enumerate && k < MAX_TYPES; k++)
            if (b->types[k].used && refresh_due(&b->types[k].l, now))
                refresh = true;
    }
    if (now >= b->next_query || refresh) {
        /* The first query asks for unicast answers (RFC 6762 5.4): a
         * responder that multicast its records within the last second (to
         * another querier, before this one listened) does not multicast
         * them again (6), but it does answer a QU question by unicast. */
        q_ask_qu(&q, b->browse, SK_DNS_PTR, !b->asked);
        b->asked = true;
        b->last_browse = now;
        q.browse = true;
        if (now >= b->next_query) {
            b->next_query = now + b->interval;
            b->interval = b->interval * 2 < QUERY_MAX_MS ? b->interval * 2 : QUERY_MAX_MS;
            if (!b->o.continuous && b->interval > 4000)
                b->interval = 4000;
        }
    }
    /* The wanted instance with one family only: ask for the other, once. */
    if (b->settle_since && !b->settle_asked) {
        b->settle_asked = true;
        entry *w = inst_find(b, b->want);
        int miss = w ? missing_family(&w->in) : 0;
        if (miss)
            q_ask(&q, w->in.host, miss == AF_INET ? SK_DNS_A : SK_DNS_AAAA);
    }
    /* Resolving: what an instance still lacks, asked with a back-off. */
    for (size_t i = 0; i < b->ninst; i++) {
        entry *e = &b->inst[i];
        if (!e->used)
            continue;
        bool due = now >= e->next_resolve && !e->in.resolved;
        bool srv_refresh = b->o.continuous && e->has_srv && refresh_due(&e->srv, now);
        if (!due && !srv_refresh)
            continue;
        if (!e->has_srv || srv_refresh)
            q_ask(&q, e->in.name, SK_DNS_SRV);
        if (!e->has_txt)
            q_ask(&q, e->in.name, SK_DNS_TXT);
        if (e->has_srv && e->in.naddrs == 0) {
            if (b->o.family != AF_INET6)
                q_ask(&q, e->in.host, SK_DNS_A);
            if (b->o.family != AF_INET)
                q_ask(&q, e->in.host, SK_DNS_AAAA);
        }
        if (due) {
            e->tries++;
            e->next_resolve = now + (e->tries < 5 ? 200LL << e->tries : 5000);
        }
    }
    for (size_t k = 0; b->o.continuous && k < MAX_HOSTREC; k++) {
        hostrec *h = &b->hosts[k];
        if (h->used && refresh_due(&h->l, now))
            q_ask(&q, h->name, h->a.family == AF_INET ? SK_DNS_A : SK_DNS_AAAA);
    }
    q_send(b, &q, now);
    return TICK_MS;
}

static void on_stop(sk_loop *l, int fd, void *data, int events)
{
    uint64_t v;
    (void)data, (void)events;
    if (read(fd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    sk_loop_stop(l);
}

/* Life cycle ------------------------------------------------------------------- */

int sk_mdns_browser_new(const sk_mdns_browse_opts *o, sk_mdns_browser **out)
{
    *out = NULL;
    if (o == NULL)
        return -EINVAL;
    sk_mdns_browser *b = calloc(1, sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    b->o = *o;
    b->efd = -1;
    b->net.fd4 = b->net.fd6 = -1;
    int rc = 0;
    if (o->type == NULL) {
        b->enumerate = true;
        snprintf(b->browse, sizeof b->browse, "%s", ENUM_NAME);
    } else {
        char t[SK_DNS_NAME_MAX];
        rc = sk__mdns_type_norm(o->type, t, sizeof t);
        if (rc == 0 && snprintf(b->browse, sizeof b->browse, "%s.local", t) >= (int)sizeof b->browse)
            rc = -EINVAL;
    }
    b->inst = calloc(MAX_INST, sizeof *b->inst);
    b->hosts = calloc(MAX_HOSTREC, sizeof *b->hosts);
    b->types = calloc(MAX_TYPES, sizeof *b->types);
    b->listed = calloc(MAX_INST, sizeof *b->listed);
    b->rrs = calloc(RR_MAX, sizeof *b->rrs);
    if (rc == 0 && (!b->inst || !b->hosts || !b->types || !b->listed || !b->rrs))
        rc = -ENOMEM;
    if (rc == 0)
        rc = sk__mdns_open(&b->net, o->ifname, o->family);
    if (rc == 0 && (b->loop = sk_loop_new(NULL, 0, &rc)) == NULL && rc == 0)
        rc = -ENOMEM;
    if (rc == 0 && (b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        rc = -errno;
    if (rc == 0 && b->net.fd4 >= 0)
        rc = sk_loop_watch(b->loop, b->net.fd4, SK_READ, on_readable, b);
    if (rc == 0 && b->net.fd6 >= 0)
        rc = sk_loop_watch(b->loop, b->net.fd6, SK_READ, on_readable, b);
    if (rc == 0)
        rc = sk_loop_watch(b->loop, b->efd, SK_READ, on_stop, b);
    if (rc < 0) {
        sk_mdns_browser_free(b);
        return rc;
    }
    /* The first query after a short random wait (RFC 6762 5.2: 20-120 ms),
     * then one second, doubling. */
    b->next_query = sk_loop_now(b->loop) + sk__mdns_random(20, 120);
    b->interval = 1000;
    *out = b;
    return 0;
}

int sk_mdns_browser_run(sk_mdns_browser *b, int64_t timeout_ms)
{
    b->deadline = timeout_ms >= 0 ? sk_now_ms() + timeout_ms : 0;
    int64_t t = sk_loop_timer(b->loop, 0, on_tick, b);
    if (t < 0)
        return (int)t;
    int rc = sk_loop_run(b->loop);
    sk_loop_timer_cancel(b->loop, t);
    return rc;
}

void sk_mdns_browser_stop(sk_mdns_browser *b)
{
    uint64_t one = 1;
    if (b && b->efd >= 0) {
        ssize_t n = write(b->efd, &one, sizeof one);
        (void)n;
    }
}

size_t sk_mdns_browser_list(const sk_mdns_browser *b, const sk_mdns_instance **list)
{
    size_t n = 0;
    for (size_t i = 0; i < b->ninst; i++)
        if (b->inst[i].used)
            b->listed[n++] = b->inst[i].in;
    *list = b->listed;
    return n;
}

void sk_mdns_browser_counts(const sk_mdns_browser *b, uint64_t *packets, uint64_t *bad)
{
    if (packets)
        *packets = b->packets;
    if (bad)
        *bad = b->bad;
}

void sk_mdns_browser_free(sk_mdns_browser *b)
{
    if (b == NULL)
        return;
    if (b->loop)
        sk_loop_free(b->loop);
    sk__mdns_close(&b->net);
    if (b->efd >= 0)
        close(b->efd);
    free(b->inst);
    free(b->hosts);
    free(b->types);
    free(b->listed);
    free(b->rrs);
    free(b);
}

int sk_mdns_name_split(const char *name, char *instance, size_t icap, char *type, size_t tcap)
{
    char first[SK_DNS_LABEL_MAX + 1];
    const char *rest;
    if (name == NULL || icap == 0)
        return -EINVAL;
    if (sk__mdns_type_norm(name, type, tcap) == 0) {
        instance[0] = '\0';
        return 0;
    }
    int n = sk_dns_label_first(name, first, sizeof first, &rest);
    if (n <= 0 || sk__mdns_type_norm(rest, type, tcap) < 0 || (size_t)n >= icap)
        return -EINVAL;
    memcpy(instance, first, (size_t)n + 1);
    return 0;
}

int sk_mdns_resolve(const char *name, const char *ifname, int64_t timeout_ms, sk_mdns_instance *out, size_t max)
{
    char inst[SK_DNS_LABEL_MAX + 1], type[SK_DNS_NAME_MAX];
    int rc = sk_mdns_name_split(name, inst, sizeof inst, type, sizeof type);
    if (rc < 0)
        return rc;
    sk_mdns_browse_opts o = {.type = type, .ifname = ifname};
    sk_mdns_browser *b;
    if ((rc = sk_mdns_browser_new(&o, &b)) < 0)
        return rc;
    b->stop_on_first = true;
    if (inst[0]) {
        char e[SK_DNS_NAME_MAX];
        sk_dns_label_escape(inst, strlen(inst), e, sizeof e);
        if (snprintf(b->want, sizeof b->want, "%s.%s", e, b->browse) >= (int)sizeof b->want) {
            sk_mdns_browser_free(b);
            return -EINVAL;
        }
    }
    rc = sk_mdns_browser_run(b, timeout_ms > 0 ? timeout_ms : 3000);
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < b->ninst && n < max; i++) {
        const entry *e = &b->inst[i];
        if (e->used && e->in.resolved && (!b->want[0] || sk_dns_name_equal(e->in.name, b->want)))
            out[n++] = e->in;
    }
    sk_mdns_browser_free(b);
    return rc < 0 ? rc : (int)n;
}
