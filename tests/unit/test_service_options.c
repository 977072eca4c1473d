/* Unit tests for the options services declare (service.h): every table is
 * complete and its names unique, and the http service's setters accept and
 * refuse exactly what sockit serve always has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/http.h>
#include <sockit/service.h>

static void test_tables_complete(void **state)
{
    (void)state;
    int total = 0;
    for (const sk_service *const *svc = sk_service_list(); *svc; svc++) {
        for (const sk_service_option *so = (*svc)->options; so && so->name; so++) {
            assert_non_null(so->arg);
            assert_non_null(so->help);
            assert_non_null(so->wants);
            assert_non_null(so->set);
            assert_int_not_equal(strncmp(so->name, "--", 2), 0);
            /* Options fill a configuration, so there must be one. */
            assert_true((*svc)->config_size > 0);
            total++;
        }
    }
    assert_true(total >= 2); /* http's --body-size and --head-timeout */
}

static void test_names_unique(void **state)
{
    (void)state;
    for (const sk_service *const *a = sk_service_list(); *a; a++) {
        for (const sk_service_option *x = (*a)->options; x && x->name; x++) {
            for (const sk_service *const *b = sk_service_list(); *b; b++) {
                for (const sk_service_option *y = (*b)->options; y && y->name; y++) {
                    if (x != y)
                        assert_string_not_equal(x->name, y->name);
                }
            }
        }
    }
}

static const sk_service_option *http_option(const char *name)
{
    const sk_service *http = sk_service_find("http");
    assert_non_null(http);
    for (const sk_service_option *so = http->options; so && so->name; so++) {
        if (strcmp(so->name, name) == 0)
            return so;
    }
    fail_msg("http has no option %s", name);
    return NULL;
}

static sk_http_config http_defaults(void)
{
    const sk_service *http = sk_service_find("http");
    sk_http_config c;
    assert_int_equal(http->config_size, sizeof c);
    memset(&c, 0x5a, sizeof c);
    http->config_init(&c);
    return c;
}

static void test_http_defaults(void **state)
{
    (void)state;
    sk_http_config c = http_defaults();
    assert_int_equal(c.body_size, -1);      /* "hello\n" */
    assert_int_equal(c.head_timeout_ms, 0); /* the 10 s default */
}

static void test_http_body_size(void **state)
{
    (void)state;
    const sk_service_option *so = http_option("body-size");
    sk_http_config c = http_defaults();

    assert_int_equal(so->set(&c, "0"), 0);
    assert_int_equal(c.body_size, 0);
    assert_int_equal(so->set(&c, "1000000"), 0);
    assert_int_equal(c.body_size, 1000000);
    assert_int_equal(so->set(&c, "1099511627776"), 0);
    assert_int_equal(c.body_size, INT64_C(1099511627776));
    static const char *const bad[] = {"1099511627777", "-1", "", "12x", "1.5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(so->set(&c, bad[i]), -EINVAL);
        assert_int_equal(c.body_size, INT64_C(1099511627776)); /* unchanged */
    }
    assert_string_equal(so->wants, "0 to 1099511627776 bytes");
}

static void test_http_head_timeout(void **state)
{
    (void)state;
    const sk_service_option *so = http_option("head-timeout");
    sk_http_config c = http_defaults();

    assert_int_equal(so->set(&c, "1"), 0);
    assert_int_equal(c.head_timeout_ms, 1000);
    assert_int_equal(so->set(&c, "1.5"), 0);
    assert_int_equal(c.head_timeout_ms, 1500);
    assert_int_equal(so->set(&c, "0.0004"), 0); /* rounds to 0 ms: off */
    assert_int_equal(c.head_timeout_ms, -1);
    assert_int_equal(so->set(&c, "0"), 0); /* off, not the default */
    assert_int_equal(c.head_timeout_ms, -1);
    assert_int_equal(so->set(&c, "500ms"), 0); /* units, as every duration option */
    assert_int_equal(c.head_timeout_ms, 500);
    assert_int_equal(so->set(&c, "1m"), 0);
    assert_int_equal(c.head_timeout_ms, 60000);
    assert_int_equal(so->set(&c, "2"), 0);
    static const char *const bad[] = {"-1", "", "soon", "nan", "inf", "10000001", "1e400", "5 s", "3d", "+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(so->set(&c, bad[i]), -EINVAL);
        assert_int_equal(c.head_timeout_ms, 2000); /* unchanged */
    }
    assert_string_equal(so->wants, "a time (10, 500ms, 1m)");
}

static void test_services_without_options(void **state)
{
    (void)state;
    static const char *const plain[] = {"echo", "discard", "chargen", "daytime"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        const sk_service *svc = sk_service_find(plain[i]);
        assert_non_null(svc);
        assert_true(svc->options == NULL || svc->options[0].name == NULL);
        assert_int_equal(svc->config_size, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_complete),   cmocka_unit_test(test_names_unique),
        cmocka_unit_test(test_http_defaults),     cmocka_unit_test(test_http_body_size),
        cmocka_unit_test(test_http_head_timeout), cmocka_unit_test(test_services_without_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
