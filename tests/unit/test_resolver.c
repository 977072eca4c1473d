/* Unit tests for the resolver on an sk_loop: a UDP socket in the test
 * plays the DNS server, so the query, the loop integration, the answer
 * parsing, the server that answered and cancellation are all checked
 * against bytes the test controls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/clock.h>
#include <sockit/error.h>
#include <sockit/resolve.h>

typedef struct seen {
    int calls, status;
    size_t n;
    char server[SK_ADDRSTRLEN];
    uint8_t addr[4];
    uint32_t ttl;
} seen;

static void on_result(const sk_dns_result *res, void *data)
{
    seen *s = data;
    s->calls++;
    s->status = res->status;
    s->n = res->n;
    snprintf(s->server, sizeof s->server, "%s", res->server);
    if (res->n > 0 && res->rrs[0].type == SK_DNS_A) {
        memcpy(s->addr, res->rrs[0].addr, 4);
        s->ttl = res->rrs[0].ttl;
    }
}

/* A UDP socket on 127.0.0.1, its "ip:port" in text. */
static int udp_server(char *text, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    snprintf(text, len, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

/* Run the loop until the server socket has the query, and read it. */
static ssize_t take_query(sk_loop *l, int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from, socklen_t *fl)
{
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1)
            return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, fl);
        sk_loop_once(l, 10);
    }
    return -1;
}

static void test_answer_through_loop(void **state)
{
    (void)state;
    int err = 0;
    char addr[64];
    int fd = udp_server(addr, sizeof addr);
    sk_loop *l = sk_loop_new(NULL, 0, &err);
    assert_non_null(l);
    sk_resolver_opts o = {.servers = addr, .timeout_ms = 3000};
    sk_resolver *r = sk_resolver_new(l, &o, &err);
    assert_non_null(r);
    char list[128];
    assert_int_equal(sk_resolver_servers(r, list, sizeof list), (int)strlen(addr));
    assert_string_equal(list, addr);

    seen s = {0};
    assert_int_equal(sk_resolver_query(r, "a.example.test", SK_DNS_A, on_result, &s), 0);
    assert_int_equal(sk_resolver_pending(r), 1);
    uint8_t q[512];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = take_query(l, fd, q, sizeof q, &from, &fl);
    assert_true(n > 12);
    assert_int_equal(q[2] & 0x80, 0); /* a query */
    /* The answer: the query with QR and RA set, one A record by pointer. */
    uint8_t resp[600];
    memcpy(resp, q, (size_t)n);
    resp[2] |= 0x80;
    resp[3] = 0x80;
    resp[7] = 1;
    const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 42, 0, 4, 127, 0, 0, 2};
    memcpy(resp + n, rr, sizeof rr);
    assert_int_equal(sendto(fd, resp, (size_t)n + sizeof rr, 0, (struct sockaddr *)&from, fl), n + (ssize_t)sizeof rr);
    for (int i = 0; i < 100 && s.calls == 0; i++)
        sk_loop_once(l, 10);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ttl, 42);
    const uint8_t want[] = {127, 0, 0, 2};
    assert_memory_equal(s.addr, want, 4);
    assert_string_equal(s.server, addr);
    assert_int_equal(sk_resolver_pending(r), 0);

    /* NXDOMAIN: the same query id with rcode 3 and no answer. */
    seen nx = {0};
    assert_int_equal(sk_resolver_query(r, "nosuch.example.test", SK_DNS_A, on_result, &nx), 0);
    fl = sizeof from;
    n = take_query(l, fd, q, sizeof q, &from, &fl);
    assert_true(n > 12);
    q[2] |= 0x80;
    q[3] = 0x83;
    assert_int_equal(sendto(fd, q, (size_t)n, 0, (struct sockaddr *)&from, fl), n);
    for (int i = 0; i < 100 && nx.calls == 0; i++)
        sk_loop_once(l, 10);
    assert_int_equal(nx.calls, 1);
    assert_int_equal(nx.status, SK_ENXDOMAIN);

    /* A query nobody answers is cancelled by free: one callback. */
    seen c = {0};
    assert_int_equal(sk_resolver_query(r, "slow.example.test", SK_DNS_SRV, on_result, &c), 0);
    sk_loop_once(l, 0);
    sk_resolver_free(r);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, -ECANCELED);
    sk_loop_free(l);
    close(fd);
}

static void test_timeout(void **state)
{
    (void)state;
    int err = 0;
    char addr[64];
    int fd = udp_server(addr, sizeof addr); /* never reads */
    sk_loop *l = sk_loop_new(NULL, 0, &err);
    sk_resolver_opts o = {.servers = addr, .timeout_ms = 300};
    sk_resolver *r = sk_resolver_new(l, &o, &err);
    assert_non_null(r);
    seen s = {0};
    int64_t t0 = sk_now_ms();
    assert_int_equal(sk_resolver_query(r, "a.example.test", SK_DNS_A, on_result, &s), 0);
    while (s.calls == 0 && sk_now_ms() - t0 < 5000)
        sk_loop_once(l, -1);
    int64_t took = sk_now_ms() - t0;
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, SK_EDNSTIMEOUT);
    assert_string_equal(s.server, addr);
    assert_true(took >= 280 && took < 1000);
    sk_resolver_free(r);
    sk_loop_free(l);
    close(fd);
}

static void test_errors(void **state)
{
    (void)state;
    int err = 0;
    sk_loop *l = sk_loop_new(NULL, 0, &err);
    sk_resolver_opts bad = {.servers = "not an address"};
    assert_null(sk_resolver_new(l, &bad, &err));
    assert_int_equal(err, -EINVAL);
    const char *bad_lists[] = {"127.0.0.1:99999", "127.0.0.1:0",    "127.0.0.1:", "[::1",      "[::1]x",
                               "::1:53:x",        "127.0.0.1,,::1", "",           "localhost", "1.2.3.4:5a"};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        sk_resolver_opts b = {.servers = bad_lists[i]};
        err = 0;
        assert_null(sk_resolver_new(l, &b, &err));
        assert_int_equal(err, -EINVAL);
    }
    const char *good_lists[] = {"127.0.0.1", "127.0.0.1:5399", "::1", "[::1]:53", "127.0.0.1:53,[::1]:5353"};
    for (size_t i = 0; i < sizeof good_lists / sizeof good_lists[0]; i++) {
        sk_resolver_opts g = {.servers = good_lists[i]};
        sk_resolver *ok = sk_resolver_new(l, &g, &err);
        assert_non_null(ok);
        sk_resolver_free(ok);
    }
    assert_null(sk_resolver_new(NULL, NULL, &err));
    assert_int_equal(err, -EINVAL);
    sk_resolver_opts o = {.servers = "127.0.0.1:9"};
    sk_resolver *r = sk_resolver_new(l, &o, &err);
    assert_non_null(r);
    seen s = {0};
    assert_int_equal(sk_resolver_query(r, "", SK_DNS_A, on_result, &s), -EINVAL);
    assert_int_equal(sk_resolver_query(r, "x", 0, on_result, &s), -EINVAL);
    assert_int_equal(sk_resolver_query(r, "x", SK_DNS_A, NULL, &s), -EINVAL);
    assert_int_equal(s.calls, 0);
    assert_int_equal(sk_resolver_pending(r), 0);
    sk_resolver_free(r);
    sk_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_through_loop),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
