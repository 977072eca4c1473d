/* Inside a server: the connection state machine every model drives, the
 * per-thread engine that owns connections, and the server itself. */
#ifndef SOCKIT_CONN_INT_H
#define SOCKIT_CONN_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/loop.h>
#include <sockit/server.h>

#include "base/buf.h"
#include "base/slab.h"
#include "net/transport.h"

#define SK__MAX_LISTENERS 16
#define SK__LINGER_MS 2000

/* Blocking work a service handed off with sk_conn_defer(). Only the
 * connection's own thread touches c; a pool thread touches work and arg. */
typedef struct sk__job {
    struct sk__job *next;
    struct sk_conn *c; /* NULL once the connection is gone */
    void (*work)(void *arg);
    void (*done)(struct sk_conn *c, void *arg);
    void *arg;
    void *home; /* the completion queue of the connection's thread */
} sk__job;

/* One thread's share of a server: its buffer pool and its connections. A
 * loop thread owns many connections, a thread-per-connection worker one. */
typedef struct sk__engine {
    sk_server *srv;
    const sk__transport *tp; /* how bytes move (the server's, for every connection) */
    sk__bufpool pool;
    /* Where the engine's connections live: slabs of sk_conn plus the
     * service's state when it serves many (loop workers), else one malloc
     * each (conns.size == 0). */
    sk__slab conns;
    struct sk_conn *head; /* every live connection of this engine */
    int nconns;
    int64_t now; /* ms, refreshed by the model at each wakeup */
    bool draining;
    /* An event model holds the bytes its connections move and publishes
     * the sums once per wakeup (sk__engine_publish): a request then costs
     * no atomic add on the server's shared counters, a cache line every
     * thread and process of the server writes. Others add at once. */
    bool holds_counts;
    uint64_t held_in, held_out;
    /* Hand a job to a worker pool; NULL runs deferred work inline. */
    int (*defer)(struct sk__engine *e, sk__job *j);
    void *defer_ctx;
    /* Set by event models: re-evaluate what c waits for after the engine
     * advanced it outside an event (a deadline fired in the sweep). */
    void (*rearm)(struct sk_conn *c);
    /* Set by event models: make the loop wait for events on a service's
     * extra fd (sk_conn_watch; 0 stops). NULL: the model reads c->watch
     * itself before each wait (the single-connection poll loop). */
    int (*watch)(struct sk_conn *c, int fd, int events);
    void *watch_ctx;
    /* Guards head (linking and closing) against sk_server_conns() run from
     * another engine's thread; the owner reads its own list without it. */
    pthread_mutex_t lock;
    struct sk__engine *next_engine; /* the server's registry of engines */
} sk__engine;

enum {
    SK__C_CLOSING = 1 << 0,  /* finish: no more input, flush, then close */
    SK__C_EOF = 1 << 1,      /* the peer sent FIN */
    SK__C_LINGER = 1 << 2,   /* our FIN is out; waiting for the peer's */
    SK__C_DEFERRED = 1 << 3, /* a job is out: no input until it is done */
    SK__C_HELD = 1 << 4,     /* its peer counts in --max-conns-per-ip: given back at close */
};

/* A connection's 4-tuple as it is kept: the IP addresses and ports alone
 * (44 bytes, where an sk_tuple is two sockaddr_storage, 272). The sk_tuple
 * the API hands out is built from it (sk__conn_tuple). IPv6 keeps one
 * scope: a link-local peer is on the interface of the local address. */
typedef struct sk__ctuple {
    uint8_t peer[16], local[16]; /* IPv4: the first 4 bytes */
    uint32_t scope_id;
    uint16_t peer_port, local_port; /* network byte order */
    uint16_t family;                /* AF_INET, AF_INET6; 0: see ext->tuple */
} sk__ctuple;

/* What few connections use, allocated the first time one does: deferred
 * work, extra fds, the whole sk_tuple once asked for by pointer, and the
 * --min-rate window when that limit is on. */
typedef struct sk__conn_ext {
    sk__job *job;    /* the deferred job, while SK__C_DEFERRED */
    sk_tuple *tuple; /* sk_conn_tuple()'s, or the only copy (family 0) */
    void *tp_ctx;    /* the transport's state (none for plain TCP) */
    /* --min-rate (every connection has one then): the window's start and
     * the byte counts at that moment. */
    int64_t rate_from_ms;
    uint64_t rate_in0, rate_out0;
    int nwatch; /* extra fds the service watches (sk_conn_watch) */
    struct {
        int fd, events;
    } watch[SK_CONN_WATCH_MAX];
} sk__conn_ext;

