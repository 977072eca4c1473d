/* The hybrid model: N event-loop threads, each with its own SO_REUSEPORT
 * listeners so the kernel spreads new connections across them, plus a
 * worker pool that runs the blocking work services hand to sk_conn_defer().
 * A finished job comes back to the loop thread that owns its connection
 * through that thread's completion queue (an eventfd the loop watches). */
#include "model_loop.h"
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct hybrid_thread {
    sk__loop_worker w;
    sk__jobq jobq;
    int lfds[SK__MAX_LISTENERS]; /* thread 0 uses the server's own */
    bool own_lfds, started;
    pthread_t tid;
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

/* Extra listeners on the very addresses the server bound (port 0 already
 * resolved), so the kernel balances accepts between the threads. */
static int open_listeners(sk_server *s, hybrid_thread *t)
{
    int flags = SK_LISTEN_NONBLOCK | SK_LISTEN_REUSEPORT | (s->nlisteners > 1 ? SK_LISTEN_V6ONLY : 0);
    for (int i = 0; i < s->nlisteners; i++) {
        int fd = sk_tcp_listen(&s->laddrs[i], s->cfg.backlog, flags);
        if (fd < 0)
            return fd;
        t->lfds[i] = fd;
        t->w.nlfds++;
    }
    return 0;
}

static void close_listeners(hybrid_thread *t)
{
    if (!t->own_lfds)
        return;
    for (int i = 0; i < t->w.nlfds; i++)
        close(t->lfds[i]);
    t->w.nlfds = 0;
}

int sk__model_hybrid(sk_server *s)
{
    int n = s->cfg.workers, rc = 0, started = 0;
    int npool = s->cfg.pool > 0 ? s->cfg.pool : n;
    hybrid_thread *t = calloc((size_t)n, sizeof *t);
    sk__pool pool;
    sigset_t all, old;

    if (t == NULL)
        return -ENOMEM;
    rc = sk__pool_start(&pool, npool);
    if (rc < 0) {
        free(t);
        return rc;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        t[i].w.srv = s;
        t[i].w.pool = &pool;
        t[i].w.jobq = &t[i].jobq;
        t[i].w.lfds = t[i].lfds;
        rc = sk__jobq_init(&t[i].jobq);
        if (rc < 0)
            break;
        t[i].started = true; /* jobq needs destroying from here on */
        if (i == 0) {
            t[i].w.lfds = s->lfds;
            t[i].w.nlfds = s->nlisteners;
        } else {
            t[i].own_lfds = true;
            rc = open_listeners(s, &t[i]);
        }
    }
    /* Signals are for the main thread, which only waits. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < n && rc == 0; i++) {
        int e = pthread_create(&t[i].tid, NULL, loop_thread, &t[i]);
        if (e != 0) {
            rc = -e;
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0 && started > 0)
        sk_server_stop(s); /* let the started threads drain and end */
    for (int i = 0; i < started; i++) {
        pthread_join(t[i].tid, NULL);
        if (t[i].rc < 0 && rc == 0)
            rc = t[i].rc;
    }
    /* Every loop is gone: finish the jobs still in the pool, then hand
     * their completions to done() with the connection gone. */
    sk__pool_stop(&pool);
    for (int i = 0; i < n; i++) {
        close_listeners(&t[i]);
        if (t[i].started)
            sk__jobq_destroy(&t[i].jobq);
    }
    free(t);
    return rc;
}
