/* The prefork model: a master forks N worker processes, each running the
 * event-loop worker on its own copy of the listening sockets (SO_REUSEPORT:
 * the kernel spreads new connections evenly by their 4-tuple, where one
 * shared listener hands them to whichever worker wakes first, and a busy
 * one fills up to its fd limit while others idle). The master keeps every
 * copy open and only supervises: a worker that dies is replaced at once on
 * the same copy, so the connections queued on it wait instead of being
 * lost. Under --on-fd-limit pause-accept the workers share the server's
 * listeners instead: a worker out of descriptors stops accepting and the
 * others take the queue, where a connection on the paused worker's own
 * listener could only wait for that one worker's descriptors. */
#include "listen.h"
#include "model_loop.h"
#include "procs.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>

/* A worker that dies this soon after its start is probably failing at
 * start-up: wait before the next try instead of forking in a tight loop. */
#define QUICK_DEATH_MS 200
#define RESPAWN_DELAY_MS 500

typedef struct slot {
    pid_t pid; /* 0: to be started at start_at */
    int64_t started, start_at;
    uint64_t *live;              /* MAP_SHARED: connections the worker holds */
    int lfds[SK__MAX_LISTENERS]; /* this worker's listeners (slot 0: the server's own) */
    int nslots;                  /* the slots array's length (each slot knows it) */
    struct slot *all;
} slot;

/* Under pause-accept every worker is on the server's own listeners. */
static bool shares_listeners(const sk_server *s) { return s->cfg.on_fd_limit == SK_ON_FD_LIMIT_PAUSE_ACCEPT; }

static int worker_body(sk_server *s, void *arg)
{
    slot *sl = arg;
    /* The other workers' listeners are the master's to keep; open here
     * they would only cost descriptors. */
    bool shared = shares_listeners(s);
    for (int i = 1; i < sl->nslots && !shared; i++) {
        if (&sl->all[i] != sl)
            sk__listen_close(sl->all[i].lfds, s->nlisteners);
    }
    if (sl != &sl->all[0] && !shared)
        sk__listen_close(s->lfds, s->nlisteners);
    sk__loop_worker w = {.srv = s, .lfds = sl->lfds, .nlfds = s->nlisteners, .live = sl->live};
    return sk__loop_worker_run(&w);
}

/* A worker killed mid-connection never closed them: settle the shared
 * counters with what it last published, so active stays true. */
static void settle(sk_server *s, slot *sl)
{
    uint64_t lost = __atomic_exchange_n(sl->live, 0, __ATOMIC_RELAXED);
    if (lost > 0) {
        SK__STAT_SUB(s, active, lost);
        SK__STAT_ADD(s, closed, lost);
    }
}

static void close_copies(const sk_server *s, slot *slots, int n)
{
    for (int i = 1; i < n && !shares_listeners(s); i++)
        sk__listen_close(slots[i].lfds, s->nlisteners);
}

static void start_due(sk__procs *procs, sk_server *s, slot *slots, int n)
{
    int64_t now = sk_now_ms();
    for (int i = 0; i < n; i++) {
        if (slots[i].pid != 0 || slots[i].start_at > now)
            continue;
        pid_t pid = sk__procs_spawn(procs, s, true, worker_body, &slots[i]);
        if (pid < 0) {
            sk__server_event(s, SK_EV_WARN, NULL, pid, "cannot fork a worker");
            slots[i].start_at = now + RESPAWN_DELAY_MS;
            continue;
        }
        slots[i].pid = pid;
        slots[i].started = now;
    }
}

static int next_wait(const slot *slots, int n)
{
    int64_t now = sk_now_ms(), when = -1;
    for (int i = 0; i < n; i++) {
        if (slots[i].pid == 0 && (when < 0 || slots[i].start_at < when))
            when = slots[i].start_at;
    }
    return when < 0 ? -1 : when <= now ? 0 : (int)(when - now);
}

int sk__model_prefork(sk_server *s)
{
    int n = s->cfg.workers;
    slot *slots = calloc((size_t)n, sizeof *slots);
    uint64_t *live = mmap(NULL, (size_t)n * sizeof *live, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sk__procs procs;
    pid_t dead[64];
    int rc;

    if (slots == NULL || live == MAP_FAILED) {
        free(slots);
        if (live != MAP_FAILED)
            munmap(live, (size_t)n * sizeof *live);
        return -ENOMEM;
    }
    rc = 0;
    bool shared = shares_listeners(s);
    for (int i = 0; i < n; i++) {
        slots[i].live = &live[i];
        slots[i].nslots = n;
        slots[i].all = slots;
        for (int j = 0; j < s->nlisteners; j++)
            slots[i].lfds[j] = i == 0 || shared ? s->lfds[j] : -1;
        /* Worker 0 takes the server's listeners, the others copies on the
         * very addresses bound (port 0 already resolved). */
        if (i > 0 && !shared && rc == 0)
            rc = sk__listen_copy(s, slots[i].lfds);
    }
    if (rc == 0)
        rc = sk__procs_init(&procs);
    if (rc < 0) {
        close_copies(s, slots, n);
        free(slots);
        munmap(live, (size_t)n * sizeof *live);
        return rc;
    }
    start_due(&procs, s, slots, n);
    while (!SK__STOPPING(s)) {
        struct pollfd p[2] = {{.fd = s->stop_fd, .events = POLLIN}, {.fd = sk__procs_fd(&procs), .events = POLLIN}};
        int r = poll(p, 2, next_wait(slots, n));
        if (r > 0 && p[0].revents)
            break;
        int k = sk__procs_reap(&procs, dead, 64);
        int64_t now = sk_now_ms();
        for (int j = 0; j < k && j < 64; j++) {
            for (int i = 0; i < n; i++) {
                if (slots[i].pid != dead[j])
                    continue;
                slots[i].pid = 0;
                settle(s, &slots[i]);
                slots[i].start_at = now - slots[i].started < QUICK_DEATH_MS ? now + RESPAWN_DELAY_MS : now;
                sk__server_event(s, SK_EV_WARN, NULL, 0, "worker exited; starting another");
            }
        }
        start_due(&procs, s, slots, n);
    }
    /* Workers drain on SIGTERM within drain_timeout_ms. */
    sk__procs_stop_all(&procs, s->cfg.drain_timeout_ms + 1000);
    sk__procs_destroy(&procs);
    for (int i = 0; i < n; i++)
        settle(s, &slots[i]); /* workers SIGKILLed after the drain timeout */
    close_copies(s, slots, n);
    free(slots);
    munmap(live, (size_t)n * sizeof *live);
    return 0;
}
