/* Event loop: fd readiness callbacks and timers over a pluggable backend
 * (epoll, poll, select, io_uring), one loop per thread. */
#ifndef SOCKIT_LOOP_H
#define SOCKIT_LOOP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_loop sk_loop;

enum { SK_READ = 1, SK_WRITE = 2 };

/* Called with the events that fired (SK_READ | SK_WRITE; errors and hangups
 * are reported as both, so the owner's next read or write sees them).
 * While one callback of a wakeup runs, the loop prefetches the first 128
 * bytes at the next one's data: with thousands of fds those lines have
 * left the cache since they were last used, so put what a callback
 * touches first there. */
typedef void (*sk_io_fn)(sk_loop *l, int fd, void *data, int events);

/* Returns the delay until the next call, or < 0 to end the timer. The delay
 * is in the unit the timer was created with: milliseconds for
 * sk_loop_timer(), microseconds for sk_loop_timer_us(). */
typedef int64_t (*sk_timer_fn)(sk_loop *l, void *data);

/* Create a loop able to watch fds below setsize (<= 0: RLIMIT_NOFILE).
 * backend NULL picks the best compiled one. On failure returns NULL and
 * sets *err (-EINVAL for an unknown backend name). */
sk_loop *sk_loop_new(const char *backend, int setsize, int *err);
void sk_loop_free(sk_loop *l);

/* The backend's name ("epoll", ...). */
const char *sk_loop_backend(const sk_loop *l);

/* NULL-terminated names of the backends compiled in, best first. */
const char *const *sk_loop_backends(void);

/* Watch fd for events (SK_READ | SK_WRITE), replacing what was watched;
 * events 0 stops watching. Returns 0, -ERANGE when fd >= setsize, or an
 * error from the backend (SK_ETOOMANYFDS for select past FD_SETSIZE). */
int sk_loop_watch(sk_loop *l, int fd, int events, sk_io_fn fn, void *data);

/* The events fd is watched for (0 if none). */
int sk_loop_watched(const sk_loop *l, int fd);

/* Stop watching fd, which the caller closes next and holds the only copy
 * of (no dup, no child process sharing it). With epoll this costs no
 * system call: the close takes the fd out of the kernel's set. The other
 * backends stop watching it as sk_loop_watch(l, fd, 0, NULL, NULL) does.
 * Returns 0 or -ERANGE. */
int sk_loop_forget(sk_loop *l, int fd);

/* The loop's clock: sk_now_us() (CLOCK_MONOTONIC) read once per wakeup,
 * right after the backend's wait returns, and at sk_loop_new(). Every
 * callback of one wakeup sees the same value, so a batch of events costs
 * one clock read; it does not advance while callbacks run (read sk_now_us()
 * for a fresh time). sk_loop_now() is in milliseconds (the value divided by
 * 1000, rounded down, comparable with sk_now_ms()), sk_loop_now_us() in
 * microseconds. Only for the loop's own thread. */
int64_t sk_loop_now(const sk_loop *l);
int64_t sk_loop_now_us(const sk_loop *l);

/* Call fn after ms milliseconds (<= 0: at the next iteration); fn returns
 * the next delay in milliseconds. Returns a timer id (> 0) or -ENOMEM, and
 * then fn is never called. */
int64_t sk_loop_timer(sk_loop *l, int64_t ms, sk_timer_fn fn, void *data);

/* The same with microseconds: after us microseconds, and fn returns the
 * next delay in microseconds. Both kinds share one heap kept in
 * microseconds and never fire early: a timer runs at the first wakeup whose
 * sk_loop_now_us() is at least its creation time (a fresh sk_now_us()) plus
 * its delay. How late it may run depends on the backend's wait:
 *   - epoll: epoll_pwait2() (microseconds; Linux >= 5.11); where the kernel
 *     lacks it, epoll_wait() with the wait rounded up to whole milliseconds;
 *   - io_uring: the wait's __kernel_timespec (microseconds);
 *   - poll: ppoll() (microseconds); select: its timeval (microseconds).
 * On top of that the kernel's timer slack (50 us by default for a normal
 * thread, see prctl(PR_SET_TIMERSLACK)) and scheduling apply. */
int64_t sk_loop_timer_us(sk_loop *l, int64_t us, sk_timer_fn fn, void *data);

/* Cancel a timer of either kind (also from a callback, its own included).
 * An unknown or finished id is ignored. */
void sk_loop_timer_cancel(sk_loop *l, int64_t id);

/* Run until sk_loop_stop(). Returns 0 or a backend error. */
int sk_loop_run(sk_loop *l);

/* One iteration: wait at most timeout_ms (< 0: until something happens or
 * the next timer; 0: do not wait, poll once), dispatch, run due timers.
 * I/O always goes first: a wait a signal cut short (SIGSTOP/SIGCONT) is
 * followed by a look that does not wait, and its events are dispatched
 * before any timer sees the clock that jumped. Returns events handled or
 * < 0. */
int sk_loop_once(sk_loop *l, int timeout_ms);

/* Make sk_loop_run() return after the current iteration. */
void sk_loop_stop(sk_loop *l);

/* fn(l, data) runs once per wakeup, after that wakeup's I/O callbacks and
 * timers, before the loop waits again; NULL removes it. For work batched
 * over a wakeup's events: a server publishes its byte counters there, so
 * a request costs no atomic add on the shared statistics. */
typedef void (*sk_loop_fn)(sk_loop *l, void *data);
void sk_loop_after_wakeup(sk_loop *l, sk_loop_fn fn, void *data);

#ifdef __cplusplus
}
#endif

#endif
