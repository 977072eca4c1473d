/* sockit connect -z: a TCP port scan like nc -z. Non-blocking connects, at
 * most SCAN_INFLIGHT at once, each bounded by the per-port timeout; a port is
 * open (the handshake completed), closed (RST: ECONNREFUSED) or filtered
 * (no answer within the timeout, or an ICMP unreachable). Results are
 * printed in port order as soon as every lower port is known. */
#include "connect.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define SCAN_INFLIGHT 256
#define SCAN_TIMEOUT_MS 1000

enum { ST_PENDING, ST_OPEN, ST_CLOSED, ST_FILTERED };
static const char *const state_names[] = {"pending", "open", "closed", "filtered"};

typedef struct scan_port {
    uint16_t port;
    uint8_t state;
    int err;         /* why closed or filtered: an errno, or ETIMEDOUT */
    int64_t time_us; /* from connect() to the answer */
} scan_port;

typedef struct scan {
    const connect_opts *o;
    sk_addr target;
    char host[SK_ADDRSTRLEN];
    scan_port *ports;
    int nports, next, printed;
    int counts[4];
    int timeout_ms;
} scan;

/* "1-1024,8080" into the sorted set of ports it names (each once). */
static int parse_ports(const char *text, bool *set)
{
    const char *p = text;
    while (*p) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || lo < 1 || lo > 65535)
            return -1;
        p = end;
        if (*p == '-') {
            hi = strtol(p + 1, &end, 10);
            if (end == p + 1 || hi < lo || hi > 65535)
                return -1;
            p = end;
        }
        for (long i = lo; i <= hi; i++)
            set[i] = true;
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            return -1;
    }
    return 0;
}

static void print_one(const scan *s, const scan_port *sp)
{
    sk_addr a = s->target;
    char text[SK_ADDRSTRLEN];

    sk_addr_set_port(&a, (uint16_t)sp->port);
    sk_addr_format((struct sockaddr *)&a.ss, text, sizeof text);
    if (s->o->json) {
        printf("{\"event\":\"port\",\"addr\":\"%s\",\"host\":\"%s\",\"port\":%u,\"proto\":\"tcp\",\"state\":\"%s\","
               "\"elapsed_ms\":%.3f",
               text, s->o->operands[0], sp->port, state_names[sp->state], (double)sp->time_us / 1000.0);
        if (sp->state != ST_OPEN)
            printf(",\"reason\":\"%s\"", sp->err == ETIMEDOUT ? "timeout" : strerror(sp->err));
        printf("}\n");
    } else if (sp->state == ST_OPEN || s->o->verbose) {
        printf("%s %s", text, state_names[sp->state]);
        if (sp->state == ST_FILTERED)
            printf(" (%s)", sp->err == ETIMEDOUT ? "timeout" : strerror(sp->err));
        printf("\n");
    }
}

/* Print every finished port up to the first one still pending. */
static void print_ready(scan *s)
{
    while (s->printed < s->nports && s->ports[s->printed].state != ST_PENDING)
        print_one(s, &s->ports[s->printed++]);
    fflush(stdout);
}

static void finish(scan *s, scan_port *sp, int err, int64_t started_us)
{
    sp->err = err;
    sp->state = err == 0 ? ST_OPEN : err == ECONNREFUSED ? ST_CLOSED : ST_FILTERED;
    sp->time_us = sk_now_us() - started_us;
    s->counts[sp->state]++;
}

typedef struct slot {
    int fd;
    scan_port *sp;
    int64_t started_us;
} slot;

/* Start the next port's connect in sl. Returns 1 when it is in flight, 0
 * when it finished at once, -1 on a local failure (printed). */
static int start(scan *s, slot *sl)
{
    scan_port *sp = &s->ports[s->next++];
    sk_addr a = s->target;
    int64_t t0 = sk_now_us();

    sk_addr_set_port(&a, (uint16_t)sp->port);
    int fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        cli_error("socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&a.ss, a.len) == 0 || errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        if (err == EADDRNOTAVAIL || err == ENOBUFS || err == ENOMEM) {
            cli_error("connect port %u: %s", sp->port, strerror(err));
            return -1;
        }
        finish(s, sp, err == EINPROGRESS ? 0 : err, t0);
        return 0;
    }
    *sl = (slot){fd, sp, t0};
    return 1;
}

