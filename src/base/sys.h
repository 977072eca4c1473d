/* The system calls of the hot path (a request's recv and send, the loop's
 * wait), made through syscall(2).
 *
 * libc's recv(), send() and epoll_wait() are pthread cancellation points:
 * in a process with more than one thread (a server's loops run beside the
 * thread that waits for signals; logging and mDNS add their own) each call
 * switches asynchronous cancellation on before the system call and off
 * after it: about 45 instructions a call, 130 of the 1,856 a keep-alive
 * request took before these calls went direct. sockit never cancels a
 * thread, so the calls that run once per request go to the kernel
 * directly; everything else keeps libc's wrappers.
 *
 * Under a sanitizer the libc functions stay: their interceptors check the
 * buffers (ASan) and see the descriptors' happens-before edges (TSan). */
#ifndef SOCKIT_BASE_SYS_H
#define SOCKIT_BASE_SYS_H

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SK__SYS_LIBC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SK__SYS_LIBC 1
#endif
#endif

#if defined(SK__SYS_LIBC) || !defined(SYS_recvfrom) || !defined(SYS_sendto) || !defined(SYS_epoll_pwait)

static inline ssize_t sk__sys_recv(int fd, void *buf, size_t len, int flags) { return recv(fd, buf, len, flags); }
static inline ssize_t sk__sys_send(int fd, const void *buf, size_t len, int flags) { return send(fd, buf, len, flags); }
static inline int sk__sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms)
{
    return epoll_wait(epfd, ev, max, timeout_ms);
}

#else

/* -1 and errno on failure, as the libc calls. */
static inline ssize_t sk__sys_recv(int fd, void *buf, size_t len, int flags)
{
    return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}
static inline ssize_t sk__sys_send(int fd, const void *buf, size_t len, int flags)
{
    return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}
/* epoll_pwait with no signal mask is epoll_wait (the one call every
 * architecture has). */
static inline int sk__sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms)
{
    return (int)syscall(SYS_epoll_pwait, epfd, ev, max, timeout_ms, NULL, (size_t)8);
}

#endif

/* epoll_pwait2 (Linux 5.11, a timespec timeout) the same way (directly
 * only where struct timespec is the kernel's 64-bit one); -1 with ENOSYS
 * where neither the headers nor libc know it. */
static inline int sk__sys_epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *ts)
{
#if defined(SK__SYS_LIBC) || !defined(SYS_epoll_pwait2) || !defined(__LP64__)
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    return epoll_pwait2(epfd, ev, max, ts, NULL);
#else
    (void)epfd, (void)ev, (void)max, (void)ts;
    errno = ENOSYS;
    return -1;
#endif
#else
    return (int)syscall(SYS_epoll_pwait2, epfd, ev, max, ts, NULL, (size_t)8);
#endif
}

#endif
