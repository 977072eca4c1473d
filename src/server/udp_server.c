/* UDP serving: each worker owns one event loop and reads request datagrams
 * in batches (recvmmsg), asks the service for one reply each and sends the
 * replies in one call (sendmmsg). The loop model is one worker over every
 * socket; hybrid runs N workers in threads, each with its own SO_REUSEPORT
 * sockets so the kernel spreads datagrams by source address and port. */
#include "udp_server.h"
#include "listen.h"
#include "server_trace.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/error.h>
#include <sockit/trace.h>
#include <sockit/udp.h>

#define BATCH 16
#define RX_SIZE 65536 /* more than any payload, so MSG_TRUNC means garbage */
#define ROUNDS 8      /* batches per wakeup before the loop looks at stop */

typedef union ctlbuf {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
} ctlbuf;

typedef struct udp_worker {
    sk_server *srv;
    int fds[SK__MAX_LISTENERS];
    int nfds;
    bool primary; /* answers broadcast and multicast; hybrid's others drop them */
    bool own_fds;
    sk_loop *loop;
    int rc;
    unsigned char *rx, *tx;
    int rused; /* receive headers the last recvmmsg filled */
    struct mmsghdr rmsg[BATCH], smsg[BATCH];
    struct iovec riov[BATCH], siov[BATCH];
    struct sockaddr_storage peer[BATCH];
    ctlbuf rctl[BATCH], sctl[BATCH];
} udp_worker;

int sk__udp_join_all(sk_server *s)
{
    for (const char *const *g = s->cfg.joins; g && *g; g++) {
        int fam = sk_udp_group_family(*g), joined = 0;
        if (fam < 0)
            return fam;
        for (int i = 0; i < s->nlisteners; i++) {
            if (s->laddrs[i].ss.ss_family != fam)
                continue;
            int rc = sk_udp_join(s->lfds[i], fam, *g);
            if (rc < 0)
                return rc;
            joined++;
        }
        if (joined == 0)
            return -EAFNOSUPPORT; /* no socket of the group's family */
    }
    return 0;
}

/* Where a datagram was sent: whether to a unicast address of ours, and the
 * control message that makes the reply leave from that address (a
 * wildcard-bound socket would otherwise let the route pick the source). */
static bool reply_ctl(const struct msghdr *in, struct msghdr *out, ctlbuf *ctl)
{
    out->msg_control = NULL;
    out->msg_controllen = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR((struct msghdr *)in, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            /* For a broadcast or multicast datagram the header's
             * destination differs from the local address it came in on. */
            if (pi.ipi_addr.s_addr != pi.ipi_spec_dst.s_addr)
                return false;
            struct in_pktinfo rp = {.ipi_spec_dst = pi.ipi_addr};
            out->msg_control = ctl->buf;
            out->msg_controllen = CMSG_SPACE(sizeof rp);
            struct cmsghdr *oc = CMSG_FIRSTHDR(out);
            oc->cmsg_level = IPPROTO_IP;
            oc->cmsg_type = IP_PKTINFO;
            oc->cmsg_len = CMSG_LEN(sizeof rp);
            memcpy(CMSG_DATA(oc), &rp, sizeof rp);
            return true;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            const uint8_t *b = pi.ipi6_addr.s6_addr;
            if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
                return false;
            if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr) && (b[12] >= 224 || (b[12] & b[13] & b[14] & b[15]) == 255))
                return false;
            out->msg_control = ctl->buf;
            out->msg_controllen = CMSG_SPACE(sizeof pi);
            struct cmsghdr *oc = CMSG_FIRSTHDR(out);
            oc->cmsg_level = IPPROTO_IPV6;
            oc->cmsg_type = IPV6_PKTINFO;
            oc->cmsg_len = CMSG_LEN(sizeof pi);
            memcpy(CMSG_DATA(oc), &pi, sizeof pi);
            return true;
        }
    }
    return true;
}

/* The batch calls, traced when serve --trace asked: off, one branch per
 * batch (none when built with SOCKIT_TRACE=OFF). */
static inline int udp_recv(sk_tracer *t, int fd, struct mmsghdr *v, unsigned n)
{
    return t ? sk_tr_recvmmsg(t, fd, v, n, MSG_DONTWAIT) : recvmmsg(fd, v, n, MSG_DONTWAIT, NULL);
}

