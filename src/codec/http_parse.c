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
    bool te, te_chunked, close, keep;
} head_facts;

/* RFC 3986 reg-name and IPv4 bytes: unreserved, pct-encoded, sub-delims
 * but ',' (RFC 9112 3.2: Host is one host, never a list): ALPHA, DIGIT and
 * "-._~%!$&'()*+;=", SK__C_HOST in the class table (test_http_parse checks
 * it against that list for all 256). */
static bool host_byte(unsigned char ch) { return (sk__http_cls[ch] & SK__C_HOST) != 0; }

/* Host: uri-host [ ":" port ]: a reg-name or IPv4 address, or an IPv6 /
 * IPvFuture literal in brackets, then optional digits. Empty is allowed. */
static bool host_valid(ucp v, size_t n)
{
    size_t i = 0;
    if (n > 0 && v[0] == '[') {
        for (i = 1; i < n && v[i] != ']'; i++) {
            unsigned char ch = v[i];
            if (!((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') || ch == ':' || ch == '.' ||
                  ch == 'v' || ch == 'V'))
                return false;
        }
        if (i == n || i == 1)
            return false;
        i++;
    } else {
        /* ':' is not a host byte: the scan stops at the port or at a bad byte. */
        while (i < n && host_byte(v[i]))
            i++;
    }
    if (i == n)
        return true;
    if (v[i] != ':')
        return false;
    for (i++; i < n && (sk__http_cls[v[i]] & SK__C_DIGIT); i++)
        ;
    return i == n;
}

/* The common Host value, a reg-name or IPv4 address and an optional port,
 * checked in the one scan that finds its end: returns that end and sets
 * *eol to the line end after the trailing blanks. NULL when the value is
 * anything else (an IP literal, a bad byte, not all here yet): the general
 * scan and host_valid then decide, so both paths answer alike. */
static ucp host_fast(ucp v, ucp end, ucp *eol)
{
    ucp p = sk__http_scan(v, end, SK__C_HOST);
    if (p < end && *p == ':')
        p = sk__http_scan(p + 1, end, SK__C_DIGIT);
    ucp vend = p;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end || (*p != '\r' && *p != '\n'))
        return NULL;
    *eol = p;
    return vend;
}

/* Transfer-Encoding: only whether its last coding is chunked matters. */
static int transfer_coding(head_facts *f, ucp v, size_t n)
{
    bool chunked;
    if (sk__http_te_chunked(v, n, &chunked) < 0)
        return SK_EHTTP_BAD;
    f->te = true;
    f->te_chunked = chunked;
    return 0;
}

