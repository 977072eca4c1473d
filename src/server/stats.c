/* Rendering counters, connection rows and events as text or JSON
 * (stats.h). Not on the hot path: clarity over speed. */
#include <sockit/stats.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sockit/error.h>

#include "codec/json_write.h"

/* An snprintf that keeps counting past the end of buf. */
typedef struct out {
    char *buf;
    size_t len, n;
} out;

__attribute__((format(printf, 2, 3))) static void add(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->n < o->len ? o->len - o->n : 0;
    int k = vsnprintf(room ? o->buf + o->n : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->n += (size_t)k;
}

static void add_str(out *o, const char *s)
{
    size_t room = o->n < o->len ? o->len - o->n : 0;
    o->n += sk__json_string(room ? o->buf + o->n : NULL, room, s);
}

/* "key":"escaped value" with a leading comma unless first. */
static void add_kv(out *o, const char *key, const char *val, bool first)
{
    add(o, "%s\"%s\":", first ? "" : ",", key);
    add_str(o, val);
}

static size_t done(out *o)
{
    if (o->len > 0 && o->n >= o->len)
        o->buf[o->len - 1] = '\0';
    return o->n;
}

static void stats_members(out *o, const sk_stats *st, sk_format f)
{
    const char *fmt = f == SK_FORMAT_JSON ? "\"accepted\":%" PRIu64 ",\"active\":%" PRIu64 ",\"closed\":%" PRIu64
                                            ",\"rejected\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
                                            ",\"cut\":%" PRIu64
                                          : "accepted=%" PRIu64 " active=%" PRIu64 " closed=%" PRIu64
                                            " rejected=%" PRIu64 " bytes_in=%" PRIu64 " bytes_out=%" PRIu64
                                            " cut=%" PRIu64;
    add(o, fmt, st->accepted, st->active, st->closed, st->rejected, st->bytes_in, st->bytes_out, st->cut);
    /* The overload policies' counters: every one in JSON, in text only
     * those that counted something, so the common line stays short. */
    const struct {
        const char *name;
        uint64_t v;
    } more[] = {
        {"fd_limit_refused", st->fd_limit_refused},   {"fd_limit_paused", st->fd_limit_paused},
        {"max_conns_refused", st->max_conns_refused}, {"max_conns_paused", st->max_conns_paused},
        {"per_ip_refused", st->per_ip_refused},       {"slow_closed", st->slow_closed},
        {"rate_limited", st->rate_limited},           {"listen_overflows", st->listen_overflows},
        {"listen_drops", st->listen_drops},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        if (f == SK_FORMAT_JSON)
            add(o, ",\"%s\":%" PRIu64, more[i].name, more[i].v);
        else if (more[i].v > 0)
            add(o, " %s=%" PRIu64, more[i].name, more[i].v);
    }
}

size_t sk_stats_format(const sk_stats *st, sk_format f, char *buf, size_t len)
{
    out o = {buf, len, 0};
    if (len > 0)
        buf[0] = '\0';
    add(&o, "%s", f == SK_FORMAT_JSON ? "{" : "");
    stats_members(&o, st, f);
    add(&o, "%s", f == SK_FORMAT_JSON ? "}" : "");
    return done(&o);
}

size_t sk_conn_info_format(const sk_conn_info *ci, sk_format f, char *buf, size_t len)
{
    char peer[SK_ADDRSTRLEN], local[SK_ADDRSTRLEN];
    out o = {buf, len, 0};

    if (len > 0)
        buf[0] = '\0';
    sk_addr_format((const struct sockaddr *)&ci->tuple.peer.ss, peer, sizeof peer);
    sk_addr_format((const struct sockaddr *)&ci->tuple.local.ss, local, sizeof local);
    if (f == SK_FORMAT_JSON) {
        add(&o, "{");
        add_kv(&o, "peer", peer, true);
        add_kv(&o, "local", local, false);
        add(&o, ",\"age_ms\":%" PRId64 ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64, ci->age_ms, ci->bytes_in,
            ci->bytes_out);
        add_kv(&o, "state", sk_tcp_state_name(ci->tcp_state), false);
        add(&o,
            ",\"rtt_us\":%" PRIu32 ",\"rttvar_us\":%" PRIu32 ",\"retransmits\":%" PRIu32 ",\"snd_cwnd\":%" PRIu32 "}",
            ci->rtt_us, ci->rttvar_us, ci->retransmits, ci->snd_cwnd);
    } else {
        add(&o,
            "%s -> %s %s age_ms=%" PRId64 " bytes_in=%" PRIu64 " bytes_out=%" PRIu64 " rtt_us=%" PRIu32
            " rttvar_us=%" PRIu32 " retransmits=%" PRIu32 " snd_cwnd=%" PRIu32,
            peer, local, sk_tcp_state_name(ci->tcp_state), ci->age_ms, ci->bytes_in, ci->bytes_out, ci->rtt_us,
            ci->rttvar_us, ci->retransmits, ci->snd_cwnd);
    }
    return done(&o);
}

static void event_json(out *o, const sk_event *ev, const char *conn, const char *addr)
{
    switch (ev->kind) {
    case SK_EV_LISTEN:
        add_kv(o, "event", "listen", true);
        add_kv(o, "addr", addr, false);
        break;
    case SK_EV_OPEN:
        add_kv(o, "event", "open", true);
        add_kv(o, "conn", conn, false);
        break;
    case SK_EV_CLOSE:
        add_kv(o, "event", "close", true);
        add_kv(o, "conn", conn, false);
        add(o, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64, ev->bytes_in, ev->bytes_out);
        break;
    case SK_EV_REJECT:
        add_kv(o, "event", "reject", true);
        add_kv(o, "reason", ev->msg ? ev->msg : sk_strerror(ev->err), false);
        break;
    case SK_EV_DATA:
        add_kv(o, "event", "data", true);
        add_kv(o, "conn", conn, false);
        add_kv(o, "dir", ev->dir == SK_DATA_IN ? "in" : "out", false);
        add(o, ",\"offset_bytes\":%" PRIu64 ",\"bytes\":%zu", ev->offset, ev->len);
        break;
    case SK_EV_STATS:
        add_kv(o, "event", "stats", true);
        if (ev->stats) {
            add(o, ",");
            stats_members(o, ev->stats, SK_FORMAT_JSON);
        }
        break;
    case SK_EV_WARN:
    default:
        add_kv(o, "event", "warn", true);
        add_kv(o, "what", ev->msg ? ev->msg : "", false);
        /* A warning that carries no error code has no "error" to name. */
        if (ev->err != 0)
            add_kv(o, "error", sk_strerror(ev->err), false);
        break;
    }
}

static void event_text(out *o, const sk_event *ev, const char *conn, const char *addr)
{
    switch (ev->kind) {
    case SK_EV_LISTEN:
        add(o, "listening on %s", addr);
        break;
    case SK_EV_OPEN:
        add(o, "open  %s", conn);
        break;
    case SK_EV_CLOSE:
        add(o, "close %s in=%" PRIu64 " out=%" PRIu64, conn, ev->bytes_in, ev->bytes_out);
        break;
    case SK_EV_REJECT:
        add(o, "reject: %s", ev->msg ? ev->msg : sk_strerror(ev->err));
        break;
    case SK_EV_DATA:
        add(o, "data  %s %s %zu bytes at %" PRIu64, conn, ev->dir == SK_DATA_IN ? "in" : "out", ev->len, ev->offset);
        break;
    case SK_EV_STATS:
        add(o, "stats ");
        if (ev->stats)
            stats_members(o, ev->stats, SK_FORMAT_TEXT);
        break;
    case SK_EV_WARN:
    default:
        if (ev->err == 0)
            add(o, "%s", ev->msg ? ev->msg : "warning");
        else
            add(o, "%s: %s", ev->msg ? ev->msg : "warning", sk_strerror(ev->err));
        break;
    }
}

size_t sk_event_format(const sk_event *ev, sk_format f, char *buf, size_t len)
{
    char conn[2 * SK_ADDRSTRLEN + 8], addr[SK_ADDRSTRLEN];
    out o = {buf, len, 0};

    if (len > 0)
        buf[0] = '\0';
    if (ev->tuple)
        sk_tuple_format(ev->tuple, conn, sizeof conn);
    else
        strcpy(conn, "-");
    if (ev->addr)
        sk_addr_format((const struct sockaddr *)&ev->addr->ss, addr, sizeof addr);
    else
        strcpy(addr, "?");
    if (f == SK_FORMAT_JSON) {
        add(&o, "{");
        event_json(&o, ev, conn, addr);
        add(&o, "}");
    } else {
        event_text(&o, ev, conn, addr);
    }
    return done(&o);
}
