/* sockit connect --udp: each stdin line (or, with --raw, all of stdin) is one
 * datagram; the replies go to stdout. Each wait is bounded by --timeout, and
 * requests that got no reply are counted and reported, never waited on
 * forever. Broadcast and multicast destinations collect every reply that
 * arrives within the timeout, from any sender. */
#include "cli.h"

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

typedef struct udp_client {
    int fd;
    const char *name;
    bool group; /* broadcast or multicast: replies from anyone, many per request */
    bool verbose;
    int64_t timeout_ms;
    sk_addr dst;
    uint64_t sent, answered, replies, refused;
    char rbuf[65536];
} udp_client;

enum { O_RAW = CLI_LONG, O_BCAST, O_MTTL, O_IF };

static const cli_option options[] = {
    CLI_OPT('u', "udp", NULL, 0, "UDP instead of TCP (this mode)"),
    CLI_OPT(0, "raw", NULL, O_RAW, "send all of stdin as one datagram instead of line by line"),
    CLI_OPT('t', "timeout", "S", 0, "wait at most S seconds for each reply (default 2)"),
    CLI_OPT(0, "broadcast", NULL, O_BCAST, "allow a broadcast ADDR (SO_BROADCAST), e.g. 255.255.255.255:7"),
    CLI_OPT(0, "multicast-ttl", "N", O_MTTL, "TTL / hop limit of multicast datagrams (default 1)"),
    CLI_OPT(0, "interface", "IF", O_IF, "send multicast out of IF (otherwise bind to the device)"),
    CLI_OPT('4', NULL, NULL, 0, "only IPv4"),
    CLI_OPT('6', NULL, NULL, 0, "only IPv6"),
    CLI_OPT('v', "verbose", NULL, 0, "the sender of each reply, and the counts at the end"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_connect_udp = {
    .name = "connect --udp",
    .usage = "[OPTIONS] ADDR",
    .about = "Send each line of stdin (newline included) to ADDR as one UDP datagram and write\n"
             "the replies to stdout. Each wait for a reply is bounded by --timeout; requests\n"
             "that got none are counted and reported on stderr (exit 1). For a broadcast or\n"
             "multicast ADDR every reply within the timeout is shown, whoever sends it.\n"
             "A datagram holds at most 65507 bytes; a longer line is an error.",
    .options = options,
    .run = cmd_connect_udp,
};

/* Wait for replies to one request: the first one for a unicast peer, every
 * one until the timeout for a group. */
static int collect(udp_client *u)
{
    int64_t deadline = sk_now_ms() + u->timeout_ms;
    bool got = false;
    char a[SK_ADDRSTRLEN];

    for (;;) {
        int64_t left = deadline - sk_now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = u->fd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error("poll: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t r = recvfrom(u->fd, u->rbuf, sizeof u->rbuf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            if (errno == ECONNREFUSED) {
                /* ICMP port unreachable for our connected peer: nobody
                 * listens there, so no reply will come. */
                u->refused++;
                if (u->verbose)
                    cli_error("send %s: %s", u->name, strerror(errno));
                break;
            }
            cli_error("recv %s: %s", u->name, strerror(errno));
            return -1;
        }
        if (u->verbose)
            fprintf(stderr, "sockit: %zd bytes from %s\n", r, sk_addr_format((struct sockaddr *)&from, a, sizeof a));
        if (fwrite(u->rbuf, 1, (size_t)r, stdout) != (size_t)r || fflush(stdout) != 0)
            return -1;
        u->replies++;
        got = true;
        if (!u->group)
            break;
    }
    if (got)
        u->answered++;
    else if (u->verbose)
        fprintf(stderr, "sockit: no reply to datagram %" PRIu64 " within %.3g s\n", u->sent,
                (double)u->timeout_ms / 1000.0);
    return 0;
}

static int send_one(udp_client *u, const char *buf, size_t len)
{
    if (len > SK_UDP_MAX_PAYLOAD) {
        cli_error("send %s: datagram of %zu bytes is larger than the UDP maximum of %d", u->name, len,
                  SK_UDP_MAX_PAYLOAD);
        return -1;
    }
    for (;;) {
        ssize_t n =
            u->group ? sendto(u->fd, buf, len, 0, (struct sockaddr *)&u->dst.ss, u->dst.len) : send(u->fd, buf, len, 0);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == ECONNREFUSED) {
            u->refused++; /* an earlier datagram's port unreachable; this one still counts */
            continue;
        }
        cli_error("send %s: %s", u->name, strerror(errno));
        return -1;
    }
    u->sent++;
    return collect(u);
}

