/* The concurrency models: each one drives the shared connection state
 * machine (conn_int.h) its own way. */
#ifndef SOCKIT_MODELS_H
#define SOCKIT_MODELS_H

#include "conn_int.h"

/* One event loop thread over every listener. */
int sk__model_loop(sk_server *s);

/* One thread per connection, each running sk__serve_one(). */
int sk__model_thread(sk_server *s);

/* One child process per connection, each running sk__serve_one(). */
int sk__model_fork(sk_server *s);

/* N worker processes, each an event loop over the shared listeners. */
int sk__model_prefork(sk_server *s);

/* N event-loop threads with their own SO_REUSEPORT listeners, plus a
 * worker pool for sk_conn_defer(). */
int sk__model_hybrid(sk_server *s);

/* Serve one accepted non-blocking fd to its end in a poll loop on this
 * thread (stops with the server, within drain_timeout_ms). Takes the fd
 * and the max_conns_per_ip count of its peer (held, or NULL). */
int sk__serve_one(sk_server *s, int fd, const sk_addr *held);

#endif
