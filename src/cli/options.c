/* The option tables turned into what getopt_long, --help and the man page
 * each need (options.h). */
#include "options.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static bool is_end(const cli_option *o) { return o->letter == 0 && o->name == NULL && o->help == NULL; }
static bool is_heading(const cli_option *o) { return o->letter == 0 && o->name == NULL && o->help != NULL; }
static int id_of(const cli_option *o) { return o->letter ? (unsigned char)o->letter : o->id; }

/* Every command reads settings the same way. */
static const cli_option config_opts[] = {
    CLI_OPT(0, "config", "FILE", CLI_CONFIG,
            "read settings from FILE: a [SUBCOMMAND] section of KEY = VALUE lines,\n"
            "keys are long options (default: /etc/sockit/config, then\n"
            "~/.config/sockit/config); SOCKIT_<OPTION> variables beat the file,\n"
            "flags beat both"),
    CLI_OPT(0, "print-config", NULL, CLI_PRINT_CONFIG, "print the effective settings, where each came from, and exit"),
};

int cli_options_collect(const cli_command *cmd, cli_option *out)
{
    int n = 0;
    bool added = false;
    for (const cli_option *o = cmd->options;; o++) {
        /* --config and --print-config go just before --help (or last). */
        if (!added && (is_end(o) || (o->name && strcmp(o->name, "help") == 0))) {
            for (size_t i = 0; i < sizeof config_opts / sizeof config_opts[0]; i++) {
                if (n == CLI_MAX_OPTS)
                    return -E2BIG;
                out[n++] = config_opts[i];
            }
            added = true;
        }
        if (is_end(o))
            break;
        if (n == CLI_MAX_OPTS)
            return -E2BIG;
        out[n++] = *o;
    }
    if (cmd->more) {
        int k = cmd->more(out + n, CLI_MAX_OPTS - n);
        if (k < 0)
            return -E2BIG;
        n += k;
    }
    out[n] = (cli_option)CLI_END;
    return n;
}

int cli_parser_init(cli_parser *p, const cli_command *cmd)
{
    int n = cli_options_collect(cmd, p->opts);
    if (n < 0)
        return n;
    p->cmd = cmd;
    p->nopts = n;
    p->loaded = p->print_config = false;
    p->nsettings = p->next_setting = p->nseen = 0;
    /* The leading ':' makes getopt report a missing value as ':' apart
     * from an unknown option. */
    size_t s = 0, l = 0;
    p->shortopts[s++] = ':';
    for (int i = 0; i < n; i++) {
        const cli_option *o = &p->opts[i];
        if (o->letter) {
            p->shortopts[s++] = o->letter;
            if (o->arg)
                p->shortopts[s++] = ':';
        }
        if (o->name)
            p->longopts[l++] =
                (struct option){.name = o->name, .has_arg = o->arg ? required_argument : no_argument, .val = id_of(o)};
    }
    p->shortopts[s] = '\0';
    p->longopts[l] = (struct option){0};
    optind = 1;
    opterr = 0;
    return 0;
}

static void record(cli_parser *p, const cli_setting *s)
{
    if (s->opt != NULL && p->nseen < CLI_MAX_SETTINGS)
        p->seen[p->nseen++] = *s;
}

/* --print-config: each setting's last value and its origin; the ones
 * never set keep their default. In the config file's own format. */
static void print_config(const cli_parser *p)
{
    char section[32];
    snprintf(section, sizeof section, "%s", p->cmd->name);
    section[strcspn(section, " ")] = '\0';
    printf("# sockit %s: effective settings (flag > environment > file > default)\n[%s]\n", p->cmd->name, section);
    for (int i = 0; i < p->nopts; i++) {
        const cli_option *o = &p->opts[i];
        if (!cli_option_is_setting(o))
            continue;
        const cli_setting *last = NULL;
        for (int k = 0; k < p->nseen; k++) {
            if (p->seen[k].opt->name && strcmp(p->seen[k].opt->name, o->name) == 0)
                last = &p->seen[k];
        }
        if (last == NULL) {
            printf("# %-20s   (default)\n", o->name);
            continue;
        }
        static const char *const from[] = {
            [CLI_FROM_FILE] = "file", [CLI_FROM_ENV] = "environment", [CLI_FROM_FLAG] = "flag"};
        char kv[512];
        snprintf(kv, sizeof kv, "%s = %s", o->name, last->value ? last->value : "true");
        printf("%-40s # %s%s%s\n", kv, from[last->origin], last->origin == CLI_FROM_FLAG ? "" : " ",
               last->origin == CLI_FROM_FLAG ? "" : last->where);
    }
}

