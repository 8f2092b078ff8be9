/*
 * store_mem - an in-memory store, for the unit tests and the fuzzers.
 *
 * store_mem_new() returns an empty store; close() frees it and its contents.
 * TTLs are recorded, not enforced.  store_mem_fail() makes every later call
 * answer the given status (STORE_OK to stop failing), so tests can see how the
 * engine takes a store that is down.  store_mem_calls() counts mget() calls,
 * so tests can check that one decision is one round trip.  Not thread-safe:
 * one thread at a time.
 */
#ifndef STORE_MEM_H
#define STORE_MEM_H

#include "store.h"

struct store *store_mem_new(void);
void store_mem_fail(struct store *, enum store_status);
unsigned long store_mem_calls(const struct store *);

#endif
