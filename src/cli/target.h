/* The servers a client's operand names: one host:port, or every target
 * of a DNS SRV name (srv:NAME, or _service._proto.domain written bare) in
 * the order RFC 2782 says to try them, or the instances registered in etcd
 * (etcd://HOST:PORT/PREFIX) in a weighted random order, or the DNS-SD
 * instances on the link (mdns:NAME._svc._tcp, mdns:_svc._tcp) found over
 * multicast DNS. connect, connect --udp and bench
 * take their operand through here, and dial each server with Happy
 * Eyeballs (sk_dial). */
#ifndef SOCKIT_CLI_TARGET_H
#define SOCKIT_CLI_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/addr.h>
#include <sockit/dial.h>

#define CLI_TARGETS_MAX 32
#define CLI_TARGET_ADDRS 8

typedef struct cli_target {
    const char *text; /* the operand as given */
    const char *srv;  /* the SRV name, or NULL */
    const char *etcd; /* the etcd:// URL or the mdns: name, or NULL */
    bool many;        /* an SRV name or a registry: servers, not one host:port */
    sk_endpoint ep[CLI_TARGETS_MAX];
    size_t n;
    /* An mDNS instance's every address (ep[i].host is the first): connect
     * races them all, as it races a name's. naddrs[i] 0: dial ep[i].host. */
    sk_addr addrs[CLI_TARGETS_MAX][CLI_TARGET_ADDRS];
    uint8_t naddrs[CLI_TARGETS_MAX];
} cli_target;

/* What every client passes down: where to ask DNS, how long to wait, and
 * whether to say each step on stderr. */
typedef struct cli_target_opts {
    const char *cmd;   /* for messages: "connect", "bench" */
    const char *proto; /* "tcp" or "udp": the services database's protocol */
    const char *dns;   /* --dns-server, or NULL */
    int64_t timeout_ms;
    bool verbose;
} cli_target_opts;

/* Find the servers text names. Returns -1 with t filled, or the exit code
 * after printing why: EXIT_USAGE for malformed text, EXIT_FAIL when DNS
 * says there is no such service or does not answer. */
int cli_target_find(const cli_target_opts *o, const char *text, cli_target *t);

/* "host:port", "[v6]:port": an endpoint as text. Returns buf. */
char *cli_endpoint_format(const sk_endpoint *e, char *buf, size_t len);

/* A dial's -v timeline on stderr ("+0 ms AAAA localhost: 1 address",
 * "+0 ms connect [::1]:7", "+250 ms connect 127.0.0.1:7", "+251 ms
 * 127.0.0.1:7 won"); userdata is the host name being dialled. */
void cli_dial_step(void *host, const sk_dial_event *ev);

/* Whether err came from finding addresses (not from connecting). */
bool cli_lookup_error(int err);

#endif
