/* sockit serve --announce [INSTANCE]: the served service as a DNS-SD
 * instance of _SERVICE._tcp (or _udp) on every interface, its state machine
 * on stderr with -v (probe 1/3, conflict ... rename, announce 1/2, goodbye)
 * and as "mdns" events with --json. */
#include "serve_announce.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockit/sockit.h>

static sk_mdns_responder *g_resp;
static const serve_ann_opts *g_o;
static char g_type[80];

int serve_announce_check(const serve_ann_opts *o)
{
    if (!o->on) {
        if (o->ntxt || o->instance)
            return cli_usage_error("serve", "--txt and an instance name need --announce");
        return EXIT_OK;
    }
    if (o->instance && (o->instance[0] == '\0' || strlen(o->instance) > SK_DNS_LABEL_MAX))
        return cli_usage_error("serve", "--announce: the instance name needs 1 to 63 bytes, not '%s'", o->instance);
    for (int i = 0; i < o->ntxt; i++)
        if (strlen(o->txt[i]) > 255 || o->txt[i][0] == '=' || o->txt[i][0] == '\0')
            return cli_usage_error("serve", "--txt wants KEY=VALUE (at most 255 bytes), not '%s'", o->txt[i]);
    return EXIT_OK;
}

static void json_event(const char *state, const sk_mdns_resp_event *ev, const char *extra)
{
    char name[4 * 64 + 8], host[2 * SK_DNS_NAME_MAX + 4], type[200];
    cli_json_str(name, sizeof name, ev->name);
    cli_json_str(host, sizeof host, ev->host);
    cli_json_str(type, sizeof type, g_type);
    printf("{\"event\":\"mdns\",\"state\":\"%s\",\"instance\":%s,\"type\":%s,\"host\":%s%s}\n", state, name, type, host,
           extra);
    fflush(stdout);
}

static void on_event(void *userdata, const sk_mdns_resp_event *ev)
{
    (void)userdata;
    const serve_ann_opts *o = g_o;
    char extra[600] = "", from[140], old[4 * 64 + 8];
    switch (ev->kind) {
    case SK_MDNS_PROBE:
    case SK_MDNS_ANNOUNCE: {
        const char *what = ev->kind == SK_MDNS_PROBE ? "probe" : "announce";
        if (o->json) {
            snprintf(extra, sizeof extra, ",\"n\":%d,\"of\":%d", ev->n, ev->of);
            json_event(what, ev, extra);
        } else if (o->verbose) {
            cli_error("mdns: %s %d/%d \"%s\" %s (host %s)", what, ev->n, ev->of, ev->name, g_type, ev->host);
        } else if (ev->kind == SK_MDNS_ANNOUNCE && ev->n == ev->of) {
            cli_error("announced \"%s\" %s.local on mDNS (host %s)", ev->name, g_type, ev->host);
        }
        break;
    }
    case SK_MDNS_CONFLICT:
        if (o->json) {
            cli_json_str(from, sizeof from, ev->from ? ev->from : "");
            cli_json_str(old, sizeof old, ev->old_name ? ev->old_name : "");
            snprintf(extra, sizeof extra, ",\"from\":%s,\"old_name\":%s,\"host_renamed\":%s", from, old,
                     ev->host_renamed ? "true" : "false");
            json_event(ev->err ? "defend" : "conflict", ev, extra);
        } else if (ev->err) {
            cli_error("mdns: conflict with %s after announcing \"%s\": probing again", ev->from, ev->name);
        } else {
            if (ev->host_renamed)
                cli_error("mdns: conflict with %s: rename host to \"%s\"", ev->from, ev->host);
            else
                cli_error("mdns: conflict with %s: rename to \"%s\"", ev->from, ev->name);
        }
        break;
    case SK_MDNS_DEFER:
        if (o->json) {
            cli_json_str(from, sizeof from, ev->from ? ev->from : "");
            snprintf(extra, sizeof extra, ",\"from\":%s", from);
            json_event("defer", ev, extra);
        } else if (o->verbose) {
            cli_error("mdns: %s probes for the same name and wins the tie-break: probing again in 1 s", ev->from);
        }
        break;
    case SK_MDNS_ANSWER:
        if (o->verbose >= 2 && !o->json)
            cli_error("mdns: answered %s%s", ev->from,
                      ev->legacy    ? " (legacy unicast)"
                      : ev->unicast ? " (unicast, QU)"
                                    : "");
        break;
    case SK_MDNS_GOODBYE:
        if (o->json)
            json_event("goodbye", ev, ev->n ? ",\"sent\":true" : ",\"sent\":false");
        else if (o->verbose)
            cli_error("mdns: goodbye \"%s\"%s", ev->name, ev->n ? "" : " (nothing announced yet)");
        break;
    case SK_MDNS_RESP_BAD: {
        static unsigned long bad;
        bad++;
        if (o->json) {
            cli_json_str(from, sizeof from, ev->from ? ev->from : "");
            snprintf(extra, sizeof extra, ",\"from\":%s,\"ignored\":%lu", from, bad);
            json_event("malformed", ev, extra);
        } else if (o->verbose) {
            cli_error("mdns: ignored a malformed packet from %s (%s; %lu so far)", ev->from, sk_strerror(ev->err), bad);
        }
        break;
    }
    }
}

int serve_announce_start(const serve_ann_opts *o, const sk_addr *la, const char *service, const char *proto)
{
    char inst[SK_DNS_LABEL_MAX + 1], host[256] = "sockit";
    if (!o->on)
        return EXIT_OK;
    g_o = o;
    snprintf(g_type, sizeof g_type, "_%s._%s", service, proto);
    if (gethostname(host, sizeof host - 1) == 0)
        host[strcspn(host, ".")] = '\0';
    if (o->instance)
        snprintf(inst, sizeof inst, "%s", o->instance);
    else
        snprintf(inst, sizeof inst, "sockit %s on %.40s", service, host);
    sk_mdns_responder_opts ro = {
        .instance = inst,
        .type = g_type,
        .port = (uint16_t)sk_addr_port((const struct sockaddr *)&la->ss),
        .txt = o->txt,
        .ifname = o->ifname,
        .host_ttl = (uint32_t)(o->ttl_ms / 1000),
        .ttl = (uint32_t)(o->ttl_ms / 1000),
        .on_event = on_event,
    };
    int rc = sk_mdns_responder_start(&ro, &g_resp);
    if (rc == -ENODEV) {
        cli_error("--interface %s: no interface of that name here", o->ifname);
        return EXIT_FAIL;
    }
    if (rc < 0) {
        cli_error("--announce %s: %s", g_type, sk_strerror(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int serve_announce_signal(void (*withdrawn)(void))
{
    if (g_resp == NULL)
        return -1;
    sk_mdns_responder_withdraw(g_resp, withdrawn);
    return 0;
}

void serve_announce_stop(void)
{
    sk_mdns_responder *r = g_resp;
    g_resp = NULL;
    sk_mdns_responder_stop(r);
}
