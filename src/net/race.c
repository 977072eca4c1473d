/* Happy Eyeballs connection racing (RFC 8305 sections 4 and 5): the
 * addresses interleaved by family, one attempt started every attempt
 * delay (or at once when the one before failed), earlier attempts kept
 * running, the first to connect wins and the rest are closed. A dead first
 * address then costs one attempt delay, not a whole timeout. */
#include <sockit/sock.h>

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RACE_MAX 32
#define DEFAULT_DELAY_MS 250

typedef struct attempt {
    int fd;        /* -1 before the start and after the end */
    int index;     /* into the caller's addrs */
    int64_t until; /* this attempt's deadline, or -1 */
} attempt;

/* RFC 8305 section 4: the first address's family first, then alternate. */
static int interleave(const sk_addr *addrs, int n, int *order)
{
    int first = addrs[0].ss.ss_family, k = 0, a = 0, b = 0;

    while (k < n) {
        while (a < n && addrs[a].ss.ss_family != first)
            a++;
        if (a < n)
            order[k++] = a++;
        while (b < n && addrs[b].ss.ss_family == first)
            b++;
        if (b < n && k < n)
            order[k++] = b++;
    }
    return k;
}

static void report(const sk_race_opts *o, const sk_addr *addrs, int64_t t0, int index, sk_race_kind kind, int err)
{
    if (o->on_event == NULL)
        return;
    sk_race_event ev = {.at_ms = sk_now_ms() - t0, .index = index, .kind = kind, .err = err};
    o->on_event(o->userdata, addrs, &ev);
}

/* Start a non-blocking connect. Returns the fd (connecting or connected),
 * or -errno when it failed at once. */
static int start(const sk_addr *a, bool *done)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    *done = false;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
        *done = true;
        return fd;
    }
    if (errno == EINPROGRESS)
        return fd;
    int err = -errno;
    close(fd);
    return err;
}

static int finish(attempt *at, int n, int winner, int *which)
{
    int fd = at[winner].fd;
    for (int i = 0; i < n; i++) {
        if (i != winner && at[i].fd >= 0)
            close(at[i].fd);
        at[i].fd = -1;
    }
    if (sk_set_nonblock(fd, false) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (which)
        *which = at[winner].index;
    return fd;
}

int sk_tcp_connect_race(const sk_addr *addrs, int n, const sk_race_opts *opts, int *which)
{
    static const sk_race_opts defaults = {.timeout_ms = -1};
    const sk_race_opts *o = opts ? opts : &defaults;
    int delay = o->attempt_delay_ms > 0 ? o->attempt_delay_ms : DEFAULT_DELAY_MS;
    int order[RACE_MAX], started = 0, live = 0, last_err = -EINVAL;
    attempt at[RACE_MAX];
    int64_t t0 = sk_now_ms(), next_start = t0;

    if (n <= 0)
        return -EINVAL;
    n = interleave(addrs, n < RACE_MAX ? n : RACE_MAX, order);
    if (which)
        *which = order[0];
    for (;;) {
        int64_t now = sk_now_ms();
        /* Start the next attempt when its delay passed or nothing runs. */
        if (started < n && (now >= next_start || live == 0)) {
            attempt *a = &at[started];
            bool done;
            a->index = order[started++];
            a->until = o->timeout_ms >= 0 ? now + o->timeout_ms : -1;
            report(o, addrs, t0, a->index, SK_RACE_START, 0);
            a->fd = start(&addrs[a->index], &done);
            if (a->fd >= 0 && done) {
                report(o, addrs, t0, a->index, SK_RACE_WON, 0);
                return finish(at, started, started - 1, which);
            }
            if (a->fd < 0) {
                last_err = a->fd;
                report(o, addrs, t0, a->index, SK_RACE_FAIL, a->fd);
                if (which)
                    *which = a->index;
                continue; /* the next one goes at once */
            }
            live++;
            next_start = now + delay;
        }
        if (live == 0 && started == n)
            return last_err;

        /* Wait for an attempt to finish, the next start or a deadline. */
        struct pollfd p[RACE_MAX];
        int map[RACE_MAX], np = 0;
        int64_t wake = started < n ? next_start : -1;
        for (int i = 0; i < started; i++) {
            if (at[i].fd < 0)
                continue;
            p[np] = (struct pollfd){.fd = at[i].fd, .events = POLLOUT};
            map[np++] = i;
            if (at[i].until >= 0 && (wake < 0 || at[i].until < wake))
                wake = at[i].until;
        }
        int wait = wake < 0 ? -1 : wake > now ? (int)(wake - now) : 0;
        int k = poll(p, (nfds_t)np, wait);
        if (k < 0 && errno != EINTR) {
            last_err = -errno;
            break;
        }
        now = sk_now_ms();
        for (int j = 0; j < np && k > 0; j++) {
            attempt *a = &at[map[j]];
            if (p[j].revents == 0)
                continue;
            int err = 0;
            socklen_t elen = sizeof err;
            if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                err = errno;
            if (err == 0) {
                report(o, addrs, t0, a->index, SK_RACE_WON, 0);
                return finish(at, started, map[j], which);
            }
            close(a->fd);
            a->fd = -1;
            live--;
            last_err = -err;
            if (which)
                *which = a->index;
            report(o, addrs, t0, a->index, SK_RACE_FAIL, -err);
        }
        for (int i = 0; i < started; i++) {
            attempt *a = &at[i];
            if (a->fd >= 0 && a->until >= 0 && now >= a->until) {
                close(a->fd);
                a->fd = -1;
                live--;
                last_err = -ETIMEDOUT;
                if (which)
                    *which = a->index;
                report(o, addrs, t0, a->index, SK_RACE_FAIL, -ETIMEDOUT);
            }
        }
    }
    for (int i = 0; i < started; i++) {
        if (at[i].fd >= 0)
            close(at[i].fd);
    }
    return last_err;
}
