/* Unit tests run once per compiled event backend: level-triggered
 * readiness, changing and removing watches, and no stale event after an fd
 * number is reused (the io_uring generation check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sockit/loop.h>

typedef struct seen {
    int calls, events;
    void *data;
} seen;

static seen g_seen;

static void on_io(sk_loop *l, int fd, void *data, int events)
{
    (void)l;
    (void)fd;
    g_seen.calls++;
    g_seen.events |= events;
    g_seen.data = data;
}

static void reset(void) { memset(&g_seen, 0, sizeof g_seen); }

static void one_backend(const char *name)
{
    int err = 0, sv[2], sv2[2];
    int tag1 = 1, tag2 = 2;
    sk_loop *l = sk_loop_new(name, 1024, &err);
    assert_non_null(l);
    assert_string_equal(sk_loop_backend(l), name);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    /* Nothing to read: no event. */
    assert_int_equal(sk_loop_watch(l, sv[0], SK_READ, on_io, &tag1), 0);
    reset();
    sk_loop_once(l, 20);
    assert_int_equal(g_seen.calls, 0);

    /* Readable, and still readable next time since nobody read. */
    assert_int_equal(write(sv[1], "x", 1), 1);
    reset();
    sk_loop_once(l, 1000);
    assert_int_equal(g_seen.calls, 1);
    assert_int_equal(g_seen.events & SK_READ, SK_READ);
    assert_ptr_equal(g_seen.data, &tag1);
    reset();
    sk_loop_once(l, 1000);
    assert_int_equal(g_seen.calls, 1);

    /* Change to write interest. */
    assert_int_equal(sk_loop_watch(l, sv[0], SK_WRITE, on_io, &tag1), 0);
    assert_int_equal(sk_loop_watched(l, sv[0]), SK_WRITE);
    reset();
    sk_loop_once(l, 1000);
    assert_int_equal(g_seen.calls, 1);
    assert_int_equal(g_seen.events & SK_WRITE, SK_WRITE);

    /* Remove, close, reuse the fd numbers: no stale event for the new fd. */
    assert_int_equal(sk_loop_watch(l, sv[0], 0, NULL, NULL), 0);
    reset();
    sk_loop_once(l, 20);
    assert_int_equal(g_seen.calls, 0);
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
    assert_int_equal(sk_loop_watch(l, sv2[0], SK_READ, on_io, &tag2), 0);
    reset();
    sk_loop_once(l, 50);
    assert_int_equal(g_seen.calls, 0);
    assert_int_equal(write(sv2[1], "y", 1), 1);
    reset();
    sk_loop_once(l, 1000);
    assert_int_equal(g_seen.calls, 1);
    assert_ptr_equal(g_seen.data, &tag2);

    /* A peer that hangs up wakes a reader. */
    char c;
    assert_int_equal(read(sv2[0], &c, 1), 1);
    close(sv2[1]);
    reset();
    sk_loop_once(l, 1000);
    assert_int_equal(g_seen.calls, 1);
    assert_int_equal(g_seen.events & SK_READ, SK_READ);

    sk_loop_watch(l, sv2[0], 0, NULL, NULL);
    close(sv2[0]);
    sk_loop_free(l);
}

static void test_every_backend(void **state)
{
    (void)state;
    int n = 0;
    for (const char *const *b = sk_loop_backends(); *b; b++, n++)
        one_backend(*b);
    assert_true(n >= 3);
}

static void test_unknown_backend(void **state)
{
    int err = 0;
    (void)state;
    assert_null(sk_loop_new("kqueue", 64, &err));
    assert_int_equal(err, -22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_backend),
        cmocka_unit_test(test_unknown_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
