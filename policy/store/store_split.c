/*
 * store_split - lookups from a replica, the rest from the primary.
 * See store_split.h.
 *
 * A read store that failed is left alone for SPLIT_HOLD_MS: lookups go
 * straight to the primary, so that a replica that hangs costs a whole
 * timeout once, not on every lookup.  When the time is up, one lookup
 * tries the read store again while the others keep to the primary; its
 * success puts every lookup back on the read store.  The hold is one atomic
 * variable: mget() is thread-safe when both stores are.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "store_split.h"
#include "mono.h"
#include "xmalloc.h"

#define SPLIT_HOLD_MS 1000 /* how long a failed read store is left alone */

struct store_split {
	struct store store; /* first: the struct store * is this */
	struct store *read;
	struct store *primary;
	atomic_llong hold; /* monotonic ms until which read is left alone; 0 */
};

#define PRIMARY(st) (((struct store_split *)(st))->primary)

/*
 * use_read - whether this lookup asks the read store: yes unless it failed
 * less than SPLIT_HOLD_MS ago; after that, yes for the one lookup that
 * moves the hold on first (it tries the read store again), no for others.
 */
static int
use_read(struct store_split *s)
{
	long long hold = atomic_load(&s->hold), now;

	if (hold == 0)
		return 1;
	if ((now = mono_ms()) < hold)
		return 0;
	return atomic_compare_exchange_strong(&s->hold, &hold,
	                                      now + SPLIT_HOLD_MS);
}

/* split_mget - the replica, then the primary if the replica failed */
static enum store_status
split_mget(struct store *st, const char *const *keys, size_t n,
           struct store_value *out, char *err, size_t errlen)
{
	struct store_split *s = (struct store_split *)st;

	if (use_read(s)) {
		if (s->read->mget(s->read, keys, n, out, err, errlen) ==
		    STORE_OK) {
			if (atomic_load(&s->hold) != 0)
				atomic_store(&s->hold, 0);
			return STORE_OK;
		}
		atomic_store(&s->hold, mono_ms() + SPLIT_HOLD_MS);
	}
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

/* split_eval - the primary: scripts that count write */
static enum store_status
split_eval(struct store *st, const struct store_script *sc,
           const char *const *keys, size_t nkeys, const char *const *args,
           size_t nargs, long long *out, size_t nout, size_t *got, char *err,
           size_t errlen)
{
	return store_eval(PRIMARY(st), sc, keys, nkeys, args, nargs, out, nout,
	                  got, err, errlen);
}

/* split_eval_all - the primary, as split_eval() */
static enum store_status
split_eval_all(struct store *st, const struct store_script *sc,
               const struct store_eval_run *runs, size_t n, long long *out,
               char *err, size_t errlen)
{
	return store_eval_all(PRIMARY(st), sc, runs, n, out, err, errlen);
}

/* split_hmget - the primary: a hash is read where its script writes it */
static enum store_status
split_hmget(struct store *st, const char *key, const char *const *fields,
            size_t n, struct store_value *out, long long *pttl, char *err,
            size_t errlen)
{
	return store_hmget(PRIMARY(st), key, fields, n, out, pttl, err, errlen);
}

/* split_xrevrange - the primary: the audit trail is written there */
static enum store_status
split_xrevrange(struct store *st, const char *key, const char *end,
                size_t count, struct store_entry **out, size_t *n, char *err,
                size_t errlen)
{
	return store_xrevrange(PRIMARY(st), key, end, count, out, n, err,
	                       errlen);
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

/* split_stats - both stores' counters */
static void
split_stats(struct store *st, struct store_stats *out)
{
	struct store_split *s = (struct store_split *)st;

	if (s->read->stats != NULL)
		s->read->stats(s->read, out);
	if (s->primary->stats != NULL)
		s->primary->stats(s->primary, out);
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
	s->store.eval = split_eval;
	s->store.eval_all = split_eval_all;
	s->store.hmget = split_hmget;
	s->store.xrevrange = split_xrevrange;
	s->store.stats = split_stats;
	s->store.close = split_close;
	return &s->store;
}
