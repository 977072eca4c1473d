/* Inside the library: the socket options every TCP listener gets, shared
 * by sk_tcp_listen() and the server's traced listen (serve --trace). */
#ifndef SOCKIT_NET_SOCK_INT_H
#define SOCKIT_NET_SOCK_INT_H

/* SO_REUSEADDR, SO_REUSEPORT with SK_LISTEN_REUSEPORT, and IPV6_V6ONLY for
 * an IPv6 socket (on with SK_LISTEN_V6ONLY, off otherwise). 0 or -errno. */
int sk__listen_options(int fd, int family, int flags);

#endif
