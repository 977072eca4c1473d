/* Engines: one thread's share of a server (its buffer pool and its
 * connections), and the periodic sweep every model runs over them for
 * idle, linger, drain and service deadlines. */
#include "conn_int.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int sk__engine_init(sk__engine *e, sk_server *srv, uint32_t cached_blocks, bool many)
{
    memset(e, 0, sizeof *e);
    e->srv = srv;
    e->tp = srv->transport;
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
    sk__engine_publish(e);
    if (sk__engine_here == e)
        sk__engine_here = NULL;
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

int64_t sk__conn_rate_due(const sk_conn *c)
{
    const sk_server_config *cfg = &c->eng->srv->cfg;
    if (cfg->min_rate_bps == 0 || c->ext == NULL || (c->flags & SK__C_LINGER))
        return 0;
    return c->ext->rate_from_ms + cfg->min_rate_window_ms;
}

/* min_rate: at the end of each window a connection that waits on its peer
 * and got too few bytes through is too slow. It waits on a reader while
 * output is queued for it (what it takes must reach the rate); on a writer
 * while its input arrives and nothing has been answered yet (the service
 * waits for the rest of a request: what arrives must reach the rate). A
 * connection with nothing queued and nothing arriving is idle (the idle
 * timeout's), and one whose input was answered in the window is a
 * conversation, however small its messages. */
static bool too_slow(sk__engine *e, sk_conn *c)
{
    const sk_server_config *cfg = &e->srv->cfg;
    int64_t due = sk__conn_rate_due(c);

    if (due == 0 || e->now < due || (c->flags & SK__C_DEFERRED))
        return false;
    sk__conn_ext *x = c->ext;
    uint64_t din = c->bytes_in - x->rate_in0, dout = c->bytes_out - x->rate_out0;
    uint64_t need = cfg->min_rate_bps * (uint64_t)(e->now - x->rate_from_ms) / 1000;
    bool slow_reader = sk__buf_used(&c->out) > 0 && dout < need;
    bool slow_writer = din > 0 && dout == 0 && din < need;
    x->rate_from_ms = e->now;
    x->rate_in0 = c->bytes_in;
    x->rate_out0 = c->bytes_out;
    if (!slow_reader && !slow_writer)
        return false;
    char conn[2 * SK_ADDRSTRLEN + 8], msg[sizeof conn + 160];
    sk_tuple t;
    sk__conn_tuple(c, &t);
    sk_tuple_format(&t, conn, sizeof conn);
    snprintf(msg, sizeof msg,
             "min-rate: closed %s, a slow %s (%" PRIu64 " bytes in, %" PRIu64 " out in %d ms; %zu bytes unsent)", conn,
             slow_reader ? "reader" : "writer", din, dout, cfg->min_rate_window_ms, sk__buf_used(&c->out));
    SK__STAT_ADD(e->srv, slow_closed, 1);
    sk__server_event(e->srv, SK_EV_WARN, &t, 0, msg);
    /* Reset, not FIN: what is queued would otherwise stay in the kernel for
     * a peer that does not read it, which is what this limit frees. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return true;
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
        else if (too_slow(e, c))
            done(c, arg);
        else if (c->due_ms > 0 && e->now >= c->due_ms && !(c->flags & SK__C_CLOSING))
            deadline_due(e, c, done, arg);
    }
}
