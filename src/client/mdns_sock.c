/* The sockets of multicast DNS: port 5353 bound on the wildcard with
 * SO_REUSEADDR (avahi, python-zeroconf and others bind it too), the group
 * 224.0.0.251 / ff02::fb joined on each interface, IP_PKTINFO /
 * IPV6_RECVPKTINFO so every datagram says which interface it came in on,
 * TTL / hop limit 255 (RFC 6762 11), and sends pinned to an interface by
 * the same pktinfo. */
#include "mdns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>

static const uint8_t group6[16] = {0xff, 0x02, [15] = 0xfb};
#define GROUP4 htonl(0xe00000fbu)

int64_t sk__mdns_random(int64_t lo, int64_t hi)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
        r = (uint32_t)rand();
    return hi > lo ? lo + (int64_t)(r % (uint64_t)(hi - lo + 1)) : lo;
}

static bool wanted(const struct ifaddrs *i, const char *only)
{
    if (only)
        return strcmp(i->ifa_name, only) == 0;
    return (i->ifa_flags & IFF_UP) && (i->ifa_flags & IFF_MULTICAST) && !(i->ifa_flags & IFF_LOOPBACK);
}

static sk__mdns_if *if_get(sk__mdns_net *n, const char *name)
{
    unsigned idx = if_nametoindex(name);
    if (idx == 0)
        return NULL;
    for (size_t k = 0; k < n->nifs; k++)
        if (n->ifs[k].index == idx)
            return &n->ifs[k];
    if (n->nifs == SK__MDNS_IFS)
        return NULL;
    sk__mdns_if *f = &n->ifs[n->nifs++];
    memset(f, 0, sizeof *f);
    f->index = idx;
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

int sk__mdns_addrs(sk__mdns_net *n)
{
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) < 0)
        return -errno;
    for (size_t k = 0; k < n->nifs; k++)
        n->ifs[k].n4 = n->ifs[k].n6 = 0;
    /* Two passes over IPv6: global addresses first, link-local after. */
    for (int pass = 0; pass < 3; pass++) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (i->ifa_addr == NULL || !wanted(i, n->only))
                continue;
            sk__mdns_if *f = if_get(n, i->ifa_name);
            if (f == NULL)
                continue;
            int fam = i->ifa_addr->sa_family;
            if (pass == 0 && fam == AF_INET && f->n4 < SK__MDNS_IFADDRS) {
                memcpy(f->v4[f->n4++], &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
            } else if (pass > 0 && fam == AF_INET6 && f->n6 < SK__MDNS_IFADDRS) {
                const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (IN6_IS_ADDR_LINKLOCAL(a) == (pass == 2))
                    memcpy(f->v6[f->n6++], a, 16);
            }
        }
    }
    freeifaddrs(ifs);
    return 0;
}

int sk__mdns_monitor_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Add or drop one address of f; IPv6 keeps global addresses before
 * link-local ones. */
static int apply(sk__mdns_if *f, int family, const uint8_t *a, bool add)
{
    size_t *n = family == AF_INET ? &f->n4 : &f->n6, len = family == AF_INET ? 4 : 16;
    uint8_t *list = family == AF_INET ? &f->v4[0][0] : &f->v6[0][0];
    for (size_t i = 0; i < *n; i++) {
        if (memcmp(list + i * len, a, len) != 0)
            continue;
        if (add)
            return 0;
        memmove(list + i * len, list + (i + 1) * len, (*n - i - 1) * len);
        (*n)--;
        return 1;
    }
    if (!add || *n == SK__MDNS_IFADDRS)
        return 0;
    size_t at = *n;
    if (family == AF_INET6 && !IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a))
        for (at = 0; at < *n && !IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)(list + at * len)); at++)
            ;
    memmove(list + (at + 1) * len, list + at * len, (*n - at) * len);
    memcpy(list + at * len, a, len);
    (*n)++;
    return 1;
}

