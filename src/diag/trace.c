/* The traced socket calls (trace.h): call, then report. */
#include <sockit/clock.h>
#include <sockit/sockdiag.h>
#include <sockit/tcpinfo.h>
#include <sockit/tcpstate.h>
#include <sockit/trace.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The 4-tuple and TCP state of fd, as far as it has them. */
static void fill_socket(sk_trace_event *ev, int fd)
{
    socklen_t len = sizeof ev->local.ss;
    int type = 0;
    socklen_t tl = sizeof type;

    ev->state = -1;
    if (fd < 0)
        return;
    if (getsockname(fd, (struct sockaddr *)&ev->local.ss, &len) == 0)
        ev->local.len = len;
    len = sizeof ev->peer.ss;
    if (getpeername(fd, (struct sockaddr *)&ev->peer.ss, &len) == 0)
        ev->peer.len = len;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM) {
        sk_tcp_info ti;
        if (sk_tcp_info_get(fd, &ti) == 0)
            ev->state = ti.state;
    }
}

/* Where a call goes in time order: a call that acts at the time it was
 * entered (a SYN leaves during connect(), a FIN during close()); one that
 * waits (poll, accept, recv) at the time it returned, when what it waited
 * for had happened. */
static bool waits(const char *call)
{
    return strcmp(call, "poll") == 0 || strcmp(call, "accept") == 0 || strncmp(call, "recv", 4) == 0; /* recvmmsg too */
}

static void emit(sk_tracer *t, sk_trace_event *ev, int64_t start, const char *call, int fd, long result, int err,
                 bool socket_info)
{
    if (waits(call))
        start = sk_now_us();
    if (t->t0_us == 0)
        t->t0_us = start;
    ev->at_us = start - t->t0_us;
    ev->side = t->side ? t->side : "";
    ev->call = call;
    ev->fd = fd;
    ev->result = result;
    ev->err = err;
    if (socket_info)
        fill_socket(ev, fd);
    else
        ev->state = -1;
    t->fn(t->userdata, ev);
}

#define TRACE_BEGIN                                                                                                    \
    sk_trace_event ev;                                                                                                 \
    memset(&ev, 0, sizeof ev)

static void fmt_addr(char *buf, size_t len, const sk_addr *a)
{
    sk_addr_format((const struct sockaddr *)&a->ss, buf, len);
}

int sk_tr_socket(sk_tracer *t, int domain, int type, int protocol)
{
    int64_t start = t ? sk_now_us() : 0;
    int fd = socket(domain, type, protocol);
    if (t == NULL)
        return fd;
    int err = fd < 0 ? errno : 0;
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "%s, %s%s",
             domain == AF_INET6  ? "AF_INET6"
             : domain == AF_INET ? "AF_INET"
                                 : "?",
             (type & 0xf) == SOCK_STREAM  ? "SOCK_STREAM"
             : (type & 0xf) == SOCK_DGRAM ? "SOCK_DGRAM"
                                          : "?",
             type & SOCK_NONBLOCK ? "|SOCK_NONBLOCK" : "");
    emit(t, &ev, start, "socket", fd, fd, err, false);
    errno = err;
    return fd;
}

int sk_tr_bind(sk_tracer *t, int fd, const sk_addr *a)
{
    int64_t start = t ? sk_now_us() : 0;
    int rc = bind(fd, (const struct sockaddr *)&a->ss, a->len);
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    fmt_addr(ev.args, sizeof ev.args, a);
    emit(t, &ev, start, "bind", fd, rc, err, true);
    errno = err;
    return rc;
}

int sk_tr_listen(sk_tracer *t, int fd, int backlog)
{
    int64_t start = t ? sk_now_us() : 0;
    int rc = listen(fd, backlog);
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "backlog %d", backlog);
    emit(t, &ev, start, "listen", fd, rc, err, true);
    errno = err;
    return rc;
}