/* Every field here is held by each idle connection (with the service's
 * state after it), so it stays small: what only some connections need is
 * in ext, and the buffers hold storage only while they hold bytes.
 * The fields a request touches come last, next to the service's state,
 * and start on a cache line (connection slabs place objects on lines):
 * with the HTTP service's 32-byte state a request reads and writes two
 * lines of its connection, and an object is three lines, 192 bytes. */
struct sk_conn {
    /* Touched at open and close, by the sweep and by listings. */
    struct sk_conn *prev, *next;
    sk__ctuple tuple;
    /* Touched by every event. */
    sk__engine *eng;
    sk__buf in, out;
    sk__conn_ext *ext; /* NULL until needed */
    int64_t opened_ms, active_ms;
    /* While SK__C_LINGER: when lingering ends. Otherwise 0 or when the
     * service's on_timeout is due (sk_conn_set_timeout). */
    int64_t due_ms;
    uint64_t bytes_in, bytes_out;
    int fd;
    unsigned flags;
    max_align_t state[]; /* the service's conn_state_size bytes */
};
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(offsetof(struct sk_conn, eng) == 64 && offsetof(struct sk_conn, state) == 160,
               "the per-request fields of a connection are its second and third cache lines");
#endif

/* The connection's extra fds (sk_conn_watch), 0 without ext. */
static inline int sk__conn_nwatch(const struct sk_conn *c) { return c->ext ? c->ext->nwatch : 0; }

/* The 4-tuple as an sk_tuple, into t. */
void sk__conn_tuple(const struct sk_conn *c, sk_tuple *t);

/* What every thread and process of a server shares (MAP_SHARED). */
typedef struct sk__shared {
    sk_stats stats;
    pthread_mutex_t lock;        /* process-shared: the rate bucket */
    int64_t bucket_ms;           /* sk_server_rate_take: last refill */
    uint64_t bucket;             /* thousandths of a token */
    uint64_t overflows0, drops0; /* TcpExt counters when the server opened */
} sk__shared;

typedef struct sk__iptab sk__iptab; /* --max-conns-per-ip counts (overload.c) */

/* What sk__conn_drive() leaves the model to do. */
enum { SK__KEEP = 0, SK__DONE = 1 };

struct sk_server {
    sk_server_config cfg;
    int lfds[SK__MAX_LISTENERS];
    sk_addr laddrs[SK__MAX_LISTENERS];
    int nlisteners;
    int stop_fd;                    /* eventfd: readable once stop was asked */
    volatile sig_atomic_t stopping; /* read with SK__STOPPING() */
    sk_stats *stats;                /* in shared, so forked children count too */
    sk__shared *shared;             /* MAP_SHARED */
    sk__iptab *iptab;               /* MAP_SHARED; NULL without max_conns_per_ip */
    const char *backend;
    const sk__transport *transport; /* for every connection accepted */
    size_t buf_size;
    /* Every engine of this process, for sk_server_conns(). Engines of
     * other processes (fork, prefork) are not visible here. */
    pthread_mutex_t engines_lock;
    struct sk__engine *engines;
    /* --allow / --deny, parsed at open. */
    sk_cidr *allow, *deny;
    size_t nallow, ndeny;
    /* Several threads accepting into one fd table (hybrid): every accept
     * and every use of the spare fd they share happens under this lock.
     * NULL when one thread accepts per process. */
    pthread_mutex_t *accept_lock;
};

/* Map the shared state (counters, rate bucket, per-address table) and take
 * the listen-overflow baseline; 0 or -errno. */
int sk__shared_init(sk_server *s);
void sk__shared_free(sk_server *s);

/* Count one more connection from peer against max_conns_per_ip: 1 (no
 * limit, or a peer without an IP address: nothing held), 0 (held: give it
 * back with sk__peer_release), -EBUSY (at the limit) or -ENOSPC (the table
 * is full). */
int sk__peer_take(sk_server *s, const sk_addr *peer);
void sk__peer_release(sk_server *s, const sk_addr *peer);

/* The kernel's TcpExt ListenOverflows and ListenDrops (0 when unknown). */
void sk__netstat_read(uint64_t *overflows, uint64_t *drops);

