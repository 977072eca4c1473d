/* What the kernel knows of a TCP connection (TCP_INFO): its state in the
 * TCP state machine, the round-trip estimate, retransmissions and the
 * congestion window. For the connection table, `serve -v` and the tools
 * that watch a connection's life. */
#ifndef SOCKIT_TCPINFO_H
#define SOCKIT_TCPINFO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_tcp_info {
    int state; /* TCP_ESTABLISHED, ... (sk_tcp_state_name); -1 when unknown */
    uint32_t rtt_us, rttvar_us;
    uint32_t retransmits;    /* segments retransmitted over the connection's life */
    uint32_t snd_cwnd;       /* congestion window, in segments */
    uint32_t unacked;        /* segments sent and not yet acknowledged */
    uint32_t lost;           /* segments presumed lost now */
    uint64_t bytes_acked;    /* sent and acknowledged (0 on kernels before 4.1) */
    uint64_t bytes_received; /* received (0 on kernels before 4.1) */
    uint32_t min_rtt_us;     /* the smallest RTT seen (0 when unknown) */
} sk_tcp_info;

/* The same from a struct tcp_info of len bytes, as getsockopt(TCP_INFO) or
 * sock_diag's INET_DIAG_INFO gives it (shorter on older kernels: fields
 * past len are 0). ti points at a struct tcp_info. */
void sk_tcp_info_from(const void *ti, size_t len, sk_tcp_info *out);

/* Ask the kernel about the TCP socket fd. Returns 0, or -errno with out
 * set to state -1 and every count 0 (not a TCP socket, closed fd). */
int sk_tcp_info_get(int fd, sk_tcp_info *out);

/* "ESTABLISHED", "CLOSE_WAIT", ... for a TCP_INFO state, "?" if unknown. */
const char *sk_tcp_state_name(int state);

#ifdef __cplusplus
}
#endif

#endif
