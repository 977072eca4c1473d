/* HTTP/1.1 response reader for clients (see http.h): head lines parsed in
 * place when a line arrives whole and from a small copy when it arrives
 * split, bodies handed back as views, chunk framing removed. */
#include <sockit/http.h>

#include <stddef.h>
#include <string.h>

#include <sockit/error.h>

#include "http_common.h"

enum {
    S_STATUS,    /* the status line (line mode) */
    S_HEADER,    /* header lines up to the empty one (line mode) */
    S_BODY,      /* priv.left bytes of a Content-Length body */
    S_EOF,       /* a body that runs until the server closes */
    S_CSIZE,     /* chunk size in hex */
    S_CEXT,      /* the rest of the chunk-size line */
    S_CDATA,     /* priv.left bytes of chunk data */
    S_CDATA_END, /* the CRLF after chunk data */
    S_CDATA_LF,  /* its LF */
    S_TRAILER,   /* trailer field lines up to an empty one (line mode) */
    S_DONE,
};

/* Header facts collected until the head ends (priv.hfl). */
enum { H_TE = 1, H_TE_CHUNKED = 2, H_CLOSE = 4, H_KEEP = 8 };

/* A chunk-size line longer than this (with its extensions) is refused. */
#define MAX_CHUNK_LINE 4096

static void start(sk_http_response *r, unsigned opts)
{
    /* Everything but the line copy, which holds nothing between lines. */
    memset(r, 0, offsetof(sk_http_response, priv.line));
    r->priv.opts = opts;
    r->priv.st = S_STATUS;
}

void sk_http_response_init(sk_http_response *r, unsigned opts) { start(r, opts); }

static bool digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static bool values_only(sk__ucp p, sk__ucp end) { return sk__http_value_end(p, end) == end; }

static int status_line(sk_http_response *r, sk__ucp l, size_t n)
{
    if (n < 12 || memcmp(l, "HTTP/", 5) != 0 || !digit(l[5]) || l[6] != '.' || !digit(l[7]) || l[8] != ' ' ||
        !digit(l[9]) || !digit(l[10]) || !digit(l[11]) || (n > 12 && l[12] != ' ') || !values_only(l + 12, l + n))
        return SK_EHTTP_BAD;
    if (l[5] != '1')
        return SK_EHTTP_VERSION;
    int status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (status < 100)
        return SK_EHTTP_BAD;
    r->status = status;
    r->minor_version = l[7] == '0' ? 0 : 1;
    r->priv.st = S_HEADER;
    return 0;
}

/* Transfer-Encoding: only whether "chunked" is the last coding matters.
 * Each header's list continues the previous one's, so the last header
 * decides. */
static int transfer_encoding(sk_http_response *r, sk__ucp v, size_t n)
{
    bool chunked;
    if (sk__http_te_chunked(v, n, &chunked) < 0)
        return SK_EHTTP_BAD;
    r->priv.hfl |= H_TE;
    if (chunked)
        r->priv.hfl |= H_TE_CHUNKED;
    else
        r->priv.hfl &= (uint8_t)~H_TE_CHUNKED;
    return 0;
}

static uint64_t load8(const void *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* A header name (a token, so no CR) against a literal of n >= 8 lower-case
 * letters and '-', eight bytes at a time: setting bit 0x20 folds the case
 * of letters and leaves '-' alone (see sk__http_ieq). */
static bool name_is(sk__ucp name, const char *lit, size_t n)
{
    const uint64_t fold = SK__ONES * 0x20;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if ((load8(name + i) | fold) != load8(lit + i))
            return false;
    }
    return i == n || (load8(name + n - 8) | fold) == load8(lit + n - 8);
}

/* One header (or trailer) line without its line end. Returns 1 for the
 * empty line that ends the section, 0 for a field, or an error. A line
 * longer than priv.line comes truncated (trunc): its start only. l[n] is
 * readable and is neither a token nor a field-value byte (the CR or LF
 * after the line, or a NUL put there), so the scans need no bound check. */
