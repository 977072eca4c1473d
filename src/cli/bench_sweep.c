/* sockit bench --sweep: start `sockit serve` (this same binary, through
 * /proc/self/exe) under each model and backend, bench it at several
 * connection counts with one workload (keep-alive requests, a new
 * connection per request, UDP echo, or held connections with the server's
 * memory), and write results.md, results.json and SVG charts. */
#include "bench_cli.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define MAX_ITEMS 16
#define MAX_RUNS (MAX_ITEMS * MAX_ITEMS * MAX_ITEMS)
#define NAME_LEN 16 /* a model or backend name and its NUL */

typedef struct run {
    char model[NAME_LEN], backend[NAME_LEN];
    int conns;
    bool ok;
    sk_bench_config cfg;
    sk_bench_result r; /* counts and the summary; the histogram is freed */
    bench_summary s;
    bench_extra x;
    long rss_kb;      /* idle: the server's resident memory, peak during the run */
    long rss_base_kb; /* and before it */
    char addr[SK_ADDRSTRLEN];
} run;

typedef struct skipped {
    char model[NAME_LEN], backend[NAME_LEN];
    char why[200];
} skipped;

typedef struct sweep {
    const sweep_opts *o;
    run runs[MAX_RUNS];
    int nruns;
    skipped skips[MAX_ITEMS * MAX_ITEMS];
    int nskips;
} sweep;

/* snprintf into len bytes: 0, or -ENAMETOOLONG when the text did not fit
 * (a cut name or path would name something else). */
static int fmt_fits(int n, size_t len) { return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG; }

static int copy_name(char dst[NAME_LEN], const char *src)
{
    return fmt_fits(snprintf(dst, NAME_LEN, "%s", src), NAME_LEN);
}

static int split(const char *list, char items[][NAME_LEN], int max)
{
    int n = 0;
    const char *p = list;
    while (*p && n < max) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= NAME_LEN)
            return -1;
        memcpy(items[n], p, len);
        items[n][len] = '\0';
        n++;
        p += len;
        if (*p == ',')
            p++;
    }
    return *p ? -1 : n;
}

static void nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Why a server failed, from its log: the last "sockit: ..." message
 * (not the "serving" line), else the last line. */
static void last_line(const char *path, char *out, size_t len)
{
    char line[512];
    bool have_msg = false;
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        bool msg = strncmp(line, "sockit: ", 8) == 0 && strncmp(line, "sockit: serving ", 16) != 0;
        if (msg)
            snprintf(out, len, "%.*s", (int)(len - 1), line + 8);
        else if (line[0] && !have_msg)
            snprintf(out, len, "%.*s", (int)(len - 1), line);
        have_msg |= msg;
    }
    fclose(f);
}

typedef struct server {
    pid_t pid;
    char addr[SK_ADDRSTRLEN];
    char backend[NAME_LEN];
    char log[1024];
} server;

static void server_stop(server *sv)
{
    int status;
    if (sv->pid <= 0)
        return;
    kill(sv->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(sv->pid, &status, WNOHANG) == sv->pid) {
            sv->pid = 0;
            return;
        }
        nap_ms(50);
    }
    kill(sv->pid, SIGKILL);
    waitpid(sv->pid, &status, 0);
    sv->pid = 0;
}

static bool server_alive(server *sv)
{
    int status;
    if (sv->pid <= 0)
        return false;
    if (waitpid(sv->pid, &status, WNOHANG) == sv->pid) {
        sv->pid = 0;
        return false;
    }
    return true;
}

/* Start the server and wait for its "serving ... on ADDR (...)" line.
 * Returns 0, or -1 with why filled in. */
