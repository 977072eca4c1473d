/* Servers: a listening address, a service and a concurrency model. */
#ifndef SOCKIT_SERVER_H
#define SOCKIT_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sockit/service.h>
#include <sockit/tcpinfo.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sk_model {
    SK_MODEL_LOOP,
    SK_MODEL_FORK,
    SK_MODEL_PREFORK,
    SK_MODEL_THREAD,
    SK_MODEL_HYBRID,
} sk_model;

/* Transport: TCP connections, or UDP datagrams (one reply per request,
 * through sk_service.on_datagram; models loop and hybrid). */
typedef enum sk_proto {
    SK_PROTO_TCP,
    SK_PROTO_UDP,
} sk_proto;

/* Model by name ("loop", "fork", ...): >= 0 or -EINVAL. */
int sk_model_parse(const char *name);
const char *sk_model_name(sk_model m);
/* Whether model m runs event loops (loop, prefork, hybrid), the only ones a
 * backend applies to; sk_server_open() refuses a backend for the others. */
bool sk_model_has_loop(sk_model m);

/* What a server tells its owner; the library never prints. */
typedef enum sk_event_kind {
    SK_EV_LISTEN, /* addr: a listening socket is up */
    SK_EV_OPEN,   /* tuple: a connection was accepted */
    SK_EV_CLOSE,  /* tuple, bytes_in, bytes_out: a connection ended */
    SK_EV_REJECT, /* tuple (may be empty), err: refused (max-conns, fd exhaustion) */
    SK_EV_WARN,   /* err, msg: something went wrong but the server goes on */
    SK_EV_STATS,  /* stats: the counters (sk_event_format renders them; the server never sends it) */
    SK_EV_DATA,   /* tuple, dir, data, len, offset: bytes read or sent (only with data_events) */
} sk_event_kind;

/* Which way an SK_EV_DATA chunk went, seen from the server. */
typedef enum sk_data_dir {
    SK_DATA_IN,  /* read from the client */
    SK_DATA_OUT, /* sent to the client */
} sk_data_dir;

typedef struct sk_event {
    sk_event_kind kind;
    const sk_tuple *tuple;
    const sk_addr *addr;
    int err;
    const char *msg;
    uint64_t bytes_in, bytes_out;
    const struct sk_stats *stats;
    /* SK_EV_DATA: the chunk (valid only during the callback), its direction
     * and where it starts in that direction's stream. */
    sk_data_dir dir;
    const void *data;
    size_t len;
    uint64_t offset;
} sk_event;

/* Counters every model keeps the same way. cut: connections still open
 * when the drain timeout passed, closed by the server (each is also
 * reported as an SK_EV_WARN naming it). The overload policies count what
 * they did (docs/reliability.md); every refusal also counts in rejected. */
typedef struct sk_stats {
    uint64_t accepted, active, closed, rejected, bytes_in, bytes_out;
    uint64_t cut;
    uint64_t fd_limit_refused;  /* SK_ON_FD_LIMIT_SPARE_FD: accepted and closed at the fd limit */
    uint64_t fd_limit_paused;   /* times accepting paused at the fd limit */
    uint64_t max_conns_refused; /* SK_ON_MAX_CONNS_REJECT: accepted and closed at max_conns */
    uint64_t max_conns_paused;  /* SK_ON_MAX_CONNS_QUEUE: times accepting stopped at max_conns */
    uint64_t per_ip_refused;    /* refused by max_conns_per_ip */
    uint64_t slow_closed;       /* closed below min_rate_bps (slow readers and writers) */
    uint64_t rate_limited;      /* requests a service refused with sk_server_rate_take (http /stats: 429) */
    /* The kernel's TcpExt ListenOverflows and ListenDrops since the server
     * started: SYNs or handshakes dropped because an accept queue was full.
     * Counted for the whole network namespace, not per listener. */
    uint64_t listen_overflows, listen_drops;
} sk_stats;

