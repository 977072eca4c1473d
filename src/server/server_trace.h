/* serve --trace inside the server (transport_trace.c): the traced
 * transport, the traced listen and accept. Only chosen when the
 * configuration has a tracer: otherwise the server makes the plain calls. */
#ifndef SOCKIT_SERVER_TRACE_H
#define SOCKIT_SERVER_TRACE_H

#include <sockit/addr.h>
#include <sockit/trace.h>

#include "net/transport.h"

extern const sk__transport sk__transport_trace;

/* The server's tracer. Built with SOCKIT_TRACE=OFF (to measure what
 * tracing costs when it is off: bench/trace-cost.sh) it is always NULL,
 * so the compiler drops every traced branch of the server. */
#ifdef SOCKIT_NO_TRACE
#define SK__TRACER(s) ((void)(s), (sk_tracer *)NULL)
#else
#define SK__TRACER(s) ((s)->cfg.tracer)
#endif

/* The tracer the traced transport reports to (one per process). */
void sk__server_trace_set(sk_tracer *t);

/* sk_tcp_listen()'s socket, options, bind and listen, traced. */
int sk__traced_listen(sk_tracer *t, const sk_addr *a, int backlog, int flags);

/* sk_udp_socket(a, uflags) with its socket and bind traced. */
int sk__traced_udp_open(sk_tracer *t, const sk_addr *a, int uflags);

/* sk_accept(lfd, true, peer), traced: the fd or -errno. */
int sk__traced_accept(sk_tracer *t, int lfd, sk_addr *peer);

#endif
