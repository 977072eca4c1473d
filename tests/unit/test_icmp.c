/* Unit tests for the ICMP checksum, echo building and the parser, with
 * crafted packets: replies with and without the IPv4 header, errors that
 * quote UDP and echo probes, and truncated, corrupt and random input
 * placed in exactly-sized heap buffers so ASan catches any over-read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <sockit/error.h>
#include <sockit/icmp.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void fix_sum(uint8_t *icmp, size_t len)
{
    icmp[2] = icmp[3] = 0;
    put16(icmp + 2, sk_inet_checksum(icmp, len));
}

/* A minimal IPv4 header: proto, ttl, src, dst, total length. */
static void ip4(uint8_t *p, uint8_t proto, uint8_t ttl, const char *src, const char *dst, size_t total)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)total);
    p[8] = ttl;
    p[9] = proto;
    inet_pton(AF_INET, src, p + 12);
    inet_pton(AF_INET, dst, p + 16);
}

static void ip6(uint8_t *p, uint8_t next, const char *src, const char *dst, size_t payload)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, (uint16_t)payload);
    p[6] = next;
    p[7] = 64;
    inet_pton(AF_INET6, src, p + 8);
    inet_pton(AF_INET6, dst, p + 24);
}

/* Parse a copy in an exactly-sized heap buffer. */
static int parse_exact(int family, const uint8_t *pkt, size_t len, int flags, sk_icmp_info *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, pkt, len);
    int rc = sk_icmp_parse(family, copy, len, flags, out);
    /* Views into the buffer must not outlive it. */
    out->data = NULL;
    free(copy);
    return rc;
}

static void test_checksum(void **state)
{
    (void)state;
    /* RFC 1071 section 3 example: sum 0xddf2, so the checksum is ~0xddf2. */
    const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(sk_inet_checksum(ex, sizeof ex), 0x220d);
    /* An odd trailing byte counts as the high byte of a zero-padded word. */
    const uint8_t odd[] = {0x01};
    assert_int_equal(sk_inet_checksum(odd, 1), 0xfeff);
    assert_int_equal(sk_inet_checksum(NULL, 0), 0xffff);
    /* Carries fold back in. */
    const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
    assert_int_equal(sk_inet_checksum(ff, sizeof ff), 0xfffe);
}

static void test_build_v4(void **state)
{
    uint8_t buf[128];
    (void)state;
    int n = sk_icmp_echo_build(AF_INET, 0x1234, 7, 0x0102030405060708LL, 56, buf, sizeof buf);
    assert_int_equal(n, 64);
    assert_int_equal(buf[0], 8);
    assert_int_equal(buf[1], 0);
    assert_int_equal(sk_inet_checksum(buf, 64), 0);
    assert_int_equal(buf[4] << 8 | buf[5], 0x1234);
    assert_int_equal(buf[6] << 8 | buf[7], 7);
    assert_int_equal(buf[8], 1);
    assert_int_equal(buf[15], 8);
    assert_int_equal(buf[8 + 20], 20);
    assert_int_equal(sk_icmp_echo_build(AF_INET, 1, 1, 0, 56, buf, 63), -ENOSPC);
    assert_int_equal(sk_icmp_echo_build(AF_UNIX, 1, 1, 0, 8, buf, sizeof buf), -EAFNOSUPPORT);
    /* Short payloads carry no timestamp, only the pattern. */
    assert_int_equal(sk_icmp_echo_build(AF_INET, 1, 2, 99, 3, buf, sizeof buf), 11);
    assert_int_equal(sk_inet_checksum(buf, 11), 0);
    assert_int_equal(buf[10], 2);
}

static void test_build_v6(void **state)
{
    uint8_t buf[64];
    (void)state;
    assert_int_equal(sk_icmp_echo_build(AF_INET6, 9, 65535, 5, 16, buf, sizeof buf), 24);
    assert_int_equal(buf[0], 128);
    assert_int_equal(buf[2] | buf[3], 0); /* the kernel fills it in */
    assert_int_equal(buf[6] << 8 | buf[7], 65535);
}

