/* Unit tests for the etcd client's pure parts: base64, etcd:// URLs,
 * instance values, and the gateway's bodies and answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/error.h>
#include <sockit/etcd.h>

#include "client/etcd_int.h"
#include "codec/base64.h"

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10. */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[64], back[64];
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(sk__base64_encode(plain[i], strlen(plain[i]), out, sizeof out), strlen(coded[i]));
        assert_string_equal(out, coded[i]);
        assert_int_equal(sk__base64_decode(coded[i], strlen(coded[i]), back, sizeof back), strlen(plain[i]));
        assert_string_equal(back, plain[i]);
    }
    /* Every byte value, both ways. */
    unsigned char all[256], dec[256];
    char text[SK_BASE64_LEN(256) + 1];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    assert_int_equal(sk__base64_encode(all, 256, text, sizeof text), SK_BASE64_LEN(256));
    assert_int_equal(sk__base64_decode(text, strlen(text), dec, sizeof dec), 256);
    assert_memory_equal(all, dec, 256);
    /* Room: the NUL counts when encoding, not when decoding. */
    assert_int_equal(sk__base64_encode("foo", 3, out, 4), -ENOSPC);
    assert_string_equal(out, "");
    assert_int_equal(sk__base64_decode("Zm9v", 4, back, 2), -ENOSPC);
    assert_int_equal(sk__base64_decode("Zm9v", 4, back, 3), 3);
    /* Not base64: length, alphabet, padding in the middle, leftover bits. */
    assert_int_equal(sk__base64_decode("Zm9", 3, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Zm9*", 4, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Zg==Zm9v", 8, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Z===", 4, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Zm=v", 4, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Zh==", 4, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Zm9=", 4, back, sizeof back), -EINVAL);
    assert_int_equal(sk__base64_decode("Zm 9", 4, back, sizeof back), -EINVAL);
}

