/* sockit lifecycle's parts: the scenarios (lifecycle_scenarios.c), the run
 * that collects both sides' events and the wire's (lifecycle_run.c), and
 * the printing and the checks. */
#ifndef SOCKIT_CLI_LIFECYCLE_H
#define SOCKIT_CLI_LIFECYCLE_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include <sockit/capture.h>
#include <sockit/tcpstate.h>
#include <sockit/trace.h>

/* One thing that happened: a side's call or state, or a segment. */
typedef struct lc_event {
    int64_t at_us;
    unsigned n;          /* the order it was recorded in: ties keep it */
    char side;           /* 'c' client, 's' server, 'w' wire */
    sk_trace_event call; /* c, s */
    sk_segment seg;      /* w */
} lc_event;

#define LC_EVENTS_MAX 512

typedef struct lc_run lc_run;

/* A scenario: the two sides as functions, and what it expects. Each side
 * gets the run (for its tracer and the address) and reports through it. */
typedef struct lc_scenario {
    const char *name, *about;
    int (*server)(lc_run *r); /* NULL: no server thread (refused) */
    int (*client)(lc_run *r);
    int backlog;
    /* Expected: the states each side must pass through in this order (a
     * subsequence of what was seen), and states it must never be in. */
    const char *client_states, *server_states; /* "ESTABLISHED,FIN_WAIT2,TIME_WAIT" */
    const char *client_never, *server_never;
    /* With the tracepoint, which sees every change (CLOSING lasts
     * microseconds): these instead of client_states, server_states. */
    const char *client_states_tp, *server_states_tp;
    /* With --packets: flags that must appear in this order ("S,SA,A,F,F"),
     * and flags that must not ("R"). Directions are not checked here. */
    const char *flags, *flags_never;
    /* Errors that must be seen, in order: "c:ECONNREFUSED", "s:ECONNRESET". */
    const char *errors;
    bool check_overflow; /* ListenOverflows must grow */
    /* When the outcome depends on timing the scenario cannot force (two
     * FINs crossing): run again up to this many times, each failed
     * attempt reported. 0: once. */
    int attempts;
    bool own_server; /* needs sockit's own server (not against ADDR) */
} lc_scenario;

extern const lc_scenario lc_scenarios[];

struct lc_run {
    const lc_scenario *sc;
    bool packets, json;
    sk_tracer client, server;
    int64_t t0;
    sk_addr addr;       /* the server's */
    const char *target; /* ADDR as given: an external server, only the client runs */
    sk_addr cli_local;  /* the client's address once it connected (for the watcher) */
    int cli_known;
    int watch_ready;  /* against ADDR: the watcher has looked once since */
    bool server_seen; /* against ADDR: its socket was in this host's table */
    int lfd;          /* its listener, opened before the sides start */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int step;              /* for sides that wait on each other */
    int barrier;           /* lc_barrier's count */
    cpu_set_t affinity[2]; /* each side's, kept while lc_barrier pins it */
    sk_tcpstate *tp;       /* the tracepoint's state changes, or NULL (sock_diag only) */
    lc_event ev[LC_EVENTS_MAX];
    size_t nev;
    uint64_t overflows_before;
};

/* Side helpers for the scenarios. */
void lc_signal(lc_run *r, int step);
void lc_wait(lc_run *r, int step);
/* Both sides leave it at the same moment (each spins until the other has
 * arrived, up to 2 s), for calls that must overlap in time; side 0 is the
 * client, 1 the server. lc_barrier_done() after the call. */
void lc_barrier(lc_run *r, int side);
void lc_barrier_done(lc_run *r, int side);

int lc_run_scenario(lc_run *r);

#endif
