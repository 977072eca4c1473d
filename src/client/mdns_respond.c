/* The mDNS responder for one DNS-SD instance (RFC 6762, 6763), on a thread
 * with its own loop: probe three times 250 ms apart after 0-250 ms (8.1),
 * rename on a conflict ("echo (2)", host "h-2") and probe again, lose a
 * simultaneous probe's tie-break by waiting a second (8.2), announce twice
 * a second apart (8.3), answer queries (6: shared records after 20-120 ms,
 * unique ones at once, QU by unicast, legacy unicast with the ID and TTLs
 * of at most 10 s, known answers suppressed, addresses of the interface the
 * query came in on only), defend the names, and say goodbye (TTL 0, 10.1)
 * when withdrawn. */
#include "mdns_int.h"

#include "base/thread.h"
#include "codec/dns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>
#include <sockit/loop.h>

#define ENUM_NAME "_services._dns-sd._udp.local"
#define RR_MAX 64
#define Q_MAX 32
#define PENDING 8
#define LEGACY_TTL 10

enum { ST_WAIT, ST_PROBE, ST_ANNOUNCE, ST_RUN, ST_DONE };
/* The records, as bits. */
enum { R_PTR = 1, R_ENUM = 2, R_SRV = 4, R_TXT = 8, R_A = 16, R_AAAA = 32 };
#define R_UNIQUE (R_SRV | R_TXT | R_A | R_AAAA)
#define R_ALL (R_PTR | R_ENUM | R_UNIQUE)

typedef struct pending {
    bool used;
    int family;
    unsigned ifindex;
    int64_t at;
    size_t len;
    uint8_t buf[SK__MDNS_PKT];
} pending;

struct sk_mdns_responder {
    char instance[SK_DNS_LABEL_MAX + 1], base[SK_DNS_LABEL_MAX + 1];
    char host[SK_DNS_LABEL_MAX + 1], host_base[SK_DNS_LABEL_MAX + 1];
    char type[SK_DNS_NAME_MAX];
    char inst_name[SK_DNS_NAME_MAX], type_name[SK_DNS_NAME_MAX], host_name[SK_DNS_NAME_MAX];
    uint16_t port;
    uint8_t txt[SK_MDNS_TXT_MAX];
    size_t txt_len;
    uint32_t host_ttl, ttl;
    void (*on_event)(void *userdata, const sk_mdns_resp_event *ev);
    void *userdata;

    sk__mdns_net net;
    sk_loop *loop;
    int efd, nlfd;
    pid_t owner;
    pthread_t thread;
    bool started;
    int withdraw_asked;
    void (*done)(void);

    int state, n;
    int renames, host_renames;
    int64_t timer, last_multicast;
    /* When each record (bit index) was last multicast on each interface and
     * family: RFC 6762 6 allows once a second. */
    int64_t mc_at[SK__MDNS_IFS][2][6];
    pending pend[PENDING];
    int64_t pend_timer;
    sk__mdns_pkt pkt;
    sk_dns_rr *rrs;
    sk_dns_question *qs;
};

static void emit(sk_mdns_responder *r, sk_mdns_resp_event ev)
{
    ev.name = r->instance;
    ev.host = r->host_name;
    if (r->on_event)
        r->on_event(r->userdata, &ev);
}

static int make_names(sk_mdns_responder *r)
{
    char ei[SK_DNS_NAME_MAX], eh[SK_DNS_NAME_MAX];
    if (sk_dns_label_escape(r->instance, strlen(r->instance), ei, sizeof ei) < 0 ||
        sk_dns_label_escape(r->host, strlen(r->host), eh, sizeof eh) < 0)
        return -EINVAL;
    if (snprintf(r->inst_name, sizeof r->inst_name, "%s.%s.local", ei, r->type) >= (int)sizeof r->inst_name ||
        snprintf(r->type_name, sizeof r->type_name, "%s.local", r->type) >= (int)sizeof r->type_name ||
        snprintf(r->host_name, sizeof r->host_name, "%s.local", eh) >= (int)sizeof r->host_name)
        return -EINVAL;
    uint8_t w[255];
    if (sk__dns_name_wire(r->inst_name, w) < 0 || sk__dns_name_wire(r->host_name, w) < 0)
        return -EINVAL;
    return 0;
}

/* Records ------------------------------------------------------------------ */

