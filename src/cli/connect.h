/* sockit connect's modes: the TCP client and the dispatch (cmd_connect.c,
 * on top), listen mode (connect_listen.c), the port scan (connect_scan.c)
 * and the UDP client (connect_udp.c). They share one option parser
 * (connect_opts.c) and the pump that moves stdin to a stream socket and the
 * socket to stdout (connect_pump.c). */
#ifndef SOCKIT_CLI_CONNECT_H
#define SOCKIT_CLI_CONNECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* Ids of connect's long-only options, in both of its tables. */
enum {
    CO_RAW = CLI_LONG,
    CO_BCAST,
    CO_MTTL,
    CO_IF,
    CO_JSON,
    CO_HEXFILE,
    CO_EXPECT,
    CO_DELAY,
    CO_DNS,
    CO_TRACE,
    CO_LINGER,
    CO_HOLD
};

typedef struct connect_opts {
    int64_t timeout_ms; /* -t / -w, or -1 when not given: each mode has its default */
    int resolve_flags;  /* SK_RESOLVE_V4ONLY or SK_RESOLVE_V6ONLY, or 0 */
    bool udp, listen, keep, scan, json, verbose;
    bool raw, broadcast, expect_reply; /* UDP client */
    int multicast_ttl;                 /* -1: the kernel's default */
    int attempt_delay_ms;              /* Happy Eyeballs; 0: the library's 250 ms */
    const char *ifname;
    const char *dns;          /* --dns-server, or NULL */
    struct sk_tracer *tracer; /* --trace: every socket call on stderr, or NULL */
    int linger_s;             /* --linger: SO_LINGER seconds before close, -1: off */
    int64_t hold_ms;          /* --hold: wait this long at stdin's end before the FIN, 0: none */
    FILE *hex;                /* where --hexdump writes (stderr or --hexdump-file), NULL when off */
    char **operands;
    int noperands;
} connect_opts;

/* Parse argv with cmd's table (connect or connect --udp) into o. Returns -1
 * when the command should run, otherwise the exit code to return at once
 * (EXIT_OK after --help, EXIT_USAGE after a usage error, already printed). */
int connect_parse(const cli_command *cmd, int argc, char **argv, connect_opts *o);

struct sk_addr;
/* Resolve the first operand for socktype with -4/-6 and extra_flags. Returns
 * the count, or minus the exit code after printing why. */
int connect_resolve(const connect_opts *o, int socktype, int extra_flags, struct sk_addr *addrs, int max);

struct sk_tracer;
/* The tracer of --trace, its events on stderr (as JSON lines when json). */
struct sk_tracer *connect_tracer(bool json);

/* The address family -4 / -6 ask for, or AF_UNSPEC. */
int connect_family(const connect_opts *o);

/* The timeout a mode uses: -t / -w when given, else its default. */
static inline int connect_timeout(const connect_opts *o, int default_ms)
{
    return o->timeout_ms < 0 ? default_ms : (int)o->timeout_ms;
}

#define CONNECT_IO_CHUNK (64 * 1024)

/* stdin to a connected stream socket and the socket to stdout, at once.
 * stdin_eof outlives one session: under listen -k the next client finds
 * stdin where the last one left it. */
typedef struct connect_pump {
    int sock;
    const char *name; /* for messages: the peer's address */
    /* What the peer's FIN means. false (the client): the server is done, so
     * the session ends even with stdin still open. true (listen mode): the
     * peer only half-closed; stop reading but keep sending stdin to EOF. */
    bool send_after_fin;
    FILE *hex;
    struct sk_tracer *tracer;   /* --trace, or NULL */
    int64_t hold_ms;            /* --hold: wait at stdin's end before the FIN */
    bool close_at_eof;          /* --linger: close at stdin's end (after --hold), no half-close */
    char out[CONNECT_IO_CHUNK]; /* stdin -> socket */
    size_t out_len, out_off;
    char in[CONNECT_IO_CHUNK]; /* socket -> stdout */
    bool stdin_eof, shut, sock_eof;
    uint64_t sent, received;
} connect_pump;

/* Start a session on sock (the pump does not close it). */
void connect_pump_reset(connect_pump *p, int sock, const char *name);

/* Run the session to its end: EXIT_OK, or EXIT_FAIL with the error printed. */
int connect_pump_run(connect_pump *p);

int connect_listen_tcp(const connect_opts *o);
int connect_listen_udp(const connect_opts *o);
int connect_scan(const connect_opts *o);
int connect_udp(const connect_opts *o);

#endif
