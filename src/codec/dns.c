/* DNS messages into questions and records, without I/O: every section,
 * names decompressed, the mDNS class bits split off. Unicast transport is
 * c-ares' job (client/resolver.c), multicast sockit's (client/mdns*.c); the
 * bytes are read here so every record type gets the same checks. The
 * writer is dns_write.c. */
#include "dns_int.h"

#include <sockit/dns.h>
#include <sockit/error.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HDR_LEN 12

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append one label's bytes in presentation form: '.' and '\\' escaped with
 * a backslash, bytes outside printable ASCII as \DDD. */
static int put_label(char *out, size_t *w, const uint8_t *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char esc[5];
        int k;
        if (l[i] == '.' || l[i] == '\\')
            k = snprintf(esc, sizeof esc, "\\%c", l[i]);
        else if (l[i] <= 0x20 || l[i] >= 0x7f)
            k = snprintf(esc, sizeof esc, "\\%03u", l[i]);
        else
            k = snprintf(esc, sizeof esc, "%c", l[i]);
        if (*w + (size_t)k >= SK_DNS_NAME_MAX)
            return SK_EDNSBAD;
        memcpy(out + *w, esc, (size_t)k);
        *w += (size_t)k;
    }
    return 0;
}

/* Read the name at msg[*pos]; *pos moves past it (past the first pointer
 * when compressed). out NULL only skips. A pointer must point before
 * itself, so a chain of pointers only goes back; a loop needs a label
 * between its jumps, and the 255-byte limit on the name ends it. */
static int read_name(const uint8_t *msg, size_t len, size_t *pos, char *out)
{
    size_t p = *pos, w = 0, wire = 1;
    bool jumped = false;

    for (;;) {
        if (p >= len)
            return SK_EDNSBAD;
        uint8_t c = msg[p];
        if ((c & 0xc0) == 0xc0) {
            if (p + 1 >= len)
                return SK_EDNSBAD;
            size_t to = (size_t)(c & 0x3f) << 8 | msg[p + 1];
            if (to >= p)
                return SK_EDNSBAD;
            if (!jumped)
                *pos = p + 2;
            jumped = true;
            p = to;
            continue;
        }
        if (c & 0xc0)
            return SK_EDNSBAD; /* the 0x40 and 0x80 label types are obsolete */
        if (c == 0)
            break;
        if (p + 1 + c > len || (wire += 1u + c) > 255)
            return SK_EDNSBAD;
        if (out) {
            if (w > 0) {
                if (w + 1 >= SK_DNS_NAME_MAX)
                    return SK_EDNSBAD;
                out[w++] = '.';
            }
            if (put_label(out, &w, msg + p + 1, c) < 0)
                return SK_EDNSBAD;
        }
        p += 1u + c;
    }
    if (!jumped)
        *pos = p + 1;
    if (out) {
        if (w == 0)
            out[w++] = '.';
        out[w] = '\0';
    }
    return 0;
}

/* A name that makes up the rest of an rdata: compression may point
 * anywhere before, but the name itself must end where the rdata does. */
static int name_in_rdata(const uint8_t *msg, size_t len, size_t p, size_t end, char *out)
{
    if (read_name(msg, len, &p, out) < 0 || p != end)
        return SK_EDNSBAD;
    return 0;
}

/* The typed fields of one record from its rdata at msg[at..at+rdlen). */
static int read_rdata(const uint8_t *msg, size_t len, size_t at, sk_dns_rr *rr)
{
    size_t end = at + rr->rdlen, p = at;

    switch (rr->type) {
    case SK_DNS_A:
    case SK_DNS_AAAA:
        if (rr->rdlen != (rr->type == SK_DNS_A ? 4 : 16))
            return SK_EDNSBAD;
        memcpy(rr->addr, msg + at, rr->rdlen);
        return 0;
    case SK_DNS_SRV:
        if (rr->rdlen < 7)
            return SK_EDNSBAD;
        rr->priority = get16(msg + at);
        rr->weight = get16(msg + at + 2);
        rr->port = get16(msg + at + 4);
        p = at + 6;
        return name_in_rdata(msg, len, p, end, rr->target);
    case SK_DNS_CNAME:
    case SK_DNS_PTR:
        return name_in_rdata(msg, len, p, end, rr->target);
    case SK_DNS_NSEC:
        /* The next name (never compressed, RFC 6762 18.14, but a pointer is
         * harmless to follow) must be sound; the type bitmap is only read
         * by sk_dns_nsec_has(), which checks each window as it goes: some
         * stacks write it wrongly (python-zeroconf 0.47 gives the window
         * number and length 16 bits each), and a bad bitmap in one record
         * must not throw away the rest of the message. */
        if (read_name(msg, len, &p, rr->target) < 0 || p > end)
            return SK_EDNSBAD;
        return 0;
    case SK_DNS_TXT: {
        size_t off = 0;
        const uint8_t *s;
        size_t n;
        int rc;
        if (rr->rdlen == 0)
            return SK_EDNSBAD;
        while ((rc = sk_dns_txt_next(rr, &off, &s, &n)) == 1)
            ;
        return rc;
    }
    default:
        return 0;
    }
}

