/* DNS messages: read whole (header, questions, answer, authority and
 * additional records: A, AAAA, CNAME, PTR, TXT, SRV, NSEC typed, others kept
 * as raw data) and written with name compression, with the multicast DNS
 * bits (RFC 6762: cache-flush, unicast-response); reverse names for PTR
 * lookups. Pure functions over the caller's bytes. */
#ifndef SOCKIT_DNS_H
#define SOCKIT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A name in presentation form, without the trailing dot ("." is the root),
 * with its NUL: '.' and '\\' inside a label are escaped with a backslash,
 * bytes outside printable ASCII (space included) as \DDD. Wire names are at
 * most 255 bytes, so even a name of nothing but escaped bytes fits. */
#define SK_DNS_NAME_MAX 1024

/* A label's raw bytes: at most 63. */
#define SK_DNS_LABEL_MAX 63

/* Record types and response codes sockit knows by name. */
enum {
    SK_DNS_A = 1,
    SK_DNS_CNAME = 5,
    SK_DNS_PTR = 12,
    SK_DNS_TXT = 16,
    SK_DNS_AAAA = 28,
    SK_DNS_SRV = 33,
    SK_DNS_NSEC = 47,
    SK_DNS_ANY = 255
};
enum { SK_DNS_CLASS_IN = 1 };
/* The sections a record can come in (sk_dns_rr.section). */
enum { SK_DNS_ANSWER = 1, SK_DNS_AUTHORITY = 2, SK_DNS_ADDITIONAL = 3 };
/* Header flags (the 16 bits after the id) a writer sets. */
enum { SK_DNS_F_QR = 0x8000, SK_DNS_F_AA = 0x0400, SK_DNS_F_TC = 0x0200, SK_DNS_F_RD = 0x0100 };
enum { SK_DNS_NOERROR = 0, SK_DNS_FORMERR = 1, SK_DNS_SERVFAIL = 2, SK_DNS_NXDOMAIN = 3, SK_DNS_REFUSED = 5 };

/* One resource record. rclass has the top bit cleared: in multicast DNS
 * that bit is the cache-flush flag of a unique record (RFC 6762 10.2). */
typedef struct sk_dns_rr {
    uint16_t type, rclass;
    bool cache_flush; /* the class's top bit */
    uint8_t section;  /* SK_DNS_ANSWER, _AUTHORITY, _ADDITIONAL (sk_dns_read) */
    uint32_t ttl;
    char name[SK_DNS_NAME_MAX];   /* owner name */
    uint8_t addr[16];             /* A: 4 bytes, AAAA: 16 */
    uint16_t priority, weight;    /* SRV */
    uint16_t port;                /* SRV */
    char target[SK_DNS_NAME_MAX]; /* SRV target, PTR and CNAME name, NSEC next name */
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
    uint16_t flags; /* the raw 16 bits after the id (SK_DNS_F_*, opcode, rcode) */
    int opcode;     /* 0: a standard query */
} sk_dns_header;

/* One question. qclass has the top bit cleared: in multicast DNS that bit
 * asks for a unicast response (the "QU" bit, RFC 6762 5.4). */
typedef struct sk_dns_question {
    char name[SK_DNS_NAME_MAX];
    uint16_t type, qclass;
    bool unicast;
} sk_dns_question;

/* Read the whole message msg[0..len): the header into *h (may be NULL), its
 * questions into q[0..qmax) (h->qdcount of them; only qmax are stored), and
 * the records of the answer, authority and additional sections, in that
 * order, into rr[0..rrmax), each with its section. Everything is checked,
 * even what is not stored: names (labels of at most 63 bytes, at most 255
 * bytes in all, compression pointers only backwards, so no loop), lengths,
 * and each known type's data (NSEC's type bitmap too). Returns the number
 * of records (which may exceed rrmax) or SK_EDNSBAD; rdata points into msg.
 * Any input returns in time linear in len. */
int sk_dns_read(const uint8_t *msg, size_t len, sk_dns_header *h, sk_dns_question *q, size_t qmax, sk_dns_rr *rr,
                size_t rrmax);

