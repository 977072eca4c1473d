/* Unit tests for the one renderer of counters, connection rows and events
 * (src/server/stats.c) and the JSON string escaping under it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <sockit/addr.h>
#include <sockit/stats.h>

#include "codec/json_write.h"

static void test_stats_text_and_json(void **state)
{
    (void)state;
    sk_stats st = {.accepted = 3, .active = 1, .closed = 2, .rejected = 4, .bytes_in = 5, .bytes_out = 6, .cut = 7};
    char buf[512];
    const char *text = "accepted=3 active=1 closed=2 rejected=4 bytes_in=5 bytes_out=6 cut=7";
    assert_int_equal(sk_stats_format(&st, SK_FORMAT_TEXT, buf, sizeof buf), strlen(text));
    assert_string_equal(buf, text);
    const char *json =
        "{\"accepted\":3,\"active\":1,\"closed\":2,\"rejected\":4,\"bytes_in\":5,\"bytes_out\":6,\"cut\":7,"
        "\"fd_limit_refused\":0,\"fd_limit_paused\":0,\"max_conns_refused\":0,\"max_conns_paused\":0,"
        "\"per_ip_refused\":0,\"slow_closed\":0,\"rate_limited\":0,\"listen_overflows\":0,\"listen_drops\":0}";
    assert_int_equal(sk_stats_format(&st, SK_FORMAT_JSON, buf, sizeof buf), strlen(json));
    assert_string_equal(buf, json);
    /* The overload counters: in text only those that counted something. */
    sk_stats more = st;
    more.per_ip_refused = 8;
    more.listen_overflows = 9;
    const char *text2 = "accepted=3 active=1 closed=2 rejected=4 bytes_in=5 bytes_out=6 cut=7 per_ip_refused=8 "
                        "listen_overflows=9";
    assert_int_equal(sk_stats_format(&more, SK_FORMAT_TEXT, buf, sizeof buf), strlen(text2));
    assert_string_equal(buf, text2);
    sk_stats_format(&more, SK_FORMAT_JSON, buf, sizeof buf);
    assert_non_null(strstr(buf, ",\"per_ip_refused\":8,"));
    assert_non_null(strstr(buf, ",\"listen_overflows\":9,"));
    /* Too small: cut off, terminated, and the needed length returned. */
    char small[10];
    assert_int_equal(sk_stats_format(&st, SK_FORMAT_TEXT, small, sizeof small), strlen(text));
    assert_string_equal(small, "accepted=");
}

static void test_json_string(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(sk__json_string(buf, sizeof buf, "a\"b\\c\nd\te\x01"), strlen("\"a\\\"b\\\\c\\nd\\te\\u0001\""));
    assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
    assert_int_equal(sk__json_string(buf, sizeof buf, NULL), 2);
    assert_string_equal(buf, "\"\"");
    /* UTF-8 passes through as it is. */
    sk__json_string(buf, sizeof buf, "caf\xc3\xa9");
    assert_string_equal(buf, "\"caf\xc3\xa9\"");
    char tiny[4];
    assert_int_equal(sk__json_string(tiny, sizeof tiny, "abcdef"), 8);
    assert_string_equal(tiny, "\"ab");
}

static void tuple(sk_tuple *t)
{
    sk_addr a[1];
    assert_int_equal(sk_addr_resolve("127.0.0.1:5000", SOCK_STREAM, 0, a, 1), 1);
    t->peer = a[0];
    assert_int_equal(sk_addr_resolve("127.0.0.1:7007", SOCK_STREAM, 0, a, 1), 1);
    t->local = a[0];
}

