/* Worker pool for sk_conn_defer() under the hybrid model: a mutex-guarded
 * FIFO feeding N threads; each finished job goes back to the completion
 * queue of the loop thread that owns its connection. */
#include "pool.h"
#include "base/thread.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

int sk__jobq_init(sk__jobq *q)
{
    q->head = q->tail = NULL;
    q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->efd < 0)
        return -errno;
    pthread_mutex_init(&q->mu, NULL);
    return 0;
}

void sk__jobq_destroy(sk__jobq *q)
{
    sk__job *j = sk__jobq_take(q);
    while (j) {
        sk__job *next = j->next;
        j->c = NULL;
        sk__job_complete(j);
        j = next;
    }
    close(q->efd);
    pthread_mutex_destroy(&q->mu);
}

void sk__jobq_push(sk__jobq *q, sk__job *j)
{
    bool was_empty;

    j->next = NULL;
    pthread_mutex_lock(&q->mu);
    was_empty = q->head == NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    pthread_mutex_unlock(&q->mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t rc = write(q->efd, &one, sizeof one);
        (void)rc;
    }
}

sk__job *sk__jobq_take(sk__jobq *q)
{
    uint64_t v;
    sk__job *j;

    /* Read before taking: a push after the take writes the eventfd again,
     * so no completion is left without a wakeup. */
    ssize_t rc = read(q->efd, &v, sizeof v);
    (void)rc;
    pthread_mutex_lock(&q->mu);
    j = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return j;
}

static void *pool_thread(void *arg)
{
    sk__pool *p = arg;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        sk__job *j = p->head;
        if (j == NULL) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->work(j->arg);
        sk__jobq_push(j->home, j);
    }
}

int sk__pool_start(sk__pool *p, int n)
{
    int rc = 0;

    p->head = p->tail = NULL;
    p->stop = false;
    p->n = 0;
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (p->threads == NULL)
        return -ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < n; i++) {
        rc = sk__thread_start(&p->threads[i], NULL, pool_thread, p);
        if (rc < 0)
            break;
        p->n++;
    }
    if (rc < 0)
        sk__pool_stop(p);
    return rc;
}

void sk__pool_submit(sk__pool *p, sk__job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void sk__pool_stop(sk__pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
    p->n = 0;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}
