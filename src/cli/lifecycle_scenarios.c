/* The scenarios of sockit lifecycle: each side's calls, in the order that
 * causes the states the guide draws, and what each expects. The sides run
 * in two threads; lc_wait/lc_signal order them where the picture needs it
 * (step 1: the server listens; 2: the capture runs; 3: the client is done). */
#include "lifecycle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define WAIT_MS 2000
#define FOLLOW_MS 1000

static const char HELLO[] = "hello\n";

/* socket, bind to 127.0.0.1 on a port the kernel picks, and listen unless
 * backlog < 0. Returns the fd or -1. */
static int open_server(lc_run *r, int backlog)
{
    sk_tracer *t = &r->server;
    sk_addr a = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = sk_tr_socket(t, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sk_tr_bind(t, fd, &a) < 0 || (backlog >= 0 && sk_tr_listen(t, fd, backlog) < 0)) {
        sk_tr_close(t, fd);
        return -1;
    }
    socklen_t len = sizeof r->addr.ss;
    getsockname(fd, (struct sockaddr *)&r->addr.ss, &len);
    r->addr.len = len;
    r->lfd = fd;
    return fd;
}

/* A connection's 4-tuple, taken while it has one: once the kernel hands it
 * to a TIME_WAIT socket of its own, the fd says CLOSE and has no peer. */
typedef struct tuple {
    sk_addr local, peer;
} tuple;

static tuple tuple_of(int fd)
{
    tuple u;
    memset(&u, 0, sizeof u);
    socklen_t len = sizeof u.local.ss;
    if (getsockname(fd, (struct sockaddr *)&u.local.ss, &len) == 0)
        u.local.len = len;
    len = sizeof u.peer.ss;
    if (getpeername(fd, (struct sockaddr *)&u.peer.ss, &len) == 0)
        u.peer.len = len;
    return u;
}

/* The client's connect as a non-blocking program makes it: connect ->
 * EINPROGRESS -> poll writable -> SO_ERROR. Returns the fd (blocking
 * again) or -1 with errno. */
static int dial(lc_run *r)
{
    sk_tracer *t = &r->client;
    int fd = sk_tr_socket(t, r->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
    if (fd < 0)
        return -1;
    if (sk_tr_connect(t, fd, &r->addr) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            sk_tr_close(t, fd);
            errno = err;
            return -1;
        }
        sk_tr_poll(t, fd, POLLOUT, WAIT_MS, NULL);
        sk_tr_so_error(t, fd, &err);
        if (err != 0) {
            sk_tr_close(t, fd);
            errno = err;
            return -1;
        }
    }
    sk_set_nonblock(fd, false);
    tuple u = tuple_of(fd);
    pthread_mutex_lock(&r->lock);
    r->cli_local = u.local;
    pthread_mutex_unlock(&r->lock);
    __atomic_store_n(&r->cli_known, 1, __ATOMIC_RELEASE);
    /* Against ADDR, the server's socket is only seen by looking: give the
     * watcher a look at it while it is ESTABLISHED (up to 500 ms). */
    for (int i = 0; r->target && i < 500 && !__atomic_load_n(&r->watch_ready, __ATOMIC_ACQUIRE); i++)
        usleep(1000);
    return fd;
}

/* Wait until fd is readable (so a recv does not block the picture), then
 * recv. */
static ssize_t recv_when_ready(sk_tracer *t, int fd, char *buf, size_t len)
{
    sk_tr_poll(t, fd, POLLIN, WAIT_MS, NULL);
    return sk_tr_recv(t, fd, buf, len, MSG_DONTWAIT);
}

/* close, then the states the kernel keeps the connection in. */
static void close_and_follow(sk_tracer *t, int fd, const tuple *u)
{
    sk_tr_close(t, fd);
    if (u->peer.len)
        sk_trace_follow(t, &u->local, &u->peer, FOLLOW_MS);
}

static int accept_one(lc_run *r) { return sk_tr_accept(&r->server, r->lfd, NULL, 0); }

/* The server side's start in most scenarios: listen (backlog 8), tell the
 * client, take its connection. Returns the fd or -1. */
static int serve_one(lc_run *r, tuple *u)
{
    if (open_server(r, 8) < 0)
        return -1;
    lc_signal(r, 1);
    int fd = accept_one(r);
    if (fd >= 0)
        *u = tuple_of(fd);
    return fd;
}

/* The client side's start: wait for the listener, connect. */
static int dial_one(lc_run *r, tuple *u)
{
    lc_wait(r, 2);
    int fd = dial(r);
    if (fd >= 0)
        *u = tuple_of(fd);
    return fd;
}

