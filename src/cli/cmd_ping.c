/* sockit ping: ICMP echo like iputils ping, over a raw socket when allowed
 * or an unprivileged ICMP datagram socket otherwise, IPv4 and IPv6. Packets
 * are built and checked here (libsockit icmp.h); replies are matched by
 * identifier, sequence and the timestamp we sent. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/icmp.h>
#include <sockit/icmp_sock.h>
#include <sockit/sockit.h>

#define SEQS 65536

typedef struct ping {
    int fd, family;
    sk_icmp_sock kind;
    sk_addr dst;
    const char *host;
    char addr[SK_ADDRSTRLEN];
    uint16_t id;
    long count;                                /* 0: until interrupted */
    int64_t interval_ms, wait_ms, deadline_ms; /* deadline_ms 0: none (-w) */
    size_t size;
    int ttl;
    const char *iface; /* -I: an interface name or a source address */
    bool quiet, json, verbose, broadcast;
    uint64_t ntx, nrx, ndup, nerr, nbad, nforeign;
    double tmin, tmax, tsum, tsum2; /* ms */
    int64_t start_ns, last_tx_ns;
    int64_t sent_ns[SEQS]; /* 0: never sent */
    uint8_t seen[SEQS];
} ping;

static volatile sig_atomic_t g_stop;

static void on_sigint(int sig)
{
    (void)sig;
    g_stop = 1;
}

enum { O_JSON = CLI_LONG, O_SOCKET };

/* Durations take units (500ms, 2s, 1m); a bare number is seconds, as in
 * iputils. */

