/* ICMP packets for ping and trace-route: the Internet checksum, echo
 * requests, parsing replies and errors (ICMPv4 and ICMPv6, with or without
 * the IP header a raw IPv4 socket delivers). Pure functions over bytes: the
 * parser owns no memory and never reads past len. The sockets that carry
 * them are in icmp_sock.h. */
#ifndef SOCKIT_ICMP_H
#define SOCKIT_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SK_ICMP_HDR_LEN 8
/* The timestamp at the start of an echo payload, when the payload has room. */
#define SK_ICMP_TS_LEN 8

/* The Internet checksum (RFC 1071) of len bytes: the value to store, in
 * host order, big-endian on the wire. Summing a packet that holds its own
 * correct checksum gives 0. */
uint16_t sk_inet_checksum(const void *buf, size_t len);

/* Write an echo request into buf (cap bytes): type 8 (ICMPv4) or 128
 * (ICMPv6), code 0, id, seq, then payload_len bytes: ts_ns as 8 big-endian
 * bytes when payload_len >= 8, the rest the pattern (i & 0xff) at payload
 * offset i. The ICMPv4 checksum is filled in; the ICMPv6 one is left 0
 * because the kernel computes it over the IPv6 pseudo-header. Returns the
 * length (8 + payload_len), or -ENOSPC / -EAFNOSUPPORT. */
int sk_icmp_echo_build(int family, uint16_t id, uint16_t seq, int64_t ts_ns, size_t payload_len, void *buf, size_t cap);

typedef enum sk_icmp_kind {
    SK_ICMP_ECHO_REPLY = 1,
    SK_ICMP_ECHO_REQUEST,  /* our own request, seen on loopback by a raw socket */
    SK_ICMP_TIME_EXCEEDED, /* TTL / hop limit reached 0 on the way */
    SK_ICMP_UNREACHABLE,   /* destination unreachable, code says why */
    SK_ICMP_OTHER,
} sk_icmp_kind;

/* What a received ICMP packet says. Pointers are views into the caller's
 * buffer. */
typedef struct sk_icmp_info {
    sk_icmp_kind kind;
    uint8_t type, code;
    int ttl;      /* TTL from the IPv4 header when present, else -1 */
    bool has_src; /* src is the IPv4 header's source */
    struct sockaddr_storage src;
    uint16_t id, seq;    /* echo: the packet's; errors: the quoted echo probe's */
    const uint8_t *data; /* echo: the payload */
    size_t data_len;
    int64_t ts_ns; /* echo: the payload's timestamp, -1 if too short */
    bool data_ok;  /* echo: the pattern after the timestamp is intact */
    /* Errors: the original packet the router or host quoted back. */
    int quoted_proto; /* IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, another, or -1 if absent */
    struct sockaddr_storage quoted_dst;
    uint16_t quoted_sport, quoted_dport; /* UDP ports of the quoted probe */
} sk_icmp_info;

enum {
    SK_ICMP_IPHDR = 1 << 0, /* pkt starts with the IPv4 header (raw IPv4 sockets) */
    SK_ICMP_NOSUM = 1 << 1, /* do not verify the ICMPv4 checksum */
};

/* Parse one ICMP packet of family AF_INET or AF_INET6. ICMPv4 checksums are
 * verified; ICMPv6 ones are not, because the kernel verified them against
 * the pseudo-header before delivery. Returns 0, SK_EICMPSHORT (truncated),
 * SK_EICMPSUM (bad checksum) or SK_EICMPBAD (bad IP header, not ICMP).
 * An error whose quoted packet is cut short still parses, with
 * quoted_proto -1. */
int sk_icmp_parse(int family, const void *pkt, size_t len, int flags, sk_icmp_info *out);

/* "Time to live exceeded", "Destination Port Unreachable", ... */
const char *sk_icmp_describe(int family, uint8_t type, uint8_t code);

#ifdef __cplusplus
}
#endif

#endif
