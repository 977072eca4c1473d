/* sockit discover [TYPE]: browse a DNS-SD type (or, without one, the types
 * on the link) over mDNS, resolve every instance, and list them after
 * --timeout, or follow additions and removals with --watch. */
#include "discover_mdns.h"
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/sockit.h>

static sk_mdns_browser *g_browser;

static void on_signal(int sig)
{
    (void)sig;
    if (g_browser)
        sk_mdns_browser_stop(g_browser);
}

void discover_mdns_addr_text(const void *addr, char *out, size_t cap)
{
    const sk_mdns_addr *a = addr;
    char ip[INET6_ADDRSTRLEN] = "?";
    inet_ntop(a->family, a->addr, ip, sizeof ip);
    bool ll = a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
    snprintf(out, cap, "%s%s%s", ip, ll ? "%" : "", ll ? a->ifname : "");
}

static void addrs_text(const sk_mdns_instance *in, char *out, size_t cap, bool json)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t k = 0; k < in->naddrs && w + 1 < cap; k++) {
        char a[96];
        discover_mdns_addr_text(&in->addrs[k], a, sizeof a);
        w += (size_t)snprintf(out + w, cap - w, json ? "%s\"%s\"" : "%s%s", k ? (json ? "," : ", ") : "", a);
    }
    if (w >= cap)
        out[cap - 1] = '\0';
}

/* TXT strings as "a=1 b=2" (odd bytes as \xHH), or a JSON array. */
static void txt_text(const sk_mdns_instance *in, char *out, size_t cap, bool json)
{
    size_t w = 0, off = 0;
    out[0] = '\0';
    while (off < in->txt_len && w + 16 < cap) {
        size_t n = in->txt[off++];
        if (off + n > in->txt_len)
            break;
        char s[256 * 4 + 1];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = in->txt[off + i];
            if (c >= 0x20 && c < 0x7f && c != '\\' && !(json && c == '"'))
                s[k++] = (char)c;
            else
                k += (size_t)snprintf(s + k, sizeof s - k, json ? "\\u%04x" : "\\x%02x", c);
        }
        s[k] = '\0';
        off += n;
        if (n == 0)
            continue;
        w += (size_t)snprintf(out + w, cap - w, json ? "%s\"%s\"" : "%s%s", w ? (json ? "," : " ") : "", s);
    }
    if (w >= cap)
        out[cap - 1] = '\0';
}

static void print_json(const char *event, const sk_mdns_instance *in)
{
    char name[2 * SK_DNS_NAME_MAX + 4], inst[2 * 64 * 6 + 4], type[2 * SK_DNS_NAME_MAX + 4],
        host[2 * SK_DNS_NAME_MAX + 4], addrs[SK_MDNS_ADDRS * 100], txt[SK_MDNS_TXT_MAX * 7], ifn[48], from[140];
    cli_json_str(name, sizeof name, in->name);
    cli_json_str(inst, sizeof inst, in->instance);
    cli_json_str(type, sizeof type, in->type);
    cli_json_str(host, sizeof host, in->host);
    cli_json_str(ifn, sizeof ifn, in->ifname);
    cli_json_str(from, sizeof from, in->from);
    addrs_text(in, addrs, sizeof addrs, true);
    txt_text(in, txt, sizeof txt, true);
    printf("{\"event\":\"%s\",\"name\":%s,\"instance\":%s,\"type\":%s,\"domain\":\"local\"", event, name, inst, type);
    if (strcmp(event, "remove") != 0 || in->host[0])
        printf(",\"host\":%s,\"port\":%u,\"txt\":[%s],\"addrs\":[%s]", host, in->port, txt, addrs);
    printf(",\"interface\":%s,\"from\":%s,\"ttl_s\":%u}\n", ifn, from, in->ttl);
}

static void print_header(void)
{
    printf("%-28s %-12s %-20s %5s  %-32s %s\n", "INSTANCE", "TYPE", "HOST", "PORT", "ADDRESSES", "TXT");
}

static void print_row(const sk_mdns_instance *in)
{
    char addrs[SK_MDNS_ADDRS * 100], txt[SK_MDNS_TXT_MAX * 4];
    addrs_text(in, addrs, sizeof addrs, false);
    txt_text(in, txt, sizeof txt, false);
    printf("%-28s %-12s %-20s %5u  %-32s %s\n", in->instance, in->type, in->host[0] ? in->host : "-", in->port,
           addrs[0] ? addrs : "-", txt);
}

