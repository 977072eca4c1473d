/* Addresses: parse "host:port" text, resolve it to every socket address,
 * and format socket addresses back to text. */
#ifndef SOCKIT_ADDR_H
#define SOCKIT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SK_HOST_MAX 256
#define SK_SERV_MAX 64
/* Longest text sk_addr_format writes: "[" v6 "%" scope "]:" port. */
#define SK_ADDRSTRLEN 80

/* One resolved socket address. */
typedef struct sk_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} sk_addr;

/* The two halves of an address text, as the user wrote them. */
typedef struct sk_hostport {
    char host[SK_HOST_MAX]; /* "" means "any" for a listener, loopback otherwise */
    char port[SK_SERV_MAX]; /* digits or a service name */
} sk_hostport;

/* Split address text into host and port. Accepted forms:
 *   host:port   host:service-name   [v6addr]:port   :port
 * Rejected, each with its own code so the message says what is wrong: a
 * bare IPv6 address without brackets (SK_EV6NOBRACKET), a URL
 * (SK_EADDRURL), more colons that do not make an IPv6 address
 * (SK_EADDRCOLONS), a port alone (SK_EPORTONLY), a missing port
 * (SK_ENOPORT). Returns 0 or a negative SK_E* code. */
int sk_addr_split(const char *text, sk_hostport *out);

/* Look up the port for a port text: digits (0..65535) or a name from the
 * services database for the given protocol ("tcp" or "udp"). A signed
 * number ("-1", "+80") is a bad port, not a service name.
 * Returns the port (>= 0) or SK_EBADPORT / SK_ENOSERVICE. */
int sk_port_lookup(const char *port, const char *proto);

/* Flags for sk_addr_resolve. */
enum {
    SK_RESOLVE_PASSIVE = 1 << 0, /* for bind(): empty host means the wildcard */
    SK_RESOLVE_NUMERIC = 1 << 1, /* no DNS: host must be a numeric address */
    SK_RESOLVE_V4ONLY = 1 << 2,
    SK_RESOLVE_V6ONLY = 1 << 3,
};

/* Resolve address text to every socket address it names, in the order the
 * resolver gives, for socktype SOCK_STREAM or SOCK_DGRAM. Writes at most max
 * entries into out. Returns the count (>= 1) or a negative code. */
int sk_addr_resolve(const char *text, int socktype, int flags, sk_addr *out, size_t max);

/* An address block: "198.18.0.0/15", "fd00:5ec::/64", or one address
 * ("127.0.0.1" is /32, "::1" /128). */
typedef struct sk_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned bits;
    unsigned char addr[16];
} sk_cidr;

/* Parse text into *out (the host bits are cleared: 10.1.2.3/8 is 10.0.0.0/8).
 * Returns 0 or SK_EADDRSYNTAX. */
int sk_cidr_parse(const char *text, sk_cidr *out);

/* Whether the address in sa lies in c; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, what a dual-stack socket reports) counts as IPv4. */
bool sk_cidr_match(const sk_cidr *c, const struct sockaddr *sa);

/* Set the port of an IPv4 or IPv6 address (others are left alone). */
void sk_addr_set_port(sk_addr *a, uint16_t port);

/* Format a socket address as "1.2.3.4:80" or "[::1]:80" into buf (at least
 * SK_ADDRSTRLEN bytes is always enough). Returns buf. */
char *sk_addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* The port of an AF_INET or AF_INET6 address, or -1. */
int sk_addr_port(const struct sockaddr *sa);

/* True when the address is a multicast or the limited broadcast address:
 * a server that received a datagram sent to it must reply from a unicast
 * source. */
bool sk_addr_is_multicast(const struct sockaddr *sa);

#ifdef __cplusplus
}
#endif

#endif