int cli_next(cli_parser *p, int argc, char **argv)
{
    if (!p->loaded) {
        p->loaded = true;
        cli_option sibling[CLI_MAX_OPTS + 1];
        int nsib = p->cmd->also ? cli_options_collect(p->cmd->also, sibling) : 0;
        p->nsettings = cli_config_load(p, sibling, nsib < 0 ? 0 : nsib, argc, argv, p->settings, CLI_MAX_SETTINGS);
    }
    if (p->next_setting < p->nsettings) {
        const cli_setting *s = &p->settings[p->next_setting++];
        optarg = s->value;
        cli_current_source = s->where;
        record(p, s);
        return id_of(s->opt);
    }
    cli_current_source = NULL;
    for (;;) {
        int opt = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
        if (opt == CLI_CONFIG)
            continue; /* read before the first option */
        if (opt == CLI_PRINT_CONFIG) {
            p->print_config = true;
            continue;
        }
        if (opt == -1 && p->print_config) {
            print_config(p);
            exit(0);
        }
        if (opt != -1 && opt != '?' && opt != ':') {
            cli_setting flag = {.opt = cli_option_of(p, opt), .value = optarg, .origin = CLI_FROM_FLAG};
            record(p, &flag);
        }
        return opt;
    }
}

const cli_option *cli_option_of(const cli_parser *p, int id)
{
    for (int i = 0; i < p->nopts; i++) {
        if (!is_heading(&p->opts[i]) && id_of(&p->opts[i]) == id)
            return &p->opts[i];
    }
    return NULL;
}

/* --help --------------------------------------------------------------- */

/* "  -s, --service NAME", "      --pool N", "  -c COUNT". */
static int left_column(const cli_option *o, char *buf, size_t len)
{
    char sh[3] = {'-', o->letter, '\0'};
    return snprintf(buf, len, "  %s%s%s%s%s%s", o->letter ? sh : "  ",
                    o->letter && o->name ? ", "
                    : o->name            ? "  "
                                         : "",
                    o->name ? "--" : "", o->name ? o->name : "", o->arg ? " " : "", o->arg ? o->arg : "");
}

/* Wider option names than this put their help on the next line. */
#define HELP_COL_MAX 28

static void help_option(FILE *f, const cli_option *o, int col)
{
    char left[128];
    int w = left_column(o, left, sizeof left);
    if (w + 2 > col)
        fprintf(f, "%s\n%*s", left, col, "");
    else
        fprintf(f, "%-*s", col, left);
    if (o->tag)
        fprintf(f, "%s: ", o->tag);
    for (const char *line = o->help; line;) {
        const char *nl = strchr(line, '\n');
        fprintf(f, "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
        line = nl ? nl + 1 : NULL;
        if (line)
            fprintf(f, "\n%*s", col, "");
    }
    cli_value v[32];
    int n = o->values ? o->values(v, 32) : 0;
    int width = 0;
    for (int i = 0; i < n; i++) {
        if (v[i].summary == NULL)
            fprintf(f, " %s", v[i].name);
        else if ((int)strlen(v[i].name) > width)
            width = (int)strlen(v[i].name);
    }
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        if (v[i].summary)
            fprintf(f, "%*s%-*s %s\n", col + 2, "", width, v[i].name, v[i].summary);
    }
}

