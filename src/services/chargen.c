/* chargen (RFC 864): an endless stream of 72-character lines, each one the
 * 95 printable ASCII characters rotated one further than the line before.
 * Output is produced only when the connection has room, so the pace is set
 * by how fast the client reads. Input is discarded. */
#include <sockit/service.h>

#include <string.h>

#define LINE_CHARS 72
#define PRINTABLE 95 /* ' ' (32) through '~' (126) */

typedef struct chargen_state {
    unsigned next; /* first character of the next line, 0..94 */
} chargen_state;

static int chargen_fill(sk_conn *c)
{
    chargen_state *st = sk_conn_state(c);
    char line[LINE_CHARS + 2];

    while (sk_conn_room(c) >= sizeof line) {
        for (unsigned i = 0; i < LINE_CHARS; i++)
            line[i] = (char)(' ' + (st->next + i) % PRINTABLE);
        line[LINE_CHARS] = '\r';
        line[LINE_CHARS + 1] = '\n';
        if (sk_conn_write(c, line, sizeof line) < 0)
            return -1;
        st->next = (st->next + 1) % PRINTABLE;
    }
    return 0;
}

static int chargen_data(sk_conn *c, const void *buf, size_t len)
{
    (void)c;
    (void)buf;
    return (int)len;
}

/* RFC 864 streams until the client closes: a half-close from the client
 * does not stop it. */
static int chargen_eof(sk_conn *c)
{
    (void)c;
    return 1;
}

/* The stream never ends by itself: on a drain it stops where it is, after
 * the lines already queued (input is discarded anyway, so none is lost). */
static int chargen_drain(sk_conn *c)
{
    sk_conn_close(c);
    return 0;
}

const sk_service sk__service_chargen = {
    .name = "chargen",
    .summary = "stream RFC 864 character lines, paced by the reader",
    .conn_state_size = sizeof(chargen_state),
    .on_open = chargen_fill,
    .on_data = chargen_data,
    .on_writable = chargen_fill,
    .on_eof = chargen_eof,
    .on_drain = chargen_drain,
};
