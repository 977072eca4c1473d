/* Shared by the http service's files. */
#ifndef SOCKIT_SERVICES_HTTP_INT_H
#define SOCKIT_SERVICES_HTTP_INT_H

#include <stddef.h>

#include <sockit/service.h>

/* The /stats JSON into a malloc'd buffer the caller frees; query is the
 * target's query (after '?', may be empty): limit=N&offset=M page the
 * table. Returns 0, -EINVAL (a bad query: 400) or -ENOMEM. */
int sk__http_stats_json(sk_conn *c, const char *query, size_t qlen, char **out, size_t *len);

#endif
