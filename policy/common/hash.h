/*
 * hash - hash_bytes(), a fast non-cryptographic hash of bytes for
 * in-process tables (the caches), never for anything an attacker may
 * choose to collide at will over the network.  Thread-safe.
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>

unsigned long hash_bytes(const void *, size_t);

#endif
