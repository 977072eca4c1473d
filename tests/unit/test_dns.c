/* Unit tests for the DNS response parser and reverse names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/dns.h>
#include <sockit/error.h>

#include "guard.h"

/* A message under construction. */
typedef struct msg {
    uint8_t b[1024];
    size_t n;
} msg;

static void put(msg *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void put16(msg *m, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(m, b, 2);
}
static void put32(msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}
static void put_name(msg *m, const char *name)
{
    while (*name) {
        size_t l = strcspn(name, ".");
        uint8_t len = (uint8_t)l;
        put(m, &len, 1);
        put(m, name, l);
        name += l + (name[l] == '.');
    }
    put(m, "", 1);
}
static void header(msg *m, unsigned flags, unsigned qd, unsigned an)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, 0);
    put16(m, 0);
}
/* An answer whose owner is a pointer to the question name (offset 12). */
static void answer(msg *m, unsigned type, uint32_t ttl, const void *rd, size_t rdlen)
{
    put16(m, 0xc00c);
    put16(m, type);
    put16(m, 1);
    put32(m, ttl);
    put16(m, (unsigned)rdlen);
    put(m, rd, rdlen);
}

static void test_srv_answers(void **state)
{
    (void)state;
    msg m, rd;
    sk_dns_header h;
    sk_dns_rr rr[4];

    header(&m, 0x8180, 1, 2);
    put_name(&m, "_echo._tcp.example.test");
    put16(&m, SK_DNS_SRV);
    put16(&m, 1);
    rd.n = 0;
    put16(&rd, 10);
    put16(&rd, 60);
    put16(&rd, 7);
    put_name(&rd, "a.example.test");
    answer(&m, SK_DNS_SRV, 300, rd.b, rd.n);
    /* The second target compresses to "example.test" of the question. */
    rd.n = 0;
    put16(&rd, 20);
    put16(&rd, 0);
    put16(&rd, 9);
    uint8_t b[] = {1, 'b', 0xc0, 12 + 6 + 5};
    put(&rd, b, sizeof b);
    answer(&m, SK_DNS_SRV, 60, rd.b, rd.n);

    assert_int_equal(sk_dns_parse(m.b, m.n, &h, rr, 4), 2);
    assert_int_equal(h.id, 0x1234);
    assert_true(h.response);
    assert_false(h.truncated);
    assert_int_equal(h.rcode, SK_DNS_NOERROR);
    assert_string_equal(rr[0].name, "_echo._tcp.example.test");
    assert_int_equal(rr[0].type, SK_DNS_SRV);
    assert_int_equal(rr[0].ttl, 300);
    assert_int_equal(rr[0].priority, 10);
    assert_int_equal(rr[0].weight, 60);
    assert_int_equal(rr[0].port, 7);
    assert_string_equal(rr[0].target, "a.example.test");
    assert_string_equal(rr[1].target, "b.example.test");
    assert_int_equal(rr[1].port, 9);
    /* Fewer slots than records: the count is still every record. */
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), 2);
    /* Every truncation of the message is malformed, never a crash. */
    for (size_t n = 0; n < m.n; n++)
        assert_int_equal(sk_dns_parse(m.b, n, NULL, rr, 4), SK_EDNSBAD);
}

