/* Watching a prefix: list it, then follow /v3/watch from the revision the
 * listing reflects. The instances seen are kept, so a leave names what
 * left, and after a lost connection a new listing compared with them
 * gives the joins and leaves missed meanwhile (compaction cannot hide
 * any). */
#include "etcd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sockit/error.h>

#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 5000
#define MAX_KNOWN 65536

typedef struct set {
    sk_etcd_instance *v;
    size_t n, cap;
} set;

struct sk_etcd_watcher {
    sk_loop *loop;
    sk__etcd_http *h;
    sk_etcd_url url;
    int64_t timeout_ms;
    int efd;
    set known, fresh;
    sk_etcd_watch_fn fn;
    void *userdata;
    int64_t revision;
    bool synced, lost;
    int first_err;
    int64_t backoff_ms, timer;
};

static int set_add(set *s, const sk_etcd_instance *inst)
{
    if (s->n == s->cap) {
        if (s->cap >= MAX_KNOWN)
            return -E2BIG;
        size_t cap = s->cap ? s->cap * 2 : 16;
        sk_etcd_instance *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *inst;
    return 0;
}

static sk_etcd_instance *set_find(set *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, key) == 0)
            return &s->v[i];
    }
    return NULL;
}

static void set_del(set *s, sk_etcd_instance *inst)
{
    size_t i = (size_t)(inst - s->v);
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
    s->n--;
}

static bool same(const sk_etcd_instance *a, const sk_etcd_instance *b)
{
    return strcmp(a->host, b->host) == 0 && a->port == b->port && a->weight == b->weight &&
           strcmp(a->model, b->model) == 0 && strcmp(a->service, b->service) == 0 && a->pid == b->pid &&
           a->lease == b->lease;
}

