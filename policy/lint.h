/*
 * lint - check every stored rule under a prefix, as redmilterctl lint and
 * redmilter -n do.
 *
 * lint_run() scans the store (never KEYS), skips bookkeeping keys under
 * "<prefix>_", and reports, sorted by key, every rule that no lookup can
 * reach or that breaks the reply rules: a value the engine refuses, a key of
 * another Redis type, upper-case letters in a key, an unknown table, a client
 * network not in canonical form.  fn gets "TABLE KEY" (or the key after the
 * prefix, for an unknown table) and the problem.  It returns STORE_OK with the
 * counts filled in, or a failure status with err set (nothing is reported
 * then).  Thread-safe as far as the store is.
 */
#ifndef LINT_H
#define LINT_H

#include <stddef.h>

#include "store.h"

typedef void (*lint_fn)(const char *where, const char *problem, void *arg);

enum store_status lint_run(struct store *, const char *prefix, lint_fn,
                           void *arg, size_t *nrules, size_t *nproblems,
                           char *err, size_t errlen);

#endif
