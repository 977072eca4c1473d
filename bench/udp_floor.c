/* udp_floor: the least work a UDP echo server can do per datagram, as a
 * reference point for the benchmarks (not part of sockit). One thread, one
 * blocking socket. "simple": one recvfrom() and one sendto() per datagram.
 * "batch": recvmmsg() of up to 64 datagrams, sendmmsg() of all of them
 * back. No checks, no limits: what the kernel alone costs per datagram.
 * The receive buffer is asked for as sockit's UDP server asks (4 MiB, the
 * kernel caps it at rmem_max), so a window of datagrams in flight that
 * fits one fits the other.
 *
 *   cc -O2 -o udp_floor bench/udp_floor.c && ./udp_floor 127.0.0.1 0 simple|batch
 *
 * Prints "port N" on stdout once bound (port 0: the kernel picks).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM 65536

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof sa;

    if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
        (strcmp(argv[3], "simple") != 0 && strcmp(argv[3], "batch") != 0)) {
        fprintf(stderr, "usage: udp_floor IPV4 PORT simple|batch\n");
        return 2;
    }
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        perror("udp_floor: bind");
        return 1;
    }
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    printf("port %u\n", ntohs(sa.sin_port));
    fflush(stdout);
    if (strcmp(argv[3], "simple") == 0) {
        static char buf[DGRAM];
        for (;;) {
            struct sockaddr_in peer;
            socklen_t plen = sizeof peer;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
            if (n >= 0)
                sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
        }
    }
    static char bufs[BATCH][2048];
    static struct sockaddr_in peers[BATCH];
    static struct iovec iov[BATCH];
    static struct mmsghdr msgs[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
            msgs[i].msg_hdr = (struct msghdr){
                .msg_name = &peers[i], .msg_namelen = sizeof peers[i], .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        for (int i = 0; i < n; i++)
            iov[i].iov_len = msgs[i].msg_len;
        sendmmsg(fd, msgs, (unsigned)n, 0);
    }
}
