/* Unit tests for the mDNS API's checks: DNS-SD names split into instance
 * and type, and the errors the querier and responder give before any
 * packet is sent (bad types, unknown interfaces, bad TXT strings). The
 * traffic itself is tested on namespace LANs (t_mdns_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <sockit/error.h>
#include <sockit/mdns.h>

static void test_name_split(void **state)
{
    (void)state;
    char inst[64], type[256];
    assert_int_equal(sk_mdns_name_split("_echo._tcp", inst, sizeof inst, type, sizeof type), 0);
    assert_string_equal(inst, "");
    assert_string_equal(type, "_echo._tcp");
    assert_int_equal(sk_mdns_name_split("_http._tcp.local.", inst, sizeof inst, type, sizeof type), 0);
    assert_string_equal(type, "_http._tcp");
    assert_int_equal(sk_mdns_name_split("zc echo._echo._udp.local", inst, sizeof inst, type, sizeof type), 0);
    assert_string_equal(inst, "zc echo");
    assert_string_equal(type, "_echo._udp");
    assert_int_equal(sk_mdns_name_split("a\\.b._echo._tcp", inst, sizeof inst, type, sizeof type), 0);
    assert_string_equal(inst, "a.b");
    assert_int_equal(sk_mdns_name_split("echo", inst, sizeof inst, type, sizeof type), -EINVAL);
    assert_int_equal(sk_mdns_name_split("_echo._sctp", inst, sizeof inst, type, sizeof type), -EINVAL);
    assert_int_equal(sk_mdns_name_split("x._echo._tcp.example.com", inst, sizeof inst, type, sizeof type), -EINVAL);
    assert_int_equal(sk_mdns_name_split("", inst, sizeof inst, type, sizeof type), -EINVAL);
}

static void test_errors_before_sending(void **state)
{
    (void)state;
    sk_mdns_browser *b = NULL;
    sk_mdns_browse_opts bo = {.type = "echo"};
    assert_int_equal(sk_mdns_browser_new(&bo, &b), -EINVAL);
    assert_null(b);
    bo = (sk_mdns_browse_opts){.type = "_echo._tcp", .ifname = "no-such-if0"};
    assert_int_equal(sk_mdns_browser_new(&bo, &b), -ENODEV);

    sk_mdns_responder *r = NULL;
    sk_mdns_responder_opts ro = {.instance = "x", .type = "_echo._tcp", .port = 7, .ifname = "no-such-if0"};
    assert_int_equal(sk_mdns_responder_start(&ro, &r), -ENODEV);
    assert_null(r);
    ro.ifname = NULL;
    ro.type = "_echo";
    assert_int_equal(sk_mdns_responder_start(&ro, &r), -EINVAL);
    ro.type = "_echo._tcp";
    ro.port = 0;
    assert_int_equal(sk_mdns_responder_start(&ro, &r), -EINVAL);
    ro.port = 7;
    char long_name[80];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    ro.instance = long_name;
    assert_int_equal(sk_mdns_responder_start(&ro, &r), -EINVAL);
    ro.instance = "x";
    const char *bad_txt[] = {"=novalue", NULL};
    ro.txt = bad_txt;
    assert_int_equal(sk_mdns_responder_start(&ro, &r), -EINVAL);
    assert_null(r);
    sk_mdns_responder_stop(NULL);
    sk_mdns_responder_withdraw(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_split),
        cmocka_unit_test(test_errors_before_sending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
