/* sockit bench's HTTP/1.1 response reader: status line, Content-Length,
 * Connection, chunked bodies, byte at a time in the head and in bulk for
 * bodies. Enough to know where each response ends, nothing more. */
#include "bench_int.h"

#include <string.h>

enum {
    R_PROTO,  /* "HTTP/1.1" up to the space */
    R_CODE,   /* three digits */
    R_REASON, /* to the end of the status line */
    R_HSTART, /* start of a header line, or the empty line */
    R_HNAME,
    R_HVALUE,
    R_HEND,     /* '\r' of the empty line seen, want '\n' */
    R_BODY,     /* r->left bytes */
    R_BODY_EOF, /* until the server closes */
    R_CSIZE,    /* chunk size in hex */
    R_CEXT,     /* chunk extension, to '\n' */
    R_CDATA,
    R_CDATA_END, /* CRLF after chunk data */
    R_TRAILER,   /* lines after the last chunk until an empty one */
    R_TRAILER_LINE,
};

void sk__httpresp_reset(sk__httpresp *r) { memset(r, 0, sizeof *r); }

static bool contains(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++) {
        if (memcmp(s + i, word, w) == 0)
            return true;
    }
    return false;
}

/* A header line ended: keep what matters. Returns false if malformed. */
static bool header_done(sk__httpresp *r)
{
    if (r->nlen == 14 && memcmp(r->name, "content-length", 14) == 0) {
        uint64_t v = 0;
        size_t i = 0;
        while (i < r->vlen && r->val[i] == ' ')
            i++;
        if (i == r->vlen)
            return false;
        for (; i < r->vlen && r->val[i] != ' ' && r->val[i] != '\r'; i++) {
            if (r->val[i] < '0' || r->val[i] > '9' || v > UINT64_MAX / 10 - 10)
                return false;
            v = v * 10 + (uint64_t)(r->val[i] - '0');
        }
        r->have_len = true;
        r->left = v;
    } else if (r->nlen == 10 && memcmp(r->name, "connection", 10) == 0) {
        r->close = contains(r->val, r->vlen, "close");
        r->keep_alive = contains(r->val, r->vlen, "keep-alive");
    } else if (r->nlen == 17 && memcmp(r->name, "transfer-encoding", 17) == 0) {
        r->chunked = contains(r->val, r->vlen, "chunked");
    }
    return true;
}

/* The head is over: decide how the body ends. Returns true when the
 * response is already complete. */
static bool head_done(sk__httpresp *r)
{
    /* HTTP/1.0 closes after the response unless it says otherwise. */
    if (r->http10 && !r->keep_alive)
        r->close = true;
    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->left = 0;
        return true;
    }
    if (r->chunked) {
        r->st = R_CSIZE;
        r->left = 0;
        return false;
    }
    if (r->have_len) {
        r->st = R_BODY;
        return r->left == 0;
    }
    r->st = R_BODY_EOF;
    return false;
}

static char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch; }

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

