/* A server's key in etcd: granted a lease and put at start, the lease kept
 * alive every TTL/3 on a thread with its own loop (so every server model
 * can have one), put again under a new lease after etcd comes back, and
 * deleted on request before the server drains. */
#include "etcd_int.h"

#include "base/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>

#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 5000
#define REVOKE_TIMEOUT_MS 1000

enum { ST_UP, ST_LOST, ST_WITHDRAWING, ST_DONE };

struct sk_etcd_registration {
    sk_loop *loop;
    sk__etcd_http *h;
    sk_etcd_url url;
    char key[SK_ETCD_KEY_MAX];
    char *value;
    int64_t ttl_s, timeout_ms, interval_ms, backoff_ms;
    void (*on_event)(void *userdata, const sk_etcd_reg_event *ev);
    void *userdata;
    int64_t lease;
    int state;
    int64_t timer;
    int efd;
    pid_t owner;
    pthread_t thread;
    bool thread_started;
    int withdraw_asked; /* set once, by any thread or a signal handler */
    /* The running sequence (grant then put, delete then revoke). */
    void (*then)(sk_etcd_registration *r, int err);
    int64_t new_lease;
    /* The blocking first registration. */
    bool first_done;
    int first_err;
    int withdraw_err;
};

static void emit(sk_etcd_registration *r, sk_etcd_reg_kind kind, int err, int64_t ttl_ms)
{
    sk_etcd_reg_event ev = {kind, err, r->key, r->lease, ttl_ms};
    if (r->on_event)
        r->on_event(r->userdata, &ev);
}

static int post(sk_etcd_registration *r, const char *path, char *body, int64_t timeout_ms, sk__etcd_done_fn done)
{
    if (body == NULL)
        return -ENOMEM;
    int rc = sk__etcd_http_post(r->h, path, body, timeout_ms, NULL, done, r);
    free(body);
    return rc;
}

/* Registering: grant, then put under the new lease ------------------------ */

static void put_done(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_registration *r = userdata;
    if (err == 0 && status != 200)
        err = SK_EETCD;
    if (err == 0)
        err = sk__etcd_parse_header(body, len, NULL);
    if (err == 0)
        r->lease = r->new_lease;
    r->then(r, err);
}

static void grant_done(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_registration *r = userdata;
    int64_t ttl = 0;
    if (err == 0 && status != 200)
        err = SK_EETCD;
    if (err == 0)
        err = sk__etcd_parse_grant(body, len, &r->new_lease, &ttl);
    if (err == 0) {
        /* etcd may raise a TTL below its minimum: keep up with what it gave. */
        r->interval_ms = ttl * 1000 / 3 > 300 ? ttl * 1000 / 3 : 300;
        err = post(r, "/v3/kv/put", sk__etcd_body_put(r->key, r->value, r->new_lease), r->timeout_ms, put_done);
    }
    if (err != 0)
        r->then(r, err);
}

static void do_register(sk_etcd_registration *r, void (*then)(sk_etcd_registration *, int))
{
    r->then = then;
    int rc = post(r, "/v3/lease/grant", sk__etcd_body_grant(r->ttl_s), r->timeout_ms, grant_done);
    if (rc < 0)
        then(r, rc);
}

/* Keeping it alive, and coming back ---------------------------------------- */

static int64_t on_timer(sk_loop *l, void *data);

static void arm(sk_etcd_registration *r, int64_t ms)
{
    if (r->timer > 0)
        sk_loop_timer_cancel(r->loop, r->timer);
    r->timer = sk_loop_timer(r->loop, ms, on_timer, r);
    if (r->timer < 0)
        r->timer = 0; /* out of memory: nothing more will be tried */
}

static void lost(sk_etcd_registration *r, int err)
{
    if (r->state == ST_UP) {
        r->state = ST_LOST;
        r->backoff_ms = RETRY_FIRST_MS;
        emit(r, SK_ETCD_REG_LOST, err, 0);
    } else {
        emit(r, SK_ETCD_REG_RETRY_FAILED, err, 0);
        int64_t cap = r->interval_ms < RETRY_MAX_MS ? r->interval_ms : RETRY_MAX_MS;
        r->backoff_ms = r->backoff_ms * 2 < cap ? r->backoff_ms * 2 : cap;
    }
    arm(r, r->backoff_ms);
}

static void reregistered(sk_etcd_registration *r, int err)
{
    if (r->state != ST_LOST)
        return;
    if (err != 0) {
        lost(r, err);
        return;
    }
    r->state = ST_UP;
    emit(r, SK_ETCD_REG_REREGISTERED, 0, r->ttl_s * 1000);
    arm(r, r->interval_ms);
}

static void keepalive_done(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_registration *r = userdata;
    int64_t ttl = 0;
    if (err == 0 && status != 200)
        err = SK_EETCD;
    if (err == 0)
        err = sk__etcd_parse_keepalive(body, len, &ttl);
    if (err == 0 && ttl <= 0)
        err = SK_EETCD; /* etcd no longer knows the lease: it expired or was revoked */
    if (err != 0) {
        lost(r, err);
        return;
    }
    emit(r, SK_ETCD_REG_KEEPALIVE, 0, ttl * 1000);
    arm(r, r->interval_ms);
}

static int64_t on_timer(sk_loop *l, void *data)
{
    sk_etcd_registration *r = data;
    (void)l;
    r->timer = 0;
    if (r->state == ST_UP) {
        int rc = post(r, "/v3/lease/keepalive", sk__etcd_body_lease(r->lease), r->timeout_ms, keepalive_done);
        if (rc < 0)
            lost(r, rc);
    } else if (r->state == ST_LOST) {
        do_register(r, reregistered);
    }
    return -1;
}

