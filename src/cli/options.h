/* The option tables: each subcommand declares its options once, and its
 * getopt_long tables, its --help text and its part of the man page are all
 * generated from that one table, so they cannot drift apart. */
#ifndef SOCKIT_CLI_OPTIONS_H
#define SOCKIT_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Ids of options without a short letter start here, above every char;
 * the two every command has (--config, --print-config) are far above. */
enum { CLI_LONG = 256, CLI_CONFIG = 0x7000, CLI_PRINT_CONFIG };

/* At most this many options per subcommand, services' options included. */
#define CLI_MAX_OPTS 64

/* A value an option takes, known only at run time (a service, a backend). */
typedef struct cli_value {
    const char *name;
    const char *summary; /* NULL: the values are a plain list of names */
} cli_value;

/* One option. With letter set, getopt returns the letter and id is unused;
 * otherwise id (CLI_LONG or above) is returned. An entry with neither name
 * nor letter but with help is a heading that starts a group of options. */
typedef struct cli_option {
    char letter;      /* short option, or 0 */
    const char *name; /* long option without "--", or NULL for short only */
    const char *arg;  /* the value's name in help (N, ADDR), NULL for a flag */
    int id;           /* for long-only options */
    const char *help; /* lines separated by '\n' */
    const char *tag;  /* printed before help ("http: "): whose option it is */
    /* Optional: fill out[0..max) with the values this build knows and
     * return how many. --help lists them after the help: one a line with
     * their summaries, or appended to the last line when they have none. */
    int (*values)(cli_value *out, int max);
    /* Optional: what the man page says in place of the values, for lists
     * that depend on the build (the backends compiled in), so the page is
     * the same whoever generates it. */
    const char *man;
} cli_option;

/* A plain option: letter, long name, argument name, id, help. */
// clang-format off
#define CLI_OPT(letter, name, arg, id, help) {(letter), (name), (arg), (id), (help), NULL, NULL, NULL}
#define CLI_HEADING(text) {.help = (text)}
#define CLI_END {0}
// clang-format on

typedef struct cli_command {
    const char *name;          /* as typed after "sockit": "serve", "connect --udp" */
    const char *summary;       /* one line for 'sockit --help'; NULL hides it there */
    const char *usage;         /* after "usage: sockit NAME ": one line per form */
    const char *about;         /* paragraphs --help prints before the options */
    const char *footer;        /* printed after the options, or NULL */
    const cli_option *options; /* ends with CLI_END */
    /* Optional: options only known at run time (those the services
     * declare), appended after the table. Returns how many it wrote to out
     * (at most max), or < 0 when they do not fit. */
    int (*more)(cli_option *out, int max);
    int (*run)(int argc, char **argv);
    /* Optional: a command sharing this one's config section, whose keys
     * are not errors here ("connect" and "connect --udp" read [connect]). */
    const struct cli_command *also;
} cli_command;

/* Where a setting came from. */
typedef enum cli_origin { CLI_FROM_FILE, CLI_FROM_ENV, CLI_FROM_FLAG } cli_origin;

/* One setting taken from the file or the environment, in the order the
 * command sees them. */
typedef struct cli_setting {
    const cli_option *opt;
    char *value;    /* NULL for a flag that is on */
    char where[96]; /* "FILE:LINE" or "SOCKIT_NAME", for messages */
    cli_origin origin;
} cli_setting;

#define CLI_MAX_SETTINGS 128

/* Where the option being handled came from when not the command line
 * ("FILE:LINE", "SOCKIT_NAME"), for cli_usage_error; NULL otherwise. */
extern const char *cli_current_source;

/* Whether o can be set from a config file or the environment: it has a
 * long name and is none of --help, --config, --print-config. */
static inline bool cli_option_is_setting(const cli_option *o)
{
    return o->name != NULL && o->id != CLI_CONFIG && o->id != CLI_PRINT_CONFIG && strcmp(o->name, "help") != 0;
}

/* A command's options merged with its run-time ones, and the getopt_long
 * tables built from them. */
typedef struct cli_parser {
    const cli_command *cmd;
    cli_option opts[CLI_MAX_OPTS + 1];
    int nopts;
    struct option longopts[CLI_MAX_OPTS + 1];
    char shortopts[2 * CLI_MAX_OPTS + 2];
    /* The file's and the environment's settings, handed out before the
     * command line (so a flag given later wins), and what was set, from
     * where, for --print-config. */
    bool loaded, print_config;
    cli_setting settings[CLI_MAX_SETTINGS];
    int nsettings, next_setting;
    cli_setting seen[CLI_MAX_SETTINGS];
    int nseen;
} cli_parser;

/* Collect cmd's options into p and build the getopt_long tables; resets
 * getopt (optind = 1) and silences its messages (opterr = 0; the CLI words
 * its own errors through the ':' and '?' returns). Returns 0, or -E2BIG when
 * there are more than CLI_MAX_OPTS. */
int cli_parser_init(cli_parser *p, const cli_command *cmd);

/* cmd's table followed by its run-time options, ending with CLI_END, into
 * out (room for CLI_MAX_OPTS + 1). Returns the count, or -E2BIG. */
int cli_options_collect(const cli_command *cmd, cli_option *out);

/* The next option, as getopt_long returns it: the letter or the id, ':' for
 * a missing value, '?' for an unknown option, -1 at the end. The config
 * file's and the environment's settings come first, as if typed before the
 * command line's (optarg is their value). --config is taken care of here;
 * --print-config prints the settings at the end and exits 0. */
int cli_next(cli_parser *p, int argc, char **argv);

/* The option cli_next() returned as id, or NULL. */
const cli_option *cli_option_of(const cli_parser *p, int id);

/* The --help text: usage, about, every option (headings, values), footer. */
void cli_help(FILE *f, const cli_command *cmd);

/* The man page's part for cmd: a .SS subsection listing every option, in
 * roff. */
void cli_man_options(FILE *f, const cli_command *cmd);

/* Text into roff: backslashes, leading dots and quotes, and '-' as \-. */
void cli_roff_text(FILE *f, const char *s, size_t len);

#endif
