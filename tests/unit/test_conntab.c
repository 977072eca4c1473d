/* Unit tests for the connection table (sk_server_conns across engines in
 * several threads, connections from slabs or malloc), the 4-tuple kept in
 * its compact form, and service deadlines run by the engine sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/conn_int.h"

static int noop_data(sk_conn *c, const void *buf, size_t len)
{
    (void)c;
    (void)buf;
    return (int)len;
}

static int timeouts;

static int count_timeout(sk_conn *c)
{
    timeouts++;
    return sk_conn_write(c, "bye\n", 4) == 0 ? (sk_conn_close(c), 0) : -1;
}

static const sk_service svc = {.name = "t", .on_data = noop_data, .on_timeout = count_timeout};

static sk_server *open_server(void)
{
    sk_server_config cfg = {.service = &svc, .listen = "127.0.0.1:0", .model = SK_MODEL_LOOP};
    sk_server *s = NULL;
    assert_int_equal(sk_server_open(&cfg, &s), 0);
    return s;
}

/* An engine in its own thread opening and closing connections while the
 * main thread walks the table. */
typedef struct worker {
    sk_server *srv;
    int rounds;
    pthread_barrier_t *ready;
} worker;

static void *churn(void *arg)
{
    worker *w = arg;
    sk__engine e;
    sk_conn *open[8];

    /* From slabs, as a loop worker's: freed and reused while the main
     * thread walks the table. */
    assert_int_equal(sk__engine_init(&e, w->srv, 4, true), 0);
    assert_true(e.conns.size > 0);
    pthread_barrier_wait(w->ready);
    for (int r = 0; r < w->rounds; r++) {
        for (int i = 0; i < 8; i++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return NULL;
            close(sv[1]);
            open[i] = sk__conn_open(&e, sv[0], false);
        }
        for (int i = 0; i < 8; i++) {
            if (open[i])
                sk__conn_free(open[i]);
        }
    }
    pthread_barrier_wait(w->ready);
    assert_int_equal(e.conns.nused, 0);
    sk__engine_destroy(&e);
    return NULL;
}

static void test_table_across_threads(void **state)
{
    sk_server *s = open_server();
    pthread_barrier_t ready;
    pthread_t t[2];
    worker w = {.srv = s, .rounds = 300, .ready = &ready};
    sk_conn_info info[32];
    (void)state;

    pthread_barrier_init(&ready, NULL, 3);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, &w), 0);
    pthread_barrier_wait(&ready);
    int walks = 0;
    for (int i = 0; i < 2000; i++) {
        int n = sk_server_conns(s, info, 32);
        assert_true(n >= 0 && n <= 16);
        for (int k = 0; k < n && k < 32; k++) {
            assert_true(info[k].age_ms >= 0);
            /* Unix sockets have no TCP_INFO. */
            assert_int_equal(info[k].tcp_state, -1);
        }
        walks++;
    }
    pthread_barrier_wait(&ready);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(walks, 2000);
    assert_int_equal(sk_server_conns(s, NULL, 0), 0);
    pthread_barrier_destroy(&ready);
    sk_server_free(s);
}

/* A TCP connection shows its 4-tuple and TCP_INFO. */
static void test_table_tcp(void **state)
{
    sk_server *s = open_server();
    sk__engine e;
    sk_conn_info info[2];
    (void)state;

    assert_int_equal(sk__engine_init(&e, s, 4, false), 0);
    int cfd = sk_tcp_connect(sk_server_address(s), 1, 2000, NULL);
    assert_true(cfd >= 0);
    int afd = sk_accept(s->lfds[0], true, NULL);
    assert_true(afd >= 0);
    sk_conn *c = sk__conn_open(&e, afd, false);
    assert_non_null(c);
    assert_ptr_equal(sk_conn_server(c), s);
    assert_int_equal(sk_server_conns(s, info, 2), 1);
    assert_string_equal(sk_tcp_state_name(info[0].tcp_state), "ESTABLISHED");
    assert_int_equal(sk_addr_port((const struct sockaddr *)&info[0].tuple.local.ss),
                     sk_addr_port((const struct sockaddr *)&sk_server_address(s)->ss));
    assert_string_equal(sk_tcp_state_name(99), "?");
    assert_string_equal(sk_tcp_state_name(-1), "?");
    close(cfd);
    sk__engine_destroy(&e);
    assert_int_equal(sk_server_conns(s, NULL, 0), 0);
    sk_server_free(s);
}

static bool same_addr(const sk_addr *a, const sk_addr *b)
{
    const struct sockaddr *x = (const struct sockaddr *)&a->ss, *y = (const struct sockaddr *)&b->ss;
    char s1[SK_ADDRSTRLEN], s2[SK_ADDRSTRLEN];
    return a->len == b->len && x->sa_family == y->sa_family && sk_addr_port(x) == sk_addr_port(y) &&
           strcmp(sk_addr_format(x, s1, sizeof s1), sk_addr_format(y, s2, sizeof s2)) == 0;
}

