/* libFuzzer target for the HTTP/1.1 response reader: any bytes, fed whole
 * and in pieces; checks the contract (counts, views inside the piece, one
 * view per call) and that every split gives the same responses and body. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/http.h>

/* What a run saw: a digest of the body bytes and of each response. */
typedef struct run {
    long err;
    unsigned responses;
    uint64_t body_len, body_hash, resp_hash;
    int eof;
} run;

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * UINT64_C(0x100000001b3); }

/* Feed buf in pieces whose sizes come from `steps` (cycled), each piece an
 * exact-size heap copy so ASan flags any read past it. */
static run feed(const uint8_t *data, size_t size, const uint8_t *steps, size_t nsteps, unsigned opts)
{
    sk_http_response r;
    run out = {.body_hash = UINT64_C(0xcbf29ce484222325), .resp_hash = 7};
    size_t off = 0, si = 0;
    sk_http_response_init(&r, opts);
    while (off < size) {
        size_t n = nsteps ? (size_t)steps[si++ % nsteps] % 64 + 1 : size - off;
        if (n > size - off)
            n = size - off;
        char *piece = malloc(n);
        if (piece == NULL)
            abort();
        memcpy(piece, data + off, n);
        off += n;
        const char *p = piece;
        while (n > 0) {
            long k = sk_http_response_feed(&r, p, n);
            if (k < 0) {
                out.err = k;
                free(piece);
                return out;
            }
            if (k < 1 || (size_t)k > n)
                abort();
            if ((size_t)k < n && !(r.events & (SK_HTTP_RESP_DONE | SK_HTTP_RESP_BODY)))
                abort();
            if (r.events & SK_HTTP_RESP_BODY) {
                if (r.body < p || r.body_len == 0 || r.body + r.body_len > p + k)
                    abort();
                for (size_t i = 0; i < r.body_len; i++)
                    out.body_hash = mix(out.body_hash, (uint8_t)r.body[i]);
                out.body_len += r.body_len;
            } else if (r.body != NULL || r.body_len != 0) {
                abort();
            }
            if (r.events & SK_HTTP_RESP_DONE) {
                if (r.status < 100 || r.status > 999 || r.minor_version < 0 || r.minor_version > 1)
                    abort();
                out.responses++;
                out.resp_hash = mix(mix(mix(out.resp_hash, (uint64_t)r.status), r.flags), r.head_len);
            }
            p += k;
            n -= (size_t)k;
        }
        free(piece);
    }
    out.eof = sk_http_response_eof(&r);
    return out;
}

static bool same(const run *a, const run *b)
{
    if (a->err != b->err)
        return false;
    if (a->err != 0)
        return true; /* events of the failing call are not reported */
    return a->responses == b->responses && a->body_len == b->body_len && a->body_hash == b->body_hash &&
           a->resp_hash == b->resp_hash && a->eof == b->eof;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t one = 0;
    /* The first bytes choose the splits; the whole input is the stream. */
    size_t nsteps = size < 8 ? size : 8;
    for (unsigned opts = 0; opts <= SK_HTTP_RESP_NO_BODY; opts++) {
        run whole = feed(data, size, NULL, 0, opts);
        run split = feed(data, size, data, nsteps, opts);
        if (!same(&whole, &split))
            abort();
        if (size < 2048) {
            run bytes = feed(data, size, &one, 1, opts);
            if (!same(&whole, &bytes))
                abort();
        }
    }
    return 0;
}
