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
 * On x86-64 the call is the syscall instruction itself (sk__syscall6).
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

#ifndef SK__SYS_LIBC
#if defined(__x86_64__)
/* On x86-64 the system call instruction itself, inline: the kernel takes
 * the number in rax and six arguments in rdi, rsi, rdx, r10, r8 and r9,
 * returns in rax (-4095..-1 is -errno) and overwrites rcx and r11. That is
 * syscall(2) without its call, its argument shuffle and its errno store on
 * success: a dozen instructions less for each call. */
static inline long sk__syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if ((unsigned long)ret > -4096UL) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}
#define SK__SYSCALL6(nr, a, b, c, d, e, f)                                                                             \
    sk__syscall6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#else
#define SK__SYSCALL6(nr, a, b, c, d, e, f) syscall((nr), (a), (b), (c), (d), (e), (f))
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
    return SK__SYSCALL6(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}
static inline ssize_t sk__sys_send(int fd, const void *buf, size_t len, int flags)
{
    return SK__SYSCALL6(SYS_sendto, fd, buf, len, flags, NULL, 0);
}
/* epoll_pwait with no signal mask is epoll_wait (the one call every
 * architecture has). */
static inline int sk__sys_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms)
{
    return (int)SK__SYSCALL6(SYS_epoll_pwait, epfd, ev, max, timeout_ms, NULL, (size_t)8);
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
    return (int)SK__SYSCALL6(SYS_epoll_pwait2, epfd, ev, max, ts, NULL, (size_t)8);
#endif
}

#endif
