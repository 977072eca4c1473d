/* sockit connect: the option tables of its TCP and UDP forms, the dispatch
 * to the mode asked for, and the netcat-like TCP client: stdin goes to the
 * socket and the socket to stdout, both at once; at stdin EOF it half-closes
 * (FIN) and keeps reading until the server closes. Binary-safe. */
#include "connect.h"
#include "target.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>

static const cli_option options[] = {
    CLI_OPT('t', "timeout", "S", 0, "give up a connection attempt after S seconds (default 10)"),
    CLI_OPT('w', NULL, "S", 0, "the same as --timeout (nc's letter); S may have a unit: 500ms, 5s, 2m"),
    CLI_OPT('4', NULL, NULL, 0, "only IPv4"),
    CLI_OPT('6', NULL, NULL, 0, "only IPv6"),
    CLI_OPT(0, "attempt-delay", "T", CO_DELAY,
            "Happy Eyeballs: start the next address after T while the earlier\n"
            "ones keep trying (default 250ms; RFC 8305)"),
    CLI_OPT(0, "dns-server", "ADDR", CO_DNS,
            "ask DNS at ADDR (ip[:port],...) for names and SRV records\n"
            "instead of the servers of /etc/resolv.conf"),
    CLI_OPT('u', "udp", NULL, 0, "datagrams instead (see 'sockit connect --udp --help')"),
    CLI_OPT('l', "listen", NULL, 0,
            "listen on ADDR instead and serve one client on stdin/stdout\n"
            "(like nc -l); -t/-w bounds the wait for a client"),
    CLI_OPT('k', "keep-open", NULL, 0, "with -l: accept the next client after one leaves"),
    CLI_OPT('z', "scan", NULL, 0,
            "scan: HOST PORTS... (1-1024,8080), open / closed / filtered per port;\n"
            "-t/-w is the per-port timeout (default 1)"),
    CLI_OPT(0, "json", NULL, CO_JSON, "with -z: one JSON object per port (every port); with --trace: the trace"),
    CLI_OPT(0, "trace", NULL, CO_TRACE,
            "every socket call on stderr as it happens (time, fd, arguments,\n"
            "result or errno, TCP state), then the states after close"),
    CLI_OPT(0, "hold", "TIME", CO_HOLD,
            "at the end of stdin keep the connection as it is for TIME before\n"
            "the FIN (to look at it with 'sockit conns', ss)"),
    CLI_OPT(0, "linger", "S", CO_LINGER,
            "at the end of stdin (and --hold) close with SO_LINGER S seconds\n"
            "instead of half-closing; 0 aborts: RST instead of FIN, no\n"
            "TIME_WAIT (sockit lifecycle --scenario rst)"),
    CLI_OPT('x', "hexdump", NULL, 0, "show every byte sent (>) and received (<) as a hex dump on stderr"),
    CLI_OPT(0, "hexdump-file", "FILE", CO_HEXFILE, "the hex dump into FILE instead (implies -x)"),
    CLI_OPT('v', "verbose", NULL, 0,
            "say which address answered (-l: each client's 4-tuple),\n"
            "and the byte counts at the end"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_connect = {
    .name = "connect",
    .also = &cli_connect_udp,
    .summary = "netcat-like client: stdin to the socket, the socket to stdout; TCP with half-close, or --udp",
    .usage = "[OPTIONS] ADDR\n-l [-k] [OPTIONS] ADDR\n-z [-v] [--json] [OPTIONS] HOST PORTS...",
    .about = "Connect to ADDR over TCP: stdin is sent to the socket, what arrives is written\n"
             "to stdout. At the end of stdin the write side is shut down (FIN) and sockit\n"
             "keeps reading until the server closes.\n\n"
             "The default is the half-close a request/response client wants; --hold TIME\n"
             "waits (still reading) before the FIN; --linger 0 --hold 1s reads for a\n"
             "second, then ends with RST instead.\n\n"
             "With -l, listen on ADDR (\"sockit: listening on ADDR\" names the port) and do the\n"
             "same with the first client; half-close goes both ways: after the client's FIN\n"
             "stdin is still sent until its end. -k accepts the next client after one leaves.\n\n"
             "With -z, scan HOST's TCP PORTS (lists and ranges: 1-1024,8080) with up to 256\n"
             "connects in flight: open ports are printed (every port with -v), and the exit\n"
             "code is 0 when any port is open, 1 when none is.\n\n"
             "ADDR: host:port, [v6addr]:port, :port (loopback; with -l every interface),\n"
             "host:service-name (e.g. localhost:echo), or a DNS SRV name: srv:NAME or\n"
             "_service._proto.domain (e.g. _echo._tcp.example.test), or an etcd registry:\n"
             "etcd://HOST:PORT/PREFIX (the instances 'serve --register' put there).\n"
             "A name's AAAA and A lookups run in parallel and its addresses are raced\n"
             "(Happy Eyeballs, RFC 8305: IPv6 first, the next address every\n"
             "--attempt-delay while the earlier ones keep trying; -v shows the\n"
             "timeline). An SRV name's targets are tried in RFC 2782 order (lowest\n"
             "priority first, weighted random within one), the next when one fails;\n"
             "etcd instances in a weighted random order the same way.",
    .options = options,
    .run = cmd_connect,
};

static const cli_option udp_options[] = {
    CLI_OPT('u', "udp", NULL, 0, "UDP instead of TCP (this mode)"),
    CLI_OPT(0, "raw", NULL, CO_RAW, "send all of stdin as one datagram instead of line by line"),
    CLI_OPT('t', "timeout", "S", 0,
            "after stdin ends, wait up to S seconds of quiet for replies (default 1);\n"
            "with --expect-reply, for each reply (default 2)"),
    CLI_OPT('w', NULL, "S", 0, "the same as --timeout (nc's letter)"),
    CLI_OPT(0, "expect-reply", NULL, CO_EXPECT,
            "wait for each datagram's reply before sending the next; exit 1\n"
            "when any got none (request/response checks)"),
    CLI_OPT(0, "broadcast", NULL, CO_BCAST, "allow a broadcast ADDR (SO_BROADCAST), e.g. 255.255.255.255:7"),
    CLI_OPT(0, "multicast-ttl", "N", CO_MTTL, "TTL / hop limit of multicast datagrams (default 1)"),
    CLI_OPT(0, "interface", "IF", CO_IF, "send multicast out of IF (otherwise bind to the device)"),
    CLI_OPT(0, "dns-server", "ADDR", CO_DNS, "ask DNS at ADDR (ip[:port],...) for names and SRV records"),
    CLI_OPT('l', "listen", NULL, 0,
            "listen on ADDR; the first datagram's sender becomes the peer\n"
            "(like nc -u -l); -t/-w ends it after that long quiet past stdin's end"),
    CLI_OPT('4', NULL, NULL, 0, "only IPv4"),
    CLI_OPT('6', NULL, NULL, 0, "only IPv6"),
    CLI_OPT('x', "hexdump", NULL, 0, "show every byte sent (>) and received (<) as a hex dump on stderr"),
    CLI_OPT(0, "hexdump-file", "FILE", CO_HEXFILE, "the hex dump into FILE instead (implies -x)"),
    CLI_OPT('v', "verbose", NULL, 0, "the sender of each reply (-l: the peer's 4-tuple), and the counts at the end"),
    CLI_OPT(0, "trace", NULL, CO_TRACE, "every socket call on stderr as it happens (time, fd, arguments, result)"),
    CLI_OPT(0, "json", NULL, CO_JSON, "with --trace: the trace as JSON lines"),
    CLI_OPT('h', "help", NULL, 0, "this text"),
    CLI_END,
};

const cli_command cli_connect_udp = {
    .name = "connect --udp",
    .also = &cli_connect,
    .usage = "[OPTIONS] ADDR\n-l [OPTIONS] ADDR",
    .about = "Send each line of stdin (newline included) to ADDR as one UDP datagram as soon\n"
             "as it is read, and write the replies to stdout as they arrive. At the end of\n"
             "stdin sockit waits for late replies until --timeout passes without one, or\n"
             "until every datagram sent to a unicast ADDR has had a reply, and exits 0:\n"
             "no reply is not an error. \"Port unreachable\" (nothing listens) is: the next\n"
             "address of the name is tried, and when none is left sockit exits 1.\n"
             "With --expect-reply each datagram waits for its reply instead, and those\n"
             "that got none are counted and reported on stderr (exit 1).\n"
             "For a broadcast or multicast ADDR every reply is shown, whoever sends it.\n"
             "A datagram holds at most 65507 bytes over IPv4, 65527 over IPv6; a longer\n"
             "line is an error.",
    .options = udp_options,
    .run = cmd_connect,
};

/* Whether an option (a letter, or a long name up to '=') takes a value in
 * either of connect's tables. */
static bool takes_value(char letter, const char *name, size_t len)
{
    const cli_option *tables[] = {cli_connect.options, cli_connect_udp.options};
    for (size_t t = 0; t < 2; t++) {
        for (const cli_option *o = tables[t]; o->letter || o->name || o->help; o++) {
            if (o->arg == NULL)
                continue;
            if (letter && o->letter == letter)
                return true;
            if (!letter && o->name && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
                return true;
        }
    }
    return false;
}

/* -u or --udp anywhere before "--", also inside a cluster (-uv, -lu): the
 * UDP client has its own table, so this is decided before parsing. */
static bool wants_udp(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return false;
        if (a[0] != '-' || a[1] == '\0')
            continue;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (len == 3 && strncmp(a + 2, "udp", 3) == 0)
                return true;
            if (!eq && takes_value(0, a + 2, len))
                i++;
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            if (*c == 'u')
                return true;
            if (takes_value(*c, NULL, 0)) {
                if (c[1] == '\0')
                    i++; /* the value is the next word */
                break;
            }
        }
    }
    return false;
}

static int tcp_client(const connect_opts *o)
{
    static connect_pump p;
    static char a[SK_ADDRSTRLEN];
    cli_target t;
    sk_addr peer;
    int rc = -1, fd = -1;
    cli_target_opts to = {.cmd = "connect",
                          .proto = "tcp",
                          .dns = o->dns,
                          .timeout_ms = connect_timeout(o, 10000),
                          .verbose = o->verbose};

    /* --trace: the connection's state changes from the tracepoint when
     * this process may read it (before any thread: it may mount a private
     * tracefs), sock_diag's after close otherwise. */
    bool states = false;
    if (o->tracer) {
        int err = sk_trace_states_start(o->tracer, 0);
        states = err == 0;
        if (!states)
            fprintf(stderr,
                    "sockit: connect --trace: the sock:inet_sock_set_state tracepoint: %s; the states after close "
                    "come from sock_diag (short ones may not show)\n",
                    sk_tcpstate_why(err));
    }
    if ((rc = cli_target_find(&to, o->operands[0], &t)) >= 0) {
        if (states)
            sk_trace_states_stop(o->tracer);
        return rc;
    }
    /* RFC 2782: the targets in order, the next one when one fails; each
     * target's addresses raced (Happy Eyeballs). */
    for (size_t i = 0; i < t.n && fd < 0; i++) {
        sk_endpoint *e = &t.ep[i];
        sk_dial_opts d = {.family = connect_family(o),
                          .attempt_delay_ms = o->attempt_delay_ms,
                          .timeout_ms = connect_timeout(o, 10000),
                          .dns_servers = o->dns,
                          .on_event = o->verbose ? cli_dial_step : NULL,
                          .userdata = e->host,
                          .tracer = o->tracer};
        fd = t.naddrs[i] ? sk_dial_addrs(t.addrs[i], t.naddrs[i], &d, &peer) : sk_dial(e->host, e->port, &d, &peer);
        if (fd >= 0)
            break;
        char ep[SK_HOST_MAX + 16];
        cli_endpoint_format(e, ep, sizeof ep);
        if (cli_lookup_error(fd))
            cli_error("resolve %s: %s", t.many ? e->host : o->operands[0], sk_strerror(fd));
        else
            cli_error("connect %s: %s", sk_addr_format((const struct sockaddr *)&peer.ss, a, sizeof a),
                      sk_strerror(fd));
        if (i + 1 < t.n)
            fprintf(stderr, "sockit: %s failed; trying the next target\n", ep);
    }
    if (fd < 0) {
        if (states)
            sk_trace_states_stop(o->tracer);
        return EXIT_FAIL;
    }
    sk_addr_format((const struct sockaddr *)&peer.ss, a, sizeof a);
    if (o->verbose)
        fprintf(stderr, "sockit: connected to %s\n", a);
    connect_pump_reset(&p, fd, a);
    p.hex = o->hex;
    p.tracer = o->tracer;
    p.hold_ms = o->hold_ms;
    p.close_at_eof = o->linger_s >= 0;
    sk_tuple tuple;
    bool have_tuple = sk_tuple_get(fd, &tuple) == 0;
    if (states && have_tuple)
        sk_trace_states_port(o->tracer, (uint16_t)sk_addr_port((const struct sockaddr *)&tuple.local.ss),
                             (uint16_t)sk_addr_port((const struct sockaddr *)&tuple.peer.ss));
    rc = connect_pump_run(&p);
    if (o->verbose)
        fprintf(stderr, "sockit: sent %" PRIu64 " bytes, received %" PRIu64 " bytes\n", p.sent, p.received);
    if (o->linger_s >= 0) {
        if (o->tracer)
            sk_tr_linger(o->tracer, p.sock, o->linger_s);
        else
            setsockopt(p.sock, SOL_SOCKET, SO_LINGER, &(struct linger){.l_onoff = 1, .l_linger = o->linger_s},
                       sizeof(struct linger));
    }
    sk_tr_close(o->tracer, p.sock);
    /* --trace: the states the kernel keeps the connection in after close. */
    if (o->tracer && have_tuple)
        sk_trace_follow(o->tracer, &tuple.local, &tuple.peer, 2000);
    if (states)
        sk_trace_states_stop(o->tracer);
    return rc;
}

int cmd_connect(int argc, char **argv)
{
    connect_opts o;
    bool udp = wants_udp(argc, argv);
    int rc = connect_parse(udp ? &cli_connect_udp : &cli_connect, argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (o.scan && (o.listen || udp))
        return cli_usage_error("connect", "-z scans TCP ports; it goes with neither -l nor -u");
    if (o.scan)
        return connect_scan(&o);
    if (o.json && !o.tracer)
        return cli_usage_error("connect", "--json goes with -z (the scan) or --trace");
    if (o.tracer && o.listen)
        return cli_usage_error("connect", "--trace goes with the client, not -l");
    if (o.noperands != 1)
        return cli_operand_error("connect", argc, argv, "ADDR (host:port)");
    if (o.keep && !o.listen)
        return cli_usage_error("connect", "-k/--keep-open needs -l/--listen");
    if (udp && o.listen)
        rc = connect_listen_udp(&o);
    else if (udp)
        rc = connect_udp(&o);
    else if (o.listen)
        rc = connect_listen_tcp(&o);
    else
        rc = tcp_client(&o);
    if (o.hex && o.hex != stderr)
        fclose(o.hex);
    return rc;
}
