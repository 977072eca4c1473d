/* Unit tests for the log-linear latency histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include <sockit/hist.h>

#define HIGH (UINT64_C(3600) * 1000000) /* one hour in microseconds */

static void test_buckets_exact_low(void **state)
{
    (void)state;
    /* Every value below 256 has a bucket of its own. */
    for (uint64_t v = 0; v < 256; v++) {
        uint32_t b = sk_hist_bucket(v);
        assert_int_equal(b, v);
        assert_int_equal(sk_hist_bucket_low(b), v);
        assert_int_equal(sk_hist_bucket_high(b), v);
    }
    /* 256 and 257 share the first 2-wide bucket. */
    assert_int_equal(sk_hist_bucket(256), sk_hist_bucket(257));
    assert_int_not_equal(sk_hist_bucket(257), sk_hist_bucket(258));
    assert_int_equal(sk_hist_bucket_low(sk_hist_bucket(257)), 256);
    assert_int_equal(sk_hist_bucket_high(sk_hist_bucket(256)), 257);
}

static void test_buckets_contiguous(void **state)
{
    (void)state;
    /* Buckets tile the number line: each starts one past the previous end,
     * and every value maps into the bucket whose bounds contain it. */
    uint32_t last = sk_hist_bucket(HIGH);
    for (uint32_t i = 1; i <= last; i++)
        assert_int_equal(sk_hist_bucket_low(i), sk_hist_bucket_high(i - 1) + 1);
    for (uint32_t i = 0; i <= last; i++) {
        assert_int_equal(sk_hist_bucket(sk_hist_bucket_low(i)), i);
        assert_int_equal(sk_hist_bucket(sk_hist_bucket_high(i)), i);
    }
    /* Powers of two start a bucket. */
    for (unsigned e = 8; e < 40; e++)
        assert_int_equal(sk_hist_bucket_low(sk_hist_bucket(UINT64_C(1) << e)), UINT64_C(1) << e);
}

static void test_relative_error(void **state)
{
    (void)state;
    /* A bucket is never wider than 1/128 of its lowest value. */
    for (uint64_t v = 1; v < HIGH; v = v * 3 / 2 + 7) {
        uint32_t b = sk_hist_bucket(v);
        uint64_t lo = sk_hist_bucket_low(b), hi = sk_hist_bucket_high(b);
        assert_true(lo <= v && v <= hi);
        assert_true((double)(hi - lo) <= (double)lo / 128.0);
    }
}

static void test_percentiles_exact(void **state)
{
    sk_hist h;
    (void)state;
    assert_int_equal(sk_hist_init(&h, HIGH), 0);
    for (uint64_t v = 1; v <= 100; v++)
        sk_hist_record(&h, v);
    assert_int_equal(h.total, 100);
    assert_int_equal(sk_hist_percentile(&h, 50), 50);
    assert_int_equal(sk_hist_percentile(&h, 90), 90);
    assert_int_equal(sk_hist_percentile(&h, 99), 99);
    assert_int_equal(sk_hist_percentile(&h, 99.9), 100);
    assert_int_equal(sk_hist_percentile(&h, 100), 100);
    assert_int_equal(sk_hist_percentile(&h, 0), 1);
    assert_true(sk_hist_mean(&h) > 50.49 && sk_hist_mean(&h) < 50.51);
    sk_hist_free(&h);
}

static void test_percentile_bucket_bound(void **state)
{
    sk_hist h;
    (void)state;
    assert_int_equal(sk_hist_init(&h, HIGH), 0);
    /* 1000 lies in [1000, 1003]: the reported value is the bucket's
     * highest, capped at the exact maximum. */
    sk_hist_record(&h, 1000);
    assert_int_equal(sk_hist_percentile(&h, 50), 1000);
    sk_hist_record(&h, 5000);
    assert_int_equal(sk_hist_bucket_low(sk_hist_bucket(1000)), 1000);
    assert_int_equal(sk_hist_bucket_high(sk_hist_bucket(1000)), 1003);
    assert_int_equal(sk_hist_percentile(&h, 50), 1003);
    assert_int_equal(sk_hist_percentile(&h, 99), 5000);
    assert_int_equal(h.max, 5000);
    assert_int_equal(h.min, 1000);
    sk_hist_free(&h);
}

