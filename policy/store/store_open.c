/*
 * store_open - the store that a configuration describes.  See store_open.h.
 */
#include <stddef.h>
#include <string.h>

#include "errbuf.h"
#include "store_open.h"
#include "store_redis.h"
#include "store_split.h"
#include "store_track.h"

/* open_one - the Redis store at one address; NULL with "key: ..." in err */
static struct store *
open_one(const struct conf *c, const struct store_open_opts *o, const char *key,
         const char *url, char *err, size_t errlen)
{
	struct store_redis_conf rc;
	struct store *st;
	char why[512];

	memset(&rc, 0, sizeof rc);
	rc.url = url;
	rc.password = c->redis_password;
	rc.sentinel_password = c->redis_sentinel_password;
	rc.timeout_ms = c->redis_timeout > o->min_timeout_ms
	                    ? c->redis_timeout
	                    : o->min_timeout_ms;
	rc.connections =
	    o->connections > 0 ? o->connections : c->redis_connections;
	if (strcmp(key, "redis_read") == 0) {
		/* A replica is read only while fit: redmilter.conf(5). */
		rc.check_role = key;
		rc.notice = o->notice;
	}
	if ((st = store_redis_open(&rc, why, sizeof why)) == NULL)
		errbuf_set(err, errlen, "%s: %s", key, why);
	return st;
}

/* store_open - Redis, a replica to read from, the cache: as c and o say */
struct store *
store_open(const struct conf *c, const struct store_open_opts *o, char *err,
           size_t errlen)
{
	struct store *st, *read, *primary, *tr;
	struct store_track_conf tc;

	if ((st = open_one(c, o, "redis", c->redis, err, errlen)) == NULL)
		return NULL;
	primary = st;
	if (c->redis_read != NULL && !o->primary_only) {
		read = open_one(c, o, "redis_read", c->redis_read, err, errlen);
		if (read == NULL) {
			st->close(st);
			return NULL;
		}
		st = store_split_new(read, st);
	}
	if (o->tables == NULL || !c->cache)
		return st;
	memset(&tc, 0, sizeof tc);
	tc.lookup = st;
	tc.redis = primary;
	tc.prefix = c->prefix;
	tc.tables = o->tables;
	tc.ntables = o->ntables;
	tc.cache_size = (size_t)c->cache_size;
	tc.reread_ms = (long long)c->cache_reread * 1000;
	tc.notice = o->notice;
	if ((tr = store_track_new(&tc, err, errlen)) == NULL)
		st->close(st);
	return tr;
}
