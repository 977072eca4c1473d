/* Unit tests for the event loop (include/sockit/loop.h). Every test body runs
 * once per backend compiled in: the group is repeated with the backend name
 * as the test state, so a backend cannot pass by being skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>
#include <sockit/loop.h>
#include <sockit/sock.h>

/* What an io callback saw. */
typedef struct hits {
    int n;          /* calls */
    int fd;         /* last fd */
    int events;     /* union of events seen */
    int tag;        /* which callback ran last (replace test) */
    int unwatch_fd; /* if >= 0: the callback stops watching this fd */
} hits;

static void on_io(sk_loop *l, int fd, void *data, int events)
{
    hits *h = data;
    h->n++;
    h->fd = fd;
    h->events |= events;
    h->tag = 1;
    if (h->unwatch_fd >= 0)
        assert_int_equal(sk_loop_watch(l, h->unwatch_fd, 0, NULL, NULL), 0);
}

static void on_io_other(sk_loop *l, int fd, void *data, int events)
{
    hits *h = data;
    (void)l;
    h->n++;
    h->fd = fd;
    h->events |= events;
    h->tag = 2;
}

static sk_loop *new_loop(void **state, int setsize)
{
    int err = 0;
    sk_loop *l = sk_loop_new(*state, setsize, &err);
    assert_non_null(l);
    assert_int_equal(err, 0);
    assert_string_equal(sk_loop_backend(l), *state);
    return l;
}

static void make_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

static hits no_hits(void) { return (hits){.fd = -1, .unwatch_fd = -1}; }

/* Readiness ------------------------------------------------------------- */

static void test_read_readiness(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int sv[2];
    hits h = no_hits();
    char c;

    make_pair(sv);
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), SK_READ);

    /* Nothing to read: no callback. */
    assert_int_equal(sk_loop_once(l, 0), 0);
    assert_int_equal(h.n, 0);

    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_true(sk_loop_once(l, 1000) >= 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.fd, sv[0]);
    assert_true(h.events & SK_READ);
    assert_false(h.events & SK_WRITE);

    /* Level-triggered: unread data keeps firing. */
    assert_true(sk_loop_once(l, 1000) >= 1);
    assert_int_equal(h.n, 2);
    assert_int_equal(read(sv[0], &c, 1), 1);
    assert_int_equal(sk_loop_once(l, 0), 0);
    assert_int_equal(h.n, 2);

    /* The peer closing shows as readable (the owner's read sees EOF). */
    close(sv[1]);
    h = no_hits();
    assert_true(sk_loop_once(l, 1000) >= 1);
    assert_int_equal(h.n, 1);
    assert_true(h.events & SK_READ);
    assert_int_equal(read(sv[0], &c, 1), 0);

    assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
    close(sv[0]);
    sk_loop_free(l);
}

static void test_pipe_readiness(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int p[2];
    hits hr = no_hits(), hw = no_hits();
    char buf[8];

    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(sk_loop_watch(l, p[0], SK_READ, on_io, &hr), 0);
    assert_int_equal(sk_loop_watch(l, p[1], SK_WRITE, on_io, &hw), 0);

    /* An empty pipe: the write end is ready, the read end is not. */
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(hr.n, 0);
    assert_int_equal(hw.n, 1);
    assert_int_equal(hw.fd, p[1]);
    assert_int_equal(hw.events, SK_WRITE);

    assert_int_equal(write(p[1], "abc", 3), 3);
    assert_int_equal(sk_loop_watch(l, p[1], 0, NULL, NULL), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(hr.n, 1);
    assert_int_equal(hr.fd, p[0]);
    assert_int_equal(hr.events, SK_READ);
    assert_int_equal(hw.n, 1);
    assert_int_equal(read(p[0], buf, sizeof buf), 3);

    assert_int_equal(sk_loop_watch(l, p[0], 0, NULL, NULL), 0);
    close(p[0]);
    close(p[1]);
    sk_loop_free(l);
}

static void test_write_readiness(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int sv[2], small = 4096;
    hits h = no_hits();
    char chunk[4096], sink[65536];
    long filled = 0;

    make_pair(sv);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    assert_int_equal(sk_loop_watch(l, sv[0], SK_WRITE, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.events, SK_WRITE);

    /* Fill the socket until the kernel refuses: no longer writable. */
    memset(chunk, 'w', sizeof chunk);
    for (int i = 0; i < 100000; i++) {
        ssize_t n = write(sv[0], chunk, sizeof chunk);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            break;
        }
        filled += n;
    }
    assert_true(filled > 0);
    h = no_hits();
    assert_int_equal(sk_loop_once(l, 50), 0);
    assert_int_equal(h.n, 0);

    /* The peer drains it: writable again. */
    for (long got = 0; got < filled;) {
        ssize_t n = read(sv[1], sink, sizeof sink);
        assert_true(n > 0);
        got += n;
    }
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.events, SK_WRITE);

    sk_loop_watch(l, sv[0], 0, NULL, NULL);
    close(sv[0]);
    close(sv[1]);
    sk_loop_free(l);
}

