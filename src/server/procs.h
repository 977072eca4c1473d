/* Child processes for the fork and prefork models: spawn with the right
 * fds and signals, learn of exits through a SIGCHLD self-pipe, reap. */
#ifndef SOCKIT_PROCS_H
#define SOCKIT_PROCS_H

#include <signal.h>
#include <sys/types.h>

#include "conn_int.h"

typedef struct sk__procs {
    pid_t *pids; /* live children */
    int n, cap;
    int pipe[2]; /* SIGCHLD writes a byte to pipe[1] */
    struct sigaction old_chld;
} sk__procs;

/* Install the SIGCHLD handler (one sk__procs per process at a time). */
int sk__procs_init(sk__procs *p);

/* Restore SIGCHLD. Children must have been reaped. */
void sk__procs_destroy(sk__procs *p);

/* The fd that turns readable when a child may have exited. */
static inline int sk__procs_fd(const sk__procs *p) { return p->pipe[0]; }

/* Fork a child that runs body(s, arg) and exits. In the child the
 * listeners are closed unless keep_listeners, the stop eventfd is its own
 * and SIGTERM/SIGINT drain it. Returns the pid or -errno. */
pid_t sk__procs_spawn(sk__procs *p, sk_server *s, bool keep_listeners, int (*body)(sk_server *s, void *arg), void *arg);

/* Reap exited children without blocking; up to max of their pids go to
 * dead (may be NULL). Returns how many were reaped. */
int sk__procs_reap(sk__procs *p, pid_t *dead, int max);

/* On stop: SIGTERM every child, wait up to timeout_ms for them to exit,
 * SIGKILL the rest, and reap them all. */
void sk__procs_stop_all(sk__procs *p, int timeout_ms);

#endif
