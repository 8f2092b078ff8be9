/*
 * stats - the milter's counters and their Prometheus text.  See stats.h.
 *
 * Public: stats_decision(), stats_reply(), stats_redis_error(),
 * stats_limit_refusal(), stats_greylist(), stats_render().
 *
 * The histogram's buckets run from 50 microseconds (a decision answered
 * from memory) to 10 seconds (past any redis_timeout: a lookup waiting for
 * a pooled connection, a slow Redis), two or three a decade, so that a
 * quantile read from them is within a factor of about 2.5.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "xmalloc.h"

static const long long bucket_us[] = {
    50,    100,    250,    500,    1000,    2500,    5000,    10000,    25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])
#define NSTAGES 4
#define CODE_MIN 400
#define CODE_MAX 599

static atomic_ulong decisions[NSTAGES][STATS_ACTIONS][STATS_TABLES];
static atomic_ulong buckets[NBUCKETS + 1]; /* the last: +Inf */
static atomic_ullong sum_us;
static atomic_ulong replies[CODE_MAX - CODE_MIN + 1];
static atomic_ulong redis_errors[STATS_ERR_KINDS];
static atomic_ulong limit_refusals[LIMIT_SUBJECTS];
static atomic_ulong greylist[GREY_CLIENT + 1];

static const char *const stage_names[NSTAGES] = {"connect", "helo", "mail",
                                                 "rcpt"};
static const char *const action_names[STATS_ACTIONS] = {
    [STATS_ACCEPT] = "accept",     [STATS_REJECT] = "reject",
    [STATS_DEFER] = "defer",       [STATS_DISCARD] = "discard",
    [STATS_HOLD] = "hold",         [STATS_WARN] = "warn",
    [STATS_GREYLIST] = "greylist", [STATS_LIMIT] = "limit",
    [STATS_TEMPFAIL] = "tempfail",
};
static const char *const error_names[STATS_ERR_KINDS] = {
    [STATS_ERR_LOOKUP] = "lookup",
    [STATS_ERR_LIMIT_CHECK] = "limit_check",
    [STATS_ERR_LIMIT_COMMIT] = "limit_commit",
};

/* stats_decision - one decision, and its time */
void
stats_decision(enum policy_stage stage, enum stats_action a, int table,
               long long us)
{
	size_t b = 0;

	if ((unsigned)stage >= NSTAGES || (unsigned)a >= STATS_ACTIONS ||
	    table < 0 || table >= STATS_TABLES)
		return;
	atomic_fetch_add_explicit(&decisions[stage][a][table], 1,
	                          memory_order_relaxed);
	if (us < 0)
		us = 0;
	while (b < NBUCKETS && us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sum_us, (unsigned long long)us,
	                          memory_order_relaxed);
}

/* stats_reply - a reply sent to the MTA */
void
stats_reply(int code)
{
	if (code >= CODE_MIN && code <= CODE_MAX)
		atomic_fetch_add_explicit(&replies[code - CODE_MIN], 1,
		                          memory_order_relaxed);
}

void
stats_redis_error(enum stats_redis_error k)
{
	if ((unsigned)k < STATS_ERR_KINDS)
		atomic_fetch_add_explicit(&redis_errors[k], 1,
		                          memory_order_relaxed);
}

void
stats_limit_refusal(enum limit_subject s)
{
	if ((unsigned)s < LIMIT_SUBJECTS)
		atomic_fetch_add_explicit(&limit_refusals[s], 1,
		                          memory_order_relaxed);
}

void
stats_greylist(enum grey_state s, unsigned n)
{
	if (s >= GREY_NEW && s <= GREY_CLIENT)
		atomic_fetch_add_explicit(&greylist[s], n,
		                          memory_order_relaxed);
}

/* A growing buffer of text. */
struct text {
	char *p;
	size_t len, size;
};

/* put - printf onto the text */
static void put(struct text *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->size - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->size - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->size = 2 * t->size + (size_t)n;
		t->p = xrealloc(t->p, t->size);
	}
}

