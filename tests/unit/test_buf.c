/* Unit tests for the pooled bounded buffers (src/base/buf.h): storage only
 * while data is held, the bound, compaction, and block reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/buf.h"

#define BLOCK 64

static void fill(char *p, size_t n, char first)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(first + (char)(i % 26));
}

static void test_pool_init_destroy(void **state)
{
    sk__bufpool p;
    (void)state;

    assert_int_equal(sk__bufpool_init(&p, BLOCK, 4), 0);
    assert_int_equal(p.blocksize, BLOCK);
    assert_int_equal(p.max, 4);
    assert_int_equal(p.nfree, 0);
    sk__bufpool_destroy(&p);
    assert_null(p.free);
    assert_int_equal(p.nfree, 0);

    /* A pool that caches nothing is valid: every release frees. */
    assert_int_equal(sk__bufpool_init(&p, BLOCK, 0), 0);
    sk__buf b = {0};
    assert_int_equal(sk__buf_append(&b, &p, "x", 1), 0);
    sk__buf_release(&b, &p);
    assert_int_equal(p.nfree, 0);
    sk__bufpool_destroy(&p);
}

static void test_empty_buffer_holds_no_block(void **state)
{
    sk__bufpool p;
    sk__buf b = {0};
    (void)state;

    assert_int_equal(sk__bufpool_init(&p, BLOCK, 4), 0);
    assert_null(b.data);
    assert_int_equal(sk__buf_used(&b), 0);
    /* An unallocated buffer offers the whole block. */
    assert_int_equal(sk__buf_room(&b, &p), BLOCK);
    /* Appending nothing takes no storage. */
    assert_int_equal(sk__buf_append(&b, &p, "", 0), 0);
    assert_null(b.data);
    /* Releasing an empty buffer is harmless and caches nothing. */
    sk__buf_release(&b, &p);
    assert_null(b.data);
    assert_int_equal(p.nfree, 0);
    sk__bufpool_destroy(&p);
}

static void test_prepare_append_consume(void **state)
{
    sk__bufpool p;
    sk__buf b = {0};
    (void)state;

    assert_int_equal(sk__bufpool_init(&p, BLOCK, 4), 0);
    assert_int_equal(sk__buf_prepare(&b, &p), 0);
    assert_non_null(b.data);
    assert_int_equal(sk__buf_used(&b), 0);
    assert_int_equal(sk__buf_wspace(&b, &p), BLOCK);

    /* Write in place through wptr/commit, as a recv() would. */
    memcpy(sk__buf_wptr(&b), "hello", 5);
    sk__buf_commit(&b, 5);
    assert_int_equal(sk__buf_used(&b), 5);
    assert_int_equal(sk__buf_room(&b, &p), BLOCK - 5);
    assert_memory_equal(sk__buf_rptr(&b), "hello", 5);

    assert_int_equal(sk__buf_append(&b, &p, " world", 6), 0);
    assert_int_equal(sk__buf_used(&b), 11);
    assert_memory_equal(sk__buf_rptr(&b), "hello world", 11);

    /* Partial consume moves the read pointer, keeps the block. */
    sk__buf_consume(&b, &p, 6);
    assert_int_equal(sk__buf_used(&b), 5);
    assert_memory_equal(sk__buf_rptr(&b), "world", 5);
    assert_non_null(b.data);
    assert_int_equal(p.nfree, 0);

    /* Consuming the rest gives the block back to the pool. */
    sk__buf_consume(&b, &p, 5);
    assert_null(b.data);
    assert_int_equal(b.start, 0);
    assert_int_equal(b.end, 0);
    assert_int_equal(p.nfree, 1);
    sk__bufpool_destroy(&p);
}

static void test_bounds_and_enobufs(void **state)
{
    sk__bufpool p;
    sk__buf b = {0};
    char src[BLOCK + 1], snap[BLOCK];
    (void)state;

    fill(src, sizeof src, 'a');
    assert_int_equal(sk__bufpool_init(&p, BLOCK, 4), 0);

    /* More than a block never fits, not even into an empty buffer. */
    assert_int_equal(sk__buf_append(&b, &p, src, BLOCK + 1), -ENOBUFS);
    assert_null(b.data);

    /* Exactly a block fits. */
    assert_int_equal(sk__buf_append(&b, &p, src, BLOCK), 0);
    assert_int_equal(sk__buf_used(&b), BLOCK);
    assert_int_equal(sk__buf_room(&b, &p), 0);
    assert_int_equal(sk__buf_wspace(&b, &p), 0);

    /* Full: all or nothing, the contents stay untouched. */
    memcpy(snap, sk__buf_rptr(&b), BLOCK);
    assert_int_equal(sk__buf_append(&b, &p, "z", 1), -ENOBUFS);
    assert_int_equal(sk__buf_used(&b), BLOCK);
    assert_memory_equal(sk__buf_rptr(&b), snap, BLOCK);

    /* Partly drained: room counts the consumed front, but one byte over
     * is still refused whole. */
    sk__buf_consume(&b, &p, 10);
    assert_int_equal(sk__buf_room(&b, &p), 10);
    assert_int_equal(sk__buf_append(&b, &p, src, 11), -ENOBUFS);
    assert_int_equal(sk__buf_used(&b), BLOCK - 10);
    assert_memory_equal(sk__buf_rptr(&b), snap + 10, BLOCK - 10);

    /* Exactly the room fits, by compacting the live bytes to the front. */
    assert_int_equal(sk__buf_append(&b, &p, "0123456789", 10), 0);
    assert_int_equal(b.start, 0);
    assert_int_equal(sk__buf_used(&b), BLOCK);
    assert_memory_equal(sk__buf_rptr(&b), snap + 10, BLOCK - 10);
    assert_memory_equal(sk__buf_rptr(&b) + BLOCK - 10, "0123456789", 10);

    sk__buf_release(&b, &p);
    assert_null(b.data);
    sk__bufpool_destroy(&p);
}

