/*
 * mono - the monotonic clock.  See mono.h.
 */
#include <time.h>

#include "mono.h"

/* mono_us - the monotonic clock in microseconds */
long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* mono_ms - the monotonic clock in milliseconds */
long long
mono_ms(void)
{
	return mono_us() / 1000;
}

/* mono_deadline - now + us microseconds, on the monotonic clock */
struct timespec
mono_deadline(long long us)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}
