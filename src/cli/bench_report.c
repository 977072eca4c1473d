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
    s->cps = (double)r->n.connects / s->secs;
    const sk_hist *c = &r->connect_latency;
    s->c_mean = c->counts ? sk_hist_mean(c) : 0;
    s->c_p50 = c->counts ? (double)sk_hist_percentile(c, 50) : 0;
    s->c_p90 = c->counts ? (double)sk_hist_percentile(c, 90) : 0;
    s->c_p99 = c->counts ? (double)sk_hist_percentile(c, 99) : 0;
    s->c_p999 = c->counts ? (double)sk_hist_percentile(c, 99.9) : 0;
    s->c_max = c->counts ? (double)c->max : 0;
}

void bench_json(FILE *f, const sk_bench_config *cfg, const char *addr, const bench_targets *bt,
                const sk_bench_result *r, const bench_extra *x)
{
    bench_summary s;
    if (x && x->summary)
        s = *x->summary;
    else
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
    if (cfg->requests_max)
        fprintf(f, ",\"requests_asked\":%" PRIu64, cfg->requests_max);
    fprintf(f,
            ",\"procs\":%d,\"new_conn\":%s,\"connects_per_s\":%.1f,"
            "\"connect_us\":{\"mean\":%.1f,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p99_9\":%.0f,\"max\":%.0f}",
            x ? x->procs : 1, cfg->new_conn ? "true" : "false", s.cps, s.c_mean, s.c_p50, s.c_p90, s.c_p99, s.c_p999,
            s.c_max);
    if (r->established_ms >= 0)
        fprintf(f, ",\"established_s\":%.3f", (double)r->established_ms / 1000);
    else
        fputs(",\"established_s\":null", f);
    if (cfg->source_count)
        fprintf(f, ",\"source_addrs\":%" PRIu32, cfg->source_count);
    if (cfg->proto == SK_BENCH_UDP)
        fprintf(f,
                ",\"datagrams\":{\"sent\":%" PRIu64 ",\"answered\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"late\":%" PRIu64
                "}",
                r->n.dgrams_sent, r->n.requests, r->n.dgrams_lost, r->n.dgrams_late);
    if (cfg->idle_ms > 0)
        fprintf(f, ",\"idle\":{\"interval_s\":%.3f,\"open_at_end\":%" PRIu64 ",\"max_gap_s\":%.3f}",
                (double)cfg->idle_ms / 1000, r->open_at_end, (double)r->max_gap_ms / 1000);
    if (x && x->kernel)
        fprintf(f, ",\"kernel\":{\"listen_overflows\":%lld,\"listen_drops\":%lld,\"time_wait\":%ld}",
                x->listen_overflows, x->listen_drops, x->time_wait);
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
