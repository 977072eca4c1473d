/* The loop model: one thread, non-blocking sockets, one event loop over
 * every listener and connection. The hybrid and prefork models run this
 * same worker in several threads or processes. */
#include "model_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/error.h>

/* The worker a connection belongs to: its engine is the worker's. */
static sk__loop_worker *worker_of(const sk_conn *c)
{
    return (sk__loop_worker *)(void *)((char *)c->eng - offsetof(sk__loop_worker, eng));
}

/* Prefork: tell the master how many connections this process holds, so it
 * can settle the shared counters if the process is killed. */
static void publish(sk__loop_worker *w)
{
    if (w->live)
        __atomic_store_n(w->live, (uint64_t)w->eng.nconns, __ATOMIC_RELAXED);
}

static void resume_queued(sk__loop_worker *w);

/* After each wakeup: the bytes its connections moved, into the server's
 * counters (sk__engine_publish). */
static void publish_counts(sk_loop *l, void *data)
{
    sk__loop_worker *w = data;
    (void)l;
    sk__engine_publish(&w->eng);
}

static void close_conn(sk_conn *c, void *arg)
{
    sk__loop_worker *w = arg;
    /* sk__conn_free closes the fd, the only copy of it. */
    sk_loop_forget(w->loop, c->fd);
    sk__conn_free(c);
    publish(w);
    if (w->eng.draining && w->eng.nconns == 0)
        sk_loop_stop(w->loop);
    else if (w->queued)
        resume_queued(w); /* a max-conns slot is free */
}

static void conn_cb(sk_loop *l, int fd, void *data, int events);

/* A connection is watched with its per-request lines as the loop's data
 * (the loop prefetches the next callback's first two lines at data). */
static void *hot_of(sk_conn *c) { return &c->eng; }
static sk_conn *conn_of(void *hot) { return (sk_conn *)(void *)((char *)hot - offsetof(sk_conn, eng)); }

/* The loop would not watch the connection: it cannot go on. Apart from
 * rearm, which runs after every event, so that rearm stays small (its
 * sk_tuple alone is 272 bytes of stack). */
__attribute__((noinline, cold)) static void rearm_failed(sk__loop_worker *w, sk_conn *c, int rc)
{
    sk_tuple t;
    sk__conn_tuple(c, &t);
    sk__server_event(w->srv, SK_EV_WARN, &t, rc, "cannot watch connection");
    close_conn(c, w);
}

/* Make the loop wait for what the connection needs next. */
static inline void rearm(sk__loop_worker *w, sk_conn *c)
{
    int want = sk__conn_interest(c);
    if (want != sk_loop_watched(w->loop, c->fd)) {
        int rc = sk_loop_watch(w->loop, c->fd, want, conn_cb, hot_of(c));
        if (rc < 0)
            rearm_failed(w, c, rc);
    }
}

static void rearm_conn(sk_conn *c) { rearm(worker_of(c), c); }

static void conn_cb(sk_loop *l, int fd, void *data, int events)
{
    sk_conn *c = conn_of(data);
    sk__loop_worker *w = worker_of(c);
    (void)fd;
    w->eng.now = sk_loop_now(l);
    if (sk__conn_drive(c, events) == SK__DONE)
        close_conn(c, w);
    else
        rearm(w, c);
}

/* A service's extra fd (sk_conn_watch) is ready. */
static void watch_cb(sk_loop *l, int fd, void *data, int events)
{
    sk_conn *c = data;
    sk__loop_worker *w = c->eng->watch_ctx;
    w->eng.now = sk_loop_now(l);
    if (sk__conn_watched(c, fd, events) == SK__DONE || sk__conn_drive(c, 0) == SK__DONE)
        close_conn(c, w);
    else
        rearm(w, c);
}

static int watch_fd(sk_conn *c, int fd, int events)
{
    sk__loop_worker *w = c->eng->watch_ctx;
    return sk_loop_watch(w->loop, fd, events, events ? watch_cb : NULL, events ? c : NULL);
}

static void accept_cb(sk_loop *l, int lfd, void *data, int events);

static void watch_listeners(sk__loop_worker *w, bool on)
{
    for (int i = 0; i < w->nlfds; i++)
        sk_loop_watch(w->loop, w->lfds[i], on ? SK_READ : 0, on ? accept_cb : NULL, on ? w : NULL);
}

static int64_t resume_accept(sk_loop *l, void *data)
{
    sk__loop_worker *w = data;
    (void)l;
    sk__server_refill(w->srv, w->reserve);
    w->accept_paused = false;
    if (!w->eng.draining && !w->queued)
        watch_listeners(w, true);
    return -1;
}

