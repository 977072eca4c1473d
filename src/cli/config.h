/* Settings from outside the command line: a config file with a section per
 * subcommand and SOCKIT_<OPTION> environment variables, both keyed by the
 * long option names of the option tables, so --help, the man page and the
 * file cannot disagree. Flags beat the environment, which beats the file,
 * which beats the defaults. */
#ifndef SOCKIT_CLI_CONFIG_H
#define SOCKIT_CLI_CONFIG_H

#include <stdbool.h>

#include "options.h"

/* Read the settings for p's command: --config FILE from argv (or the
 * default files, /etc/sockit/config then $XDG_CONFIG_HOME/sockit/config,
 * when present), then the environment. sibling (nsib options) are the keys
 * of the command sharing the section, skipped here. On a bad file, key or
 * value prints one line naming the file and line and exits 2. Fills out;
 * returns the count. */
int cli_config_load(const cli_parser *p, const cli_option *sibling, int nsib, int argc, char **argv, cli_setting *out,
                    int max);

/* The name of the environment variable for a long option: "idle-timeout"
 * is SOCKIT_IDLE_TIMEOUT. */
void cli_config_env_name(const char *opt, char *buf, size_t len);

#endif
