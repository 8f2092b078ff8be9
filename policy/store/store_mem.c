/*
 * store_mem - an in-memory store, for the unit tests and the fuzzers.
 *
 * Public: store_mem_new(), store_mem_fail(), store_mem_calls(); the rest is
 * reached through struct store.  A chained hash table of key -> value; values
 * may hold NUL bytes.  Not thread-safe.  See store_mem.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "store_mem.h"
#include "xmalloc.h"

#define BUCKETS 1024

struct entry {
	char *key;
	char *val;
	size_t len;
	long long ttl;
	struct entry *next;
};

struct store_mem {
	struct store
	    store; /* first: a struct store * is a struct store_mem * */
	struct entry *bucket[BUCKETS];
	enum store_status failing;
	unsigned long calls;
};

/* hash - FNV-1a of a key */
static size_t
hash(const char *key)
{
	unsigned long h = 2166136261UL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619UL;
	return h % BUCKETS;
}

/* find - the entry of a key, or NULL */
static struct entry *
find(struct store_mem *m, const char *key)
{
	struct entry *e;

	for (e = m->bucket[hash(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* failing - the injected failure, with its message */
static enum store_status
failing(struct store_mem *m, char *err, size_t errlen)
{
	errbuf_set(err, errlen, "in-memory store: injected %s",
	           store_status_name(m->failing));
	return m->failing;
}

/* mem_mget - look up a batch of keys */
static enum store_status
mem_mget(struct store *s, const char *const *keys, size_t n,
         struct store_value *out, char *err, size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;
	struct entry *e;
	size_t i;

	m->calls++;
	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	for (i = 0; i < n; i++) {
		if ((e = find(m, keys[i])) == NULL) {
			out[i].status = STORE_NOTFOUND;
			out[i].val = NULL;
			out[i].len = 0;
			continue;
		}
		out[i].status = STORE_OK;
		out[i].val = xmemdup(e->val, e->len);
		out[i].len = e->len;
	}
	return STORE_OK;
}

/* mem_get - one key and its TTL */
static enum store_status
mem_get(struct store *s, const char *key, struct store_value *out,
        long long *ttl, char *err, size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;
	struct entry *e;

	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	if ((e = find(m, key)) == NULL)
		return STORE_NOTFOUND;
	out->status = STORE_OK;
	out->val = xmemdup(e->val, e->len);
	out->len = e->len;
	*ttl = e->ttl;
	return STORE_OK;
}

/* mem_put - set a key */
static enum store_status
mem_put(struct store *s, const char *key, const char *val, size_t len,
        long long ttl, char *err, size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;
	struct entry *e;
	size_t h;

	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	if ((e = find(m, key)) == NULL) {
		e = xcalloc(1, sizeof *e);
		e->key = xstrdup(key);
		h = hash(key);
		e->next = m->bucket[h];
		m->bucket[h] = e;
	} else {
		free(e->val);
	}
	e->val = xmemdup(val, len);
	e->len = len;
	e->ttl = ttl > 0 ? ttl : -1;
	return STORE_OK;
}

/* mem_del - remove a key */
static enum store_status
mem_del(struct store *s, const char *key, char *err, size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;
	struct entry **pp, *e;

	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	for (pp = &m->bucket[hash(key)]; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			free(e->key);
			free(e->val);
			free(e);
			return STORE_OK;
		}
	}
	return STORE_NOTFOUND;
}

/* mem_scan - call fn for every key under a prefix */
static enum store_status
mem_scan(struct store *s, const char *prefix, store_scan_fn fn, void *arg,
         char *err, size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;
	size_t plen = strlen(prefix), b;
	struct entry *e;

	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	for (b = 0; b < BUCKETS; b++)
		for (e = m->bucket[b]; e != NULL; e = e->next)
			if (strncmp(e->key, prefix, plen) == 0 &&
			    fn(e->key, e->val, e->len, e->ttl, NULL, arg) != 0)
				return STORE_OK;
	return STORE_OK;
}

/* mem_apply - a batch of writes; in memory it cannot fail half-way */
static enum store_status
mem_apply(struct store *s, const struct store_op *ops, size_t n, char *err,
          size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;
	size_t i;

	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	for (i = 0; i < n; i++) {
		if (ops[i].val == NULL)
			(void)mem_del(s, ops[i].key, err, errlen);
		else
			(void)mem_put(s, ops[i].key, ops[i].val, ops[i].len,
			              ops[i].ttl, err, errlen);
	}
	return STORE_OK;
}

/* mem_lock - a lock is a key of its own, as in Redis */
static enum store_status
mem_lock(struct store *s, const char *name, long long ms, char *err,
         size_t errlen)
{
	struct store_mem *m = (struct store_mem *)s;

	(void)ms;
	if (m->failing != STORE_OK)
		return failing(m, err, errlen);
	if (find(m, name) != NULL)
		return STORE_NOTFOUND;
	return mem_put(s, name, "1", 1, 0, err, errlen);
}

/* mem_unlock - release a lock */
static enum store_status
mem_unlock(struct store *s, const char *name, char *err, size_t errlen)
{
	return mem_del(s, name, err, errlen);
}

/* mem_close - free the store and everything in it */
static void
mem_close(struct store *s)
{
	struct store_mem *m = (struct store_mem *)s;
	struct entry *e, *next;
	size_t b;

	if (m == NULL)
		return;
	for (b = 0; b < BUCKETS; b++) {
		for (e = m->bucket[b]; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e->val);
			free(e);
		}
	}
	free(m);
}

/* store_mem_new - an empty in-memory store */
struct store *
store_mem_new(void)
{
	struct store_mem *m = xcalloc(1, sizeof *m);

	m->store.mget = mem_mget;
	m->store.get = mem_get;
	m->store.put = mem_put;
	m->store.del = mem_del;
	m->store.scan = mem_scan;
	m->store.apply = mem_apply;
	m->store.lock = mem_lock;
	m->store.unlock = mem_unlock;
	m->store.close = mem_close;
	m->failing = STORE_OK;
	return &m->store;
}

/* store_mem_fail - make every later call answer st (STORE_OK: stop) */
void
store_mem_fail(struct store *s, enum store_status st)
{
	((struct store_mem *)s)->failing = st;
}

/* store_mem_calls - how many mget() calls the store has answered */
unsigned long
store_mem_calls(const struct store *s)
{
	return ((const struct store_mem *)s)->calls;
}
