/* The kernel's table of TCP sockets, any process's, through
 * NETLINK_SOCK_DIAG (what ss reads): each socket's 4-tuple, state, queues
 * and TCP_INFO, and which process holds it. For `sockit conns`. */
#ifndef SOCKIT_SOCKDIAG_H
#define SOCKIT_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>
#include <sockit/tcpinfo.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_diag_sock {
    sk_addr local, peer;
    int state; /* TCP state (sk_tcp_state_name) */
    /* For a listener: connections waiting in the accept queue and the
     * queue's limit (the backlog). Otherwise bytes not yet read by the
     * owner, and bytes not yet acknowledged by the peer. */
    uint32_t rqueue, wqueue;
    uint32_t uid;
    uint64_t inode; /* 0 for sockets no process holds (TIME_WAIT, orphans) */
    bool has_info;  /* info was reported (not for TIME_WAIT) */
    sk_tcp_info info;
    int pid;       /* a process that holds it, or -1 when unknown */
    char comm[32]; /* its name ("" when unknown) */
} sk_diag_sock;

/* Which sockets to report. */
typedef struct sk_diag_filter {
    int local_port;       /* only sockets with this local port; -1: any */
    const sk_addr *local; /* and, when set, this local address (its port ignored) */
    uint32_t states;      /* bit 1 << state for each state wanted; 0: all */
} sk_diag_filter;

/* Every TCP socket (IPv4 and IPv6) the filter lets through, into *out
 * (malloc'd, the caller frees; listeners first), the count into *n.
 * Returns 0, or -errno (-EPROTONOSUPPORT: no sock_diag in this kernel). */
int sk_diag_tcp(const sk_diag_filter *f, sk_diag_sock **out, size_t *n);

/* Fill pid and comm of each socket from /proc/PID/fd (only the processes
 * this one may look into: all of them as root). Returns how many were
 * found. */
size_t sk_diag_owners(sk_diag_sock *socks, size_t n);

/* A state by name, as ss writes it or as sk_tcp_state_name does,
 * case-insensitive, '-' or '_' ("established", "time-wait",
 * "CLOSE_WAIT", "syn-recv"). Returns the state or -1. */
int sk_tcp_state_of(const char *name);

/* The kernel's TCP counters of /proc/net/netstat's TcpExt group (the whole
 * network namespace's, since boot), by name: out[i] is names[i]'s value,
 * or -1 when this kernel has no such counter ("ListenOverflows",
 * "ListenDrops", "TCPFastOpenPassive"). Returns how many were found, or
 * -errno when the file cannot be read. */
int sk_tcpext_read(const char *const *names, size_t n, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif
