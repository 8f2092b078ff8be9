/*
 * ctl - what redmilterctl's commands share (ctl.c): the global options, the
 * store, warnings, exit statuses.
 *
 * ctl_store() opens the store on first use (store_open(): one connection
 * to the primary) and returns it, or NULL after a warning.  Each command
 * (ctl_bulk.h, ctl_check.h and redmilterctl.c's own) takes the parsed global
 * options and its own arguments and returns the process exit status: CTL_OK,
 * CTL_INVALID (bad input, bad rule, not found, lint problems) or CTL_STORE
 * (Redis unreachable or failing). Commands write their output to stdout and
 * their complaints, one line each, through ctl_warn() to stderr.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>

#include "conf.h"
#include "store.h"

#define CTL_OK 0
#define CTL_INVALID 1
#define CTL_STORE 2

struct ctl {
	struct conf conf;
	struct store *store;   /* made by ctl_store() on first use */
	int verbose;           /* -v */
	const char *lock_name; /* "<prefix>_import.lock" */
	const char *note;      /* -m of add, del, import; NULL: none */
};

struct store *ctl_store(struct ctl *);
void ctl_warn(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