/* An echo reply as a raw IPv4 socket delivers it: IP header first. */
static size_t make_reply_v4(uint8_t *pkt, uint16_t id, uint16_t seq, size_t payload)
{
    int n = sk_icmp_echo_build(AF_INET, id, seq, 123456789, payload, pkt + 20, 1500);
    pkt[20] = 0; /* echo reply */
    fix_sum(pkt + 20, (size_t)n);
    ip4(pkt, IPPROTO_ICMP, 57, "198.18.0.2", "198.18.0.1", 20 + (size_t)n);
    return 20 + (size_t)n;
}

static void test_parse_reply_v4(void **state)
{
    uint8_t pkt[1600];
    sk_icmp_info in;
    char a[INET_ADDRSTRLEN];
    (void)state;
    size_t len = make_reply_v4(pkt, 0xbeef, 42, 56);
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_ECHO_REPLY);
    assert_int_equal(in.id, 0xbeef);
    assert_int_equal(in.seq, 42);
    assert_int_equal(in.ttl, 57);
    assert_true(in.has_src);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&in.src)->sin_addr, a, sizeof a);
    assert_string_equal(a, "198.18.0.2");
    assert_int_equal(in.ts_ns, 123456789);
    assert_int_equal(in.data_len, 56);
    assert_true(in.data_ok);
    /* The same reply as an ICMP datagram socket delivers it: no IP header. */
    assert_int_equal(parse_exact(AF_INET, pkt + 20, len - 20, 0, &in), 0);
    assert_int_equal(in.ttl, -1);
    assert_false(in.has_src);
    assert_int_equal(in.seq, 42);
    /* Link-layer padding after the IP total length is ignored. */
    memset(pkt + len, 0xaa, 6);
    assert_int_equal(parse_exact(AF_INET, pkt, len + 6, SK_ICMP_IPHDR, &in), 0);
    assert_int_equal(in.data_len, 56);
}

static void test_parse_bad_v4(void **state)
{
    uint8_t pkt[1600];
    sk_icmp_info in;
    (void)state;
    size_t len = make_reply_v4(pkt, 1, 1, 56);

    /* Every truncation is refused, none is read past. */
    for (size_t l = 0; l < len; l++) {
        int rc = parse_exact(AF_INET, pkt, l, SK_ICMP_IPHDR, &in);
        assert_true(rc == SK_EICMPSHORT || rc == SK_EICMPSUM || rc == SK_EICMPBAD);
    }
    /* A flipped payload bit breaks the checksum. */
    pkt[40] ^= 0x10;
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), SK_EICMPSUM);
    /* ... unless checksums are not checked; then the pattern shows it. */
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR | SK_ICMP_NOSUM, &in), 0);
    assert_false(in.data_ok);
    pkt[40] ^= 0x10;
    /* Not IPv4, not ICMP, a header length below 20 or past the end. */
    pkt[0] = 0x65;
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), SK_EICMPBAD);
    pkt[0] = 0x44;
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), SK_EICMPBAD);
    pkt[0] = 0x4f;
    assert_int_equal(parse_exact(AF_INET, pkt, 40, SK_ICMP_IPHDR, &in), SK_EICMPSHORT);
    pkt[0] = 0x45;
    pkt[9] = IPPROTO_UDP;
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), SK_EICMPBAD);
    pkt[9] = IPPROTO_ICMP;
    put16(pkt + 2, 10); /* total length shorter than the header */
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), SK_EICMPBAD);
    assert_int_equal(parse_exact(AF_UNIX, pkt, len, 0, &in), SK_EICMPBAD);
}

