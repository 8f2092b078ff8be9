/*
 * store - helpers shared by every store implementation.  See store.h.
 */
#include <stdlib.h>

#include "errbuf.h"

#include <string.h>

#include "sha1.h"
#include "store.h"

/* store_script_sha - a script's SHA-1, worked out once */
const char *
store_script_sha(struct store_script_text *t)
{
	if (!atomic_load(&t->ready)) {
		pthread_mutex_lock(&t->lock);
		if (!atomic_load(&t->ready)) {
			sha1_hex(t->body, t->len, t->sha1);
			atomic_store(&t->ready, 1);
		}
		pthread_mutex_unlock(&t->lock);
	}
	return t->sha1;
}

/* store_values_free - free the values an mget() returned */
void
store_values_free(struct store_value *out, size_t n)
{
	size_t i;

	if (out == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(out[i].val);
		out[i].val = NULL;
		out[i].len = 0;
	}
}

/* store_start - the store's background work, if it has any */
void
store_start(struct store *st)
{
	if (st->start != NULL)
		st->start(st);
}

/*
 * store_eval_all - the store's eval_all(), or a configuration failure
 * without one
 */
enum store_status
store_eval_all(struct store *st, const struct store_script *sc,
               const struct store_eval_run *runs, size_t n, long long *out,
               char *err, size_t errlen)
{
	if (st->eval_all == NULL) {
		errbuf_set(err, errlen,
		           "this store runs no scripts (Redis does)");
		return STORE_ERR_CONFIG;
	}
	return st->eval_all(st, sc, runs, n, out, err, errlen);
}

/* store_eval - the store's eval(), or a configuration failure without one */
enum store_status
store_eval(struct store *st, const struct store_script *sc,
           const char *const *keys, size_t nkeys, const char *const *args,
           size_t nargs, long long *out, size_t nout, size_t *got, char *err,
           size_t errlen)
{
	*got = 0;
	if (st->eval == NULL) {
		errbuf_set(err, errlen,
		           "this store runs no scripts (Redis does)");
		return STORE_ERR_CONFIG;
	}
	return st->eval(st, sc, keys, nkeys, args, nargs, out, nout, got, err,
	                errlen);
}

/* store_hmget - the store's hmget(), or a configuration failure without one */
enum store_status
store_hmget(struct store *st, const char *key, const char *const *fields,
            size_t n, struct store_value *out, long long *pttl, char *err,
            size_t errlen)
{
	if (st->hmget == NULL) {
		errbuf_set(err, errlen,
		           "this store keeps no hashes (Redis does)");
		return STORE_ERR_CONFIG;
	}
	return st->hmget(st, key, fields, n, out, pttl, err, errlen);
}

/*
 * store_xrevrange - the store's xrevrange(), or a configuration failure
 * without one; *out NULL and *n 0 on any failure
 */
enum store_status
store_xrevrange(struct store *st, const char *key, const char *end,
                size_t count, struct store_entry **out, size_t *n, char *err,
                size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (st->xrevrange == NULL) {
		errbuf_set(err, errlen,
		           "this store keeps no streams (Redis does)");
		return STORE_ERR_CONFIG;
	}
	return st->xrevrange(st, key, end, count, out, n, err, errlen);
}

/* store_entries_free - free n entries of an xrevrange() and the array */
void
store_entries_free(struct store_entry *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(e[i].id);
		store_values_free(e[i].fv, 2 * e[i].n);
		free(e[i].fv);
	}
	free(e);
}

/* store_status_name - a status as text, for messages */
const char *
store_status_name(enum store_status st)
{
	switch (st) {
	case STORE_OK:
		return "ok";
	case STORE_NOTFOUND:
		return "not found";
	case STORE_ERR_RETRY:
		return "temporary failure";
	case STORE_ERR_CONFIG:
		return "configuration error";
	}
	return "?";
}

/* store_stats - the store's counters since open (store.h) */
void
store_stats(struct store *st, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	out->tracking = -1;
	if (st->stats != NULL)
		st->stats(st, out);
}