/* Each line of text, prefixed. */
static void lines(FILE *f, const char *first, const char *next, const char *text)
{
    const char *prefix = first;
    for (const char *line = text; line;) {
        const char *nl = strchr(line, '\n');
        fprintf(f, "%s%.*s\n", prefix, nl ? (int)(nl - line) : (int)strlen(line), line);
        line = nl ? nl + 1 : NULL;
        prefix = next;
    }
}

void cli_help(FILE *f, const cli_command *cmd)
{
    cli_option opts[CLI_MAX_OPTS + 1];
    char first[64], next[64], left[128];
    int n = cli_options_collect(cmd, opts), col = 0;

    snprintf(first, sizeof first, "usage: sockit %s ", cmd->name);
    snprintf(next, sizeof next, "       sockit %s ", cmd->name);
    lines(f, first, next, cmd->usage);
    if (cmd->about)
        fprintf(f, "\n%s\n", cmd->about);
    for (int i = 0; i < n; i++) {
        int w = is_heading(&opts[i]) ? 0 : left_column(&opts[i], left, sizeof left) + 2;
        if (w > col && w <= HELP_COL_MAX)
            col = w;
    }
    fprintf(f, "\nOptions:\n");
    for (int i = 0; i < n; i++) {
        if (is_heading(&opts[i]))
            fprintf(f, "\n%s\n", opts[i].help);
        else
            help_option(f, &opts[i], col);
    }
    if (cmd->footer)
        fprintf(f, "\n%s\n", cmd->footer);
}

/* The man page ------------------------------------------------------------ */

void cli_roff_text(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        /* A line that starts with a dot or a quote would be a request. */
        if ((i == 0 || s[i - 1] == '\n') && (s[i] == '.' || s[i] == '\''))
            fputs("\\&", f);
        if (s[i] == '\\')
            fputs("\\e", f);
        else if (s[i] == '-')
            fputs("\\-", f); /* a hyphen that stays ASCII, so options can be searched */
        else
            fputc(s[i], f);
    }
}

static void roff(FILE *f, const char *s) { cli_roff_text(f, s, strlen(s)); }

static void man_option(FILE *f, const cli_option *o)
{
    fputs(".TP\n", f);
    if (o->letter)
        fprintf(f, "\\fB\\-%c\\fR%s", o->letter, o->name ? ", " : "");
    if (o->name) {
        fputs("\\fB\\-\\-", f);
        roff(f, o->name);
        fputs("\\fR", f);
    }
    if (o->arg) {
        fputs(" \\fI", f);
        roff(f, o->arg);
        fputs("\\fR", f);
    }
    fputc('\n', f);
    if (o->tag) {
        roff(f, o->tag);
        fputs(": ", f);
    }
    roff(f, o->help);
    fputc('\n', f);
    if (o->man) {
        roff(f, o->man);
        fputc('\n', f);
        return;
    }
    cli_value v[32];
    int n = o->values ? o->values(v, 32) : 0;
    for (int i = 0; i < n && v[i].summary == NULL; i++) {
        roff(f, v[i].name);
        fputs(i + 1 < n ? ",\n" : "\n", f);
    }
    if (n == 0 || v[0].summary == NULL)
        return;
    fputs(".RS\n.PD 0\n", f);
    for (int i = 0; i < n; i++) {
        fputs(".TP 10\n.B ", f);
        roff(f, v[i].name);
        fputc('\n', f);
        roff(f, v[i].summary);
        fputc('\n', f);
    }
    fputs(".PD\n.RE\n", f);
}

void cli_man_options(FILE *f, const cli_command *cmd)
{
    cli_option opts[CLI_MAX_OPTS + 1];
    int n = cli_options_collect(cmd, opts);

    fputs(".SS \"sockit ", f);
    roff(f, cmd->name);
    fputs("\"\n", f);
    for (int i = 0; i < n; i++) {
        if (is_heading(&opts[i])) {
            fputs(".PP\n\\fI", f);
            roff(f, opts[i].help);
            fputs("\\fR\n", f);
        } else {
            man_option(f, &opts[i]);
        }
    }
}