/* Write the records in the set "which" for interface f into section, with
 * ttl_mode 0: normal, 1: goodbye (TTL 0), 2: legacy unicast (at most 10 s,
 * no cache-flush bit), 3: a probe's authority section (no cache-flush). */
static void put_records(sk_mdns_responder *r, sk_dns_writer *w, int section, int which, const sk__mdns_if *f,
                        int ttl_mode)
{
    sk_dns_rr rr;
    for (int bit = R_PTR; bit <= R_AAAA; bit <<= 1) {
        if (!(which & bit))
            continue;
        size_t count = bit == R_A ? f->n4 : bit == R_AAAA ? f->n6 : 1;
        for (size_t k = 0; k < count; k++) {
            memset(&rr, 0, sizeof rr);
            uint32_t ttl = (bit & (R_SRV | R_A | R_AAAA)) ? r->host_ttl : r->ttl;
            rr.cache_flush = (bit & R_UNIQUE) != 0;
            switch (bit) {
            case R_PTR:
                strcpy(rr.name, r->type_name);
                strcpy(rr.target, r->inst_name);
                rr.type = SK_DNS_PTR;
                break;
            case R_ENUM:
                strcpy(rr.name, ENUM_NAME);
                strcpy(rr.target, r->type_name);
                rr.type = SK_DNS_PTR;
                break;
            case R_SRV:
                strcpy(rr.name, r->inst_name);
                strcpy(rr.target, r->host_name);
                rr.type = SK_DNS_SRV;
                rr.port = r->port;
                break;
            case R_TXT:
                strcpy(rr.name, r->inst_name);
                rr.type = SK_DNS_TXT;
                rr.rdata = r->txt;
                rr.rdlen = (uint16_t)r->txt_len;
                break;
            case R_A:
                strcpy(rr.name, r->host_name);
                rr.type = SK_DNS_A;
                memcpy(rr.addr, f->v4[k], 4);
                break;
            default:
                strcpy(rr.name, r->host_name);
                rr.type = SK_DNS_AAAA;
                memcpy(rr.addr, f->v6[k], 16);
                break;
            }
            if (ttl_mode == 1)
                ttl = 0;
            if (ttl_mode == 2 && ttl > LEGACY_TTL)
                ttl = LEGACY_TTL;
            if (ttl_mode >= 2)
                rr.cache_flush = false;
            rr.ttl = ttl;
            if (sk_dns_write_rr(w, section, &rr) < 0)
                return; /* full: the rest is left out */
        }
    }
}

static int family_index(int family) { return family == AF_INET6; }

/* The records multicast on f (family) within the last second. */
static int recent(const sk_mdns_responder *r, const sk__mdns_if *f, int family, int64_t now)
{
    int bits = 0;
    const int64_t *at = r->mc_at[f - r->net.ifs][family_index(family)];
    for (int i = 0; i < 6; i++)
        if (at[i] && now - at[i] < 1000)
            bits |= 1 << i;
    return bits;
}

static void mark(sk_mdns_responder *r, const sk__mdns_if *f, int family, int bits, int64_t now)
{
    int64_t *at = r->mc_at[f - r->net.ifs][family_index(family)];
    for (int i = 0; i < 6; i++)
        if (bits & (1 << i))
            at[i] = now;
}

/* Send one message per interface and family, built by fn. */
static void each_if(sk_mdns_responder *r, void (*fn)(sk_mdns_responder *, sk_dns_writer *, const sk__mdns_if *))
{
    static __thread uint8_t buf[SK__MDNS_PKT];
    for (size_t k = 0; k < r->net.nifs; k++) {
        for (int fam = 0; fam < 2; fam++) {
            int family = fam ? AF_INET6 : AF_INET;
            if ((family == AF_INET ? r->net.fd4 : r->net.fd6) < 0)
                continue;
            sk_dns_writer w;
            sk_dns_writer_init(&w, buf, 1472, 0, 0);
            fn(r, &w, &r->net.ifs[k]);
            sk__mdns_send(&r->net, family, r->net.ifs[k].index, buf, w.len, NULL, 0);
        }
    }
}

static void build_probe(sk_mdns_responder *r, sk_dns_writer *w, const sk__mdns_if *f)
{
    bool qu = r->n == 1; /* RFC 6762 8.1: the first probe asks for unicast answers */
    sk_dns_write_question(w, r->inst_name, SK_DNS_ANY, qu);
    sk_dns_write_question(w, r->host_name, SK_DNS_ANY, qu);
    put_records(r, w, SK_DNS_AUTHORITY, R_UNIQUE, f, 3);
}