static const cli_option options[] = {
    CLI_OPT('c', NULL, "COUNT", 0, "stop after COUNT requests (default: until ^C)"),
    CLI_OPT('i', NULL, "TIME", 0, "interval between requests (default 1s; 200ms, 0.2)"),
    CLI_OPT('s', NULL, "SIZE", 0, "payload bytes (default 56; 8 or more carry a timestamp)"),
    CLI_OPT('t', NULL, "TTL", 0, "IP time to live / IPv6 hop limit"),
    CLI_OPT('W', NULL, "TIME", 0, "after the last request, wait this long for replies (default 10s)"),
    CLI_OPT('w', NULL, "DEADLINE", 0,
            "exit after DEADLINE (5s, 1m) however many requests went out;\n"
            "with -c, stop as soon as COUNT replies came"),
    CLI_OPT('I', NULL, "IF|ADDR", 0, "send from this interface (eth0) or source address"),
    CLI_OPT('b', "broadcast", NULL, 0, "allow pinging a broadcast address (SO_BROADCAST)"),
    CLI_OPT('n', NULL, NULL, 0, "numeric output (sockit never looks names up for replies)"),
    CLI_OPT('4', NULL, NULL, 0, "IPv4 only"),
    CLI_OPT('6', NULL, NULL, 0, "IPv6 only"),
    CLI_OPT('q', NULL, NULL, 0, "quiet: only the summary"),
    CLI_OPT('v', NULL, NULL, 0,
            "also say which socket kind is used and report ignored packets\n"
            "(malformed, foreign)"),
    CLI_OPT(0, "socket", "raw|dgram", O_SOCKET, "insist on one socket kind"),
    CLI_OPT(0, "json", NULL, O_JSON, "JSON lines: one per reply, then the summary"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_ping = {
    .name = "ping",
    .summary = "ICMP echo to a host (raw socket, or unprivileged datagram socket), IPv4 and IPv6",
    .usage = "[OPTIONS] HOST",
    .about = "Send ICMP echo requests to HOST and report each reply and a summary, like\n"
             "iputils ping. Uses a raw socket when the process may (root or CAP_NET_RAW),\n"
             "otherwise an unprivileged ICMP datagram socket (allowed for the groups in\n"
             "sysctl net.ipv4.ping_group_range); -v says which, and so does stderr when it\n"
             "falls back to the datagram socket. ^C prints the summary.",
    .options = options,
    .run = cmd_ping,
};

static void print_time(FILE *f, double ms)
{
    if (ms >= 100)
        fprintf(f, "%.0f", ms);
    else if (ms >= 10)
        fprintf(f, "%.1f", ms);
    else if (ms >= 1)
        fprintf(f, "%.2f", ms);
    else
        fprintf(f, "%.3f", ms);
}

static int send_one(ping *p)
{
    uint8_t pkt[SK_ICMP_HDR_LEN + 65536];
    uint16_t seq = (uint16_t)(p->ntx + 1);
    int64_t t = sk_now_ns();
    int n = sk_icmp_echo_build(p->family, p->id, seq, t, p->size, pkt, sizeof pkt);

    if (n < 0)
        return n;
    p->sent_ns[seq] = t;
    p->seen[seq] = 0;
    p->ntx++;
    p->last_tx_ns = t;
    if (sendto(p->fd, pkt, (size_t)n, 0, (struct sockaddr *)&p->dst.ss, p->dst.len) < 0) {
        int e = errno;
        /* Only the errors ping goes on after get a line per request; a
         * fatal one gets the single line of the caller. */
        if (e != ENOBUFS && e != EHOSTUNREACH && e != ENETUNREACH && e != EAGAIN && e != EMSGSIZE)
            return -e;
        if (!p->quiet)
            fprintf(p->json ? stderr : stdout, "sockit: send icmp_seq=%u: %s\n", seq, strerror(e));
    }
    return 0;
}

static void ignored(ping *p, const char *what, const struct sockaddr *from, const char *why)
{
    char a[SK_ADDRSTRLEN];
    if (p->verbose)
        fprintf(stderr, "sockit: ignored %s packet from %s: %s\n", what, sk_addr_format(from, a, sizeof a), why);
}

static void report_error(ping *p, const struct sockaddr *from, uint16_t seq, uint8_t type, uint8_t code)
{
    char a[SK_ADDRSTRLEN];
    cli_format_host(from, a, sizeof a);
    p->nerr++;
    if (p->quiet)
        return;
    const char *what = sk_icmp_describe(p->family, type, code);
    if (p->json)
        printf(
            "{\"event\":\"error\",\"from\":\"%s\",\"icmp_seq\":%u,\"icmp_type\":%u,\"icmp_code\":%u,\"what\":\"%s\"}\n",
            a, seq, type, code, what);
    else
        printf("From %s icmp_seq=%u %s\n", a, seq, what);
}

static void got_reply(ping *p, const sk_icmp_info *in, size_t bytes, int ttl, const struct sockaddr *from)
{
    int64_t t = sk_now_ns();
    uint16_t seq = in->seq;
    double ms = (double)(t - p->sent_ns[seq]) / 1e6;
    bool dup = p->seen[seq] > 0;
    char a[SK_ADDRSTRLEN];

    if (p->seen[seq] < 255)
        p->seen[seq]++;
    if (dup)
        p->ndup++;
    else
        p->nrx++;
    if (p->nrx + p->ndup == 1 || ms < p->tmin)
        p->tmin = ms;
    if (ms > p->tmax)
        p->tmax = ms;
    p->tsum += ms;
    p->tsum2 += ms * ms;
    if (p->quiet)
        return;
    const char *shown = cli_format_host(from, a, sizeof a);
    if (p->json) {
        printf("{\"event\":\"reply\",\"bytes\":%zu,\"from\":\"%s\",\"icmp_seq\":%u,\"ttl\":%d,\"rtt_ms\":%.3f,"
               "\"dup\":%s}\n",
               bytes, shown, seq, ttl, ms, dup ? "true" : "false");
        return;
    }
    printf("%zu bytes from %s: icmp_seq=%u", bytes, shown, seq);
    if (ttl >= 0)
        printf(" ttl=%d", ttl);
    printf(" time=");
    print_time(stdout, ms);
    printf(" ms%s\n", dup ? " (DUP!)" : "");
}

/* One packet from the socket. */
static void handle_packet(ping *p, uint8_t *buf, size_t n, int ttl, const struct sockaddr *from)
{
    sk_icmp_info in;
    bool iphdr = p->kind == SK_ICMP_RAW && p->family == AF_INET;
    int rc = sk_icmp_parse(p->family, buf, n, iphdr ? SK_ICMP_IPHDR : 0, &in);

    if (rc < 0) {
        p->nbad++;
        ignored(p, "malformed", from, sk_strerror(rc));
        return;
    }
    if (in.ttl >= 0)
        ttl = in.ttl;
    size_t icmp_len = iphdr ? in.data_len + SK_ICMP_HDR_LEN : n;
    switch (in.kind) {
    case SK_ICMP_ECHO_REPLY:
        /* A raw socket sees every ping on the host; a datagram socket only
         * ours, under the identifier the kernel chose. */
        if (p->kind == SK_ICMP_RAW && in.id != p->id) {
            p->nforeign++;
            ignored(p, "foreign", from, "another program's identifier");
            return;
        }
        if (p->sent_ns[in.seq] == 0 || (in.ts_ns >= 0 && in.ts_ns != p->sent_ns[in.seq])) {
            p->nforeign++;
            ignored(p, "foreign", from, "sequence or timestamp we did not send");
            return;
        }
        if (!in.data_ok) {
            p->nbad++;
            ignored(p, "corrupt", from, "payload differs from what was sent");
            return;
        }
        got_reply(p, &in, icmp_len, ttl, from);
        return;
    case SK_ICMP_TIME_EXCEEDED:
    case SK_ICMP_UNREACHABLE:
        if (in.quoted_proto == (p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6) && in.id == p->id &&
            p->sent_ns[in.seq] != 0) {
            report_error(p, from, in.seq, in.type, in.code);
            return;
        }
        p->nforeign++;
        ignored(p, "foreign", from, "ICMP error about someone else's packet");
        return;
    default:
        return; /* our own request seen on loopback, or unrelated ICMP */
    }
}

static int drain(ping *p)
{
    uint8_t buf[65536 + 128];
    union {
        char buf[256];
        struct cmsghdr align;
    } ctl;

    for (;;) {
        struct sockaddr_storage from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_name = &from,
                           .msg_namelen = sizeof from,
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.buf,
                           .msg_controllen = sizeof ctl.buf};
        ssize_t n = recvmsg(p->fd, &m, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            if (errno == EHOSTUNREACH || errno == ENETUNREACH || errno == ECONNREFUSED)
                continue; /* the error itself sits on the error queue */
            return -errno;
        }
        int ttl = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
                (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
                memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        }
        handle_packet(p, buf, (size_t)n, ttl, (struct sockaddr *)&from);
    }
    /* Unprivileged sockets get ICMP errors through the error queue, with
     * the echo header of the request that caused them. */
    for (;;) {
        sk_icmp_qerr qe;
        long n = sk_icmp_read_error(p->fd, buf, sizeof buf, &qe);
        if (n < 0)
            break;
        if (qe.icmp && n >= SK_ICMP_HDR_LEN) {
            uint16_t seq = (uint16_t)(buf[6] << 8 | buf[7]);
            if (p->sent_ns[seq] != 0)
                report_error(p, (struct sockaddr *)&qe.offender, seq, qe.type, qe.code);
        }
    }
    return 0;
}

static void summary(ping *p)
{
    double elapsed = p->start_ns ? (double)(p->last_tx_ns - p->start_ns) / 1e6 : 0;
    double loss = p->ntx ? (double)(p->ntx - p->nrx) * 100.0 / (double)p->ntx : 0;
    uint64_t nt = p->nrx + p->ndup;
    double avg = nt ? p->tsum / (double)nt : 0;
    double var = nt ? p->tsum2 / (double)nt - avg * avg : 0;
    double mdev = var > 0 ? sqrt(var) : 0;

    if (p->json) {
        printf("{\"event\":\"summary\",\"host\":\"%s\",\"addr\":\"%s\",\"socket\":\"%s\",\"transmitted\":%" PRIu64
               ",\"received\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"icmp_errors\":%" PRIu64 ",\"loss_pct\":%.3f,"
               "\"elapsed_ms\":%.0f,\"rtt_min_ms\":%.3f,\"rtt_avg_ms\":%.3f,\"rtt_max_ms\":%.3f,\"rtt_mdev_ms\":%.3f,"
               "\"malformed\":%" PRIu64 ",\"foreign\":%" PRIu64 "}\n",
               p->host, p->addr, p->kind == SK_ICMP_RAW ? "raw" : "dgram", p->ntx, p->nrx, p->ndup, p->nerr, loss,
               elapsed, p->tmin, avg, p->tmax, mdev, p->nbad, p->nforeign);
        fflush(stdout);
        return;
    }
    printf("\n--- %s ping statistics ---\n", p->host);
    printf("%" PRIu64 " packets transmitted, %" PRIu64 " received", p->ntx, p->nrx);
    if (p->ndup)
        printf(", +%" PRIu64 " duplicates", p->ndup);
    if (p->nerr)
        printf(", +%" PRIu64 " errors", p->nerr);
    printf(", %g%% packet loss, time %.0fms\n", loss, elapsed);
    if (nt)
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", p->tmin, avg, p->tmax, mdev);
    fflush(stdout);
    if (p->verbose)
        fprintf(stderr, "sockit: ignored %" PRIu64 " malformed and %" PRIu64 " foreign packets\n", p->nbad,
                p->nforeign);
}

static void explain_noicmp(void)
{
    char range[64] = "?";
    FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
    if (f) {
        if (fgets(range, sizeof range, f))
            range[strcspn(range, "\n")] = '\0';
        fclose(f);
    }
    for (char *c = range; *c; c++)
        if (*c == '\t')
            *c = ' ';
    cli_error("ping: no ICMP socket allowed. A raw socket needs root or CAP_NET_RAW (setcap cap_net_raw+ep "
              "on the binary); an ICMP datagram socket needs group %u inside net.ipv4.ping_group_range (now "
              "\"%s\"), e.g. sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"",
              (unsigned)getgid(), range);
}

/* -I: a source address to bind, or an interface to bind to. */
static int bind_source(ping *p, sk_addr *src, bool *is_addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    *is_addr = false;
    memset(src, 0, sizeof *src);
    src->len = p->dst.len;
    src->ss.ss_family = (sa_family_t)p->family;
    if (p->iface == NULL)
        return 0;
    if (p->family == AF_INET && inet_pton(AF_INET, p->iface, &a4) == 1) {
        ((struct sockaddr_in *)&src->ss)->sin_addr = a4;
        *is_addr = true;
        return 0;
    }
    if (p->family == AF_INET6 && inet_pton(AF_INET6, p->iface, &a6) == 1) {
        ((struct sockaddr_in6 *)&src->ss)->sin6_addr = a6;
        *is_addr = true;
        return 0;
    }
    if (if_nametoindex(p->iface) == 0) {
        cli_error("ping: -I %s: no interface named '%s' here", p->iface, p->iface);
        return -1;
    }
    if (setsockopt(p->fd, SOL_SOCKET, SO_BINDTODEVICE, p->iface, (socklen_t)strlen(p->iface)) < 0) {
        cli_error("ping: -I %s: bind to the interface: %s", p->iface, strerror(errno));
        return -1;
    }
    return 0;
}

static int setup(ping *p, sk_icmp_sock want)
{
    int rc = sk_icmp_open(p->family, want, &p->kind);
    if (rc < 0) {
        if (rc == SK_ENOICMP)
            explain_noicmp();
        else
            cli_error("ping: %s socket: %s", want == SK_ICMP_RAW ? "raw ICMP" : "ICMP", sk_strerror(rc));
        return EXIT_FAIL;
    }
    p->fd = rc;
    int one = 1;
    sk_addr src;
    bool src_addr;
    if (bind_source(p, &src, &src_addr) < 0)
        return EXIT_FAIL;
    if (src_addr && p->kind == SK_ICMP_RAW && bind(p->fd, (struct sockaddr *)&src.ss, src.len) < 0) {
        cli_error("ping: -I %s: %s", p->iface, strerror(errno));
        return EXIT_FAIL;
    }
    if (p->broadcast && setsockopt(p->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
        cli_error("ping: -b: %s", strerror(errno));
        return EXIT_FAIL;
    }
    if (p->kind == SK_ICMP_DGRAM) {
        sk_icmp_recverr(p->fd, p->family);
        /* Bind now so the kernel's identifier (our "port") is known. */
        if (bind(p->fd, (struct sockaddr *)&src.ss, src.len) == 0) {
            src.len = sizeof src.ss;
            getsockname(p->fd, (struct sockaddr *)&src.ss, &src.len);
            p->id = (uint16_t)sk_addr_port((struct sockaddr *)&src.ss);
        } else if (src_addr) {
            cli_error("ping: -I %s: %s", p->iface, strerror(errno));
            return EXIT_FAIL;
        }
    } else if (p->family == AF_INET6) {
        setsockopt(p->fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    }
    if (p->ttl >= 0) {
        rc = p->family == AF_INET6 ? setsockopt(p->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &p->ttl, sizeof p->ttl)
                                   : setsockopt(p->fd, IPPROTO_IP, IP_TTL, &p->ttl, sizeof p->ttl);
        if (rc < 0) {
            cli_error("ping: set ttl %d: %s", p->ttl, strerror(errno));
            return EXIT_FAIL;
        }
    }
    /* Which kind is news only when asked for (-v) or when it is not the
     * raw socket ping prefers: a fallback the user may want to know of. */
    bool fell_back = want == SK_ICMP_ANY && p->kind != SK_ICMP_RAW && !p->quiet;
    if (!p->json && (p->verbose || fell_back))
        fprintf(stderr, "sockit: ping uses %s\n",
                p->kind == SK_ICMP_RAW ? "a raw ICMP socket"
                                       : "an unprivileged ICMP datagram socket (no CAP_NET_RAW for a raw one)");
    return EXIT_OK;
}

/* Returns 0, -1 after a failure, or -2 when the first request could not
 * be sent at all (no summary then: nothing was measured). */
static int loop(ping *p)
{
    int64_t next = sk_now_ns();
    p->start_ns = next;
    int64_t deadline = p->deadline_ms ? next + p->deadline_ms * 1000000 : INT64_MAX;
    while (!g_stop) {
        int64_t t = sk_now_ns();
        if (t >= deadline)
            break;
        bool more = p->count == 0 || p->ntx < (uint64_t)p->count;
        if (more && t >= next) {
            int rc = send_one(p);
            if (rc < 0) {
                bool bcast = rc == -EACCES && !p->broadcast;
                cli_error("ping: send %s: %s%s", p->addr, sk_strerror(rc),
                          bcast ? " (a broadcast address needs -b, --broadcast)" : "");
                return p->ntx == 1 ? -2 : -1;
            }
            next += p->interval_ms * 1000000;
            if (next < t)
                next = t; /* do not burst to catch up after a stall */
            more = p->count == 0 || p->ntx < (uint64_t)p->count;
        }
        int64_t until = next;
        if (!more) {
            if (p->nrx + p->nerr >= p->ntx)
                break;
            /* With a deadline (-w) it alone says how long to wait. */
            until = p->deadline_ms ? deadline : p->last_tx_ns + p->wait_ms * 1000000;
            if (t >= until)
                break;
        }
        if (until > deadline)
            until = deadline;
        int wait = (int)((until - sk_now_ns() + 999999) / 1000000);
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        int n = poll(&pf, 1, wait < 0 ? 0 : wait);
        if (n < 0 && errno != EINTR) {
            cli_error("ping: poll: %s", strerror(errno));
            return -1;
        }
        if (n > 0 && drain(p) < 0) {
            cli_error("ping: receive: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

int cmd_ping(int argc, char **argv)
{
    cli_parser cp;
    static ping p;
    sk_icmp_sock want = SK_ICMP_ANY;
    int flags = 0, opt, rc;
    long v;

    memset(&p, 0, sizeof p);
    p.interval_ms = 1000;
    p.wait_ms = 10000;
    p.size = 56;
    p.ttl = -1;
    cli_parser_init(&cp, &cli_ping);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 'c':
            if (!cli_parse_int(optarg, 1, 1L << 40, &p.count))
                return cli_usage_error("ping", "-c wants a positive count, not '%s'", optarg);
            break;
        case 'i':
            if (!cli_parse_seconds(optarg, &p.interval_ms) || p.interval_ms < 1)
                return cli_usage_error("ping", "-i wants a time (at least 1ms: 0.2, 200ms), not '%s'", optarg);
            break;
        case 's':
            if (!cli_parse_int(optarg, 0, 65507, &v))
                return cli_usage_error("ping", "-s wants 0 to 65507 bytes, not '%s'", optarg);
            p.size = (size_t)v;
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, 255, &v))
                return cli_usage_error("ping", "-t wants a TTL from 1 to 255, not '%s'", optarg);
            p.ttl = (int)v;
            break;
        case 'W':
            if (!cli_parse_seconds(optarg, &p.wait_ms))
                return cli_usage_error("ping", "-W wants a time (2, 500ms, 1m), not '%s'", optarg);
            break;
        case 'w':
            if (!cli_parse_seconds(optarg, &p.deadline_ms) || p.deadline_ms < 1)
                return cli_usage_error("ping", "-w wants a deadline (5, 500ms, 1m), not '%s'", optarg);
            break;
        case 'I':
            if (optarg[0] == '\0' || strlen(optarg) >= IF_NAMESIZE + 40)
                return cli_usage_error("ping", "-I wants an interface or a source address, not '%s'", optarg);
            p.iface = optarg;
            break;
        case 'b':
            p.broadcast = true;
            break;
        case 'n':
            break; /* replies are always shown by address */
        case '4':
            flags = SK_RESOLVE_V4ONLY;
            break;
        case '6':
            flags = SK_RESOLVE_V6ONLY;
            break;
        case 'q':
            p.quiet = true;
            break;
        case 'v':
            p.verbose = true;
            break;
        case O_JSON:
            p.json = true;
            break;
        case O_SOCKET:
            if (!cli_parse_icmp_socket(optarg, &want))
                return cli_usage_error("ping", "--socket wants raw or dgram, not '%s'", optarg);
            break;
        case 'h':
            cli_help(stdout, &cli_ping);
            return EXIT_OK;
        default:
            return cli_bad_option("ping", opt, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_operand_error("ping", argc, argv, "HOST");
    p.host = argv[optind];
    if (p.host[0] == '\0')
        return cli_usage_error("ping", "HOST is empty");
    rc = cli_resolve_host(p.host, flags, &p.dst);
    if (rc < 0) {
        if (cli_exit_for(rc) == EXIT_USAGE)
            return cli_usage_error("ping", "%s: %s", p.host, sk_strerror(rc));
        cli_error("ping: resolve %s: %s", p.host, sk_strerror(rc));
        return EXIT_FAIL;
    }
    p.family = p.dst.ss.ss_family;
    cli_format_host((struct sockaddr *)&p.dst.ss, p.addr, sizeof p.addr);
    p.id = (uint16_t)getpid();
    rc = setup(&p, want);
    if (rc != EXIT_OK)
        return rc;

    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!p.json)
        printf("PING %s (%s) %zu(%zu) bytes of data.\n", p.host, p.addr, p.size,
               p.size + SK_ICMP_HDR_LEN + (p.family == AF_INET ? 20 : 40));
    fflush(stdout);
    g_stop = 0;
    rc = loop(&p);
    if (rc != -2)
        summary(&p);
    close(p.fd);
    if (rc < 0)
        return EXIT_FAIL;
    return p.nrx > 0 ? EXIT_OK : EXIT_FAIL;
}