static int header_semantics(sk_http_request *req, head_facts *f, ucp name, size_t nlen, ucp val, size_t vlen)
{
    switch (nlen) {
    case 4:
        if (SK__HTTP_IEQ(name, nlen, "host")) {
            if (!host_valid(val, vlen))
                return SK_EHTTP_BAD;
            f->hosts++;
        }
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
            return transfer_coding(f, val, vlen);
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

    /* method SP (GET, nearly every request, in one compare) */
    mark = p;
    if (end - p >= 4 && memcmp(p, "GET ", 4) == 0) {
        req->method_len = 3;
        req->method_id = SK_HTTP_GET;
        p += 3;
    } else {
        p = sk__http_scan(p, end, SK__C_TCHAR);
        if ((size_t)(p - mark) > SK_HTTP_MAX_METHOD)
            return SK_EHTTP_BAD;
        if (p == end)
            return NEED_MORE;
        if (*p != ' ' || p == mark)
            return SK_EHTTP_BAD;
        req->method_len = (size_t)(p - mark);
        req->method_id = method_id(mark, req->method_len);
    }
    req->method = (const char *)mark;
    p++;

    /* request-target SP, scanned no further than one byte past the limit */
    mark = p;
    ucp tend = (size_t)(end - p) > max_target ? p + max_target + 1 : end;
    p = sk__http_skip_words(p, tend, 0x21);
    p = sk__http_scan(p, tend, SK__C_TARGET);
    if ((size_t)(p - mark) > max_target)
        return SK_EHTTP_URI;
    if (p == end)
        return NEED_MORE;
    if (*p != ' ' || p == mark)
        return SK_EHTTP_BAD;
    req->target = (const char *)mark;
    req->target_len = (size_t)(p - mark);
    p++;

    /* HTTP-version and line end: "HTTP/1.1" CRLF in one compare, anything
     * else checked byte by byte so garbage fails before it is complete,
     * not only once 8 bytes arrived. */
    if (end - p >= 10 && memcmp(p, "HTTP/1.1\r\n", 10) == 0) {
        req->minor_version = 1;
        p += 10;
    } else {
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
    }

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
        p = sk__http_scan(p, end, SK__C_TCHAR);
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
        /* The value's end, trailing blanks trimmed: a plain Host is
         * checked as it is scanned, any other value scanned here and its
         * meaning read after. */
        ucp last = NULL;
        bool host = nlen == 4 && SK__HTTP_IEQ(name, nlen, "host") && (last = host_fast(mark, end, &p)) != NULL;
        if (!host)
            p = sk__http_value_end(mark, end);
        if ((size_t)(p - head) > max_head)
            return SK_EHTTP_HEADERS;
        if (p == end)
            return NEED_MORE;
        rc = line_end(p, end);
        if (rc <= 0)
            return rc < 0 ? rc : NEED_MORE;
        if (!host) {
            last = p;
            while (last > mark && (last[-1] == ' ' || last[-1] == '\t'))
                last--;
        }
        if (req->num_headers == req->max_headers)
            return SK_EHTTP_HEADERS;
        sk_http_header *h = &req->headers[req->num_headers++];
        h->name = (const char *)name;
        h->name_len = nlen;
        h->value = (const char *)mark;
        h->value_len = (size_t)(last - mark);
        p += rc;
        if (host) {
            f.hosts++;
        } else if ((rc = header_semantics(req, &f, name, nlen, mark, h->value_len)) < 0) {
            return rc;
        }
    }
    if ((size_t)(p - head) > max_head)
        return SK_EHTTP_HEADERS;

    /* RFC 9112 3.2: a 1.1 request needs exactly one Host, more is 400. */
    if (f.hosts > 1 || (f.hosts == 0 && req->minor_version == 1))
        return SK_EHTTP_BAD;
    if (f.hosts == 1)
        req->flags |= SK_HTTP_HAS_HOST;
    if (f.te) {
        /* RFC 9112 6.1, 6.3: with Content-Length it is ambiguous (and a
         * smuggling vector); without chunked last the end is unknowable;
         * HTTP/1.0 has no transfer codings. */
        if (!f.te_chunked || (req->flags & SK_HTTP_HAS_LENGTH) || req->minor_version == 0)
            return SK_EHTTP_BAD;
        req->flags |= SK_HTTP_CHUNKED;
    }
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
    case 429:
        return "Too Many Requests";
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

void sk_http_request_path(const sk_http_request *req, const char **path, size_t *len)
{
    const char *t = req->target, *end = req->target + req->target_len;
    *path = t;
    *len = req->target_len;
    if (req->target_len == 0 || t[0] == '/')
        return;
    /* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
    const char *sep = memchr(t, ':', req->target_len);
    if (sep == NULL || end - sep < 3 || sep[1] != '/' || sep[2] != '/')
        return;
    for (const char *p = t; p < sep; p++) {
        if (!((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') &&
            !(p > t && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')))
            return;
    }
    const char *a = sep + 3;
    while (a < end && *a != '/' && *a != '?')
        a++;
    if (a == end || *a == '?') {
        /* No path ("http://h", "http://h?q"): the origin's root. */
        *path = "/";
        *len = 1;
        return;
    }
    *path = a;
    *len = (size_t)(end - a);
}