static void test_addresses_txt_cname(void **state)
{
    (void)state;
    msg m;
    sk_dns_rr rr[4];
    const uint8_t v4[] = {127, 0, 0, 2}, v6[16] = {[15] = 1};
    const uint8_t txt[] = {5, 'h', 'e', 'l', 'l', 'o', 0, 3, 'a', '"', 'b'};
    const uint8_t cname[] = {0xc0, 12};

    header(&m, 0x8180 | 0x0200, 1, 4);
    put_name(&m, "dual.example.test");
    put16(&m, SK_DNS_A);
    put16(&m, 1);
    answer(&m, SK_DNS_A, 0, v4, sizeof v4);
    answer(&m, SK_DNS_AAAA, 5, v6, sizeof v6);
    answer(&m, SK_DNS_TXT, 7, txt, sizeof txt);
    answer(&m, SK_DNS_CNAME, 1, cname, sizeof cname);
    sk_dns_header h;
    assert_int_equal(sk_dns_parse(m.b, m.n, &h, rr, 4), 4);
    assert_true(h.truncated);
    assert_memory_equal(rr[0].addr, v4, 4);
    assert_memory_equal(rr[1].addr, v6, 16);
    assert_int_equal(rr[1].ttl, 5);
    size_t off = 0, len;
    const uint8_t *s;
    assert_int_equal(sk_dns_txt_next(&rr[2], &off, &s, &len), 1);
    assert_int_equal(len, 5);
    assert_memory_equal(s, "hello", 5);
    assert_int_equal(sk_dns_txt_next(&rr[2], &off, &s, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(sk_dns_txt_next(&rr[2], &off, &s, &len), 1);
    assert_memory_equal(s, "a\"b", 3);
    assert_int_equal(sk_dns_txt_next(&rr[2], &off, &s, &len), 0);
    assert_string_equal(rr[3].target, "dual.example.test");
}

static void test_rcode_and_malformed(void **state)
{
    (void)state;
    msg m;
    sk_dns_header h;
    sk_dns_rr rr[1];

    header(&m, 0x8183, 1, 0);
    put_name(&m, "nosuch.example.test");
    put16(&m, 1);
    put16(&m, 1);
    assert_int_equal(sk_dns_parse(m.b, m.n, &h, rr, 1), 0);
    assert_int_equal(h.rcode, SK_DNS_NXDOMAIN);

    /* A pointer to itself, and one pointing forward. */
    header(&m, 0x8180, 1, 0);
    put16(&m, 0xc00c);
    put32(&m, 0x00010001);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), SK_EDNSBAD);
    header(&m, 0x8180, 1, 0);
    put16(&m, 0xc00e);
    put_name(&m, "x");
    put32(&m, 0x00010001);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), SK_EDNSBAD);
    /* A loop through a label: "a" then a pointer back to it. */
    header(&m, 0x8180, 1, 0);
    uint8_t loop[] = {1, 'a', 0xc0, 12};
    put(&m, loop, sizeof loop);
    put32(&m, 0x00010001);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), SK_EDNSBAD);
    /* An A record of 3 bytes, a TXT string longer than its rdata. */
    header(&m, 0x8180, 1, 1);
    put_name(&m, "x");
    put32(&m, 0x00010001);
    answer(&m, SK_DNS_A, 0, "abc", 3);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), SK_EDNSBAD);
    header(&m, 0x8180, 1, 1);
    put_name(&m, "x");
    put32(&m, 0x00100001);
    answer(&m, SK_DNS_TXT, 0,
           "\x05"
           "abc",
           4);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), SK_EDNSBAD);
    assert_int_equal(sk_dns_parse(NULL, 0, NULL, rr, 1), SK_EDNSBAD);
}

static void test_name_escapes(void **state)
{
    (void)state;
    msg m;
    sk_dns_rr rr[1];
    uint8_t odd[] = {3, 'a', '.', 0x01, 0};
    const uint8_t v4[4] = {1, 2, 3, 4};

    header(&m, 0x8180, 1, 1);
    put(&m, odd, sizeof odd);
    put32(&m, 0x00010001);
    answer(&m, SK_DNS_A, 0, v4, 4);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), 1);
    assert_string_equal(rr[0].name, "a\\.\\001");
    /* The root as an owner name. */
    header(&m, 0x8180, 0, 1);
    put(&m, "", 1);
    put32(&m, 0x00010001);
    put32(&m, 0);
    put16(&m, 4);
    put(&m, v4, 4);
    assert_int_equal(sk_dns_parse(m.b, m.n, NULL, rr, 1), 1);
    assert_string_equal(rr[0].name, ".");
}

static void test_guard_page(void **state)
{
    (void)state;
    /* Every prefix of the message ends right before an unreadable page: a
     * read past its end faults instead of passing silently. */
    msg m;
    header(&m, 0x8180, 1, 1);
    put_name(&m, "_echo._tcp.example.test");
    put32(&m, 0x00210001);
    uint8_t rd[] = {0, 1, 0, 2, 0, 3, 0xc0, 12};
    answer(&m, SK_DNS_SRV, 1, rd, sizeof rd);
    sk_dns_rr rr[1];
    for (size_t n = 0; n <= m.n; n++) {
        const uint8_t *at = (const uint8_t *)guarded((const char *)m.b, n);
        assert_int_equal(sk_dns_parse(at, n, NULL, rr, 1), n == m.n ? 1 : SK_EDNSBAD);
    }
    assert_string_equal(rr[0].target, "_echo._tcp.example.test");
    unguard();
}

static void test_reverse_and_types(void **state)
{
    (void)state;
    char out[SK_DNS_NAME_MAX];
    assert_int_equal(sk_dns_reverse_name("192.0.2.1", out, sizeof out), 22);
    assert_string_equal(out, "1.2.0.192.in-addr.arpa");
    assert_int_equal(sk_dns_reverse_name("2001:db8::1", out, sizeof out), 72);
    assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(sk_dns_reverse_name("example.test", out, sizeof out), -EINVAL);
    assert_int_equal(sk_dns_reverse_name("192.0.2.1", out, 10), -ENOSPC);
    assert_int_equal(sk_dns_type_of("srv"), SK_DNS_SRV);
    assert_int_equal(sk_dns_type_of("AAAA"), SK_DNS_AAAA);
    assert_int_equal(sk_dns_type_of("MX"), -1);
    assert_string_equal(sk_dns_type_name(SK_DNS_TXT), "TXT");
    assert_null(sk_dns_type_name(15));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv_answers),         cmocka_unit_test(test_addresses_txt_cname),
        cmocka_unit_test(test_rcode_and_malformed), cmocka_unit_test(test_name_escapes),
        cmocka_unit_test(test_guard_page),          cmocka_unit_test(test_reverse_and_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