/* Out of fds (pause-accept, or the reserve could not be had back because
 * another thread or process holds them): the listeners stay readable, so
 * stop watching them for a moment rather than spin. The connections wait
 * in the backlog. */
static void pause_accept(sk__loop_worker *w)
{
    if (w->accept_paused)
        return;
    w->accept_paused = true;
    sk__server_fd_paused(w->srv);
    watch_listeners(w, false);
    sk_loop_timer(w->loop, SK__PAUSE_MS, resume_accept, w);
}

/* --on-max-conns queue: the listeners are not watched while every slot is
 * taken; a close here resumes at once, and a timer looks again for slots
 * freed by other threads or processes. */
static void resume_queued(sk__loop_worker *w)
{
    w->queued = false;
    if (!w->eng.draining && !w->accept_paused)
        watch_listeners(w, true);
}

static int64_t queue_check(sk_loop *l, void *data)
{
    sk__loop_worker *w = data;
    (void)l;
    if (!w->queued || w->eng.draining)
        return -1;
    sk_server *s = w->srv;
    if (__atomic_load_n(&s->stats->active, __ATOMIC_RELAXED) < (uint64_t)s->cfg.max_conns) {
        resume_queued(w);
        return -1;
    }
    return SK__QUEUE_RECHECK_MS;
}

static void queue_accept(sk__loop_worker *w)
{
    if (w->queued)
        return;
    w->queued = true;
    sk__server_queued(w->srv);
    watch_listeners(w, false);
    sk_loop_timer(w->loop, SK__QUEUE_RECHECK_MS, queue_check, w);
}

/* A listener bound to one address (not the wildcard) gives every
 * connection that address as its local end: no getsockname per accept. */
static const sk_addr *fixed_local(const sk__loop_worker *w, int lfd)
{
    for (int i = 0; i < w->nlfds; i++) {
        if (w->lfds[i] != lfd)
            continue;
        const sk_addr *a = &w->srv->laddrs[i];
        if (a->ss.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
            return in->sin_addr.s_addr != htonl(INADDR_ANY) ? a : NULL;
        }
        if (a->ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
            return !IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) && !IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) ? a : NULL;
        }
        return NULL;
    }
    return NULL;
}

static void accept_cb(sk_loop *l, int lfd, void *data, int events)
{
    sk__loop_worker *w = data;
    sk_server *s = w->srv;
    bool queues = sk__server_queues(s);
    const sk_addr *local = fixed_local(w, lfd);
    /* Read each new connection at once: under churn its request is
     * usually in by the time it is accepted (always with TCP_DEFER_ACCEPT
     * or data in the SYN), which saves a turn of the loop; when it is not,
     * one recv says EAGAIN. */
    (void)events;

    w->eng.now = sk_loop_now(l);
    /* A bounded batch: accepting forever under a connection storm would
     * starve the clients already connected. */
    for (int i = 0; i < 64 && !w->eng.draining && !w->queued; i++) {
        /* queue: take the slot first; without one, leave the connection
         * in the backlog and stop accepting until a slot frees. */
        if (queues && !sk__server_reserve(s)) {
            queue_accept(w);
            return;
        }
        sk_addr held;
        sk_tuple t;
        int fd = sk__server_accept_peer(s, lfd, w->reserve, &held, &t.peer);
        if (fd == -EMFILE || fd == -ENFILE)
            pause_accept(w);
        if (fd < 0) {
            if (queues)
                sk__server_unreserve(s);
            return;
        }
        if (!queues && !sk__server_reserve(s)) {
            sk__server_reject_full(s, fd, &held);
            continue;
        }
        if (local && t.peer.len > 0)
            t.local = *local;
        sk_conn *c = sk__conn_open_tuple(&w->eng, fd, true, &held, local && t.peer.len > 0 ? &t : NULL);
        publish(w);
        if (c == NULL)
            continue;
        if (sk__conn_drive(c, SK_READ) == SK__DONE)
            close_conn(c, w);
        else
            rearm(w, c);
    }
}

/* Deferred jobs are back from the pool: finish each on this thread. */
static void jobs_cb(sk_loop *l, int fd, void *data, int events)
{
    sk__loop_worker *w = data;
    (void)fd;
    (void)events;
    w->eng.now = sk_loop_now(l);
    sk__job *j = sk__jobq_take(w->jobq);
    while (j) {
        sk__job *next = j->next;
        sk_conn *c = sk__job_complete(j);
        if (c != NULL) {
            if (sk__conn_drive(c, 0) == SK__DONE)
                close_conn(c, w);
            else
                rearm(w, c);
        }
        j = next;
    }
}

