/* Listening sockets for TCP and UDP servers (listen.h). */
#include "listen.h"
#include "server_trace.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/udp.h>

/* Whether datagrams to this bound address can be sent to more than one
 * address of ours: the wildcard (any local address, broadcast, groups
 * joined), a group or the broadcast address itself, a v4-mapped address
 * (its IPv4 side may be any of these), or any address when --join asked.
 * A socket bound to one unicast address receives only what was sent to
 * exactly that address, and its replies leave from it without help. */
static bool udp_dest_varies(const sk_server *s, const sk_addr *a)
{
    if (s->cfg.joins && s->cfg.joins[0])
        return true;
    if (a->ss.ss_family == AF_INET) {
        uint32_t ip = ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr);
        return ip == INADDR_ANY || ip == INADDR_BROADCAST || IN_MULTICAST(ip);
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct in6_addr *ip = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
        return IN6_IS_ADDR_UNSPECIFIED(ip) || IN6_IS_ADDR_MULTICAST(ip) || IN6_IS_ADDR_V4MAPPED(ip);
    }
    return true;
}

/* A bound UDP server socket: where the destination of a request can be
 * more than one address, it is reported (PKTINFO) so the reply leaves from
 * the address it was sent to, and broadcast and group requests are told
 * apart. Bound to one unicast address, nothing is asked: that costs the
 * kernel a control message on every receive and every send. */
static int udp_open(const sk_server *s, const sk_addr *a, int flags)
{
    int uflags = SK_UDP_BIND | (udp_dest_varies(s, a) ? SK_UDP_PKTINFO : 0);
    if (flags & SK_LISTEN_REUSEPORT)
        uflags |= SK_UDP_REUSEPORT;
    if (flags & SK_LISTEN_V6ONLY)
        uflags |= SK_UDP_V6ONLY;
    if (flags & SK_LISTEN_NONBLOCK)
        uflags |= SK_UDP_NONBLOCK;
    int fd = SK__TRACER(s) ? sk__traced_udp_open(SK__TRACER(s), a, uflags) : sk_udp_socket(a, uflags);
    if (fd >= 0) {
        /* Bursts of large datagrams overflow the default receive buffer
         * quickly; ask for more (the kernel caps it at rmem_max). */
        int sz = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    }
    return fd;
}

static int open_one(const sk_server *s, const sk_addr *a, int n, bool reuseport)
{
    /* When a name gives both families (localhost, the wildcard), each
     * listener takes only its own so the two binds do not collide. */
    int flags = SK_LISTEN_NONBLOCK | (n > 1 ? SK_LISTEN_V6ONLY : 0) | (reuseport ? SK_LISTEN_REUSEPORT : 0);
    if (s->cfg.proto == SK_PROTO_UDP)
        return udp_open(s, a, flags);
    int fd = SK__TRACER(s) ? sk__traced_listen(SK__TRACER(s), a, s->cfg.backlog, flags)
                           : sk_tcp_listen(a, s->cfg.backlog, flags);
    int one = 1;
    if (fd >= 0 && s->cfg.service->nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (fd >= 0 && ((s->cfg.defer_accept_s > 0 && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &s->cfg.defer_accept_s,
                                                             sizeof s->cfg.defer_accept_s) < 0) ||
                    (s->cfg.fastopen_qlen > 0 && setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &s->cfg.fastopen_qlen,
                                                            sizeof s->cfg.fastopen_qlen) < 0))) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (fd >= 0 && s->cfg.keepalive_idle_s > 0) {
        /* Accepted sockets inherit these from their listener. */
        int on = 1, idle = s->cfg.keepalive_idle_s,
            intvl = s->cfg.keepalive_intvl_s > 0 ? s->cfg.keepalive_intvl_s : 10,
            cnt = s->cfg.keepalive_cnt > 0 ? s->cfg.keepalive_cnt : 6;
        if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) < 0) {
            int err = -errno;
            close(fd);
            return err;
        }
    }
    return fd;
}

/* One attempt at binding all of addrs. With port 0, every listener after
 * the first takes the port the kernel gave the first, so a server has one
 * port whatever the family; -EADDRINUSE then means "try another". */
static int bind_all(sk_server *s, const sk_addr *addrs, int n, bool reuseport)
{
    int port = 0;

    for (int i = 0; i < n; i++) {
        sk_addr a = addrs[i];
        if (port > 0 && sk_addr_port((const struct sockaddr *)&a.ss) == 0)
            sk_addr_set_port(&a, (uint16_t)port);
        int fd = open_one(s, &a, n, reuseport);
        if (fd < 0)
            return fd;
        sk_addr *bound = &s->laddrs[s->nlisteners];
        s->lfds[s->nlisteners] = fd;
        bound->len = sizeof bound->ss;
        getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len);
        s->nlisteners++;
        if (port == 0)
            port = sk_addr_port((const struct sockaddr *)&bound->ss);
    }
    return 0;
}

int sk__listen_all(sk_server *s, const sk_addr *addrs, int n, bool reuseport)
{
    bool any_port = false;
    int rc = 0;

    for (int i = 0; i < n; i++)
        any_port |= sk_addr_port((const struct sockaddr *)&addrs[i].ss) == 0;
    /* The port the first family got may be taken in the other: a few
     * fresh tries, then the error. */
    for (int attempt = 0; attempt < 16; attempt++) {
        rc = bind_all(s, addrs, n, reuseport);
        if (rc != -EADDRINUSE || !any_port || n < 2)
            return rc;
        sk__listen_close(s->lfds, s->nlisteners);
        s->nlisteners = 0;
    }
    return rc;
}

int sk__listen_copy(const sk_server *s, int *fds)
{
    for (int i = 0; i < s->nlisteners; i++) {
        int fd = open_one(s, &s->laddrs[i], s->nlisteners, true);
        if (fd < 0) {
            sk__listen_close(fds, i);
            return fd;
        }
        fds[i] = fd;
    }
    return 0;
}

void sk__listen_close(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}
