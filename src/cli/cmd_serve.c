/* sockit serve: run a service under a concurrency model until SIGINT,
 * SIGTERM or SIGHUP, then drain and exit 0. */
#include "cli.h"
#include "hexdump.h"
#include "serve_announce.h"
#include "serve_log.h"
#include "serve_register.h"
#include "serve_services.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <sockit/sockit.h>
#include <sockit/udp.h>

static sk_server *g_server;
static int g_withdrawing; /* withdrawals (etcd key, mDNS goodbye) still running */

/* --user: with the listeners bound, become NAME for good: supplementary
 * groups first (they would outlive setgid), then the group, then the user,
 * and check that root cannot be taken back. A server told to drop root
 * that could not must not serve as root. */
static int drop_privileges(const char *name)
{
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        cli_error("--user %s: no such user", name);
        return EXIT_USAGE;
    }
    if (geteuid() != 0) {
        if (pw->pw_uid == geteuid())
            return EXIT_OK; /* already that user */
        cli_error("--user %s: dropping to another user needs root", name);
        return EXIT_FAIL;
    }
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        cli_error("--user %s: %s; not serving as root", name, strerror(errno));
        return EXIT_FAIL;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        cli_error("--user %s: root could be taken back; not serving", name);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

#define DEFAULT_IDLE_MS (5 * 60 * 1000)
#define DEFAULT_FORK_CONNS 512

/* With --register the key goes first, with --announce the goodbye: each
 * calls withdrawn when done, and the last one stops the server, so clients
 * stop choosing this server before it stops accepting. */
static void withdrawn(void)
{
    if (__atomic_sub_fetch(&g_withdrawing, 1, __ATOMIC_SEQ_CST) <= 0 && g_server)
        sk_server_stop(g_server);
}

/* SIGHUP drains like SIGTERM (docs/reliability.md): a server started from
 * a terminal that closes must not lose its clients' data, and there is no
 * configuration to re-read. The line is written with one write(2), which
 * is async-signal-safe (stdio is not) and, like every log line, does not
 * wait for a reader that stopped (serve_log.c). */
static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
    g_signalled = 1;
    static const char term[] = "sockit: SIGTERM: draining: no new connections, the open ones served until they "
                               "end or --drain-timeout\n",
                      intr[] = "sockit: SIGINT: draining: no new connections, the open ones served until they "
                               "end or --drain-timeout\n",
                      hup[] = "sockit: SIGHUP: draining: no new connections, the open ones served until they "
                              "end or --drain-timeout\n";
    const char *msg = sig == SIGHUP ? hup : sig == SIGINT ? intr : term;
    size_t len = sig == SIGHUP ? sizeof hup - 1 : sig == SIGINT ? sizeof intr - 1 : sizeof term - 1;
    int saved = errno;
    serve_log_signal_write(2, msg, len);
    errno = saved;
    /* Counted up before each starts, so a fast one cannot stop the server
     * while the other is still on its way; the last withdrawn() drops the
     * initial hold. */
    __atomic_store_n(&g_withdrawing, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_withdrawing, 1, __ATOMIC_SEQ_CST);
    if (serve_register_signal() < 0)
        __atomic_sub_fetch(&g_withdrawing, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g_withdrawing, 1, __ATOMIC_SEQ_CST);
    if (serve_announce_signal(withdrawn) < 0)
        __atomic_sub_fetch(&g_withdrawing, 1, __ATOMIC_SEQ_CST);
    withdrawn();
}

/* Room for every listener's address in the banner (16 of them at most). */
#define LISTEN_TEXT (16 * (SK_ADDRSTRLEN + 4))

typedef struct serve_opts {
    int verbose; /* -v: connections; -v -v: their bytes too */
    bool json;
} serve_opts;

/* -v -v: a data event's line, then its bytes as a hex dump ('<' read from
 * the client, '>' sent to it), built whole and handed to the log at once so
 * threads and processes serving other clients do not cut into it. */
static void print_data(const sk_event *ev, const char *line)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return;
    fprintf(f, "sockit: %s\n", line);
    cli_hexdump(f, ev->dir == SK_DATA_IN ? '<' : '>', ev->offset, ev->data, ev->len);
    if (fclose(f) == 0)
        serve_log_write(2, text, len);
    free(text);
}

/* Called on the server's own threads (an event loop): the lines go
 * through serve_log.c, which never blocks, whoever reads them. */
