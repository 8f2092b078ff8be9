/*
 * keyset - which rule keys may exist: a set of 64-bit hashes of key names,
 * 8 bytes a slot, open addressing with linear probing.  A set is grown to
 * half full when it is three quarters full, so a set built by adding keys
 * takes 11 to 16 bytes per key, whatever their number (the tracked store,
 * store_track.h, keeps every rule key of a Redis database in one); one that
 * deletion left under an eighth full is shrunk to half full again.
 *
 * The hash of a name is keyset_hash(): hash_keyed() under a random key of
 * the caller's (so that no envelope can be chosen to collide with a rule),
 * 0 made 1 (0 marks an empty slot).  Two names with one hash are one member: a
 * lookup may say "may exist" of a name that does not, never "absent" of one
 * that is present, unless a del() of the one removed the other too, which the
 * caller avoids by deleting only names Redis said it does not hold
 * (a chance of one in 2^64 per name).
 *
 * keyset_add() returns 1 when h was not a member; keyset_bytes() the memory
 * held.  Not thread-safe: the caller locks.  keyset_free() accepts NULL.
 */
#ifndef KEYSET_H
#define KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

struct keyset {
	uint64_t *slot;
	size_t cap; /* slots; 0: none yet */
	size_t n;   /* members */
};

void keyset_init(struct keyset *);
uint64_t keyset_hash(const struct hash_key *, const char *, size_t);
int keyset_add(struct keyset *, uint64_t);
int keyset_has(const struct keyset *, uint64_t);
void keyset_del(struct keyset *, uint64_t);
void keyset_clear(struct keyset *);
size_t keyset_bytes(const struct keyset *);
void keyset_swap(struct keyset *, struct keyset *);
void keyset_free(struct keyset *);

#endif