/* family - a family's HELP and TYPE lines */
static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long
get(atomic_ulong *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

/* render_decisions - the decisions' counters and histogram */
static void
render_decisions(struct text *t)
{
	unsigned long cum = 0, n;
	size_t s, a, b;
	int tb;

	family(t, "redmilter_decisions_total", "counter",
	       "Decisions by stage, action and deciding table.");
	for (s = 0; s < NSTAGES; s++)
		for (a = 0; a < STATS_ACTIONS; a++)
			for (tb = 0; tb < STATS_TABLES; tb++)
				if ((n = get(&decisions[s][a][tb])) > 0)
					put(t,
					    "redmilter_decisions_total{stage="
					    "\"%s\",action=\"%s\",table=\"%s\"}"
					    " %lu\n",
					    stage_names[s], action_names[a],
					    tb == STATS_TABLE_NONE
					        ? "none"
					        : table_name((enum table)tb),
					    n);
	family(t, "redmilter_decision_seconds", "histogram",
	       "Time of a decision, from the callback's start to its reply.");
	for (b = 0; b <= NBUCKETS; b++) {
		cum += get(&buckets[b]);
		if (b < NBUCKETS)
			put(t,
			    "redmilter_decision_seconds_bucket{le=\"%g\"} "
			    "%lu\n",
			    (double)bucket_us[b] / 1e6, cum);
		else
			put(t,
			    "redmilter_decision_seconds_bucket{le=\"+Inf\"} "
			    "%lu\n",
			    cum);
	}
	put(t, "redmilter_decision_seconds_sum %.6f\n",
	    (double)atomic_load_explicit(&sum_us, memory_order_relaxed) / 1e6);
	put(t, "redmilter_decision_seconds_count %lu\n", cum);
}

/* render_rest - every other family */
static void
render_rest(struct text *t, const struct stats_extra *x)
{
	size_t i;

	family(t, "redmilter_replies_total", "counter",
	       "Replies sent to the MTA, by SMTP code.");
	for (i = 0; i <= CODE_MAX - CODE_MIN; i++)
		if (get(&replies[i]) > 0)
			put(t, "redmilter_replies_total{code=\"%zu\"} %lu\n",
			    i + CODE_MIN, get(&replies[i]));
	family(t, "redmilter_redis_commands_total", "counter",
	       "Commands sent to Redis.");
	put(t, "redmilter_redis_commands_total %lu\n", x->redis_commands);
	family(t, "redmilter_redis_errors_total", "counter",
	       "Redis operations that failed, by kind.");
	for (i = 0; i < STATS_ERR_KINDS; i++)
		put(t, "redmilter_redis_errors_total{kind=\"%s\"} %lu\n",
		    error_names[i], get(&redis_errors[i]));
	family(t, "redmilter_cache_hits_total", "counter",
	       "Rule lookups answered from memory (cache = on).");
	put(t, "redmilter_cache_hits_total %lu\n", x->cache_hits);
	family(t, "redmilter_cache_misses_total", "counter",
	       "Rule lookups that went to Redis.");
	put(t, "redmilter_cache_misses_total %lu\n", x->cache_misses);
	family(t, "redmilter_tracking_up", "gauge",
	       "1 while Redis tells the milter of every change (cache = on).");
	put(t, "redmilter_tracking_up %d\n", x->tracking > 0);
	family(t, "redmilter_sessions", "gauge", "SMTP sessions open.");
	put(t, "redmilter_sessions %ld\n", x->sessions);
	family(t, "redmilter_limit_refusals_total", "counter",
	       "Recipients refused by a limit, by subject.");
	for (i = 0; i < LIMIT_SUBJECTS; i++)
		put(t, "redmilter_limit_refusals_total{subject=\"%s\"} %lu\n",
		    limit_subject_name((enum limit_subject)i),
		    get(&limit_refusals[i]));
	family(t, "redmilter_greylist_total", "counter",
	       "GREYLIST rules met, by result.");
	for (i = GREY_NEW; i <= GREY_CLIENT; i++)
		put(t, "redmilter_greylist_total{result=\"%s\"} %lu\n",
		    greylist_state_name((enum grey_state)i), get(&greylist[i]));
	family(t, "redmilter_build_info", "gauge", "The milter's version.");
	put(t, "redmilter_build_info{version=\"%s\"} 1\n", x->version);
}

/* stats_render - every family, malloc'd; *len its length */
char *
stats_render(const struct stats_extra *x, size_t *len)
{
	struct text t = {xmalloc(8192), 0, 8192};

	t.p[0] = '\0';
	render_decisions(&t);
	render_rest(&t, x);
	*len = t.len;
	return t.p;
}
