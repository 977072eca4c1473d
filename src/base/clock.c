/* The monotonic clock (clock.h). */
#include <sockit/clock.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline struct timespec mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

int64_t sk_now_ns(void)
{
    struct timespec ts = mono();
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Not sk_now_ns() / 1000: the loop reads this once per wakeup. */
int64_t sk_now_us(void)
{
    struct timespec ts = mono();
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sk_now_ms(void) { return sk_now_ns() / 1000000; }

int sk_duration_parse(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"us", 0.001}, {"m", 60000}, {"h", 3600000}};
    char *end;

    if (s == NULL || s[0] == '\0' || isspace((unsigned char)s[0]) || s[0] == '-' || s[0] == '+')
        return -EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v) || v < 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        double out = v * units[i].ms;
        /* A bare number (seconds) keeps its old ceiling; about 115 days. */
        if (out > 1e10)
            return -EINVAL;
        *ms = (int64_t)(out + 0.5);
        return 0;
    }
    return -EINVAL;
}
