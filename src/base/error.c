/* sk_strerror: one table for sockit's own codes, strerror for the rest. */
#include <sockit/error.h>

#include <string.h>

static const char *const sk_messages[] = {
    [SK_EADDRSYNTAX - SK_EBASE] = "malformed address (expected host:port, [v6addr]:port or :port)",
    [SK_EV6NOBRACKET - SK_EBASE] = "IPv6 address needs brackets and a port, as in [::1]:7007",
    [SK_ENOPORT - SK_EBASE] = "address has no port (expected host:port)",
    [SK_EBADPORT - SK_EBASE] = "port out of range (0-65535)",
    [SK_ENOSERVICE - SK_EBASE] = "unknown service name (not in /etc/services)",
    [SK_ENONAME - SK_EBASE] = "name does not resolve",
    [SK_ETEMPFAIL - SK_EBASE] = "temporary failure in name resolution",
    [SK_ERESOLVER - SK_EBASE] = "name resolution failed",
    [SK_ENOADDR - SK_EBASE] = "no address of the requested family",
    [SK_ETOOMANYFDS - SK_EBASE] = "file descriptor too large for the select backend (FD_SETSIZE is 1024)",
    [SK_EICMPSHORT - SK_EBASE] = "ICMP packet truncated",
    [SK_EICMPSUM - SK_EBASE] = "ICMP checksum mismatch",
    [SK_EICMPBAD - SK_EBASE] = "malformed ICMP packet",
    [SK_ENOICMP - SK_EBASE] = "no ICMP socket allowed: a raw socket needs root or CAP_NET_RAW, an ICMP datagram "
                              "socket needs the group in sysctl net.ipv4.ping_group_range",
    [SK_EHTTP_BAD - SK_EBASE] = "malformed HTTP request",
    [SK_EHTTP_URI - SK_EBASE] = "HTTP request-target too long",
    [SK_EHTTP_HEADERS - SK_EBASE] = "HTTP header section too large",
    [SK_EHTTP_VERSION - SK_EBASE] = "HTTP version not supported",
    [SK_EHTTP_NOTIMPL - SK_EBASE] = "HTTP Transfer-Encoding not implemented",
    [SK_EONEPROCESS - SK_EBASE] = "the service needs all its connections in one process",
    [SK_EADDRURL - SK_EBASE] = "a URL is not an address (expected host:port, no scheme or path)",
    [SK_EADDRCOLONS - SK_EBASE] = "too many colons (expected host:port; an IPv6 address goes in brackets, [::1]:7007)",
    [SK_EPORTONLY - SK_EBASE] = "a port alone is not an address (expected :port or host:port)",
    [SK_ENOTGROUP - SK_EBASE] = "not a multicast group address (224.0.0.0/4, ff00::/8)",
    [SK_ENXDOMAIN - SK_EBASE] = "no such domain (NXDOMAIN)",
    [SK_ESERVFAIL - SK_EBASE] = "DNS server failure (SERVFAIL)",
    [SK_EDNSTIMEOUT - SK_EBASE] = "DNS timeout: no answer from the server",
    [SK_ENODATA - SK_EBASE] = "no record of that type (the name exists)",
    [SK_EREFUSED - SK_EBASE] = "DNS query refused by the server (REFUSED)",
    [SK_ESRVNONE - SK_EBASE] = "no such service (the SRV target is \".\")",
    [SK_EBUFSMALL - SK_EBASE] = "the buffer size is too small for the service (a request and its answer must fit)",
    [SK_EDNSBAD - SK_EBASE] = "malformed DNS message",
    [SK_EDNS - SK_EBASE] = "DNS query failed",
    [SK_EETCD - SK_EBASE] = "etcd refused the request",
    [SK_EETCDBAD - SK_EBASE] = "malformed answer from etcd (not its v3 JSON gateway?)",
};

const char *sk_strerror(int err)
{
    if (err > SK_EBASE && err < SK_ELAST) {
        const char *m = sk_messages[err - SK_EBASE];
        return m ? m : "unknown sockit error";
    }
    if (err < 0 && err > -4096) {
        /* strerror() may use a shared buffer only for unknown codes; every
         * errno Linux defines has a static string. */
        return strerror(-err);
    }
    return err == 0 ? "success" : "unknown error";
}