static inline int udp_send(sk_tracer *t, int fd, struct mmsghdr *v, unsigned n)
{
    return t ? sk_tr_sendmmsg(t, fd, v, n, MSG_DONTWAIT) : sendmmsg(fd, v, n, MSG_DONTWAIT);
}

static void send_replies(udp_worker *w, int fd, int n)
{
    int off = 0;
    while (off < n) {
        int k = udp_send(SK__TRACER(w->srv), fd, w->smsg + off, (unsigned)(n - off));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            /* UDP promises nothing: a reply that cannot go now (full send
             * buffer, unreachable peer) is dropped, the rest still go. */
            sk__server_event(w->srv, SK_EV_WARN, NULL, -errno, "udp reply dropped");
            off++;
            continue;
        }
        uint64_t bytes = 0;
        for (int i = off; i < off + k; i++)
            bytes += w->smsg[i].msg_len;
        SK__STAT_ADD(w->srv, bytes_out, bytes);
        off += k;
    }
}

static void on_readable(sk_loop *l, int fd, void *data, int events)
{
    udp_worker *w = data;
    const sk_service *svc = w->srv->cfg.service;
    (void)l;
    (void)events;

    for (int round = 0; round < ROUNDS; round++) {
        /* The kernel wrote the lengths of the headers it filled last time;
         * the rest are as rx_init left them. */
        for (int i = 0; i < w->rused; i++) {
            w->rmsg[i].msg_hdr.msg_namelen = sizeof w->peer[i];
            w->rmsg[i].msg_hdr.msg_controllen = sizeof w->rctl[i].buf;
        }
        int n = udp_recv(SK__TRACER(w->srv), fd, w->rmsg, BATCH);
        /* Next round resets the headers this call filled, and the one
         * after them, which a receive that failed may have touched. */
        w->rused = n < BATCH ? (n > 0 ? n : 0) + 1 : BATCH;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                sk__server_event(w->srv, SK_EV_WARN, NULL, -errno, "udp receive");
            return;
        }
        int nout = 0;
        uint64_t accepted = 0, bytes_in = 0;
        bool filtered = w->srv->nallow > 0 || w->srv->ndeny > 0; /* --allow / --deny */
        for (int i = 0; i < n; i++) {
            struct msghdr *in = &w->rmsg[i].msg_hdr;
            struct msghdr *out = &w->smsg[nout].msg_hdr;
            if (in->msg_flags & MSG_TRUNC) {
                SK__STAT_ADD(w->srv, rejected, 1); /* larger than any UDP payload: not from a real stack */
                continue;
            }
            if (filtered && !sk__server_admits(w->srv, (const struct sockaddr *)&w->peer[i])) {
                SK__STAT_ADD(w->srv, rejected, 1); /* --allow / --deny: not answered */
                continue;
            }
            bool unicast = reply_ctl(in, out, &w->sctl[nout]);
            if (!unicast) {
                if (!w->primary)
                    continue; /* every reuseport socket sees it; one answer is enough */
                out->msg_control = NULL;
                out->msg_controllen = 0;
            }
            accepted++;
            bytes_in += w->rmsg[i].msg_len;
            unsigned char *reply = w->tx + (size_t)nout * SK_UDP_MAX_PAYLOAD6;
            sk_datagram d = {.data = w->riov[i].iov_base,
                             .len = w->rmsg[i].msg_len,
                             .peer = (const struct sockaddr *)&w->peer[i],
                             .peer_len = in->msg_namelen,
                             .to_group = !unicast};
            int rlen = svc->on_datagram(&d, reply, sk_udp_max_payload((const struct sockaddr *)&w->peer[i]),
                                        w->srv->cfg.service_config);
            if (rlen < 0) {
                SK__STAT_ADD(w->srv, rejected, 1); /* the service would not answer it */
                continue;
            }
            w->siov[nout] = (struct iovec){reply, (size_t)rlen};
            out->msg_name = &w->peer[i];
            out->msg_namelen = in->msg_namelen;
            out->msg_iov = &w->siov[nout];
            out->msg_iovlen = 1;
            out->msg_flags = 0;
            nout++;
        }
        /* The counters once per batch: in hybrid every worker adds to
         * the same ones, and an atomic add per datagram made them bounce
         * between the cores. */
        if (accepted > 0) {
            SK__STAT_ADD(w->srv, accepted, accepted);
            SK__STAT_ADD(w->srv, bytes_in, bytes_in);
        }
        send_replies(w, fd, nout);
        if (n < BATCH)
            return;
    }
}