sk_etcd_watcher *sk_etcd_watcher_new(const char *url, int64_t timeout_ms, int *err)
{
    sk_etcd_watcher *w = calloc(1, sizeof *w);
    if (w == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    w->efd = -1;
    int rc = sk_etcd_url_parse(url, &w->url);
    if (rc == 0)
        w->loop = sk_loop_new(NULL, 0, &rc);
    if (w->loop)
        w->h = sk__etcd_http_new(w->loop, w->url.host, w->url.port, &rc);
    if (w->h && (w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        rc = -errno;
    if (w->efd < 0) {
        *err = rc;
        sk_etcd_watcher_free(w);
        return NULL;
    }
    w->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    return w;
}

void sk_etcd_watcher_free(sk_etcd_watcher *w)
{
    if (w == NULL)
        return;
    sk__etcd_http_free(w->h);
    if (w->loop)
        sk_loop_free(w->loop);
    if (w->efd >= 0)
        close(w->efd);
    free(w->known.v);
    free(w->fresh.v);
    free(w);
}

void sk_etcd_watcher_stop(sk_etcd_watcher *w)
{
    uint64_t one = 1;
    ssize_t n = write(w->efd, &one, sizeof one);
    (void)n; /* fails only when the counter would overflow: a stop is pending anyway */
}

static void list(sk_etcd_watcher *w);

static void retry(sk_etcd_watcher *w, int err);

/* One event of the stream. */
static int on_kv(void *userdata, const sk__etcd_kv *kv)
{
    sk_etcd_watcher *w = userdata;
    sk_etcd_instance *old = set_find(&w->known, kv->inst.key);
    if (kv->mod_revision > w->revision)
        w->revision = kv->mod_revision;
    if (kv->deleted || !kv->valid) {
        /* A key that stops holding an instance has left as well. */
        if (old) {
            sk_etcd_instance gone = *old;
            set_del(&w->known, old);
            w->fn(w->userdata, SK_ETCD_LEAVE, &gone, 0);
        }
        return 0;
    }
    if (old) {
        *old = kv->inst;
        w->fn(w->userdata, SK_ETCD_UPDATE, &kv->inst, 0);
        return 0;
    }
    int rc = set_add(&w->known, &kv->inst);
    if (rc == 0)
        w->fn(w->userdata, SK_ETCD_JOIN, &kv->inst, 0);
    return rc;
}

static int on_line(void *userdata, const char *line, size_t len)
{
    sk_etcd_watcher *w = userdata;
    int64_t rev = 0;
    int rc = sk__etcd_parse_watch(line, len, &rev, on_kv, w);
    return rc < 0 ? rc : 0;
}

static void watch_ended(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_watcher *w = userdata;
    (void)body, (void)len;
    if (err == 0 && status != 200)
        err = SK_EETCD;
    retry(w, err ? err : -ECONNRESET); /* a watch never ends by itself */
}

static void watch(sk_etcd_watcher *w)
{
    char *body = sk__etcd_body_watch(w->url.prefix, w->revision + 1);
    int rc = body ? sk__etcd_http_post(w->h, "/v3/watch", body, w->timeout_ms, on_line, watch_ended, w) : -ENOMEM;
    free(body);
    if (rc < 0)
        retry(w, rc);
}

static int take(void *userdata, const sk__etcd_kv *kv)
{
    sk_etcd_watcher *w = userdata;
    return kv->valid ? set_add(&w->fresh, &kv->inst) : 0;
}

/* The fresh listing against what was known: what changed meanwhile. */
static void compare(sk_etcd_watcher *w)
{
    for (size_t i = 0; i < w->known.n;) {
        if (set_find(&w->fresh, w->known.v[i].key) == NULL) {
            sk_etcd_instance gone = w->known.v[i];
            set_del(&w->known, &w->known.v[i]);
            w->fn(w->userdata, SK_ETCD_LEAVE, &gone, 0);
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < w->fresh.n; i++) {
        sk_etcd_instance *old = set_find(&w->known, w->fresh.v[i].key);
        if (old == NULL)
            w->fn(w->userdata, SK_ETCD_JOIN, &w->fresh.v[i], 0);
        else if (!same(old, &w->fresh.v[i]))
            w->fn(w->userdata, SK_ETCD_UPDATE, &w->fresh.v[i], 0);
    }
}

static void listed(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_watcher *w = userdata;
    w->fresh.n = 0;
    if (err == 0)
        err = sk__etcd_check(status, body, len);
    if (err == 0)
        err = sk__etcd_parse_range(body, len, &w->revision, take, w);
    if (err != 0) {
        if (!w->synced) {
            w->first_err = err;
            sk_loop_stop(w->loop);
        } else {
            retry(w, err);
        }
        return;
    }
    if (!w->synced) {
        for (size_t i = 0; i < w->fresh.n; i++)
            w->fn(w->userdata, SK_ETCD_PRESENT, &w->fresh.v[i], 0);
        w->synced = true;
        w->fn(w->userdata, SK_ETCD_SYNCED, NULL, 0);
    } else {
        w->lost = false;
        w->fn(w->userdata, SK_ETCD_RESUMED, NULL, 0);
        compare(w);
    }
    set t = w->known;
    w->known = w->fresh;
    w->fresh = t;
    w->fresh.n = 0;
    watch(w);
}

static void list(sk_etcd_watcher *w)
{
    char *body = sk__etcd_body_range(w->url.prefix);
    int rc = body ? sk__etcd_http_post(w->h, "/v3/kv/range", body, w->timeout_ms, NULL, listed, w) : -ENOMEM;
    free(body);
    if (rc < 0)
        listed(w, rc, 0, NULL, 0);
}

static int64_t on_retry(sk_loop *l, void *data)
{
    sk_etcd_watcher *w = data;
    (void)l;
    w->timer = 0;
    list(w);
    return -1;
}

static void retry(sk_etcd_watcher *w, int err)
{
    if (!w->lost) {
        w->lost = true;
        w->backoff_ms = RETRY_FIRST_MS;
        w->fn(w->userdata, SK_ETCD_LOST, NULL, err);
    } else {
        w->backoff_ms = w->backoff_ms * 2 < RETRY_MAX_MS ? w->backoff_ms * 2 : RETRY_MAX_MS;
    }
    w->timer = sk_loop_timer(w->loop, w->backoff_ms, on_retry, w);
    if (w->timer < 0)
        w->timer = 0;
}

static void on_stop(sk_loop *l, int fd, void *data, int events)
{
    uint64_t v;
    (void)data, (void)events;
    if (read(fd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    sk_loop_stop(l);
}

int sk_etcd_watcher_run(sk_etcd_watcher *w, sk_etcd_watch_fn fn, void *userdata)
{
    w->fn = fn;
    w->userdata = userdata;
    w->first_err = 0;
    int rc = sk_loop_watch(w->loop, w->efd, SK_READ, on_stop, w);
    if (rc < 0)
        return rc;
    list(w);
    rc = sk_loop_run(w->loop);
    sk__etcd_http_cancel(w->h);
    if (w->timer > 0)
        sk_loop_timer_cancel(w->loop, w->timer);
    w->timer = 0;
    sk_loop_watch(w->loop, w->efd, 0, NULL, NULL);
    return w->first_err ? w->first_err : rc;
}
