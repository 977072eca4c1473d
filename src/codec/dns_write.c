/* DNS messages out of questions and records, into the caller's buffer,
 * with name compression (RFC 1035 4.1.4): every name and every suffix of it
 * written so far is remembered, and a later name ends in a pointer to the
 * longest suffix already there. A record that does not fit leaves the
 * message as it was, so a responder can stop at the datagram's size. */
#include "dns_int.h"

#include <sockit/dns.h>

#include <errno.h>
#include <string.h>

#define HDR_LEN 12

static void set16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

/* Whether the name in the message at off (our own writing, so well formed)
 * equals the wire labels l, ignoring case. */
static bool same_name(const sk_dns_writer *w, size_t off, const uint8_t *l)
{
    for (;;) {
        uint8_t c = w->buf[off];
        if ((c & 0xc0) == 0xc0) {
            off = (size_t)(c & 0x3f) << 8 | w->buf[off + 1];
            continue;
        }
        if (c != l[0])
            return false;
        if (c == 0)
            return true;
        for (unsigned i = 1; i <= c; i++)
            if (lower(w->buf[off + i]) != lower(l[i]))
                return false;
        off += 1u + c;
        l += 1u + c;
    }
}

static int find_suffix(const sk_dns_writer *w, const uint8_t *l)
{
    for (size_t i = 0; i < w->nnames; i++)
        if (same_name(w, w->names[i], l))
            return w->names[i];
    return -1;
}

/* Remember where the labels just written start, once the whole name is
 * there: a suffix is only matched against complete names. */
static void remember(sk_dns_writer *w, const uint16_t *at, size_t n)
{
    for (size_t i = 0; i < n && w->nnames < SK_DNS_WRITER_NAMES; i++)
        if (at[i] < 0x4000)
            w->names[w->nnames++] = at[i];
}

/* Append the name text, compressed; on -ENOSPC the caller rolls back. */
static int put_name(sk_dns_writer *w, const char *text, bool compress)
{
    uint8_t wire[255];
    uint16_t at_label[128];
    size_t nl = 0;
    int n = sk__dns_name_wire(text, wire);
    if (n < 0)
        return n;
    for (size_t i = 0; wire[i] != 0; i += 1u + wire[i]) {
        int at = compress ? find_suffix(w, wire + i) : -1;
        if (at >= 0) {
            if (w->len + 2 > w->cap)
                return -ENOSPC;
            set16(w->buf + w->len, 0xc000u | (unsigned)at);
            w->len += 2;
            remember(w, at_label, nl);
            return 0;
        }
        size_t ll = 1u + wire[i];
        if (w->len + ll > w->cap)
            return -ENOSPC;
        at_label[nl++] = (uint16_t)(w->len < 0x4000 ? w->len : 0xffff);
        memcpy(w->buf + w->len, wire + i, ll);
        w->len += ll;
    }
    if (w->len + 1 > w->cap)
        return -ENOSPC;
    w->buf[w->len++] = 0;
    remember(w, at_label, nl);
    return 0;
}