static int field_line(sk_http_response *r, sk__ucp l, size_t n, bool trunc, bool framing)
{
    size_t k = 0;
    if (n == 0)
        return 1;
    while (sk__http_cls[l[k]] & SK__C_TCHAR)
        k++;
    if (k == n)
        return trunc ? SK_EHTTP_HEADERS : SK_EHTTP_BAD;
    /* No name (obs-fold, stray bytes) or whitespace before the colon. */
    if (l[k] != ':' || k == 0)
        return SK_EHTTP_BAD;
    size_t nlen = k++;
    while (l[k] == ' ' || l[k] == '\t')
        k++;
    sk__ucp v = l + k;
    if (!values_only(v, l + n))
        return SK_EHTTP_BAD;
    if (!framing)
        return 0;
    /* Only three names matter; their lengths tell them apart first. */
    int which;
    if (nlen == 14 && name_is(l, "content-length", 14))
        which = 14;
    else if (nlen == 10 && name_is(l, "connection", 10))
        which = 10;
    else if (nlen == 17 && name_is(l, "transfer-encoding", 17))
        which = 17;
    else
        return 0;
    if (trunc)
        return SK_EHTTP_HEADERS; /* cannot be judged from its start */
    size_t vlen = n - k;
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (which == 14) {
        uint64_t x;
        if (sk__http_parse_length(v, vlen, &x) < 0)
            return SK_EHTTP_BAD;
        if ((r->flags & SK_HTTP_HAS_LENGTH) && x != r->content_length)
            return SK_EHTTP_BAD;
        r->content_length = x;
        r->flags |= SK_HTTP_HAS_LENGTH;
        return 0;
    }
    if (which == 10) {
        bool close = false, keep = false;
        sk__http_parse_connection(v, vlen, &close, &keep);
        r->priv.hfl |= (uint8_t)((close ? H_CLOSE : 0) | (keep ? H_KEEP : 0));
        return 0;
    }
    return transfer_encoding(r, v, vlen);
}

static void done(sk_http_response *r)
{
    r->priv.st = S_DONE;
    r->events |= SK_HTTP_RESP_DONE;
}

/* The empty line after a head: decide how the body is framed. */
static void head_end(sk_http_response *r)
{
    unsigned hfl = r->priv.hfl;
    int st = r->status;

    if (st < 200 && st != 101) {
        /* Interim (100 Continue, 103 Early Hints): the real head follows. */
        unsigned interim = r->interim + 1;
        r->status = r->minor_version = 0;
        r->flags = 0;
        r->content_length = 0;
        r->interim = interim;
        r->priv.hfl = 0;
        r->priv.lbytes = 0;
        r->priv.st = S_STATUS;
        return;
    }
    r->events |= SK_HTTP_RESP_HEAD;
    if (!(hfl & H_CLOSE) && (r->minor_version == 1 || (hfl & H_KEEP)))
        r->flags |= SK_HTTP_KEEPALIVE;
    if ((r->priv.opts & SK_HTTP_RESP_NO_BODY) || st == 101 || st == 204 || st == 304) {
        if (st == 101) /* the connection now speaks another protocol */
            r->flags &= ~(unsigned)SK_HTTP_KEEPALIVE;
        done(r);
        return;
    }
    if (hfl & H_TE) {
        /* Both framings at once may be an attempt at response splitting:
         * the chunks decide, and the connection is not trusted again. */
        if (r->flags & SK_HTTP_HAS_LENGTH)
            r->flags &= ~(unsigned)SK_HTTP_KEEPALIVE;
        if (hfl & H_TE_CHUNKED) {
            r->flags |= SK_HTTP_CHUNKED;
            r->priv.st = S_CSIZE;
            r->priv.left = 0;
            r->priv.llen = 0;
            r->priv.lbytes = 0;
            return;
        }
    } else if (r->flags & SK_HTTP_HAS_LENGTH) {
        r->priv.left = r->content_length;
        if (r->priv.left == 0)
            done(r);
        else
            r->priv.st = S_BODY;
        return;
    }
    r->flags |= SK_HTTP_EOF_BODY;
    r->flags &= ~(unsigned)SK_HTTP_KEEPALIVE;
    r->priv.st = S_EOF;
}