/* Watch, unwatch, replace --------------------------------------------- */

static void test_watch_unwatch_replace(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int sv[2];
    hits h = no_hits(), h2 = no_hits();

    make_pair(sv);
    assert_int_equal(write(sv[1], "x", 1), 1);

    /* Read and write at once. */
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ | SK_WRITE, on_io, &h), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), SK_READ | SK_WRITE);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.events, SK_READ | SK_WRITE);

    /* Narrow to write only: the pending byte no longer reports READ. */
    h = no_hits();
    assert_int_equal(sk_loop_watch(l, sv[0], SK_WRITE, on_io, &h), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), SK_WRITE);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.events, SK_WRITE);

    /* Same events, new callback and data: the new pair is called. */
    assert_int_equal(sk_loop_watch(l, sv[0], SK_WRITE, on_io_other, &h2), 0);
    h = no_hits();
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 0);
    assert_int_equal(h2.n, 1);
    assert_int_equal(h2.tag, 2);

    /* Swap to read only with the first callback again. */
    h2 = no_hits();
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.events, SK_READ);
    assert_int_equal(h2.n, 0);

    /* Events 0 stops watching; so does it twice. */
    assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), 0);
    assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
    h = no_hits();
    assert_int_equal(sk_loop_once(l, 20), 0);
    assert_int_equal(h.n, 0);

    /* Watch again after the unwatch. */
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 1);

    /* Unwatching a closed fd is not an error (its registration may have
     * gone with it). */
    close(sv[0]);
    assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), 0);
    close(sv[1]);
    sk_loop_free(l);
}

/* sk_loop_forget then close: the fd is no longer watched (with epoll, the
 * close took it out of the kernel's set), and a new socket that gets the
 * same number is watched afresh with no stale event from the old one. */
static void test_forget_then_close(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int sv[2], sv2[2];
    hits h = no_hits();

    assert_int_equal(sk_loop_forget(l, -1), -ERANGE);
    make_pair(sv);
    assert_int_equal(sk_loop_forget(l, sv[0]), 0); /* never watched */
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(sk_loop_forget(l, sv[0]), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), 0);
    int old = sv[0];
    close(sv[0]);
    close(sv[1]);
    make_pair(sv2);
    int fd = sv2[0] == old ? sv2[0] : sv2[1];
    int peer = fd == sv2[0] ? sv2[1] : sv2[0];
    h = no_hits();
    assert_int_equal(sk_loop_once(l, 20), 0);
    assert_int_equal(sk_loop_watch(l, fd, SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 20), 0); /* nothing to read yet */
    assert_int_equal(h.n, 0);
    assert_int_equal(write(peer, "y", 1), 1);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.fd, fd);
    assert_int_equal(sk_loop_watch(l, fd, 0, NULL, NULL), 0);
    close(sv2[0]);
    close(sv2[1]);
    sk_loop_free(l);
}

/* Two fds ready in one wakeup; the first callback stops watching the other:
 * the other's callback must not run. */
static void test_unwatch_from_callback(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int a[2], b[2];
    hits ha = no_hits(), hb = no_hits();

    make_pair(a);
    make_pair(b);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    ha.unwatch_fd = b[0];
    hb.unwatch_fd = a[0];
    assert_int_equal(sk_loop_watch(l, a[0], SK_READ, on_io, &ha), 0);
    assert_int_equal(sk_loop_watch(l, b[0], SK_READ, on_io, &hb), 0);
    sk_loop_once(l, 1000);
    /* Whichever ran first silenced the other. */
    assert_int_equal(ha.n + hb.n, 1);
    assert_int_equal(sk_loop_watched(l, ha.n ? b[0] : a[0]), 0);

    sk_loop_watch(l, a[0], 0, NULL, NULL);
    sk_loop_watch(l, b[0], 0, NULL, NULL);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    sk_loop_free(l);
}