static int read_question(const uint8_t *msg, size_t len, size_t *pos, sk_dns_question *q)
{
    if (read_name(msg, len, pos, q ? q->name : NULL) < 0 || *pos + 4 > len)
        return SK_EDNSBAD;
    if (q) {
        uint16_t c = get16(msg + *pos + 2);
        q->type = get16(msg + *pos);
        q->qclass = c & 0x7fff;
        q->unicast = (c & 0x8000) != 0;
    }
    *pos += 4;
    return 0;
}

static int read_rr(const uint8_t *msg, size_t len, size_t *pos, sk_dns_rr *rr)
{
    memset(rr, 0, sizeof *rr);
    if (read_name(msg, len, pos, rr->name) < 0 || *pos + 10 > len)
        return SK_EDNSBAD;
    const uint8_t *p = msg + *pos;
    uint16_t c = get16(p + 2);
    rr->type = get16(p);
    rr->rclass = c & 0x7fff;
    rr->cache_flush = (c & 0x8000) != 0;
    rr->ttl = get32(p + 4);
    rr->rdlen = get16(p + 8);
    *pos += 10;
    if (*pos + rr->rdlen > len)
        return SK_EDNSBAD;
    rr->rdata = msg + *pos;
    if (read_rdata(msg, len, *pos, rr) < 0)
        return SK_EDNSBAD;
    *pos += rr->rdlen;
    return 0;
}

int sk_dns_read(const uint8_t *msg, size_t len, sk_dns_header *h, sk_dns_question *q, size_t qmax, sk_dns_rr *rr,
                size_t rrmax)
{
    sk_dns_header hh;
    size_t pos = HDR_LEN;
    /* Records not stored are read into these: big, so not on the stack of
     * every caller twice, but a parser owns no memory, so one per call. */
    sk_dns_rr tmp;

    if (msg == NULL || len < HDR_LEN)
        return SK_EDNSBAD;
    hh.id = get16(msg);
    hh.flags = get16(msg + 2);
    hh.response = (msg[2] & 0x80) != 0;
    hh.opcode = (msg[2] >> 3) & 0x0f;
    hh.truncated = (msg[2] & 0x02) != 0;
    hh.rcode = msg[3] & 0x0f;
    hh.qdcount = get16(msg + 4);
    hh.ancount = get16(msg + 6);
    hh.nscount = get16(msg + 8);
    hh.arcount = get16(msg + 10);
    if (h)
        *h = hh;
    /* Every question and record takes at least 5 and 11 bytes, so a count
     * the message cannot hold is refused before anything is read. */
    if ((size_t)hh.qdcount * 5 + ((size_t)hh.ancount + hh.nscount + hh.arcount) * 11 > len - HDR_LEN)
        return SK_EDNSBAD;
    for (unsigned i = 0; i < hh.qdcount; i++)
        if (read_question(msg, len, &pos, i < qmax && q ? &q[i] : NULL) < 0)
            return SK_EDNSBAD;
    const unsigned counts[3] = {hh.ancount, hh.nscount, hh.arcount};
    size_t n = 0;
    for (int s = 0; s < 3; s++) {
        for (unsigned i = 0; i < counts[s]; i++, n++) {
            sk_dns_rr *r = n < rrmax && rr ? &rr[n] : &tmp;
            if (read_rr(msg, len, &pos, r) < 0)
                return SK_EDNSBAD;
            r->section = (uint8_t)(SK_DNS_ANSWER + s);
        }
    }
    return (int)n;
}

int sk_dns_parse(const uint8_t *msg, size_t len, sk_dns_header *h, sk_dns_rr *out, size_t max)
{
    sk_dns_header hh = {0};
    int n = sk_dns_read(msg, len, &hh, NULL, 0, out, max);
    if (h && msg && len >= HDR_LEN)
        *h = hh; /* the header even of a malformed message, for its rcode */
    return n < 0 ? n : hh.ancount;
}

int sk_dns_txt_next(const sk_dns_rr *rr, size_t *off, const uint8_t **s, size_t *len)
{
    if (*off >= rr->rdlen)
        return 0;
    size_t n = rr->rdata[*off];
    if (*off + 1 + n > rr->rdlen)
        return SK_EDNSBAD;
    *s = rr->rdata + *off + 1;
    *len = n;
    *off += 1 + n;
    return 1;
}

/* Names and labels --------------------------------------------------------- */

/* One label of text at *s into out (at most 63 bytes): up to an unescaped
 * '.' or the end; *s moves past the dot. Returns its length (0: empty),
 * or -EINVAL. */
static int label_parse(const char **s, uint8_t *out)
{
    const char *p = *s;
    int n = 0;
    while (*p && *p != '.') {
        unsigned c = (unsigned char)*p++;
        if (c == '\\') {
            if (p[0] >= '0' && p[0] <= '9') {
                if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
                    return -EINVAL;
                c = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
                if (c > 255)
                    return -EINVAL;
                p += 3;
            } else if (*p) {
                c = (unsigned char)*p++;
            } else {
                return -EINVAL;
            }
        }
        if (n == SK_DNS_LABEL_MAX)
            return -EINVAL;
        out[n++] = (uint8_t)c;
    }
    if (*p == '.')
        p++;
    *s = p;
    return n;
}

