/* epoll backend: level-triggered, one epoll_event array sized to the loop. */
#include "loop_int.h"
#include "base/sys.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct epoll_state {
    int epfd;
    int max_events;
    bool no_pwait2; /* the kernel said ENOSYS (before Linux 5.11) */
    struct epoll_event *events;
} epoll_state;

static int ep_create(sk_loop *l)
{
    epoll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    /* Batch size per wakeup: large enough to amortize the syscall under
     * load, small enough to keep the array in cache. */
    s->max_events = l->setsize < 1024 ? l->setsize : 1024;
    s->events = calloc((size_t)s->max_events, sizeof *s->events);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->events == NULL || s->epfd < 0) {
        int err = s->epfd < 0 ? -errno : -ENOMEM;
        if (s->epfd >= 0)
            close(s->epfd);
        free(s->events);
        free(s);
        return err;
    }
    l->be_data = s;
    return 0;
}

static void ep_destroy(sk_loop *l)
{
    epoll_state *s = l->be_data;
    close(s->epfd);
    free(s->events);
    free(s);
}

static int ep_set(sk_loop *l, int fd, int old_events, int new_events)
{
    epoll_state *s = l->be_data;
    struct epoll_event ev = {0};
    int op = old_events == 0 ? EPOLL_CTL_ADD : new_events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

    ev.data.fd = fd;
    if (new_events & SK_READ)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    if (new_events & SK_WRITE)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(s->epfd, op, fd, &ev) < 0) {
        /* The fd may already be closed (its registration went with it). */
        if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))
            return 0;
        return -errno;
    }
    return 0;
}

/* Closing the fd removes it from the epoll set (the caller holds the only
 * reference to the file): nothing to tell the kernel. */
static int ep_forget(sk_loop *l, int fd, int old_events)
{
    (void)l;
    (void)fd;
    (void)old_events;
    return 0;
}

/* epoll_wait() counts in milliseconds, so a 300 us timer would wait a
 * whole millisecond; epoll_pwait2() takes a timespec. Waits of 0 (busy
 * polling) and forever need no timespec and take the older call. */
static int ep_wait(epoll_state *s, int64_t timeout_us)
{
    if (timeout_us > 0 && !s->no_pwait2) {
        struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (long)(timeout_us % 1000000) * 1000};
        int n = sk__sys_epoll_pwait2(s->epfd, s->events, s->max_events, &ts);
        if (n >= 0 || errno != ENOSYS)
            return n;
        s->no_pwait2 = true;
    }
    return sk__sys_epoll_wait(s->epfd, s->events, s->max_events, sk__ms_ceil(timeout_us));
}

static int ep_poll(sk_loop *l, int64_t timeout_us)
{
    epoll_state *s = l->be_data;
    int n = ep_wait(s, timeout_us);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        /* Errors and hangups wake both directions: the next read or write
         * reports them. */
        uint32_t e = s->events[i].events;
        int ev = ((e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) ? SK_READ : 0) |
                 ((e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ? SK_WRITE : 0);
        l->fired[i].fd = s->events[i].data.fd;
        l->fired[i].events = ev;
    }
    return n;
}

const sk__backend sk__backend_epoll = {
    .name = "epoll",
    .create = ep_create,
    .destroy = ep_destroy,
    .set = ep_set,
    .poll = ep_poll,
    .forget = ep_forget,
};
