/* The hybrid model: N event-loop threads, each with its own SO_REUSEPORT
 * listeners so the kernel spreads new connections across them, plus a
 * worker pool that runs the blocking work services hand to sk_conn_defer().
 * A finished job comes back to the loop thread that owns its connection
 * through that thread's completion queue (an eventfd the loop watches).
 * The threads share one fd table, so they share the spare fd that refuses
 * connections at the fd limit, and accept under one lock (core.c). */
#include "model_loop.h"
#include "pool.h"
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct hybrid_thread {
    sk__loop_worker w;
    sk__jobq jobq;
    int lfds[SK__MAX_LISTENERS]; /* thread 0 uses the server's own */
    bool own_lfds, started;
    int rc;
} hybrid_thread;

static void *loop_thread(void *arg)
{
    hybrid_thread *t = arg;
    t->rc = sk__loop_worker_run(&t->w);
    if (t->rc < 0) {
        /* One thread short, the server would quietly lose a share of its
         * connections: stop it all instead. */
        sk__server_event(t->w.srv, SK_EV_WARN, NULL, t->rc, "loop thread failed");
        sk_server_stop(t->w.srv);
    }
    return NULL;
}

static void close_listeners(hybrid_thread *t)
{
    if (t->own_lfds)
        sk__listen_close(t->lfds, t->w.nlfds);
    t->w.nlfds = 0;
}

int sk__model_hybrid(sk_server *s)
{
    int n = s->cfg.workers, rc = 0;
    int npool = s->cfg.pool > 0 ? s->cfg.pool : n;
    hybrid_thread *t = calloc((size_t)n, sizeof *t);
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    sk__pool pool;
    pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
    int reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (t == NULL || tids == NULL || (rc = sk__pool_start(&pool, npool)) < 0) {
        free(t);
        free(tids);
        if (reserve >= 0)
            close(reserve);
        return rc < 0 ? rc : -ENOMEM;
    }
    s->accept_lock = &accept_lock;
    for (int i = 0; i < n && rc == 0; i++) {
        t[i].w.srv = s;
        t[i].w.pool = &pool;
        t[i].w.jobq = &t[i].jobq;
        t[i].w.lfds = t[i].lfds;
        t[i].w.reserve = &reserve;
        rc = sk__jobq_init(&t[i].jobq);
        if (rc < 0)
            break;
        t[i].started = true; /* jobq needs destroying from here on */
        if (i == 0) {
            t[i].w.lfds = s->lfds;
            t[i].w.nlfds = s->nlisteners;
        } else if ((rc = sk__listen_copy(s, t[i].lfds)) == 0) {
            /* Extra listeners on the very addresses the server bound (port
             * 0 already resolved): the kernel balances accepts between them. */
            t[i].own_lfds = true;
            t[i].w.nlfds = s->nlisteners;
        }
    }
    /* The calling thread only waits: signals are for it. */
    if (rc == 0)
        rc = sk__server_threads(s, n, loop_thread, t, sizeof *t, tids);
    for (int i = 0; i < n && rc == 0; i++)
        rc = t[i].rc;
    /* Every loop is gone: finish the jobs still in the pool, then hand
     * their completions to done() with the connection gone. */
    sk__pool_stop(&pool);
    for (int i = 0; i < n; i++) {
        close_listeners(&t[i]);
        if (t[i].started)
            sk__jobq_destroy(&t[i].jobq);
    }
    s->accept_lock = NULL;
    if (reserve >= 0)
        close(reserve);
    free(t);
    free(tids);
    return rc;
}
