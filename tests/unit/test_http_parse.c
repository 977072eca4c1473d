/* Unit tests for the HTTP request-head parser. Every input is copied to end
 * right before an unreadable page, so any read past the end crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sockit/error.h>
#include <sockit/http.h>

#include "codec/http_common.h"
#include "guard.h"

static sk_http_header g_hdrs[16];

static int parse_n(const char *s, size_t n, sk_http_request *req, size_t max_headers)
{
    memset(req, 0, sizeof *req);
    req->headers = g_hdrs;
    req->max_headers = max_headers;
    return sk_http_parse_request(guarded(s, n), n, req, NULL);
}

static int parse(const char *s, sk_http_request *req) { return parse_n(s, strlen(s), req, 16); }

/* Every strict prefix must say "incomplete", the whole must say want. */
static void prefixes(const char *s, int want)
{
    sk_http_request req;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        int rc = parse_n(s, i, &req, 16);
        if (rc != -EAGAIN)
            fail_msg("prefix %zu of %s: got %d, want -EAGAIN", i, s, rc);
    }
    assert_int_equal(parse(s, &req), want);
}

/* Every prefix is incomplete or already the error; the whole is the error. */
static void bad(const char *s, int err)
{
    sk_http_request req;
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        int rc = parse_n(s, i, &req, 16);
        if (rc != -EAGAIN && rc != err)
            fail_msg("prefix %zu of \"%s\": got %d, want -EAGAIN or %d", i, s, rc, err);
    }
    if (parse(s, &req) != err)
        fail_msg("\"%s\": got %d, want %d", s, parse(s, &req), err);
}

static bool view_eq(const char *p, size_t n, const char *want) { return n == strlen(want) && memcmp(p, want, n) == 0; }

/* Tests ------------------------------------------------------------------ */

static void test_simple_get(void **state)
{
    sk_http_request req;
    const char *s = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
    (void)state;
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_true(view_eq(req.method, req.method_len, "GET"));
    assert_int_equal(req.method_id, SK_HTTP_GET);
    assert_true(view_eq(req.target, req.target_len, "/index.html?q=1"));
    assert_int_equal(req.minor_version, 1);
    assert_int_equal(req.num_headers, 2);
    assert_true(view_eq(req.headers[0].name, req.headers[0].name_len, "Host"));
    assert_true(view_eq(req.headers[0].value, req.headers[0].value_len, "example.com"));
    assert_true(view_eq(req.headers[1].name, req.headers[1].name_len, "User-Agent"));
    assert_true(req.flags & SK_HTTP_KEEPALIVE);
    assert_true(req.flags & SK_HTTP_HAS_HOST);
    assert_false(req.flags & SK_HTTP_HAS_LENGTH);
    assert_int_equal(req.content_length, 0);
}

static void test_methods(void **state)
{
    static const struct {
        const char *m;
        int id;
    } t[] = {{"GET", SK_HTTP_GET},     {"HEAD", SK_HTTP_HEAD},     {"POST", SK_HTTP_POST},
             {"PUT", SK_HTTP_PUT},     {"DELETE", SK_HTTP_DELETE}, {"OPTIONS", SK_HTTP_OPTIONS},
             {"PATCH", SK_HTTP_OTHER}, {"get", SK_HTTP_OTHER},     {"X-Y!#$%&'*+.^_`|~9", SK_HTTP_OTHER},
             {"GETS", SK_HTTP_OTHER},  {"GE", SK_HTTP_OTHER}};
    char buf[128];
    sk_http_request req;
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        snprintf(buf, sizeof buf, "%s / HTTP/1.1\r\nHost: a\r\n\r\n", t[i].m);
        assert_int_equal(parse(buf, &req), (int)strlen(buf));
        assert_int_equal(req.method_id, t[i].id);
        assert_true(view_eq(req.method, req.method_len, t[i].m));
    }
}

static void test_partial_byte_by_byte(void **state)
{
    (void)state;
    const char *reqs[] = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\n\n",
        "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nConnection: close\r\nX-Empty:\r\n\r\n",
        "HEAD /a/b/c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        prefixes(reqs[i], (int)strlen(reqs[i]));
}

