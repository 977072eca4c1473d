/* Unit tests for sockit bench's HTTP response reader: every split point,
 * pipelined responses, chunked bodies, close-delimited bodies, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bench_int.h"

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
    assert_int_equal(feed_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100, &status, &close),
                     -1);
    assert_int_equal(feed_all("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 100, &status,
                              &close),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length), cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_chunked),        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
