/* sockit conns: the connection table of any local TCP listener, from the
 * kernel (NETLINK_SOCK_DIAG, sockdiag.h): the listener with its accept
 * queue, then each connection's 4-tuple, state, TCP_INFO and owner; with
 * --watch, what changes, as it changes. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sockit/sockdiag.h>
#include <sockit/sockit.h>

#define LISTEN_STATE 10

enum { O_STATE = CLI_LONG, O_WATCH, O_JSON, O_INTERVAL };

static const cli_option options[] = {
    CLI_OPT(0, "state", "LIST", O_STATE,
            "only these states, comma-separated (established, time-wait,\n"
            "close-wait, syn-recv, fin-wait-1, listen, ...)"),
    CLI_OPT(0, "watch", NULL, O_WATCH,
            "after the table, print each change as it happens: new, state\n"
            "(from -> to) and gone; until SIGINT or SIGTERM"),
    CLI_OPT(0, "interval", "TIME", O_INTERVAL, "--watch: how often the kernel is asked (default 200ms)"),
    CLI_OPT(0, "json", NULL, O_JSON, "one JSON object per socket and per change (docs/json.md)"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_conns = {
    .name = "conns",
    .summary = "the connections of any local TCP listener, from the kernel: states, RTT, queues, owner",
    .usage = "[OPTIONS] [ADDR|:PORT]",
    .about = "Show what the kernel knows of the TCP sockets on a local port, whichever\n"
             "process owns them (like ss -tnip sport = :PORT): the listening socket with\n"
             "its accept queue and backlog, then each connection's 4-tuple, state, RTT\n"
             "and its variance, congestion window, retransmissions, bytes acknowledged\n"
             "and received, send and receive queues, and the process holding it (every\n"
             "process's as root). Without ADDR, every TCP socket of the host.",
    .footer = "Exit status: 0; 1 when no listener is on ADDR or the kernel cannot be asked;\n"
              "2 for bad usage.",
    .options = options,
    .run = cmd_conns,
};

typedef struct conns_opts {
    bool json, watch, have_addr;
    int64_t interval_ms;
    sk_diag_filter f;
    sk_addr local;
    const char *text;
} conns_opts;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void owner(const sk_diag_sock *s, char *buf, size_t len)
{
    if (s->pid > 0)
        snprintf(buf, len, "%d/%s", s->pid, s->comm);
    else
        snprintf(buf, len, "-");
}

static void print_json(const char *event, const sk_diag_sock *s, int from)
{
    char l[SK_ADDRSTRLEN], p[SK_ADDRSTRLEN], comm[80];
    sk_addr_format((const struct sockaddr *)&s->local.ss, l, sizeof l);
    sk_addr_format((const struct sockaddr *)&s->peer.ss, p, sizeof p);
    cli_json_str(comm, sizeof comm, s->comm);
    printf("{\"event\":\"%s\",\"state\":\"%s\",\"local\":\"%s\"", event, sk_tcp_state_name(s->state), l);
    if (from >= 0)
        printf(",\"from\":\"%s\"", sk_tcp_state_name(from));
    if (s->state == LISTEN_STATE) {
        printf(",\"accept_queue\":%" PRIu32 ",\"backlog\":%" PRIu32, s->rqueue, s->wqueue);
    } else {
        printf(",\"peer\":\"%s\",\"recv_q\":%" PRIu32 ",\"send_q\":%" PRIu32, p, s->rqueue, s->wqueue);
        if (s->has_info)
            printf(",\"rtt_us\":%" PRIu32 ",\"rttvar_us\":%" PRIu32 ",\"cwnd\":%" PRIu32 ",\"retransmits\":%" PRIu32
                   ",\"bytes_acked\":%" PRIu64 ",\"bytes_received\":%" PRIu64,
                   s->info.rtt_us, s->info.rttvar_us, s->info.snd_cwnd, s->info.retransmits, s->info.bytes_acked,
                   s->info.bytes_received);
    }
    if (s->pid > 0)
        printf(",\"pid\":%d,\"process\":%s", s->pid, comm);
    printf("}\n");
}

static void print_listener(const sk_diag_sock *s)
{
    char l[SK_ADDRSTRLEN], who[64];
    sk_addr_format((const struct sockaddr *)&s->local.ss, l, sizeof l);
    owner(s, who, sizeof who);
    printf("LISTEN %s  accept queue %" PRIu32 "/%" PRIu32 "  %s\n", l, s->rqueue, s->wqueue, who);
}

static void print_header(void)
{
    printf("%-12s %-22s %-22s %15s %5s %5s %10s %10s %7s %7s  %s\n", "STATE", "LOCAL", "PEER", "RTT/VAR ms", "CWND",
           "RETR", "ACKED", "RECEIVED", "SEND-Q", "RECV-Q", "PROCESS");
}

static void print_conn(const char *prefix, const sk_diag_sock *s)
{
    char l[SK_ADDRSTRLEN], p[SK_ADDRSTRLEN], who[64], rtt[32] = "-", cwnd[16] = "-", retr[16] = "-", acked[24] = "-",
                                                      rcvd[24] = "-";
    sk_addr_format((const struct sockaddr *)&s->local.ss, l, sizeof l);
    sk_addr_format((const struct sockaddr *)&s->peer.ss, p, sizeof p);
    owner(s, who, sizeof who);
    if (s->has_info) {
        snprintf(rtt, sizeof rtt, "%.2f/%.2f", s->info.rtt_us / 1000.0, s->info.rttvar_us / 1000.0);
        snprintf(cwnd, sizeof cwnd, "%" PRIu32, s->info.snd_cwnd);
        snprintf(retr, sizeof retr, "%" PRIu32, s->info.retransmits);
        snprintf(acked, sizeof acked, "%" PRIu64, s->info.bytes_acked);
        snprintf(rcvd, sizeof rcvd, "%" PRIu64, s->info.bytes_received);
    }
    printf("%s%-12s %-22s %-22s %15s %5s %5s %10s %10s %7" PRIu32 " %7" PRIu32 "  %s\n", prefix,
           sk_tcp_state_name(s->state), l, p, rtt, cwnd, retr, acked, rcvd, s->wqueue, s->rqueue, who);
}

static void print_table(const conns_opts *o, const sk_diag_sock *v, size_t n)
{
    size_t conns = 0;
    for (size_t i = 0; i < n; i++) {
        if (o->json)
            print_json(v[i].state == LISTEN_STATE ? "listener" : "conn", &v[i], -1);
        else if (v[i].state == LISTEN_STATE)
            print_listener(&v[i]);
        else
            conns++;
    }
    if (o->json || conns == 0)
        return;
    print_header();
    for (size_t i = 0; i < n; i++) {
        if (v[i].state != LISTEN_STATE)
            print_conn("", &v[i]);
    }
}

static int key_cmp(const void *a, const void *b)
{
    const sk_diag_sock *x = a, *y = b;
    int c = memcmp(&x->local.ss, &y->local.ss, sizeof x->local.ss);
    return c ? c : memcmp(&x->peer.ss, &y->peer.ss, sizeof x->peer.ss);
}

static int ask(const conns_opts *o, sk_diag_sock **v, size_t *n)
{
    int rc = sk_diag_tcp(&o->f, v, n);
    if (rc < 0) {
        cli_error("conns: the kernel's socket table (NETLINK_SOCK_DIAG): %s", sk_strerror(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* Compare two sorted tables and print what changed. */