/* Many fds at once, each with its own data: each fires exactly for itself. */
static void test_many_fds(void **state)
{
    enum { N = 50 };
    sk_loop *l = new_loop(state, 0);
    int sv[N][2];
    hits h[N];

    for (int i = 0; i < N; i++) {
        make_pair(sv[i]);
        h[i] = no_hits();
        assert_int_equal(sk_loop_watch(l, sv[i][0], SK_READ, on_io, &h[i]), 0);
    }
    for (int i = 0; i < N; i += 2)
        assert_int_equal(write(sv[i][1], "x", 1), 1);
    assert_int_equal(sk_loop_once(l, 1000), N / 2);
    for (int i = 0; i < N; i++) {
        assert_int_equal(h[i].n, i % 2 == 0 ? 1 : 0);
        if (i % 2 == 0)
            assert_int_equal(h[i].fd, sv[i][0]);
    }
    for (int i = 0; i < N; i++) {
        sk_loop_watch(l, sv[i][0], 0, NULL, NULL);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    sk_loop_free(l);
}

/* Timers ---------------------------------------------------------------- */

typedef struct tlog {
    int order[16];
    int n;
    int calls;      /* for re-arming timers */
    int rearm_left; /* re-arm this many more times */
    int64_t cancel_id;
    bool stop;
} tlog;

typedef struct tctx {
    tlog *log;
    int tag;
} tctx;

static int64_t on_timer(sk_loop *l, void *data)
{
    tctx *t = data;
    t->log->order[t->log->n++] = t->tag;
    if (t->log->stop)
        sk_loop_stop(l);
    return -1;
}

static void test_timers_in_order(void **state)
{
    sk_loop *l = new_loop(state, 0);
    tlog log = {0};
    tctx t30 = {&log, 30}, t10 = {&log, 10}, t20 = {&log, 20}, t0 = {&log, 0}, t15 = {&log, 15};

    int64_t start = sk_now_ms();
    assert_true(sk_loop_timer(l, 30, on_timer, &t30) > 0);
    assert_true(sk_loop_timer(l, 10, on_timer, &t10) > 0);
    assert_true(sk_loop_timer(l, 20, on_timer, &t20) > 0);
    assert_true(sk_loop_timer(l, 0, on_timer, &t0) > 0);
    assert_true(sk_loop_timer(l, 15, on_timer, &t15) > 0);

    /* With no fds at all, the wait is bounded by the next timer. */
    for (int i = 0; i < 100 && log.n < 5; i++)
        assert_true(sk_loop_once(l, -1) >= 0);
    assert_int_equal(log.n, 5);
    assert_int_equal(log.order[0], 0);
    assert_int_equal(log.order[1], 10);
    assert_int_equal(log.order[2], 15);
    assert_int_equal(log.order[3], 20);
    assert_int_equal(log.order[4], 30);
    /* Not early: the last one fired no sooner than asked. */
    assert_true(sk_now_ms() - start >= 30);

    /* The id returned names the timer just added, even when the heap moved
     * it in front of earlier ones: cancelling it stops that timer only. */
    log.n = 0;
    int64_t late = sk_loop_timer(l, 30, on_timer, &t30);
    int64_t early = sk_loop_timer(l, 10, on_timer, &t10);
    int64_t mid = sk_loop_timer(l, 20, on_timer, &t20);
    assert_true(late > 0 && early > 0 && mid > 0);
    sk_loop_timer_cancel(l, early);
    for (int i = 0; i < 100 && log.n < 2; i++)
        assert_true(sk_loop_once(l, -1) >= 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.order[0], 20);
    assert_int_equal(log.order[1], 30);

    /* Distinct ids. */
    int64_t a = sk_loop_timer(l, 1000, on_timer, &t10);
    int64_t b = sk_loop_timer(l, 1000, on_timer, &t20);
    assert_true(a > 0 && b > 0 && a != b);
    sk_loop_timer_cancel(l, a);
    sk_loop_timer_cancel(l, b);
    sk_loop_free(l);
}

static int64_t on_rearm(sk_loop *l, void *data)
{
    tlog *log = data;
    (void)l;
    log->calls++;
    return log->rearm_left-- > 0 ? 5 : -1;
}

static int64_t on_cancel_other(sk_loop *l, void *data)
{
    tlog *log = data;
    sk_loop_timer_cancel(l, log->cancel_id);
    log->order[log->n++] = 1;
    return -1;
}

static void test_timer_rearm_and_cancel(void **state)
{
    sk_loop *l = new_loop(state, 0);
    tlog rearm = {.rearm_left = 3}, never = {0}, forever = {.rearm_left = 1000000}, killer = {0};
    tctx nt = {&never, 99};

    /* Re-arms three times, then ends: four calls in all. */
    assert_true(sk_loop_timer(l, 1, on_rearm, &rearm) > 0);
    for (int i = 0; i < 200 && rearm.calls < 4; i++)
        sk_loop_once(l, 50);
    assert_int_equal(rearm.calls, 4);
    for (int i = 0; i < 5; i++)
        sk_loop_once(l, 10);
    assert_int_equal(rearm.calls, 4);

    /* Cancelled before it is due: never runs. */
    int64_t id = sk_loop_timer(l, 5, on_timer, &nt);
    assert_true(id > 0);
    sk_loop_timer_cancel(l, id);
    for (int i = 0; i < 5; i++)
        sk_loop_once(l, 10);
    assert_int_equal(never.n, 0);

    /* A re-arming timer keeps its id: cancelling it after it has fired
     * (here from another timer's callback) still stops it. */
    int64_t fid = sk_loop_timer(l, 2, on_rearm, &forever);
    assert_true(fid > 0);
    for (int i = 0; i < 200 && forever.calls < 2; i++)
        sk_loop_once(l, 50);
    assert_true(forever.calls >= 2);
    killer.cancel_id = fid;
    assert_true(sk_loop_timer(l, 0, on_cancel_other, &killer) > 0);
    sk_loop_once(l, 50);
    assert_int_equal(killer.n, 1);
    int calls = forever.calls;
    for (int i = 0; i < 5; i++)
        sk_loop_once(l, 10);
    assert_int_equal(forever.calls, calls);

    /* Cancelling an unknown id is harmless. */
    sk_loop_timer_cancel(l, 123456789);
    sk_loop_free(l);
}

/* The loop's clock and microsecond timers ------------------------------- */

/* What the callbacks of one wakeup saw of the loop's clock. */
typedef struct nowlog {
    sk_loop *l;
    int n;
    int64_t seen[4];
} nowlog;

static void on_io_now(sk_loop *l, int fd, void *data, int events)
{
    nowlog *nl = data;
    char c;
    (void)events;
    assert_int_equal(read(fd, &c, 1), 1);
    nl->seen[nl->n++] = sk_loop_now_us(l);
    /* Time passes inside the batch; the loop's clock does not. */
    usleep(2000);
}

static void test_loop_now(void **state)
{
    int64_t b0 = sk_now_us();
    sk_loop *l = new_loop(state, 0);
    int64_t b1 = sk_now_us();
    int a[2], b[2];
    nowlog nl = {.l = l};

    /* Set at creation. */
    assert_true(sk_loop_now_us(l) >= b0 && sk_loop_now_us(l) <= b1);
    assert_int_equal(sk_loop_now(l), sk_loop_now_us(l) / 1000);

    /* One read per wakeup, after the wait, shared by every callback. */
    make_pair(a);
    make_pair(b);
    assert_int_equal(sk_loop_watch(l, a[0], SK_READ, on_io_now, &nl), 0);
    assert_int_equal(sk_loop_watch(l, b[0], SK_READ, on_io_now, &nl), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    int64_t before = sk_now_us();
    assert_int_equal(sk_loop_once(l, 1000), 2);
    int64_t after = sk_now_us();
    assert_int_equal(nl.n, 2);
    assert_true(nl.seen[0] == nl.seen[1]);
    assert_true(nl.seen[0] >= before && nl.seen[0] <= after - 4000);
    /* It stays put between iterations and moves at the next one. */
    assert_true(sk_loop_now_us(l) == nl.seen[0]);
    assert_int_equal(sk_loop_now(l), nl.seen[0] / 1000);
    assert_int_equal(sk_loop_once(l, 0), 0);
    assert_true(sk_loop_now_us(l) >= after);
    /* Milliseconds on the same clock as sk_now_ms(). */
    int64_t ms0 = sk_now_ms();
    assert_int_equal(sk_loop_once(l, 0), 0);
    assert_true(sk_loop_now(l) >= ms0 && sk_loop_now(l) <= sk_now_ms());

    sk_loop_watch(l, a[0], 0, NULL, NULL);
    sk_loop_watch(l, b[0], 0, NULL, NULL);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    sk_loop_free(l);
}

/* A timer that checks it is not early: by a fresh clock and by the loop's. */
typedef struct ustimer {
    int tag;
    int64_t added, delay_us; /* delay_us: what was asked, in us */
    int64_t fired, loop_now;
    int *order, *n;
    int rearm_left; /* re-arm with delay_us this many times */
    int calls;
} ustimer;

static int64_t on_ustimer(sk_loop *l, void *data)
{
    ustimer *t = data;
    int64_t now = sk_now_us();
    t->fired = now;
    t->loop_now = sk_loop_now_us(l);
    if (now - t->added < t->delay_us || t->loop_now - t->added < t->delay_us)
        fail_msg("timer %d fired %lld us after it was set, asked %lld", t->tag, (long long)(now - t->added),
                 (long long)t->delay_us);
    t->calls++;
    if (t->order)
        t->order[(*t->n)++] = t->tag;
    if (t->rearm_left-- > 0) {
        t->added = sk_now_us();
        return t->delay_us;
    }
    return -1;
}

static int64_t add_us(sk_loop *l, ustimer *t, int64_t us)
{
    t->delay_us = us;
    t->added = sk_now_us();
    return sk_loop_timer_us(l, us, on_ustimer, t);
}

static int64_t add_ms(sk_loop *l, ustimer *t, int64_t ms)
{
    t->delay_us = ms * 1000;
    t->added = sk_now_us();
    return sk_loop_timer(l, ms, on_ustimer, t);
}

static void test_timers_us(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int order[16], n = 0;
    ustimer t[8];

    /* Ordering by microseconds, never early. */
    memset(t, 0, sizeof t);
    int64_t delays[] = {1500, 300, 2200, 0, 800};
    for (int i = 0; i < 5; i++) {
        t[i] = (ustimer){.tag = (int)delays[i], .order = order, .n = &n};
        assert_true(add_us(l, &t[i], delays[i]) > 0);
    }
    for (int i = 0; i < 100 && n < 5; i++)
        assert_true(sk_loop_once(l, -1) >= 0);
    assert_int_equal(n, 5);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 300);
    assert_int_equal(order[2], 800);
    assert_int_equal(order[3], 1500);
    assert_int_equal(order[4], 2200);

    /* Millisecond and microsecond timers share one heap: 1 ms sorts between
     * 999 us and 1001 us set right around it. */
    n = 0;
    t[0] = (ustimer){.tag = 1001, .order = order, .n = &n};
    t[1] = (ustimer){.tag = 1000, .order = order, .n = &n};
    t[2] = (ustimer){.tag = 999, .order = order, .n = &n};
    assert_true(add_us(l, &t[2], 999) > 0);
    assert_true(add_ms(l, &t[1], 1) > 0);
    assert_true(add_us(l, &t[0], 1001) > 0);
    for (int i = 0; i < 100 && n < 3; i++)
        assert_true(sk_loop_once(l, -1) >= 0);
    assert_int_equal(n, 3);
    assert_int_equal(order[0], 999);
    assert_int_equal(order[1], 1000);
    assert_int_equal(order[2], 1001);

    /* A whole-millisecond timer waits the whole milliseconds (the heap used
     * to count in ms, so a 2 ms timer set late in a millisecond could run
     * after a little more than 1 ms). Repeated to cross many ms edges. */
    for (int k = 0; k < 20; k++) {
        t[0] = (ustimer){.tag = 2};
        assert_true(add_ms(l, &t[0], 2) > 0);
        for (int i = 0; i < 100 && t[0].calls == 0; i++)
            assert_true(sk_loop_once(l, -1) >= 0);
        assert_int_equal(t[0].calls, 1);
        usleep((useconds_t)(137 * k % 1000));
    }

    /* Re-arming in microseconds: four calls, each no earlier than 250 us
     * after the previous one (on_ustimer checks). */
    t[0] = (ustimer){.tag = 250, .rearm_left = 3};
    int64_t id = add_us(l, &t[0], 250);
    assert_true(id > 0);
    for (int i = 0; i < 100 && t[0].calls < 4; i++)
        assert_true(sk_loop_once(l, -1) >= 0);
    assert_int_equal(t[0].calls, 4);

    /* Cancel works on microsecond timers too. */
    t[0] = (ustimer){.tag = 1};
    id = add_us(l, &t[0], 500);
    sk_loop_timer_cancel(l, id);
    t[1] = (ustimer){.tag = 2};
    assert_true(add_us(l, &t[1], 1500) > 0);
    for (int i = 0; i < 100 && t[1].calls == 0; i++)
        assert_true(sk_loop_once(l, -1) >= 0);
    assert_int_equal(t[0].calls, 0);
    assert_int_equal(t[1].calls, 1);
    sk_loop_free(l);
}

/* Sub-millisecond waits really are shorter than a millisecond: 20 timers of
 * 200 us one after the other take about 4-6 ms; waits rounded up to whole
 * milliseconds would take at least 20. Timing on a shared machine is noisy,
 * so one of three attempts under 15 ms is enough. */
static void test_timers_us_precision(void **state)
{
    sk_loop *l = new_loop(state, 0);
    int64_t best = INT64_MAX;

    for (int attempt = 0; attempt < 3 && best >= 15000; attempt++) {
        ustimer t = {.tag = 200, .rearm_left = 19};
        int64_t start = sk_now_us();
        assert_true(add_us(l, &t, 200) > 0);
        for (int i = 0; i < 1000 && t.calls < 20; i++)
            assert_true(sk_loop_once(l, -1) >= 0);
        assert_int_equal(t.calls, 20);
        int64_t took = sk_now_us() - start;
        if (took < best)
            best = took;
    }
    if (best >= 15000)
        fail_msg("%s: 20 x 200 us timers took at least %lld us", (const char *)*state, (long long)best);
    sk_loop_free(l);
}

/* Stop ------------------------------------------------------------------ */

static void on_io_stop(sk_loop *l, int fd, void *data, int events)
{
    hits *h = data;
    (void)fd;
    (void)events;
    h->n++;
    sk_loop_stop(l);
}

/* A stall: the process is stopped (SIGSTOP) while it waits, input arrives
 * and a timer comes due, then SIGCONT. epoll_wait returns EINTR then; the
 * input must still be dispatched before the timer runs, or an idle sweep
 * in that timer judges an active connection by a clock that jumped. */
typedef struct order {
    int step, io_at, timer_at;
} order;

static void on_io_order(sk_loop *l, int fd, void *data, int events)
{
    order *o = data;
    char b[8];
    (void)l;
    (void)events;
    if (read(fd, b, sizeof b) > 0 && o->io_at == 0)
        o->io_at = ++o->step;
}

static int64_t on_timer_order(sk_loop *l, void *data)
{
    order *o = data;
    (void)l;
    if (o->timer_at == 0)
        o->timer_at = ++o->step;
    return -1;
}

/* Whether process pid is stopped (state T in /proc/PID/stat). */
static bool is_stopped(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] == 'T';
}

