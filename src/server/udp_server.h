/* The UDP side of a server: bound datagram sockets instead of listeners,
 * one reply datagram per request, under the loop and hybrid models. */
#ifndef SOCKIT_UDP_SERVER_H
#define SOCKIT_UDP_SERVER_H

#include "conn_int.h"

/* Join every group of cfg.joins on the listeners of its family. */
int sk__udp_join_all(sk_server *s);

/* Serve datagrams until the server is stopped. Returns 0, -ENOTSUP for a
 * model without a datagram path, or another error. */
int sk__udp_serve(sk_server *s);

#endif