static void print_change(const char *what, const sk_mdns_instance *in)
{
    char addrs[SK_MDNS_ADDRS * 100], txt[SK_MDNS_TXT_MAX * 4];
    if (strcmp(what, "remove") == 0) {
        printf("remove \"%s\" %s\n", in->instance, in->type);
        return;
    }
    addrs_text(in, addrs, sizeof addrs, false);
    txt_text(in, txt, sizeof txt, false);
    printf("%s \"%s\" %s host %s port %u addrs %s txt \"%s\" interface %s\n", what, in->instance, in->type, in->host,
           in->port, addrs[0] ? addrs : "-", txt, in->ifname);
}

typedef struct dstate {
    const discover_mdns_opts *o;
    uint64_t bad;
    size_t types;
} dstate;

static void on_event(void *ud, const sk_mdns_event *ev)
{
    dstate *d = ud;
    const discover_mdns_opts *o = d->o;
    static const char *const names[] = {
        [SK_MDNS_ADD] = "add", [SK_MDNS_UPDATE] = "update", [SK_MDNS_REMOVE] = "remove"};
    switch (ev->kind) {
    case SK_MDNS_ADD:
    case SK_MDNS_UPDATE:
    case SK_MDNS_REMOVE:
        if (!o->watch)
            return; /* listed at the end */
        if (o->json)
            print_json(names[ev->kind], ev->in);
        else
            print_change(names[ev->kind], ev->in);
        break;
    case SK_MDNS_TYPE:
    case SK_MDNS_TYPE_GONE:
        d->types += ev->kind == SK_MDNS_TYPE;
        if (o->json) {
            char t[2 * SK_DNS_NAME_MAX + 4];
            cli_json_str(t, sizeof t, ev->type);
            printf("{\"event\":\"%s\",\"type\":%s,\"domain\":\"local\"}\n",
                   ev->kind == SK_MDNS_TYPE ? (o->watch ? "type_add" : "type") : "type_remove", t);
        } else if (o->watch) {
            printf("%s type %s\n", ev->kind == SK_MDNS_TYPE ? "add" : "remove", ev->type);
        } else if (ev->kind == SK_MDNS_TYPE) {
            printf("%s\n", ev->type);
        }
        break;
    case SK_MDNS_BAD:
        d->bad++;
        if (o->verbose)
            cli_error("ignored a malformed mDNS packet from %s (%s; %llu so far)", ev->from, sk_strerror(ev->err),
                      (unsigned long long)d->bad);
        return;
    }
    fflush(stdout);
}

int discover_mdns(const discover_mdns_opts *o)
{
    dstate d = {o, 0, 0};
    sk_mdns_browse_opts bo = {.type = o->type,
                              .ifname = o->ifname,
                              .family = o->family,
                              .continuous = o->watch,
                              .on_event = on_event,
                              .userdata = &d};
    const char *what = o->type ? o->type : "(service types)";
    int rc = sk_mdns_browser_new(&bo, &g_browser);
    if (rc == -EINVAL) {
        return cli_usage_error("discover", "'%s' is not a DNS-SD service type (_name._tcp or _name._udp)", o->type);
    } else if (rc == -ENODEV) {
        cli_error("discover: --interface %s: no interface of that name here", o->ifname);
        return EXIT_FAIL;
    } else if (rc < 0) {
        cli_error("discover %s: mDNS sockets: %s", what, sk_strerror(rc));
        return EXIT_FAIL;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = sk_mdns_browser_run(g_browser, o->watch ? -1 : o->timeout_ms);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);

    int exit_code = EXIT_OK;
    if (rc < 0) {
        cli_error("discover %s: %s", what, sk_strerror(rc));
        exit_code = EXIT_FAIL;
    } else if (!o->watch && o->type) {
        const sk_mdns_instance *list;
        size_t n = sk_mdns_browser_list(g_browser, &list), shown = 0;
        for (size_t i = 0; i < n; i++) {
            if (o->json) {
                print_json("instance", &list[i]);
            } else {
                if (shown == 0)
                    print_header();
                print_row(&list[i]);
            }
            shown++;
        }
        if (n == 0) {
            cli_error("discover %s: no instance answered within %.1f s", o->type, (double)o->timeout_ms / 1000);
            exit_code = EXIT_FAIL;
        }
    } else if (!o->watch && d.types == 0) {
        cli_error("discover: no service type answered within %.1f s", (double)o->timeout_ms / 1000);
        exit_code = EXIT_FAIL;
    }
    uint64_t packets, bad;
    sk_mdns_browser_counts(g_browser, &packets, &bad);
    if (o->verbose)
        cli_error("discover: %llu mDNS packets read, %llu malformed ignored", (unsigned long long)packets,
                  (unsigned long long)bad);
    sk_mdns_browser *b = g_browser;
    g_browser = NULL;
    sk_mdns_browser_free(b);
    fflush(stdout);
    return exit_code;
}