int sk_tr_accept(sk_tracer *t, int fd, sk_addr *peer, int flags)
{
    int64_t start = t ? sk_now_us() : 0;
    sk_addr p;
    socklen_t len = sizeof p.ss;
    int rc = accept4(fd, (struct sockaddr *)&p.ss, &len, flags | SOCK_CLOEXEC);
    if (rc >= 0) {
        p.len = len;
        if (peer)
            *peer = p;
    }
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    if (rc >= 0)
        fmt_addr(ev.args, sizeof ev.args, &p);
    emit(t, &ev, start, "accept", fd, rc, err, false);
    if (rc >= 0) {
        /* The new connection's own line: its 4-tuple and state. */
        TRACE_BEGIN;
        start = sk_now_us();
        snprintf(ev.args, sizeof ev.args, "from listener %d", fd);
        emit(t, &ev, start, "accepted", rc, rc, 0, true);
    }
    errno = err;
    return rc;
}

int sk_tr_connect(sk_tracer *t, int fd, const sk_addr *a)
{
    int64_t start = t ? sk_now_us() : 0;
    int rc = connect(fd, (const struct sockaddr *)&a->ss, a->len);
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    fmt_addr(ev.args, sizeof ev.args, a);
    emit(t, &ev, start, "connect", fd, rc, err, true);
    errno = err;
    return rc;
}

int sk_tr_poll(sk_tracer *t, int fd, short events, int timeout_ms, short *revents)
{
    int64_t start = t ? sk_now_us() : 0;
    struct pollfd p = {.fd = fd, .events = events};
    int rc;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (revents)
        *revents = p.revents;
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "%s%s, %d ms -> %s%s%s%s", events & POLLIN ? "POLLIN" : "",
             events & POLLOUT ? (events & POLLIN ? "|POLLOUT" : "POLLOUT") : "", timeout_ms, rc == 0 ? "timeout" : "",
             p.revents & POLLIN ? "readable " : "", p.revents & POLLOUT ? "writable " : "",
             p.revents & (POLLERR | POLLHUP) ? "error/hangup" : "");
    emit(t, &ev, start, "poll", fd, rc, err, true);
    errno = err;
    return rc;
}

int sk_tr_so_error(sk_tracer *t, int fd, int *soerr)
{
    int64_t start = t ? sk_now_us() : 0;
    socklen_t len = sizeof *soerr;
    *soerr = 0;
    int rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, soerr, &len);
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "SO_ERROR -> %d%s%s", *soerr, *soerr ? " " : "", *soerr ? strerror(*soerr) : "");
    emit(t, &ev, start, "getsockopt", fd, rc, rc < 0 ? err : *soerr, true);
    errno = err;
    return rc;
}

static ssize_t data_call(sk_tracer *t, int64_t start, const char *call, int fd, ssize_t n, size_t asked,
                         const sk_addr *who)
{
    if (t == NULL)
        return n;
    int err = n < 0 ? errno : 0;
    TRACE_BEGIN;
    if (who && who->len)
        snprintf(ev.args, sizeof ev.args, "%zu bytes, ", asked);
    else
        snprintf(ev.args, sizeof ev.args, "%zu bytes", asked);
    if (who && who->len) {
        size_t k = strlen(ev.args);
        fmt_addr(ev.args + k, sizeof ev.args - k, who);
    }
    emit(t, &ev, start, call, fd, (long)n, err, true);
    errno = err;
    return n;
}

ssize_t sk_tr_send(sk_tracer *t, int fd, const void *buf, size_t len, int flags)
{
    int64_t start = t ? sk_now_us() : 0;
    return data_call(t, start, "send", fd, send(fd, buf, len, flags | MSG_NOSIGNAL), len, NULL);
}

ssize_t sk_tr_recv(sk_tracer *t, int fd, void *buf, size_t len, int flags)
{
    int64_t start = t ? sk_now_us() : 0;
    return data_call(t, start, "recv", fd, recv(fd, buf, len, flags), len, NULL);
}

ssize_t sk_tr_sendto(sk_tracer *t, int fd, const void *buf, size_t len, const sk_addr *to)
{
    int64_t start = t ? sk_now_us() : 0;
    ssize_t n = to ? sendto(fd, buf, len, MSG_NOSIGNAL, (const struct sockaddr *)&to->ss, to->len)
                   : send(fd, buf, len, MSG_NOSIGNAL);
    return data_call(t, start, to ? "sendto" : "send", fd, n, len, to);
}

