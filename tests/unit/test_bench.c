/* Unit tests for the load generator's engine: shares that add up, the
 * configurations it refuses, and a UDP run against a real echo thread on
 * 127.0.0.1 that drops every 4th datagram (loss counted exactly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <sockit/bench.h>

static void test_share_adds_up(void **state)
{
    (void)state;
    static const uint64_t totals[] = {0, 1, 7, 1000, 7001, UINT64_C(1) << 40, UINT64_MAX};
    static const uint64_t parts[] = {1, 2, 3, 7, 31, 300};
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) {
            uint64_t sum = 0, n = parts[j];
            for (uint64_t k = 0; k < n; k++) {
                uint64_t s = sk_bench_share(totals[i], k + 1, n) - sk_bench_share(totals[i], k, n);
                /* Even: no two shares differ by more than one. */
                assert_true(s == totals[i] / n || s == totals[i] / n + 1);
                sum += s;
            }
            assert_true(sum == totals[i]);
        }
    }
}

static void test_proto_names(void **state)
{
    (void)state;
    assert_int_equal(sk_bench_proto_parse("udp"), SK_BENCH_UDP);
    assert_string_equal(sk_bench_proto_name(SK_BENCH_UDP), "udp");
    assert_int_equal(sk_bench_proto_parse("echo"), SK_BENCH_ECHO);
    assert_int_equal(sk_bench_proto_parse("tcp"), -EINVAL);
    assert_int_equal(sk_bench_proto_parse(NULL), -EINVAL);
}

static sk_bench_config base(void)
{
    sk_bench_config c = {.proto = SK_BENCH_ECHO, .conns = 2, .threads = 1, .pipeline = 1, .size = 64};
    struct sockaddr_in *in = (struct sockaddr_in *)&c.addr.ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = htons(9);
    c.addr.len = sizeof *in;
    return c;
}

static void test_refused_configs(void **state)
{
    sk_bench_result r;
    sk_bench_config c;
    (void)state;
    c = base();
    c.proto = SK_BENCH_UDP;
    c.size = SK_BENCH_UDP_MIN - 1; /* no room for the sequence number */
    assert_int_equal(sk_bench_run(&c, &r), -EINVAL);
    c.size = 64;
    c.new_conn = true; /* no connections to renew */
    assert_int_equal(sk_bench_run(&c, &r), -EINVAL);
    c = base();
    c.new_conn = true;
    c.pipeline = 2;
    assert_int_equal(sk_bench_run(&c, &r), -EINVAL);
    c = base();
    c.idle_ms = 1000;
    c.rate = 10;
    assert_int_equal(sk_bench_run(&c, &r), -EINVAL);
    c = base();
    c.source_count = 2; /* and no source */
    assert_int_equal(sk_bench_run(&c, &r), -EINVAL);
}

typedef struct dropper {
    int fd;
    int every; /* drop each every-th datagram */
    unsigned received, echoed;
} dropper;

static void *drop_echo(void *arg)
{
    dropper *d = arg;
    char buf[2048];
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        ssize_t n = recvfrom(d->fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
        if (n < 0)
            return NULL; /* the receive timeout: the run is over */
        if (++d->received % (unsigned)d->every != 0) {
            sendto(d->fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
            d->echoed++;
        }
    }
}

static void test_udp_loss_counted(void **state)
{
    (void)state;
    dropper d = {.every = 4};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    struct timeval tv = {.tv_sec = 1};
    d.fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(d.fd >= 0);
    assert_int_equal(bind(d.fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(d.fd, (struct sockaddr *)&sa, &len), 0);
    assert_int_equal(setsockopt(d.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, drop_echo, &d), 0);

    sk_bench_config c = base();
    memcpy(&c.addr.ss, &sa, sizeof sa);
    c.proto = SK_BENCH_UDP;
    c.conns = 3;
    c.pipeline = 4;
    c.size = 32;
    c.requests_max = 200;
    c.duration_ms = 20000; /* bounds it; -n ends it */
    c.timeout_ms = 200;
    sk_bench_result r;
    assert_int_equal(sk_bench_run(&c, &r), 0);
    pthread_join(tid, NULL);
    close(d.fd);

    assert_int_equal(d.received, 200);
    assert_int_equal(r.n.dgrams_sent, 200);
    assert_int_equal(r.n.requests, d.echoed);
    assert_int_equal(r.n.dgrams_lost, 50);
    assert_int_equal(r.n.dgrams_late, 0);
    assert_int_equal(r.n.bytes_out, 200 * 32);
    assert_int_equal(r.n.bytes_in, 150 * 32);
    assert_int_equal(r.latency.total, 150);
    assert_int_equal(r.n.connects, 3);
    assert_true(r.elapsed_ms < 20000);
    sk_bench_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_adds_up),
        cmocka_unit_test(test_proto_names),
        cmocka_unit_test(test_refused_configs),
        cmocka_unit_test(test_udp_loss_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
