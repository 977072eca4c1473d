/* sockit trace-route: find the routers on the way to a host by sending
 * probes with TTL 1, 2, 3, ... and listening for the ICMP "time exceeded"
 * each router sends back, until the destination itself answers ("port
 * unreachable" to a UDP probe, an echo reply to an ICMP one). ICMP errors
 * are read from a raw socket when allowed, otherwise from the probe
 * socket's error queue (IP_RECVERR), which needs no privilege. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
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
#include <sockit/udp.h>

#define MAX_HOPS 64
#define MAX_QUERIES 10
#define MAX_PROBES (MAX_HOPS * MAX_QUERIES)

typedef struct probe {
    int64_t sent_ns, rtt_ns; /* rtt_ns -1: no answer yet */
    struct sockaddr_storage from;
    char mark; /* 0, or the reason the destination refused: H N P X */
    bool reached;
} probe;

typedef struct trace {
    int family;
    sk_addr dst;
    const char *host;
    char addr[SK_ADDRSTRLEN];
    bool icmp, json, verbose;
    int queries, max_hops, first_ttl;
    int64_t wait_ms;
    uint16_t base_port, sport, id;
    int send_fd;       /* UDP socket, or the ICMP socket for --icmp */
    int raw_fd;        /* raw ICMP socket for errors with UDP probes, or -1 */
    sk_icmp_sock kind; /* RAW: errors from a raw socket; DGRAM: from the error queue */
    probe probes[MAX_PROBES];
} trace;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

enum { O_JSON = CLI_LONG, O_SOCKET };

