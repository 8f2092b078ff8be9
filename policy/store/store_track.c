/*
 * store_track - rule keys and values in memory, kept fresh by Redis.  See
 * store_track.h.
 *
 * A read-write lock guards the keyset, ready and epoch, a mutex the
 * values (a read marks a value used, or drops it at its TTL).  A lookup
 * read-locks the first, and takes the mutex too only for the few keys the
 * keyset holds; it never holds either across a round trip.  Whoever
 * changes anything (the link's thread applying an invalidation, a lookup
 * keeping what its round trip read) takes both, the lock first.  epoch counts
 * what could make a value read before it wrong (an invalidation, a flush, the
 * link lost): a fill is kept only if epoch did not move while it was in flight.
 *
 * The keyset is what may exist: a superset of the rule keys is safe (a key
 * it holds in vain costs one lookup, after which it leaves the set), a key
 * missing from it is not.  Built as SCAN's names plus every key named by an
 * invalidation since the link subscribed (SUBSCRIBE comes before the first
 * SCAN), it is a superset of what exists from then on.
 */
#include <poll.h>
#include <pthread.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "keyset.h"
#include "mono.h"
#include "store_redis.h"
#include "store_track.h"
#include "str.h"
#include "tracking.h"
#include "valtable.h"
#include "xmalloc.h"

#define PING_MS 250            /* the link's liveness PING */
#define ROLE_MS 1000           /* a Sentinel's primary's ROLE checked */
#define RETRY_MS_MIN 100       /* the link lost: first retry */
#define RETRY_MS_MAX 1000      /* ... doubling up to this */
#define REFUSED_RETRY_MS 30000 /* Redis refused tracking: ask again */
#define NAME_MAX_BYTES 4096    /* a longer key name is never a rule's */
#define STACK_KEYS 128         /* a lookup of more keys allocates its arrays */
#define CHANGES_SAID 100       /* "rule changed" lines a second; then a sum */
#define CHANGE_NAME_MAX 300    /* of a changed rule's name in its line */

struct track {
	struct store store; /* first: the struct store * is this */
	struct store *lookup, *redis;
	char *prefix;
	char **tables;
	size_t ntables;
	long long reread_ms;
	store_notice_fn notice;
	struct hash_key hkey; /* of every keyset's names */

	atomic_ulong hits, misses; /* rule keys from memory, from Redis */
	pthread_rwlock_t rw; /* ready, epoch, keys: lookups read them at once */
	pthread_mutex_t mu;  /* vals, which a read changes too */
	int ready;
	unsigned long epoch;
	struct keyset keys;
	struct valtable *vals;

	/* the link's thread only */
	pthread_t thread;
	int started;         /* by start(); close() joins it */
	int wake[2];         /* close() writes to wake[1] */
	struct keyset fresh; /* being read, while building */
	int building;
	int flushed; /* a flush was heard: read the names again */
	int refused_said;
	long long changes_at;  /* mono_ms(): the second changes are told in */
	unsigned long changes; /* heard in it; past CHANGES_SAID, counted */
};

/* wr_lock - everything, to change it: rw, then mu (always that order) */
static void
wr_lock(struct track *t)
{
	pthread_rwlock_wrlock(&t->rw);
	pthread_mutex_lock(&t->mu);
}

static void
wr_unlock(struct track *t)
{
	pthread_mutex_unlock(&t->mu);
	pthread_rwlock_unlock(&t->rw);
}