static void test_events(void **state)
{
    (void)state;
    sk_tuple t;
    char buf[512];
    tuple(&t);

    sk_event open = {.kind = SK_EV_OPEN, .tuple = &t};
    sk_event_format(&open, SK_FORMAT_TEXT, buf, sizeof buf);
    assert_string_equal(buf, "open  127.0.0.1:5000 -> 127.0.0.1:7007");
    sk_event_format(&open, SK_FORMAT_JSON, buf, sizeof buf);
    assert_string_equal(buf, "{\"event\":\"open\",\"conn\":\"127.0.0.1:5000 -> 127.0.0.1:7007\"}");

    sk_event close = {.kind = SK_EV_CLOSE, .tuple = &t, .bytes_in = 3, .bytes_out = 4};
    sk_event_format(&close, SK_FORMAT_TEXT, buf, sizeof buf);
    assert_string_equal(buf, "close 127.0.0.1:5000 -> 127.0.0.1:7007 in=3 out=4");

    sk_event rej = {.kind = SK_EV_REJECT, .err = -EBUSY, .msg = "max-conns reached"};
    sk_event_format(&rej, SK_FORMAT_JSON, buf, sizeof buf);
    assert_string_equal(buf, "{\"event\":\"reject\",\"reason\":\"max-conns reached\"}");

    /* A warning without an error code names none; a message is escaped. */
    sk_event warn = {.kind = SK_EV_WARN, .msg = "odd \"peer\""};
    sk_event_format(&warn, SK_FORMAT_JSON, buf, sizeof buf);
    assert_string_equal(buf, "{\"event\":\"warn\",\"what\":\"odd \\\"peer\\\"\"}");
    warn.err = -EMFILE;
    sk_event_format(&warn, SK_FORMAT_TEXT, buf, sizeof buf);
    assert_string_equal(buf, "odd \"peer\": Too many open files");

    /* A data event names the chunk's direction, size and offset. */
    sk_event data = {.kind = SK_EV_DATA, .tuple = &t, .dir = SK_DATA_OUT, .data = "hi\n", .len = 3, .offset = 12};
    sk_event_format(&data, SK_FORMAT_TEXT, buf, sizeof buf);
    assert_string_equal(buf, "data  127.0.0.1:5000 -> 127.0.0.1:7007 out 3 bytes at 12");
    data.dir = SK_DATA_IN;
    sk_event_format(&data, SK_FORMAT_JSON, buf, sizeof buf);
    assert_string_equal(buf, "{\"event\":\"data\",\"conn\":\"127.0.0.1:5000 -> 127.0.0.1:7007\",\"dir\":\"in\","
                             "\"offset_bytes\":12,\"bytes\":3}");

    sk_stats st = {.accepted = 1, .closed = 1, .bytes_in = 2, .bytes_out = 2};
    sk_event sev = {.kind = SK_EV_STATS, .stats = &st};
    sk_event_format(&sev, SK_FORMAT_TEXT, buf, sizeof buf);
    assert_string_equal(buf, "stats accepted=1 active=0 closed=1 rejected=0 bytes_in=2 bytes_out=2 cut=0");
    sk_event_format(&sev, SK_FORMAT_JSON, buf, sizeof buf);
    assert_string_equal(buf, "{\"event\":\"stats\",\"accepted\":1,\"active\":0,\"closed\":1,\"rejected\":0,"
                             "\"bytes_in\":2,\"bytes_out\":2,\"cut\":0,\"fd_limit_refused\":0,\"fd_limit_paused\":0,"
                             "\"max_conns_refused\":0,\"max_conns_paused\":0,\"per_ip_refused\":0,\"slow_closed\":0,"
                             "\"rate_limited\":0,\"listen_overflows\":0,\"listen_drops\":0}");
}

static void test_conn_row(void **state)
{
    (void)state;
    sk_conn_info ci = {.age_ms = 12,
                       .bytes_in = 1,
                       .bytes_out = 2,
                       .tcp_state = TCP_ESTABLISHED,
                       .rtt_us = 30,
                       .rttvar_us = 15,
                       .retransmits = 0,
                       .snd_cwnd = 10};
    char buf[512];
    tuple(&ci.tuple);
    sk_conn_info_format(&ci, SK_FORMAT_JSON, buf, sizeof buf);
    assert_string_equal(buf, "{\"peer\":\"127.0.0.1:5000\",\"local\":\"127.0.0.1:7007\",\"age_ms\":12,\"bytes_in\":1,"
                             "\"bytes_out\":2,\"state\":\"ESTABLISHED\",\"rtt_us\":30,\"rttvar_us\":15,"
                             "\"retransmits\":0,\"snd_cwnd\":10}");
    sk_conn_info_format(&ci, SK_FORMAT_TEXT, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1:5000 -> 127.0.0.1:7007 ESTABLISHED age_ms=12 bytes_in=1 bytes_out=2 "
                             "rtt_us=30 rttvar_us=15 retransmits=0 snd_cwnd=10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_text_and_json),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_conn_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