/* The server side's end: close the connection, follow its states, close
 * the listener. */
static void server_done(lc_run *r, int fd, const tuple *u)
{
    close_and_follow(&r->server, fd, u);
    sk_tr_close(&r->server, r->lfd);
}

/* normal: the client closes first. */
static int normal_server(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = serve_one(r, &u);
    if (fd < 0)
        return -1;
    ssize_t n = recv_when_ready(&r->server, fd, buf, sizeof buf);
    if (n > 0)
        sk_tr_send(&r->server, fd, buf, (size_t)n, 0);
    recv_when_ready(&r->server, fd, buf, sizeof buf); /* 0: the client's FIN */
    server_done(r, fd, &u);
    return 0;
}

static int normal_client(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = dial_one(r, &u);
    if (fd < 0)
        return -1;
    sk_tr_send(&r->client, fd, HELLO, sizeof HELLO - 1, 0);
    recv_when_ready(&r->client, fd, buf, sizeof buf);
    close_and_follow(&r->client, fd, &u);
    return 0;
}

/* server-closes: the server answers and closes first. */
static int sclose_server(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = serve_one(r, &u);
    if (fd < 0)
        return -1;
    ssize_t n = recv_when_ready(&r->server, fd, buf, sizeof buf);
    if (n > 0)
        sk_tr_send(&r->server, fd, buf, (size_t)n, 0);
    server_done(r, fd, &u);
    return 0;
}

static int sclose_client(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = dial_one(r, &u);
    if (fd < 0)
        return -1;
    sk_tr_send(&r->client, fd, HELLO, sizeof HELLO - 1, 0);
    ssize_t n = recv_when_ready(&r->client, fd, buf, sizeof buf);
    while (n > 0)
        n = recv_when_ready(&r->client, fd, buf, sizeof buf); /* to the server's FIN: 0 */
    close_and_follow(&r->client, fd, &u);
    return 0;
}

/* half-close: the client shuts down its writing and keeps reading; the
 * server, in CLOSE_WAIT, still sends. */
static int half_server(lc_run *r)
{
    char buf[64], got[64];
    size_t have = 0;
    tuple u;
    int fd = serve_one(r, &u);
    if (fd < 0)
        return -1;
    for (ssize_t n; (n = recv_when_ready(&r->server, fd, buf, sizeof buf)) > 0;) {
        if (have + (size_t)n <= sizeof got) {
            memcpy(got + have, buf, (size_t)n);
            have += (size_t)n;
        }
    }
    sk_tr_send(&r->server, fd, got, have, 0); /* after the client's FIN */
    server_done(r, fd, &u);
    return 0;
}

static int half_client(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = dial_one(r, &u);
    if (fd < 0)
        return -1;
    sk_tr_send(&r->client, fd, HELLO, sizeof HELLO - 1, 0);
    sk_tr_shutdown(&r->client, fd, SHUT_WR);
    for (ssize_t n = 1; n > 0;)
        n = recv_when_ready(&r->client, fd, buf, sizeof buf);
    close_and_follow(&r->client, fd, &u);
    return 0;
}

/* rst: SO_LINGER with 0 s makes close() abort: RST, no FIN, no TIME_WAIT. */
static int rst_server(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = serve_one(r, &u);
    if (fd < 0)
        return -1;
    ssize_t n = recv_when_ready(&r->server, fd, buf, sizeof buf);
    if (n > 0)
        sk_tr_send(&r->server, fd, buf, (size_t)n, 0);
    recv_when_ready(&r->server, fd, buf, sizeof buf); /* -1 ECONNRESET */
    server_done(r, fd, &u);
    return 0;
}

static int rst_client(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = dial_one(r, &u);
    if (fd < 0)
        return -1;
    sk_tr_send(&r->client, fd, HELLO, sizeof HELLO - 1, 0);
    recv_when_ready(&r->client, fd, buf, sizeof buf);
    sk_tr_linger(&r->client, fd, 0);
    close_and_follow(&r->client, fd, &u);
    return 0;
}

/* refused: the port is bound but nothing listens: the SYN gets a RST. */
static int refused_server(lc_run *r)
{
    if (open_server(r, -1) < 0)
        return -1;
    lc_signal(r, 1);
    lc_wait(r, 3);
    sk_tr_close(&r->server, r->lfd);
    return 0;
}

static int refused_client(lc_run *r)
{
    lc_wait(r, 2);
    int fd = dial(r);
    if (fd >= 0)
        sk_tr_close(&r->client, fd);
    lc_signal(r, 3);
    return 0;
}

