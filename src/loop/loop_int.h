/* Inside the event loop: the backend table every loop_*.c fills in, and the
 * loop state backends may read. */
#ifndef SOCKIT_LOOP_INT_H
#define SOCKIT_LOOP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sockit/loop.h>

/* What the loop calls for a watched fd. The events watched are in a byte
 * array beside it: every fd a process opens touches its entry, so an entry
 * is 16 bytes, not 24 with the events and padding inside. */
typedef struct sk__io {
    sk_io_fn fn;
    void *data;
} sk__io;

typedef struct sk__fired {
    int fd;
    int events;
} sk__fired;

typedef struct sk__timer {
    int64_t when; /* microseconds, on sk_now_us()'s clock */
    int64_t id;
    sk_timer_fn fn;
    void *data;
    bool us; /* fn returns microseconds (sk_loop_timer_us), else ms */
} sk__timer;

/* One readiness mechanism. State lives behind sk_loop.be_data. */
typedef struct sk__backend {
    const char *name;
    int (*create)(sk_loop *l);
    void (*destroy)(sk_loop *l);
    /* fd's watched events change from old to new (either may be 0). */
    int (*set)(sk_loop *l, int fd, int old_events, int new_events);
    /* Wait up to timeout_us microseconds (< 0 forever, 0 not at all) and
     * never less; fill l->fired; return the count or -errno (-EINTR is
     * fine: the loop just goes round again). */
    int (*poll)(sk_loop *l, int64_t timeout_us);
    /* fd (watched for old_events) is about to be closed: drop it without
     * a kernel call where the close does that anyway. NULL: set(.., 0). */
    int (*forget)(sk_loop *l, int fd, int old_events);
} sk__backend;

struct sk_loop {
    const sk__backend *be;
    void *be_data;
    int setsize;
    int maxfd; /* highest fd watched, -1 if none */
    sk__io *io;
    uint8_t *events; /* per fd: SK_READ | SK_WRITE watched, or 0 */
    sk__fired *fired;
    sk__timer *timers; /* binary min-heap on when */
    int ntimers, timers_cap;
    int64_t next_timer_id;
    int64_t now_us; /* read once per wakeup right after the wait */
    int64_t now_ms; /* the same in ms: what sk_loop_now() hands every callback */
    bool stop;
    sk_loop_fn after_fn; /* sk_loop_after_wakeup */
    void *after_data;
};

/* A wait in microseconds as whole milliseconds for the calls that take
 * them, rounded up so a timer is never woken for early (< 0 stays -1). */
static inline int sk__ms_ceil(int64_t us)
{
    if (us < 0)
        return -1;
    int64_t ms = (us + 999) / 1000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

extern const sk__backend sk__backend_epoll;
extern const sk__backend sk__backend_poll;
extern const sk__backend sk__backend_select;
#ifdef SOCKIT_HAVE_URING
extern const sk__backend sk__backend_uring;
#endif

#endif
