/* A registry in etcd: servers put a key per instance under a lease that
 * they keep alive, clients list and watch the keys under a prefix. Spoken
 * through etcd's v3 JSON gateway (HTTP/1.1 POSTs, keys and values in
 * base64) on an sk_loop. */
#ifndef SOCKIT_ETCD_H
#define SOCKIT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SK_ETCD_PORT "2379"
#define SK_ETCD_PREFIX_MAX 512
#define SK_ETCD_KEY_MAX 512

/* An etcd:// target. */
typedef struct sk_etcd_url {
    char host[SK_HOST_MAX];          /* a name or a numeric address, without brackets */
    char port[SK_SERV_MAX];          /* digits; SK_ETCD_PORT when the URL names none */
    char prefix[SK_ETCD_PREFIX_MAX]; /* starts and ends with '/': "/svc/", or "/" */
} sk_etcd_url;

/* Parse "etcd://HOST[:PORT][/PREFIX]". HOST is a name, an IPv4 address or
 * a bracketed IPv6 address ("[::1]:2379"); PORT is digits (default 2379);
 * PREFIX is the rest of the path, and keys live below it: a '/' is put in
 * front and at the end when missing, so "/svc", "/svc/" and "svc" all
 * mean the keys starting with "/svc/", and no path (or "/") means every
 * key starting with "/". The scheme is case-insensitive. Refused with
 * -EINVAL: another scheme, an empty host, user info ('@'), a query or
 * fragment ('?', '#'), a port that is not 1-65535, bytes below 0x21 or
 * 0x7f, and a prefix or host that does not fit. */
int sk_etcd_url_parse(const char *text, sk_etcd_url *out);

/* One registered server, as read back from its key. */
typedef struct sk_etcd_instance {
    char key[SK_ETCD_KEY_MAX]; /* the full key */
    char host[SK_HOST_MAX];    /* from the value's "addr" */
    uint16_t port;
    uint16_t weight; /* default 1 when absent */
    char model[16], service[32];
    /* Added after the first fields: */
    int64_t pid;   /* the value's "pid", 0 when absent */
    int64_t lease; /* the lease the key is held by (0: none) */
} sk_etcd_instance;

/* The value a server registers: one JSON object,
 *   {"addr":"127.0.0.1:7001","service":"echo","model":"loop","weight":3,"pid":123}
 * with addr in host:port form ("[::1]:7001" for IPv6). service and model
 * may be NULL (left out). Writes into out (cap bytes, NUL-terminated) and
 * returns the length, -EINVAL for a weight above 65535 or a NULL addr, or
 * -ENOSPC. */
int sk_etcd_value_format(char *out, size_t cap, const char *addr, const char *service, const char *model,
                         unsigned weight, int64_t pid);

/* Read a value written as above into inst (key is left as it is). The
 * object may carry more members (ignored); "addr" must be host:port with
 * a numeric port 1-65535, "weight" an integer 0-65535 (1 when absent),
 * "service" and "model" strings (truncated to fit). Returns 0, or
 * SK_EETCDBAD for anything else. */
int sk_etcd_value_parse(const char *json, size_t len, sk_etcd_instance *inst);

/* Blocking: the live instances under the URL's prefix, in key order, at
 * most max into out (out may be NULL when max is 0). Keys whose value is
 * not an instance (sk_etcd_value_parse) are skipped and not counted.
 * Returns how many there are (may exceed max) or < 0: -EINVAL for a bad
 * URL, -ECONNREFUSED, -ETIMEDOUT (nothing within timeout_ms; <= 0 means
 * 5000), a name that does not resolve (SK_ENONAME, ...), SK_EETCD when
 * etcd answers with an error, SK_EETCDBAD for an answer that is not the
 * gateway's JSON, -EMSGSIZE for one larger than 8 MiB. Runs its own
 * sk_loop on the calling thread. */
int sk_etcd_list(const char *url, int64_t timeout_ms, sk_etcd_instance *out, size_t max);

/* Registering ---------------------------------------------------------------
 * A registration is a key (PREFIX + name) holding a value, attached to a
 * lease that its own thread keeps alive (every TTL/3) while the caller
 * serves; the thread has its own loop, so it works under every server
 * model. When etcd goes away the thread reports it once, retries with a
 * growing delay (from 250 ms up to TTL/3, at most 5 s) and, when etcd
 * answers again, grants a new lease and puts the key again. When the
 * process dies without withdrawing, the key disappears when the lease
 * expires (TTL after the last keepalive). */
typedef struct sk_etcd_registration sk_etcd_registration;