static int server_start(const sweep_opts *o, const char *model, const char *backend, server *sv, char *why, size_t wlen)
{
    char *argv[16];
    int a = 0;
    if (fmt_fits(
            snprintf(sv->log, sizeof sv->log, "%s/logs/server-%s-%s.log", o->out, model, backend ? backend : "default"),
            sizeof sv->log) < 0) {
        snprintf(why, wlen, "log path under %.120s is too long", o->out);
        return -1;
    }
    argv[a++] = "sockit";
    argv[a++] = "serve";
    argv[a++] = "--service";
    argv[a++] = (char *)o->service;
    argv[a++] = "--model";
    argv[a++] = (char *)model;
    if (backend) {
        argv[a++] = "--backend";
        argv[a++] = (char *)backend;
    }
    if (strcmp(o->workload, "udp") == 0) {
        argv[a++] = "--proto";
        argv[a++] = "udp";
    }
    argv[a++] = "--listen";
    argv[a++] = "127.0.0.1:0";
    argv[a] = NULL;

    int logfd = open(sv->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(why, wlen, "cannot write %.120s: %s", sv->log, strerror(errno));
        return -1;
    }
    fflush(NULL);
    sv->pid = fork();
    if (sv->pid < 0) {
        snprintf(why, wlen, "fork: %s", strerror(errno));
        close(logfd);
        return -1;
    }
    if (sv->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(logfd);
    for (int i = 0; i < 100; i++) {
        char line[512] = "";
        FILE *f = fopen(sv->log, "r");
        bool found = false;
        while (f && fgets(line, sizeof line, f)) {
            char *on = strstr(line, " on ");
            if (strncmp(line, "sockit: serving ", 16) == 0 && on) {
                sscanf(on + 4, "%79s", sv->addr);
                sv->addr[strcspn(sv->addr, ",")] = '\0'; /* the first of several listeners */
                char *be = strstr(line, "backend ");
                sv->backend[0] = '\0';
                if (be)
                    sscanf(be + 8, "%15[^)\n]", sv->backend);
                found = true;
                break;
            }
        }
        if (f)
            fclose(f);
        if (found) {
            /* Models still being built bind first and fail at run time:
             * give them a moment to show it. */
            nap_ms(200);
            if (server_alive(sv))
                return 0;
            break;
        }
        if (!server_alive(sv))
            break;
        nap_ms(50);
    }
    last_line(sv->log, why, wlen);
    if (why[0] == '\0')
        snprintf(why, wlen, "server did not start within 5 s");
    server_stop(sv);
    return -1;
}

static void add_skip(sweep *sw, const char *model, const char *backend, const char *why)
{
    if (sw->nskips >= MAX_ITEMS * MAX_ITEMS)
        return;
    skipped *s = &sw->skips[sw->nskips];
    if (copy_name(s->model, model) < 0 || copy_name(s->backend, backend ? backend : "default") < 0) {
        fprintf(stderr, "sockit: sweep: model or backend name too long: %s %s\n", model, backend ? backend : "");
        return;
    }
    sw->nskips++;
    /* The reason is only read by people: a cut one still says enough. */
    snprintf(s->why, sizeof s->why, "%.*s", (int)sizeof s->why - 1, why);
    fprintf(stderr, "sockit: sweep: skipping model %s backend %s: %s\n", model, s->backend, why);
}

/* Resident memory of a process and its children (prefork's workers,
 * fork's connections), in KiB; 0 when it is gone. */
static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return kb;
    int kid;
    while (fscanf(f, "%d", &kid) == 1)
        kb += rss_kb(kid);
    fclose(f);
    return kb;
}

typedef struct rss_probe {
    pid_t pid;
    long peak_kb;
} rss_probe;

static void on_rss(void *ud, const sk_bench_counts *n, int64_t ms)
{
    rss_probe *p = ud;
    long kb = rss_kb(p->pid);
    (void)n;
    (void)ms;
    if (kb > p->peak_kb)
        p->peak_kb = kb;
}