static void build_announce(sk_mdns_responder *r, sk_dns_writer *w, const sk__mdns_if *f)
{
    w->buf[2] = (SK_DNS_F_QR | SK_DNS_F_AA) >> 8;
    put_records(r, w, SK_DNS_ANSWER, R_ALL, f, 0);
}

static void build_goodbye(sk_mdns_responder *r, sk_dns_writer *w, const sk__mdns_if *f)
{
    w->buf[2] = (SK_DNS_F_QR | SK_DNS_F_AA) >> 8;
    put_records(r, w, SK_DNS_ANSWER, R_ALL, f, 1);
}

/* The state machine ---------------------------------------------------------- */

static int64_t on_step(sk_loop *l, void *data);

static void arm(sk_mdns_responder *r, int64_t ms)
{
    if (r->timer > 0)
        sk_loop_timer_cancel(r->loop, r->timer);
    r->timer = sk_loop_timer(r->loop, ms, on_step, r);
    if (r->timer < 0)
        r->timer = 0;
}

static void probe_again(sk_mdns_responder *r, int64_t delay_ms)
{
    r->state = ST_WAIT;
    r->n = 0;
    arm(r, delay_ms);
}

static int64_t on_step(sk_loop *l, void *data)
{
    sk_mdns_responder *r = data;
    (void)l;
    r->timer = 0;
    switch (r->state) {
    case ST_WAIT:
        r->state = ST_PROBE;
        /* fall through */
    case ST_PROBE:
        if (r->n == 3) {
            r->state = ST_ANNOUNCE;
            r->n = 0;
            return on_step(l, r) < 0 ? -1 : -1;
        }
        r->n++;
        each_if(r, build_probe);
        emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_PROBE, .n = r->n, .of = 3});
        arm(r, 250);
        break;
    case ST_ANNOUNCE:
        r->n++;
        each_if(r, build_announce);
        r->last_multicast = sk_now_ms();
        for (size_t k = 0; k < r->net.nifs; k++) {
            mark(r, &r->net.ifs[k], AF_INET, R_ALL, r->last_multicast);
            mark(r, &r->net.ifs[k], AF_INET6, R_ALL, r->last_multicast);
        }
        emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_ANNOUNCE, .n = r->n, .of = 2});
        if (r->n < 2)
            arm(r, 1000);
        else
            r->state = ST_RUN;
        break;
    default:
        break;
    }
    return -1;
}

/* "echo" -> "echo (2)" -> "echo (3)"; "h" -> "h-2" -> "h-3" (RFC 6762 9). */
static void rename_instance(sk_mdns_responder *r)
{
    char suffix[16];
    r->renames++;
    int len = snprintf(suffix, sizeof suffix, " (%d)", r->renames + 1);
    size_t keep = strlen(r->base);
    if (keep + (size_t)len > SK_DNS_LABEL_MAX)
        keep = SK_DNS_LABEL_MAX - (size_t)len;
    snprintf(r->instance, sizeof r->instance, "%.*s%s", (int)keep, r->base, suffix);
}

static void rename_host(sk_mdns_responder *r)
{
    char suffix[16];
    r->host_renames++;
    int len = snprintf(suffix, sizeof suffix, "-%d", r->host_renames + 1);
    size_t keep = strlen(r->host_base);
    if (keep + (size_t)len > SK_DNS_LABEL_MAX)
        keep = SK_DNS_LABEL_MAX - (size_t)len;
    snprintf(r->host, sizeof r->host, "%.*s%s", (int)keep, r->host_base, suffix);
}

static void conflict(sk_mdns_responder *r, bool host, const char *from)
{
    char old[SK_DNS_LABEL_MAX + 1];
    snprintf(old, sizeof old, "%s", host ? r->host : r->instance);
    if (host)
        rename_host(r);
    else
        rename_instance(r);
    if (make_names(r) < 0) {
        /* A name that no longer fits: give up the suffix. */
        host ? rename_host(r) : rename_instance(r);
        make_names(r);
    }
    emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_CONFLICT, .old_name = old, .from = from, .host_renamed = host});
    /* RFC 6762 8.1: many conflicts in a row, wait before probing again. */
    probe_again(r, r->renames + r->host_renames > 15 ? 5000 : 0);
}

