/* The hybrid model's worker pool and the completion queues that bring a
 * deferred job back to its connection's loop thread. */
#ifndef SOCKIT_POOL_H
#define SOCKIT_POOL_H

#include <pthread.h>
#include <stdbool.h>

#include "conn_int.h"

/* Jobs whose work is done, waiting for their loop thread. The eventfd turns
 * readable when the queue goes from empty to non-empty. */
typedef struct sk__jobq {
    pthread_mutex_t mu;
    sk__job *head, *tail;
    int efd;
} sk__jobq;

int sk__jobq_init(sk__jobq *q);
/* Completes what is left with c == NULL (call after the loop is gone). */
void sk__jobq_destroy(sk__jobq *q);
void sk__jobq_push(sk__jobq *q, sk__job *j);
/* Take every queued job (a list through next), clearing the eventfd. */
sk__job *sk__jobq_take(sk__jobq *q);

typedef struct sk__pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sk__job *head, *tail;
    bool stop;
    pthread_t *threads;
    int n;
} sk__pool;

/* Start n threads. Returns 0 or -errno. */
int sk__pool_start(sk__pool *p, int n);
/* Queue j: a pool thread runs j->work, then pushes j to its j->home. */
void sk__pool_submit(sk__pool *p, sk__job *j);
/* Run what is queued to the end, then join the threads. */
void sk__pool_stop(sk__pool *p);

#endif
