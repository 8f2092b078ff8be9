/*
 * hash - a fast hash for in-process tables.  See hash.h.
 */
#include <stdint.h>
#include <string.h>

#include "hash.h"

/*
 * hash_bytes - of len bytes, eight at a time (a decision looks up some 60
 * keys of 30 to 60 bytes: a byte-at-a-time FNV-1a was a tenth of the
 * milter's time); the last bytes are zero-padded, the length mixed in
 */
unsigned long
hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b + i, len - i);
	h = (h ^ w ^ len) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (unsigned long)h;
}
