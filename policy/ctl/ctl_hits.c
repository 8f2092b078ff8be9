/*
 * ctl_hits - the rules' hit counters as redmilterctl shows them.  See
 * ctl_hits.h.
 *
 * Public: ctl_hits_rule(), ctl_hits_rows_free(), ctl_hits_read(),
 * ctl_hits_now(), ctl_hits_when(), ctl_hits_number(), ctl_hits_stale(),
 * ctl_hits_sort_top(), ctl_hits_sort_stale().  The counts are the
 * milter's, written by it at most once a second (redmilter(8), HIT
 * COUNTERS): what is read here lags by that much.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_hits.h"
#include "str.h"
#include "table.h"
#include "xmalloc.h"

#define DAY 86400LL

/* Redis's clock in seconds; it reads, so it is safe to send again. */
static const char now_body[] = "return {tonumber(redis.call('TIME')[1])}\n";

static struct store_script_text now_script = STORE_SCRIPT_TEXT(now_body);

/* ctl_hits_rule - "TABLE:KEY", malloc'd */
char *
ctl_hits_rule(int table, const char *key)
{
	const char *name = table_name((enum table)table);
	size_t len = strlen(name) + strlen(key) + 2;
	char *s = xmalloc(len);

	(void)snprintf(s, len, "%s:%s", name, key);
	return s;
}

/* ctl_hits_rows_free - free the names of n rows and the array */
void
ctl_hits_rows_free(struct ctl_hits_row *rows, size_t n)
{
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++)
		free(rows[i].rule);
	free(rows);
}

/*
 * ctl_hits_read - the hits of n rows, in one hits_read(); CTL_OK, or
 * CTL_STORE after a warning (the rows' hits are then 0)
 */
int
ctl_hits_read(struct ctl *c, struct ctl_hits_row *rows, size_t n)
{
	struct store *st = ctl_store(c);
	const char **names;
	struct hit *h;
	char err[512];
	enum store_status rc;
	size_t i;

	if (st == NULL)
		return CTL_STORE;
	if (n == 0)
		return CTL_OK;
	names = xcalloc(n, sizeof *names);
	h = xcalloc(n, sizeof *h);
	for (i = 0; i < n; i++)
		names[i] = rows[i].rule;
	rc = hits_read(st, c->conf.prefix, names, n, h, err, sizeof err);
	for (i = 0; i < n; i++)
		rows[i].hit = h[i];
	free(h);
	free(names);
	if (rc != STORE_OK) {
		ctl_warn("%s", err);
		return CTL_STORE;
	}
	return CTL_OK;
}

/*
 * ctl_hits_now - Redis's clock, in Unix seconds: the milter dates hits by
 * it, so this host's clock does not matter; CTL_OK, or CTL_STORE after a
 * warning
 */
int
ctl_hits_now(struct ctl *c, long long *now)
{
	struct store_script sc = {now_body, store_script_sha(&now_script), 1};
	struct store *st = ctl_store(c);
	char err[512];
	size_t got = 0;

	if (st == NULL)
		return CTL_STORE;
	if (store_eval(st, &sc, NULL, 0, NULL, 0, now, 1, &got, err,
	               sizeof err) != STORE_OK) {
		ctl_warn("%s", err);
		return CTL_STORE;
	}
	if (got != 1 || *now <= 0) {
		ctl_warn("Redis TIME: unexpected reply");
		return CTL_STORE;
	}
	return CTL_OK;
}

/* ctl_hits_when - a last hit as printed (ctl_hits.h) */
const char *
ctl_hits_when(long long last, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)last;

	if (last <= 0) {
		str_copy(buf, "never", len);
		return buf;
	}
	if ((long long)t != last || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(buf, "?", len);
	return buf;
}

/* ctl_hits_number - a decimal from min to max, nothing else (ctl_hits.h) */
int
ctl_hits_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long x;

	/* strtoll() would take blanks and a sign before the digits. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

/*
 * ctl_hits_stale - whether last is days or more before now, or never
 *
 * days is at most what ctl_hits_number() lets stale take, so the product
 * cannot overflow.
 */
int
ctl_hits_stale(long long last, long long now, long long days)
{
	return last <= 0 || last <= now - days * DAY;
}

/* by_count - the most hits first, then the name */
static int
by_count(const void *a, const void *b)
{
	const struct ctl_hits_row *x = a, *y = b;

	if (x->hit.count != y->hit.count)
		return x->hit.count > y->hit.count ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

/* by_last - never hit first, then the oldest last hit, then the name */
static int
by_last(const void *a, const void *b)
{
	const struct ctl_hits_row *x = a, *y = b;

	if (x->hit.last != y->hit.last)
		return x->hit.last < y->hit.last ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

/* ctl_hits_sort_top - for top (ctl_hits.h) */
void
ctl_hits_sort_top(struct ctl_hits_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof *rows, by_count);
}

/* ctl_hits_sort_stale - for stale (ctl_hits.h) */
void
ctl_hits_sort_stale(struct ctl_hits_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof *rows, by_last);
}
