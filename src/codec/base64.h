/* Base64 (RFC 4648, the standard alphabet with '=' padding): how the etcd
 * v3 JSON gateway carries keys and values. Pure functions over bytes. */
#ifndef SOCKIT_CODEC_BASE64_H
#define SOCKIT_CODEC_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/* Characters the encoding of n bytes takes, without the NUL. */
#define SK_BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode src[0, n) into out (cap bytes), NUL-terminated. Returns the
 * length written (without the NUL) or -ENOSPC when cap is less than
 * SK_BASE64_LEN(n) + 1 (out is then left empty if cap > 0). */
ssize_t sk__base64_encode(const void *src, size_t n, char *out, size_t cap);

/* Decode text[0, n) into out (cap bytes; a NUL is added when there is room
 * for it, so a decoded string can be used as one). Padding is required
 * (length a multiple of 4, '=' only at the end, at most two), and the
 * bits a final '=' leaves over must be zero: each text has one decoding
 * and each byte string one text. Returns the bytes decoded, -EINVAL for
 * text that is not base64, -ENOSPC when they do not fit in cap. */
ssize_t sk__base64_decode(const char *text, size_t n, void *out, size_t cap);

#endif
