/* Shared by sockit bench's subparts: the one-run report, the sweep and the
 * SVG charts. */
#ifndef SOCKIT_BENCH_CLI_H
#define SOCKIT_BENCH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <sockit/bench.h>

#include "target.h"

/* What one run measured, in the units reports use. */
typedef struct bench_summary {
    double secs, rps, in_ps, out_ps, cps;
    double mean, p50, p90, p99, p999, max;             /* microseconds */
    double c_mean, c_p50, c_p90, c_p99, c_p999, c_max; /* connect, microseconds */
} bench_summary;

void bench_summarize(const sk_bench_result *r, bench_summary *s);

/* The servers one run loads: the operand's targets, and those that get
 * connections (the reachable ones of the lowest priority). */
typedef struct bench_targets {
    cli_target t;
    size_t ep[SK_BENCH_TARGETS_MAX]; /* into t.ep */
    sk_addr addrs[SK_BENCH_TARGETS_MAX];
    int conns[SK_BENCH_TARGETS_MAX];
    size_t n;
    char host[SK_HOST_MAX]; /* HTTP Host for an SRV name: its domain */
} bench_targets;

/* Find the servers text names and point cfg at them (cfg->timeout_ms
 * bounds each connect). Returns -1, or the exit code after saying why. */
int bench_targets_find(bench_targets *bt, const char *text, const char *dns, bool verbose, sk_bench_config *cfg);

/* The per-target lines of the report, and the fields of the JSON object
 * ("srv", "targets"); nothing for a plain host:port or bt NULL. */
void bench_targets_report(const bench_targets *bt, const sk_bench_result *r);
void bench_targets_json(FILE *f, const bench_targets *bt, const sk_bench_result *r);

/* What a run reports beside its sk_bench_result. */
typedef struct bench_extra {
    int procs;                                /* processes the run was spread over (1: this one) */
    bool kernel;                              /* the kernel's counters were read around the run */
    long long listen_overflows, listen_drops; /* their growth over the run */
    long time_wait; /* TIME_WAIT sockets to or from the server's port at the end; -1: unknown */
    /* The summary, when the result's histograms are gone (the sweep
     * keeps only the summary of each run). */
    const bench_summary *summary;
} bench_extra;

/* The JSON object for one run (no newline); bt may be NULL. */
void bench_json(FILE *f, const sk_bench_config *cfg, const char *addr, const bench_targets *bt,
                const sk_bench_result *r, const bench_extra *x);

/* The kernel's listen queue counters (TcpExt of /proc/net/netstat, for
 * the whole network namespace). Returns 0 or -errno. */
typedef struct bench_kernel {
    long long listen_overflows, listen_drops;
} bench_kernel;
int bench_kernel_counters(bench_kernel *k);

/* TIME_WAIT sockets (sock_diag) whose local or peer port is the
 * server's; -1 when sock_diag cannot tell. */
long bench_time_wait(const sk_addr *server);

/* --source: "A" (IPv4 or IPv6), "A-B" or "A/N" (IPv4, N >= 8; the hosts
 * of the block). The first address into *first, how many into *count.
 * Returns 0 or -EINVAL. */
int bench_sources_parse(const char *text, sk_addr *first, uint32_t *count);

/* Most processes one run spreads over. */
#define BENCH_PROCS_MAX 64

/* Run cfg as procs processes (each its share of the connections, the
 * rate and the sources) and merge their results into out (free it with
 * sk_bench_result_free). One server address only (no targets). Returns 0
 * or < 0 (one process could not start or run). */
int bench_run_procs(const sk_bench_config *cfg, int procs, sk_bench_result *out);

/* Whether conns connections (and threads loops) fit RLIMIT_NOFILE: EXIT_OK,
 * or a usage error saying how many are needed and what the limit is, so a
 * run that could only fail says so before it starts. */
int bench_check_nofile(int conns, int threads);

typedef struct sweep_opts {
    const char *models, *backends, *conns, *service, *out;
    const char *workload; /* keepalive, churn, udp, idle */
    bool json;            /* also print results.json on stdout */
    sk_bench_config base; /* duration, threads, pipeline, size, timeout... */
    const volatile sig_atomic_t *stop;
} sweep_opts;

int bench_sweep(const sweep_opts *o);

/* A line chart with a log x axis: one series per model/backend. */
typedef struct chart_series {
    const char *name;
    int n;
    const double *x, *y; /* y < 0: no point (that run failed) */
} chart_series;

typedef struct chart {
    const char *title, *xlabel, *ylabel;
    const chart_series *series;
    int nseries;
} chart;

/* Write the chart as a standalone SVG document. Returns 0 or -errno. */
int svg_line_chart(const char *path, const chart *c);

#endif
