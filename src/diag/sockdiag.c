/* NETLINK_SOCK_DIAG: one dump request per family (inet_diag_req_v2 with
 * INET_DIAG_INFO asked for), the answers read until NLMSG_DONE, each
 * socket filtered here; owners found by matching socket inodes against
 * /proc/PID/fd (sockdiag.h). */
#include <sockit/sockdiag.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RECV_BUF (64 * 1024)
#define TCP_LISTEN_STATE 10

typedef struct vec {
    sk_diag_sock *v;
    size_t n, cap;
} vec;

static void set_addr(sk_addr *a, int family, const uint32_t *ip, uint16_t port_be)
{
    memset(a, 0, sizeof *a);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        in->sin_family = AF_INET;
        in->sin_port = port_be;
        memcpy(&in->sin_addr, ip, 4);
        a->len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = port_be;
        memcpy(&in6->sin6_addr, ip, 16);
        a->len = sizeof *in6;
    }
}

static bool same_host(const sk_addr *a, const sk_addr *b)
{
    if (a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr, &((const struct sockaddr_in6 *)&b->ss)->sin6_addr,
                  16) == 0;
}

/* A socket listening on the wildcard serves every local address. */
static bool is_wildcard(const sk_addr *a)
{
    static const uint8_t zero[16];
    if (a->ss.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == 0;
    return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr, zero, 16) == 0;
}

static int push(vec *v, const sk_diag_sock *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        sk_diag_sock *nv = realloc(v->v, cap * sizeof *nv);
        if (nv == NULL)
            return -ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = *s;
    return 0;
}

static int take(const struct nlmsghdr *h, const sk_diag_filter *f, vec *v)
{
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    sk_diag_sock s;

    if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
        return 0;
    memset(&s, 0, sizeof s);
    set_addr(&s.local, m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
    set_addr(&s.peer, m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
    s.state = m->idiag_state;
    s.rqueue = m->idiag_rqueue;
    s.wqueue = m->idiag_wqueue;
    s.uid = m->idiag_uid;
    s.inode = m->idiag_inode;
    s.pid = -1;
    s.info.state = s.state;
    if (f && f->local_port >= 0 && sk_addr_port((struct sockaddr *)&s.local.ss) != f->local_port)
        return 0;
    if (f && f->local && !is_wildcard(f->local) && !same_host(&s.local, f->local) &&
        !(s.state == TCP_LISTEN_STATE && is_wildcard(&s.local)))
        return 0;
    int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == INET_DIAG_INFO) {
            sk_tcp_info_from(RTA_DATA(a), RTA_PAYLOAD(a), &s.info);
            s.info.state = s.state;
            s.has_info = true;
        }
    }
    return push(v, &s);
}

static int dump(int family, const sk_diag_filter *f, vec *v, char *buf)
{
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
        struct rtattr bc_attr;
        struct inet_diag_bc_op bc[2];
    } req;
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    int rc = 0;

    if (fd < 0)
        return errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT ? -EPROTONOSUPPORT : -errno;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    req.r.sdiag_family = (uint8_t)family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
    req.r.idiag_states = f && f->states ? f->states : ~0u;
    if (f && f->local_port >= 0) {
        /* The kernel filters on the local port itself: on a host with
         * thousands of sockets a dump of one port takes a millisecond,
         * not tens. The program: "sport == P: accept (jump to the end),
         * else reject (jump past it)". */
        req.h.nlmsg_len = sizeof req;
        req.bc_attr.rta_type = INET_DIAG_REQ_BYTECODE;
        req.bc_attr.rta_len = RTA_LENGTH(sizeof req.bc);
        req.bc[0] = (struct inet_diag_bc_op){.code = INET_DIAG_BC_S_EQ, .yes = sizeof req.bc, .no = sizeof req.bc + 4};
        req.bc[1] = (struct inet_diag_bc_op){.no = (unsigned short)f->local_port};
    } else {
        req.h.nlmsg_len = offsetof(__typeof__(req), bc_attr);
    }
    if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&nl, sizeof nl) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    for (bool done = false; !done && rc == 0;) {
        ssize_t k = recv(fd, buf, RECV_BUF, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (k == 0)
            break;
        unsigned int left = (unsigned int)k;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                rc = h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error < 0 ? e->error : -EIO;
                break;
            }
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && (rc = take(h, f, v)) < 0)
                break;
        }
    }
    close(fd);
    return rc;
}

