/* Servers: resolve and bind, then hand the listeners to the chosen model.
 * The top of the server layer: it calls the models, which call the core
 * (core.c), the engines and the connection state machine below them. */
#include "conn_int.h"
#include "listen.h"
#include "models.h"
#include "server_trace.h"
#include "udp_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sockit/error.h>
#include <sockit/loop.h>

/* The models, indexed by sk_model. A new model is one file and one row. */
typedef struct sk__model {
    const char *name;
    int (*serve)(sk_server *s); /* TCP */
    bool loop;                  /* runs event loops: --backend applies */
    bool reuseport;             /* each thread or process takes its own copy of the listeners */
    bool processes;             /* connections live in several processes */
} sk__model;

static const sk__model models[] = {
    [SK_MODEL_LOOP] = {"loop", sk__model_loop, true, false, false},
    [SK_MODEL_FORK] = {"fork", sk__model_fork, false, false, true},
    [SK_MODEL_PREFORK] = {"prefork", sk__model_prefork, true, true, true},
    [SK_MODEL_THREAD] = {"thread", sk__model_thread, false, false, false},
    [SK_MODEL_HYBRID] = {"hybrid", sk__model_hybrid, true, true, false},
};
#define NMODELS (sizeof models / sizeof models[0])

int sk_model_parse(const char *name)
{
    for (size_t i = 0; i < NMODELS; i++) {
        if (name && strcmp(name, models[i].name) == 0)
            return (int)i;
    }
    return -EINVAL;
}

const char *sk_model_name(sk_model m) { return (unsigned)m < NMODELS ? models[m].name : "?"; }

bool sk_model_has_loop(sk_model m) { return (unsigned)m < NMODELS && models[m].loop; }

/* A NULL-terminated list of address blocks into an array. */
static int parse_blocks(const char *const *list, sk_cidr **out, size_t *n)
{
    size_t k = 0;
    *out = NULL;
    *n = 0;
    for (; list && list[k]; k++)
        ;
    if (k == 0)
        return 0;
    if ((*out = calloc(k, sizeof **out)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < k; i++) {
        int rc = sk_cidr_parse(list[i], &(*out)[i]);
        if (rc < 0)
            return rc;
    }
    *n = k;
    return 0;
}

int sk_server_open(const sk_server_config *cfg, sk_server **out)
{
    sk_addr addrs[SK__MAX_LISTENERS];
    sk_server *s;
    int n, rc, err;

    if (cfg->service == NULL || (cfg->proto != SK_PROTO_UDP && cfg->service->on_data == NULL))
        return -EINVAL;
    if (cfg->proto == SK_PROTO_UDP && cfg->service->on_datagram == NULL)
        return -EPROTONOSUPPORT;
    if ((unsigned)cfg->model >= NMODELS)
        return -EINVAL;
    const sk__model *m = &models[cfg->model];
    /* Checked before binding: a service whose connections talk to each
     * other cannot work split over processes that share no memory. */
    if (cfg->service->one_process && m->processes && cfg->proto != SK_PROTO_UDP)
        return SK_EONEPROCESS;
    if (cfg->backend && !m->loop)
        return -EINVAL; /* a backend for a model that has no loop */
    n = sk_addr_resolve(cfg->listen ? cfg->listen : "127.0.0.1:7007",
                        cfg->proto == SK_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, SK_RESOLVE_PASSIVE, addrs,
                        SK__MAX_LISTENERS);
    if (n < 0)
        return n;

    size_t bufs = cfg->buf_size ? cfg->buf_size : (size_t)64 * 1024;
    if (cfg->proto != SK_PROTO_UDP && cfg->service && bufs < cfg->service->min_buf_size)
        return SK_EBUFSMALL; /* a request that could never fit would get a wrong 408, or silence */
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->cfg = *cfg;
    s->stop_fd = -1;
    pthread_mutex_init(&s->engines_lock, NULL);
    s->buf_size = cfg->buf_size ? cfg->buf_size : (size_t)64 * 1024;
    if ((err = parse_blocks(cfg->allow, &s->allow, &s->nallow)) < 0 ||
        (err = parse_blocks(cfg->deny, &s->deny, &s->ndeny)) < 0)
        goto fail;
    if (s->cfg.drain_timeout_ms <= 0)
        s->cfg.drain_timeout_ms = 5000;
    if (s->cfg.workers <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.workers = cores > 0 ? (int)cores : 1;
    }
    if (s->cfg.min_rate_bps > 0 && s->cfg.min_rate_window_ms <= 0) {
        err = -EINVAL;
        goto fail;
    }
    if ((err = sk__shared_init(s)) < 0)
        goto fail;
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop_fd < 0) {
        err = -errno;
        goto fail;
    }
    s->backend = "";
    s->transport = &sk__transport_tcp;
    if (SK__TRACER(s)) {
        sk__server_trace_set(cfg->tracer);
        s->transport = &sk__transport_trace;
    }
    if (m->loop) {
        /* Validate the backend now so a typo is a usage error, not a
         * failure after the server started. */
        sk_loop *probe = sk_loop_new(cfg->backend, 64, &rc);
        if (probe == NULL) {
            err = rc;
            goto fail;
        }
        s->backend = sk_loop_backend(probe);
        sk_loop_free(probe);
    }
    if ((err = sk__listen_all(s, addrs, n, m->reuseport)) < 0)
        goto fail;
    if (cfg->proto == SK_PROTO_UDP && (err = sk__udp_join_all(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sk_server_free(s);
    return err;
}

void sk_server_free(sk_server *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->lfds[i] >= 0)
            close(s->lfds[i]);
    }
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    sk__shared_free(s);
    pthread_mutex_destroy(&s->engines_lock);
    free(s->allow);
    free(s->deny);
    free(s);
}

int sk_server_run(sk_server *s)
{
    if (s->cfg.proto == SK_PROTO_UDP)
        return sk__udp_serve(s);
    int rc = models[s->cfg.model].serve(s);
    /* Each cut was reported where it happened (in whichever thread or
     * process held it); the total is one line more, from the counter every
     * process shares. */
    uint64_t cut = __atomic_load_n(&s->stats->cut, __ATOMIC_RELAXED);
    if (cut > 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "drain: cut %" PRIu64 " connection%s at the drain timeout", cut, cut == 1 ? "" : "s");
        sk__server_event(s, SK_EV_WARN, NULL, 0, msg);
    }
    /* Connection attempts the kernel dropped because an accept queue was
     * full: a backlog too small, or a server that accepted too slowly. */
    sk_stats st;
    sk_server_stats(s, &st);
    if (st.listen_overflows > 0 || st.listen_drops > 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "listen queue: %" PRIu64 " overflows, %" PRIu64
                 " drops (TcpExt ListenOverflows, ListenDrops) while serving, for this network namespace",
                 st.listen_overflows, st.listen_drops);
        sk__server_event(s, SK_EV_WARN, NULL, 0, msg);
    }
    return rc;
}
