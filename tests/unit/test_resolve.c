/* Unit tests for the RFC 2782 SRV order and its random source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <sockit/error.h>
#include <sockit/resolve.h>

/* A scripted random source: returns the numbers given, in turn, and
 * records each bound it was asked for. */
typedef struct script {
    const uint32_t *vals;
    size_t n, next;
    uint32_t bounds[32];
} script;

static uint32_t scripted(void *state, uint32_t bound)
{
    script *s = state;
    assert_true(s->next < s->n);
    s->bounds[s->next] = bound;
    uint32_t v = s->vals[s->next++];
    assert_true(v < bound);
    return v;
}

static void test_priority_first(void **state)
{
    (void)state;
    /* Lower priority always first, whatever the weights. */
    sk_srv r[] = {{20, 100, 1, "c"}, {10, 1, 2, "a"}, {30, 5, 3, "d"}, {15, 0, 4, "b"}};
    size_t order[4];
    uint32_t vals[] = {0, 0, 0, 0};
    script s = {vals, 4, 0, {0}};
    assert_int_equal(sk_srv_order(r, 4, 0, scripted, &s, order), 4);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 0);
    assert_int_equal(order[3], 2);
}

static void test_running_sum(void **state)
{
    (void)state;
    /* Weights 60, 30, 10: running sums 60, 90, 100. A draw r in [0, 100)
     * takes the first record whose running sum is greater than r. */
    sk_srv r[] = {{10, 60, 7, "a"}, {10, 30, 7, "b"}, {10, 10, 7, "c"}};
    size_t order[3];
    struct {
        uint32_t first_draw;
        size_t want;
    } cases[] = {{0, 0}, {59, 0}, {60, 1}, {89, 1}, {90, 2}, {99, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t vals[] = {cases[i].first_draw, 0};
        script s = {vals, 2, 0, {0}};
        assert_int_equal(sk_srv_order(r, 3, 0, scripted, &s, order), 3);
        assert_int_equal(order[0], cases[i].want);
        assert_int_equal(s.bounds[0], 100);
        /* The second draw is over what is left. */
        assert_int_equal(s.bounds[1], 100 - r[cases[i].want].weight);
    }
    /* Draws 95 (c), then 65 of a+b = 90 (b): a is last. */
    uint32_t vals[] = {95, 65};
    script s = {vals, 2, 0, {0}};
    assert_int_equal(sk_srv_order(r, 3, 0, scripted, &s, order), 3);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 0);
    assert_int_equal(s.next, 2); /* the last record needs no draw */
}

static void test_zero_weight_last(void **state)
{
    (void)state;
    /* Default: zero-weight records come after every positive one of their
     * priority, shuffled among themselves, before the next priority. */
    sk_srv r[] = {{10, 0, 1, "z1"}, {10, 5, 2, "p1"}, {10, 0, 3, "z2"}, {20, 1, 4, "next"}, {10, 5, 5, "p2"}};
    size_t order[5];
    uint32_t vals[] = {7, 1}; /* p2 (7 of 10), then z2 (index 1 of z1, z2) */
    script s = {vals, 2, 0, {0}};
    assert_int_equal(sk_srv_order(r, 5, 0, scripted, &s, order), 5);
    assert_int_equal(order[0], 4);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    assert_int_equal(order[3], 0);
    assert_int_equal(order[4], 3);
    assert_int_equal(s.bounds[0], 10);
    assert_int_equal(s.bounds[1], 2);
}