/* Reading ---------------------------------------------------------------- */

static bool addr_ours(const sk_mdns_responder *r, int type, const uint8_t *a)
{
    for (size_t k = 0; k < r->net.nifs; k++) {
        const sk__mdns_if *f = &r->net.ifs[k];
        for (size_t i = 0; type == SK_DNS_A && i < f->n4; i++)
            if (memcmp(f->v4[i], a, 4) == 0)
                return true;
        for (size_t i = 0; type == SK_DNS_AAAA && i < f->n6; i++)
            if (memcmp(f->v6[i], a, 16) == 0)
                return true;
    }
    return false;
}

/* Which of our records rr is (R_*), 0 if none of our names, -1 when it
 * names one of our unique records with other data: a conflict. */
static int which_record(const sk_mdns_responder *r, const sk_dns_rr *rr)
{
    if (rr->rclass != SK_DNS_CLASS_IN)
        return 0;
    if (rr->type == SK_DNS_PTR && sk_dns_name_equal(rr->name, r->type_name))
        return sk_dns_name_equal(rr->target, r->inst_name) ? R_PTR : 0;
    if (rr->type == SK_DNS_PTR && sk_dns_name_equal(rr->name, ENUM_NAME))
        return sk_dns_name_equal(rr->target, r->type_name) ? R_ENUM : 0;
    if (sk_dns_name_equal(rr->name, r->inst_name)) {
        if (rr->type == SK_DNS_SRV)
            return rr->port == r->port && rr->priority == 0 && rr->weight == 0 &&
                           sk_dns_name_equal(rr->target, r->host_name)
                       ? R_SRV
                       : -1;
        if (rr->type == SK_DNS_TXT)
            return rr->rdlen == r->txt_len && memcmp(rr->rdata, r->txt, r->txt_len) == 0 ? R_TXT : -1;
        return 0;
    }
    if (sk_dns_name_equal(rr->name, r->host_name) && (rr->type == SK_DNS_A || rr->type == SK_DNS_AAAA))
        return addr_ours(r, rr->type, rr->addr) ? (rr->type == SK_DNS_A ? R_A : R_AAAA) : -1;
    return 0;
}

/* RFC 6762 8.2: the records each side proposes for one name, sorted (type,
 * then rdata bytes, names uncompressed), compared in turn: the side whose
 * data is lexicographically later wins; equal sets are no conflict. */
typedef struct canon {
    uint16_t type;
    uint8_t data[300];
    size_t len;
} canon;

static size_t canon_of(const sk_dns_rr *rr, canon *c)
{
    c->type = rr->type;
    c->len = 0;
    switch (rr->type) {
    case SK_DNS_A:
        memcpy(c->data, rr->addr, 4);
        return c->len = 4;
    case SK_DNS_AAAA:
        memcpy(c->data, rr->addr, 16);
        return c->len = 16;
    case SK_DNS_SRV: {
        uint8_t w[255];
        int n = sk__dns_name_wire(rr->target, w);
        c->data[0] = (uint8_t)(rr->priority >> 8), c->data[1] = (uint8_t)rr->priority;
        c->data[2] = (uint8_t)(rr->weight >> 8), c->data[3] = (uint8_t)rr->weight;
        c->data[4] = (uint8_t)(rr->port >> 8), c->data[5] = (uint8_t)rr->port;
        for (int i = 0; i < n; i++)
            c->data[6 + i] = (uint8_t)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
        return c->len = 6 + (size_t)(n > 0 ? n : 0);
    }
    default:
        c->len = rr->rdlen < sizeof c->data ? rr->rdlen : sizeof c->data;
        memcpy(c->data, rr->rdata, c->len);
        return c->len;
    }
}

