/* The server core: what every model calls while it serves (counters,
 * events, the max-conns slots, accept with the fd-exhaustion fallback,
 * refusing a connection, stop, and running workers on threads). It calls
 * no model: the models sit above it and server.c above them. */
#include "conn_int.h"
#include "server_trace.h"
#include "base/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const sk_addr *sk_server_address(const sk_server *s) { return &s->laddrs[0]; }

const sk_addr *sk_server_addresses(const sk_server *s, int *n)
{
    *n = s->nlisteners;
    return s->laddrs;
}

const char *sk_server_backend(const sk_server *s) { return s->backend; }
void sk_server_stop(sk_server *s)
{
    uint64_t one = 1;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
    /* write(2) is async-signal-safe; the eventfd stays readable so every
     * loop thread and the supervisor see it. */
    ssize_t rc = write(s->stop_fd, &one, sizeof one);
    (void)rc;
}

_Thread_local sk__engine *sk__engine_here;

void sk_server_stats(const sk_server *s, sk_stats *out)
{
    /* What this thread's own loop holds is counted before it is read (a
     * /stats answer includes its own request); other threads publish at
     * the end of each wakeup. */
    if (sk__engine_here && sk__engine_here->srv == s)
        sk__engine_publish(sk__engine_here);
    out->accepted = __atomic_load_n(&s->stats->accepted, __ATOMIC_RELAXED);
    out->active = __atomic_load_n(&s->stats->active, __ATOMIC_RELAXED);
    out->closed = __atomic_load_n(&s->stats->closed, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&s->stats->rejected, __ATOMIC_RELAXED);
    out->bytes_in = __atomic_load_n(&s->stats->bytes_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&s->stats->bytes_out, __ATOMIC_RELAXED);
    out->cut = __atomic_load_n(&s->stats->cut, __ATOMIC_RELAXED);
    out->fd_limit_refused = __atomic_load_n(&s->stats->fd_limit_refused, __ATOMIC_RELAXED);
    out->fd_limit_paused = __atomic_load_n(&s->stats->fd_limit_paused, __ATOMIC_RELAXED);
    out->max_conns_refused = __atomic_load_n(&s->stats->max_conns_refused, __ATOMIC_RELAXED);
    out->max_conns_paused = __atomic_load_n(&s->stats->max_conns_paused, __ATOMIC_RELAXED);
    out->per_ip_refused = __atomic_load_n(&s->stats->per_ip_refused, __ATOMIC_RELAXED);
    out->slow_closed = __atomic_load_n(&s->stats->slow_closed, __ATOMIC_RELAXED);
    out->rate_limited = __atomic_load_n(&s->stats->rate_limited, __ATOMIC_RELAXED);
    /* Read from the kernel at each call: a file read, never per connection. */
    uint64_t ovf, drops;
    sk__netstat_read(&ovf, &drops);
    out->listen_overflows = ovf > s->shared->overflows0 ? ovf - s->shared->overflows0 : 0;
    out->listen_drops = drops > s->shared->drops0 ? drops - s->shared->drops0 : 0;
}

void sk__server_event(sk_server *s, sk_event_kind kind, const sk_tuple *t, int err, const char *msg)
{
    if (s->cfg.on_event == NULL)
        return;
    sk_event ev = {.kind = kind, .tuple = t, .err = err, .msg = msg};
    s->cfg.on_event(s->cfg.userdata, &ev);
}

