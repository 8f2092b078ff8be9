/*
 * keylist - a growing list of keys it owns.  See keylist.h.
 */
#include <stdlib.h>

#include "keylist.h"
#include "xmalloc.h"

/* keylist_init - an empty list */
void
keylist_init(struct keylist *kl)
{
	kl->v = NULL;
	kl->n = kl->cap = 0;
}

/* keylist_free - free the keys; the list is empty afterwards */
void
keylist_free(struct keylist *kl)
{
	size_t i;

	for (i = 0; i < kl->n; i++)
		free(kl->v[i]);
	free(kl->v);
	keylist_init(kl);
}

/* keylist_take - append a malloc'd key, taking ownership */
void
keylist_take(struct keylist *kl, char *key)
{
	if (kl->n == kl->cap) {
		kl->cap = kl->cap == 0 ? 16 : kl->cap * 2;
		kl->v = xrealloc(kl->v, kl->cap * sizeof *kl->v);
	}
	kl->v[kl->n++] = key;
}

/* keylist_add - append a copy of key */
void
keylist_add(struct keylist *kl, const char *key)
{
	keylist_take(kl, xstrdup(key));
}
