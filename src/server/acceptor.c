/* Blocking acceptor: poll the listeners and the stop eventfd, accept one
 * connection at a time, survive fd exhaustion without spinning. */
#include "acceptor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

void sk__acceptor_init(sk__acceptor *a, sk_server *s, int extra_fd)
{
    a->srv = s;
    a->extra_fd = extra_fd;
    a->ready = 0;
    a->paused_until = 0;
    a->stopped = false;
    a->full = NULL;
    a->full_arg = NULL;
    a->queued = false;
    a->held.len = 0;
    a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void sk__acceptor_destroy(sk__acceptor *a)
{
    if (a->reserve_fd >= 0)
        close(a->reserve_fd);
    a->reserve_fd = -1;
}

/* Try the listeners seen readable; 0 bits left means poll again. */
static int take_ready(sk__acceptor *a)
{
    sk_server *s = a->srv;

    for (int i = 0; i < s->nlisteners && a->ready; i++) {
        if (!(a->ready & (1u << i)))
            continue;
        int fd = sk__server_accept(s, s->lfds[i], &a->reserve_fd, &a->held);
        if (fd >= 0)
            return fd;
        a->ready &= ~(1u << i);
        if (fd == -EMFILE || fd == -ENFILE) {
            /* pause-accept, or the reserve could not be had back (another
             * thread holds every fd): the listener stays readable, so stop
             * watching it for a moment instead of spinning on it. */
            a->ready = 0;
            a->paused_until = sk_now_ms() + SK__PAUSE_MS;
            sk__server_fd_paused(s);
            sk__server_refill(s, &a->reserve_fd);
        }
    }
    return -EAGAIN;
}

int sk__acceptor_next(sk__acceptor *a, int timeout_ms)
{
    sk_server *s = a->srv;
    struct pollfd p[SK__MAX_LISTENERS + 2];

    for (;;) {
        if (a->stopped || SK__STOPPING(s)) {
            a->stopped = true;
            return -ECANCELED;
        }
        /* queue: while every slot is taken, accept nothing and look again
         * soon (a connection thread that ends does not wake this poll; a
         * fork child that exits does, through extra_fd). */
        bool full = a->full && a->full(a->full_arg);
        if (full && !a->queued)
            sk__server_queued(s);
        a->queued = full;
        int fd = full ? -EAGAIN : take_ready(a);
        if (fd >= 0)
            return fd;
        int64_t now = sk_now_ms();
        bool paused = full || now < a->paused_until;
        if (full)
            a->ready = 0;
        int n = 0, wait = timeout_ms;
        p[n++] = (struct pollfd){.fd = s->stop_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = a->extra_fd, .events = POLLIN};
        for (int i = 0; i < s->nlisteners; i++)
            p[n++] = (struct pollfd){.fd = paused ? -1 : s->lfds[i], .events = POLLIN};
        if (full && (wait < 0 || wait > SK__QUEUE_RECHECK_MS))
            wait = SK__QUEUE_RECHECK_MS;
        else if (paused && (wait < 0 || wait > a->paused_until - now))
            wait = (int)(a->paused_until - now);
        int rc = poll(p, (nfds_t)n, wait);
        if (rc < 0 && errno != EINTR)
            return -errno;
        if (rc <= 0) {
            if (paused && timeout_ms < 0)
                continue;
            return -EAGAIN;
        }
        if (p[0].revents) {
            a->stopped = true;
            return -ECANCELED;
        }
        for (int i = 0; i < s->nlisteners; i++) {
            if (p[2 + i].revents)
                a->ready |= 1u << i;
        }
        if (p[1].revents)
            return -EAGAIN;
    }
}