int sk__dns_name_wire(const char *text, uint8_t out[255])
{
    size_t w = 0;
    if (text == NULL)
        return -EINVAL;
    if (strcmp(text, ".") == 0)
        text = "";
    while (*text) {
        uint8_t l[SK_DNS_LABEL_MAX];
        int n = label_parse(&text, l);
        if (n <= 0 || w + 1 + (size_t)n + 1 > 255)
            return -EINVAL;
        out[w++] = (uint8_t)n;
        memcpy(out + w, l, (size_t)n);
        w += (size_t)n;
    }
    out[w++] = 0;
    return (int)w;
}

int sk_dns_label_escape(const void *l, size_t n, char *out, size_t cap)
{
    char buf[SK_DNS_NAME_MAX];
    size_t w = 0;
    if (l == NULL || n == 0 || n > SK_DNS_LABEL_MAX)
        return -EINVAL;
    if (put_label(buf, &w, l, n) < 0)
        return -EINVAL;
    if (w >= cap)
        return -ENOSPC;
    memcpy(out, buf, w);
    out[w] = '\0';
    return (int)w;
}

int sk_dns_label_first(const char *name, char *out, size_t cap, const char **rest)
{
    uint8_t l[SK_DNS_LABEL_MAX];
    if (name == NULL)
        return -EINVAL;
    const char *p = name;
    int n = label_parse(&p, l);
    if (n <= 0)
        return -EINVAL;
    if ((size_t)n >= cap)
        return -ENOSPC;
    memcpy(out, l, (size_t)n);
    out[n] = '\0';
    if (rest)
        *rest = p;
    return n;
}

bool sk_dns_name_equal(const char *a, const char *b)
{
    uint8_t wa[255], wb[255];
    int na = sk__dns_name_wire(a, wa), nb = sk__dns_name_wire(b, wb);
    if (na < 0 || nb < 0 || na != nb)
        return false;
    for (int i = 0; i < na; i++) {
        uint8_t x = wa[i], y = wb[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* Where the bitmap starts: past the next name, which read_rdata checked. */
static size_t nsec_bitmap_at(const sk_dns_rr *rr)
{
    size_t p = 0;
    while (p < rr->rdlen && rr->rdata[p] != 0 && (rr->rdata[p] & 0xc0) == 0)
        p += 1u + rr->rdata[p];
    if (p < rr->rdlen && (rr->rdata[p] & 0xc0) == 0xc0)
        return p + 2;
    return p + 1;
}

bool sk_dns_nsec_has(const sk_dns_rr *rr, int type)
{
    if (rr == NULL || rr->type != SK_DNS_NSEC || rr->rdata == NULL || type <= 0 || type > 65535)
        return false;
    int last = -1;
    for (size_t p = nsec_bitmap_at(rr); p + 2 <= rr->rdlen;) {
        unsigned win = rr->rdata[p], n = rr->rdata[p + 1];
        if ((int)win <= last || n == 0 || n > 32 || p + 2 + n > rr->rdlen)
            return false; /* a malformed bitmap says nothing */
        last = (int)win;
        if ((unsigned)type >> 8 == win) {
            unsigned bit = (unsigned)type & 0xff;
            return bit / 8 < n && (rr->rdata[p + 2 + bit / 8] & (0x80 >> (bit % 8))) != 0;
        }
        p += 2 + n;
    }
    return false;
}

int sk_dns_reverse_name(const char *ip, char *out, size_t cap)
{
    uint8_t a[16];
    char buf[SK_DNS_NAME_MAX];
    size_t w = 0;

    if (ip == NULL)
        return -EINVAL;
    if (inet_pton(AF_INET, ip, a) == 1) {
        w = (size_t)snprintf(buf, sizeof buf, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 15; i >= 0; i--) {
            buf[w++] = hex[a[i] & 0xf];
            buf[w++] = '.';
            buf[w++] = hex[a[i] >> 4];
            buf[w++] = '.';
        }
        memcpy(buf + w, "ip6.arpa", sizeof "ip6.arpa");
        w += sizeof "ip6.arpa" - 1;
    } else {
        return -EINVAL;
    }
    if (w >= cap)
        return -ENOSPC;
    memcpy(out, buf, w + 1);
    return (int)w;
}

static const struct {
    int type;
    const char *name;
} types[] = {{SK_DNS_A, "A"},     {SK_DNS_AAAA, "AAAA"},   {SK_DNS_SRV, "SRV"},  {SK_DNS_TXT, "TXT"},
             {SK_DNS_PTR, "PTR"}, {SK_DNS_CNAME, "CNAME"}, {SK_DNS_NSEC, "NSEC"}};

const char *sk_dns_type_name(int type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type)
            return types[i].name;
    return NULL;
}

int sk_dns_type_of(const char *name)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(types[i].name, name) == 0)
            return types[i].type;
    return -1;
}