static int concurrency(void)
{
    struct rlimit rl;
    int n = SCAN_INFLIGHT;
    /* Leave room for stdio and whatever else is open. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 32)
        n = rl.rlim_cur > 40 ? (int)rl.rlim_cur - 32 : 8;
    return n;
}

static int run(scan *s)
{
    static slot slots[SCAN_INFLIGHT];
    static struct pollfd fds[SCAN_INFLIGHT];
    int max = concurrency(), n = 0;

    for (;;) {
        while (n < max && s->next < s->nports) {
            int rc = start(s, &slots[n]);
            if (rc < 0)
                return -1;
            n += rc;
        }
        print_ready(s);
        if (n == 0 && s->next == s->nports)
            return 0;
        int64_t now = sk_now_us(), wait_ms = s->timeout_ms;
        for (int i = 0; i < n; i++) {
            fds[i] = (struct pollfd){.fd = slots[i].fd, .events = POLLOUT};
            int64_t left = (slots[i].started_us + (int64_t)s->timeout_ms * 1000 - now + 999) / 1000;
            if (left < wait_ms)
                wait_ms = left < 0 ? 0 : left;
        }
        if (poll(fds, (nfds_t)n, (int)wait_ms) < 0 && errno != EINTR) {
            cli_error("poll: %s", strerror(errno));
            return -1;
        }
        now = sk_now_us();
        for (int i = 0; i < n; i++) {
            int err = 0;
            socklen_t len = sizeof err;
            if (fds[i].revents) {
                if (getsockopt(slots[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                    err = errno;
            } else if (now - slots[i].started_us >= (int64_t)s->timeout_ms * 1000) {
                err = ETIMEDOUT;
            } else {
                continue;
            }
            finish(s, slots[i].sp, err, slots[i].started_us);
            close(slots[i].fd);
            slots[i].fd = -1;
        }
        /* Compact the slots still in flight, keeping fds[] in step. */
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (slots[i].fd >= 0)
                slots[k++] = slots[i];
        }
        n = k;
    }
}

int connect_scan(const connect_opts *o)
{
    static scan s;
    static bool set[65536];
    int rc;

    if (o->noperands < 2)
        return cli_usage_error("connect", "-z wants HOST PORTS (e.g. 127.0.0.1 1-1024,8080)");
    s = (scan){.o = o, .timeout_ms = connect_timeout(o, SCAN_TIMEOUT_MS)};
    memset(set, 0, sizeof set);
    for (int i = 1; i < o->noperands; i++) {
        if (parse_ports(o->operands[i], set) < 0)
            return cli_usage_error("connect", "PORTS wants ports and ranges like 1-1024,8080, not '%s'",
                                   o->operands[i]);
    }
    rc = cli_resolve_host(o->operands[0], o->resolve_flags, &s.target);
    if (rc < 0) {
        int code = cli_exit_for(rc);
        if (code == EXIT_USAGE)
            return cli_usage_error("connect", "%s: %s", o->operands[0], sk_strerror(rc));
        cli_error("resolve %s: %s", o->operands[0], sk_strerror(rc));
        return code;
    }
    cli_format_host((struct sockaddr *)&s.target.ss, s.host, sizeof s.host);
    s.ports = calloc(65536, sizeof *s.ports);
    if (s.ports == NULL)
        return EXIT_FAIL;
    for (int p = 1; p < 65536; p++) {
        if (set[p])
            s.ports[s.nports++].port = (uint16_t)p;
    }
    int64_t t0 = sk_now_us();
    rc = run(&s);
    free(s.ports);
    if (rc < 0)
        return EXIT_FAIL;
    if (o->verbose)
        fprintf(stderr, "sockit: scanned %d ports of %s in %.0f ms: %d open, %d closed, %d filtered\n", s.nports,
                s.host, (double)(sk_now_us() - t0) / 1000.0, s.counts[ST_OPEN], s.counts[ST_CLOSED],
                s.counts[ST_FILTERED]);
    /* Like nc -z: success when something answered. */
    return s.counts[ST_OPEN] > 0 ? EXIT_OK : EXIT_FAIL;
}
