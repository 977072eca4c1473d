/* Messages and number parsing for the subcommands. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <sockit/error.h>

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

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, like every other error, so scripts can take stderr's first
     * (and only) line as the reason. */
    fprintf(stderr, "sockit: %s (see 'sockit %s%s--help')\n", msg, cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

int cli_exit_for(int err)
{
    switch (err) {
    case SK_EADDRSYNTAX:
    case SK_EV6NOBRACKET:
    case SK_ENOPORT:
    case SK_EBADPORT:
    case SK_ENOSERVICE:
        return EXIT_USAGE;
    default:
        return EXIT_FAIL;
    }
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

bool cli_parse_seconds(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 || v > 1e7)
        return false;
    *ms = (int64_t)(v * 1000.0 + 0.5);
    return true;
}
