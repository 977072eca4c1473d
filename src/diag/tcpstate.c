/* The sock:inet_sock_set_state tracepoint through a private tracefs
 * instance (tcpstate.h): mkdir instances/sockit-PID, its clock set to
 * "mono" (so its times are sk_now_us's), a filter on the port, the event
 * enabled, trace_pipe read as text; on close the event disabled and the
 * instance removed. */
#include "tcpstate_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVENT "events/sock/inet_sock_set_state"

struct sk_tcpstate {
    char dir[512]; /* the instance */
    int fd;        /* its trace_pipe */
    char buf[8192];
    size_t have;
};

/* Where tracefs is mounted, from /proc/self/mounts: 0 with root[], or
 * -ENOENT. */
static int tracefs_root(char *root, size_t len)
{
    FILE *f = fopen("/proc/self/mounts", "re");
    char line[1024], dev[256], dir[512], type[64];
    int rc = -ENOENT;
    if (f == NULL)
        return -errno;
    while (rc < 0 && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 && strcmp(type, "tracefs") == 0 &&
            strlen(dir) < len) {
            snprintf(root, len, "%s", dir);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* No tracefs mounted: mount one over /sys/kernel/tracing in a mount
 * namespace of this process's own, so nothing outside it changes. Only
 * root may, and only while the process has one thread. */
static int mount_private(char *root, size_t len)
{
    if (geteuid() != 0)
        return -EACCES;
    if (unshare(CLONE_NEWNS) < 0)
        return -errno;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
        return -errno;
    snprintf(root, len, "/sys/kernel/tracing");
    return 0;
}

static int put(const char *dir, const char *file, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n < 0 ? -errno : 0;
    close(fd);
    return err;
}

int sk_tcpstate_port(sk_tcpstate *ts, uint16_t port)
{
    char filter[128];
    if (port)
        snprintf(filter, sizeof filter, "protocol == 6 && (sport == %u || dport == %u)", port, port);
    else
        snprintf(filter, sizeof filter, "protocol == 6");
    return put(ts->dir, EVENT "/filter", filter);
}

int sk_tcpstate_open(uint16_t port, sk_tcpstate **out)
{
    char root[200];
    int rc = tracefs_root(root, sizeof root);
    sk_tcpstate *ts;

    if (rc < 0 && (rc = mount_private(root, sizeof root)) < 0)
        return rc;
    {
        char ev[300];
        snprintf(ev, sizeof ev, "%s/" EVENT, root);
        if (access(ev, F_OK) < 0)
            return errno == ENOENT ? -ENOENT : -errno;
    }
    ts = calloc(1, sizeof *ts);
    if (ts == NULL)
        return -ENOMEM;
    ts->fd = -1;
    for (int i = 0;; i++) {
        snprintf(ts->dir, sizeof ts->dir, "%s/instances/sockit-%d%s%.0d", root, (int)getpid(), i ? "-" : "", i);
        if (mkdir(ts->dir, 0700) == 0)
            break;
        if (errno != EEXIST || i == 16) {
            rc = -errno;
            free(ts);
            return rc;
        }
    }
    if ((rc = put(ts->dir, "trace_clock", "mono")) < 0 || (rc = put(ts->dir, "buffer_size_kb", "256")) < 0 ||
        (rc = sk_tcpstate_port(ts, port)) < 0 || (rc = put(ts->dir, EVENT "/enable", "1")) < 0)
        goto fail;
    char pipe[600];
    snprintf(pipe, sizeof pipe, "%s/trace_pipe", ts->dir);
    ts->fd = open(pipe, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (ts->fd < 0) {
        rc = -errno;
        goto fail;
    }
    *out = ts;
    return 0;
fail:
    rmdir(ts->dir);
    free(ts);
    return rc;
}

static int state_named(const char *s)
{
    static const char *const names[] = {"",          "ESTABLISHED", "SYN_SENT",    "SYN_RECV",   "FIN_WAIT1",
                                        "FIN_WAIT2", "TIME_WAIT",   "CLOSE",       "CLOSE_WAIT", "LAST_ACK",
                                        "LISTEN",    "CLOSING",     "NEW_SYN_RECV"};
    if (strncmp(s, "TCP_", 4) == 0)
        s += 4;
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++) {
        size_t n = strlen(names[i]);
        if (strncmp(s, names[i], n) == 0 && (s[n] == ' ' || s[n] == '\n' || s[n] == '\0'))
            return i;
    }
    return -1;
}

/* The value after "key=" in line, up to the next space, into out. */
static bool field(const char *line, const char *key, char *out, size_t len)
{
    char k[32];
    snprintf(k, sizeof k, " %s=", key);
    const char *p = strstr(line, k);
    if (p == NULL)
        return false;
    p += strlen(k);
    size_t n = strcspn(p, " \n");
    if (n >= len)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool set_addr(sk_addr *a, const char *family, const char *ip, const char *port)
{
    memset(a, 0, sizeof *a);
    if (strcmp(family, "AF_INET") == 0) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)atoi(port));
        a->len = sizeof *in;
        return inet_pton(AF_INET, ip, &in->sin_addr) == 1;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)atoi(port));
    a->len = sizeof *in6;
    return inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1;
}

