/* Unit tests for the UDP helpers (group parsing, multicast checks, socket
 * options) and the UDP server path driven through the public server API on
 * loopback: echo and daytime replies, stop with sk_server_stop(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/addr.h>
#include <sockit/error.h>
#include <sockit/server.h>
#include <sockit/udp.h>

static void test_group_family(void **state)
{
    (void)state;
    assert_int_equal(sk_udp_group_family("239.1.2.3"), AF_INET);
    assert_int_equal(sk_udp_group_family("ff02::1"), AF_INET6);
    assert_int_equal(sk_udp_group_family("239.1.2.3@lo"), AF_INET);
    /* An unknown interface still tells the family; joining then says ENODEV. */
    assert_int_equal(sk_udp_group_family("ff02::1@nosuchif0"), AF_INET6);
    assert_int_equal(sk_udp_group_family("example.com"), SK_EADDRSYNTAX);
    assert_int_equal(sk_udp_group_family(""), SK_EADDRSYNTAX);
    assert_int_equal(sk_udp_group_family("@lo"), SK_EADDRSYNTAX);
}

static void test_is_multicast(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct sockaddr_in6 b = {.sin6_family = AF_INET6};
    (void)state;
    inet_pton(AF_INET, "224.0.0.1", &a.sin_addr);
    assert_true(sk_addr_is_multicast((struct sockaddr *)&a));
    inet_pton(AF_INET, "255.255.255.255", &a.sin_addr);
    assert_true(sk_addr_is_multicast((struct sockaddr *)&a));
    inet_pton(AF_INET, "198.18.0.1", &a.sin_addr);
    assert_false(sk_addr_is_multicast((struct sockaddr *)&a));
    inet_pton(AF_INET6, "ff12::5ec", &b.sin6_addr);
    assert_true(sk_addr_is_multicast((struct sockaddr *)&b));
    inet_pton(AF_INET6, "::1", &b.sin6_addr);
    assert_false(sk_addr_is_multicast((struct sockaddr *)&b));
}

static void test_join_errors(void **state)
{
    sk_addr a;
    (void)state;
    assert_int_equal(sk_addr_resolve("127.0.0.1:0", SOCK_DGRAM, SK_RESOLVE_NUMERIC, &a, 1), 1);
    int fd = sk_udp_socket(&a, SK_UDP_BIND);
    assert_true(fd >= 0);
    assert_int_equal(sk_udp_group_check("239.1.2.3"), AF_INET);
    assert_int_equal(sk_udp_group_check("ff02::1234@lo"), AF_INET6);
    assert_int_equal(sk_udp_group_check("198.18.0.1"), SK_ENOTGROUP);
    assert_int_equal(sk_udp_group_check("255.255.255.255"), SK_ENOTGROUP);
    assert_int_equal(sk_udp_group_check("198.18.0.1@nosuchif0"), SK_ENOTGROUP);
    assert_int_equal(sk_udp_group_check("239.1.2.3@nosuchif0"), -ENODEV);
    assert_int_equal(sk_udp_group_check("not-an-address"), SK_EADDRSYNTAX);
    assert_int_equal(sk_udp_group_check("@lo"), SK_EADDRSYNTAX);
    assert_int_equal(sk_udp_join(fd, AF_INET, "198.18.0.1"), -EINVAL);
    assert_int_equal(sk_udp_join(fd, AF_INET, "255.255.255.255"), -EINVAL);
    assert_int_equal(sk_udp_join(fd, AF_INET, "ff02::1"), -EAFNOSUPPORT);
    assert_int_equal(sk_udp_join(fd, AF_INET, "239.1.2.3@nosuchif0"), -ENODEV);
    assert_int_equal(sk_udp_join(fd, AF_INET, "239.1.2.3@lo"), AF_INET);
    assert_int_equal(sk_udp_set_broadcast(fd, true), 0);
    assert_int_equal(sk_udp_set_multicast_ttl(fd, AF_INET, 4), 0);
    assert_int_equal(sk_udp_set_multicast_ttl(fd, AF_INET, 256), -EINVAL);
    assert_int_equal(sk_udp_set_multicast_if(fd, AF_INET, "lo"), 0);
    assert_int_equal(sk_udp_set_multicast_if(fd, AF_INET, "nosuchif0"), -ENODEV);
    close(fd);
}

static void *serve(void *arg)
{
    sk_server *s = arg;
    intptr_t rc = sk_server_run(s);
    return (void *)rc;
}

/* Send one datagram to the server and wait for its reply. */
static ssize_t ask(const sk_addr *to, const void *req, size_t len, char *reply, size_t cap)
{
    int fd = socket(to->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)&to->ss, to->len), 0);
    assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n = -1;
    if (poll(&p, 1, 5000) == 1)
        n = recv(fd, reply, cap, 0);
    close(fd);
    return n;
}