/* What the registration thread reports (on its own thread). */
typedef enum sk_etcd_reg_kind {
    SK_ETCD_REG_REGISTERED,   /* the key is in place (first time) */
    SK_ETCD_REG_KEEPALIVE,    /* a keepalive was answered (ttl_ms: what the lease has left) */
    SK_ETCD_REG_LOST,         /* err: etcd stopped answering or lost the lease; retrying */
    SK_ETCD_REG_RETRY_FAILED, /* err: one more retry failed (for -v; LOST was said already) */
    SK_ETCD_REG_REREGISTERED, /* a new lease and the key again, after LOST */
    SK_ETCD_REG_WITHDRAWN,    /* err (0 or why not): the key was deleted on request */
} sk_etcd_reg_kind;

typedef struct sk_etcd_reg_event {
    sk_etcd_reg_kind kind;
    int err;
    const char *key;
    int64_t lease;
    int64_t ttl_ms;
} sk_etcd_reg_event;

typedef struct sk_etcd_register_opts {
    const char *url;    /* etcd://HOST:PORT/PREFIX */
    const char *name;   /* the key below the prefix ("127.0.0.1:7001"); no '/' at its start */
    const char *value;  /* what the key holds (sk_etcd_value_format) */
    int64_t ttl_ms;     /* lease TTL, rounded up to whole seconds (etcd's unit); <= 0: 10 s */
    int64_t timeout_ms; /* one request's time to be answered; <= 0: 2000 */
    /* Optional, called on the registration's thread (and once, with
     * SK_ETCD_REG_REGISTERED, on the caller's inside sk_etcd_register_start). */
    void (*on_event)(void *userdata, const sk_etcd_reg_event *ev);
    void *userdata;
} sk_etcd_register_opts;

/* Grant a lease, put the key and start keeping the lease alive. Blocks
 * until the key is in place or the first attempt failed: then returns the
 * error (as sk_etcd_list's; -EINVAL for bad options) and starts nothing.
 * On success *out is the registration and 0 is returned. */
int sk_etcd_register_start(const sk_etcd_register_opts *opts, sk_etcd_registration **out);

/* Ask the registration's thread to delete the key now (and revoke the
 * lease), then report SK_ETCD_REG_WITHDRAWN, with the error when etcd did
 * not confirm within the request timeout. Async-signal-safe (one write to
 * an eventfd) and idempotent; a forked child's call does nothing, so a
 * signal handler the child inherits cannot withdraw its parent's key. */
void sk_etcd_register_withdraw(sk_etcd_registration *reg);

/* Withdraw (unless done already) and wait for it, bounded by the request
 * timeout, then end the thread and free everything. Returns 0 or the
 * error the deletion met. reg NULL returns 0. */
int sk_etcd_register_stop(sk_etcd_registration *reg);

/* Watching ------------------------------------------------------------------ */

/* What a watcher reports. */
typedef enum sk_etcd_change {
    SK_ETCD_PRESENT, /* listed at the start (or after a reconnection, when new) */
    SK_ETCD_SYNCED,  /* the listing is complete; inst is NULL */
    SK_ETCD_JOIN,    /* a key was created */
    SK_ETCD_UPDATE,  /* an existing key got a new value or lease (a re-registration) */
    SK_ETCD_LEAVE,   /* a key was deleted or its lease expired; inst as it was last seen */
    SK_ETCD_LOST,    /* err: the connection to etcd was lost; retrying (inst NULL) */
    SK_ETCD_RESUMED, /* etcd answers again; joins and leaves missed meanwhile follow (inst NULL) */
} sk_etcd_change;

typedef void (*sk_etcd_watch_fn)(void *userdata, sk_etcd_change what, const sk_etcd_instance *inst, int err);

typedef struct sk_etcd_watcher sk_etcd_watcher;

/* A watcher of url's prefix. Returns NULL and sets *err (-EINVAL for a bad
 * URL, -ENOMEM, a resolution error) on failure. Nothing is sent yet. */
sk_etcd_watcher *sk_etcd_watcher_new(const char *url, int64_t timeout_ms, int *err);

/* Blocking: list the prefix (SK_ETCD_PRESENT for each instance, then
 * SK_ETCD_SYNCED), then report changes as etcd sends them until
 * sk_etcd_watcher_stop(). A lost connection is reported and retried with
 * a growing delay (up to 5 s); once etcd answers the prefix is listed
 * again and the differences are reported as joins and leaves, so nothing
 * is missed even when the history was compacted meanwhile. Returns 0
 * after a stop, or the error of the first listing (as sk_etcd_list's). */
int sk_etcd_watcher_run(sk_etcd_watcher *w, sk_etcd_watch_fn fn, void *userdata);

/* Make sk_etcd_watcher_run() return. Async-signal-safe. */
void sk_etcd_watcher_stop(sk_etcd_watcher *w);

void sk_etcd_watcher_free(sk_etcd_watcher *w);

#ifdef __cplusplus
}
#endif

#endif
