/* The live connection table: a walk over every engine of the server with
 * TCP_INFO for each socket, for /stats and connection listings. */
#include "conn_int.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

static void fill(sk_conn_info *o, const sk_conn *c, int64_t now)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    o->tuple = c->tuple;
    o->age_ms = now - c->opened_ms;
    o->bytes_in = __atomic_load_n(&c->bytes_in, __ATOMIC_RELAXED);
    o->bytes_out = __atomic_load_n(&c->bytes_out, __ATOMIC_RELAXED);
    memset(&ti, 0, sizeof ti);
    if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
        o->tcp_state = ti.tcpi_state;
        o->rtt_us = ti.tcpi_rtt;
        o->rttvar_us = ti.tcpi_rttvar;
        o->retransmits = ti.tcpi_total_retrans;
        o->snd_cwnd = ti.tcpi_snd_cwnd;
    } else {
        o->tcp_state = -1;
        o->rtt_us = o->rttvar_us = o->retransmits = o->snd_cwnd = 0;
    }
}

int sk_server_conns(const sk_server *cs, sk_conn_info *out, int max)
{
    /* The locks are the only thing changed: the table itself is read. */
    sk_server *s = (sk_server *)cs;
    int64_t now = sk_now_ms();
    int n = 0;

    pthread_mutex_lock(&s->engines_lock);
    for (sk__engine *e = s->engines; e != NULL; e = e->next_engine) {
        pthread_mutex_lock(&e->lock);
        for (const sk_conn *c = e->head; c != NULL; c = c->next) {
            if (n < max)
                fill(&out[n], c, now);
            n++;
        }
        pthread_mutex_unlock(&e->lock);
    }
    pthread_mutex_unlock(&s->engines_lock);
    return n;
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
