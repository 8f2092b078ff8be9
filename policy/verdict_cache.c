/*
 * verdict_cache - whole decisions remembered for a while.  See
 * verdict_cache.h.
 *
 * SHARDS hash tables with chaining, each behind its own mutex, as in
 * store_cache.c.  An entry holds its own deep copy of the verdict; both get
 * and put copy, so that no caller ever shares memory with the table.
 * Expiry is lazy: an old entry is replaced when the same request is decided
 * again, and dropped when its shard needs room.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "mono.h"
#include "str.h"
#include "xmalloc.h"
#include "verdict_cache.h"

#define SHARDS 16
#define BUCKETS_MIN 16    /* per shard */
#define BUCKETS_MAX 65536 /* per shard */
#define KEY_BUF 512       /* a request key this long needs no malloc */
#define KEY_KEEP_MAX 1024 /* a longer request is never kept: memory bound */

/* A verdict as an entry keeps it: without its 256-byte err buffer. */
struct vkept {
	enum verdict_type type;
	enum table table;
	char *key;
	struct action action;
	char *err; /* NULL when empty */
	struct trail_entry *trail;
	size_t ntrail;
	size_t keys_looked_up;
};

struct ventry {
	struct ventry *next;
	unsigned long hash;
	long long expires; /* mono_ms() */
	struct vkept v;
	size_t klen;
	char key[];
};

struct vshard {
	pthread_mutex_t mu;
	struct ventry **bucket; /* nbuckets, a power of two */
	size_t n;
};

struct verdict_cache {
	long ttl_ms;
	size_t shard_max;
	size_t nbuckets;
	struct vshard shard[SHARDS];
};

/*
 * request_key - the request as one string of bytes: the stage, then each
 * field as 0 (not given) or 1, its bytes and a NUL; *len is its length.
 * In buf when it fits (most requests: no allocation), else malloc'd.
 */
static char *
request_key(const struct request *r, char *buf, size_t size, size_t *len)
{
	const char *f[] = {r->client_name, r->client_addr, r->helo,
	                   r->auth,        r->sender,      r->recipient};
	size_t n = 1, i, l;
	char *k, *p;

	for (i = 0; i < sizeof f / sizeof f[0]; i++)
		n += f[i] != NULL ? strlen(f[i]) + 2 : 1;
	p = k = n <= size ? buf : xmalloc(n);
	*p++ = (char)('0' + r->stage);
	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i] == NULL) {
			*p++ = 0;
			continue;
		}
		*p++ = 1;
		l = strlen(f[i]) + 1;
		memcpy(p, f[i], l);
		p += l;
	}
	*len = n;
	return k;
}

/* view - a verdict that borrows what k holds (never verdict_free() it) */
static void
view(struct verdict *v, const struct vkept *k)
{
	memset(v, 0, sizeof *v);
	v->type = k->type;
	v->table = k->table;
	v->key = k->key;
	v->action = k->action;
	str_copy(v->err, k->err != NULL ? k->err : "", sizeof v->err);
	v->trail = k->trail;
	v->ntrail = k->ntrail;
	v->keys_looked_up = k->keys_looked_up;
}

/* keep - k takes a deep copy of v */
static void
keep(struct vkept *k, const struct verdict *v)
{
	struct verdict c;

	verdict_copy(&c, v);
	k->type = c.type;
	k->table = c.table;
	k->key = c.key;
	k->action = c.action;
	k->err = c.err[0] != '\0' ? xstrdup(c.err) : NULL;
	k->trail = c.trail;
	k->ntrail = c.ntrail;
	k->keys_looked_up = c.keys_looked_up;
}

/* ventry_free - one entry */
static void
ventry_free(struct ventry *e)
{
	struct verdict v;

	view(&v, &e->v);
	verdict_free(&v); /* what the entry held, now released */
	free(e->v.err);
	free(e);
}

/* verdict_cache_new - an empty cache */
struct verdict_cache *
verdict_cache_new(long ttl_ms, size_t max_entries)
{
	struct verdict_cache *c = xcalloc(1, sizeof *c);
	size_t i;

	c->ttl_ms = ttl_ms;
	c->shard_max = max_entries / SHARDS > 0 ? max_entries / SHARDS : 1;
	for (c->nbuckets = BUCKETS_MIN;
	     c->nbuckets < c->shard_max && c->nbuckets < BUCKETS_MAX;)
		c->nbuckets *= 2;
	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_init(&c->shard[i].mu, NULL);
		c->shard[i].bucket =
		    xcalloc(c->nbuckets, sizeof *c->shard[i].bucket);
	}
	return c;
}

