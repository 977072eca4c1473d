/* HTTP/1.x: a zero-copy request-head parser (every string is a pointer and a
 * length into the caller's buffer; the parser owns no memory), an
 * incremental response reader for clients, and the configuration of the
 * built-in "http" service. */
#ifndef SOCKIT_HTTP_H
#define SOCKIT_HTTP_H

#include <stdbool.h>
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
    SK_HTTP_KEEPALIVE = 1 << 0,  /* the connection persists after this exchange */
    SK_HTTP_CHUNKED = 1 << 1,    /* the body is chunked (requests: Transfer-Encoding
                                  * ending in chunked; decode it with sk_http_chunks) */
    SK_HTTP_HAS_HOST = 1 << 2,   /* requests: exactly one Host header was present, and valid */
    SK_HTTP_HAS_LENGTH = 1 << 3, /* a Content-Length header was present */
    SK_HTTP_EOF_BODY = 1 << 4    /* responses: the body runs until the server closes */
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
 *   - Transfer-Encoding whose last coding is chunked sets SK_HTTP_CHUNKED:
 *     the body that follows is read with sk_http_chunks (RFC 9112 7.1: a
 *     recipient must be able to decode chunked). Any other final coding is
 *     400 (6.3: the length cannot be known), and so is Transfer-Encoding
 *     together with Content-Length (ambiguous framing, the request smuggling
 *     vector), or in an HTTP/1.0 request;
 *   - Host (RFC 9112 3.2, RFC 3986 3.2.2): one, and a host with an optional
 *     port only: userinfo ("user@"), a path, a comma list, spaces or any
 *     byte outside reg-name / IP-literal are 400; an empty Host is allowed;
 *   - keep-alive: HTTP/1.1 persists unless "Connection: close", HTTP/1.0
 *     only with "Connection: keep-alive"; close wins over keep-alive.
 * Never reads past buf[len - 1]. */
int sk_http_parse_request(const char *buf, size_t len, sk_http_request *req, const sk_http_limits *lim);

/* The path a request names: the target itself in origin form ("/a?b"),
 * the part after the authority in absolute form ("http://h/a?b" -> "/a?b",
 * "http://h" -> "/"; RFC 9112 3.2.2: a server must accept it), the target
 * as it is otherwise ("*", authority form). */
void sk_http_request_path(const sk_http_request *req, const char **path, size_t *len);

/* A chunked body's decoder (RFC 9112 7.1): sizes in hex, extensions
 * skipped, trailer fields skipped. Zero-initialised is ready. */
typedef struct sk_http_chunks {
    int st;
    uint64_t left;
    unsigned line; /* bytes of the current size or trailer line */
    bool digit;
} sk_http_chunks;

/* Feed body bytes from buf[0, len). Returns how many bytes belong to the
 * body (the rest, when *done, begins the next message), or SK_EHTTP_BAD
 * for a malformed body (a bad size, a size line or trailer over 8 KiB, a
 * missing CRLF). *data / *data_len (either may be NULL) get the first run
 * of chunk data in those bytes, or NULL / 0. */
long sk_http_chunks_feed(sk_http_chunks *d, const char *buf, size_t len, bool *done, const char **data,
                         size_t *data_len);

/* The HTTP status for a parser error code (400, 414, 431, 501, 505), or 400
 * for anything else. */
int sk_http_error_status(int err);

/* The reason phrase for a status ("OK", "Not Found", ...), "" if unknown. */
const char *sk_http_reason(int status);

/* HTTP/1.1 response reader --------------------------------------------------
 * Incremental: bytes are fed as they arrive, split anywhere, and the reader
 * keeps no copy of them beyond the start of one head line (so it needs no
 * buffer of the caller's and no allocation). It reports the status, how the
 * body is framed and whether the connection persists, and hands the body
 * back as views into the bytes fed (de-chunked), so a client that keeps its
 * bytes (a JSON or etcd client) finds the body in place and one that does
 * not (a load generator) just counts it. */

/* Options for sk_http_response_init(). */
enum {
    SK_HTTP_RESP_NO_BODY = 1 << 0 /* the answer to a HEAD request: no body whatever the headers say */
};

/* What one sk_http_response_feed() call found (r->events). */
enum {
    SK_HTTP_RESP_HEAD = 1 << 0, /* the final head completed: status, flags, content_length are set */
    SK_HTTP_RESP_BODY = 1 << 1, /* r->body / r->body_len hold body bytes */
    SK_HTTP_RESP_DONE = 1 << 2  /* the response ended; bytes after it begin the next one */
};

/* Bytes a response head (status line and header section, interim 1xx heads
 * each counted on their own) may take: more is SK_EHTTP_HEADERS. */
#define SK_HTTP_MAX_RESPONSE_HEAD 65536
/* The longest framing header line (Content-Length, Transfer-Encoding,
 * Connection) the reader looks into: a longer one is SK_EHTTP_HEADERS. */
#define SK_HTTP_RESP_LINE 128