static void test_url(void **state)
{
    (void)state;
    sk_etcd_url u;
    assert_int_equal(sk_etcd_url_parse("etcd://127.0.0.1:2380/svc", &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.port, "2380");
    assert_string_equal(u.prefix, "/svc/");
    assert_int_equal(sk_etcd_url_parse("ETCD://example.test/a/b/", &u), 0);
    assert_string_equal(u.host, "example.test");
    assert_string_equal(u.port, "2379");
    assert_string_equal(u.prefix, "/a/b/");
    assert_int_equal(sk_etcd_url_parse("etcd://[::1]:7/svc", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.port, "7");
    assert_int_equal(sk_etcd_url_parse("etcd://[::1]", &u), 0);
    assert_string_equal(u.port, "2379");
    assert_string_equal(u.prefix, "/");
    assert_int_equal(sk_etcd_url_parse("etcd://h:1//", &u), 0);
    assert_string_equal(u.prefix, "/");
    assert_int_equal(sk_etcd_url_parse("etcd://h:65535/x", &u), 0);
    static const char *const bad[] = {
        NULL,
        "",
        "http://h:1/x",
        "etcd://",
        "etcd:///svc",
        "etcd://:2379/svc",
        "etcd://h:/x",
        "etcd://h:0/x",
        "etcd://h:65536/x",
        "etcd://h:12a/x",
        "etcd://[::1/x",
        "etcd://[]:1/x",
        "etcd://[1.2.3.4]:1/x",
        "etcd://[::1]x/y",
        "etcd://u@h/x",
        "etcd://h/x?y",
        "etcd://h/x#y",
        "etcd://h/a b",
        "etcd://::1/x",
        "etcd://h:123456/x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sk_etcd_url_parse(bad[i], &u), -EINVAL);
    char longp[600] = "etcd://h/";
    memset(longp + 9, 'a', 520);
    longp[529] = '\0';
    assert_int_equal(sk_etcd_url_parse(longp, &u), -EINVAL);
}

static void test_value(void **state)
{
    (void)state;
    char v[256];
    sk_etcd_instance in;
    int n = sk_etcd_value_format(v, sizeof v, "127.0.0.1:7001", "echo", "loop", 3, 42);
    assert_true(n > 0);
    assert_string_equal(
        v, "{\"addr\":\"127.0.0.1:7001\",\"model\":\"loop\",\"pid\":42,\"service\":\"echo\",\"weight\":3}");
    memset(&in, 0, sizeof in);
    assert_int_equal(sk_etcd_value_parse(v, strlen(v), &in), 0);
    assert_string_equal(in.host, "127.0.0.1");
    assert_int_equal(in.port, 7001);
    assert_int_equal(in.weight, 3);
    assert_string_equal(in.model, "loop");
    assert_string_equal(in.service, "echo");
    assert_int_equal(in.pid, 42);
    assert_int_equal(sk_etcd_value_format(v, 10, "127.0.0.1:7001", NULL, NULL, 1, 0), -ENOSPC);
    assert_int_equal(sk_etcd_value_format(v, sizeof v, "h:1", NULL, NULL, 65536, 0), -EINVAL);
    /* IPv6, weight absent (1), unknown members ignored. */
    const char *j = "{\"addr\":\"[::1]:9\",\"zone\":\"b\"}";
    assert_int_equal(sk_etcd_value_parse(j, strlen(j), &in), 0);
    assert_string_equal(in.host, "::1");
    assert_int_equal(in.port, 9);
    assert_int_equal(in.weight, 1);
    assert_string_equal(in.model, "");
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"addr\":7}",
        "{\"addr\":\"h\"}",
        "{\"addr\":\":7\"}",
        "{\"addr\":\"h:echo\"}",
        "{\"addr\":\"h:0\"}",
        "{\"addr\":\"h:1\",\"weight\":-1}",
        "{\"addr\":\"h:1\",\"weight\":65536}",
        "{\"addr\":\"h:1\",\"weight\":\"3\"}",
        "{\"addr\":\"h:1\",\"model\":1}",
        "{\"addr\":\"h:1\"",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sk_etcd_value_parse(bad[i], strlen(bad[i]), &in), SK_EETCDBAD);
}

static void test_bodies(void **state)
{
    (void)state;
    char *b = sk__etcd_body_range("/svc/");
    /* "/svc/" and "/svc0": the range of every key starting with "/svc/". */
    assert_string_equal(b, "{\"key\":\"L3N2Yy8=\",\"range_end\":\"L3N2YzA=\"}");
    free(b);
    b = sk__etcd_body_put("/a", "v", 4111120369421432069LL);
    assert_string_equal(b, "{\"key\":\"L2E=\",\"value\":\"dg==\",\"lease\":\"4111120369421432069\"}");
    free(b);
    b = sk__etcd_body_grant(10);
    assert_string_equal(b, "{\"TTL\":\"10\"}");
    free(b);
    b = sk__etcd_body_lease(-5);
    assert_string_equal(b, "{\"ID\":\"-5\"}");
    free(b);
    b = sk__etcd_body_watch("/svc/", 8);
    assert_string_equal(
        b, "{\"create_request\":{\"key\":\"L3N2Yy8=\",\"range_end\":\"L3N2YzA=\",\"start_revision\":\"8\"}}");
    free(b);
    b = sk__etcd_body_range("\xff\xff");
    assert_string_equal(b, "{\"key\":\"//8=\",\"range_end\":\"AA==\"}");
    free(b);
}

static int collect(void *userdata, const sk__etcd_kv *kv)
{
    sk__etcd_kv *out = userdata;
    for (int i = 0; i < 4; i++) {
        if (out[i].inst.key[0] == '\0') {
            out[i] = *kv;
            return 0;
        }
    }
    return -E2BIG;
}

static void test_answers(void **state)
{
    (void)state;
    int64_t id, ttl, rev;
    const char *g = "{\"header\":{\"revision\":\"1\"},\"ID\":\"4111120369421432069\",\"TTL\":\"5\"}";
    assert_int_equal(sk__etcd_parse_grant(g, strlen(g), &id, &ttl), 0);
    assert_int_equal(id, 4111120369421432069LL);
    assert_int_equal(ttl, 5);
    const char *e = "{\"error\":\"etcdserver: requested lease not found\",\"code\":5}";
    assert_int_equal(sk__etcd_parse_grant(e, strlen(e), &id, &ttl), SK_EETCD);
    assert_int_equal(sk__etcd_parse_grant("{\"ID\":\"x\"}", 10, &id, &ttl), SK_EETCDBAD);
    assert_int_equal(sk__etcd_parse_grant("{\"ID\":\"1\",\"TTL\":\"0\"}", 20, &id, &ttl), SK_EETCDBAD);

    const char *k = "{\"result\":{\"header\":{\"revision\":\"3\"},\"ID\":\"12\",\"TTL\":\"4\"}}\n";
    assert_int_equal(sk__etcd_parse_keepalive(k, strlen(k), &ttl), 0);
    assert_int_equal(ttl, 4);
    const char *gone = "{\"result\":{\"header\":{\"revision\":\"3\"},\"ID\":\"12\"}}";
    assert_int_equal(sk__etcd_parse_keepalive(gone, strlen(gone), &ttl), 0);
    assert_int_equal(ttl, 0);
    assert_int_equal(sk__etcd_parse_keepalive("{\"header\":{}}", 13, &ttl), SK_EETCDBAD);

    assert_int_equal(sk__etcd_parse_header("{\"header\":{\"revision\":\"9\"}}", 27, &rev), 0);
    assert_int_equal(rev, 9);
    assert_int_equal(sk__etcd_parse_header("{}", 2, &rev), SK_EETCDBAD);
    assert_int_equal(sk__etcd_check(404, e, strlen(e)), SK_EETCD);
    assert_int_equal(sk__etcd_check(200, "[1]", 3), SK_EETCDBAD);
    assert_int_equal(sk__etcd_check(200, "{}", 2), 0);

    /* A range: one instance (value {"addr":"127.0.0.1:7001","weight":2}),
     * one key that holds no instance ("x"). */
    const char *r =
        "{\"header\":{\"revision\":\"7\"},\"kvs\":["
        "{\"key\":\"L3N2Yy9h\",\"create_revision\":\"2\",\"mod_revision\":\"5\",\"version\":\"2\","
        "\"value\":\"eyJhZGRyIjoiMTI3LjAuMC4xOjcwMDEiLCJ3ZWlnaHQiOjJ9\",\"lease\":\"99\"},"
        "{\"key\":\"L3N2Yy9i\",\"mod_revision\":\"6\",\"version\":\"1\",\"value\":\"eA==\"}],\"count\":\"2\"}";
    sk__etcd_kv kv[4];
    memset(kv, 0, sizeof kv);
    assert_int_equal(sk__etcd_parse_range(r, strlen(r), &rev, collect, kv), 0);
    assert_int_equal(rev, 7);
    assert_string_equal(kv[0].inst.key, "/svc/a");
    assert_true(kv[0].valid);
    assert_string_equal(kv[0].inst.host, "127.0.0.1");
    assert_int_equal(kv[0].inst.port, 7001);
    assert_int_equal(kv[0].inst.weight, 2);
    assert_int_equal(kv[0].inst.lease, 99);
    assert_int_equal(kv[0].mod_revision, 5);
    assert_false(kv[0].created);
    assert_string_equal(kv[1].inst.key, "/svc/b");
    assert_false(kv[1].valid);
    const char *empty = "{\"header\":{\"revision\":\"7\"}}";
    memset(kv, 0, sizeof kv);
    assert_int_equal(sk__etcd_parse_range(empty, strlen(empty), &rev, collect, kv), 0);
    assert_string_equal(kv[0].inst.key, "");
    const char *badkey = "{\"header\":{},\"kvs\":[{\"key\":\"***\"}]}";
    assert_int_equal(sk__etcd_parse_range(badkey, strlen(badkey), &rev, collect, kv), SK_EETCDBAD);
    assert_int_equal(sk__etcd_parse_range(e, strlen(e), &rev, collect, kv), SK_EETCD);

    /* Watch: created, a PUT (type left out) and a DELETE, canceled. */
    const char *c = "{\"result\":{\"header\":{\"revision\":\"2\"},\"created\":true}}";
    memset(kv, 0, sizeof kv);
    assert_int_equal(sk__etcd_parse_watch(c, strlen(c), &rev, collect, kv), 1);
    const char *w = "{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":["
                    "{\"kv\":{\"key\":\"L3N2Yy9h\",\"mod_revision\":\"2\",\"version\":\"1\","
                    "\"value\":\"eyJhZGRyIjoiMTI3LjAuMC4xOjcwMDEiLCJ3ZWlnaHQiOjJ9\"}},"
                    "{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3N2Yy9h\",\"mod_revision\":\"3\"}}]}}";
    assert_int_equal(sk__etcd_parse_watch(w, strlen(w), &rev, collect, kv), 0);
    assert_int_equal(rev, 3);
    assert_true(kv[0].valid && kv[0].created && !kv[0].deleted);
    assert_true(kv[1].deleted && !kv[1].valid);
    assert_int_equal(kv[1].mod_revision, 3);
    const char *x = "{\"result\":{\"header\":{},\"canceled\":true,\"compact_revision\":\"5\"}}";
    assert_int_equal(sk__etcd_parse_watch(x, strlen(x), &rev, collect, kv), SK_EETCD);
    const char *t = "{\"result\":{\"header\":{},\"events\":[{\"type\":\"MOVE\",\"kv\":{\"key\":\"YQ==\"}}]}}";
    assert_int_equal(sk__etcd_parse_watch(t, strlen(t), &rev, collect, kv), SK_EETCDBAD);
    const char *se = "{\"error\":{\"grpc_code\":14,\"message\":\"unavailable\"}}";
    assert_int_equal(sk__etcd_parse_watch(se, strlen(se), &rev, collect, kv), SK_EETCD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64), cmocka_unit_test(test_url),     cmocka_unit_test(test_value),
        cmocka_unit_test(test_bodies), cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
