/* One connection served to its end in a blocking poll loop: the body of a
 * thread of the thread model and of a child of the fork model. */
#include "models.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

static void mark_done(sk_conn *c, void *arg)
{
    (void)c;
    *(bool *)arg = true;
}

static short poll_events(int want)
{
    return (short)(((want & SK_READ) ? POLLIN | POLLRDHUP : 0) | ((want & SK_WRITE) ? POLLOUT : 0));
}

static int fired(short revents)
{
    int ev = 0;
    if (revents & (POLLIN | POLLRDHUP))
        ev |= SK_READ;
    if (revents & POLLOUT)
        ev |= SK_WRITE;
    if (revents & (POLLERR | POLLHUP | POLLNVAL))
        ev |= SK_READ | SK_WRITE;
    return ev;
}

/* The service's extra fds (sk_conn_watch) that fired. The watches are
 * copied first: on_watch may change them. Returns SK__KEEP or SK__DONE. */
static int run_watches(sk_conn *c, const struct pollfd *p, int n)
{
    for (int i = 0; i < n; i++) {
        int ev = fired(p[i].revents);
        if (ev && sk__conn_watched(c, p[i].fd, ev) == SK__DONE)
            return SK__DONE;
    }
    return n > 0 ? sk__conn_drive(c, 0) : SK__KEEP;
}

static int64_t earliest(int64_t a, int64_t b) { return a < 0 ? b : b < 0 ? a : a < b ? a : b; }

/* How long poll may sleep: until the next idle, linger, drain, min-rate or
 * service deadline (sk_conn_set_timeout: http's 408), or forever. The sweep after
 * the wait acts on whichever came due, as the event models' sweep does. */
static int wait_ms(const sk__engine *e, const sk_conn *c, int64_t drain_until)
{
    int idle = e->srv->cfg.idle_timeout_ms;
    int64_t when = -1;

    if (c->flags & SK__C_LINGER)
        when = c->due_ms;
    else if (idle > 0)
        when = c->active_ms + idle;
    if (c->due_ms > 0 && !(c->flags & (SK__C_LINGER | SK__C_CLOSING)))
        when = earliest(when, c->due_ms);
    if (e->draining)
        when = earliest(when, drain_until);
    int64_t rate = sk__conn_rate_due(c);
    if (rate > 0)
        when = earliest(when, rate);
    if (when < 0)
        return -1;
    when -= e->now;
    return when < 0 ? 0 : when > 60000 ? 60000 : (int)when;
}

int sk__serve_one(sk_server *s, int fd, const sk_addr *held)
{
    sk__engine e;
    int64_t drain_until = 0;
    bool done, stop = false;
    int rc;

    /* One connection needs at most its two blocks: cache nothing more. */
    rc = sk__engine_init(&e, s, 2, false);
    if (rc < 0) {
        sk__server_reject(s, fd, held, rc, "out of memory for a new connection");
        return rc;
    }
    sk_conn *c = sk__conn_open_held(&e, fd, false, held);
    if (c == NULL) {
        sk__engine_destroy(&e);
        return -ENOMEM;
    }
    done = sk__conn_drive(c, 0) == SK__DONE;
    while (!done) {
        /* A drain serves the connection on until it ends or the drain
         * timeout cuts it (below). */
        if ((stop || SK__STOPPING(s)) && !e.draining) {
            e.draining = true;
            drain_until = e.now + s->cfg.drain_timeout_ms;
            if (sk__conn_drain(c) == SK__DONE)
                break;
        }
        struct pollfd p[2 + SK_CONN_WATCH_MAX] = {
            {.fd = fd, .events = poll_events(sk__conn_interest(c))},
            /* The stop eventfd stays readable once stop was asked, so
             * watch it only until the drain starts. */
            {.fd = e.draining ? -1 : s->stop_fd, .events = POLLIN},
        };
        int nw = sk__conn_nwatch(c);
        for (int i = 0; i < nw; i++)
            p[2 + i] = (struct pollfd){.fd = c->ext->watch[i].fd, .events = poll_events(c->ext->watch[i].events)};
        int n = poll(p, (nfds_t)(2 + nw), wait_ms(&e, c, drain_until));
        e.now = sk_now_ms();
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            nw = 0;
        if (n > 0 && p[1].revents)
            stop = true;
        int ev = n > 0 ? fired(p[0].revents) : 0;
        if (ev && sk__conn_drive(c, ev) == SK__DONE)
            break;
        if (run_watches(c, p + 2, nw) == SK__DONE)
            break;
        sk__engine_sweep(&e, mark_done, &done);
        if (!done && e.draining && e.now >= drain_until) {
            sk__conn_cut(c);
            break;
        }
    }
    sk__engine_destroy(&e); /* frees c */
    return 0;
}
