/*
 * store_open - the store that a configuration describes (redmilter.conf(5)):
 * Redis at `redis`, with lookups from `redis_read` first when it is set,
 * and a cache of lookups in front when asked.  Both programs get their
 * store here, so that they read the same Redis the same way.
 *
 * What differs between them is in opts: the pool size (0: the
 * configuration's redis_connections), a smallest call timeout (redmilterctl
 * gives an import's one MULTI/EXEC longer than redis_timeout), whether to
 * use the primary alone (redmilterctl, which writes), and how long a lookup
 * may be reused (cache_ms; 0: no cache), and where to tell that
 * redis_read is not fit to be read, or fit again (notice; NULL: nowhere;
 * see store_redis.h).
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
	long cache_ms;      /* keep lookups this long; 0: no cache */
	store_notice_fn notice; /* redis_read's fitness; NULL: not told */
};

struct store *store_open(const struct conf *, const struct store_open_opts *,
                         char *err, size_t errlen);

#endif
