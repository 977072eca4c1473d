/* The connection state machine shared by every model: read into the
 * pooled input buffer, let the service consume it, flush the bounded output
 * buffer, and finish with a half-close and a short linger. Models only say
 * which events fired and wait for the ones sk__conn_interest() names. */
#include "conn_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/error.h>

/* The service API ---------------------------------------------------------- */

int sk_conn_write(sk_conn *c, const void *buf, size_t len)
{
    if (c->flags & SK__C_LINGER)
        return -EPIPE;
    return sk__buf_append(&c->out, &c->eng->pool, buf, len);
}

size_t sk_conn_room(const sk_conn *c) { return sk__buf_room(&c->out, &c->eng->pool); }

void sk_conn_close(sk_conn *c) { c->flags |= SK__C_CLOSING; }

void *sk_conn_state(sk_conn *c) { return c->state; }

const void *sk_conn_config(const sk_conn *c) { return c->eng->srv->cfg.service_config; }

/* The 4-tuple ------------------------------------------------------------ */

static void tuple_store(sk__ctuple *ct, const sk_tuple *t)
{
    const struct sockaddr *p = (const struct sockaddr *)&t->peer.ss, *l = (const struct sockaddr *)&t->local.ss;

    memset(ct, 0, sizeof *ct);
    if (p->sa_family != l->sa_family)
        return;
    if (p->sa_family == AF_INET) {
        const struct sockaddr_in *p4 = (const void *)p, *l4 = (const void *)l;
        memcpy(ct->peer, &p4->sin_addr, 4);
        memcpy(ct->local, &l4->sin_addr, 4);
        ct->peer_port = p4->sin_port;
        ct->local_port = l4->sin_port;
        ct->family = AF_INET;
    } else if (p->sa_family == AF_INET6) {
        const struct sockaddr_in6 *p6 = (const void *)p, *l6 = (const void *)l;
        if (p6->sin6_scope_id != l6->sin6_scope_id && l6->sin6_scope_id != 0)
            return;
        memcpy(ct->peer, &p6->sin6_addr, 16);
        memcpy(ct->local, &l6->sin6_addr, 16);
        ct->peer_port = p6->sin6_port;
        ct->local_port = l6->sin6_port;
        ct->scope_id = p6->sin6_scope_id;
        ct->family = AF_INET6;
    }
}

static void addr_load(sk_addr *a, int family, const uint8_t *ip, uint16_t port, uint32_t scope_id)
{
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
        s4->sin_family = AF_INET;
        s4->sin_port = port;
        memcpy(&s4->sin_addr, ip, 4);
        a->len = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = port;
        memcpy(&s6->sin6_addr, ip, 16);
        s6->sin6_scope_id = scope_id;
        a->len = sizeof *s6;
    }
}

void sk__conn_tuple(const sk_conn *c, sk_tuple *t)
{
    const sk__ctuple *ct = &c->tuple;

    if (ct->family == 0) {
        if (c->ext && c->ext->tuple)
            *t = *c->ext->tuple;
        else
            memset(t, 0, sizeof *t);
        return;
    }
    memset(t, 0, sizeof *t);
    addr_load(&t->peer, ct->family, ct->peer, ct->peer_port, ct->scope_id);
    addr_load(&t->local, ct->family, ct->local, ct->local_port, ct->scope_id);
}

static sk__conn_ext *ext_get(sk_conn *c)
{
    if (c->ext == NULL)
        c->ext = calloc(1, sizeof *c->ext);
    return c->ext;
}

/* The transport's per-connection state lives in ext: plain TCP has none,
 * and a connection's per-request lines stay two. */
static inline void *tp_ctx(const sk_conn *c) { return c->ext ? c->ext->tp_ctx : NULL; }

