/* Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) on the local link, over
 * sockit's own sockets on 224.0.0.251 / ff02::fb port 5353: a querier that
 * browses a service type and resolves each instance to host, port, TXT and
 * addresses, and a responder that probes for, announces, defends and
 * withdraws one service instance. Messages are read and written by the DNS
 * codec (dns.h). Every call returns >= 0 or a negative code. */
#ifndef SOCKIT_MDNS_H
#define SOCKIT_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/dns.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SK_MDNS_PORT 5353
#define SK_MDNS_ADDRS 8 /* addresses kept per instance */
#define SK_MDNS_TXT_MAX 1024
#define SK_MDNS_IFNAME 16 /* IF_NAMESIZE */

/* An address an instance's host answered with, and the interface it came
 * in on (a link-local IPv6 address means nothing without it). */
typedef struct sk_mdns_addr {
    int family; /* AF_INET, AF_INET6 */
    uint8_t addr[16];
    unsigned ifindex;
    char ifname[SK_MDNS_IFNAME];
} sk_mdns_addr;

/* One service instance as the querier knows it. */
typedef struct sk_mdns_instance {
    char name[SK_DNS_NAME_MAX];          /* "sockit\032echo\032on\032a._echo._tcp.local" (presentation form) */
    char instance[SK_DNS_LABEL_MAX + 1]; /* its first label as text: "sockit echo on a" */
    char type[SK_DNS_NAME_MAX];          /* "_echo._tcp" */
    char host[SK_DNS_NAME_MAX];          /* the SRV target: "a.local"; "" until resolved */
    uint16_t port, priority, weight;
    uint8_t txt[SK_MDNS_TXT_MAX]; /* the TXT record's data: length-prefixed strings */
    size_t txt_len;
    sk_mdns_addr addrs[SK_MDNS_ADDRS];
    size_t naddrs;
    unsigned ifindex; /* the interface its PTR answer came in on */
    char ifname[SK_MDNS_IFNAME];
    char from[64]; /* the responder's address ("198.18.0.2") */
    uint32_t ttl;  /* the PTR record's TTL */
    bool resolved; /* SRV and at least one address known */
} sk_mdns_instance;

typedef enum sk_mdns_event_kind {
    SK_MDNS_ADD,    /* an instance resolved for the first time */
    SK_MDNS_UPDATE, /* its SRV, TXT or addresses changed */
    SK_MDNS_REMOVE, /* a goodbye (TTL 0), or its records expired */
    SK_MDNS_TYPE,   /* enumeration: a service type seen on the link */
    SK_MDNS_TYPE_GONE,
    SK_MDNS_BAD, /* a malformed packet was ignored */
} sk_mdns_event_kind;

typedef struct sk_mdns_event {
    sk_mdns_event_kind kind;
    const sk_mdns_instance *in; /* ADD, UPDATE, REMOVE */
    const char *type;           /* TYPE, TYPE_GONE: "_http._tcp" */
    const char *from;           /* BAD: the sender's address */
    int err;                    /* BAD: why (SK_EDNSBAD) */
} sk_mdns_event;

typedef struct sk_mdns_browse_opts {
    const char *type;   /* "_echo._tcp" (".local" may follow); NULL: the types on the link */
    const char *ifname; /* one interface; NULL: every interface up with multicast, not loopback */
    int family;         /* AF_INET, AF_INET6, 0: both */
    bool continuous;    /* keep querying with RFC 6762 5.2's back-off, refresh before expiry */
    void (*on_event)(void *userdata, const sk_mdns_event *ev);
    void *userdata;
} sk_mdns_browse_opts;

typedef struct sk_mdns_browser sk_mdns_browser;

/* Open the sockets (port 5353 shared with any other mDNS stack, the groups
 * joined on each interface) for a browse. Returns 0 with *out set, -ENODEV
 * for an unknown interface, SK_ENOADDR when no interface can multicast,
 * -EINVAL for a malformed type, or a socket error. */
int sk_mdns_browser_new(const sk_mdns_browse_opts *o, sk_mdns_browser **out);

/* Query and report events until timeout_ms passes (< 0: until
 * sk_mdns_browser_stop()). Returns 0 or a loop error. */
int sk_mdns_browser_run(sk_mdns_browser *b, int64_t timeout_ms);

/* Make sk_mdns_browser_run() return. Async-signal-safe. */
void sk_mdns_browser_stop(sk_mdns_browser *b);

