/* HTTP/1.x request-head parser: one pass over the caller's bytes, views
 * instead of copies, bounds checked before every read (see http.h). */
#include <sockit/http.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sockit/error.h>

#include "http_common.h"

typedef sk__ucp ucp;

static int method_id(ucp m, size_t n)
{
    switch (n) {
    case 3:
        if (memcmp(m, "GET", 3) == 0)
            return SK_HTTP_GET;
        if (memcmp(m, "PUT", 3) == 0)
            return SK_HTTP_PUT;
        break;
    case 4:
        if (memcmp(m, "HEAD", 4) == 0)
            return SK_HTTP_HEAD;
        if (memcmp(m, "POST", 4) == 0)
            return SK_HTTP_POST;
        break;
    case 6:
        if (memcmp(m, "DELETE", 6) == 0)
            return SK_HTTP_DELETE;
        break;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0)
            return SK_HTTP_OPTIONS;
        break;
    }
    return SK_HTTP_OTHER;
}

/* After a line's content: CRLF or LF. Returns bytes of the line end (1 or
 * 2), 0 when more input is needed, < 0 when it is not a line end. */
static int line_end(ucp p, ucp end)
{
    if (*p == '\n')
        return 1;
    if (*p != '\r')
        return SK_EHTTP_BAD;
    if (p + 1 == end)
        return 0;
    return p[1] == '\n' ? 2 : SK_EHTTP_BAD;
}

/* What the headers said that the request as a whole needs. */
typedef struct head_facts {
    int hosts;
    bool te, close, keep;
} head_facts;

static int header_semantics(sk_http_request *req, head_facts *f, ucp name, size_t nlen, ucp val, size_t vlen)
{
    switch (nlen) {
    case 4:
        if (SK__HTTP_IEQ(name, nlen, "host"))
            f->hosts++;
        break;
    case 10:
        if (SK__HTTP_IEQ(name, nlen, "connection"))
            sk__http_parse_connection(val, vlen, &f->close, &f->keep);
        break;
    case 14:
        if (SK__HTTP_IEQ(name, nlen, "content-length")) {
            uint64_t x;
            if (sk__http_parse_length(val, vlen, &x) < 0)
                return SK_EHTTP_BAD;
            if ((req->flags & SK_HTTP_HAS_LENGTH) && x != req->content_length)
                return SK_EHTTP_BAD;
            req->content_length = x;
            req->flags |= SK_HTTP_HAS_LENGTH;
        }
        break;
    case 17:
        if (SK__HTTP_IEQ(name, nlen, "transfer-encoding"))
            f->te = true;
        break;
    }
    return 0;
}

#define NEED_MORE (-EAGAIN)

