/* Shared by the HTTP request and response parsers: the character classes,
 * the one Content-Length parser and the Connection token scan, so both
 * directions accept and refuse exactly the same field values. */
#ifndef SOCKIT_HTTP_COMMON_H
#define SOCKIT_HTTP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Internal to the library: not exported from libsockit.so, and reached
 * without a GOT load from the parsers' hot loops. */
#define SK__HIDDEN __attribute__((visibility("hidden")))

/* Character classes, one table so each byte costs one load. */
/* Host: unreserved, sub-delims but ',' (a list of hosts is refused), '%' */
enum { SK__C_TCHAR = 1, SK__C_TARGET = 2, SK__C_VALUE = 4, SK__C_DIGIT = 8, SK__C_HOST = 16 };
SK__HIDDEN extern const unsigned char sk__http_cls[256];

typedef const unsigned char *sk__ucp;

/* Content-Length (RFC 9110 8.6): decimal digits, at most 2^63-1, or a
 * comma list (with optional blanks) of equal values. Returns 0 and the
 * value, or SK_EHTTP_BAD. */
SK__HIDDEN int sk__http_parse_length(sk__ucp v, size_t n, uint64_t *out);

/* Connection: a comma list of tokens; only close and keep-alive matter.
 * Sets *close / *keep when they appear (case-insensitive), never clears. */
SK__HIDDEN void sk__http_parse_connection(sk__ucp v, size_t n, bool *close, bool *keep);

/* A Transfer-Encoding value (a comma list of codings with parameters):
 * *chunked gets whether its last coding is "chunked", the only thing that
 * matters for framing (each header continues the list, so the caller keeps
 * the last header's answer). Returns 0, or SK_EHTTP_BAD for an empty list. */
SK__HIDDEN int sk__http_te_chunked(sk__ucp v, size_t n, bool *chunked);

/* Case-insensitive compare of n bytes against a literal of lower-case
 * letters and '-'. Setting bit 0x20 folds case; it could only make a false
 * match of '-' out of a CR, and the callers compare tokens and field
 * values, which hold no CR. */
static inline bool sk__http_ieq(sk__ucp s, size_t n, const char *lower, size_t ln)
{
    if (n != ln)
        return false;
    size_t i = 0;
    /* Four bytes at a time: a literal's words fold to constants. */
    for (; i + 4 <= n; i += 4) {
        uint32_t a, b;
        memcpy(&a, s + i, 4);
        memcpy(&b, lower + i, 4);
        if ((a | UINT32_C(0x20202020)) != b)
            return false;
    }
    for (; i < n; i++) {
        if ((s[i] | 0x20) != (unsigned char)lower[i])
            return false;
    }
    return true;
}
#define SK__HTTP_IEQ(s, n, lit) sk__http_ieq(s, n, lit, sizeof(lit) - 1)

/* Eight bytes at a time (SWAR): the bytes of w below n (n <= 128) or equal
 * to DEL, each as its high bit. A borrow runs only upwards (to more
 * significant bytes) from a byte that is below n, so the mask can be wrong
 * only above its least significant set byte: that one is exact, and on a
 * little-endian machine it is the first in memory. Long targets and values
 * (cookies, user agents) are skipped a word at a time. */
#define SK__ONES UINT64_C(0x0101010101010101)
#define SK__HIGHS UINT64_C(0x8080808080808080)
static inline uint64_t sk__http_word_stops(uint64_t w, unsigned n)
{
    uint64_t del = w ^ (SK__ONES * 0x7f);
    return (((w - SK__ONES * n) & ~w) | ((del - SK__ONES) & ~del)) & SK__HIGHS;
}

/* Skip the bytes of class cls: to the first byte that is not, or to end.
 * Four bytes per round with one bounds check, so a byte costs a load, a
 * table test and a branch. */
static inline sk__ucp sk__http_scan(sk__ucp p, sk__ucp end, unsigned cls)
{
    while (end - p >= 4) {
        if (!(sk__http_cls[p[0]] & cls))
            return p;
        if (!(sk__http_cls[p[1]] & cls))
            return p + 1;
        if (!(sk__http_cls[p[2]] & cls))
            return p + 2;
        if (!(sk__http_cls[p[3]] & cls))
            return p + 3;
        p += 4;
    }
    while (p < end && (sk__http_cls[*p] & cls))
        p++;
    return p;
}

/* Skip the bytes every one of which is >= lo and not DEL: to the first
 * byte that is not (where the byte loop after it decides exactly), or to
 * the last few bytes, fewer than a word. */
static inline sk__ucp sk__http_skip_words(sk__ucp p, sk__ucp end, unsigned lo)
{
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t stops = sk__http_word_stops(w, lo);
        if (stops) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            /* The first byte is the word's top, where the mask may be wrong:
             * the byte loop starts at the word. */
            return p;
#else
            return p + (__builtin_ctzll(stops) >> 3);
#endif
        }
        p += 8;
    }
    return p;
}

/* The end of a field value's bytes (VCHAR, obs-text, SP, HTAB): the first
 * byte that is none of them (the CR of a well-formed line), or end. Both
 * parsers scan every value, status reason and header, with this one loop. */
static inline sk__ucp sk__http_value_end(sk__ucp p, sk__ucp end)
{
    return sk__http_scan(sk__http_skip_words(p, end, 0x20), end, SK__C_VALUE);
}

#endif
