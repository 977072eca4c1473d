/* sockit connect --udp: each stdin line (or, with --raw, all of stdin) is one
 * datagram, sent as soon as it is read; replies go to stdout as they arrive.
 * Like nc -u it never waits for a reply before sending on: at stdin EOF it
 * lingers a moment for late replies (--timeout) and exits 0 whether or not
 * any came. A name with several addresses is tried in turn: an address that
 * answers the first datagram with "port unreachable" gives way to the next.
 * Broadcast and multicast destinations collect replies from any sender. */
#include "connect.h"
#include "target.h"
#include "hexdump.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>
#include <sockit/udp.h>

#define MAX_ADDRS 32
/* How long the first datagram waits for a "port unreachable" before its
 * address is taken as the one that listens (loopback answers at once). */
#define PROBE_MS 250
#define LINGER_MS 1000
#define EXPECT_MS 2000

typedef struct udp_client {
    int fd;
    const connect_opts *o;
    bool group;  /* broadcast or multicast: replies from anyone, many per datagram */
    bool listen; /* -l: the peer is whoever sent the first datagram */
    bool mcast;
    sk_addr addrs[MAX_ADDRS];
    int naddrs, cur;
    char name[SK_ADDRSTRLEN];
    /* Until an address is settled, the first datagram is kept to be sent
     * again to the next address if this one refuses it. */
    bool settled, probing;
    char *probe;
    size_t probe_len;
    int64_t probe_until, quiet_since;
    char *in; /* stdin not yet sent */
    size_t in_len;
    bool stdin_eof, sent_all;
    /* --expect-reply: the last datagram's wait, and whether a reply came. */
    bool waiting, got;
    int64_t wait_until;
    uint64_t sent, answered, replies, refused, bytes_sent, bytes_received;
    char rbuf[65536];
} udp_client;

#define IN_CAP (SK_UDP_MAX_PAYLOAD6 + 2)