ssize_t sk_tr_recvfrom(sk_tracer *t, int fd, void *buf, size_t len, int flags, sk_addr *from)
{
    int64_t start = t ? sk_now_us() : 0;
    sk_addr f = {.len = sizeof f.ss};
    ssize_t n = recvfrom(fd, buf, len, flags, (struct sockaddr *)&f.ss, &f.len);
    if (n < 0)
        f.len = 0;
    if (from)
        *from = f;
    return data_call(t, start, "recvfrom", fd, n, len, &f);
}

/* The datagrams of one recvmmsg/sendmmsg, an event each. */
static int mmsg_call(sk_tracer *t, int64_t start, const char *call, int fd, struct mmsghdr *v, unsigned n, int rc)
{
    int err = rc < 0 ? errno : 0;
    sk_addr local = {.len = sizeof local.ss};
    if (getsockname(fd, (struct sockaddr *)&local.ss, &local.len) < 0)
        local.len = 0;
    if (rc < 0) {
        TRACE_BEGIN;
        snprintf(ev.args, sizeof ev.args, "%u slots", n);
        ev.local = local;
        emit(t, &ev, start, call, fd, rc, err, false);
    }
    for (int i = 0; i < rc; i++) {
        TRACE_BEGIN;
        const struct msghdr *h = &v[i].msg_hdr;
        char who[SK_ADDRSTRLEN] = "";
        if (h->msg_name && h->msg_namelen > 0 && h->msg_namelen <= sizeof ev.peer.ss) {
            memcpy(&ev.peer.ss, h->msg_name, h->msg_namelen);
            ev.peer.len = h->msg_namelen;
            fmt_addr(who, sizeof who, &ev.peer);
        }
        snprintf(ev.args, sizeof ev.args, "%d/%d: %u bytes%s%s", i + 1, rc, v[i].msg_len, who[0] ? ", " : "", who);
        ev.local = local;
        emit(t, &ev, start, call, fd, (long)v[i].msg_len, 0, false);
    }
    errno = err;
    return rc;
}

int sk_tr_recvmmsg(sk_tracer *t, int fd, struct mmsghdr *v, unsigned n, int flags)
{
    int64_t start = t ? sk_now_us() : 0;
    int rc = recvmmsg(fd, v, n, flags, NULL);
    if (t == NULL)
        return rc;
    return mmsg_call(t, start, "recvmmsg", fd, v, n, rc);
}

int sk_tr_sendmmsg(sk_tracer *t, int fd, struct mmsghdr *v, unsigned n, int flags)
{
    int64_t start = t ? sk_now_us() : 0;
    int rc = sendmmsg(fd, v, n, flags);
    if (t == NULL)
        return rc;
    return mmsg_call(t, start, "sendmmsg", fd, v, n, rc);
}

int sk_tr_shutdown(sk_tracer *t, int fd, int how)
{
    int64_t start = t ? sk_now_us() : 0;
    int rc = shutdown(fd, how);
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "%s", how == SHUT_WR ? "SHUT_WR" : how == SHUT_RD ? "SHUT_RD" : "SHUT_RDWR");
    emit(t, &ev, start, "shutdown", fd, rc, err, true);
    errno = err;
    return rc;
}

int sk_tr_linger(sk_tracer *t, int fd, int seconds)
{
    int64_t start = t ? sk_now_us() : 0;
    struct linger l = {.l_onoff = 1, .l_linger = seconds};
    int rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    if (t == NULL)
        return rc;
    int err = rc < 0 ? errno : 0;
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "SO_LINGER on, %d s", seconds);
    emit(t, &ev, start, "setsockopt", fd, rc, err, true);
    errno = err;
    return rc;
}

