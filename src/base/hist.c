/* Log-linear histogram: bucket i covers one value below 2^(S+1) and a
 * 2^shift-wide slice of a power of two above it, so recording is a count
 * of leading zeros, a shift and an add. */
#include <sockit/hist.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S SK_HIST_SUB_BITS

uint32_t sk_hist_bucket(uint64_t v)
{
    if (v < (UINT64_C(1) << (S + 1)))
        return (uint32_t)v;
    /* msb >= S+1: keep the top S+1 bits of v as the mantissa. */
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - S;
    return (uint32_t)(((uint64_t)shift << S) + (v >> shift));
}

uint64_t sk_hist_bucket_low(uint32_t i)
{
    if (i < (1u << (S + 1)))
        return i;
    unsigned shift = (i >> S) - 1;
    uint64_t mant = i - ((uint64_t)shift << S);
    return mant << shift;
}

uint64_t sk_hist_bucket_high(uint32_t i)
{
    if (i < (1u << (S + 1)))
        return i;
    unsigned shift = (i >> S) - 1;
    return sk_hist_bucket_low(i) + (UINT64_C(1) << shift) - 1;
}

int sk_hist_init(sk_hist *h, uint64_t highest)
{
    memset(h, 0, sizeof *h);
    if (highest < 1 || highest > (UINT64_C(1) << 62))
        return -EINVAL;
    h->nbuckets = sk_hist_bucket(highest) + 1;
    h->counts = calloc(h->nbuckets, sizeof *h->counts);
    if (h->counts == NULL)
        return -ENOMEM;
    h->highest = highest;
    h->min = UINT64_MAX;
    return 0;
}

void sk_hist_free(sk_hist *h)
{
    free(h->counts);
    h->counts = NULL;
    h->nbuckets = 0;
}

void sk_hist_reset(sk_hist *h)
{
    memset(h->counts, 0, h->nbuckets * sizeof *h->counts);
    h->total = h->sum = h->max = h->clamped = 0;
    h->min = UINT64_MAX;
}

void sk_hist_record(sk_hist *h, uint64_t v)
{
    uint64_t b = v;
    if (v > h->highest) {
        b = h->highest;
        h->clamped++;
    }
    h->counts[sk_hist_bucket(b)]++;
    h->total++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

int sk_hist_merge(sk_hist *dst, const sk_hist *src)
{
    if (dst->nbuckets != src->nbuckets || dst->highest != src->highest)
        return -EINVAL;
    for (uint32_t i = 0; i < src->nbuckets; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    dst->clamped += src->clamped;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

uint64_t sk_hist_percentile(const sk_hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (!(p > 0))
        return h->min;
    if (p >= 100)
        return h->max;
    /* The rank of the value wanted, 1-based; ceil so p50 of {1,2} is 1. */
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < h->nbuckets; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = sk_hist_bucket_high(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double sk_hist_mean(const sk_hist *h) { return h->total ? (double)h->sum / (double)h->total : 0.0; }