/* A foreign reply parses; telling it apart by id is the caller's job. */
static void test_parse_foreign(void **state)
{
    uint8_t pkt[1600];
    sk_icmp_info in;
    (void)state;
    size_t len = make_reply_v4(pkt, 0x4242, 3, 0);
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), 0);
    assert_int_equal(in.id, 0x4242);
    assert_int_equal(in.data_len, 0);
    assert_int_equal(in.ts_ns, -1);
    /* Some other ICMP type (redirect) is OTHER, not an error to match. */
    pkt[20] = 5;
    fix_sum(pkt + 20, len - 20);
    assert_int_equal(parse_exact(AF_INET, pkt, len, SK_ICMP_IPHDR, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_OTHER);
}

/* Router R (198.18.0.1) says our UDP probe to 198.19.0.2:33435 expired. */
static void test_time_exceeded_udp_v4(void **state)
{
    uint8_t pkt[20 + 8 + 20 + 8 + 8];
    sk_icmp_info in;
    char a[INET_ADDRSTRLEN];
    (void)state;
    ip4(pkt, IPPROTO_ICMP, 64, "198.18.0.1", "198.18.0.2", sizeof pkt);
    uint8_t *icmp = pkt + 20;
    memset(icmp, 0, sizeof pkt - 20);
    icmp[0] = 11;
    ip4(icmp + 8, IPPROTO_UDP, 1, "198.18.0.2", "198.19.0.2", 20 + 8 + 8);
    put16(icmp + 28, 40000);
    put16(icmp + 30, 33435);
    fix_sum(icmp, sizeof pkt - 20);
    assert_int_equal(parse_exact(AF_INET, pkt, sizeof pkt, SK_ICMP_IPHDR, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_TIME_EXCEEDED);
    assert_int_equal(in.quoted_proto, IPPROTO_UDP);
    assert_int_equal(in.quoted_sport, 40000);
    assert_int_equal(in.quoted_dport, 33435);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&in.quoted_dst)->sin_addr, a, sizeof a);
    assert_string_equal(a, "198.19.0.2");
    assert_string_equal(sk_icmp_describe(AF_INET, in.type, in.code), "Time to live exceeded");

    /* Quoting only 4 bytes of the probe: still an error, but no ports. */
    assert_int_equal(parse_exact(AF_INET, pkt, 20 + 8 + 20 + 4, SK_ICMP_IPHDR | SK_ICMP_NOSUM, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_TIME_EXCEEDED);
    assert_int_equal(in.quoted_proto, -1);
    /* A quoted header that claims to be longer than what is there. */
    icmp[8] = 0x4f;
    fix_sum(icmp, sizeof pkt - 20);
    assert_int_equal(parse_exact(AF_INET, pkt, sizeof pkt, SK_ICMP_IPHDR, &in), 0);
    assert_int_equal(in.quoted_proto, -1);
}

