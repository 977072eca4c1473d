/* Threads the library starts: every signal blocked in them, so a SIGTERM
 * or SIGINT always reaches the thread that waits for it (the caller's), and
 * never interrupts a loop, a pool worker or a connection in mid-call. */
#ifndef SOCKIT_BASE_THREAD_H
#define SOCKIT_BASE_THREAD_H

#include <pthread.h>

/* pthread_create with every signal blocked in the new thread (the caller's
 * mask is left as it was). attr may be NULL. Returns 0 or -errno. */
int sk__thread_start(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

#endif
