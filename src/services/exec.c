/* exec: each connection gets a process running a shell command with the
 * connection as its stdin and stdout, like ncat --exec or socat EXEC:. The
 * child's stdin and stdout are one end of a socketpair; the other end is
 * relayed to and from the connection on the connection's own thread
 * (sk_conn_watch), so the same non-blocking code runs under every model
 * and keeps the engine's backpressure: a full output buffer stops reading
 * the child, a child that stops reading its stdin stops reading the client. */
#include <sockit/service.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How long on_close waits for a child after closing its stdin and stdout
 * (it normally exits at once), and then after SIGTERM, before SIGKILL. */
#define EXIT_WAIT_MS 50
#define TERM_WAIT_MS 100

typedef struct exec_config {
    const char *cmd; /* run by /bin/sh -c */
} exec_config;

typedef struct exec_state {
    pid_t pid;
    int fd;            /* our end of the child's socketpair */
    int watched;       /* events asked of sk_conn_watch for fd */
    bool blocked;      /* the child's stdin is full: input waits */
    bool client_eof;   /* the client sent FIN: the child's stdin ends once fed */
    bool stdin_closed; /* shut down (or the child closed it) */
    bool stdout_eof;   /* the child and its descendants closed stdout */
} exec_state;

static int set_cmd(void *config, const char *text)
{
    if (text[0] == '\0')
        return -EINVAL;
    ((exec_config *)config)->cmd = text;
    return 0;
}

/* Start /bin/sh -c cmd on the child end, with default signals: the
 * server's threads block every signal and ignore SIGPIPE, and a child
 * inherits both. Returns the pid or -errno. */
static pid_t spawn(const char *cmd, int child_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;

    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGHUP);
    sigaddset(&defaults, SIGCHLD);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, child_fd, STDOUT_FILENO);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -rc;
}

/* Wait for what the relay needs next: the child's output while the
 * connection has room for it, room in the child's stdin while input waits. */
static int update_watch(sk_conn *c)
{
    exec_state *st = sk_conn_state(c);
    int want = 0;

    if (st->fd < 0)
        return 0;
    if (!st->stdout_eof && sk_conn_room(c) > 0)
        want |= SK_READ;
    if (st->blocked && !st->stdin_closed)
        want |= SK_WRITE;
    if (want == st->watched)
        return 0;
    st->watched = want;
    return sk_conn_watch(c, st->fd, want);
}

static void close_stdin(exec_state *st)
{
    if (!st->stdin_closed)
        shutdown(st->fd, SHUT_WR);
    st->stdin_closed = true;
    st->blocked = false;
}

static int exec_open(sk_conn *c)
{
    const exec_config *cfg = sk_conn_config(c);
    exec_state *st = sk_conn_state(c);
    int sv[2];

    st->fd = -1;
    if (cfg == NULL || cfg->cmd == NULL)
        return -EINVAL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t pid = spawn(cfg->cmd, sv[1]);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return pid;
    }
    st->pid = pid;
    st->fd = sv[0];
    return update_watch(c);
}

/* Client bytes to the child's stdin: what the socketpair takes now. */
static int exec_data(sk_conn *c, const void *buf, size_t len)
{
    exec_state *st = sk_conn_state(c);

    if (st->stdin_closed)
        return (int)len; /* the child stopped reading: discard */
    ssize_t n = send(st->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        close_stdin(st); /* EPIPE: the child closed its stdin */
        n = (ssize_t)len;
    }
    if (n < 0)
        n = 0;
    st->blocked = (size_t)n < len;
    if (!st->blocked && st->client_eof)
        close_stdin(st);
    return update_watch(c) < 0 ? -1 : (int)n;
}

/* The child's output to the client, as much as the output buffer takes. */
static int relay_out(sk_conn *c, exec_state *st)
{
    char buf[16384];

    for (;;) {
        size_t room = sk_conn_room(c);
        if (room == 0 || st->stdout_eof)
            break;
        ssize_t n = recv(st->fd, buf, room < sizeof buf ? room : sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (sk_conn_write(c, buf, (size_t)n) < 0)
                return -1;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        /* EOF (or a reset): the child is done. Finish politely: flush what
         * it wrote, then FIN. */
        st->stdout_eof = true;
        sk_conn_close(c);
    }
    return 0;
}

static int exec_watch(sk_conn *c, int fd, int events)
{
    exec_state *st = sk_conn_state(c);
    (void)fd;

    if (events & SK_WRITE)
        st->blocked = false; /* the waiting input is offered again */
    if ((events & SK_READ) && relay_out(c, st) < 0)
        return -1;
    return update_watch(c);
}

static int exec_writable(sk_conn *c) { return update_watch(c); }

/* The client's FIN ends the child's stdin once what is queued reached it;
 * the connection stays open for the child's output. */
static int exec_eof(sk_conn *c)
{
    exec_state *st = sk_conn_state(c);
    st->client_eof = true;
    if (!st->blocked)
        close_stdin(st);
    return 1;
}

static bool reaped(pid_t pid, int ms)
{
    struct timespec tick = {0, 1000000};
    for (int i = 0;; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return true;
        if (i >= ms)
            return false;
        nanosleep(&tick, NULL);
    }
}

/* The connection is gone (the child ended, the client vanished, or the
 * server drains): close the child's stdin and stdout and reap it. A child
 * that outlives them is terminated: the waits are bounded, so a stubborn
 * child costs this thread at most EXIT_WAIT_MS + TERM_WAIT_MS. */
static void exec_close(sk_conn *c)
{
    exec_state *st = sk_conn_state(c);

    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    if (st->pid <= 0)
        return;
    if (!reaped(st->pid, EXIT_WAIT_MS)) {
        kill(st->pid, SIGTERM);
        if (!reaped(st->pid, TERM_WAIT_MS)) {
            kill(st->pid, SIGKILL);
            while (waitpid(st->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
    st->pid = 0;
}

static const sk_service_option exec_options[] = {
    {.name = "exec",
     .arg = "CMD",
     .help = "run CMD (/bin/sh -c) for each connection, the connection\n"
             "as its stdin and stdout; implies --service exec",
     .wants = "a command",
     .set = set_cmd,
     .selects = true},
    {0},
};

const sk_service sk__service_exec = {
    .name = "exec",
    .summary = "run --exec CMD per connection, the connection as its stdin and stdout",
    .conn_state_size = sizeof(exec_state),
    .on_open = exec_open,
    .on_data = exec_data,
    .on_writable = exec_writable,
    .on_eof = exec_eof,
    .on_close = exec_close,
    .on_watch = exec_watch,
    .options = exec_options,
    .config_size = sizeof(exec_config),
};