static int listeners_first(const void *a, const void *b)
{
    const sk_diag_sock *x = a, *y = b;
    int lx = x->state == TCP_LISTEN_STATE, ly = y->state == TCP_LISTEN_STATE;
    if (lx != ly)
        return ly - lx;
    int px = sk_addr_port((const struct sockaddr *)&x->peer.ss),
        py = sk_addr_port((const struct sockaddr *)&y->peer.ss);
    return px - py;
}

int sk_diag_tcp(const sk_diag_filter *f, sk_diag_sock **out, size_t *n)
{
    vec v = {0};
    char *buf = malloc(RECV_BUF);
    int rc;

    *out = NULL;
    *n = 0;
    if (buf == NULL)
        return -ENOMEM;
    rc = dump(AF_INET, f, &v, buf);
    if (rc == 0)
        rc = dump(AF_INET6, f, &v, buf);
    free(buf);
    if (rc < 0) {
        free(v.v);
        return rc;
    }
    if (v.n > 1)
        qsort(v.v, v.n, sizeof *v.v, listeners_first);
    *out = v.v;
    *n = v.n;
    return 0;
}

static void read_comm(int pid, char *comm, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *fp = fopen(path, "re");
    comm[0] = '\0';
    if (fp == NULL)
        return;
    if (fgets(comm, (int)len, fp) != NULL)
        comm[strcspn(comm, "\n")] = '\0';
    fclose(fp);
}

size_t sk_diag_owners(sk_diag_sock *socks, size_t n)
{
    size_t found = 0, want = 0;
    DIR *proc;
    struct dirent *de;

    for (size_t i = 0; i < n; i++)
        want += socks[i].inode != 0;
    if (want == 0 || (proc = opendir("/proc")) == NULL)
        return 0;
    while (found < want && (de = readdir(proc)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        int pid = atoi(de->d_name);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", pid);
        DIR *fds = opendir(path);
        if (fds == NULL)
            continue;
        struct dirent *fe;
        while ((fe = readdir(fds)) != NULL) {
            char link[300], target[64];
            if (fe->d_name[0] == '.')
                continue;
            snprintf(link, sizeof link, "/proc/%d/fd/%s", pid, fe->d_name);
            ssize_t k = readlink(link, target, sizeof target - 1);
            if (k <= 8 || strncmp(target, "socket:[", 8) != 0)
                continue;
            target[k] = '\0';
            uint64_t ino = strtoull(target + 8, NULL, 10);
            for (size_t i = 0; i < n; i++) {
                if (socks[i].inode == ino && socks[i].pid < 0) {
                    socks[i].pid = pid;
                    read_comm(pid, socks[i].comm, sizeof socks[i].comm);
                    found++;
                }
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

int sk_tcp_state_of(const char *name)
{
    char norm[32];
    size_t k = 0;
    if (name == NULL)
        return -1;
    for (; name[k] && k + 1 < sizeof norm; k++)
        norm[k] = name[k] == '-' ? '_' : (char)toupper((unsigned char)name[k]);
    norm[k] = '\0';
    if (name[k] != '\0')
        return -1;
    /* ss's spellings without the underscore. */
    if (strcmp(norm, "FIN_WAIT_1") == 0)
        return 4;
    if (strcmp(norm, "FIN_WAIT_2") == 0)
        return 5;
    if (strcmp(norm, "SYN_RECEIVED") == 0)
        return 3;
    for (int s = 1; s <= 12; s++) {
        if (strcasecmp(norm, sk_tcp_state_name(s)) == 0)
            return s;
    }
    return -1;
}

int sk_tcpext_read(const char *const *names, size_t n, int64_t *out)
{
    char head[4096], vals[4096];
    FILE *f = fopen("/proc/net/netstat", "re");
    int found = 0;

    for (size_t i = 0; i < n; i++)
        out[i] = -1;
    if (f == NULL)
        return -errno;
    /* Pairs of lines: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...". */
    while (fgets(head, sizeof head, f) && fgets(vals, sizeof vals, f)) {
        if (strncmp(head, "TcpExt:", 7) != 0)
            continue;
        char *sh, *sv;
        char *k = strtok_r(head + 7, " \n", &sh), *v = strtok_r(vals + 7, " \n", &sv);
        for (; k && v; k = strtok_r(NULL, " \n", &sh), v = strtok_r(NULL, " \n", &sv))
            for (size_t i = 0; i < n; i++)
                if (out[i] < 0 && strcmp(k, names[i]) == 0) {
                    out[i] = strtoll(v, NULL, 10);
                    found++;
                }
        break;
    }
    fclose(f);
    return found;
}
