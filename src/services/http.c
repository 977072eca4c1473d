/* http: a small HTTP/1.1 server. GET / answers a fixed body, GET /stats the
 * server's counters (and, with --stats-table, a page of the live connection
 * table) as JSON; keep-alive,
 * pipelining, HTTP/1.0 and HEAD. Bad input gets its status and a close. */
#include "http_int.h"

#include <sockit/clock.h>
#include <sockit/http.h>
#include <sockit/server.h>
#include <sockit/service.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_HEAD_TIMEOUT_MS 10000
#define DEFAULT_STATS_RATE 10 /* /stats requests a second, server-wide */
#define INLINE_BODY 1024      /* bodies up to this go out with their head in one write */
#define PATTERN_CHUNK 4096
#define MAX_HEADERS 64

static const char hello[] = "hello\n";

/* A /stats answer still to stream. */
typedef struct http_blob {
    char *data;
    size_t off, len;
} http_blob;

/* Every connection holds one, idle or not, so it is kept to 32 bytes:
 * what only some requests need (a /stats answer, the decoder of a chunked
 * request body) is allocated while they need it. */
typedef struct http_state {
    uint64_t body_left; /* bytes of the pattern body still to stream */
    http_blob *blob;
    union {
        uint64_t skip;          /* !chunked: request body bytes still to discard */
        sk_http_chunks *chunks; /* chunked: the request body being read past */
    } body;
    bool chunked;
    bool close_after; /* close once the pending response is queued */
    bool served;      /* at least one response went out */
    bool partial;     /* part of the next request head has arrived */
    bool draining;    /* the server drains: the next answer is the last */
} http_state;

/* Configuration -------------------------------------------------------- */

/* Each takes the service's configuration (sk_conn_config, NULL for the
 * defaults), read once by a caller that needs several. */
static int64_t body_size(const sk_http_config *cfg) { return cfg && cfg->body_size >= 0 ? cfg->body_size : -1; }

static uint64_t body_len(int64_t size) { return size < 0 ? sizeof hello - 1 : (uint64_t)size; }

static int head_timeout(const sk_http_config *cfg)
{
    if (cfg == NULL || cfg->head_timeout_ms == 0)
        return DEFAULT_HEAD_TIMEOUT_MS;
    return cfg->head_timeout_ms < 0 ? 0 : cfg->head_timeout_ms;
}

static int stats_rate(const sk_http_config *cfg)
{
    if (cfg == NULL || cfg->stats_rate == 0)
        return DEFAULT_STATS_RATE;
    return cfg->stats_rate < 0 ? 0 : cfg->stats_rate;
}

/* The body of --body-size N: letters a-z repeating, the last byte '\n'.
 * Any slice is a memcpy from this table. */
static char pattern[26 + PATTERN_CHUNK];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void pattern_init(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)('a' + i % 26);
}

/* Copy body bytes [off, off + n) of a body of total bytes (size as
 * configured) to dst. */
static void body_copy(char *dst, int64_t size, uint64_t off, size_t n)
{
    if (size < 0) {
        memcpy(dst, hello + off, n);
        return;
    }
    while (n > 0) {
        size_t k = n < PATTERN_CHUNK ? n : PATTERN_CHUNK;
        memcpy(dst, pattern + off % 26, k);
        if (off + k == (uint64_t)size)
            dst[k - 1] = '\n';
        dst += k;
        off += k;
        n -= k;
    }
}

/* Per-thread response cache ---------------------------------------------
 * The common answer (GET / over HTTP/1.1 keep-alive) is built once per
 * second per thread (the Date header changes) and copied out whole. Being
 * per thread, it needs no lock under any model. */
typedef struct resp_cache {
    time_t sec;
    int64_t size;
    bool valid;
    char date[48]; /* "Date: ...\r\n" */
    size_t date_len;
    size_t head_len; /* the whole head, blank line included */
    size_t full_len; /* head and body, when the body is inlined */
    char buf[512 + INLINE_BODY];
} resp_cache;

static _Thread_local resp_cache tcache;

/* Build the cached answer for this second and body size: once a second,
 * apart from cache_get so that the per-request check stays a few
 * instructions inline. */
