/* sockit: one command, many subcommands. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"serve", cmd_serve, "serve echo, discard, chargen, daytime or http over TCP (or UDP) under any concurrency model"},
    {"connect", cmd_connect,
     "netcat-like client: stdin to the socket, the socket to stdout; TCP with half-close, or --udp"},
    {"ping", cmd_ping, "ICMP echo to a host (raw socket, or unprivileged datagram socket), IPv4 and IPv6"},
    {"trace-route", cmd_trace, "the routers on the way to a host, by increasing TTL (UDP or ICMP probes)"},
    {"bench", cmd_bench, "load a server (echo, discard, HTTP): requests/s, latency percentiles; --sweep"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sockit COMMAND [OPTIONS]\n\n"
               "A socket toolkit: servers, clients and the ideas behind them.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'sockit COMMAND --help' for a command's options.\n"
               "Options: -h, --help  this text;  -V, --version  the version.\n");
}

int main(int argc, char **argv)
{
    /* A peer that goes away must surface as EPIPE on that socket, not kill
     * the process. */
    signal(SIGPIPE, SIG_IGN);

    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("sockit %s\n", sk_version());
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
