/* JSON string escaping (json_write.h). */
#include "json_write.h"

static void put(char *out, size_t cap, size_t at, char ch)
{
    if (at + 1 < cap)
        out[at] = ch;
}

size_t sk__json_string(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    put(out, cap, n++, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            break;
        }
        if (esc) {
            put(out, cap, n++, esc[0]);
            put(out, cap, n++, esc[1]);
        } else if (*p < 0x20 || *p == 0x7f) {
            const char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            for (int i = 0; i < 6; i++)
                put(out, cap, n++, u[i]);
        } else {
            put(out, cap, n++, (char)*p);
        }
    }
    put(out, cap, n++, '"');
    if (cap > 0)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}