__attribute__((noinline, cold)) static const resp_cache *cache_fill(resp_cache *rc, time_t now, int64_t size)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    rc->date_len = strftime(rc->date, sizeof rc->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    uint64_t blen = body_len(size);
    int n = snprintf(rc->buf, 512,
                     "HTTP/1.1 200 OK\r\nServer: sockit\r\n%sContent-Type: text/plain\r\nContent-Length: %" PRIu64
                     "\r\n\r\n",
                     rc->date, blen);
    rc->head_len = (size_t)n;
    rc->full_len = 0;
    if (blen <= INLINE_BODY) {
        body_copy(rc->buf + n, size, 0, (size_t)blen);
        rc->full_len = (size_t)n + (size_t)blen;
    }
    rc->sec = now;
    rc->size = size;
    rc->valid = true;
    return rc;
}

static inline const resp_cache *cache_get(int64_t size)
{
    time_t now = time(NULL);
    resp_cache *rc = &tcache;

    if (rc->valid && rc->sec == now && rc->size == size)
        return rc;
    return cache_fill(rc, now, size);
}

/* Responses --------------------------------------------------------------- */

enum { R_KEEP = 0, R_CLOSE = 1, R_KEEP10 = 2 }; /* the Connection header to send */

/* Write a head (and an inline body) in one piece. Returns 0, or -ENOBUFS
 * when it does not fit now (nothing written). */
static int write_head(sk_conn *c, int status, const char *ctype, uint64_t clen, int conn, const char *extra,
                      const char *body, size_t blen)
{
    const resp_cache *rc = cache_get(body_size(sk_conn_config(c)));
    char buf[1024];
    int n =
        snprintf(buf, sizeof buf,
                 "HTTP/1.1 %d %s\r\nServer: sockit\r\n%.*sContent-Type: %s\r\nContent-Length: %" PRIu64 "\r\n%s%s\r\n",
                 status, sk_http_reason(status), (int)rc->date_len, rc->date, ctype, clen,
                 conn == R_CLOSE    ? "Connection: close\r\n"
                 : conn == R_KEEP10 ? "Connection: keep-alive\r\n"
                                    : "",
                 extra ? extra : "");
    if (n < 0 || (size_t)n + blen > sizeof buf)
        return -EINVAL;
    if (blen > 0)
        memcpy(buf + n, body, blen);
    if ((size_t)n + blen > sk_conn_room(c))
        return -ENOBUFS;
    return sk_conn_write(c, buf, (size_t)n + blen);
}

/* An error answer; the connection closes after it. */
static int answer_error(sk_conn *c, http_state *st, int status)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%s\n", sk_http_reason(status));
    int rc = write_head(c, status, "text/plain", (uint64_t)n, R_CLOSE, status == 405 ? "Allow: GET, HEAD\r\n" : NULL,
                        body, (size_t)n);
    if (rc == 0) {
        st->served = true;
        st->close_after = true; /* nothing pipelined behind it is answered */
        sk_conn_set_timeout(c, 0);
        sk_conn_close(c);
    }
    return rc;
}

static bool pending(const http_state *st) { return st->body_left > 0 || st->blob != NULL; }

/* Queue as much of the pending body as fits. When it is all queued, close
 * if asked to, else start waiting for the next request head. */
static void pump(sk_conn *c, http_state *st)
{
    const sk_http_config *cfg = sk_conn_config(c);
    int64_t size = body_size(cfg);

    while (st->body_left > 0) {
        /* Only GET / streams: the body is the configured one. */
        uint64_t off = body_len(size) - st->body_left;
        size_t room = sk_conn_room(c);
        size_t n = st->body_left < PATTERN_CHUNK ? (size_t)st->body_left : PATTERN_CHUNK;
        if (n > room)
            n = room;
        if (n == 0)
            return;
        if (size >= 0 && n == st->body_left) {
            if (n > 1 && sk_conn_write(c, pattern + off % 26, n - 1) < 0)
                return;
            if (sk_conn_write(c, "\n", 1) < 0)
                return;
        } else if (sk_conn_write(c, pattern + off % 26, n) < 0) {
            return;
        }
        st->body_left -= n;
    }
    while (st->blob) {
        http_blob *b = st->blob;
        size_t room = sk_conn_room(c), n = b->len - b->off;
        if (n > room)
            n = room;
        if (n == 0)
            return;
        if (sk_conn_write(c, b->data + b->off, n) < 0)
            return;
        b->off += n;
        if (b->off == b->len) {
            free(b->data);
            free(b);
            st->blob = NULL;
        }
    }
    if (st->close_after) {
        sk_conn_set_timeout(c, 0);
        sk_conn_close(c);
    } else
        sk_conn_set_timeout(c, head_timeout(cfg));
}

