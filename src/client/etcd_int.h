/* Inside the etcd client: the v3 gateway's JSON (etcd_json.c, pure
 * functions over the caller's bytes) and one HTTP/1.1 request at a time
 * on an sk_loop (etcd_http.c). */
#ifndef SOCKIT_CLIENT_ETCD_INT_H
#define SOCKIT_CLIENT_ETCD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>
#include <sockit/etcd.h>
#include <sockit/http.h>
#include <sockit/loop.h>

/* Longest value an instance's key may hold that is still read as one. */
#define SK__ETCD_VALUE_MAX 4096

/* Request bodies, as malloc'd NUL-terminated text (free() them), or NULL
 * when memory ran out. int64s go as strings, keys and values as base64,
 * as the gateway wants them. */
char *sk__etcd_body_grant(int64_t ttl_s);
char *sk__etcd_body_lease(int64_t id); /* keepalive and revoke: {"ID":"N"} */
char *sk__etcd_body_put(const char *key, const char *value, int64_t lease);
char *sk__etcd_body_delete(const char *key);
/* Every key starting with prefix (range_end: the prefix with its last byte
 * plus one). */
char *sk__etcd_body_range(const char *prefix);
/* A watch of every key starting with prefix, from revision start_rev. */
char *sk__etcd_body_watch(const char *prefix, int64_t start_rev);

/* The error an answer with HTTP status status carries: 0 for 200 with a
 * JSON object, SK_EETCD for another status (whatever the body), SK_EETCDBAD
 * when a 200's body is no JSON object. */
int sk__etcd_check(int status, const char *body, size_t len);

/* /v3/lease/grant's answer: the lease ID and its TTL in seconds. 0 or
 * SK_EETCD (an "error" member) / SK_EETCDBAD. */
int sk__etcd_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl_s);

/* One object of /v3/lease/keepalive's stream ({"result":{...}}): the TTL
 * the lease has now, 0 when etcd no longer knows it. 0 or an error. */
int sk__etcd_parse_keepalive(const char *body, size_t len, int64_t *ttl_s);

/* Any other answer with a header (put, deleterange, revoke): its revision.
 * 0 or an error. */
int sk__etcd_parse_header(const char *body, size_t len, int64_t *revision);

/* One key of a range answer or a watch event. inst->key is always set;
 * valid is false when the value is not an instance (or, for a deletion,
 * when there is no value). */
typedef struct sk__etcd_kv {
    sk_etcd_instance inst;
    bool valid;
    bool deleted; /* watch: a DELETE event */
    bool created; /* watch: a PUT that created the key (version 1) */
    int64_t mod_revision;
} sk__etcd_kv;

/* Called for each key; a non-zero return stops the parse and is returned. */
typedef int (*sk__etcd_kv_fn)(void *userdata, const sk__etcd_kv *kv);

/* /v3/kv/range's answer: fn for every key in order, *revision the store's
 * revision the answer reflects. Returns 0 or an error (fn's included). */
int sk__etcd_parse_range(const char *body, size_t len, int64_t *revision, sk__etcd_kv_fn fn, void *userdata);

/* One object of /v3/watch's stream: fn for each event, *revision the
 * header's revision. Returns 1 when the object says the watch was created,
 * 0 for events (or progress), SK_EETCD when the watch was canceled or an
 * error came instead, SK_EETCDBAD for anything else. */
int sk__etcd_parse_watch(const char *body, size_t len, int64_t *revision, sk__etcd_kv_fn fn, void *userdata);

/* One HTTP/1.1 exchange at a time with one etcd, on a loop ---------------
 * Each request opens its own connection (Connection: close), so nothing
 * is left open between keepalives and a restarted etcd is found at once. */
typedef struct sk__etcd_http sk__etcd_http;

/* The response: status and the whole body (err 0), or err < 0 with
 * status 0 and no body. Called once per request, never from inside
 * sk__etcd_http_post(). */
typedef void (*sk__etcd_done_fn)(void *userdata, int err, int status, const char *body, size_t len);
/* Streaming: each newline-terminated object of a 200 body as it comes. A
 * non-zero return ends the exchange with that error (given to done). */
typedef int (*sk__etcd_line_fn)(void *userdata, const char *line, size_t len);

/* Resolve host and port once (getaddrinfo: a numeric address costs
 * nothing). NULL and *err on failure. */
sk__etcd_http *sk__etcd_http_new(sk_loop *loop, const char *host, const char *port, int *err);
void sk__etcd_http_free(sk__etcd_http *h);

/* POST body to path. timeout_ms bounds connecting and the whole answer;
 * with on_line (a stream) it bounds connecting and the head, and the body
 * may then last forever. Answers above 8 MiB (a line above 1 MiB) end
 * with -EMSGSIZE. Returns 0 (done will be called) or -EBUSY while another
 * request runs. */
int sk__etcd_http_post(sk__etcd_http *h, const char *path, const char *body, int64_t timeout_ms,
                       sk__etcd_line_fn on_line, sk__etcd_done_fn done, void *userdata);

/* End the running request, if any, without calling done. */
void sk__etcd_http_cancel(sk__etcd_http *h);

/* Whether a request runs. */
bool sk__etcd_http_busy(const sk__etcd_http *h);

/* Run loop until *flag is set or deadline (sk_now_ms()) passes: the
 * blocking calls' one wait. Returns 0, -ETIMEDOUT or a loop error. */
int sk__etcd_wait(sk_loop *loop, const bool *flag, int64_t deadline_ms);

#endif
