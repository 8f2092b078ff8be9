/*
 * ctl - what redmilterctl's commands share: their warnings and their store.
 * See ctl.h.  Public: ctl_warn(), ctl_store().
 */
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"
#include "store_open.h"

#define BULK_TIMEOUT_MS 30000 /* SCAN batches, MULTI/EXEC of an import */

/* ctl_warn - one line on stderr, "redmilterctl: ..." */
void
ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("redmilterctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * ctl_store - the Redis store, opened on first use
 *
 * One connection to the primary (redmilterctl writes, and reads what it
 * wrote); the command timeout is the configured one, but at least
 * BULK_TIMEOUT_MS: an import's EXEC of 100,000 rules is one command.
 * Returns NULL after saying why.
 */
struct store *
ctl_store(struct ctl *c)
{
	struct store_open_opts o = {.connections = 1,
	                            .min_timeout_ms = BULK_TIMEOUT_MS,
	                            .primary_only = 1};
	char err[600];

	if (c->store != NULL)
		return c->store;
	if ((c->store = store_open(&c->conf, &o, err, sizeof err)) == NULL)
		ctl_warn("%s", err);
	return c->store;
}
