/* sockit bench: a load generator for echo, discard and HTTP servers, with
 * latency percentiles, a live progress line on a terminal and --json;
 * --sweep runs a sockit server under each model (bench_sweep.c). */
#include "bench_cli.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockit/sockit.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

enum {
    O_SIZE = CLI_LONG,
    O_PATH,
    O_RATE,
    O_PIPELINE,
    O_TIMEOUT,
    O_JSON,
    O_SWEEP,
    O_MODELS,
    O_BACKENDS,
    O_CONNS,
    O_SERVICE,
    O_OUT,
    O_BUSY_POLL,
    O_DNS,
    O_NEW_CONN,
    O_FASTOPEN,
    O_IDLE,
    O_PROCS,
    O_SOURCE,
    O_WORKLOAD,
};

static const cli_option options[] = {
    CLI_OPT('p', "proto", "NAME", 0,
            "echo (default): send --size bytes, wait for them back;\n"
            "http: GET --path, keep-alive; non-2xx counts as bad status;\n"
            "discard: send --size bytes; a request ends when written;\n"
            "udp: echo over UDP, numbered datagrams of --size bytes\n"
            "(at least 16); unanswered within --timeout: lost"),
    CLI_OPT('c', "connections", "N", 0, "connections (default 10)"),
    CLI_OPT('d', "duration", "TIME", 0,
            "how long to run: 30s, 2m, 500ms (default 10s; 5s with --sweep;\n"
            "1h with -n)"),
    CLI_OPT('n', "requests", "N", 0,
            "send N requests in all (split over threads and --procs like\n"
            "the connections), end when each is answered, failed or lost"),
    CLI_OPT('t', "threads", "N", 0, "threads, each with its own event loop (default 1)"),
    CLI_OPT(0, "size", "N", O_SIZE, "message bytes for echo and discard (default 64)"),
    CLI_OPT(0, "path", "P", O_PATH, "HTTP request target (default /)"),
    CLI_OPT(0, "rate", "R", O_RATE,
            "fixed total rate, requests/s; latency is measured from each\n"
            "request's intended send time (no coordinated omission)"),
    CLI_OPT(0, "pipeline", "N", O_PIPELINE, "requests in flight per connection (default 1)"),
    CLI_OPT(0, "timeout", "TIME", O_TIMEOUT, "per request and per connect: 2s, 500ms (default 5s)"),
    CLI_OPT(0, "busy-poll", "US", O_BUSY_POLL,
            "poll for up to US microseconds before sleeping (default 0):\n"
            "the server never pays to wake the client; for a client\n"
            "with a core of its own (taskset)"),
    CLI_OPT(0, "new-conn", NULL, O_NEW_CONN,
            "one request per connection, then close and connect anew\n"
            "(HTTP asks Connection: close); reports connects/s, connect\n"
            "time and the kernel's listen drops and TIME_WAIT count"),
    CLI_OPT(0, "fastopen", NULL, O_FASTOPEN,
            "TCP Fast Open: requests go out in the SYN once the server\n"
            "gave a cookie (serve --fastopen N; net.ipv4.tcp_fastopen bit 1)"),
    CLI_OPT(0, "idle", "TIME", O_IDLE,
            "hold the connections; each sends one echo every TIME (10s),\n"
            "spread evenly; reports the longest gap and the errors"),
    CLI_OPT(0, "procs", "N", O_PROCS,
            "N client processes, each its share of -c, --rate and\n"
            "--source (each -t threads); one merged report"),
    CLI_OPT(0, "source", "ADDRS", O_SOURCE,
            "bind the connections to source addresses, in turn:\n"
            "127.0.0.2-127.0.0.9, 127.0.0.0/24 or one address"),
    CLI_OPT(0, "dns-server", "ADDR", O_DNS, "ask DNS at ADDR (ip[:port],...) for names and SRV records"),
    CLI_OPT('v', "verbose", NULL, 0, "say how ADDR was found: the SRV targets, each lookup and connect"),
    CLI_OPT(0, "json", NULL, O_JSON, "print the result as one JSON object"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_HEADING("Sweep (starts 'sockit serve' itself on 127.0.0.1, port chosen by the kernel):"),
    CLI_OPT(0, "sweep", NULL, O_SWEEP, "bench every model x backend at several connection counts"),
    CLI_OPT(0, "models", "LIST", O_MODELS, "comma-separated (default loop; also fork, prefork, thread, hybrid)"),
    CLI_OPT(0, "backends", "LIST", O_BACKENDS, "comma-separated event backends (default: the server's choice)"),
    CLI_OPT(0, "conns", "LIST", O_CONNS, "connection counts (default 1,10,100,1000)"),
    CLI_OPT(0, "service", "NAME", O_SERVICE, "echo (default), discard or http"),
    CLI_OPT(0, "workload", "keepalive|churn|udp|idle", O_WORKLOAD,
            "keepalive (default): requests on held connections; churn:\n"
            "--new-conn; udp: --proto udp against serve --proto udp;\n"
            "idle: --idle (1s unless given), with the server's RSS"),
    CLI_OPT(0, "out", "DIR", O_OUT,
            "where results.md, results.json, rps.svg, p99.svg go\n"
            "(default sweep-out)"),
    CLI_END,
};

const cli_command cli_bench = {
    .name = "bench",
    .summary = "load a server (echo, discard, HTTP): requests/s, latency percentiles; --sweep",
    .usage = "[OPTIONS] ADDR\n--sweep [OPTIONS]",
    .about = "Load a server at ADDR with many connections and report requests/s, bytes/s,\n"
             "errors by kind and latency percentiles (p50 p90 p99 p99.9 max).\n\n"
             "ADDR is host:port, a DNS SRV name (srv:NAME, _service._proto.domain) or an\n"
             "etcd registry (etcd://HOST:PORT/PREFIX, every instance with priority 0):\n"
             "then every target is connected to once, the unreachable ones are left\n"
             "out, and the connections go to the lowest priority that answers, shared\n"
             "by weight; the report counts requests per target.",
    .footer = "Exit status: 0 done, 1 nothing answered (unreachable server), 2 usage error.",
    .options = options,
    .run = cmd_bench,
};

static const char *human_bytes(double v, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}

typedef struct progress {
    uint64_t last_requests;
    int64_t last_ms;
} progress;

static void on_progress(void *ud, const sk_bench_counts *n, int64_t ms)
{
    progress *p = ud;
    double dt = (double)(ms - p->last_ms) / 1000.0;
    double rps = dt > 0 ? (double)(n->requests - p->last_requests) / dt : 0;
    uint64_t errs = n->err_connect + n->err_read + n->err_write + n->err_timeout + n->err_status;
    char b[32];
    fprintf(stderr, "\r[%4.0fs] %" PRIu64 " requests, %.0f req/s, in %s/s, errors %" PRIu64 "\033[K",
            (double)ms / 1000.0, n->requests, rps,
            human_bytes((double)n->bytes_in / ((double)ms / 1000.0), b, sizeof b), errs);
    fflush(stderr);
    p->last_requests = n->requests;
    p->last_ms = ms;
}

static void report(const sk_bench_config *cfg, const char *addr, const sk_bench_result *r, const bench_extra *x)
{
    bench_summary s;
    char a[32], b[32], procs[32] = "";
    bench_summarize(r, &s);
    if (x->procs > 1)
        snprintf(procs, sizeof procs, "%d processes, ", x->procs);
    printf("sockit bench %s (%s): %d connections, %s%d threads%s, pipeline %d, %.2f s%s%s%s\n", addr,
           sk_bench_proto_name(cfg->proto), cfg->conns, procs, cfg->threads, x->procs > 1 ? " each" : "", cfg->pipeline,
           s.secs, cfg->rate > 0 && cfg->idle_ms == 0 ? ", fixed rate" : "",
           cfg->new_conn ? ", new connection per request" : "", cfg->idle_ms > 0 ? ", idle" : "");
    if (cfg->rate > 0)
        printf("  rate asked   %.1f req/s\n", cfg->rate);
    if (cfg->requests_max)
        printf("  asked        %" PRIu64 " requests\n", cfg->requests_max);
    printf("  requests     %" PRIu64 " (%.1f req/s)\n", r->n.requests, s.rps);
    printf("  transfer     in %s/s, out %s/s\n", human_bytes(s.in_ps, a, sizeof a), human_bytes(s.out_ps, b, sizeof b));
    printf("  latency us   mean %.1f  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n", s.mean, s.p50, s.p90,
           s.p99, s.p999, s.max);
    printf("  errors       connect %" PRIu64 "  read %" PRIu64 "  write %" PRIu64 "  timeout %" PRIu64
           "  bad status %" PRIu64 "\n",
           r->n.err_connect, r->n.err_read, r->n.err_write, r->n.err_timeout, r->n.err_status);
    if (cfg->new_conn || cfg->idle_ms > 0 || x->procs > 1 || cfg->source_count)
        printf("  connects     %" PRIu64 " (%.1f/s), connect us mean %.1f  p50 %.0f  p99 %.0f  max %.0f\n",
               r->n.connects, s.cps, s.c_mean, s.c_p50, s.c_p99, s.c_max);
    if (cfg->source_count)
        printf("  sources      %" PRIu32 " addresses\n", cfg->source_count);
    if (cfg->proto == SK_BENCH_UDP) {
        double pct = r->n.dgrams_sent ? 100.0 * (double)r->n.dgrams_lost / (double)r->n.dgrams_sent : 0;
        printf("  datagrams    sent %" PRIu64 "  answered %" PRIu64 "  lost %" PRIu64 " (%.3f%%)  late %" PRIu64 "\n",
               r->n.dgrams_sent, r->n.requests, r->n.dgrams_lost, pct, r->n.dgrams_late);
    }
    if (cfg->idle_ms > 0) {
        char est[32] = "never all";
        if (r->established_ms >= 0)
            snprintf(est, sizeof est, "all in %.3f s", (double)r->established_ms / 1000);
        printf("  held         %" PRIu64 " open at the end, %s, one echo each %.3f s, longest gap %.3f s\n",
               r->open_at_end, est, (double)cfg->idle_ms / 1000, (double)r->max_gap_ms / 1000);
    }
    if (x->kernel) {
        char tw[32] = "unknown";
        if (x->time_wait >= 0)
            snprintf(tw, sizeof tw, "%ld", x->time_wait);
        printf(
            "  kernel       ListenOverflows +%lld  ListenDrops +%lld  TIME_WAIT %s (this server's port, at the end)\n",
            x->listen_overflows, x->listen_drops, tw);
    }
}

/* "1,10,100" -> checks only; the sweep parses it again. */
static bool valid_list(const char *s, bool numbers)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        if (numbers ? !(*p == ',' || (*p >= '0' && *p <= '9'))
                    : !(*p == ',' || *p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return false;
        if (*p == ',' && (p == s || p[1] == '\0' || p[1] == ','))
            return false;
    }
    return true;
}

int cmd_bench(int argc, char **argv)
{
    cli_parser cp;
    sk_bench_config cfg = {
        .proto = SK_BENCH_ECHO, .conns = 10, .threads = 1, .pipeline = 1, .size = 64, .timeout_ms = 5000, .path = "/"};
    sweep_opts so = {
        .models = "loop", .conns = "1,10,100,1000", .service = "echo", .out = "sweep-out", .workload = "keepalive"};
    bool json = false, sweep = false, duration_set = false, verbose = false, pipeline_set = false;
    const char *source = NULL;
    static sk_addr source_addr;
    int procs = 1;
    const char *dns = NULL;
    const char *sweep_only = NULL; /* the first sweep option given */
    int64_t ms;
    long v;
    int opt, rc;

    cli_parser_init(&cp, &cli_bench);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 'p':
            rc = sk_bench_proto_parse(optarg);
            if (rc < 0)
                return cli_usage_error("bench", "unknown protocol '%s' (echo, http, discard)", optarg);
            cfg.proto = (sk_bench_proto)rc;
            break;
        case 'c':
            if (!cli_parse_int(optarg, 1, 1000000, &v))
                return cli_usage_error("bench", "--connections wants a number from 1 to 1000000, not '%s'", optarg);
            cfg.conns = (int)v;
            break;
        case 'd':
            if (!cli_parse_seconds(optarg, &ms) || ms < 100)
                return cli_usage_error("bench", "--duration wants a time of at least 100ms (10s, 2m), not '%s'",
                                       optarg);
            cfg.duration_ms = ms;
            duration_set = true;
            break;
        case 'n':
            if (!cli_parse_int(optarg, 1, 1000000000000L, &v))
                return cli_usage_error("bench", "--requests wants a number from 1 to 10^12, not '%s'", optarg);
            cfg.requests_max = (uint64_t)v;
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, 256, &v))
                return cli_usage_error("bench", "--threads wants a number from 1 to 256, not '%s'", optarg);
            cfg.threads = (int)v;
            break;
        case O_SIZE:
            if (!cli_parse_int(optarg, 1, 16L << 20, &v))
                return cli_usage_error("bench", "--size wants 1 to 16777216 bytes, not '%s'", optarg);
            cfg.size = (size_t)v;
            break;
        case O_PATH:
            if (optarg[0] != '/' || strlen(optarg) > 1024 || strpbrk(optarg, " \r\n") != NULL)
                return cli_usage_error("bench", "--path wants a path starting with '/', no spaces, not '%s'", optarg);
            cfg.path = optarg;
            break;
        case O_RATE: {
            char *end;
            errno = 0;
            double r = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || errno != 0 || !(r > 0) || r > 1e8)
                return cli_usage_error("bench", "--rate wants requests per second (> 0), not '%s'", optarg);
            cfg.rate = r;
            break;
        }
        case O_PIPELINE:
            if (!cli_parse_int(optarg, 1, 1024, &v))
                return cli_usage_error("bench", "--pipeline wants a number from 1 to 1024, not '%s'", optarg);
            cfg.pipeline = (int)v;
            pipeline_set = true;
            break;
        case O_TIMEOUT:
            if (!cli_parse_seconds(optarg, &ms) || ms < 1)
                return cli_usage_error("bench", "--timeout wants a time (2s, 500ms), not '%s'", optarg);
            cfg.timeout_ms = ms;
            break;
        case O_BUSY_POLL:
            if (!cli_parse_int(optarg, 0, 1000000, &v))
                return cli_usage_error("bench", "--busy-poll wants microseconds from 0 to 1000000, not '%s'", optarg);
            cfg.busy_poll_us = (int)v;
            break;
        case O_JSON:
            json = true;
            break;
        case O_NEW_CONN:
            cfg.new_conn = true;
            break;
        case O_FASTOPEN:
            cfg.fastopen = true;
            break;
        case O_IDLE:
            if (!cli_parse_seconds(optarg, &ms) || ms < 10)
                return cli_usage_error("bench", "--idle wants a time of at least 10ms (10s, 500ms), not '%s'", optarg);
            cfg.idle_ms = ms;
            break;
        case O_PROCS:
            if (!cli_parse_int(optarg, 1, BENCH_PROCS_MAX, &v))
                return cli_usage_error("bench", "--procs wants a number from 1 to %d, not '%s'", BENCH_PROCS_MAX,
                                       optarg);
            procs = (int)v;
            break;
        case O_SOURCE:
            if (bench_sources_parse(optarg, &source_addr, &cfg.source_count) < 0)
                return cli_usage_error(
                    "bench", "--source wants an address, a range A-B or a block A/N (IPv4), not '%s'", optarg);
            source = optarg;
            cfg.source = &source_addr;
            break;
        case O_WORKLOAD:
            sweep_only = sweep_only ? sweep_only : "--workload";
            if (strcmp(optarg, "keepalive") != 0 && strcmp(optarg, "churn") != 0 && strcmp(optarg, "udp") != 0 &&
                strcmp(optarg, "idle") != 0)
                return cli_usage_error("bench", "--workload wants keepalive, churn, udp or idle, not '%s'", optarg);
            so.workload = optarg;
            break;
        case O_DNS:
            dns = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case O_SWEEP:
            sweep = true;
            break;
        case O_MODELS:
            sweep_only = sweep_only ? sweep_only : "--models";
            if (!valid_list(optarg, false))
                return cli_usage_error("bench", "--models wants a list like loop,fork, not '%s'", optarg);
            so.models = optarg;
            break;
        case O_BACKENDS:
            sweep_only = sweep_only ? sweep_only : "--backends";
            if (!valid_list(optarg, false))
                return cli_usage_error("bench", "--backends wants a list like epoll,poll, not '%s'", optarg);
            so.backends = optarg;
            break;
        case O_CONNS:
            sweep_only = sweep_only ? sweep_only : "--conns";
            if (!valid_list(optarg, true))
                return cli_usage_error("bench", "--conns wants a list like 1,10,100, not '%s'", optarg);
            so.conns = optarg;
            break;
        case O_SERVICE:
            sweep_only = sweep_only ? sweep_only : "--service";
            if (sk_bench_proto_parse(optarg) < 0 || strcmp(optarg, "udp") == 0)
                return cli_usage_error("bench", "--service wants echo, discard or http, not '%s'", optarg);
            so.service = optarg;
            break;
        case O_OUT:
            sweep_only = sweep_only ? sweep_only : "--out";
            so.out = optarg;
            break;
        case 'h':
            cli_help(stdout, &cli_bench);
            return EXIT_OK;
        default:
            return cli_bad_option("bench", opt, argv);
        }
    }
    if ((size_t)(cfg.pipeline + 1) * cfg.size > (64u << 20))
        return cli_usage_error("bench", "--size times --pipeline is over 64 MiB");
    if (cfg.proto == SK_BENCH_UDP && (cfg.size < SK_BENCH_UDP_MIN || cfg.size > 65507))
        return cli_usage_error("bench", "--proto udp wants --size from %d to 65507 bytes", SK_BENCH_UDP_MIN);
    if (cfg.proto == SK_BENCH_UDP && (cfg.new_conn || cfg.idle_ms > 0))
        return cli_usage_error("bench", "--proto udp has no connections to renew or hold: leave out %s",
                               cfg.new_conn ? "--new-conn" : "--idle");
    if (cfg.proto == SK_BENCH_UDP && cfg.fastopen)
        return cli_usage_error("bench", "--fastopen is for TCP, not --proto udp");
    if (cfg.new_conn && cfg.idle_ms > 0)
        return cli_usage_error("bench", "--new-conn and --idle cannot go together");
    if (cfg.new_conn && pipeline_set && cfg.pipeline != 1)
        return cli_usage_error("bench", "--new-conn sends one request per connection: leave out --pipeline");
    if (cfg.idle_ms > 0 && cfg.rate > 0)
        return cli_usage_error("bench",
                               "--idle sets the rate (one echo per connection per interval): leave out --rate");
    if (cfg.source_count > 1 && cfg.source->ss.ss_family != AF_INET)
        return cli_usage_error("bench", "--source: ranges are IPv4 only");
    if (procs > cfg.conns)
        return cli_usage_error("bench", "--procs %d is more processes than -c %d connections", procs, cfg.conns);
    if (sweep && (procs > 1 || source))
        return cli_usage_error("bench", "--sweep runs one client process from 127.0.0.1: leave out %s",
                               procs > 1 ? "--procs" : "--source");
    if (!duration_set)
        cfg.duration_ms = sweep ? 5000 : cfg.requests_max ? 3600 * 1000 : 10000;
    if (sweep && cfg.requests_max)
        return cli_usage_error("bench", "--sweep runs each model for -d: leave out -n");
    if (cfg.idle_ms > 0 && cfg.requests_max)
        return cli_usage_error("bench", "--idle holds the connections for -d: leave out -n");
    if (!sweep && sweep_only)
        return cli_usage_error("bench", "%s is a --sweep option; add --sweep, or leave it out for one run", sweep_only);
    if (!sweep && cfg.threads * procs > cfg.conns)
        return cli_usage_error("bench", "-t %d is more threads than -c %d connections: each thread needs a connection",
                               cfg.threads * procs, cfg.conns);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (sweep) {
        if (optind < argc)
            return cli_usage_error("bench", "--sweep starts its own server: unexpected argument '%s'", argv[optind]);
        if (strcmp(so.workload, "udp") == 0 && strcmp(so.service, "echo") != 0)
            return cli_usage_error("bench", "--workload udp is UDP echo: leave out --service %s", so.service);
        if (strcmp(so.workload, "idle") == 0 && strcmp(so.service, "discard") == 0)
            return cli_usage_error("bench",
                                   "--workload idle checks each connection by its answers: not --service discard");
        if (strcmp(so.workload, "churn") == 0 && pipeline_set && cfg.pipeline != 1)
            return cli_usage_error("bench", "--workload churn sends one request per connection: leave out --pipeline");
        if ((cfg.new_conn || cfg.proto == SK_BENCH_UDP) || (cfg.idle_ms > 0 && strcmp(so.workload, "idle") != 0))
            return cli_usage_error("bench",
                                   "--sweep takes its workload from --workload (churn, udp, idle), not from %s",
                                   cfg.new_conn                ? "--new-conn"
                                   : cfg.proto == SK_BENCH_UDP ? "--proto udp"
                                                               : "--idle");
        so.base = cfg;
        so.stop = &g_stop;
        so.json = json;
        return bench_sweep(&so);
    }
    if (optind + 1 != argc)
        return cli_operand_error("bench", argc, argv, "ADDR (host:port)");
    /* Each process holds its share of the connections. */
    if ((rc = bench_check_nofile(cfg.conns / procs + (cfg.conns % procs != 0), cfg.threads)) != EXIT_OK)
        return rc;
    const char *addr = argv[optind];
    static bench_targets bt;
    if ((rc = bench_targets_find(&bt, addr, dns, verbose, &cfg)) >= 0)
        return rc;
    if (procs > 1 && cfg.ntargets > 0)
        return cli_usage_error("bench", "--procs loads one server address, not the %zu targets of %s", cfg.ntargets,
                               addr);
    if (source && cfg.source->ss.ss_family != cfg.addr.ss.ss_family)
        return cli_usage_error("bench", "--source %s is not of the server's address family", source);
    cfg.stop = &g_stop;
    progress pr = {0};
    if (isatty(STDERR_FILENO) && procs == 1) {
        cfg.on_progress = on_progress;
        cfg.userdata = &pr;
    }

    bench_extra x = {.procs = procs, .time_wait = -1};
    bench_kernel k0 = {0}, k1 = {0};
    x.kernel = cfg.new_conn && bench_kernel_counters(&k0) == 0;
    sk_bench_result r;
    rc = procs > 1 ? bench_run_procs(&cfg, procs, &r) : sk_bench_run(&cfg, &r);
    if (rc == 0 && x.kernel) {
        x.kernel = bench_kernel_counters(&k1) == 0;
        x.listen_overflows = k1.listen_overflows - k0.listen_overflows;
        x.listen_drops = k1.listen_drops - k0.listen_drops;
        x.time_wait = bench_time_wait(&cfg.addr);
    }
    if (rc < 0) {
        cli_error("bench %s: %s", addr, sk_strerror(rc));
        return EXIT_FAIL;
    }
    if (cfg.on_progress && pr.last_ms > 0)
        fprintf(stderr, "\r\033[K");
    if (json) {
        bench_json(stdout, &cfg, addr, &bt, &r, &x);
        putchar('\n');
    } else {
        report(&cfg, addr, &r, &x);
        bench_targets_report(&bt, &r);
    }
    fflush(stdout);
    rc = EXIT_OK;
    if (r.n.connects == 0) {
        cli_error("bench connect %s: %s", addr, sk_strerror(r.last_connect_err ? r.last_connect_err : -ECONNREFUSED));
        rc = EXIT_FAIL;
    } else if (r.n.requests == 0) {
        cli_error("bench %s: connected, but no request completed in %.1f s", addr, (double)r.elapsed_ms / 1000);
        rc = EXIT_FAIL;
    }
    sk_bench_result_free(&r);
    return rc;
}
