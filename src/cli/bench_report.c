/* The numbers of one sockit bench run, shared by the one-run report
 * (cmd_bench.c) and the sweep (bench_sweep.c): the summary in report units
 * and the JSON object. */
#include "bench_cli.h"
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>

#include <sockit/sockit.h>

void bench_summarize(const sk_bench_result *r, bench_summary *s)
{
    s->secs = r->elapsed_ms > 0 ? (double)r->elapsed_ms / 1000.0 : 1e-3;
    s->rps = (double)r->n.requests / s->secs;
    s->in_ps = (double)r->n.bytes_in / s->secs;
    s->out_ps = (double)r->n.bytes_out / s->secs;
    s->mean = sk_hist_mean(&r->latency);
    s->p50 = (double)sk_hist_percentile(&r->latency, 50);
    s->p90 = (double)sk_hist_percentile(&r->latency, 90);
    s->p99 = (double)sk_hist_percentile(&r->latency, 99);
    s->p999 = (double)sk_hist_percentile(&r->latency, 99.9);
    s->max = (double)r->latency.max;
}

void bench_json(FILE *f, const sk_bench_config *cfg, const char *addr, const bench_targets *bt,
                const sk_bench_result *r)
{
    bench_summary s;
    bench_summarize(r, &s);
    fprintf(f,
            "{\"addr\":\"%s\",\"service\":\"%s\",\"connections\":%d,\"threads\":%d,\"pipeline\":%d,"
            "\"busy_poll_us\":%d,\"elapsed_s\":%.3f,\"rate_per_s\":%.1f,\"requests\":%" PRIu64
            ",\"requests_per_s\":%.1f,"
            "\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"bytes_in_per_s\":%.1f,\"bytes_out_per_s\":%.1f,"
            "\"connects\":%" PRIu64 ",\"errors\":{\"connect\":%" PRIu64 ",\"read\":%" PRIu64 ",\"write\":%" PRIu64
            ",\"timeout\":%" PRIu64 ",\"status\":%" PRIu64 "},"
            "\"latency_us\":{\"mean\":%.1f,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p99_9\":%.0f,\"max\":%.0f}",
            addr, sk_bench_proto_name(cfg->proto), cfg->conns, cfg->threads, cfg->pipeline, cfg->busy_poll_us, s.secs,
            cfg->rate, r->n.requests, s.rps, r->n.bytes_in, r->n.bytes_out, s.in_ps, s.out_ps, r->n.connects,
            r->n.err_connect, r->n.err_read, r->n.err_write, r->n.err_timeout, r->n.err_status, s.mean, s.p50, s.p90,
            s.p99, s.p999, s.max);
    bench_targets_json(f, bt, r);
    fputc('}', f);
}

int bench_check_nofile(int conns, int threads)
{
    /* stdin/out/err, each thread's loop and wake-up descriptors, the
     * resolver and a few to spare. */
    long need = (long)conns + 16 + 2L * threads;
    long hard, soft = cli_nofile(&hard);
    if (need <= soft)
        return EXIT_OK;
    return cli_usage_error("bench",
                           "%d connections need about %ld file descriptors, but RLIMIT_NOFILE allows %ld (hard limit "
                           "%ld): lower -c or raise the limit (ulimit -n)",
                           conns, need, soft, hard);
}
