/*
 * valtable - a bounded map of names to values.  See valtable.h.
 *
 * Entries live in one dense array; buckets hold the index + 1 of the first
 * entry of their chain (0: empty), entries the index + 1 of the next.  A
 * dropped entry's place is taken by the last one, so the array never has
 * holes and the clock hand walks only live entries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "valtable.h"
#include "xmalloc.h"

struct entry {
	uint64_t h;
	char *name;
	char *val; /* NUL after len bytes */
	size_t len;
	long long until; /* mono_ms(); 0: none */
	uint32_t next;   /* index + 1 in the chain; 0: last */
	int used;        /* read since the hand passed */
};

struct valtable {
	struct hash_key key;
	uint32_t *bucket;
	size_t nbuckets; /* a power of two */
	struct entry *ent;
	size_t n, max, hand;
};

/* valtable_new - an empty table of at most max entries */
struct valtable *
valtable_new(size_t max)
{
	struct valtable *t = xcalloc(1, sizeof *t);

	if (max < 1)
		max = 1;
	if (max > UINT32_MAX - 1)
		max = UINT32_MAX - 1;
	hash_key_new(&t->key);
	t->max = max;
	for (t->nbuckets = 16; t->nbuckets < max; t->nbuckets *= 2)
		;
	t->bucket = xcalloc(t->nbuckets, sizeof *t->bucket);
	t->ent = xcalloc(max, sizeof *t->ent);
	return t;
}

/* chain - the link that points at entry i: a bucket or an entry's next */
static uint32_t *
chain(struct valtable *t, size_t i)
{
	uint32_t *p = &t->bucket[t->ent[i].h & (t->nbuckets - 1)];

	while (*p != i + 1)
		p = &t->ent[*p - 1].next;
	return p;
}

/* drop - entry i out of its chain and out of the array */
static void
drop(struct valtable *t, size_t i)
{
	size_t last = t->n - 1;

	*chain(t, i) = t->ent[i].next;
	free(t->ent[i].name);
	free(t->ent[i].val);
	if (i != last) {
		*chain(t, last) = (uint32_t)(i + 1);
		t->ent[i] = t->ent[last];
	}
	memset(&t->ent[last], 0, sizeof t->ent[last]);
	t->n--;
	if (t->hand >= t->n)
		t->hand = 0;
}

/* lookup - the index of name's entry, or -1 */
static long
lookup(struct valtable *t, const char *name, uint64_t h)
{
	uint32_t i = t->bucket[h & (t->nbuckets - 1)];

	for (; i != 0; i = t->ent[i - 1].next)
		if (t->ent[i - 1].h == h &&
		    strcmp(t->ent[i - 1].name, name) == 0)
			return (long)i - 1;
	return -1;
}

/* valtable_get - a copy of name's value, if it has one still in force */
int
valtable_get(struct valtable *t, const char *name, long long now, char **val,
             size_t *len)
{
	long i = lookup(t, name, hash_keyed(&t->key, name, strlen(name)));
	struct entry *e;

	if (i < 0)
		return 0;
	e = &t->ent[i];
	if (e->until != 0 && now >= e->until) {
		drop(t, (size_t)i);
		return 0;
	}
	e->used = 1;
	*val = xmemdup(e->val, e->len);
	*len = e->len;
	return 1;
}

/* evict - room for one more: the first entry the hand finds unread */
static void
evict(struct valtable *t)
{
	while (t->ent[t->hand].used) {
		t->ent[t->hand].used = 0;
		t->hand = t->hand + 1 < t->n ? t->hand + 1 : 0;
	}
	drop(t, t->hand);
}

/* valtable_put - name holds val until the moment until (0: none) */
void
valtable_put(struct valtable *t, const char *name, const char *val, size_t len,
             long long until)
{
	uint64_t h = hash_keyed(&t->key, name, strlen(name));
	long i = lookup(t, name, h);
	struct entry *e;

	if (i >= 0)
		drop(t, (size_t)i);
	if (t->n == t->max)
		evict(t);
	e = &t->ent[t->n];
	e->h = h;
	e->name = xstrdup(name);
	e->val = xmemdup(val, len);
	e->len = len;
	e->until = until;
	e->used = 0;
	e->next = t->bucket[h & (t->nbuckets - 1)];
	t->bucket[h & (t->nbuckets - 1)] = (uint32_t)(t->n + 1);
	t->n++;
}

/* valtable_del - name holds nothing */
void
valtable_del(struct valtable *t, const char *name)
{
	long i = lookup(t, name, hash_keyed(&t->key, name, strlen(name)));

	if (i >= 0)
		drop(t, (size_t)i);
}

/* valtable_clear - no entries */
void
valtable_clear(struct valtable *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->ent[i].name);
		free(t->ent[i].val);
	}
	memset(t->ent, 0, t->n * sizeof *t->ent);
	memset(t->bucket, 0, t->nbuckets * sizeof *t->bucket);
	t->n = 0;
	t->hand = 0;
}

/* valtable_count - the entries held */
size_t
valtable_count(const struct valtable *t)
{
	return t->n;
}

/* valtable_free - t and its entries; t may be NULL */
void
valtable_free(struct valtable *t)
{
	if (t == NULL)
		return;
	valtable_clear(t);
	free(t->bucket);
	free(t->ent);
	free(t);
}
