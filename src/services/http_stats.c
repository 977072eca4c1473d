/* GET /stats for the http service: the counters and the live connection
 * table as JSON. Not on the hot path, so it may allocate. */
#include "http_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <sockit/server.h>

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
    char peer[SK_ADDRSTRLEN], local[SK_ADDRSTRLEN];

    sk_server_stats(s, &st);
    /* Room for connections that open between counting and listing. */
    int cap = sk_server_conns(s, NULL, 0) + 16;
    sk_conn_info *info = malloc((size_t)cap * sizeof *info);
    if (info == NULL)
        return -ENOMEM;
    int n = sk_server_conns(s, info, cap);
    int shown = n < cap ? n : cap;

    jprintf(&j,
            "{\"stats\":{\"accepted\":%" PRIu64 ",\"active\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"rejected\":%" PRIu64
            ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 "},\n\"connections_total\":%d,\n\"connections\":[",
            st.accepted, st.active, st.closed, st.rejected, st.bytes_in, st.bytes_out, n);
    for (int i = 0; i < shown; i++) {
        const sk_conn_info *ci = &info[i];
        sk_addr_format((const struct sockaddr *)&ci->tuple.peer.ss, peer, sizeof peer);
        sk_addr_format((const struct sockaddr *)&ci->tuple.local.ss, local, sizeof local);
        jprintf(&j,
                "%s\n{\"peer\":\"%s\",\"local\":\"%s\",\"age_ms\":%" PRId64 ",\"bytes_in\":%" PRIu64
                ",\"bytes_out\":%" PRIu64 ",\"state\":\"%s\",\"rtt_us\":%" PRIu32 ",\"rttvar_us\":%" PRIu32
                ",\"retransmits\":%" PRIu32 ",\"snd_cwnd\":%" PRIu32 "}",
                i ? "," : "", peer, local, ci->age_ms, ci->bytes_in, ci->bytes_out, sk_tcp_state_name(ci->tcp_state),
                ci->rtt_us, ci->rttvar_us, ci->retransmits, ci->snd_cwnd);
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
