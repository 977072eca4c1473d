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

void sk_server_stats(const sk_server *s, sk_stats *out)
{
    out->accepted = __atomic_load_n(&s->stats->accepted, __ATOMIC_RELAXED);
    out->active = __atomic_load_n(&s->stats->active, __ATOMIC_RELAXED);
    out->closed = __atomic_load_n(&s->stats->closed, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&s->stats->rejected, __ATOMIC_RELAXED);
    out->bytes_in = __atomic_load_n(&s->stats->bytes_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&s->stats->bytes_out, __ATOMIC_RELAXED);
    out->cut = __atomic_load_n(&s->stats->cut, __ATOMIC_RELAXED);
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

int sk__server_accept(sk_server *s, int lfd, int *reserve_fd)
{
    for (;;) {
        sk_addr peer = {.len = 0};
        int fd = s->cfg.tracer ? sk__traced_accept(s->cfg.tracer, lfd, &peer) : sk_accept(lfd, true, &peer);
        if (fd >= 0 && peer.len > 0 && !sk__server_admits(s, (const struct sockaddr *)&peer.ss)) {
            char who[SK_ADDRSTRLEN], msg[SK_ADDRSTRLEN + 40];
            sk_addr_format((const struct sockaddr *)&peer.ss, who, sizeof who);
            snprintf(msg, sizeof msg, "%s refused by --allow / --deny", who);
            sk__server_reject(s, fd, -EACCES, msg);
            continue;
        }
        if (fd >= 0)
            return fd;
        switch (fd) {
        case -EAGAIN:
            return fd;
        case -ECONNABORTED:
        case -EPROTO:
        case -EPERM: /* a firewall rule refused it */
            continue;
        case -EMFILE:
        case -ENFILE:
            /* Out of descriptors, the pending connection stays queued and
             * the listener stays readable: a level-triggered loop would spin.
             * Free the reserved fd, take the connection, close it (the
             * client sees a clean close), then take the reserve back. */
            if (*reserve_fd >= 0) {
                close(*reserve_fd);
                *reserve_fd = -1;
                int victim = sk_accept(lfd, true, NULL);
                if (victim >= 0)
                    close(victim);
                *reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                /* accept() fails with EMFILE before it looks at the queue,
                 * so after the last victim one more EMFILE comes with
                 * nothing pending: nobody was refused then. */
                if (victim == -EAGAIN)
                    return victim;
                if (victim >= 0) {
                    sk__server_reject(s, -1, fd, "out of file descriptors");
                    continue;
                }
            }
            sk__server_reject(s, -1, fd, "out of file descriptors");
            return fd;
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

void sk__server_reject(sk_server *s, int fd, int err, const char *why)
{
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
