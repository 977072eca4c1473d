/* Shared by the http service's files. */
#ifndef SOCKIT_SERVICES_HTTP_INT_H
#define SOCKIT_SERVICES_HTTP_INT_H

#include <stddef.h>

#include <sockit/service.h>

/* The /stats JSON into a malloc'd buffer the caller frees. Returns 0 or
 * -ENOMEM. */
int sk__http_stats_json(sk_conn *c, char **out, size_t *len);

#endif
