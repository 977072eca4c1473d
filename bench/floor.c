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
 *   cc -O2 -o floor bench/floor.c && ./floor 127.0.0.1 8080 [close|dated]
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

#define MAXFD 65536
#define MAXBATCH 64

static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
#define DATED_MAX 160
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
    static char in[16384];
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct epoll_event evs[256];
    int one = 1;

    if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
        (argc == 4 && strcmp(argv[3], "close") != 0 && strcmp(argv[3], "dated") != 0)) {
        fprintf(stderr, "usage: floor IPV4 PORT [close|dated]\n");
        return 2;
    }
    int close_after = argc == 4 && strcmp(argv[3], "close") == 0;
    int dated = argc == 4 && !close_after;
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
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            ssize_t r = recv(fd, in, sizeof in, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                close(fd);
                continue;
            }
            int heads = count_heads(in, (size_t)r, &matched[fd]), answered = heads;
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
