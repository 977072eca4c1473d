/* Unit tests for the parser of the sock:inet_sock_set_state tracepoint's
 * trace_pipe lines (the format the kernel prints, as in its event's
 * "print fmt"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <sockit/addr.h>
#include <sockit/tcpinfo.h>

#include "diag/tcpstate_int.h"

static void test_ipv4(void **state)
{
    (void)state;
    sk_state_change c;
    const char *line = "          <idle>-0       [001] ..s2. 22571.123456: inet_sock_set_state: family=AF_INET "
                       "protocol=IPPROTO_TCP sport=44669 dport=54552 saddr=127.0.0.1 daddr=127.0.0.2 "
                       "saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 oldstate=TCP_FIN_WAIT1 "
                       "newstate=TCP_CLOSING";
    assert_true(sk__tcpstate_parse(line, &c));
    assert_int_equal(c.at_us, INT64_C(22571123456));
    assert_string_equal(sk_tcp_state_name(c.from), "FIN_WAIT1");
    assert_string_equal(sk_tcp_state_name(c.to), "CLOSING");
    char a[SK_ADDRSTRLEN], b[SK_ADDRSTRLEN];
    sk_addr_format((const struct sockaddr *)&c.local.ss, a, sizeof a);
    sk_addr_format((const struct sockaddr *)&c.peer.ss, b, sizeof b);
    assert_string_equal(a, "127.0.0.1:44669");
    assert_string_equal(b, "127.0.0.2:54552");
}

static void test_ipv6_and_short_fraction(void **state)
{
    (void)state;
    sk_state_change c;
    /* A clock printing fewer digits after the point still means seconds. */
    const char *line = "sockit-123 [000] ..... 7.5: inet_sock_set_state: family=AF_INET6 protocol=IPPROTO_TCP "
                       "sport=80 dport=40000 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=fd00:5ec::1 daddrv6=fd00:5ec::2 "
                       "oldstate=TCP_ESTABLISHED newstate=TCP_CLOSE_WAIT";
    assert_true(sk__tcpstate_parse(line, &c));
    assert_int_equal(c.at_us, INT64_C(7500000));
    assert_int_equal(c.local.ss.ss_family, AF_INET6);
    char a[SK_ADDRSTRLEN];
    sk_addr_format((const struct sockaddr *)&c.peer.ss, a, sizeof a);
    assert_string_equal(a, "[fd00:5ec::2]:40000");
    assert_string_equal(sk_tcp_state_name(c.to), "CLOSE_WAIT");
}

static void test_rejects(void **state)
{
    (void)state;
    sk_state_change c;
    /* Another event, a truncated line, an unknown state, a bad address. */
    assert_false(sk__tcpstate_parse("  x-1 [000] ..... 1.000001: sock_rcvqueue_full: rmem_alloc=1", &c));
    assert_false(sk__tcpstate_parse("  x-1 [000] ..... 1.000001: inet_sock_set_state: family=AF_INET sport=1", &c));
    assert_false(sk__tcpstate_parse("x 1.0: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=1 dport=2 "
                                    "saddr=127.0.0.1 daddr=127.0.0.1 saddrv6=::1 daddrv6=::1 "
                                    "oldstate=TCP_BOGUS newstate=TCP_CLOSE",
                                    &c));
    assert_false(sk__tcpstate_parse("x 1.0: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=1 dport=2 "
                                    "saddr=327.0.0.1 daddr=127.0.0.1 saddrv6=::1 daddrv6=::1 "
                                    "oldstate=TCP_CLOSE newstate=TCP_LISTEN",
                                    &c));
    assert_false(sk__tcpstate_parse("", &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6_and_short_fraction),
        cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
