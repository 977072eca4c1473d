/* sockit serve --register: the server's key in etcd while it serves. */
#ifndef SOCKIT_CLI_SERVE_REGISTER_H
#define SOCKIT_CLI_SERVE_REGISTER_H

#include <stdint.h>

#include <sockit/addr.h>

typedef struct serve_reg_opts {
    const char *url;  /* etcd://HOST:PORT/PREFIX, NULL: no registration */
    int64_t ttl_ms;   /* --register-ttl, default 10 s */
    long weight;      /* --register-weight, default 1 */
    const char *addr; /* --register-addr, NULL: the listening address */
    int verbose;
} serve_reg_opts;

/* The options, checked before the server opens: EXIT_OK, or EXIT_USAGE
 * after printing the usage error. */
int serve_register_check(const serve_reg_opts *o);

/* Register the server listening on la (its first address) and serving
 * service under model; withdrawn() is called (on another thread) once the
 * key is deleted after serve_register_signal(). EXIT_OK, or EXIT_FAIL after
 * printing why (etcd unreachable: one line). */
int serve_register_start(const serve_reg_opts *o, const sk_addr *la, const char *service, const char *model,
                         void (*withdrawn)(void));

/* From the signal handler: delete the key now, then call withdrawn().
 * Returns 0 when a registration takes care of it, -1 when there is none
 * (the caller stops the server itself). Async-signal-safe. */
int serve_register_signal(void);

/* Delete the key if still there, and end the registration. */
void serve_register_stop(void);

#endif
