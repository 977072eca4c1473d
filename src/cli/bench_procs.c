/* sockit bench over several processes (--procs): each runs its own share
 * of the connections (and of the rate and the source addresses) and sends
 * its result back over a pipe, counts and the two histograms' non-empty
 * buckets; the parent merges them into one result. Also the source
 * address ranges (--source) and the kernel's view of a run (the listen
 * queue counters of /proc/net/netstat, TIME_WAIT sockets by sock_diag). */
#include "bench_cli.h"
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <sockit/sockit.h>

#define WIRE_MAGIC 0x736b6231u /* "skb1" */

/* What a process sends back, followed by two packed histograms. */
typedef struct wire_head {
    uint32_t magic;
    int32_t rc;
    int32_t last_connect_err;
    int32_t pad;
    sk_bench_counts n;
    int64_t elapsed_ms, established_ms, max_gap_ms;
    uint64_t open_at_end;
} wire_head;

typedef struct wire_hist {
    uint64_t total, min, max, sum, clamped;
    uint64_t nonzero; /* pairs of (bucket, count) follow */
} wire_hist;

/* --- source addresses ---------------------------------------------------- */

static bool parse_v4(const char *s, size_t len, uint32_t *out)
{
    char buf[INET_ADDRSTRLEN];
    struct in_addr a;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

int bench_sources_parse(const char *text, sk_addr *first, uint32_t *count)
{
    const char *dash = strchr(text, '-'), *slash = strchr(text, '/');
    uint32_t lo, hi;
    memset(first, 0, sizeof *first);
    if (dash == NULL && slash == NULL) {
        /* One address, IPv4 or IPv6. */
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&first->ss;
        if (parse_v4(text, strlen(text), &lo)) {
            hi = lo;
        } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            first->len = sizeof *in6;
            *count = 1;
            return 0;
        } else {
            return -EINVAL;
        }
    } else if (dash != NULL) {
        if (slash != NULL || !parse_v4(text, (size_t)(dash - text), &lo) ||
            !parse_v4(dash + 1, strlen(dash + 1), &hi) || hi < lo)
            return -EINVAL;
    } else {
        sk_cidr c;
        if (sk_cidr_parse(text, &c) < 0 || c.family != AF_INET || c.bits < 8)
            return -EINVAL;
        memcpy(&lo, c.addr, 4);
        lo = ntohl(lo);
        uint32_t mask = c.bits == 32 ? UINT32_MAX : ~(UINT32_MAX >> c.bits);
        hi = lo | ~mask;
        /* Hosts only: not the network's and the broadcast address. */
        if (c.bits < 31) {
            lo++;
            hi--;
        }
    }
    struct sockaddr_in *in = (struct sockaddr_in *)&first->ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(lo);
    first->len = sizeof *in;
    *count = hi - lo + 1;
    return 0;
}

/* --- the kernel's view ---------------------------------------------------- */

int bench_kernel_counters(bench_kernel *k)
{
    static const char *const names[] = {"ListenOverflows", "ListenDrops"};
    int64_t v[2];
    int rc = sk_tcpext_read(names, 2, v);
    k->listen_overflows = v[0];
    k->listen_drops = v[1];
    return rc < 0 ? rc : rc == 2 ? 0 : -ENOENT;
}

