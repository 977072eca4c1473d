/* UDP: datagram sockets, broadcast, multicast groups and interfaces.
 * Every call returns >= 0 or a negative code (-errno or SK_E*). */
#ifndef SOCKIT_UDP_H
#define SOCKIT_UDP_H

#include <stdbool.h>
#include <sockit/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP). */
#define SK_UDP_MAX_PAYLOAD 65507
/* Over IPv6: 65535 - 8, since IPv6's payload length leaves its own 40-byte
 * header out (jumbograms aside). A v4-mapped peer is IPv4. */
#define SK_UDP_MAX_PAYLOAD6 65527

/* The largest payload a datagram to or from sa carries: SK_UDP_MAX_PAYLOAD6
 * for IPv6, SK_UDP_MAX_PAYLOAD for IPv4 and IPv4-mapped addresses. */
size_t sk_udp_max_payload(const struct sockaddr *sa);

enum {
    SK_UDP_BIND = 1 << 0,      /* bind to the address instead of only taking its family */
    SK_UDP_REUSEPORT = 1 << 1, /* SO_REUSEPORT: several sockets share one port */
    SK_UDP_V6ONLY = 1 << 2,    /* IPV6_V6ONLY on an IPv6 socket */
    SK_UDP_NONBLOCK = 1 << 3,
    SK_UDP_PKTINFO = 1 << 4, /* deliver the destination address and interface of each datagram */
};

/* Create a UDP socket of a's family (close-on-exec), set the options the
 * flags name and, with SK_UDP_BIND, bind it to a (SO_REUSEADDR is set so a
 * restarted server binds at once). Returns the fd. */
int sk_udp_socket(const sk_addr *a, int flags);

/* SO_BROADCAST: allow sending to broadcast addresses. */
int sk_udp_set_broadcast(int fd, bool on);

/* The TTL (IPv4) or hop limit (IPv6) of multicast datagrams sent on fd;
 * family is the socket's. ttl 0..255. */
int sk_udp_set_multicast_ttl(int fd, int family, int ttl);

/* Send multicast datagrams out of the interface named ifname. Returns 0,
 * -ENODEV for an unknown interface. */
int sk_udp_set_multicast_if(int fd, int family, const char *ifname);

/* Join a multicast group given as "GROUP" or "GROUP@IF" (224.1.2.3@eth0,
 * ff02::1234@eth0). Without an interface the kernel picks one by route.
 * Returns the group's family (AF_INET or AF_INET6), SK_EADDRSYNTAX when
 * GROUP is not a numeric address, -EINVAL when it is not a multicast one,
 * -ENODEV for an unknown interface, -EAFNOSUPPORT when the socket is of the
 * other family. */
int sk_udp_join(int fd, int family, const char *group);

/* The family a "GROUP[@IF]" text names (AF_INET or AF_INET6), or
 * SK_EADDRSYNTAX. */
int sk_udp_group_family(const char *group);

/* Check a "GROUP[@IF]" text before any socket exists, so a mistake is
 * reported as such and not as the failure of a later setsockopt: returns
 * the group's family, SK_EADDRSYNTAX when GROUP is not a numeric address,
 * SK_ENOTGROUP when it is not a multicast one, -ENODEV when IF names no
 * interface here. */
int sk_udp_group_check(const char *group);

#ifdef __cplusplus
}
#endif

#endif
