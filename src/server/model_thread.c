/* The thread model: one acceptor thread, one thread per connection running
 * the blocking single-connection loop (sk__serve_one). Bounded by
 * max_conns; on stop every thread drains its connection and is waited for. */
#include "acceptor.h"
#include "models.h"
#include "base/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* Plenty for the state machine and a service callback; the default 8 MiB
 * would reserve gigabytes of address space for a few hundred clients. */
#define CONN_STACK (256 * 1024)

typedef struct thread_model {
    sk_server *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int live; /* connection threads not finished yet */
} thread_model;

typedef struct conn_arg {
    thread_model *tm;
    int fd;
    sk_addr held; /* counted against max_conns_per_ip */
} conn_arg;

static void *conn_thread(void *p)
{
    conn_arg a = *(conn_arg *)p;
    free(p);
    sk__serve_one(a.tm->srv, a.fd, &a.held);
    pthread_mutex_lock(&a.tm->mu);
    a.tm->live--;
    pthread_cond_signal(&a.tm->cv);
    pthread_mutex_unlock(&a.tm->mu);
    return NULL;
}

/* Start a detached thread for fd. Signals stay with the acceptor so a
 * SIGTERM never interrupts a connection's poll. */
static void spawn(thread_model *tm, pthread_attr_t *attr, int fd, const sk_addr *held)
{
    sk_server *s = tm->srv;
    conn_arg *a = malloc(sizeof *a);
    pthread_t t;
    int rc;

    if (a == NULL) {
        sk__server_reject(s, fd, held, -ENOMEM, "out of memory for a new connection");
        return;
    }
    a->tm = tm;
    a->fd = fd;
    a->held = *held;
    pthread_mutex_lock(&tm->mu);
    tm->live++;
    pthread_mutex_unlock(&tm->mu);
    rc = sk__thread_start(&t, attr, conn_thread, a);
    if (rc < 0) {
        free(a);
        pthread_mutex_lock(&tm->mu);
        tm->live--;
        pthread_mutex_unlock(&tm->mu);
        sk__server_reject(s, fd, held, rc, "cannot start a connection thread");
    }
}

static bool all_taken(void *arg)
{
    thread_model *tm = arg;
    pthread_mutex_lock(&tm->mu);
    bool full = tm->live >= tm->srv->cfg.max_conns;
    pthread_mutex_unlock(&tm->mu);
    return full;
}

int sk__model_thread(sk_server *s)
{
    thread_model tm = {.srv = s};
    pthread_attr_t attr;
    sk__acceptor acc;

    pthread_mutex_init(&tm.mu, NULL);
    pthread_cond_init(&tm.cv, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, CONN_STACK);
    sk__acceptor_init(&acc, s, -1);
    if (sk__server_queues(s)) {
        acc.full = all_taken;
        acc.full_arg = &tm;
    }

    for (;;) {
        int fd = sk__acceptor_next(&acc, -1);
        if (fd == -ECANCELED)
            break;
        if (fd < 0)
            continue;
        pthread_mutex_lock(&tm.mu);
        bool full = s->cfg.max_conns > 0 && tm.live >= s->cfg.max_conns;
        pthread_mutex_unlock(&tm.mu);
        if (full)
            sk__server_reject_full(s, fd, &acc.held);
        else
            spawn(&tm, &attr, fd, &acc.held);
    }

    /* Stop: each thread saw the stop eventfd and drains its connection
     * within drain_timeout_ms; wait for the last one. */
    sk__acceptor_destroy(&acc);
    pthread_mutex_lock(&tm.mu);
    while (tm.live > 0)
        pthread_cond_wait(&tm.cv, &tm.mu);
    pthread_mutex_unlock(&tm.mu);
    pthread_attr_destroy(&attr);
    pthread_cond_destroy(&tm.cv);
    pthread_mutex_destroy(&tm.mu);
    return 0;
}
