/*
 * valtable - rule values kept in memory: a bounded map from a key name to
 * its value and the moment (mono_ms()) it stops applying, 0: never.
 *
 * valtable_new(max) keeps at most max entries; a put into a full table
 * drops one that was not read since the clock hand last passed it (the
 * "second chance" approximation of least recently used).  valtable_get()
 * copies a value into *val (malloc'd, NUL after len bytes) and returns 1,
 * or returns 0 for a name it does not hold or whose moment has come (that
 * entry is dropped).  valtable_put() replaces what the name held.  Names
 * are hashed with hash_keyed() under the table's own random key.  Not
 * thread-safe: the caller locks.  valtable_free() accepts NULL.
 */
#ifndef VALTABLE_H
#define VALTABLE_H

#include <stddef.h>

struct valtable;

struct valtable *valtable_new(size_t max);
int valtable_get(struct valtable *, const char *name, long long now, char **val,
                 size_t *len);
void valtable_put(struct valtable *, const char *name, const char *val,
                  size_t len, long long until);
void valtable_del(struct valtable *, const char *name);
void valtable_clear(struct valtable *);
size_t valtable_count(const struct valtable *);
void valtable_free(struct valtable *);

#endif
