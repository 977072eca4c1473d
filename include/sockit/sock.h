/* Sockets: listening, connecting with a timeout, and the small fd helpers
 * every model uses. All calls return >= 0 or -errno. */
#ifndef SOCKIT_SOCK_H
#define SOCKIT_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sockit/addr.h>
#include <sockit/clock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connection's identity: the 4-tuple (client IP and port, server IP and
 * port), kept as text ready to show. */
typedef struct sk_tuple {
    sk_addr peer;  /* client side as seen by a server */
    sk_addr local; /* server side */
} sk_tuple;

enum {
    SK_LISTEN_REUSEPORT = 1 << 0, /* SO_REUSEPORT: several listeners on one port */
    SK_LISTEN_V6ONLY = 1 << 1,    /* IPV6_V6ONLY on an IPv6 listener */
    SK_LISTEN_NONBLOCK = 1 << 2,  /* listening fd is non-blocking */
};

/* Create a TCP socket bound to a and listening with the given backlog
 * (<= 0 means SOMAXCONN). SO_REUSEADDR is always set. Returns the fd. */
int sk_tcp_listen(const sk_addr *a, int backlog, int flags);

/* Connect to each address in turn until one answers, each attempt bounded by
 * timeout_ms (< 0: the kernel's own timeout). The returned fd is blocking.
 * *which (if not NULL) gets the index of the address that answered; on
 * failure it names the last address tried. Returns the fd, -ETIMEDOUT when
 * the last attempt timed out, or the last attempt's -errno. */
int sk_tcp_connect(const sk_addr *addrs, int n, int timeout_ms, int *which);

/* Racing several addresses (Happy Eyeballs) is sk_dial_addrs() in
 * <sockit/dial.h>, which also looks names up on the way. */

/* Accept one connection, retrying EINTR; the new fd is non-blocking when
 * nonblock is set and close-on-exec always. Returns the fd or -errno
 * (-EAGAIN when none is pending on a non-blocking listener). */
int sk_accept(int lfd, bool nonblock, sk_addr *peer);

int sk_set_nonblock(int fd, bool on);
int sk_set_nodelay(int fd, bool on);

/* Half-close: send FIN, keep receiving. */
int sk_shutdown_write(int fd);

/* Fill t with the fd's peer and local addresses. */
int sk_tuple_get(int fd, sk_tuple *t);

/* "127.0.0.1:5000 -> 127.0.0.1:7007" (client -> server). Returns buf. */
char *sk_tuple_format(const sk_tuple *t, char *buf, size_t len);

/* Write all len bytes to a blocking fd, retrying short writes and EINTR.
 * Never raises SIGPIPE on sockets. Returns len or -errno. */
long sk_write_all(int fd, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
