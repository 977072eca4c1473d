/* sockit bench over the servers an SRV name lists: each target is dialled
 * once (its addresses raced), the unreachable ones are left out, and the
 * connections go to the lowest priority still reachable, shared by weight
 * (largest remainder), with requests counted per target. */
#include "bench_cli.h"
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sockit/sockit.h>

/* Split conns over the weights: each gets its floor, the rest go to the
 * largest remainders (the first of equals). All weights 0 share evenly. */
static void shares(const uint16_t *w, size_t n, int conns, int *out)
{
    uint64_t sum = 0, rem[SK_BENCH_TARGETS_MAX];
    int given = 0;
    bool even = true;
    for (size_t i = 0; i < n; i++)
        even = even && w[i] == 0;
    for (size_t i = 0; i < n; i++)
        sum += even ? 1 : w[i];
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (uint64_t)conns * (even ? 1 : w[i]);
        out[i] = (int)(x / sum);
        rem[i] = x % sum;
        given += out[i];
    }
    while (given < conns) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++) {
            if (rem[i] > rem[best])
                best = i;
        }
        out[best]++;
        rem[best] = 0;
        given++;
    }
}

int bench_targets_find(bench_targets *bt, const char *text, const char *dns, bool verbose, sk_bench_config *cfg)
{
    cli_target_opts to = {
        .cmd = "bench", .proto = "tcp", .dns = dns, .timeout_ms = cfg->timeout_ms, .verbose = verbose};
    sk_addr peer[CLI_TARGETS_MAX];
    bool up[CLI_TARGETS_MAX] = {false};
    int rc, best = -1, last_err = 0;

    memset(bt, 0, sizeof *bt);
    if ((rc = cli_target_find(&to, text, &bt->t)) >= 0)
        return rc;
    if (!bt->t.many) {
        /* One server: with one address the load goes there as it is, and
         * a dead server shows as connect errors in the report; with more,
         * they are raced once and the load goes to the winner. */
        sk_addr a[16];
        sk_dial_opts d = {.timeout_ms = (int)cfg->timeout_ms, .dns_servers = dns};
        int n = sk_lookup(bt->t.ep[0].host, bt->t.ep[0].port, &d, a, 16);
        if (n < 0) {
            cli_error("resolve %s: %s", text, sk_strerror(n));
            return EXIT_FAIL;
        }
        cfg->addr = a[0];
        cfg->host = text;
        if (n == 1)
            return -1;
    }
    for (size_t i = 0; i < bt->t.n; i++) {
        sk_endpoint *e = &bt->t.ep[i];
        char a[SK_HOST_MAX + 16];
        /* A lower priority than one already reachable gets no load. */
        if (best >= 0 && e->priority > best)
            continue;
        sk_dial_opts d = {.timeout_ms = (int)cfg->timeout_ms,
                          .dns_servers = dns,
                          .on_event = verbose ? cli_dial_step : NULL,
                          .userdata = e->host};
        int fd = sk_dial(e->host, e->port, &d, &peer[i]);
        if (fd >= 0) {
            close(fd);
            up[i] = true;
            best = e->priority;
            continue;
        }
        last_err = fd;
        cli_endpoint_format(e, a, sizeof a);
        if (bt->t.many)
            fprintf(stderr, "sockit: bench: %s: %s; left out\n", a, sk_strerror(fd));
    }
    for (size_t i = 0; i < bt->t.n && bt->n < SK_BENCH_TARGETS_MAX; i++) {
        if (up[i] && bt->t.ep[i].priority == best) {
            bt->ep[bt->n] = i;
            bt->addrs[bt->n++] = peer[i];
        }
    }
    if (bt->n == 0) {
        if (bt->t.many)
            cli_error("bench %s: no target answered", text);
        else if (cli_lookup_error(last_err))
            cli_error("resolve %s: %s", text, sk_strerror(last_err));
        else
            cli_error("bench connect %s: %s", text, sk_strerror(last_err));
        return EXIT_FAIL;
    }
    if (!bt->t.many) {
        cfg->addr = bt->addrs[0];
        cfg->host = text;
        return -1;
    }
    uint16_t w[SK_BENCH_TARGETS_MAX];
    for (size_t i = 0; i < bt->n; i++)
        w[i] = bt->t.ep[bt->ep[i]].weight;
    shares(w, bt->n, cfg->conns, bt->conns);
    cfg->targets = bt->addrs;
    cfg->target_conns = bt->conns;
    cfg->ntargets = bt->n;
    /* HTTP's Host is the service's domain: _http._tcp.example.test serves
     * example.test. */
    const char *dom = bt->t.srv ? bt->t.srv : bt->t.ep[bt->ep[0]].host, *dot;
    for (int k = 0; k < 2 && *dom == '_' && (dot = strchr(dom, '.')) != NULL; k++)
        dom = dot + 1;
    snprintf(bt->host, sizeof bt->host, "%s", dom);
    cfg->host = bt->host;
    return -1;
}

void bench_targets_report(const bench_targets *bt, const sk_bench_result *r)
{
    if (bt == NULL || !bt->t.many)
        return;
    printf("  targets      %zu of %zu (%s %s)\n", bt->n, bt->t.n,
           bt->t.srv                              ? "SRV"
           : strncmp(bt->t.etcd, "mdns:", 5) == 0 ? "mDNS"
                                                  : "etcd",
           bt->t.srv ? bt->t.srv : bt->t.etcd);
    for (size_t i = 0; i < bt->n; i++) {
        const sk_endpoint *e = &bt->t.ep[bt->ep[i]];
        char a[SK_HOST_MAX + 16], p[SK_ADDRSTRLEN];
        double pct = r->n.requests ? 100.0 * (double)r->target_requests[i] / (double)r->n.requests : 0;
        printf("    %-28s %-22s priority %u weight %-5u %4d conns  %10" PRIu64 " requests (%.1f%%)\n",
               cli_endpoint_format(e, a, sizeof a),
               sk_addr_format((const struct sockaddr *)&bt->addrs[i].ss, p, sizeof p), e->priority, e->weight,
               bt->conns[i], r->target_requests[i], pct);
    }
}

void bench_targets_json(FILE *f, const bench_targets *bt, const sk_bench_result *r)
{
    if (bt == NULL || !bt->t.many)
        return;
    char js[2 * SK_HOST_MAX];
    cli_json_str(js, sizeof js, bt->t.srv ? bt->t.srv : bt->t.etcd);
    fprintf(f, ",\"%s\":%s,\"targets\":[", bt->t.srv ? "srv" : "registry", js);
    for (size_t i = 0; i < bt->n; i++) {
        const sk_endpoint *e = &bt->t.ep[bt->ep[i]];
        char p[SK_ADDRSTRLEN];
        cli_json_str(js, sizeof js, e->host);
        fprintf(f,
                "%s{\"target\":%s,\"port\":%u,\"addr\":\"%s\",\"priority\":%u,\"weight\":%u,\"connections\":%d,"
                "\"requests\":%" PRIu64 "}",
                i ? "," : "", js, e->port, sk_addr_format((const struct sockaddr *)&bt->addrs[i].ss, p, sizeof p),
                e->priority, e->weight, bt->conns[i], r->target_requests[i]);
    }
    fprintf(f, "]");
}