static void test_io_before_timers_after_stall(void **state)
{
    sk_loop *l = new_loop(state, 0);
    order o = {0};
    int sv[2];

    make_pair(sv);
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io_order, &o), 0);
    assert_true(sk_loop_timer(l, 100, on_timer_order, &o) > 0);
    pid_t parent = getpid(), pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(30 * 1000); /* the parent waits by now */
        kill(parent, SIGSTOP);
        for (int i = 0; i < 1000 && !is_stopped(parent); i++)
            usleep(1000);
        ssize_t rc = write(sv[1], "x", 1);
        usleep(200 * 1000); /* the timer is due */
        kill(parent, SIGCONT);
        _exit(rc == 1 ? 0 : 1);
    }
    for (int i = 0; i < 20 && (o.io_at == 0 || o.timer_at == 0); i++)
        assert_true(sk_loop_once(l, 1000) >= 0);
    int status = -1;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    assert_int_equal(o.io_at, 1);
    assert_int_equal(o.timer_at, 2);
    assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
    close(sv[0]);
    close(sv[1]);
    sk_loop_free(l);
}

static void test_loop_stop(void **state)
{
    sk_loop *l = new_loop(state, 0);
    tlog log = {.stop = true};
    tctx t = {&log, 7};
    int sv[2];
    hits h = no_hits();

    /* From a timer. */
    assert_true(sk_loop_timer(l, 5, on_timer, &t) > 0);
    assert_int_equal(sk_loop_run(l), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.order[0], 7);

    /* From an io callback; and run() can be entered again after a stop. */
    make_pair(sv);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io_stop, &h), 0);
    assert_int_equal(sk_loop_run(l), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(sk_loop_run(l), 0);
    assert_int_equal(h.n, 2);

    sk_loop_watch(l, sv[0], 0, NULL, NULL);
    close(sv[0]);
    close(sv[1]);
    sk_loop_free(l);
}

