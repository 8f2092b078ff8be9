/*
 * mlfi - the libmilter callbacks: copy the MTA's arguments into a
 * per-connection context, ask the engine, and answer.
 *
 * mlfi_setup() gives the callbacks the configuration, the store and the
 * cache of whole decisions (NULL for none); it must be called once before
 * smfi_register(mlfi_desc()), and the three must outlive smfi_main().  The
 * callbacks themselves are thread-safe: libmilter runs them on a pool of worker
 * threads, one connection's callbacks possibly on different threads, never two
 * at once for one connection.
 */
#ifndef MLFI_H
#define MLFI_H

#include "conf.h"
#include "store.h"
#include "verdict_cache.h"

struct smfiDesc;

void mlfi_setup(const struct conf *, struct store *, struct verdict_cache *);
struct smfiDesc *mlfi_desc(void);

#endif
