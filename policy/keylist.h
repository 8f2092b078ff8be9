/*
 * keylist - a growing list of keys (strings) that it owns.
 *
 * keylist_init() makes a list empty; keylist_free() frees the strings and
 * leaves it empty again (safe to call twice).  keylist_add() appends a copy
 * of a key, keylist_take() a malloc'd key it now owns.  Memory comes from
 * xmalloc(), so nothing fails.  Not thread-safe: one list, one thread.
 */
#ifndef KEYLIST_H
#define KEYLIST_H

#include <stddef.h>

struct keylist {
	char **v;
	size_t n;
	size_t cap;
};

void keylist_init(struct keylist *);
void keylist_free(struct keylist *);
void keylist_add(struct keylist *, const char *);
void keylist_take(struct keylist *, char *);

#endif
