/* sockit discover [TYPE | etcd://HOST:PORT/PREFIX]: the servers of a DNS-SD
 * type on the link (mDNS, discover_mdns.c), or registered under a prefix in
 * etcd (sockit serve --register), listed once or followed with --watch as
 * they come and go. The operand's form picks the source. */
#include "cli.h"
#include "discover_mdns.h"

#include <errno.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sockit/sockit.h>

#define MAX_LIST 4096

enum { O_WATCH = CLI_LONG, O_JSON, O_TIMEOUT, O_IFACE };

static const cli_option options[] = {
    CLI_OPT('w', "watch", NULL, O_WATCH,
            "after the list, print each join and leave as it happens, until\n"
            "SIGINT or SIGTERM"),
    CLI_OPT(0, "json", NULL, O_JSON, "one JSON object per line (docs/json.md)"),
    CLI_OPT(0, "timeout", "TIME", O_TIMEOUT,
            "mDNS: how long to listen for answers before listing\n"
            "(default 3s); etcd: how long etcd gets to answer (default 5s)"),
    CLI_OPT('i', "interface", "IF", O_IFACE, "mDNS: browse on this interface only (default: every one up)"),
    CLI_OPT('4', NULL, NULL, '4', "mDNS: IPv4 only (224.0.0.251)"),
    CLI_OPT('6', NULL, NULL, '6', "mDNS: IPv6 only (ff02::fb)"),
    CLI_OPT('v', "verbose", NULL, 'v', "mDNS: count (and name the senders of) malformed packets ignored"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_discover = {
    .name = "discover",
    .summary = "DNS-SD services on the link (mDNS), or the servers registered in etcd, listed or watched",
    .usage = "[OPTIONS] [TYPE | etcd://HOST[:PORT]/PREFIX]",
    .about = "With a DNS-SD TYPE (_echo._tcp, _http._tcp), browse it over multicast DNS\n"
             "(224.0.0.251 / ff02::fb port 5353) and resolve each instance to host,\n"
             "port, TXT and addresses: listed after --timeout, or with --watch followed\n"
             "as add, update and remove lines (goodbyes, TTL expiry). Without an operand,\n"
             "list the service types on the link (docs/mdns.md).\n"
             "\n"
             "With etcd://, list the live instances registered under PREFIX in etcd (sockit serve\n"
             "--register): address, weight, model, service and key, one a line, in key\n"
             "order. With --watch, follow them: join, update (a re-registration) and\n"
             "leave lines as etcd reports them; a lost connection to etcd is a warning,\n"
             "and what changed meanwhile is printed once it answers again.",
    .footer = "Exit status: 0 with instances listed (or a watch ended by a signal); 1 when\n"
              "none answered or is registered, or etcd cannot be reached; 2 for bad usage.",
    .options = options,
    .run = cmd_discover,
};

typedef struct dopts {
    bool json;
    const char *url;
} dopts;

static sk_etcd_watcher *g_watcher;

static void on_signal(int sig)
{
    (void)sig;
    if (g_watcher)
        sk_etcd_watcher_stop(g_watcher);
}

/* s as a JSON string, quotes included, truncated to fit cap: '"', '\\'
 * and control bytes escaped, the rest (UTF-8 included) as it is. */
static void json_str(char *out, size_t cap, const char *s)
{
    size_t w = 0;
    out[w++] = '"';
    for (; *s && w + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            w += (size_t)snprintf(out + w, cap - w, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            w += (size_t)snprintf(out + w, cap - w, "\\u%04x", c);
        else
            out[w++] = (char)c;
    }
    out[w++] = '"';
    out[w] = '\0';
}

static void addr_text(const sk_etcd_instance *in, char *out, size_t cap)
{
    bool v6 = strchr(in->host, ':') != NULL;
    snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", in->host, v6 ? "]" : "", in->port);
}

static void print_json(const char *event, const sk_etcd_instance *in)
{
    char addr[SK_HOST_MAX + 16], key[2 * SK_ETCD_KEY_MAX + 8], a[2 * sizeof addr + 8], s[80], m[48];
    addr_text(in, addr, sizeof addr);
    json_str(key, sizeof key, in->key);
    json_str(a, sizeof a, addr);
    printf("{\"event\":\"%s\",\"key\":%s,\"addr\":%s,\"port\":%u,\"weight\":%u", event, key, a, in->port, in->weight);
    if (in->service[0]) {
        json_str(s, sizeof s, in->service);
        printf(",\"service\":%s", s);
    }
    if (in->model[0]) {
        json_str(m, sizeof m, in->model);
        printf(",\"model\":%s", m);
    }
    if (in->pid > 0)
        printf(",\"pid\":%" PRId64, in->pid);
    if (in->lease != 0)
        printf(",\"lease\":\"%" PRIx64 "\"", (uint64_t)in->lease);
    printf("}\n");
}

static void print_row(const sk_etcd_instance *in)
{
    char addr[SK_HOST_MAX + 16];
    addr_text(in, addr, sizeof addr);
    printf("%-24s %6u  %-8s %-8s %s\n", addr, in->weight, in->model[0] ? in->model : "-",
           in->service[0] ? in->service : "-", in->key);
}

static void print_header(void) { printf("%-24s %6s  %-8s %-8s %s\n", "ADDR", "WEIGHT", "MODEL", "SERVICE", "KEY"); }

static void print_change(const char *what, const sk_etcd_instance *in)
{
    char addr[SK_HOST_MAX + 16];
    addr_text(in, addr, sizeof addr);
    printf("%s %s addr %s weight %u model %s service %s\n", what, in->key, addr, in->weight,
           in->model[0] ? in->model : "-", in->service[0] ? in->service : "-");
}

static int list_once(const dopts *o, int64_t timeout_ms)
{
    sk_etcd_instance *v = calloc(MAX_LIST, sizeof *v);
    if (v == NULL) {
        cli_error("discover: %s", sk_strerror(-ENOMEM));
        return EXIT_FAIL;
    }
    int n = sk_etcd_list(o->url, timeout_ms, v, MAX_LIST);
    if (n < 0) {
        cli_error("discover %s: %s", o->url, sk_strerror(n));
        free(v);
        return EXIT_FAIL;
    }
    if (!o->json && n > 0)
        print_header();
    for (int i = 0; i < n && i < MAX_LIST; i++) {
        if (o->json)
            print_json("instance", &v[i]);
        else
            print_row(&v[i]);
    }
    if (n > MAX_LIST)
        cli_error("discover %s: %d instances, the first %d shown", o->url, n, MAX_LIST);
    free(v);
    if (n == 0) {
        sk_etcd_url u;
        sk_etcd_url_parse(o->url, &u);
        cli_error("discover %s: no instance registered under %s", o->url, u.prefix);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

typedef struct wstate {
    const dopts *o;
    size_t listed;
    bool header;
} wstate;

static void on_change(void *userdata, sk_etcd_change what, const sk_etcd_instance *in, int err)
{
    wstate *ws = userdata;
    static const char *const names[] = {[SK_ETCD_PRESENT] = "instance",
                                        [SK_ETCD_JOIN] = "join",
                                        [SK_ETCD_UPDATE] = "update",
                                        [SK_ETCD_LEAVE] = "leave"};
    switch (what) {
    case SK_ETCD_PRESENT:
        ws->listed++;
        if (ws->o->json) {
            print_json("instance", in);
        } else {
            if (!ws->header)
                print_header();
            ws->header = true;
            print_row(in);
        }
        break;
    case SK_ETCD_SYNCED:
        if (ws->o->json)
            printf("{\"event\":\"synced\",\"instances\":%zu}\n", ws->listed);
        else
            fprintf(stderr, "sockit: %zu instance%s; watching for joins and leaves\n", ws->listed,
                    ws->listed == 1 ? "" : "s");
        break;
    case SK_ETCD_JOIN:
    case SK_ETCD_UPDATE:
    case SK_ETCD_LEAVE:
        if (ws->o->json)
            print_json(names[what], in);
        else if (what == SK_ETCD_LEAVE)
            printf("leave %s\n", in->key);
        else
            print_change(names[what], in);
        break;
    case SK_ETCD_LOST:
        if (ws->o->json) {
            char r[256];
            json_str(r, sizeof r, sk_strerror(err));
            printf("{\"event\":\"lost\",\"reason\":%s}\n", r);
        }
        cli_error("warning: discover %s: %s; retrying", ws->o->url, sk_strerror(err));
        break;
    case SK_ETCD_RESUMED:
        if (ws->o->json)
            printf("{\"event\":\"resumed\"}\n");
        cli_error("discover %s: etcd answers again", ws->o->url);
        break;
    }
    fflush(stdout);
}

static int watch(const dopts *o, int64_t timeout_ms)
{
    int err = 0;
    g_watcher = sk_etcd_watcher_new(o->url, timeout_ms, &err);
    if (g_watcher == NULL) {
        cli_error("discover %s: %s", o->url, sk_strerror(err));
        return EXIT_FAIL;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    wstate ws = {o, 0, false};
    int rc = sk_etcd_watcher_run(g_watcher, on_change, &ws);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sk_etcd_watcher *w = g_watcher;
    g_watcher = NULL;
    sk_etcd_watcher_free(w);
    if (rc < 0) {
        cli_error("discover %s: %s", o->url, sk_strerror(rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_discover(int argc, char **argv)
{
    cli_parser cp;
    dopts o = {0};
    bool watching = false;
    int64_t timeout_ms = -1;
    discover_mdns_opts mo = {0};
    int opt;

    if (cli_parser_init(&cp, &cli_discover) < 0)
        return EXIT_FAIL;
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case O_WATCH:
        case 'w':
            watching = true;
            break;
        case O_JSON:
            o.json = true;
            break;
        case O_IFACE:
        case 'i':
            mo.ifname = optarg;
            break;
        case '4':
            mo.family = AF_INET;
            break;
        case '6':
            mo.family = AF_INET6;
            break;
        case 'v':
            mo.verbose++;
            break;
        case O_TIMEOUT:
            if (!cli_parse_seconds(optarg, &timeout_ms) || timeout_ms < 1)
                return cli_usage_error("discover", "--timeout wants a time (5s, 500ms), not '%s'", optarg);
            break;
        case 'h':
            cli_help(stdout, &cli_discover);
            return EXIT_OK;
        default:
            return cli_bad_option("discover", opt, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("discover", "unexpected argument '%s'", argv[optind + 1]);
    o.url = optind < argc ? argv[optind] : NULL;
    if (o.url == NULL || strncasecmp(o.url, "etcd://", 7) != 0) {
        mo.type = o.url;
        mo.timeout_ms = timeout_ms >= 0 ? timeout_ms : 3000;
        mo.watch = watching;
        mo.json = o.json;
        return discover_mdns(&mo);
    }
    if (timeout_ms < 0)
        timeout_ms = 5000;
    sk_etcd_url u;
    if (sk_etcd_url_parse(o.url, &u) < 0)
        return cli_usage_error("discover", "'%s' is not etcd://HOST[:PORT]/PREFIX", o.url);
    return watching ? watch(&o, timeout_ms) : list_once(&o, timeout_ms);
}
