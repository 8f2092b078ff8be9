/*
 * stats - what the milter counts for its metrics (redmilter.conf(5),
 * metrics; redmilter(8), METRICS).
 *
 * Every counter is a relaxed atomic, bumped on the decision path by the
 * thread that decided: no lock, no allocation, no I/O.  stats_decision()
 * counts one decision by stage, action and table (STATS_TABLE_NONE when no
 * rule decided) and its time in the histogram; stats_reply() a reply
 * sent (400..599); stats_redis_error() a failed Redis operation by kind;
 * stats_limit_refusal() a recipient a limit refused, by subject;
 * stats_greylist() n GREYLIST rules met, by what came of them.
 * stats_render() writes every family in Prometheus's text format
 * (version 0.0.4) into a malloc'd buffer, reading the counters as they
 * are (each one atomically, not all at one instant); the caller gives the
 * gauges and the store's counters it reads itself.  Labels take only the
 * fixed names below: never an address, a key or a reply text.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>

#include "greylist.h"
#include "limit.h"
#include "policy.h"
#include "table.h"

enum stats_action {
	STATS_ACCEPT,
	STATS_REJECT, /* a 5xx a rule chose */
	STATS_DEFER,  /* a 4xx a rule chose */
	STATS_DISCARD,
	STATS_HOLD,
	STATS_WARN,     /* only WARN rules met: accepted */
	STATS_GREYLIST, /* delayed by a GREYLIST rule */
	STATS_LIMIT,    /* refused by a limit */
	STATS_TEMPFAIL, /* our own 451: Redis failed, a rule is broken */
	STATS_ACTIONS
};

#define STATS_TABLE_NONE TABLE_COUNT /* no rule decided */
#define STATS_TABLES (TABLE_COUNT + 1)

enum stats_redis_error {
	STATS_ERR_LOOKUP,       /* a decision's lookup (GREYLIST's too) */
	STATS_ERR_LIMIT_CHECK,  /* reading limit counters */
	STATS_ERR_LIMIT_COMMIT, /* writing them at the end of a message */
	STATS_ERR_KINDS
};

/* What the caller reads for stats_render() itself. */
struct stats_extra {
	const char *version;
	long sessions;
	unsigned long redis_commands;
	unsigned long cache_hits, cache_misses;
	int tracking; /* -1: cache = off; 0: not ready; 1: ready */
};

void stats_decision(enum policy_stage, enum stats_action, int table,
                    long long us);
void stats_reply(int code);
void stats_redis_error(enum stats_redis_error);
void stats_limit_refusal(enum limit_subject);
void stats_greylist(enum grey_state, unsigned n);
char *stats_render(const struct stats_extra *, size_t *len);

#endif