static const cli_option options[] = {
    CLI_OPT('I', "icmp", NULL, 0, "ICMP echo probes instead of UDP (to port 33434 and up)"),
    CLI_OPT('q', "queries", "N", 0, "probes per hop (default 3)"),
    CLI_OPT('w', "wait", "TIME", 0, "wait at most TIME for a hop's answers (default 2s; 500ms, 1.5)"),
    CLI_OPT('m', "max-hops", "N", 0, "give up after N hops (default 30)"),
    CLI_OPT('f', "first-ttl", "N", 0, "start at this TTL (default 1)"),
    CLI_OPT('p', "port", "N", 0, "first UDP destination port (default 33434)"),
    CLI_OPT('4', NULL, NULL, 0, "IPv4 only"),
    CLI_OPT('6', NULL, NULL, 0, "IPv6 only"),
    CLI_OPT('n', NULL, NULL, 0, "numeric output (sockit never looks hop addresses up)"),
    CLI_OPT('v', "verbose", NULL, 0, "say which sockets probe and read the ICMP errors"),
    CLI_OPT(0, "socket", "raw|dgram", O_SOCKET, "insist on a raw socket or the unprivileged path"),
    CLI_OPT(0, "json", NULL, O_JSON, "one JSON line per hop, then a summary (also on ^C)"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_trace = {
    .name = "trace-route",
    .summary = "the routers on the way to a host, by increasing TTL (UDP or ICMP probes)",
    .usage = "[OPTIONS] HOST",
    .about = "Show the routers on the way to HOST: probes leave with TTL 1, 2, 3, ... and each\n"
             "router where the TTL runs out answers with ICMP \"time exceeded\". Each hop shows\n"
             "the address that answered and one round-trip time per probe, * for silence. Stops\n"
             "when HOST answers or at --max-hops. ICMP errors are read from a raw socket when\n"
             "allowed (root, CAP_NET_RAW), otherwise from the socket error queue (IP_RECVERR);\n"
             "-v says which, and so does stderr when the raw socket is not allowed. ^C stops\n"
             "(--json still prints its summary). Exit 0 when HOST was reached, 1 otherwise.",
    .options = options,
    .run = cmd_trace,
};

static bool is_port_unreach(int family, uint8_t type, uint8_t code)
{
    return family == AF_INET ? (type == 3 && code == 3) : (type == 1 && code == 4);
}

/* Why the destination refused, in traceroute's notation. */
static char unreach_mark(int family, uint8_t type, uint8_t code)
{
    if (family == AF_INET && type == 3)
        return code == 0 ? 'N' : code == 1 ? 'H' : code == 2 ? 'P' : 'X';
    if (family == AF_INET6 && type == 1)
        return code == 0 ? 'N' : code == 3 ? 'H' : 'X';
    return 0;
}

static void answer(trace *t, int pi, const struct sockaddr *from, int64_t at, bool reached, char mark)
{
    if (pi < 0 || pi >= MAX_PROBES || t->probes[pi].sent_ns == 0 || t->probes[pi].rtt_ns >= 0)
        return;
    probe *p = &t->probes[pi];
    p->rtt_ns = at - p->sent_ns;
    memcpy(&p->from, from, from->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    p->reached = reached;
    p->mark = mark;
}

/* An ICMP packet from the raw socket (or an echo reply on the probe
 * socket): which probe is it about? */
static void from_packet(trace *t, const uint8_t *buf, size_t n, bool iphdr, const struct sockaddr *from, int64_t at)
{
    sk_icmp_info in;
    int icmp_proto = t->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

    if (sk_icmp_parse(t->family, buf, n, iphdr ? SK_ICMP_IPHDR : 0, &in) < 0)
        return;
    if (in.kind == SK_ICMP_ECHO_REPLY && t->icmp) {
        if (t->kind == SK_ICMP_RAW && in.id != t->id)
            return;
        answer(t, (int)in.seq - 1, from, at, true, 0);
        return;
    }
    if (in.kind != SK_ICMP_TIME_EXCEEDED && in.kind != SK_ICMP_UNREACHABLE)
        return;
    int pi = -1;
    if (!t->icmp && in.quoted_proto == IPPROTO_UDP && in.quoted_sport == t->sport)
        pi = (int)in.quoted_dport - t->base_port;
    else if (t->icmp && in.quoted_proto == icmp_proto && in.id == t->id)
        pi = (int)in.seq - 1;
    if (pi < 0)
        return;
    bool reached = in.kind == SK_ICMP_UNREACHABLE && is_port_unreach(t->family, in.type, in.code);
    char mark = in.kind == SK_ICMP_UNREACHABLE && !reached ? unreach_mark(t->family, in.type, in.code) : 0;
    answer(t, pi, from, at, reached || mark != 0, mark);
}

static void drain(trace *t, int fd)
{
    uint8_t buf[2048];
    int64_t at = sk_now_ns();

    for (;;) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (fd == t->raw_fd || t->icmp)
            from_packet(t, buf, (size_t)n, t->kind == SK_ICMP_RAW && t->family == AF_INET, (struct sockaddr *)&from,
                        at);
    }
    if (t->kind != SK_ICMP_DGRAM || fd != t->send_fd)
        return;
    for (;;) {
        sk_icmp_qerr qe;
        long n = sk_icmp_read_error(fd, buf, sizeof buf, &qe);
        if (n < 0)
            break;
        if (!qe.icmp)
            continue;
        int pi;
        if (t->icmp) {
            if (n < SK_ICMP_HDR_LEN)
                continue;
            pi = (buf[6] << 8 | buf[7]) - 1;
        } else {
            /* The kernel names the failed datagram's destination, port
             * included: the port says which probe it was. */
            pi = sk_addr_port((struct sockaddr *)&qe.orig_dst) - t->base_port;
        }
        bool te = t->family == AF_INET ? qe.type == 11 : qe.type == 3;
        bool reached = !te && is_port_unreach(t->family, qe.type, qe.code);
        char mark = !te && !reached ? unreach_mark(t->family, qe.type, qe.code) : 0;
        answer(t, pi, (struct sockaddr *)&qe.offender, at, reached || mark != 0, mark);
    }
}

static int send_probe(trace *t, int ttl, int pi)
{
    uint8_t pkt[64];
    sk_addr to = t->dst;
    size_t len;
    int rc = t->family == AF_INET6 ? setsockopt(t->send_fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl)
                                   : setsockopt(t->send_fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    if (rc < 0)
        return -errno;
    t->probes[pi].sent_ns = sk_now_ns();
    t->probes[pi].rtt_ns = -1;
    if (t->icmp) {
        len = (size_t)sk_icmp_echo_build(t->family, t->id, (uint16_t)(pi + 1), t->probes[pi].sent_ns, 32, pkt,
                                         sizeof pkt);
    } else {
        memset(pkt, 0, 32);
        memcpy(pkt, &pi, sizeof pi);
        len = 32;
        uint16_t port = htons((uint16_t)(t->base_port + pi));
        if (t->family == AF_INET)
            ((struct sockaddr_in *)&to.ss)->sin_port = port;
        else
            ((struct sockaddr_in6 *)&to.ss)->sin6_port = port;
    }
    /* With IP_RECVERR the previous probe's ICMP error is also left pending
     * on the socket, and the next send reports it instead of sending:
     * try again, the failed call has cleared it. */
    for (int tries = 0; tries < 4; tries++) {
        if (sendto(t->send_fd, pkt, len, 0, (struct sockaddr *)&to.ss, to.len) >= 0)
            return 0;
        if (errno != EHOSTUNREACH && errno != ENETUNREACH && errno != ECONNREFUSED && errno != EINTR)
            return -errno;
    }
    return 0;
}

static void print_hop(trace *t, int ttl, int first)
{
    char a[SK_ADDRSTRLEN], last[SK_ADDRSTRLEN] = "";

    if (t->json) {
        printf("{\"event\":\"hop\",\"ttl\":%d,\"probes\":[", ttl);
        for (int q = 0; q < t->queries; q++) {
            probe *p = &t->probes[first + q];
            if (p->rtt_ns < 0)
                printf("%snull", q ? "," : "");
            else if (p->mark)
                printf("%s{\"addr\":\"%s\",\"rtt_ms\":%.3f,\"mark\":\"!%c\"}", q ? "," : "",
                       cli_format_host((struct sockaddr *)&p->from, a, sizeof a), (double)p->rtt_ns / 1e6, p->mark);
            else
                printf("%s{\"addr\":\"%s\",\"rtt_ms\":%.3f}", q ? "," : "",
                       cli_format_host((struct sockaddr *)&p->from, a, sizeof a), (double)p->rtt_ns / 1e6);
        }
        printf("]}\n");
        fflush(stdout);
        return;
    }
    printf("%2d ", ttl);
    for (int q = 0; q < t->queries; q++) {
        probe *p = &t->probes[first + q];
        if (p->rtt_ns < 0) {
            printf(" *");
            continue;
        }
        cli_format_host((struct sockaddr *)&p->from, a, sizeof a);
        if (strcmp(a, last) != 0) {
            printf(" %s ", a);
            strcpy(last, a);
        }
        printf(" %.3f ms", (double)p->rtt_ns / 1e6);
        if (p->mark)
            printf(" !%c", p->mark);
    }
    printf("\n");
    fflush(stdout);
}

static int run(trace *t)
{
    bool reached = false;
    int ttl, hops = 0;

    for (ttl = t->first_ttl; ttl <= t->max_hops && !reached && !g_stop; ttl++) {
        int first = (ttl - 1) * t->queries;
        for (int q = 0; q < t->queries; q++) {
            int rc = send_probe(t, ttl, first + q);
            if (rc < 0) {
                cli_error("trace-route: send %s: %s%s", t->addr, sk_strerror(rc),
                          rc == -EACCES ? " (a broadcast address: trace-route follows the route to one host)" : "");
                return EXIT_FAIL;
            }
        }
        int64_t deadline = sk_now_ns() + t->wait_ms * 1000000;
        for (;;) {
            int answered = 0;
            for (int q = 0; q < t->queries; q++)
                answered += t->probes[first + q].rtt_ns >= 0;
            int64_t left = deadline - sk_now_ns();
            if (answered == t->queries || left <= 0 || g_stop)
                break;
            struct pollfd pf[2] = {{.fd = t->send_fd, .events = POLLIN}, {.fd = t->raw_fd, .events = POLLIN}};
            int n = poll(pf, t->raw_fd >= 0 ? 2 : 1, (int)((left + 999999) / 1000000));
            if (n < 0 && errno != EINTR) {
                cli_error("trace-route: poll: %s", strerror(errno));
                return EXIT_FAIL;
            }
            if (n > 0 && pf[0].revents)
                drain(t, t->send_fd);
            if (n > 0 && t->raw_fd >= 0 && pf[1].revents)
                drain(t, t->raw_fd);
        }
        /* A hop cut short by ^C is not shown: its silent probes would
         * read as silence of the router. */
        if (g_stop)
            break;
        for (int q = 0; q < t->queries; q++)
            reached |= t->probes[first + q].reached;
        print_hop(t, ttl, first);
        hops = ttl;
    }
    if (t->json)
        printf("{\"event\":\"summary\",\"host\":\"%s\",\"addr\":\"%s\",\"reached\":%s,\"hops\":%d,\"socket\":\"%s\","
               "\"proto\":\"%s\",\"interrupted\":%s}\n",
               t->host, t->addr, reached ? "true" : "false", hops, t->kind == SK_ICMP_RAW ? "raw" : "dgram",
               t->icmp ? "icmp" : "udp", g_stop ? "true" : "false");
    fflush(stdout);
    return reached ? EXIT_OK : EXIT_FAIL;
}

/* Open the probe socket and, when allowed, the raw socket for errors. */
static int setup(trace *t, sk_icmp_sock want)
{
    int rc;
    t->raw_fd = -1;
    if (t->icmp) {
        rc = sk_icmp_open(t->family, want, &t->kind);
        if (rc < 0) {
            cli_error("trace-route: ICMP socket: %s", sk_strerror(rc));
            return EXIT_FAIL;
        }
        t->send_fd = rc;
        t->id = (uint16_t)getpid();
    } else {
        rc = sk_udp_socket(&t->dst, SK_UDP_NONBLOCK);
        if (rc < 0) {
            cli_error("trace-route: UDP socket: %s", sk_strerror(rc));
            return EXIT_FAIL;
        }
        t->send_fd = rc;
        t->kind = SK_ICMP_DGRAM;
        if (want != SK_ICMP_DGRAM) {
            sk_icmp_sock k;
            t->raw_fd = sk_icmp_open(t->family, SK_ICMP_RAW, &k);
            if (t->raw_fd >= 0)
                t->kind = SK_ICMP_RAW;
            else if (want == SK_ICMP_RAW) {
                cli_error("trace-route: raw ICMP socket: %s", sk_strerror(t->raw_fd));
                return EXIT_FAIL;
            }
        }
    }
    if (t->kind == SK_ICMP_DGRAM && sk_icmp_recverr(t->send_fd, t->family) < 0) {
        cli_error("trace-route: IP_RECVERR: %s", strerror(errno));
        return EXIT_FAIL;
    }
    /* Bind so the source port (UDP) or the kernel's echo id is known. */
    sk_addr any = {.len = t->dst.len};
    any.ss.ss_family = (sa_family_t)t->family;
    if (!(t->icmp && t->kind == SK_ICMP_RAW)) {
        if (bind(t->send_fd, (struct sockaddr *)&any.ss, any.len) < 0) {
            cli_error("trace-route: bind: %s", strerror(errno));
            return EXIT_FAIL;
        }
        any.len = sizeof any.ss;
        getsockname(t->send_fd, (struct sockaddr *)&any.ss, &any.len);
        t->sport = (uint16_t)sk_addr_port((struct sockaddr *)&any.ss);
        if (t->icmp)
            t->id = t->sport;
    }
    /* News only when asked (-v) or when the raw socket was wanted by
     * default and not allowed: a fallback the user may want to know of. */
    bool fell_back = want == SK_ICMP_ANY && t->kind != SK_ICMP_RAW;
    if (!t->json && (t->verbose || fell_back))
        fprintf(stderr, "sockit: trace-route sends %s probes and reads ICMP errors %s\n", t->icmp ? "ICMP echo" : "UDP",
                t->kind == SK_ICMP_RAW ? "from a raw socket"
                                       : "from the socket error queue (IP_RECVERR, unprivileged)");
    return EXIT_OK;
}

int cmd_trace(int argc, char **argv)
{
    cli_parser cp;
    static trace t;
    sk_icmp_sock want = SK_ICMP_ANY;
    int flags = 0, opt, rc;
    long v;

    memset(&t, 0, sizeof t);
    t.queries = 3;
    t.max_hops = 30;
    t.first_ttl = 1;
    t.wait_ms = 2000;
    t.base_port = 33434;
    cli_parser_init(&cp, &cli_trace);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 'I':
            t.icmp = true;
            break;
        case 'q':
            if (!cli_parse_int(optarg, 1, MAX_QUERIES, &v))
                return cli_usage_error("trace-route", "--queries wants 1 to %d, not '%s'", MAX_QUERIES, optarg);
            t.queries = (int)v;
            break;
        case 'w':
            if (!cli_parse_seconds(optarg, &t.wait_ms) || t.wait_ms < 1)
                return cli_usage_error("trace-route", "--wait wants a time (2, 500ms), not '%s'", optarg);
            break;
        case 'm':
            if (!cli_parse_int(optarg, 1, MAX_HOPS, &v))
                return cli_usage_error("trace-route", "--max-hops wants 1 to %d, not '%s'", MAX_HOPS, optarg);
            t.max_hops = (int)v;
            break;
        case 'f':
            if (!cli_parse_int(optarg, 1, MAX_HOPS, &v))
                return cli_usage_error("trace-route", "--first-ttl wants 1 to %d, not '%s'", MAX_HOPS, optarg);
            t.first_ttl = (int)v;
            break;
        case 'p':
            if (!cli_parse_int(optarg, 1, 65535 - MAX_PROBES, &v))
                return cli_usage_error("trace-route", "--port wants 1 to %d, not '%s'", 65535 - MAX_PROBES, optarg);
            t.base_port = (uint16_t)v;
            break;
        case '4':
            flags = SK_RESOLVE_V4ONLY;
            break;
        case '6':
            flags = SK_RESOLVE_V6ONLY;
            break;
        case O_JSON:
            t.json = true;
            break;
        case 'n':
            break; /* hops are always shown by address */
        case 'v':
            t.verbose = true;
            break;
        case O_SOCKET:
            if (!cli_parse_icmp_socket(optarg, &want))
                return cli_usage_error("trace-route", "--socket wants raw or dgram, not '%s'", optarg);
            break;
        case 'h':
            cli_help(stdout, &cli_trace);
            return EXIT_OK;
        default:
            return cli_bad_option("trace-route", opt, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_operand_error("trace-route", argc, argv, "HOST");
    if (t.first_ttl > t.max_hops)
        return cli_usage_error("trace-route", "--first-ttl is beyond --max-hops");
    t.host = argv[optind];
    if (t.host[0] == '\0')
        return cli_usage_error("trace-route", "HOST is empty");
    rc = cli_resolve_host(t.host, flags, &t.dst);
    if (rc < 0) {
        if (cli_exit_for(rc) == EXIT_USAGE)
            return cli_usage_error("trace-route", "%s: %s", t.host, sk_strerror(rc));
        cli_error("trace-route: resolve %s: %s", t.host, sk_strerror(rc));
        return EXIT_FAIL;
    }
    t.family = t.dst.ss.ss_family;
    cli_format_host((struct sockaddr *)&t.dst.ss, t.addr, sizeof t.addr);
    rc = setup(&t, want);
    /* No SA_RESTART: ^C must end the poll that waits for a hop. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    g_stop = 0;
    if (rc == EXIT_OK) {
        if (!t.json)
            printf("traceroute to %s (%s), %d hops max, %s probes\n", t.host, t.addr, t.max_hops,
                   t.icmp ? "ICMP echo" : "UDP");
        fflush(stdout);
        rc = run(&t);
    }
    if (t.send_fd > 0)
        close(t.send_fd);
    if (t.raw_fd >= 0)
        close(t.raw_fd);
    return rc;
}
