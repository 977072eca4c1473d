/* The options every sockit connect mode shares, parsed once (connect.h),
 * and the resolution of its address operand. */
#include "connect.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

int connect_parse(const cli_command *cmd, int argc, char **argv, connect_opts *o)
{
    cli_parser cp;
    int opt;
    long v;

    *o = (connect_opts){.timeout_ms = -1, .multicast_ttl = -1, .linger_s = -1};
    cli_parser_init(&cp, cmd);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 't':
        case 'w':
            if (!cli_parse_seconds(optarg, &o->timeout_ms) || o->timeout_ms > INT32_MAX)
                return cli_usage_error("connect", "-%c/--timeout wants seconds, not '%s'", opt, optarg);
            break;
        case '4':
            o->resolve_flags = SK_RESOLVE_V4ONLY;
            break;
        case '6':
            o->resolve_flags = SK_RESOLVE_V6ONLY;
            break;
        case 'u':
            o->udp = true;
            break;
        case 'l':
            o->listen = true;
            break;
        case 'k':
            o->keep = true;
            break;
        case 'z':
            o->scan = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'x':
            if (o->hex == NULL)
                o->hex = stderr;
            break;
        case CO_HEXFILE:
            if (o->hex && o->hex != stderr)
                fclose(o->hex);
            o->hex = fopen(optarg, "w");
            if (o->hex == NULL) {
                cli_error("hexdump file %s: %s", optarg, strerror(errno));
                return EXIT_FAIL;
            }
            setvbuf(o->hex, NULL, _IOLBF, 0);
            break;
        case CO_JSON:
            o->json = true;
            if (o->tracer)
                connect_tracer(true);
            break;
        case CO_DELAY: {
            int64_t ms;
            if (!cli_parse_seconds(optarg, &ms) || ms < 1 || ms > 60000)
                return cli_usage_error("connect", "--attempt-delay wants a time from 1ms to 60s, not '%s'", optarg);
            o->attempt_delay_ms = (int)ms;
            break;
        }
        case CO_EXPECT:
            o->expect_reply = true;
            break;
        case CO_RAW:
            o->raw = true;
            break;
        case CO_BCAST:
            o->broadcast = true;
            break;
        case CO_MTTL:
            if (!cli_parse_int(optarg, 0, 255, &v))
                return cli_usage_error("connect", "--multicast-ttl wants 0 to 255, not '%s'", optarg);
            o->multicast_ttl = (int)v;
            break;
        case CO_IF:
            o->ifname = optarg;
            break;
        case CO_DNS:
            o->dns = optarg;
            break;
        case CO_LINGER:
            if (!cli_parse_int(optarg, 0, 3600, &v))
                return cli_usage_error("connect", "--linger wants seconds from 0 to 3600, not '%s'", optarg);
            o->linger_s = (int)v;
            break;
        case CO_HOLD:
            if (!cli_parse_seconds(optarg, &o->hold_ms) || o->hold_ms > 86400000)
                return cli_usage_error("connect", "--hold wants a time (500ms, 5s), not '%s'", optarg);
            break;
        case CO_TRACE:
            o->tracer = connect_tracer(o->json);
            break;
        case 'h':
            cli_help(stdout, cmd);
            return EXIT_OK;
        default:
            return cli_bad_option("connect", opt, argv);
        }
    }
    o->operands = argv + optind;
    o->noperands = argc - optind;
    return -1;
}

/* Resolve ADDR for a client or a listener; on failure the message is
 * printed and the exit code returned (as a negative number). */
static int resolve(const char *name, int socktype, int flags, sk_addr *addrs, int max)
{
    int n = sk_addr_resolve(name, socktype, flags, addrs, (size_t)max);
    if (n >= 0)
        return n;
    int code = cli_exit_for(n);
    if (code == EXIT_USAGE)
        cli_addr_usage("connect", NULL, name, n);
    else
        cli_error("resolve %s: %s", name, sk_strerror(n));
    return -code;
}

int connect_resolve(const connect_opts *o, int socktype, int extra_flags, sk_addr *addrs, int max)
{
    return resolve(o->operands[0], socktype, o->resolve_flags | extra_flags, addrs, max);
}

/* --trace: each event one line on stderr, text or (with --json) JSON. */
static bool trace_json;

static void trace_line(void *ud, const sk_trace_event *ev)
{
    char line[1024];
    (void)ud;
    if (trace_json)
        fprintf(stderr, "%s\n", sk_trace_json(ev, line, sizeof line));
    else
        fprintf(stderr, "sockit: %s\n", sk_trace_format(ev, line, sizeof line));
}

sk_tracer *connect_tracer(bool json)
{
    static sk_tracer t = {.fn = trace_line, .side = "client"};
    trace_json = trace_json || json;
    return &t;
}

int connect_family(const connect_opts *o)
{
    return o->resolve_flags & SK_RESOLVE_V4ONLY ? AF_INET : o->resolve_flags & SK_RESOLVE_V6ONLY ? AF_INET6 : AF_UNSPEC;
}
