/* The event loop core: fd table, dispatch and a timer heap. Backends only
 * report readiness; everything else is here. */
#include "loop_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <sockit/clock.h>

static const sk__backend *const backends[] = {
    &sk__backend_epoll,
#ifdef SOCKIT_HAVE_URING
    &sk__backend_uring,
#endif
    &sk__backend_poll,  &sk__backend_select, NULL,
};

const char *const *sk_loop_backends(void)
{
    static const char *names[sizeof backends / sizeof backends[0]];
    for (size_t i = 0; backends[i] != NULL; i++)
        names[i] = backends[i]->name;
    return names;
}

sk_loop *sk_loop_new(const char *backend, int setsize, int *err)
{
    const sk__backend *be = NULL;
    sk_loop *l;
    int rc;

    for (size_t i = 0; backends[i] != NULL; i++) {
        if (backend == NULL || strcmp(backend, backends[i]->name) == 0) {
            be = backends[i];
            break;
        }
    }
    if (be == NULL) {
        *err = -EINVAL;
        return NULL;
    }
    if (setsize <= 0) {
        struct rlimit rl;
        setsize = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (int)rl.rlim_cur : 65536;
        if (setsize > 1 << 20)
            setsize = 1 << 20;
    }
    l = calloc(1, sizeof *l);
    if (l == NULL)
        goto nomem;
    l->be = be;
    l->setsize = setsize;
    l->maxfd = -1;
    l->next_timer_id = 1;
    l->now_us = sk_now_us();
    l->now_ms = l->now_us / 1000;
    l->io = calloc((size_t)setsize, sizeof *l->io);
    l->events = calloc((size_t)setsize, sizeof *l->events);
    l->fired = calloc((size_t)setsize, sizeof *l->fired);
    if (l->io == NULL || l->events == NULL || l->fired == NULL)
        goto nomem;
    rc = be->create(l);
    if (rc < 0) {
        free(l->io);
        free(l->events);
        free(l->fired);
        free(l);
        *err = rc;
        return NULL;
    }
    return l;
nomem:
    if (l) {
        free(l->io);
        free(l->events);
        free(l->fired);
        free(l);
    }
    *err = -ENOMEM;
    return NULL;
}

void sk_loop_free(sk_loop *l)
{
    if (l == NULL)
        return;
    l->be->destroy(l);
    free(l->io);
    free(l->events);
    free(l->fired);
    free(l->timers);
    free(l);
}

const char *sk_loop_backend(const sk_loop *l) { return l->be->name; }

int64_t sk_loop_now(const sk_loop *l) { return l->now_ms; }

int64_t sk_loop_now_us(const sk_loop *l) { return l->now_us; }

int sk_loop_watch(sk_loop *l, int fd, int events, sk_io_fn fn, void *data)
{
    if (fd < 0 || fd >= l->setsize)
        return -ERANGE;
    sk__io *io = &l->io[fd];
    events &= SK_READ | SK_WRITE;
    if (events != l->events[fd]) {
        int rc = l->be->set(l, fd, l->events[fd], events);
        if (rc < 0)
            return rc;
    }
    l->events[fd] = (uint8_t)events;
    io->fn = events ? fn : NULL;
    io->data = events ? data : NULL;
    if (events && fd > l->maxfd)
        l->maxfd = fd;
    if (!events && fd == l->maxfd) {
        while (l->maxfd >= 0 && l->events[l->maxfd] == 0)
            l->maxfd--;
    }
    return 0;
}

int sk_loop_forget(sk_loop *l, int fd)
{
    if (fd < 0 || fd >= l->setsize)
        return -ERANGE;
    sk__io *io = &l->io[fd];
    if (l->events[fd] == 0)
        return 0;
    if (l->be->forget == NULL)
        return sk_loop_watch(l, fd, 0, NULL, NULL);
    int rc = l->be->forget(l, fd, l->events[fd]);
    if (rc < 0)
        return rc;
    l->events[fd] = 0;
    io->fn = NULL;
    io->data = NULL;
    if (fd == l->maxfd) {
        while (l->maxfd >= 0 && l->events[l->maxfd] == 0)
            l->maxfd--;
    }
    return 0;
}

int sk_loop_watched(const sk_loop *l, int fd) { return fd >= 0 && fd < l->setsize ? l->events[fd] : 0; }

/* Timer heap ------------------------------------------------------------ */