static int run(udp_client *u, bool raw)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (raw) {
        size_t len = 0, size = SK_UDP_MAX_PAYLOAD + 1;
        char *buf = malloc(size);
        if (buf == NULL)
            return -1;
        while (len < size && (n = read(STDIN_FILENO, buf + len, size - len)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                cli_error("read stdin: %s", strerror(errno));
                free(buf);
                return -1;
            }
            len += (size_t)n;
        }
        rc = send_one(u, buf, len);
        free(buf);
        return rc;
    }
    while (rc == 0 && (n = getline(&line, &cap, stdin)) > 0)
        rc = send_one(u, line, (size_t)n);
    free(line);
    return rc;
}

int cmd_connect_udp(int argc, char **argv)
{
    cli_parser cp;
    static udp_client u;
    sk_addr addrs[8];
    int flags = 0, opt, n, rc, mttl = -1;
    bool raw = false, bcast = false;
    const char *ifname = NULL;
    static char a[SK_ADDRSTRLEN]; /* named by the static session state */
    long v;

    u.timeout_ms = 2000;
    cli_parser_init(&cp, &cli_connect_udp);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 'u':
            break;
        case O_RAW:
            raw = true;
            break;
        case 't':
            if (!cli_parse_seconds(optarg, &u.timeout_ms) || u.timeout_ms > INT32_MAX)
                return cli_usage_error("connect", "--timeout wants seconds, not '%s'", optarg);
            break;
        case O_BCAST:
            bcast = true;
            break;
        case O_MTTL:
            if (!cli_parse_int(optarg, 0, 255, &v))
                return cli_usage_error("connect", "--multicast-ttl wants 0 to 255, not '%s'", optarg);
            mttl = (int)v;
            break;
        case O_IF:
            ifname = optarg;
            break;
        case '4':
            flags = SK_RESOLVE_V4ONLY;
            break;
        case '6':
            flags = SK_RESOLVE_V6ONLY;
            break;
        case 'v':
            u.verbose = true;
            break;
        case 'h':
            cli_help(stdout, &cli_connect_udp);
            return EXIT_OK;
        default:
            return cli_bad_option("connect", opt, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_operand_error("connect", argc, argv, "ADDR (host:port)");
    u.name = argv[optind];
    n = sk_addr_resolve(u.name, SOCK_DGRAM, flags, addrs, 8);
    if (n < 0) {
        int code = cli_exit_for(n);
        if (code == EXIT_USAGE)
            return cli_usage_error("connect", "%s: %s", u.name, sk_strerror(n));
        cli_error("resolve %s: %s", u.name, sk_strerror(n));
        return code;
    }
    u.dst = addrs[0];
    sk_addr_format((struct sockaddr *)&u.dst.ss, a, sizeof a);
    u.name = a;
    int family = u.dst.ss.ss_family;
    bool group = sk_addr_is_multicast((struct sockaddr *)&u.dst.ss); /* multicast or 255.255.255.255 */
    bool lbcast = family == AF_INET && ((struct sockaddr_in *)&u.dst.ss)->sin_addr.s_addr == INADDR_BROADCAST;
    bool mcast = group && !lbcast;
    u.group = bcast || group;

    rc = sk_udp_socket(&u.dst, 0);
    if (rc < 0) {
        cli_error("socket %s: %s", a, sk_strerror(rc));
        return EXIT_FAIL;
    }
    u.fd = rc;
    if (bcast)
        rc = sk_udp_set_broadcast(u.fd, true);
    if (rc >= 0 && mttl >= 0)
        rc = sk_udp_set_multicast_ttl(u.fd, family, mttl);
    if (rc >= 0 && ifname && mcast)
        rc = sk_udp_set_multicast_if(u.fd, family, ifname);
    else if (rc >= 0 && ifname)
        rc = setsockopt(u.fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0 ? -errno : 0;
    /* A unicast peer is connected: only its replies are read, and its
     * "port unreachable" comes back as ECONNREFUSED. */
    if (rc >= 0 && !u.group && connect(u.fd, (struct sockaddr *)&u.dst.ss, u.dst.len) < 0)
        rc = -errno;
    if (rc < 0) {
        cli_error("connect %s: %s%s", a, sk_strerror(rc),
                  rc == -EACCES ? " (a broadcast address needs --broadcast)" : "");
        close(u.fd);
        return EXIT_FAIL;
    }
    rc = run(&u, raw);
    close(u.fd);
    uint64_t lost = u.sent - u.answered;
    if (u.verbose)
        fprintf(stderr,
                "sockit: %" PRIu64 " datagrams sent, %" PRIu64 " answered, %" PRIu64 " replies, %" PRIu64 " lost\n",
                u.sent, u.answered, u.replies, lost);
    if (rc < 0)
        return EXIT_FAIL;
    if (lost > 0) {
        cli_error("%s: %" PRIu64 " of %" PRIu64 " datagrams got no reply within %.3g s%s", a, lost, u.sent,
                  (double)u.timeout_ms / 1000.0, u.refused ? " (port unreachable: nothing listens there)" : "");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