const sk_tuple *sk_conn_tuple(const sk_conn *cc)
{
    static _Thread_local sk_tuple fallback;
    /* Built once and kept with the connection, so the pointer stays good
     * for as long as the connection does; few services ask. */
    sk_conn *c = (sk_conn *)cc;
    /* A tuple not kept compact has its copy from sk__conn_open, if any. */
    sk__conn_ext *x = c->tuple.family != 0 ? ext_get(c) : c->ext;

    if (x != NULL && x->tuple == NULL && c->tuple.family != 0) {
        sk_tuple *t = malloc(sizeof *t);
        if (t != NULL) {
            sk__conn_tuple(c, t);
            x->tuple = t;
        }
    }
    if (x != NULL && x->tuple != NULL)
        return x->tuple;
    /* Out of memory: valid until the next call on this thread. */
    sk__conn_tuple(c, &fallback);
    return &fallback;
}

int sk_conn_fd(const sk_conn *c) { return c->fd; }

int sk_conn_defer(sk_conn *c, void (*work)(void *arg), void (*done)(sk_conn *c, void *arg), void *arg)
{
    sk__engine *e = c->eng;

    if (c->flags & SK__C_DEFERRED)
        return -EBUSY;
    if (e->defer == NULL) {
        /* No pool in this model: the work blocks this connection's own
         * thread or process, which only serves this connection anyway
         * (thread, fork) or accepts the cost (loop, prefork). */
        work(arg);
        done(c, arg);
        return 0;
    }
    sk__conn_ext *x = ext_get(c);
    sk__job *j = x ? calloc(1, sizeof *j) : NULL;
    if (j == NULL)
        return -ENOMEM;
    j->c = c;
    j->work = work;
    j->done = done;
    j->arg = arg;
    x->job = j;
    c->flags |= SK__C_DEFERRED;
    int rc = e->defer(e, j);
    if (rc < 0) {
        x->job = NULL;
        c->flags &= ~SK__C_DEFERRED;
        free(j);
    }
    return rc;
}

sk_conn *sk__job_complete(sk__job *j)
{
    sk_conn *c = j->c;

    if (c != NULL) {
        c->ext->job = NULL;
        c->flags &= ~SK__C_DEFERRED;
        c->active_ms = c->eng->now;
    }
    j->done(c, j->arg);
    free(j);
    return c;
}

int sk_conn_watch(sk_conn *c, int fd, int events)
{
    sk__engine *e = c->eng;
    int i = 0, rc = 0, n = sk__conn_nwatch(c);

    if (fd < 0 || fd == c->fd || e->srv->cfg.service->on_watch == NULL)
        return -EINVAL;
    while (i < n && c->ext->watch[i].fd != fd)
        i++;
    if (i == n && events == 0)
        return 0;
    if (i == n && n == SK_CONN_WATCH_MAX)
        return -ENOSPC;
    if (i < n && c->ext->watch[i].events == events)
        return 0;
    sk__conn_ext *x = ext_get(c);
    if (x == NULL)
        return -ENOMEM;
    if (e->watch && (rc = e->watch(c, fd, events)) < 0)
        return rc;
    if (events == 0) {
        x->watch[i] = x->watch[--x->nwatch];
        return 0;
    }
    if (i == x->nwatch)
        x->nwatch++;
    x->watch[i].fd = fd;
    x->watch[i].events = events;
    return 0;
}

int sk__conn_watched(sk_conn *c, int fd, int events)
{
    int i = 0, n = sk__conn_nwatch(c);
    /* A poll loop may report an fd the service stopped watching since. */
    while (i < n && c->ext->watch[i].fd != fd)
        i++;
    if (i == n)
        return SK__KEEP;
    c->active_ms = c->eng->now;
    return c->eng->srv->cfg.service->on_watch(c, fd, events) < 0 ? SK__DONE : SK__KEEP;
}

sk_server *sk_conn_server(const sk_conn *c) { return c->eng->srv; }