/* backlog-full: a listener with backlog 1 that never accepts. Its accept
 * queue holds backlog + 1 connections; the SYNs after that are dropped
 * (ListenOverflows), and those clients stay in SYN_SENT. */
#define BACKLOG_CLIENTS 5

static int backlog_server(lc_run *r)
{
    if (open_server(r, 1) < 0)
        return -1;
    lc_signal(r, 1);
    lc_wait(r, 3);
    sk_tr_close(&r->server, r->lfd);
    return 0;
}

static int backlog_client(lc_run *r)
{
    sk_tracer *t = &r->client;
    int fds[BACKLOG_CLIENTS];
    lc_wait(r, 2);
    for (int i = 0; i < BACKLOG_CLIENTS; i++) {
        fds[i] = sk_tr_socket(t, r->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fds[i] >= 0)
            sk_tr_connect(t, fds[i], &r->addr);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* Long enough for every handshake that can finish, not for the first
     * SYN retransmission (1 s). */
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 300 * 1000000L};
    nanosleep(&ts, NULL);
    for (int i = 0; i < BACKLOG_CLIENTS; i++) {
        if (fds[i] >= 0)
            sk_tr_poll(t, fds[i], POLLOUT, 0, NULL);
    }
    for (int i = 0; i < BACKLOG_CLIENTS; i++) {
        if (fds[i] >= 0)
            sk_tr_close(t, fds[i]);
    }
    lc_signal(r, 3);
    return 0;
}

/* unread-data-close: the server closes with the client's data unread: the
 * kernel answers with RST (RFC 2525 2.17), not FIN. */
static int unread_server(lc_run *r)
{
    tuple u;
    int fd = serve_one(r, &u);
    if (fd < 0)
        return -1;
    sk_tr_poll(&r->server, fd, POLLIN, WAIT_MS, NULL); /* the data is there, unread */
    server_done(r, fd, &u);
    return 0;
}

static int unread_client(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = dial_one(r, &u);
    if (fd < 0)
        return -1;
    sk_tr_send(&r->client, fd, HELLO, sizeof HELLO - 1, 0);
    recv_when_ready(&r->client, fd, buf, sizeof buf); /* -1 ECONNRESET */
    close_and_follow(&r->client, fd, &u);
    return 0;
}

/* simultaneous-close: both sides shut down their writing at the same
 * moment (a barrier both leave together). On loopback a FIN is delivered
 * within the call that sends it, but to a socket whose owner is inside
 * its own shutdown() it waits in the socket's backlog until that call
 * ends, after the owner's FIN has left: the FINs cross, each side gets
 * the other's in FIN_WAIT1 and goes to CLOSING, then TIME_WAIT. The two
 * calls must overlap by microseconds, which two threads cannot promise:
 * the scenario is tried again when they did not. */
static int simul_server(lc_run *r)
{
    char buf[64];
    tuple u;
    int fd = serve_one(r, &u);
    if (fd < 0)
        return -1;
    ssize_t n = recv_when_ready(&r->server, fd, buf, sizeof buf);
    if (n > 0)
        sk_tr_send(&r->server, fd, buf, (size_t)n, 0);
    lc_barrier(r, 1);
    sk_tr_shutdown(&r->server, fd, SHUT_WR);
    lc_barrier_done(r, 1);
    while (recv_when_ready(&r->server, fd, buf, sizeof buf) > 0)
        ;
    server_done(r, fd, &u);
    return 0;
}

static int simul_client(lc_run *r)
{
    char buf[64];
    lc_wait(r, 2);
    int fd = dial(r);
    if (fd < 0) {
        lc_barrier(r, 0);
        lc_barrier_done(r, 0);
        return -1;
    }
    tuple u = tuple_of(fd);
    sk_tr_send(&r->client, fd, HELLO, sizeof HELLO - 1, 0);
    recv_when_ready(&r->client, fd, buf, sizeof buf);
    lc_barrier(r, 0);
    sk_tr_shutdown(&r->client, fd, SHUT_WR);
    lc_barrier_done(r, 0);
    while (recv_when_ready(&r->client, fd, buf, sizeof buf) > 0)
        ;
    close_and_follow(&r->client, fd, &u);
    return 0;
}

/* States: "A,B|C,D" = A, then B or C, then D, in that order among those
 * seen. Flags: [c>|s>]FLAGS, the direction optional; in a "never" list a
 * token matches any segment with those flags among its own. Errors:
 * c:NAME / s:NAME, seen in that order. */
