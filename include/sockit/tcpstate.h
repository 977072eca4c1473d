/* Every TCP state change of the sockets on one port, as the kernel makes
 * it: the sock:inet_sock_set_state tracepoint read through a private
 * tracefs instance of this process's own (instances/sockit-PID: its own
 * buffer, clock and filter; nothing of the system's tracing is touched),
 * removed again on close. Needs root (tracefs is root's); without it,
 * callers fall back to sock_diag (sockdiag.h), which sees a state only
 * while it lasts. The tracepoint does not see TIME_WAIT: the kernel
 * moves the connection to a TIME_WAIT socket of its own and sets the
 * original to CLOSE. */
#ifndef SOCKIT_TCPSTATE_H
#define SOCKIT_TCPSTATE_H

#include <stdint.h>

#include <sockit/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_tcpstate sk_tcpstate;

typedef struct sk_state_change {
    int64_t at_us;       /* CLOCK_MONOTONIC (sk_now_us): the instance's clock is "mono" */
    sk_addr local, peer; /* the socket's own address and its peer's */
    int from, to;        /* TCP states (sk_tcp_state_name) */
} sk_state_change;

/* Open the tracepoint for sockets with local or peer port `port` (0:
 * every TCP socket). When no tracefs is mounted and this process may, it
 * mounts one of its own in a private mount namespace (call it before
 * starting threads). Returns 0 with *out, or -errno: -EACCES / -EPERM
 * without root, -ENOENT without tracefs or the tracepoint. */
int sk_tcpstate_open(uint16_t port, sk_tcpstate **out);

/* Filter on another port from now on (0: every TCP socket). */
int sk_tcpstate_port(sk_tcpstate *ts, uint16_t port);

/* The next change, waiting up to timeout_ms. Returns 1 with *c, 0 on
 * timeout, -errno. */
int sk_tcpstate_next(sk_tcpstate *ts, int timeout_ms, sk_state_change *c);

/* Disable the event and remove the instance. */
void sk_tcpstate_close(sk_tcpstate *ts);

/* Why sk_tcpstate_open() failed, as a phrase for the user ("needs root:
 * tracefs is root's"). */
const char *sk_tcpstate_why(int err);

#ifdef __cplusplus
}
#endif

#endif
