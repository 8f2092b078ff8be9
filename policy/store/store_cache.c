/*
 * store_cache - lookups remembered for a while.  See store_cache.h.
 *
 * SHARDS hash tables with chaining, each behind its own mutex, so that
 * libmilter's worker threads rarely wait for one another.  Expiry is lazy:
 * an old entry is replaced when its key is fetched again, and a shard that
 * reaches its share of max_entries first drops its expired entries, then,
 * if that was not enough, everything (a cache may forget; it must never
 * serve a result older than ttl_ms).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store_cache.h"
#include "hash.h"
#include "mono.h"
#include "xmalloc.h"

#define SHARDS 64
#define BUCKETS_MIN 64    /* per shard; more for a larger cache_size */
#define BUCKETS_MAX 65536 /* per shard: 32 MB of buckets in all at most */

struct centry {
	struct centry *next;
	unsigned long hash;
	char *val; /* NULL: not found */
	size_t len;
	long long expires; /* monotonic ms */
	char key[];        /* NUL-terminated */
};

struct shard {
	pthread_mutex_t mu;
	struct centry **bucket; /* nbuckets, a power of two */
	size_t n;
};

struct store_cache {
	struct store store; /* first: the struct store * is this */
	struct store *backend;
	long ttl_ms;
	size_t shard_max;
	size_t nbuckets; /* per shard: about one entry a bucket when full */
	struct shard shard[SHARDS];
	atomic_ulong hits;
	atomic_ulong misses;
};

/* centry_free - one entry */
static void
centry_free(struct centry *e)
{
	free(e->val);
	free(e);
}

/* shard_prune - make room: expired entries first, then everything */
static void
shard_prune(struct shard *sh, size_t nbuckets, long long now, size_t max)
{
	struct centry **pp, *e;
	size_t b;
	int all;

	for (all = 0; all < 2 && sh->n >= max; all++) {
		for (b = 0; b < nbuckets; b++) {
			pp = &sh->bucket[b];
			while ((e = *pp) != NULL) {
				if (all || e->expires <= now) {
					*pp = e->next;
					centry_free(e);
					sh->n--;
				} else {
					pp = &e->next;
				}
			}
		}
	}
}

/* lookup - a fresh entry's value into out; 1 when there was one */
static int
lookup(struct store_cache *c, const char *key, long long now,
       struct store_value *out)
{
	unsigned long h = hash_bytes(key, strlen(key));
	struct shard *sh = &c->shard[h % SHARDS];
	struct centry *e;
	int found = 0;

	pthread_mutex_lock(&sh->mu);
	for (e = sh->bucket[(h / SHARDS) & (c->nbuckets - 1)]; e != NULL;
	     e = e->next) {
		if (e->hash != h || strcmp(e->key, key) != 0)
			continue;
		if (e->expires > now) {
			out->status =
			    e->val != NULL ? STORE_OK : STORE_NOTFOUND;
			out->val =
			    e->val != NULL ? xmemdup(e->val, e->len) : NULL;
			out->len = e->len;
			found = 1;
		}
		break;
	}
	pthread_mutex_unlock(&sh->mu);
	return found;
}

/* forget_locked - drop a key's entry; the shard is locked */
static void
forget_locked(struct shard *sh, size_t nbuckets, unsigned long h,
              const char *key)
{
	struct centry **pp, *e;

	for (pp = &sh->bucket[(h / SHARDS) & (nbuckets - 1)]; (e = *pp) != NULL;
	     pp = &e->next) {
		if (e->hash == h && strcmp(e->key, key) == 0) {
			*pp = e->next;
			centry_free(e);
			sh->n--;
			return;
		}
	}
}

/* remember - store a fetched result */
static void
remember(struct store_cache *c, const char *key, const struct store_value *v,
         long long now)
{
	unsigned long h = hash_bytes(key, strlen(key));
	struct shard *sh = &c->shard[h % SHARDS];
	size_t klen = strlen(key);
	struct centry *e = xmalloc(sizeof *e + klen + 1);
	size_t b = (h / SHARDS) & (c->nbuckets - 1);

	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->val = v->status == STORE_OK ? xmemdup(v->val, v->len) : NULL;
	e->len = v->status == STORE_OK ? v->len : 0;
	e->expires = now + c->ttl_ms;
	pthread_mutex_lock(&sh->mu);
	forget_locked(sh, c->nbuckets, h, key);
	shard_prune(sh, c->nbuckets, now, c->shard_max);
	e->next = sh->bucket[b];
	sh->bucket[b] = e;
	sh->n++;
	pthread_mutex_unlock(&sh->mu);
}

/* forget - drop a key this process wrote */
static void
forget(struct store_cache *c, const char *key)
{
	unsigned long h = hash_bytes(key, strlen(key));
	struct shard *sh = &c->shard[h % SHARDS];

	pthread_mutex_lock(&sh->mu);
	forget_locked(sh, c->nbuckets, h, key);
	pthread_mutex_unlock(&sh->mu);
}

/*
 * fetch - the missed keys in one backend mget, remembered
 *
 * Returns the backend's status: STORE_OK with every missed out[i] filled,
 * or its failure, with err set and nothing remembered.
 */
static enum store_status
fetch(struct store_cache *c, const char *const *keys, size_t n,
      const unsigned char *hit, struct store_value *out, long long now,
      char *err, size_t errlen)
{
	const char **mk = xcalloc(n, sizeof *mk);
	struct store_value *mv = xcalloc(n, sizeof *mv);
	size_t nmiss = 0, i, j;
	enum store_status rc;

	for (i = 0; i < n; i++)
		if (!hit[i])
			mk[nmiss++] = keys[i];
	rc = c->backend->mget(c->backend, mk, nmiss, mv, err, errlen);
	for (i = 0, j = 0; rc == STORE_OK && i < n; i++) {
		if (hit[i])
			continue;
		remember(c, mk[j], &mv[j], now);
		out[i] = mv[j++];
	}
	free(mk);
	free(mv);
	return rc;
}