/* "  <idle>-0  [001] ..s2. 12345.678901: inet_sock_set_state: family=AF_INET
 * protocol=IPPROTO_TCP sport=P dport=P saddr=A daddr=A saddrv6=A6
 * daddrv6=A6 oldstate=TCP_X newstate=TCP_Y" */
bool sk__tcpstate_parse(const char *line, sk_state_change *c)
{
    const char *tag = strstr(line, ": inet_sock_set_state:");
    char fam[16], sp[8], dp[8], sa[64], da[64], os[32], ns[32];
    if (tag == NULL)
        return false;
    const char *t = tag;
    while (t > line && t[-1] != ' ')
        t--;
    char *end;
    long long sec = strtoll(t, &end, 10), usec = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9' && digits < 6; end++, digits++)
            usec = usec * 10 + (*end - '0');
        for (; digits < 6; digits++)
            usec *= 10;
    }
    c->at_us = sec * 1000000 + usec;
    tag += strlen(": inet_sock_set_state:") - 1;
    if (!field(tag, "family", fam, sizeof fam) || !field(tag, "sport", sp, sizeof sp) ||
        !field(tag, "dport", dp, sizeof dp) || !field(tag, "oldstate", os, sizeof os) ||
        !field(tag, "newstate", ns, sizeof ns))
        return false;
    bool v4 = strcmp(fam, "AF_INET") == 0;
    if (!field(tag, v4 ? "saddr" : "saddrv6", sa, sizeof sa) || !field(tag, v4 ? "daddr" : "daddrv6", da, sizeof da))
        return false;
    c->from = state_named(os);
    c->to = state_named(ns);
    return set_addr(&c->local, fam, sa, sp) && set_addr(&c->peer, fam, da, dp) && c->from > 0 && c->to > 0;
}

int sk_tcpstate_next(sk_tcpstate *ts, int timeout_ms, sk_state_change *c)
{
    for (;;) {
        char *nl;
        while ((nl = memchr(ts->buf, '\n', ts->have)) != NULL) {
            *nl = '\0';
            bool ok = sk__tcpstate_parse(ts->buf, c);
            size_t used = (size_t)(nl + 1 - ts->buf);
            memmove(ts->buf, nl + 1, ts->have - used);
            ts->have -= used;
            if (ok)
                return 1;
        }
        if (ts->have == sizeof ts->buf - 1)
            ts->have = 0; /* a line longer than any the event makes */
        struct pollfd p = {.fd = ts->fd, .events = POLLIN};
        int rc = poll(&p, 1, timeout_ms);
        if (rc < 0)
            return errno == EINTR ? 0 : -errno;
        if (rc == 0)
            return 0;
        ssize_t n = read(ts->fd, ts->buf + ts->have, sizeof ts->buf - 1 - ts->have);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        ts->have += (size_t)n;
        timeout_ms = 0;
    }
}

void sk_tcpstate_close(sk_tcpstate *ts)
{
    if (ts == NULL)
        return;
    put(ts->dir, EVENT "/enable", "0");
    if (ts->fd >= 0)
        close(ts->fd);
    rmdir(ts->dir);
    free(ts);
}

const char *sk_tcpstate_why(int err)
{
    switch (err) {
    case -EACCES:
    case -EPERM:
        return "not permitted (tracefs and its instances are root's)";
    case -ENOENT:
        return "no tracefs or no sock:inet_sock_set_state tracepoint here";
    case -EINVAL:
        return "cannot mount a private tracefs once threads run";
    default:
        return strerror(-err);
    }
}
