/* sockit lifecycle: a client and a server on loopback, every socket call of
 * each traced (trace.h), the states each connection passes through (also
 * after close, from sock_diag) and, with --packets, the segments on the
 * wire (capture.h), printed as the guide's pictures: the two sides in two
 * columns, in time order, the wire between them. Each scenario says what
 * it expects; what the kernel did is checked against it. */
#include "cli.h"
#include "lifecycle.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>

enum { O_SCENARIO = CLI_LONG, O_PACKETS, O_JSON, O_LIST };

static const cli_option options[] = {
    CLI_OPT('s', "scenario", "NAME", O_SCENARIO, "which life to show (default normal; --list names them)"),
    CLI_OPT(0, "packets", NULL, O_PACKETS,
            "capture the connection's segments too (AF_PACKET on lo, a classic\n"
            "BPF filter: needs CAP_NET_RAW)"),
    CLI_OPT(0, "json", NULL, O_JSON, "one JSON object per event, then the verdict (docs/json.md)"),
    CLI_OPT(0, "list", NULL, O_LIST, "the scenarios and what each expects"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_lifecycle = {
    .name = "lifecycle",
    .summary = "a TCP connection's life, shown: both sides' system calls, the states, the segments",
    .usage = "[OPTIONS] [--scenario NAME] [ADDR]",
    .about = "Run a client and a server on 127.0.0.1 and show what happened: each side's\n"
             "socket calls in its own column (socket, bind, listen, accept / socket,\n"
             "connect, send, recv, shutdown, close) with the result and the TCP state\n"
             "after it, the states the kernel moves each side through between the calls\n"
             "and after close (as root every change, from the sock:inet_sock_set_state\n"
             "tracepoint; TIME_WAIT, and all of them otherwise, from sock_diag), and\n"
             "with --packets the segments between them (SYN, SYN+ACK, ACK, data, FIN,\n"
             "RST) with seq, ack and length.\n"
             "Each scenario states what it expects (which side ends in TIME_WAIT, whether\n"
             "a RST is sent) and checks it against what the kernel did.\n"
             "\n"
             "With ADDR (host:port) only the client runs, against a server already there\n"
             "(any program's): the server's column shows what this host can see of it,\n"
             "its socket's states when it runs here and the segments (--packets, on lo);\n"
             "only the client's side is checked.",
    .footer = "Exit status: 0 when the kernel did what the scenario expects, 1 when not\n"
              "(the differences are printed), 2 for bad usage.",
    .options = options,
    .run = cmd_lifecycle,
};

static int list(void)
{
    for (const lc_scenario *s = lc_scenarios; s->name; s++)
        printf("%-20s %s\n", s->name, s->about);
    return EXIT_OK;
}

int cmd_lifecycle(int argc, char **argv)
{
    cli_parser cp;
    const char *name = "normal";
    lc_run r;
    int opt;

    memset(&r, 0, sizeof r);
    cli_parser_init(&cp, &cli_lifecycle);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 's':
        case O_SCENARIO:
            name = optarg;
            break;
        case O_PACKETS:
            r.packets = true;
            break;
        case O_JSON:
            r.json = true;
            break;
        case O_LIST:
            return list();
        case 'h':
            cli_help(stdout, &cli_lifecycle);
            return EXIT_OK;
        default:
            return cli_bad_option("lifecycle", opt, argv);
        }
    }
    if (argc - optind > 1)
        return cli_operand_error("lifecycle", argc, argv, "at most one operand, the server's ADDR");
    for (const lc_scenario *s = lc_scenarios; s->name; s++) {
        if (strcmp(s->name, name) == 0)
            r.sc = s;
    }
    if (r.sc == NULL)
        return cli_usage_error("lifecycle", "unknown scenario '%s' (sockit lifecycle --list)", name);
    if (optind < argc) {
        sk_hostport hp;
        const char *text = argv[optind];
        int rc = sk_addr_split(text, &hp);
        if (rc < 0 || hp.host[0] == '\0')
            return rc < 0
                       ? cli_addr_usage("lifecycle", NULL, text, rc)
                       : cli_usage_error("lifecycle", "ADDR wants a host and a port (127.0.0.1:7007), not '%s'", text);
        if (r.sc->own_server)
            return cli_usage_error("lifecycle", "scenario %s needs sockit's own server (both sides act together)",
                                   r.sc->name);
        rc = sk_addr_resolve(text, SOCK_STREAM, 0, &r.addr, 1);
        if (rc < 0) {
            if (cli_exit_for(rc) == EXIT_USAGE)
                return cli_addr_usage("lifecycle", NULL, text, rc);
            cli_error("lifecycle: resolve %s: %s", text, sk_strerror(rc));
            return EXIT_FAIL;
        }
        r.target = text;
    }
    return lc_run_scenario(&r);
}
