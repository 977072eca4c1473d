/* Unit tests for address parsing, resolution and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sockit/addr.h>
#include <sockit/error.h>

static void split_ok(const char *text, const char *host, const char *port)
{
    sk_hostport hp;
    assert_int_equal(sk_addr_split(text, &hp), 0);
    assert_string_equal(hp.host, host);
    assert_string_equal(hp.port, port);
}

static void test_split_good(void **state)
{
    (void)state;
    split_ok("127.0.0.1:7007", "127.0.0.1", "7007");
    split_ok("localhost:echo", "localhost", "echo");
    split_ok("[::1]:80", "::1", "80");
    split_ok("[fe80::1%lo]:22", "fe80::1%lo", "22");
    split_ok(":7007", "", "7007");
    split_ok("example.com:http", "example.com", "http");
}

static void test_split_bad(void **state)
{
    sk_hostport hp;
    (void)state;
    assert_int_equal(sk_addr_split("", &hp), SK_EADDRSYNTAX);
    assert_int_equal(sk_addr_split(NULL, &hp), SK_EADDRSYNTAX);
    assert_int_equal(sk_addr_split("localhost", &hp), SK_ENOPORT);
    assert_int_equal(sk_addr_split("localhost:", &hp), SK_ENOPORT);
    assert_int_equal(sk_addr_split("::1", &hp), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_split("::1:80", &hp), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_split("fe80::1", &hp), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_split("[::1]", &hp), SK_ENOPORT);
    assert_int_equal(sk_addr_split("[::1]80", &hp), SK_EADDRSYNTAX);
    assert_int_equal(sk_addr_split("[::1:80", &hp), SK_EADDRSYNTAX);
    assert_int_equal(sk_addr_split("[]:80", &hp), SK_EADDRSYNTAX);
    assert_int_equal(sk_addr_split("[1.2.3.4]:80", &hp), SK_EADDRSYNTAX);
    assert_int_equal(sk_addr_split("a b:80", &hp), SK_EADDRSYNTAX);
    /* Each mistake gets its own code, so the message names it. */
    assert_int_equal(sk_addr_split("http://127.0.0.1:7102/", &hp), SK_EADDRURL);
    assert_int_equal(sk_addr_split("tcp://[::1]:80", &hp), SK_EADDRURL);
    assert_int_equal(sk_addr_split("127.0.0.1:1:1", &hp), SK_EADDRCOLONS);
    assert_int_equal(sk_addr_split("localhost:80:80", &hp), SK_EADDRCOLONS);
    assert_int_equal(sk_addr_split("2001:db8:1:2:3:4:5:6", &hp), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_split("2001:db8:1:2:3:4:5:6:80", &hp), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_split("fe80::1%lo:80", &hp), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_split("7007", &hp), SK_EPORTONLY);
    assert_int_equal(sk_addr_split("0", &hp), SK_EPORTONLY);
    char longhost[400];
    memset(longhost, 'a', sizeof longhost);
    strcpy(longhost + 300, ":80");
    assert_int_equal(sk_addr_split(longhost, &hp), SK_EADDRSYNTAX);
}

static void test_port_lookup(void **state)
{
    (void)state;
    assert_int_equal(sk_port_lookup("0", "tcp"), 0);
    assert_int_equal(sk_port_lookup("7007", "tcp"), 7007);
    assert_int_equal(sk_port_lookup("65535", "tcp"), 65535);
    assert_int_equal(sk_port_lookup("65536", "tcp"), SK_EBADPORT);
    assert_int_equal(sk_port_lookup("99999999999999999999", "tcp"), SK_EBADPORT);
    assert_int_equal(sk_port_lookup("12ab", "tcp"), SK_EADDRSYNTAX);
    assert_int_equal(sk_port_lookup("echo", "tcp"), 7);
    assert_int_equal(sk_port_lookup("http", "tcp"), 80);
    assert_int_equal(sk_port_lookup("daytime", "udp"), 13);
    assert_int_equal(sk_port_lookup("no-such-service", "tcp"), SK_ENOSERVICE);
    assert_int_equal(sk_port_lookup("", "tcp"), SK_ENOPORT);
    assert_int_equal(sk_port_lookup("-1", "tcp"), SK_EBADPORT);
    assert_int_equal(sk_port_lookup("+80", "tcp"), SK_EBADPORT);
}