/* slot - the bucket of a hash in its shard */
static struct ventry **
slot(struct verdict_cache *c, struct vshard *sh, unsigned long h)
{
	return &sh->bucket[(h / SHARDS) & (c->nbuckets - 1)];
}

/* verdict_cache_get - a fresh decision for the request into v; 1 if any */
int
verdict_cache_get(struct verdict_cache *c, const struct request *r,
                  struct verdict *v)
{
	size_t len;
	char buf[KEY_BUF];
	char *k = request_key(r, buf, sizeof buf, &len);
	unsigned long h;
	struct vshard *sh;
	struct ventry *e;
	long long now;
	int found = 0;

	if (len > KEY_KEEP_MAX) { /* never kept: no need to look */
		if (k != buf)
			free(k);
		return 0;
	}
	h = hash_bytes(k, len);
	sh = &c->shard[h % SHARDS];
	now = mono_ms();
	pthread_mutex_lock(&sh->mu);
	for (e = *slot(c, sh, h); e != NULL; e = e->next) {
		if (e->hash != h || e->klen != len ||
		    memcmp(e->key, k, len) != 0)
			continue;
		if (e->expires > now) {
			struct verdict b;

			view(&b, &e->v);
			verdict_copy(v, &b);
			found = 1;
		}
		break;
	}
	pthread_mutex_unlock(&sh->mu);
	if (k != buf)
		free(k);
	return found;
}

/* prune - make room in a shard: expired entries first, then everything */
static void
prune(struct verdict_cache *c, struct vshard *sh, long long now)
{
	struct ventry **pp, *e;
	size_t b;
	int all;

	for (all = 0; all < 2 && sh->n >= c->shard_max; all++) {
		for (b = 0; b < c->nbuckets; b++) {
			pp = &sh->bucket[b];
			while ((e = *pp) != NULL) {
				if (all || e->expires <= now) {
					*pp = e->next;
					ventry_free(e);
					sh->n--;
				} else {
					pp = &e->next;
				}
			}
		}
	}
}

/* verdict_cache_put - remember a copy of v for the request */
void
verdict_cache_put(struct verdict_cache *c, const struct request *r,
                  const struct verdict *v)
{
	size_t len;
	char buf[KEY_BUF], *k;
	unsigned long h;
	struct vshard *sh;
	struct ventry *e, **pp;
	long long now;

	if (v->type == VERDICT_ERR_STORE)
		return;
	k = request_key(r, buf, sizeof buf, &len);
	if (len > KEY_KEEP_MAX) {
		if (k != buf)
			free(k);
		return;
	}
	h = hash_bytes(k, len);
	sh = &c->shard[h % SHARDS];
	now = mono_ms();
	e = xmalloc(sizeof *e + len);
	e->hash = h;
	e->expires = now + c->ttl_ms;
	keep(&e->v, v);
	e->klen = len;
	memcpy(e->key, k, len);
	if (k != buf)
		free(k);

	pthread_mutex_lock(&sh->mu);
	for (pp = slot(c, sh, h); *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->hash == h && (*pp)->klen == len &&
		    memcmp((*pp)->key, e->key, len) == 0) {
			struct ventry *old = *pp;

			e->next = old->next;
			*pp = e;
			pthread_mutex_unlock(&sh->mu);
			ventry_free(old);
			return;
		}
	}
	if (sh->n >= c->shard_max)
		prune(c, sh, now);
	pp = slot(c, sh, h);
	e->next = *pp;
	*pp = e;
	sh->n++;
	pthread_mutex_unlock(&sh->mu);
}

/* verdict_cache_free - the cache and every entry; NULL is fine */
void
verdict_cache_free(struct verdict_cache *c)
{
	struct ventry *e;
	size_t i, b;

	if (c == NULL)
		return;
	for (i = 0; i < SHARDS; i++) {
		for (b = 0; b < c->nbuckets; b++) {
			while ((e = c->shard[i].bucket[b]) != NULL) {
				c->shard[i].bucket[b] = e->next;
				ventry_free(e);
			}
		}
		free(c->shard[i].bucket);
		pthread_mutex_destroy(&c->shard[i].mu);
	}
	free(c);
}