void sk_conn_set_timeout(sk_conn *c, int64_t ms)
{
    /* A lingering connection's due time is the linger's. */
    if (!(c->flags & SK__C_LINGER))
        c->due_ms = ms > 0 ? c->eng->now + ms : 0;
}

/* Lifecycle ---------------------------------------------------------------- */

sk_conn *sk__conn_open(sk__engine *e, int fd, bool reserved) { return sk__conn_open_held(e, fd, reserved, NULL); }

sk_conn *sk__conn_open_held(sk__engine *e, int fd, bool reserved, const sk_addr *held)
{
    return sk__conn_open_tuple(e, fd, reserved, held, NULL);
}

sk_conn *sk__conn_open_tuple(sk__engine *e, int fd, bool reserved, const sk_addr *held, const sk_tuple *given)
{
    sk_server *s = e->srv;
    const sk_service *svc = s->cfg.service;
    sk_conn *c = e->conns.size ? sk__slab_alloc(&e->conns) : calloc(1, sizeof *c + svc->conn_state_size);
    sk_tuple t;

    if (c == NULL) {
        if (reserved)
            sk__server_unreserve(s);
        sk__server_reject(s, fd, held, -ENOMEM, "out of memory for a new connection");
        return NULL;
    }
    c->fd = fd;
    c->eng = e;
    c->opened_ms = c->active_ms = e->now;
    if (given)
        t = *given;
    else
        sk_tuple_get(fd, &t);
    tuple_store(&c->tuple, &t);
    if (held && held->len > 0) {
        /* The peer given back at close is the tuple's: one the kernel
         * could not name any more (getpeername after a reset) is the one
         * accept gave. */
        c->flags |= SK__C_HELD;
        if (c->tuple.family == 0) {
            t.peer = *held;
            memset(&t.local, 0, sizeof t.local);
            t.local.ss.ss_family = held->ss.ss_family;
            tuple_store(&c->tuple, &t);
        }
    }
    if (c->tuple.family == 0 && ext_get(c) && (c->ext->tuple = malloc(sizeof t)) != NULL)
        *c->ext->tuple = t;
    if (s->cfg.min_rate_bps > 0 && ext_get(c))
        c->ext->rate_from_ms = e->now;
    pthread_mutex_lock(&e->lock);
    c->next = e->head;
    if (e->head)
        e->head->prev = c;
    e->head = c;
    e->nconns++;
    pthread_mutex_unlock(&e->lock);
    SK__STAT_ADD(s, accepted, 1);
    if (!reserved || s->cfg.max_conns == 0)
        SK__STAT_ADD(s, active, 1);
    sk__server_event(s, SK_EV_OPEN, &t, 0, NULL);
    if (svc->on_open && svc->on_open(c) < 0)
        c->flags |= SK__C_CLOSING;
    return c;
}