static void test_zero_weight_rfc(void **state)
{
    (void)state;
    /* SK_SRV_RFC_ZERO: zero weights first in the running sum, the draw in
     * [0, sum] inclusive, the first running sum >= the draw wins: a draw
     * of 0 picks the zero-weight record. */
    sk_srv r[] = {{10, 3, 1, "a"}, {10, 0, 2, "z"}, {10, 1, 3, "b"}};
    size_t order[3];
    uint32_t vals[] = {0, 4};
    script s = {vals, 2, 0, {0}};
    assert_int_equal(sk_srv_order(r, 3, SK_SRV_RFC_ZERO, scripted, &s, order), 3);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2); /* draw 4 of [0, 4]: a's sum is 3, b's 4 */
    assert_int_equal(order[2], 0);
    assert_int_equal(s.bounds[0], 5);
    assert_int_equal(s.bounds[1], 5);
    assert_int_equal(s.next, 2);
    /* A draw of 1..3 of [0, 4] picks a (running sums z 0, a 3, b 4). */
    uint32_t vals2[] = {3, 0};
    script s2 = {vals2, 2, 0, {0}};
    assert_int_equal(sk_srv_order(r, 3, SK_SRV_RFC_ZERO, scripted, &s2, order), 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
}

static void test_root_target(void **state)
{
    (void)state;
    size_t order[3];
    sk_srv none[] = {{0, 0, 0, "."}};
    assert_int_equal(sk_srv_order(none, 1, 0, NULL, NULL, order), SK_ESRVNONE);
    sk_srv empty[] = {{0, 0, 0, ""}, {1, 1, 0, NULL}};
    assert_int_equal(sk_srv_order(empty, 2, 0, NULL, NULL, order), SK_ESRVNONE);
    assert_string_equal(sk_strerror(SK_ESRVNONE), "no such service (the SRV target is \".\")");
    /* "." beside real targets is left out. */
    sk_srv mixed[] = {{0, 0, 0, "."}, {10, 1, 7, "a.example.test."}};
    assert_int_equal(sk_srv_order(mixed, 2, 0, NULL, NULL, order), 1);
    assert_int_equal(order[0], 1);
}

static void test_errors(void **state)
{
    (void)state;
    size_t order[1];
    sk_srv r[] = {{1, 1, 1, "a"}};
    assert_int_equal(sk_srv_order(r, 0, 0, NULL, NULL, order), SK_ENODATA);
    assert_int_equal(sk_srv_order(NULL, 1, 0, NULL, NULL, order), -EINVAL);
    assert_int_equal(sk_srv_order(r, 1, 0, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(sk_srv_order(r, 65536, 0, NULL, NULL, order), -E2BIG);
}

static void test_rng(void **state)
{
    (void)state;
    sk_rng a, b;
    sk_rng_seed(&a, 42);
    sk_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sk_rng_below(&a, 1000), sk_rng_below(&b, 1000));
    assert_int_equal(sk_rng_below(&a, 0), 0);
    assert_int_equal(sk_rng_below(&a, 1), 0);
    /* Every value of a small range comes up, and none past it. */
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint32_t v = sk_rng_below(&a, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 850 && seen[i] < 1150);
}

static void test_seeded_shares(void **state)
{
    (void)state;
    /* With a real generator the first choices follow the weights (a loose
     * bound here; the integration test does the chi-square). Zero weights
     * are never first while a positive weight shares their priority. */
    sk_srv r[] = {{10, 60, 1, "a"}, {10, 30, 2, "b"}, {10, 10, 3, "c"}, {10, 0, 4, "z"}, {5, 0, 5, "low."}};
    sk_srv *top = r; /* priority 10 only, without the priority-5 record */
    size_t order[5];
    int first[5] = {0};
    sk_rng rng;
    sk_rng_seed(&rng, 7);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(sk_srv_order(top, 4, 0, sk_rng_below, &rng, order), 4);
        first[order[0]]++;
        assert_int_equal(order[3], 3);
    }
    assert_true(first[0] > 5700 && first[0] < 6300);
    assert_true(first[1] > 2700 && first[1] < 3300);
    assert_true(first[2] > 800 && first[2] < 1200);
    assert_int_equal(first[3], 0);
    /* A lower priority with weight 0 still comes first. */
    assert_int_equal(sk_srv_order(r, 5, 0, sk_rng_below, &rng, order), 5);
    assert_int_equal(order[0], 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_first),
        cmocka_unit_test(test_running_sum),
        cmocka_unit_test(test_zero_weight_last),
        cmocka_unit_test(test_zero_weight_rfc),
        cmocka_unit_test(test_root_target),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_seeded_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