static void test_resolve_numeric(void **state)
{
    sk_addr a[4];
    char buf[SK_ADDRSTRLEN];
    (void)state;

    assert_int_equal(sk_addr_resolve("127.0.0.1:echo", SOCK_STREAM, 0, a, 4), 1);
    assert_string_equal(sk_addr_format((struct sockaddr *)&a[0].ss, buf, sizeof buf), "127.0.0.1:7");
    assert_int_equal(sk_addr_port((struct sockaddr *)&a[0].ss), 7);

    assert_int_equal(sk_addr_resolve("[::1]:8080", SOCK_STREAM, 0, a, 4), 1);
    assert_string_equal(sk_addr_format((struct sockaddr *)&a[0].ss, buf, sizeof buf), "[::1]:8080");

    assert_int_equal(sk_addr_resolve("[::1]:80", SOCK_STREAM, SK_RESOLVE_V4ONLY, a, 4), SK_ENOADDR);
    assert_int_equal(sk_addr_resolve("127.0.0.1:x-no-service", SOCK_STREAM, 0, a, 4), SK_ENOSERVICE);
    assert_int_equal(sk_addr_resolve("::1", SOCK_STREAM, 0, a, 4), SK_EV6NOBRACKET);
    assert_int_equal(sk_addr_resolve("name.invalid:80", SOCK_STREAM, SK_RESOLVE_NUMERIC, a, 4), SK_ENONAME);
}

static void test_resolve_passive_and_all(void **state)
{
    sk_addr a[8];
    char buf[SK_ADDRSTRLEN];
    (void)state;

    /* ":port" for a listener is the wildcard of each family. */
    int n = sk_addr_resolve(":7007", SOCK_STREAM, SK_RESOLVE_PASSIVE, a, 8);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        sk_addr_format((struct sockaddr *)&a[i].ss, buf, sizeof buf);
        assert_true(strcmp(buf, "0.0.0.0:7007") == 0 || strcmp(buf, "[::]:7007") == 0);
    }
    /* For a client it is loopback. */
    n = sk_addr_resolve(":7007", SOCK_STREAM, SK_RESOLVE_V4ONLY, a, 8);
    assert_int_equal(n, 1);
    assert_string_equal(sk_addr_format((struct sockaddr *)&a[0].ss, buf, sizeof buf), "127.0.0.1:7007");
    /* max bounds the count. */
    assert_int_equal(sk_addr_resolve("127.0.0.1:1", SOCK_STREAM, 0, a, 0), -EINVAL);
}

static void test_format(void **state)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(7), .sin6_scope_id = 2};
    struct sockaddr sa = {.sa_family = AF_UNIX};
    char buf[SK_ADDRSTRLEN], tiny[6];
    (void)state;

    inet_pton(AF_INET6, "fe80::1", &s6.sin6_addr);
    assert_string_equal(sk_addr_format((struct sockaddr *)&s6, buf, sizeof buf), "[fe80::1%2]:7");
    assert_string_equal(sk_addr_format(&sa, buf, sizeof buf), "(family 1)");
    /* Truncates, never overflows. */
    sk_addr_format((struct sockaddr *)&s6, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 5);
    assert_int_equal(sk_addr_port(&sa), -1);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_non_null(strstr(sk_strerror(SK_EV6NOBRACKET), "brackets"));
    assert_string_equal(sk_strerror(-ECONNREFUSED), "Connection refused");
    assert_non_null(sk_strerror(SK_EBASE));
    assert_non_null(sk_strerror(12345));
}

static bool in_block(const char *block, const char *ip)
{
    sk_cidr c;
    sk_addr a;
    char text[80];
    assert_int_equal(sk_cidr_parse(block, &c), 0);
    snprintf(text, sizeof text, strchr(ip, ':') ? "[%s]:1" : "%s:1", ip);
    assert_true(sk_addr_resolve(text, SOCK_STREAM, SK_RESOLVE_NUMERIC, &a, 1) == 1);
    return sk_cidr_match(&c, (struct sockaddr *)&a.ss);
}

static void test_cidr(void **state)
{
    (void)state;
    sk_cidr c;
    assert_true(in_block("198.18.0.0/15", "198.19.255.255"));
    assert_false(in_block("198.18.0.0/15", "198.20.0.0"));
    assert_true(in_block("10.1.2.3/8", "10.200.0.1")); /* host bits cleared */
    assert_true(in_block("127.0.0.1", "127.0.0.1"));
    assert_false(in_block("127.0.0.1", "127.0.0.2"));
    assert_true(in_block("0.0.0.0/0", "8.8.8.8"));
    assert_true(in_block("fd00:5ec::/64", "fd00:5ec::42"));
    assert_false(in_block("fd00:5ec::/64", "fd00:5ec:0:1::1"));
    assert_true(in_block("127.0.0.0/8", "::ffff:127.0.0.1")); /* mapped is IPv4 */
    assert_false(in_block("::1", "127.0.0.1"));
    assert_true(in_block("::/0", "::1"));
    assert_true(in_block("198.18.0.0/13", "198.23.1.1")); /* a partial byte */
    assert_false(in_block("198.18.0.0/13", "198.24.1.1"));
    const char *bad[] = {"", "1.2.3", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "a/8", "10.0.0.0/-1", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(sk_cidr_parse(bad[i], &c), SK_EADDRSYNTAX);
    assert_int_equal(sk_cidr_parse(NULL, &c), SK_EADDRSYNTAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_split_good),
        cmocka_unit_test(test_split_bad),
        cmocka_unit_test(test_port_lookup),
        cmocka_unit_test(test_resolve_numeric),
        cmocka_unit_test(test_resolve_passive_and_all),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
