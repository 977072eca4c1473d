/* libFuzzer target for the HTTP request-head parser: any bytes, any split
 * point, both header-array sizes; checks the contract, not just crashes. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/error.h>
#include <sockit/http.h>

static void check(const char *buf, size_t len, size_t max_headers)
{
    sk_http_header hdrs[16];
    sk_http_request req = {.headers = hdrs, .max_headers = max_headers};
    int rc = sk_http_parse_request(buf, len, &req, NULL);

    if (rc == -EAGAIN || (rc < 0 && sk_http_error_status(rc) >= 400))
        return;
    if (rc <= 0 || (size_t)rc > len)
        abort();
    /* Every view lies inside the consumed head. */
    const char *end = buf + rc;
    if (req.method < buf || req.method + req.method_len > end || req.target < buf ||
        req.target + req.target_len > end || req.num_headers > max_headers)
        abort();
    for (size_t i = 0; i < req.num_headers; i++) {
        const sk_http_header *h = &req.headers[i];
        if (h->name < buf || h->name + h->name_len > end || h->value < buf || h->value + h->value_len > end ||
            h->name_len == 0)
            abort();
    }
    /* A complete head stays complete, with the same length, when more
     * bytes follow it. */
    if ((size_t)rc < len) {
        sk_http_request again = {.headers = hdrs, .max_headers = max_headers};
        if (sk_http_parse_request(buf, (size_t)rc, &again, NULL) != rc)
            abort();
    }
}

/* The chunked-body decoder on the same bytes, whole and a byte at a time:
 * it must agree with itself, stay inside the input, and end or fail the
 * same way however the bytes arrive. */
static void check_chunks(const char *buf, size_t len)
{
    sk_http_chunks whole = {0}, bytes = {0};
    bool done_whole, done_bytes = false;
    const char *v;
    size_t vlen;
    long k = sk_http_chunks_feed(&whole, buf, len, &done_whole, &v, &vlen);
    if (k > (long)len || (v && (v < buf || v + vlen > buf + len)))
        abort();
    size_t used = 0;
    long rc = 0;
    while (used < len && !done_bytes) {
        rc = sk_http_chunks_feed(&bytes, buf + used, 1, &done_bytes, NULL, NULL);
        if (rc < 0)
            break;
        used += (size_t)rc;
        if (rc == 0 && !done_bytes)
            abort(); /* one byte offered, none taken, no end: a stall */
    }
    if ((k < 0) != (rc < 0) || (k >= 0 && (done_whole != done_bytes || (done_whole && (size_t)k != used))))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so ASan flags any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    check(buf, size, 16);
    check(buf, size, 2);
    check_chunks(buf, size);
    /* Every prefix of a short input must be incomplete or the same verdict
     * as a prefix: never a success that the full input contradicts. */
    if (size > 0 && size < 256) {
        sk_http_header hdrs[16];
        sk_http_request req = {.headers = hdrs, .max_headers = 16};
        int full = sk_http_parse_request(buf, size, &req, NULL);
        for (size_t i = 0; i < size; i++) {
            req.max_headers = 16;
            int rc = sk_http_parse_request(buf, i, &req, NULL);
            if (rc > 0 && full != rc)
                abort();
        }
    }
    free(buf);
    return 0;
}