static int canon_cmp(const void *a, const void *b)
{
    const canon *x = a, *y = b;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Our proposed records for name (the instance's or the host's) on f. */
static size_t our_canon(sk_mdns_responder *r, bool host, const sk__mdns_if *f, canon *out, size_t max)
{
    static __thread uint8_t buf[SK__MDNS_PKT];
    static __thread sk_dns_rr rrs[RR_MAX];
    sk_dns_writer w;
    sk_dns_writer_init(&w, buf, sizeof buf, 0, SK_DNS_F_QR);
    put_records(r, &w, SK_DNS_ANSWER, host ? (R_A | R_AAAA) : (R_SRV | R_TXT), f, 3);
    int n = sk_dns_read(buf, w.len, NULL, NULL, 0, rrs, RR_MAX);
    size_t k = 0;
    for (int i = 0; i < n && i < RR_MAX && k < max; i++)
        canon_of(&rrs[i], &out[k++]);
    return k;
}

/* > 0: we win, < 0: we lose, 0: the same records. */
static int tie_break(sk_mdns_responder *r, bool host, const sk__mdns_if *f, int nrr)
{
    static __thread canon ours[RR_MAX], theirs[RR_MAX];
    size_t no = our_canon(r, host, f, ours, RR_MAX), nt = 0;
    const char *name = host ? r->host_name : r->inst_name;
    for (int i = 0; i < nrr; i++) {
        const sk_dns_rr *rr = &r->rrs[i];
        if (rr->section == SK_DNS_AUTHORITY && sk_dns_name_equal(rr->name, name) && nt < RR_MAX)
            canon_of(rr, &theirs[nt++]);
    }
    if (nt == 0)
        return 1;
    qsort(ours, no, sizeof *ours, canon_cmp);
    qsort(theirs, nt, sizeof *theirs, canon_cmp);
    for (size_t i = 0; i < no && i < nt; i++) {
        int c = canon_cmp(&ours[i], &theirs[i]);
        if (c)
            return c;
    }
    return no == nt ? 0 : no > nt ? 1 : -1;
}

static void check_response(sk_mdns_responder *r, int nrr)
{
    for (int i = 0; i < nrr; i++) {
        const sk_dns_rr *rr = &r->rrs[i];
        if (rr->ttl == 0 || which_record(r, rr) >= 0)
            continue;
        bool host = sk_dns_name_equal(rr->name, r->host_name);
        if (r->state == ST_WAIT || r->state == ST_PROBE) {
            conflict(r, host, r->pkt.from_text);
        } else {
            /* Announced already: defend once by announcing again; a
             * holder that stays gets probed out (RFC 6762 9). */
            emit(r, (sk_mdns_resp_event){
                        .kind = SK_MDNS_CONFLICT, .old_name = r->instance, .from = r->pkt.from_text, .err = -EEXIST});
            probe_again(r, 0);
        }
        return;
    }
}

/* Answering ------------------------------------------------------------- */

static int wanted(const sk_mdns_responder *r, const sk_dns_question *q, int *additional)
{
    int ans = 0, add = 0, t = q->type;
    bool any = t == SK_DNS_ANY;
    if (q->qclass != SK_DNS_CLASS_IN && q->qclass != 255)
        return 0;
    if (sk_dns_name_equal(q->name, r->type_name) && (any || t == SK_DNS_PTR)) {
        ans |= R_PTR;
        add |= R_SRV | R_TXT | R_A | R_AAAA;
    } else if (sk_dns_name_equal(q->name, ENUM_NAME) && (any || t == SK_DNS_PTR)) {
        ans |= R_ENUM;
    } else if (sk_dns_name_equal(q->name, r->inst_name)) {
        if (any || t == SK_DNS_SRV)
            ans |= R_SRV, add |= R_A | R_AAAA;
        if (any || t == SK_DNS_TXT)
            ans |= R_TXT;
    } else if (sk_dns_name_equal(q->name, r->host_name)) {
        if (any || t == SK_DNS_A)
            ans |= R_A, add |= R_AAAA;
        if (any || t == SK_DNS_AAAA)
            ans |= R_AAAA, add |= R_A;
    }
    *additional |= add;
    return ans;
}

static int64_t on_pending(sk_loop *l, void *data)
{
    sk_mdns_responder *r = data;
    int64_t now = sk_loop_now(l), next = -1;
    for (int k = 0; k < PENDING; k++) {
        pending *p = &r->pend[k];
        if (!p->used)
            continue;
        if (p->at <= now) {
            sk__mdns_send(&r->net, p->family, p->ifindex, p->buf, p->len, NULL, 0);
            p->used = false;
            r->last_multicast = sk_now_ms();
        } else if (next < 0 || p->at - now < next) {
            next = p->at - now;
        }
    }
    if (next < 0)
        r->pend_timer = 0;
    return next < 0 ? -1 : next;
}

static void answer(sk_mdns_responder *r, const sk_dns_header *h, int nrr, bool probe)
{
    static __thread uint8_t buf[SK__MDNS_PKT];
    sk__mdns_pkt *p = &r->pkt;
    const sk__mdns_if *f = sk__mdns_if_find(&r->net, p->ifindex);
    int ans = 0, add = 0;
    bool qu = false, legacy = p->from_port != SK_MDNS_PORT;
    size_t nq = h->qdcount < Q_MAX ? h->qdcount : Q_MAX;

    if (f == NULL)
        return; /* not an interface we announce on */
    for (size_t i = 0; i < nq; i++) {
        int a = wanted(r, &r->qs[i], &add);
        ans |= a;
        qu |= a && r->qs[i].unicast;
    }
    /* Known answers (RFC 6762 7.1): a record the asker holds with at least
     * half its TTL left is not sent again. Not for legacy askers. */
    for (int i = 0; !legacy && i < nrr; i++) {
        const sk_dns_rr *rr = &r->rrs[i];
        int which = which_record(r, rr);
        uint32_t ours = (which & (R_SRV | R_A | R_AAAA)) ? r->host_ttl : r->ttl;
        if (rr->section == SK_DNS_ANSWER && which > 0 && rr->ttl >= ours / 2 &&
            !((which & (R_A | R_AAAA)) && (which == R_A ? f->n4 : f->n6) > 1))
            ans &= ~which, add &= ~which;
    }
    add &= ~ans;
    int family = p->from.ss_family;
    int64_t now = sk_now_ms();
    /* QU: unicast, unless the records were not multicast within a quarter
     * of their TTL (RFC 6762 5.4) -- and never less than the second in
     * which they may not go on the group again (6), or a short TTL would
     * leave a window where neither is sent. A probe's question is defended
     * on the group, where every prober hears it. */
    int64_t quarter = (int64_t)r->host_ttl * 250 > 1000 ? (int64_t)r->host_ttl * 250 : 1000;
    bool unicast = legacy || (qu && !probe && now - r->last_multicast < quarter);
    if (!unicast && !probe) {
        /* What went out on the group within the last second is not sent
         * there again (RFC 6762 6); a probe is defended regardless. */
        int fresh = recent(r, f, family, now);
        ans &= ~fresh;
        add &= ~fresh;
    }
    if (ans == 0)
        return;
    sk_dns_writer w;
    sk_dns_writer_init(&w, buf, legacy ? 1472 : sizeof buf, legacy ? h->id : 0, SK_DNS_F_QR | SK_DNS_F_AA);
    if (legacy) /* RFC 6762 6.7: the question again, for a resolver that checks */
        for (size_t i = 0; i < nq; i++)
            sk_dns_write_question(&w, r->qs[i].name, r->qs[i].type, false);
    put_records(r, &w, SK_DNS_ANSWER, ans, f, legacy ? 2 : 0);
    put_records(r, &w, SK_DNS_ADDITIONAL, add, f, legacy ? 2 : 0);
    emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_ANSWER, .from = p->from_text, .unicast = unicast, .legacy = legacy});
    if (unicast) {
        sk__mdns_send(&r->net, family, p->ifindex, buf, w.len, (struct sockaddr *)&p->from, p->fromlen);
        return;
    }
    mark(r, f, family, ans | add, now);
    /* Shared records wait 20-120 ms so answers from many hosts spread out;
     * an answer of unique records only goes at once (RFC 6762 6). */
    if (!(ans & (R_PTR | R_ENUM)) || probe) {
        sk__mdns_send(&r->net, family, p->ifindex, buf, w.len, NULL, 0);
        r->last_multicast = now;
        return;
    }
    for (int k = 0; k < PENDING; k++) {
        pending *q = &r->pend[k];
        if (q->used)
            continue;
        q->used = true;
        q->family = family;
        q->ifindex = p->ifindex;
        q->len = w.len;
        memcpy(q->buf, buf, w.len);
        q->at = sk_loop_now(r->loop) + sk__mdns_random(20, 120);
        if (r->pend_timer == 0)
            r->pend_timer = sk_loop_timer(r->loop, q->at - sk_loop_now(r->loop), on_pending, r);
        if (r->pend_timer < 0)
            r->pend_timer = 0;
        return;
    }
}