/* How long accepting pauses at the fd limit, and how often a server
 * queueing at max-conns looks for a free slot (other threads and processes
 * free them without telling this one). */
#define SK__PAUSE_MS 100
#define SK__QUEUE_RECHECK_MS 20

/* Whether the peer may be served (allow / deny). */
bool sk__server_admits(const sk_server *s, const struct sockaddr *peer);

/* Engine -------------------------------------------------------------- */
/* many: the engine serves many connections at once (a loop worker), so
 * they come from slabs rather than one malloc each. */
int sk__engine_init(sk__engine *e, sk_server *srv, uint32_t cached_blocks, bool many);
void sk__engine_destroy(sk__engine *e); /* closes every connection left */

/* sk_server_stats() on a loop's own thread publishes its engine first. */
extern _Thread_local sk__engine *sk__engine_here; /* the event engine this thread runs, if any */

/* In a forked child: forget the parent's engines (copies of another
 * process's state), so sk_server_conns() lists only this process's. */
void sk__server_forget_engines(sk_server *s);

/* Counters, shared by threads and processes. */
#define SK__STAT_ADD(srv, field, n) __atomic_fetch_add(&(srv)->stats->field, (n), __ATOMIC_RELAXED)
#define SK__STAT_SUB(srv, field, n) __atomic_fetch_sub(&(srv)->stats->field, (n), __ATOMIC_RELAXED)

/* Bytes moved by one of e's connections (DIR: in or out): held by an event
 * engine, added at once by the others. */