typedef struct sk_http_response {
    /* Out: set when events has SK_HTTP_RESP_HEAD, kept until the next
     * response starts. */
    int status;              /* 100-999; interim 1xx (other than 101) are skipped */
    int minor_version;       /* 0 or 1 (1.x with x > 1 reads as 1) */
    unsigned flags;          /* SK_HTTP_KEEPALIVE, SK_HTTP_CHUNKED, SK_HTTP_HAS_LENGTH, SK_HTTP_EOF_BODY */
    uint64_t content_length; /* with SK_HTTP_HAS_LENGTH (ignored for framing when chunked) */
    uint64_t head_len;       /* bytes from the response's first byte (interim 1xx heads included) to
                              * its body: a caller holding the response in one buffer from its start
                              * finds a Content-Length body at buf + head_len */
    unsigned interim;        /* interim 1xx heads skipped before this one */
    /* Out of the last call: a view into that call's buf, valid as long as
     * those bytes are (set with SK_HTTP_RESP_BODY, else NULL and 0). */
    unsigned events;     /* SK_HTTP_RESP_* */
    const char *body;    /* body bytes, de-chunked: framing is never included */
    size_t body_len;     /* their count */
    uint64_t body_total; /* body bytes of this response so far */
    /* Private: the reader's state. */
    struct {
        unsigned opts;
        uint8_t st, llen, hfl;
        bool trunc, cr, started;
        uint64_t lbytes;                           /* bytes of the current head section or chunk-size line */
        uint64_t left;                             /* body or chunk bytes still to come */
        unsigned char line[SK_HTTP_RESP_LINE + 1]; /* the start of a split line (last: not reset) */
    } priv;
} sk_http_response;

/* Start reading a response (opts: SK_HTTP_RESP_NO_BODY or 0). Call it
 * before the first response on a connection; later ones start by
 * themselves after SK_HTTP_RESP_DONE, with the same opts (call it again
 * to change them). */
void sk_http_response_init(sk_http_response *r, unsigned opts);

/* Read from buf[0, len). Returns the bytes used (at least 1 when len > 0)
 * and sets r->events, or a negative SK_EHTTP_* code on a malformed response
 * (the connection is then unusable: close it). Fewer than len bytes are
 * used only when the response ended (SK_HTTP_RESP_DONE: the rest is the
 * next response) or when a chunk's data ended and more body follows (call
 * again with the rest). One call returns at most one body view.
 * Grammar (RFC 9112) and the choices made where it leaves room:
 *   - status line "HTTP/" DIGIT "." DIGIT SP 3DIGIT [SP reason]; a major
 *     version other than 1 is SK_EHTTP_VERSION, anything else malformed is
 *     SK_EHTTP_BAD; nothing may precede it (no empty lines);
 *   - lines end in CRLF or a bare LF; a CR not followed by LF is malformed;
 *   - header names are tokens followed directly by ':'; values hold SP,
 *     HTAB, VCHAR and obs-text; obs-fold (continuation lines) is refused;
 *   - Content-Length as for requests (the same code parses both): digits
 *     only, at most 2^63-1, repeats and comma lists must agree;
 *   - Transfer-Encoding: chunked as the last coding frames the body by
 *     chunks (and wins over Content-Length, and then the connection is not
 *     reused); any other coding list means the body runs to the close;
 *   - 1xx other than 101 are interim: skipped, the final head follows;
 *     101, 204, 304 and SK_HTTP_RESP_NO_BODY have no body; otherwise chunks,
 *     then Content-Length, then the close frame the body;
 *   - chunk sizes are hex (at most 2^64-1), chunk extensions and trailer
 *     fields are skipped;
 *   - keep-alive: HTTP/1.1 persists unless "Connection: close", HTTP/1.0
 *     only with "Connection: keep-alive"; never after a close-delimited
 *     body or a 101.
 * Never reads outside buf[0, len). */
long sk_http_response_feed(sk_http_response *r, const char *buf, size_t len);

/* The server closed the connection. Returns 1 when that ends the response
 * (a close-delimited body: r->events becomes SK_HTTP_RESP_DONE), 0 when no
 * response was under way (nothing fed since the last one ended), or
 * SK_EHTTP_BAD when it cut a response short. */
int sk_http_response_eof(sk_http_response *r);

/* Who gets /stats's connection table. */
typedef enum sk_http_stats_table {
    SK_HTTP_STATS_TABLE_OFF,      /* nobody: the counters only (the default) */
    SK_HTTP_STATS_TABLE_LOOPBACK, /* clients on a loopback address */
    SK_HTTP_STATS_TABLE_ANY,      /* every client the server serves */
} sk_http_stats_table;

/* /stats pages the table: ?limit=N&offset=M, N at most this (default 100). */
#define SK_HTTP_STATS_MAX_ROWS 1000
#define SK_HTTP_STATS_ROWS 100

/* Configuration of the built-in "http" service, passed as
 * sk_server_config.service_config. NULL means every default. */
typedef struct sk_http_config {
    int64_t body_size;   /* bytes of the GET / body; < 0 means "hello\n" */
    int head_timeout_ms; /* a request head must arrive within this (408);
                          * 0 means 10000, < 0 none */
    /* GET /stats: the counters always; the live connection table (every
     * peer's address, a TCP_INFO call per row) only when asked for. */
    sk_http_stats_table stats_table;
    int stats_rate; /* /stats requests a second, server-wide (429 beyond);
                     * 0 means 10, < 0 no limit */
} sk_http_config;

#ifdef __cplusplus
}
#endif

#endif
