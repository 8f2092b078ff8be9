/*
 * mlfi - the libmilter callbacks: copy the MTA's arguments into a
 * per-connection context, ask the engine, and answer.
 *
 * mlfi_setup() gives the callbacks the configuration and the store; it must
 * be called once before smfi_register(mlfi_desc()), and the two must outlive
 * smfi_main().  The callbacks themselves are thread-safe: libmilter runs them
 * on a pool of worker threads, one connection's callbacks possibly on
 * different threads, never two at once for one connection.
 */
#ifndef MLFI_H
#define MLFI_H

#include "conf.h"
#include "store.h"

struct smfiDesc;

void mlfi_setup(const struct conf *, struct store *);
struct smfiDesc *mlfi_desc(void);

#endif