int sk_tr_close_known(sk_tracer *t, int fd, const sk_addr *local, const sk_addr *peer)
{
    int64_t start = t ? sk_now_us() : 0;
    if (t == NULL)
        return close(fd);
    TRACE_BEGIN;
    int rc = close(fd);
    int err = rc < 0 ? errno : 0;
    ev.local = *local;
    ev.peer = *peer;
    emit(t, &ev, start, "close", fd, rc, err, false);
    errno = err;
    return rc;
}

int sk_tr_close(sk_tracer *t, int fd)
{
    int64_t start = t ? sk_now_us() : 0;
    if (t == NULL)
        return close(fd);
    TRACE_BEGIN;
    fill_socket(&ev, fd); /* the tuple before it goes */
    sk_addr local = ev.local, peer = ev.peer;
    int rc = close(fd);
    int err = rc < 0 ? errno : 0;
    ev.local = local;
    ev.peer = peer;
    emit(t, &ev, start, "close", fd, rc, err, false);
    errno = err;
    return rc;
}

void sk_tr_note(sk_tracer *t, int fd, const char *text)
{
    if (t == NULL)
        return;
    int64_t start = sk_now_us();
    TRACE_BEGIN;
    snprintf(ev.args, sizeof ev.args, "%s", text);
    emit(t, &ev, start, "note", fd, 0, 0, false);
}

/* The state of local <-> peer in the kernel's table, or -1 when absent. */
static int state_of(const sk_addr *local, const sk_addr *peer)
{
    sk_diag_filter f = {.local_port = sk_addr_port((const struct sockaddr *)&local->ss), .local = local};
    sk_diag_sock *v;
    size_t n;
    int state = -1;
    if (sk_diag_tcp(&f, &v, &n) < 0)
        return -2;
    for (size_t i = 0; i < n; i++) {
        if (v[i].peer.ss.ss_family == peer->ss.ss_family &&
            sk_addr_port((const struct sockaddr *)&v[i].peer.ss) == sk_addr_port((const struct sockaddr *)&peer->ss)) {
            char a[SK_ADDRSTRLEN], b[SK_ADDRSTRLEN];
            sk_addr_format((const struct sockaddr *)&v[i].peer.ss, a, sizeof a);
            sk_addr_format((const struct sockaddr *)&peer->ss, b, sizeof b);
            if (strcmp(a, b) == 0 && v[i].state != 10) {
                state = v[i].state;
                break;
            }
        }
    }
    free(v);
    return state;
}