/* The 4-tuple is kept compact (addresses and ports): what the table and
 * sk_conn_tuple() give back is what the kernel says, for IPv4 and IPv6,
 * from a slab engine and a malloc one. */
static void tuple_round_trip(const char *listen, bool many)
{
    sk_server_config cfg = {.service = &svc, .listen = listen, .model = SK_MODEL_LOOP};
    sk_server *s = NULL;
    sk__engine e;
    sk_conn_info info[2];
    sk_tuple want;

    assert_int_equal(sk_server_open(&cfg, &s), 0);
    assert_int_equal(sk__engine_init(&e, s, 4, many), 0);
    assert_int_equal(e.conns.size > 0, many);
    int cfd = sk_tcp_connect(sk_server_address(s), 1, 2000, NULL);
    assert_true(cfd >= 0);
    int afd = sk_accept(s->lfds[0], true, NULL);
    assert_true(afd >= 0);
    assert_int_equal(sk_tuple_get(afd, &want), 0);
    sk_conn *c = sk__conn_open(&e, afd, false);
    assert_non_null(c);
    assert_null(c->ext); /* an IP connection needs nothing out of line */
    assert_int_equal(sk_server_conns(s, info, 2), 1);
    assert_true(same_addr(&info[0].tuple.peer, &want.peer));
    assert_true(same_addr(&info[0].tuple.local, &want.local));
    const sk_tuple *t = sk_conn_tuple(c);
    assert_true(same_addr(&t->peer, &want.peer));
    assert_true(same_addr(&t->local, &want.local));
    /* The pointer stays good for the connection's life. */
    assert_ptr_equal(sk_conn_tuple(c), t);
    sk__conn_free(c);
    close(cfd);
    sk__engine_destroy(&e);
    sk_server_free(s);
}

static void test_tuple_compact(void **state)
{
    (void)state;
    tuple_round_trip("127.0.0.1:0", true);
    tuple_round_trip("127.0.0.1:0", false);
    tuple_round_trip("[::1]:0", true);

    /* Any other family is kept whole, out of line, from the start. */
    sk_server *s = open_server();
    sk__engine e;
    int sv[2];
    sk_conn_info info[2];
    assert_int_equal(sk__engine_init(&e, s, 4, true), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    sk_conn *c = sk__conn_open(&e, sv[0], false);
    assert_non_null(c);
    assert_int_equal(c->tuple.family, 0);
    assert_non_null(c->ext);
    assert_non_null(c->ext->tuple);
    const sk_tuple *t = sk_conn_tuple(c);
    assert_ptr_equal(t, c->ext->tuple);
    assert_int_equal(((const struct sockaddr *)&t->peer.ss)->sa_family, AF_UNIX);
    assert_int_equal(sk_server_conns(s, info, 2), 1);
    assert_int_equal(((const struct sockaddr *)&info[0].tuple.local.ss)->sa_family, AF_UNIX);
    sk__conn_free(c);
    close(sv[1]);
    sk__engine_destroy(&e);
    sk_server_free(s);
}

static int done_calls, rearm_calls;

static void done_cb(sk_conn *c, void *arg)
{
    (void)arg;
    done_calls++;
    sk__conn_free(c);
}

static void rearm_cb(sk_conn *c)
{
    (void)c;
    rearm_calls++;
}

static void test_deadline(void **state)
{
    sk_server *s = open_server();
    sk__engine e;
    int sv[2];
    char buf[16];
    (void)state;

    assert_int_equal(sk__engine_init(&e, s, 4, false), 0);
    e.rearm = rearm_cb;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    sk_conn *c = sk__conn_open(&e, sv[0], false);
    assert_non_null(c);

    timeouts = done_calls = rearm_calls = 0;
    sk_conn_set_timeout(c, 1000);
    e.now += 999;
    sk__engine_sweep(&e, done_cb, NULL);
    assert_int_equal(timeouts, 0);
    /* Cancelled deadlines never fire. */
    sk_conn_set_timeout(c, 0);
    e.now += 5000;
    sk__engine_sweep(&e, done_cb, NULL);
    assert_int_equal(timeouts, 0);
    /* Due: on_timeout runs once, its answer is flushed, the model rearms. */
    sk_conn_set_timeout(c, 10);
    e.now += 10;
    sk__engine_sweep(&e, done_cb, NULL);
    assert_int_equal(timeouts, 1);
    assert_int_equal(read(sv[1], buf, sizeof buf), 4);
    assert_memory_equal(buf, "bye\n", 4);
    assert_int_equal(done_calls + rearm_calls, 1);
    e.now += 10;
    sk__engine_sweep(&e, done_cb, NULL);
    assert_int_equal(timeouts, 1);
    close(sv[1]);
    sk__engine_destroy(&e);
    sk_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_across_threads),
        cmocka_unit_test(test_table_tcp),
        cmocka_unit_test(test_tuple_compact),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