long bench_time_wait(const sk_addr *server)
{
    sk_diag_filter flt = {.local_port = -1, .states = 1u << sk_tcp_state_of("time-wait")};
    sk_diag_sock *s = NULL;
    size_t n = 0;
    long count = 0;
    uint16_t port = sk_addr_port((const struct sockaddr *)&server->ss);
    if (sk_diag_tcp(&flt, &s, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (sk_addr_port((const struct sockaddr *)&s[i].peer.ss) == port ||
            sk_addr_port((const struct sockaddr *)&s[i].local.ss) == port)
            count++;
    }
    free(s);
    return count;
}

/* --- processes ------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t len)
{
    const char *b = p;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_hist(int fd, const sk_hist *h)
{
    wire_hist w = {.total = h->total, .min = h->min, .max = h->max, .sum = h->sum, .clamped = h->clamped};
    for (uint32_t i = 0; i < h->nbuckets; i++)
        w.nonzero += h->counts[i] != 0;
    if (write_all(fd, &w, sizeof w) < 0)
        return -1;
    for (uint32_t i = 0; i < h->nbuckets; i++) {
        if (h->counts[i] != 0) {
            uint64_t pair[2] = {i, h->counts[i]};
            if (write_all(fd, pair, sizeof pair) < 0)
                return -1;
        }
    }
    return 0;
}

/* Add one packed histogram at *p (len bytes left) into h; advances *p.
 * Returns 0 or -EPROTO when it does not fit. */
static int merge_hist(sk_hist *h, const char **p, size_t *len)
{
    wire_hist w;
    if (*len < sizeof w)
        return -EPROTO;
    memcpy(&w, *p, sizeof w);
    *p += sizeof w;
    *len -= sizeof w;
    if (w.nonzero > *len / (2 * sizeof(uint64_t)))
        return -EPROTO;
    for (uint64_t i = 0; i < w.nonzero; i++) {
        uint64_t pair[2];
        memcpy(pair, *p, sizeof pair);
        *p += sizeof pair;
        *len -= sizeof pair;
        if (pair[0] >= h->nbuckets)
            return -EPROTO;
        h->counts[pair[0]] += pair[1];
    }
    if (w.total > 0) {
        h->min = w.min < h->min ? w.min : h->min;
        h->max = w.max > h->max ? w.max : h->max;
    }
    h->total += w.total;
    h->sum += w.sum;
    h->clamped += w.clamped;
    return 0;
}

/* Process p's share: its connections, its part of the rate, and its
 * source addresses (a block of them, or one when there are fewer
 * addresses than processes). */
static void share(const sk_bench_config *cfg, int procs, int p, sk_bench_config *out, sk_addr *src)
{
    *out = *cfg;
    out->conns = cfg->conns / procs + (p < cfg->conns % procs);
    if (cfg->requests_max > 0) {
        uint64_t before =
            (uint64_t)(cfg->conns / procs) * (uint64_t)p + (uint64_t)(p < cfg->conns % procs ? p : cfg->conns % procs);
        out->requests_max = sk_bench_share(cfg->requests_max, before + (uint64_t)out->conns, (uint64_t)cfg->conns) -
                            sk_bench_share(cfg->requests_max, before, (uint64_t)cfg->conns);
        if (out->requests_max == 0)
            out->duration_ms = 0; /* nothing to send: done at once */
    }
    if (out->threads > out->conns)
        out->threads = out->conns;
    out->rate = cfg->rate * out->conns / cfg->conns;
    out->on_progress = NULL;
    if (cfg->source_count == 0)
        return;
    uint32_t from, n;
    if (cfg->source_count >= (uint32_t)procs) {
        from = (uint32_t)((uint64_t)cfg->source_count * (uint64_t)p / (uint64_t)procs);
        n = (uint32_t)((uint64_t)cfg->source_count * (uint64_t)(p + 1) / (uint64_t)procs) - from;
    } else {
        from = (uint32_t)p % cfg->source_count;
        n = 1;
    }
    *src = *cfg->source;
    if (src->ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&src->ss;
        in->sin_addr.s_addr = htonl(ntohl(in->sin_addr.s_addr) + from);
    }
    out->source = src;
    out->source_count = n;
}

static _Noreturn void child(const sk_bench_config *cfg, int fd)
{
    sk_bench_result r;
    wire_head h = {.magic = WIRE_MAGIC};
    h.rc = sk_bench_run(cfg, &r);
    if (h.rc == 0) {
        h.n = r.n;
        h.elapsed_ms = r.elapsed_ms;
        h.established_ms = r.established_ms;
        h.max_gap_ms = r.max_gap_ms;
        h.open_at_end = r.open_at_end;
        h.last_connect_err = r.last_connect_err;
    }
    int bad = write_all(fd, &h, sizeof h) < 0;
    if (h.rc == 0) {
        bad = bad || send_hist(fd, &r.latency) < 0 || send_hist(fd, &r.connect_latency) < 0;
        sk_bench_result_free(&r);
    }
    close(fd);
    _exit(bad ? 1 : 0);
}

typedef struct proc {
    pid_t pid;
    int fd;
    char *buf;
    size_t len, cap;
} proc;

/* Read what is there; 1 at EOF, 0 for more, -ENOMEM. */
static int proc_read(proc *p)
{
    if (p->cap - p->len < 65536) {
        size_t cap = p->cap ? p->cap * 2 : 131072;
        char *b = realloc(p->buf, cap);
        if (b == NULL)
            return -ENOMEM;
        p->buf = b;
        p->cap = cap;
    }
    ssize_t n = read(p->fd, p->buf + p->len, p->cap - p->len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    p->len += (size_t)n;
    return n == 0;
}

static int merge(sk_bench_result *out, const proc *p)
{
    wire_head h;
    const char *b = p->buf;
    size_t len = p->len;
    if (len < sizeof h)
        return -EPIPE;
    memcpy(&h, b, sizeof h);
    b += sizeof h;
    len -= sizeof h;
    if (h.magic != WIRE_MAGIC)
        return -EPROTO;
    if (h.rc < 0)
        return h.rc;
    const uint64_t *f = (const uint64_t *)&h.n;
    uint64_t *d = (uint64_t *)&out->n;
    for (size_t i = 0; i < sizeof h.n / sizeof(uint64_t); i++)
        d[i] += f[i];
    out->elapsed_ms = h.elapsed_ms > out->elapsed_ms ? h.elapsed_ms : out->elapsed_ms;
    if (h.established_ms < 0 || out->established_ms < 0)
        out->established_ms = -1;
    else if (h.established_ms > out->established_ms)
        out->established_ms = h.established_ms;
    out->max_gap_ms = h.max_gap_ms > out->max_gap_ms ? h.max_gap_ms : out->max_gap_ms;
    out->open_at_end += h.open_at_end;
    if (h.last_connect_err)
        out->last_connect_err = h.last_connect_err;
    int rc = merge_hist(&out->latency, &b, &len);
    return rc < 0 ? rc : merge_hist(&out->connect_latency, &b, &len);
}

int bench_run_procs(const sk_bench_config *cfg, int procs, sk_bench_result *out)
{
    proc ps[BENCH_PROCS_MAX];
    sk_addr srcs[BENCH_PROCS_MAX];
    int started = 0, rc = 0;
    bool told = false;

    memset(out, 0, sizeof *out);
    if (procs < 1 || procs > BENCH_PROCS_MAX || procs > cfg->conns || cfg->ntargets > 0)
        return -EINVAL;
    if ((rc = sk_hist_init(&out->latency, SK_BENCH_HIST_MAX)) < 0)
        return rc;
    if ((rc = sk_hist_init(&out->connect_latency, SK_BENCH_HIST_MAX)) < 0) {
        sk_hist_free(&out->latency);
        return rc;
    }
    memset(ps, 0, sizeof ps);
    fflush(NULL);
    for (; started < procs; started++) {
        int fds[2];
        sk_bench_config c;
        share(cfg, procs, started, &c, &srcs[started]);
        if (pipe(fds) < 0) {
            rc = -errno;
            break;
        }
        pid_t parent = getpid(), pid = fork();
        if (pid < 0) {
            rc = -errno;
            close(fds[0]);
            close(fds[1]);
            break;
        }
        if (pid == 0) {
            /* A share without its parent reports to no one: it ends with
             * it, however the parent ended (SIGKILL included). */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            close(fds[0]);
            for (int i = 0; i < started; i++)
                close(ps[i].fd);
            child(&c, fds[1]);
        }
        close(fds[1]);
        ps[started] = (proc){.pid = pid, .fd = fds[0]};
    }
    /* Read every pipe to its end; a stop (SIGINT) is passed on. */
    int open = started;
    while (open > 0) {
        struct pollfd pfd[BENCH_PROCS_MAX];
        int map[BENCH_PROCS_MAX], k = 0;
        for (int i = 0; i < started; i++) {
            if (ps[i].fd >= 0) {
                pfd[k] = (struct pollfd){.fd = ps[i].fd, .events = POLLIN};
                map[k++] = i;
            }
        }
        if ((rc < 0 || (cfg->stop && *cfg->stop)) && !told) {
            for (int i = 0; i < started; i++)
                kill(ps[i].pid, SIGTERM);
            told = true;
        }
        if (poll(pfd, (nfds_t)k, 100) < 0 && errno != EINTR)
            break;
        for (int j = 0; j < k; j++) {
            if (!(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            proc *p = &ps[map[j]];
            int r = proc_read(p);
            if (r != 0) {
                if (r < 0 && rc == 0)
                    rc = r;
                close(p->fd);
                p->fd = -1;
                open--;
            }
        }
    }
    for (int i = 0; i < started; i++) {
        int status;
        if (ps[i].fd >= 0)
            close(ps[i].fd);
        while (waitpid(ps[i].pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (rc == 0)
            rc = merge(out, &ps[i]);
        free(ps[i].buf);
    }
    if (rc < 0)
        sk_bench_result_free(out);
    return rc;
}
