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

#ifdef __cplusplus
}
#endif

#endif
