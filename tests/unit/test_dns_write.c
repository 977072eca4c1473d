/* Unit tests for the DNS writer (compression, rollback, the mDNS bits) and
 * for reading whole messages back: every section, questions, NSEC, and the
 * malformed names the reader must refuse. */
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

#define INST "sockit\\032echo\\032on\\032a._echo._tcp.local"

static sk_dns_rr rr_of(const char *name, int type, uint32_t ttl, bool flush)
{
    sk_dns_rr r;
    memset(&r, 0, sizeof r);
    strcpy(r.name, name);
    r.type = (uint16_t)type;
    r.ttl = ttl;
    r.cache_flush = flush;
    return r;
}

/* A response as a responder sends it: PTR answer, SRV/TXT/A additional. */
static size_t build_response(uint8_t *b, size_t cap)
{
    sk_dns_writer w;
    sk_dns_writer_init(&w, b, cap, 0, SK_DNS_F_QR | SK_DNS_F_AA);
    sk_dns_rr r = rr_of("_echo._tcp.local", SK_DNS_PTR, 4500, false);
    strcpy(r.target, INST);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ANSWER, &r), 0);
    r = rr_of(INST, SK_DNS_SRV, 120, true);
    r.port = 7007;
    strcpy(r.target, "a.local");
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ADDITIONAL, &r), 0);
    r = rr_of(INST, SK_DNS_TXT, 4500, true);
    r.rdata = (const uint8_t *)"\x03k=v";
    r.rdlen = 4;
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ADDITIONAL, &r), 0);
    r = rr_of("a.local", SK_DNS_A, 120, true);
    memcpy(r.addr, "\xc6\x12\x00\x02", 4);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ADDITIONAL, &r), 0);
    return w.len;
}

static void test_round_trip_and_compression(void **state)
{
    (void)state;
    uint8_t b[1500];
    sk_dns_rr rr[8];
    sk_dns_header h;
    size_t n = build_response(b, sizeof b);

    assert_int_equal(sk_dns_read(b, n, &h, NULL, 0, rr, 8), 4);
    assert_true(h.response);
    assert_int_equal(h.ancount, 1);
    assert_int_equal(h.arcount, 3);
    assert_int_equal(rr[0].section, SK_DNS_ANSWER);
    assert_string_equal(rr[0].target, INST);
    assert_false(rr[0].cache_flush);
    assert_int_equal(rr[1].section, SK_DNS_ADDITIONAL);
    assert_true(rr[1].cache_flush);
    assert_int_equal(rr[1].rclass, SK_DNS_CLASS_IN);
    assert_int_equal(rr[1].port, 7007);
    assert_string_equal(rr[1].target, "a.local");
    assert_int_equal(rr[3].addr[0], 198);
    /* Every repeated name is a pointer: the instance name is spelled once,
     * "local" once; the whole message stays small. */
    assert_true(n < 12 + 18 + 10 + 2 + 22 + 3 * 12 + 6 + 9 + 4 + 4 + 10);
    /* The sk_dns_parse view is the answer section alone. */
    assert_int_equal(sk_dns_parse(b, n, NULL, rr, 8), 1);
}

static void test_rollback_when_full(void **state)
{
    (void)state;
    uint8_t b[1500], small[60];
    size_t full = build_response(b, sizeof b);
    sk_dns_writer w;
    sk_dns_writer_init(&w, small, sizeof small, 7, SK_DNS_F_QR);
    sk_dns_rr r = rr_of("_echo._tcp.local", SK_DNS_PTR, 4500, false);
    strcpy(r.target, INST);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ANSWER, &r), 0);
    size_t len = w.len;
    r = rr_of(INST, SK_DNS_SRV, 120, true);
    strcpy(r.target, "a-long-host-name-that-does-not-fit.local");
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ADDITIONAL, &r), -ENOSPC);
    assert_int_equal(w.len, len);
    sk_dns_rr back[2];
    assert_int_equal(sk_dns_read(small, w.len, NULL, NULL, 0, back, 2), 1);
    (void)full;
    /* Sections only go forward; questions only come first. */
    assert_int_equal(sk_dns_write_question(&w, "x.local", SK_DNS_A, false), -EINVAL);
    r = rr_of("x", SK_DNS_A, 1, false);
    sk_dns_writer_init(&w, b, sizeof b, 0, 0);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ADDITIONAL, &r), 0);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ANSWER, &r), -EINVAL);
}

