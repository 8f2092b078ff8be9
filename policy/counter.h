/*
 * counter - the counters of limit rules, kept in Redis (redmilterctl(8),
 * LIMITS, "Counting").
 *
 * A counter is one Redis hash: "<prefix>_limit:SUBJECT:VALUE" for a value
 * of its own (a login, a client address, an address lower-cased without
 * its extension), "<prefix>_limit:shared:SUBJECT:KEY" for everything a
 * shared rule's key matches.  Each term of a rate counts in 60 buckets of
 * PERIOD/60 (fields "m3600000:BUCKET", "r...": kind, period in ms, bucket),
 * summed over the last 61, so nothing counted is forgotten before PERIOD
 * has passed and everything is after PERIOD + PERIOD/60: never more than N
 * within any span of PERIOD, no doubling at a window's edge.  The time is
 * Redis's own (TIME, in the script), so milters whose clocks disagree
 * still count alike.
 *
 * counter_read() reads the counts of n counters in one round trip;
 * counter_add() adds msgs messages and rcpts recipients to each in one
 * round trip (count[] is left alone), dropping buckets that are over and
 * keeping the hash's expiry past its longest period.  Both run one Lua script,
 * atomically (store_eval(): EVALSHA, EVAL when Redis lost it).  counter_value()
 * is the value a subject counts under, malloc'd, or NULL (err set) for a client
 * address that is no address; counter_key() the counter's key, malloc'd.
 * Thread-safe as far as the store is.
 */
#ifndef COUNTER_H
#define COUNTER_H

#include <stddef.h>

#include "limit.h"
#include "store.h"

struct counter {
	const char *key;
	const struct limit *lim;
	long long msgs, rcpts;            /* counter_add(): what to add */
	long long count[LIMIT_TERMS_MAX]; /* per term; 0 for rcpts/msg */
};

char *counter_value(enum limit_subject, const char *text, const char *delims,
                    char *err, size_t errlen);
char *counter_key(const char *prefix, enum limit_subject, const char *rule_key,
                  const struct limit *, const char *value);
enum store_status counter_read(struct store *, struct counter *, size_t n,
                               char *err, size_t errlen);
enum store_status counter_add(struct store *, struct counter *, size_t n,
                              char *err, size_t errlen);

#endif