static void test_prepare_compacts(void **state)
{
    sk__bufpool p;
    sk__buf b = {0};
    (void)state;

    assert_int_equal(sk__bufpool_init(&p, BLOCK, 4), 0);
    assert_int_equal(sk__buf_append(&b, &p, "abcdefgh", 8), 0);
    sk__buf_consume(&b, &p, 3);
    char *block = b.data;
    assert_int_equal(sk__buf_wspace(&b, &p), BLOCK - 8);
    assert_int_equal(sk__buf_prepare(&b, &p), 0);
    /* Same block, live bytes moved to the front, whole room contiguous. */
    assert_ptr_equal(b.data, block);
    assert_int_equal(b.start, 0);
    assert_int_equal(sk__buf_used(&b), 5);
    assert_memory_equal(sk__buf_rptr(&b), "defgh", 5);
    assert_int_equal(sk__buf_wspace(&b, &p), BLOCK - 5);
    sk__buf_release(&b, &p);
    sk__bufpool_destroy(&p);
}

/* Once the pool has seen as many blocks as are live at once, taking and
 * giving back blocks reuses them: every block handed out afterwards is one
 * that was cached, so no malloc happens on the request path. */
static void test_block_reuse_after_warmup(void **state)
{
    enum { CONNS = 8, ROUNDS = 1000 };
    sk__bufpool p;
    sk__buf b[CONNS];
    char *warm[CONNS];
    (void)state;

    memset(b, 0, sizeof b);
    assert_int_equal(sk__bufpool_init(&p, BLOCK, CONNS), 0);
    for (int i = 0; i < CONNS; i++) {
        assert_int_equal(sk__buf_append(&b[i], &p, "warm", 4), 0);
        warm[i] = b[i].data;
    }
    for (int i = 0; i < CONNS; i++)
        sk__buf_release(&b[i], &p);
    assert_int_equal(p.nfree, CONNS);

    for (int r = 0; r < ROUNDS; r++) {
        int live = 1 + r % CONNS;
        for (int i = 0; i < live; i++) {
            uint32_t before = p.nfree;
            assert_int_equal(sk__buf_append(&b[i], &p, "req", 3), 0);
            /* Came off the free list, and is one of the warm blocks. */
            assert_int_equal(p.nfree, before - 1);
            bool known = false;
            for (int k = 0; k < CONNS; k++)
                known = known || b[i].data == warm[k];
            assert_true(known);
        }
        for (int i = 0; i < live; i++)
            sk__buf_consume(&b[i], &p, 3);
        assert_int_equal(p.nfree, CONNS);
    }
    sk__bufpool_destroy(&p);
}

/* Blocks beyond what the pool caches are freed, not leaked (ASan's leak
 * check catches a leak here) and the cache never exceeds its bound. */
static void test_pool_cache_bound(void **state)
{
    enum { LIVE = 10, CACHE = 3 };
    sk__bufpool p;
    sk__buf b[LIVE];
    (void)state;

    memset(b, 0, sizeof b);
    assert_int_equal(sk__bufpool_init(&p, BLOCK, CACHE), 0);
    for (int i = 0; i < LIVE; i++)
        assert_int_equal(sk__buf_append(&b[i], &p, "x", 1), 0);
    for (int i = 0; i < LIVE; i++) {
        sk__buf_release(&b[i], &p);
        assert_true(p.nfree <= CACHE);
    }
    assert_int_equal(p.nfree, CACHE);
    sk__bufpool_destroy(&p);
}

/* A stream through a small buffer: bytes come out in order, whatever the
 * mix of append and consume sizes. */
static void test_stream_order(void **state)
{
    sk__bufpool p;
    sk__buf b = {0};
    char in[5000], out[5000];
    size_t wrote = 0, read = 0;
    (void)state;

    fill(in, sizeof in, 'A');
    assert_int_equal(sk__bufpool_init(&p, BLOCK, 2), 0);
    for (unsigned step = 0; read < sizeof in; step++) {
        assert_true(step < 100000);
        size_t want = 1 + (step * 7) % 40;
        if (wrote + want > sizeof in)
            want = sizeof in - wrote;
        if (want > 0) {
            int rc = sk__buf_append(&b, &p, in + wrote, want);
            if (rc == 0)
                wrote += want;
            else
                assert_int_equal(rc, -ENOBUFS);
        }
        size_t take = 1 + (step * 13) % 50;
        if (take > sk__buf_used(&b))
            take = sk__buf_used(&b);
        memcpy(out + read, sk__buf_rptr(&b), take);
        sk__buf_consume(&b, &p, take);
        read += take;
        assert_true(sk__buf_used(&b) <= BLOCK);
    }
    assert_int_equal(wrote, sizeof in);
    assert_memory_equal(in, out, sizeof in);
    assert_null(b.data);
    sk__bufpool_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_init_destroy),      cmocka_unit_test(test_empty_buffer_holds_no_block),
        cmocka_unit_test(test_prepare_append_consume), cmocka_unit_test(test_bounds_and_enobufs),
        cmocka_unit_test(test_prepare_compacts),       cmocka_unit_test(test_block_reuse_after_warmup),
        cmocka_unit_test(test_pool_cache_bound),       cmocka_unit_test(test_stream_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