static void test_questions_qu_and_known_answers(void **state)
{
    (void)state;
    uint8_t b[512];
    sk_dns_writer w;
    sk_dns_question q[2];
    sk_dns_rr rr[2];
    sk_dns_header h;

    sk_dns_writer_init(&w, b, sizeof b, 0x4242, 0);
    assert_int_equal(sk_dns_write_question(&w, "_echo._tcp.local", SK_DNS_PTR, true), 0);
    assert_int_equal(sk_dns_write_question(&w, "_http._tcp.local.", SK_DNS_PTR, false), 0);
    sk_dns_rr r = rr_of("_echo._tcp.local", SK_DNS_PTR, 4500, false);
    strcpy(r.target, INST);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ANSWER, &r), 0);
    assert_int_equal(sk_dns_read(b, w.len, &h, q, 2, rr, 2), 1);
    assert_int_equal(h.id, 0x4242);
    assert_false(h.response);
    assert_int_equal(h.qdcount, 2);
    assert_string_equal(q[0].name, "_echo._tcp.local");
    assert_true(q[0].unicast);
    assert_int_equal(q[0].qclass, SK_DNS_CLASS_IN);
    assert_false(q[1].unicast);
    assert_string_equal(q[1].name, "_http._tcp.local");
    assert_int_equal(q[1].type, SK_DNS_PTR);
}

static void test_nsec(void **state)
{
    (void)state;
    uint8_t b[512], bm[64];
    int types[] = {SK_DNS_AAAA, SK_DNS_A, 300};
    sk_dns_writer w;
    sk_dns_rr r = rr_of("a.local", SK_DNS_NSEC, 120, true), back;

    int n = sk_dns_nsec_bitmap(types, 3, bm, sizeof bm);
    assert_true(n > 0);
    strcpy(r.target, "a.local");
    r.rdata = bm;
    r.rdlen = (uint16_t)n;
    sk_dns_writer_init(&w, b, sizeof b, 0, SK_DNS_F_QR);
    assert_int_equal(sk_dns_write_rr(&w, SK_DNS_ADDITIONAL, &r), 0);
    assert_int_equal(sk_dns_read(b, w.len, NULL, NULL, 0, &back, 1), 1);
    assert_string_equal(back.target, "a.local");
    assert_true(sk_dns_nsec_has(&back, SK_DNS_A));
    assert_true(sk_dns_nsec_has(&back, SK_DNS_AAAA));
    assert_true(sk_dns_nsec_has(&back, 300));
    assert_false(sk_dns_nsec_has(&back, SK_DNS_TXT));
    assert_false(sk_dns_nsec_has(&back, 301));
    /* python-zeroconf 0.47's bitmap (16-bit window and length): the record
     * is read, its bitmap lists nothing; a bad next name is refused. */
    uint8_t zc[] = {0,    0, 0x84, 0, 0, 0,    0, 1, 0, 0,   0, 0, 1, 'h', 0, 0, 0x2f,
                    0x80, 1, 0,    0, 0, 0x78, 0, 9, 1, 'h', 0, 0, 0, 0,   4, 0, 0};
    zc[sizeof zc - 1] = 0;
    uint8_t zc2[sizeof zc + 2];
    memcpy(zc2, zc, sizeof zc);
    zc2[sizeof zc] = 0;
    zc2[sizeof zc + 1] = 8;
    assert_int_equal(sk_dns_read(zc2, sizeof zc2, NULL, NULL, 0, &back, 1), 1);
    assert_false(sk_dns_nsec_has(&back, SK_DNS_AAAA));
    zc2[25] = 5; /* the next name's label runs past the rdata */
    assert_int_equal(sk_dns_read(zc2, sizeof zc2, NULL, NULL, 0, &back, 1), SK_EDNSBAD);
    assert_int_equal(sk_dns_nsec_bitmap((int[]){0}, 1, bm, sizeof bm), -EINVAL);
}