static void diff(const conns_opts *o, sk_diag_sock *old, size_t nold, sk_diag_sock *now, size_t nnow)
{
    size_t i = 0, j = 0;
    size_t fresh = 0;
    for (size_t k = 0; k < nnow; k++) {
        sk_diag_sock *hit = bsearch(&now[k], old, nold, sizeof *old, key_cmp);
        if (hit == NULL)
            fresh++;
        else if (hit->pid > 0) {
            now[k].pid = hit->pid;
            memcpy(now[k].comm, hit->comm, sizeof now[k].comm);
        }
    }
    if (fresh > 0)
        sk_diag_owners(now, nnow);
    while (i < nold || j < nnow) {
        int c = i == nold ? 1 : j == nnow ? -1 : key_cmp(&old[i], &now[j]);
        if (c < 0) {
            if (o->json)
                print_json("gone", &old[i], -1);
            else
                print_conn("gone  ", &old[i]);
            i++;
        } else if (c > 0) {
            if (o->json)
                print_json("new", &now[j], -1);
            else
                print_conn("new   ", &now[j]);
            j++;
        } else {
            if (old[i].state != now[j].state) {
                if (o->json)
                    print_json("state", &now[j], old[i].state);
                else {
                    char pre[40];
                    snprintf(pre, sizeof pre, "%s -> ", sk_tcp_state_name(old[i].state));
                    print_conn(pre, &now[j]);
                }
            }
            i++;
            j++;
        }
    }
    fflush(stdout);
}

