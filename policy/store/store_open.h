/*
 * store_open - the store that a configuration describes (redmilter.conf(5)):
 * Redis at `redis`, with lookups from `redis_read` first when it is set,
 * and, with `cache = on` and tables given, the tracked store in front
 * (store_track.h: which rule keys exist and their values, kept fresh by
 * Redis; its fills and its invalidation link go to `redis`).  Both programs get
 * their store here, so that they read the same Redis the same way.
 *
 * What differs between them is in opts: the pool size (0: the
 * configuration's redis_connections), a smallest call timeout (redmilterctl
 * gives an import's one MULTI/EXEC longer than redis_timeout), whether to
 * use the primary alone (redmilterctl, which writes), the key prefixes of
 * the rule tables to track (tables, ntables; NULL: no cache, as
 * redmilterctl and `redmilter -n` want), and where to tell that redis_read
 * is not fit to be read, or fit again, and how tracking goes (notice;
 * NULL: nowhere; see store_redis.h and store_track.h).
 *
 * store_open() connects to nothing (a Redis that is down must not stop the
 * milter from starting: it tempfails mail instead).  It returns the store,
 * which close() frees, or NULL with "KEY: problem" in err, KEY being the
 * setting at fault.  Thread-safe as the stores it builds are.
 */
#ifndef STORE_OPEN_H
#define STORE_OPEN_H

#include <stddef.h>

#include "conf.h"
#include "store.h"

struct store_open_opts {
	int connections;    /* pool size; 0: redis_connections */
	int min_timeout_ms; /* each call at least this long; 0: redis_timeout */
	int primary_only;   /* ignore redis_read */
	const char *const
	    *tables; /* "redmilter:client:", ...; NULL: no cache */
	size_t ntables;
	store_notice_fn notice; /* redis_read's fitness, tracking; NULL: none */
};

struct store *store_open(const struct conf *, const struct store_open_opts *,
                         char *err, size_t errlen);

#endif
