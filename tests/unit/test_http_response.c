/* Unit tests for the HTTP/1.1 response reader (http.h): every split point,
 * pipelined responses, chunked and close-delimited bodies handed back
 * exactly, interim 1xx, framing choices, errors. Inputs are copied to end
 * right before an unreadable page, so any read past the end crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sockit/error.h>
#include <sockit/http.h>

#include "guard.h"

/* What a run over a byte stream saw. */
typedef struct seen {
    int count;        /* responses ended */
    int status;       /* of the last one */
    unsigned flags;   /* of the last one */
    uint64_t clen;    /* content_length of the last one */
    uint64_t headlen; /* head_len of the last one */
    unsigned interim; /* of the last one */
    int heads;        /* SK_HTTP_RESP_HEAD events */
    char body[512];   /* every body byte, all responses, in order */
    size_t body_len;
    int err; /* 0, or the error that stopped it */
} seen;

/* Feed text in guarded pieces of `step` bytes, every piece until used up. */
static seen feed_all(const char *text, size_t len, size_t step, unsigned opts)
{
    sk_http_response r;
    seen s = {0};
    size_t off = 0;
    sk_http_response_init(&r, opts);
    while (off < len && s.err == 0) {
        size_t n = len - off < step ? len - off : step;
        const char *p = guarded(text + off, n);
        off += n;
        while (n > 0) {
            long k = sk_http_response_feed(&r, p, n);
            if (k < 0) {
                s.err = (int)k;
                break;
            }
            assert_true(k >= 1 && (size_t)k <= n);
            if (r.events & SK_HTTP_RESP_BODY) {
                /* The view lies in what this call was given. */
                assert_true(r.body >= p && r.body + r.body_len <= p + k && r.body_len > 0);
                assert_true(s.body_len + r.body_len <= sizeof s.body);
                memcpy(s.body + s.body_len, r.body, r.body_len);
                s.body_len += r.body_len;
            } else {
                assert_null(r.body);
                assert_int_equal(r.body_len, 0);
            }
            if (r.events & SK_HTTP_RESP_HEAD)
                s.heads++;
            /* Fewer bytes used only at the end of a response or of a chunk. */
            if ((size_t)k < n)
                assert_true(r.events & (SK_HTTP_RESP_DONE | SK_HTTP_RESP_BODY));
            if (r.events & SK_HTTP_RESP_DONE) {
                s.count++;
                s.status = r.status;
                s.flags = r.flags;
                s.clen = r.content_length;
                s.headlen = r.head_len;
                s.interim = r.interim;
            }
            p += k;
            n -= (size_t)k;
        }
    }
    unguard();
    return s;
}

/* The same verdict at every split; returns it. (Events of a call that
 * fails are not reported, so after an error only the error is compared.) */
static seen every_split_opts(const char *text, unsigned opts)
{
    size_t len = strlen(text);
    seen first = feed_all(text, len, len, opts);
    for (size_t step = 1; step < len; step++) {
        seen s = feed_all(text, len, step, opts);
        if (s.err != first.err ||
            (s.err == 0 && (s.count != first.count || s.status != first.status || s.flags != first.flags ||
                            s.body_len != first.body_len || memcmp(s.body, first.body, s.body_len) != 0 ||
                            s.headlen != first.headlen || s.heads != first.heads)))
            fail_msg("step %zu differs from the whole for: %s", step, text);
    }
    return first;
}

static seen every_split(const char *text) { return every_split_opts(text, 0); }

#define BODY_IS(s, lit)                                                                                                \
    do {                                                                                                               \
        assert_int_equal((s).body_len, sizeof(lit) - 1);                                                               \
        assert_memory_equal((s).body, lit, sizeof(lit) - 1);                                                           \
    } while (0)

