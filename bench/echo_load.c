/* A minimal echo load generator used for the measurements in
 * docs/models.md (until `sockit bench` exists). Each thread runs one
 * blocking client: in "conn" mode connect, 64-byte round trip, close, again;
 * in "rr" mode 64-byte round trips on one connection. Prints ops/s.
 *   cc -O2 -pthread -o echo_load bench/echo_load.c
 *   ./echo_load conn|rr PORT THREADS SECONDS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int g_port, g_rr;
static volatile int g_stop;
static long g_ops[1024], g_errs[1024];

static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int round_trip(int fd)
{
    char out[64], in[64];
    memset(out, 'x', sizeof out);
    if (send(fd, out, sizeof out, MSG_NOSIGNAL) != (ssize_t)sizeof out)
        return -1;
    size_t got = 0;
    while (got < sizeof in) {
        ssize_t n = recv(fd, in + got, sizeof in - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static void *client(void *arg)
{
    long id = (long)arg;
    int fd = g_rr ? dial() : -1;
    while (!g_stop) {
        if (!g_rr) {
            fd = dial();
            if (fd < 0) {
                g_errs[id]++;
                continue;
            }
        }
        if (fd < 0 || round_trip(fd) < 0) {
            g_errs[id]++;
            if (g_rr)
                break;
        } else {
            g_ops[id]++;
        }
        if (!g_rr) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: echo_load conn|rr PORT THREADS SECONDS\n");
        return 2;
    }
    g_rr = strcmp(argv[1], "rr") == 0;
    g_port = atoi(argv[2]);
    int n = atoi(argv[3]), secs = atoi(argv[4]);
    if (n < 1 || n > 1024)
        return 2;
    pthread_t t[1024];
    for (long i = 0; i < n; i++)
        pthread_create(&t[i], NULL, client, (void *)i);
    sleep((unsigned)secs);
    g_stop = 1;
    long ops = 0, errs = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        ops += g_ops[i];
        errs += g_errs[i];
    }
    printf("%s %ld ops/s errors=%ld\n", argv[1], ops / secs, errs);
    return 0;
}
