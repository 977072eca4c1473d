/* sockit --man PROSE: the man page, from the hand-written prose (NAME,
 * DESCRIPTION, EXIT STATUS, EXAMPLES...) with the OPTIONS section generated
 * from the option tables in its place, so the page documents every option
 * --help lists. docs/sockit.1 is this output (make man). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sockit/error.h>
#include <sockit/version.h>

#define OPTIONS_MARK ".\\\" @OPTIONS@"
#define VERSION_MARK "@VERSION@"

static void options_section(FILE *out, const cli_command *const *cmds, size_t n)
{
    /* No hyphenation: option names and values are searched for as typed. */
    fputs(".SH OPTIONS\n"
          ".nh\n"
          "Each subcommand's options, as its\n"
          ".B \\-\\-help\n"
          "lists them. A value may follow its option as the next argument or, for a\n"
          "long option, after\n"
          ".BR = .\n",
          out);
    for (size_t i = 0; i < n; i++)
        cli_man_options(out, cmds[i]);
    fputs(".hy\n", out);
}

/* One prose line, with the version in place of its mark. */
static void prose_line(FILE *out, const char *line)
{
    const char *v = strstr(line, VERSION_MARK);
    if (v == NULL) {
        fputs(line, out);
        return;
    }
    fprintf(out, "%.*s%s", (int)(v - line), line, sk_version());
    prose_line(out, v + strlen(VERSION_MARK));
}

int cli_man(const char *prose, const cli_command *const *cmds, size_t n)
{
    FILE *in = fopen(prose, "r");
    char line[4096];
    bool spliced = false;

    if (in == NULL) {
        cli_error("man: %s: %s", prose, strerror(errno));
        return EXIT_FAIL;
    }
    while (fgets(line, sizeof line, in)) {
        if (strncmp(line, OPTIONS_MARK, strlen(OPTIONS_MARK)) == 0) {
            options_section(stdout, cmds, n);
            spliced = true;
        } else {
            prose_line(stdout, line);
        }
    }
    int err = ferror(in);
    fclose(in);
    if (err) {
        cli_error("man: %s: read error", prose);
        return EXIT_FAIL;
    }
    if (!spliced) {
        cli_error("man: %s has no '%s' line to put the options at", prose, OPTIONS_MARK);
        return EXIT_FAIL;
    }
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