static void run_server(const char *service, sk_model model, const char *req, size_t len, char *reply, size_t cap,
                       ssize_t *got)
{
    sk_server_config cfg = {
        .service = sk_service_find(service),
        .listen = "127.0.0.1:0",
        .model = model,
        .workers = 2,
        .proto = SK_PROTO_UDP,
    };
    sk_server *s;
    pthread_t t;
    void *rc;

    assert_int_equal(sk_server_open(&cfg, &s), 0);
    assert_true(pthread_create(&t, NULL, serve, s) == 0);
    *got = ask(sk_server_address(s), req, len, reply, cap);
    sk_server_stop(s);
    pthread_join(t, &rc);
    assert_int_equal((intptr_t)rc, 0);
    sk_stats st;
    sk_server_stats(s, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.bytes_in, len);
    sk_server_free(s);
}

static void test_server_echo(void **state)
{
    char reply[128];
    ssize_t n;
    (void)state;
    run_server("echo", SK_MODEL_LOOP, "ping\n", 5, reply, sizeof reply, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(reply, "ping\n", 5);
    /* An empty request gets an empty reply. */
    run_server("echo", SK_MODEL_HYBRID, "", 0, reply, sizeof reply, &n);
    assert_int_equal(n, 0);
}

static void test_server_daytime(void **state)
{
    char reply[128];
    ssize_t n;
    (void)state;
    run_server("daytime", SK_MODEL_LOOP, "x", 1, reply, sizeof reply, &n);
    assert_true(n > 20);
    assert_memory_equal(reply + n - 2, "\r\n", 2);
}

/* A service that answers each datagram with the address it came from, as
 * a discovery responder must know it. */
static int peer_datagram(const sk_datagram *d, void *reply, size_t cap, const void *config)
{
    (void)config;
    char *out = reply;
    if (d->to_group || sk_addr_format(d->peer, out, cap) == NULL)
        return -1;
    return (int)strlen(out);
}

static void test_server_datagram_peer(void **state)
{
    (void)state;
    static const sk_service peer_svc = {.name = "peer", .on_datagram = peer_datagram};
    sk_model models[] = {SK_MODEL_LOOP, SK_MODEL_HYBRID};
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        sk_server_config cfg = {
            .service = &peer_svc, .listen = "127.0.0.1:0", .model = models[m], .workers = 2, .proto = SK_PROTO_UDP};
        sk_server *s;
        pthread_t t;
        void *rc;
        assert_int_equal(sk_server_open(&cfg, &s), 0);
        assert_true(pthread_create(&t, NULL, serve, s) == 0);

        const sk_addr *to = sk_server_address(s);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (const struct sockaddr *)&to->ss, to->len), 0);
        struct sockaddr_storage me;
        socklen_t melen = sizeof me;
        assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &melen), 0);
        char want[64], got[64] = {0};
        sk_addr_format((struct sockaddr *)&me, want, sizeof want);
        assert_int_equal(send(fd, "who", 3, 0), 3);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 5000), 1);
        ssize_t n = recv(fd, got, sizeof got - 1, 0);
        close(fd);
        assert_int_equal(n, (ssize_t)strlen(want));
        assert_string_equal(got, want);

        sk_server_stop(s);
        pthread_join(t, &rc);
        assert_int_equal((intptr_t)rc, 0);
        sk_server_free(s);
    }
}

static void test_server_refuses(void **state)
{
    sk_server *s;
    sk_server_config cfg = {.service = sk_service_find("chargen"), .listen = "127.0.0.1:0", .proto = SK_PROTO_UDP};
    (void)state;
    assert_int_equal(sk_server_open(&cfg, &s), -EPROTONOSUPPORT);
    cfg.service = sk_service_find("echo");
    cfg.model = SK_MODEL_FORK;
    assert_int_equal(sk_server_open(&cfg, &s), 0);
    assert_int_equal(sk_server_run(s), -ENOTSUP);
    sk_server_free(s);
    const char *groups[] = {"ff02::1", NULL};
    cfg.model = SK_MODEL_LOOP;
    cfg.joins = groups; /* IPv6 group, IPv4-only server */
    assert_int_equal(sk_server_open(&cfg, &s), -EAFNOSUPPORT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_family),         cmocka_unit_test(test_is_multicast),
        cmocka_unit_test(test_join_errors),          cmocka_unit_test(test_server_echo),
        cmocka_unit_test(test_server_daytime),       cmocka_unit_test(test_server_refuses),
        cmocka_unit_test(test_server_datagram_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