static void test_names_and_labels(void **state)
{
    (void)state;
    char l[64], s[300];
    const char *rest;

    assert_int_equal(sk_dns_label_first(INST, l, sizeof l, &rest), 16);
    assert_string_equal(l, "sockit echo on a");
    assert_string_equal(rest, "_echo._tcp.local");
    assert_int_equal(sk_dns_label_first("a\\.b.c", l, sizeof l, &rest), 3);
    assert_string_equal(l, "a.b");
    assert_int_equal(sk_dns_label_escape("echo (2)", 8, s, sizeof s), 11);
    assert_string_equal(s, "echo\\032(2)");
    assert_int_equal(sk_dns_label_escape("x", 0, s, sizeof s), -EINVAL);
    assert_true(sk_dns_name_equal("Host-A.LOCAL.", "host-a.local"));
    assert_true(sk_dns_name_equal("a\\032b.local", "a\\ b.local"));
    assert_false(sk_dns_name_equal("a.local", "b.local"));

    /* A label of 64 bytes, a name of 256 bytes, empty labels, bad escapes:
     * the writer refuses them. */
    uint8_t b[1024];
    sk_dns_writer w;
    sk_dns_writer_init(&w, b, sizeof b, 0, 0);
    memset(s, 'a', 64);
    strcpy(s + 64, ".local");
    assert_int_equal(sk_dns_write_question(&w, s, SK_DNS_A, false), -EINVAL);
    strcpy(s + 63, ".local");
    assert_int_equal(sk_dns_write_question(&w, s, SK_DNS_A, false), 0);
    for (int i = 0; i < 4; i++) {
        memset(s + i * 64, 'b', 63);
        s[i * 64 + 63] = '.';
    }
    strcpy(s + 256, "");
    assert_int_equal(sk_dns_write_question(&w, s, SK_DNS_A, false), -EINVAL); /* 257 bytes on the wire */
    s[3 * 64 + 61] = '\0';
    assert_int_equal(sk_dns_write_question(&w, s, SK_DNS_A, false), 0); /* 255 */
    assert_int_equal(sk_dns_write_question(&w, "a..b", SK_DNS_A, false), -EINVAL);
    assert_int_equal(sk_dns_write_question(&w, "a\\9", SK_DNS_A, false), -EINVAL);
    assert_int_equal(sk_dns_write_question(&w, "a\\999", SK_DNS_A, false), -EINVAL);
    assert_int_equal(sk_dns_write_question(&w, ".", SK_DNS_A, false), 0);
    sk_dns_question q[4];
    sk_dns_header h;
    assert_int_equal(sk_dns_read(b, w.len, &h, q, 4, NULL, 0), 0);
    assert_int_equal(h.qdcount, 3);
    assert_string_equal(q[2].name, ".");
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t b[1500];
    sk_dns_rr rr[8];
    size_t n = build_response(b, sizeof b);

    /* Every truncation, each copy ending at an unreadable page. */
    for (size_t cut = 0; cut < n; cut++) {
        const uint8_t *g = (const uint8_t *)guarded((const char *)b, cut);
        assert_int_equal(sk_dns_read(g, cut, NULL, NULL, 0, rr, 8), SK_EDNSBAD);
    }
    unguard();
    /* Counts the message cannot hold. */
    uint8_t huge[1500];
    memcpy(huge, b, n);
    memset(huge + 4, 0xff, 8);
    assert_int_equal(sk_dns_read(huge, n, NULL, NULL, 0, rr, 8), SK_EDNSBAD);
    /* A label of 64 (the 0x40 type bits), a name of 256 bytes on the wire. */
    uint8_t lab[12 + 1 + 64 + 1 + 4] = {0, 0, 0, 0, 0, 1};
    lab[12] = 64;
    memset(lab + 13, 'a', 64);
    assert_int_equal(sk_dns_read(lab, sizeof lab, NULL, NULL, 0, NULL, 0), SK_EDNSBAD);
    uint8_t big[12 + 4 * 64 + 1 + 4] = {0, 0, 0, 0, 0, 1};
    for (int i = 0; i < 4; i++) {
        big[12 + i * 64] = 63;
        memset(big + 13 + i * 64, 'b', 63);
    }
    assert_int_equal(sk_dns_read(big, sizeof big, NULL, NULL, 0, NULL, 0), SK_EDNSBAD);
    /* Pointers to themselves, forward, and a loop through a label. */
    uint8_t self[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    assert_int_equal(sk_dns_read(self, sizeof self, NULL, NULL, 0, NULL, 0), SK_EDNSBAD);
    uint8_t fwd[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1};
    assert_int_equal(sk_dns_read(fwd, sizeof fwd, NULL, NULL, 0, NULL, 0), SK_EDNSBAD);
    uint8_t loop[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1};
    assert_int_equal(sk_dns_read(loop, sizeof loop, NULL, NULL, 0, NULL, 0), SK_EDNSBAD);
    /* 20,000 random mutations of a good message: refused or read, never
     * a fault (ASan watches the exact-sized copy). */
    srand(12);
    for (int i = 0; i < 20000; i++) {
        uint8_t *m = malloc(n);
        memcpy(m, b, n);
        for (int k = 0; k < 1 + rand() % 4; k++)
            m[(size_t)rand() % n] = (uint8_t)rand();
        int got = sk_dns_read(m, n, NULL, NULL, 0, rr, 8);
        assert_true(got == SK_EDNSBAD || got >= 0);
        free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_compression),
        cmocka_unit_test(test_rollback_when_full),
        cmocka_unit_test(test_questions_qu_and_known_answers),
        cmocka_unit_test(test_nsec),
        cmocka_unit_test(test_names_and_labels),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
