/* Shared by the subcommands: exit codes, messages, number parsing. */
#ifndef SOCKIT_CLI_H
#define SOCKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sockit/icmp.h>
#include <sockit/icmp_sock.h>

#include "options.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* "sockit: <fmt>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: one line with the message and a pointer to --help;
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The getopt_long error cases (opt is ':' for a missing value, anything
 * else an unknown option): one usage line, EXIT_USAGE. */
int cli_bad_option(const char *cmd, int opt, char **argv);

/* For commands taking exactly one operand (what, e.g. "ADDR (host:port)"),
 * when argc - optind is not 1: "missing ..." or "unexpected argument". */
int cli_operand_error(const char *cmd, int argc, char **argv, const char *what);

/* Exit code for a library error: address syntax and unknown service names
 * are usage errors, everything else a runtime failure. */
int cli_exit_for(int err);

/* s as a JSON string, quotes included: '"', '\\' and bytes outside
 * printable ASCII escaped. Truncates to fit cap. */
void cli_json_str(char *out, size_t cap, const char *s);

/* A usage error for address text the library refused with err (a usage
 * code, cli_exit_for): "[WHAT ]TEXT: message", plus what the user probably
 * meant for a URL ("did you mean '127.0.0.1:7102 --proto http'?") or a
 * port alone (":7007"). Returns EXIT_USAGE. */
int cli_addr_usage(const char *cmd, const char *what, const char *text, int err);

/* Raise the soft RLIMIT_NOFILE to the hard limit, as every command does at
 * start: a server or a load generator should not fail at 1024 descriptors
 * when the system allows more. */
void cli_raise_nofile(void);
/* The soft RLIMIT_NOFILE now (a large number for "unlimited"); *hard gets
 * the hard one. */
long cli_nofile(long *hard);

/* Parse a non-negative number / a duration in seconds ("1.5") into ms.
 * Return false on garbage or overflow. */
bool cli_parse_int(const char *s, long min, long max, long *out);
/* A duration: "1.5" (seconds), or with a unit: "500ms", "5s", "2m", "1h",
 * "250us" (rounded to ms). */
bool cli_parse_seconds(const char *s, int64_t *ms);

struct sockaddr;
struct sk_addr;
/* Resolve a bare host name or address (no port) for ICMP. 0 or < 0. */
int cli_resolve_host(const char *host, int flags, struct sk_addr *out);
/* The address alone, without port or brackets. Returns buf. */
char *cli_format_host(const struct sockaddr *sa, char *buf, size_t len);
/* ping and trace-route --socket raw|dgram. False on anything else. */
bool cli_parse_icmp_socket(const char *s, sk_icmp_sock *kind);

/* The subcommands: each one's option table and help (options.h), and its
 * entry point. */
extern const cli_command cli_serve, cli_connect, cli_connect_udp, cli_ping, cli_trace, cli_bench, cli_resolve,
    cli_discover, cli_conns, cli_lifecycle;

/* sockit --man PROSE (man.c): the prose file on stdout, "@VERSION@" as the
 * version and the line ".\" @OPTIONS@" as the OPTIONS section of cmds.
 * Returns an exit code. */
int cli_man(const char *prose, const cli_command *const *cmds, size_t n);

/* sockit --completion SHELL (completion.c): the completion script for
 * SHELL (bash) on stdout, from cmds' option tables; a variant "NAME --FLAG"
 * is offered once FLAG was typed. Returns an exit code. */
int cli_completion(const char *shell, const cli_command *const *cmds, size_t n);

int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_conns(int argc, char **argv);
int cmd_lifecycle(int argc, char **argv);

#endif
