/*
 * mono - the monotonic clock, for timeouts and ages (never the wall clock,
 * which an administrator may set back).  mono_deadline() is now + us
 * microseconds on that clock, as pthread_cond_timedwait() on a condition
 * with CLOCK_MONOTONIC and poll deadlines want it.  Thread-safe.
 */
#ifndef MONO_H
#define MONO_H

#include <stddef.h>
#include <time.h>

long long mono_us(void);
long long mono_ms(void);
struct timespec mono_deadline(long long us);

#endif
