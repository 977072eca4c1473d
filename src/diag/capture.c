/* A packet socket on lo for one TCP port (capture.h). The filter, in
 * classic BPF over the frame lo hands up (a 14-byte Ethernet header with
 * zero addresses, then IP): IPv4 or IPv6, protocol TCP, not a fragment,
 * and the source or destination port is the one asked for. */
#include <sockit/capture.h>
#include <sockit/clock.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int sk_capture_open(uint16_t port)
{
    struct sock_filter code[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 10),
        /* IPv4 */
        /* 2 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 16),
        /* 4 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 14, 0),
        /* 6 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),
        /* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 10, 0),
        /* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 8, 9),
        /* 11 */ BPF_STMT(BPF_RET | BPF_K, 0),
        /* IPv6 (no extension headers: TCP right after the fixed header) */
        /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 7),
        /* 13 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
        /* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 5),
        /* 15 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 54),
        /* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 2, 0),
        /* 17 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 56),
        /* 18 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
        /* 19 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
        /* 20 */ BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    int fd, one = 1;
    unsigned idx = if_nametoindex("lo");

    if (idx == 0)
        return -ENODEV;
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0)
        return -errno;
    /* The filter before the bind: nothing unfiltered is queued. */
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)idx};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set(sk_addr *a, int family, const uint8_t *ip, uint16_t port)
{
    memset(a, 0, sizeof *a);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, ip, 4);
        in->sin_port = htons(port);
        a->len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, ip, 16);
        in6->sin6_port = htons(port);
        a->len = sizeof *in6;
    }
}

/* A frame to a segment; false when it is not one (short, not TCP). */
static bool parse(const uint8_t *f, size_t n, sk_segment *s)
{
    const uint8_t *ip = f + 14, *tcp;
    size_t iplen, total;
    int family;
    if (n < 14 + 20)
        return false;
    if (be16(f + 12) == ETH_P_IP) {
        iplen = (size_t)(ip[0] & 0x0f) * 4;
        total = be16(ip + 2);
        if (iplen < 20 || ip[9] != IPPROTO_TCP || 14 + total > n || total < iplen + 20)
            return false;
        family = AF_INET;
    } else if (be16(f + 12) == ETH_P_IPV6) {
        if (n < 14 + 40 + 20 || ip[6] != IPPROTO_TCP)
            return false;
        iplen = 40;
        total = 40 + (size_t)be16(ip + 4);
        if (14 + total > n)
            return false;
        family = AF_INET6;
    } else {
        return false;
    }
    tcp = ip + iplen;
    size_t off = (size_t)(tcp[12] >> 4) * 4;
    if (off < 20 || iplen + off > total)
        return false;
    set(&s->src, family, family == AF_INET ? ip + 12 : ip + 8, be16(tcp));
    set(&s->dst, family, family == AF_INET ? ip + 16 : ip + 24, be16(tcp + 2));
    s->seq = be32(tcp + 4);
    s->ack = be32(tcp + 8);
    s->flags = tcp[13] & 0x3f;
    s->window = be16(tcp + 14);
    s->len = (uint32_t)(total - iplen - off);
    return true;
}

int sk_capture_next(int fd, int timeout_ms, sk_segment *seg)
{
    uint8_t frame[65600];
    char ctl[256];
    int64_t end = sk_now_ms() + timeout_ms;

    for (;;) {
        int64_t left = end - sk_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, left > 0 ? (int)left : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -errno;
        if (rc == 0)
            return 0;
        struct sockaddr_ll from;
        struct iovec iov = {.iov_base = frame, .iov_len = sizeof frame};
        struct msghdr m = {.msg_name = &from,
                           .msg_namelen = sizeof from,
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl,
                           .msg_controllen = sizeof ctl};
        ssize_t k = recvmsg(fd, &m, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k < 0)
            return -errno;
        /* lo hands every frame up twice, going out and coming in: keep one. */
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        if (!parse(frame, (size_t)k, seg))
            continue;
        /* The kernel's time is CLOCK_REALTIME: moved onto the monotonic
         * clock with their offset now (the run is short). */
        struct timespec rt, mono;
        clock_gettime(CLOCK_REALTIME, &rt);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        int64_t offset = ((int64_t)mono.tv_sec - rt.tv_sec) * 1000000 + (mono.tv_nsec - rt.tv_nsec) / 1000;
        seg->at_us = sk_now_us();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                seg->at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset;
            }
        }
        return 1;
    }
}

char *sk_segment_flags(uint8_t flags, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s%s", flags & SK_TCP_SYN ? "S" : "", flags & SK_TCP_FIN ? "F" : "",
             flags & SK_TCP_RST ? "R" : "", flags & SK_TCP_PSH ? "P" : "", flags & SK_TCP_ACK ? "A" : "");
    return buf;
}
