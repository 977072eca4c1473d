/* The traced TCP transport of `serve --trace`: the same calls as plain TCP
 * through the wrappers of trace.h, so each one is reported with its
 * result, TCP state and 4-tuple; after a close, a follower thread reports
 * the states the kernel keeps the connection in (LAST_ACK, TIME_WAIT),
 * so the event loops never wait for them. Listening and accepting are
 * traced by listen.c and core.c with the same tracer. */
#include "server_trace.h"
#include "base/thread.h"
#include "net/sock_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sock.h>
#include <sockit/udp.h>

#define FOLLOW_QUEUE 256
#define FOLLOW_MS 2000

static sk_tracer *g_tracer;

typedef struct follow_item {
    sk_addr local, peer;
} follow_item;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    follow_item q[FOLLOW_QUEUE];
    int head, n;
    bool running;
    pid_t pid; /* the process the thread runs in (fork model: each child its own) */
} g_follow = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *follower(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_follow.lock);
        while (g_follow.n == 0)
            pthread_cond_wait(&g_follow.cond, &g_follow.lock);
        follow_item it = g_follow.q[g_follow.head];
        g_follow.head = (g_follow.head + 1) % FOLLOW_QUEUE;
        g_follow.n--;
        pthread_mutex_unlock(&g_follow.lock);
        sk_trace_follow(g_tracer, &it.local, &it.peer, FOLLOW_MS);
    }
    return NULL;
}

/* Queue a closed connection for the follower (dropped when the queue is
 * full: the trace never slows the server down for it). */
static void follow(const sk_tuple *t)
{
    pthread_mutex_lock(&g_follow.lock);
    if (!g_follow.running || g_follow.pid != getpid()) {
        pthread_t tid;
        /* Every signal blocked in it: they stay with the server's threads. */
        g_follow.running = sk__thread_start(&tid, NULL, follower, NULL) == 0;
        if (g_follow.running)
            pthread_detach(tid);
        g_follow.pid = getpid();
        g_follow.n = 0;
    }
    if (g_follow.running && g_follow.n < FOLLOW_QUEUE) {
        follow_item *it = &g_follow.q[(g_follow.head + g_follow.n) % FOLLOW_QUEUE];
        it->local = t->local;
        it->peer = t->peer;
        g_follow.n++;
        pthread_cond_signal(&g_follow.cond);
    }
    pthread_mutex_unlock(&g_follow.lock);
}

static ssize_t trace_recv(void *ctx, int fd, void *buf, size_t len)
{
    (void)ctx;
    for (;;) {
        ssize_t n = sk_tr_recv(g_tracer, fd, buf, len, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static ssize_t trace_send(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx;
    for (;;) {
        ssize_t n = sk_tr_send(g_tracer, fd, buf, len, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static int trace_shutdown(void *ctx, int fd)
{
    (void)ctx;
    return sk_tr_shutdown(g_tracer, fd, SHUT_WR) < 0 ? -errno : 0;
}

/* Each accepted fd's 4-tuple, taken at accept: by close time a connection
 * the kernel moved to a TIME_WAIT socket of its own has none on the fd. */
static sk_tuple *g_tuples;
static size_t g_ntuples;
static pthread_once_t g_tuples_once = PTHREAD_ONCE_INIT;
/* An fd closed in one thread is accepted again in another: the kernel
 * orders the two, but nothing a race detector sees does; the lock does
 * (and costs only traced servers). */
static pthread_mutex_t g_tuples_lock = PTHREAD_MUTEX_INITIALIZER;

static void tuples_init(void)
{
    struct rlimit rl;
    size_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1000000 ? (size_t)rl.rlim_cur : 65536;
    g_tuples = calloc(n, sizeof *g_tuples);
    g_ntuples = g_tuples ? n : 0;
}

static void trace_close(void *ctx, int fd)
{
    sk_tuple t;
    (void)ctx;
    pthread_mutex_lock(&g_tuples_lock);
    bool have = fd >= 0 && (size_t)fd < g_ntuples && g_tuples[fd].peer.len > 0;
    if (have) {
        t = g_tuples[fd];
        g_tuples[fd].peer.len = 0;
    }
    pthread_mutex_unlock(&g_tuples_lock);
    if (!have) {
        have = sk_tuple_get(fd, &t) == 0;
    }
    if (have)
        sk_tr_close_known(g_tracer, fd, &t.local, &t.peer);
    else
        sk_tr_close(g_tracer, fd);
    if (have)
        follow(&t);
}

const sk__transport sk__transport_trace = {
    .name = "tcp (traced)",
    .recv = trace_recv,
    .send = trace_send,
    .shutdown = trace_shutdown,
    .close = trace_close,
};

void sk__server_trace_set(sk_tracer *t) { g_tracer = t; }

int sk__traced_listen(sk_tracer *t, const sk_addr *a, int backlog, int flags)
{
    int err;
    int type = SOCK_STREAM | SOCK_CLOEXEC | ((flags & SK_LISTEN_NONBLOCK) ? SOCK_NONBLOCK : 0);
    int fd = sk_tr_socket(t, a->ss.ss_family, type, 0);

    if (fd < 0)
        return -errno;
    if (sk__listen_options(fd, a->ss.ss_family, flags) < 0)
        goto fail;
    if (sk_tr_bind(t, fd, a) < 0 || sk_tr_listen(t, fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
        goto fail;
    return fd;
fail:
    err = -errno;
    close(fd);
    return err;
}

int sk__traced_udp_open(sk_tracer *t, const sk_addr *a, int uflags)
{
    int one = 1, err, family = a->ss.ss_family;
    int fd = sk_tr_socket(t, family, SOCK_DGRAM | SOCK_CLOEXEC | ((uflags & SK_UDP_NONBLOCK) ? SOCK_NONBLOCK : 0),
                          IPPROTO_UDP);
    if (fd < 0)
        return -errno;
    /* sk_udp_socket()'s options, then the bind as a call of its own. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        ((uflags & SK_UDP_REUSEPORT) && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0))
        goto fail;
    if (family == AF_INET6) {
        int v6only = (uflags & SK_UDP_V6ONLY) ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0)
            goto fail;
    }
    if ((uflags & SK_UDP_PKTINFO) &&
        (family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                            : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one)) < 0)
        goto fail;
    if (sk_tr_bind(t, fd, a) < 0)
        goto fail;
    return fd;
fail:
    err = -errno;
    close(fd);
    return err;
}

int sk__traced_accept(sk_tracer *t, int lfd, sk_addr *peer)
{
    for (;;) {
        int fd = sk_tr_accept(t, lfd, peer, SOCK_NONBLOCK);
        if (fd >= 0) {
            pthread_once(&g_tuples_once, tuples_init);
            sk_tuple u;
            bool have = sk_tuple_get(fd, &u) == 0;
            pthread_mutex_lock(&g_tuples_lock);
            if ((size_t)fd < g_ntuples) {
                g_tuples[fd] = u;
                if (!have)
                    g_tuples[fd].peer.len = 0;
            }
            pthread_mutex_unlock(&g_tuples_lock);
            return fd;
        }
        if (errno != EINTR)
            return -errno;
    }
}