void sk__conn_free(sk_conn *c)
{
    sk__engine *e = c->eng;
    sk_server *s = e->srv;
    const sk_service *svc = s->cfg.service;
    sk__conn_ext *x = c->ext;
    sk_tuple t;
    sk_event ev = {.kind = SK_EV_CLOSE, .tuple = &t, .bytes_in = c->bytes_in, .bytes_out = c->bytes_out};

    if (x && x->job)
        x->job->c = NULL; /* done() will learn the connection is gone */
    /* The service closes its extra fds in on_close: stop waiting for them
     * first, so no loop ever holds a closed (and maybe reused) fd. */
    while (x && x->nwatch > 0) {
        x->nwatch--;
        if (e->watch)
            e->watch(c, x->watch[x->nwatch].fd, 0);
    }
    if (svc->on_close)
        svc->on_close(c);
    sk__buf_release(&c->in, &e->pool);
    sk__buf_release(&c->out, &e->pool);
    /* Unlink and close under the lock: sk_server_conns() must never query
     * an fd number that was closed and reused. */
    pthread_mutex_lock(&e->lock);
    e->tp->close(tp_ctx(c), c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        e->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    e->nconns--;
    pthread_mutex_unlock(&e->lock);
    SK__STAT_SUB(s, active, 1);
    SK__STAT_ADD(s, closed, 1);
    if (c->flags & SK__C_HELD) {
        sk_addr peer = {.len = 0};
        addr_load(&peer, c->tuple.family, c->tuple.peer, c->tuple.peer_port, c->tuple.scope_id);
        sk__peer_release(s, &peer);
    }
    if (s->cfg.on_event) {
        sk__conn_tuple(c, &t);
        s->cfg.on_event(s->cfg.userdata, &ev);
    }
    if (x) {
        free(x->tuple);
        free(x);
    }
    if (e->conns.size)
        sk__slab_free(&e->conns, c);
    else
        free(c);
}

void sk__conn_finish(sk_conn *c) { c->flags |= SK__C_CLOSING; }

/* I/O ---------------------------------------------------------------------- */

static bool wants_read(const sk_conn *c)
{
    const sk__bufpool *p = &c->eng->pool;
    if (c->flags & (SK__C_CLOSING | SK__C_EOF | SK__C_DEFERRED))
        return false;
    /* Unconsumed input waits for output room: reading more would only grow
     * memory. Without pending output, the service is waiting for more
     * input (a partial request), so keep reading while there is space. */
    return sk__buf_used(&c->in) < p->blocksize && (sk__buf_used(&c->in) == 0 || sk__buf_used(&c->out) == 0);
}

int sk__conn_interest(const sk_conn *c)
{
    /* The common case after a request: answered, both buffers given back,
     * waiting for the next one. */
    if (!(c->flags & (SK__C_CLOSING | SK__C_EOF | SK__C_LINGER | SK__C_DEFERRED)) && c->in.data == NULL &&
        c->out.data == NULL)
        return SK_READ;
    if (c->flags & SK__C_LINGER)
        return SK_READ;
    return (wants_read(c) ? SK_READ : 0) | (sk__buf_used(&c->out) ? SK_WRITE : 0);
}

/* Offer buffered input to the service. Returns 0 or < 0 to abort. Inlined,
 * as flush below: their calls and saved registers were 18 of the 950 user
 * instructions of a keep-alive request. */
__attribute__((always_inline)) static inline int process(sk_conn *c)
{
    const sk_service *svc = c->eng->srv->cfg.service;
    sk__bufpool *p = &c->eng->pool;

    while (sk__buf_used(&c->in) > 0 && !(c->flags & (SK__C_CLOSING | SK__C_DEFERRED))) {
        size_t used = sk__buf_used(&c->in);
        int n = svc->on_data(c, sk__buf_rptr(&c->in), used);
        if (n < 0)
            return n;
        if ((size_t)n > used)
            n = (int)used;
        sk__buf_consume(&c->in, p, (size_t)n);
        if (n == 0)
            break;
    }
    if (c->flags & SK__C_CLOSING)
        sk__buf_release(&c->in, p);
    /* A full input buffer with nothing to flush can never move again: the
     * service refuses input it has room to answer. Drop it rather than hang
     * -- unless the service waits on an extra fd (a child's full stdin). */
    if (sk__buf_used(&c->in) == p->blocksize && sk__buf_used(&c->out) == 0 && !(c->flags & SK__C_DEFERRED) &&
        sk__conn_nwatch(c) == 0)
        return -EPROTO;
    return 0;
}

static void on_peer_eof(sk_conn *c)
{
    const sk_service *svc = c->eng->srv->cfg.service;
    c->flags |= SK__C_EOF;
    if (svc->on_eof == NULL || svc->on_eof(c) == 0)
        c->flags |= SK__C_CLOSING;
}

/* The data_events hook: what the connection read or sent, with its offset
 * in that direction (the counter before this chunk). */
static void data_event(sk_conn *c, sk_data_dir dir, const void *data, size_t len, uint64_t offset)
{
    sk_server *s = c->eng->srv;
    sk_tuple t;
    sk__conn_tuple(c, &t);
    sk_event ev = {.kind = SK_EV_DATA, .tuple = &t, .dir = dir, .data = data, .len = len, .offset = offset};
    if (s->cfg.on_event)
        s->cfg.on_event(s->cfg.userdata, &ev);
}

/* Read what the socket has (a few reads at most, to stay fair to other
 * connections). Returns 0 or -errno. */
static int read_some(sk_conn *c)
{
    sk__bufpool *p = &c->eng->pool;
    sk_server *s = c->eng->srv;

    for (int i = 0; i < 4 && wants_read(c); i++) {
        int rc = sk__buf_prepare(&c->in, p);
        if (rc < 0)
            return rc;
        size_t space = sk__buf_wspace(&c->in, p);
        char *at = sk__buf_wptr(&c->in);
        ssize_t n = c->eng->tp->recv(tp_ctx(c), c->fd, at, space);
        if (n > 0) {
            if (__builtin_expect(s->cfg.data_events, 0))
                data_event(c, SK_DATA_IN, at, (size_t)n, c->bytes_in);
            sk__buf_commit(&c->in, (size_t)n);
            /* Atomic stores: sk_server_conns() may read them from another
             * thread; only this one writes. */
            __atomic_store_n(&c->bytes_in, c->bytes_in + (uint64_t)n, __ATOMIC_RELAXED);
            SK__ENGINE_COUNT(c->eng, in, (uint64_t)n);
            rc = process(c);
            if (rc < 0)
                return rc;
            if ((size_t)n < space)
                break;
            continue;
        }
        if (sk__buf_used(&c->in) == 0)
            sk__buf_release(&c->in, p);
        if (n == 0) {
            on_peer_eof(c);
            break;
        }
        if (n == -EAGAIN)
            break;
        return (int)n;
    }
    return 0;
}

/* Send queued output. Returns bytes sent (>= 0) or -errno. */
__attribute__((always_inline)) static inline long flush(sk_conn *c)
{
    sk__bufpool *p = &c->eng->pool;
    sk_server *s = c->eng->srv;
    long total = 0;

    while (sk__buf_used(&c->out) > 0) {
        const char *at = sk__buf_rptr(&c->out);
        ssize_t n = c->eng->tp->send(tp_ctx(c), c->fd, at, sk__buf_used(&c->out));
        if (n > 0) {
            if (__builtin_expect(s->cfg.data_events, 0))
                data_event(c, SK_DATA_OUT, at, (size_t)n, c->bytes_out);
            sk__buf_consume(&c->out, p, (size_t)n);
            __atomic_store_n(&c->bytes_out, c->bytes_out + (uint64_t)n, __ATOMIC_RELAXED);
            total += n;
            continue;
        }
        if (n == -EAGAIN)
            break;
        return n < 0 ? n : -EIO;
    }
    if (total > 0)
        SK__ENGINE_COUNT(c->eng, out, (uint64_t)total);
    return total;
}

/* After the peer's FIN is expected: discard what still arrives so our close
 * sends FIN, not RST (an RST could destroy data the peer has not read). */
static int linger_read(sk_conn *c)
{
    char sink[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = c->eng->tp->recv(tp_ctx(c), c->fd, sink, sizeof sink);
        if (n > 0)
            continue;
        if (n == -EAGAIN)
            return SK__KEEP;
        return SK__DONE;
    }
    return SK__KEEP;
}

int sk__conn_drive(sk_conn *c, int events)
{
    const sk_service *svc = c->eng->srv->cfg.service;
    sk__bufpool *p = &c->eng->pool;

    if (events)
        c->active_ms = c->eng->now;
    if (c->flags & SK__C_LINGER)
        return (events & SK_READ) ? linger_read(c) : SK__KEEP;
    if ((events & SK_WRITE) && flush(c) < 0)
        return SK__DONE;
    if ((events & SK_READ) && read_some(c) < 0)
        return SK__DONE;

    /* Flush, and while that frees room, let stalled input and on_writable
     * fill it again. Bounded so one busy client cannot starve the others. */
    for (int round = 0; round < 8; round++) {
        if (flush(c) < 0)
            return SK__DONE;
        if (c->flags & (SK__C_CLOSING | SK__C_DEFERRED))
            break;
        size_t in_before = sk__buf_used(&c->in), out_before = sk__buf_used(&c->out);
        if (in_before > 0 && process(c) < 0)
            return SK__DONE;
        if (svc->on_writable && sk__buf_used(&c->in) == 0 && !(c->flags & (SK__C_CLOSING | SK__C_DEFERRED)) &&
            sk__buf_room(&c->out, p) >= p->blocksize / 2) {
            if (svc->on_writable(c) < 0)
                return SK__DONE;
        }
        if (sk__buf_used(&c->in) == in_before && sk__buf_used(&c->out) == out_before)
            break;
        if (sk__buf_used(&c->out) == out_before && sk__buf_used(&c->out) > 0)
            break;
    }

    /* close_first: the first answer is out, the server ends it. */
    if (__builtin_expect(c->eng->srv->cfg.close_first, 0) && c->bytes_in > 0 && sk__buf_used(&c->in) == 0 &&
        sk__buf_used(&c->out) == 0 && !(c->flags & SK__C_DEFERRED))
        c->flags |= SK__C_CLOSING;

    /* A deferred job still owes output: closing waits for it (bounded by
     * the drain and idle deadlines of the model). */
    if ((c->flags & SK__C_CLOSING) && sk__buf_used(&c->out) == 0 && !(c->flags & SK__C_DEFERRED)) {
        sk__buf_release(&c->in, p);
        if (c->flags & SK__C_EOF) {
            c->eng->tp->shutdown(tp_ctx(c), c->fd);
            return SK__DONE;
        }
        if (c->eng->tp->shutdown(tp_ctx(c), c->fd) < 0)
            return SK__DONE;
        c->flags |= SK__C_LINGER;
        c->due_ms = c->eng->now + SK__LINGER_MS;
        return linger_read(c);
    }
    return SK__KEEP;
}

void sk__conn_cut(sk_conn *c)
{
    sk_server *s = c->eng->srv;
    char conn[2 * SK_ADDRSTRLEN + 8], msg[sizeof conn + 96];

    if (c->flags & SK__C_LINGER)
        return;
    /* What was read is the client's data: answer it as far as the output
     * buffer takes it, and send what the socket takes without waiting. */
    if (!(c->flags & (SK__C_CLOSING | SK__C_DEFERRED)) && sk__buf_used(&c->in) > 0)
        (void)process(c);
    (void)flush(c);
    size_t unsent = sk__buf_used(&c->out), unread = sk__buf_used(&c->in);
    c->eng->tp->shutdown(tp_ctx(c), c->fd);
    /* Closing with input queued in the kernel sends RST, which can destroy
     * the output the client has not read yet: take what is queued now. */
    (void)linger_read(c);
    SK__STAT_ADD(s, cut, 1);
    sk_tuple t;
    sk__conn_tuple(c, &t);
    sk_tuple_format(&t, conn, sizeof conn);
    snprintf(msg, sizeof msg, "drain timeout: cut %s (%zu bytes unsent, %zu read and not answered)", conn, unsent,
             unread);
    sk__server_event(s, SK_EV_WARN, &t, 0, msg);
}

int sk__conn_drain(sk_conn *c)
{
    const sk_service *svc = c->eng->srv->cfg.service;

    if (svc->on_drain == NULL || (c->flags & (SK__C_CLOSING | SK__C_LINGER)))
        return SK__KEEP;
    if (svc->on_drain(c) < 0)
        return SK__DONE;
    return sk__conn_drive(c, 0);
}