static void on_event(void *ud, const sk_event *ev)
{
    const serve_opts *o = ud;
    char line[512], out[540];

    if (o->json) {
        sk_event_format(ev, SK_FORMAT_JSON, line, sizeof line);
        int n = snprintf(out, sizeof out, "%s\n", line);
        serve_log_write(1, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
        return;
    }
    /* Listening sockets and warnings always; the traffic with -v. */
    if (o->verbose || ev->kind == SK_EV_LISTEN || ev->kind == SK_EV_WARN) {
        sk_event_format(ev, SK_FORMAT_TEXT, line, sizeof line);
        if (ev->kind == SK_EV_DATA) {
            print_data(ev, line);
        } else {
            int n = snprintf(out, sizeof out, "sockit: %s\n", line);
            serve_log_write(2, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
        }
    }
}

static int service_values(cli_value *out, int max)
{
    int n = 0;
    for (const sk_service *const *svc = sk_service_list(); *svc && n < max; svc++)
        out[n++] = (cli_value){(*svc)->name, (*svc)->summary};
    return n;
}

static int backend_values(cli_value *out, int max)
{
    int n = 0;
    for (const char *const *be = sk_loop_backends(); *be && n < max; be++)
        out[n++] = (cli_value){*be, NULL};
    return n;
}

static int model_values(cli_value *out, int max)
{
    int n = 0;
    for (int m = 0; n < max && strcmp(sk_model_name((sk_model)m), "?") != 0; m++)
        out[n++] = (cli_value){sk_model_name((sk_model)m), NULL};
    return n;
}

/* --trace: one line per event on stderr, each written with one call so
 * the lines of several threads (and processes) never mix. Unlike -v it
 * blocks: a trace is complete or it is nothing, so a traced server waits
 * for its trace's reader (docs/reliability.md). */
static bool g_trace_json;

static void trace_line(void *ud, const sk_trace_event *ev)
{
    char line[1100], text[1024];
    (void)ud;
    int n = g_trace_json ? snprintf(line, sizeof line, "%s\n", sk_trace_json(ev, text, sizeof text))
                         : snprintf(line, sizeof line, "sockit: %s\n", sk_trace_format(ev, text, sizeof text));
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static sk_tracer g_tracer = {.fn = trace_line, .side = "server"};

enum {
    O_MAXCONNS = CLI_LONG,
    O_IDLE,
    O_DRAIN,
    O_BACKLOG,
    O_JSON,
    O_BUFSIZE,
    O_POOL,
    O_JOIN,
    O_REGISTER,
    O_REG_TTL,
    O_REG_WEIGHT,
    O_REG_ADDR,
    O_TRACE,
    O_NOACCEPT,
    O_ALLOW,
    O_DENY,
    O_KEEPALIVE,
    O_USER,
    O_ANNOUNCE,
    O_TXT,
    O_ANN_TTL,
    O_IFACE,
    O_ON_FD_LIMIT,
    O_ON_MAX_CONNS,
    O_PER_IP,
    O_MIN_RATE,
    O_CLOSEFIRST,
    O_DEFER_ACCEPT,
    O_FASTOPEN
};

static const cli_option options[] = {
    {'s', "service", "NAME", 0, "what to serve (default echo):", .values = service_values},
    CLI_OPT('l', "listen", "ADDR", 0,
            "address to listen on (default 127.0.0.1:7007);\n"
            "host:port, [v6]:port, :port (all interfaces), host:service"),
    {'m', "model", "MODEL", 0, "concurrency model (default loop):", .values = model_values},
    {'b', "backend", "NAME", 0, "event backend for loop models:", .values = backend_values,
     .man = "select, poll, epoll or uring (when built with liburing); the default is the first one built in"},
    CLI_OPT('w', "workers", "N", 0, "workers for prefork and hybrid (default: cores)"),
    CLI_OPT(0, "pool", "N", O_POOL,
            "hybrid: threads for blocking work services defer\n"
            "(default: as many as --workers)"),
    CLI_OPT(0, "max-conns", "N", O_MAXCONNS,
            "refuse connections beyond N at once; 0: no limit but the fd limit\n"
            "(default: 512 under fork, a process each; otherwise no limit)"),
    CLI_OPT(0, "on-max-conns", "reject|queue", O_ON_MAX_CONNS,
            "at --max-conns: reject (accept and close at once, the default)\n"
            "or queue (stop accepting; new clients wait in the backlog)"),
    CLI_OPT(0, "max-conns-per-ip", "N", O_PER_IP,
            "refuse a client address's connections beyond N at once\n"
            "(across every thread and process; default 0: no limit)"),
    CLI_OPT(0, "on-fd-limit", "spare-fd|pause-accept", O_ON_FD_LIMIT,
            "out of file descriptors: spare-fd (accept and close with a\n"
            "spare fd, the default) or pause-accept (stop accepting for\n"
            "100 ms; new clients wait in the backlog)"),
    CLI_OPT(0, "min-rate", "BYTES/S,TIME", O_MIN_RATE,
            "close connections with data moving (output queued, or input\n"
            "arriving) below BYTES/S over TIME: slow readers and writers\n"
            "(1000,10s; default off)"),
    CLI_OPT(0, "idle-timeout", "TIME", O_IDLE, "close connections idle for TIME: 30s, 5m; 0: never (default 5m)"),
    CLI_OPT(0, "keepalive", "IDLE,INTVL,CNT", O_KEEPALIVE,
            "TCP keepalive in seconds, seconds, probes: a vanished peer is\n"
            "dropped after IDLE + INTVL x CNT (default 60,10,6); off: none"),
    CLI_OPT(0, "drain-timeout", "TIME", O_DRAIN, "on stop, how long open connections are served (default 5s)"),
    CLI_OPT(0, "backlog", "N", O_BACKLOG, "listen backlog (default SOMAXCONN)"),
    CLI_OPT(0, "defer-accept", "TIME", O_DEFER_ACCEPT,
            "TCP_DEFER_ACCEPT: hand a connection over only once the client\n"
            "has sent something (read at once), or after TIME of silence\n"
            "(whole seconds; for client-speaks-first protocols such as http;\n"
            "default off)"),
    CLI_OPT(0, "fastopen", "N", O_FASTOPEN,
            "TCP_FASTOPEN: accept data in the SYN, at most N such connections\n"
            "pending (needs net.ipv4.tcp_fastopen with bit 2; default off)"),
    CLI_OPT(0, "no-accept", NULL, O_NOACCEPT,
            "listen but never accept: the accept queue fills to --backlog + 1,\n"
            "then SYNs are dropped (ListenOverflows); for 'sockit conns', ss"),
    CLI_OPT(0, "close-first", NULL, O_CLOSEFIRST,
            "close each connection first, once its first request is answered:\n"
            "TIME_WAIT lands on the server (TCP; for 'sockit conns', ss)"),
    CLI_OPT(0, "buffer-size", "N", O_BUFSIZE, "per-connection buffer bytes per direction (default 65536)"),
    CLI_OPT('p', "proto", "tcp|udp", 0,
            "transport (default tcp); udp answers each request\n"
            "datagram with one reply (echo, daytime; models loop, hybrid)"),
    CLI_OPT(0, "join", "GROUP[@IF]", O_JOIN,
            "udp: join a multicast group (224.1.1.1@eth0, ff02::1234@eth0);\n"
            "repeatable; listen on the wildcard (:PORT) to receive it"),
    CLI_OPT(0, "user", "NAME", O_USER,
            "after binding (a port below 1024 needs root), drop root for NAME:\n"
            "its groups, group and user; refuse to serve if that fails"),
    CLI_OPT(0, "allow", "CIDR", O_ALLOW,
            "serve only peers in this block (198.18.0.0/15, ::1); repeatable;\n"
            "others are closed at once (TCP) or not answered (UDP), as rejected"),
    CLI_OPT(0, "deny", "CIDR", O_DENY, "refuse peers in this block (checked before --allow); repeatable"),
    CLI_OPT(0, "register", "etcd://HOST:PORT/PREFIX", O_REGISTER,
            "put this server's key (PREFIX/ADDR: addr, service, model,\n"
            "weight) in etcd under a lease kept alive while serving;\n"
            "deleted on SIGTERM before the drain (docs/discovery.md)"),
    CLI_OPT(0, "register-ttl", "TIME", O_REG_TTL,
            "the lease's TTL: the key outlives a killed server by this (default 10s)"),
    CLI_OPT(0, "register-weight", "N", O_REG_WEIGHT, "the weight clients spread by, 0-65535 (default 1)"),
    CLI_OPT(0, "register-addr", "HOST:PORT", O_REG_ADDR,
            "the address to advertise (default: the listening one; on a\n"
            "wildcard, the first non-loopback interface address)"),
    CLI_OPT(0, "announce", NULL, O_ANNOUNCE,
            "announce the service on the link with DNS-SD over mDNS as\n"
            "INSTANCE (the operand; default \"sockit SERVICE on HOST\") of\n"
            "type _SERVICE._tcp (_udp); renamed \"INSTANCE (2)\" on a conflict;\n"
            "a goodbye on SIGTERM before the drain (docs/mdns.md)"),
    CLI_OPT(0, "txt", "KEY=VALUE", O_TXT, "--announce: a TXT record string; repeatable"),
    CLI_OPT(0, "announce-ttl", "TIME", O_ANN_TTL,
            "--announce: the records' TTL (default 120s for SRV and\n"
            "addresses, 75m for PTR and TXT): how long a killed server\n"
            "stays listed in others' caches"),
    CLI_OPT(0, "interface", "IF", O_IFACE, "--announce: on this interface only (default: every one up)"),
    CLI_OPT('v', "verbose", NULL, 0,
            "one line per connection open and close, counters on exit;\n"
            "twice (-v -v): every chunk read and sent as a hex dump (TCP)"),
    CLI_OPT(0, "json", NULL, O_JSON, "events as JSON lines on stdout (with --trace: the trace too, on stderr)"),
    CLI_OPT(0, "trace", NULL, O_TRACE,
            "every socket call on stderr as it happens (socket, bind,\n"
            "listen, accept, recv, send, shutdown, close: time, fd, result,\n"
            "TCP state, 4-tuple), then each closed connection's states;\n"
            "UDP: recvmmsg and sendmmsg, each datagram's size and peer"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_serve = {
    .name = "serve",
    .summary = "serve echo, discard, chargen, daytime, http, chat or a command (--exec) under any concurrency model",
    .usage = "[OPTIONS] [--announce [INSTANCE]]",
    .about = "Serve a protocol on a TCP port until SIGINT, SIGTERM or SIGHUP, then stop\n"
             "accepting, serve the open connections until they end (up to --drain-timeout,\n"
             "then cut them and report it) and exit 0.",
    .options = options,
    .more = serve_service_options,
    .run = cmd_serve,
};

int cmd_serve(int argc, char **argv)
{
    cli_parser cp;
    sk_server_config cfg = {.listen = "127.0.0.1:7007",
                            .model = SK_MODEL_LOOP,
                            .keepalive_idle_s = 60,
                            .keepalive_intvl_s = 10,
                            .keepalive_cnt = 6};
    serve_opts o = {0};
    serve_reg_opts reg = {.ttl_ms = 10000, .weight = 1};
    serve_ann_opts ann = {0};
    const char *service = NULL; /* echo, or what --exec and the like select */
    static const char *joins[17];
    int njoins = 0;
    long v;
    int64_t ms;
    int opt, rc;
    bool trace = false, no_accept = false, listen_flag = false, max_conns_set = false, idle_set = false;
    const char *user = NULL;
    static const char *allow[33], *deny[33];
    int nallow = 0, ndeny = 0;
    char names[512];

    if (cli_parser_init(&cp, &cli_serve) < 0) {
        cli_error("serve: the services declare more options than fit (%d)", CLI_MAX_OPTS);
        return EXIT_FAIL;
    }
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 's':
            service = optarg;
            break;
        case 'l':
            /* One address per server (a name with both families gets a
             * listener each): a second on the command line would silently
             * replace the first. A file or the environment is overridden by
             * a flag, as every setting is. */
            if (cli_current_source == NULL && listen_flag)
                return cli_usage_error("serve",
                                       "--listen given twice ('%s', '%s'): one address per server (run one per "
                                       "address, or listen on a name or the wildcard)",
                                       cfg.listen, optarg);
            listen_flag = cli_current_source == NULL;
            cfg.listen = optarg;
            break;
        case 'm':
            rc = sk_model_parse(optarg);
            if (rc < 0)
                return cli_usage_error("serve", "unknown model '%s' (fork, prefork, thread, loop, hybrid)", optarg);
            cfg.model = (sk_model)rc;
            break;
        case 'b':
            cfg.backend = optarg;
            break;
        case 'w':
            if (!cli_parse_int(optarg, 1, 1024, &v))
                return cli_usage_error("serve", "--workers wants a number from 1 to 1024, not '%s'", optarg);
            cfg.workers = (int)v;
            break;
        case O_POOL:
            if (!cli_parse_int(optarg, 1, 1024, &v))
                return cli_usage_error("serve", "--pool wants a number from 1 to 1024, not '%s'", optarg);
            cfg.pool = (int)v;
            break;
        case O_MAXCONNS:
            if (!cli_parse_int(optarg, 0, 10000000, &v))
                return cli_usage_error("serve", "--max-conns wants a number (0: no limit), not '%s'", optarg);
            cfg.max_conns = (int)v;
            max_conns_set = true;
            break;
        case O_IDLE:
            if (!cli_parse_seconds(optarg, &ms) || ms > INT32_MAX)
                return cli_usage_error("serve", "--idle-timeout wants a time (30s, 5m; 0: never), not '%s'", optarg);
            cfg.idle_timeout_ms = (int)ms;
            idle_set = true;
            break;
        case O_USER:
            user = optarg;
            break;
        case O_ON_MAX_CONNS:
            if (strcmp(optarg, "reject") != 0 && strcmp(optarg, "queue") != 0)
                return cli_usage_error("serve", "--on-max-conns wants reject or queue, not '%s'", optarg);
            cfg.on_max_conns = optarg[0] == 'q' ? SK_ON_MAX_CONNS_QUEUE : SK_ON_MAX_CONNS_REJECT;
            break;
        case O_ON_FD_LIMIT:
            if (strcmp(optarg, "spare-fd") != 0 && strcmp(optarg, "pause-accept") != 0)
                return cli_usage_error("serve", "--on-fd-limit wants spare-fd or pause-accept, not '%s'", optarg);
            cfg.on_fd_limit = optarg[0] == 'p' ? SK_ON_FD_LIMIT_PAUSE_ACCEPT : SK_ON_FD_LIMIT_SPARE_FD;
            break;
        case O_PER_IP:
            if (!cli_parse_int(optarg, 0, 10000000, &v))
                return cli_usage_error("serve", "--max-conns-per-ip wants a number (0: no limit), not '%s'", optarg);
            cfg.max_conns_per_ip = (int)v;
            break;
        case O_MIN_RATE: {
            const char *comma = strchr(optarg, ',');
            char rate[32];
            size_t k = comma ? (size_t)(comma - optarg) : 0;
            if (strcmp(optarg, "off") == 0) {
                cfg.min_rate_bps = 0;
                break;
            }
            if (k > 0 && k < sizeof rate) {
                memcpy(rate, optarg, k);
                rate[k] = '\0';
            }
            if (k == 0 || k >= sizeof rate || !cli_parse_int(rate, 1, 1L << 40, &v) ||
                !cli_parse_seconds(comma + 1, &ms) || ms < 100 || ms > INT32_MAX)
                return cli_usage_error(
                    "serve", "--min-rate wants BYTES/S,TIME (1000,10s; TIME at least 100ms) or off, not '%s'", optarg);
            cfg.min_rate_bps = (uint64_t)v;
            cfg.min_rate_window_ms = (int)ms;
            break;
        }
        case O_KEEPALIVE: {
            int a = 0, b = 0, c = 0;
            char tail;
            if (strcmp(optarg, "off") == 0) {
                cfg.keepalive_idle_s = 0;
            } else if (sscanf(optarg, "%d,%d,%d%c", &a, &b, &c, &tail) != 3 || a < 1 || a > 32767 || b < 1 ||
                       b > 32767 || c < 1 || c > 127) {
                return cli_usage_error("serve",
                                       "--keepalive wants IDLE,INTVL,CNT (seconds, seconds, probes: 60,10,6) or off, "
                                       "not '%s'",
                                       optarg);
            } else {
                cfg.keepalive_idle_s = a;
                cfg.keepalive_intvl_s = b;
                cfg.keepalive_cnt = c;
            }
            break;
        }
        case O_DRAIN:
            if (!cli_parse_seconds(optarg, &ms) || ms > INT32_MAX)
                return cli_usage_error("serve", "--drain-timeout wants a time (5s, 500ms), not '%s'", optarg);
            cfg.drain_timeout_ms = ms > 0 ? (int)ms : 1;
            break;
        case O_BACKLOG:
            if (!cli_parse_int(optarg, 1, 1 << 20, &v))
                return cli_usage_error("serve", "--backlog wants a positive number, not '%s'", optarg);
            cfg.backlog = (int)v;
            break;
        case O_DEFER_ACCEPT:
            if (!cli_parse_seconds(optarg, &ms) || ms < 1000 || ms > 3600 * 1000)
                return cli_usage_error("serve", "--defer-accept wants a time of 1s to 1h, not '%s'", optarg);
            cfg.defer_accept_s = (int)((ms + 999) / 1000);
            break;
        case O_FASTOPEN:
            if (!cli_parse_int(optarg, 1, 1 << 20, &v))
                return cli_usage_error("serve", "--fastopen wants a queue length of 1 to 1048576, not '%s'", optarg);
            cfg.fastopen_qlen = (int)v;
            break;
        case O_BUFSIZE:
            if (!cli_parse_int(optarg, 256, 64L << 20, &v))
                return cli_usage_error("serve", "--buffer-size wants 256 to 67108864 bytes, not '%s'", optarg);
            cfg.buf_size = (size_t)v;
            break;
        case 'p':
            if (strcmp(optarg, "tcp") != 0 && strcmp(optarg, "udp") != 0)
                return cli_usage_error("serve", "--proto wants tcp or udp, not '%s'", optarg);
            cfg.proto = optarg[0] == 'u' ? SK_PROTO_UDP : SK_PROTO_TCP;
            break;
        case O_JOIN:
            if (njoins == 16)
                return cli_usage_error("serve", "at most 16 --join groups");
            if (sk_udp_group_family(optarg) < 0)
                return cli_usage_error("serve", "--join wants GROUP[@IF] with a numeric group, not '%s'", optarg);
            joins[njoins++] = optarg;
            break;
        case O_REGISTER:
            reg.url = optarg;
            break;
        case O_REG_TTL:
            if (!cli_parse_seconds(optarg, &ms) || ms < 1 || ms > 86400000)
                return cli_usage_error("serve", "--register-ttl wants a time from 1s to 24h (10s, 2m), not '%s'",
                                       optarg);
            reg.ttl_ms = ms;
            break;
        case O_REG_WEIGHT:
            if (!cli_parse_int(optarg, 0, 65535, &v))
                return cli_usage_error("serve", "--register-weight wants a number from 0 to 65535, not '%s'", optarg);
            reg.weight = v;
            break;
        case O_REG_ADDR:
            reg.addr = optarg;
            break;
        case O_ANNOUNCE:
            ann.on = true;
            break;
        case O_TXT:
            if (ann.ntxt == SERVE_TXT_MAX)
                return cli_usage_error("serve", "at most %d --txt strings", SERVE_TXT_MAX);
            ann.txt[ann.ntxt++] = optarg;
            break;
        case O_ANN_TTL:
            if (!cli_parse_seconds(optarg, &ms) || ms < 1000 || ms > 86400000)
                return cli_usage_error("serve", "--announce-ttl wants a time from 1s to 24h, not '%s'", optarg);
            ann.ttl_ms = ms;
            break;
        case O_IFACE:
            ann.ifname = optarg;
            break;
        case 'v':
            o.verbose++;
            break;
        case O_JSON:
            o.json = true;
            break;
        case O_TRACE:
            trace = true;
            break;
        case O_NOACCEPT:
            no_accept = true;
            break;
        case O_CLOSEFIRST:
            cfg.close_first = true;
            break;
        case O_ALLOW:
        case O_DENY: {
            sk_cidr c;
            int *n = opt == O_ALLOW ? &nallow : &ndeny;
            const char **list = opt == O_ALLOW ? allow : deny;
            if (sk_cidr_parse(optarg, &c) < 0)
                return cli_usage_error("serve",
                                       "--%s wants an address or block (198.18.0.0/15, fd00:5ec::/64), not '%s'",
                                       opt == O_ALLOW ? "allow" : "deny", optarg);
            if (*n == 32)
                return cli_usage_error("serve", "at most 32 --%s blocks", opt == O_ALLOW ? "allow" : "deny");
            list[(*n)++] = optarg;
            break;
        }
        case 'h':
            cli_help(stdout, &cli_serve);
            return EXIT_OK;
        default:
            if ((rc = serve_service_set(opt, optarg)) < 0)
                return cli_bad_option("serve", opt, argv);
            if (rc != EXIT_OK)
                return rc;
            break;
        }
    }
    if (ann.on && argc - optind == 1)
        ann.instance = argv[optind++];
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    cfg.service = service ? sk_service_find(service) : serve_service_selected();
    if (service == NULL && cfg.service == NULL)
        cfg.service = sk_service_find("echo");
    if (cfg.service == NULL)
        return cli_usage_error("serve", "unknown service '%s' (%s)", service,
                               serve_service_names(names, sizeof names, false));
    if (njoins > 0 && cfg.proto != SK_PROTO_UDP)
        return cli_usage_error("serve", "--join needs --proto udp");
    if (cfg.proto == SK_PROTO_UDP && cfg.service->on_datagram == NULL)
        return cli_usage_error("serve", "service '%s' has no UDP form (udp: %s)", service,
                               serve_service_names(names, sizeof names, true));
    if (cfg.close_first && cfg.proto == SK_PROTO_UDP)
        return cli_usage_error("serve", "--close-first is for TCP (UDP has no connection to close)");
    if (cfg.proto == SK_PROTO_UDP && cfg.model != SK_MODEL_LOOP && cfg.model != SK_MODEL_HYBRID)
        return cli_usage_error("serve", "--proto udp runs under the loop and hybrid models only");
    if (cfg.backend && !sk_model_has_loop(cfg.model))
        return cli_usage_error("serve",
                               "--backend %s: model %s has no event loop (backends apply to loop, prefork, hybrid)",
                               cfg.backend, sk_model_name(cfg.model));
    for (int i = 0; i < njoins; i++) {
        rc = sk_udp_group_check(joins[i]);
        if (rc == SK_ENOTGROUP)
            return cli_usage_error("serve", "--join %s: %s", joins[i], sk_strerror(rc));
        if (rc == -ENODEV) {
            cli_error("--join %s: no interface named '%s' here", joins[i], strchr(joins[i], '@') + 1);
            return EXIT_FAIL;
        }
    }
    cfg.joins = joins;
    if (cfg.proto == SK_PROTO_UDP &&
        (cfg.max_conns_per_ip > 0 || cfg.min_rate_bps > 0 || cfg.on_max_conns != SK_ON_MAX_CONNS_REJECT ||
         cfg.on_fd_limit != SK_ON_FD_LIMIT_SPARE_FD))
        return cli_usage_error("serve", "--max-conns-per-ip, --min-rate, --on-max-conns and --on-fd-limit are for "
                                        "TCP connections, not --proto udp");
    if (cfg.proto == SK_PROTO_UDP && (cfg.defer_accept_s > 0 || cfg.fastopen_qlen > 0))
        return cli_usage_error("serve", "--defer-accept and --fastopen are for TCP listeners, not --proto udp");
    /* Safe defaults (docs/reliability.md): idle connections end, vanished
     * peers are found, and fork cannot make processes without bound. */
    if (!idle_set)
        cfg.idle_timeout_ms = DEFAULT_IDLE_MS;
    if (!max_conns_set && cfg.model == SK_MODEL_FORK)
        cfg.max_conns = DEFAULT_FORK_CONNS;
    if (cfg.on_max_conns == SK_ON_MAX_CONNS_QUEUE && cfg.max_conns == 0)
        return cli_usage_error("serve", "--on-max-conns queue needs --max-conns N (there is no limit to queue at)");
    cfg.allow = nallow ? allow : NULL;
    cfg.deny = ndeny ? deny : NULL;
    if ((rc = serve_register_check(&reg)) != EXIT_OK || (rc = serve_announce_check(&ann)) != EXIT_OK)
        return rc;
    rc = serve_service_config(cfg.service, &cfg.service_config);
    if (rc != EXIT_OK)
        return rc;
    cfg.on_event = on_event;
    cfg.userdata = &o;
    cfg.data_events = o.verbose >= 2;
    if (trace) {
        g_tracer.t0_us = sk_now_us(); /* before any server thread reads it */
#ifdef SOCKIT_NO_TRACE
        return cli_usage_error("serve", "--trace: this build has it compiled out (SOCKIT_TRACE=OFF)");
#endif
        g_trace_json = o.json;
        cfg.tracer = &g_tracer;
    }

    fflush(NULL);
    /* --trace on TCP: every state change from the tracepoint when this
     * process may read it (before any thread: it may mount a private
     * tracefs); not with --user, which could not remove the instance. */
    bool states = trace && cfg.proto == SK_PROTO_TCP && user == NULL;
    if (states && (rc = sk_trace_states_start(&g_tracer, 0)) < 0) {
        fprintf(stderr,
                "sockit: serve --trace: the sock:inet_sock_set_state tracepoint: %s; the states after close come "
                "from sock_diag (short ones may not show)\n",
                sk_tcpstate_why(rc));
        states = false;
    }
    serve_log_init(o.json);
    rc = sk_server_open(&cfg, &g_server);
    if (states && rc < 0)
        sk_trace_states_stop(&g_tracer);
    else if (states)
        sk_trace_states_port(&g_tracer,
                             (uint16_t)sk_addr_port((const struct sockaddr *)&sk_server_address(g_server)->ss), 0);
    if (rc < 0) {
        if (rc == -EINVAL && cfg.backend)
            return cli_usage_error("serve", "unknown backend '%s'", cfg.backend);
        if (rc == SK_EONEPROCESS)
            return cli_usage_error("serve",
                                   "--service %s needs all its connections in one process: use --model loop, "
                                   "thread or hybrid (fork and prefork share no memory)",
                                   cfg.service->name);
        if (rc == SK_EBUFSMALL)
            return cli_usage_error("serve",
                                   "--buffer-size %zu is too small for --service %s: it needs at least %zu bytes",
                                   cfg.buf_size, cfg.service->name, cfg.service->min_buf_size);
        if (cli_exit_for(rc) == EXIT_USAGE)
            return cli_addr_usage("serve", "listen", cfg.listen, rc);
        cli_error("listen %s: %s", cfg.listen, sk_strerror(rc));
        return EXIT_FAIL;
    }

    if (user && (rc = drop_privileges(user)) != EXIT_OK) {
        sk_server_free(g_server);
        g_server = NULL;
        return rc;
    }
    reg.verbose = o.verbose;
    if ((rc = serve_register_start(&reg, &sk_server_addresses(g_server, &(int){0})[0], cfg.service->name,
                                   sk_model_name(cfg.model), withdrawn)) != EXIT_OK) {
        sk_server_free(g_server);
        g_server = NULL;
        if (states)
            sk_trace_states_stop(&g_tracer);
        return rc;
    }
    ann.verbose = o.verbose;
    ann.json = o.json;
    if ((rc = serve_announce_start(&ann, &sk_server_addresses(g_server, &(int){0})[0], cfg.service->name,
                                   cfg.proto == SK_PROTO_UDP ? "udp" : "tcp")) != EXIT_OK) {
        serve_register_stop();
        sk_server_free(g_server);
        g_server = NULL;
        return rc;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* A second signal during the drain falls through to the default
     * action, so an impatient ^C^C still ends the server. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    /* Every listener, on one line: a name with both families has two. */
    char a[SK_ADDRSTRLEN], list[LISTEN_TEXT], json[LISTEN_TEXT];
    const char *backend = sk_server_backend(g_server);
    int nl;
    const sk_addr *la = sk_server_addresses(g_server, &nl);
    size_t used = 0, jused = 0;
    list[0] = json[0] = '\0';
    for (int i = 0; i < nl; i++) {
        sk_addr_format((const struct sockaddr *)&la[i].ss, a, sizeof a);
        used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s", i ? ", " : "", a);
        jused +=
            (size_t)snprintf(json + jused, jused < sizeof json ? sizeof json - jused : 0, "%s\"%s\"", i ? "," : "", a);
    }
    sk_addr_format((const struct sockaddr *)&la[0].ss, a, sizeof a);
    if (o.json)
        printf("{\"event\":\"listen\",\"addr\":\"%s\",\"addrs\":[%s],\"service\":\"%s\",\"model\":\"%s\","
               "\"backend\":\"%s\"}\n",
               a, json, cfg.service->name, sk_model_name(cfg.model), backend);
    else
        fprintf(stderr, "sockit: serving %s%s on %s (model %s%s%s)\n", cfg.service->name,
                cfg.proto == SK_PROTO_UDP ? "/udp" : "", list, sk_model_name(cfg.model), backend[0] ? ", backend " : "",
                backend);
    fflush(stdout);

    if (no_accept) {
        /* The listeners are open and never accepted from: wait for the
         * signal with it blocked until sigsuspend, so none is missed. */
        sigset_t stop, old;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        fprintf(stderr, "sockit: not accepting (--no-accept): the accept queue holds --backlog + 1 (%d)\n",
                (cfg.backlog > 0 ? cfg.backlog : SOMAXCONN) + 1);
        sigprocmask(SIG_BLOCK, &stop, &old);
        while (!g_signalled)
            sigsuspend(&old);
        sigprocmask(SIG_SETMASK, &old, NULL);
        serve_register_stop();
        sk_server_free(g_server);
        g_server = NULL;
        if (states)
            sk_trace_states_stop(&g_tracer);
        return EXIT_OK;
    }
    rc = sk_server_run(g_server);
    serve_announce_stop();
    serve_register_stop();

    sk_stats st;
    sk_server_stats(g_server, &st);
    if (o.json || o.verbose) {
        sk_event ev = {.kind = SK_EV_STATS, .stats = &st};
        on_event(&o, &ev);
    }
    /* A reader that stopped for good must not keep the server from
     * exiting: a second for what is queued and the count of what was not. */
    serve_log_flush(1000);
    sk_server_free(g_server);
    g_server = NULL;
    if (states)
        sk_trace_states_stop(&g_tracer);
    if (rc < 0) {
        if (rc == -ENOTSUP)
            cli_error("model %s is not available in this build", sk_model_name(cfg.model));
        else
            cli_error("serve: %s", sk_strerror(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
