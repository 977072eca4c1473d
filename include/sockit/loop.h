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
 * are reported as both, so the owner's next read or write sees them). */
typedef void (*sk_io_fn)(sk_loop *l, int fd, void *data, int events);

/* Returns the delay until the next call in ms, or < 0 to end the timer. */
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

/* Call fn after ms milliseconds. Returns a timer id (> 0) or -ENOMEM. */
int64_t sk_loop_timer(sk_loop *l, int64_t ms, sk_timer_fn fn, void *data);
void sk_loop_timer_cancel(sk_loop *l, int64_t id);

/* Run until sk_loop_stop(). Returns 0 or a backend error. */
int sk_loop_run(sk_loop *l);

/* One iteration: wait at most timeout_ms (< 0: until something happens or
 * the next timer), dispatch, run due timers. Returns events handled or < 0. */
int sk_loop_once(sk_loop *l, int timeout_ms);

/* Make sk_loop_run() return after the current iteration. */
void sk_loop_stop(sk_loop *l);

#ifdef __cplusplus
}
#endif

#endif
