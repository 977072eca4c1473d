/* Unit tests for sk_dial, sk_dial_addrs and sk_lookup against real
 * listeners on loopback, and for sk_srv_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/dial.h>
#include <sockit/error.h>
#include <sockit/sock.h>

static sk_addr v4(uint16_t port)
{
    sk_addr a = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A listener on 127.0.0.1, port chosen by the kernel. */
static int listener(uint16_t *port)
{
    sk_addr a = v4(0);
    int fd = sk_tcp_listen(&a, 8, 0);
    assert_true(fd >= 0);
    socklen_t len = sizeof a.ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a.ss, &len), 0);
    *port = ntohs(((struct sockaddr_in *)&a.ss)->sin_port);
    return fd;
}

/* A port with nothing behind it: bound, never listening. */
static int closed_port(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sk_addr a = v4(0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a.ss, a.len), 0);
    socklen_t len = sizeof a.ss;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a.ss, &len), 0);
    *port = ntohs(((struct sockaddr_in *)&a.ss)->sin_port);
    return fd;
}

typedef struct steps {
    int starts, fails, wins;
} steps;

static void count(void *ud, const sk_dial_event *ev)
{
    steps *s = ud;
    s->starts += ev->kind == SK_DIAL_START;
    s->fails += ev->kind == SK_DIAL_FAIL;
    s->wins += ev->kind == SK_DIAL_WON;
}

static void test_refused_then_live(void **state)
{
    (void)state;
    uint16_t live, dead;
    int lfd = listener(&live), dfd = closed_port(&dead);
    sk_addr addrs[2] = {v4(dead), v4(live)}, peer;
    steps s = {0};
    sk_dial_opts o = {.on_event = count, .userdata = &s};

    /* The refusal starts the next attempt at once, not after 250 ms. */
    int64_t t0 = sk_now_ms();
    int fd = sk_dial_addrs(addrs, 2, &o, &peer);
    assert_true(fd >= 0);
    assert_true(sk_now_ms() - t0 < 200);
    assert_int_equal(sk_addr_port((struct sockaddr *)&peer.ss), live);
    assert_int_equal(s.starts, 2);
    assert_int_equal(s.fails, 1);
    assert_int_equal(s.wins, 1);
    close(fd);

    /* Only the dead one: its error comes back, peer names it. */
    fd = sk_dial_addrs(addrs, 1, NULL, &peer);
    assert_int_equal(fd, -ECONNREFUSED);
    assert_int_equal(sk_addr_port((struct sockaddr *)&peer.ss), dead);
    close(lfd);
    close(dfd);
}

static void test_numeric_and_empty(void **state)
{
    (void)state;
    uint16_t live;
    int lfd = listener(&live);
    sk_addr peer;

    int fd = sk_dial("127.0.0.1", live, NULL, &peer);
    assert_true(fd >= 0);
    close(fd);
    /* "" is loopback: ::1 first (refused, the listener is IPv4), then 127.0.0.1. */
    fd = sk_dial("", live, NULL, &peer);
    assert_true(fd >= 0);
    assert_int_equal(peer.ss.ss_family, AF_INET);
    close(fd);
    /* An IPv4 literal with IPv6 only asked for has no address. */
    sk_dial_opts o6 = {.family = AF_INET6};
    assert_int_equal(sk_dial("127.0.0.1", live, &o6, &peer), SK_ENOADDR);
    close(lfd);
}

static void test_lookup(void **state)
{
    (void)state;
    sk_addr out[8];
    int n = sk_lookup("localhost", 7, NULL, out, 8);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(sk_addr_port((struct sockaddr *)&out[i].ss), 7);
    sk_dial_opts o4 = {.family = AF_INET};
    n = sk_lookup("localhost", 9, &o4, out, 8);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(out[i].ss.ss_family, AF_INET);
    assert_int_equal(sk_lookup("x", 1, NULL, out, 0), -EINVAL);
    assert_int_equal(sk_lookup(NULL, 1, NULL, out, 8), -EINVAL);
}

static void test_srv_name(void **state)
{
    (void)state;
    const char *n = NULL;
    assert_true(sk_srv_name("srv:_echo._tcp.example.test", &n));
    assert_string_equal(n, "_echo._tcp.example.test");
    assert_true(sk_srv_name("_http._tcp.example.test", &n));
    assert_string_equal(n, "_http._tcp.example.test");
    assert_false(sk_srv_name("example.test:80", &n));
    assert_false(sk_srv_name("_echo.example.test", &n));
    assert_false(sk_srv_name("_a._b:7", &n));
    assert_false(sk_srv_name(NULL, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_then_live),
        cmocka_unit_test(test_numeric_and_empty),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_srv_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