/* A whole line of a line-mode state. */
static int line_done(sk_http_response *r, sk__ucp l, size_t n, bool trunc)
{
    int rc;
    switch (r->priv.st) {
    case S_STATUS:
        return status_line(r, l, n);
    case S_HEADER:
        rc = field_line(r, l, n, trunc, true);
        if (rc == 1)
            head_end(r);
        return rc < 0 ? rc : 0;
    default: /* S_TRAILER */
        rc = field_line(r, l, n, trunc, false);
        if (rc == 1)
            done(r);
        return rc < 0 ? rc : 0;
    }
}

/* Count head (or trailer) bytes against the limit. */
static int account(sk_http_response *r, size_t n)
{
    if (r->priv.st != S_TRAILER)
        r->head_len += n;
    r->priv.lbytes += n;
    return r->priv.lbytes > SK_HTTP_MAX_RESPONSE_HEAD ? SK_EHTTP_HEADERS : 0;
}

/* Line mode: consume up to and including one LF from p[*ip, len). A line
 * that is all here is parsed in place; one that is split is copied into
 * priv.line (its first SK_HTTP_RESP_LINE bytes; the rest is only checked
 * byte by byte). Returns 0 or an error. */
static int line_step(sk_http_response *r, sk__ucp p, size_t len, size_t *ip)
{
    size_t i = *ip, i0 = i;
    int rc;

    /* Whole lines in place; header lines one after the other here, the
     * common case of a head that came in one read. */
    while (r->priv.llen == 0 && !r->priv.trunc) {
        const unsigned char *nl = memchr(p + i, '\n', len - i);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (p + i));
        rc = account(r, n + 1);
        if (rc < 0)
            return rc;
        *ip = i + n + 1;
        if (n <= SK_HTTP_RESP_LINE) { /* p[i + n] is the CR or the LF */
            size_t m = n > 0 && nl[-1] == '\r' ? n - 1 : n;
            if (r->priv.st != S_HEADER || m == 0 || i + n + 1 == len)
                return line_done(r, p + i, m, false);
            rc = field_line(r, p + i, m, false, true);
            if (rc < 0)
                return rc;
            i += n + 1;
            continue;
        }
        /* Judge a long line by its start, as when it arrives split. */
        for (size_t j = SK_HTTP_RESP_LINE - 1; j < n; j++) {
            unsigned char ch = p[i + j];
            if (ch == '\r' ? j != n - 1 : j >= SK_HTTP_RESP_LINE && !(sk__http_cls[ch] & SK__C_VALUE))
                return SK_EHTTP_BAD;
        }
        memcpy(r->priv.line, p + i, SK_HTTP_RESP_LINE);
        r->priv.line[SK_HTTP_RESP_LINE] = '\0';
        return line_done(r, r->priv.line, SK_HTTP_RESP_LINE, true);
    }
    i0 = i; /* what the loop above used is counted */
    while (i < len) {
        unsigned char ch = p[i++];
        if (ch == '\n') {
            size_t n = r->priv.llen;
            bool trunc = r->priv.trunc;
            rc = account(r, i - i0);
            if (rc < 0)
                return rc;
            *ip = i;
            if (!trunc && n > 0 && r->priv.line[n - 1] == '\r')
                n--;
            r->priv.line[n] = '\0'; /* the scans' stop (line has one spare byte) */
            r->priv.llen = 0;
            r->priv.trunc = r->priv.cr = false;
            return line_done(r, r->priv.line, n, trunc);
        }
        if (!r->priv.trunc && r->priv.llen < SK_HTTP_RESP_LINE) {
            /* Refuse what is not a response at once, not at its LF. */
            if (r->priv.st == S_STATUS && r->priv.llen < 5 && ch != (unsigned char)"HTTP/"[r->priv.llen])
                return SK_EHTTP_BAD;
            r->priv.line[r->priv.llen++] = ch;
            continue;
        }
        if (!r->priv.trunc) {
            r->priv.trunc = true;
            r->priv.cr = r->priv.line[r->priv.llen - 1] == '\r';
        }
        /* Past the copy: a CR only right before the LF, else field bytes. */
        if (r->priv.cr || (ch != '\r' && !(sk__http_cls[ch] & SK__C_VALUE)))
            return SK_EHTTP_BAD;
        r->priv.cr = ch == '\r';
    }
    *ip = i;
    return account(r, i - i0);
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* The chunk-size line ended. */
static void size_line_end(sk_http_response *r)
{
    r->priv.llen = 0;
    r->priv.cr = false;
    r->priv.lbytes = 0;
    r->priv.st = r->priv.left ? S_CDATA : S_TRAILER;
}