static void test_content_length(void **state)
{
    seen s;
    (void)state;
    s = every_split("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n");
    assert_int_equal(s.err, 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.flags, SK_HTTP_KEEPALIVE | SK_HTTP_HAS_LENGTH);
    assert_int_equal(s.clen, 6);
    assert_int_equal(s.headlen, 73);
    BODY_IS(s, "hello\n");

    s = every_split("HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n");
    assert_int_equal(s.count, 1);
    assert_int_equal(s.status, 404);
    assert_int_equal(s.flags, SK_HTTP_KEEPALIVE | SK_HTTP_HAS_LENGTH);
    assert_int_equal(s.body_len, 0);

    s = every_split("HTTP/1.0 200 OK\r\nCONTENT-LENGTH: 2\r\nConnection: Close\r\n\r\nhi");
    assert_int_equal(s.count, 1);
    assert_int_equal(s.flags, SK_HTTP_HAS_LENGTH);
    BODY_IS(s, "hi");
    /* HTTP/1.0 closes unless it asks for keep-alive. */
    s = every_split("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assert_int_equal(s.flags, SK_HTTP_HAS_LENGTH);
    s = every_split("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi");
    assert_int_equal(s.flags, SK_HTTP_KEEPALIVE | SK_HTTP_HAS_LENGTH);
    /* Close wins over keep-alive; token lists. */
    s = every_split("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(s.flags, SK_HTTP_HAS_LENGTH);
    /* "xclose" is not "close". */
    s = every_split("HTTP/1.1 200 OK\r\nConnection: xclose\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(s.flags, SK_HTTP_KEEPALIVE | SK_HTTP_HAS_LENGTH);
    /* Bare LF line ends; no reason phrase; an HTTP/1.x above 1.1 reads as 1.1. */
    s = every_split("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc");
    BODY_IS(s, "abc");
    assert_int_equal(s.headlen, 35);
    s = every_split("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx");
    assert_int_equal(s.count, 1);
    s = every_split("HTTP/1.2 200 OK\r\nContent-Length: 1\r\n\r\nx");
    assert_int_equal(s.flags, SK_HTTP_KEEPALIVE | SK_HTTP_HAS_LENGTH);
    /* Repeated and listed lengths that agree. */
    s = every_split("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok");
    assert_int_equal(s.clen, 2);
    BODY_IS(s, "ok");
}

static void test_pipelined(void **state)
{
    seen s;
    (void)state;
    s = every_split("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                    "HTTP/1.1 204 No Content\r\n\r\n"
                    "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
                    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nxy");
    assert_int_equal(s.err, 0);
    assert_int_equal(s.count, 4);
    assert_int_equal(s.heads, 4);
    assert_int_equal(s.status, 500);
    assert_int_equal(s.interim, 1);
    /* head_len counts the interim head too: the body starts there. */
    assert_int_equal(s.headlen, 25 + 40);
    BODY_IS(s, "Axy");
}

static void test_interim(void **state)
{
    seen s;
    (void)state;
    /* Several interim heads, with fields of their own, are skipped. */
    s = every_split("HTTP/1.1 100 Continue\r\n\r\n"
                    "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nContent-Length: 5\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nz");
    assert_int_equal(s.count, 1);
    assert_int_equal(s.heads, 1);
    assert_int_equal(s.status, 201);
    assert_int_equal(s.interim, 2);
    assert_int_equal(s.clen, 1);
    BODY_IS(s, "z");
    /* 101 is final, has no body and ends HTTP on the connection. */
    s = every_split("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    assert_int_equal(s.count, 1);
    assert_int_equal(s.status, 101);
    assert_int_equal(s.flags, 0);
}

static void test_chunked(void **state)
{
    seen s;
    (void)state;
    s = every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n3 ; x=\"y\"\r\nabc\r\n0\r\nTrailer: t\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(s.err, 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.status, 201);
    BODY_IS(s, "hello0123456789abc");

    s = every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                    "1f\r\n0123456789012345678901234567890\r\n0\r\n\r\n");
    assert_int_equal(s.count, 1);
    assert_int_equal(s.flags, SK_HTTP_KEEPALIVE | SK_HTTP_CHUNKED);
    BODY_IS(s, "0123456789012345678901234567890");
    /* Bare LFs in the framing. */
    s = every_split("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nab\n0\n\n");
    BODY_IS(s, "ab");
    /* Chunks win over a Content-Length, and the connection is not reused. */
    s = every_split("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n");
    assert_int_equal(s.count, 1);
    assert_int_equal(s.flags, SK_HTTP_CHUNKED | SK_HTTP_HAS_LENGTH);
    BODY_IS(s, "ab");
    /* A HEAD answer has no body whatever the headers say. */
    s = every_split_opts("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                         SK_HTTP_RESP_NO_BODY);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.clen, 10);
    assert_int_equal(s.body_len, 0);
}

/* One call hands back one view: the second chunk waits for the next call. */
static void test_one_view_per_call(void **state)
{
    static const char t[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    sk_http_response r;
    size_t len = sizeof t - 1;
    const char *p = guarded(t, len);
    (void)state;
    sk_http_response_init(&r, 0);
    long k = sk_http_response_feed(&r, p, len);
    assert_int_equal(k, 58); /* up to the second chunk's data */
    assert_int_equal(r.events, SK_HTTP_RESP_HEAD | SK_HTTP_RESP_BODY);
    assert_ptr_equal(r.body, p + 50);
    assert_int_equal(r.body_len, 3);
    long k2 = sk_http_response_feed(&r, p + k, len - (size_t)k);
    assert_int_equal(k2, (long)len - k);
    assert_int_equal(r.events, SK_HTTP_RESP_BODY | SK_HTTP_RESP_DONE);
    assert_ptr_equal(r.body, p + 58);
    assert_int_equal(r.body_len, 2);
    assert_int_equal(r.body_total, 5);
    /* Nothing under way after the end: a close now is a clean one. */
    assert_int_equal(sk_http_response_eof(&r), 0);
    unguard();
}

static void test_close_delimited(void **state)
{
    sk_http_response r;
    const char *t = "HTTP/1.0 200 OK\r\n\r\nbody until the end";
    size_t len = strlen(t);
    const char *p = guarded(t, len);
    seen s;
    (void)state;
    sk_http_response_init(&r, 0);
    assert_int_equal(sk_http_response_eof(&r), 0);
    assert_int_equal(sk_http_response_feed(&r, p, len), (long)len);
    assert_int_equal(r.events, SK_HTTP_RESP_HEAD | SK_HTTP_RESP_BODY);
    assert_ptr_equal(r.body, p + 19);
    assert_int_equal(r.body_len, len - 19);
    assert_int_equal(r.flags, SK_HTTP_EOF_BODY);
    assert_int_equal(sk_http_response_eof(&r), 1);
    assert_int_equal(r.events, SK_HTTP_RESP_DONE);
    assert_int_equal(sk_http_response_eof(&r), 0);
    unguard();

    /* Whatever Connection says, and whatever the split. */
    s = every_split("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nto the close");
    assert_int_equal(s.count, 0);
    assert_int_equal(s.err, 0);
    BODY_IS(s, "to the close");
    /* Codings without chunked last: the close ends the body too. */
    s = every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw");
    BODY_IS(s, "raw");

    /* A close in the middle of a response cuts it short. */
    sk_http_response_init(&r, 0);
    p = guarded("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 40);
    assert_int_equal(sk_http_response_feed(&r, p, 40), 40);
    assert_int_equal(sk_http_response_eof(&r), SK_EHTTP_BAD);
    sk_http_response_init(&r, 0);
    p = guarded("HTTP/1.1 2", 10);
    assert_int_equal(sk_http_response_feed(&r, p, 10), 10);
    assert_int_equal(sk_http_response_eof(&r), SK_EHTTP_BAD);
    unguard();
}

/* Lines longer than the reader's copy of a split line. */
static void test_long_lines(void **state)
{
    char t[2048];
    char reason[600];
    seen s;
    (void)state;
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    snprintf(t, sizeof t, "HTTP/1.1 200 %s\r\nX-Long: %s\r\nContent-Length: 1\r\n\r\n!", reason, reason);
    s = every_split(t);
    assert_int_equal(s.err, 0);
    assert_int_equal(s.count, 1);
    BODY_IS(s, "!");
    /* A framing header too long to look into is refused, not guessed. */
    snprintf(t, sizeof t, "HTTP/1.1 200 OK\r\nConnection: keep-alive%.*s\r\nContent-Length: 1\r\n\r\n!", 200,
             "                                                                                                    "
             "                                                                                                    ");
    s = every_split(t);
    assert_int_equal(s.err, SK_EHTTP_HEADERS);
    /* A control byte past the copied start is still caught. */
    snprintf(t, sizeof t, "HTTP/1.1 200 OK\r\nX-Long: %s\x01x\r\nContent-Length: 1\r\n\r\n!", reason);
    s = every_split(t);
    assert_int_equal(s.err, SK_EHTTP_BAD);
    snprintf(t, sizeof t, "HTTP/1.1 200 OK\r\nX-Long: %s\rx\r\nContent-Length: 1\r\n\r\n!", reason);
    s = every_split(t);
    assert_int_equal(s.err, SK_EHTTP_BAD);
}

static void test_head_limit(void **state)
{
    size_t n = SK_HTTP_MAX_RESPONSE_HEAD + 100, off = 0;
    char *t = malloc(n + 1);
    (void)state;
    assert_non_null(t);
    off += (size_t)sprintf(t, "HTTP/1.1 200 OK\r\n");
    while (off + 20 < n)
        off += (size_t)sprintf(t + off, "X-Pad: 0123456789\r\n");
    t[off] = '\0';
    seen s = feed_all(t, off, 1000, 0);
    assert_int_equal(s.err, SK_EHTTP_HEADERS);
    s = feed_all(t, off, off, 0);
    assert_int_equal(s.err, SK_EHTTP_HEADERS);
    free(t);
}

static void expect_err(const char *text, int err)
{
    seen s = every_split(text);
    if (s.err != err)
        fail_msg("%s: got %d, want %d", text, s.err, err);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_err("GARBAGE\r\n\r\n", SK_EHTTP_BAD);
    expect_err("\r\nHTTP/1.1 200 OK\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 2x0 OK\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 20 OK\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 099 Low\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1  200 OK\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 2000 OK\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 O\x01K\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/11 200 OK\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/2.0 200 OK\r\n\r\n", SK_EHTTP_VERSION);
    expect_err("HTTP/0.9 200 OK\r\n\r\n", SK_EHTTP_VERSION);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nName : v\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\n: v\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\rX", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\rX", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n", SK_EHTTP_BAD);
    expect_err("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", SK_EHTTP_BAD);
}

/* The request and the response parser share one Content-Length parser: the
 * same values are taken and refused by both. */
static void test_length_shared(void **state)
{
    static const char *const values[] = {"0",  "17", "007",  "5, 5", "5,5 ,5", "9223372036854775807", "",    "1x",
                                         "+5", "-1", "5, 6", "5,",   ",5",     "9223372036854775808", "0x10"};
    (void)state;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char req[256], resp[256];
        sk_http_header hdrs[4];
        sk_http_request rq = {.headers = hdrs, .max_headers = 4};
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n", values[i]);
        snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n", values[i]);
        int qrc = sk_http_parse_request(req, strlen(req), &rq, NULL);
        sk_http_response r;
        sk_http_response_init(&r, 0);
        long prc = sk_http_response_feed(&r, resp, strlen(resp));
        bool q_ok = qrc > 0, p_ok = prc > 0;
        if (q_ok != p_ok)
            fail_msg("Content-Length \"%s\": request %d, response %ld", values[i], qrc, prc);
        if (q_ok)
            assert_true(rq.content_length == r.content_length);
        else
            assert_int_equal(prc, SK_EHTTP_BAD);
    }
}

/* Mutated valid responses and random bytes: the reader must only ever
 * return an error or a count within what it was given (the guard page and
 * ASan check the reads), and agree with itself at every split. */
static void test_mutations(void **state)
{
    static const char base[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    static const char alphabet[] = "HTP/1.0 2\r\n:;aZ9fF-";
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    (void)state;
    for (int iter = 0; iter < 3000; iter++) {
        char buf[sizeof base];
        size_t len = sizeof base - 1;
        memcpy(buf, base, len);
        for (int m = 0; m < 4; m++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = (iter & 1) ? alphabet[(x >> 20) % (sizeof alphabet - 1)] : (char)(x >> 32);
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t step = 1 + x % 16;
        seen whole = feed_all(buf, len, len, 0), split = feed_all(buf, len, step, 0);
        assert_int_equal(whole.err, split.err);
        if (whole.err != 0)
            continue;
        assert_int_equal(whole.count, split.count);
        assert_int_equal(whole.body_len, split.body_len);
        assert_memory_equal(whole.body, split.body, whole.body_len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),    cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_interim),           cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_one_view_per_call), cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_long_lines),        cmocka_unit_test(test_head_limit),
        cmocka_unit_test(test_malformed),         cmocka_unit_test(test_length_shared),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