static int defer_to_pool(sk__engine *e, sk__job *j)
{
    sk__loop_worker *w = e->defer_ctx;
    j->home = w->jobq;
    sk__pool_submit(w->pool, j);
    return 0;
}

/* Stop accepting; the connections go on being served until each ends or
 * the drain timeout cuts it (sweep_cb). Finishing them here would stop
 * reading, drop the input already read and discard what the client still
 * sends: data the kernel had acknowledged to the client. */
static void start_drain(sk__loop_worker *w)
{
    if (w->eng.draining)
        return;
    w->eng.draining = true;
    w->drain_until = w->eng.now + w->srv->cfg.drain_timeout_ms;
    for (int i = 0; i < w->nlfds; i++) {
        sk_loop_watch(w->loop, w->lfds[i], 0, NULL, NULL);
        /* On Linux this takes the socket out of LISTEN: queued and new
         * connection attempts are refused, not left hanging until exit. */
        if (w->owns_listeners)
            shutdown(w->lfds[i], SHUT_RDWR);
    }
    sk_loop_watch(w->loop, w->srv->stop_fd, 0, NULL, NULL);
    for (sk_conn *c = w->eng.head, *next; c != NULL; c = next) {
        next = c->next;
        if (sk__conn_drain(c) == SK__DONE)
            close_conn(c, w);
        else
            rearm(w, c);
    }
    if (w->eng.nconns == 0)
        sk_loop_stop(w->loop);
}

static void stop_cb(sk_loop *l, int fd, void *data, int events)
{
    sk__loop_worker *w = data;
    (void)fd;
    (void)events;
    w->eng.now = sk_loop_now(l);
    start_drain(w);
}

static int64_t sweep_cb(sk_loop *l, void *data)
{
    sk__loop_worker *w = data;
    w->eng.now = sk_loop_now(l);
    if (SK__STOPPING(w->srv) && !w->eng.draining)
        start_drain(w);
    sk__engine_sweep(&w->eng, close_conn, w);
    if (w->eng.draining && w->eng.now >= w->drain_until) {
        while (w->eng.head) {
            sk__conn_cut(w->eng.head);
            close_conn(w->eng.head, w);
        }
    }
    return w->eng.draining ? 100 : 500;
}

int sk__loop_worker_run(sk__loop_worker *w)
{
    sk_server *s = w->srv;
    int rc;

    rc = sk__engine_init(&w->eng, s, 256, true);
    if (rc < 0)
        return rc;
    w->eng.rearm = rearm_conn;
    w->eng.watch = watch_fd;
    w->eng.watch_ctx = w;
    w->loop = sk_loop_new(s->cfg.backend, 0, &rc);
    if (w->loop == NULL) {
        sk__engine_destroy(&w->eng);
        return rc;
    }
    w->eng.holds_counts = true;
    sk__engine_here = &w->eng;
    sk_loop_after_wakeup(w->loop, publish_counts, w);
    /* Kept open so fd exhaustion can still accept-and-close (core.c). */
    w->own_reserve = -1;
    if (w->reserve == NULL) {
        w->own_reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
        w->reserve = &w->own_reserve;
    }
    for (int i = 0; i < w->nlfds; i++) {
        rc = sk_loop_watch(w->loop, w->lfds[i], SK_READ, accept_cb, w);
        if (rc < 0)
            goto out;
    }
    rc = sk_loop_watch(w->loop, s->stop_fd, SK_READ, stop_cb, w);
    if (rc < 0)
        goto out;
    if (w->pool && w->jobq) {
        w->eng.defer = defer_to_pool;
        w->eng.defer_ctx = w;
        rc = sk_loop_watch(w->loop, w->jobq->efd, SK_READ, jobs_cb, w);
        if (rc < 0)
            goto out;
    }
    sk_loop_timer(w->loop, 500, sweep_cb, w);
    if (SK__STOPPING(s))
        start_drain(w);
    rc = w->eng.draining && w->eng.nconns == 0 ? 0 : sk_loop_run(w->loop);
out:
    while (w->eng.head)
        close_conn(w->eng.head, w);
    sk__engine_destroy(&w->eng);
    sk_loop_free(w->loop);
    w->loop = NULL;
    if (w->own_reserve >= 0)
        close(w->own_reserve);
    return rc;
}

int sk__model_loop(sk_server *s)
{
    sk__loop_worker w = {.srv = s, .lfds = s->lfds, .nlfds = s->nlisteners, .owns_listeners = true};
    return sk__loop_worker_run(&w);
}
