/* Listening sockets: the one place a server opens them, TCP listeners or
 * bound UDP sockets alike, with the flags the model needs. */
#ifndef SOCKIT_SERVER_LISTEN_H
#define SOCKIT_SERVER_LISTEN_H

#include "conn_int.h"

/* Bind every address of addrs (n of them) as the server's listeners,
 * filling s->lfds and s->laddrs (port 0 resolved). Several addresses get
 * IPV6_V6ONLY so the two families of one name do not collide, and with
 * port 0 they all get the same port (the first one's); reuseport
 * lets later copies (sk__listen_copy) share the addresses. On failure the
 * ones opened stay in s (sk_server_free closes them) and -errno is
 * returned. */
int sk__listen_all(sk_server *s, const sk_addr *addrs, int n, bool reuseport);

/* Open the server's listeners once more on the very addresses bound (with
 * SO_REUSEPORT, so the kernel spreads clients between the copies): one
 * copy per extra worker thread. fds gets s->nlisteners descriptors.
 * Returns 0 or -errno (nothing left open). */
int sk__listen_copy(const sk_server *s, int *fds);

/* Close n descriptors of fds. */
void sk__listen_close(int *fds, int n);

#endif
