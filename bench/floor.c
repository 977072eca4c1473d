/* floor: the least work a keep-alive HTTP server can do per request, as a
 * reference point for the benchmarks (not part of sockit). One thread, one
 * level-triggered epoll set, non-blocking sockets; each readable event is
 * one recv(), each end of a request head ("\r\n\r\n") is answered with a
 * fixed response, all answers of a read in one send(). No parsing, no
 * limits, no timeouts, no backpressure: a server nobody should deploy, but
 * its CPU time per request is what the kernel alone costs on this machine,
 * the floor under any real server.
 *
 * With "close" as a third argument it is the floor of connection churn:
 * the accept loop (accept4 until EAGAIN) and, after each answer, close, so
 * a client of one request per connection (ab without -k, sockit bench
 * --new-conn) costs the least a server can spend on a connection.
 *
 * With "dated" it answers what a conforming origin server sends (RFC 9110
 * 6.6.1: a Date on every 2xx with a clock) and names itself in Server, as
 * sockit and nginx do: 122 bytes instead of 70, the Date rebuilt when the
 * second changes (one time() per epoll wakeup), all else the same. The
 * kernel's cost per request grows with the bytes sent, so this is the floor
 * for a server that answers with those headers.
 *
 * With "parse" (built with -DFLOOR_PARSE and linked with libsockit) each
 * request head is parsed by sk_http_parse_request, sockit's own parser,
 * instead of the byte loop that only finds "\r\n\r\n": the floor of a
 * server that checks what it answers (a bad head closes the connection, a
 * partial one waits for the rest). It answers the dated reply.
 *
 *   cc -O2 -o floor bench/floor.c && ./floor 127.0.0.1 8080 [close|dated]
 *   cc -O2 -DFLOOR_PARSE -Iinclude -o floor bench/floor.c build/libsockit.a -lpthread -lm
 *   ./floor 127.0.0.1 8080 parse
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef FLOOR_PARSE
#include <sockit/http.h>
#endif

#define MAXFD 65536
#define MAXBATCH 64

static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
#define DATED_MAX 160
#ifdef FLOOR_PARSE
#define CARRY 1024 /* the longest partial head kept for the next read */
#else
#define CARRY 0
#endif
static char out[MAXBATCH * DATED_MAX];
static size_t reply_len;

/* The dated reply for time t, copied MAXBATCH times into out. */
static void build_dated(time_t t)
{
    char one[DATED_MAX], date[40];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(one, sizeof one,
                     "HTTP/1.1 200 OK\r\nServer: floor\r\nDate: %s\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 6\r\n\r\nhello\n",
                     date);
    reply_len = (size_t)n;
    for (int i = 0; i < MAXBATCH; i++)
        memcpy(out + i * reply_len, one, reply_len);
}
static unsigned char matched[MAXFD]; /* per fd: bytes of "\r\n\r\n" seen so far */

#ifdef FLOOR_PARSE
static char carry[MAXFD][CARRY]; /* per fd: a partial head, until the rest arrives */
static unsigned short carried[MAXFD];

/* How many request heads parse in buf; a partial one is kept for the next
 * read. -1 for a head that does not parse (or is longer than CARRY). */
static int parse_heads(int fd, const char *buf, size_t n)
{
    sk_http_header hdrs[32];
    sk_http_request req = {.headers = hdrs, .max_headers = 32};
    int heads = 0;
    size_t off = 0;
    while (off < n) {
        int rc = sk_http_parse_request(buf + off, n - off, &req, NULL);
        if (rc == -EAGAIN) {
            if (n - off > CARRY)
                return -1;
            memmove(carry[fd], buf + off, n - off);
            carried[fd] = (unsigned short)(n - off);
            return heads;
        }
        if (rc <= 0)
            return -1;
        off += (size_t)rc;
        heads++;
    }
    carried[fd] = 0;
    return heads;
}
#endif

/* How many request heads end in buf; *m carries a partial match over. */
static int count_heads(const char *buf, size_t n, unsigned char *m)
{
    static const char end[] = "\r\n\r\n";
    int heads = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == end[*m]) {
            if (++*m == 4) {
                heads++;
                *m = 0;
            }
        } else {
            *m = buf[i] == '\r';
        }
    }
    return heads;
}

int main(int argc, char **argv)
{
    static char in[CARRY + 16384];
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct epoll_event evs[256];
    int one = 1;

    if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
        (argc == 4 && strcmp(argv[3], "close") != 0 && strcmp(argv[3], "dated") != 0 &&
         strcmp(argv[3], "parse") != 0)) {
        fprintf(stderr, "usage: floor IPV4 PORT [close|dated|parse]\n");
        return 2;
    }
    int close_after = argc == 4 && strcmp(argv[3], "close") == 0;
    int dated = argc == 4 && !close_after;
    int parse = argc == 4 && strcmp(argv[3], "parse") == 0;
#ifndef FLOOR_PARSE
    if (parse) {
        fprintf(stderr, "floor: built without -DFLOOR_PARSE: no parse mode\n");
        return 2;
    }
#endif
    time_t shown = 0;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    reply_len = sizeof reply - 1;
    for (int i = 0; i < MAXBATCH; i++)
        memcpy(out + i * reply_len, reply, reply_len);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) {
        perror("floor: bind/listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event le = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (dated) {
            time_t now = time(NULL);
            if (now != shown)
                build_dated(shown = now);
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXFD) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    matched[c] = 0;
#ifdef FLOOR_PARSE
                    carried[c] = 0;
#endif
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            size_t have = 0;
#ifdef FLOOR_PARSE
            if (parse && carried[fd] > 0)
                memcpy(in, carry[fd], have = carried[fd]);
#endif
            ssize_t r = recv(fd, in + have, sizeof in - have, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                close(fd);
                continue;
            }
            int heads;
#ifdef FLOOR_PARSE
            if (parse)
                heads = parse_heads(fd, in, have + (size_t)r);
            else
#endif
                heads = count_heads(in, (size_t)r, &matched[fd]);
            if (heads < 0) {
                close(fd); /* a head that does not parse */
                continue;
            }
            int answered = heads;
            while (heads > 0) {
                int k = heads < MAXBATCH ? heads : MAXBATCH;
                if (send(fd, out, (size_t)k * reply_len, MSG_NOSIGNAL) < 0)
                    break; /* a full socket or a gone client: a floor does not care */
                heads -= k;
            }
            if (close_after && answered > 0)
                close(fd); /* epoll forgets a closed fd by itself */
        }
    }
}