static void heap_swap(sk__timer *h, int a, int b)
{
    sk__timer t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_up(sk__timer *h, int i)
{
    while (i > 0 && h[(i - 1) / 2].when > h[i].when) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(sk__timer *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].when < h[m].when)
            m = l;
        if (r < n && h[r].when < h[m].when)
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

/* Delays far in the future are clamped so adding one to the clock never
 * overflows (2^61 us is some 73 000 years). */
#define MAX_DELAY_US (INT64_C(1) << 61)
/* A timer at least this far off may wait from the wakeup's clock (loop_once). */
#define FAR_TIMER_US 50000

static int64_t ms_to_us(int64_t ms) { return ms > MAX_DELAY_US / 1000 ? MAX_DELAY_US : ms * 1000; }

/* Insert a timer with a given id. The id is set before the heap moves the
 * entry, so callers never read it back from a slot that changed hands. The
 * delay counts from a fresh clock read, not from the wakeup's cached time,
 * which may be behind by however long the callbacks so far took. */
static int timer_add(sk_loop *l, int64_t us, bool in_us, int64_t id, sk_timer_fn fn, void *data)
{
    if (l->ntimers == l->timers_cap) {
        int cap = l->timers_cap ? l->timers_cap * 2 : 8;
        sk__timer *t = realloc(l->timers, (size_t)cap * sizeof *t);
        if (t == NULL)
            return -ENOMEM;
        l->timers = t;
        l->timers_cap = cap;
    }
    if (us < 0)
        us = 0;
    else if (us > MAX_DELAY_US)
        us = MAX_DELAY_US;
    l->timers[l->ntimers] = (sk__timer){.when = sk_now_us() + us, .id = id, .fn = fn, .data = data, .us = in_us};
    heap_up(l->timers, l->ntimers++);
    return 0;
}

static int64_t timer_new(sk_loop *l, int64_t us, bool in_us, sk_timer_fn fn, void *data)
{
    int rc = timer_add(l, us, in_us, l->next_timer_id, fn, data);
    if (rc < 0)
        return rc;
    return l->next_timer_id++;
}

int64_t sk_loop_timer(sk_loop *l, int64_t ms, sk_timer_fn fn, void *data)
{
    return timer_new(l, ms_to_us(ms), false, fn, data);
}

int64_t sk_loop_timer_us(sk_loop *l, int64_t us, sk_timer_fn fn, void *data)
{
    return timer_new(l, us, true, fn, data);
}

void sk_loop_timer_cancel(sk_loop *l, int64_t id)
{
    /* Few timers live at once (sweeps, not one per connection), so a scan
     * is cheaper than keeping an index. A cancelled timer stays in the heap
     * with no function until it comes due. */
    for (int i = 0; i < l->ntimers; i++) {
        if (l->timers[i].id == id) {
            l->timers[i].fn = NULL;
            return;
        }
    }
}

static void run_timers(sk_loop *l)
{
    int64_t now = l->now_us;
    while (l->ntimers > 0 && l->timers[0].when <= now) {
        sk__timer t = l->timers[0];
        l->timers[0] = l->timers[--l->ntimers];
        heap_down(l->timers, l->ntimers, 0);
        if (t.fn == NULL)
            continue;
        int64_t next = t.fn(l, t.data);
        /* Re-arm with the same id so a cancel still finds it. */
        if (next >= 0)
            timer_add(l, t.us ? next : ms_to_us(next), t.us, t.id, t.fn, t.data);
    }
}

/* One wait and its dispatch. RECENT: l->now_us was read after the last
 * wait and only this loop's callbacks ran since (sk_loop_run), so a timer
 * far off can wait from it: it comes due late by no more than those
 * callbacks took, and a wakeup saves a clock read. A near timer, or a
 * caller of sk_loop_once who may have done anything since, needs the clock
 * as it is now. */
static int loop_once(sk_loop *l, int timeout_ms, bool recent)
{
    int64_t timeout_us = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000;
    int n;

    if (l->ntimers > 0 && timeout_us != 0) {
        int64_t wait = l->timers[0].when - l->now_us;
        if (!recent || wait < FAR_TIMER_US)
            wait = l->timers[0].when - sk_now_us();
        if (wait < 0)
            wait = 0;
        if (timeout_us < 0 || wait < timeout_us)
            timeout_us = wait;
    }
    n = l->be->poll(l, timeout_us);
    /* A wait cut short by a signal reports no events, yet the clock may
     * have jumped: after SIGSTOP/SIGCONT every timer is due while the
     * kernel holds input for many fds. Running the timers first would let
     * an idle sweep judge active connections by a clock that moved while
     * nobody looked, so look again, without waiting, and dispatch that
     * I/O before any timer. */
    if (n == -EINTR)
        n = l->be->poll(l, 0);
    if (n < 0 && n != -EINTR)
        return n;
    l->now_us = sk_now_us();
    l->now_ms = l->now_us / 1000;
    if (n < 0)
        return 0; /* interrupted twice: the timers wait for the next look */
    for (int i = 0; i < n; i++) {
        int fd = l->fired[i].fd;
        sk__io *io = &l->io[fd];
        /* While this callback runs (its system calls take microseconds),
         * the next one's data comes into the cache: with many fds its lines
         * were evicted since it last ran. Prefetching never faults, so a
         * stale or non-pointer data costs nothing but the hint. */
        if (i + 1 < n) {
            uintptr_t next = (uintptr_t)l->io[l->fired[i + 1].fd].data;
            __builtin_prefetch((const void *)next, 1);
            __builtin_prefetch((const void *)(next + 64), 1);
        }
        /* An earlier callback may have stopped watching this fd. */
        int ev = l->fired[i].events & l->events[fd];
        if (ev && io->fn)
            io->fn(l, fd, io->data, ev);
    }
    run_timers(l);
    if (l->after_fn)
        l->after_fn(l, l->after_data);
    return n;
}

int sk_loop_once(sk_loop *l, int timeout_ms) { return loop_once(l, timeout_ms, false); }

int sk_loop_run(sk_loop *l)
{
    l->stop = false;
    for (bool recent = false; !l->stop; recent = true) {
        int rc = loop_once(l, -1, recent);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void sk_loop_stop(sk_loop *l) { l->stop = true; }

void sk_loop_after_wakeup(sk_loop *l, sk_loop_fn fn, void *data)
{
    l->after_fn = fn;
    l->after_data = data;
}
