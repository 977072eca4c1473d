/* The overload policies' shared state (docs/reliability.md): the memory
 * every thread and process of a server shares (counters, the rate bucket,
 * the per-address connection counts), and the kernel's listen-queue
 * overflow counters. */
#include "conn_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sockit/sockdiag.h>

/* A process-shared mutex: a process killed while holding it (a prefork
 * worker, a fork child) leaves it to the next locker, not locked forever. */
static int shared_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

static void shared_lock(pthread_mutex_t *m)
{
    if (pthread_mutex_lock(m) == EOWNERDEAD)
        pthread_mutex_consistent(m);
}

/* One peer address and its live connections. The key is the IPv6 form
 * (an IPv4 address v4-mapped), so a dual-stack listener's IPv4 clients
 * count with the same clients on an IPv4 listener. */
typedef struct ip_entry {
    uint8_t key[16];
    uint32_t count; /* 0: the slot is free */
} ip_entry;

struct sk__iptab {
    pthread_mutex_t lock;
    uint32_t mask; /* slots - 1, a power of two */
    ip_entry e[];
};

static size_t iptab_bytes(uint32_t slots) { return sizeof(sk__iptab) + (size_t)slots * sizeof(ip_entry); }

int sk__shared_init(sk_server *s)
{
    s->shared = mmap(NULL, sizeof *s->shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s->shared == MAP_FAILED) {
        s->shared = NULL;
        return -errno;
    }
    s->stats = &s->shared->stats;
    int rc = shared_mutex_init(&s->shared->lock);
    if (rc < 0)
        return rc;
    sk__netstat_read(&s->shared->overflows0, &s->shared->drops0);
    if (s->cfg.max_conns_per_ip <= 0)
        return 0;
    /* Room for twice as many addresses as connections can be open, so the
     * probes stay short; 64 Ki addresses when there is no max-conns. */
    uint32_t slots = 1024, want = s->cfg.max_conns > 0 ? 2u * (uint32_t)s->cfg.max_conns : 65536u;
    while (slots < want && slots < (1u << 20))
        slots <<= 1;
    s->iptab = mmap(NULL, iptab_bytes(slots), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s->iptab == MAP_FAILED) {
        s->iptab = NULL;
        return -errno;
    }
    s->iptab->mask = slots - 1;
    return shared_mutex_init(&s->iptab->lock);
}

void sk__shared_free(sk_server *s)
{
    if (s->iptab) {
        pthread_mutex_destroy(&s->iptab->lock);
        munmap(s->iptab, iptab_bytes(s->iptab->mask + 1));
    }
    if (s->shared) {
        pthread_mutex_destroy(&s->shared->lock);
        munmap(s->shared, sizeof *s->shared);
    }
    s->iptab = NULL;
    s->shared = NULL;
    s->stats = NULL;
}

/* The 16-byte key of a peer; false when it has no IP address. */
static bool ip_key(const sk_addr *a, uint8_t key[16])
{
    if (a->len == 0)
        return false;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
        return true;
    }
    if (a->ss.ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
        return true;
    }
    return false;
}

static uint32_t ip_hash(const uint8_t key[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 16777619u;
    return h;
}

/* The slot holding key, or the free slot where it would go (linear
 * probing); -1 when the table is full. Under the table's lock. */
static int64_t ip_find(const sk__iptab *t, const uint8_t key[16])
{
    uint32_t i = ip_hash(key) & t->mask;
    for (uint32_t n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
        if (t->e[i].count == 0 || memcmp(t->e[i].key, key, 16) == 0)
            return i;
    }
    return -1;
}

/* Empty slot i and move later entries of its probe run back over it, so
 * no lookup stops early at a hole (deletion without tombstones). */
static void ip_remove(sk__iptab *t, uint32_t i)
{
    uint32_t j = i;
    t->e[i].count = 0;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->e[j].count == 0)
            return;
        uint32_t home = ip_hash(t->e[j].key) & t->mask;
        /* Entry j may move to i if its home is not in (i, j] cyclically. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        t->e[i] = t->e[j];
        t->e[j].count = 0;
        i = j;
    }
}

int sk__peer_take(sk_server *s, const sk_addr *peer)
{
    uint8_t key[16];
    sk__iptab *t = s->iptab;
    int rc = 0;

    if (t == NULL || !ip_key(peer, key))
        return 1; /* no limit, or no address to count: nothing held */
    shared_lock(&t->lock);
    int64_t i = ip_find(t, key);
    if (i < 0) {
        rc = -ENOSPC;
    } else if (t->e[i].count >= (uint32_t)s->cfg.max_conns_per_ip) {
        rc = -EBUSY;
    } else {
        if (t->e[i].count == 0)
            memcpy(t->e[i].key, key, 16);
        t->e[i].count++;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void sk__peer_release(sk_server *s, const sk_addr *peer)
{
    uint8_t key[16];
    sk__iptab *t = s->iptab;

    if (t == NULL || peer == NULL || !ip_key(peer, key))
        return;
    shared_lock(&t->lock);
    int64_t i = ip_find(t, key);
    if (i >= 0 && t->e[i].count > 0 && --t->e[i].count == 0)
        ip_remove(t, (uint32_t)i);
    pthread_mutex_unlock(&t->lock);
}

bool sk_server_rate_take(sk_server *s, int per_sec)
{
    sk__shared *sh = s->shared;
    int64_t now = sk_now_ms();
    bool ok = false;

    if (per_sec <= 0)
        return true;
    /* Thousandths of a token: one a second per_sec times, at most per_sec
     * stored (the burst). */
    uint64_t cap = (uint64_t)per_sec * 1000;
    shared_lock(&sh->lock);
    if (sh->bucket_ms == 0) {
        sh->bucket = cap;
    } else if (now > sh->bucket_ms) {
        uint64_t add = (uint64_t)(now - sh->bucket_ms) * (uint64_t)per_sec;
        sh->bucket = sh->bucket + add > cap ? cap : sh->bucket + add;
    }
    sh->bucket_ms = now;
    if (sh->bucket >= 1000) {
        sh->bucket -= 1000;
        ok = true;
    }
    pthread_mutex_unlock(&sh->lock);
    if (!ok)
        SK__STAT_ADD(s, rate_limited, 1);
    return ok;
}

void sk__netstat_read(uint64_t *overflows, uint64_t *drops)
{
    static const char *const names[] = {"ListenOverflows", "ListenDrops"};
    int64_t v[2];
    sk_tcpext_read(names, 2, v);
    *overflows = v[0] > 0 ? (uint64_t)v[0] : 0;
    *drops = v[1] > 0 ? (uint64_t)v[1] : 0;
}