/* A socket for addrs[cur], configured and (unicast) connected. */
static int open_socket(udp_client *u)
{
    const connect_opts *o = u->o;
    sk_addr *dst = &u->addrs[u->cur];
    int family = dst->ss.ss_family, rc;

    sk_addr_format((struct sockaddr *)&dst->ss, u->name, sizeof u->name);
    if (o->tracer) {
        /* The same socket as sk_udp_socket() makes, its calls traced. */
        rc = sk_tr_socket(o->tracer, family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
        int off = 0;
        if (rc >= 0 && family == AF_INET6)
            setsockopt(rc, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        if (rc < 0)
            rc = -errno;
    } else {
        rc = sk_udp_socket(dst, 0);
    }
    if (rc < 0) {
        cli_error("socket %s: %s", u->name, sk_strerror(rc));
        return -1;
    }
    u->fd = rc;
    rc = 0;
    if (o->broadcast)
        rc = sk_udp_set_broadcast(u->fd, true);
    if (rc >= 0 && o->multicast_ttl >= 0)
        rc = sk_udp_set_multicast_ttl(u->fd, family, o->multicast_ttl);
    if (rc >= 0 && o->ifname && u->mcast)
        rc = sk_udp_set_multicast_if(u->fd, family, o->ifname);
    else if (rc >= 0 && o->ifname)
        rc = setsockopt(u->fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname, (socklen_t)strlen(o->ifname)) < 0 ? -errno : 0;
    /* A unicast peer is connected: only its replies are read, and its
     * "port unreachable" comes back as ECONNREFUSED. */
    if (rc >= 0 && !u->group && sk_tr_connect(o->tracer, u->fd, dst) < 0)
        rc = -errno;
    if (rc < 0) {
        cli_error("connect %s: %s%s", u->name, sk_strerror(rc),
                  rc == -EACCES ? " (a broadcast address needs --broadcast)" : "");
        sk_tr_close(o->tracer, u->fd);
        u->fd = -1;
        return -1;
    }
    return 0;
}

static int send_one(udp_client *u, const char *buf, size_t len)
{
    const sk_addr *dst = &u->addrs[u->cur];
    size_t max = sk_udp_max_payload((const struct sockaddr *)&dst->ss);

    if (len > max) {
        cli_error("send %s: datagram of %zu bytes is larger than the UDP maximum of %zu over %s", u->name, len, max,
                  max == SK_UDP_MAX_PAYLOAD6 ? "IPv6" : "IPv4");
        return -1;
    }
    for (int tries = 0;; tries++) {
        ssize_t n = sk_tr_sendto(u->o->tracer, u->fd, buf, len, u->group ? dst : NULL);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == ECONNREFUSED && tries < 2) {
            u->refused++; /* an earlier datagram's port unreachable; this one still goes */
            continue;
        }
        /* The kernel refuses a broadcast destination on a socket without
         * SO_BROADCAST with EACCES, which says nothing of the cure. */
        cli_error("send %s: %s%s", u->name, strerror(errno),
                  errno == EACCES && !u->o->broadcast ? " (a broadcast address needs --broadcast)" : "");
        return -1;
    }
    if (u->o->hex)
        cli_hexdump(u->o->hex, '>', u->bytes_sent, buf, len);
    u->sent++;
    u->bytes_sent += len;
    if (u->o->expect_reply) {
        u->waiting = true;
        u->got = false;
        u->wait_until = sk_now_ms() + connect_timeout(u->o, EXPECT_MS);
    }
    /* The first datagram to a name with more addresses left is the probe. */
    if (!u->settled && u->cur + 1 < u->naddrs && !u->group) {
        if (u->probe != buf) {
            free(u->probe);
            u->probe = malloc(len ? len : 1);
            if (u->probe == NULL)
                return -1;
            memcpy(u->probe, buf, len);
            u->probe_len = len;
        }
        u->probing = true;
        u->probe_until = sk_now_ms() + PROBE_MS;
    } else {
        u->settled = true;
    }
    return 0;
}

/* --expect-reply: the wait for the last datagram's reply is over. */
static void end_wait(udp_client *u)
{
    u->waiting = false;
    if (u->got)
        u->answered++;
    else if (u->o->verbose)
        fprintf(stderr, "sockit: no reply to datagram %" PRIu64 " within %.3g s\n", u->sent,
                (double)connect_timeout(u->o, EXPECT_MS) / 1000.0);
}

/* The probe was refused: the next address gets it. */
static int next_address(udp_client *u)
{
    if (u->o->verbose)
        fprintf(stderr, "sockit: %s: port unreachable, trying the next address\n", u->name);
    sk_tr_close(u->o->tracer, u->fd);
    u->cur++;
    u->probing = false;
    u->sent--;
    u->bytes_sent -= u->probe_len;
    if (open_socket(u) < 0)
        return -1;
    return send_one(u, u->probe, u->probe_len);
}

/* Send what stdin gave that is complete: each whole line, or with --raw
 * everything at EOF. */
static int send_ready(udp_client *u)
{
    while (!u->probing && !u->waiting && !u->sent_all) {
        size_t len;
        char *nl = u->o->raw ? NULL : memchr(u->in, '\n', u->in_len);
        if (nl)
            len = (size_t)(nl - u->in) + 1;
        else if (u->stdin_eof && (u->in_len > 0 || u->o->raw))
            len = u->in_len;
        else if (u->in_len > sk_udp_max_payload((const struct sockaddr *)&u->addrs[u->cur].ss))
            len = u->in_len; /* a line too long to send: send_one says so */
        else
            break;
        if (send_one(u, u->in, len) < 0)
            return -1;
        memmove(u->in, u->in + len, u->in_len - len);
        u->in_len -= len;
        if (u->stdin_eof && u->in_len == 0)
            u->sent_all = true;
    }
    if (u->stdin_eof && u->in_len == 0 && !u->probing && !u->waiting)
        u->sent_all = true;
    return 0;
}

static int read_stdin(udp_client *u)
{
    ssize_t n = read(STDIN_FILENO, u->in + u->in_len, IN_CAP - u->in_len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0) {
        cli_error("read stdin: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        u->stdin_eof = true;
        u->quiet_since = sk_now_ms();
    }
    u->in_len += (size_t)n;
    return send_ready(u);
}

/* A datagram arrived: to stdout, counted. */
static int deliver(udp_client *u, const struct sockaddr_storage *from, size_t r)
{
    char a[SK_ADDRSTRLEN];

    u->quiet_since = sk_now_ms();
    if (u->o->verbose)
        fprintf(stderr, "sockit: %zu bytes from %s\n", r, sk_addr_format((const struct sockaddr *)from, a, sizeof a));
    if (u->o->hex)
        cli_hexdump(u->o->hex, '<', u->bytes_received, u->rbuf, r);
    u->replies++;
    u->bytes_received += r;
    if (fwrite(u->rbuf, 1, r, stdout) != r || fflush(stdout) != 0)
        return -1;
    return 0;
}

static int read_reply(udp_client *u)
{
    sk_addr sender;
    ssize_t r = sk_tr_recvfrom(u->o->tracer, u->fd, u->rbuf, sizeof u->rbuf, MSG_DONTWAIT, &sender);
    struct sockaddr_storage from = sender.ss;

    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        if (errno == ECONNREFUSED) {
            /* ICMP port unreachable for our connected peer: nobody
             * listens there. */
            if (u->probing)
                return next_address(u) < 0 ? -1 : send_ready(u);
            u->refused++;
            if (u->o->verbose)
                cli_error("send %s: %s", u->name, strerror(errno));
            if (u->waiting)
                end_wait(u); /* no reply will come */
            return u->waiting ? 0 : send_ready(u);
        }
        cli_error("recv %s: %s", u->name, strerror(errno));
        return -1;
    }
    if (u->probing) {
        u->probing = false;
        u->settled = true;
    }
    if (deliver(u, &from, (size_t)r) < 0)
        return -1;
    if (u->waiting) {
        u->got = true;
        if (!u->group)
            end_wait(u); /* a group keeps collecting until the timeout */
    }
    return u->probing ? 0 : send_ready(u);
}

/* True once nothing more is worth waiting for. */
static bool done(const udp_client *u, int64_t now, int linger_ms, int *wait_ms)
{
    *wait_ms = -1;
    if (u->probing || u->waiting) {
        int64_t until = u->probing ? u->probe_until : u->wait_until;
        if (u->probing && u->waiting && u->wait_until < until)
            until = u->wait_until;
        *wait_ms = (int)(until > now ? until - now : 0);
        return false;
    }
    if (!u->sent_all)
        return false;
    if (u->o->expect_reply)
        return true; /* each datagram had its wait */
    if (u->listen && linger_ms < 0)
        return false; /* a listener without -w keeps receiving */
    /* Every datagram to a unicast peer answered: nothing more is due. */
    if (!u->group && !u->listen && u->replies >= u->sent)
        return true;
    int64_t end = u->quiet_since + linger_ms;
    if (now >= end)
        return true;
    *wait_ms = (int)(end - now);
    return false;
}

static int run(udp_client *u)
{
    int linger_ms = connect_timeout(u->o, u->listen ? -1 : LINGER_MS);

    for (;;) {
        int64_t now = sk_now_ms();
        int wait_ms;
        if (u->probing && now >= u->probe_until) {
            /* No refusal in time: this address is the one. */
            u->probing = false;
            u->settled = true;
            if (send_ready(u) < 0)
                return -1;
        }
        if (u->waiting && now >= u->wait_until) {
            end_wait(u);
            if (send_ready(u) < 0)
                return -1;
        }
        if (done(u, now, linger_ms, &wait_ms))
            return 0;
        struct pollfd fds[2] = {{.fd = -1}, {.fd = u->fd, .events = POLLIN}};
        if (!u->stdin_eof && !u->probing)
            fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(fds, 2, wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error("poll: %s", strerror(errno));
            return -1;
        }
        if (fds[1].revents && read_reply(u) < 0)
            return -1;
        if (fds[0].revents && read_stdin(u) < 0)
            return -1;
    }
}

/* The addresses to send to, in order: each server of the operand (one
 * host:port, or an SRV name's targets in RFC 2782 order) with every
 * address of its host; "port unreachable" moves on to the next. Returns
 * the count or minus the exit code after printing why. */
static int find_addrs(const connect_opts *o, sk_addr *addrs, int max)
{
    static cli_target t;
    cli_target_opts to = {
        .cmd = "connect", .proto = "udp", .dns = o->dns, .timeout_ms = connect_timeout(o, 5000), .verbose = o->verbose};
    sk_dial_opts d = {.family = connect_family(o), .timeout_ms = (int)to.timeout_ms, .dns_servers = o->dns};
    int rc, n = 0, err = 0;

    if ((rc = cli_target_find(&to, o->operands[0], &t)) >= 0)
        return -rc;
    for (size_t i = 0; i < t.n && n < max; i++) {
        rc = sk_lookup(t.ep[i].host, t.ep[i].port, &d, addrs + n, (size_t)(max - n));
        if (rc > 0)
            n += rc;
        else
            err = rc;
        if (rc < 0 && (t.n > 1 || o->verbose))
            cli_error("resolve %s: %s", t.ep[i].host, sk_strerror(rc));
    }
    if (n == 0) {
        if (t.n == 1 && !o->verbose)
            cli_error("resolve %s: %s", t.many ? t.ep[0].host : o->operands[0], sk_strerror(err));
        return -EXIT_FAIL;
    }
    return n;
}

int connect_udp(const connect_opts *o)
{
    static udp_client u;
    int n, rc;

    u = (udp_client){.fd = -1, .o = o};
    if ((n = find_addrs(o, u.addrs, MAX_ADDRS)) < 0)
        return -n;
    u.naddrs = n;
    const struct sockaddr *sa = (const struct sockaddr *)&u.addrs[0].ss;
    bool group = sk_addr_is_multicast(sa); /* multicast or 255.255.255.255 */
    bool lbcast = sa->sa_family == AF_INET && ((const struct sockaddr_in *)sa)->sin_addr.s_addr == INADDR_BROADCAST;
    u.mcast = group && !lbcast;
    u.group = o->broadcast || group;
    u.in = malloc(IN_CAP);
    if (u.in == NULL || open_socket(&u) < 0) {
        free(u.in);
        return EXIT_FAIL;
    }
    rc = run(&u);
    sk_tr_close(o->tracer, u.fd);
    free(u.in);
    free(u.probe);
    uint64_t lost = u.sent > u.replies ? u.sent - u.replies : 0;
    if (o->expect_reply) {
        lost = u.sent - u.answered;
        if (o->verbose)
            fprintf(stderr,
                    "sockit: %" PRIu64 " datagrams sent, %" PRIu64 " answered, %" PRIu64 " replies, %" PRIu64 " lost\n",
                    u.sent, u.answered, u.replies, lost);
        if (rc < 0)
            return EXIT_FAIL;
        if (lost == 0)
            return EXIT_OK;
        cli_error("%s: %" PRIu64 " of %" PRIu64 " datagrams got no reply within %.3g s%s", u.name, lost, u.sent,
                  (double)connect_timeout(o, EXPECT_MS) / 1000.0,
                  u.refused ? " (port unreachable: nothing listens there)" : "");
        return EXIT_FAIL;
    }
    if (o->verbose)
        fprintf(stderr,
                "sockit: %" PRIu64 " datagrams sent (%" PRIu64 " bytes), %" PRIu64 " replies (%" PRIu64 " bytes)\n",
                u.sent, u.bytes_sent, u.replies, u.bytes_received);
    if (rc < 0)
        return EXIT_FAIL;
    if (u.refused > 0 && lost > 0) {
        cli_error("%s: %" PRIu64 " of %" PRIu64 " datagrams got no reply (port unreachable: nothing listens there)",
                  u.name, lost, u.sent);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* -u -l: wait for the first datagram; its sender becomes the peer (the
 * socket is connected to it, so only its datagrams are read from then on),
 * and the session goes on as a client's would, without an end of its own
 * unless -w gives one after stdin's EOF. */
int connect_listen_udp(const connect_opts *o)
{
    static udp_client u;
    sk_addr a = {0};
    char bound[SK_ADDRSTRLEN], tname[2 * SK_ADDRSTRLEN + 8];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    int n, rc;
    ssize_t r;

    u = (udp_client){.fd = -1, .o = o, .listen = true, .settled = true, .naddrs = 1};
    n = connect_resolve(o, SOCK_DGRAM, SK_RESOLVE_PASSIVE, &a, 1);
    if (n < 0)
        return -n;
    rc = sk_udp_socket(&a, SK_UDP_BIND);
    if (rc < 0) {
        cli_error("listen %s: %s", o->operands[0], sk_strerror(rc));
        return EXIT_FAIL;
    }
    u.fd = rc;
    a.len = sizeof a.ss;
    getsockname(u.fd, (struct sockaddr *)&a.ss, &a.len);
    fprintf(stderr, "sockit: listening on %s\n", sk_addr_format((struct sockaddr *)&a.ss, bound, sizeof bound));
    for (;;) {
        struct pollfd pfd = {.fd = u.fd, .events = POLLIN};
        rc = poll(&pfd, 1, connect_timeout(o, -1));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            if (rc == 0)
                cli_error("listen %s: no datagram within %.3g s", bound, (double)o->timeout_ms / 1000.0);
            else
                cli_error("poll: %s", strerror(errno));
            close(u.fd);
            return EXIT_FAIL;
        }
        r = recvfrom(u.fd, u.rbuf, sizeof u.rbuf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (r >= 0)
            break;
        if (errno != EINTR && errno != EAGAIN) {
            cli_error("recv %s: %s", bound, strerror(errno));
            close(u.fd);
            return EXIT_FAIL;
        }
    }
    memcpy(&u.addrs[0].ss, &from, flen);
    u.addrs[0].len = flen;
    sk_addr_format((struct sockaddr *)&from, u.name, sizeof u.name);
    if (connect(u.fd, (struct sockaddr *)&from, flen) < 0) {
        cli_error("connect %s: %s", u.name, strerror(errno));
        close(u.fd);
        return EXIT_FAIL;
    }
    if (o->verbose) {
        sk_tuple t;
        sk_tuple_get(u.fd, &t);
        fprintf(stderr, "sockit: accepted %s\n", sk_tuple_format(&t, tname, sizeof tname));
    }
    u.in = malloc(IN_CAP);
    rc = u.in == NULL || deliver(&u, &from, (size_t)r) < 0 ? -1 : run(&u);
    close(u.fd);
    free(u.in);
    if (o->verbose)
        fprintf(stderr,
                "sockit: %" PRIu64 " datagrams sent (%" PRIu64 " bytes), %" PRIu64 " received (%" PRIu64 " bytes)\n",
                u.sent, u.bytes_sent, u.replies, u.bytes_received);
    return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