/* Parse the response msg[0..len): its header into *h (may be NULL), and its
 * answer records into out[0..max). The whole message is checked (as
 * sk_dns_read does) even past max. Names are decompressed into the records; rdata points
 * into msg, so it lives as long as msg does. Returns the number of answer
 * records (which may exceed max: only max are stored), or SK_EDNSBAD for a
 * malformed message (short, bad name, compression loop, rdata that does
 * not match its type). */
int sk_dns_parse(const uint8_t *msg, size_t len, sk_dns_header *h, sk_dns_rr *out, size_t max);

/* The character-strings of a TXT record, one a call: *off starts at 0.
 * Returns 1 with *s and *len set, 0 after the last, SK_EDNSBAD when a
 * length runs past the data. */
int sk_dns_txt_next(const sk_dns_rr *rr, size_t *off, const uint8_t **s, size_t *len);

/* Whether an NSEC record's type bitmap lists type. */
bool sk_dns_nsec_has(const sk_dns_rr *rr, int type);

/* An NSEC type bitmap (RFC 4034 4.1.2) of types[0..n) (each 1..65535, any
 * order) into out[0..cap), for sk_dns_rr.rdata when writing. Returns its
 * length, -ENOSPC or -EINVAL. */
int sk_dns_nsec_bitmap(const int *types, size_t n, uint8_t *out, size_t cap);

/* Names and labels ------------------------------------------------------- */

/* One label's bytes l[0..n) (n 1..63) in presentation form, escaped as
 * names are, into out[0..cap). Returns the length (NUL excluded), -EINVAL
 * for a bad n, -ENOSPC. */
int sk_dns_label_escape(const void *l, size_t n, char *out, size_t cap);

/* The first label of the presentation name in name, unescaped into
 * out[0..cap) with a NUL after it (a label may itself hold a NUL byte, so
 * the length is returned); *rest (may be NULL) points past its dot, at the
 * rest of the name ("" when none). Returns the label's length, -EINVAL for
 * a malformed name, -ENOSPC. */
int sk_dns_label_first(const char *name, char *out, size_t cap, const char **rest);

/* Whether two presentation names are the same name: ASCII letters compared
 * without case (RFC 4343), escapes decoded, a trailing dot ignored. */
bool sk_dns_name_equal(const char *a, const char *b);

/* Writing --------------------------------------------------------------- */

#define SK_DNS_WRITER_NAMES 128

/* A message being written into the caller's buffer. Sections go in order
 * (questions, answers, authority, additional); the header's counts are
 * kept up to date, so buf[0..len) is a whole message after every call. */
typedef struct sk_dns_writer {
    uint8_t *buf;
    size_t cap, len;
    int section; /* 0: questions; then SK_DNS_ANSWER .. SK_DNS_ADDITIONAL */
    /* Where each name (and each of its suffixes) already written starts,
     * for compression pointers (offsets below 0x4000 only). */
    uint16_t names[SK_DNS_WRITER_NAMES];
    size_t nnames;
} sk_dns_writer;

/* Start a message in buf[0..cap) (cap >= 12) with this id and flags
 * (SK_DNS_F_*; rcode in the low bits). */
void sk_dns_writer_init(sk_dns_writer *w, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags);

/* A question; unicast sets the mDNS QU bit. Returns 0, -ENOSPC (nothing
 * written: it does not fit), -EINVAL (a malformed name, or records already
 * written). */
int sk_dns_write_question(sk_dns_writer *w, const char *name, int type, bool unicast);

/* A record into section (SK_DNS_ANSWER, ...; not before one already
 * written): rr->name, type, rclass (0: IN), cache_flush, ttl and the data:
 * addr for A/AAAA, priority/weight/port/target for SRV, target for PTR and
 * CNAME, target and rdata (sk_dns_nsec_bitmap) for NSEC, rdata/rdlen as they
 * are for TXT and any other type. Names are compressed against those
 * written before. Returns 0, -ENOSPC (nothing written: the record does not
 * fit, so a caller can stop there or set TC), -EINVAL. */
int sk_dns_write_rr(sk_dns_writer *w, int section, const sk_dns_rr *rr);

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
