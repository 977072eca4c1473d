/* ICMP sockets: a raw one with privilege, the unprivileged ICMP datagram
 * kind without, and the socket error queue through which the kernel hands
 * ICMP errors to unprivileged senders. The packets are in icmp.h. */
#ifndef SOCKIT_ICMP_SOCK_H
#define SOCKIT_ICMP_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sk_icmp_sock {
    SK_ICMP_ANY = 0,
    SK_ICMP_RAW = 1,   /* SOCK_RAW: root or CAP_NET_RAW; sees every ICMP packet */
    SK_ICMP_DGRAM = 2, /* SOCK_DGRAM + IPPROTO_ICMP(V6): unprivileged, kernel-filtered by id */
} sk_icmp_sock;

/* Open an ICMP socket of family: a raw one when allowed (want ANY or RAW),
 * otherwise the unprivileged datagram kind (want ANY or DGRAM). Sets *kind
 * to the one opened. The socket is close-on-exec and non-blocking.
 * Returns the fd, SK_ENOICMP when neither is permitted, or -errno. */
int sk_icmp_open(int family, sk_icmp_sock want, sk_icmp_sock *kind);

/* An ICMP error taken from a socket's error queue (IP_RECVERR /
 * IPV6_RECVERR), as the kernel reports it to unprivileged sockets. */
typedef struct sk_icmp_qerr {
    int err;   /* errno the kernel mapped it to (EHOSTUNREACH, ...) */
    bool icmp; /* it came from an ICMP packet (else a local error) */
    uint8_t type, code;
    struct sockaddr_storage offender; /* who sent the ICMP error */
    int ttl;                          /* hop limit of the error packet, -1 if unknown */
    struct sockaddr_storage orig_dst; /* where the failed packet was going (UDP: with its port) */
} sk_icmp_qerr;

/* Ask for ICMP errors on fd's error queue and for the TTL / hop limit of
 * what fd receives. family is the socket's. */
int sk_icmp_recverr(int fd, int family);

/* Read one queued error. buf gets the original packet's data as the kernel
 * returns it (UDP: the probe's payload; ICMP datagram sockets: the echo
 * header and payload). Returns its length, -EAGAIN when the queue is
 * empty, or -errno. */
long sk_icmp_read_error(int fd, void *buf, size_t cap, sk_icmp_qerr *out);

#ifdef __cplusplus
}
#endif

#endif