static void on_query(sk_mdns_responder *r, const sk_dns_header *h, int nrr)
{
    bool probe = false, ours_probed[2] = {false, false};
    for (int i = 0; i < nrr; i++) {
        const sk_dns_rr *rr = &r->rrs[i];
        if (rr->section != SK_DNS_AUTHORITY)
            continue;
        probe = true;
        if (sk_dns_name_equal(rr->name, r->inst_name))
            ours_probed[0] = true;
        if (sk_dns_name_equal(rr->name, r->host_name))
            ours_probed[1] = true;
    }
    if (r->state == ST_WAIT || r->state == ST_PROBE) {
        const sk__mdns_if *f = sk__mdns_if_find(&r->net, r->pkt.ifindex);
        for (int k = 0; f && k < 2; k++) {
            if (!ours_probed[k] || tie_break(r, k == 1, f, nrr) >= 0)
                continue;
            /* Lost the tie-break: the other side goes on; we try again in
             * a second, and by then it may defend the name. */
            emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_DEFER, .from = r->pkt.from_text});
            probe_again(r, 1000);
            return;
        }
        return;
    }
    if (r->state == ST_ANNOUNCE || r->state == ST_RUN)
        answer(r, h, nrr, probe && (ours_probed[0] || ours_probed[1]));
}

