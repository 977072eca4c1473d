/* Unit tests for sk_conn_defer(): a service hands blocking work away and
 * gets the result back on the connection's own thread, under the hybrid
 * model's pool and inline under the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sockit/sockit.h>

#define WORK_MS 300

/* What the service saw; atomics because loop and pool threads write. */
static int g_overlap;    /* on_data while a job was out */
static int g_wrong_home; /* done on another thread than on_data */
static int g_off_loop;   /* work on the loop thread (hybrid only) */
static int g_done_null;  /* done after the connection was gone */
static int g_jobs;
static int g_started; /* work() calls so far */
static int g_work_ms = WORK_MS;

typedef struct job {
    pthread_t loop;
    char line[64];
    size_t len;
} job;

typedef struct upper_state {
    int busy;
} upper_state;

static void work(void *arg)
{
    job *j = arg;
    int ms = __atomic_load_n(&g_work_ms, __ATOMIC_RELAXED);
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    if (pthread_equal(j->loop, pthread_self()))
        __atomic_fetch_add(&g_off_loop, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&g_started, 1, __ATOMIC_RELAXED);
    nanosleep(&ts, NULL);
    for (size_t i = 0; i < j->len; i++) {
        if (j->line[i] >= 'a' && j->line[i] <= 'z')
            j->line[i] = (char)(j->line[i] - 'a' + 'A');
    }
}

static void done(sk_conn *c, void *arg)
{
    job *j = arg;
    if (c == NULL) {
        __atomic_fetch_add(&g_done_null, 1, __ATOMIC_RELAXED);
        free(j);
        return;
    }
    if (!pthread_equal(j->loop, pthread_self()))
        __atomic_fetch_add(&g_wrong_home, 1, __ATOMIC_RELAXED);
    ((upper_state *)sk_conn_state(c))->busy = 0;
    sk_conn_write(c, j->line, j->len);
    __atomic_fetch_add(&g_jobs, 1, __ATOMIC_RELAXED);
    free(j);
}

/* One line at a time: uppercase it "slowly" in a deferred job. */
static int upper_data(sk_conn *c, const void *buf, size_t len)
{
    upper_state *st = sk_conn_state(c);
    const char *nl = memchr(buf, '\n', len);
    if (st->busy)
        __atomic_fetch_add(&g_overlap, 1, __ATOMIC_RELAXED);
    if (nl == NULL)
        return len >= 63 ? -1 : 0;
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return -1;
    j->loop = pthread_self();
    j->len = (size_t)(nl - (const char *)buf) + 1;
    memcpy(j->line, buf, j->len);
    st->busy = 1;
    size_t used = j->len; /* inline models have run done (and freed j) on return */
    if (sk_conn_defer(c, work, done, j) < 0) {
        free(j);
        return -1;
    }
    return (int)used;
}

static const sk_service upper = {
    .name = "upper",
    .conn_state_size = sizeof(upper_state),
    .on_data = upper_data,
};

typedef struct running {
    sk_server *srv;
    pthread_t tid;
    int rc;
} running;

static void *run_server(void *arg)
{
    running *r = arg;
    r->rc = sk_server_run(r->srv);
    return NULL;
}

static void start(running *r, sk_model model, int drain_ms)
{
    sk_server_config cfg = {
        .service = &upper,
        .listen = "127.0.0.1:0",
        .model = model,
        .workers = 2,
        .pool = 4,
        .drain_timeout_ms = drain_ms,
    };
    __atomic_store_n(&g_overlap, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_wrong_home, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_off_loop, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_done_null, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_jobs, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_started, 0, __ATOMIC_RELAXED);
    assert_int_equal(sk_server_open(&cfg, &r->srv), 0);
    assert_int_equal(pthread_create(&r->tid, NULL, run_server, r), 0);
}

static void stop(running *r)
{
    sk_server_stop(r->srv);
    pthread_join(r->tid, NULL);
    assert_int_equal(r->rc, 0);
    sk_server_free(r->srv);
}

static int dial(running *r)
{
    int fd = sk_tcp_connect(sk_server_address(r->srv), 1, 2000, NULL);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void read_exactly(int fd, const char *want)
{
    char got[128] = {0};
    size_t n = 0, len = strlen(want);
    while (n < len) {
        ssize_t k = recv(fd, got + n, len - n, 0);
        assert_true(k > 0);
        n += (size_t)k;
    }
    assert_string_equal(got, want);
}

/* Four clients, two lines each sent at once: answers in order, each line
 * after the previous job (no input while deferred), done on the loop
 * thread. Returns the wall time in ms. */
static int64_t four_clients(sk_model model)
{
    running r;
    int fds[4];

    start(&r, model, 5000);
    int64_t t0 = sk_now_ms();
    for (int i = 0; i < 4; i++) {
        fds[i] = dial(&r);
        assert_int_equal(sk_write_all(fds[i], "abc\ndef\n", 8), 8);
    }
    for (int i = 0; i < 4; i++) {
        read_exactly(fds[i], "ABC\nDEF\n");
        close(fds[i]);
    }
    int64_t ms = sk_now_ms() - t0;
    stop(&r);
    assert_int_equal(__atomic_load_n(&g_jobs, __ATOMIC_RELAXED), 8);
    assert_int_equal(__atomic_load_n(&g_overlap, __ATOMIC_RELAXED), 0);
    assert_int_equal(__atomic_load_n(&g_wrong_home, __ATOMIC_RELAXED), 0);
    return ms;
}

static void test_hybrid_pool(void **state)
{
    (void)state;
    int64_t ms = four_clients(SK_MODEL_HYBRID);
    /* 8 jobs of 300 ms on 4 pool threads: about 600 ms; inline on the two
     * loop threads it would be 1200 ms at least. */
    assert_true(ms < 1100);
    assert_int_equal(__atomic_load_n(&g_off_loop, __ATOMIC_RELAXED), 0);
}

static void test_inline_models(void **state)
{
    (void)state;
    __atomic_store_n(&g_work_ms, 20, __ATOMIC_RELAXED);
    four_clients(SK_MODEL_LOOP);
    four_clients(SK_MODEL_THREAD);
    __atomic_store_n(&g_work_ms, WORK_MS, __ATOMIC_RELAXED);
}

/* Stop while a job is out, with a drain shorter than the job: the
 * connection is closed and done still runs, with c == NULL. */
static void test_hybrid_close_while_deferred(void **state)
{
    running r;
    (void)state;
    /* Longer than the drain plus the loop's sweep period (500 ms). */
    __atomic_store_n(&g_work_ms, 1200, __ATOMIC_RELAXED);
    start(&r, SK_MODEL_HYBRID, 100);
    int fd = dial(&r);
    assert_int_equal(sk_write_all(fd, "slow\n", 5), 5);
    /* Stop once the job is surely out. */
    struct timespec ts = {.tv_nsec = 10 * 1000000L};
    for (int i = 0; i < 500 && __atomic_load_n(&g_started, __ATOMIC_RELAXED) == 0; i++)
        nanosleep(&ts, NULL);
    assert_int_equal(__atomic_load_n(&g_started, __ATOMIC_RELAXED), 1);
    stop(&r);
    close(fd);
    __atomic_store_n(&g_work_ms, WORK_MS, __ATOMIC_RELAXED);
    assert_int_equal(__atomic_load_n(&g_done_null, __ATOMIC_RELAXED), 1);
    assert_int_equal(__atomic_load_n(&g_jobs, __ATOMIC_RELAXED), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hybrid_pool),
        cmocka_unit_test(test_inline_models),
        cmocka_unit_test(test_hybrid_close_while_deferred),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
