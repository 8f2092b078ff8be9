/*
 * store_split - lookups from one store (a local replica), everything else
 * from another (the primary).
 *
 * store_split_new() takes ownership of both.  mget() asks the read store
 * first and, when it fails (unreachable, slow, erring, or a replica not fit
 * to read: store_redis.h, check_role), the primary: a replica that is down
 * costs a round trip, never a wrong answer.  Every
 * other call goes to the primary, so redmilterctl's writes and the lint
 * scan see the primary.  close() closes both.  Thread-safe when both are.
 */
#ifndef STORE_SPLIT_H
#define STORE_SPLIT_H

#include "store.h"

struct store *store_split_new(struct store *read, struct store *primary);

#endif