static int put_bytes(sk_dns_writer *w, const void *p, size_t n)
{
    if (w->len + n > w->cap)
        return -ENOSPC;
    if (n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

static int put16(sk_dns_writer *w, unsigned v)
{
    uint8_t b[2];
    set16(b, v);
    return put_bytes(w, b, 2);
}

static void count(sk_dns_writer *w, int section)
{
    uint8_t *c = w->buf + 4 + 2 * section;
    set16(c, (unsigned)(c[0] << 8 | c[1]) + 1);
}

void sk_dns_writer_init(sk_dns_writer *w, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    if (cap < HDR_LEN) {
        w->len = cap; /* nothing will fit */
        return;
    }
    memset(buf, 0, HDR_LEN);
    set16(buf, id);
    set16(buf + 2, flags);
    w->len = HDR_LEN;
}

int sk_dns_write_question(sk_dns_writer *w, const char *name, int type, bool unicast)
{
    if (w->section != 0 || type <= 0 || type > 65535 || w->cap < HDR_LEN)
        return -EINVAL;
    size_t len = w->len, nn = w->nnames;
    int rc = put_name(w, name, true);
    if (rc == 0)
        rc = put16(w, (unsigned)type);
    if (rc == 0)
        rc = put16(w, SK_DNS_CLASS_IN | (unsigned)(unicast ? 0x8000 : 0));
    if (rc < 0) {
        w->len = len;
        w->nnames = nn;
        return rc;
    }
    count(w, 0);
    return 0;
}

/* The record's data, written in place after its rdlength. */
static int put_rdata(sk_dns_writer *w, const sk_dns_rr *rr)
{
    uint8_t b[6];
    switch (rr->type) {
    case SK_DNS_A:
        return put_bytes(w, rr->addr, 4);
    case SK_DNS_AAAA:
        return put_bytes(w, rr->addr, 16);
    case SK_DNS_SRV:
        set16(b, rr->priority);
        set16(b + 2, rr->weight);
        set16(b + 4, rr->port);
        if (put_bytes(w, b, 6) < 0)
            return -ENOSPC;
        return put_name(w, rr->target, true);
    case SK_DNS_PTR:
    case SK_DNS_CNAME:
        return put_name(w, rr->target, true);
    case SK_DNS_NSEC: {
        /* RFC 6762 18.14: the next domain name is never compressed. */
        int rc = put_name(w, rr->target, false);
        return rc < 0 ? rc : put_bytes(w, rr->rdata, rr->rdata ? rr->rdlen : 0);
    }
    default:
        if (rr->rdlen && rr->rdata == NULL)
            return -EINVAL;
        return put_bytes(w, rr->rdata, rr->rdlen);
    }
}

int sk_dns_write_rr(sk_dns_writer *w, int section, const sk_dns_rr *rr)
{
    if (section < SK_DNS_ANSWER || section > SK_DNS_ADDITIONAL || section < w->section || rr == NULL ||
        w->cap < HDR_LEN || rr->type == 0)
        return -EINVAL;
    size_t len = w->len, nn = w->nnames;
    unsigned rclass = (rr->rclass ? rr->rclass : SK_DNS_CLASS_IN) | (rr->cache_flush ? 0x8000u : 0);
    uint8_t fixed[10];
    set16(fixed, rr->type);
    set16(fixed + 2, rclass);
    set16(fixed + 4, rr->ttl >> 16);
    set16(fixed + 6, rr->ttl & 0xffff);
    int rc = put_name(w, rr->name, true);
    if (rc == 0)
        rc = put_bytes(w, fixed, sizeof fixed);
    size_t at = w->len;
    if (rc == 0)
        rc = put_rdata(w, rr);
    if (rc == 0 && w->len - at > 0xffff)
        rc = -EINVAL;
    if (rc < 0) {
        w->len = len;
        w->nnames = nn;
        return rc;
    }
    set16(w->buf + at - 2, (unsigned)(w->len - at));
    w->section = section;
    count(w, section);
    return 0;
}

int sk_dns_nsec_bitmap(const int *types, size_t n, uint8_t *out, size_t cap)
{
    uint8_t win[256][32];
    uint8_t used[256] = {0};
    size_t w = 0;
    memset(win, 0, sizeof win);
    for (size_t i = 0; i < n; i++) {
        if (types[i] <= 0 || types[i] > 65535)
            return -EINVAL;
        unsigned hi = (unsigned)types[i] >> 8, lo = (unsigned)types[i] & 0xff;
        win[hi][lo / 8] |= (uint8_t)(0x80 >> (lo % 8));
        if (lo / 8 + 1 > used[hi])
            used[hi] = (uint8_t)(lo / 8 + 1);
    }
    for (unsigned hi = 0; hi < 256; hi++) {
        if (used[hi] == 0)
            continue;
        if (w + 2u + used[hi] > cap)
            return -ENOSPC;
        out[w++] = (uint8_t)hi;
        out[w++] = used[hi];
        memcpy(out + w, win[hi], used[hi]);
        w += used[hi];
    }
    return (int)w;
}