int sk_http_parse_request(const char *buf, size_t len, sk_http_request *req, const sk_http_limits *lim)
{
    size_t max_target = lim && lim->max_target ? lim->max_target : SK_HTTP_MAX_TARGET;
    size_t max_head = lim && lim->max_head ? lim->max_head : SK_HTTP_MAX_HEAD;
    ucp start = (ucp)buf, p = start, end = start + len, mark, head;
    head_facts f = {0};
    int rc;

    req->num_headers = 0;
    req->content_length = 0;
    req->flags = 0;

    /* RFC 9112 2.2: ignore empty lines before the request line (some
     * clients send a CRLF after a body). Bounded like the header section. */
    while (p < end && (*p == '\r' || *p == '\n')) {
        if ((size_t)(p - start) >= max_head)
            return SK_EHTTP_BAD;
        rc = line_end(p, end);
        if (rc <= 0)
            return rc < 0 ? rc : NEED_MORE;
        p += rc;
    }

    /* method SP */
    mark = p;
    while (p < end && (sk__http_cls[*p] & SK__C_TCHAR))
        p++;
    if ((size_t)(p - mark) > SK_HTTP_MAX_METHOD)
        return SK_EHTTP_BAD;
    if (p == end)
        return NEED_MORE;
    if (*p != ' ' || p == mark)
        return SK_EHTTP_BAD;
    req->method = (const char *)mark;
    req->method_len = (size_t)(p - mark);
    req->method_id = method_id(mark, req->method_len);
    p++;

    /* request-target SP, scanned no further than one byte past the limit */
    mark = p;
    ucp tend = (size_t)(end - p) > max_target ? p + max_target + 1 : end;
    p = sk__http_skip_words(p, tend, 0x21);
    while (p < tend && (sk__http_cls[*p] & SK__C_TARGET))
        p++;
    if ((size_t)(p - mark) > max_target)
        return SK_EHTTP_URI;
    if (p == end)
        return NEED_MORE;
    if (*p != ' ' || p == mark)
        return SK_EHTTP_BAD;
    req->target = (const char *)mark;
    req->target_len = (size_t)(p - mark);
    p++;

    /* HTTP-version: checked byte by byte so garbage fails before it is
     * complete, not only once 8 bytes arrived. */
    static const char proto[] = "HTTP/";
    if (end - p < 8 || memcmp(p, "HTTP/1.", 7) != 0 || !(sk__http_cls[p[7]] & SK__C_DIGIT)) {
        for (size_t i = 0; i < 8; i++) {
            if (p + i == end)
                return NEED_MORE;
            unsigned char ch = p[i];
            bool ok = i < 5    ? ch == (unsigned char)proto[i]
                      : i == 6 ? ch == '.'
                               : (sk__http_cls[ch] & SK__C_DIGIT) != 0;
            if (!ok)
                return SK_EHTTP_BAD;
        }
    }
    int major = p[5] - '0', minor = p[7] - '0';
    p += 8;
    if (p == end)
        return NEED_MORE;
    rc = line_end(p, end);
    if (rc <= 0)
        return rc < 0 ? rc : NEED_MORE;
    p += rc;
    if (major != 1)
        return SK_EHTTP_VERSION;
    req->minor_version = minor > 1 ? 1 : minor;

    /* header fields, up to the empty line */
    head = p;
    for (;;) {
        if ((size_t)(p - head) > max_head)
            return SK_EHTTP_HEADERS;
        if (p == end)
            return NEED_MORE;
        if (*p == '\r' || *p == '\n') {
            rc = line_end(p, end);
            if (rc <= 0)
                return rc < 0 ? rc : NEED_MORE;
            p += rc;
            break;
        }
        mark = p;
        while (p < end && (sk__http_cls[*p] & SK__C_TCHAR))
            p++;
        if ((size_t)(p - head) > max_head)
            return SK_EHTTP_HEADERS;
        if (p == end)
            return NEED_MORE;
        /* No name (obs-fold, stray bytes) or whitespace before the colon:
         * both are smuggling vectors RFC 9112 5.1/5.2 let a server refuse. */
        if (*p != ':' || p == mark)
            return SK_EHTTP_BAD;
        ucp name = mark;
        size_t nlen = (size_t)(p - mark);
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        mark = p;
        p = sk__http_skip_words(p, end, 0x20);
        while (p < end && (sk__http_cls[*p] & SK__C_VALUE))
            p++;
        if ((size_t)(p - head) > max_head)
            return SK_EHTTP_HEADERS;
        if (p == end)
            return NEED_MORE;
        rc = line_end(p, end);
        if (rc <= 0)
            return rc < 0 ? rc : NEED_MORE;
        ucp last = p; /* trim trailing blanks */
        while (last > mark && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if (req->num_headers == req->max_headers)
            return SK_EHTTP_HEADERS;
        sk_http_header *h = &req->headers[req->num_headers++];
        h->name = (const char *)name;
        h->name_len = nlen;
        h->value = (const char *)mark;
        h->value_len = (size_t)(last - mark);
        p += rc;
        rc = header_semantics(req, &f, name, nlen, mark, h->value_len);
        if (rc < 0)
            return rc;
    }
    if ((size_t)(p - head) > max_head)
        return SK_EHTTP_HEADERS;

    /* RFC 9112 3.2: a 1.1 request needs exactly one Host, more is 400. */
    if (f.hosts > 1 || (f.hosts == 0 && req->minor_version == 1))
        return SK_EHTTP_BAD;
    if (f.hosts == 1)
        req->flags |= SK_HTTP_HAS_HOST;
    if (f.te)
        return SK_EHTTP_NOTIMPL;
    if (!f.close && (req->minor_version == 1 || f.keep))
        req->flags |= SK_HTTP_KEEPALIVE;
    return (int)(p - start);
}

int sk_http_error_status(int err)
{
    switch (err) {
    case SK_EHTTP_URI:
        return 414;
    case SK_EHTTP_HEADERS:
        return 431;
    case SK_EHTTP_VERSION:
        return 505;
    case SK_EHTTP_NOTIMPL:
        return 501;
    default:
        return 400;
    }
}

const char *sk_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}
