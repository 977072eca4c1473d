/* Shared by sockit bench's subparts: the one-run report, the sweep and the
 * SVG charts. */
#ifndef SOCKIT_BENCH_CLI_H
#define SOCKIT_BENCH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <sockit/bench.h>

/* What one run measured, in the units reports use. */
typedef struct bench_summary {
    double secs, rps, in_ps, out_ps;
    double mean, p50, p90, p99, p999, max; /* microseconds */
} bench_summary;

void bench_summarize(const sk_bench_result *r, bench_summary *s);

/* The JSON object for one run (no newline). */
void bench_json(FILE *f, const sk_bench_config *cfg, const char *addr, const sk_bench_result *r);

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
