/* TCP_INFO: the kernel's view of one TCP connection (tcpinfo.h). */
#include <sockit/tcpinfo.h>

#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with every field; glibc's lacks the newer ones */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

void sk_tcp_info_from(const void *raw, size_t len, sk_tcp_info *out)
{
    struct tcp_info ti;

    memset(&ti, 0, sizeof ti);
    memcpy(&ti, raw, len < sizeof ti ? len : sizeof ti);
    memset(out, 0, sizeof *out);
    out->state = ti.tcpi_state;
    out->rtt_us = ti.tcpi_rtt;
    out->rttvar_us = ti.tcpi_rttvar;
    out->retransmits = ti.tcpi_total_retrans;
    out->snd_cwnd = ti.tcpi_snd_cwnd;
    out->unacked = ti.tcpi_unacked;
    out->lost = ti.tcpi_lost;
    out->bytes_acked = ti.tcpi_bytes_acked;
    out->bytes_received = ti.tcpi_bytes_received;
    out->min_rtt_us = ti.tcpi_min_rtt;
}

int sk_tcp_info_get(int fd, sk_tcp_info *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    memset(out, 0, sizeof *out);
    out->state = -1;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -errno;
    sk_tcp_info_from(&ti, len, out);
    return 0;
}

const char *sk_tcp_state_name(int state)
{
    /* The kernel's TCP states (include/net/tcp_states.h), by number. */
    static const char *const names[] = {
        [1] = "ESTABLISHED", [2] = "SYN_SENT",  [3] = "SYN_RECV", [4] = "FIN_WAIT1",
        [5] = "FIN_WAIT2",   [6] = "TIME_WAIT", [7] = "CLOSE",    [8] = "CLOSE_WAIT",
        [9] = "LAST_ACK",    [10] = "LISTEN",   [11] = "CLOSING", [12] = "NEW_SYN_RECV",
    };
    if (state < 0 || (size_t)state >= sizeof names / sizeof names[0] || names[state] == NULL)
        return "?";
    return names[state];
}
