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
    double secs, rps, in_ps, out_ps;
    double mean, p50, p90, p99, p999, max; /* microseconds */
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

/* The JSON object for one run (no newline); bt may be NULL. */
void bench_json(FILE *f, const sk_bench_config *cfg, const char *addr, const bench_targets *bt,
                const sk_bench_result *r);

/* Whether conns connections (and threads loops) fit RLIMIT_NOFILE: EXIT_OK,
 * or a usage error saying how many are needed and what the limit is, so a
 * run that could only fail says so before it starts. */
int bench_check_nofile(int conns, int threads);

typedef struct sweep_opts {
    const char *models, *backends, *conns, *service, *out;
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
