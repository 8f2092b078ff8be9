/*
 * period - see period.h.  Public: period_parse(), period_text().
 *
 * The word is read as pointer and length, never past len.  Digits that
 * overflow are held at a value past any max, so a huge number reads as too
 * long, never wraps.
 */
#include <stdio.h>
#include <stdlib.h>

#include "errbuf.h"
#include "period.h"
#include "str.h"

#define HUGE_PERIOD (1LL << 50) /* past any max, far from overflow */

static const struct {
	char c;
	long long secs;
} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

#define NUNITS (sizeof units / sizeof units[0])

/* period_parse - "[N]s|m|h|d" in seconds, or -1 with err set */
long long
period_parse(const char *p, size_t n, long long max, const char *what,
             const char *ctx, char *err, size_t errlen)
{
	long long v = 1, secs = 0;
	size_t i = 0, k;

	if (n > 0 && p[0] >= '0' && p[0] <= '9') {
		v = 0;
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			v = v >= HUGE_PERIOD ? HUGE_PERIOD
			                     : v * 10 + (p[i] - '0');
	}
	for (k = 0; i + 1 == n && k < NUNITS; k++)
		if ((p[i] | 0x20) == units[k].c)
			secs = units[k].secs;
	if (secs == 0) {
		char *q = str_sanitize(p + i, n - i, 40);

		errbuf_set(err, errlen,
		           "%s: unknown unit \"%s\" in \"%s\"; expected s, m, "
		           "h or d",
		           what, q, ctx);
		free(q);
		return -1;
	}
	if (v == 0)
		return errbuf_set(err, errlen, "%s: a period of 0 in \"%s\"",
		                  what, ctx);
	if (v > max / secs) {
		char m[PERIOD_TEXT_MAX];

		period_text(max, m, sizeof m);
		return errbuf_set(err, errlen,
		                  "%s: period of \"%s\" is longer than %s",
		                  what, ctx, m);
	}
	return v * secs;
}

/* period_text - seconds in the largest unit that divides them */
void
period_text(long long secs, char *buf, size_t len)
{
	size_t k;

	for (k = 0; k < NUNITS - 1; k++)
		if (secs > 0 && secs % units[k].secs == 0)
			break;
	(void)snprintf(buf, len, "%lld%c", secs / units[k].secs, units[k].c);
}