static int watch(const conns_opts *o, sk_diag_sock *v, size_t n)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    qsort(v, n, sizeof *v, key_cmp);
    while (!g_stop) {
        struct timespec ts = {.tv_sec = o->interval_ms / 1000, .tv_nsec = (o->interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (g_stop)
            break;
        sk_diag_sock *now;
        size_t nnow;
        if (ask(o, &now, &nnow) != EXIT_OK) {
            free(v);
            return EXIT_FAIL;
        }
        qsort(now, nnow, sizeof *now, key_cmp);
        diff(o, v, n, now, nnow);
        free(v);
        v = now;
        n = nnow;
    }
    free(v);
    return EXIT_OK;
}

static int parse_states(const char *list, uint32_t *mask)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *mask = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int s = sk_tcp_state_of(t);
        if (s < 0)
            return cli_usage_error("conns", "--state: unknown TCP state '%s'", t);
        *mask |= 1u << s;
    }
    if (*mask == 0)
        return cli_usage_error("conns", "--state wants a list of states, not '%s'", list);
    return -1;
}

/* ADDR|:PORT into the filter: a port is required, a host optional. */
static int parse_addr(conns_opts *o, const char *text)
{
    sk_hostport hp;
    int rc = sk_addr_split(text, &hp), port;
    if (rc < 0)
        return cli_addr_usage("conns", NULL, text, rc);
    if ((port = sk_port_lookup(hp.port, "tcp")) < 0)
        return cli_addr_usage("conns", NULL, text, port);
    o->f.local_port = port;
    o->text = text;
    if (hp.host[0] != '\0') {
        rc = sk_addr_resolve(text, SOCK_STREAM, 0, &o->local, 1);
        if (rc < 0) {
            cli_error("conns: resolve %s: %s", text, sk_strerror(rc));
            return EXIT_FAIL;
        }
        o->f.local = &o->local;
    }
    o->have_addr = true;
    return -1;
}

int cmd_conns(int argc, char **argv)
{
    conns_opts o = {.interval_ms = 200, .f = {.local_port = -1}};
    cli_parser cp;
    int opt, rc;

    cli_parser_init(&cp, &cli_conns);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case O_STATE:
            if ((rc = parse_states(optarg, &o.f.states)) >= 0)
                return rc;
            break;
        case O_WATCH:
            o.watch = true;
            break;
        case O_INTERVAL:
            if (!cli_parse_seconds(optarg, &o.interval_ms) || o.interval_ms < 10 || o.interval_ms > 3600000)
                return cli_usage_error("conns", "--interval wants a time from 10ms to 1h, not '%s'", optarg);
            break;
        case O_JSON:
            o.json = true;
            break;
        case 'h':
            cli_help(stdout, &cli_conns);
            return EXIT_OK;
        default:
            return cli_bad_option("conns", opt, argv);
        }
    }
    if (argc - optind > 1)
        return cli_operand_error("conns", argc, argv, "at most one ADDR or :PORT");
    if (optind < argc && (rc = parse_addr(&o, argv[optind])) >= 0)
        return rc;

    sk_diag_sock *v;
    size_t n;
    if ((rc = ask(&o, &v, &n)) != EXIT_OK)
        return rc;
    bool listener = false;
    for (size_t i = 0; i < n; i++)
        listener = listener || v[i].state == LISTEN_STATE;
    if (o.have_addr && !listener && (o.f.states == 0 || (o.f.states & (1u << LISTEN_STATE)))) {
        cli_error("conns %s: no TCP listener on that %s", o.text, o.f.local ? "address" : "port");
        free(v);
        return EXIT_FAIL;
    }
    sk_diag_owners(v, n);
    print_table(&o, v, n);
    fflush(stdout);
    if (o.watch)
        return watch(&o, v, n);
    free(v);
    return EXIT_OK;
}