/* Requests ---------------------------------------------------------------- */

/* The request's path (T, TLEN: also of an absolute-form target) is PATH,
 * alone or before a query. PATH is a literal: its length is known, and the
 * compare of so few bytes is inlined. */
#define PATH_IS(t, tlen, path) path_is(t, tlen, path, sizeof(path) - 1)
static inline bool path_is(const char *t, size_t tlen, const char *path, size_t n)
{
    if (tlen < n || (tlen > n && t[n] != '?'))
        return false;
    return memcmp(t, path, n) == 0;
}

/* Answer one parsed request. Returns 0, or -ENOBUFS to retry the same
 * request once output room frees up. */
static int answer(sk_conn *c, http_state *st, const sk_http_request *r)
{
    bool keep = (r->flags & SK_HTTP_KEEPALIVE) != 0 && !st->draining;
    bool head = r->method_id == SK_HTTP_HEAD;
    int conn = !keep ? R_CLOSE : r->minor_version == 0 ? R_KEEP10 : R_KEEP;
    const sk_http_config *cfg = sk_conn_config(c);
    const char *path;
    size_t plen;
    int rc;

    if (r->method_id != SK_HTTP_GET && !head) {
        /* The body is framed (Content-Length or chunked): it is read past
         * and the connection goes on, as for any answer. */
        static const char body[] = "Method Not Allowed\n";
        rc = write_head(c, 405, "text/plain", sizeof body - 1, conn, "Allow: GET, HEAD\r\n", body, sizeof body - 1);
        goto done;
    }

    sk_http_request_path(r, &path, &plen);
    if (PATH_IS(path, plen, "/")) {
        int64_t size = body_size(cfg);
        const resp_cache *rcache = cache_get(size);
        uint64_t blen = body_len(size);
        /* The hot path: one copy of a prebuilt answer, or for a client
         * that asked to close (one request per connection) the same with
         * its Connection header put in before the blank line. */
        size_t n = head ? rcache->head_len : rcache->full_len;
        if (n > 0) {
            const char *hdr = conn == R_CLOSE    ? "Connection: close\r\n"
                              : conn == R_KEEP10 ? "Connection: keep-alive\r\n"
                                                 : "";
            size_t hlen = strlen(hdr), cut = rcache->head_len - 2;
            /* One write either fits whole or writes nothing (-ENOBUFS, the
             * retry); three must know beforehand that all of them fit. */
            if (hlen == 0)
                rc = sk_conn_write(c, rcache->buf, n);
            else if (n + hlen > sk_conn_room(c))
                return -ENOBUFS;
            else if ((rc = sk_conn_write(c, rcache->buf, cut)) == 0 && (rc = sk_conn_write(c, hdr, hlen)) == 0)
                rc = sk_conn_write(c, rcache->buf + cut, n - cut);
            goto done;
        }
        if (head || blen <= INLINE_BODY) {
            char body[INLINE_BODY];
            size_t n = head ? 0 : (size_t)blen;
            body_copy(body, size, 0, n);
            rc = write_head(c, 200, "text/plain", blen, conn, NULL, body, n);
            goto done;
        }
        /* A large body streams: the head now, the body as room appears. */
        rc = write_head(c, 200, "text/plain", blen, conn, NULL, NULL, 0);
        if (rc == 0)
            st->body_left = blen;
        goto done;
    }
    if (PATH_IS(path, plen, "/stats")) {
        char *json;
        size_t jlen;
        const char *q;
        http_blob *b;
        if (sk_conn_room(c) < 1024)
            return -ENOBUFS;
        /* Server-wide: a flood of /stats cannot take the server's time from
         * its other clients (docs/reliability.md). */
        if (!sk_server_rate_take(sk_conn_server(c), stats_rate(cfg))) {
            static const char body[] = "Too Many Requests\n";
            rc = write_head(c, 429, "text/plain", sizeof body - 1, conn, "Retry-After: 1\r\n", head ? NULL : body,
                            head ? 0 : sizeof body - 1);
            goto done;
        }
        if ((b = malloc(sizeof *b)) == NULL)
            return answer_error(c, st, 500);
        q = memchr(path, '?', plen);
        rc = sk__http_stats_json(c, q ? q + 1 : "", q ? plen - (size_t)(q + 1 - path) : 0, &json, &jlen);
        if (rc < 0) {
            free(b);
            return answer_error(c, st, rc == -EINVAL ? 400 : 500);
        }
        rc = write_head(c, 200, "application/json", jlen, conn, "Cache-Control: no-store\r\n", NULL, 0);
        if (rc < 0 || head) {
            free(json);
            free(b);
        } else {
            *b = (http_blob){.data = json, .len = jlen};
            st->blob = b;
        }
        goto done;
    }
    rc = write_head(c, 404, "text/plain", 10, conn, NULL, head ? NULL : "Not Found\n", head ? 0 : 10);
done:
    if (rc < 0)
        return rc;
    st->served = true;
    st->close_after = !keep;
    if (pending(st)) {
        sk_conn_set_timeout(c, 0); /* a slow reader is idle-timeout's business */
        pump(c, st);
    } else if (!keep) {
        sk_conn_set_timeout(c, 0);
        sk_conn_close(c);
    } else {
        sk_conn_set_timeout(c, head_timeout(cfg));
    }
    return 0;
}