/* The receive headers, set up once: recvmmsg changes only their name and
 * control lengths (and flags, which it sets), never the buffers. */
static void rx_init(udp_worker *w)
{
    for (int i = 0; i < BATCH; i++) {
        w->riov[i] = (struct iovec){w->rx + (size_t)i * RX_SIZE, RX_SIZE};
        w->rmsg[i].msg_hdr = (struct msghdr){.msg_name = &w->peer[i],
                                             .msg_namelen = sizeof w->peer[i],
                                             .msg_iov = &w->riov[i],
                                             .msg_iovlen = 1,
                                             .msg_control = w->rctl[i].buf,
                                             .msg_controllen = sizeof w->rctl[i].buf};
    }
    w->rused = 0;
}

static void on_stop(sk_loop *l, int fd, void *data, int events)
{
    (void)fd;
    (void)data;
    (void)events;
    sk_loop_stop(l);
}

static int worker_run(udp_worker *w)
{
    int rc;

    w->rx = malloc((size_t)BATCH * RX_SIZE);
    w->tx = malloc((size_t)BATCH * SK_UDP_MAX_PAYLOAD6);
    w->loop = sk_loop_new(w->srv->cfg.backend, 0, &rc);
    if (w->rx == NULL || w->tx == NULL)
        rc = -ENOMEM;
    if (w->rx == NULL || w->tx == NULL || w->loop == NULL)
        goto out;
    rx_init(w);
    for (int i = 0; i < w->nfds; i++) {
        rc = sk_loop_watch(w->loop, w->fds[i], SK_READ, on_readable, w);
        if (rc < 0)
            goto out;
    }
    /* The stop eventfd is never read, so it wakes every worker's loop. */
    rc = sk_loop_watch(w->loop, w->srv->stop_fd, SK_READ, on_stop, w);
    if (rc < 0)
        goto out;
    rc = SK__STOPPING(w->srv) ? 0 : sk_loop_run(w->loop);
out:
    if (w->loop)
        sk_loop_free(w->loop);
    free(w->rx);
    free(w->tx);
    w->loop = NULL;
    w->rx = w->tx = NULL;
    return rc;
}

static void *worker_main(void *arg)
{
    udp_worker *w = arg;
    w->rc = worker_run(w);
    /* One worker ending (stop or failure) ends them all: a server a
     * worker short would quietly drop a share of its datagrams. */
    if (w->rc < 0)
        sk__server_event(w->srv, SK_EV_WARN, NULL, w->rc, "datagram worker failed");
    sk_server_stop(w->srv);
    return NULL;
}

static void close_own(udp_worker *w)
{
    if (w->own_fds)
        sk__listen_close(w->fds, w->nfds);
    w->nfds = 0;
}

int sk__udp_serve(sk_server *s)
{
    int nworkers, rc = 0;
    udp_worker *ws;
    pthread_t *tids;

    if (s->cfg.model != SK_MODEL_LOOP && s->cfg.model != SK_MODEL_HYBRID)
        return -ENOTSUP;
    nworkers = s->cfg.model == SK_MODEL_HYBRID ? s->cfg.workers : 1;
    ws = calloc((size_t)nworkers, sizeof *ws);
    tids = calloc((size_t)nworkers, sizeof *tids);
    if (ws == NULL || tids == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (int k = 0; k < nworkers; k++) {
        udp_worker *w = &ws[k];
        w->srv = s;
        w->primary = k == 0;
        if (k == 0) {
            memcpy(w->fds, s->lfds, sizeof w->fds);
            w->nfds = s->nlisteners;
            continue;
        }
        /* Every other worker binds its own sockets to the same addresses;
         * SO_REUSEPORT was set on the first ones too. */
        if ((rc = sk__listen_copy(s, w->fds)) < 0)
            goto out;
        w->nfds = s->nlisteners;
        w->own_fds = true;
    }
    if (nworkers == 1) {
        rc = worker_run(&ws[0]);
    } else {
        rc = sk__server_threads(s, nworkers, worker_main, ws, sizeof *ws, tids);
        for (int k = 0; k < nworkers && rc == 0; k++)
            rc = ws[k].rc;
    }
out:
    for (int k = 0; ws && k < nworkers; k++)
        close_own(&ws[k]);
    free(ws);
    free(tids);
    return rc;
}
