/*
 * store_cache - a store that remembers lookups for a while, in front of
 * another store.
 *
 * store_cache_new() wraps a backend: mget() answers each key from the cache
 * while its entry is younger than ttl_ms, found or not found alike, and
 * fetches all the other keys of the batch from the backend in one mget(),
 * so a decision still costs at most one round trip, and none once its keys
 * are cached.  A backend failure is returned as it is: nothing stale beyond
 * ttl_ms is ever served.  At most max_entries results are kept.  Writes
 * (put, del, apply) go to the backend and forget the keys they touch in
 * this cache; other processes' edits are seen within ttl_ms.  Every other
 * call is passed through.  close() closes the backend too.  Thread-safe when
 * the backend is: the cache is split into shards, each with its own lock.
 *
 * store_cache_stats() gives hits and misses since creation.
 */
#ifndef STORE_CACHE_H
#define STORE_CACHE_H

#include <stddef.h>

#include "store.h"

struct store_cache_stats {
	unsigned long hits;
	unsigned long misses;
};

struct store *store_cache_new(struct store *backend, long ttl_ms,
                              size_t max_entries);
void store_cache_stats(struct store *, struct store_cache_stats *);

#endif
