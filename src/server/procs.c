/* Child processes for the fork and prefork models. SIGCHLD only writes a
 * byte to a pipe the parent polls: reaping happens in normal context. */
#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int chld_wfd = -1;
static sk_server *child_srv;

static void on_chld(int sig)
{
    int saved = errno;
    char b = 0;
    (void)sig;
    ssize_t rc = write(chld_wfd, &b, 1); /* a full pipe already wakes the parent */
    (void)rc;
    errno = saved;
}

static void on_child_stop(int sig)
{
    (void)sig;
    if (child_srv)
        sk_server_stop(child_srv);
}

int sk__procs_init(sk__procs *p)
{
    struct sigaction sa = {0};

    memset(p, 0, sizeof *p);
    if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    chld_wfd = p->pipe[1];
    sa.sa_handler = on_chld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, &p->old_chld);
    return 0;
}

void sk__procs_destroy(sk__procs *p)
{
    sigaction(SIGCHLD, &p->old_chld, NULL);
    chld_wfd = -1;
    close(p->pipe[0]);
    close(p->pipe[1]);
    free(p->pids);
    p->pids = NULL;
    p->n = p->cap = 0;
}

/* In a new child: keep only what it needs and make SIGTERM/SIGINT/SIGHUP
 * drain this child alone (a closing terminal sends SIGHUP to every process
 * of its foreground group, children included). The parent's stop eventfd
 * is shared with the parent (one open file), so the child gets its own
 * before signals arrive. */
static void child_setup(sk__procs *p, sk_server *s, bool keep_listeners, const sigset_t *old, pid_t parent)
{
    struct sigaction sa = {0};

    /* A parent killed with SIGKILL cannot stop its children: have the
     * kernel tell them, so none outlives it holding the port. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        raise(SIGTERM); /* already gone; pending until the handler is in */
    signal(SIGCHLD, SIG_DFL);
    close(p->pipe[0]);
    close(p->pipe[1]);
    if (!keep_listeners) {
        for (int i = 0; i < s->nlisteners; i++) {
            close(s->lfds[i]);
            s->lfds[i] = -1;
        }
        s->nlisteners = 0;
    }
    close(s->stop_fd);
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    child_srv = s;
    sa.sa_handler = on_child_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigprocmask(SIG_SETMASK, old, NULL);
}

pid_t sk__procs_spawn(sk__procs *p, sk_server *s, bool keep_listeners, int (*body)(sk_server *s, void *arg), void *arg)
{
    sigset_t block, old;
    pid_t pid;

    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        pid_t *n = realloc(p->pids, (size_t)cap * sizeof *n);
        if (n == NULL)
            return -ENOMEM;
        p->pids = n;
        p->cap = cap;
    }
    /* Output buffered before the fork would be written twice. */
    fflush(NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t parent = getpid();
    pid = fork();
    if (pid == 0) {
        child_setup(p, s, keep_listeners, &old, parent);
        /* The child's connection table is its own engines only. */
        sk__server_forget_engines(s);
        int rc = s->stop_fd < 0 ? -errno : body(s, arg);
        fflush(NULL);
        _exit(rc < 0 ? 1 : 0);
    }
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -err;
    p->pids[p->n++] = pid;
    return pid;
}

int sk__procs_reap(sk__procs *p, pid_t *dead, int max)
{
    char sink[64];
    int count = 0;

    while (read(p->pipe[0], sink, sizeof sink) > 0)
        ;
    for (;;) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid <= 0)
            break;
        for (int i = 0; i < p->n; i++) {
            if (p->pids[i] == pid) {
                p->pids[i] = p->pids[--p->n];
                break;
            }
        }
        if (dead && count < max)
            dead[count] = pid;
        count++;
    }
    return count;
}

void sk__procs_stop_all(sk__procs *p, int timeout_ms)
{
    int64_t deadline = sk_now_ms() + timeout_ms;

    for (int i = 0; i < p->n; i++)
        kill(p->pids[i], SIGTERM);
    for (;;) {
        sk__procs_reap(p, NULL, 0);
        int64_t left = deadline - sk_now_ms();
        if (p->n == 0 || left <= 0)
            break;
        struct pollfd pf = {.fd = p->pipe[0], .events = POLLIN};
        poll(&pf, 1, left > 100 ? 100 : (int)left);
    }
    for (int i = 0; i < p->n; i++)
        kill(p->pids[i], SIGKILL);
    while (p->n > 0) {
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid < 0 && errno == ECHILD)
            break;
        for (int i = 0; pid > 0 && i < p->n; i++) {
            if (p->pids[i] == pid) {
                p->pids[i] = p->pids[--p->n];
                break;
            }
        }
    }
}
