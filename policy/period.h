/*
 * period - a span of time as rules write it (redmilterctl(8), LIMITS and
 * GREYLISTING): "[N]s|m|h|d", the number optional ("h" is "1h").
 *
 * period_parse() reads one such word (pointer and length) and returns its
 * seconds, 1 to max, or -1 with a message in err that starts with what
 * ("limit", "GREYLIST") and quotes ctx, the word as the rule wrote it
 * (for a limit the whole term, "msgs/2x"): unknown unit, a period of 0,
 * longer than max.  period_text() writes seconds back in the largest unit
 * that divides them ("90s", "5m", "2d").  Thread-safe.
 */
#ifndef PERIOD_H
#define PERIOD_H

#include <stddef.h>

#define PERIOD_TEXT_MAX 24

long long period_parse(const char *, size_t, long long max, const char *what,
                       const char *ctx, char *, size_t);
void period_text(long long, char *, size_t);

#endif
