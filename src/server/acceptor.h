/* A blocking acceptor for the models that accept on one thread and hand
 * each connection away (thread, fork). */
#ifndef SOCKIT_ACCEPTOR_H
#define SOCKIT_ACCEPTOR_H

#include "conn_int.h"

typedef struct sk__acceptor {
    sk_server *srv;
    int reserve_fd;       /* given up to accept-and-close on EMFILE */
    int extra_fd;         /* also wakes the wait (SIGCHLD pipe), or -1 */
    unsigned ready;       /* listeners that were readable at the last poll */
    int64_t paused_until; /* at the fd limit: back off */
    bool stopped;
    /* --on-max-conns queue: whether every slot is taken (the model counts
     * them its own way); while so the listeners are not polled and the
     * connections wait in the backlog. NULL: never. */
    bool (*full)(void *arg);
    void *full_arg;
    bool queued;
    sk_addr held; /* the connection returned last: its max_conns_per_ip peer */
} sk__acceptor;

void sk__acceptor_init(sk__acceptor *a, sk_server *s, int extra_fd);
void sk__acceptor_destroy(sk__acceptor *a);

/* Wait up to timeout_ms (< 0: forever) for a connection. Returns its fd
 * (non-blocking, close-on-exec; a->held names its counted peer), -EAGAIN
 * when woken by extra_fd or the timeout, or -ECANCELED once the server is
 * stopping. */
int sk__acceptor_next(sk__acceptor *a, int timeout_ms);

#endif
