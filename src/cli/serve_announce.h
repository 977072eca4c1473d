/* sockit serve --announce [INSTANCE]: the service on DNS-SD over mDNS while
 * it serves, with a goodbye before the drain. */
#ifndef SOCKIT_CLI_SERVE_ANNOUNCE_H
#define SOCKIT_CLI_SERVE_ANNOUNCE_H

#include <stdbool.h>
#include <stdint.h>

#include <sockit/addr.h>

#define SERVE_TXT_MAX 32

typedef struct serve_ann_opts {
    bool on;              /* --announce */
    const char *instance; /* the operand, or NULL: "sockit SERVICE on HOST" */
    const char *txt[SERVE_TXT_MAX + 1];
    int ntxt;
    const char *ifname; /* --interface */
    int64_t ttl_ms;     /* --announce-ttl, 0: RFC 6762's 120 s / 4500 s */
    int verbose;
    bool json;
} serve_ann_opts;

/* The options, checked before the server opens: EXIT_OK or EXIT_USAGE. */
int serve_announce_check(const serve_ann_opts *o);

/* Start the responder for the server listening on la, serving service over
 * proto ("tcp", "udp"). EXIT_OK, or EXIT_FAIL after printing why. */
int serve_announce_start(const serve_ann_opts *o, const sk_addr *la, const char *service, const char *proto);

/* From the signal handler: send the goodbye, then call withdrawn() on the
 * responder's thread. 0 when a responder takes care of it, -1 when there is
 * none. Async-signal-safe. */
int serve_announce_signal(void (*withdrawn)(void));

/* Say goodbye if not done yet, and end the responder. */
void serve_announce_stop(void);

#endif
