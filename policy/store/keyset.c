/*
 * keyset - a set of 64-bit hashes.  See keyset.h.
 *
 * A hash's home slot is (h * cap) >> 64, its place in [0, cap) in
 * proportion, so cap need not be a power of two and growth can make the
 * table exactly half full.  Deletion shifts the following members of the
 * probe run back (no tombstones), so a lookup stops at the first empty
 * slot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"
#include "xmalloc.h"

#define MIN_CAP 64

/* home - the slot where probing for h starts */
static size_t
home(const struct keyset *s, uint64_t h)
{
	return (size_t)(((unsigned __int128)h * s->cap) >> 64);
}

/* keyset_init - an empty set */
void
keyset_init(struct keyset *s)
{
	memset(s, 0, sizeof *s);
}

/* keyset_hash - the member that stands for a name, under key k */
uint64_t
keyset_hash(const struct hash_key *k, const char *name, size_t len)
{
	uint64_t h = hash_keyed(k, name, len);

	return h != 0 ? h : 1;
}

/* place - h into a table known not to hold it, with room to spare */
static void
place(uint64_t *slot, size_t cap, size_t at, uint64_t h)
{
	while (slot[at] != 0)
		at = at + 1 < cap ? at + 1 : 0;
	slot[at] = h;
}

/* resize - the members into a table of cap slots */
static void
resize(struct keyset *s, size_t cap)
{
	uint64_t *old = s->slot;
	size_t oldcap = s->cap, i;

	s->slot = xcalloc(cap, sizeof *s->slot);
	s->cap = cap;
	for (i = 0; i < oldcap; i++)
		if (old[i] != 0)
			place(s->slot, cap, home(s, old[i]), old[i]);
	free(old);
}

/* find - the slot holding h, or the empty slot where it would go */
static size_t
find(const struct keyset *s, uint64_t h)
{
	size_t i = home(s, h);

	while (s->slot[i] != 0 && s->slot[i] != h)
		i = i + 1 < s->cap ? i + 1 : 0;
	return i;
}

/* keyset_add - h as a member; 1 if it was not one */
int
keyset_add(struct keyset *s, uint64_t h)
{
	size_t i;

	if (s->cap == 0 || (s->n + 1) * 4 > s->cap * 3)
		resize(s, (s->n + 1) * 2 > MIN_CAP ? (s->n + 1) * 2 : MIN_CAP);
	i = find(s, h);
	if (s->slot[i] == h)
		return 0;
	s->slot[i] = h;
	s->n++;
	return 1;
}

/* keyset_has - whether h is a member */
int
keyset_has(const struct keyset *s, uint64_t h)
{
	return s->cap != 0 && s->slot[find(s, h)] == h;
}

/*
 * between - whether j lies cyclically in (i, k]: a member at k whose home
 * is j must stay behind a hole at i
 */
static int
between(size_t i, size_t j, size_t k)
{
	return i <= k ? (i < j && j <= k) : (i < j || j <= k);
}

/* keyset_del - h no longer a member; shrinks a set that emptied a lot */
void
keyset_del(struct keyset *s, uint64_t h)
{
	size_t i, k;

	if (s->cap == 0 || s->slot[i = find(s, h)] != h)
		return;
	s->slot[i] = 0;
	s->n--;
	for (k = i + 1 < s->cap ? i + 1 : 0; s->slot[k] != 0;
	     k = k + 1 < s->cap ? k + 1 : 0) {
		if (between(i, home(s, s->slot[k]), k))
			continue;
		s->slot[i] = s->slot[k];
		s->slot[k] = 0;
		i = k;
	}
	if (s->cap > MIN_CAP && s->n * 8 < s->cap)
		resize(s, s->n * 2 > MIN_CAP ? s->n * 2 : MIN_CAP);
}

/* keyset_clear - no members, no memory */
void
keyset_clear(struct keyset *s)
{
	free(s->slot);
	s->slot = NULL;
	s->cap = 0;
	s->n = 0;
}

/* keyset_bytes - the memory the members take */
size_t
keyset_bytes(const struct keyset *s)
{
	return s->cap * sizeof *s->slot;
}

/* keyset_swap - a and b exchange their members */
void
keyset_swap(struct keyset *a, struct keyset *b)
{
	struct keyset t = *a;

	*a = *b;
	*b = t;
}

/* keyset_free - the memory of s, which may be NULL */
void
keyset_free(struct keyset *s)
{
	if (s != NULL)
		keyset_clear(s);
}