static void bench_server(sweep *sw, const char *model, server *sv, const int *conns, int nconns)
{
    const sweep_opts *o = sw->o;
    for (int i = 0; i < nconns && !*o->stop && sw->nruns < MAX_RUNS; i++) {
        run *r = &sw->runs[sw->nruns];
        if (copy_name(r->model, model) < 0 || copy_name(r->backend, sv->backend) < 0 ||
            fmt_fits(snprintf(r->addr, sizeof r->addr, "%s", sv->addr), sizeof r->addr) < 0) {
            fprintf(stderr, "sockit: sweep: %s/%s: name or address too long\n", model, sv->backend);
            return;
        }
        sw->nruns++;
        r->conns = conns[i];
        r->cfg = o->base;
        r->cfg.proto = (sk_bench_proto)sk_bench_proto_parse(o->service);
        r->cfg.conns = conns[i];
        r->x = (bench_extra){.procs = 1, .time_wait = -1, .summary = &r->s};
        rss_probe probe = {.pid = sv->pid};
        bench_kernel k0, k1;
        if (strcmp(o->workload, "churn") == 0) {
            r->cfg.new_conn = true;
            r->cfg.pipeline = 1;
            r->x.kernel = bench_kernel_counters(&k0) == 0;
        } else if (strcmp(o->workload, "udp") == 0) {
            r->cfg.proto = SK_BENCH_UDP;
            if (r->cfg.size < SK_BENCH_UDP_MIN)
                r->cfg.size = SK_BENCH_UDP_MIN;
        } else if (strcmp(o->workload, "idle") == 0) {
            if (r->cfg.idle_ms <= 0)
                r->cfg.idle_ms = 1000;
            r->cfg.rate = 0;
            r->cfg.on_progress = on_rss;
            r->cfg.userdata = &probe;
            r->rss_base_kb = rss_kb(sv->pid);
        }
        if (r->cfg.threads > r->cfg.conns)
            r->cfg.threads = r->cfg.conns; /* a thread without a connection would only idle */
        r->cfg.host = r->addr;
        r->cfg.stop = o->stop;
        if (!server_alive(sv) || sk_addr_resolve(sv->addr, SOCK_STREAM, SK_RESOLVE_NUMERIC, &r->cfg.addr, 1) < 0) {
            fprintf(stderr, "sockit: sweep: %s/%s %d connections: server is gone\n", model, sv->backend, conns[i]);
            continue;
        }
        if (sk_bench_run(&r->cfg, &r->r) < 0) {
            fprintf(stderr, "sockit: sweep: %s/%s %d connections: bench could not start\n", model, sv->backend,
                    conns[i]);
            continue;
        }
        bench_summarize(&r->r, &r->s);
        sk_bench_result_free(&r->r);
        r->cfg.on_progress = NULL;
        r->cfg.userdata = NULL;
        r->rss_kb = probe.peak_kb;
        if (r->x.kernel) {
            r->x.kernel = bench_kernel_counters(&k1) == 0;
            r->x.listen_overflows = k1.listen_overflows - k0.listen_overflows;
            r->x.listen_drops = k1.listen_drops - k0.listen_drops;
            r->x.time_wait = bench_time_wait(&r->cfg.addr);
        }
        r->ok = r->r.n.requests > 0;
        uint64_t errs =
            r->r.n.err_connect + r->r.n.err_read + r->r.n.err_write + r->r.n.err_timeout + r->r.n.err_status;
        fprintf(stderr, "sockit: sweep: %-8s %-7s %5d conns: %10.0f req/s  p99 %8.0f us  errors %" PRIu64 "\n", model,
                sv->backend[0] ? sv->backend : "-", conns[i], r->s.rps, r->s.p99, errs);
        /* Let the server close the last run's connections (and, after
         * churn, TIME_WAIT is the client's: its ports stay taken). */
        nap_ms(200);
    }
}

static const char *label(const run *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", r->model, r->backend[0] ? "/" : "", r->backend);
    return buf;
}

