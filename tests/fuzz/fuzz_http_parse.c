/* libFuzzer target for the HTTP request-head parser: any bytes, any split
 * point, both header-array sizes; checks the contract, not just crashes. */
#include <errno.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so ASan flags any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    check(buf, size, 16);
    check(buf, size, 2);
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
