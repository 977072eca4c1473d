/* sockit error codes: every library call returns >= 0 on success or a
 * negative code, either -errno or one of the SK_E* codes below. */
#ifndef SOCKIT_ERROR_H
#define SOCKIT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Codes that errno has no word for. They sit far below any errno value so
 * that one negative int can carry either kind. */
enum {
    SK_EBASE = -20000,
    SK_EADDRSYNTAX,   /* address text is malformed */
    SK_EV6NOBRACKET,  /* bare IPv6 address: needs [addr]:port */
    SK_ENOPORT,       /* address has no port */
    SK_EBADPORT,      /* port number out of range */
    SK_ENOSERVICE,    /* service name not in the services database */
    SK_ENONAME,       /* host name does not resolve */
    SK_ETEMPFAIL,     /* temporary resolver failure */
    SK_ERESOLVER,     /* other resolver failure */
    SK_ENOADDR,       /* name resolves, but to no address of the asked family */
    SK_ETOOMANYFDS,   /* fd does not fit the backend (select and FD_SETSIZE) */
    SK_EICMPSHORT,    /* ICMP packet truncated */
    SK_EICMPSUM,      /* ICMP checksum does not match */
    SK_EICMPBAD,      /* ICMP packet malformed (IP header, protocol) */
    SK_ENOICMP,       /* neither a raw nor an ICMP datagram socket is allowed */
    SK_EHTTP_BAD,     /* malformed HTTP request (400) */
    SK_EHTTP_URI,     /* HTTP request-target too long (414) */
    SK_EHTTP_HEADERS, /* HTTP header section too large or too many headers (431) */
    SK_EHTTP_VERSION, /* HTTP version not supported (505) */
    SK_EHTTP_NOTIMPL, /* HTTP feature not implemented: Transfer-Encoding (501) */
    SK_EONEPROCESS,   /* the service needs every connection in one process (not fork, prefork) */
    SK_EADDRURL,      /* a URL ("http://host:port/") where an address was wanted */
    SK_EADDRCOLONS,   /* more colons than host:port has, and not an IPv6 address */
    SK_EPORTONLY,     /* a bare port ("7007") where host:port or :port was wanted */
    SK_ENOTGROUP,     /* not a multicast group address */
    SK_ENXDOMAIN,     /* DNS: the name does not exist (NXDOMAIN) */
    SK_ESERVFAIL,     /* DNS: the server failed to answer (SERVFAIL) */
    SK_EDNSTIMEOUT,   /* DNS: no answer within the timeout, over every try */
    SK_ENODATA,       /* DNS: the name exists but has no record of the asked type */
    SK_EREFUSED,      /* DNS: the server refused the query (REFUSED) */
    SK_ESRVNONE,      /* SRV: the target is "." (RFC 2782: no such service) */
    SK_EDNSBAD,       /* DNS: malformed message */
    SK_EDNS,          /* DNS: any other failure (no servers, connection refused) */
    SK_EETCD,         /* etcd answered with an error (an HTTP status other than 200) */
    SK_EETCDBAD,      /* etcd's answer is not the v3 gateway's JSON */
    SK_EBUFSMALL,     /* the per-connection buffer cannot hold what the service needs at once */
    SK_ELAST
};

/* A message for any code returned by sockit (negative errno or SK_E*).
 * Never NULL; the string is static. */
const char *sk_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
