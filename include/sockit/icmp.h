/* ICMP for ping and trace-route: the Internet checksum, echo requests,
 * parsing replies and errors (ICMPv4 and ICMPv6, with or without the IP
 * header a raw IPv4 socket delivers), and opening an ICMP socket with or
 * without privilege. The parser owns no memory and never reads past len. */
#ifndef SOCKIT_ICMP_H
#define SOCKIT_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

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

typedef enum sk_icmp_sock {
    SK_ICMP_ANY = 0,
    SK_ICMP_RAW = 1,   /* SOCK_RAW: root or CAP_NET_RAW; sees every ICMP packet */
    SK_ICMP_DGRAM = 2, /* SOCK_DGRAM + IPPROTO_ICMP(V6): unprivileged, kernel-filtered by id */
} sk_icmp_sock;

/* Open an ICMP socket of family: a raw one when allowed (want ANY or RAW),
 * otherwise the unprivileged datagram kind (want ANY or DGRAM). Sets *kind
 * to the one opened. The socket is close-on-exec and non-blocking.
 * Returns the fd, SK_ENOICMP when neither is permitted, or -errno. */
int sk_icmp_open(int family, sk_icmp_sock want, sk_icmp_sock *kind);

/* An ICMP error taken from a socket's error queue (IP_RECVERR /
 * IPV6_RECVERR), as the kernel reports it to unprivileged sockets. */
typedef struct sk_icmp_qerr {
    int err;   /* errno the kernel mapped it to (EHOSTUNREACH, ...) */
    bool icmp; /* it came from an ICMP packet (else a local error) */
    uint8_t type, code;
    struct sockaddr_storage offender; /* who sent the ICMP error */
    int ttl;                          /* hop limit of the error packet, -1 if unknown */
    struct sockaddr_storage orig_dst; /* where the failed packet was going (UDP: with its port) */
} sk_icmp_qerr;

/* Ask for ICMP errors on fd's error queue and for the TTL / hop limit of
 * what fd receives. family is the socket's. */
int sk_icmp_recverr(int fd, int family);

/* Read one queued error. buf gets the original packet's data as the kernel
 * returns it (UDP: the probe's payload; ICMP datagram sockets: the echo
 * header and payload). Returns its length, -EAGAIN when the queue is
 * empty, or -errno. */
long sk_icmp_read_error(int fd, void *buf, size_t cap, sk_icmp_qerr *out);

#endif