/* A chunked request body was read past (or the connection ends). */
static void chunks_end(http_state *st)
{
    if (st->chunked)
        free(st->body.chunks);
    st->chunked = false;
    st->body.skip = 0;
}

static int http_data(sk_conn *c, const void *data, size_t len)
{
    http_state *st = sk_conn_state(c);
    const char *buf = data;
    size_t off = 0;
    sk_http_header hdrs[MAX_HEADERS];
    sk_http_request req; /* the parser fills the rest; answer() reads it only after a parse */
    req.headers = hdrs;
    req.max_headers = MAX_HEADERS;

    for (;;) {
        if (!st->chunked && st->body.skip > 0) {
            size_t k = len - off < st->body.skip ? len - off : (size_t)st->body.skip;
            off += k;
            st->body.skip -= k;
        }
        if (st->chunked && off < len) {
            bool end;
            long k = sk_http_chunks_feed(st->body.chunks, buf + off, len - off, &end, NULL, NULL);
            if (k < 0) {
                /* The framing is lost: nothing after it can be trusted. */
                if (!pending(st) && answer_error(c, st, 400) == -ENOBUFS)
                    break;
                st->close_after = true;
                sk_conn_close(c);
                return (int)len;
            }
            off += (size_t)k;
            if (end)
                chunks_end(st);
        }
        if (pending(st)) {
            pump(c, st);
            if (pending(st))
                break; /* pipelined requests wait for this answer to finish */
        }
        if (off == len || st->close_after || st->chunked)
            break;
        int rc = sk_http_parse_request(buf + off, len - off, &req, NULL);
        if (rc == -EAGAIN)
            break;
        if (rc < 0) {
            if (answer_error(c, st, sk_http_error_status(rc)) == -ENOBUFS)
                break;
            return (int)len;
        }
        if (answer(c, st, &req) == -ENOBUFS)
            break;
        off += (size_t)rc;
        if (req.flags & SK_HTTP_CHUNKED) {
            st->body.chunks = calloc(1, sizeof *st->body.chunks);
            if (st->body.chunks == NULL) {
                /* The body cannot be read past: the answer is the last. */
                st->close_after = true;
                if (!pending(st))
                    sk_conn_close(c);
                return (int)len;
            }
            st->chunked = true;
        } else
            st->body.skip = req.content_length;
    }
    st->partial = off < len && !st->chunked && st->body.skip == 0;
    if (st->close_after && !pending(st))
        return (int)len;
    return (int)off;
}

static int http_writable(sk_conn *c)
{
    http_state *st = sk_conn_state(c);
    if (pending(st))
        pump(c, st);
    return 0;
}

/* The head deadline passed: 408 for a request that started or was never
 * sent on a fresh connection; an idle keep-alive connection just closes. */
static int http_timeout(sk_conn *c)
{
    http_state *st = sk_conn_state(c);
    if (pending(st))
        return 0;
    if (st->served && !st->partial)
        sk_conn_close(c);
    else if (answer_error(c, st, 408) < 0)
        sk_conn_close(c);
    return 0;
}

/* The server drains: a response in progress is the last one, a request
 * head that started gets its answer with "Connection: close", and an idle
 * keep-alive connection closes now (a client may race a new request with
 * this close, as with any keep-alive timeout; RFC 9112 9.3.1). */
static int http_drain(sk_conn *c)
{
    http_state *st = sk_conn_state(c);
    st->draining = true;
    if (pending(st))
        st->close_after = true;
    else if (!st->partial) {
        sk_conn_set_timeout(c, 0);
        sk_conn_close(c);
    }
    return 0;
}

