/*
 * mono - the monotonic clock, for timeouts and ages (never the wall clock,
 * which an administrator may set back).  Thread-safe.
 */
#ifndef MONO_H
#define MONO_H

#include <stddef.h>

long long mono_us(void);
long long mono_ms(void);

#endif