/* What the accepting thread does when accept() fails for want of file
 * descriptors (EMFILE, ENFILE). */
typedef enum sk_on_fd_limit {
    SK_ON_FD_LIMIT_SPARE_FD,     /* close the spare fd, accept and close the connection, reopen it */
    SK_ON_FD_LIMIT_PAUSE_ACCEPT, /* stop accepting for a while; the connections wait in the backlog */
} sk_on_fd_limit;

/* What the server does with a new connection while max_conns are open. */
typedef enum sk_on_max_conns {
    SK_ON_MAX_CONNS_REJECT, /* accept it and close it at once */
    SK_ON_MAX_CONNS_QUEUE,  /* stop accepting until a slot frees; it waits in the backlog */
} sk_on_max_conns;

typedef struct sk_server_config {
    const sk_service *service;
    const void *service_config; /* handed to the service via sk_conn_config() */
    const char *listen;         /* address text; NULL means 127.0.0.1:7007 */
    sk_model model;
    const char *backend;  /* event backend for loop/hybrid; NULL picks the best */
    int workers;          /* prefork / hybrid workers; 0 picks the core count */
    int pool;             /* hybrid: threads for sk_conn_defer() work; 0 = workers */
    int backlog;          /* 0 means SOMAXCONN */
    int max_conns;        /* 0 means no limit but the fd limit */
    int idle_timeout_ms;  /* 0 means none */
    int drain_timeout_ms; /* on stop: how long open connections are served, then cut; 0 = 5000 */
    size_t buf_size;      /* per direction, per connection; 0 = 64 KiB */
    void (*on_event)(void *userdata, const sk_event *ev);
    void *userdata;
    sk_proto proto;           /* SK_PROTO_TCP (default) or SK_PROTO_UDP */
    const char *const *joins; /* UDP: NULL-terminated multicast groups "GROUP[@IF]" to join */
    /* TCP: report every chunk read from or sent to a client as SK_EV_DATA
     * (a callback per chunk, for watching the bytes; off, it costs one
     * branch per read and per send). */
    bool data_events;
    /* TCP: trace every socket call of the listeners and connections
     * (trace.h: socket, bind, listen, accept, recv, send, shutdown, close,
     * each with its result, TCP state and 4-tuple), then the states each
     * closed connection is kept in. NULL: off, the plain calls. The
     * tracer's callback is called from every server thread at once. */
    struct sk_tracer *tracer;
    /* Who may connect (TCP) or be answered (UDP): NULL-terminated lists of
     * address blocks ("198.18.0.0/15", "::1"). A peer in a deny block is
     * refused; with an allow list, so is a peer in none of its blocks. A
     * refused TCP client is closed at once, a refused datagram dropped;
     * both count as rejected. NULL: everyone. */
    const char *const *allow, *const *deny;
    /* TCP keepalive on every connection (set on the listeners, which the
     * accepted sockets inherit: no cost per accept): after keepalive_idle_s
     * of silence a probe every keepalive_intvl_s, and after keepalive_cnt
     * unanswered ones the kernel drops the connection, so a peer that
     * vanished (cable, crash, NAT timeout) is found. 0: off. */
    int keepalive_idle_s, keepalive_intvl_s, keepalive_cnt;
    /* Overload policies (docs/reliability.md), each counted in sk_stats. */
    sk_on_fd_limit on_fd_limit;
    sk_on_max_conns on_max_conns;
    /* At most this many connections at once from one peer address (the
     * whole address: an IPv4 one, or an IPv6 one); more are refused. 0: no
     * limit. Counted across every thread and process of the server. */
    int max_conns_per_ip;
    /* A connection with data moving (output queued for the peer, or input
     * arriving) that moves fewer than min_rate_bps bytes a second over a
     * window of min_rate_window_ms is closed: slow readers and slow
     * writers. An idle connection is the idle timeout's. 0: off. */
    uint64_t min_rate_bps;
    int min_rate_window_ms;
    /* TCP: the server closes first, so TIME_WAIT lands on its side: once
     * it has read something and sent all its answer (at once for a
     * service that answers nothing), it shuts down its writing, waits for
     * the client's FIN and closes. */
    bool close_first;
    /* TCP_DEFER_ACCEPT on the listeners: a connection is handed to the
     * server only once the client's first bytes are in, or after about
     * defer_accept_s seconds of silence. For protocols where the client
     * speaks first (HTTP); a server-speaks-first service (daytime, chat's
     * greeting) would greet late. Under the loop models the connection's
     * first bytes are read at accept (with or without it). 0: off. */
    int defer_accept_s;
    /* TCP_FASTOPEN on the listeners, with at most this many connections
     * pending whose SYN carried data (the kernel's net.ipv4.tcp_fastopen
     * must allow the server side, bit 2). 0: off. */
    int fastopen_qlen;
} sk_server_config;