/* Port unreachable quoting an echo probe (id, seq) from a datagram socket. */
static void test_unreach_echo_v4(void **state)
{
    uint8_t pkt[8 + 20 + 8];
    sk_icmp_info in;
    (void)state;
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 3;
    pkt[1] = 3;
    ip4(pkt + 8, IPPROTO_ICMP, 1, "198.18.0.2", "198.19.0.2", 28);
    pkt[28] = 8;
    put16(pkt + 32, 777);
    put16(pkt + 34, 12);
    fix_sum(pkt, sizeof pkt);
    assert_int_equal(parse_exact(AF_INET, pkt, sizeof pkt, 0, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_UNREACHABLE);
    assert_int_equal(in.quoted_proto, IPPROTO_ICMP);
    assert_int_equal(in.id, 777);
    assert_int_equal(in.seq, 12);
    assert_string_equal(sk_icmp_describe(AF_INET, 3, 3), "Destination Port Unreachable");
    assert_string_equal(sk_icmp_describe(AF_INET, 3, 200), "Destination Unreachable");
}

static void test_v6(void **state)
{
    uint8_t pkt[8 + 40 + 8];
    sk_icmp_info in;
    char a[INET6_ADDRSTRLEN];
    (void)state;
    /* Echo reply (ICMPv6 sockets never carry the IPv6 header). */
    uint8_t rep[64];
    int n = sk_icmp_echo_build(AF_INET6, 5, 6, 77, 56, rep, sizeof rep);
    rep[0] = 129;
    assert_int_equal(parse_exact(AF_INET6, rep, (size_t)n, 0, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_ECHO_REPLY);
    assert_int_equal(in.seq, 6);
    assert_int_equal(in.ts_ns, 77);
    assert_true(in.data_ok);
    /* Our own request, as a raw socket sees it on loopback. */
    rep[0] = 128;
    assert_int_equal(parse_exact(AF_INET6, rep, (size_t)n, 0, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_ECHO_REQUEST);

    /* Hop limit exceeded, quoting a UDP probe. */
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 3;
    ip6(pkt + 8, IPPROTO_UDP, "fd00:5ec::2", "fd00:5ec:1::2", 8);
    put16(pkt + 48, 50000);
    put16(pkt + 50, 33440);
    assert_int_equal(parse_exact(AF_INET6, pkt, sizeof pkt, 0, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_TIME_EXCEEDED);
    assert_int_equal(in.quoted_proto, IPPROTO_UDP);
    assert_int_equal(in.quoted_dport, 33440);
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&in.quoted_dst)->sin6_addr, a, sizeof a);
    assert_string_equal(a, "fd00:5ec:1::2");
    /* Port unreachable quoting an echo probe. */
    pkt[0] = 1;
    pkt[1] = 4;
    pkt[8 + 6] = IPPROTO_ICMPV6;
    pkt[48] = 128;
    put16(pkt + 52, 99);
    put16(pkt + 54, 4);
    assert_int_equal(parse_exact(AF_INET6, pkt, sizeof pkt, 0, &in), 0);
    assert_int_equal(in.kind, SK_ICMP_UNREACHABLE);
    assert_int_equal(in.id, 99);
    assert_int_equal(in.seq, 4);
    assert_string_equal(sk_icmp_describe(AF_INET6, 1, 4), "Port unreachable");
    /* Quoted IPv6 header cut short, wrong version. */
    assert_int_equal(parse_exact(AF_INET6, pkt, 8 + 39, 0, &in), 0);
    assert_int_equal(in.quoted_proto, -1);
    pkt[8] = 0x40;
    assert_int_equal(parse_exact(AF_INET6, pkt, sizeof pkt, 0, &in), 0);
    assert_int_equal(in.quoted_proto, -1);
    for (size_t l = 0; l < 8; l++)
        assert_int_equal(parse_exact(AF_INET6, pkt, l, 0, &in), SK_EICMPSHORT);
}

/* Random bytes of random lengths, with and without the IP header flag:
 * whatever comes back, no crash and no over-read. */
static void test_random(void **state)
{
    uint8_t pkt[256];
    sk_icmp_info in;
    (void)state;
    srand(4443);
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)rand() % sizeof pkt;
        for (size_t j = 0; j < len; j++)
            pkt[j] = (uint8_t)rand();
        if (i % 3 == 0 && len >= 20) {
            pkt[0] = (uint8_t)(0x40 | (pkt[0] & 0xf));
            pkt[9] = IPPROTO_ICMP;
        }
        if (i % 5 == 0 && len > 8)
            pkt[0] = (uint8_t)(i % 2 ? 11 : 3);
        int fam = i % 2 ? AF_INET : AF_INET6;
        int rc = parse_exact(fam, pkt, len, (i % 4 ? SK_ICMP_NOSUM : 0) | (i % 3 == 0 ? SK_ICMP_IPHDR : 0), &in);
        assert_true(rc == 0 || rc == SK_EICMPSHORT || rc == SK_EICMPSUM || rc == SK_EICMPBAD);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_build_v4),
        cmocka_unit_test(test_build_v6),
        cmocka_unit_test(test_parse_reply_v4),
        cmocka_unit_test(test_parse_bad_v4),
        cmocka_unit_test(test_parse_foreign),
        cmocka_unit_test(test_time_exceeded_udp_v4),
        cmocka_unit_test(test_unreach_echo_v4),
        cmocka_unit_test(test_v6),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
