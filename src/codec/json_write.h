/* Writing JSON text by hand where a document is a few flat objects (events,
 * counters): string escaping per RFC 8259. Pure functions over bytes. */
#ifndef SOCKIT_CODEC_JSON_WRITE_H
#define SOCKIT_CODEC_JSON_WRITE_H

#include <stddef.h>

/* Write s as a JSON string, quotes included, into out (cap bytes, always
 * NUL-terminated when cap > 0): '"' '\\' and control characters escaped,
 * other bytes (UTF-8 included) as they are. Returns the length the whole
 * string needs (excluding the NUL), like snprintf. s NULL writes "". */
size_t sk__json_string(char *out, size_t cap, const char *s);

#endif
