/* ICMP sockets: raw when privileged, the unprivileged ICMP datagram kind
 * otherwise, and the socket error queue that carries ICMP errors to
 * unprivileged senders (IP_RECVERR). */
#include <sockit/icmp_sock.h>

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/error.h>

/* A raw socket sees every ICMP packet the host receives; let the kernel
 * drop all but echo replies and the errors a probe can cause. */
static void filter_raw(int fd, int family)
{
    if (family == AF_INET) {
        struct icmp_filter f = {.data =
                                    ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED))};
        setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f);
    } else {
        struct icmp6_filter f;
        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
        ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
        ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
        ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
        setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    }
}

int sk_icmp_open(int family, sk_icmp_sock want, sk_icmp_sock *kind)
{
    int proto = family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    int raw_err = 0, fd;

    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (want != SK_ICMP_DGRAM) {
        fd = socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
        if (fd >= 0) {
            filter_raw(fd, family);
            *kind = SK_ICMP_RAW;
            return fd;
        }
        raw_err = errno;
        if (want == SK_ICMP_RAW)
            return -raw_err;
    }
    /* Allowed when the process's group is inside net.ipv4.ping_group_range
     * (for IPv6 too); otherwise EACCES. The kernel then owns the echo
     * identifier (the socket's "port") and delivers only our replies. */
    fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
    if (fd >= 0) {
        *kind = SK_ICMP_DGRAM;
        return fd;
    }
    if ((errno == EACCES || errno == EPERM) && (raw_err == 0 || raw_err == EPERM || raw_err == EACCES))
        return SK_ENOICMP;
    return -errno;
}

int sk_icmp_recverr(int fd, int family)
{
    int one = 1, rc;
    if (family == AF_INET6) {
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
        if (rc == 0)
            rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    } else {
        rc = setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
        if (rc == 0)
            rc = setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
    }
    return rc < 0 ? -errno : 0;
}

long sk_icmp_read_error(int fd, void *buf, size_t cap, sk_icmp_qerr *out)
{
    union {
        char buf[512];
        struct cmsghdr align;
    } ctl;
    struct sockaddr_storage name = {0};
    struct iovec iov = {buf, cap};
    struct msghdr m = {.msg_name = &name,
                       .msg_namelen = sizeof name,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    ssize_t n;

    memset(out, 0, sizeof *out);
    out->ttl = -1;
    do
        n = recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (m.msg_namelen > 0 && m.msg_namelen <= sizeof out->orig_dst)
        memcpy(&out->orig_dst, &name, m.msg_namelen);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            out->err = (int)ee.ee_errno;
            out->icmp = ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6;
            out->type = ee.ee_type;
            out->code = ee.ee_code;
            /* The offender's address follows the extended error. */
            const struct sockaddr *off = (const struct sockaddr *)(CMSG_DATA(c) + sizeof ee);
            size_t room = c->cmsg_len - CMSG_LEN(sizeof ee);
            if (room >= sizeof(sa_family_t) && off->sa_family == AF_INET && room >= sizeof(struct sockaddr_in))
                memcpy(&out->offender, off, sizeof(struct sockaddr_in));
            else if (room >= sizeof(sa_family_t) && off->sa_family == AF_INET6 && room >= sizeof(struct sockaddr_in6))
                memcpy(&out->offender, off, sizeof(struct sockaddr_in6));
        } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
                   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
            int ttl;
            memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
            out->ttl = ttl;
        }
    }
    return (long)n;
}
