/* sockit serve and the services' own options (service.h): their place in
 * serve's option table, and the configuration they fill. Names no service:
 * whatever sk_service_list() holds is offered. */
#ifndef SOCKIT_CLI_SERVE_SERVICES_H
#define SOCKIT_CLI_SERVE_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include <sockit/service.h>

#include "options.h"

/* The services' options get ids from here on, in the order of
 * sk_service_list() and of each service's table; serve's own stay below. */
#define SERVE_SERVICE_OPT (CLI_LONG + 64)

/* cli_command.more for serve: a heading, then every service's options,
 * each tagged with its service's name. */
int serve_service_options(cli_option *out, int max);

/* Apply an option cli_next() returned to its service's configuration, now,
 * so a bad value is reported where it stands on the command line. Returns
 * EXIT_OK, EXIT_USAGE after printing the usage error, or -1 when id is no
 * service's option. */
int serve_service_set(int id, const char *text);

/* Once every option is read and svc is known: *config is svc's
 * configuration (its defaults plus the options given; NULL for a service
 * without one). Returns EXIT_OK, EXIT_USAGE after printing the usage error
 * when options of another service were given, or EXIT_FAIL without memory. */
int serve_service_config(const sk_service *svc, const void **config);

/* The service an option that selects its service (sk_service_option
 * .selects, --exec CMD) given on the command line names, or NULL: served
 * when --service is not given. */
const sk_service *serve_service_selected(void);

/* The services' names, "echo, discard, ...": every one, or only those with a
 * UDP form. Returns buf. */
const char *serve_service_names(char *buf, size_t len, bool udp);

#endif
