/* libFuzzer target for the DNS codec: any bytes through the response
 * parser and the whole-message reader, checking the contract (rdata views
 * inside the message, names terminated and within SK_DNS_NAME_MAX, TXT
 * strings inside their rdata), not just crashes; then every record read is
 * written again with compression and read back, and must come back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/dns.h>
#include <sockit/error.h>

#define MAXRR 8

static void check_name(const char *s)
{
    size_t n = strnlen(s, SK_DNS_NAME_MAX);
    if (n == 0 || n >= SK_DNS_NAME_MAX)
        abort();
}

static void check_rr(const sk_dns_rr *rr, const uint8_t *data, size_t size)
{
    check_name(rr->name);
    if (rr->rdata < data || rr->rdata + rr->rdlen > data + size)
        abort();
    if (rr->type == SK_DNS_SRV || rr->type == SK_DNS_PTR || rr->type == SK_DNS_CNAME || rr->type == SK_DNS_NSEC)
        check_name(rr->target);
    if (rr->type == SK_DNS_NSEC)
        (void)sk_dns_nsec_has(rr, SK_DNS_A);
    if (rr->type == SK_DNS_TXT) {
        size_t off = 0, len;
        const uint8_t *s;
        int rc;
        while ((rc = sk_dns_txt_next(rr, &off, &s, &len)) == 1)
            if (s < rr->rdata || s + len > rr->rdata + rr->rdlen)
                abort();
        if (rc != 0)
            abort(); /* the parser accepted it, so it is well formed */
    }
}

static bool same_rr(const sk_dns_rr *a, const sk_dns_rr *b)
{
    if (a->type != b->type || (a->rclass ? a->rclass : SK_DNS_CLASS_IN) != b->rclass ||
        a->cache_flush != b->cache_flush || a->ttl != b->ttl || !sk_dns_name_equal(a->name, b->name))
        return false;
    switch (a->type) {
    case SK_DNS_A:
    case SK_DNS_AAAA:
        return memcmp(a->addr, b->addr, a->type == SK_DNS_A ? 4 : 16) == 0;
    case SK_DNS_SRV:
        if (a->priority != b->priority || a->weight != b->weight || a->port != b->port)
            return false;
        /* fall through */
    case SK_DNS_PTR:
    case SK_DNS_CNAME:
    case SK_DNS_NSEC:
        return sk_dns_name_equal(a->target, b->target);
    default:
        return a->rdlen == b->rdlen && memcmp(a->rdata, b->rdata, a->rdlen) == 0;
    }
}

/* Write what was read and read it back. */
static void round_trip(const sk_dns_header *h, const sk_dns_question *q, size_t nq, const sk_dns_rr *rr, size_t n)
{
    static uint8_t out[20000];
    static sk_dns_rr back[MAXRR];
    static sk_dns_question qback[MAXRR];
    sk_dns_writer w;
    sk_dns_header bh;
    size_t nrr = 0, nqq = 0, written[MAXRR];

    sk_dns_writer_init(&w, out, sizeof out, h->id, h->flags);
    for (size_t i = 0; i < nq; i++)
        if (sk_dns_write_question(&w, q[i].name, q[i].type, q[i].unicast) == 0)
            nqq++;
    for (size_t i = 0; i < n; i++) {
        if (rr[i].type == SK_DNS_NSEC) {
            /* NSEC's rdata holds the name too; write the bitmap alone. */
            continue;
        }
        if (sk_dns_write_rr(&w, rr[i].section, &rr[i]) == 0)
            written[nrr++] = i;
    }
    int got = sk_dns_read(out, w.len, &bh, qback, MAXRR, back, MAXRR);
    if (got < 0 || (size_t)got != nrr || bh.qdcount != nqq)
        abort();
    for (size_t j = 0; j < nrr; j++)
        if (!same_rr(&rr[written[j]], &back[j]) || back[j].section != rr[written[j]].section)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sk_dns_rr rrs[MAXRR];
    static sk_dns_question qs[MAXRR];
    sk_dns_header h;
    int n = sk_dns_parse(data, size, &h, rrs, 4);

    if (n != SK_EDNSBAD) {
        if (n < 0 || n != h.ancount)
            abort();
        for (int i = 0; i < n && i < 4; i++)
            check_rr(&rrs[i], data, size);
    }
    n = sk_dns_read(data, size, &h, qs, MAXRR, rrs, MAXRR);
    if (n == SK_EDNSBAD)
        return 0;
    if (n < 0 || n != h.ancount + h.nscount + h.arcount)
        abort();
    size_t stored = (size_t)n < MAXRR ? (size_t)n : MAXRR, nq = h.qdcount < MAXRR ? h.qdcount : MAXRR;
    for (size_t i = 0; i < stored; i++)
        check_rr(&rrs[i], data, size);
    for (size_t i = 0; i < nq; i++)
        check_name(qs[i].name);
    /* Only a prefix of the records is kept, so the counts of what is
     * written back are ours, not the input's. */
    round_trip(&h, qs, nq, rrs, stored);
    return 0;
}
