/* Address text: split, port lookup, getaddrinfo to every address, and back
 * to text. */
#include <sockit/addr.h>
#include <sockit/error.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return SK_EADDRSYNTAX;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static bool is_v6_literal(const char *s, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 1];
    struct in6_addr a;
    const char *pct = memchr(s, '%', len);

    if (pct != NULL)
        len = (size_t)(pct - s); /* a scope (fe80::1%eth0) */
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

/* Text with two or more colons outside brackets: an IPv6 address someone
 * forgot to bracket (with or without a port after it), or a mistake such
 * as "127.0.0.1:1:1" that brackets would not fix. */
static int colons_error(const char *text, const char *last_colon)
{
    if (strstr(text, "::") != NULL || is_v6_literal(text, strlen(text)) ||
        is_v6_literal(text, (size_t)(last_colon - text)))
        return SK_EV6NOBRACKET;
    return SK_EADDRCOLONS;
}

int sk_addr_split(const char *text, sk_hostport *out)
{
    const char *colon;
    const char *port;
    int rc;

    if (text == NULL || *text == '\0')
        return SK_EADDRSYNTAX;
    if (strstr(text, "://") != NULL)
        return SK_EADDRURL;
    if (strspn(text, "0123456789") == strlen(text))
        return SK_EPORTONLY;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close == text + 1)
            return SK_EADDRSYNTAX;
        rc = copy_part(out->host, sizeof out->host, text + 1, (size_t)(close - text - 1));
        if (rc < 0)
            return rc;
        if (strchr(out->host, ':') == NULL)
            return SK_EADDRSYNTAX; /* brackets are for IPv6 only */
        if (close[1] == '\0')
            return SK_ENOPORT;
        if (close[1] != ':')
            return SK_EADDRSYNTAX;
        port = close + 2;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL)
            return SK_ENOPORT;
        if (memchr(text, ':', (size_t)(colon - text)) != NULL)
            return colons_error(text, colon);
        rc = copy_part(out->host, sizeof out->host, text, (size_t)(colon - text));
        if (rc < 0)
            return rc;
        port = colon + 1;
    }
    if (*port == '\0')
        return SK_ENOPORT;
    for (const char *p = port; *p; p++) {
        if (*p == ':' || *p == '[' || *p == ']' || *p == ' ' || *p == '/')
            return SK_EADDRSYNTAX;
    }
    for (const char *p = out->host; *p; p++) {
        if (*p == ' ' || *p == '[' || *p == ']' || *p == '/')
            return SK_EADDRSYNTAX;
    }
    return copy_part(out->port, sizeof out->port, port, strlen(port));
}

int sk_port_lookup(const char *port, const char *proto)
{
    char *end;
    long v;

    if (port == NULL || *port == '\0')
        return SK_ENOPORT;
    if ((*port == '-' || *port == '+') && port[1] >= '0' && port[1] <= '9')
        return SK_EBADPORT;
    if (*port >= '0' && *port <= '9') {
        errno = 0;
        v = strtol(port, &end, 10);
        if (*end != '\0')
            return SK_EADDRSYNTAX;
        if (errno != 0 || v < 0 || v > 65535)
            return SK_EBADPORT;
        return (int)v;
    }
    /* getservbyname_r keeps this safe for the threaded models. */
    struct servent se, *res = NULL;
    char buf[1024];
    if (getservbyname_r(port, proto ? proto : "tcp", &se, buf, sizeof buf, &res) != 0 || res == NULL)
        return SK_ENOSERVICE;
    return ntohs((uint16_t)res->s_port);
}

static int gai_to_sk(int rc)
{
    switch (rc) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
        return SK_ENONAME;
    case EAI_AGAIN:
        return SK_ETEMPFAIL;
    case EAI_FAMILY:
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
        return SK_ENOADDR;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SYSTEM:
        return errno ? -errno : SK_ERESOLVER;
    default:
        return SK_ERESOLVER;
    }
}

int sk_addr_resolve(const char *text, int socktype, int flags, sk_addr *out, size_t max)
{
    sk_hostport hp;
    struct addrinfo hints, *res = NULL;
    char portbuf[16];
    int rc, port, n = 0;

    if (max == 0)
        return -EINVAL;
    rc = sk_addr_split(text, &hp);
    if (rc < 0)
        return rc;
    port = sk_port_lookup(hp.port, socktype == SOCK_DGRAM ? "udp" : "tcp");
    if (port < 0)
        return port;
    snprintf(portbuf, sizeof portbuf, "%d", port);

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = socktype;
    hints.ai_family = AF_UNSPEC;
    if (flags & SK_RESOLVE_V4ONLY)
        hints.ai_family = AF_INET;
    if (flags & SK_RESOLVE_V6ONLY)
        hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICSERV;
    if (flags & SK_RESOLVE_PASSIVE)
        hints.ai_flags |= AI_PASSIVE;
    if (flags & SK_RESOLVE_NUMERIC)
        hints.ai_flags |= AI_NUMERICHOST;

    /* An empty host means loopback for a client and the wildcard for a
     * listener; getaddrinfo gives exactly that for a NULL node. */
    rc = getaddrinfo(hp.host[0] ? hp.host : NULL, portbuf, &hints, &res);
    if (rc != 0)
        return gai_to_sk(rc);
    for (struct addrinfo *ai = res; ai != NULL && (size_t)n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    return n > 0 ? n : SK_ENOADDR;
}

char *sk_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (len == 0)
        return buf;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        if (in6->sin6_scope_id != 0)
            snprintf(buf, len, "[%s%%%u]:%u", host, in6->sin6_scope_id, ntohs(in6->sin6_port));
        else
            snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNSPEC) {
        snprintf(buf, len, "-");
    } else {
        snprintf(buf, len, "(family %d)", sa->sa_family);
    }
    return buf;
}

int sk_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

bool sk_addr_is_multicast(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        in_addr_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return IN_MULTICAST(a) || a == INADDR_BROADCAST;
    }
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

int sk_cidr_parse(const char *text, sk_cidr *out)
{
    char host[SK_HOST_MAX];
    const char *slash = text ? strchr(text, '/') : NULL;
    size_t hlen = slash ? (size_t)(slash - text) : (text ? strlen(text) : 0);
    long bits = -1;

    if (text == NULL || hlen == 0 || hlen >= sizeof host)
        return SK_EADDRSYNTAX;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, host, out->addr) == 1)
        out->family = AF_INET6;
    else
        return SK_EADDRSYNTAX;
    unsigned max = out->family == AF_INET ? 32 : 128;
    if (slash) {
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return SK_EADDRSYNTAX;
        bits = strtol(slash + 1, &end, 10);
        if (*end != '\0' || bits < 0 || bits > (long)max)
            return SK_EADDRSYNTAX;
    }
    out->bits = bits < 0 ? max : (unsigned)bits;
    for (unsigned i = out->bits; i < max; i++)
        out->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    return 0;
}

bool sk_cidr_match(const sk_cidr *c, const struct sockaddr *sa)
{
    const unsigned char *a;
    int family = sa->sa_family;
    if (family == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            a += 12;
            family = AF_INET;
        }
    } else {
        return false;
    }
    if (family != c->family)
        return false;
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(a, c->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff00u >> rest);
    return (a[full] & mask) == c->addr[full];
}

void sk_addr_set_port(sk_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}