/* After each wakeup ------------------------------------------------------ */

typedef struct after_log {
    int calls;
    int io_at_call;  /* io callbacks run when the hook last ran */
    bool timer_done; /* the timer had run when the hook last ran */
    const hits *h;
    bool timer_ran;
} after_log;

static void on_after(sk_loop *l, void *data)
{
    after_log *a = data;
    (void)l;
    a->calls++;
    a->io_at_call = a->h->n;
    a->timer_done = a->timer_ran;
}

static int64_t on_after_timer(sk_loop *l, void *data)
{
    after_log *a = data;
    (void)l;
    a->timer_ran = true;
    return -1;
}

static void test_after_wakeup(void **state)
{
    sk_loop *l = new_loop(state, 0);
    hits h = no_hits();
    after_log a = {.h = &h};
    int p[2], q[2];

    make_pair(p);
    make_pair(q);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(write(q[1], "y", 1), 1);
    assert_int_equal(sk_loop_watch(l, p[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_watch(l, q[0], SK_READ, on_io, &h), 0);
    sk_loop_after_wakeup(l, on_after, &a);

    /* One wakeup with two ready fds: the hook runs once, after both. */
    assert_int_equal(sk_loop_once(l, 1000), 2);
    assert_int_equal(h.n, 2);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.io_at_call, 2);

    /* A wakeup for a timer alone: the hook runs after the timer. */
    sk_loop_watch(l, p[0], 0, NULL, NULL);
    sk_loop_watch(l, q[0], 0, NULL, NULL);
    assert_true(sk_loop_timer(l, 2, on_after_timer, &a) > 0);
    while (!a.timer_ran)
        assert_true(sk_loop_once(l, 1000) >= 0);
    assert_true(a.calls >= 2);
    assert_true(a.timer_done);

    /* Removed: no more calls. */
    int calls = a.calls;
    sk_loop_after_wakeup(l, NULL, NULL);
    assert_int_equal(sk_loop_watch(l, p[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.n, 3);
    assert_int_equal(a.calls, calls);

    sk_loop_watch(l, p[0], 0, NULL, NULL);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    sk_loop_free(l);
}

/* Limits ---------------------------------------------------------------- */

static void test_setsize_range(void **state)
{
    sk_loop *l = new_loop(state, 16);
    hits h = no_hits();
    int sv[2];

    assert_int_equal(sk_loop_watch(l, 16, SK_READ, on_io, &h), -ERANGE);
    assert_int_equal(sk_loop_watch(l, 1000, SK_READ, on_io, &h), -ERANGE);
    assert_int_equal(sk_loop_watch(l, -1, SK_READ, on_io, &h), -ERANGE);
    assert_int_equal(sk_loop_watched(l, 16), 0);
    assert_int_equal(sk_loop_watched(l, -1), 0);

    /* An fd that is really open but past setsize: refused, nothing breaks. */
    make_pair(sv);
    int high = fcntl(sv[0], F_DUPFD_CLOEXEC, 16);
    assert_true(high >= 16);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(sk_loop_watch(l, high, SK_READ, on_io, &h), -ERANGE);
    /* The fd below setsize still works. */
    assert_true(sv[0] < 16);
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &h), 0);
    assert_int_equal(sk_loop_once(l, 1000), 1);
    assert_int_equal(h.fd, sv[0]);

    sk_loop_watch(l, sv[0], 0, NULL, NULL);
    close(high);
    close(sv[0]);
    close(sv[1]);
    sk_loop_free(l);
}

/* An fd past FD_SETSIZE (1024): select cannot hold it and must say so with
 * SK_ETOOMANYFDS (never write outside its fd_set); the others serve it. */
static void test_fd_past_fd_setsize(void **state)
{
    enum { HIGH = 1500 };
    struct rlimit rl;
    int sv[2];
    hits h = no_hits();

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur <= HIGH) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= HIGH) {
            skip(); /* cannot raise the limit unprivileged */
            return;
        }
        rl.rlim_cur = HIGH + 1;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    sk_loop *l = new_loop(state, 2048);
    make_pair(sv);
    assert_int_equal(dup2(sv[0], HIGH), HIGH);
    assert_int_equal(write(sv[1], "x", 1), 1);

    int rc = sk_loop_watch(l, HIGH, SK_READ, on_io, &h);
    if (strcmp(*state, "select") == 0) {
        assert_int_equal(rc, SK_ETOOMANYFDS);
        assert_int_equal(sk_loop_watched(l, HIGH), 0);
        assert_int_equal(sk_loop_watch(l, HIGH, SK_WRITE, on_io, &h), SK_ETOOMANYFDS);
        /* The loop goes on, for a low fd and without touching the high one. */
        assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &h), 0);
        assert_int_equal(sk_loop_once(l, 1000), 1);
        assert_int_equal(h.n, 1);
        assert_int_equal(h.fd, sv[0]);
        assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
        /* Unwatching the refused fd is fine. */
        assert_int_equal(sk_loop_watch(l, HIGH, 0, NULL, NULL), 0);
        assert_int_equal(sk_loop_once(l, 0), 0);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(sk_loop_watched(l, HIGH), SK_READ);
        assert_int_equal(sk_loop_once(l, 1000), 1);
        assert_int_equal(h.n, 1);
        assert_int_equal(h.fd, HIGH);
        assert_int_equal(sk_loop_watch(l, HIGH, 0, NULL, NULL), 0);
    }
    close(HIGH);
    close(sv[0]);
    close(sv[1]);
    sk_loop_free(l);
}

