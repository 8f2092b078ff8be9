/*
 * hitbatch - rule hits counted in memory, handed over in one batch at
 * most once a second (redmilter(8), HIT COUNTERS).
 *
 * hitbatch_note() counts one hit of the rule TABLE:KEY.  It is for the
 * decision path: a short lock of one of HITBATCH_SHARDS shards, chosen by
 * the rule's keyed hash, and nothing that waits for the network.  A shard
 * keeps at most HITBATCH_SHARD_MAX rules between two batches; hits of
 * more are dropped and counted (hitbatch_dropped()).
 *
 * hitbatch_start() starts the thread that, once a second, takes what has
 * been counted and calls flush(rules, counts, n, arg) with it, when there
 * is any (the strings are valid during the call only).  hitbatch_stop()
 * wakes it, lets it hand over what is left, and joins it.  Before start
 * and after stop hitbatch_note() counts nothing.  Start and stop from one
 * thread; hitbatch_note() from any.  The thread blocks every signal.
 */
#ifndef HITBATCH_H
#define HITBATCH_H

#include <stddef.h>

#define HITBATCH_SHARDS 16
#define HITBATCH_SHARD_MAX 4096
#define HITBATCH_PERIOD_MS 1000

typedef void (*hitbatch_flush_fn)(const char *const *rules,
                                  const long long *counts, size_t n, void *arg);

int hitbatch_start(hitbatch_flush_fn flush, void *arg, char *err,
                   size_t errlen);
void hitbatch_note(const char *table, const char *key);
unsigned long hitbatch_dropped(void);
void hitbatch_stop(void);

#endif
