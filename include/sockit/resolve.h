/* Finding a server by name: the order to try DNS SRV targets in (RFC 2782)
 * and a seedable random source for it. */
#ifndef SOCKIT_RESOLVE_H
#define SOCKIT_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif

#endif
