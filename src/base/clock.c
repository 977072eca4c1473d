/* The monotonic clock (clock.h). */
#include <sockit/clock.h>

#include <time.h>

int64_t sk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sk_now_us(void) { return sk_now_ns() / 1000; }

int64_t sk_now_ms(void) { return sk_now_ns() / 1000000; }