typedef struct sk_server sk_server;

/* Create a server and bind its listening sockets (so the port is known and
 * "address in use" shows up here). Returns 0 and sets *out, or < 0. */
int sk_server_open(const sk_server_config *cfg, sk_server **out);

/* The address the first listener is bound to (port 0 resolved). */
const sk_addr *sk_server_address(const sk_server *s);

/* Every listener's address (a name with both families has two, on the same
 * port even when port 0 was asked for); *n gets the count. */
const sk_addr *sk_server_addresses(const sk_server *s, int *n);

/* The event backend the server uses ("epoll", ...), or "" for models
 * without one. */
const char *sk_server_backend(const sk_server *s);

/* Serve until sk_server_stop(); then drain: stop accepting, call each
 * connection's on_drain, serve every connection until it ends or
 * drain_timeout_ms passes, cut what is left (counted in sk_stats.cut, each
 * reported as SK_EV_WARN, then a total) and return 0, or < 0 on a fatal
 * error. */
int sk_server_run(sk_server *s);

/* Ask a running server to drain and stop. Async-signal-safe: call it from a
 * SIGINT/SIGTERM/SIGHUP handler. */
void sk_server_stop(sk_server *s);

/* A consistent-enough snapshot of the counters (each one is atomic). */
void sk_server_stats(const sk_server *s, sk_stats *out);

/* A server-wide token bucket for requests a service finds expensive (http's
 * /stats): per_sec tokens a second, as many in a burst. Shared by every
 * thread and process of the server. Returns true and takes a token, or
 * false (counted in sk_stats.rate_limited) when the bucket is empty. */
bool sk_server_rate_take(sk_server *s, int per_sec);

/* One live connection as sk_server_conns() sees it. */
typedef struct sk_conn_info {
    sk_tuple tuple;
    int64_t age_ms;
    uint64_t bytes_in, bytes_out;
    /* From TCP_INFO; tcp_state is -1 when the kernel did not answer. */
    int tcp_state; /* TCP_ESTABLISHED, ... (see sk_tcp_state_name) */
    uint32_t rtt_us, rttvar_us;
    uint32_t retransmits; /* segments retransmitted over the connection's life */
    uint32_t snd_cwnd;    /* congestion window, in segments */
} sk_conn_info;

/* The live connection table: fills at most max entries of out (out may be
 * NULL when max is 0) and returns how many connections there are, which
 * may exceed max. Safe from any thread, including a service callback. It
 * sees the connections of every engine in this process: all of them for the
 * loop, thread and hybrid models, only the answering process's own for
 * fork and prefork. */
int sk_server_conns(const sk_server *s, sk_conn_info *out, int max);

/* The same, skipping the first offset connections of the walk (a page of
 * the table); returns the total count. Only the rows filled cost a system
 * call (TCP_INFO) each. */
int sk_server_conns_page(const sk_server *s, int offset, sk_conn_info *out, int max);

void sk_server_free(sk_server *s);

#ifdef __cplusplus
}
#endif

#endif
