/* The concurrency models: each one drives the shared connection state
 * machine (conn_int.h) its own way. */
#ifndef SOCKIT_MODELS_H
#define SOCKIT_MODELS_H

#include "conn_int.h"

/* One event loop thread over every listener. */
int sk__model_loop(sk_server *s);

/* The models other than loop (fork, prefork, thread, hybrid). */
int sk__model_run(sk_server *s);

#endif
