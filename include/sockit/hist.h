/* Latency histogram: log-linear buckets (exact below 256, then 128 buckets
 * per power of two, so every value is kept within 1/128 of itself), memory
 * allocated once, O(1) record, mergeable across threads. Values are plain
 * integers; sockit bench records microseconds. */
#ifndef SOCKIT_HIST_H
#define SOCKIT_HIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sub-bucket bits: values below 2^(SK_HIST_SUB_BITS+1) are exact, above
 * that a bucket is at most 1/2^SK_HIST_SUB_BITS of its lowest value wide. */
#define SK_HIST_SUB_BITS 7

typedef struct sk_hist {
    uint64_t *counts;
    uint32_t nbuckets;
    uint64_t highest;  /* largest value kept apart from the others */
    uint64_t total;    /* values recorded */
    uint64_t min, max; /* exact; min is UINT64_MAX while empty */
    uint64_t sum;      /* exact, for the mean */
    uint64_t clamped;  /* values above highest, recorded as highest */
} sk_hist;

/* Allocate buckets for values 0..highest (>= 1). The only allocation the
 * histogram ever makes. Returns 0 or -ENOMEM / -EINVAL. */
int sk_hist_init(sk_hist *h, uint64_t highest);
void sk_hist_free(sk_hist *h);

/* Forget every value, keep the memory. */
void sk_hist_reset(sk_hist *h);

/* Count one value; values above highest are counted as highest (and in
 * h->clamped), but min/max/sum stay exact. */
void sk_hist_record(sk_hist *h, uint64_t v);

/* Add src's values to dst. Both must have been made with the same highest.
 * Returns 0 or -EINVAL. */
int sk_hist_merge(sk_hist *dst, const sk_hist *src);

/* The value at percentile p (0..100): the smallest bucket bound such that
 * at least p% of the values are at or below it; the bound is the bucket's
 * highest value, capped at the exact max. 0 when empty. */
uint64_t sk_hist_percentile(const sk_hist *h, double p);

/* Exact mean, 0 when empty. */
double sk_hist_mean(const sk_hist *h);

/* Bucket arithmetic, exposed for tests: a value's bucket, and the lowest
 * and highest value that bucket holds. */
uint32_t sk_hist_bucket(uint64_t v);
uint64_t sk_hist_bucket_low(uint32_t i);
uint64_t sk_hist_bucket_high(uint32_t i);

#ifdef __cplusplus
}
#endif

#endif
