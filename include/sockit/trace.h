/* Socket system calls made visible: each wrapper makes the call, then
 * reports it (microsecond time, fd, the arguments that matter, the result
 * or errno, and for a TCP socket the connection's state right after, from
 * TCP_INFO) to the tracer's callback. A NULL tracer makes the plain call,
 * so code written against these costs one branch when tracing is off.
 *
 * After close() a connection lives on in the kernel (FIN_WAIT1,
 * FIN_WAIT2, TIME_WAIT, LAST_ACK ...): sk_trace_follow() reports those
 * states from sock_diag until the 4-tuple is gone. */
#ifndef SOCKIT_TRACE_H
#define SOCKIT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sockit/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_trace_event {
    int64_t at_us;    /* since the tracer's t0: when the call was entered, or for a call
                         that waits (poll, accept, recv) when it returned */
    const char *side; /* the tracer's label ("client", "server") */
    const char *call; /* "socket", "bind", "listen", "accept", "connect", "poll", "getsockopt",
                         "send", "recv", "sendto", "recvfrom", "recvmmsg", "sendmmsg", "shutdown",
                         "setsockopt", "close", or "state" (sk_trace_follow) */
    int fd;
    char args[160];      /* what the call was given: "127.0.0.1:7", "backlog 128", "64 bytes", "SHUT_WR" */
    long result;         /* the return value, or -1 */
    int err;             /* errno when it failed (or SO_ERROR's value for getsockopt), else 0 */
    int state;           /* TCP state after the call (sk_tcp_state_name), -1 when not TCP or gone */
    sk_addr local, peer; /* the 4-tuple, once the socket has one (len 0 before) */
    int from;            /* a "state" event from the tracepoint: the state before (0: from sock_diag) */
} sk_trace_event;

typedef struct sk_tracer {
    void (*fn)(void *userdata, const sk_trace_event *ev);
    void *userdata;
    const char *side;
    int64_t t0_us; /* sk_now_us() at the start; 0: set at the first event */
    /* Set when the sock:inet_sock_set_state tracepoint reports the state
     * changes (sk_trace_states_start, or a caller's own reader):
     * sk_trace_follow then reports only TIME_WAIT and gone, which the
     * tracepoint does not see. */
    bool kernel_states;
    void *states; /* sk_trace_states_start's reader */
} sk_tracer;

/* The wrappers: the same arguments and results as the system calls (-1
 * and errno on failure), t may be NULL. */
int sk_tr_socket(sk_tracer *t, int domain, int type, int protocol);
int sk_tr_bind(sk_tracer *t, int fd, const sk_addr *a);
int sk_tr_listen(sk_tracer *t, int fd, int backlog);
int sk_tr_accept(sk_tracer *t, int fd, sk_addr *peer, int flags);
int sk_tr_connect(sk_tracer *t, int fd, const sk_addr *a);
/* poll() on one fd for events; the result's revents go to *revents. */
int sk_tr_poll(sk_tracer *t, int fd, short events, int timeout_ms, short *revents);
/* getsockopt(SO_ERROR): the pending error into *err. */
int sk_tr_so_error(sk_tracer *t, int fd, int *err);
ssize_t sk_tr_send(sk_tracer *t, int fd, const void *buf, size_t len, int flags);
ssize_t sk_tr_recv(sk_tracer *t, int fd, void *buf, size_t len, int flags);
ssize_t sk_tr_sendto(sk_tracer *t, int fd, const void *buf, size_t len, const sk_addr *to);
ssize_t sk_tr_recvfrom(sk_tracer *t, int fd, void *buf, size_t len, int flags, sk_addr *from);
/* recvmmsg() / sendmmsg(): one event per datagram ("2/3: 5 bytes,
 * 127.0.0.1:40000", the result its size, peer its sender or
 * destination), or one for the call when it fails. */
struct mmsghdr;
int sk_tr_recvmmsg(sk_tracer *t, int fd, struct mmsghdr *v, unsigned n, int flags);
int sk_tr_sendmmsg(sk_tracer *t, int fd, struct mmsghdr *v, unsigned n, int flags);
int sk_tr_shutdown(sk_tracer *t, int fd, int how);
/* setsockopt(SO_LINGER) with l_onoff 1 and l_linger seconds. */
int sk_tr_linger(sk_tracer *t, int fd, int seconds);
int sk_tr_close(sk_tracer *t, int fd);
/* The same, naming the connection by a 4-tuple taken earlier (once the
 * kernel moved it to a TIME_WAIT socket of its own, the fd has no peer). */
int sk_tr_close_known(sk_tracer *t, int fd, const sk_addr *local, const sk_addr *peer);

/* Report an event of the caller's own ("note") with text. */
void sk_tr_note(sk_tracer *t, int fd, const char *text);

/* After close: report each state the kernel still holds the connection
 * local <-> peer in (as "state" events, from sock_diag, looked at every
 * 2 ms), until it is gone, reaches TIME_WAIT (which lasts a minute) or
 * wait_ms passes (only TIME_WAIT and gone when t->kernel_states). Returns
 * the last state seen, or -1 when gone. */
int sk_trace_follow(sk_tracer *t, const sk_addr *local, const sk_addr *peer, int wait_ms);

/* Report every state change of the TCP sockets whose own port is port
 * (a server's listeners and connections) to t as "state" events with
 * .from set, from the tracepoint (tcpstate.h) in a thread of its own;
 * t->fn is then called from that thread too. Port 0: none yet (nothing
 * is reported until sk_trace_states_port names it).
 * Returns 0, or -errno (sk_tcpstate_why() says why) and nothing changes:
 * sk_trace_follow's sock_diag polling is what there is. Call it before
 * starting threads (it may mount a private tracefs). */
int sk_trace_states_start(sk_tracer *t, uint16_t port);
/* Filter on another port from now on, and when peer_port is not 0 on
 * that peer port too: the tracepoint sees every network namespace, and
 * a socket of another one may have the same port (the full 4-tuple
 * makes that unlikely). */
void sk_trace_states_port(sk_tracer *t, uint16_t port, uint16_t peer_port);
/* Stop the reader (after the last changes it has, up to 50 ms); t keeps
 * kernel_states (a follower may still be reading it). */
void sk_trace_states_stop(sk_tracer *t);

/* One event as a line of text: "+1234 us client connect(3, 127.0.0.1:7) = -1
 * EINPROGRESS  [SYN_SENT]", into buf. Returns buf. */
char *sk_trace_format(const sk_trace_event *ev, char *buf, size_t len);

/* The same as one JSON object (no newline). Returns buf. */
char *sk_trace_json(const sk_trace_event *ev, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
