/* discard (RFC 863): every byte received is thrown away. */
#include <sockit/service.h>

static int discard_data(sk_conn *c, const void *buf, size_t len)
{
    (void)c;
    (void)buf;
    return (int)len;
}

const sk_service sk__service_discard = {
    .name = "discard",
    .summary = "read and throw away every byte (RFC 863)",
    .on_data = discard_data,
};
