/*
 * sha1 - the SHA-1 digest of a string, in hex (FIPS 180-4).
 *
 * Only to name a Lua script to Redis, which knows a script by the SHA-1 of
 * its text (EVALSHA): nothing here is about security.  sha1_hex() writes
 * 40 hex digits and a NUL into out.  Thread-safe.
 */
#ifndef SHA1_H
#define SHA1_H

#include <stddef.h>

#define SHA1_HEX_SIZE 41

void sha1_hex(const void *, size_t, char out[SHA1_HEX_SIZE]);

#endif
