/* A client's operand to the servers it names (target.h). */
#include "target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

#include "cli.h"
#include "discover_mdns.h"

char *cli_endpoint_format(const sk_endpoint *e, char *buf, size_t len)
{
    bool v6 = strchr(e->host, ':') != NULL;
    snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", e->host, v6 ? "]" : "", (unsigned)e->port);
    return buf;
}

static int find_srv(const cli_target_opts *o, const char *name, cli_target *t)
{
    uint32_t ttl = 0;
    int64_t t0 = sk_now_us();
    int n = sk_srv_lookup(name, o->dns, o->timeout_ms, t->ep, CLI_TARGETS_MAX, &ttl);

    if (n < 0) {
        if (n == -EINVAL)
            return cli_usage_error(o->cmd, "srv:%s: not a DNS name", name);
        cli_error("%s: SRV %s: %s", o->cmd, name, sk_strerror(n));
        return EXIT_FAIL;
    }
    t->n = (size_t)n;
    if (o->verbose) {
        fprintf(stderr, "sockit: SRV %s: %d target%s, in the order to try (%.1f ms, TTL %" PRIu32 " s)\n", name, n,
                n == 1 ? "" : "s", (double)(sk_now_us() - t0) / 1000.0, ttl);
        for (int i = 0; i < n; i++) {
            char a[SK_HOST_MAX + 16];
            fprintf(stderr, "sockit:   %s priority %u weight %u\n", cli_endpoint_format(&t->ep[i], a, sizeof a),
                    t->ep[i].priority, t->ep[i].weight);
        }
    }
    return -1;
}

/* The instances under an etcd prefix, in the order RFC 2782 would give
 * SRV records of one priority with their weights: a weighted random order,
 * so clients spread by weight and fall back through the rest. */
static int find_etcd(const cli_target_opts *o, const char *url, cli_target *t)
{
    static sk_etcd_instance inst[CLI_TARGETS_MAX];
    sk_srv recs[CLI_TARGETS_MAX];
    size_t order[CLI_TARGETS_MAX];
    sk_etcd_url u;
    int n;

    if (sk_etcd_url_parse(url, &u) < 0)
        return cli_usage_error(o->cmd, "%s: not an etcd URL (etcd://HOST[:PORT]/PREFIX)", url);
    n = sk_etcd_list(url, o->timeout_ms, inst, CLI_TARGETS_MAX);
    if (n < 0) {
        cli_error("%s: etcd %s: %s", o->cmd, url, sk_strerror(n));
        return EXIT_FAIL;
    }
    if (n == 0) {
        cli_error("%s: etcd %s: no instance registered under %s", o->cmd, url, u.prefix);
        return EXIT_FAIL;
    }
    if (n > CLI_TARGETS_MAX)
        n = CLI_TARGETS_MAX;
    for (int i = 0; i < n; i++)
        recs[i] = (sk_srv){.priority = 0, .weight = inst[i].weight, .port = inst[i].port, .target = inst[i].host};
    int k = sk_srv_order(recs, (size_t)n, 0, NULL, NULL, order);
    if (k < 0) {
        cli_error("%s: etcd %s: %s", o->cmd, url, sk_strerror(k));
        return EXIT_FAIL;
    }
    for (int i = 0; i < k; i++) {
        const sk_etcd_instance *in = &inst[order[i]];
        sk_endpoint *e = &t->ep[t->n++];
        snprintf(e->host, sizeof e->host, "%s", in->host);
        e->port = in->port;
        e->weight = in->weight;
    }
    if (o->verbose) {
        fprintf(stderr, "sockit: etcd %s: %d instance%s, in the order to try\n", url, k, k == 1 ? "" : "s");
        for (size_t i = 0; i < t->n; i++) {
            char a[SK_HOST_MAX + 16];
            fprintf(stderr, "sockit:   %s weight %u (%s)\n", cli_endpoint_format(&t->ep[i], a, sizeof a),
                    t->ep[i].weight, inst[order[i]].key);
        }
    }
    return -1;
}

/* The instances of a DNS-SD type on the link (mdns:_echo._tcp), or one
 * (mdns:NAME._echo._tcp), resolved over mDNS: one endpoint per instance, its
 * first address (IPv4 and global IPv6 come before link-local, which carries
 * its interface), each weight 1, in the order they answered. */
static void mdns_addr_load(sk_addr *out, const sk_mdns_addr *a, uint16_t port)
{
    memset(out, 0, sizeof *out);
    if (a->family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, a->addr, 4);
        out->len = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, a->addr, 16);
        if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
            s6->sin6_scope_id = a->ifindex;
        out->len = sizeof *s6;
    }
}