const lc_scenario lc_scenarios[] = {
    {.name = "normal",
     .about = "the client closes first: FIN, ACK, FIN, ACK; TIME_WAIT on the client, LAST_ACK on the server",
     .server = normal_server,
     .client = normal_client,
     .client_states = "ESTABLISHED,TIME_WAIT",
     .server_states = "ESTABLISHED,CLOSE_WAIT",
     .server_never = "TIME_WAIT",
     .flags = "c>S,s>SA,c>A,c>FA,s>FA,c>A",
     .flags_never = "R"},
    {.name = "server-closes",
     .about = "the server closes first: TIME_WAIT on the server, CLOSE_WAIT then LAST_ACK on the client",
     .server = sclose_server,
     .client = sclose_client,
     .client_states = "ESTABLISHED,CLOSE_WAIT",
     .client_never = "TIME_WAIT",
     .server_states = "ESTABLISHED,TIME_WAIT",
     .flags = "c>S,s>SA,c>A,s>FA,c>FA,s>A",
     .flags_never = "R"},
    {.name = "half-close",
     .about = "the client shuts down writing and keeps reading: the server sends from CLOSE_WAIT",
     .server = half_server,
     .client = half_client,
     .client_states = "ESTABLISHED,TIME_WAIT",
     .server_states = "CLOSE_WAIT",
     .server_never = "TIME_WAIT",
     .flags = "c>S,s>SA,c>A,c>FA,s>PA,s>FA,c>A",
     .flags_never = "R"},
    {.name = "rst",
     .about = "SO_LINGER 0: close() sends RST instead of FIN; no TIME_WAIT, the server's recv gets ECONNRESET",
     .server = rst_server,
     .client = rst_client,
     .client_states = "ESTABLISHED",
     .client_never = "TIME_WAIT,FIN_WAIT1,FIN_WAIT2",
     .server_never = "TIME_WAIT",
     .flags = "c>S,s>SA,c>A,c>RA|c>R",
     .flags_never = "c>F",
     .errors = "s:ECONNRESET"},
    {.name = "simultaneous-close",
     .own_server = true,
     .about = "both sides shut down at once: the FINs cross, both go FIN_WAIT1 -> CLOSING -> TIME_WAIT "
              "(tried up to 20 times: the calls must overlap)",
     .server = simul_server,
     .client = simul_client,
     /* Without the tracepoint, FIN_WAIT1 and CLOSING are over before
      * shutdown() returns (TCP_INFO says CLOSE): TIME_WAIT on both sides,
      * and neither CLOSE_WAIT nor LAST_ACK, is what shows they crossed. */
     .client_states = "TIME_WAIT",
     .server_states = "TIME_WAIT",
     .client_states_tp = "FIN_WAIT1,CLOSING,TIME_WAIT",
     .server_states_tp = "FIN_WAIT1,CLOSING,TIME_WAIT",
     .client_never = "CLOSE_WAIT,LAST_ACK,FIN_WAIT2",
     .server_never = "CLOSE_WAIT,LAST_ACK,FIN_WAIT2",
     .flags = "c>S,s>SA,c>A,c>FA|s>FA,c>FA|s>FA",
     .flags_never = "R",
     .attempts = 20},
    {.name = "refused",
     .about = "no listener on the port: the SYN is answered with RST, connect fails with ECONNREFUSED",
     .server = refused_server,
     .client = refused_client,
     .client_never = "ESTABLISHED",
     .flags = "c>S,s>RA",
     .flags_never = "SA",
     .errors = "c:ECONNREFUSED"},
    {.name = "backlog-full",
     .about = "a listener (backlog 1) that never accepts: its queue fills, further SYNs are dropped "
              "(ListenOverflows), those clients stay in SYN_SENT",
     .server = backlog_server,
     .client = backlog_client,
     .backlog = 1,
     .client_states = "ESTABLISHED,SYN_SENT",
     .flags = "c>S,s>SA,c>A",
     .check_overflow = true},
    {.name = "unread-data-close",
     .own_server = true,
     .about = "the server closes with the client's data unread: RST instead of FIN (RFC 2525), ECONNRESET",
     .server = unread_server,
     .client = unread_client,
     .client_states = "ESTABLISHED",
     .server_never = "TIME_WAIT,FIN_WAIT1,FIN_WAIT2,LAST_ACK",
     .flags = "c>S,s>SA,c>A,c>PA,s>RA|s>R",
     .flags_never = "s>F",
     .errors = "c:ECONNRESET"},
    {0},
};
