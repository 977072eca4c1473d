/* Connecting a TCP client the way RFC 8305 (Happy Eyeballs v2) says: a
 * host's AAAA and A lookups run in parallel, an A answer that comes first
 * waits up to the resolution delay (50 ms) for the AAAA one, the addresses
 * are tried interleaved by family, a new attempt starts every connection
 * attempt delay (250 ms) or as soon as the one before fails, earlier
 * attempts keep running, and the first to connect wins; the others are
 * closed. A dead first address so costs one attempt delay, not a timeout.
 *
 * And the targets a client may be given instead of one host:port: the
 * servers a DNS SRV name lists (RFC 2782), in the order to try them. */
#ifndef SOCKIT_DIAL_H
#define SOCKIT_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>
#include <sockit/resolve.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sk_dial_kind {
    SK_DIAL_ANSWER, /* one family's lookup ended: family, n addresses or err */
    SK_DIAL_WAIT,   /* A answered first: waiting up to the resolution delay for AAAA */
    SK_DIAL_START,  /* an attempt to addr began */
    SK_DIAL_FAIL,   /* it failed (err: -errno, -ETIMEDOUT) */
    SK_DIAL_WON,    /* it connected: the race is over */
} sk_dial_kind;

typedef struct sk_dial_event {
    int64_t at_us; /* since the dial began */
    sk_dial_kind kind;
    int family;          /* ANSWER, WAIT: AF_INET or AF_INET6 */
    size_t n;            /* ANSWER: addresses found */
    double lookup_ms;    /* ANSWER: how long the lookup took */
    int err;             /* ANSWER, FAIL: why, or 0 */
    const sk_addr *addr; /* START, FAIL, WON */
} sk_dial_event;

typedef struct sk_dial_opts {
    int family;              /* AF_UNSPEC (0), or AF_INET / AF_INET6 only */
    int attempt_delay_ms;    /* 0: 250 ms, RFC 8305's Connection Attempt Delay */
    int resolution_delay_ms; /* 0: 50 ms, RFC 8305's Resolution Delay */
    int timeout_ms;          /* bounds each attempt and the lookups; 0: none (the kernel's) */
    /* DNS servers for names ("ip[:port],..."), NULL for resolv.conf's. */
    const char *dns_servers;
    /* Called at each step, on the caller's thread (for a -v timeline). */
    void (*on_event)(void *userdata, const sk_dial_event *ev);
    void *userdata;
    /* Trace each attempt's socket calls (socket, connect, SO_ERROR, close),
     * or NULL. */
    struct sk_tracer *tracer;
} sk_dial_opts;

/* Connect to host (a name or a numeric address; "" is loopback) and port.
 * opts may be NULL. The returned fd is blocking; *peer (if not NULL) gets
 * the winner's address, or on failure the last address that failed.
 * Returns the fd or a negative code: the lookups' (SK_ENONAME, SK_ENOADDR,
 * SK_EDNSTIMEOUT, ...) when no address was found, otherwise the last
 * attempt's -errno (-ETIMEDOUT for a timeout). */
int sk_dial(const char *host, uint16_t port, const sk_dial_opts *opts, sk_addr *peer);

/* The same race over addresses already known (at most 64 are used). */
int sk_dial_addrs(const sk_addr *addrs, size_t n, const sk_dial_opts *opts, sk_addr *peer);

/* Every address of host, both families' lookups in parallel (or the one
 * opts->family names), AAAA first then A, into out[0..max). Returns how
 * many were written (>= 1) or the lookups' code, as sk_dial. */
int sk_lookup(const char *host, uint16_t port, const sk_dial_opts *opts, sk_addr *out, size_t max);

/* One server a client may use: a host and port with, for SRV targets, the
 * record's priority (lower first) and weight (the share of the load within
 * a priority); 0 and 1 for a plain host:port. */
typedef struct sk_endpoint {
    char host[SK_HOST_MAX];
    uint16_t port;
    uint16_t priority, weight;
} sk_endpoint;

/* Ask DNS for name's SRV records (a "_service._proto.domain" name) and
 * write the servers to out[0..max) in the order RFC 2782 says to try them
 * (sk_srv_order: lowest priority first, weighted random within one).
 * dns_servers as in sk_dial_opts; timeout_ms 0 is 5000. *ttl_s (if not
 * NULL) gets the smallest TTL. Returns how many were written (>= 1), or
 * SK_ESRVNONE (the only target is "."), SK_ENXDOMAIN, SK_ENODATA and the
 * other DNS codes of sk_dns_result. */
int sk_srv_lookup(const char *name, const char *dns_servers, int64_t timeout_ms, sk_endpoint *out, size_t max,
                  uint32_t *ttl_s);

/* Whether text names an SRV service: "srv:NAME", or a bare name whose
 * first two labels start with '_' ("_echo._tcp.example.test"). On true,
 * *name points at the DNS name. */
bool sk_srv_name(const char *text, const char **name);

#ifdef __cplusplus
}
#endif

#endif
