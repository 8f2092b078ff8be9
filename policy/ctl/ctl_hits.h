/*
 * ctl_hits - what redmilterctl's get, list --hits, top and stale share
 * about the rules' hit counters (ctl_hits.c; hits.h has the hash).
 *
 * A row is one rule: its name "TABLE:KEY" (malloc'd, freed by
 * ctl_hits_rows_free()), its value (borrowed from the caller) and its hit.
 * ctl_hits_read() fills the hits of n rows with one hits_read() (HMGETs of
 * HITS_BATCH rules) and ctl_hits_now() gives Redis's clock (TIME, in a
 * read-only script); both return CTL_OK, or CTL_STORE after a warning.
 *
 * The rest is pure: ctl_hits_rule() makes a name (malloc'd);
 * ctl_hits_when() writes a last hit as "2026-12-03T12:00:01Z", "never" for
 * 0, "?" for a time gmtime_r() cannot take, into buf and returns buf;
 * ctl_hits_number() parses a decimal from min to max (0, or -1 for
 * anything else); ctl_hits_stale() says whether a last hit is days or more
 * before now (never hit: always); ctl_hits_sort_top() orders rows by count,
 * highest first, then by name; ctl_hits_sort_stale() by last hit, never hit
 * first, then by name.  Not thread-safe: the store is redmilterctl's one.
 */
#ifndef CTL_HITS_H
#define CTL_HITS_H

#include <stddef.h>

#include "ctl.h"
#include "hits.h"

#define CTL_HITS_WHEN_SIZE 32 /* "never", "?" or an ISO 8601 UTC time */

struct ctl_hits_row {
	char *rule;      /* "TABLE:KEY", malloc'd */
	const char *val; /* the rule's value, borrowed */
	struct hit hit;
};

char *ctl_hits_rule(int table, const char *key);
void ctl_hits_rows_free(struct ctl_hits_row *, size_t);
int ctl_hits_read(struct ctl *, struct ctl_hits_row *, size_t);
int ctl_hits_now(struct ctl *, long long *now);
const char *ctl_hits_when(long long last, char *buf, size_t len);
int ctl_hits_number(const char *, long long min, long long max, long long *out);
int ctl_hits_stale(long long last, long long now, long long days);
void ctl_hits_sort_top(struct ctl_hits_row *, size_t);
void ctl_hits_sort_stale(struct ctl_hits_row *, size_t);

#endif
