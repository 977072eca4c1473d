/* GET /stats for the http service: the counters, and the live connection
 * table (a page of it) when it was asked for, as JSON. Not on the hot
 * path, so it may allocate. */
#include "http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/http.h>
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

/* Whether the client is on a loopback address (127/8, ::1, or 127/8
 * v4-mapped). */
static bool on_loopback(const sk_addr *a)
{
    if (a->ss.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss.ss_family != AF_INET6)
        return false;
    const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(in6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127;
}

/* One decimal value of the query, "NAME=DIGITS" between '&'s. Returns 1
 * (found, *v set), 0 (absent) or -EINVAL. */
static int query_int(const char *q, size_t qlen, const char *name, long *v)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < qlen;) {
        size_t end = i;
        while (end < qlen && q[end] != '&')
            end++;
        if (end - i > n && memcmp(q + i, name, n) == 0 && q[i + n] == '=') {
            long x = 0;
            size_t k = i + n + 1;
            if (k == end)
                return -EINVAL;
            for (; k < end; k++) {
                if (q[k] < '0' || q[k] > '9' || x > 100000000)
                    return -EINVAL;
                x = x * 10 + (q[k] - '0');
            }
            *v = x;
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

static const char *table_name(sk_http_stats_table t)
{
    return t == SK_HTTP_STATS_TABLE_ANY ? "any" : t == SK_HTTP_STATS_TABLE_LOOPBACK ? "loopback" : "off";
}

/* The JSON for /stats into a malloc'd buffer (this is not the hot path).
 * The counters cost no system call per connection; the table, when this
 * client may have it, one TCP_INFO per row of the page and never more than
 * SK_HTTP_STATS_MAX_ROWS rows. */
int sk__http_stats_json(sk_conn *c, const char *query, size_t qlen, char **out, size_t *len)
{
    const sk_http_config *cfg = sk_conn_config(c);
    sk_http_stats_table table = cfg ? cfg->stats_table : SK_HTTP_STATS_TABLE_OFF;
    sk_server *s = sk_conn_server(c);
    long limit = SK_HTTP_STATS_ROWS, offset = 0;
    sk_stats st;
    jbuf j = {0};
    char row[1024];

    if (query_int(query, qlen, "limit", &limit) < 0 || query_int(query, qlen, "offset", &offset) < 0)
        return -EINVAL;
    if (limit > SK_HTTP_STATS_MAX_ROWS)
        limit = SK_HTTP_STATS_MAX_ROWS;
    sk_server_stats(s, &st);
    sk_stats_format(&st, SK_FORMAT_JSON, row, sizeof row);
    jprintf(&j, "{\"stats\":%s,\n\"connections_total\":%" PRIu64 ",\n\"table\":\"%s\"", row, st.active,
            table_name(table));
    bool shown = table == SK_HTTP_STATS_TABLE_ANY ||
                 (table == SK_HTTP_STATS_TABLE_LOOPBACK && on_loopback(&sk_conn_tuple(c)->peer));
    if (shown) {
        sk_conn_info *info = limit > 0 ? malloc((size_t)limit * sizeof *info) : NULL;
        if (limit > 0 && info == NULL) {
            free(j.p);
            return -ENOMEM;
        }
        int n = sk_server_conns_page(s, (int)offset, info, (int)limit);
        int rows = n - offset < limit ? (int)(n > offset ? n - offset : 0) : (int)limit;
        jprintf(&j, ",\n\"table_total\":%d,\"offset\":%ld,\"limit\":%ld,\n\"connections\":[", n, offset, limit);
        for (int i = 0; i < rows; i++) {
            sk_conn_info_format(&info[i], SK_FORMAT_JSON, row, sizeof row);
            jprintf(&j, "%s\n%s", i ? "," : "", row);
        }
        jprintf(&j, "\n]");
        free(info);
    }
    jprintf(&j, "}\n");
    if (j.failed) {
        free(j.p);
        return -ENOMEM;
    }
    *out = j.p;
    *len = j.len;
    return 0;
}
