/* Unit tests for the slabs of fixed-size objects (src/base/slab.h): sizes,
 * zeroed and distinct objects, reuse of freed ones, slabs given back once
 * empty, and churn in random order with every object's contents checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

static void test_sizes(void **state)
{
    sk__slab s;
    (void)state;

    assert_int_equal(sk__slab_init(&s, 1), 0);
    assert_int_equal(s.size, 16);
    assert_int_equal(sk__slab_init(&s, 208), 0);
    assert_int_equal(s.size, 208);
    assert_int_equal(sk__slab_init(&s, 209), 0);
    assert_int_equal(s.size, 224);
    assert_true(s.per_page >= 280 && (size_t)s.per_page * s.size < SK__SLAB_BYTES);
    /* Nothing is mapped before the first object. */
    assert_int_equal(s.npages, 0);
    assert_int_equal(sk__slab_destroy(&s), 0);
    /* A slab must hold at least two objects. */
    assert_int_equal(sk__slab_init(&s, SK__SLAB_BYTES / 2), -EINVAL);
    assert_int_equal(sk__slab_init(&s, SK__SLAB_BYTES), -EINVAL);
}

static void test_alloc_free_reuse(void **state)
{
    sk__slab s;
    (void)state;

    assert_int_equal(sk__slab_init(&s, 100), 0);
    char *a = sk__slab_alloc(&s), *b = sk__slab_alloc(&s);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0);
    assert_true(a + s.size <= b || b + s.size <= a);
    assert_true(all_zero(a, s.size) && all_zero(b, s.size));
    assert_int_equal(s.nused, 2);
    assert_int_equal(s.npages, 1);
    memset(a, 0xaa, s.size);
    memset(b, 0xbb, s.size);
    sk__slab_free(&s, a);
#ifdef HAVE_ASAN
    /* A freed object is poisoned: a use after free is reported. */
    assert_true(__asan_address_is_poisoned(a + 8));
    assert_false(__asan_address_is_poisoned(b + 8));
#endif
    /* The freed object is the next one handed out, zeroed again. */
    char *c = sk__slab_alloc(&s);
    assert_ptr_equal(c, a);
    assert_true(all_zero(c, s.size));
    for (size_t i = 0; i < s.size; i++)
        assert_int_equal((unsigned char)b[i], 0xbb);
    sk__slab_free(&s, b);
    sk__slab_free(&s, c);
    assert_int_equal(s.nused, 0);
    /* One empty slab is kept for the next burst. */
    assert_int_equal(s.npages, 1);
    assert_int_equal(sk__slab_destroy(&s), 0);
    assert_int_equal(s.npages, 0);
}

static void test_slabs_given_back(void **state)
{
    sk__slab s;
    (void)state;

    assert_int_equal(sk__slab_init(&s, 208), 0);
    size_t n = (size_t)s.per_page * 3 + 1;
    void **objs = calloc(n, sizeof *objs);
    assert_non_null(objs);
    for (size_t i = 0; i < n; i++)
        assert_non_null(objs[i] = sk__slab_alloc(&s));
    assert_int_equal(s.npages, 4);
    /* Freeing in allocation order empties the slabs one by one: all but
     * one go back to the system. */
    for (size_t i = 0; i < n; i++)
        sk__slab_free(&s, objs[i]);
    assert_int_equal(s.nused, 0);
    assert_int_equal(s.npages, 1);
    /* The kept slab serves the next objects. */
    for (size_t i = 0; i < s.per_page; i++)
        assert_non_null(objs[i] = sk__slab_alloc(&s));
    assert_int_equal(s.npages, 1);
    /* Objects still in use when the slabs go are counted. */
    assert_int_equal(sk__slab_destroy(&s), s.per_page);
    assert_int_equal(s.npages, 0);
    free(objs);
}

/* Connections come and go in any order: every live object keeps what was
 * written into it, and slabs do not pile up beyond what is live. */
static void test_churn(void **state)
{
    enum { SLOTS = 5000, STEPS = 200000 };
    sk__slab s;
    uint32_t **slot = calloc(SLOTS, sizeof *slot);
    uint64_t live = 0, peak = 0;
    unsigned seed = 12345;
    (void)state;

    assert_non_null(slot);
    assert_int_equal(sk__slab_init(&s, 200), 0);
    for (uint32_t step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t i = (seed >> 8) % SLOTS;
        if (slot[i] == NULL) {
            slot[i] = sk__slab_alloc(&s);
            assert_non_null(slot[i]);
            assert_true(all_zero(slot[i], s.size));
            for (size_t k = 0; k < s.size / sizeof(uint32_t); k++)
                slot[i][k] = i ^ (uint32_t)k;
            live++;
        } else {
            for (size_t k = 0; k < s.size / sizeof(uint32_t); k++)
                assert_int_equal(slot[i][k], i ^ (uint32_t)k);
            sk__slab_free(&s, slot[i]);
            slot[i] = NULL;
            live--;
        }
        if (live > peak)
            peak = live;
        assert_int_equal(s.nused, live);
        /* Never more slabs than the peak needs, plus the kept empty one. */
        assert_true(s.npages <= peak / s.per_page + 2);
    }
    for (uint32_t i = 0; i < SLOTS; i++) {
        if (slot[i])
            sk__slab_free(&s, slot[i]);
    }
    assert_int_equal(s.nused, 0);
    assert_int_equal(s.npages, 1);
    assert_int_equal(sk__slab_destroy(&s), 0);
    free(slot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_alloc_free_reuse),
        cmocka_unit_test(test_slabs_given_back),
        cmocka_unit_test(test_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