/* Withdrawing: delete the key, then revoke the lease ----------------------- */

static void revoked(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_registration *r = userdata;
    (void)err, (void)status, (void)body, (void)len; /* best effort: the lease expires anyway */
    r->state = ST_DONE;
    sk_loop_stop(r->loop);
}

static void deleted(void *userdata, int err, int status, const char *body, size_t len)
{
    sk_etcd_registration *r = userdata;
    if (err == 0 && status != 200)
        err = SK_EETCD;
    if (err == 0)
        err = sk__etcd_parse_header(body, len, NULL);
    r->withdraw_err = err;
    emit(r, SK_ETCD_REG_WITHDRAWN, err, 0);
    if (err == 0 && r->lease != 0 &&
        post(r, "/v3/lease/revoke", sk__etcd_body_lease(r->lease), REVOKE_TIMEOUT_MS, revoked) == 0)
        return;
    revoked(r, 0, 0, NULL, 0);
}

static void on_withdraw(sk_loop *l, int fd, void *data, int events)
{
    sk_etcd_registration *r = data;
    uint64_t v;
    (void)events;
    if (read(fd, &v, sizeof v) < 0 && errno == EAGAIN)
        return;
    sk_loop_watch(l, fd, 0, NULL, NULL);
    if (r->state == ST_WITHDRAWING || r->state == ST_DONE)
        return;
    r->state = ST_WITHDRAWING;
    if (r->timer > 0)
        sk_loop_timer_cancel(l, r->timer);
    r->timer = 0;
    sk__etcd_http_cancel(r->h);
    int rc = post(r, "/v3/kv/deleterange", sk__etcd_body_delete(r->key), r->timeout_ms, deleted);
    if (rc < 0)
        deleted(r, rc, 0, NULL, 0);
}

/* Starting and stopping ----------------------------------------------------- */

static void first_done(sk_etcd_registration *r, int err)
{
    r->first_done = true;
    r->first_err = err;
}

static void *run(void *arg)
{
    sk_etcd_registration *r = arg;
    sk_loop_run(r->loop);
    return NULL;
}

static void reg_free(sk_etcd_registration *r)
{
    sk__etcd_http_free(r->h);
    if (r->loop)
        sk_loop_free(r->loop);
    if (r->efd >= 0)
        close(r->efd);
    free(r->value);
    free(r);
}

int sk_etcd_register_start(const sk_etcd_register_opts *o, sk_etcd_registration **out)
{
    *out = NULL;
    if (o == NULL || o->name == NULL || o->value == NULL || o->name[0] == '/' || o->name[0] == '\0')
        return -EINVAL;
    sk_etcd_registration *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->efd = -1;
    int rc = sk_etcd_url_parse(o->url, &r->url);
    size_t plen = rc == 0 ? strlen(r->url.prefix) : 0, nlen = strlen(o->name);
    if (rc == 0 && plen + nlen >= sizeof r->key)
        rc = -EINVAL;
    if (rc < 0) {
        reg_free(r);
        return rc;
    }
    memcpy(r->key, r->url.prefix, plen); /* the key is the prefix and the name */
    memcpy(r->key + plen, o->name, nlen + 1);
    r->value = strdup(o->value);
    r->ttl_s = o->ttl_ms > 0 ? (o->ttl_ms + 999) / 1000 : 10;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 2000;
    r->interval_ms = r->ttl_s * 1000 / 3;
    r->on_event = o->on_event;
    r->userdata = o->userdata;
    r->owner = getpid();
    r->loop = sk_loop_new(NULL, 0, &rc);
    if (r->value == NULL || r->loop == NULL ||
        (r->h = sk__etcd_http_new(r->loop, r->url.host, r->url.port, &rc)) == NULL) {
        if (r->value == NULL)
            rc = -ENOMEM;
        reg_free(r);
        return rc;
    }
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0) {
        rc = -errno;
        reg_free(r);
        return rc;
    }
    do_register(r, first_done);
    rc = sk__etcd_wait(r->loop, &r->first_done, sk_now_ms() + 2 * r->timeout_ms + 100);
    if (rc == 0)
        rc = r->first_err;
    if (rc == 0)
        rc = sk_loop_watch(r->loop, r->efd, SK_READ, on_withdraw, r);
    if (rc < 0) {
        reg_free(r);
        return rc;
    }
    r->state = ST_UP;
    emit(r, SK_ETCD_REG_REGISTERED, 0, r->ttl_s * 1000);
    arm(r, r->interval_ms);
    rc = sk__thread_start(&r->thread, NULL, run, r);
    if (rc < 0) {
        reg_free(r);
        return rc;
    }
    r->thread_started = true;
    *out = r;
    return 0;
}

void sk_etcd_register_withdraw(sk_etcd_registration *r)
{
    if (r == NULL || getpid() != r->owner)
        return;
    if (__atomic_exchange_n(&r->withdraw_asked, 1, __ATOMIC_SEQ_CST) != 0)
        return;
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof one);
    (void)n; /* an eventfd write fails only on overflow, and one was written */
}

int sk_etcd_register_stop(sk_etcd_registration *r)
{
    if (r == NULL)
        return 0;
    sk_etcd_register_withdraw(r);
    if (r->thread_started)
        pthread_join(r->thread, NULL);
    int err = r->withdraw_err;
    reg_free(r);
    return err;
}
