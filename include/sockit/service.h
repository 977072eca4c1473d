/* Services: the callbacks a protocol implements once and every server model
 * drives unchanged. A callback never blocks and never learns the model. */
#ifndef SOCKIT_SERVICE_H
#define SOCKIT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sockit/loop.h>
#include <sockit/sock.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sk_conn sk_conn;
typedef struct sk_server sk_server;

/* One request datagram, as a UDP server hands it to on_datagram. Every
 * pointer is valid only during the call. */
typedef struct sk_datagram {
    const void *data;
    size_t len;
    const struct sockaddr *peer; /* who sent it (where the reply goes) */
    socklen_t peer_len;
    bool to_group; /* sent to a broadcast or multicast address, not to us alone */
} sk_datagram;

/* An option a service takes from whoever runs it: `sockit serve --NAME
 * VALUE` lists it in serve --help and in the man page under the service's
 * name, and hands the text to set(). A service's options fill its
 * configuration, which the server is then given as service_config. */
typedef struct sk_service_option {
    const char *name;  /* long option without "--" ("body-size"); unique among
                        * every built-in service's options and serve's own */
    const char *arg;   /* the value's name in help: "N", "S" */
    const char *help;  /* what it does and its default; lines separated by '\n' */
    const char *wants; /* a valid value, for the error "--NAME wants WANTS, not
                        * 'TEXT'": "seconds", "0 to 1099511627776 bytes" */
    /* Parse text into config (config_size bytes, prepared by config_init).
     * Returns 0, or -EINVAL for text it refuses, leaving config unchanged.
     * Never prints, never exits. Required. */
    int (*set)(void *config, const char *text);
    /* This option is what the service is about (--exec CMD): given without
     * --service it chooses the service, and the service cannot run without
     * it. */
    bool selects;
} sk_service_option;

typedef struct sk_service {
    const char *name;
    const char *summary;    /* one line for --help */
    size_t conn_state_size; /* per-connection state, zeroed before on_open */

    /* The connection is up. May queue a greeting (daytime, chargen).
     * Returns 0, or < 0 to drop the connection at once. Optional. */
    int (*on_open)(sk_conn *c);

    /* Bytes arrived. Consume a prefix and return its length (0..len); what
     * is not consumed is offered again, with more bytes after it, once there
     * is room to write or more input. Returns < 0 to drop the connection at
     * once (use sk_conn_close() to close politely after queued output). */
    int (*on_data)(sk_conn *c, const void *buf, size_t len);

    /* The output buffer drained below half after backpressure: queue more
     * (chargen). Returns 0 or < 0 to drop. Optional. */
    int (*on_writable)(sk_conn *c);

    /* The peer half-closed (FIN). Return 0 to finish (flush queued output,
     * then close) or 1 to keep the connection open for output. Optional:
     * without it the connection finishes. */
    int (*on_eof)(sk_conn *c);

    /* The connection is gone; release what on_open took. Optional. */
    void (*on_close)(sk_conn *c);

    /* UDP: one request datagram arrived (d->len bytes, possibly 0, from
     * d->peer). Write at most one reply into reply (cap bytes: the largest
     * payload of the peer's family, SK_UDP_MAX_PAYLOAD or, for IPv6,
     * SK_UDP_MAX_PAYLOAD6) and return its length (0 sends an empty datagram),
     * or < 0 for no reply (counted as rejected); the reply goes to d->peer from the address the
     * request was sent to. config is the server's service_config. Never
     * blocks. Optional: a service without it is served over TCP only. */
    int (*on_datagram)(const sk_datagram *d, void *reply, size_t cap, const void *config);
    /* The deadline set with sk_conn_set_timeout() passed (checked about
     * every 500 ms by every model; never once the connection is finishing
     * after sk_conn_close()). May queue a last answer and call
     * sk_conn_close(). Returns 0, or < 0 to drop at once. Optional: without
     * it the connection finishes. */
    int (*on_timeout)(sk_conn *c);

    /* Configuration. Optional: a service with config_size 0 gets no
     * service_config from the CLI. */
    const sk_service_option *options; /* ends with a NULL name; NULL: none */
    size_t config_size;               /* bytes of the struct the options fill
                                       * (sk_http_config for http) */
    /* Set the defaults into config (config_size bytes) before any option
     * is applied. Optional: without it config starts zeroed. */
    void (*config_init)(void *config);

    /* An fd the service watches with sk_conn_watch() (a child's socket, an
     * eventfd) is ready for events (SK_READ | SK_WRITE; errors and hangups
     * come as both). Runs on the connection's own thread, like on_data;
     * afterwards the connection is advanced as after on_data (queued output
     * flushed, input waiting for the service offered again). Returns 0, or
     * < 0 to drop the connection at once. Required to use sk_conn_watch(). */
    int (*on_watch)(sk_conn *c, int fd, int events);

    /* Connections of this service reach each other (chat): they must all
     * live in one process. sk_server_open() refuses the fork and prefork
     * models for it with SK_EONEPROCESS, since processes share no memory. */
    bool one_process;

    /* The server started to drain (SIGTERM, SIGHUP): it accepts no more and
     * serves every connection until it ends or the drain timeout cuts it.
     * Called once per open connection, on its own thread, when the drain
     * starts. A service whose connections do not end by themselves ends
     * them at a point where nothing read is lost: http closes an idle
     * keep-alive connection at once and answers a request in progress with
     * "Connection: close"; chargen ends its stream. Returns 0, or < 0 to
     * drop at once. Optional: without it the client decides when its
     * connection ends (echo and discard serve until the client's FIN). */
    int (*on_drain)(sk_conn *c);

    /* The smallest per-direction connection buffer the service works with:
     * what it must hold at once (http: the largest request head it accepts,
     * and its answer). sk_server_open() refuses a smaller buf_size with
     * SK_EBUFSMALL. 0: any. */
    size_t min_buf_size;

    /* Connections of this service run with TCP_NODELAY (answers written
     * whole, which Nagle could only delay). Set once on the listening
     * sockets, which every accepted connection inherits: no call per
     * connection. */
    bool nodelay;
} sk_service;

