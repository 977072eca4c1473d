/* Hex dump lines (hexdump.h), shared by connect and serve. */
#include "hexdump.h"

#include <inttypes.h>

void cli_hexdump(FILE *f, char dir, uint64_t offset, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    for (size_t at = 0; at < len; at += CLI_HEXDUMP_WIDTH) {
        /* Built whole, then written once: a line never interleaves with
         * another thread's. */
        char line[128];
        size_t n = (size_t)snprintf(line, sizeof line, "%c %08" PRIx64 " ", dir, offset + at);
        for (size_t i = 0; i < CLI_HEXDUMP_WIDTH; i++) {
            if (i == CLI_HEXDUMP_WIDTH / 2)
                line[n++] = ' ';
            if (at + i < len)
                n += (size_t)snprintf(line + n, sizeof line - n, " %02x", p[at + i]);
            else
                n += (size_t)snprintf(line + n, sizeof line - n, "   ");
        }
        line[n++] = ' ';
        line[n++] = ' ';
        line[n++] = '|';
        for (size_t i = 0; i < CLI_HEXDUMP_WIDTH && at + i < len; i++) {
            unsigned char c = p[at + i];
            line[n++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
        }
        line[n++] = '|';
        line[n++] = '\n';
        fwrite(line, 1, n, f);
    }
}
