/* HTTP/1.x: a zero-copy request-head parser (every string is a pointer and a
 * length into the caller's buffer; the parser owns no memory) and the
 * configuration of the built-in "http" service. */
#ifndef SOCKIT_HTTP_H
#define SOCKIT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One header line: name and value as views into the parsed buffer. The
 * value has its surrounding whitespace trimmed. */
typedef struct sk_http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sk_http_header;

/* The methods the parser recognizes; any other valid token is OTHER. */
enum { SK_HTTP_OTHER = 0, SK_HTTP_GET, SK_HTTP_HEAD, SK_HTTP_POST, SK_HTTP_PUT, SK_HTTP_DELETE, SK_HTTP_OPTIONS };

/* Flags the parser derives from the head. */
enum {
    SK_HTTP_KEEPALIVE = 1 << 0, /* the connection persists after this exchange */
    SK_HTTP_CHUNKED = 1 << 1,   /* never set: any Transfer-Encoding is refused (see below) */
    SK_HTTP_HAS_HOST = 1 << 2,  /* exactly one Host header was present */
    SK_HTTP_HAS_LENGTH = 1 << 3 /* a Content-Length header was present */
};

/* A parsed request head. Set headers/max_headers before parsing (the
 * header count is bounded by the caller's array: no allocation). */
typedef struct sk_http_request {
    const char *method;
    size_t method_len;
    int method_id; /* SK_HTTP_GET, ... or SK_HTTP_OTHER */
    const char *target;
    size_t target_len;
    int minor_version;       /* 0 or 1: HTTP/1.x with x > 1 is served as 1.1 */
    sk_http_header *headers; /* in: caller's array */
    size_t max_headers;      /* in: its capacity */
    size_t num_headers;      /* out: headers filled */
    uint64_t content_length; /* 0 when absent */
    unsigned flags;          /* SK_HTTP_KEEPALIVE, ... */
} sk_http_request;

/* Bounds the parser enforces; NULL or a 0 field means the default. */
typedef struct sk_http_limits {
    size_t max_target; /* request-target bytes (default 8192): more is SK_EHTTP_URI (414) */
    size_t max_head;   /* header section bytes after the request line (default
                        * 8192): more is SK_EHTTP_HEADERS (431) */
} sk_http_limits;

#define SK_HTTP_MAX_TARGET 8192
#define SK_HTTP_MAX_HEAD 8192
#define SK_HTTP_MAX_METHOD 32

/* Parse one request head at the start of buf[0, len).
 * Returns:
 *   > 0   the head is complete; that many bytes (request line, headers and
 *         the empty line) belong to it. A body of req->content_length bytes
 *         follows; the next pipelined request starts after it.
 *   -EAGAIN  the head is incomplete so far and nothing is wrong yet: call
 *         again with more bytes (from the same start).
 *   < 0   an SK_EHTTP_* code; sk_http_error_status() gives the status to
 *         answer with before closing.
 * Grammar (RFC 9112), and the choices made where it leaves room:
 *   - empty lines before the request line are skipped (and counted);
 *   - lines end in CRLF or a bare LF (RFC 9112 2.2 allows accepting LF); a CR
 *     not followed by LF is malformed;
 *   - exactly one SP between method, target and version;
 *   - the method must be a token (<= 32 bytes); the target printable ASCII or
 *     obs-text, non-empty;
 *   - "HTTP/" DIGIT "." DIGIT: major 1 is served (minor >= 1 as 1.1), any
 *     other well-formed version is SK_EHTTP_VERSION (505), anything else 400;
 *   - header names are tokens followed directly by ':'; values may hold SP,
 *     HTAB, VCHAR and obs-text; obs-fold (continuation lines) is refused;
 *   - more headers than max_headers is SK_EHTTP_HEADERS (431);
 *   - Content-Length: decimal digits only, at most 2^63-1; repeated headers
 *     or comma lists must all agree, else 400;
 *   - Transfer-Encoding (any value) is SK_EHTTP_NOTIMPL (501): request bodies
 *     are only framed by Content-Length, so the caller answers and closes
 *     instead of guessing where the next request starts;
 *   - keep-alive: HTTP/1.1 persists unless "Connection: close", HTTP/1.0
 *     only with "Connection: keep-alive"; close wins over keep-alive.
 * Never reads past buf[len - 1]. */
int sk_http_parse_request(const char *buf, size_t len, sk_http_request *req, const sk_http_limits *lim);

/* The HTTP status for a parser error code (400, 414, 431, 501, 505), or 400
 * for anything else. */
int sk_http_error_status(int err);

/* The reason phrase for a status ("OK", "Not Found", ...), "" if unknown. */
const char *sk_http_reason(int status);

/* Configuration of the built-in "http" service, passed as
 * sk_server_config.service_config. NULL means every default. */
typedef struct sk_http_config {
    int64_t body_size;   /* bytes of the GET / body; < 0 means "hello\n" */
    int head_timeout_ms; /* a request head must arrive within this (408);
                          * 0 means 10000, < 0 none */
} sk_http_config;

#ifdef __cplusplus
}
#endif

#endif
