/* One event-loop worker: the loop model is one of these; hybrid runs one
 * per thread and prefork one per process. */
#ifndef SOCKIT_MODEL_LOOP_H
#define SOCKIT_MODEL_LOOP_H

#include <stdbool.h>

#include <sockit/loop.h>

#include "models.h"
#include "pool.h"

typedef struct sk__loop_worker {
    sk_server *srv;
    const int *lfds; /* listeners this worker accepts on */
    int nlfds;
    sk_loop *loop;
    sk__engine eng;
    /* The spare fd for refusing at the fd limit (sk__server_accept): the
     * worker's own, or one the model shares between its threads (hybrid,
     * with the server's accept_lock), which it opens and closes itself. */
    int *reserve;
    int own_reserve;
    int64_t drain_until;
    /* The listeners are this worker's alone: on stop it may shut them down
     * so new clients are refused at once instead of waiting in the backlog
     * for a server that will never accept them. */
    bool owns_listeners;
    bool accept_paused; /* at the fd limit: backing off (SK__PAUSE_MS) */
    bool queued;        /* --on-max-conns queue: every slot taken, not accepting */
    /* Hybrid: deferred jobs go to pool and come back through jobq. NULL
     * for the other models (deferred work runs inline). */
    sk__pool *pool;
    sk__jobq *jobq;
    uint64_t *live; /* prefork: shared count of this worker's connections */
} sk__loop_worker;

/* Serve until the server is stopped and this worker drained. */
int sk__loop_worker_run(sk__loop_worker *w);

#endif
