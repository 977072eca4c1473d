/* UDP sockets: creation with the server flags, broadcast, and multicast
 * membership, TTL and interface. */
#include <sockit/udp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/error.h>

int sk_udp_socket(const sk_addr *a, int flags)
{
    int one = 1, err;
    int type = SOCK_DGRAM | SOCK_CLOEXEC | ((flags & SK_UDP_NONBLOCK) ? SOCK_NONBLOCK : 0);
    int family = a->ss.ss_family;
    int fd = socket(family, type, IPPROTO_UDP);

    if (fd < 0)
        return -errno;
    if ((flags & SK_UDP_BIND) && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        goto fail;
    if ((flags & SK_UDP_REUSEPORT) && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        goto fail;
    if (family == AF_INET6) {
        int v6only = (flags & SK_UDP_V6ONLY) ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0)
            goto fail;
    }
    if (flags & SK_UDP_PKTINFO) {
        int rc = family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                                    : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
        if (rc < 0)
            goto fail;
    }
    if ((flags & SK_UDP_BIND) && bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
        goto fail;
    return fd;
fail:
    err = -errno;
    close(fd);
    return err;
}

int sk_udp_set_broadcast(int fd, bool on)
{
    int v = on;
    return setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, sizeof v) < 0 ? -errno : 0;
}

int sk_udp_set_multicast_ttl(int fd, int family, int ttl)
{
    int rc;
    if (ttl < 0 || ttl > 255)
        return -EINVAL;
    if (family == AF_INET6) {
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
    } else {
        unsigned char t = (unsigned char)ttl;
        rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof t);
    }
    return rc < 0 ? -errno : 0;
}

int sk_udp_set_multicast_if(int fd, int family, const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    int rc;

    if (idx == 0)
        return -ENODEV;
    if (family == AF_INET6) {
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
    } else {
        struct ip_mreqn m = {.imr_ifindex = (int)idx};
        rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
    }
    return rc < 0 ? -errno : 0;
}

/* Split "GROUP[@IF]" and parse the group. Returns its family. */
static int parse_group(const char *text, struct sockaddr_storage *ss, unsigned *ifindex)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *at = strchr(text, '@');
    size_t hl = at ? (size_t)(at - text) : strlen(text);

    if (hl == 0 || hl >= sizeof host)
        return SK_EADDRSYNTAX;
    memcpy(host, text, hl);
    host[hl] = '\0';
    *ifindex = 0;
    if (at) {
        *ifindex = if_nametoindex(at + 1);
        if (*ifindex == 0)
            return -ENODEV;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return AF_INET6;
    }
    return SK_EADDRSYNTAX;
}

int sk_udp_group_family(const char *group)
{
    struct sockaddr_storage ss;
    unsigned idx;
    int fam = parse_group(group, &ss, &idx);
    return fam == -ENODEV ? (strchr(group, ':') ? AF_INET6 : AF_INET) : fam;
}

static bool is_group(const struct sockaddr_storage *ss, int fam)
{
    return sk_addr_is_multicast((const struct sockaddr *)ss) &&
           !(fam == AF_INET && ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_BROADCAST));
}

int sk_udp_group_check(const char *group)
{
    struct sockaddr_storage ss;
    unsigned idx;
    const char *at = strchr(group, '@');
    char host[INET6_ADDRSTRLEN + 1];
    size_t hl = at ? (size_t)(at - group) : strlen(group);

    /* The group first: "198.18.0.1@nosuch" is wrong twice, and the address
     * is the mistake to name. */
    if (hl == 0 || hl >= sizeof host)
        return SK_EADDRSYNTAX;
    memcpy(host, group, hl);
    host[hl] = '\0';
    int fam = parse_group(host, &ss, &idx);
    if (fam < 0)
        return fam;
    if (!is_group(&ss, fam))
        return SK_ENOTGROUP;
    if (at && if_nametoindex(at + 1) == 0)
        return -ENODEV;
    return fam;
}

int sk_udp_join(int fd, int family, const char *group)
{
    struct sockaddr_storage ss;
    unsigned idx;
    int fam = parse_group(group, &ss, &idx);

    if (fam < 0)
        return fam;
    if (!is_group(&ss, fam))
        return -EINVAL;
    if (fam != family)
        return -EAFNOSUPPORT;
    if (fam == AF_INET) {
        struct ip_mreqn m = {.imr_multiaddr = ((struct sockaddr_in *)&ss)->sin_addr, .imr_ifindex = (int)idx};
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0)
            return -errno;
    } else {
        struct ipv6_mreq m = {.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&ss)->sin6_addr, .ipv6mr_interface = idx};
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) < 0)
            return -errno;
    }
    return fam;
}

size_t sk_udp_max_payload(const struct sockaddr *sa)
{
    if (sa->sa_family != AF_INET6)
        return SK_UDP_MAX_PAYLOAD;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_V4MAPPED(a) ? SK_UDP_MAX_PAYLOAD : SK_UDP_MAX_PAYLOAD6;
}
