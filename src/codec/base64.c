/* Base64 encoding and decoding (RFC 4648 section 4), strict both ways. */
#include "base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

ssize_t sk__base64_encode(const void *src, size_t n, char *out, size_t cap)
{
    const unsigned char *s = src;
    size_t need = SK_BASE64_LEN(n), w = 0;
    if (cap > 0)
        out[0] = '\0';
    if (n > (SIZE_MAX / 4) * 3 - 3 || cap < need + 1)
        return -ENOSPC;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)s[i + 1] << 8;
        if (left > 2)
            v |= s[i + 2];
        out[w++] = alphabet[(v >> 18) & 63];
        out[w++] = alphabet[(v >> 12) & 63];
        out[w++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
        out[w++] = left > 2 ? alphabet[v & 63] : '=';
    }
    out[w] = '\0';
    return (ssize_t)w;
}

/* The 6-bit value of c, or -1. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ssize_t sk__base64_decode(const char *text, size_t n, void *out, size_t cap)
{
    unsigned char *o = out;
    size_t w = 0;
    if (n % 4 != 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)text[i + k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0 || (v[k] = sextet(c)) < 0)
                return -EINVAL; /* '=' before the end, or not an alphabet byte */
        }
        uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0))
            return -EINVAL; /* leftover bits set: not the canonical text */
        size_t bytes = 3 - (size_t)pad;
        if (w + bytes > cap)
            return -ENOSPC;
        o[w++] = (unsigned char)(bits >> 16);
        if (bytes > 1)
            o[w++] = (unsigned char)(bits >> 8);
        if (bytes > 2)
            o[w++] = (unsigned char)bits;
    }
    if (w < cap)
        o[w] = '\0';
    return (ssize_t)w;
}
