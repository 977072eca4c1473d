/* io_uring backend (liburing): one-shot IORING_OP_POLL_ADD per watched fd,
 * re-armed before each wait, which gives the level-triggered behaviour the
 * loop expects. A changed or removed watch cancels the armed poll and bumps
 * the fd's generation; the generation travels in user_data, so completions
 * of cancelled polls (or of an fd number since reused) are recognised and
 * dropped. */
#include "loop_int.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>

#define RING_ENTRIES 256
#define IGNORED_UD UINT64_MAX /* user_data of our cancel requests */

typedef struct uring_state {
    struct io_uring ring;
    uint32_t *gen;   /* per fd: generation of the current watch */
    uint8_t *want;   /* per fd: events the loop wants */
    uint8_t *armed;  /* per fd: events of the poll in flight (0: none) */
    uint8_t *queued; /* per fd: on the to-arm list */
    int *to_arm, nto_arm;
} uring_state;

static uint64_t ud_of(uint32_t gen, int fd) { return (uint64_t)gen << 32 | (uint32_t)fd; }

static unsigned poll_mask(int events)
{
    return ((events & SK_READ) ? POLLIN | POLLRDHUP : 0) | ((events & SK_WRITE) ? POLLOUT : 0);
}

/* An SQE, submitting what is queued when the ring is full. */
static struct io_uring_sqe *get_sqe(uring_state *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (sqe == NULL) {
        io_uring_submit(&s->ring);
        sqe = io_uring_get_sqe(&s->ring);
    }
    return sqe;
}

static void ur_destroy(sk_loop *l)
{
    uring_state *s = l->be_data;
    if (s == NULL)
        return;
    io_uring_queue_exit(&s->ring);
    free(s->gen);
    free(s->want);
    free(s->armed);
    free(s->queued);
    free(s->to_arm);
    free(s);
    l->be_data = NULL;
}

static int ur_create(sk_loop *l)
{
    uring_state *s = calloc(1, sizeof *s);
    size_t n = (size_t)l->setsize;
    struct io_uring_params p = {0};
    int rc;

    if (s == NULL)
        return -ENOMEM;
    s->gen = calloc(n, sizeof *s->gen);
    s->want = calloc(n, 1);
    s->armed = calloc(n, 1);
    s->queued = calloc(n, 1);
    s->to_arm = calloc(n, sizeof *s->to_arm);
    if (!s->gen || !s->want || !s->armed || !s->queued || !s->to_arm) {
        free(s->gen);
        free(s->want);
        free(s->armed);
        free(s->queued);
        free(s->to_arm);
        free(s);
        return -ENOMEM;
    }
    /* Every watched fd may have a poll in flight: make the completion
     * queue large so bursts rarely take the kernel's overflow path. */
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    p.cq_entries = 8 * RING_ENTRIES;
    rc = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
    if (rc < 0) {
        free(s->gen);
        free(s->want);
        free(s->armed);
        free(s->queued);
        free(s->to_arm);
        free(s);
        return rc; /* -ENOSYS, -EPERM: io_uring unavailable or disabled */
    }
    l->be_data = s;
    return 0;
}

static void queue_arm(uring_state *s, int fd)
{
    if (!s->queued[fd]) {
        s->queued[fd] = 1;
        s->to_arm[s->nto_arm++] = fd;
    }
}

static int ur_set(sk_loop *l, int fd, int old_events, int new_events)
{
    uring_state *s = l->be_data;
    (void)old_events;

    s->want[fd] = (uint8_t)new_events;
    if (s->armed[fd] && s->armed[fd] != new_events) {
        struct io_uring_sqe *sqe = get_sqe(s);
        if (sqe == NULL)
            return -EBUSY;
        io_uring_prep_poll_remove(sqe, ud_of(s->gen[fd], fd));
        io_uring_sqe_set_data64(sqe, IGNORED_UD);
        s->gen[fd]++;
        s->armed[fd] = 0;
    }
    if (new_events && !s->armed[fd])
        queue_arm(s, fd);
    return 0;
}

static int ur_poll(sk_loop *l, int64_t timeout_us)
{
    uring_state *s = l->be_data;
    struct __kernel_timespec ts, *tsp = NULL;
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    int k = 0, n = s->nto_arm;

    s->nto_arm = 0;
    for (int i = 0; i < n; i++) {
        int fd = s->to_arm[i];
        s->queued[fd] = 0;
        if (s->want[fd] == 0 || s->armed[fd])
            continue;
        struct io_uring_sqe *sqe = get_sqe(s);
        if (sqe == NULL) {
            queue_arm(s, fd);
            continue;
        }
        io_uring_prep_poll_add(sqe, fd, poll_mask(s->want[fd]));
        io_uring_sqe_set_data64(sqe, ud_of(s->gen[fd], fd));
        s->armed[fd] = s->want[fd];
    }
    if (timeout_us >= 0) {
        ts.tv_sec = timeout_us / 1000000;
        ts.tv_nsec = (long long)(timeout_us % 1000000) * 1000;
        tsp = &ts;
    }
    int rc = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, tsp, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
        return rc;

    io_uring_for_each_cqe(&s->ring, head, cqe)
    {
        uint64_t ud = io_uring_cqe_get_data64(cqe);
        seen++;
        if (ud == IGNORED_UD)
            continue;
        int fd = (int)(uint32_t)ud;
        if (fd < 0 || fd >= l->setsize || (uint32_t)(ud >> 32) != s->gen[fd] || !s->armed[fd])
            continue; /* a cancelled watch, or an earlier user of this fd number */
        s->armed[fd] = 0;
        if (s->want[fd])
            queue_arm(s, fd);
        int ev = 0;
        if (cqe->res < 0) {
            if (cqe->res == -ECANCELED)
                continue;
            ev = SK_READ | SK_WRITE; /* let the owner's next call see the error */
        } else {
            unsigned r = (unsigned)cqe->res;
            if (r & (POLLIN | POLLRDHUP))
                ev |= SK_READ;
            if (r & POLLOUT)
                ev |= SK_WRITE;
            if (r & (POLLERR | POLLHUP | POLLNVAL))
                ev |= SK_READ | SK_WRITE;
        }
        l->fired[k].fd = fd;
        l->fired[k].events = ev;
        k++;
    }
    io_uring_cq_advance(&s->ring, seen);
    return k;
}

const sk__backend sk__backend_uring = {
    .name = "uring",
    .create = ur_create,
    .destroy = ur_destroy,
    .set = ur_set,
    .poll = ur_poll,
};
