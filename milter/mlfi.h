/*
 * mlfi - the libmilter callbacks: copy the MTA's arguments into a
 * per-connection context, ask the engine, and answer.
 *
 * mlfi_install() gives the callbacks what they decide with: the contents
 * of a configuration (conf is left conf_init()ed) and its store (with the
 * cache of rules in it, started: store_start()), both theirs from then on.
 * It is
 * called once before smfi_main(), and again at each reload: transactions
 * that begin after it use the new ones, and the old ones are freed when
 * the last transaction that uses them ends.  mlfi_shutdown(), after
 * smfi_main() has returned, gives the connections still open until
 * deadline_us (mono_us()) to end, then turns every callback away, and
 * frees everything when no callback is left running half a second later;
 * it returns 0, or -1 when one still runs (then nothing is freed: the
 * process must exit without freeing).  The callbacks are thread-safe:
 * libmilter runs them on a pool of worker threads, one connection's
 * callbacks possibly on different threads, never two at once for one
 * connection; mlfi_install() may run beside them.
 * mlfi_metrics() is the text of GET /metrics (stats.h) with the current
 * store's counters and the sessions open, malloc'd, *len its length: for
 * the metrics server's thread (metrics.h), between mlfi_install() and
 * mlfi_shutdown().  mlfi_hits_flush() writes a batch of rule hits
 * (hitbatch.h) to the current store, for the hit counters' thread, between
 * the same two; mlfi_shutdown() stops that thread (hitbatch_stop()) once
 * the callbacks are done, so that their hits are in its last batch.
 */
#ifndef MLFI_H
#define MLFI_H

#include "conf.h"
#include "store.h"

struct smfiDesc;

void mlfi_install(struct conf *, struct store *);
int mlfi_shutdown(long long deadline_us);
struct smfiDesc *mlfi_desc(void);
char *mlfi_metrics(void *, size_t *);
void mlfi_hits_flush(const char *const *rules, const long long *counts,
                     size_t n, void *arg);

#endif