int sk__mdns_monitor_read(sk__mdns_net *n, int fd)
{
    uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    int changes = 0;
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? changes : -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)got); h = NLMSG_NEXT(h, got)) {
            if (h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR)
                continue;
            const struct ifaddrmsg *ifa = NLMSG_DATA(h);
            sk__mdns_if *f = NULL;
            for (size_t k = 0; k < n->nifs; k++)
                if (n->ifs[k].index == ifa->ifa_index)
                    f = &n->ifs[k];
            if (f == NULL || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                continue;
            const uint8_t *addr = NULL, *local = NULL;
            int len = (int)IFA_PAYLOAD(h);
            for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
                if (rta->rta_type == IFA_ADDRESS)
                    addr = RTA_DATA(rta);
                else if (rta->rta_type == IFA_LOCAL)
                    local = RTA_DATA(rta);
            }
            /* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a
             * point-to-point IPv4 link. IPv6 sends IFA_ADDRESS alone. */
            const uint8_t *a = local ? local : addr;
            if (a)
                changes += apply(f, ifa->ifa_family, a, h->nlmsg_type == RTM_NEWADDR);
        }
    }
}

static int open_family(sk__mdns_net *n, int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1, ttl = 255, rc = 0;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(SK_MDNS_PORT);
        len = sizeof *s;
        if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0)
            rc = -errno;
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(SK_MDNS_PORT);
        len = sizeof *s;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) < 0)
            rc = -errno;
    }
    if (rc == 0 && bind(fd, (struct sockaddr *)&ss, len) < 0)
        rc = -errno;
    /* Join on every interface; one that cannot (no IPv4 address yet, IPv6
     * off) is left out of that family. */
    int joined = 0;
    for (size_t k = 0; rc == 0 && k < n->nifs; k++) {
        int r;
        if (family == AF_INET) {
            struct ip_mreqn m = {.imr_multiaddr.s_addr = GROUP4, .imr_ifindex = (int)n->ifs[k].index};
            r = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
        } else {
            struct ipv6_mreq m = {.ipv6mr_interface = n->ifs[k].index};
            memcpy(&m.ipv6mr_multiaddr, group6, 16);
            r = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m);
        }
        joined += r == 0;
    }
    if (rc == 0 && joined == 0)
        rc = SK_ENOADDR;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int sk__mdns_open(sk__mdns_net *n, const char *ifname, int family)
{
    memset(n, 0, sizeof *n);
    n->fd4 = n->fd6 = -1;
    n->only = ifname;
    n->family = family;
    if (ifname && if_nametoindex(ifname) == 0)
        return -ENODEV;
    int rc = sk__mdns_addrs(n);
    if (rc < 0)
        return rc;
    if (ifname && n->nifs == 0)
        if_get(n, ifname); /* an interface with no address at all */
    if (n->nifs == 0)
        return SK_ENOADDR;
    int e4 = 0, e6 = 0;
    if (family != AF_INET6 && (n->fd4 = open_family(n, AF_INET)) < 0)
        e4 = n->fd4;
    if (family != AF_INET && (n->fd6 = open_family(n, AF_INET6)) < 0)
        e6 = n->fd6;
    if (n->fd4 < 0 && n->fd6 < 0) {
        n->fd4 = n->fd6 = -1;
        return e4 ? e4 : e6;
    }
    if (n->fd4 < 0)
        n->fd4 = -1;
    if (n->fd6 < 0)
        n->fd6 = -1;
    return 0;
}

void sk__mdns_close(sk__mdns_net *n)
{
    if (n->fd4 >= 0)
        close(n->fd4);
    if (n->fd6 >= 0)
        close(n->fd6);
    n->fd4 = n->fd6 = -1;
}

const sk__mdns_if *sk__mdns_if_find(const sk__mdns_net *n, unsigned index)
{
    for (size_t k = 0; k < n->nifs; k++)
        if (n->ifs[k].index == index)
            return &n->ifs[k];
    return NULL;
}

static uint64_t hash(const uint8_t *p, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h ^ len;
}

static void remember(sk__mdns_net *n, const void *buf, size_t len)
{
    unsigned k = n->sent_next++ % 16;
    n->sent[k] = hash(buf, len);
    n->sent_at[k] = sk_now_ms();
}

bool sk__mdns_own(sk__mdns_net *n, const sk__mdns_pkt *p, int64_t now_ms)
{
    uint64_t h = hash(p->buf, p->len);
    for (int k = 0; k < 16; k++)
        if (n->sent[k] == h && now_ms - n->sent_at[k] < 2000)
            return true;
    return false;
}