/* One byte of a chunk-size line. Returns 0 or an error. */
static int chunk_line_byte(sk_http_response *r, unsigned char ch)
{
    if (++r->priv.lbytes > MAX_CHUNK_LINE)
        return SK_EHTTP_BAD;
    if (r->priv.st == S_CSIZE) {
        int h = hexval(ch);
        if (h >= 0) {
            if (r->priv.left > (UINT64_MAX >> 4))
                return SK_EHTTP_BAD;
            r->priv.left = r->priv.left << 4 | (uint64_t)h;
            r->priv.llen = 1; /* a digit seen */
            return 0;
        }
        if (r->priv.llen == 0)
            return SK_EHTTP_BAD;
        r->priv.st = S_CEXT;
    }
    /* Extensions (";name=value", after optional blanks) are skipped. */
    if (r->priv.cr) {
        if (ch != '\n')
            return SK_EHTTP_BAD;
        size_line_end(r);
    } else if (ch == '\n') {
        size_line_end(r);
    } else if (ch == '\r') {
        r->priv.cr = true;
    } else if (!(sk__http_cls[ch] & SK__C_VALUE)) {
        return SK_EHTTP_BAD;
    }
    return 0;
}

static void body_view(sk_http_response *r, const char *p, size_t n)
{
    r->events |= SK_HTTP_RESP_BODY;
    r->body = p;
    r->body_len = n;
    r->body_total += n;
}

long sk_http_response_feed(sk_http_response *r, const char *buf, size_t len)
{
    sk__ucp p = (sk__ucp)buf;
    size_t i = 0;
    int rc;

    r->events = 0;
    r->body = NULL;
    r->body_len = 0;
    if (len == 0)
        return 0;
    if (r->priv.st == S_DONE)
        start(r, r->priv.opts);
    r->priv.started = true;
    while (i < len) {
        switch (r->priv.st) {
        case S_STATUS:
        case S_HEADER:
        case S_TRAILER:
            rc = line_step(r, p, len, &i);
            if (rc < 0)
                return rc;
            break;
        case S_BODY:
        case S_CDATA: {
            if (r->body != NULL)
                return (long)i; /* one view per call: the next chunk waits */
            size_t k = len - i < r->priv.left ? len - i : (size_t)r->priv.left;
            body_view(r, buf + i, k);
            i += k;
            r->priv.left -= k;
            if (r->priv.left == 0) {
                if (r->priv.st == S_BODY)
                    done(r);
                else
                    r->priv.st = S_CDATA_END;
            }
            break;
        }
        case S_EOF:
            body_view(r, buf + i, len - i);
            return (long)len;
        case S_CSIZE:
        case S_CEXT:
            rc = chunk_line_byte(r, p[i++]);
            if (rc < 0)
                return rc;
            break;
        case S_CDATA_END:
        case S_CDATA_LF: {
            unsigned char ch = p[i++];
            if (ch == '\r' && r->priv.st == S_CDATA_END)
                r->priv.st = S_CDATA_LF;
            else if (ch == '\n')
                r->priv.st = S_CSIZE;
            else
                return SK_EHTTP_BAD;
            break;
        }
        default:
            return SK_EHTTP_BAD;
        }
        if (r->priv.st == S_DONE)
            return (long)i;
    }
    return (long)len;
}

int sk_http_response_eof(sk_http_response *r)
{
    if (r->priv.st == S_EOF) {
        r->events = SK_HTTP_RESP_DONE;
        r->body = NULL;
        r->body_len = 0;
        r->priv.st = S_DONE;
        return 1;
    }
    if (r->priv.st == S_DONE || !r->priv.started)
        return 0;
    return SK_EHTTP_BAD;
}
