/* Inside the event loop: the backend table every loop_*.c fills in, and the
 * loop state backends may read. */
#ifndef SOCKIT_LOOP_INT_H
#define SOCKIT_LOOP_INT_H

#include <stdbool.h>
#include <sockit/loop.h>

typedef struct sk__io {
    sk_io_fn fn;
    void *data;
    int events;
} sk__io;

typedef struct sk__fired {
    int fd;
    int events;
} sk__fired;

typedef struct sk__timer {
    int64_t when;
    int64_t id;
    sk_timer_fn fn;
    void *data;
} sk__timer;

/* One readiness mechanism. State lives behind sk_loop.be_data. */
typedef struct sk__backend {
    const char *name;
    int (*create)(sk_loop *l);
    void (*destroy)(sk_loop *l);
    /* fd's watched events change from old to new (either may be 0). */
    int (*set)(sk_loop *l, int fd, int old_events, int new_events);
    /* Wait up to timeout_ms (< 0 forever); fill l->fired; return the count
     * or -errno (-EINTR is fine: the loop just goes round again). */
    int (*poll)(sk_loop *l, int timeout_ms);
} sk__backend;

struct sk_loop {
    const sk__backend *be;
    void *be_data;
    int setsize;
    int maxfd; /* highest fd watched, -1 if none */
    sk__io *io;
    sk__fired *fired;
    sk__timer *timers; /* binary min-heap on when */
    int ntimers, timers_cap;
    int64_t next_timer_id;
    int64_t now; /* ms, read once per wakeup right after the wait */
    bool stop;
};

/* The time of the current wakeup: callbacks that run in one batch share one
 * clock read instead of each making its own. */
static inline int64_t sk__loop_now(const sk_loop *l) { return l->now; }

extern const sk__backend sk__backend_epoll;
extern const sk__backend sk__backend_poll;
extern const sk__backend sk__backend_select;
#ifdef SOCKIT_HAVE_URING
extern const sk__backend sk__backend_uring;
#endif

#endif
