/* TCP_INFO: the kernel's view of one TCP connection (tcpinfo.h). */
#include <sockit/tcpinfo.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

int sk_tcp_info_get(int fd, sk_tcp_info *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    memset(out, 0, sizeof *out);
    out->state = -1;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -errno;
    out->state = ti.tcpi_state;
    out->rtt_us = ti.tcpi_rtt;
    out->rttvar_us = ti.tcpi_rttvar;
    out->retransmits = ti.tcpi_total_retrans;
    out->snd_cwnd = ti.tcpi_snd_cwnd;
    return 0;
}

const char *sk_tcp_state_name(int state)
{
    static const char *const names[] = {
        [TCP_ESTABLISHED] = "ESTABLISHED",
        [TCP_SYN_SENT] = "SYN_SENT",
        [TCP_SYN_RECV] = "SYN_RECV",
        [TCP_FIN_WAIT1] = "FIN_WAIT1",
        [TCP_FIN_WAIT2] = "FIN_WAIT2",
        [TCP_TIME_WAIT] = "TIME_WAIT",
        [TCP_CLOSE] = "CLOSE",
        [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
        [TCP_LAST_ACK] = "LAST_ACK",
        [TCP_LISTEN] = "LISTEN",
        [TCP_CLOSING] = "CLOSING",
    };
    if (state < 0 || (size_t)state >= sizeof names / sizeof names[0] || names[state] == NULL)
        return "?";
    return names[state];
}