int sk__mdns_recv(sk__mdns_net *n, int fd, sk__mdns_pkt *p)
{
    (void)n;
    char cbuf[256];
    struct iovec iov = {p->buf, sizeof p->buf};
    struct msghdr mh = {.msg_name = &p->from,
                        .msg_namelen = sizeof p->from,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    ssize_t got;
    do
        got = recvmsg(fd, &mh, MSG_TRUNC);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if ((size_t)got > sizeof p->buf)
        return -EMSGSIZE;
    p->len = (size_t)got;
    p->fromlen = mh.msg_namelen;
    p->ifindex = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            p->ifindex = (unsigned)pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            p->ifindex = pi.ipi6_ifindex;
        }
    }
    p->from_text[0] = '\0';
    p->from_port = 0;
    if (p->from.ss_family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&p->from;
        inet_ntop(AF_INET, &s->sin_addr, p->from_text, sizeof p->from_text);
        p->from_port = ntohs(s->sin_port);
    } else if (p->from.ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&p->from;
        char ifn[IF_NAMESIZE] = "";
        inet_ntop(AF_INET6, &s->sin6_addr, p->from_text, sizeof p->from_text);
        if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) && if_indextoname(p->ifindex, ifn)) {
            size_t l = strlen(p->from_text);
            snprintf(p->from_text + l, sizeof p->from_text - l, "%%%s", ifn);
        }
        if (s->sin6_scope_id == 0)
            s->sin6_scope_id = p->ifindex;
        p->from_port = ntohs(s->sin6_port);
    }
    return (int)got;
}

int sk__mdns_send(sk__mdns_net *n, int family, unsigned ifindex, const void *buf, size_t len, const struct sockaddr *to,
                  socklen_t tolen)
{
    int fd = family == AF_INET ? n->fd4 : n->fd6;
    struct sockaddr_storage g = {0};
    char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))] = {0};
    struct iovec iov = {(void *)buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf};
    struct cmsghdr *c = (struct cmsghdr *)cbuf;

    if (fd < 0)
        return -EAFNOSUPPORT;
    if (to == NULL) {
        if (family == AF_INET) {
            struct sockaddr_in *s = (struct sockaddr_in *)&g;
            s->sin_family = AF_INET;
            s->sin_port = htons(SK_MDNS_PORT);
            s->sin_addr.s_addr = GROUP4;
            tolen = sizeof *s;
        } else {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)&g;
            s->sin6_family = AF_INET6;
            s->sin6_port = htons(SK_MDNS_PORT);
            memcpy(&s->sin6_addr, group6, 16);
            s->sin6_scope_id = ifindex;
            tolen = sizeof *s;
        }
        to = (struct sockaddr *)&g;
    }
    mh.msg_name = (void *)to;
    mh.msg_namelen = tolen;
    if (family == AF_INET) {
        struct in_pktinfo pi = {.ipi_ifindex = (int)ifindex};
        mh.msg_controllen = CMSG_SPACE(sizeof pi);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else {
        struct in6_pktinfo pi = {.ipi6_ifindex = ifindex};
        mh.msg_controllen = CMSG_SPACE(sizeof pi);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    remember(n, buf, len);
    ssize_t s;
    do
        s = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (s < 0 && errno == EINTR);
    return s < 0 ? -errno : 0;
}

int sk__mdns_send_all(sk__mdns_net *n, const void *buf, size_t len)
{
    int ok = 0, err = -ENETUNREACH;
    for (size_t k = 0; k < n->nifs; k++) {
        for (int f = 0; f < 2; f++) {
            int fam = f ? AF_INET6 : AF_INET;
            if ((fam == AF_INET ? n->fd4 : n->fd6) < 0)
                continue;
            int rc = sk__mdns_send(n, fam, n->ifs[k].index, buf, len, NULL, 0);
            if (rc == 0)
                ok++;
            else
                err = rc;
        }
    }
    return ok ? 0 : err;
}

int sk__mdns_type_norm(const char *type, char *out, size_t cap)
{
    char l1[SK_DNS_LABEL_MAX + 1], l2[SK_DNS_LABEL_MAX + 1];
    const char *rest;
    if (type == NULL || sk_dns_label_first(type, l1, sizeof l1, &rest) < 2 || l1[0] != '_' ||
        sk_dns_label_first(rest, l2, sizeof l2, &rest) < 0 || (strcmp(l2, "_tcp") != 0 && strcmp(l2, "_udp") != 0))
        return -EINVAL;
    if (*rest && !sk_dns_name_equal(rest, "local"))
        return -EINVAL;
    char e1[SK_DNS_NAME_MAX];
    if (sk_dns_label_escape(l1, strlen(l1), e1, sizeof e1) < 0)
        return -EINVAL;
    if ((size_t)snprintf(out, cap, "%s.%s", e1, l2) >= cap)
        return -ENOSPC;
    return 0;
}
