/* The servers a DNS SRV name lists, in the order RFC 2782 says to try
 * them: one SRV query on a loop of its own, then sk_srv_order. */
#include <sockit/dial.h>
#include <sockit/error.h>
#include <sockit/loop.h>
#include <sockit/resolve.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct srv_query {
    sk_loop *loop;
    bool done;
    int status;
    sk_endpoint *out;
    size_t max, n;
    uint32_t ttl;
} srv_query;

static void on_srv(const sk_dns_result *res, void *data)
{
    srv_query *q = data;
    size_t nsrv = 0;
    sk_srv *recs = NULL;
    size_t *order = NULL;

    q->done = true;
    sk_loop_stop(q->loop);
    if ((q->status = res->status) != 0)
        return;
    recs = calloc(res->n, sizeof *recs);
    order = calloc(res->n, sizeof *order);
    if (recs == NULL || order == NULL) {
        q->status = -ENOMEM;
        goto out;
    }
    q->ttl = UINT32_MAX;
    for (size_t i = 0; i < res->n; i++) {
        const sk_dns_rr *rr = &res->rrs[i];
        if (rr->type != SK_DNS_SRV)
            continue;
        recs[nsrv++] = (sk_srv){.priority = rr->priority, .weight = rr->weight, .port = rr->port, .target = rr->target};
        if (rr->ttl < q->ttl)
            q->ttl = rr->ttl;
    }
    int k = sk_srv_order(recs, nsrv, 0, NULL, NULL, order);
    if (k < 0) {
        q->status = k;
        goto out;
    }
    for (int i = 0; i < k && q->n < q->max; i++) {
        const sk_srv *r = &recs[order[i]];
        sk_endpoint *e = &q->out[q->n++];
        size_t len = strlen(r->target);
        if (len > 0 && r->target[len - 1] == '.')
            len--; /* absolute already: the trailing dot adds nothing */
        if (len >= sizeof e->host)
            len = sizeof e->host - 1;
        memcpy(e->host, r->target, len);
        e->host[len] = '\0';
        e->port = r->port;
        e->priority = r->priority;
        e->weight = r->weight;
    }
out:
    free(recs);
    free(order);
}

int sk_srv_lookup(const char *name, const char *dns_servers, int64_t timeout_ms, sk_endpoint *out, size_t max,
                  uint32_t *ttl_s)
{
    srv_query q = {.out = out, .max = max};
    sk_resolver_opts ro = {.servers = dns_servers, .timeout_ms = timeout_ms};
    sk_resolver *r;
    int err = 0;

    if (name == NULL || out == NULL || max == 0)
        return -EINVAL;
    if ((q.loop = sk_loop_new(NULL, 0, &err)) == NULL)
        return err;
    if ((r = sk_resolver_new(q.loop, &ro, &err)) == NULL) {
        sk_loop_free(q.loop);
        return err;
    }
    err = sk_resolver_query(r, name, SK_DNS_SRV, on_srv, &q);
    while (err == 0 && !q.done) {
        int rc = sk_loop_run(q.loop);
        if (rc < 0 && !q.done) {
            err = rc;
            break;
        }
    }
    sk_resolver_free(r);
    sk_loop_free(q.loop);
    if (err < 0)
        return err;
    if (q.status != 0)
        return q.status;
    if (ttl_s)
        *ttl_s = q.ttl;
    return (int)q.n;
}

bool sk_srv_name(const char *text, const char **name)
{
    const char *n = text;
    if (text == NULL)
        return false;
    if (strncmp(text, "srv:", 4) == 0) {
        *name = text + 4;
        return true;
    }
    /* _service._proto.domain: two leading labels that start with '_', and
     * no port (a host:port never has that shape). */
    const char *dot = strchr(n, '.');
    if (n[0] != '_' || dot == NULL || dot[1] != '_' || strchr(n, ':') != NULL)
        return false;
    *name = text;
    return true;
}
