/* poll(2) backend: a dense pollfd array plus an fd -> slot index, so adding
 * and removing are O(1) and a wait is O(watched fds). */
#include "loop_int.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdlib.h>

typedef struct poll_state {
    struct pollfd *pfds;
    int *slot; /* fd -> index in pfds, -1 if unwatched */
    int n;
} poll_state;

static int pl_create(sk_loop *l)
{
    poll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->pfds = calloc((size_t)l->setsize, sizeof *s->pfds);
    s->slot = malloc((size_t)l->setsize * sizeof *s->slot);
    if (s->pfds == NULL || s->slot == NULL) {
        free(s->pfds);
        free(s->slot);
        free(s);
        return -ENOMEM;
    }
    for (int i = 0; i < l->setsize; i++)
        s->slot[i] = -1;
    l->be_data = s;
    return 0;
}

static void pl_destroy(sk_loop *l)
{
    poll_state *s = l->be_data;
    free(s->pfds);
    free(s->slot);
    free(s);
}

static int pl_set(sk_loop *l, int fd, int old_events, int new_events)
{
    poll_state *s = l->be_data;
    (void)old_events;
    int i = s->slot[fd];

    if (new_events == 0) {
        if (i < 0)
            return 0;
        /* Move the last entry into the hole to keep the array dense. */
        s->pfds[i] = s->pfds[--s->n];
        s->slot[s->pfds[i].fd] = i;
        s->slot[fd] = -1;
        return 0;
    }
    if (i < 0) {
        i = s->n++;
        s->slot[fd] = i;
        s->pfds[i].fd = fd;
    }
    s->pfds[i].events =
        (short)(((new_events & SK_READ) ? POLLIN | POLLRDHUP : 0) | ((new_events & SK_WRITE) ? POLLOUT : 0));
    s->pfds[i].revents = 0;
    return 0;
}

static int pl_poll(sk_loop *l, int64_t timeout_us)
{
    poll_state *s = l->be_data;
    /* ppoll() for its timespec: poll() would round a timer's wait to ms. */
    struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (long)(timeout_us % 1000000) * 1000};
    int n = ppoll(s->pfds, (nfds_t)s->n, timeout_us < 0 ? NULL : &ts, NULL);
    int k = 0;

    if (n < 0)
        return -errno;
    for (int i = 0; i < s->n && k < n; i++) {
        short r = s->pfds[i].revents;
        if (r == 0)
            continue;
        int ev = 0;
        if (r & (POLLIN | POLLRDHUP))
            ev |= SK_READ;
        if (r & POLLOUT)
            ev |= SK_WRITE;
        if (r & (POLLERR | POLLHUP | POLLNVAL))
            ev |= SK_READ | SK_WRITE;
        l->fired[k].fd = s->pfds[i].fd;
        l->fired[k].events = ev;
        k++;
    }
    return k;
}

const sk__backend sk__backend_poll = {
    .name = "poll",
    .create = pl_create,
    .destroy = pl_destroy,
    .set = pl_set,
    .poll = pl_poll,
};