static int http_open(sk_conn *c)
{
    pthread_once(&pattern_once, pattern_init);
    /* TCP_NODELAY comes from the listener (.nodelay below). */
    sk_conn_set_timeout(c, head_timeout(sk_conn_config(c)));
    return 0;
}

static void http_close(sk_conn *c)
{
    http_state *st = sk_conn_state(c);
    if (st->blob)
        free(st->blob->data);
    free(st->blob);
    st->blob = NULL;
    chunks_end(st);
}

/* Options (sockit serve --body-size, --head-timeout) ------------------------ */

/* A whole decimal number within [min, max]. */
static bool parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int set_body_size(void *config, const char *text)
{
    long long v;
    if (!parse_int(text, 0, 1LL << 40, &v))
        return -EINVAL;
    ((sk_http_config *)config)->body_size = v;
    return 0;
}

static int set_head_timeout(void *config, const char *text)
{
    int64_t ms;
    if (sk_duration_parse(text, &ms) < 0 || ms > INT32_MAX)
        return -EINVAL;
    /* 0 in the config means the default, so "0 s" (off) is stored as < 0. */
    ((sk_http_config *)config)->head_timeout_ms = ms > 0 ? (int)ms : -1;
    return 0;
}

static int set_stats_table(void *config, const char *text)
{
    sk_http_stats_table t;
    if (strcmp(text, "off") == 0)
        t = SK_HTTP_STATS_TABLE_OFF;
    else if (strcmp(text, "loopback") == 0)
        t = SK_HTTP_STATS_TABLE_LOOPBACK;
    else if (strcmp(text, "any") == 0)
        t = SK_HTTP_STATS_TABLE_ANY;
    else
        return -EINVAL;
    ((sk_http_config *)config)->stats_table = t;
    return 0;
}

static int set_stats_rate(void *config, const char *text)
{
    long long v;
    if (!parse_int(text, 0, 1000000, &v))
        return -EINVAL;
    /* 0 in the config means the default, so "0" (no limit) is stored as < 0. */
    ((sk_http_config *)config)->stats_rate = v > 0 ? (int)v : -1;
    return 0;
}

static void http_config_init(void *config) { *(sk_http_config *)config = (sk_http_config){.body_size = -1}; }

static const sk_service_option http_options[] = {
    {.name = "body-size",
     .arg = "N",
     .help = "bytes of the GET / body (default: \"hello\\n\")",
     .wants = "0 to 1099511627776 bytes",
     .set = set_body_size},
    {.name = "head-timeout",
     .arg = "S",
     .help = "a request head must arrive within S seconds (or 500ms,\n1m), else 408 (default 10s; 0 turns it off)",
     .wants = "a time (10, 500ms, 1m)",
     .set = set_head_timeout},
    {.name = "stats-table",
     .arg = "off|loopback|any",
     .help =
         "who gets GET /stats's live connection table (every peer's\naddress, paged: ?limit=N&offset=M, N <= 1000);\n"
         "loopback: clients on 127.0.0.0/8 and ::1 (default off: the\ncounters only)",
     .wants = "off, loopback or any",
     .set = set_stats_table},
    {.name = "stats-rate",
     .arg = "N",
     .help = "GET /stats at most N times a second, server-wide; beyond,\n429 (counted: rate_limited; default 10; 0: no "
             "limit)",
     .wants = "a number of requests a second (0: no limit)",
     .set = set_stats_rate},
    {0},
};

const sk_service sk__service_http = {
    .name = "http",
    .summary = "HTTP/1.1: GET / answers a body, GET /stats the counters as JSON",
    .conn_state_size = sizeof(http_state),
    .on_open = http_open,
    .on_data = http_data,
    .on_writable = http_writable,
    .on_close = http_close,
    .on_timeout = http_timeout,
    .on_drain = http_drain,
    /* A head at both limits (target and header section) with its request
     * line, and an answer with an inline body, each in one buffer. */
    .min_buf_size = SK_HTTP_MAX_TARGET + SK_HTTP_MAX_HEAD + 512,
    /* Answers are whole and written once per batch: Nagle could only hold
     * back the tail of a large body waiting for an ACK. */
    .nodelay = true,
    .options = http_options,
    .config_size = sizeof(sk_http_config),
    .config_init = http_config_init,
};
