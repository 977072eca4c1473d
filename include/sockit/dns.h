/* DNS messages: the answer section of a response, parsed into records
 * (A, AAAA, CNAME, PTR, TXT, SRV; others kept as raw data), and reverse
 * names for PTR lookups. Pure functions over the caller's bytes. */
#ifndef SOCKIT_DNS_H
#define SOCKIT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A name in presentation form, without the trailing dot ("." is the root),
 * with its NUL. Wire names are at most 255 bytes; one whose escaped form
 * does not fit is refused as malformed. */
#define SK_DNS_NAME_MAX 256

/* Record types and response codes sockit knows by name. */
enum { SK_DNS_A = 1, SK_DNS_CNAME = 5, SK_DNS_PTR = 12, SK_DNS_TXT = 16, SK_DNS_AAAA = 28, SK_DNS_SRV = 33 };
enum { SK_DNS_NOERROR = 0, SK_DNS_FORMERR = 1, SK_DNS_SERVFAIL = 2, SK_DNS_NXDOMAIN = 3, SK_DNS_REFUSED = 5 };

/* One resource record of the answer section. */
typedef struct sk_dns_rr {
    uint16_t type, rclass;
    uint32_t ttl;
    char name[SK_DNS_NAME_MAX];   /* owner name */
    uint8_t addr[16];             /* A: 4 bytes, AAAA: 16 */
    uint16_t priority, weight;    /* SRV */
    uint16_t port;                /* SRV */
    char target[SK_DNS_NAME_MAX]; /* SRV target, PTR and CNAME name */
    const uint8_t *rdata;         /* the record's data in the caller's message (TXT strings, any type) */
    uint16_t rdlen;
} sk_dns_rr;

/* What the header says. */
typedef struct sk_dns_header {
    uint16_t id;
    int rcode;      /* SK_DNS_NOERROR, SK_DNS_NXDOMAIN, ... */
    bool truncated; /* TC: the answer did not fit a UDP datagram */
    bool response;  /* QR */
    uint16_t qdcount, ancount, nscount, arcount;
} sk_dns_header;

/* Parse the response msg[0..len): its header into *h (may be NULL), and its
 * answer records into out[0..max). The whole answer section is checked
 * even past max. Names are decompressed into the records; rdata points
 * into msg, so it lives as long as msg does. Returns the number of answer
 * records (which may exceed max: only max are stored), or SK_EDNSBAD for a
 * malformed message (short, bad name, compression loop, rdata that does
 * not match its type). */
int sk_dns_parse(const uint8_t *msg, size_t len, sk_dns_header *h, sk_dns_rr *out, size_t max);

/* The character-strings of a TXT record, one a call: *off starts at 0.
 * Returns 1 with *s and *len set, 0 after the last, SK_EDNSBAD when a
 * length runs past the data. */
int sk_dns_txt_next(const sk_dns_rr *rr, size_t *off, const uint8_t **s, size_t *len);

/* The name a PTR lookup asks for an address text: "1.2.0.192.in-addr.arpa"
 * for 192.0.2.1, nibbles under "ip6.arpa" for IPv6. Returns the length
 * written (NUL excluded), -EINVAL when ip is no address, -ENOSPC when cap
 * is too small (SK_DNS_NAME_MAX always suffices). */
int sk_dns_reverse_name(const char *ip, char *out, size_t cap);

/* The type's name ("SRV"), or NULL for types sockit does not name. */
const char *sk_dns_type_name(int type);

/* The type for a name, case-insensitively ("srv" -> SK_DNS_SRV), or -1. */
int sk_dns_type_of(const char *name);

#ifdef __cplusplus
}
#endif

#endif
