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
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct hybrid_thread {
    sk__loop_worker w;
    sk__fdq inbox;
    sk__jobq jobq;
    int lfds[SK__MAX_LISTENERS]; /* thread 0 uses the server's own */
    bool own_lfds, started;
    pthread_t tid;
    int rc;
} hybrid_thread;

/* Experiment (SOCKIT_HYBRID_ACCEPT=handoff): thread 0 accepts on the one
 * listener and deals fds round-robin to every thread's inbox. */
static hybrid_thread *g_threads;
static int g_nthreads;
static unsigned g_next;

static void deal(sk__loop_worker *w, int fd)
{
    (void)w;
    hybrid_thread *t = &g_threads[g_next++ % (unsigned)g_nthreads];
    pthread_mutex_lock(&t->inbox.mu);
    if (t->inbox.n == t->inbox.cap) {
        int cap = t->inbox.cap ? t->inbox.cap * 2 : 64;
        int *n = realloc(t->inbox.fds, (size_t)cap * sizeof *n);
        if (n == NULL) {
            pthread_mutex_unlock(&t->inbox.mu);
            close(fd);
            return;
        }
        t->inbox.fds = n;
        t->inbox.cap = cap;
    }
    t->inbox.fds[t->inbox.n++] = fd;
    pthread_mutex_unlock(&t->inbox.mu);
    uint64_t one = 1;
    ssize_t rc = write(t->inbox.efd, &one, sizeof one);
    (void)rc;
}

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
    const char *mode = getenv("SOCKIT_HYBRID_ACCEPT");
    bool handoff = mode && strcmp(mode, "handoff") == 0;
    g_threads = t;
    g_nthreads = n;
    for (int i = 0; i < n && rc == 0; i++) {
        if (handoff) {
            pthread_mutex_init(&t[i].inbox.mu, NULL);
            t[i].inbox.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            t[i].w.inbox = &t[i].inbox;
            if (i == 0)
                t[i].w.handoff = deal;
        }
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
        } else if (!handoff) {
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
