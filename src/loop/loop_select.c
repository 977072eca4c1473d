/* select(2) backend. fd_set holds only fds below FD_SETSIZE (1024); past it
 * FD_SET would write outside the set, so such fds are refused with
 * SK_ETOOMANYFDS instead of corrupting memory. */
#include "loop_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <sockit/error.h>

typedef struct select_state {
    fd_set rfds, wfds;
    fd_set rout, wout; /* select() overwrites its sets: work on copies */
} select_state;

static int sl_create(sk_loop *l)
{
    select_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    FD_ZERO(&s->rfds);
    FD_ZERO(&s->wfds);
    l->be_data = s;
    return 0;
}

static void sl_destroy(sk_loop *l) { free(l->be_data); }

static int sl_set(sk_loop *l, int fd, int old_events, int new_events)
{
    select_state *s = l->be_data;
    (void)old_events;

    if (fd >= FD_SETSIZE)
        return new_events ? SK_ETOOMANYFDS : 0;
    if (new_events & SK_READ)
        FD_SET(fd, &s->rfds);
    else
        FD_CLR(fd, &s->rfds);
    if (new_events & SK_WRITE)
        FD_SET(fd, &s->wfds);
    else
        FD_CLR(fd, &s->wfds);
    return 0;
}

static int sl_poll(sk_loop *l, int64_t timeout_us)
{
    select_state *s = l->be_data;
    struct timeval tv, *tvp = NULL;
    int k = 0;
    int maxfd = l->maxfd < FD_SETSIZE ? l->maxfd : FD_SETSIZE - 1;

    if (timeout_us >= 0) {
        tv.tv_sec = (time_t)(timeout_us / 1000000);
        tv.tv_usec = (suseconds_t)(timeout_us % 1000000);
        tvp = &tv;
    }
    memcpy(&s->rout, &s->rfds, sizeof s->rout);
    memcpy(&s->wout, &s->wfds, sizeof s->wout);
    int n = select(maxfd + 1, &s->rout, &s->wout, NULL, tvp);
    if (n < 0)
        return -errno;
    for (int fd = 0; fd <= maxfd && n > 0; fd++) {
        int ev = 0;
        if (FD_ISSET(fd, &s->rout))
            ev |= SK_READ;
        if (FD_ISSET(fd, &s->wout))
            ev |= SK_WRITE;
        if (ev) {
            l->fired[k].fd = fd;
            l->fired[k].events = ev;
            k++;
        }
    }
    return k;
}

const sk__backend sk__backend_select = {
    .name = "select",
    .create = sl_create,
    .destroy = sl_destroy,
    .set = sl_set,
    .poll = sl_poll,
};
