/* sockit discover [TYPE]: DNS-SD over multicast DNS on the local link. */
#ifndef SOCKIT_CLI_DISCOVER_MDNS_H
#define SOCKIT_CLI_DISCOVER_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct discover_mdns_opts {
    const char *type;   /* "_echo._tcp", NULL: enumerate the types */
    const char *ifname; /* --interface */
    int family;         /* -4, -6 */
    int64_t timeout_ms; /* how long a listing listens */
    bool watch, json;
    int verbose;
} discover_mdns_opts;

/* Browse and print; returns the exit code. */
int discover_mdns(const discover_mdns_opts *o);

/* An instance's TXT strings as one text ("a=1 b=2") or JSON array, and
 * its addresses ("198.18.0.2, fe80::1%eth0"), for discover and targets. */
void discover_mdns_addr_text(const void *addr, char *out, size_t cap);

#endif
