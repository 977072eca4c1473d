/* Finding a server by name: unicast DNS on an sk_loop (c-ares does the
 * transport: resolv.conf, retries, TCP when an answer is truncated), the
 * order to try DNS SRV targets in (RFC 2782), and a seedable random source
 * for it. */
#ifndef SOCKIT_RESOLVE_H
#define SOCKIT_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>
#include <sockit/dns.h>
#include <sockit/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A small, fast, seedable generator (splitmix64). Not for secrets: it only
 * spreads clients over servers. Zero-initialised state is a valid seed. */
typedef struct sk_rng {
    uint64_t state;
} sk_rng;

/* Seed r; the same seed always gives the same sequence. */
void sk_rng_seed(sk_rng *r, uint64_t seed);

/* A uniform number in [0, bound), without modulo bias; 0 when bound is 0.
 * rng is an sk_rng *; the signature is sk_rand_fn's, so it can be passed
 * straight to sk_srv_order(). */
uint32_t sk_rng_below(void *rng, uint32_t bound);

/* A random source: returns a uniform number in [0, bound) (bound >= 1).
 * state is the caller's; tests pass a scripted one. */
typedef uint32_t (*sk_rand_fn)(void *state, uint32_t bound);

/* One SRV record, as far as choosing among them goes. target is the
 * caller's string, without or with the trailing dot; "." (or "") is the
 * root, which RFC 2782 uses to say the service is not offered here. */
typedef struct sk_srv {
    uint16_t priority, weight, port;
    const char *target;
} sk_srv;

/* Flags for sk_srv_order. */
enum {
    /* Weight 0 per RFC 2782's letter: zero-weight records go first in the
     * running sum and the random number is drawn from [0, sum] inclusive,
     * so each has a 1 in (sum + 1) chance of coming first. Without this
     * flag a zero-weight record comes only after every positive-weight
     * record of its priority (in random order among the zero-weight ones),
     * which is what "should have a very small chance of being selected"
     * asks, made exact. */
    SK_SRV_RFC_ZERO = 1 << 0,
};

/* The order to try the n records in, per RFC 2782: lowest priority first;
 * within one priority, repeatedly pick by weighted random selection over
 * the running sum of the weights still unpicked, so a record's chance of
 * coming first is its share of its priority's weight. Records whose target
 * is "." are left out. Writes the indexes (into recs) to order, which must
 * hold n entries, and returns how many it wrote (>= 1). rnd NULL uses a
 * per-thread sk_rng seeded from getrandom(); state is passed to rnd.
 * Errors: SK_ENODATA when n is 0, SK_ESRVNONE when every target is ".",
 * -E2BIG when n > 65535 (the weights' sum must fit 32 bits), -EINVAL for
 * NULL recs or order. Never allocates. */
int sk_srv_order(const sk_srv *recs, size_t n, int flags, sk_rand_fn rnd, void *state, size_t *order);

/* A DNS client on one event loop: its sockets are watched by the loop and
 * its retries run on a loop timer, so queries cost no thread and any
 * number run at once. Use it from the loop's thread only. */
typedef struct sk_resolver sk_resolver;

typedef struct sk_resolver_opts {
    /* "ip[:port],..." ("127.0.0.1:5399", "[::1]:53"), or NULL for the
     * servers of /etc/resolv.conf. */
    const char *servers;
    /* How long one server gets to answer, over both tries (the second
     * waits twice as long as the first); 0 means 5000. */
    int64_t timeout_ms;
} sk_resolver_opts;

/* What one query found. */
typedef struct sk_dns_result {
    const char *name; /* as asked */
    int type;         /* SK_DNS_A, ... as asked */
    /* 0 with at least one record of the asked type; otherwise SK_ENXDOMAIN,
     * SK_ENODATA (the name exists, without that type), SK_ESERVFAIL,
     * SK_EREFUSED, SK_EDNSTIMEOUT, SK_EDNSBAD, -ECONNREFUSED, -ECANCELED
     * (sk_resolver_free), -ENOMEM or SK_EDNS. */
    int status;
    /* The answer section, CNAMEs included, valid during the callback only
     * (TXT rdata points into the response). */
    const sk_dns_rr *rrs;
    size_t n;
    /* The server that answered ("127.0.0.1:5399"), or for a timeout the
     * first server asked. */
    char server[SK_ADDRSTRLEN];
    double time_ms; /* from sk_resolver_query() to the answer */
} sk_dns_result;

typedef void (*sk_dns_fn)(const sk_dns_result *res, void *data);

/* A resolver on loop l. Returns NULL and sets *err: -EINVAL for servers
 * that do not parse, -ENOMEM, or SK_EDNS when c-ares cannot start (no
 * resolv.conf servers is not an error: c-ares then asks 127.0.0.1). */
sk_resolver *sk_resolver_new(sk_loop *l, const sk_resolver_opts *o, int *err);

/* Cancel what is pending (each callback runs once with -ECANCELED) and
 * free r. Not from inside one of r's callbacks. */
void sk_resolver_free(sk_resolver *r);

/* Ask for name's records of type (an SK_DNS_* value; the name is absolute:
 * no search domains are appended). fn runs once, later, from the loop.
 * Returns 0, or -EINVAL (empty or overlong name, bad type), -ENOMEM, or a
 * status from c-ares that came at once (SK_EDNS: no servers); then fn is
 * never called. */
int sk_resolver_query(sk_resolver *r, const char *name, int type, sk_dns_fn fn, void *data);

/* What an address lookup found: one family's addresses for a host. */
typedef struct sk_addr_result {
    const char *name; /* as asked */
    int family;       /* AF_INET or AF_INET6, as asked */
    /* 0 with n >= 1; otherwise SK_ENONAME (no such host: the hosts file and
     * DNS with its search domains agree), SK_ENOADDR (the name exists
     * without an address of this family), SK_EDNSTIMEOUT, SK_ESERVFAIL,
     * SK_EREFUSED, -ECANCELED, -ENOMEM or SK_EDNS. */
    int status;
    /* The addresses in RFC 6724 order, each with the port asked for; valid
     * during the callback only. */
    const sk_addr *addrs;
    size_t n;
    double time_ms; /* from sk_resolver_addrinfo() to the answer */
} sk_addr_result;

typedef void (*sk_addr_fn)(const sk_addr_result *res, void *data);

/* Look up host's addresses of one family (AF_INET: A, AF_INET6: AAAA) the
 * way the system does: the hosts file first, then DNS with resolv.conf's
 * search domains and options; numeric addresses answer at once. port goes
 * into every address. fn runs once, from the loop, after this returns
 * (also for answers known at once). Asking for both families with two
 * calls runs the two lookups in parallel (RFC 8305 section 3). Returns 0,
 * -EINVAL (empty or overlong name, a family other than the two) or
 * -ENOMEM; then fn is never called. */
int sk_resolver_addrinfo(sk_resolver *r, const char *host, int family, uint16_t port, sk_addr_fn fn, void *data);

/* Queries started and not yet called back. */
int sk_resolver_pending(const sk_resolver *r);

/* The servers r asks, in order, as "ip:port,..." into buf. Returns the
 * length (snprintf's) or SK_EDNS. */
int sk_resolver_servers(const sk_resolver *r, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