/* cache_mget - cached keys from the cache, the others in one backend mget */
static enum store_status
cache_mget(struct store *st, const char *const *keys, size_t n,
           struct store_value *out, char *err, size_t errlen)
{
	struct store_cache *c = (struct store_cache *)st;
	long long now = mono_ms();
	unsigned char stack_hit[256];
	unsigned char *hit =
	    n <= sizeof stack_hit ? memset(stack_hit, 0, n) : xcalloc(n, 1);
	size_t nhit = 0, i;
	enum store_status rc = STORE_OK;

	for (i = 0; i < n; i++)
		if ((hit[i] = (unsigned char)lookup(c, keys[i], now, &out[i])))
			nhit++;
	atomic_fetch_add(&c->hits, nhit);
	atomic_fetch_add(&c->misses, n - nhit);
	if (nhit < n)
		rc = fetch(c, keys, n, hit, out, now, err, errlen);
	if (rc != STORE_OK) {
		/* All or nothing, as the store interface promises. */
		for (i = 0; i < n; i++) {
			if (hit[i]) {
				free(out[i].val);
				out[i].val = NULL;
			}
		}
	}
	if (hit != stack_hit)
		free(hit);
	return rc;
}

/* cache_get - passed through */
static enum store_status
cache_get(struct store *st, const char *key, struct store_value *out,
          long long *ttl, char *err, size_t errlen)
{
	struct store *b = ((struct store_cache *)st)->backend;

	return b->get(b, key, out, ttl, err, errlen);
}

/* cache_put - written through, and forgotten here */
static enum store_status
cache_put(struct store *st, const char *key, const char *val, size_t len,
          long long ttl, char *err, size_t errlen)
{
	struct store_cache *c = (struct store_cache *)st;

	forget(c, key);
	return c->backend->put(c->backend, key, val, len, ttl, err, errlen);
}

/* cache_del - deleted through, and forgotten here */
static enum store_status
cache_del(struct store *st, const char *key, char *err, size_t errlen)
{
	struct store_cache *c = (struct store_cache *)st;

	forget(c, key);
	return c->backend->del(c->backend, key, err, errlen);
}

/* cache_scan - passed through */
static enum store_status
cache_scan(struct store *st, const char *prefix, store_scan_fn fn, void *arg,
           char *err, size_t errlen)
{
	struct store *b = ((struct store_cache *)st)->backend;

	return b->scan(b, prefix, fn, arg, err, errlen);
}

/* cache_apply - written through, every key forgotten here */
static enum store_status
cache_apply(struct store *st, const struct store_op *ops, size_t n, char *err,
            size_t errlen)
{
	struct store_cache *c = (struct store_cache *)st;
	size_t i;

	for (i = 0; i < n; i++)
		forget(c, ops[i].key);
	return c->backend->apply(c->backend, ops, n, err, errlen);
}

/* cache_lock - passed through */
static enum store_status
cache_lock(struct store *st, const char *name, long long ms, char *err,
           size_t errlen)
{
	struct store *b = ((struct store_cache *)st)->backend;

	return b->lock(b, name, ms, err, errlen);
}

/* cache_unlock - passed through */
static enum store_status
cache_unlock(struct store *st, const char *name, char *err, size_t errlen)
{
	struct store *b = ((struct store_cache *)st)->backend;

	return b->unlock(b, name, err, errlen);
}

/* cache_close - free the cache and close the backend */
static void
cache_close(struct store *st)
{
	struct store_cache *c = (struct store_cache *)st;
	size_t s;

	if (c == NULL)
		return;
	for (s = 0; s < SHARDS; s++) {
		shard_prune(&c->shard[s], c->nbuckets, 0, 0);
		pthread_mutex_destroy(&c->shard[s].mu);
		free(c->shard[s].bucket);
	}
	c->backend->close(c->backend);
	free(c);
}

/*
 * store_cache_new - a cache of ttl_ms in front of backend
 *
 * Takes ownership of backend.  Returns the new store; it cannot fail.
 */
struct store *
store_cache_new(struct store *backend, long ttl_ms, size_t max_entries)
{
	struct store_cache *c = xcalloc(1, sizeof *c);
	size_t s;

	c->backend = backend;
	c->ttl_ms = ttl_ms;
	c->shard_max = max_entries / SHARDS > 0 ? max_entries / SHARDS : 1;
	for (c->nbuckets = BUCKETS_MIN;
	     c->nbuckets < c->shard_max && c->nbuckets < BUCKETS_MAX;)
		c->nbuckets *= 2;
	for (s = 0; s < SHARDS; s++) {
		pthread_mutex_init(&c->shard[s].mu, NULL);
		c->shard[s].bucket =
		    xcalloc(c->nbuckets, sizeof *c->shard[s].bucket);
	}
	c->store.mget = cache_mget;
	c->store.get = cache_get;
	c->store.put = cache_put;
	c->store.del = cache_del;
	c->store.scan = cache_scan;
	c->store.apply = cache_apply;
	c->store.lock = cache_lock;
	c->store.unlock = cache_unlock;
	c->store.close = cache_close;
	return &c->store;
}

/* store_cache_stats - hits and misses since creation */
void
store_cache_stats(struct store *st, struct store_cache_stats *out)
{
	struct store_cache *c = (struct store_cache *)st;

	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
}
