/*
 * hash - hash_keyed(), SipHash-1-3 of bytes under a secret 128-bit key, for
 * the in-memory tables whose keys come from the network (a rule key built
 * from an envelope address): without the key, nobody can choose inputs
 * that collide.  hash_key_new() draws a key from the kernel's random
 * source (getrandom(2)).  Thread-safe.
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
	uint64_t k0, k1;
};

void hash_key_new(struct hash_key *);
uint64_t hash_keyed(const struct hash_key *, const void *, size_t);

#endif
