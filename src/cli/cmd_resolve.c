/* sockit resolve: how a name becomes a server, source by source: the
 * services database, the hosts database through NSS (getaddrinfo), and
 * unicast DNS through libsockit's resolver (c-ares on an sk_loop). --trace
 * names each source asked, what it said and how long it took; --pick runs
 * the RFC 2782 SRV order many times and counts the first choices. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <sockit/sockit.h>

#define MAX_ANSWERS 256
#define MAX_STEPS 8
#define MAX_QUERIES 4
#define TYPE_PORT (-1) /* a services-database answer */
#define TYPE_ANY (-2)

enum { O_SERVER = CLI_LONG, O_TRACE, O_JSON, O_PICK, O_SEED, O_TIMEOUT };

static const cli_option options[] = {
    CLI_OPT('t', "type", "A|AAAA|SRV|TXT|PTR|any", 0,
            "ask DNS for this record type (any: A, AAAA, SRV and TXT at once);\n"
            "without it the form of NAME decides what is asked, and of whom"),
    CLI_OPT(0, "server", "ADDR", O_SERVER,
            "ask this DNS server (ip[:port], several with commas) instead of\n"
            "those of /etc/resolv.conf; the hosts database is then skipped"),
    CLI_OPT(0, "timeout", "DURATION", O_TIMEOUT, "how long a DNS server gets to answer, over two tries (default 5s)"),
    CLI_OPT(0, "trace", NULL, O_TRACE, "on stderr: each source asked, in order, its answer and its time"),
    CLI_OPT(0, "json", NULL, O_JSON, "one JSON document: answers and trace (docs/json.md)"),
    CLI_OPT(0, "pick", "N", O_PICK,
            "SRV: order the targets N times (RFC 2782) and count how often each\n"
            "comes first"),
    CLI_OPT(0, "seed", "N", O_SEED, "the random seed for --pick (default: a random one, reported)"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_resolve = {
    .name = "resolve",
    .summary = "how a name becomes a server: services, hosts (NSS) and DNS (A, AAAA, SRV, TXT, PTR)",
    .usage = "[OPTIONS] NAME",
    .about = "Look NAME up the ways a client finds a server, and print each answer as\n"
             "TYPE DATA (PORT 7, A 127.0.0.1, SRV 10 60 7 a.example.test.). Without\n"
             "--type the form of NAME decides: a service name (echo) is looked up in\n"
             "the services database; host:service (localhost:echo) there and in the\n"
             "hosts database; _service._proto.domain or srv:NAME is a DNS SRV query; an\n"
             "address is a PTR query; any other name goes to the hosts database (NSS)\n"
             "and, when that fails, to DNS for A and AAAA. With --server, DNS is asked\n"
             "instead of NSS. With --type only DNS is asked.",
    .footer = "Exit status: 0 with an answer; 1 for no such domain (NXDOMAIN), server\n"
              "failure (SERVFAIL), timeout, no such service (SRV target \".\" or a name\n"
              "not in the services database) and no record of the type; 2 for bad usage.",
    .options = options,
    .run = cmd_resolve,
};

/* One answer, from whichever source. */
typedef struct answer {
    const char *source;
    char server[SK_ADDRSTRLEN];
    int type;
    char name[SK_DNS_NAME_MAX];
    uint32_t ttl;
    char data[SK_DNS_NAME_MAX + 64];      /* presentation form: "10 60 7 a.example.test.", "\"txt\"" */
    char json[2 * SK_DNS_NAME_MAX + 128]; /* the type's own JSON fields, without braces */
    uint16_t priority, weight, port;
    char target[SK_DNS_NAME_MAX];
} answer;

/* One source asked: a line of --trace. */
typedef struct step {
    const char *source;
    char server[SK_ADDRSTRLEN];
    const char *type; /* NULL for services and hosts */
    char query[SK_DNS_NAME_MAX];
    int status;
    size_t answers;
    double ms;
    char said[1024];
} step;

typedef struct run {
    const char *name;
    const char *servers;
    int64_t timeout_ms;
    bool trace, json;
    answer *ans;
    size_t nans;
    step steps[MAX_STEPS];
    size_t nsteps;
    sk_resolver *res;
    sk_loop *loop;
} run;

static answer *add_answer(run *r, const char *source, int type, const char *name)
{
    if (r->nans >= MAX_ANSWERS)
        return NULL;
    answer *a = &r->ans[r->nans++];
    memset(a, 0, sizeof *a);
    a->source = source;
    a->type = type;
    snprintf(a->name, sizeof a->name, "%s", name);
    return a;
}

static step *add_step(run *r, const char *source, const char *query)
{
    step *s = &r->steps[r->nsteps < MAX_STEPS ? r->nsteps++ : MAX_STEPS - 1];
    memset(s, 0, sizeof *s);
    s->source = source;
    snprintf(s->query, sizeof s->query, "%s", query);
    return s;
}

static void said_append(step *s, const char *text)
{
    size_t w = strlen(s->said);
    snprintf(s->said + w, sizeof s->said - w, "%s%s", w ? ", " : "", text);
}

static const char *type_text(int type)
{
    const char *n = sk_dns_type_name(type);
    return type == TYPE_PORT ? "PORT" : n ? n : "?";
}

static double ms_since(int64_t t0) { return (double)(sk_now_us() - t0) / 1000.0; }

/* The services database: "echo" -> 7 (tcp, else udp). */
static int ask_services(run *r, const char *service)
{
    step *s = add_step(r, "services", service);
    int64_t t0 = sk_now_us();
    const char *proto = "tcp";
    int port = sk_port_lookup(service, proto);
    if (port == SK_ENOSERVICE) {
        proto = "udp";
        port = sk_port_lookup(service, proto);
    }
    s->ms = ms_since(t0);
    s->status = port < 0 ? port : 0;
    if (port < 0) {
        snprintf(s->said, sizeof s->said, "%s", sk_strerror(port));
        return port;
    }
    snprintf(s->said, sizeof s->said, "%d", port);
    s->answers = 1;
    answer *a = add_answer(r, "services", TYPE_PORT, service);
    if (a) {
        a->port = (uint16_t)port;
        snprintf(a->data, sizeof a->data, "%d", port);
        char js[SK_SERV_MAX * 2 + 8];
        cli_json_str(js, sizeof js, service);
        snprintf(a->json, sizeof a->json, "\"service\":%s,\"proto\":\"%s\",\"port\":%d", js, proto, port);
    }
    return 0;
}

/* The hosts database through NSS: every address getaddrinfo gives. */
static int ask_hosts(run *r, const char *host)
{
    step *s = add_step(r, "hosts", host);
    char text[SK_HOST_MAX + 8];
    sk_addr addrs[32];
    int64_t t0 = sk_now_us();

    snprintf(text, sizeof text, strchr(host, ':') ? "[%s]:0" : "%s:0", host);
    int n = sk_addr_resolve(text, SOCK_STREAM, 0, addrs, 32);
    s->ms = ms_since(t0);
    s->status = n < 0 ? n : 0;
    if (n < 0) {
        snprintf(s->said, sizeof s->said, "%s", sk_strerror(n));
        return n;
    }
    for (int i = 0; i < n; i++) {
        char h[SK_ADDRSTRLEN];
        int type = addrs[i].ss.ss_family == AF_INET6 ? SK_DNS_AAAA : SK_DNS_A;
        cli_format_host((struct sockaddr *)&addrs[i].ss, h, sizeof h);
        said_append(s, h);
        answer *a = add_answer(r, "hosts", type, host);
        if (a) {
            snprintf(a->data, sizeof a->data, "%s", h);
            snprintf(a->json, sizeof a->json, "\"address\":\"%s\"", h);
        }
    }
    s->answers = (size_t)n;
    return 0;
}

/* The hosts database the other way: an address's name (getnameinfo). */
static int ask_hosts_ptr(run *r, const char *ip)
{
    step *s = add_step(r, "hosts", ip);
    sk_addr a;
    char host[SK_DNS_NAME_MAX];
    int64_t t0 = sk_now_us();
    int rc = cli_resolve_host(ip, 0, &a);
    if (rc == 0) {
        int g = getnameinfo((struct sockaddr *)&a.ss, a.len, host, sizeof host, NULL, 0, NI_NAMEREQD);
        rc = g == 0 ? 0 : g == EAI_AGAIN ? SK_ETEMPFAIL : SK_ENONAME;
    }
    s->ms = ms_since(t0);
    s->status = rc;
    if (rc < 0) {
        snprintf(s->said, sizeof s->said, "%s", sk_strerror(rc));
        return rc;
    }
    snprintf(s->said, sizeof s->said, "%s", host);
    s->answers = 1;
    answer *an = add_answer(r, "hosts", SK_DNS_PTR, ip);
    if (an) {
        char js[SK_DNS_NAME_MAX * 2 + 4];
        cli_json_str(js, sizeof js, host);
        snprintf(an->data, sizeof an->data, "%s", host);
        snprintf(an->json, sizeof an->json, "\"target\":%s", js);
    }
    return 0;
}

/* TXT strings: presentation form ("a" "b", \DDD for odd bytes) and a JSON
 * array of strings (\u00XX for bytes outside printable ASCII). */
static void txt_forms(const sk_dns_rr *rr, answer *a)
{
    size_t off = 0, len, wd = 0, wj = 0, k = 0;
    const uint8_t *str;
    wj += (size_t)snprintf(a->json, sizeof a->json, "\"text\":[");
    while (sk_dns_txt_next(rr, &off, &str, &len) == 1) {
        if (wd < sizeof a->data)
            wd += (size_t)snprintf(a->data + wd, sizeof a->data - wd, "%s\"", wd ? " " : "");
        if (wj < sizeof a->json)
            wj += (size_t)snprintf(a->json + wj, sizeof a->json - wj, "%s\"", k++ ? "," : "");
        for (size_t i = 0; i < len; i++) {
            uint8_t c = str[i];
            char d[8], j[8];
            if (c == '"' || c == '\\') {
                snprintf(d, sizeof d, "\\%c", c);
                snprintf(j, sizeof j, "\\%c", c);
            } else if (c < 0x20 || c >= 0x7f) {
                snprintf(d, sizeof d, "\\%03u", c);
                snprintf(j, sizeof j, "\\u%04x", c);
            } else {
                snprintf(d, sizeof d, "%c", c);
                snprintf(j, sizeof j, "%c", c);
            }
            if (wd < sizeof a->data)
                wd += (size_t)snprintf(a->data + wd, sizeof a->data - wd, "%s", d);
            if (wj < sizeof a->json)
                wj += (size_t)snprintf(a->json + wj, sizeof a->json - wj, "%s", j);
        }
        if (wd < sizeof a->data)
            wd += (size_t)snprintf(a->data + wd, sizeof a->data - wd, "\"");
        if (wj < sizeof a->json)
            wj += (size_t)snprintf(a->json + wj, sizeof a->json - wj, "\"");
    }
    if (wj < sizeof a->json)
        snprintf(a->json + wj, sizeof a->json - wj, "]");
}

static void dns_answer(run *r, step *s, const char *server, const sk_dns_rr *rr)
{
    answer *a = add_answer(r, "dns", rr->type, rr->name);
    char js[SK_DNS_NAME_MAX * 2 + 4], ip[INET6_ADDRSTRLEN];
    if (a == NULL)
        return;
    snprintf(a->server, sizeof a->server, "%s", server);
    a->ttl = rr->ttl;
    switch (rr->type) {
    case SK_DNS_A:
    case SK_DNS_AAAA:
        inet_ntop(rr->type == SK_DNS_A ? AF_INET : AF_INET6, rr->addr, ip, sizeof ip);
        snprintf(a->data, sizeof a->data, "%s", ip);
        snprintf(a->json, sizeof a->json, "\"address\":\"%s\"", ip);
        break;
    case SK_DNS_SRV:
        a->priority = rr->priority;
        a->weight = rr->weight;
        a->port = rr->port;
        snprintf(a->target, sizeof a->target, "%s", rr->target);
        cli_json_str(js, sizeof js, rr->target);
        snprintf(a->data, sizeof a->data, "%u %u %u %s%s", rr->priority, rr->weight, rr->port, rr->target,
                 strcmp(rr->target, ".") ? "." : "");
        snprintf(a->json, sizeof a->json, "\"priority\":%u,\"weight\":%u,\"port\":%u,\"target\":%s", rr->priority,
                 rr->weight, rr->port, js);
        break;
    case SK_DNS_PTR:
    case SK_DNS_CNAME:
        cli_json_str(js, sizeof js, rr->target);
        snprintf(a->data, sizeof a->data, "%s%s", rr->target, strcmp(rr->target, ".") ? "." : "");
        snprintf(a->json, sizeof a->json, "\"target\":%s", js);
        break;
    case SK_DNS_TXT:
        txt_forms(rr, a);
        break;
    default:
        r->nans--; /* a type sockit does not show */
        return;
    }
    said_append(s, a->data);
}

static void on_dns(const sk_dns_result *res, void *data)
{
    run *r = ((void **)data)[0];
    step *s = ((void **)data)[1];
    s->ms = res->time_ms;
    s->status = res->status;
    snprintf(s->server, sizeof s->server, "%s", res->server);
    if (res->status != 0 && res->status != SK_ENODATA)
        snprintf(s->said, sizeof s->said, "%s", sk_strerror(res->status));
    for (size_t i = 0; i < res->n; i++) {
        if (res->rrs[i].type == res->type || res->rrs[i].type == SK_DNS_CNAME) {
            dns_answer(r, s, res->server, &res->rrs[i]);
            s->answers += res->rrs[i].type == res->type;
        }
    }
    if (res->status == SK_ENODATA && s->said[0] == '\0')
        snprintf(s->said, sizeof s->said, "%s", sk_strerror(res->status));
}

/* Ask DNS for name with each of types[0..n) at once; steps in that order. */
static int ask_dns(run *r, const char *name, const int *types, size_t n)
{
    void *ctx[MAX_QUERIES][2];
    int err = 0;

    if (r->res == NULL) {
        r->loop = sk_loop_new(NULL, 0, &err);
        if (r->loop == NULL)
            return err;
        sk_resolver_opts o = {.servers = r->servers, .timeout_ms = r->timeout_ms};
        r->res = sk_resolver_new(r->loop, &o, &err);
        if (r->res == NULL)
            return err;
    }
    for (size_t i = 0; i < n && i < MAX_QUERIES; i++) {
        step *s = add_step(r, "dns", name);
        s->type = sk_dns_type_name(types[i]);
        ctx[i][0] = r;
        ctx[i][1] = s;
        int rc = sk_resolver_query(r->res, name, types[i], on_dns, ctx[i]);
        if (rc < 0) {
            s->status = rc;
            snprintf(s->said, sizeof s->said, "%s", sk_strerror(rc));
            sk_resolver_servers(r->res, s->server, sizeof s->server);
        }
    }
    while (sk_resolver_pending(r->res) > 0) {
        int rc = sk_loop_once(r->loop, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool is_address(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* What NAME asks for when --type is not given, and the asking. */
static int resolve_auto(run *r, const char *name)
{
    static const int addr_types[] = {SK_DNS_A, SK_DNS_AAAA};
    static const int srv_type[] = {SK_DNS_SRV};
    static const int ptr_type[] = {SK_DNS_PTR};

    if (strncmp(name, "srv:", 4) == 0)
        return ask_dns(r, name + 4, srv_type, 1);
    if (name[0] == '_' && strchr(name, '.'))
        return ask_dns(r, name, srv_type, 1);
    if (is_address(name)) {
        if (r->servers == NULL)
            return ask_hosts_ptr(r, name);
        char rev[SK_DNS_NAME_MAX];
        sk_dns_reverse_name(name, rev, sizeof rev);
        return ask_dns(r, rev, ptr_type, 1);
    }
    sk_hostport hp;
    const char *host = name;
    if (strchr(name, ':')) {
        int rc = sk_addr_split(name, &hp);
        if (rc < 0)
            return rc;
        if (ask_services(r, hp.port) < 0)
            return 0;
        if (hp.host[0] == '\0')
            return 0;
        host = hp.host;
    } else if (strchr(name, '.') == NULL && sk_port_lookup(name, "tcp") >= 0) {
        return ask_services(r, name);
    }
    if (r->servers == NULL && ask_hosts(r, host) == 0)
        return 0;
    return ask_dns(r, host, addr_types, 2);
}

static int resolve_typed(run *r, const char *name, int type)
{
    static const int any[] = {SK_DNS_A, SK_DNS_AAAA, SK_DNS_SRV, SK_DNS_TXT};
    char rev[SK_DNS_NAME_MAX];

    if (strncmp(name, "srv:", 4) == 0)
        name += 4;
    if (type == TYPE_ANY)
        return ask_dns(r, name, any, 4);
    if (type == SK_DNS_PTR && sk_dns_reverse_name(name, rev, sizeof rev) > 0)
        name = rev;
    return ask_dns(r, name, &type, 1);
}

static const char *status_word(int st)
{
    switch (st) {
    case 0:
        return "ok";
    case SK_ENXDOMAIN:
        return "nxdomain";
    case SK_ESERVFAIL:
        return "servfail";
    case SK_EDNSTIMEOUT:
        return "timeout";
    case SK_ENODATA:
        return "nodata";
    case SK_EREFUSED:
        return "refused";
    case SK_ESRVNONE:
        return "no_such_service";
    case SK_ENOSERVICE:
        return "unknown_service";
    case SK_ENONAME:
        return "no_such_host";
    default:
        return "error";
    }
}

static void print_trace(const run *r)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        const step *s = &r->steps[i];
        char ms[32];
        snprintf(ms, sizeof ms, s->ms < 1 ? "%.2f" : s->ms < 100 ? "%.1f" : "%.0f", s->ms);
        if (s->type)
            fprintf(stderr, "dns %s: %s %s -> %s (%s ms)\n", s->server, s->type, s->query, s->said, ms);
        else
            fprintf(stderr, "%s: %s -> %s (%s ms)\n", s->source, s->query, s->said, ms);
    }
}

/* The SRV answers, ordered --pick times: how often each came first. */
typedef struct picks {
    long n;
    uint64_t seed;
    size_t nsrv;
    sk_srv srv[MAX_ANSWERS];
    long first[MAX_ANSWERS];
} picks;

static int run_picks(const run *r, picks *p)
{
    size_t order[MAX_ANSWERS];
    sk_rng rng;

    p->nsrv = 0;
    for (size_t i = 0; i < r->nans; i++) {
        if (r->ans[i].type != SK_DNS_SRV)
            continue;
        p->srv[p->nsrv++] = (sk_srv){r->ans[i].priority, r->ans[i].weight, r->ans[i].port, r->ans[i].target};
    }
    sk_rng_seed(&rng, p->seed);
    for (long k = 0; k < p->n; k++) {
        int rc = sk_srv_order(p->srv, p->nsrv, 0, sk_rng_below, &rng, order);
        if (rc < 0)
            return rc;
        p->first[order[0]]++;
    }
    return 0;
}

static void print_json(const run *r, const char *type, int status, const picks *p)
{
    char js[SK_DNS_NAME_MAX * 2 + 4];
    cli_json_str(js, sizeof js, r->name);
    printf("{\"name\":%s,\"type\":\"%s\",\"status\":\"%s\",", js, type, status_word(status));
    if (status != 0) {
        cli_json_str(js, sizeof js, sk_strerror(status));
        printf("\"error\":%s,", js);
    }
    printf("\"answers\":[");
    for (size_t i = 0; i < r->nans; i++) {
        const answer *a = &r->ans[i];
        cli_json_str(js, sizeof js, a->name);
        printf("%s{\"source\":\"%s\",", i ? "," : "", a->source);
        if (a->server[0])
            printf("\"server\":\"%s\",", a->server);
        printf("\"name\":%s,\"type\":\"%s\",", js, a->type == TYPE_PORT ? "port" : type_text(a->type));
        if (strcmp(a->source, "dns") == 0)
            printf("\"ttl_s\":%" PRIu32 ",", a->ttl);
        printf("%s}", a->json);
    }
    printf("],\"trace\":[");
    for (size_t i = 0; i < r->nsteps; i++) {
        const step *s = &r->steps[i];
        char said[sizeof s->said * 2 + 4];
        cli_json_str(js, sizeof js, s->query);
        cli_json_str(said, sizeof said, s->said);
        printf("%s{\"source\":\"%s\",", i ? "," : "", s->source);
        if (s->type)
            printf("\"server\":\"%s\",\"type\":\"%s\",", s->server, s->type);
        printf("\"query\":%s,\"status\":\"%s\",\"answers\":%zu,\"said\":%s,\"elapsed_ms\":%.3f}", js,
               status_word(s->status), s->answers, said, s->ms);
    }
    printf("]");
    if (p) {
        printf(",\"picks\":{\"n\":%ld,\"seed\":%" PRIu64 ",\"first\":[", p->n, p->seed);
        for (size_t i = 0; i < p->nsrv; i++) {
            cli_json_str(js, sizeof js, p->srv[i].target);
            printf("%s{\"target\":%s,\"port\":%u,\"priority\":%u,\"weight\":%u,\"count\":%ld}", i ? "," : "", js,
                   p->srv[i].port, p->srv[i].priority, p->srv[i].weight, p->first[i]);
        }
        printf("]}");
    }
    printf("}\n");
}

/* The outcome: 0 with an answer of what was asked, else the first error
 * that says more than "no record of that type". */
static int outcome(const run *r)
{
    int st = SK_ENODATA;
    bool found = false, any_srv = false;
    for (size_t i = 0; i < r->nsteps; i++) {
        const step *s = &r->steps[i];
        found = found || (s->status == 0 && s->answers > 0);
        if (s->status != 0 && (st == SK_ENODATA || st == SK_ENONAME))
            st = s->status;
        any_srv = any_srv || (s->type && strcmp(s->type, "SRV") == 0 && s->status == 0);
    }
    if (any_srv) {
        /* SRV answers whose only target is "." mean "no such service". */
        sk_srv srv[MAX_ANSWERS];
        size_t n = 0, order[MAX_ANSWERS];
        for (size_t i = 0; i < r->nans; i++)
            if (r->ans[i].type == SK_DNS_SRV)
                srv[n++] = (sk_srv){r->ans[i].priority, r->ans[i].weight, r->ans[i].port, r->ans[i].target};
        int rc = sk_srv_order(srv, n, 0, NULL, NULL, order);
        if (rc == SK_ESRVNONE)
            return rc;
    }
    return found ? 0 : st;
}

/* The step that gave the outcome: the first with that status, or for "no
 * such service" the SRV query that answered ".". */
static const step *step_with(const run *r, int status)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        const step *s = &r->steps[i];
        if (s->status == status || (status == SK_ESRVNONE && s->type && strcmp(s->type, "SRV") == 0))
            return s;
    }
    return NULL;
}

int cmd_resolve(int argc, char **argv)
{
    cli_parser cp;
    static answer answers[MAX_ANSWERS];
    static picks pk;
    run r = {.ans = answers, .timeout_ms = 5000};
    int type = 0, opt, rc;
    const char *type_arg = "auto";
    bool seeded = false;

    memset(&pk, 0, sizeof pk);
    cli_parser_init(&cp, &cli_resolve);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 't':
            type = strcasecmp(optarg, "any") == 0 ? TYPE_ANY : sk_dns_type_of(optarg);
            if (type == -1 || type == SK_DNS_CNAME)
                return cli_usage_error("resolve", "--type wants A, AAAA, SRV, TXT, PTR or any, not '%s'", optarg);
            type_arg = type == TYPE_ANY ? "any" : sk_dns_type_name(type);
            break;
        case O_SERVER:
            if (optarg[0] == '\0')
                return cli_usage_error("resolve", "--server wants ip[:port], not ''");
            r.servers = optarg;
            break;
        case O_TIMEOUT:
            if (!cli_parse_seconds(optarg, &r.timeout_ms) || r.timeout_ms < 1)
                return cli_usage_error("resolve", "--timeout wants a duration (500ms, 5s), not '%s'", optarg);
            break;
        case O_TRACE:
            r.trace = true;
            break;
        case O_JSON:
            r.json = true;
            break;
        case O_PICK:
            if (!cli_parse_int(optarg, 1, 100000000, &pk.n))
                return cli_usage_error("resolve", "--pick wants a count from 1 to 100000000, not '%s'", optarg);
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0)
                return cli_usage_error("resolve", "--seed wants a non-negative number, not '%s'", optarg);
            pk.seed = s;
            seeded = true;
            break;
        }
        case 'h':
            cli_help(stdout, &cli_resolve);
            return EXIT_OK;
        default:
            return cli_bad_option("resolve", opt, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_operand_error("resolve", argc, argv, "NAME");
    r.name = argv[optind];
    if (r.name[0] == '\0' || strlen(r.name) >= SK_DNS_NAME_MAX)
        return cli_usage_error("resolve", "NAME must have 1 to %d characters", SK_DNS_NAME_MAX - 1);
    if (type != 0 && type != SK_DNS_SRV && type != TYPE_ANY && strncmp(r.name, "srv:", 4) == 0)
        return cli_usage_error("resolve", "srv:NAME is an SRV query, not --type %s", type_arg);

    rc = type == 0 ? resolve_auto(&r, r.name) : resolve_typed(&r, r.name, type);
    if (rc < 0 && r.nsteps == 0) {
        sk_resolver_free(r.res);
        if (r.loop)
            sk_loop_free(r.loop);
        if (rc == -EINVAL && r.servers)
            return cli_usage_error("resolve", "--server wants ip[:port] (several with commas), not '%s'", r.servers);
        cli_error("resolve %s: %s", r.name, sk_strerror(rc));
        return rc == SK_EADDRSYNTAX || rc == SK_EV6NOBRACKET || rc == SK_ENOPORT ? EXIT_USAGE : EXIT_FAIL;
    }
    int st = rc < 0 ? rc : outcome(&r);
    if (pk.n > 0) {
        if (!seeded && getrandom(&pk.seed, sizeof pk.seed, 0) != (ssize_t)sizeof pk.seed)
            pk.seed = (uint64_t)sk_now_ns();
        if (st == 0 && run_picks(&r, &pk) < 0)
            st = SK_ESRVNONE;
        if (st == 0 && pk.nsrv == 0)
            st = SK_ENODATA;
    }
    if (r.json) {
        print_json(&r, type_arg, st, pk.n > 0 && st == 0 ? &pk : NULL);
    } else {
        if (r.trace)
            print_trace(&r);
        for (size_t i = 0; i < r.nans; i++)
            printf("%s %s\n", type_text(r.ans[i].type), r.ans[i].data);
        if (pk.n > 0 && st == 0) {
            for (size_t i = 0; i < pk.nsrv; i++)
                printf("FIRST %s:%u %ld of %ld (priority %u weight %u, seed %" PRIu64 ")\n", pk.srv[i].target,
                       pk.srv[i].port, pk.first[i], pk.n, pk.srv[i].priority, pk.srv[i].weight, pk.seed);
        }
    }
    fflush(stdout);
    if (st != 0) {
        const step *s = step_with(&r, st);
        if (s && s->type)
            cli_error("resolve %s: %s (dns %s, %s %s, %.1f ms)", r.name, sk_strerror(st), s->server, s->type, s->query,
                      s->ms);
        else
            cli_error("resolve %s: %s", r.name, sk_strerror(st));
    }
    sk_resolver_free(r.res);
    if (r.loop)
        sk_loop_free(r.loop);
    return st == 0 ? EXIT_OK : EXIT_FAIL;
}