bool sk__server_reserve(sk_server *s)
{
    uint64_t cur, max = (uint64_t)s->cfg.max_conns;

    if (max == 0)
        return true;
    /* Check and count in one step: several loop threads or prefork workers
     * accepting at the same instant must not all see the last free slot. */
    cur = __atomic_load_n(&s->stats->active, __ATOMIC_RELAXED);
    do {
        if (cur >= max)
            return false;
    } while (!__atomic_compare_exchange_n(&s->stats->active, &cur, cur + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

void sk__server_unreserve(sk_server *s)
{
    if (s->cfg.max_conns > 0)
        SK__STAT_SUB(s, active, 1);
}

static void accept_lock(sk_server *s)
{
    if (s->accept_lock)
        pthread_mutex_lock(s->accept_lock);
}

static void accept_unlock(sk_server *s)
{
    if (s->accept_lock)
        pthread_mutex_unlock(s->accept_lock);
}

void sk__server_refill(sk_server *s, int *reserve_fd)
{
    accept_lock(s);
    if (*reserve_fd < 0)
        *reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    accept_unlock(s);
}

/* Out of descriptors, the pending connection stays queued and the listener
 * stays readable: a level-triggered loop would spin. Free the reserved fd,
 * take the connection, close it (the client sees a clean close), then take
 * the reserve back. Between the close of the reserve and its reopening the
 * process has a free slot: an accept by any other thread of the process in
 * that window takes it, this one gets EMFILE again and the reserve is lost
 * for as long as the fd table stays full, which leaves this listener's
 * queue hanging. So with several accepting threads the whole exchange runs
 * under s->accept_lock, as does every plain accept (the caller holds it).
 * Returns 0 (refused one), -EAGAIN (nothing was pending: nobody refused) or
 * -EMFILE (no reserve to refuse with). */
static int refuse_one(int lfd, int *reserve_fd)
{
    if (*reserve_fd < 0)
        return -EMFILE;
    close(*reserve_fd);
    *reserve_fd = -1;
    int victim = sk_accept(lfd, true, NULL);
    if (victim >= 0)
        close(victim);
    *reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* accept() fails with EMFILE before it looks at the queue, so after the
     * last victim one more EMFILE comes with nothing pending. */
    if (victim == -EAGAIN)
        return victim;
    return victim >= 0 ? 0 : -EMFILE;
}

void sk__server_fd_paused(sk_server *s) { SK__STAT_ADD(s, fd_limit_paused, 1); }

/* max_conns_per_ip: count the peer, or refuse it. Returns true to serve. */
static bool take_peer(sk_server *s, int fd, const sk_addr *peer, sk_addr *held)
{
    int rc = sk__peer_take(s, peer);
    if (rc == 0)
        *held = *peer;
    if (rc >= 0)
        return true;
    char who[SK_ADDRSTRLEN], msg[SK_ADDRSTRLEN + 64];
    sk_addr_format((const struct sockaddr *)&peer->ss, who, sizeof who);
    snprintf(msg, sizeof msg, "%s: %s", who,
             rc == -EBUSY ? "at --max-conns-per-ip" : "too many client addresses for --max-conns-per-ip");
    SK__STAT_ADD(s, per_ip_refused, 1);
    sk__server_reject(s, fd, NULL, rc, msg);
    return false;
}

int sk__server_accept(sk_server *s, int lfd, int *reserve_fd, sk_addr *held)
{
    sk_addr peer;
    return sk__server_accept_peer(s, lfd, reserve_fd, held, &peer);
}

int sk__server_accept_peer(sk_server *s, int lfd, int *reserve_fd, sk_addr *held, sk_addr *out)
{
    bool pause = s->cfg.on_fd_limit == SK_ON_FD_LIMIT_PAUSE_ACCEPT;

    held->len = 0;
    for (;;) {
        /* Locked one attempt at a time, and the reject reported after the
         * unlock: a storm of refusals on one thread lets the others take
         * their turn between two of them. */
        int refused = 1;
        sk_addr peer = {.len = 0};
        accept_lock(s);
        int fd = SK__TRACER(s) ? sk__traced_accept(SK__TRACER(s), lfd, &peer) : sk_accept(lfd, true, &peer);
        if ((fd == -EMFILE || fd == -ENFILE) && !pause)
            refused = refuse_one(lfd, reserve_fd);
        accept_unlock(s);
        if (fd == -EMFILE || fd == -ENFILE) {
            /* pause-accept: the connection stays in the backlog, the
             * caller stops watching the listener for SK__PAUSE_MS. */
            if (pause)
                return fd;
        }
        if (refused == -EAGAIN)
            return refused;
        if (refused <= 0) {
            if (refused == 0)
                SK__STAT_ADD(s, fd_limit_refused, 1);
            sk__server_reject(s, -1, NULL, fd, "out of file descriptors");
            if (refused == 0)
                continue;
            return fd;
        }
        if (fd >= 0 && peer.len > 0 && !sk__server_admits(s, (const struct sockaddr *)&peer.ss)) {
            char who[SK_ADDRSTRLEN], msg[SK_ADDRSTRLEN + 40];
            sk_addr_format((const struct sockaddr *)&peer.ss, who, sizeof who);
            snprintf(msg, sizeof msg, "%s refused by --allow / --deny", who);
            sk__server_reject(s, fd, NULL, -EACCES, msg);
            continue;
        }
        if (fd >= 0 && !take_peer(s, fd, &peer, held))
            continue;
        if (fd >= 0) {
            *out = peer;
            return fd;
        }
        switch (fd) {
        case -EAGAIN:
            return fd;
        case -ECONNABORTED:
        case -EPROTO:
        case -EPERM: /* a firewall rule refused it */
            continue;
        default:
            sk__server_event(s, SK_EV_WARN, NULL, fd, "accept");
            return fd;
        }
    }
}

void sk__server_forget_engines(sk_server *s)
{
    /* The parent's threads do not exist in the child, so the lock may be
     * held by nobody who can release it: start afresh. */
    pthread_mutex_init(&s->engines_lock, NULL);
    s->engines = NULL;
}

bool sk__server_admits(const sk_server *s, const struct sockaddr *peer)
{
    for (size_t i = 0; i < s->ndeny; i++) {
        if (sk_cidr_match(&s->deny[i], peer))
            return false;
    }
    if (s->nallow == 0)
        return true;
    for (size_t i = 0; i < s->nallow; i++) {
        if (sk_cidr_match(&s->allow[i], peer))
            return true;
    }
    return false;
}

void sk__server_reject_full(sk_server *s, int fd, const sk_addr *held)
{
    SK__STAT_ADD(s, max_conns_refused, 1);
    sk__server_reject(s, fd, held, -EBUSY, "max-conns reached");
}

bool sk__server_queues(const sk_server *s)
{
    return s->cfg.on_max_conns == SK_ON_MAX_CONNS_QUEUE && s->cfg.max_conns > 0;
}

void sk__server_queued(sk_server *s) { SK__STAT_ADD(s, max_conns_paused, 1); }

void sk__server_reject(sk_server *s, int fd, const sk_addr *held, int err, const char *why)
{
    if (held && held->len > 0)
        sk__peer_release(s, held);
    if (fd >= 0) {
        /* FIN first, then read what the client already sent (bounded):
         * closing with unread input would answer with RST, and the client
         * could lose the refusal in the reset. */
        char sink[16384];
        shutdown(fd, SHUT_WR);
        for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
            ;
        close(fd);
    }
    SK__STAT_ADD(s, rejected, 1);
    sk__server_event(s, SK_EV_REJECT, NULL, err, why);
}

int sk__server_threads(sk_server *s, int n, void *(*fn)(void *), void *args, size_t stride, pthread_t *tids)
{
    int started = 0, rc = 0;

    for (; started < n; started++) {
        rc = sk__thread_start(&tids[started], NULL, fn, (char *)args + (size_t)started * stride);
        if (rc < 0)
            break;
    }
    /* A server one thread short would quietly lose a share of its clients:
     * stop the ones that started, so they drain and end. */
    if (rc < 0 && started > 0)
        sk_server_stop(s);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    return rc;
}