/* Backend-independent ---------------------------------------------------- */

static void test_backend_names(void **state)
{
    const char *const *names = sk_loop_backends();
    int err = 0, n = 0;
    bool epoll = false, poll = false, select = false;
    (void)state;

    for (; names[n]; n++) {
        epoll = epoll || strcmp(names[n], "epoll") == 0;
        poll = poll || strcmp(names[n], "poll") == 0;
        select = select || strcmp(names[n], "select") == 0;
    }
    assert_true(epoll && poll && select);

    /* NULL picks the best: the first one listed. */
    sk_loop *l = sk_loop_new(NULL, 0, &err);
    assert_non_null(l);
    assert_string_equal(sk_loop_backend(l), names[0]);
    sk_loop_free(l);

    err = 0;
    assert_null(sk_loop_new("no-such-backend", 0, &err));
    assert_int_equal(err, -EINVAL);
    err = 0;
    assert_null(sk_loop_new("", 0, &err));
    assert_int_equal(err, -EINVAL);
    sk_loop_free(NULL);
}

int main(void)
{
    struct CMUnitTest per_backend[] = {
        cmocka_unit_test(test_read_readiness),
        cmocka_unit_test(test_pipe_readiness),
        cmocka_unit_test(test_write_readiness),
        cmocka_unit_test(test_watch_unwatch_replace),
        cmocka_unit_test(test_forget_then_close),
        cmocka_unit_test(test_unwatch_from_callback),
        cmocka_unit_test(test_many_fds),
        cmocka_unit_test(test_timers_in_order),
        cmocka_unit_test(test_timer_rearm_and_cancel),
        cmocka_unit_test(test_loop_now),
        cmocka_unit_test(test_timers_us),
        cmocka_unit_test(test_timers_us_precision),
        cmocka_unit_test(test_loop_stop),
        cmocka_unit_test(test_io_before_timers_after_stall),
        cmocka_unit_test(test_after_wakeup),
        cmocka_unit_test(test_setsize_range),
        cmocka_unit_test(test_fd_past_fd_setsize),
    };
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_backend_names),
    };
    int failed = cmocka_run_group_tests_name("loop", common, NULL, NULL);

    enum { NTESTS = sizeof per_backend / sizeof per_backend[0] };
    const char *bodies[NTESTS];
    static char names[8][NTESTS][64];
    int nb = 0;

    for (size_t i = 0; i < NTESTS; i++)
        bodies[i] = per_backend[i].name;
    /* Name each twin "backend/test" so a failure says which backend. */
    for (const char *const *be = sk_loop_backends(); *be && nb < 8; be++, nb++) {
        for (size_t i = 0; i < NTESTS; i++) {
            snprintf(names[nb][i], sizeof names[nb][i], "%s/%s", *be, bodies[i]);
            per_backend[i].name = names[nb][i];
            per_backend[i].initial_state = (void *)*be;
        }
        failed += _cmocka_run_group_tests(*be, per_backend, NTESTS, NULL, NULL);
    }
    return failed ? 1 : 0;
}