static void results_json(FILE *f, const sweep *sw)
{
    const sweep_opts *o = sw->o;
    fprintf(f, "{\"service\":\"%s\",\"workload\":\"%s\",\"duration_s\":%.3f,\"threads\":%d,\"pipeline\":%d,\"runs\":[",
            o->service, o->workload, (double)o->base.duration_ms / 1000, o->base.threads, o->base.pipeline);
    for (int i = 0; i < sw->nruns; i++) {
        const run *r = &sw->runs[i];
        fprintf(f, "%s\n{\"model\":\"%s\",\"backend\":\"%s\",\"connections\":%d,\"ok\":%s,", i ? "," : "", r->model,
                r->backend, r->conns, r->ok ? "true" : "false");
        if (r->cfg.idle_ms > 0)
            fprintf(f, "\"server_rss_kb\":%ld,\"server_rss_base_kb\":%ld,", r->rss_kb, r->rss_base_kb);
        fputs("\"result\":", f);
        bench_json(f, &r->cfg, r->addr, NULL, &r->r, &r->x);
        fputc('}', f);
    }
    fputs("],\n\"skipped\":[", f);
    for (int i = 0; i < sw->nskips; i++) {
        fprintf(f, "%s{\"model\":\"%s\",\"backend\":\"%s\",\"reason\":\"", i ? "," : "", sw->skips[i].model,
                sw->skips[i].backend);
        for (const char *p = sw->skips[i].why; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', f);
            if ((unsigned char)*p >= 0x20)
                fputc(*p, f);
        }
        fputs("\"}", f);
    }
    fputs("]}\n", f);
}