static void test_relative_error_percentiles(void **state)
{
    sk_hist h;
    (void)state;
    assert_int_equal(sk_hist_init(&h, HIGH), 0);
    /* Pseudo-random values over six decades: each percentile is within
     * 1/128 above the true order statistic. */
    enum { N = 20000 };
    static uint64_t vals[N];
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        vals[i] = 1 + x % 1000000;
        sk_hist_record(&h, vals[i]);
    }
    /* No sort needed: the answer must reach the rank, and the bucket
     * below it must not. */
    double ps[] = {50, 90, 99, 99.9};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        uint64_t got = sk_hist_percentile(&h, ps[k]);
        uint64_t below = 0, rank = (uint64_t)((ps[k] / 100.0) * N + 0.999999);
        for (int i = 0; i < N; i++)
            below += vals[i] <= got;
        assert_true(below >= rank);
        /* One bucket lower would not reach the rank. */
        uint64_t lo = sk_hist_bucket_low(sk_hist_bucket(got));
        uint64_t under = 0;
        for (int i = 0; i < N; i++)
            under += vals[i] < lo;
        assert_true(under < rank);
        assert_true((double)(got - lo) <= (double)lo / 128.0);
    }
    sk_hist_free(&h);
}

static void test_merge(void **state)
{
    sk_hist a, b, c;
    (void)state;
    assert_int_equal(sk_hist_init(&a, HIGH), 0);
    assert_int_equal(sk_hist_init(&b, HIGH), 0);
    assert_int_equal(sk_hist_init(&c, 1000), 0);
    for (uint64_t v = 1; v <= 50; v++)
        sk_hist_record(&a, v);
    for (uint64_t v = 51; v <= 100; v++)
        sk_hist_record(&b, v);
    assert_int_equal(sk_hist_merge(&a, &b), 0);
    assert_int_equal(a.total, 100);
    assert_int_equal(a.min, 1);
    assert_int_equal(a.max, 100);
    assert_int_equal(sk_hist_percentile(&a, 50), 50);
    assert_int_equal(sk_hist_percentile(&a, 99), 99);
    assert_int_equal(sk_hist_merge(&a, &c), -EINVAL);
    /* Merging an empty histogram changes nothing. */
    sk_hist_reset(&b);
    assert_int_equal(sk_hist_merge(&a, &b), 0);
    assert_int_equal(a.total, 100);
    assert_int_equal(a.min, 1);
    sk_hist_free(&a);
    sk_hist_free(&b);
    sk_hist_free(&c);
}

static void test_empty_and_clamp(void **state)
{
    sk_hist h;
    (void)state;
    assert_int_equal(sk_hist_init(&h, 0), -EINVAL);
    assert_int_equal(sk_hist_init(&h, 1000), 0);
    assert_int_equal(sk_hist_percentile(&h, 50), 0);
    assert_int_equal(sk_hist_percentile(&h, 100), 0);
    assert_true(sk_hist_mean(&h) == 0.0);
    assert_int_equal(h.total, 0);
    /* Above highest: counted in the top bucket, max stays exact. */
    sk_hist_record(&h, 5000000);
    assert_int_equal(h.clamped, 1);
    assert_int_equal(h.max, 5000000);
    assert_int_equal(sk_hist_percentile(&h, 100), 5000000);
    assert_true(sk_hist_percentile(&h, 50) >= 1000);
    sk_hist_record(&h, 0);
    assert_int_equal(h.min, 0);
    assert_int_equal(sk_hist_percentile(&h, 50), 0);
    sk_hist_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_exact_low),
        cmocka_unit_test(test_buckets_contiguous),
        cmocka_unit_test(test_relative_error),
        cmocka_unit_test(test_percentiles_exact),
        cmocka_unit_test(test_percentile_bucket_bound),
        cmocka_unit_test(test_relative_error_percentiles),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_empty_and_clamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
