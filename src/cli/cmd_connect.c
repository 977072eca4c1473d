/* sockit connect: a netcat-like TCP client. stdin goes to the socket and the
 * socket to stdout, both at once; at stdin EOF it half-closes (FIN) and keeps
 * reading until the server closes. Binary-safe. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define IO_CHUNK (64 * 1024)
#define MAX_ADDRS 16

static const cli_option options[] = {
    CLI_OPT('t', "timeout", "S", 0, "give up a connection attempt after S seconds (default 10)"),
    CLI_OPT('4', NULL, NULL, 0, "only IPv4"),
    CLI_OPT('6', NULL, NULL, 0, "only IPv6"),
    CLI_OPT('u', "udp", NULL, 0, "datagrams instead (see 'sockit connect --udp --help')"),
    CLI_OPT('v', "verbose", NULL, 0, "say which address answered, and the byte counts at the end"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_connect = {
    .name = "connect",
    .summary = "netcat-like client: stdin to the socket, the socket to stdout; TCP with half-close, or --udp",
    .usage = "[OPTIONS] ADDR",
    .about = "Connect to ADDR over TCP: stdin is sent to the socket, what arrives is written\n"
             "to stdout. At the end of stdin the write side is shut down (FIN) and sockit\n"
             "keeps reading until the server closes.\n\n"
             "ADDR: host:port, [v6addr]:port, :port (loopback), host:service-name (e.g. localhost:echo).\n"
             "Every address the name resolves to is tried in order.",
    .options = options,
    .run = cmd_connect,
};

typedef struct pump {
    int sock;
    const char *name;
    char out[IO_CHUNK]; /* stdin -> socket */
    size_t out_len, out_off;
    char in[IO_CHUNK]; /* socket -> stdout */
    bool stdin_eof, shut, sock_eof;
    uint64_t sent, received;
} pump;

static int write_stdout(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int run(pump *p)
{
    for (;;) {
        struct pollfd fds[2] = {{.fd = -1}, {.fd = p->sock}};
        if (!p->stdin_eof && p->out_len == 0)
            fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        if (!p->sock_eof)
            fds[1].events |= POLLIN;
        if (p->out_len > 0)
            fds[1].events |= POLLOUT;
        if (p->stdin_eof && p->out_len == 0 && !p->shut) {
            /* Everything sent: half-close so the server sees EOF, and
             * keep reading its answer. */
            sk_shutdown_write(p->sock);
            p->shut = true;
        }
        if (p->sock_eof)
            return EXIT_OK;
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            cli_error("poll: %s", strerror(errno));
            return EXIT_FAIL;
        }
        if (fds[0].revents) {
            ssize_t n = read(STDIN_FILENO, p->out, sizeof p->out);
            if (n > 0) {
                p->out_len = (size_t)n;
                p->out_off = 0;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                p->stdin_eof = true;
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(p->sock, p->in, sizeof p->in, MSG_DONTWAIT);
            if (n > 0) {
                p->received += (uint64_t)n;
                if (write_stdout(p->in, (size_t)n) < 0)
                    return EXIT_OK; /* the reader of our output went away */
            } else if (n == 0) {
                p->sock_eof = true;
            } else if (errno != EINTR && errno != EAGAIN) {
                cli_error("recv %s: %s", p->name, strerror(errno));
                return EXIT_FAIL;
            }
        }
        if (p->out_len > 0 && (fds[1].revents & (POLLOUT | POLLERR))) {
            ssize_t n = send(p->sock, p->out + p->out_off, p->out_len - p->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                p->out_off += (size_t)n;
                p->sent += (uint64_t)n;
                if (p->out_off == p->out_len)
                    p->out_len = p->out_off = 0;
            } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
                cli_error("send %s: %s", p->name, strerror(errno));
                return EXIT_FAIL;
            }
        }
    }
}

int cmd_connect(int argc, char **argv)
{
    cli_parser cp;
    static pump p;
    sk_addr addrs[MAX_ADDRS];
    int64_t timeout_ms = 10000;
    int flags = 0, which = 0, opt, n, rc;
    bool verbose = false;
    static char a[SK_ADDRSTRLEN];

    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--udp") == 0 || strcmp(argv[i], "-u") == 0)
            return cmd_connect_udp(argc, argv);
    }
    cli_parser_init(&cp, &cli_connect);
    while ((opt = cli_next(&cp, argc, argv)) != -1) {
        switch (opt) {
        case 't':
            if (!cli_parse_seconds(optarg, &timeout_ms) || timeout_ms > INT32_MAX)
                return cli_usage_error("connect", "--timeout wants seconds, not '%s'", optarg);
            break;
        case '4':
            flags = SK_RESOLVE_V4ONLY;
            break;
        case '6':
            flags = SK_RESOLVE_V6ONLY;
            break;
        case 'v':
            verbose = true;
            break;
        case 'u':
            /* Only a separate -u or --udp selects the UDP client (above);
             * inside a cluster such as -vu it is refused, as ever. */
            return cli_bad_option("connect", '?', argv);
        case 'h':
            cli_help(stdout, &cli_connect);
            return EXIT_OK;
        default:
            return cli_bad_option("connect", opt, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_operand_error("connect", argc, argv, "ADDR (host:port)");
    p.name = argv[optind];

    n = sk_addr_resolve(p.name, SOCK_STREAM, flags, addrs, MAX_ADDRS);
    if (n < 0) {
        int code = cli_exit_for(n);
        if (code == EXIT_USAGE)
            return cli_usage_error("connect", "%s: %s", p.name, sk_strerror(n));
        cli_error("resolve %s: %s", p.name, sk_strerror(n));
        return code;
    }
    rc = sk_tcp_connect(addrs, n, (int)timeout_ms, &which);
    sk_addr_format((const struct sockaddr *)&addrs[which].ss, a, sizeof a);
    if (rc < 0) {
        cli_error("connect %s: %s", a, sk_strerror(rc));
        return EXIT_FAIL;
    }
    p.sock = rc;
    if (verbose)
        fprintf(stderr, "sockit: connected to %s\n", a);
    p.name = a;
    rc = run(&p);
    if (verbose)
        fprintf(stderr, "sockit: sent %" PRIu64 " bytes, received %" PRIu64 " bytes\n", p.sent, p.received);
    close(p.sock);
    return rc;
}