static void on_packet(sk_mdns_responder *r)
{
    sk_dns_header h;
    int n = sk_dns_read(r->pkt.buf, r->pkt.len, &h, r->qs, Q_MAX, r->rrs, RR_MAX);
    if (n < 0) {
        emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_RESP_BAD, .from = r->pkt.from_text, .err = n});
        return;
    }
    if (n > RR_MAX)
        n = RR_MAX;
    if (h.opcode != 0)
        return;
    if (h.response) {
        if (h.rcode == 0)
            check_response(r, n);
    } else {
        on_query(r, &h, n);
    }
}

static void on_readable(sk_loop *l, int fd, void *data, int events)
{
    sk_mdns_responder *r = data;
    (void)events;
    for (int k = 0; k < 64 && r->state != ST_DONE; k++) {
        int rc = sk__mdns_recv(&r->net, fd, &r->pkt);
        if (rc == -EAGAIN)
            break;
        if (rc < 0)
            continue;
        if (sk__mdns_own(&r->net, &r->pkt, sk_loop_now(l)))
            continue;
        on_packet(r);
    }
}

/* An address came or went: announce the records again, so caches learn
 * the new set at once (RFC 6762 8.4 asks for that on any change). */
static void on_netlink(sk_loop *l, int fd, void *data, int events)
{
    sk_mdns_responder *r = data;
    (void)l, (void)events;
    if (sk__mdns_monitor_read(&r->net, fd) > 0 && r->state == ST_RUN) {
        r->state = ST_ANNOUNCE;
        r->n = 0;
        arm(r, 0);
    }
}

/* Withdrawing ------------------------------------------------------------- */

static void on_withdraw(sk_loop *l, int fd, void *data, int events)
{
    sk_mdns_responder *r = data;
    uint64_t v;
    (void)events;
    if (read(fd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    sk_loop_watch(l, fd, 0, NULL, NULL);
    if (r->timer > 0)
        sk_loop_timer_cancel(l, r->timer);
    r->timer = 0;
    bool announced = r->state == ST_ANNOUNCE || r->state == ST_RUN;
    if (announced)
        each_if(r, build_goodbye);
    r->state = ST_DONE;
    emit(r, (sk_mdns_resp_event){.kind = SK_MDNS_GOODBYE, .n = announced});
    void (*done)(void) = __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
    if (done)
        done();
    sk_loop_stop(l);
}

/* Starting and stopping -------------------------------------------------- */

static void *run(void *arg)
{
    sk_mdns_responder *r = arg;
    sk_loop_run(r->loop);
    return NULL;
}

static void resp_free(sk_mdns_responder *r)
{
    if (r->loop)
        sk_loop_free(r->loop);
    sk__mdns_close(&r->net);
    if (r->efd >= 0)
        close(r->efd);
    if (r->nlfd >= 0)
        close(r->nlfd);
    free(r->rrs);
    free(r->qs);
    free(r);
}

static int txt_build(sk_mdns_responder *r, const char *const *txt)
{
    size_t w = 0;
    for (size_t i = 0; txt && txt[i]; i++) {
        size_t n = strlen(txt[i]);
        if (n == 0 || n > 255 || txt[i][0] == '=' || w + 1 + n > sizeof r->txt)
            return -EINVAL;
        r->txt[w++] = (uint8_t)n;
        memcpy(r->txt + w, txt[i], n);
        w += n;
    }
    if (w == 0)
        r->txt[w++] = 0; /* RFC 6763 6.1: no strings is one empty string */
    r->txt_len = w;
    return 0;
}

static void host_label(char *out, size_t cap)
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) < 0 || h[0] == '\0')
        snprintf(h, sizeof h, "sockit");
    /* The first label, cut to what a label holds. */
    size_t n = strcspn(h, ".");
    if (n > SK_DNS_LABEL_MAX)
        n = SK_DNS_LABEL_MAX;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, h, n);
    out[n] = '\0';
}