static void test_pipelined(void **state)
{
    const char *s = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                    "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
                    "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    size_t n = strlen(s), off = 0;
    sk_http_request req;
    const char *g = guarded(s, n);
    const char *targets[] = {"/a", "/b", "/c"};
    (void)state;
    memset(&req, 0, sizeof req);
    req.headers = g_hdrs;
    req.max_headers = 16;
    for (int i = 0; i < 3; i++) {
        int rc = sk_http_parse_request(g + off, n - off, &req, NULL);
        assert_true(rc > 0);
        assert_true(view_eq(req.target, req.target_len, targets[i]));
        off += (size_t)rc + req.content_length;
        if (i == 0)
            assert_int_equal(req.content_length, 5);
        if (i == 2)
            assert_false(req.flags & SK_HTTP_KEEPALIVE);
    }
    assert_int_equal(off, n);
    /* The leftover after the last request is an incomplete next one. */
    assert_int_equal(sk_http_parse_request(g + n, 0, &req, NULL), -EAGAIN);
}

static void test_bad_tokens(void **state)
{
    (void)state;
    bad("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad(" / HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET /\r\n\r\n", SK_EHTTP_BAD); /* HTTP/0.9 simple request */
    bad("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost : a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\n Host: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\rHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\r\n\rX", SK_EHTTP_BAD);
    bad("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHostname\r\n\r\n", SK_EHTTP_BAD);
    bad("GET\x80 / HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost\x80: a\r\n\r\n", SK_EHTTP_BAD);
    bad("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA / HTTP/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD); /* 33-byte method */

    /* NUL bytes, which strlen-based helpers cannot carry. */
    sk_http_request req;
    static const char nul_val[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    static const char nul_tgt[] = "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(parse_n(nul_val, sizeof nul_val - 1, &req, 16), SK_EHTTP_BAD);
    assert_int_equal(parse_n(nul_tgt, sizeof nul_tgt - 1, &req, 16), SK_EHTTP_BAD);

    /* 32 bytes of method are fine; obs-text is fine in targets and values
     * (not in Host, whose reg-name wants it percent-encoded: test_host). */
    prefixes("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA / HTTP/1.1\r\nHost: a\r\n\r\n", 56);
    const char *obs = "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\nX-Name: \xc3\xa9t\xc3\xa9\r\n\r\n";
    assert_int_equal(parse(obs, &req), (int)strlen(obs));
}

static void test_long_uri(void **state)
{
    static char buf[20000];
    sk_http_request req;
    (void)state;
    /* Exactly the limit is served. */
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', SK_HTTP_MAX_TARGET - 1);
    strcpy(buf + 4 + SK_HTTP_MAX_TARGET, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(parse(buf, &req), (int)strlen(buf));
    assert_int_equal(req.target_len, SK_HTTP_MAX_TARGET);
    /* One more is 414, complete or still arriving. */
    memset(buf + 5, 'a', SK_HTTP_MAX_TARGET);
    strcpy(buf + 5 + SK_HTTP_MAX_TARGET, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(parse(buf, &req), SK_EHTTP_URI);
    assert_int_equal(parse_n(buf, 5 + SK_HTTP_MAX_TARGET, &req, 16), SK_EHTTP_URI);
    assert_int_equal(parse_n(buf, 4 + SK_HTTP_MAX_TARGET, &req, 16), -EAGAIN);
    /* A caller's smaller limit. */
    sk_http_limits lim = {.max_target = 10};
    const char *s = "GET /123456789a HTTP/1.1\r\nHost: a\r\n\r\n";
    memset(&req, 0, sizeof req);
    req.headers = g_hdrs;
    req.max_headers = 16;
    assert_int_equal(sk_http_parse_request(guarded(s, strlen(s)), strlen(s), &req, &lim), SK_EHTTP_URI);
    lim.max_target = 11;
    assert_int_equal(sk_http_parse_request(guarded(s, strlen(s)), strlen(s), &req, &lim), (int)strlen(s));
}

static void test_long_headers(void **state)
{
    static char buf[20000];
    sk_http_request req;
    size_t n;
    (void)state;
    /* One header whose line makes the section exactly 8192 bytes with the
     * final empty line: accepted. "Host: a\r\n" is 9, "X: " 3, CRLF 2 + 2. */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    size_t fill = SK_HTTP_MAX_HEAD - 9 - 3 - 2 - 2;
    memset(buf + n, 'v', fill);
    strcpy(buf + n + fill, "\r\n\r\n");
    assert_int_equal(parse(buf, &req), (int)strlen(buf));
    assert_int_equal(req.headers[1].value_len, fill);
    /* One byte more: 431, complete or still arriving. */
    memset(buf + n, 'v', fill + 1);
    strcpy(buf + n + fill + 1, "\r\n\r\n");
    assert_int_equal(parse(buf, &req), SK_EHTTP_HEADERS);
    /* A value still arriving past the limit is 431 before its line ends. */
    memset(buf + n, 'v', 9000);
    assert_int_equal(parse_n(buf, n + 9000, &req, 16), SK_EHTTP_HEADERS);
    /* Many small headers past the limit, never completed. */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    while (n < 9000)
        n += (size_t)sprintf(buf + n, "A: b\r\n");
    assert_int_equal(parse_n(buf, n, &req, 16), SK_EHTTP_HEADERS);
    /* An endless header name. */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    memset(buf + n, 'N', 9000);
    assert_int_equal(parse_n(buf, n + 9000, &req, 16), SK_EHTTP_HEADERS);
    /* Endless empty lines before the request line. */
    memset(buf, '\n', 9000);
    assert_int_equal(parse_n(buf, 9000, &req, 16), SK_EHTTP_BAD);
}

static void test_header_count(void **state)
{
    sk_http_request req;
    const char *four = "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\n";
    const char *five = "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\nE: 4\r\n\r\n";
    (void)state;
    assert_int_equal(parse_n(four, strlen(four), &req, 4), (int)strlen(four));
    assert_int_equal(req.num_headers, 4);
    assert_int_equal(parse_n(five, strlen(five), &req, 4), SK_EHTTP_HEADERS);
    assert_int_equal(parse_n(five, strlen(five), &req, 0), SK_EHTTP_HEADERS);
    assert_int_equal(parse_n(five, strlen(five), &req, 5), (int)strlen(five));
}

static void test_versions(void **state)
{
    sk_http_request req;
    (void)state;
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
    assert_int_equal(req.minor_version, 0);
    assert_true(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &req) > 0);
    assert_int_equal(req.minor_version, 1);
    bad("GET / HTTP/2.0\r\nHost: a\r\n\r\n", SK_EHTTP_VERSION);
    bad("GET / HTTP/0.9\r\n\r\n", SK_EHTTP_VERSION);
    bad("GET / HTTP/3.0\r\n\r\n", SK_EHTTP_VERSION);
    bad("GET / HTTP/1.10\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/11\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTX/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / http/1.1\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.a\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/\r\n\r\n", SK_EHTTP_BAD);
}

static void test_line_endings(void **state)
{
    sk_http_request req;
    (void)state;
    /* Bare LF is accepted everywhere (RFC 9112 2.2), mixed too. */
    const char *lf = "GET / HTTP/1.1\nHost: a\nX: y\n\n";
    assert_int_equal(parse(lf, &req), (int)strlen(lf));
    assert_true(view_eq(req.headers[1].value, req.headers[1].value_len, "y"));
    const char *mixed = "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n";
    assert_int_equal(parse(mixed, &req), (int)strlen(mixed));
    /* Leading empty lines are skipped and counted. */
    const char *lead = "\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(parse(lead, &req), (int)strlen(lead));
    assert_true(view_eq(req.method, req.method_len, "GET"));
}

static void test_values_trimmed(void **state)
{
    sk_http_request req;
    (void)state;
    const char *s = "GET / HTTP/1.1\r\nHost: \t example.com \t \r\nEmpty:   \r\nIn: a  b\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_true(view_eq(req.headers[0].value, req.headers[0].value_len, "example.com"));
    assert_int_equal(req.headers[1].value_len, 0);
    assert_true(view_eq(req.headers[2].value, req.headers[2].value_len, "a  b"));
}

static int length_of(const char *hdrs, uint64_t *cl)
{
    char buf[512];
    sk_http_request req;
    snprintf(buf, sizeof buf, "POST / HTTP/1.1\r\nHost: a\r\n%s\r\n", hdrs);
    int rc = parse(buf, &req);
    *cl = req.content_length;
    return rc;
}

static void test_content_length(void **state)
{
    uint64_t cl;
    (void)state;
    assert_true(length_of("Content-Length: 0\r\n", &cl) > 0);
    assert_int_equal(cl, 0);
    assert_true(length_of("content-length: 42\r\n", &cl) > 0);
    assert_int_equal(cl, 42);
    assert_true(length_of("Content-Length: 9223372036854775807\r\n", &cl) > 0);
    assert_true(cl == UINT64_C(9223372036854775807));
    assert_true(length_of("Content-Length: 7\r\nCONTENT-LENGTH: 7\r\n", &cl) > 0);
    assert_int_equal(cl, 7);
    assert_true(length_of("Content-Length: 7, 7 ,7\r\n", &cl) > 0);
    assert_int_equal(cl, 7);
    assert_true(length_of("Content-Length: 007\r\n", &cl) > 0);
    assert_int_equal(cl, 7);
    const char *badv[] = {
        "Content-Length: -1\r\n",
        "Content-Length: +5\r\n",
        "Content-Length: abc\r\n",
        "Content-Length: 5a\r\n",
        "Content-Length:\r\n",
        "Content-Length: 1 2\r\n",
        "Content-Length: 9223372036854775808\r\n",
        "Content-Length: 18446744073709551616\r\n",
        "Content-Length: 99999999999999999999999\r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: 5, 6\r\n",
        "Content-Length: 5,\r\n",
        "Content-Length: ,5\r\n",
        "Content-Length: 0x10\r\n",
    };
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        if (length_of(badv[i], &cl) != SK_EHTTP_BAD)
            fail_msg("accepted %s", badv[i]);
    }
}

static void test_transfer_encoding(void **state)
{
    (void)state;
    sk_http_request req;
    const char *ok = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    assert_int_equal(parse(ok, &req), (int)strlen(ok));
    assert_true(req.flags & SK_HTTP_CHUNKED);
    /* Ambiguous (with Content-Length), unknowable (not chunked last), or
     * in HTTP/1.0: 400. */
    bad("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n", SK_EHTTP_BAD);
    bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", SK_EHTTP_BAD);
    bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", SK_EHTTP_BAD);
    bad("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", SK_EHTTP_BAD);
    /* A malformed head is 400 whatever else it says. */
    bad("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n", SK_EHTTP_BAD);
}

static void test_host_syntax(void **state)
{
    (void)state;
    bad("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a:1x\r\n\r\n", SK_EHTTP_BAD);
    const char *good[] = {"a", "a.b-c_d~e", "a:80", "[::1]", "[::1]:8080", "1.2.3.4:1", "", "%41b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char buf[128];
        sk_http_request req;
        snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
        assert_int_equal(parse(buf, &req), (int)strlen(buf));
        assert_true(req.flags & SK_HTTP_HAS_HOST);
        assert_true(view_eq(req.headers[0].value, req.headers[0].value_len, good[i]));
        prefixes(buf, (int)strlen(buf));
        /* Any case of the name, blanks after the value: the same view. */
        snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nhOsT:\t%s \t\r\n\r\n", good[i]);
        assert_int_equal(parse(buf, &req), (int)strlen(buf));
        assert_true(view_eq(req.headers[0].value, req.headers[0].value_len, good[i]));
        prefixes(buf, (int)strlen(buf));
    }
    /* A value that starts as a plain host and goes on as something else. */
    bad("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a:80 x\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a:80:81\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", SK_EHTTP_BAD);
}

/* Every byte value inside a reg-name: allowed exactly when RFC 3986 lists
 * it (unreserved, pct-encoded, sub-delims but ','). */
static void test_host_bytes(void **state)
{
    (void)state;
    const char *listed = "-._~%!$&'()*+;=";
    for (int ch = 1; ch < 256; ch++) {
        if (ch == ':' || ch == '\r' || ch == '\n')
            continue; /* the port's separator; the line's end */
        char buf[64];
        sk_http_request req;
        int n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a%cb\r\n\r\n", ch);
        bool want = isalnum(ch) ? ch < 128 : strchr(listed, ch) != NULL;
        int rc = parse(buf, &req);
        if (want && rc != n)
            fail_msg("Host byte 0x%02x: got %d, want the request (%d)", ch, rc, n);
        if (!want && rc != SK_EHTTP_BAD)
            fail_msg("Host byte 0x%02x: got %d, want SK_EHTTP_BAD", ch, rc);
        /* In the port, digits only. */
        if (ch == '\r' || ch == '\n')
            continue;
        n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a:1%c2\r\n\r\n", ch);
        rc = parse(buf, &req);
        want = ch >= '0' && ch <= '9';
        if (want ? rc != n : rc != SK_EHTTP_BAD)
            fail_msg("port byte 0x%02x: got %d", ch, rc);
    }
}

/* The word-at-a-time skip stops exactly where a byte-by-byte scan for the
 * first byte below lo or equal to DEL would (or at the last partial word),
 * wherever in a word that byte is, with false-positive patterns above it
 * (a byte just below lo followed by bytes just above it). */
static void test_skip_words(void **state)
{
    (void)state;
    static const unsigned char picks[] = {0x00, 0x09, 0x1f, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xa0, 0xff, 'a', ':'};
    unsigned seed = 12345;
    for (int round = 0; round < 200000; round++) {
        unsigned char buf[40];
        size_t n = (size_t)(seed % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly allowed bytes, so stops fall at every offset */
            buf[i] = (seed >> 16) % 8 ? (unsigned char)('a' + (seed >> 20) % 26) : picks[(seed >> 20) % sizeof picks];
        }
        seed = seed * 1103515245u + 12345u;
        unsigned lo = (seed >> 16) % 2 ? 0x20 : 0x21;
        const unsigned char *got = sk__http_skip_words(buf, buf + n, lo), *want = buf;
        while (buf + n - want >= 8) {
            size_t k = 0;
            while (k < 8 && want[k] >= lo && want[k] != 0x7f)
                k++;
            want += k;
            if (k < 8)
                break;
        }
        if (got != want)
            fail_msg("round %d, %zu bytes, lo 0x%02x: stopped at %td, want %td", round, n, lo, got - buf, want - buf);
    }
}

static void path_is(const char *target, const char *want)
{
    char buf[256];
    sk_http_request req;
    const char *p;
    size_t n;
    snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", target);
    assert_int_equal(parse(buf, &req), (int)strlen(buf));
    sk_http_request_path(&req, &p, &n);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

static void test_request_path(void **state)
{
    (void)state;
    path_is("/a?b", "/a?b");
    path_is("http://example.com/a?b", "/a?b");
    path_is("HTTP://example.com", "/");
    path_is("http://example.com?q", "/");
    path_is("https://u@h:1/x", "/x");
    path_is("*", "*");
    path_is("example.com:443", "example.com:443");
}

/* Feed a chunked body in pieces of `step` bytes; returns the body bytes
 * consumed in all, or the error. */
static long chunks(const char *body, size_t step, bool *done, size_t *data)
{
    sk_http_chunks d = {0};
    size_t len = strlen(body), off = 0;
    *data = 0;
    *done = false;
    while (off < len && !*done) {
        size_t n = len - off < step ? len - off : step;
        const char *v;
        size_t vlen;
        long k = sk_http_chunks_feed(&d, body + off, n, done, &v, &vlen);
        if (k < 0)
            return k;
        *data += vlen;
        off += (size_t)k;
        if ((size_t)k < n && !*done)
            return -1; /* stopped early without an end */
    }
    return (long)off;
}

static void test_chunks(void **state)
{
    (void)state;
    const char *body = "5;ext=1\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    size_t full = strlen(body) - 4;
    for (size_t step = 1; step <= strlen(body); step++) {
        bool done;
        size_t data;
        long k = chunks(body, step, &done, &data);
        assert_int_equal(k, (long)full);
        assert_true(done);
        /* One view per call: in one-byte steps every data byte is seen. */
        if (step == 1)
            assert_int_equal(data, 21);
    }
    bool done;
    size_t data;
    assert_int_equal(chunks("0\n\n", 64, &done, &data), 3); /* bare LF */
    assert_true(done);
    assert_int_equal(chunks("zz\r\n", 64, &done, &data), SK_EHTTP_BAD);
    assert_int_equal(chunks(";x\r\n", 64, &done, &data), SK_EHTTP_BAD);
    assert_int_equal(chunks("3\r\nabcX", 64, &done, &data), SK_EHTTP_BAD);
    assert_int_equal(chunks("fffffffffffffffff\r\n", 64, &done, &data), SK_EHTTP_BAD);
}

static unsigned ka(const char *s)
{
    sk_http_request req;
    assert_int_equal(parse(s, &req), (int)strlen(s));
    return req.flags & SK_HTTP_KEEPALIVE;
}

static void test_keepalive(void **state)
{
    (void)state;
    assert_true(ka("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    assert_false(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    assert_false(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
    assert_false(ka("GET / HTTP/1.0\r\n\r\n"));
    assert_true(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    assert_true(ka("GET / HTTP/1.0\r\nConnection: foo,Keep-Alive\r\n\r\n"));
    assert_false(ka("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
    assert_false(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
    assert_true(ka("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"));
}

static void test_host(void **state)
{
    sk_http_request req;
    (void)state;
    bad("GET / HTTP/1.1\r\n\r\n", SK_EHTTP_BAD);
    bad("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", SK_EHTTP_BAD);
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
    assert_false(req.flags & SK_HTTP_HAS_HOST);
    assert_true(parse("GET / HTTP/1.0\r\nHost: x\r\n\r\n", &req) > 0);
    assert_true(req.flags & SK_HTTP_HAS_HOST);
}

static void test_status_map(void **state)
{
    (void)state;
    assert_int_equal(sk_http_error_status(SK_EHTTP_BAD), 400);
    assert_int_equal(sk_http_error_status(SK_EHTTP_URI), 414);
    assert_int_equal(sk_http_error_status(SK_EHTTP_HEADERS), 431);
    assert_int_equal(sk_http_error_status(SK_EHTTP_VERSION), 505);
    assert_int_equal(sk_http_error_status(SK_EHTTP_NOTIMPL), 501);
    assert_int_equal(sk_http_error_status(-EINVAL), 400);
    assert_string_equal(sk_http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(sk_http_reason(999), "");
    assert_string_equal(sk_strerror(SK_EHTTP_URI), "HTTP request-target too long");
}

/* Every prefix of every byte value after a valid request line stays within
 * bounds (the guard page turns an over-read into a crash). */
static void test_every_byte(void **state)
{
    char buf[64];
    sk_http_request req;
    (void)state;
    for (int b = 0; b < 256; b++) {
        int n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a");
        buf[n++] = (char)b;
        for (int i = 0; i <= n; i++)
            (void)parse_n(buf, (size_t)i, &req, 16);
        buf[0] = (char)b;
        for (int i = 0; i <= n; i++)
            (void)parse_n(buf, (size_t)i, &req, 16);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_partial_byte_by_byte),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_long_uri),
        cmocka_unit_test(test_long_headers),
        cmocka_unit_test(test_header_count),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_values_trimmed),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_transfer_encoding),
        cmocka_unit_test(test_host_syntax),
        cmocka_unit_test(test_request_path),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_host_bytes),
        cmocka_unit_test(test_skip_words),
        cmocka_unit_test(test_status_map),
        cmocka_unit_test(test_every_byte),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unguard();
    return rc;
}
