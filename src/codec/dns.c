/* DNS responses into records, without I/O: header, questions skipped,
 * answers with names decompressed. The transport (UDP, TCP on truncation,
 * retries) is c-ares' job in client/resolver.c; the bytes are read here so
 * every record type gets its TTL and the same checks. */
#include <sockit/dns.h>
#include <sockit/error.h>

#include <arpa/inet.h>
#include <errno.h>
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

int sk_dns_parse(const uint8_t *msg, size_t len, sk_dns_header *h, sk_dns_rr *out, size_t max)
{
    sk_dns_header hh;
    size_t pos = HDR_LEN;

    if (msg == NULL || len < HDR_LEN)
        return SK_EDNSBAD;
    hh.id = get16(msg);
    hh.response = (msg[2] & 0x80) != 0;
    hh.truncated = (msg[2] & 0x02) != 0;
    hh.rcode = msg[3] & 0x0f;
    hh.qdcount = get16(msg + 4);
    hh.ancount = get16(msg + 6);
    hh.nscount = get16(msg + 8);
    hh.arcount = get16(msg + 10);
    if (h)
        *h = hh;
    for (unsigned i = 0; i < hh.qdcount; i++) {
        if (read_name(msg, len, &pos, NULL) < 0 || pos + 4 > len)
            return SK_EDNSBAD;
        pos += 4;
    }
    for (unsigned i = 0; i < hh.ancount; i++) {
        sk_dns_rr tmp, *rr = i < max && out ? &out[i] : &tmp;
        memset(rr, 0, sizeof *rr);
        if (read_name(msg, len, &pos, rr->name) < 0 || pos + 10 > len)
            return SK_EDNSBAD;
        rr->type = get16(msg + pos);
        rr->rclass = get16(msg + pos + 2);
        rr->ttl = get32(msg + pos + 4);
        rr->rdlen = get16(msg + pos + 8);
        pos += 10;
        if (pos + rr->rdlen > len)
            return SK_EDNSBAD;
        rr->rdata = msg + pos;
        if (read_rdata(msg, len, pos, rr) < 0)
            return SK_EDNSBAD;
        pos += rr->rdlen;
    }
    return hh.ancount;
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
} types[] = {{SK_DNS_A, "A"},     {SK_DNS_AAAA, "AAAA"}, {SK_DNS_SRV, "SRV"},
             {SK_DNS_TXT, "TXT"}, {SK_DNS_PTR, "PTR"},   {SK_DNS_CNAME, "CNAME"}};

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
