/* sk_tcpext_read: the kernel's TcpExt counters by name. A listener that
 * never accepts, with a backlog of 1, is sent more connections than its
 * queue holds: ListenOverflows must grow by at least one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sockit/sockdiag.h>

static void test_names(void **state)
{
    (void)state;
    const char *names[] = {"ListenOverflows", "NoSuchCounterHere", "ListenDrops"};
    int64_t v[3] = {7, 7, 7};
    int rc = sk_tcpext_read(names, 3, v);
    assert_int_equal(rc, 2);
    assert_true(v[0] >= 0);
    assert_int_equal(v[1], -1);
    assert_true(v[2] >= v[0]); /* the kernel counts every overflow as a drop too */
}

static void test_overflow_counted(void **state)
{
    (void)state;
    const char *names[] = {"ListenOverflows"};
    int64_t before, after;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), c[8];

    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    assert_int_equal(sk_tcpext_read(names, 1, &before), 1);
    for (int i = 0; i < 8; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(c[i] >= 0);
        int rc = connect(c[i], (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
    }
    /* The handshakes' last ACKs find the queue full: each one counted. */
    after = before;
    for (int i = 0; i < 100 && after == before; i++) {
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        assert_int_equal(sk_tcpext_read(names, 1, &after), 1);
    }
    assert_true(after > before);
    for (int i = 0; i < 8; i++)
        close(c[i]);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_overflow_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
