/* RFC 2782 target order for SRV records (priority, then weighted random
 * selection by running sum), and the seedable generator it draws from. */
#include <sockit/error.h>
#include <sockit/resolve.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void sk_rng_seed(sk_rng *r, uint64_t seed) { r->state = seed; }

/* splitmix64: every seed, zero included, starts a full-period sequence. */
static uint64_t rng_next(sk_rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint32_t sk_rng_below(void *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Reject the low (2^32 mod bound) values so every residue is equally
     * likely: a plain modulo would favour small ones. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t x = (uint32_t)(rng_next(rng) >> 32);
        if (x >= threshold)
            return x % bound;
    }
}

static sk_rng *thread_rng(void)
{
    static _Thread_local sk_rng rng;
    static _Thread_local bool seeded;
    if (!seeded) {
        uint64_t seed;
        if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&seed;
        }
        sk_rng_seed(&rng, seed);
        seeded = true;
    }
    return &rng;
}

static bool is_root(const char *t) { return t == NULL || t[0] == '\0' || strcmp(t, ".") == 0; }

/* Move order[j] to position i (i <= j), keeping the others' order: the
 * running sum walks the unpicked records in a fixed order. */
static void move_to(size_t *order, size_t i, size_t j)
{
    if (j <= i)
        return;
    size_t v = order[j];
    memmove(&order[i + 1], &order[i], (j - i) * sizeof *order);
    order[i] = v;
}

/* Stable insertion sort of order[0..k) by less(). Sets are small (a DNS
 * answer), and stability keeps the records' own order where keys tie. */
static void sort_by(size_t *order, size_t k, const sk_srv *recs, bool (*less)(const sk_srv *, const sk_srv *))
{
    for (size_t i = 1; i < k; i++) {
        size_t j = i;
        while (j > 0 && less(&recs[order[i]], &recs[order[j - 1]]))
            j--;
        if (j != i)
            move_to(order, j, i);
    }
}

static bool zero_first(const sk_srv *a, const sk_srv *b)
{
    return a->priority < b->priority || (a->priority == b->priority && a->weight == 0 && b->weight != 0);
}
static bool zero_last(const sk_srv *a, const sk_srv *b)
{
    return a->priority < b->priority || (a->priority == b->priority && a->weight != 0 && b->weight == 0);
}

static uint32_t draw(sk_rand_fn rnd, void *state, uint32_t bound)
{
    uint32_t r = rnd(state, bound);
    return r < bound ? r : r % bound;
}

/* Weighted picks over order[i..end): each round draws in [0, sum) (or
 * [0, sum] with inclusive, RFC 2782's rule) and takes the first record
 * whose running sum passes the number. The last one needs no draw. */
static void pick_weighted(const sk_srv *recs, size_t *order, size_t i, size_t end, bool inclusive, sk_rand_fn rnd,
                          void *state)
{
    for (; i + 1 < end; i++) {
        uint32_t sum = 0;
        for (size_t j = i; j < end; j++)
            sum += recs[order[j]].weight;
        uint32_t r = draw(rnd, state, inclusive ? sum + 1 : sum);
        uint32_t run = 0;
        size_t j = i;
        for (; j < end; j++) {
            run += recs[order[j]].weight;
            if (inclusive ? run >= r : run > r)
                break;
        }
        move_to(order, i, j < end ? j : end - 1);
    }
}

/* A uniform shuffle of order[i..end), for records with nothing to weigh. */
static void pick_uniform(size_t *order, size_t i, size_t end, sk_rand_fn rnd, void *state)
{
    for (; i + 1 < end; i++)
        move_to(order, i, i + draw(rnd, state, (uint32_t)(end - i)));
}

int sk_srv_order(const sk_srv *recs, size_t n, int flags, sk_rand_fn rnd, void *state, size_t *order)
{
    bool rfc = (flags & SK_SRV_RFC_ZERO) != 0;
    size_t k = 0;

    if (recs == NULL || order == NULL)
        return -EINVAL;
    if (n == 0)
        return SK_ENODATA;
    if (n > 65535)
        return -E2BIG;
    if (rnd == NULL) {
        rnd = sk_rng_below;
        state = thread_rng();
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_root(recs[i].target))
            order[k++] = i;
    }
    if (k == 0)
        return SK_ESRVNONE;
    sort_by(order, k, recs, rfc ? zero_first : zero_last);
    for (size_t g = 0; g < k;) {
        uint16_t prio = recs[order[g]].priority;
        size_t end = g, pos = g;
        while (end < k && recs[order[end]].priority == prio)
            end++;
        if (rfc) {
            pick_weighted(recs, order, g, end, true, rnd, state);
        } else {
            while (pos < end && recs[order[pos]].weight != 0)
                pos++;
            pick_weighted(recs, order, g, pos, false, rnd, state);
            pick_uniform(order, pos, end, rnd, state);
        }
        g = end;
    }
    return (int)k;
}
