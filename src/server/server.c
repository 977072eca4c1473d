/* Servers: bind the listeners, keep the shared counters, and hand the
 * sockets to the chosen model. */
#include "conn_int.h"
#include "models.h"
#include "udp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sockit/error.h>
#include <sockit/loop.h>

static const char *const model_names[] = {
    [SK_MODEL_LOOP] = "loop",     [SK_MODEL_FORK] = "fork",     [SK_MODEL_PREFORK] = "prefork",
    [SK_MODEL_THREAD] = "thread", [SK_MODEL_HYBRID] = "hybrid",
};

int sk_model_parse(const char *name)
{
    for (size_t i = 0; i < sizeof model_names / sizeof model_names[0]; i++) {
        if (name && strcmp(name, model_names[i]) == 0)
            return (int)i;
    }
    return -EINVAL;
}

const char *sk_model_name(sk_model m)
{
    return (unsigned)m < sizeof model_names / sizeof model_names[0] ? model_names[m] : "?";
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
    if (sk_model_name(cfg->model)[0] == '?')
        return -EINVAL;
    n = sk_addr_resolve(cfg->listen ? cfg->listen : "127.0.0.1:7007",
                        cfg->proto == SK_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, SK_RESOLVE_PASSIVE, addrs,
                        SK__MAX_LISTENERS);
    if (n < 0)
        return n;

    s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->cfg = *cfg;
    s->stop_fd = -1;
    pthread_mutex_init(&s->engines_lock, NULL);
    s->buf_size = cfg->buf_size ? cfg->buf_size : (size_t)64 * 1024;
    if (s->cfg.drain_timeout_ms <= 0)
        s->cfg.drain_timeout_ms = 5000;
    if (s->cfg.workers <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        s->cfg.workers = cores > 0 ? (int)cores : 1;
    }
    s->stats = mmap(NULL, sizeof *s->stats, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s->stats == MAP_FAILED) {
        s->stats = NULL;
        err = -errno;
        goto fail;
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop_fd < 0) {
        err = -errno;
        goto fail;
    }
    s->backend = "";
    if (cfg->model == SK_MODEL_LOOP || cfg->model == SK_MODEL_HYBRID || cfg->model == SK_MODEL_PREFORK) {
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
    for (int i = 0; i < n; i++) {
        /* When a name gives both families (localhost, the wildcard), each
         * listener takes only its own so the two binds do not collide. */
        int flags = SK_LISTEN_NONBLOCK | (n > 1 ? SK_LISTEN_V6ONLY : 0);
        if (cfg->model == SK_MODEL_HYBRID)
            flags |= SK_LISTEN_REUSEPORT;
        int fd = cfg->proto == SK_PROTO_UDP ? sk__udp_listen(&addrs[i], flags)
                                            : sk_tcp_listen(&addrs[i], cfg->backlog, flags);
        if (fd < 0) {
            err = fd;
            s->laddrs[0] = addrs[i]; /* so the caller can name it */
            goto fail;
        }
        s->lfds[s->nlisteners] = fd;
        s->laddrs[s->nlisteners].len = sizeof s->laddrs[0].ss;
        getsockname(fd, (struct sockaddr *)&s->laddrs[s->nlisteners].ss, &s->laddrs[s->nlisteners].len);
        s->nlisteners++;
    }
    if (cfg->proto == SK_PROTO_UDP && (err = sk__udp_join_all(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sk_server_free(s);
    return err;
}

const sk_addr *sk_server_address(const sk_server *s) { return &s->laddrs[0]; }

const char *sk_server_backend(const sk_server *s) { return s->backend; }

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
    if (s->stats)
        munmap(s->stats, sizeof *s->stats);
    pthread_mutex_destroy(&s->engines_lock);
    free(s);
}

void sk_server_stop(sk_server *s)
{
    uint64_t one = 1;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
    /* write(2) is async-signal-safe; the eventfd stays readable so every
     * loop thread and the supervisor see it. */
    ssize_t rc = write(s->stop_fd, &one, sizeof one);
    (void)rc;
}

void sk_server_stats(const sk_server *s, sk_stats *out)
{
    out->accepted = __atomic_load_n(&s->stats->accepted, __ATOMIC_RELAXED);
    out->active = __atomic_load_n(&s->stats->active, __ATOMIC_RELAXED);
    out->closed = __atomic_load_n(&s->stats->closed, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&s->stats->rejected, __ATOMIC_RELAXED);
    out->bytes_in = __atomic_load_n(&s->stats->bytes_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&s->stats->bytes_out, __ATOMIC_RELAXED);
}

void sk__server_event(sk_server *s, sk_event_kind kind, const sk_tuple *t, int err, const char *msg)
{
    if (s->cfg.on_event == NULL)
        return;
    sk_event ev = {.kind = kind, .tuple = t, .err = err, .msg = msg};
    s->cfg.on_event(s->cfg.userdata, &ev);
}

bool sk__server_reserve(sk_server *s)
{
    uint64_t cur, max = (uint64_t)s->cfg.max_conns;

    if (max == 0)
        return true;
    /* Check and count in one step: several loop threads or prefork workers
     * accepting at the same instant must not all see the last free slot. */
    cur = __atomic_load_n(&s->stats->active, __ATOMIC_RELAXED);
    do {
        if (cur >= max)
            return false;
    } while (!__atomic_compare_exchange_n(&s->stats->active, &cur, cur + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

void sk__server_unreserve(sk_server *s)
{
    if (s->cfg.max_conns > 0)
        SK__STAT_SUB(s, active, 1);
}

int sk__server_accept(sk_server *s, int lfd, int *reserve_fd)
{
    for (;;) {
        int fd = sk_accept(lfd, true, NULL);
        if (fd >= 0)
            return fd;
        switch (fd) {
        case -EAGAIN:
            return fd;
        case -ECONNABORTED:
        case -EPROTO:
        case -EPERM: /* a firewall rule refused it */
            continue;
        case -EMFILE:
        case -ENFILE:
            /* Out of descriptors, the pending connection stays queued and
             * the listener stays readable: a level-triggered loop would spin.
             * Free the reserved fd, take the connection, close it (the
             * client sees a clean close), then take the reserve back. */
            if (*reserve_fd >= 0) {
                close(*reserve_fd);
                *reserve_fd = -1;
                int victim = sk_accept(lfd, true, NULL);
                if (victim >= 0)
                    close(victim);
                *reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                /* accept() fails with EMFILE before it looks at the queue,
                 * so after the last victim one more EMFILE comes with
                 * nothing pending: nobody was refused then. */
                if (victim == -EAGAIN)
                    return victim;
                if (victim >= 0) {
                    SK__STAT_ADD(s, rejected, 1);
                    sk__server_event(s, SK_EV_REJECT, NULL, fd, "out of file descriptors");
                    continue;
                }
            }
            SK__STAT_ADD(s, rejected, 1);
            sk__server_event(s, SK_EV_REJECT, NULL, fd, "out of file descriptors");
            return fd;
        default:
            sk__server_event(s, SK_EV_WARN, NULL, fd, "accept");
            return fd;
        }
    }
}

int sk__engine_init(sk__engine *e, sk_server *srv, uint32_t cached_blocks)
{
    memset(e, 0, sizeof *e);
    e->srv = srv;
    e->now = sk_now_ms();
    int rc = sk__bufpool_init(&e->pool, srv->buf_size, cached_blocks);
    if (rc < 0)
        return rc;
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_lock(&srv->engines_lock);
    e->next_engine = srv->engines;
    srv->engines = e;
    pthread_mutex_unlock(&srv->engines_lock);
    return 0;
}

void sk__engine_destroy(sk__engine *e)
{
    sk_server *s = e->srv;
    while (e->head)
        sk__conn_free(e->head);
    pthread_mutex_lock(&s->engines_lock);
    for (sk__engine **pp = &s->engines; *pp; pp = &(*pp)->next_engine) {
        if (*pp == e) {
            *pp = e->next_engine;
            break;
        }
    }
    pthread_mutex_unlock(&s->engines_lock);
    pthread_mutex_destroy(&e->lock);
    sk__bufpool_destroy(&e->pool);
}

void sk__server_forget_engines(sk_server *s)
{
    /* The parent's threads do not exist in the child, so the lock may be
     * held by nobody who can release it: start afresh. */
    pthread_mutex_init(&s->engines_lock, NULL);
    s->engines = NULL;
}

/* A service deadline passed: let the service act (a 408, a close), then
 * advance the connection so queued output goes out. */
static void deadline_due(sk__engine *e, sk_conn *c, void (*done)(sk_conn *c, void *arg), void *arg)
{
    const sk_service *svc = e->srv->cfg.service;
    c->deadline_ms = 0;
    if (svc->on_timeout == NULL)
        sk__conn_finish(c);
    else if (svc->on_timeout(c) < 0) {
        done(c, arg);
        return;
    }
    if (sk__conn_drive(c, 0) == SK__DONE)
        done(c, arg);
    else if (e->rearm)
        e->rearm(c);
}

void sk__engine_sweep(sk__engine *e, void (*done)(sk_conn *c, void *arg), void *arg)
{
    int idle = e->srv->cfg.idle_timeout_ms;
    sk_conn *next;

    for (sk_conn *c = e->head; c != NULL; c = next) {
        next = c->next;
        if ((c->flags & SK__C_LINGER) && e->now >= c->linger_until)
            done(c, arg);
        else if (idle > 0 && e->now - c->active_ms >= idle && !(c->flags & (SK__C_LINGER | SK__C_DEFERRED)))
            done(c, arg);
        else if (c->deadline_ms > 0 && e->now >= c->deadline_ms && !(c->flags & (SK__C_LINGER | SK__C_CLOSING)))
            deadline_due(e, c, done, arg);
    }
}

int sk_server_run(sk_server *s)
{
    if (s->cfg.proto == SK_PROTO_UDP)
        return sk__udp_serve(s);
    switch (s->cfg.model) {
    case SK_MODEL_LOOP:
        return sk__model_loop(s);
    case SK_MODEL_THREAD:
        return sk__model_thread(s);
    case SK_MODEL_FORK:
        return sk__model_fork(s);
    case SK_MODEL_PREFORK:
        return sk__model_prefork(s);
    case SK_MODEL_HYBRID:
        return sk__model_hybrid(s);
    }
    return -EINVAL;
}