/* Queue len bytes for the peer. All or nothing: returns 0 when queued,
 * -ENOBUFS when they do not fit in the bounded output buffer (check
 * sk_conn_room() first), -EPIPE after sk_conn_close(). */
int sk_conn_write(sk_conn *c, const void *buf, size_t len);

/* Bytes sk_conn_write() would accept now. */
size_t sk_conn_room(const sk_conn *c);

/* Finish: stop reading, flush what is queued, half-close, then close. */
void sk_conn_close(sk_conn *c);

/* Run work(arg) away from the connection's event loop, then done(c, arg)
 * back on the connection's own thread, where done may write, close or defer
 * again. Under the hybrid model work runs on the worker pool (--pool); the
 * other models run work and done inline (their thread or process serves one
 * connection, or accepts the cost). While work runs the connection reads no
 * input; queued output still flows. If the connection closes meanwhile,
 * done runs with c == NULL so arg can be freed. Returns 0, -EBUSY when a
 * job is already out for c, or -ENOMEM; on failure neither callback runs. */
int sk_conn_defer(sk_conn *c, void (*work)(void *arg), void (*done)(sk_conn *c, void *arg), void *arg);

/* At most this many fds per connection for sk_conn_watch(). */
#define SK_CONN_WATCH_MAX 2

/* Wait for events (SK_READ | SK_WRITE) on fd, besides the connection's own
 * socket, on the connection's own thread: every model then calls the
 * service's on_watch(c, fd, events) when fd is ready. Calling it again for
 * the same fd replaces its events; events 0 stops watching it. fd must be
 * non-blocking and stays the service's: the watch ends by itself before
 * on_close, where the service closes it. Use it for what a connection
 * relays to or from (a child process, another connection's queue), never
 * for the socket itself. Returns 0, -ENOSPC beyond SK_CONN_WATCH_MAX fds,
 * -EINVAL without on_watch, or the event backend's error (select cannot
 * watch fds >= FD_SETSIZE). */
int sk_conn_watch(sk_conn *c, int fd, int events);

/* The service's per-connection state (conn_state_size bytes). */
void *sk_conn_state(sk_conn *c);

/* The service configuration the server was given (may be NULL). */
const void *sk_conn_config(const sk_conn *c);

/* The connection's 4-tuple. */
const sk_tuple *sk_conn_tuple(const sk_conn *c);

/* The socket, for read-only queries such as TCP_INFO. Never read or write
 * it directly: the model owns it. */
int sk_conn_fd(const sk_conn *c);

/* The server the connection belongs to (for sk_server_stats() and
 * sk_server_conns()). */
sk_server *sk_conn_server(const sk_conn *c);

/* Call on_timeout once ms milliseconds from now (the model's clock at the
 * current event); replaces any earlier deadline. ms <= 0 cancels. */
void sk_conn_set_timeout(sk_conn *c, int64_t ms);

/* Built-in services, by name ("echo", "discard", "chargen", "daytime", ...).
 * Returns NULL when unknown. */
const sk_service *sk_service_find(const char *name);

/* The NULL-terminated list of built-in services. */
const sk_service *const *sk_service_list(void);

#ifdef __cplusplus
}
#endif

#endif
