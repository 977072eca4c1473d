/* Transports: how a connection's bytes move, as a table of functions the
 * connection engine calls instead of recv/send/shutdown/close. Plain TCP
 * is the first entry; TLS or a UNIX-domain stream is one more file that
 * fills in the same table. All calls are non-blocking. */
#ifndef SOCKIT_NET_TRANSPORT_H
#define SOCKIT_NET_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

typedef struct sk__transport {
    const char *name; /* "tcp" */
    /* Read up to len bytes: > 0 read, 0 the peer finished sending, -EAGAIN
     * nothing yet, another -errno on failure. Retries EINTR itself. ctx is
     * the transport's per-connection state (NULL for plain TCP). */
    ssize_t (*recv)(void *ctx, int fd, void *buf, size_t len);
    /* Write up to len bytes: > 0 written, -EAGAIN no room, -errno. Never
     * raises SIGPIPE. */
    ssize_t (*send)(void *ctx, int fd, const void *buf, size_t len);
    /* Finish our direction (TCP: FIN). 0 or -errno. */
    int (*shutdown)(void *ctx, int fd);
    /* Release ctx and close fd. */
    void (*close)(void *ctx, int fd);
} sk__transport;

/* Plain TCP (and any stream socket): the calls themselves. */
extern const sk__transport sk__transport_tcp;

#endif
