/*
 * store_split - lookups from a replica, the rest from the primary.
 * See store_split.h.
 */
#include <stdlib.h>

#include "store_split.h"
#include "util.h"

struct store_split {
	struct store store; /* first: the struct store * is this */
	struct store *read;
	struct store *primary;
};

#define PRIMARY(st) (((struct store_split *)(st))->primary)

/* split_mget - the replica, then the primary if the replica failed */
static enum store_status
split_mget(struct store *st, const char *const *keys, size_t n,
           struct store_value *out, char *err, size_t errlen)
{
	struct store_split *s = (struct store_split *)st;

	if (s->read->mget(s->read, keys, n, out, err, errlen) == STORE_OK)
		return STORE_OK;
	return s->primary->mget(s->primary, keys, n, out, err, errlen);
}

/* split_get - the primary */
static enum store_status
split_get(struct store *st, const char *key, struct store_value *out,
          long long *ttl, char *err, size_t errlen)
{
	return PRIMARY(st)->get(PRIMARY(st), key, out, ttl, err, errlen);
}

/* split_put - the primary */
static enum store_status
split_put(struct store *st, const char *key, const char *val, size_t len,
          long long ttl, char *err, size_t errlen)
{
	return PRIMARY(st)->put(PRIMARY(st), key, val, len, ttl, err, errlen);
}

/* split_del - the primary */
static enum store_status
split_del(struct store *st, const char *key, char *err, size_t errlen)
{
	return PRIMARY(st)->del(PRIMARY(st), key, err, errlen);
}

/* split_scan - the primary */
static enum store_status
split_scan(struct store *st, const char *prefix, store_scan_fn fn, void *arg,
           char *err, size_t errlen)
{
	return PRIMARY(st)->scan(PRIMARY(st), prefix, fn, arg, err, errlen);
}

/* split_apply - the primary */
static enum store_status
split_apply(struct store *st, const struct store_op *ops, size_t n, char *err,
            size_t errlen)
{
	return PRIMARY(st)->apply(PRIMARY(st), ops, n, err, errlen);
}

/* split_lock - the primary */
static enum store_status
split_lock(struct store *st, const char *name, long long ms, char *err,
           size_t errlen)
{
	return PRIMARY(st)->lock(PRIMARY(st), name, ms, err, errlen);
}

/* split_unlock - the primary */
static enum store_status
split_unlock(struct store *st, const char *name, char *err, size_t errlen)
{
	return PRIMARY(st)->unlock(PRIMARY(st), name, err, errlen);
}

/* split_close - both */
static void
split_close(struct store *st)
{
	struct store_split *s = (struct store_split *)st;

	if (s == NULL)
		return;
	s->read->close(s->read);
	s->primary->close(s->primary);
	free(s);
}

/* store_split_new - lookups from read, everything else from primary */
struct store *
store_split_new(struct store *read, struct store *primary)
{
	struct store_split *s = xcalloc(1, sizeof *s);

	s->read = read;
	s->primary = primary;
	s->store.mget = split_mget;
	s->store.get = split_get;
	s->store.put = split_put;
	s->store.del = split_del;
	s->store.scan = split_scan;
	s->store.apply = split_apply;
	s->store.lock = split_lock;
	s->store.unlock = split_unlock;
	s->store.close = split_close;
	return &s->store;
}