enum { C_SIZE, C_EXT, C_EXT_LF, C_DATA, C_DATA_CR, C_DATA_LF, C_TRAILER, C_TRAILER_LINE, C_TRAILER_LF, C_DONE };
#define CHUNK_LINE_MAX 8192

long sk_http_chunks_feed(sk_http_chunks *d, const char *buf, size_t len, bool *done, const char **data,
                         size_t *data_len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0;
    bool have_data = false;

    *done = false;
    if (data)
        *data = NULL;
    if (data_len)
        *data_len = 0;
    while (i < len) {
        unsigned char ch = p[i];
        switch (d->st) {
        case C_SIZE: {
            int h = ch >= '0' && ch <= '9'                       ? ch - '0'
                    : ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') ? (ch | 0x20) - 'a' + 10
                                                                 : -1;
            if (++d->line > CHUNK_LINE_MAX)
                return SK_EHTTP_BAD;
            if (h >= 0) {
                if (d->left > (UINT64_MAX >> 4))
                    return SK_EHTTP_BAD;
                d->left = d->left << 4 | (uint64_t)h;
                d->digit = true;
                i++;
                break;
            }
            if (!d->digit)
                return SK_EHTTP_BAD;
            d->st = C_EXT;
            break; /* this byte again, as an extension byte */
        }
        case C_EXT:
            if (++d->line > CHUNK_LINE_MAX)
                return SK_EHTTP_BAD;
            i++;
            if (ch == '\r') {
                d->st = C_EXT_LF;
            } else if (ch == '\n') {
                d->line = 0;
                d->st = d->left ? C_DATA : C_TRAILER;
            } else if (!(sk__http_cls[ch] & SK__C_VALUE)) {
                return SK_EHTTP_BAD;
            }
            break;
        case C_EXT_LF:
            if (ch != '\n')
                return SK_EHTTP_BAD;
            i++;
            d->line = 0;
            d->st = d->left ? C_DATA : C_TRAILER;
            break;
        case C_DATA: {
            size_t k = len - i < d->left ? len - i : (size_t)d->left;
            if (!have_data && data) {
                *data = buf + i;
                if (data_len)
                    *data_len = k;
                have_data = true;
            }
            i += k;
            d->left -= k;
            if (d->left == 0)
                d->st = C_DATA_CR;
            break;
        }
        case C_DATA_CR:
            i++;
            if (ch == '\r')
                d->st = C_DATA_LF;
            else if (ch == '\n')
                d->st = C_SIZE, d->digit = false, d->line = 0;
            else
                return SK_EHTTP_BAD;
            break;
        case C_DATA_LF:
            if (ch != '\n')
                return SK_EHTTP_BAD;
            i++;
            d->st = C_SIZE;
            d->digit = false;
            d->line = 0;
            break;
        case C_TRAILER: /* the start of a trailer line, or the final empty line */
            i++;
            if (ch == '\n') {
                d->st = C_DONE;
                *done = true;
                return (long)i;
            }
            d->st = ch == '\r' ? C_TRAILER_LF : C_TRAILER_LINE;
            d->line = 1;
            break;
        case C_TRAILER_LF:
            if (ch != '\n')
                return SK_EHTTP_BAD;
            i++;
            if (d->line == 1) {
                d->st = C_DONE;
                *done = true;
                return (long)i;
            }
            d->st = C_TRAILER;
            d->line = 0;
            break;
        case C_TRAILER_LINE:
            if (++d->line > CHUNK_LINE_MAX)
                return SK_EHTTP_BAD;
            i++;
            if (ch == '\n')
                d->st = C_TRAILER;
            else if (ch == '\r')
                d->st = C_TRAILER_LF;
            else if (!(sk__http_cls[ch] & SK__C_VALUE) && ch != ':')
                return SK_EHTTP_BAD;
            break;
        default:
            *done = true;
            return (long)i;
        }
    }
    return (long)i;
}