int sk_trace_follow(sk_tracer *t, const sk_addr *local, const sk_addr *peer, int wait_ms)
{
    int64_t end = sk_now_ms() + wait_ms;
    int last = -3;
    if (local->len == 0 || peer->len == 0)
        return -1;
    for (;;) {
        int s = state_of(local, peer);
        if (s == -2)
            return -1; /* no sock_diag here */
        /* With the tracepoint reporting the changes, only what it does
         * not see: TIME_WAIT, and the end. */
        bool report = t && (!t->kernel_states || s < 0 || s == 6);
        if (s != last && report) {
            TRACE_BEGIN;
            ev.local = *local;
            ev.peer = *peer;
            snprintf(ev.args, sizeof ev.args, "%s", s < 0 ? "out of the kernel's table" : "in the kernel after close");
            int64_t now = sk_now_us();
            if (t->t0_us == 0)
                t->t0_us = now;
            ev.at_us = now - t->t0_us;
            ev.side = t->side ? t->side : "";
            ev.call = "state";
            ev.fd = -1;
            ev.state = s;
            t->fn(t->userdata, &ev);
        }
        last = s;
        /* TIME_WAIT lasts 2 MSL (60 s on Linux): reported, not waited out. */
        if (s < 0 || s == 6 || sk_now_ms() >= end)
            return s;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

char *sk_trace_format(const sk_trace_event *ev, char *buf, size_t len)
{
    char res[200] = "", st[32] = "", tup[2 * SK_ADDRSTRLEN + 8] = "";
    if (strcmp(ev->call, "state") == 0 && ev->from > 0) {
        snprintf(res, sizeof res, "%s -> %s (tracepoint)", sk_tcp_state_name(ev->from), sk_tcp_state_name(ev->state));
    } else if (strcmp(ev->call, "state") == 0 || strcmp(ev->call, "note") == 0) {
        snprintf(res, sizeof res, "%s", ev->args);
    } else if (ev->result < 0 && ev->err) {
        snprintf(res, sizeof res, " = -1 %s (%s)", strerrorname_np(ev->err) ? strerrorname_np(ev->err) : "?",
                 strerror(ev->err));
    } else if (strcmp(ev->call, "getsockopt") == 0 && ev->err) {
        snprintf(res, sizeof res, " = 0");
    } else {
        snprintf(res, sizeof res, " = %ld", ev->result);
    }
    if (ev->state >= 0)
        snprintf(st, sizeof st, "  [%s]", sk_tcp_state_name(ev->state));
    else if (strcmp(ev->call, "state") == 0)
        snprintf(st, sizeof st, "  [gone]");
    if (ev->local.len && ev->peer.len) {
        char a[SK_ADDRSTRLEN], b[SK_ADDRSTRLEN];
        sk_addr_format((const struct sockaddr *)&ev->local.ss, a, sizeof a);
        sk_addr_format((const struct sockaddr *)&ev->peer.ss, b, sizeof b);
        snprintf(tup, sizeof tup, "  %s > %s", a, b);
    }
    if (strcmp(ev->call, "state") == 0 || strcmp(ev->call, "note") == 0)
        snprintf(buf, len, "+%" PRId64 " us %s %s: %s%s%s", ev->at_us, ev->side, ev->call, res, st, tup);
    else
        snprintf(buf, len, "+%" PRId64 " us %s %s(%d%s%s)%s%s%s", ev->at_us, ev->side, ev->call, ev->fd,
                 ev->args[0] ? ", " : "", ev->args, res, st, tup);
    return buf;
}

static size_t json_text(char *out, size_t cap, const char *s)
{
    size_t w = 0;
    for (; *s && w + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            w += (size_t)snprintf(out + w, cap - w, "\\%c", c);
        else if (c < 0x20)
            w += (size_t)snprintf(out + w, cap - w, "\\u%04x", c);
        else
            out[w++] = (char)c;
    }
    out[w] = '\0';
    return w;
}

char *sk_trace_json(const sk_trace_event *ev, char *buf, size_t len)
{
    char args[2 * sizeof ev->args], side[64], l[SK_ADDRSTRLEN] = "", p[SK_ADDRSTRLEN] = "";
    json_text(args, sizeof args, ev->args);
    json_text(side, sizeof side, ev->side);
    if (ev->local.len)
        sk_addr_format((const struct sockaddr *)&ev->local.ss, l, sizeof l);
    if (ev->peer.len)
        sk_addr_format((const struct sockaddr *)&ev->peer.ss, p, sizeof p);
    int k = snprintf(buf, len,
                     "{\"event\":\"syscall\",\"t_us\":%" PRId64 ",\"side\":\"%s\",\"call\":\"%s\",\"fd\":%d,"
                     "\"args\":\"%s\",\"result\":%ld",
                     ev->at_us, side, ev->call, ev->fd, args, ev->result);
    if (strcmp(ev->call, "state") == 0)
        k = snprintf(buf, len, "{\"event\":\"state\",\"t_us\":%" PRId64 ",\"side\":\"%s\"", ev->at_us, side);
    if (k > 0 && (size_t)k < len && ev->err && strcmp(ev->call, "state") != 0)
        k += snprintf(buf + k, len - (size_t)k, ",\"errno\":\"%s\"",
                      strerrorname_np(ev->err) ? strerrorname_np(ev->err) : "?");
    if (k > 0 && (size_t)k < len && (ev->state >= 0 || strcmp(ev->call, "state") == 0))
        k += snprintf(buf + k, len - (size_t)k, ",\"state\":\"%s\"",
                      ev->state >= 0 ? sk_tcp_state_name(ev->state) : "gone");
    if (k > 0 && (size_t)k < len && strcmp(ev->call, "state") == 0)
        k += snprintf(buf + k, len - (size_t)k, "%s%s%s,\"source\":\"%s\"", ev->from > 0 ? ",\"old_state\":\"" : "",
                      ev->from > 0 ? sk_tcp_state_name(ev->from) : "", ev->from > 0 ? "\"" : "",
                      ev->from > 0 ? "tracepoint" : "sock_diag");
    if (k > 0 && (size_t)k < len && l[0])
        k += snprintf(buf + k, len - (size_t)k, ",\"local\":\"%s\"", l);
    if (k > 0 && (size_t)k < len && p[0])
        k += snprintf(buf + k, len - (size_t)k, ",\"peer\":\"%s\"", p);
    if (k > 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, "}");
    return buf;
}

/* sk_trace_states_start's reader thread. */
typedef struct states_reader {
    sk_tcpstate *ts;
    int port;      /* the sockets' own port; 0: none yet */
    int peer_port; /* and their peer's; 0: any */
    pthread_t tid;
    volatile int stop;
} states_reader;

static void *states_main(void *arg)
{
    sk_tracer *t = arg;
    states_reader *sr = t->states;
    sk_state_change c;
    for (;;) {
        /* No port yet: leave the changes in the instance's buffer until
         * it is named (a server's listen happens before it knows it). */
        if (__atomic_load_n(&sr->port, __ATOMIC_RELAXED) == 0 && !__atomic_load_n(&sr->stop, __ATOMIC_ACQUIRE)) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        int rc = sk_tcpstate_next(sr->ts, 20, &c);
        if (rc < 0)
            break;
        if (rc == 0) {
            if (__atomic_load_n(&sr->stop, __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        int port = __atomic_load_n(&sr->port, __ATOMIC_RELAXED);
        int pp = __atomic_load_n(&sr->peer_port, __ATOMIC_RELAXED);
        if (pp && sk_addr_port((const struct sockaddr *)&c.peer.ss) != pp)
            continue;
        if (port == 0 || sk_addr_port((const struct sockaddr *)&c.local.ss) != port)
            continue; /* the peer's socket (a local client's): not this side's */
        TRACE_BEGIN;
        ev.local = c.local;
        ev.peer = c.peer;
        ev.at_us = c.at_us - t->t0_us;
        ev.side = t->side ? t->side : "";
        ev.call = "state";
        ev.fd = -1;
        ev.state = c.to;
        ev.from = c.from;
        t->fn(t->userdata, &ev);
    }
    return NULL;
}

int sk_trace_states_start(sk_tracer *t, uint16_t port)
{
    states_reader *sr = calloc(1, sizeof *sr);
    int rc;
    if (sr == NULL)
        return -ENOMEM;
    if ((rc = sk_tcpstate_open(port, &sr->ts)) < 0) {
        free(sr);
        return rc;
    }
    sr->port = port;
    /* The reader and the caller's threads all read t0 from now on: set it
     * before the first of them starts. */
    if (t->t0_us == 0)
        t->t0_us = sk_now_us();
    t->states = sr;
    if ((rc = pthread_create(&sr->tid, NULL, states_main, t)) != 0) {
        sk_tcpstate_close(sr->ts);
        free(sr);
        t->states = NULL;
        return -rc;
    }
    t->kernel_states = true;
    return 0;
}

void sk_trace_states_port(sk_tracer *t, uint16_t port, uint16_t peer_port)
{
    states_reader *sr = t->states;
    if (sr) {
        __atomic_store_n(&sr->peer_port, peer_port, __ATOMIC_RELAXED);
        __atomic_store_n(&sr->port, port, __ATOMIC_RELAXED);
        sk_tcpstate_port(sr->ts, port);
    }
}

void sk_trace_states_stop(sk_tracer *t)
{
    states_reader *sr = t->states;
    if (sr == NULL)
        return;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};
    nanosleep(&ts, NULL);
    __atomic_store_n(&sr->stop, 1, __ATOMIC_RELEASE);
    pthread_join(sr->tid, NULL);
    sk_tcpstate_close(sr->ts);
    free(sr);
    t->states = NULL;
    /* kernel_states stays: a follower thread may still be reading it. */
}
