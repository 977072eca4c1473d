/* One renderer for what a server reports: its counters, its connection
 * table and its events, as the text `sockit serve -v` prints or as JSON
 * (strings escaped). The CLI, the http service's /stats and every later
 * tool use these, so the same fact always reads the same way. */
#ifndef SOCKIT_STATS_H
#define SOCKIT_STATS_H

#include <stddef.h>

#include <sockit/server.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sk_format {
    SK_FORMAT_TEXT, /* key=value words on one line */
    SK_FORMAT_JSON, /* one JSON object */
} sk_format;

/* Each call writes into buf (len bytes; NUL-terminated whenever len > 0)
 * and returns the length the whole rendering needs, like snprintf: a
 * result >= len means buf holds a cut-off copy. */

/* "accepted=3 active=0 closed=3 rejected=0 bytes_in=6 bytes_out=6", or
 * {"accepted":3,"active":0,...}. */
size_t sk_stats_format(const sk_stats *st, sk_format f, char *buf, size_t len);

/* One row of the connection table: "PEER -> LOCAL STATE age_ms=.. bytes_in=..
 * bytes_out=.. rtt_us=.. rttvar_us=.. retransmits=.. snd_cwnd=..", or the
 * same as a JSON object (peer, local, age_ms, bytes_in, bytes_out, state,
 * rtt_us, rttvar_us, retransmits, snd_cwnd). */
size_t sk_conn_info_format(const sk_conn_info *ci, sk_format f, char *buf, size_t len);

/* An event: the text `serve -v` prints after "sockit: " ("open  PEER ->
 * LOCAL", "close PEER -> LOCAL in=3 out=3", "reject: max-conns reached",
 * "listening on ADDR", "accept: Too many open files", "stats accepted=..",
 * "data  PEER -> LOCAL in 6 bytes at 0": the chunk's size and offset, not
 * its bytes, which the caller renders as it likes),
 * or a JSON object with "event" naming the kind ({"event":"open","conn":..}). */
size_t sk_event_format(const sk_event *ev, sk_format f, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