static int write_outputs(sweep *sw)
{
    const sweep_opts *o = sw->o;
    char path[1100], l[40];
    FILE *f;

    /* results.json */
    if (fmt_fits(snprintf(path, sizeof path, "%s/results.json", o->out), sizeof path) < 0)
        return -ENAMETOOLONG;
    if ((f = fopen(path, "w")) == NULL)
        return -errno;
    results_json(f, sw);
    if (fclose(f) != 0)
        return -errno;

    /* results.md */
    if (fmt_fits(snprintf(path, sizeof path, "%s/results.md", o->out), sizeof path) < 0)
        return -ENAMETOOLONG;
    if ((f = fopen(path, "w")) == NULL)
        return -errno;
    /* The workload's own columns after the common ones. */
    static const struct {
        const char *name, *head, *rule;
    } extra[] = {
        {"keepalive", "", ""},
        {"churn", " conn/s | connect p99 us | ListenDrops | TIME_WAIT |", "---:|---:|---:|---:|"},
        {"udp", " sent | lost | late |", "---:|---:|---:|"},
        {"idle", " longest gap s | open | server RSS KiB | B/conn |", "---:|---:|---:|---:|"},
    };
    size_t w = 0;
    while (w + 1 < sizeof extra / sizeof extra[0] && strcmp(extra[w].name, o->workload) != 0)
        w++;
    fprintf(f,
            "# sockit bench --sweep: service %s%s%s\n\n"
            "Each run: %.1f s, %d client thread(s), pipeline %d, server and client on this machine.\n\n"
            "![requests/s vs connections](rps.svg)\n\n![p99 latency vs connections](p99.svg)\n\n"
            "| model | backend | connections | req/s | MiB/s in | p50 us | p99 us | p99.9 us | max us | errors |%s\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|%s\n",
            o->service, w ? ", workload " : "", w ? o->workload : "", (double)o->base.duration_ms / 1000,
            o->base.threads, o->base.pipeline, extra[w].head, extra[w].rule);
    for (int i = 0; i < sw->nruns; i++) {
        run *r = &sw->runs[i];
        const sk_bench_counts *n = &r->r.n;
        fprintf(f, "| %s | %s | %d | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f | %" PRIu64 " |", r->model,
                r->backend[0] ? r->backend : "-", r->conns, r->s.rps, r->s.in_ps / (1024 * 1024), r->s.p50, r->s.p99,
                r->s.p999, r->s.max, n->err_connect + n->err_read + n->err_write + n->err_timeout + n->err_status);
        if (w == 1)
            fprintf(f, " %.0f | %.0f | %lld | %ld |", r->s.cps, r->s.c_p99, r->x.kernel ? r->x.listen_drops : -1,
                    r->x.time_wait);
        else if (w == 2)
            fprintf(f, " %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |", n->dgrams_sent, n->dgrams_lost, n->dgrams_late);
        else if (w == 3 && r->rss_kb == 0) /* no sample: a run shorter than a second */
            fprintf(f, " %.3f | %" PRIu64 " | - | - |", (double)r->r.max_gap_ms / 1000, r->r.open_at_end);
        else if (w == 3)
            fprintf(f, " %.3f | %" PRIu64 " | %ld | %.0f |", (double)r->r.max_gap_ms / 1000, r->r.open_at_end,
                    r->rss_kb, (double)(r->rss_kb - r->rss_base_kb) * 1024.0 / r->conns);
        fputc('\n', f);
    }
    if (sw->nskips) {
        fputs("\nSkipped:\n\n", f);
        for (int i = 0; i < sw->nskips; i++)
            fprintf(f, "- model %s, backend %s: %s\n", sw->skips[i].model, sw->skips[i].backend, sw->skips[i].why);
    }
    if (fclose(f) != 0)
        return -errno;

    /* Charts: one series per model/backend, in the order they ran. */
    static chart_series series[MAX_ITEMS * MAX_ITEMS];
    static char names[MAX_ITEMS * MAX_ITEMS][40];
    static double xs[MAX_RUNS], rps[MAX_RUNS], p99[MAX_RUNS];
    int ns = 0;
    for (int i = 0; i < sw->nruns; i++) {
        run *r = &sw->runs[i];
        label(r, l, sizeof l);
        xs[i] = r->conns;
        rps[i] = r->ok ? r->s.rps : -1;
        p99[i] = r->ok ? r->s.p99 / 1000.0 : -1;
        if (ns == 0 || strcmp(names[ns - 1], l) != 0) {
            if (ns == MAX_ITEMS * MAX_ITEMS)
                break;
            snprintf(names[ns], sizeof names[ns], "%s", l);
            series[ns] = (chart_series){.name = names[ns], .n = 0, .x = &xs[i], .y = &rps[i]};
            ns++;
        }
        series[ns - 1].n++;
    }
    char title[128];
    snprintf(title, sizeof title, "sockit %s: requests/s by connections", o->service);
    chart c = {
        .title = title, .xlabel = "connections (log scale)", .ylabel = "requests/s", .series = series, .nseries = ns};
    if (fmt_fits(snprintf(path, sizeof path, "%s/rps.svg", o->out), sizeof path) < 0)
        return -ENAMETOOLONG;
    int rc = svg_line_chart(path, &c);
    if (rc < 0)
        return rc;
    for (int s = 0; s < ns; s++)
        series[s].y = p99 + (series[s].x - xs);
    snprintf(title, sizeof title, "sockit %s: p99 latency by connections", o->service);
    c.ylabel = "p99 latency (ms)";
    if (fmt_fits(snprintf(path, sizeof path, "%s/p99.svg", o->out), sizeof path) < 0)
        return -ENAMETOOLONG;
    return svg_line_chart(path, &c);
}

