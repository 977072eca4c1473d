/* ICMP echo packets and the parsing of replies and errors, for ICMPv4 and
 * ICMPv6. Offsets follow RFC 792 and RFC 4443; every read is bounds-checked
 * because the bytes come from the network. */
#include <sockit/icmp.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <sockit/error.h>

/* ICMP types used here (RFC 792, RFC 4443). */
enum {
    V4_ECHO_REPLY = 0,
    V4_UNREACH = 3,
    V4_ECHO = 8,
    V4_TIME_EXCEEDED = 11,
    V6_UNREACH = 1,
    V6_TIME_EXCEEDED = 3,
    V6_ECHO = 128,
    V6_ECHO_REPLY = 129,
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

uint16_t sk_inet_checksum(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t sum = 0;

    for (; len > 1; p += 2, len -= 2)
        sum += get16(p);
    if (len == 1)
        sum += (uint32_t)p[0] << 8; /* an odd byte is padded with zero */
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

int sk_icmp_echo_build(int family, uint16_t id, uint16_t seq, int64_t ts_ns, size_t payload_len, void *buf, size_t cap)
{
    uint8_t *p = buf;

    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (payload_len > 65507 || cap < SK_ICMP_HDR_LEN + payload_len)
        return -ENOSPC;
    p[0] = family == AF_INET ? V4_ECHO : V6_ECHO;
    p[1] = 0;
    p[2] = p[3] = 0;
    p[4] = (uint8_t)(id >> 8);
    p[5] = (uint8_t)id;
    p[6] = (uint8_t)(seq >> 8);
    p[7] = (uint8_t)seq;
    uint8_t *d = p + SK_ICMP_HDR_LEN;
    size_t i = 0;
    if (payload_len >= SK_ICMP_TS_LEN) {
        for (; i < SK_ICMP_TS_LEN; i++)
            d[i] = (uint8_t)((uint64_t)ts_ns >> (56 - 8 * i));
    }
    for (; i < payload_len; i++)
        d[i] = (uint8_t)i;
    if (family == AF_INET) {
        uint16_t sum = sk_inet_checksum(p, SK_ICMP_HDR_LEN + payload_len);
        p[2] = (uint8_t)(sum >> 8);
        p[3] = (uint8_t)sum;
    }
    return (int)(SK_ICMP_HDR_LEN + payload_len);
}

/* The probe an error quotes: its IP header, then at least 8 bytes of what
 * followed (RFC 792 asks for 8; Linux quotes up to 576 bytes in all). */
static void parse_quoted(int family, const uint8_t *q, size_t len, sk_icmp_info *out)
{
    const uint8_t *l4;
    size_t l4len;

    out->quoted_proto = -1;
    if (family == AF_INET) {
        if (len < 20 || (q[0] >> 4) != 4 || (size_t)(q[0] & 0xf) * 4 < 20 || (size_t)(q[0] & 0xf) * 4 > len)
            return;
        size_t ihl = (size_t)(q[0] & 0xf) * 4;
        struct sockaddr_in *d = (struct sockaddr_in *)&out->quoted_dst;
        d->sin_family = AF_INET;
        memcpy(&d->sin_addr, q + 16, 4);
        out->quoted_proto = q[9];
        l4 = q + ihl;
        l4len = len - ihl;
    } else {
        if (len < 40 || (q[0] >> 4) != 6)
            return;
        struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->quoted_dst;
        d->sin6_family = AF_INET6;
        memcpy(&d->sin6_addr, q + 24, 16);
        out->quoted_proto = q[6];
        l4 = q + 40;
        l4len = len - 40;
    }
    if (l4len < 8) {
        out->quoted_proto = -1; /* too short to tell which probe it was */
        return;
    }
    if (out->quoted_proto == IPPROTO_UDP) {
        out->quoted_sport = get16(l4);
        out->quoted_dport = get16(l4 + 2);
    } else if (out->quoted_proto == IPPROTO_ICMP || out->quoted_proto == IPPROTO_ICMPV6) {
        out->id = get16(l4 + 4);
        out->seq = get16(l4 + 6);
    }
}

int sk_icmp_parse(int family, const void *pkt, size_t len, int flags, sk_icmp_info *out)
{
    const uint8_t *p = pkt;

    memset(out, 0, sizeof *out);
    out->ttl = -1;
    out->ts_ns = -1;
    out->quoted_proto = -1;
    if (family != AF_INET && family != AF_INET6)
        return SK_EICMPBAD;
    if (family == AF_INET && (flags & SK_ICMP_IPHDR)) {
        if (len < 20)
            return SK_EICMPSHORT;
        size_t ihl = (size_t)(p[0] & 0xf) * 4;
        if ((p[0] >> 4) != 4 || ihl < 20 || p[9] != IPPROTO_ICMP)
            return SK_EICMPBAD;
        if (ihl > len)
            return SK_EICMPSHORT;
        size_t tot = get16(p + 2);
        if (tot < ihl)
            return SK_EICMPBAD;
        if (tot < len)
            len = tot; /* ignore link-layer padding */
        out->ttl = p[8];
        out->has_src = true;
        struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
        s->sin_family = AF_INET;
        memcpy(&s->sin_addr, p + 12, 4);
        p += ihl;
        len -= ihl;
    }
    if (len < SK_ICMP_HDR_LEN)
        return SK_EICMPSHORT;
    if (family == AF_INET && !(flags & SK_ICMP_NOSUM) && sk_inet_checksum(p, len) != 0)
        return SK_EICMPSUM;
    out->type = p[0];
    out->code = p[1];
    bool v4 = family == AF_INET;
    if (out->type == (v4 ? V4_ECHO_REPLY : V6_ECHO_REPLY) || out->type == (v4 ? V4_ECHO : V6_ECHO)) {
        out->kind = out->type == (v4 ? V4_ECHO_REPLY : V6_ECHO_REPLY) ? SK_ICMP_ECHO_REPLY : SK_ICMP_ECHO_REQUEST;
        out->id = get16(p + 4);
        out->seq = get16(p + 6);
        out->data = p + SK_ICMP_HDR_LEN;
        out->data_len = len - SK_ICMP_HDR_LEN;
        size_t i = 0;
        if (out->data_len >= SK_ICMP_TS_LEN) {
            uint64_t ts = 0;
            for (; i < SK_ICMP_TS_LEN; i++)
                ts = ts << 8 | out->data[i];
            out->ts_ns = (int64_t)ts;
        }
        out->data_ok = true;
        for (; i < out->data_len; i++) {
            if (out->data[i] != (uint8_t)i) {
                out->data_ok = false;
                break;
            }
        }
        return 0;
    }
    if (out->type == (v4 ? V4_TIME_EXCEEDED : V6_TIME_EXCEEDED))
        out->kind = SK_ICMP_TIME_EXCEEDED;
    else if (out->type == (v4 ? V4_UNREACH : V6_UNREACH))
        out->kind = SK_ICMP_UNREACHABLE;
    else {
        out->kind = SK_ICMP_OTHER;
        return 0;
    }
    parse_quoted(family, p + SK_ICMP_HDR_LEN, len - SK_ICMP_HDR_LEN, out);
    return 0;
}

const char *sk_icmp_describe(int family, uint8_t type, uint8_t code)
{
    static const char *const unreach4[] = {
        "Destination Net Unreachable",
        "Destination Host Unreachable",
        "Destination Protocol Unreachable",
        "Destination Port Unreachable",
        "Frag needed",
        "Source Route Failed",
        "Destination Net Unknown",
        "Destination Host Unknown",
        "Source Host Isolated",
        "Destination Net Prohibited",
        "Destination Host Prohibited",
    };
    static const char *const unreach6[] = {
        "No route",
        "Administratively prohibited",
        "Beyond scope",
        "Address unreachable",
        "Port unreachable",
        "Source address failed policy",
        "Reject route to destination",
    };
    if (family == AF_INET) {
        switch (type) {
        case V4_ECHO_REPLY:
            return "Echo Reply";
        case V4_ECHO:
            return "Echo Request";
        case V4_TIME_EXCEEDED:
            return code == 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
        case V4_UNREACH:
            return code < sizeof unreach4 / sizeof unreach4[0] ? unreach4[code] : "Destination Unreachable";
        default:
            return "ICMP message";
        }
    }
    switch (type) {
    case V6_ECHO_REPLY:
        return "Echo Reply";
    case V6_ECHO:
        return "Echo Request";
    case V6_TIME_EXCEEDED:
        return code == 0 ? "Time exceeded: Hop limit" : "Time exceeded: Fragment reassembly";
    case V6_UNREACH:
        return code < sizeof unreach6 / sizeof unreach6[0] ? unreach6[code] : "Destination unreachable";
    case 2:
        return "Packet too big";
    default:
        return "ICMPv6 message";
    }
}