long sk__httpresp_feed(sk__httpresp *r, const char *p, size_t n, bool *done)
{
    size_t i = 0;
    *done = false;
    while (i < n) {
        char ch = p[i];
        switch (r->st) {
        case R_PROTO:
            if (r->nlen == 0 && ch != 'H')
                return -1;
            if (ch == ' ') {
                r->http10 = r->nlen == 8 && memcmp(r->name, "HTTP/1.0", 8) == 0;
                r->nlen = 0;
                r->st = R_CODE;
            } else if (r->nlen >= 16) {
                return -1;
            } else {
                r->name[r->nlen++] = ch;
            }
            i++;
            break;
        case R_CODE:
            if (ch >= '0' && ch <= '9' && r->status < 1000) {
                r->status = (uint16_t)(r->status * 10 + (ch - '0'));
            } else if (r->status >= 100 && r->status <= 999 && (ch == ' ' || ch == '\r' || ch == '\n')) {
                r->st = ch == '\n' ? R_HSTART : R_REASON;
            } else {
                return -1;
            }
            i++;
            break;
        case R_REASON: {
            const char *nl = memchr(p + i, '\n', n - i);
            if (nl == NULL)
                return (long)n;
            i = (size_t)(nl - p) + 1;
            r->st = R_HSTART;
            break;
        }
        case R_HSTART:
            if (ch != '\r' && ch != '\n') {
                /* Fast path: the whole line is here. Find its end and the
                 * colon with memchr and look closer only at the three
                 * headers that matter (by length first). */
                const char *nl = memchr(p + i, '\n', n - i);
                if (nl != NULL) {
                    const char *line = p + i;
                    const char *colon = memchr(line, ':', (size_t)(nl - line));
                    if (colon == NULL)
                        return -1;
                    size_t klen = (size_t)(colon - line);
                    if (klen == 10 || klen == 14 || klen == 17) {
                        r->nlen = (uint8_t)klen;
                        for (size_t k = 0; k < klen; k++)
                            r->name[k] = lower(line[k]);
                        r->vlen = 0;
                        for (const char *q = colon + 1; q < nl && r->vlen < sizeof r->val; q++) {
                            if (*q != '\r')
                                r->val[r->vlen++] = lower(*q);
                        }
                        if (!header_done(r))
                            return -1;
                    }
                    i = (size_t)(nl - p) + 1;
                    break;
                }
            }
            i++;
            if (ch == '\r') {
                r->st = R_HEND;
            } else if (ch == '\n') {
                goto head_end;
            } else {
                r->nlen = 1;
                r->name[0] = lower(ch);
                r->vlen = 0;
                r->st = R_HNAME;
            }
            break;
        case R_HNAME:
            i++;
            if (ch == ':') {
                r->st = R_HVALUE;
            } else if (ch == '\n') {
                return -1;
            } else if (r->nlen < sizeof r->name) {
                r->name[r->nlen++] = lower(ch);
            } else {
                r->nlen = sizeof r->name; /* too long to be one we want */
            }
            break;
        case R_HVALUE:
            i++;
            if (ch == '\n') {
                if (!header_done(r))
                    return -1;
                r->st = R_HSTART;
            } else if (ch != '\r' && r->vlen < sizeof r->val) {
                r->val[r->vlen++] = lower(ch);
            }
            break;
        case R_HEND:
            i++;
            if (ch != '\n')
                return -1;
        head_end:
            if (r->status < 200 && r->status != 101) {
                /* 1xx interim response: the real one follows. */
                sk__httpresp_reset(r);
                break;
            }
            if (head_done(r)) {
                *done = true;
                return (long)i;
            }
            break;
        case R_BODY:
        case R_CDATA: {
            size_t k = n - i < r->left ? n - i : (size_t)r->left;
            i += k;
            r->left -= k;
            if (r->left == 0) {
                if (r->st == R_BODY) {
                    *done = true;
                    return (long)i;
                }
                r->st = R_CDATA_END;
            }
            break;
        }
        case R_BODY_EOF:
            return (long)n;
        case R_CSIZE: {
            int h = hexval(ch);
            i++;
            if (h >= 0) {
                if (r->left > (UINT64_MAX >> 4))
                    return -1;
                r->left = r->left * 16 + (uint64_t)h;
            } else if (ch == '\n' || ch == '\r' || ch == ';' || ch == ' ') {
                if (ch == '\n')
                    r->st = r->left ? R_CDATA : R_TRAILER;
                else
                    r->st = R_CEXT;
            } else {
                return -1;
            }
            break;
        }
        case R_CEXT:
            i++;
            if (ch == '\n')
                r->st = r->left ? R_CDATA : R_TRAILER;
            break;
        case R_CDATA_END:
            i++;
            if (ch == '\n')
                r->st = R_CSIZE;
            else if (ch != '\r')
                return -1;
            break;
        case R_TRAILER:
            i++;
            if (ch == '\n') {
                *done = true;
                return (long)i;
            }
            if (ch != '\r')
                r->st = R_TRAILER_LINE;
            break;
        case R_TRAILER_LINE:
            i++;
            if (ch == '\n')
                r->st = R_TRAILER;
            break;
        default:
            return -1;
        }
    }
    return (long)n;
}

bool sk__httpresp_eof_ends(const sk__httpresp *r) { return r->st == R_BODY_EOF; }
