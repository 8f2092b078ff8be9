/*
 * store_redis - the store on Redis, through hiredis (0.14 and 1.x).
 *
 * With a sentinel:// URL every new connection asks the Sentinels (in turn,
 * skipping those that are down) for the current primary and checks its
 * ROLE; a connection that fails or hears -READONLY is dropped, so the next
 * one follows a failover.
 *
 * store_redis_open() parses the URL and prepares a pool of at most
 * `connections` connections; it does not connect (the milter must start
 * while Redis is down), so it fails only for a bad URL, returning NULL with
 * err set.  Connections are made on first use and remade after any failure
 * (connect, AUTH, SELECT).  One call has timeout_ms in all, from its start:
 * the wait for a free connection, connecting and the command share it
 * (scan() excepted: each of its batches gets timeout_ms).  An mget() whose
 * pooled connection the server had closed connects again and is sent once
 * more within the same time.  All calls of the returned store are
 * thread-safe; close() must not race with them.
 *
 * With check_role set (the name of the setting, "redis_read"), the store is
 * a replica that lookups may be read from only while it is fit: its ROLE
 * says "master" (a replica promoted), or "slave" with the link to its
 * primary "connected".  ROLE goes in the same round trip as an mget (one
 * write, two replies): on every new connection, then once a second at
 * most (by the one lookup that finds the second over first), the others
 * relying on what it said last.  An mget on a server found unfit (link
 * down or coming up, a full sync, a ROLE refused or unexpected) fails,
 * without a round trip until the second is over, so that store_split asks
 * the primary.  A change is told to notice, when set: "NAME ADDRESS not
 * fit (WHY); reading from the primary" (a warning), at most once a
 * minute, and "NAME ADDRESS fit again; reading from it" after that.
 *
 * store_redis_mget_ttl() is mget() with each key's PTTL read in the same
 * round trip (the tracked store's fills, store_track.h).
 *
 * store_redis_drop() makes every pooled connection be made again at its
 * next use (one in use is dropped when it is next borrowed): the tracked
 * store calls it when the Sentinels name another primary.
 *
 * store_redis_stats() gives counters since open: connections made and
 * commands sent, for tests and benchmarks.
 */
#ifndef STORE_REDIS_H
#define STORE_REDIS_H

#include <stddef.h>

#include "store.h"

struct store_redis_conf {
	const char *url;      /* redis://... or unix:... */
	const char *password; /* overrides the URL's; NULL: the URL's */
	const char *sentinel_password; /* sentinel://: the Sentinels' */
	int timeout_ms;                /* one call, all its steps */
	int connections;               /* pool size, >= 1 */
	const char *check_role;        /* NULL; "redis_read": see above */
	store_notice_fn notice;        /* check_role's notices; NULL: none */
};

struct store_redis_stats {
	unsigned long connects;
	unsigned long commands;
};

struct store *store_redis_open(const struct store_redis_conf *, char *, size_t);
enum store_status store_redis_mget_ttl(struct store *, const char *const *keys,
                                       size_t n, struct store_value *out,
                                       long long *pttl, char *err,
                                       size_t errlen);
void store_redis_drop(struct store *);
void store_redis_stats(struct store *, struct store_redis_stats *);

#endif
