/* Messages and number parsing for the subcommands. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <sockit/addr.h>
#include <sockit/clock.h>
#include <sockit/error.h>
#include <sockit/icmp.h>
#include <sockit/icmp_sock.h>

void cli_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One write, so lines from several threads do not interleave. */
    fprintf(stderr, "sockit: %s\n", msg);
}

const char *cli_current_source;

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, like every other error, so scripts can take stderr's first
     * (and only) line as the reason. */
    /* A value from the config file or the environment names its origin. */
    const char *from = cli_current_source;
    if (from && strncmp(msg, from, strlen(from)) == 0)
        from = NULL; /* the message names it already */
    fprintf(stderr, "sockit: %s%s%s (see 'sockit %s%s--help')\n", from ? from : "", from ? ": " : "", msg,
            cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

int cli_bad_option(const char *cmd, int opt, char **argv)
{
    if (opt == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli_operand_error(const char *cmd, int argc, char **argv, const char *what)
{
    if (optind >= argc)
        return cli_usage_error(cmd, "missing %s", what);
    return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
}

int cli_exit_for(int err)
{
    switch (err) {
    case SK_EADDRSYNTAX:
    case SK_EV6NOBRACKET:
    case SK_ENOPORT:
    case SK_EBADPORT:
    case SK_ENOSERVICE:
    case SK_EADDRURL:
    case SK_EADDRCOLONS:
    case SK_EPORTONLY:
    case SK_ENOTGROUP:
        return EXIT_USAGE;
    default:
        return EXIT_FAIL;
    }
}

/* "http://host:port/path" -> "host:port" (a scheme's default port when
 * there is none): what the user meant. */
static void url_hostport(const char *url, char *out, size_t len, const char **scheme_proto)
{
    const char *sep = strstr(url, "://");
    const char *h = sep + 3;
    size_t n = strcspn(h, "/?#");
    bool http = (size_t)(sep - url) == 4 && strncmp(url, "http", 4) == 0;
    bool https = (size_t)(sep - url) == 5 && strncmp(url, "https", 5) == 0;
    bool has_port = memchr(h, ':', n) != NULL;

    if (n > 0 && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        has_port = close != NULL && close + 1 < h + n && close[1] == ':';
    }
    snprintf(out, len, "%.*s%s", (int)n, h, has_port ? "" : https ? ":443" : http ? ":80" : ":PORT");
    *scheme_proto = http ? "http" : NULL;
}

int cli_addr_usage(const char *cmd, const char *what, const char *text, int err)
{
    char hint[SK_HOST_MAX + 64] = "";
    const char *proto = NULL;

    if (err == SK_EADDRURL && strstr(text, "://") != NULL) {
        char hp[SK_HOST_MAX + 8];
        url_hostport(text, hp, sizeof hp, &proto);
        bool with_proto = proto != NULL && cmd != NULL && strcmp(cmd, "bench") == 0;
        snprintf(hint, sizeof hint, "; did you mean '%s%s'?", hp, with_proto ? " --proto http" : "");
    } else if (err == SK_EPORTONLY) {
        snprintf(hint, sizeof hint, "; did you mean ':%s'?", text);
    }
    return cli_usage_error(cmd, "%s%s%s: %s%s", what ? what : "", what ? " " : "", text, sk_strerror(err), hint);
}

void cli_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

long cli_nofile(long *hard)
{
    struct rlimit rl;
    const long big = 1L << 30;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        *hard = big;
        return big;
    }
    *hard = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)big ? big : (long)rl.rlim_max;
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)big ? big : (long)rl.rlim_cur;
}

bool cli_parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_seconds(const char *s, int64_t *ms) { return sk_duration_parse(s, ms) == 0; }

bool cli_parse_icmp_socket(const char *s, sk_icmp_sock *kind)
{
    if (strcmp(s, "raw") == 0)
        *kind = SK_ICMP_RAW;
    else if (strcmp(s, "dgram") == 0)
        *kind = SK_ICMP_DGRAM;
    else
        return false;
    return true;
}

int cli_resolve_host(const char *host, int flags, sk_addr *out)
{
    char text[SK_HOST_MAX + 8];
    size_t n = strlen(host);

    if (n == 0 || n >= SK_HOST_MAX)
        return SK_EADDRSYNTAX;
    /* The library resolves "host:port" text; ICMP has no port. */
    if (host[0] == '[' || strchr(host, ':') == NULL)
        snprintf(text, sizeof text, "%s:0", host);
    else
        snprintf(text, sizeof text, "[%s]:0", host);
    int rc = sk_addr_resolve(text, SOCK_DGRAM, flags, out, 1);
    return rc < 0 ? rc : 0;
}

char *cli_format_host(const struct sockaddr *sa, char *buf, size_t len)
{
    char a[SK_ADDRSTRLEN];
    sk_addr_format(sa, a, sizeof a);
    char *colon = strrchr(a, ':');
    if (colon)
        *colon = '\0';
    if (a[0] == '[') {
        a[strlen(a) - 1] = '\0';
        snprintf(buf, len, "%s", a + 1);
    } else {
        snprintf(buf, len, "%s", a);
    }
    return buf;
}

/* s as a JSON string, quotes included: '"', '\\' and bytes outside
 * printable ASCII escaped (names come in presentation form, so this is
 * all they need). Truncates to fit cap. */
void cli_json_str(char *out, size_t cap, const char *s)
{
    size_t w = 0;
    if (cap < 3) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[w++] = '"';
    for (; *s && w + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            w += (size_t)snprintf(out + w, cap - w, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            w += (size_t)snprintf(out + w, cap - w, "\\u%04x", c);
        else
            out[w++] = (char)c;
    }
    out[w++] = '"';
    out[w] = '\0';
}
