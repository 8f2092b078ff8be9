/*
 * store_track - a store that knows which rule keys exist and keeps their
 * values, kept fresh by Redis itself (server-assisted client-side caching,
 * redmilter.conf(5), "cache"), in front of the store lookups go to.
 *
 * store_track_new() takes lookup (the store of uncached lookups, which it
 * owns and closes: Redis, or a replica in front of it, store_split.h) and
 * redis, the Redis store (store_redis.h) of the primary inside it, which
 * the invalidation link (tracking.h) and the fills follow.  A thread of its
 * own, started by start() (store.h), opens the link, tracking each of the
 * key prefixes in tables (one a rule table: "redmilter:client:", ...; keys
 * under prefix outside them, the milter's own bookkeeping, are neither tracked
 * nor kept), then reads every key name under prefix into a keyset (keyset.h)
 * and is ready.
 *
 * While ready, mget() answers a key absent from the keyset "not found" and
 * a key whose value it holds (valtable.h, at most cache_size of them) with
 * that value, without asking anyone; it asks redis for the rest in one
 * round trip, with their PTTLs, and keeps what came unless an invalidation
 * arrived meanwhile (it may have been read before the change).  A value is
 * dropped when an invalidation names its key and when its TTL runs out, by
 * this process's clock.  A key Redis said it does not hold leaves the
 * keyset.
 *
 * Not ready (starting, the link lost, a PING unanswered, a flush, Redis
 * refusing tracking, a Sentinel's primary demoted) means forgetting
 * everything: mget() is lookup's until the link is back and the keyset
 * read again.  Every reread_ms the key names are read again into a new set
 * (what SWAPDB and DEBUG RELOAD change, Redis never reports) and the values
 * forgotten.  Every other call is lookup's.  notice (NULL: none) is told
 * "tracking ready: N rules, read in M ms", "tracking lost: WHY; every
 * decision asks Redis until it is back" (a warning) and, once until
 * tracking works, "tracking refused by Redis: WHY; every decision asks
 * Redis" (a warning); and of every rule change the link hears of, "rule
 * changed: TABLE:KEY", for the first 100 of a second, then "rule changed:
 * N more changes in a second, not logged one by one".  close() stops the
 * thread (within the store's timeout) and closes lookup.  Thread-safe.
 *
 * store_track_new() returns NULL with err set when it cannot make its
 * wake-up pipe (lookup is then the caller's to close).
 *
 * store_track_ready() says whether it is ready (tests and benchmarks).
 */
#ifndef STORE_TRACK_H
#define STORE_TRACK_H

#include <stddef.h>

#include "store.h"

struct store_track_conf {
	struct store *lookup; /* owned */
	struct store *redis;  /* the primary's store_redis, inside lookup */
	const char *prefix;   /* "redmilter:" */
	const char *const *tables; /* "redmilter:client:", ... */
	size_t ntables;
	size_t cache_size;      /* values kept at most */
	long long reread_ms;    /* full re-read of the key names this often */
	store_notice_fn notice; /* NULL: none */
};

struct store *store_track_new(const struct store_track_conf *, char *err,
                              size_t errlen);
int store_track_ready(struct store *);

#endif
