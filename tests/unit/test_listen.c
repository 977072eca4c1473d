/* Unit tests for the listeners (src/server/listen.c) through the public
 * server API: with port 0, every family of a dual-stack name gets the same
 * port, for TCP and UDP, and each listener really accepts on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/addr.h>
#include <sockit/server.h>
#include <sockit/sock.h>

/* The wildcard gives both families; connect to each on loopback. */
static void check_same_port(sk_proto proto, sk_model model)
{
    sk_server_config cfg = {.service = sk_service_find("echo"), .listen = ":0", .proto = proto, .model = model};
    sk_server *s;
    int n;

    assert_int_equal(sk_server_open(&cfg, &s), 0);
    const sk_addr *a = sk_server_addresses(s, &n);
    assert_int_equal(n, 2);
    int port = sk_addr_port((const struct sockaddr *)&a[0].ss);
    assert_true(port > 0);
    assert_int_equal(sk_addr_port((const struct sockaddr *)&a[1].ss), port);
    assert_int_not_equal(a[0].ss.ss_family, a[1].ss.ss_family);
    assert_ptr_equal(sk_server_address(s), &a[0]);

    if (proto == SK_PROTO_TCP) {
        const char *loop[] = {"127.0.0.1", "[::1]"};
        for (int i = 0; i < 2; i++) {
            char text[64];
            sk_addr to;
            snprintf(text, sizeof text, "%s:%d", loop[i], port);
            assert_int_equal(sk_addr_resolve(text, SOCK_STREAM, 0, &to, 1), 1);
            /* The listener is not being served: the kernel completes the
             * handshake into its backlog all the same. */
            int fd = sk_tcp_connect(&to, 1, 2000, NULL);
            assert_true(fd >= 0);
            close(fd);
        }
    }
    sk_server_free(s);
}

static void test_tcp_same_port(void **state)
{
    (void)state;
    check_same_port(SK_PROTO_TCP, SK_MODEL_LOOP);
    check_same_port(SK_PROTO_TCP, SK_MODEL_HYBRID);
}

static void test_udp_same_port(void **state)
{
    (void)state;
    check_same_port(SK_PROTO_UDP, SK_MODEL_LOOP);
}

/* A fixed port is kept as given. */
static void test_fixed_port(void **state)
{
    (void)state;
    sk_server_config cfg = {.service = sk_service_find("echo"), .listen = "127.0.0.1:0"};
    sk_server *s, *t;
    int n;
    char text[64];

    assert_int_equal(sk_server_open(&cfg, &s), 0);
    int port = sk_addr_port((const struct sockaddr *)&sk_server_address(s)->ss);
    snprintf(text, sizeof text, "127.0.0.1:%d", port);
    cfg.listen = text;
    /* Taken: the error, not another port. */
    assert_int_equal(sk_server_open(&cfg, &t), -EADDRINUSE);
    sk_server_free(s);
    assert_int_equal(sk_server_open(&cfg, &t), 0);
    sk_server_addresses(t, &n);
    assert_int_equal(n, 1);
    assert_int_equal(sk_addr_port((const struct sockaddr *)&sk_server_address(t)->ss), port);
    sk_server_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_same_port),
        cmocka_unit_test(test_udp_same_port),
        cmocka_unit_test(test_fixed_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
