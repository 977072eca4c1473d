/* The live connection table: a walk over every engine of the server with
 * what the kernel knows of each socket (diag/tcpinfo.c), for /stats and
 * connection listings. */
#include "conn_int.h"

#include <sockit/tcpinfo.h>

static void fill(sk_conn_info *o, const sk_conn *c, int64_t now)
{
    sk_tcp_info ti;

    sk__conn_tuple(c, &o->tuple);
    o->age_ms = now - c->opened_ms;
    o->bytes_in = __atomic_load_n(&c->bytes_in, __ATOMIC_RELAXED);
    o->bytes_out = __atomic_load_n(&c->bytes_out, __ATOMIC_RELAXED);
    sk_tcp_info_get(c->fd, &ti);
    o->tcp_state = ti.state;
    o->rtt_us = ti.rtt_us;
    o->rttvar_us = ti.rttvar_us;
    o->retransmits = ti.retransmits;
    o->snd_cwnd = ti.snd_cwnd;
}

int sk_server_conns(const sk_server *s, sk_conn_info *out, int max) { return sk_server_conns_page(s, 0, out, max); }

int sk_server_conns_page(const sk_server *cs, int offset, sk_conn_info *out, int max)
{
    /* The locks are the only thing changed: the table itself is read. */
    sk_server *s = (sk_server *)cs;
    int64_t now = sk_now_ms();
    int n = 0;

    pthread_mutex_lock(&s->engines_lock);
    for (sk__engine *e = s->engines; e != NULL; e = e->next_engine) {
        pthread_mutex_lock(&e->lock);
        for (const sk_conn *c = e->head; c != NULL; c = c->next) {
            if (n >= offset && n - offset < max)
                fill(&out[n - offset], c, now);
            n++;
        }
        pthread_mutex_unlock(&e->lock);
    }
    pthread_mutex_unlock(&s->engines_lock);
    return n;
}
