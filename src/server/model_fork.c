/* The fork model: the parent accepts, one child process per connection
 * runs the blocking single-connection loop (sk__serve_one) and exits. The
 * counters live in MAP_SHARED memory, so the children's counts add up. */
#include "acceptor.h"
#include "models.h"
#include "procs.h"

#include <errno.h>
#include <unistd.h>

typedef struct child_arg {
    int fd;
    int reserve_fd;
    sk_addr held; /* counted against max_conns_per_ip; the child gives it back */
} child_arg;

static int child_body(sk_server *s, void *arg)
{
    child_arg *a = arg;
    if (a->reserve_fd >= 0)
        close(a->reserve_fd);
    return sk__serve_one(s, a->fd, &a->held);
}

typedef struct fork_slots {
    sk__procs *procs;
    int max;
} fork_slots;

static bool all_taken(void *arg)
{
    fork_slots *fs = arg;
    sk__procs_reap(fs->procs, NULL, 0);
    return fs->procs->n >= fs->max;
}

int sk__model_fork(sk_server *s)
{
    sk__procs procs;
    sk__acceptor acc;
    int rc = sk__procs_init(&procs);

    if (rc < 0)
        return rc;
    sk__acceptor_init(&acc, s, sk__procs_fd(&procs));
    fork_slots slots = {.procs = &procs, .max = s->cfg.max_conns};
    if (sk__server_queues(s)) {
        acc.full = all_taken;
        acc.full_arg = &slots;
    }
    for (;;) {
        int fd = sk__acceptor_next(&acc, -1);
        sk__procs_reap(&procs, NULL, 0);
        if (fd == -ECANCELED)
            break;
        if (fd < 0)
            continue;
        if (s->cfg.max_conns > 0 && procs.n >= s->cfg.max_conns) {
            sk__server_reject_full(s, fd, &acc.held);
            continue;
        }
        child_arg a = {.fd = fd, .reserve_fd = acc.reserve_fd, .held = acc.held};
        pid_t pid = sk__procs_spawn(&procs, s, false, child_body, &a);
        close(fd); /* the child has it now */
        if (pid < 0)
            sk__server_reject(s, -1, &acc.held, pid, "cannot fork for a new connection");
    }
    sk__acceptor_destroy(&acc);
    /* Children drain their connection on SIGTERM within drain_timeout_ms;
     * a second of slack before SIGKILL. */
    sk__procs_stop_all(&procs, s->cfg.drain_timeout_ms + 1000);
    sk__procs_destroy(&procs);
    return 0;
}
