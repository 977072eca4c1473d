/* Config files and environment variables (config.h). The format:
 *
 *     # a comment
 *     [serve]
 *     listen = :7007
 *     model = hybrid
 *     verbose = true
 *
 * A section per subcommand; a key is a long option without its dashes; a
 * flag takes true or false. Blank lines and lines starting with '#' are
 * skipped; a value is the rest of the line, trimmed. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_option *find(const cli_option *opts, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (cli_option_is_setting(&opts[i]) && strcmp(opts[i].name, name) == 0)
            return &opts[i];
    }
    return NULL;
}

__attribute__((noreturn, format(printf, 3, 4))) static void config_error(const cli_parser *p, const char *where,
                                                                         const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_usage_error(p->cmd->name, "%s: %s", where, msg);
    exit(EXIT_USAGE);
}

/* A flag's value: on, off, or neither (an error). */
static int flag_value(const char *v)
{
    static const char *const on[] = {"true", "yes", "on", "1"}, *const off[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, on[i]) == 0)
            return 1;
        if (strcmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* The values outlive the parser (commands keep optarg pointers), so they
 * are kept here, reachable until exit. */
static char *kept[2 * CLI_MAX_SETTINGS];
static int nkept;

static char *keep(const char *v)
{
    if (nkept == (int)(sizeof kept / sizeof kept[0]))
        return NULL;
    char *copy = strdup(v);
    if (copy)
        kept[nkept++] = copy;
    return copy;
}

/* Add name = value from where; false when a flag is off (nothing to add). */
static bool add(const cli_parser *p, const cli_option *o, const char *value, const char *where, cli_origin origin,
                cli_setting *s)
{
    if (o->arg == NULL) {
        int on = flag_value(value);
        if (on < 0)
            config_error(p, where, "%s is a flag: wants true or false, not '%s'", o->name, value);
        if (!on)
            return false;
        value = NULL;
    } else if (value[0] == '\0') {
        config_error(p, where, "%s wants a value (%s)", o->name, o->arg);
    }
    *s = (cli_setting){.opt = o, .origin = origin};
    if (value && (s->value = keep(value)) == NULL)
        config_error(p, where, "out of memory");
    snprintf(s->where, sizeof s->where, "%s", where);
    return true;
}

/* A flag turned off by a later source takes back what earlier ones set. */
static int drop(cli_setting *out, int n, const cli_option *o)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (out[i].opt != o)
            out[k++] = out[i];
    }
    return k;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* The section a command reads: its first word ("connect --udp" reads
 * [connect]). */
static void section_of(const cli_command *cmd, char *buf, size_t len)
{
    snprintf(buf, len, "%s", cmd->name);
    buf[strcspn(buf, " ")] = '\0';
}

static int read_file(const cli_parser *p, const cli_option *sibling, int nsib, const char *path, bool must,
                     cli_setting *out, int n, int max)
{
    FILE *f = fopen(path, "r");
    char line[1024], want[32], section[64] = "", where[96];
    int lineno = 0;

    if (f == NULL) {
        /* A default file is read when there is one this user may read
         * (a server dropped to nobody keeps root's $HOME). */
        if (!must && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
            return n;
        snprintf(where, sizeof where, "%s", path);
        config_error(p, where, "cannot read: %s", strerror(errno));
    }
    section_of(p->cmd, want, sizeof want);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%.80s:%d", path, lineno);
        if (strchr(line, '\n') == NULL && !feof(f))
            config_error(p, where, "line longer than %zu bytes", sizeof line - 2);
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end == NULL || trim(end + 1)[0] != '\0')
                config_error(p, where, "a section is [NAME], not '%s'", s);
            *end = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            if (section[0] == '\0')
                config_error(p, where, "empty section name");
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL)
            config_error(p, where, "wants KEY = VALUE, not '%s'", s);
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (section[0] == '\0')
            config_error(p, where, "'%s' before any [section]", key);
        if (strcmp(section, want) != 0)
            continue; /* another subcommand's: checked when that one runs */
        const cli_option *o = find(p->opts, p->nopts, key);
        if (o == NULL) {
            if (nsib > 0 && find(sibling, nsib, key))
                continue; /* the other mode's option (connect and connect --udp share [connect]) */
            config_error(p, where, "unknown key '%s' in [%s]", key, section);
        }
        if (n == max)
            config_error(p, where, "more than %d settings", max);
        if (add(p, o, value, where, CLI_FROM_FILE, &out[n]))
            n++;
        else
            n = drop(out, n, o);
    }
    fclose(f);
    return n;
}

void cli_config_env_name(const char *opt, char *buf, size_t len)
{
    size_t i = 0;
    int k = snprintf(buf, len, "SOCKIT_");
    for (i = (size_t)k; *opt && i + 1 < len; opt++, i++)
        buf[i] = *opt == '-' ? '_' : (char)toupper((unsigned char)*opt);
    buf[i < len ? i : len - 1] = '\0';
}

/* --config FILE or --config=FILE in argv, before getopt sees it. */
static const char *config_arg(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
    }
    return path;
}

int cli_config_load(const cli_parser *p, const cli_option *sibling, int nsib, int argc, char **argv, cli_setting *out,
                    int max)
{
    const char *path = config_arg(argc, argv);
    char user[4096];
    int n = 0;

    if (path) {
        n = read_file(p, sibling, nsib, path, true, out, n, max);
    } else {
        n = read_file(p, sibling, nsib, "/etc/sockit/config", false, out, n, max);
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        if (xdg && xdg[0])
            snprintf(user, sizeof user, "%s/sockit/config", xdg);
        else if (home && home[0])
            snprintf(user, sizeof user, "%s/.config/sockit/config", home);
        else
            user[0] = '\0';
        if (user[0])
            n = read_file(p, sibling, nsib, user, false, out, n, max);
    }
    for (int i = 0; i < p->nopts; i++) {
        const cli_option *o = &p->opts[i];
        char name[96];
        if (!cli_option_is_setting(o))
            continue;
        cli_config_env_name(o->name, name, sizeof name);
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        if (n == max)
            config_error(p, name, "more than %d settings", max);
        if (add(p, o, v, name, CLI_FROM_ENV, &out[n]))
            n++;
        else
            n = drop(out, n, o);
    }
    return n;
}
