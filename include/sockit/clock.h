/* The monotonic clock every timer, deadline and latency in sockit is read
 * from: it never jumps when the wall clock is set. */
#ifndef SOCKIT_CLOCK_H
#define SOCKIT_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds, microseconds and nanoseconds on CLOCK_MONOTONIC, from an
 * arbitrary origin shared by the three (so they compare after scaling). */
int64_t sk_now_ms(void);
int64_t sk_now_us(void);
int64_t sk_now_ns(void);

/* A duration as people type it, into milliseconds: a bare number is
 * seconds ("1.5"), or a number with a unit: "250us" (rounded to ms), "500ms",
 * "5s", "2m", "1h". Returns 0, or -EINVAL for anything else (a sign, spaces,
 * an unknown unit, more than about 115 days). Every duration option of the
 * CLI and the services goes through this one parser. */
int sk_duration_parse(const char *text, int64_t *ms);

#ifdef __cplusplus
}
#endif

#endif
