/* Load generator: many non-blocking client connections spread over threads,
 * each thread running its own sk_loop, measuring request latency into a
 * histogram. No allocation per request: everything is sized at start. */
#ifndef SOCKIT_BENCH_H
#define SOCKIT_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>
#include <sockit/hist.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sk_bench_proto {
    SK_BENCH_ECHO,    /* send size bytes, wait for the same number back */
    SK_BENCH_HTTP,    /* GET path, parse status line, headers, body */
    SK_BENCH_DISCARD, /* send size bytes; a request ends when written */
    SK_BENCH_UDP,     /* echo over UDP: a datagram of size bytes (>= 16)
                         carrying a sequence number, answered by the same
                         datagram; unanswered within the timeout: lost */
} sk_bench_proto;

/* Smallest UDP datagram: sequence number, slot and the run's tag. */
#define SK_BENCH_UDP_MIN 16

/* Protocol by name ("echo", "http", "discard", "udp"): >= 0 or -EINVAL. */
int sk_bench_proto_parse(const char *name);
const char *sk_bench_proto_name(sk_bench_proto p);

typedef struct sk_bench_counts {
    uint64_t requests; /* completed within the run */
    uint64_t bytes_in, bytes_out;
    uint64_t connects; /* successful connection setups */
    uint64_t err_connect, err_read, err_write, err_timeout, err_status;
    /* UDP: datagrams sent, not answered within the timeout (or refused),
     * and answers that came after their datagram was counted lost (or
     * twice). After a run, sent == requests + lost. */
    uint64_t dgrams_sent, dgrams_lost, dgrams_late;
} sk_bench_counts;

/* Most servers one run spreads its connections over. */
#define SK_BENCH_TARGETS_MAX 32

typedef struct sk_bench_config {
    sk_addr addr; /* the server, when ntargets is 0 */
    /* Several servers: connection k goes to targets[i] for target_conns[i]
     * of the connections (they must add up to conns), interleaved so each
     * thread gets its share of every server. */
    const sk_addr *targets;
    const int *target_conns;
    size_t ntargets; /* 0, or 1 to SK_BENCH_TARGETS_MAX */
    sk_bench_proto proto;
    int conns;    /* >= 1 */
    int threads;  /* >= 1; more than conns is cut to conns */
    int pipeline; /* requests in flight per connection, >= 1 */
    int64_t duration_ms;
    int64_t timeout_ms; /* per request and per connect; 0 = 5000 */
    size_t size;        /* echo/discard message bytes */
    const char *path;   /* HTTP request target; NULL = "/" */
    const char *host;   /* HTTP Host header; NULL = "localhost" */
    double rate;        /* total requests/s; 0 = as fast as possible. With a
                           rate, latency runs from each request's intended
                           send time (coordinated-omission correction). */
    int busy_poll_us;   /* poll without sleeping for up to this long before
                           each wait (0 = sleep at once): a server answering
                           within it never has to wake the client thread */
    bool new_conn;      /* one request per connection: closed after its
                           answer and connected anew (HTTP asks for
                           Connection: close); pipeline must be 1 */
    bool fastopen;      /* TCP Fast Open (TCP_FASTOPEN_CONNECT): after the
                           first connection to a server has its cookie,
                           each request goes out in the SYN */
    int64_t idle_ms;    /* > 0: hold the connections, each sending one
                           request every idle_ms (evenly spread); rate
                           must be 0. The result says the longest gap. */
    /* Bind each connection to a source address: source_count consecutive
     * IPv4 addresses from *source (connection k takes the (k mod
     * source_count)-th; an IPv6 source only with a count of 1). The port
     * is left to connect (IP_BIND_ADDRESS_NO_PORT), so each 4-tuple, not
     * each source address, needs its own ephemeral port. */
    const sk_addr *source;
    uint32_t source_count;
    int connect_window;    /* connects in flight per thread while the
                              connections first open; 0 = 256 */
    uint64_t requests_max; /* > 0: send this many requests in all (split
                              over the threads by connection count) and
                              end once each is answered, failed or lost */
    /* Called about once a second from the caller's thread with the totals
     * so far. Optional. */
    void (*on_progress)(void *userdata, const sk_bench_counts *sofar, int64_t elapsed_ms);
    void *userdata;
    /* Set (for example from a SIGINT handler) to end the run early. */
    const volatile sig_atomic_t *stop;
} sk_bench_config;

typedef struct sk_bench_result {
    sk_bench_counts n;
    int64_t elapsed_ms;
    int last_connect_err;                           /* -errno of the last failed connect, 0 if none */
    uint64_t target_requests[SK_BENCH_TARGETS_MAX]; /* requests completed per target */
    sk_hist latency;                                /* microseconds */
    sk_hist connect_latency;                        /* connect() to established, microseconds */
    int64_t established_ms;                         /* when every connection had been open once; -1: never */
    int64_t max_gap_ms;                             /* idle_ms: the longest any connection went
                                                       without a completed request (from the start,
                                                       and to the end) */
    uint64_t open_at_end;                           /* connections open when the run ended */
} sk_bench_result;

/* Largest latency the histogram keeps apart (1 hour, in microseconds). */
#define SK_BENCH_HIST_MAX (UINT64_C(3600) * 1000000)

/* Run the load for cfg->duration_ms (or until *cfg->stop, or until every
 * connection failed its first connect without any succeeding). Fills out;
 * free it with sk_bench_result_free. Returns 0 (look at out->n for errors)
 * or < 0 when the run could not start (-EINVAL, -ENOMEM, thread errors). */
int sk_bench_run(const sk_bench_config *cfg, sk_bench_result *out);

/* The part of total that the first upto of `of` items get when total is
 * split by item count: share(total, k + n, of) - share(total, k, of) is
 * the share of items k .. k+n-1, and the shares add up to total. */
uint64_t sk_bench_share(uint64_t total, uint64_t upto, uint64_t of);
void sk_bench_result_free(sk_bench_result *r);

#ifdef __cplusplus
}
#endif

#endif
