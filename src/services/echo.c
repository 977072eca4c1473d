/* echo (RFC 862): every byte received is sent back. */
#include <sockit/service.h>

#include <string.h>

static int echo_data(sk_conn *c, const void *buf, size_t len)
{
    /* Echo what fits; the rest waits for room (backpressure), so a client
     * that sends but never reads cannot grow the server's memory. */
    size_t room = sk_conn_room(c);
    size_t n = len < room ? len : room;
    if (n > 0 && sk_conn_write(c, buf, n) < 0)
        return -1;
    return (int)n;
}

/* Over UDP the reply is the request itself. */
static int echo_datagram(const sk_datagram *d, void *reply, size_t cap, const void *config)
{
    (void)config;
    if (d->len > cap)
        return -1;
    memcpy(reply, d->data, d->len);
    return (int)d->len;
}

const sk_service sk__service_echo = {
    .name = "echo",
    .summary = "send back every byte received (RFC 862)",
    .on_data = echo_data,
    .on_datagram = echo_datagram,
};
