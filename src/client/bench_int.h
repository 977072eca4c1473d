/* Inside sockit bench: the incremental HTTP/1.1 response reader. */
#ifndef SOCKIT_BENCH_INT_H
#define SOCKIT_BENCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keeps no bytes: only what a client needs to find where a response ends,
 * so a response may arrive split at any byte. */
typedef struct sk__httpresp {
    uint8_t st;
    uint8_t nlen, vlen;
    uint16_t status;
    bool have_len, chunked, close, keep_alive, http10;
    uint64_t left;          /* body or chunk bytes still to come */
    char name[20], val[24]; /* the header being read, lowercased, cut short */
} sk__httpresp;

void sk__httpresp_reset(sk__httpresp *r);

/* Read up to n bytes. Returns how many were used; *done tells whether a
 * whole response ended there (then r->status and r->close are its status
 * and whether the server will close; reset before the next response).
 * Returns -1 on a malformed response. */
long sk__httpresp_feed(sk__httpresp *r, const char *p, size_t n, bool *done);

/* The peer closed: true when that ends a body delimited by the close. */
bool sk__httpresp_eof_ends(const sk__httpresp *r);

#endif
