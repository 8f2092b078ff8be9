/*
 * hits - each rule's hit count and last hit, kept in Redis (redmilter(8),
 * HIT COUNTERS; redmilterctl(8), get, list --hits, top, stale).
 *
 * One hash, "<prefix>_hits": for a rule named TABLE:KEY (as redmilterctl
 * names it), field "n:TABLE:KEY" holds its hits and "t:TABLE:KEY" the Unix
 * time of the last batch that counted one, by Redis's clock (TIME), so
 * that the milters of several hosts agree.
 *
 * hits_add() adds counts[i] to rules[i] for n rules, in calls of at most
 * HITS_BATCH rules to one Lua script (on the primary: store_eval()).
 * hits_read() reads n rules' counts into out (count 0 and last 0 for a
 * rule never hit), in HMGETs of at most HITS_BATCH rules.
 * Thread-safe as far as the store is.
 */
#ifndef HITS_H
#define HITS_H

#include <stddef.h>

#include "store.h"

#define HITS_BATCH 500

struct hit {
	long long count;
	long long last; /* Unix seconds; 0: never */
};

char *hits_key(const char *prefix);
enum store_status hits_add(struct store *, const char *prefix,
                           const char *const *rules, const long long *counts,
                           size_t n, char *err, size_t errlen);
enum store_status hits_read(struct store *, const char *prefix,
                            const char *const *rules, size_t n, struct hit *out,
                            char *err, size_t errlen);

#endif
