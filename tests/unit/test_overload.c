/* Unit tests for the overload policies' shared state (src/server/overload.c):
 * the per-address connection counts through a table nearly full (long probe
 * runs, deletions that move entries back), the rate bucket, and the
 * listen-overflow counters read from the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/conn_int.h"

static int noop_data(sk_conn *c, const void *buf, size_t len)
{
    (void)c;
    (void)buf;
    return (int)len;
}

static const sk_service svc = {.name = "t", .on_data = noop_data};

static sk_server *open_server(int max_conns, int per_ip)
{
    sk_server_config cfg = {.service = &svc,
                            .listen = "127.0.0.1:0",
                            .model = SK_MODEL_LOOP,
                            .max_conns = max_conns,
                            .max_conns_per_ip = per_ip};
    sk_server *s = NULL;
    assert_int_equal(sk_server_open(&cfg, &s), 0);
    return s;
}

/* Address number i: 10.x.y.z for IPv4, fd00:5ec::i for IPv6 (every other). */
static sk_addr addr(unsigned i)
{
    sk_addr a = {.len = 0};
    memset(&a.ss, 0, sizeof a.ss);
    if (i % 2 == 0) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(0x0a000000u + i);
        a.len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;
        in6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, "fd00:5ec::", &in6->sin6_addr);
        in6->sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
        in6->sin6_addr.s6_addr[15] = (uint8_t)i;
        a.len = sizeof *in6;
    }
    return a;
}

static void test_per_ip_counts(void **state)
{
    (void)state;
    /* max_conns 100: a table of 1024 slots; 900 addresses fill it close to
     * the top, so runs are long and every removal moves entries. */
    sk_server *s = open_server(100, 2);
    enum { N = 900 };
    for (unsigned i = 0; i < N; i++) {
        sk_addr a = addr(i);
        assert_int_equal(sk__peer_take(s, &a), 0);
        assert_int_equal(sk__peer_take(s, &a), 0);
        assert_int_equal(sk__peer_take(s, &a), -EBUSY);
    }
    /* Give every third address back entirely, and one count of the rest. */
    for (unsigned i = 0; i < N; i++) {
        sk_addr a = addr(i);
        sk__peer_release(s, &a);
        if (i % 3 == 0)
            sk__peer_release(s, &a);
    }
    for (unsigned i = 0; i < N; i++) {
        sk_addr a = addr(i);
        /* Each still counted once (1 left) or not at all (0 left). */
        assert_int_equal(sk__peer_take(s, &a), 0);
        assert_int_equal(sk__peer_take(s, &a), i % 3 == 0 ? 0 : -EBUSY);
    }
    /* An IPv4 address counts as its v4-mapped IPv6 form. */
    sk_addr v4 = addr(N + 10), mapped = {.len = sizeof(struct sockaddr_in6)};
    struct sockaddr_in6 *m = (struct sockaddr_in6 *)&mapped.ss;
    memset(m, 0, sizeof *m);
    m->sin6_family = AF_INET6;
    m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&m->sin6_addr.s6_addr[12], &((struct sockaddr_in *)&v4.ss)->sin_addr, 4);
    assert_int_equal(sk__peer_take(s, &v4), 0);
    assert_int_equal(sk__peer_take(s, &mapped), 0);
    assert_int_equal(sk__peer_take(s, &v4), -EBUSY);
    /* No address (a Unix peer), nothing counted. */
    sk_addr none = {.len = 0};
    assert_int_equal(sk__peer_take(s, &none), 1);
    sk_server_free(s);
}

static void test_per_ip_full_table(void **state)
{
    (void)state;
    /* 1024 slots: the 1025th address finds none. */
    sk_server *s = open_server(100, 1);
    for (unsigned i = 0; i < 1024; i++) {
        sk_addr a = addr(i);
        assert_int_equal(sk__peer_take(s, &a), 0);
    }
    sk_addr extra = addr(5000);
    assert_int_equal(sk__peer_take(s, &extra), -ENOSPC);
    sk_addr first = addr(0);
    sk__peer_release(s, &first);
    assert_int_equal(sk__peer_take(s, &extra), 0);
    sk_server_free(s);
}

static void test_per_ip_across_processes(void **state)
{
    (void)state;
    sk_server *s = open_server(0, 1);
    sk_addr a = addr(7);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(sk__peer_take(s, &a) == 0 ? 0 : 1);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The child's count is in the shared table. */
    assert_int_equal(sk__peer_take(s, &a), -EBUSY);
    sk_server_free(s);
}

static void test_rate_bucket(void **state)
{
    (void)state;
    sk_server *s = open_server(0, 0);
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += sk_server_rate_take(s, 5);
    assert_int_equal(ok, 5); /* the burst */
    sk_stats st;
    sk_server_stats(s, &st);
    assert_int_equal(st.rate_limited, 15);
    usleep(450 * 1000); /* about two tokens back at 5 a second */
    ok = 0;
    for (int i = 0; i < 5; i++)
        ok += sk_server_rate_take(s, 5);
    assert_true(ok >= 1 && ok <= 3);
    assert_true(sk_server_rate_take(s, 0)); /* 0: no limit */
    sk_server_free(s);
}

static void test_netstat(void **state)
{
    (void)state;
    uint64_t ovf = 0, drops = 0;
    sk__netstat_read(&ovf, &drops);
    /* Linux counts every overflow as a drop too. */
    assert_true(drops >= ovf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_ip_counts),
        cmocka_unit_test(test_per_ip_full_table),
        cmocka_unit_test(test_per_ip_across_processes),
        cmocka_unit_test(test_rate_bucket),
        cmocka_unit_test(test_netstat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