static int find_mdns(const cli_target_opts *o, const char *name, cli_target *t)
{
    static sk_mdns_instance inst[CLI_TARGETS_MAX];
    char iname[SK_DNS_LABEL_MAX + 1], type[SK_DNS_NAME_MAX];
    int64_t timeout = o->timeout_ms > 0 && o->timeout_ms < 5000 ? o->timeout_ms : 3000;

    if (sk_mdns_name_split(name, iname, sizeof iname, type, sizeof type) < 0)
        return cli_usage_error(o->cmd, "mdns:%s: not INSTANCE._svc._tcp or _svc._tcp", name);
    int n = sk_mdns_resolve(name, NULL, timeout, inst, CLI_TARGETS_MAX);
    if (n < 0) {
        cli_error("%s: mDNS %s: %s", o->cmd, name, sk_strerror(n));
        return EXIT_FAIL;
    }
    if (n == 0) {
        cli_error("%s: mDNS %s: no %s answered within %.1f s", o->cmd, name, iname[0] ? "such instance" : "instance",
                  (double)timeout / 1000);
        return EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) {
        size_t at = t->n++;
        sk_endpoint *e = &t->ep[at];
        discover_mdns_addr_text(&inst[i].addrs[0], e->host, sizeof e->host);
        e->port = inst[i].port;
        e->weight = 1;
        for (size_t k = 0; k < inst[i].naddrs && t->naddrs[at] < CLI_TARGET_ADDRS; k++)
            mdns_addr_load(&t->addrs[at][t->naddrs[at]++], &inst[i].addrs[k], inst[i].port);
    }
    if (o->verbose) {
        fprintf(stderr, "sockit: mDNS %s: %d instance%s\n", name, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < t->n; i++) {
            char a[SK_HOST_MAX + 16];
            fprintf(stderr, "sockit:   %s \"%s\" (host %s, interface %s)\n",
                    cli_endpoint_format(&t->ep[i], a, sizeof a), inst[i].instance, inst[i].host, inst[i].ifname);
        }
    }
    return -1;
}

int cli_target_find(const cli_target_opts *o, const char *text, cli_target *t)
{
    const char *srv;
    sk_hostport hp;
    int rc;

    memset(t, 0, sizeof *t);
    t->text = text;
    if (sk_srv_name(text, &srv)) {
        t->srv = srv;
        t->many = true;
        return find_srv(o, srv, t);
    }
    if (strncmp(text, "etcd://", 7) == 0) {
        t->etcd = text;
        t->many = true;
        return find_etcd(o, text, t);
    }
    if (strncmp(text, "mdns:", 5) == 0) {
        t->etcd = text; /* a registry of sorts: bench names it so */
        t->many = true;
        return find_mdns(o, text + 5, t);
    }
    if ((rc = sk_addr_split(text, &hp)) < 0)
        return cli_addr_usage(o->cmd, NULL, text, rc);
    if ((rc = sk_port_lookup(hp.port, o->proto)) < 0)
        return cli_addr_usage(o->cmd, NULL, text, rc);
    /* [v6]:port comes split without its brackets. */
    snprintf(t->ep[0].host, sizeof t->ep[0].host, "%s", hp.host);
    t->ep[0].port = (uint16_t)rc;
    t->ep[0].weight = 1;
    t->n = 1;
    return -1;
}

void cli_dial_step(void *host, const sk_dial_event *ev)
{
    char a[SK_ADDRSTRLEN] = "";
    int64_t ms = ev->at_us / 1000;
    if (ev->addr)
        sk_addr_format((const struct sockaddr *)&ev->addr->ss, a, sizeof a);
    switch (ev->kind) {
    case SK_DIAL_ANSWER: {
        const char *what = ev->family == AF_INET6 ? "AAAA" : ev->family == AF_INET ? "A" : "system resolver";
        if (ev->err)
            fprintf(stderr, "sockit: +%" PRId64 " ms %s %s: %s (%.1f ms)\n", ms, what, (const char *)host,
                    sk_strerror(ev->err), ev->lookup_ms);
        else
            fprintf(stderr, "sockit: +%" PRId64 " ms %s %s: %zu address%s (%.1f ms)\n", ms, what, (const char *)host,
                    ev->n, ev->n == 1 ? "" : "es", ev->lookup_ms);
        break;
    }
    case SK_DIAL_WAIT:
        fprintf(stderr, "sockit: +%" PRId64 " ms A came first: waiting for AAAA (resolution delay)\n", ms);
        break;
    case SK_DIAL_START:
        fprintf(stderr, "sockit: +%" PRId64 " ms connect %s\n", ms, a);
        break;
    case SK_DIAL_WON:
        fprintf(stderr, "sockit: +%" PRId64 " ms %s won\n", ms, a);
        break;
    case SK_DIAL_FAIL:
        fprintf(stderr, "sockit: +%" PRId64 " ms %s: %s\n", ms, a, sk_strerror(ev->err));
        break;
    }
}

bool cli_lookup_error(int err) { return err > SK_EBASE && err < SK_ELAST; }
