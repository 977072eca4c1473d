/* GET /stats for the http service: the counters and the live connection
 * table as JSON. Not on the hot path, so it may allocate. */
#include "http_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <sockit/server.h>
#include <sockit/stats.h>

typedef struct jbuf {
    char *p;
    size_t len, cap;
    bool failed;
} jbuf;

__attribute__((format(printf, 2, 3))) static void jprintf(jbuf *j, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && !j->failed; tries++) {
        va_start(ap, fmt);
        int n = vsnprintf(j->p ? j->p + j->len : NULL, j->p ? j->cap - j->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            j->failed = true;
            return;
        }
        if (j->p && j->len + (size_t)n < j->cap) {
            j->len += (size_t)n;
            return;
        }
        size_t cap = (j->cap ? j->cap : 4096);
        while (cap <= j->len + (size_t)n)
            cap *= 2;
        char *np = realloc(j->p, cap);
        if (np == NULL) {
            j->failed = true;
            return;
        }
        j->p = np;
        j->cap = cap;
    }
}

/* The JSON for /stats into a malloc'd buffer (this is not the hot path).
 * Returns 0 or -ENOMEM. */
int sk__http_stats_json(sk_conn *c, char **out, size_t *len)
{
    sk_server *s = sk_conn_server(c);
    sk_stats st;
    jbuf j = {0};

    sk_server_stats(s, &st);
    /* Room for connections that open between counting and listing. */
    int cap = sk_server_conns(s, NULL, 0) + 16;
    sk_conn_info *info = malloc((size_t)cap * sizeof *info);
    if (info == NULL)
        return -ENOMEM;
    int n = sk_server_conns(s, info, cap);
    int shown = n < cap ? n : cap;

    char row[512];
    sk_stats_format(&st, SK_FORMAT_JSON, row, sizeof row);
    jprintf(&j, "{\"stats\":%s,\n\"connections_total\":%d,\n\"connections\":[", row, n);
    for (int i = 0; i < shown; i++) {
        sk_conn_info_format(&info[i], SK_FORMAT_JSON, row, sizeof row);
        jprintf(&j, "%s\n%s", i ? "," : "", row);
    }
    jprintf(&j, "\n]}\n");
    free(info);
    if (j.failed) {
        free(j.p);
        return -ENOMEM;
    }
    *out = j.p;
    *len = j.len;
    return 0;
}
