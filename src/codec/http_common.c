/* What the HTTP request and response parsers share (http_common.h): the
 * character classes, Content-Length and Connection. */
#include "http_common.h"

#include <sockit/error.h>

/* Character classes, one table so each byte costs one load. */

#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
#define TV (SK__C_TCHAR | SK__C_TARGET | SK__C_VALUE)
#define PV (SK__C_TARGET | SK__C_VALUE)
#define DV (SK__C_TCHAR | SK__C_TARGET | SK__C_VALUE | SK__C_DIGIT | SK__C_HOST)
/* ... and a byte of a Host's reg-name or IPv4 address */
#define TH (TV | SK__C_HOST)
#define PH (PV | SK__C_HOST)
/* clang-format off */
const unsigned char sk__http_cls[256] = {
    /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, SK__C_VALUE, 0, 0, 0, 0, 0, 0,
    /* 0x10 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20  SP ! " # $ % & ' ( ) * + , - . / */
    SK__C_VALUE, TH, PV, TV, TH, TH, TH, TH, PH, PH, TH, TH, PV, TH, TH, PV,
    /* 0x30  0-9 : ; < = > ? */
    DV, DV, DV, DV, DV, DV, DV, DV, DV, DV, PV, PH, PV, PH, PV, PV,
    /* 0x40  @ A-O */
    PV, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH,
    /* 0x50  P-Z [ \ ] ^ _ */
    TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, PV, PV, PV, TV, TH,
    /* 0x60  ` a-o */
    TV, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH,
    /* 0x70  p-z { | } ~ DEL */
    TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, TH, PV, TV, PV, TH, 0,
    /* 0x80-0xff obs-text: allowed in targets and values, not in tokens */
    R16(PV), R16(PV), R16(PV), R16(PV), R16(PV), R16(PV), R16(PV), R16(PV),
};
/* clang-format on */

int sk__http_parse_length(sk__ucp v, size_t n, uint64_t *out)
{
    sk__ucp p = v, end = v + n;
    bool have = false;
    uint64_t first = 0;

    for (;;) {
        uint64_t x = 0;
        sk__ucp digits = p;
        while (p < end && (sk__http_cls[*p] & SK__C_DIGIT)) {
            unsigned d = (unsigned)(*p - '0');
            if (x > (UINT64_C(0x7fffffffffffffff) - d) / 10)
                return SK_EHTTP_BAD;
            x = x * 10 + d;
            p++;
        }
        if (p == digits)
            return SK_EHTTP_BAD;
        if (have && x != first)
            return SK_EHTTP_BAD;
        first = x;
        have = true;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        if (*p++ != ',')
            return SK_EHTTP_BAD;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
    *out = first;
    return 0;
}

void sk__http_parse_connection(sk__ucp v, size_t n, bool *close, bool *keep)
{
    sk__ucp p = v, end = v + n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        sk__ucp tok = p;
        while (p < end && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if (SK__HTTP_IEQ(tok, (size_t)(p - tok), "close"))
            *close = true;
        else if (SK__HTTP_IEQ(tok, (size_t)(p - tok), "keep-alive"))
            *keep = true;
    }
}

int sk__http_te_chunked(sk__ucp v, size_t n, bool *chunked)
{
    sk__ucp p = v, end = v + n, last = NULL, last_end = NULL;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p == end)
            break;
        last = p;
        while (p < end && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        last_end = p;
        while (p < end && *p != ',') /* parameters */
            p++;
    }
    if (last == NULL)
        return SK_EHTTP_BAD;
    *chunked = SK__HTTP_IEQ(last, (size_t)(last_end - last), "chunked");
    return 0;
}
