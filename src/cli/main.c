/* sockit: one command, many subcommands. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sockit/sockit.h>

static const cli_command *const commands[] = {&cli_serve,   &cli_connect,  &cli_ping,  &cli_trace,    &cli_bench,
                                              &cli_resolve, &cli_discover, &cli_conns, &cli_lifecycle};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* What the man page documents, in its order: every command and variant. */
static const cli_command *const documented[] = {&cli_serve, &cli_connect, &cli_connect_udp, &cli_ping,  &cli_trace,
                                                &cli_bench, &cli_resolve, &cli_discover,    &cli_conns, &cli_lifecycle};

static void usage(FILE *f)
{
    fprintf(f, "usage: sockit COMMAND [OPTIONS]\n\n"
               "A socket toolkit: servers, clients and the ideas behind them.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun 'sockit COMMAND --help' for a command's options.\n"
               "Options: -h, --help  this text;  -V, --version  the version.\n");
}

int main(int argc, char **argv)
{
    /* A peer that goes away must surface as EPIPE on that socket, not kill
     * the process. */
    signal(SIGPIPE, SIG_IGN);
    /* Servers and the load generator hold a descriptor per connection; the
     * soft limit (often 1024) is only a default, the hard one the real
     * ceiling. Children (prefork workers, a sweep's server) inherit it. */
    cli_raise_nofile();

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
    /* Not in the usage: for whoever regenerates docs/sockit.1 (make man). */
    if (strcmp(argv[1], "--man") == 0) {
        if (argc != 3)
            return cli_usage_error(NULL, "--man wants the prose file (docs/sockit.1.in)");
        return cli_man(argv[2], documented, sizeof documented / sizeof documented[0]);
    }
    /* Also hidden: the shell completion script the build installs. */
    if (strcmp(argv[1], "--completion") == 0) {
        if (argc != 3)
            return cli_usage_error(NULL, "--completion wants the shell: bash");
        return cli_completion(argv[2], documented, sizeof documented / sizeof documented[0]);
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) == 0)
            return commands[i]->run(argc - 1, argv + 1);
    }
    return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
