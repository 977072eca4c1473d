/* The prefork model: a master forks N worker processes that share the
 * listening sockets, each running the event-loop worker; the master only
 * supervises: a worker that dies is replaced at once. */
#include "model_loop.h"
#include "procs.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

/* A worker that dies this soon after its start is probably failing at
 * start-up: wait before the next try instead of forking in a tight loop. */
#define QUICK_DEATH_MS 200
#define RESPAWN_DELAY_MS 500

typedef struct slot {
    pid_t pid; /* 0: to be started at start_at */
    int64_t started, start_at;
} slot;

static int worker_body(sk_server *s, void *arg)
{
    (void)arg;
    sk__loop_worker w = {.srv = s, .lfds = s->lfds, .nlfds = s->nlisteners};
    return sk__loop_worker_run(&w);
}

static void start_due(sk__procs *procs, sk_server *s, slot *slots, int n)
{
    int64_t now = sk_now_ms();
    for (int i = 0; i < n; i++) {
        if (slots[i].pid != 0 || slots[i].start_at > now)
            continue;
        pid_t pid = sk__procs_spawn(procs, s, true, worker_body, NULL);
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
    sk__procs procs;
    pid_t dead[64];
    int rc;

    if (slots == NULL)
        return -ENOMEM;
    rc = sk__procs_init(&procs);
    if (rc < 0) {
        free(slots);
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
                slots[i].start_at = now - slots[i].started < QUICK_DEATH_MS ? now + RESPAWN_DELAY_MS : now;
                sk__server_event(s, SK_EV_WARN, NULL, 0, "worker exited; starting another");
            }
        }
        start_due(&procs, s, slots, n);
    }
    /* Workers drain on SIGTERM within drain_timeout_ms. */
    sk__procs_stop_all(&procs, s->cfg.drain_timeout_ms + 1000);
    sk__procs_destroy(&procs);
    free(slots);
    return 0;
}
