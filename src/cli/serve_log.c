/* serve's log writer: -v and --json lines go out without ever blocking the
 * thread that logs (an event loop serving thousands of clients). A reader
 * that stops (a pager, a stopped pipeline, a full terminal) used to stop
 * the server once the pipe's 64 KiB were full. Now what it does not take
 * waits in a bounded queue and the rest is dropped and counted, as a
 * syslog datagram is: the clients matter more than the log. */
#include "serve_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sockit/clock.h>

/* Bytes a stream may hold back while its reader is slow or stopped. A
 * record that finds the queue empty is always taken (a -v -v hex dump may
 * be larger), so memory stays under this plus one record. */
#define LOG_QUEUE (64 * 1024)

typedef struct logq {
    int fd;    /* where the lines go; -1: not set up (plain blocking stdio) */
    bool sock; /* send() with MSG_DONTWAIT: a socket cannot be reopened */
    bool json;
    char *buf;
    size_t head, len, cap; /* queued bytes are buf[head, head + len) */
} logq;

static logq g_q[3] = {{.fd = -1}, {.fd = -1}, {.fd = -1}};
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_queueing; /* this process queues (the one that set up) */
static bool g_flusher;  /* the flusher thread runs (under g_lock) */
/* Lines dropped per stream, shared with forked children (fork, prefork):
 * a child that drops lines may exit before it could report them. */
static uint64_t *g_dropped;

static bool pump(logq *q, int stream);
static void report(logq *q, int stream);

/* Without it, what waits in the queue would go out only with the next
 * line logged, and a quiet server would hold the report of dropped lines
 * until its exit. Its writes do not block either, so it holds the lock no
 * longer than a logging thread does. It starts only once the log's reader
 * has fallen behind (start_flusher): a second thread makes every system
 * call on a descriptor dearer for the whole process - with the descriptor
 * table shared, the kernel takes and drops a reference on the file each
 * time (fdget) - and a server whose log keeps up never needs it. */
static void *flusher(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p[2];
        int n = 0;
        pthread_mutex_lock(&g_lock);
        for (int i = 1; i <= 2; i++) {
            if (g_q[i].fd < 0)
                continue;
            if (pump(&g_q[i], i))
                report(&g_q[i], i);
            if (g_q[i].len > 0)
                p[n++] = (struct pollfd){.fd = g_q[i].fd, .events = POLLOUT};
        }
        pthread_mutex_unlock(&g_lock);
        /* Queued bytes: wake when the reader makes room; otherwise look
         * for children's drops now and then. */
        if (n > 0)
            poll(p, (nfds_t)n, 100);
        else
            usleep(250 * 1000);
    }
    return NULL;
}

static void forked_child(void)
{
    /* The parent still holds what it queued and will write it: a copy
     * here would be written twice. A child logs without a queue. */
    pthread_mutex_init(&g_lock, NULL);
    g_queueing = false;
    g_flusher = false;
    for (int i = 1; i <= 2; i++)
        g_q[i].head = g_q[i].len = 0;
}

/* Its own open file description, so O_NONBLOCK does not leak to the shell
 * or whatever else shares the original one. */
static int own_nonblocking(int fd)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

void serve_log_init(int json)
{
    g_dropped = mmap(NULL, 2 * sizeof *g_dropped, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_dropped == MAP_FAILED)
        g_dropped = NULL;
    for (int i = 1; i <= 2; i++) {
        struct stat st;
        logq *q = &g_q[i];
        q->json = json && i == 1;
        if (fstat(i, &st) < 0)
            continue;
        if (S_ISSOCK(st.st_mode)) {
            q->fd = i;
            q->sock = true;
        } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            /* When it cannot be reopened (no /proc) the stream stays
             * blocking, as it always was. */
            q->fd = own_nonblocking(i);
        } else {
            q->fd = i; /* a regular file: a write does not wait for a reader */
        }
    }
    g_queueing = true;
    pthread_atfork(NULL, NULL, forked_child);
}

/* With g_lock held, in the process that queues: the reader left bytes in
 * the queue or lines were dropped, so from now on the flusher drains and
 * reports without waiting for the next line. Every signal blocked in it:
 * SIGINT/SIGTERM are for the thread that waits in the server. Without the
 * thread the log still never blocks; the queue then drains with the next
 * line. */
