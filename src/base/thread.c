/* Threads with every signal blocked (thread.h). */
#include "thread.h"

#include <signal.h>

int sk__thread_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;

    /* A new thread inherits the creator's mask: block everything for the
     * moment of the create, then give the creator its mask back. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(t, attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}