/* say - a notice, printf-like */
static void __attribute__((format(printf, 3, 4)))
say(struct track *t, int warning, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (t->notice == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	t->notice(warning, msg);
}

/* is_rule - whether a key name is under one of the tracked tables */
static int
is_rule(const struct track *t, const char *key, size_t len)
{
	size_t i, n;

	if (len > NAME_MAX_BYTES)
		return 0;
	for (i = 0; i < t->ntables; i++) {
		n = strlen(t->tables[i]);
		if (len > n && memcmp(key, t->tables[i], n) == 0)
			return 1;
	}
	return 0;
}

/* changes_summed - at a second's end, how many changes went untold */
static void
changes_summed(struct track *t, long long now)
{
	if (now - t->changes_at < 1000)
		return;
	if (t->changes > CHANGES_SAID)
		say(t, 0,
		    "rule changed: %lu more changes in a second, not logged "
		    "one by one",
		    t->changes - CHANGES_SAID);
	t->changes_at = now;
	t->changes = 0;
}

/*
 * told - "rule changed: TABLE:KEY" for a change the link heard of, the
 * first CHANGES_SAID of a second; the rest are summed up (changes_summed)
 */
static void
told(struct track *t, const char *key, size_t len)
{
	size_t plen = strlen(t->prefix);
	char *name;

	changes_summed(t, mono_ms());
	if (t->notice == NULL || t->changes++ >= CHANGES_SAID || len <= plen)
		return;
	name = str_sanitize(key + plen, len - plen, CHANGE_NAME_MAX);
	say(t, 0, "rule changed: %s", name);
	free(name);
}

/* forget - nothing known, nothing ready (wr_lock() held) */
static void
forget(struct track *t)
{
	t->ready = 0;
	t->epoch++;
	keyset_clear(&t->keys);
	valtable_clear(t->vals);
}

/* on_change - an invalidation from the link: a key, or NULL for a flush */
static void
on_change(void *arg, const char *key, size_t len)
{
	struct track *t = arg;
	char name[NAME_MAX_BYTES + 1];
	uint64_t h;

	if (key == NULL) {
		wr_lock(t);
		forget(t);
		wr_unlock(t);
		t->flushed = 1;
		return;
	}
	if (!is_rule(t, key, len))
		return;
	told(t, key, len);
	memcpy(name, key, len);
	name[len] = '\0';
	h = keyset_hash(&t->hkey, key, len);
	wr_lock(t);
	t->epoch++;
	if (t->ready) {
		keyset_add(&t->keys, h);
		valtable_del(t->vals, name);
	}
	wr_unlock(t);
	if (t->building)
		keyset_add(&t->fresh, h);
}

/* on_name - a key name from SCAN, into the set being built */
static void
on_name(void *arg, const char *key, size_t len)
{
	struct track *t = arg;

	if (is_rule(t, key, len))
		keyset_add(&t->fresh, keyset_hash(&t->hkey, key, len));
}

/*
 * build - read every key name into a new set, then make it current with
 * no values: 0, 1 when woken to stop, -1 with err set
 */
static int
build(struct track *t, struct track_link *l, long long *ms, char *err,
      size_t errlen)
{
	long long t0 = mono_ms();
	int r;

	keyset_init(&t->fresh);
	t->building = 1;
	t->flushed = 0;
	r = track_scan(l, t->prefix, on_name, t, t->wake[0], on_change, t, err,
	               errlen);
	t->building = 0;
	if (r == 0) {
		wr_lock(t);
		keyset_swap(&t->keys, &t->fresh);
		valtable_clear(t->vals);
		t->epoch++;
		t->ready = 1;
		wr_unlock(t);
		/* a flush during the SCAN: what it read is a superset still */
		t->flushed = 0;
	}
	keyset_free(&t->fresh);
	*ms = mono_ms() - t0;
	return r;
}

/* rules - how many names the current set holds */
static size_t
rules(struct track *t)
{
	size_t n;

	pthread_rwlock_rdlock(&t->rw);
	n = t->keys.n;
	pthread_rwlock_unlock(&t->rw);
	return n;
}

/*
 * follow - keep the set current from the link until it is lost (-1, err
 * set) or close() wakes the thread (1)
 */
static int
follow(struct track *t, struct track_link *l, char *err, size_t errlen)
{
	long long now, reread_at = mono_ms() + t->reread_ms, role_at = 0,
	               ping_at = 0, ms;
	int r;

	for (;;) {
		now = mono_ms();
		if (now >= ping_at) {
			if (track_ping(l, err, errlen) != 0)
				return -1;
			ping_at = now + PING_MS;
		}
		if (now >= role_at) {
			if ((r = track_role(l, err, errlen)) < 0)
				return -1;
			if (r == 0) {
				/* and the lookups' connections with it */
				store_redis_drop(t->redis);
				return -1;
			}
			role_at = now + ROLE_MS;
		}
		if (t->flushed || now >= reread_at) {
			int flushed = t->flushed;

			if ((r = build(t, l, &ms, err, errlen)) != 0)
				return r;
			if (flushed)
				say(t, 0,
				    "tracking ready after a flush: %zu rules, "
				    "read in %lld ms",
				    rules(t), ms);
			reread_at = mono_ms() + t->reread_ms;
			continue;
		}
		changes_summed(t, now);
		if ((r = track_poll(l, (int)(ping_at - now), t->wake[0],
		                    on_change, t, err, errlen)) != 0)
			return r;
	}
}

/* pause_for - sleep ms, or less when woken: 1 when woken */
static int
pause_for(struct track *t, long long ms)
{
	struct pollfd p = {t->wake[0], POLLIN, 0};

	return poll(&p, 1, (int)ms) > 0;
}

/* run - the link's thread: open, build, follow; forget and retry on loss */
static void *
run(void *arg)
{
	struct track *t = arg;
	long long retry = RETRY_MS_MIN, ms;
	struct track_link *l;
	char err[512];
	int refused, r;

	for (;;) {
		if ((l = track_open(t->redis, (const char *const *)t->tables,
		                    t->ntables, &refused, err, sizeof err)) ==
		    NULL) {
			if (refused && !t->refused_said) {
				say(t, 1,
				    "tracking refused by Redis: %s; every "
				    "decision asks Redis",
				    err);
				t->refused_said = 1;
			}
			if (pause_for(t, refused ? REFUSED_RETRY_MS : retry))
				return NULL;
			retry =
			    retry * 2 < RETRY_MS_MAX ? retry * 2 : RETRY_MS_MAX;
			continue;
		}
		if ((r = build(t, l, &ms, err, sizeof err)) == 0) {
			t->refused_said = 0;
			retry = RETRY_MS_MIN;
			say(t, 0, "tracking ready: %zu rules, read in %lld ms",
			    rules(t), ms);
			r = follow(t, l, err, sizeof err);
		}
		track_close(l);
		wr_lock(t);
		forget(t);
		wr_unlock(t);
		if (r > 0)
			return NULL;
		say(t, 1,
		    "tracking lost: %s; every decision asks Redis until it is "
		    "back",
		    err);
		if (pause_for(t, retry))
			return NULL;
	}
}

/*
 * known - with rw read-locked, each key answered from memory into out[],
 * the others' indexes into ask[]; their number, or -1 when not ready
 */
static long
known(struct track *t, const char *const *keys, const uint64_t *h, size_t n,
      struct store_value *out, size_t *ask, unsigned long *epoch)
{
	long long now = mono_ms();
	size_t i, j, m = 0;

	if (!t->ready)
		return -1;
	*epoch = t->epoch;
	for (i = 0; i < n; i++) {
		out[i].status = STORE_NOTFOUND;
		out[i].val = NULL;
		out[i].len = 0;
		if (keyset_has(&t->keys, h[i]))
			ask[m++] = i;
	}
	if (m == 0)
		return 0;
	/* the few that may exist: which values are held */
	pthread_mutex_lock(&t->mu);
	for (i = j = 0; i < m; i++) {
		struct store_value *o = &out[ask[i]];

		if (valtable_get(t->vals, keys[ask[i]], now, &o->val, &o->len))
			o->status = STORE_OK;
		else
			ask[j++] = ask[i];
	}
	pthread_mutex_unlock(&t->mu);
	return (long)j;
}

/*
 * keep - under mu, what a fill read at `sent` (mono_ms()) into memory,
 * unless something changed since epoch: a value with its TTL, a key
 * Redis does not hold out of the keyset
 */
static void
keep(struct track *t, const char *const *keys, const uint64_t *h,
     const size_t *ask, size_t m, const struct store_value *got,
     const long long *pttl, unsigned long epoch, long long sent)
{
	size_t j;

	if (!t->ready || t->epoch != epoch)
		return;
	for (j = 0; j < m; j++) {
		if (got[j].status != STORE_OK) {
			keyset_del(&t->keys, h[ask[j]]);
			valtable_del(t->vals, keys[ask[j]]);
		} else if (pttl[j] == -1) {
			valtable_put(t->vals, keys[ask[j]], got[j].val,
			             got[j].len, 0);
		} else if (pttl[j] > 0) {
			valtable_put(t->vals, keys[ask[j]], got[j].val,
			             got[j].len, sent + pttl[j]);
		}
	}
}

/* fill - ask redis for the keys of ask[], keep them, and answer them */
static enum store_status
fill(struct track *t, const char *const *keys, const uint64_t *h,
     const size_t *ask, size_t m, unsigned long epoch, struct store_value *out,
     char *err, size_t errlen)
{
	const char **sub = xcalloc(m, sizeof *sub);
	struct store_value *got = xcalloc(m, sizeof *got);
	long long *pttl = xcalloc(m, sizeof *pttl), sent = mono_ms();
	enum store_status rc;
	size_t j;

	for (j = 0; j < m; j++)
		sub[j] = keys[ask[j]];
	rc = store_redis_mget_ttl(t->redis, sub, m, got, pttl, err, errlen);
	if (rc == STORE_OK) {
		wr_lock(t);
		keep(t, keys, h, ask, m, got, pttl, epoch, sent);
		wr_unlock(t);
		for (j = 0; j < m; j++)
			out[ask[j]] = got[j]; /* the values move to out[] */
	}
	free(got);
	free(pttl);
	free(sub);
	return rc;
}

/* ts_mget - from memory while ready; else as lookup */
static enum store_status
ts_mget(struct store *st, const char *const *keys, size_t n,
        struct store_value *out, char *err, size_t errlen)
{
	struct track *t = (struct track *)st;
	uint64_t hbuf[STACK_KEYS], *h = hbuf;
	size_t askbuf[STACK_KEYS], *ask = askbuf, i;
	unsigned long epoch = 0;
	enum store_status rc = STORE_OK;
	long m;

	if (n > STACK_KEYS) {
		h = xcalloc(n, sizeof *h);
		ask = xcalloc(n, sizeof *ask);
	}

	for (i = 0; i < n; i++)
		h[i] = keyset_hash(&t->hkey, keys[i], strlen(keys[i]));
	pthread_rwlock_rdlock(&t->rw);
	m = known(t, keys, h, n, out, ask, &epoch);
	pthread_rwlock_unlock(&t->rw);
	atomic_fetch_add_explicit(&t->hits, m < 0 ? 0 : n - (size_t)m,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&t->misses, m < 0 ? n : (size_t)m,
	                          memory_order_relaxed);
	if (m < 0)
		rc = t->lookup->mget(t->lookup, keys, n, out, err, errlen);
	else if (m > 0 && (rc = fill(t, keys, h, ask, (size_t)m, epoch, out,
	                             err, errlen)) != STORE_OK)
		store_values_free(out, n);
	if (h != hbuf) {
		free(h);
		free(ask);
	}
	return rc;
}

static enum store_status
ts_get(struct store *st, const char *key, struct store_value *out,
       long long *ttl, char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->get(l, key, out, ttl, err, errlen);
}

static enum store_status
ts_put(struct store *st, const char *key, const char *val, size_t len,
       long long ttl, char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->put(l, key, val, len, ttl, err, errlen);
}

static enum store_status
ts_del(struct store *st, const char *key, char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->del(l, key, err, errlen);
}

static enum store_status
ts_scan(struct store *st, const char *prefix, store_scan_fn fn, void *arg,
        char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->scan(l, prefix, fn, arg, err, errlen);
}

static enum store_status
ts_apply(struct store *st, const struct store_op *ops, size_t n, char *err,
         size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->apply(l, ops, n, err, errlen);
}

static enum store_status
ts_lock(struct store *st, const char *name, long long ms, char *err,
        size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->lock(l, name, ms, err, errlen);
}

static enum store_status
ts_unlock(struct store *st, const char *name, char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return l->unlock(l, name, err, errlen);
}

static enum store_status
ts_eval(struct store *st, const struct store_script *sc,
        const char *const *keys, size_t nkeys, const char *const *args,
        size_t nargs, long long *out, size_t nout, size_t *got, char *err,
        size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return store_eval(l, sc, keys, nkeys, args, nargs, out, nout, got, err,
	                  errlen);
}

static enum store_status
ts_eval_all(struct store *st, const struct store_script *sc,
            const struct store_eval_run *runs, size_t n, long long *out,
            char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return store_eval_all(l, sc, runs, n, out, err, errlen);
}

static enum store_status
ts_hmget(struct store *st, const char *key, const char *const *fields, size_t n,
         struct store_value *out, long long *pttl, char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return store_hmget(l, key, fields, n, out, pttl, err, errlen);
}

static enum store_status
ts_xrevrange(struct store *st, const char *key, const char *end, size_t count,
             struct store_entry **out, size_t *n, char *err, size_t errlen)
{
	struct store *l = ((struct track *)st)->lookup;

	return store_xrevrange(l, key, end, count, out, n, err, errlen);
}

/*
 * rwlock_init - a lock that lets a waiting writer (the link's thread, with
 * an invalidation) in before new readers, so that lookups cannot starve it
 */
static void
rwlock_init(pthread_rwlock_t *rw)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
#ifdef __GLIBC__ /* elsewhere, the default */
	pthread_rwlockattr_setkind_np(
	    &a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
	pthread_rwlock_init(rw, &a);
	pthread_rwlockattr_destroy(&a);
}

/*
 * ts_start - the link's thread; without it the store stays not ready, its
 * lookups Redis's, and says so
 */
static void
ts_start(struct store *st)
{
	struct track *t = (struct track *)st;
	char why[128];
	int e;

	if (t->started)
		return;
	if ((e = pthread_create(&t->thread, NULL, run, t)) != 0) {
		errbuf_strerror(e, why, sizeof why);
		say(t, 1,
		    "tracking off: no thread (%s); every decision asks Redis",
		    why);
		return;
	}
	t->started = 1;
}

/* track_free - the memory and locks of t, and t */
static void
track_free(struct track *t)
{
	size_t i;

	keyset_free(&t->keys);
	valtable_free(t->vals);
	pthread_mutex_destroy(&t->mu);
	pthread_rwlock_destroy(&t->rw);
	for (i = 0; i < t->ntables; i++)
		free(t->tables[i]);
	free(t->tables);
	free(t->prefix);
	free(t);
}

/* ts_close - stop the thread, free everything, close lookup */
static void
ts_close(struct store *st)
{
	struct track *t = (struct track *)st;

	if (t->started) {
		while (write(t->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(t->thread, NULL);
	}
	close(t->wake[0]);
	close(t->wake[1]);
	t->lookup->close(t->lookup);
	track_free(t);
}

/* ts_stats - the lookups from memory and not, and the stores' counters */
static void
ts_stats(struct store *st, struct store_stats *out)
{
	struct track *t = (struct track *)st;

	out->cache_hits += atomic_load_explicit(&t->hits, memory_order_relaxed);
	out->cache_misses +=
	    atomic_load_explicit(&t->misses, memory_order_relaxed);
	out->tracking = store_track_ready(st);
	if (t->lookup->stats != NULL)
		t->lookup->stats(t->lookup, out);
}

/* store_track_ready - whether lookups are answered from memory now */
int
store_track_ready(struct store *st)
{
	struct track *t = (struct track *)st;
	int r;

	pthread_rwlock_rdlock(&t->rw);
	r = t->ready;
	pthread_rwlock_unlock(&t->rw);
	return r;
}

/* store_track_new - the tracked store; its thread starts at once */
struct store *
store_track_new(const struct store_track_conf *c, char *err, size_t errlen)
{
	struct track *t = xcalloc(1, sizeof *t);
	size_t i;

	t->lookup = c->lookup;
	t->redis = c->redis;
	t->prefix = xstrdup(c->prefix);
	t->tables = xcalloc(c->ntables + 1, sizeof *t->tables);
	for (i = 0; i < c->ntables; i++)
		t->tables[i] = xstrdup(c->tables[i]);
	t->ntables = c->ntables;
	t->reread_ms = c->reread_ms;
	t->notice = c->notice;
	hash_key_new(&t->hkey);
	pthread_mutex_init(&t->mu, NULL);
	rwlock_init(&t->rw);
	keyset_init(&t->keys);
	t->vals = valtable_new(c->cache_size);
	if (pipe(t->wake) != 0) {
		char why[128];

		errbuf_strerror(errno, why, sizeof why);
		errbuf_set(err, errlen, "cache: pipe: %s", why);
		goto fail;
	}
	t->store.mget = ts_mget;
	t->store.get = ts_get;
	t->store.put = ts_put;
	t->store.del = ts_del;
	t->store.scan = ts_scan;
	t->store.apply = ts_apply;
	t->store.lock = ts_lock;
	t->store.unlock = ts_unlock;
	t->store.eval = ts_eval;
	t->store.eval_all = ts_eval_all;
	t->store.hmget = ts_hmget;
	t->store.xrevrange = ts_xrevrange;
	t->store.stats = ts_stats;
	t->store.start = ts_start;
	t->store.close = ts_close;
	return &t->store;
fail:
	track_free(t);
	return NULL;
}