int bench_sweep(const sweep_opts *o)
{
    static sweep sw;
    char models[MAX_ITEMS][NAME_LEN], backends[MAX_ITEMS][NAME_LEN], items[MAX_ITEMS][NAME_LEN], why[200], path[1100];
    int conns[MAX_ITEMS], nm, nb = 0, nc;
    long v;

    memset(&sw, 0, sizeof sw);
    sw.o = o;
    nm = split(o->models, models, MAX_ITEMS);
    if (nm < 1)
        return cli_usage_error("bench", "--models: at most %d names, like loop,fork", MAX_ITEMS);
    for (int i = 0; i < nm; i++) {
        if (sk_model_parse(models[i]) < 0)
            return cli_usage_error("bench", "unknown model '%s' (loop, fork, prefork, thread, hybrid)", models[i]);
    }
    if (o->backends) {
        nb = split(o->backends, backends, MAX_ITEMS);
        if (nb < 1)
            return cli_usage_error("bench", "--backends: at most %d names, like epoll,poll", MAX_ITEMS);
    }
    nc = split(o->conns, items, MAX_ITEMS);
    if (nc < 1)
        return cli_usage_error("bench", "--conns: at most %d counts, like 1,10,100", MAX_ITEMS);
    for (int i = 0; i < nc; i++) {
        if (!cli_parse_int(items[i], 1, 100000, &v))
            return cli_usage_error("bench", "--conns: '%s' is not a count from 1 to 100000", items[i]);
        conns[i] = (int)v;
    }
    int most = 0, fewest = conns[0];
    for (int i = 0; i < nc; i++) {
        most = conns[i] > most ? conns[i] : most;
        fewest = conns[i] < fewest ? conns[i] : fewest;
    }
    int rc = bench_check_nofile(most, o->base.threads);
    if (rc != EXIT_OK)
        return rc;
    if (fewest < o->base.threads)
        fprintf(stderr,
                "sockit: sweep: runs with fewer connections than the %d threads use one thread per connection\n",
                o->base.threads);
    if (fmt_fits(snprintf(path, sizeof path, "%s/logs", o->out), sizeof path) < 0)
        return cli_usage_error("bench", "--out: '%.120s...' is too long", o->out);
    if ((mkdir(o->out, 0755) < 0 && errno != EEXIST) || (mkdir(path, 0755) < 0 && errno != EEXIST)) {
        cli_error("sweep: cannot create %s: %s", path, strerror(errno));
        return EXIT_FAIL;
    }

    for (int m = 0; m < nm && !*o->stop; m++) {
        char seen_plain = 0; /* a model without backends runs once */
        for (int b = 0; b < (nb ? nb : 1) && !*o->stop; b++) {
            /* A model without a loop takes no backend: it runs once. */
            const char *be = nb && sk_model_has_loop((sk_model)sk_model_parse(models[m])) ? backends[b] : NULL;
            server sv = {0};
            if (server_start(o, models[m], be, &sv, why, sizeof why) < 0) {
                /* A failure that is not about the backend (a model not
                 * built yet, a missing service) holds for every backend. */
                bool model_wide = nb > 1 && strstr(why, "backend") == NULL;
                add_skip(&sw, models[m], model_wide ? "all" : be, why);
                if (model_wide)
                    break;
                continue;
            }
            if (sv.backend[0] == '\0' && seen_plain++) {
                server_stop(&sv);
                continue;
            }
            bench_server(&sw, models[m], &sv, conns, nc);
            server_stop(&sv);
        }
    }
    int ok = 0;
    for (int i = 0; i < sw.nruns; i++)
        ok += sw.runs[i].ok;
    rc = write_outputs(&sw);
    if (rc < 0) {
        cli_error("sweep: writing %s: %s", o->out, sk_strerror(rc));
        return EXIT_FAIL;
    }
    fprintf(stderr, "sockit: sweep: %d runs, %d skipped; wrote %s/results.md, results.json, rps.svg, p99.svg\n",
            sw.nruns, sw.nskips, o->out);
    if (o->json) {
        results_json(stdout, &sw);
        fflush(stdout);
    }
    if (ok == 0) {
        cli_error("sweep: no run completed a request (service %s)", o->service);
        return EXIT_FAIL;
    }
    return *o->stop ? EXIT_FAIL : EXIT_OK;
}