/* The instances known now, in the order first seen: returns how many,
 * with *list pointing at them (valid until the next run or free). */
size_t sk_mdns_browser_list(const sk_mdns_browser *b, const sk_mdns_instance **list);

/* Packets read, and those ignored as malformed. */
void sk_mdns_browser_counts(const sk_mdns_browser *b, uint64_t *packets, uint64_t *bad);

void sk_mdns_browser_free(sk_mdns_browser *b);

/* One-shot: the instances of type (or the one instance name, when name has
 * an instance label before the type: "echo._echo._tcp"), browsed for at
 * most timeout_ms, ending early once the named instance resolved or, for a
 * type, 1 s after the first instance resolved. Returns how many resolved
 * instances were written to out[0..max), 0 when none answered. */
int sk_mdns_resolve(const char *name, const char *ifname, int64_t timeout_ms, sk_mdns_instance *out, size_t max);

/* Split "INSTANCE._svc._proto[.local]" or "_svc._proto[.local]" into the
 * instance (unescaped text, "" when none) and the type "_svc._proto".
 * Returns 0, -EINVAL when the text names no DNS-SD type. */
int sk_mdns_name_split(const char *name, char *instance, size_t icap, char *type, size_t tcap);

/* The responder ----------------------------------------------------------- */

typedef enum sk_mdns_resp_kind {
    SK_MDNS_PROBE,    /* probe n of 3 sent */
    SK_MDNS_CONFLICT, /* someone else holds the name: renamed, probing again */
    SK_MDNS_DEFER,    /* lost a simultaneous probe tie-break: probing again in 1 s */
    SK_MDNS_ANNOUNCE, /* announcement n of 2 sent */
    SK_MDNS_ANSWER,   /* a query answered */
    SK_MDNS_GOODBYE,  /* the goodbye (TTL 0) sent */
    SK_MDNS_RESP_BAD, /* a malformed packet ignored */
} sk_mdns_resp_kind;

typedef struct sk_mdns_resp_event {
    sk_mdns_resp_kind kind;
    int n, of;            /* PROBE, ANNOUNCE: n of "of" */
    const char *name;     /* the instance name now (text: "echo (2)") */
    const char *old_name; /* CONFLICT: the name given up (the host label when host is set) */
    bool host_renamed;    /* CONFLICT: the host name was renamed, not the instance */
    const char *host;     /* the host name ("a.local") */
    const char *from;     /* CONFLICT, ANSWER, RESP_BAD: the other side's address */
    bool unicast;         /* ANSWER: sent by unicast (QU bit or legacy query) */
    bool legacy;          /* ANSWER: a legacy unicast query (source port not 5353) */
    int err;
} sk_mdns_resp_event;

typedef struct sk_mdns_responder_opts {
    const char *instance; /* "sockit echo on HOST" (text, up to 63 bytes) */
    const char *type;     /* "_echo._tcp" */
    const char *host;     /* host label; NULL: gethostname()'s first label */
    uint16_t port;
    const char *const *txt; /* "key=value" strings, NULL-terminated; NULL: none */
    const char *ifname;     /* NULL: every interface up with multicast, not loopback */
    int family;             /* 0: both */
    uint32_t host_ttl;      /* SRV, A, AAAA; 0: 120 s */
    uint32_t ttl;           /* PTR, TXT; 0: 4500 s */
    /* Called on the responder's thread. */
    void (*on_event)(void *userdata, const sk_mdns_resp_event *ev);
    void *userdata;
} sk_mdns_responder_opts;

typedef struct sk_mdns_responder sk_mdns_responder;

/* Open the sockets and start probing on a thread of the responder's own
 * (with its own loop, so every server model can have one). Returns 0 with
 * *out set, or the error (-EINVAL for a bad name or TXT, -ENODEV, SK_ENOADDR,
 * socket errors); then no thread runs. */
int sk_mdns_responder_start(const sk_mdns_responder_opts *o, sk_mdns_responder **out);

/* Send the goodbye now and then call done() on the responder's thread
 * (done may be NULL). Async-signal-safe; ignored in any process but the
 * one that started the responder, and after the first call. */
void sk_mdns_responder_withdraw(sk_mdns_responder *r, void (*done)(void));

/* Withdraw if not yet done, wait for the thread and free. */
void sk_mdns_responder_stop(sk_mdns_responder *r);

#ifdef __cplusplus
}
#endif

#endif