static void start_flusher(void)
{
    if (g_flusher || !g_queueing)
        return;
    sigset_t all, old;
    pthread_t tid;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&tid, NULL, flusher, NULL) == 0) {
        pthread_detach(tid);
        g_flusher = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static ssize_t put(const logq *q, const char *p, size_t n)
{
    for (;;) {
        ssize_t w = q->sock ? send(q->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(q->fd, p, n);
        if (w >= 0 || errno != EINTR)
            return w;
    }
}

static uint64_t lines_in(const char *p, size_t n)
{
    uint64_t k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

/* Write what is queued as far as the reader takes it now. Pieces end at a
 * line's end and hold at most PIPE_BUF bytes, which a pipe takes whole or
 * not at all, so lines of other threads and processes never mix. Returns
 * false while bytes are left (the reader is full) or the stream failed
 * (then they are dropped and counted). */
static bool pump(logq *q, int stream)
{
    while (q->len > 0) {
        size_t n = q->len;
        const char *p = q->buf + q->head;
        if (n > PIPE_BUF) {
            const char *nl = memrchr(p, '\n', PIPE_BUF);
            n = nl ? (size_t)(nl - p) + 1 : PIPE_BUF;
        }
        ssize_t w = put(q, p, n);
        if (w < 0 && errno == EAGAIN)
            return false;
        if (w <= 0) { /* EPIPE, EIO: nobody will read these */
            if (g_dropped)
                __atomic_fetch_add(&g_dropped[stream - 1], lines_in(p, q->len), __ATOMIC_RELAXED);
            q->head = q->len = 0;
            return false;
        }
        q->head += (size_t)w;
        q->len -= (size_t)w;
    }
    q->head = 0;
    return true;
}

/* The queue is empty and lines were dropped: say how many, once. */
static void report(logq *q, int stream)
{
    uint64_t n = g_dropped ? __atomic_exchange_n(&g_dropped[stream - 1], 0, __ATOMIC_RELAXED) : 0;
    if (n == 0)
        return;
    char line[160];
    int k = q->json ? snprintf(line, sizeof line, "{\"event\":\"log_dropped\",\"lines\":%llu}\n", (unsigned long long)n)
                    : snprintf(line, sizeof line, "sockit: log: %llu lines dropped: the log's reader did not keep up\n",
                               (unsigned long long)n);
    if (put(q, line, (size_t)k) != k)
        __atomic_fetch_add(&g_dropped[stream - 1], n, __ATOMIC_RELAXED);
}

static bool enqueue(logq *q, const char *text, size_t len)
{
    if (q->len > 0 && q->len + len > LOG_QUEUE)
        return false;
    if (q->head + q->len + len > q->cap) {
        if (q->head > 0) {
            memmove(q->buf, q->buf + q->head, q->len);
            q->head = 0;
        }
        if (q->len + len > q->cap) {
            size_t cap = q->len + len > LOG_QUEUE ? q->len + len : LOG_QUEUE;
            char *b = realloc(q->buf, cap);
            if (b == NULL)
                return false;
            q->buf = b;
            q->cap = cap;
        }
    }
    memcpy(q->buf + q->head + q->len, text, len);
    q->len += len;
    return true;
}

void serve_log_write(int stream, const char *text, size_t len)
{
    logq *q = &g_q[stream == 1 ? 1 : 2];

    if (q->fd < 0) { /* not set up, or not reopened: blocking, as before */
        fwrite(text, 1, len, stream == 1 ? stdout : stderr);
        fflush(stream == 1 ? stdout : stderr);
        return;
    }
    pthread_mutex_lock(&g_lock);
    if (pump(q, stream))
        report(q, stream);
    if (!enqueue(q, text, len)) {
        if (g_dropped)
            __atomic_fetch_add(&g_dropped[stream - 1], lines_in(text, len), __ATOMIC_RELAXED);
    } else if (!pump(q, stream) && !g_queueing) {
        /* A child has no queue: what the reader did not take is gone. */
        if (g_dropped && q->len > 0)
            __atomic_fetch_add(&g_dropped[stream - 1], lines_in(q->buf + q->head, q->len), __ATOMIC_RELAXED);
        q->head = q->len = 0;
    }
    if (q->len > 0 || (g_dropped && __atomic_load_n(&g_dropped[stream - 1], __ATOMIC_RELAXED) > 0))
        start_flusher();
    pthread_mutex_unlock(&g_lock);
}

void serve_log_flush(int timeout_ms)
{
    int64_t until = sk_now_ms() + timeout_ms;
    for (int i = 1; i <= 2; i++) {
        logq *q = &g_q[i];
        if (q->fd < 0)
            continue;
        for (;;) {
            pthread_mutex_lock(&g_lock);
            bool done = pump(q, i);
            if (done)
                report(q, i);
            done = done && (g_dropped == NULL || __atomic_load_n(&g_dropped[i - 1], __ATOMIC_RELAXED) == 0);
            pthread_mutex_unlock(&g_lock);
            int64_t left = until - sk_now_ms();
            if (done || left <= 0)
                break;
            struct pollfd p = {.fd = q->fd, .events = POLLOUT};
            if (poll(&p, 1, (int)(left < 100 ? left : 100)) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
                break; /* the reader is gone */
        }
    }
}

void serve_log_signal_write(int stream, const char *line, size_t len)
{
    const logq *q = &g_q[stream == 1 ? 1 : 2];
    ssize_t rc = q->fd < 0 ? write(stream, line, len) : put(q, line, len);
    (void)rc;
}
