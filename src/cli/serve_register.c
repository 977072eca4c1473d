/* sockit serve --register etcd://HOST:PORT/PREFIX: the key
 * PREFIX/HOST:PORT holds {"addr","service","model","weight","pid"} under a
 * lease the library keeps alive; SIGTERM deletes it before the drain, so
 * clients stop choosing this server while it still answers. */
#include "serve_register.h"
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockit/sockit.h>

static sk_etcd_registration *g_reg;
static void (*g_withdrawn)(void);
static int g_verbose;
static char g_etcd[SK_HOST_MAX + SK_SERV_MAX + 4];

int serve_register_check(const serve_reg_opts *o)
{
    sk_etcd_url u;
    sk_hostport hp;
    if (o->url == NULL) {
        if (o->addr)
            return cli_usage_error("serve", "--register-addr needs --register etcd://HOST:PORT/PREFIX");
        return EXIT_OK;
    }
    if (sk_etcd_url_parse(o->url, &u) < 0)
        return cli_usage_error("serve", "--register wants etcd://HOST[:PORT]/PREFIX, not '%s'", o->url);
    if (o->addr) {
        int rc = sk_addr_split(o->addr, &hp);
        if (rc == 0 && (hp.host[0] == '\0' || sk_port_lookup(hp.port, "tcp") <= 0))
            rc = SK_EADDRSYNTAX;
        if (rc < 0)
            return cli_usage_error("serve", "--register-addr wants HOST:PORT, not '%s' (%s)", o->addr, sk_strerror(rc));
    }
    return EXIT_OK;
}

static bool wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    return sa->sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* A server listening on every interface advertises the first address of
 * an interface that is up and not loopback (IPv4 before IPv6, link-local
 * IPv6 never), since a wildcard is no address to connect to. */
static int outward_addr(int port, char *out, size_t cap)
{
    struct ifaddrs *ifs, *best = NULL;
    if (getifaddrs(&ifs) < 0)
        return -errno;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        int fam = i->ifa_addr->sa_family;
        if (fam == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
            continue;
        if (fam == AF_INET && (best == NULL || best->ifa_addr->sa_family != AF_INET))
            best = i;
        else if (fam == AF_INET6 && best == NULL)
            best = i;
    }
    int rc = -EADDRNOTAVAIL;
    if (best) {
        struct sockaddr_storage ss;
        memcpy(&ss, best->ifa_addr,
               best->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
        if (ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        sk_addr_format((struct sockaddr *)&ss, out, cap);
        rc = 0;
    }
    freeifaddrs(ifs);
    return rc;
}

static void on_reg_event(void *userdata, const sk_etcd_reg_event *ev)
{
    (void)userdata;
    switch (ev->kind) {
    case SK_ETCD_REG_REGISTERED:
        if (g_verbose)
            cli_error("registered %s in etcd %s (lease %lld, ttl %llds)", ev->key, g_etcd, (long long)ev->lease,
                      (long long)(ev->ttl_ms / 1000));
        break;
    case SK_ETCD_REG_KEEPALIVE:
        if (g_verbose >= 2)
            cli_error("etcd: lease %lld kept alive (ttl %llds)", (long long)ev->lease, (long long)(ev->ttl_ms / 1000));
        break;
    case SK_ETCD_REG_LOST:
        cli_error("warning: etcd %s: keepalive lost (%s); still serving, re-registering when it answers", g_etcd,
                  sk_strerror(ev->err));
        break;
    case SK_ETCD_REG_RETRY_FAILED:
        if (g_verbose)
            cli_error("etcd %s: retry failed (%s)", g_etcd, sk_strerror(ev->err));
        break;
    case SK_ETCD_REG_REREGISTERED:
        cli_error("re-registered %s in etcd %s (lease %lld)", ev->key, g_etcd, (long long)ev->lease);
        break;
    case SK_ETCD_REG_WITHDRAWN:
        if (ev->err)
            cli_error("warning: etcd %s: could not delete %s (%s); it expires with its lease", g_etcd, ev->key,
                      sk_strerror(ev->err));
        else if (g_verbose)
            cli_error("deregistered %s from etcd %s", ev->key, g_etcd);
        if (g_withdrawn)
            g_withdrawn();
        break;
    }
}

int serve_register_start(const serve_reg_opts *o, const sk_addr *la, const char *service, const char *model,
                         void (*withdrawn)(void))
{
    char addr[SK_ADDRSTRLEN + SK_HOST_MAX], value[1024];
    sk_etcd_url u;
    if (o->url == NULL)
        return EXIT_OK;
    sk_etcd_url_parse(o->url, &u);
    bool v6 = strchr(u.host, ':') != NULL;
    snprintf(g_etcd, sizeof g_etcd, "%s%s%s:%s", v6 ? "[" : "", u.host, v6 ? "]" : "", u.port);
    g_verbose = o->verbose;
    g_withdrawn = withdrawn;
    if (o->addr) {
        snprintf(addr, sizeof addr, "%s", o->addr);
    } else if (wildcard((const struct sockaddr *)&la->ss)) {
        int rc = outward_addr(sk_addr_port((const struct sockaddr *)&la->ss), addr, sizeof addr);
        if (rc < 0) {
            cli_error("--register: listening on every interface, and no address to advertise found (%s); "
                      "give one with --register-addr HOST:PORT",
                      sk_strerror(rc));
            return EXIT_FAIL;
        }
    } else {
        sk_addr_format((const struct sockaddr *)&la->ss, addr, sizeof addr);
    }
    int rc = sk_etcd_value_format(value, sizeof value, addr, service, model, (unsigned)o->weight, (int64_t)getpid());
    if (rc < 0) {
        cli_error("--register: %s", sk_strerror(rc));
        return EXIT_FAIL;
    }
    sk_etcd_register_opts ro = {
        .url = o->url,
        .name = addr,
        .value = value,
        .ttl_ms = o->ttl_ms,
        .on_event = on_reg_event,
    };
    rc = sk_etcd_register_start(&ro, &g_reg);
    if (rc < 0) {
        cli_error("register in etcd %s: %s", g_etcd, sk_strerror(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int serve_register_signal(void)
{
    if (g_reg == NULL)
        return -1;
    sk_etcd_register_withdraw(g_reg);
    return 0;
}

void serve_register_stop(void)
{
    sk_etcd_registration *r = g_reg;
    g_reg = NULL;
    sk_etcd_register_stop(r);
}
