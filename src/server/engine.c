/* Engines: one thread's share of a server (its buffer pool and its
 * connections), and the periodic sweep every model runs over them for
 * idle, linger, drain and service deadlines. */
#include "conn_int.h"

#include <poll.h>
#include <string.h>

int sk__engine_init(sk__engine *e, sk_server *srv, uint32_t cached_blocks, bool many)
{
    memset(e, 0, sizeof *e);
    e->srv = srv;
    e->now = sk_now_ms();
    /* A service with a large state is better served by malloc: a slab
     * must hold several connections. */
    if (many && sk__slab_init(&e->conns, sizeof(sk_conn) + srv->cfg.service->conn_state_size) < 0)
        e->conns.size = 0;
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
    sk__slab_destroy(&e->conns);
}

static void deadline_due(sk__engine *e, sk_conn *c, void (*done)(sk_conn *c, void *arg), void *arg)
{
    const sk_service *svc = e->srv->cfg.service;
    c->due_ms = 0;
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

/* The idle clock runs from the last activity the engine saw, but the
 * engine may not have looked for a while: a stopped or starved process, a
 * wakeup that dispatched only part of the ready fds. Before calling a
 * connection idle, ask the kernel whether what it waits for is already
 * there (input, the peer's FIN, room for pending output): then the client
 * was active and the next wait hands it over. */
static bool kernel_has_activity(const sk_conn *c)
{
    int want = sk__conn_interest(c);
    struct pollfd p = {.fd = c->fd,
                       .events =
                           (short)(((want & SK_READ) ? POLLIN | POLLRDHUP : 0) | ((want & SK_WRITE) ? POLLOUT : 0))};
    return p.events != 0 && poll(&p, 1, 0) == 1 && (p.revents & p.events) != 0;
}

static bool idle_now(sk__engine *e, sk_conn *c, int idle)
{
    if (idle <= 0 || e->now - c->active_ms < idle || (c->flags & (SK__C_LINGER | SK__C_DEFERRED)))
        return false;
    if (!kernel_has_activity(c))
        return true;
    c->active_ms = e->now;
    return false;
}

void sk__engine_sweep(sk__engine *e, void (*done)(sk_conn *c, void *arg), void *arg)
{
    int idle = e->srv->cfg.idle_timeout_ms;
    sk_conn *next;

    for (sk_conn *c = e->head; c != NULL; c = next) {
        next = c->next;
        if (c->flags & SK__C_LINGER) {
            if (e->now >= c->due_ms)
                done(c, arg);
        } else if (idle_now(e, c, idle))
            done(c, arg);
        else if (c->due_ms > 0 && e->now >= c->due_ms && !(c->flags & SK__C_CLOSING))
            deadline_due(e, c, done, arg);
    }
}
