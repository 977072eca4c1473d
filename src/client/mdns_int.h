/* What the mDNS querier and responder share: the sockets on port 5353 with
 * the groups joined on each interface, the interfaces' addresses, and
 * sending to the group (or to one peer) out of one interface. */
#ifndef SOCKIT_CLIENT_MDNS_INT_H
#define SOCKIT_CLIENT_MDNS_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sockit/mdns.h>

#define SK__MDNS_IFS 16
#define SK__MDNS_IFADDRS 8
#define SK__MDNS_PKT 9000 /* RFC 6762 17: a datagram may reach 9000 bytes */

typedef struct sk__mdns_if {
    unsigned index;
    char name[SK_MDNS_IFNAME];
    size_t n4, n6;
    uint8_t v4[SK__MDNS_IFADDRS][4];
    uint8_t v6[SK__MDNS_IFADDRS][16]; /* global ones first, then link-local */
} sk__mdns_if;

typedef struct sk__mdns_net {
    int fd4, fd6;
    const char *only; /* the one interface asked for, or NULL */
    int family;
    sk__mdns_if ifs[SK__MDNS_IFS];
    size_t nifs;
    /* What was sent lately, to know our own packets when the kernel loops
     * them back (IP_MULTICAST_LOOP, needed for stacks on the same host). */
    uint64_t sent[16];
    int64_t sent_at[16];
    unsigned sent_next;
} sk__mdns_net;

typedef struct sk__mdns_pkt {
    uint8_t buf[SK__MDNS_PKT];
    size_t len;
    struct sockaddr_storage from;
    socklen_t fromlen;
    unsigned ifindex;
    char from_text[64]; /* the address alone: "198.18.0.2", "fe80::1%eth0" */
    uint16_t from_port;
} sk__mdns_pkt;

/* Find the interfaces (ifname, or every one up with multicast and not
 * loopback), open the sockets of family (0: both; a family with no socket
 * is left out) and join the groups on each interface. */
int sk__mdns_open(sk__mdns_net *n, const char *ifname, int family);
void sk__mdns_close(sk__mdns_net *n);

/* Read the interfaces' addresses (getifaddrs: a netlink dump, which can
 * wait seconds for the kernel's rtnl lock while namespaces are created or
 * deleted; so only at open, in the caller's thread). */
int sk__mdns_addrs(sk__mdns_net *n);

/* Address changes without that wait: a netlink socket subscribed to the
 * IPv4 and IPv6 address groups (non-blocking; watch it on a loop), and the
 * reader that applies each RTM_NEWADDR / RTM_DELADDR to the interfaces
 * already known (an address appearing after DAD, one removed). Returns the
 * fd or -errno; read returns the number of changes applied. */
int sk__mdns_monitor_open(void);
int sk__mdns_monitor_read(sk__mdns_net *n, int fd);

const sk__mdns_if *sk__mdns_if_find(const sk__mdns_net *n, unsigned index);

/* One datagram from fd into p. Returns its length, -EAGAIN, or -errno. */
int sk__mdns_recv(sk__mdns_net *n, int fd, sk__mdns_pkt *p);

/* Whether p is a copy of one we sent within the last two seconds. */
bool sk__mdns_own(sk__mdns_net *n, const sk__mdns_pkt *p, int64_t now_ms);

/* Send buf out of interface ifindex of family: to the group, or to *to
 * (unicast). Returns 0 or -errno. */
int sk__mdns_send(sk__mdns_net *n, int family, unsigned ifindex, const void *buf, size_t len, const struct sockaddr *to,
                  socklen_t tolen);

/* Send buf to the group on every interface and family. Returns 0 when at
 * least one send went out, else the last error. */
int sk__mdns_send_all(sk__mdns_net *n, const void *buf, size_t len);

/* "_echo._tcp" from "_echo._tcp", "_echo._tcp.local" or "_echo._tcp.local."
 * into out. Returns 0 or -EINVAL. */
int sk__mdns_type_norm(const char *type, char *out, size_t cap);

/* A random number in [lo, hi]. */
int64_t sk__mdns_random(int64_t lo, int64_t hi);

#endif
