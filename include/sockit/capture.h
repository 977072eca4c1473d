/* The TCP segments of one port on the loopback interface, as they pass:
 * a packet socket (AF_PACKET) bound to lo with a classic BPF filter, so
 * only that port's segments are copied up. Needs CAP_NET_RAW. */
#ifndef SOCKIT_CAPTURE_H
#define SOCKIT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <sockit/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TCP header flags, as on the wire. */
enum { SK_TCP_FIN = 0x01, SK_TCP_SYN = 0x02, SK_TCP_RST = 0x04, SK_TCP_PSH = 0x08, SK_TCP_ACK = 0x10 };

typedef struct sk_segment {
    int64_t at_us; /* CLOCK_MONOTONIC (sk_now_us), from the kernel's timestamp */
    sk_addr src, dst;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t window;
    uint32_t len; /* payload bytes */
} sk_segment;

/* Open a capture of TCP port on lo (IPv4 and IPv6). Returns the fd, or
 * -EPERM / -EACCES without CAP_NET_RAW, -ENODEV without lo, -errno. */
int sk_capture_open(uint16_t port);

/* The next segment, waiting up to timeout_ms. Returns 1 with *seg, 0 on
 * timeout, -errno. Non-TCP or malformed frames are skipped. */
int sk_capture_next(int fd, int timeout_ms, sk_segment *seg);

/* "S", "SA", "A", "PA", "FA", "R", "RA": the flags as tcpdump letters
 * (tcpdump writes S. for SYN+ACK; sockit SA). Returns buf. */
char *sk_segment_flags(uint8_t flags, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