#define SK__ENGINE_COUNT(e, dir, n)                                                                                    \
    do {                                                                                                               \
        if ((e)->holds_counts)                                                                                         \
            (e)->held_##dir += (n);                                                                                    \
        else                                                                                                           \
            SK__STAT_ADD((e)->srv, bytes_##dir, (n));                                                                  \
    } while (0)

/* The bytes e's connections moved since the last publish, into the
 * server's counters. Only e's own thread calls it. */
static inline void sk__engine_publish(sk__engine *e)
{
    if (e->held_in) {
        SK__STAT_ADD(e->srv, bytes_in, e->held_in);
        e->held_in = 0;
    }
    if (e->held_out) {
        SK__STAT_ADD(e->srv, bytes_out, e->held_out);
        e->held_out = 0;
    }
}

/* Stop was asked (set by a signal handler, read by every thread). */
#define SK__STOPPING(srv) __atomic_load_n(&(srv)->stopping, __ATOMIC_RELAXED)

void sk__server_event(sk_server *s, sk_event_kind kind, const sk_tuple *t, int err, const char *msg);

/* Refuse a connection: close fd (unless < 0: already closed, or none),
 * give back its max_conns_per_ip count (held: the peer sk__server_accept
 * counted, or NULL), count it as rejected and report SK_EV_REJECT with err
 * and why. */
void sk__server_reject(sk_server *s, int fd, const sk_addr *held, int err, const char *why);

/* Refuse at max-conns (SK_ON_MAX_CONNS_REJECT): counted in both rejected
 * and max_conns_refused. */
void sk__server_reject_full(sk_server *s, int fd, const sk_addr *held);

/* Whether max-conns is queued (SK_ON_MAX_CONNS_QUEUE with a limit): at the
 * limit the model stops accepting and the connections wait in the backlog;
 * each such pause is counted with sk__server_queued(). */
bool sk__server_queues(const sk_server *s);
void sk__server_queued(sk_server *s);

/* Run fn on n threads (fn's argument: args + i * stride), every signal
 * blocked in them, and wait for all of them. tids has room for n. If one
 * cannot start, the server is stopped so those that did drain and end.
 * Returns 0 or the -errno of the failed start. */
int sk__server_threads(sk_server *s, int n, void *(*fn)(void *), void *args, size_t stride, pthread_t *tids);

/* Take one of the max-conns slots; false when none is free (refuse). */
bool sk__server_reserve(sk_server *s);

/* Give an unused slot back (the connection could not be opened). */
void sk__server_unreserve(sk_server *s);

/* Accept on a non-blocking listener with the fd-exhaustion fallback: on
 * EMFILE/ENFILE the reserved fd is given up to accept and close the
 * pending connection (SK_ON_FD_LIMIT_SPARE_FD), so the listener does not
 * stay readable forever; under SK_ON_FD_LIMIT_PAUSE_ACCEPT it returns
 * -EMFILE at once and the caller pauses. Refuses peers --allow / --deny
 * and max_conns_per_ip refuse. Returns the fd, -EAGAIN, or another -errno
 * (already counted/reported). held gets the peer counted against
 * max_conns_per_ip (len 0: none), which whoever ends the connection gives
 * back. With s->accept_lock the reserve is shared and used only under it. */
int sk__server_accept(sk_server *s, int lfd, int *reserve_fd, sk_addr *held);

/* The same, and peer gets the client's address as accept4 gave it, which
 * saves the connection a getpeername. */
int sk__server_accept_peer(sk_server *s, int lfd, int *reserve_fd, sk_addr *held, sk_addr *peer);

/* Accepting paused for SK__PAUSE_MS at the fd limit: count it. */
void sk__server_fd_paused(sk_server *s);

/* Open the reserve again if it is gone (a refusal could not take it
 * back); under s->accept_lock when there is one. */
void sk__server_refill(sk_server *s, int *reserve_fd);

/* Connections ----------------------------------------------------------- */

/* Wrap an accepted non-blocking fd: link it into the engine, count it,
 * report SK_EV_OPEN and run on_open. NULL (fd closed) on failure.
 * reserved: the caller holds a max-conns slot (sk__server_reserve), which
 * already counts the connection as active: it is kept, never counted twice
 * (a double count for an instant would make another worker refuse a
 * client with a slot free), and given back on failure. */
sk_conn *sk__conn_open(sk__engine *e, int fd, bool reserved);

/* The same for a connection whose peer was counted against
 * max_conns_per_ip (held, or NULL): given back when it closes. */
sk_conn *sk__conn_open_held(sk__engine *e, int fd, bool reserved, const sk_addr *held);

/* The same with the connection's 4-tuple already known (from accept and
 * the listener's address: no getpeername / getsockname); NULL: ask. */
sk_conn *sk__conn_open_tuple(sk__engine *e, int fd, bool reserved, const sk_addr *held, const sk_tuple *t);

/* Advance the connection after the model saw events (SK_READ/SK_WRITE, or
 * 0 just to run pending work): read, hand input to the service, flush,
 * finish. Returns SK__KEEP or SK__DONE (call sk__conn_free). */
int sk__conn_drive(sk_conn *c, int events);

/* The events the connection waits for now (SK_READ | SK_WRITE). */
int sk__conn_interest(const sk_conn *c);

/* A service's extra fd fired: run on_watch. Returns SK__KEEP or SK__DONE
 * (call sk__conn_free); after SK__KEEP drive the connection with 0 events. */
int sk__conn_watched(sk_conn *c, int fd, int events);

/* Ask the connection to finish: flush, FIN, linger (a service deadline
 * without on_timeout). A drain does not: it serves each connection until
 * it ends or the drain timeout cuts it. */
void sk__conn_finish(sk_conn *c);

/* The drain starts: let the service end c where nothing read is lost
 * (on_drain), then advance it. Returns SK__KEEP or SK__DONE (call
 * sk__conn_free). */
int sk__conn_drain(sk_conn *c);

/* Run on_close, close the fd, count and report. */
void sk__conn_free(sk_conn *c);

/* The drain timeout passed with c still open: offer what was read to the
 * service one last time, send what the socket takes now, half-close, and
 * count and report the cut (SK_EV_WARN naming c and what stayed unsent).
 * A connection already lingering (its output all sent, our FIN out) is not
 * cut. The caller then frees c (sk__conn_free). */
void sk__conn_cut(sk_conn *c);

/* On the connection's own thread, after j->work ran: clear the deferral and
 * call done. Frees j. Returns the connection, which the model must then
 * drive with 0 events, or NULL when it closed meanwhile. */
sk_conn *sk__job_complete(sk__job *j);

/* Per-engine periodic check: idle timeout, linger and drain deadlines, and
 * service deadlines (sk_conn_set_timeout): those run on_timeout and advance
 * the connection, then call e->rearm (if set) so the model waits for what
 * it needs next. Calls done(c) for each connection that must be closed now.
 * Models call it at least every 500 ms; deadlines are that coarse. */
void sk__engine_sweep(sk__engine *e, void (*done)(sk_conn *c, void *arg), void *arg);

/* When c's min_rate window ends (0: no min_rate). */
int64_t sk__conn_rate_due(const sk_conn *c);

#endif
