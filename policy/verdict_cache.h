/*
 * verdict_cache - whole decisions remembered for a while, so that a request
 * seen again costs one lookup instead of the ~60 candidate keys of its
 * tables.
 *
 * The key is the whole request: the stage and every field the MTA gave (a
 * field it did not give differs from an empty one).  verdict_cache_get()
 * fills v with a copy of a decision younger than ttl_ms and returns 1, or
 * returns 0 and leaves v alone.  verdict_cache_put() remembers a copy of v,
 * unless it is a store failure (VERDICT_ERR_STORE), which is never kept.
 * The decisions must come from a store whose own results are at most
 * (cache_ttl - ttl_ms) old, so that no answer rests on a lookup older than
 * cache_ttl in all: the milter splits cache_ttl between the two.
 *
 * A request of more than 1 kB in all (longer than any ordinary one) is
 * never kept, so that an entry costs at most a few kB.  At most
 * max_entries decisions are kept: a shard that reaches its share
 * drops its expired entries, then, if that was not enough, all of them.
 * Thread-safe: the table is split into shards, each behind its own mutex.
 * verdict_cache_free() accepts NULL.
 */
#ifndef VERDICT_CACHE_H
#define VERDICT_CACHE_H

#include <stddef.h>

#include "policy.h"

struct verdict_cache;

struct verdict_cache *verdict_cache_new(long ttl_ms, size_t max_entries);
int verdict_cache_get(struct verdict_cache *, const struct request *,
                      struct verdict *);
void verdict_cache_put(struct verdict_cache *, const struct request *,
                       const struct verdict *);
void verdict_cache_free(struct verdict_cache *);

#endif