int sk_mdns_responder_start(const sk_mdns_responder_opts *o, sk_mdns_responder **out)
{
    *out = NULL;
    if (o == NULL || o->instance == NULL || o->type == NULL || o->port == 0 || strlen(o->instance) == 0 ||
        strlen(o->instance) > SK_DNS_LABEL_MAX)
        return -EINVAL;
    sk_mdns_responder *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->efd = r->nlfd = -1;
    r->net.fd4 = r->net.fd6 = -1;
    snprintf(r->instance, sizeof r->instance, "%s", o->instance);
    snprintf(r->base, sizeof r->base, "%s", o->instance);
    if (o->host)
        snprintf(r->host, sizeof r->host, "%s", o->host);
    else
        host_label(r->host, sizeof r->host);
    snprintf(r->host_base, sizeof r->host_base, "%s", r->host);
    r->port = o->port;
    r->host_ttl = o->host_ttl ? o->host_ttl : 120;
    r->ttl = o->ttl ? o->ttl : 4500;
    r->on_event = o->on_event;
    r->userdata = o->userdata;
    r->owner = getpid();
    int rc = sk__mdns_type_norm(o->type, r->type, sizeof r->type);
    if (rc == 0 && (!o->host || strlen(o->host) <= SK_DNS_LABEL_MAX))
        rc = make_names(r);
    else if (rc == 0)
        rc = -EINVAL;
    if (rc == 0)
        rc = txt_build(r, o->txt);
    r->rrs = calloc(RR_MAX, sizeof *r->rrs);
    r->qs = calloc(Q_MAX, sizeof *r->qs);
    if (rc == 0 && (r->rrs == NULL || r->qs == NULL))
        rc = -ENOMEM;
    if (rc == 0)
        rc = sk__mdns_open(&r->net, o->ifname, o->family);
    if (rc == 0 && (r->loop = sk_loop_new(NULL, 0, &rc)) == NULL && rc == 0)
        rc = -ENOMEM;
    if (rc == 0 && (r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        rc = -errno;
    if (rc == 0 && r->net.fd4 >= 0)
        rc = sk_loop_watch(r->loop, r->net.fd4, SK_READ, on_readable, r);
    if (rc == 0 && r->net.fd6 >= 0)
        rc = sk_loop_watch(r->loop, r->net.fd6, SK_READ, on_readable, r);
    if (rc == 0)
        rc = sk_loop_watch(r->loop, r->efd, SK_READ, on_withdraw, r);
    /* Without the monitor the addresses read at start stay (no error). */
    if (rc == 0 && (r->nlfd = sk__mdns_monitor_open()) >= 0)
        rc = sk_loop_watch(r->loop, r->nlfd, SK_READ, on_netlink, r);
    if (rc == 0) {
        r->state = ST_WAIT;
        arm(r, sk__mdns_random(0, 250)); /* RFC 6762 8.1: 0-250 ms before the first probe */
        rc = sk__thread_start(&r->thread, NULL, run, r);
    }
    if (rc < 0) {
        resp_free(r);
        return rc;
    }
    r->started = true;
    *out = r;
    return 0;
}

void sk_mdns_responder_withdraw(sk_mdns_responder *r, void (*done)(void))
{
    if (r == NULL || getpid() != r->owner)
        return;
    if (__atomic_exchange_n(&r->withdraw_asked, 1, __ATOMIC_SEQ_CST) != 0)
        return;
    /* Atomic, so the thread that reads it after the eventfd sees it (a
     * signal handler may be the writer). */
    __atomic_store_n(&r->done, done, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof one);
    (void)n;
}

void sk_mdns_responder_stop(sk_mdns_responder *r)
{
    if (r == NULL)
        return;
    sk_mdns_responder_withdraw(r, NULL);
    if (r->started)
        pthread_join(r->thread, NULL);
    resp_free(r);
}
