/* Unit tests for sockit bench's HTTP response reader: every split point,
 * pipelined responses, chunked bodies, close-delimited bodies, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "client/bench_int.h"

/* Feed text in pieces of `step` bytes; count whole responses and keep the
 * last status. Returns -1 on a parse error. */
static int feed_all(const char *text, size_t step, int *status, bool *close)
{
    sk__httpresp r;
    size_t len = strlen(text), off = 0;
    int done_count = 0;
    sk__httpresp_reset(&r);
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        const char *p = text + off;
        off += n;
        while (n > 0) {
            bool done;
            long k = sk__httpresp_feed(&r, p, n, &done);
            if (k < 0)
                return -1;
            assert_true(k > 0 && (size_t)k <= n);
            p += k;
            n -= (size_t)k;
            if (done) {
                done_count++;
                *status = r.status;
                *close = r.close;
                sk__httpresp_reset(&r);
            }
        }
    }
    return done_count;
}

static void check_every_split(const char *text, int want_count, int want_status, bool want_close)
{
    for (size_t step = 1; step <= strlen(text); step++) {
        int status = 0;
        bool close = false;
        assert_int_equal(feed_all(text, step, &status, &close), want_count);
        assert_int_equal(status, want_status);
        assert_int_equal(close, want_close);
    }
}

static void test_content_length(void **state)
{
    (void)state;
    check_every_split("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n", 1,
                      200, false);
    check_every_split("HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n", 1, 404, false);
    check_every_split("HTTP/1.0 200 OK\r\nCONTENT-LENGTH: 2\r\nConnection: Close\r\n\r\nhi", 1, 200, true);
    /* HTTP/1.0 closes unless it asks for keep-alive. */
    check_every_split("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 1, 200, true);
    check_every_split("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", 1, 200, false);
    /* Bare LF line ends. */
    check_every_split("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", 1, 200, false);
}

static void test_pipelined(void **state)
{
    (void)state;
    check_every_split("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                      "HTTP/1.1 204 No Content\r\n\r\n"
                      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nxy",
                      3, 500, false);
}

static void test_chunked(void **state)
{
    (void)state;
    check_every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n"
                      "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
                      2, 201, false);
}

static void test_close_delimited(void **state)
{
    sk__httpresp r;
    bool done;
    const char *t = "HTTP/1.0 200 OK\r\n\r\nbody until the end";
    (void)state;
    sk__httpresp_reset(&r);
    assert_int_equal(sk__httpresp_feed(&r, t, strlen(t), &done), (long)strlen(t));
    assert_false(done);
    assert_true(sk__httpresp_eof_ends(&r));
    sk__httpresp_reset(&r);
    assert_false(sk__httpresp_eof_ends(&r));
}

static void test_malformed(void **state)
{
    int status;
    bool close;
    (void)state;
    assert_int_equal(feed_all("GARBAGE\r\n\r\n", 100, &status, &close), -1);
    assert_int_equal(feed_all("HTTP/1.1 2x0 OK\r\n\r\n", 100, &status, &close), -1);
    assert_int_equal(feed_all("HTTP/1.1 20 OK\r\n\r\n", 100, &status, &close), -1);
    assert_int_equal(feed_all("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 100, &status, &close), -1);
    assert_int_equal(feed_all("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", 100, &status, &close), -1);
    assert_int_equal(feed_all("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", 100, &status, &close), -1);
    assert_int_equal(feed_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100, &status, &close), -1);
    assert_int_equal(
        feed_all("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 100, &status, &close), -1);
}

/* Mutated valid responses and random bytes: the reader must only ever
 * return -1 or a count within what it was given (ASan checks the reads). */
static void test_mutations(void **state)
{
    static const char base[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    static const char alphabet[] = "HTP/1.0 2\r\n:;aZ9fF-";
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        char buf[sizeof base];
        size_t len = sizeof base - 1;
        memcpy(buf, base, len);
        for (int m = 0; m < 4; m++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = (iter & 1) ? alphabet[(x >> 20) % (sizeof alphabet - 1)] : (char)(x >> 32);
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t step = 1 + x % 16;
        /* Exact-size heap copies so ASan sees any read past the end. */
        sk__httpresp r;
        sk__httpresp_reset(&r);
        for (size_t off = 0; off < len; off += step) {
            size_t n = len - off < step ? len - off : step;
            char *piece = malloc(n);
            assert_non_null(piece);
            memcpy(piece, buf + off, n);
            const char *p = piece;
            size_t left = n;
            long k = 0;
            while (left > 0) {
                bool done;
                k = sk__httpresp_feed(&r, p, left, &done);
                if (k < 0)
                    break;
                assert_true(k >= 1 && (size_t)k <= left);
                p += k;
                left -= (size_t)k;
                if (done)
                    sk__httpresp_reset(&r);
            }
            free(piece);
            if (k < 0)
                break;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),  cmocka_unit_test(test_pipelined), cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_close_delimited), cmocka_unit_test(test_malformed), cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
