/* libFuzzer target for base64: any bytes as text to decode; checks the
 * contract (one text per byte string: what decodes re-encodes to the same
 * text), and that any bytes encode and decode back to themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    unsigned char dec[4096];
    char text[SK_BASE64_LEN(4096) + 1];
    ssize_t n = sk__base64_decode((const char *)data, size, dec, sizeof dec);
    if (n >= 0) {
        if (sk__base64_encode(dec, (size_t)n, text, sizeof text) != (ssize_t)size || memcmp(text, data, size) != 0)
            abort();
    }
    ssize_t t = sk__base64_encode(data, size, text, sizeof text);
    if (t != (ssize_t)SK_BASE64_LEN(size) || sk__base64_decode(text, (size_t)t, dec, sizeof dec) != (ssize_t)size ||
        memcmp(dec, data, size) != 0)
        abort();
    return 0;
}
