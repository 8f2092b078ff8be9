/*
 * store_redis - the store on Redis, through hiredis.  See store_redis.h.
 *
 * This file has the pool and the store's calls; rconn.c makes the
 * connections and runs one command within a deadline (what the two share
 * is in rconn.h).  They are the only files of redmilter
 * that include hiredis, and they use only the API that hiredis 0.14
 * (Debian 12) shares with 1.x: redisConnect*WithTimeout, redisSetTimeout,
 * redisCommandArgv, redisAppendCommandArgv, redisGetReply, freeReplyObject.
 * Reply types beyond RESP2's (1.x RESP3) are unexpected replies, never
 * "not found".
 *
 * A redisContext is not thread-safe and libmilter runs callbacks on a pool
 * of worker threads, so connections live in a fixed pool of slots guarded by
 * one mutex; a thread borrows a slot for one round trip.  A connection that
 * failed in any way is freed and remade on next use: hiredis leaves a
 * context dead after an error, and 0.14's redisReconnect() forgets the
 * command timeout, so we never reuse one.
 *
 * Deadlines: a call has one, timeout_ms after its start, and each of its
 * steps (the wait for a free slot, connect, the Sentinels, AUTH, SELECT,
 * ROLE, the command) gets only what is left of it.  hiredis's timeout
 * bounds each read or write, not a call, so the socket timeout is set to
 * what is left before every command (redisSetTimeout), and a call with
 * nothing left fails as "timed out".  scan() and apply(), redmilterctl's
 * long batches, give each of their round trips a deadline of its own.
 *
 * A lookup (mget) whose pooled connection the server had closed (a
 * restart, CLIENT KILL, a replica promoted by the Sentinels) reconnects
 * and sends the command once more, within the same deadline.  Timeouts and
 * error replies are never retried, nor are writes.
 *
 * A replica's fitness (check_role, store_redis.h): ROLE is appended before
 * the MGET of a lookup on a new connection, and of the one lookup a second
 * that wins role_due(), and both replies are read in one round trip; the
 * verdict is kept in struct role_check for the lookups in between.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "errbuf.h"
#include "mono.h"
#include "redis_url.h"
#include "store_redis.h"
#include "rconn.h"
#include "str.h"
#include "xmalloc.h"

#define SCAN_COUNT "1000"
#define ROLE_EVERY_MS 1000 /* check_role: ROLE at most this often */
#define ROLE_SAY_MS 60000  /* check_role: "not fit" told at most this often */

struct slot {
	redisContext *c;
	int busy;
	unsigned long gen; /* r->gen when c was made */
};

/* What ROLE said of a replica (check_role). */
struct role_check {
	atomic_int fit;     /* as ROLE said last; 1 before it was asked */
	atomic_llong at;    /* mono_ms() of the last ROLE asked; 0: none */
	pthread_mutex_t mu; /* the three below */
	int said_unfit;     /* the last notice said "not fit" */
	long long said_at;  /* mono_ms() of the last "not fit" notice */
	store_notice_fn notice;
	char who[400]; /* "redis_read 127.0.0.1:6380" */
};

/* role_due - whether this lookup asks ROLE: the first in a second to ask */
static int
role_due(struct role_check *rc)
{
	long long at = atomic_load(&rc->at), now = mono_ms();

	if (at != 0 && now - at < ROLE_EVERY_MS)
		return 0;
	return atomic_compare_exchange_strong(&rc->at, &at, now);
}

/* role_held - whether a lookup is refused without a round trip */
static int
role_held(struct role_check *rc)
{
	return !atomic_load(&rc->fit) &&
	       mono_ms() - atomic_load(&rc->at) < ROLE_EVERY_MS;
}

/* role_state - why a replica's ROLE reply (state st) is not fit; NULL: fit */
static const char *
role_state(const redisReply *st)
{
	if (st->type != REDIS_REPLY_STRING && st->type != REDIS_REPLY_STATUS)
		return "unexpected ROLE reply";
	if (strcmp(st->str, "connected") == 0)
		return NULL;
	if (strcmp(st->str, "sync") == 0)
		return "full sync in progress";
	return "master link down";
}

/*
 * role_judge - whether a ROLE reply says fit to read: 1, or 0 with why;
 * an error reply (-NOPERM, -LOADING) is not fit
 */
static int
role_judge(const redisReply *rep, char *why, size_t len)
{
	const redisReply *r0;
	const char *no = "unexpected ROLE reply";

	if (rep->type == REDIS_REPLY_ERROR) {
		rconn_error(rep, "ROLE", "refused", why, len);
		return 0;
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
	    ((r0 = rep->element[0])->type == REDIS_REPLY_STRING ||
	     r0->type == REDIS_REPLY_STATUS)) {
		if (strcmp(r0->str, "master") == 0)
			return 1;
		if (strcmp(r0->str, "slave") == 0 && rep->elements >= 4 &&
		    (no = role_state(rep->element[3])) == NULL)
			return 1;
		if (strcmp(r0->str, "sentinel") == 0)
			no = "a Sentinel, not a data server";
	}
	str_copy(why, no, len);
	return 0;
}

/* role_tell - a change of fitness to the notice, at most once a minute */
static void
role_tell(struct role_check *rc, int fit, const char *why)
{
	long long now = mono_ms();
	char msg[700];
	int warn = -1;

	pthread_mutex_lock(&rc->mu);
	if (fit && rc->said_unfit) {
		(void)snprintf(msg, sizeof msg, "%s fit again; reading from it",
		               rc->who);
		rc->said_unfit = 0;
		warn = 0;
	} else if (!fit && !rc->said_unfit &&
	           (rc->said_at == 0 || now - rc->said_at >= ROLE_SAY_MS)) {
		(void)snprintf(msg, sizeof msg,
		               "%s not fit (%s); reading from the primary",
		               rc->who, why);
		rc->said_unfit = 1;
		rc->said_at = now;
		warn = 1;
	}
	pthread_mutex_unlock(&rc->mu);
	if (warn >= 0 && rc->notice != NULL)
		rc->notice(warn, msg);
}

/*
 * role_verdict - whether an mget's reply may be used: 0, or -1 with err
 * set; role is the ROLE reply that came with it (freed here), or NULL when
 * none was asked, and then the last one's verdict holds
 */
static int
role_verdict(struct role_check *rc, redisReply *role, char *err, size_t errlen)
{
	char why[300] = "as ROLE said last";
	int fit;

	if (role != NULL) {
		fit = role_judge(role, why, sizeof why);
		freeReplyObject(role);
		atomic_store(&rc->at, mono_ms());
		atomic_store(&rc->fit, fit);
		role_tell(rc, fit, why);
	} else {
		fit = atomic_load(&rc->fit);
	}
	if (!fit)
		errbuf_set(err, errlen, "%s not fit to read (%s)", rc->who,
		           why);
	return fit ? 0 : -1;
}

/* role_new - the fitness check of the store at u, named name */
static struct role_check *
role_new(const struct redis_url *u, const char *name, store_notice_fn fn)
{
	struct role_check *rc = xcalloc(1, sizeof *rc);

	atomic_init(&rc->fit, 1);
	atomic_init(&rc->at, 0);
	pthread_mutex_init(&rc->mu, NULL);
	rc->notice = fn;
	if (u->is_unix)
		(void)snprintf(rc->who, sizeof rc->who, "%s %s", name, u->path);
	else if (u->is_sentinel)
		(void)snprintf(rc->who, sizeof rc->who, "%s master %s", name,
		               u->master);
	else
		(void)snprintf(rc->who, sizeof rc->who, "%s %s:%d", name,
		               u->host, u->port);
	return rc;
}

/*
 * wait_slot - a free slot, marked busy, or NULL once until has passed
 *
 * A slot found free when the wait has just timed out is still taken: the
 * signal that freed it may have been meant for this thread, and acquire()
 * passes it on with release().
 */
static struct slot *
wait_slot(struct store_redis *r, const struct timespec *until)
{
	struct slot *s = NULL;
	int i, rc = 0;

	pthread_mutex_lock(&r->mu);
	while (s == NULL) {
		for (i = 0; i < r->nslots && s == NULL; i++)
			if (!r->slots[i].busy)
				s = &r->slots[i];
		if (s != NULL || rc != 0)
			break;
		rc = pthread_cond_timedwait(&r->cv, &r->mu, until);
	}
	if (s != NULL)
		s->busy = 1;
	pthread_mutex_unlock(&r->mu);
	/* made before store_redis_drop(): to a server that may not be ours */
	if (s != NULL && s->c != NULL && s->gen != atomic_load(&r->gen)) {
		redisFree(s->c);
		s->c = NULL;
	}
	return s;
}

/* release - give a slot back; a broken connection is dropped */
static void
release(struct store_redis *r, struct slot *s, int broken)
{
	if (broken && s->c != NULL) {
		redisFree(s->c);
		s->c = NULL;
	}
	pthread_mutex_lock(&r->mu);
	s->busy = 0;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/*
 * acquire - borrow a connected slot within the deadline
 *
 * Returns the slot, with *fresh 1 when its connection was made for this
 * call (0: it was pooled), or NULL with err set.
 */
static struct slot *
acquire(struct store_redis *r, struct rconn_call *k, int *fresh)
{
	struct slot *s = wait_slot(r, &k->until);

	*fresh = 0;
	if (s != NULL && rconn_left_us(&k->until) <= 0) {
		release(r, s, 0); /* too late to use it: pass it on */
		s = NULL;
	}
	if (s == NULL) {
		errbuf_set(
		    k->err, k->errlen,
		    "Redis: timed out waiting for a free connection, all %d "
		    "busy (timeout %d ms)",
		    r->nslots, r->timeout_ms);
		return NULL;
	}
	if (s->c == NULL) {
		*fresh = 1;
		s->gen = atomic_load(&r->gen);
		if ((s->c = rconn_connect(r, k)) == NULL) {
			release(r, s, 1);
			return NULL;
		}
	}
	return s;
}

/* pipeline - send argc/argv commands, then read one reply each */
static int
pipeline_send(redisContext *c, int argc, const char **argv, const size_t *len)
{
	return redisAppendCommandArgv(c, argc, argv, len) == REDIS_OK ? 0 : -1;
}

/* get_reply - the next reply of a pipeline, or NULL on I/O failure */
static redisReply *
get_reply(struct store_redis *r, redisContext *c)
{
	void *rep = NULL;

	atomic_fetch_add(&r->commands, 1);
	if (redisGetReply(c, &rep) != REDIS_OK)
		return NULL;
	return rep;
}

/*
 * ask - one command on c, after ROLE when role is not NULL (*role gets its
 * reply): one write, the replies read in turn, within k's deadline.
 * Returns as rconn_roundtrip() does; on a failure *role is NULL.
 */
static redisReply *
ask(struct store_redis *r, redisContext *c, struct rconn_call *k,
    redisReply **role, int argc, const char **argv, const size_t *len)
{
	const char *cmd[1] = {"ROLE"};
	redisReply *rep = NULL;
	int e;

	if (role == NULL)
		return rconn_roundtrip(r, c, k, "Redis", argc, argv, len);
	k->lost = 0;
	if (rconn_arm(r, c, k, "Redis", argv[0]) != 0)
		return NULL;
	errno = 0;
	if (pipeline_send(c, 1, cmd, NULL) == 0 &&
	    pipeline_send(c, argc, argv, len) == 0 &&
	    (*role = get_reply(r, c)) != NULL)
		rep = get_reply(r, c);
	e = errno;
	if (rep == NULL) {
		rconn_no_reply(r, c, e, k, "Redis", argv[0]);
		freeReplyObject(*role);
		*role = NULL;
	}
	return rep;
}

/*
 * call - one command, one reply, within one deadline
 *
 * Returns the reply (the caller frees it), or NULL with err set for an I/O
 * failure, a timeout or an error reply.  The connection is dropped on any
 * failure, so that the next use starts afresh (with AUTH, should a password
 * have been set behind our back).  With retry (for commands that only
 * read), a pooled connection that the server had closed is remade and the
 * command sent once more, in what is left of the deadline.  With role (a
 * lookup of check_role), ROLE goes first on a new connection and when
 * role_due() says so, its reply into *role (else NULL), even when the
 * command failed.
 */
static redisReply *
call(struct store_redis *r, int argc, const char **argv, const size_t *argvlen,
     int retry, redisReply **role, char *err, size_t errlen)
{
	struct rconn_call k = rconn_call_new(r, err, errlen);
	struct slot *s;
	redisReply *rep;
	int fresh;

	if ((s = acquire(r, &k, &fresh)) == NULL)
		return NULL;
	rep = ask(r, s->c, &k,
	          role != NULL && (fresh || role_due(r->role)) ? role : NULL,
	          argc, argv, argvlen);
	if (rep == NULL && retry && !fresh && k.lost) {
		redisFree(s->c);
		if ((s->c = rconn_connect(r, &k)) != NULL)
			rep = ask(r, s->c, &k, role, argc, argv, argvlen);
	}
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		rconn_error(rep, "Redis", argv[0], err, errlen);
		freeReplyObject(rep);
		rep = NULL;
	}
	release(r, s, rep == NULL);
	return rep;
}

/* command - call() without ROLE */
static redisReply *
command(struct store_redis *r, int argc, const char **argv,
        const size_t *argvlen, int retry, char *err, size_t errlen)
{
	return call(r, argc, argv, argvlen, retry, NULL, err, errlen);
}

/*
 * borrow - a connected slot for a pipeline (get, scan, apply), its socket
 * timeout set to what is left of the call's deadline; NULL with err set
 */
static struct slot *
borrow(struct store_redis *r, struct rconn_call *k, const char *what)
{
	struct slot *s;
	int fresh;

	if ((s = acquire(r, k, &fresh)) == NULL)
		return NULL;
	if (rconn_arm(r, s->c, k, "Redis", what) != 0) {
		release(r, s, 1);
		return NULL;
	}
	return s;
}

/*
 * mget_values - out[] from an MGET (or HMGET: what) reply of n elements
 * (freed here)
 */
static enum store_status
mget_values(redisReply *rep, size_t n, struct store_value *out,
            const char *what, char *err, size_t errlen)
{
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
		errbuf_set(err, errlen, "Redis %s: unexpected reply of type %d",
		           what, rep->type);
		freeReplyObject(rep);
		return STORE_ERR_CONFIG;
	}
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];

		if (e->type != REDIS_REPLY_STRING &&
		    e->type != REDIS_REPLY_NIL) {
			store_values_free(out, i);
			errbuf_set(err, errlen,
			           "Redis %s: unexpected element type %d", what,
			           e->type);
			freeReplyObject(rep);
			return STORE_ERR_CONFIG;
		}
		out[i].status =
		    e->type == REDIS_REPLY_STRING ? STORE_OK : STORE_NOTFOUND;
		out[i].val = e->type == REDIS_REPLY_STRING
		                 ? xmemdup(e->str, e->len)
		                 : NULL;
		out[i].len = e->type == REDIS_REPLY_STRING ? e->len : 0;
	}
	freeReplyObject(rep);
	return STORE_OK;
}

/*
 * redis_mget - every key in one MGET; with check_role, refused while the
 * server is not fit to read (without a round trip until ROLE is due)
 */
static enum store_status
redis_mget(struct store *st, const char *const *keys, size_t n,
           struct store_value *out, char *err, size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	redisReply *rep, *role = NULL;
	const char **argv;

	if (n == 0)
		return STORE_OK;
	if (r->role != NULL && role_held(r->role)) {
		errbuf_set(err, errlen,
		           "%s not fit to read (as ROLE said last)",
		           r->role->who);
		return STORE_ERR_RETRY;
	}
	argv = xcalloc(n + 1, sizeof *argv);
	argv[0] = "MGET";
	memcpy(argv + 1, keys, n * sizeof *keys);
	rep = call(r, (int)(n + 1), argv, NULL, 1,
	           r->role != NULL ? &role : NULL, err, errlen);
	free(argv);
	if (r->role != NULL && role_verdict(r->role, role, err, errlen) != 0) {
		freeReplyObject(rep);
		return STORE_ERR_RETRY;
	}
	if (rep == NULL)
		return STORE_ERR_RETRY;
	return mget_values(rep, n, out, "MGET", err, errlen);
}

/*
 * ask_ttl - MGET of n keys, then PTTL of each, in one write; the MGET's
 * reply (the caller frees it), its PTTLs into pttl[], or NULL as ask()
 */
static redisReply *
ask_ttl(struct store_redis *r, redisContext *c, struct rconn_call *k,
        const char **argv, size_t n, long long *pttl)
{
	redisReply *rep = NULL, *t;
	size_t i;
	int e, ok;

	k->lost = 0;
	if (rconn_arm(r, c, k, "Redis", "MGET") != 0)
		return NULL;
	errno = 0;
	ok = pipeline_send(c, (int)n + 1, argv, NULL) == 0;
	for (i = 0; ok && i < n; i++) {
		const char *p[2] = {"PTTL", argv[i + 1]};

		ok = pipeline_send(c, 2, p, NULL) == 0;
	}
	if (ok)
		rep = get_reply(r, c);
	for (i = 0; rep != NULL && i < n; i++) {
		if ((t = get_reply(r, c)) == NULL) {
			freeReplyObject(rep);
			rep = NULL;
			break;
		}
		pttl[i] = t->type == REDIS_REPLY_INTEGER ? t->integer : -2;
		freeReplyObject(t);
	}
	e = errno;
	if (rep == NULL)
		rconn_no_reply(r, c, e, k, "Redis", "MGET");
	return rep;
}

/*
 * store_redis_mget_ttl - mget() with each key's PTTL in the same round
 * trip: pttl[i] milliseconds, -1 for none, -2 for no key (PTTL's own
 * values); a pooled connection the server had closed is remade once, as
 * for mget()
 */
enum store_status
store_redis_mget_ttl(struct store *st, const char *const *keys, size_t n,
                     struct store_value *out, long long *pttl, char *err,
                     size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	struct rconn_call k = rconn_call_new(r, err, errlen);
	const char **argv;
	redisReply *rep;
	struct slot *s;
	int fresh;

	if (n == 0)
		return STORE_OK;
	if ((s = acquire(r, &k, &fresh)) == NULL)
		return STORE_ERR_RETRY;
	argv = xcalloc(n + 1, sizeof *argv);
	argv[0] = "MGET";
	memcpy(argv + 1, keys, n * sizeof *keys);
	rep = ask_ttl(r, s->c, &k, argv, n, pttl);
	if (rep == NULL && !fresh && k.lost) {
		redisFree(s->c);
		if ((s->c = rconn_connect(r, &k)) != NULL)
			rep = ask_ttl(r, s->c, &k, argv, n, pttl);
	}
	free(argv);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		rconn_error(rep, "Redis", "MGET", err, errlen);
		freeReplyObject(rep);
		rep = NULL;
	}
	release(r, s, rep == NULL);
	if (rep == NULL)
		return STORE_ERR_RETRY;
	return mget_values(rep, n, out, "MGET", err, errlen);
}

/* set_argv - SET key value [EX ttl] */
static int
set_argv(const struct store_op *op, const char **argv, size_t *len, char *ttl,
         size_t ttllen)
{
	int argc = 3;

	argv[0] = "SET";
	len[0] = 3;
	argv[1] = op->key;
	len[1] = strlen(op->key);
	argv[2] = op->val;
	len[2] = op->len;
	if (op->ttl > 0) {
		(void)snprintf(ttl, ttllen, "%lld", op->ttl);
		argv[3] = "EX";
		len[3] = 2;
		argv[4] = ttl;
		len[4] = strlen(ttl);
		argc = 5;
	}
	return argc;
}

/* redis_put - SET, with EX when there is a TTL */
static enum store_status
redis_put(struct store *st, const char *key, const char *val, size_t vlen,
          long long ttl, char *err, size_t errlen)
{
	struct store_op op = {key, val, vlen, ttl};
	const char *argv[5];
	size_t len[5];
	char ttlbuf[32];
	redisReply *rep;
	int argc = set_argv(&op, argv, len, ttlbuf, sizeof ttlbuf);

	if ((rep = command((struct store_redis *)st, argc, argv, len, 0, err,
	                   errlen)) == NULL)
		return STORE_ERR_RETRY;
	freeReplyObject(rep);
	return STORE_OK;
}

/* redis_del - DEL; STORE_NOTFOUND when there was no such key */
static enum store_status
redis_del(struct store *st, const char *key, char *err, size_t errlen)
{
	const char *argv[2] = {"DEL", key};
	redisReply *rep;
	enum store_status ret;

	if ((rep = command((struct store_redis *)st, 2, argv, NULL, 0, err,
	                   errlen)) == NULL)
		return STORE_ERR_RETRY;
	ret = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0
	          ? STORE_OK
	          : STORE_NOTFOUND;
	freeReplyObject(rep);
	return ret;
}

/* What TYPE says of a key that MGET found no string under. */
enum key_kind {
	KEY_KIND_STRING, /* a string after all (set since the MGET) */
	KEY_KIND_GONE,   /* no key any more */
	KEY_KIND_OTHER,  /* a hash, a list...: named in the caller's buffer */
	KEY_KIND_FAILED  /* no answer, or not a status */
};

/* key_type - TYPE of a key; for KEY_KIND_OTHER its name goes into buf */
static enum key_kind
key_type(struct store_redis *r, redisContext *c, const char *key, char *buf,
         size_t len)
{
	const char *argv[2] = {"TYPE", key};
	redisReply *rep;
	enum key_kind k;

	if (pipeline_send(c, 2, argv, NULL) != 0 ||
	    (rep = get_reply(r, c)) == NULL)
		return KEY_KIND_FAILED;
	if (rep->type != REDIS_REPLY_STATUS)
		k = KEY_KIND_FAILED;
	else if (strcmp(rep->str, "none") == 0)
		k = KEY_KIND_GONE;
	else if (strcmp(rep->str, "string") == 0)
		k = KEY_KIND_STRING;
	else
		k = KEY_KIND_OTHER;
	if (k == KEY_KIND_OTHER)
		str_copy(buf, rep->str, len);
	freeReplyObject(rep);
	return k;
}

/* What a SCAN batch asks of the scan. */
enum scan_step {
	SCAN_GO_ON,   /* scan the next batch */
	SCAN_STOPPED, /* the callback asked to stop */
	SCAN_FAILED   /* Redis failed; err set */
};

/*
 * scan_others - the keys of a batch that MGET found no string under: each
 * one that holds another type is passed to fn with that type
 */
static enum scan_step
scan_others(struct store_redis *r, redisContext *c, const redisReply *keys,
            const redisReply *vals, store_scan_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < keys->elements; i++) {
		char type[32];
		enum key_kind k;

		if (vals->element[i]->type != REDIS_REPLY_NIL)
			continue;
		k = key_type(r, c, keys->element[i]->str, type, sizeof type);
		if (k == KEY_KIND_FAILED)
			return SCAN_FAILED;
		if (k == KEY_KIND_OTHER &&
		    fn(keys->element[i]->str, NULL, 0, -1, type, arg) != 0)
			return SCAN_STOPPED;
	}
	return SCAN_GO_ON;
}

/*
 * scan_batch - values and TTLs of one SCAN batch, passed to fn
 *
 * One MGET and one PTTL a key, pipelined; then TYPE for the keys that hold
 * no string (scan_others), once the pipeline is read.
 */
static enum scan_step
scan_batch(struct store_redis *r, redisContext *c, const redisReply *keys,
           store_scan_fn fn, void *arg, char *err, size_t errlen)
{
	size_t n = keys->elements, i;
	const char **argv = xcalloc(n + 1, sizeof *argv);
	redisReply *vals = NULL, *ttl = NULL;
	enum scan_step ret = SCAN_FAILED;
	int stop = 0;

	argv[0] = "MGET";
	for (i = 0; i < n; i++)
		argv[i + 1] = keys->element[i]->str;
	if (pipeline_send(c, (int)n + 1, argv, NULL) != 0)
		goto done;
	for (i = 0; i < n; i++) {
		const char *p[2] = {"PTTL", keys->element[i]->str};

		if (pipeline_send(c, 2, p, NULL) != 0)
			goto done;
	}
	if ((vals = get_reply(r, c)) == NULL ||
	    vals->type != REDIS_REPLY_ARRAY || vals->elements != n)
		goto done;
	for (i = 0; i < n; i++) {
		const redisReply *v = vals->element[i];
		long long secs = -1;

		if ((ttl = get_reply(r, c)) == NULL)
			goto done;
		if (ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0)
			secs = (ttl->integer + 999) / 1000;
		freeReplyObject(ttl);
		ttl = NULL;
		if (!stop && v->type == REDIS_REPLY_STRING)
			stop = fn(keys->element[i]->str, v->str, v->len, secs,
			          NULL, arg);
	}
	ret = stop ? SCAN_STOPPED : scan_others(r, c, keys, vals, fn, arg);
done:
	if (ret == SCAN_FAILED)
		errbuf_set(err, errlen, "Redis SCAN: %s",
		           c->errstr[0] != '\0' ? c->errstr
		                                : "unexpected reply");
	freeReplyObject(vals);
	free(argv);
	return ret;
}

/* redis_scan - SCAN MATCH prefix*, never KEYS */
static enum store_status
redis_scan(struct store *st, const char *prefix, store_scan_fn fn, void *arg,
           char *err, size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	char *match = rconn_glob_escape(prefix), cursor[32] = "0";
	const char *argv[6] = {"SCAN", cursor,  "MATCH",
	                       match,  "COUNT", SCAN_COUNT};
	struct rconn_call k = rconn_call_new(r, err, errlen);
	struct slot *s;
	redisReply *rep;
	enum scan_step rc = SCAN_GO_ON;

	if ((s = borrow(r, &k, "SCAN")) == NULL) {
		free(match);
		return STORE_ERR_RETRY;
	}
	do {
		/* A scan is many round trips: each gets a whole timeout. */
		k.until = mono_deadline((long long)r->timeout_ms * 1000);
		if (rconn_arm(r, s->c, &k, "Redis", "SCAN") != 0 ||
		    pipeline_send(s->c, 6, argv, NULL) != 0 ||
		    (rep = get_reply(r, s->c)) == NULL) {
			if (s->c->err != 0)
				rconn_no_reply(r, s->c, errno, &k, "Redis",
				               "SCAN");
			rc = SCAN_FAILED;
			break;
		}
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			errbuf_set(err, errlen, "Redis SCAN: unexpected reply");
			freeReplyObject(rep);
			rc = SCAN_FAILED;
			break;
		}
		str_copy(cursor, rep->element[0]->str, sizeof cursor);
		if (rep->element[1]->elements > 0)
			rc = scan_batch(r, s->c, rep->element[1], fn, arg, err,
			                errlen);
		freeReplyObject(rep);
	} while (rc == SCAN_GO_ON && strcmp(cursor, "0") != 0);
	release(r, s, rc == SCAN_FAILED);
	free(match);
	return rc == SCAN_FAILED ? STORE_ERR_RETRY : STORE_OK;
}

/* queue_ops - MULTI, every op, EXEC into the output buffer */
static int
queue_ops(redisContext *c, const struct store_op *ops, size_t n)
{
	const char *multi[1] = {"MULTI"}, *exec[1] = {"EXEC"};
	const char *argv[5];
	size_t len[5], i;
	char ttl[32];

	if (pipeline_send(c, 1, multi, NULL) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		int argc;

		if (ops[i].val == NULL) {
			argv[0] = "DEL";
			len[0] = 3;
			argv[1] = ops[i].key;
			len[1] = strlen(ops[i].key);
			argc = 2;
		} else {
			argc = set_argv(&ops[i], argv, len, ttl, sizeof ttl);
		}
		if (pipeline_send(c, argc, argv, len) != 0)
			return -1;
	}
	return pipeline_send(c, 1, exec, NULL);
}

/* apply_failed - the message of an apply() whose connection failed */
static void
apply_failed(const struct store_redis *r, const redisContext *c, int e,
             const struct rconn_call *k, int before_exec)
{
	struct rconn_call mine = *k;
	char why[256];

	mine.err = why;
	mine.errlen = sizeof why;
	rconn_no_reply(r, c, e, &mine, "Redis", before_exec ? "MULTI" : "EXEC");
	errbuf_set(k->err, k->errlen, "%s%s", why,
	           before_exec ? " (nothing was written)"
	                       : " (outcome unknown)");
}

/*
 * redis_apply - a batch of SET and DEL in one MULTI/EXEC
 *
 * Redis runs the transaction whole or not at all; a queueing error (wrong
 * arguments, out of memory) makes EXEC abort it.  A connection lost after
 * EXEC was sent leaves the outcome unknown, which the message says.
 */
static enum store_status
redis_apply(struct store *st, const struct store_op *ops, size_t n, char *err,
            size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	struct rconn_call k = rconn_call_new(r, err, errlen);
	struct slot *s;
	redisReply *rep;
	size_t i;
	int bad = 0;

	if ((s = borrow(r, &k, "MULTI")) == NULL)
		return STORE_ERR_RETRY;
	if (queue_ops(s->c, ops, n) != 0) {
		errbuf_set(err, errlen, "Redis MULTI: %s", s->c->errstr);
		release(r, s, 1);
		return STORE_ERR_RETRY;
	}
	for (i = 0; i < n + 2; i++) {
		if ((rep = get_reply(r, s->c)) == NULL) {
			apply_failed(r, s->c, errno, &k, i <= n);
			release(r, s, 1);
			return STORE_ERR_RETRY;
		}
		if (!bad && (rep->type == REDIS_REPLY_ERROR ||
		             (i == n + 1 && rep->type != REDIS_REPLY_ARRAY))) {
			if (rep->type == REDIS_REPLY_ERROR)
				rconn_error(rep, "Redis", "EXEC", err, errlen);
			else
				errbuf_set(err, errlen, "Redis EXEC: aborted");
			bad = 1;
		}
		freeReplyObject(rep);
	}
	release(r, s, bad);
	return bad ? STORE_ERR_RETRY : STORE_OK;
}

/* redis_lock - SET name token NX PX ms */
static enum store_status
redis_lock(struct store *st, const char *name, long long ms, char *err,
           size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	char px[32];
	const char *argv[6] = {"SET", name, r->token, "NX", "PX", px};
	redisReply *rep;
	enum store_status ret;

	(void)snprintf(px, sizeof px, "%lld", ms > 0 ? ms : 1);
	if ((rep = command(r, 6, argv, NULL, 0, err, errlen)) == NULL)
		return STORE_ERR_RETRY;
	ret = rep->type == REDIS_REPLY_STATUS ? STORE_OK : STORE_NOTFOUND;
	freeReplyObject(rep);
	return ret;
}

/* redis_unlock - delete the lock only if it is still ours */
static enum store_status
redis_unlock(struct store *st, const char *name, char *err, size_t errlen)
{
	static const char script[] =
	    "if redis.call('get', KEYS[1]) == ARGV[1] then "
	    "return redis.call('del', KEYS[1]) else return 0 end";
	struct store_redis *r = (struct store_redis *)st;
	const char *argv[5] = {"EVAL", script, "1", name, r->token};
	redisReply *rep;

	if ((rep = command(r, 5, argv, NULL, 0, err, errlen)) == NULL)
		return STORE_ERR_RETRY;
	freeReplyObject(rep);
	return STORE_OK;
}

/* eval_result - the integers of a script's array reply (freed here) */
static enum store_status
eval_result(redisReply *rep, long long *out, size_t nout, size_t *got,
            char *err, size_t errlen)
{
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements > nout) {
		freeReplyObject(rep);
		errbuf_set(err, errlen, "Redis EVALSHA: unexpected reply");
		return STORE_ERR_CONFIG;
	}
	for (i = 0; i < rep->elements; i++) {
		if (rep->element[i]->type != REDIS_REPLY_INTEGER) {
			freeReplyObject(rep);
			errbuf_set(err, errlen,
			           "Redis EVALSHA: unexpected reply");
			return STORE_ERR_CONFIG;
		}
		out[i] = rep->element[i]->integer;
	}
	*got = rep->elements;
	freeReplyObject(rep);
	return STORE_OK;
}

/*
 * redis_eval - EVALSHA; EVAL (which also loads it) when Redis does not know
 * the script: after a restart, a SCRIPT FLUSH or a failover.  A NOSCRIPT
 * error means the script did not run, so sending it again counts nothing
 * twice.  A script that only reads is sent again on a new connection when
 * its pooled one had been closed by the server, as a lookup is; one that
 * writes never (it may have run).
 */
static enum store_status
redis_eval(struct store *st, const struct store_script *sc,
           const char *const *keys, size_t nkeys, const char *const *args,
           size_t nargs, long long *out, size_t nout, size_t *got, char *err,
           size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	struct rconn_call k = rconn_call_new(r, err, errlen);
	size_t argc = 3 + nkeys + nargs, i;
	const char **argv;
	char nk[32];
	struct slot *s;
	redisReply *rep;
	int fresh;

	*got = 0;
	if ((s = acquire(r, &k, &fresh)) == NULL)
		return STORE_ERR_RETRY;
	argv = xcalloc(argc, sizeof *argv);
	(void)snprintf(nk, sizeof nk, "%zu", nkeys);
	argv[0] = "EVALSHA";
	argv[1] = sc->sha1;
	argv[2] = nk;
	for (i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
	rep = ask(r, s->c, &k, NULL, (int)argc, argv, NULL);
	if (rep == NULL && sc->reads && !fresh && k.lost) {
		/* A pooled connection the server had closed, as in call(). */
		redisFree(s->c);
		if ((s->c = rconn_connect(r, &k)) != NULL)
			rep = ask(r, s->c, &k, NULL, (int)argc, argv, NULL);
	}
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR && rep->str != NULL &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		argv[0] = "EVAL";
		argv[1] = sc->body;
		rep = ask(r, s->c, &k, NULL, (int)argc, argv, NULL);
	}
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		rconn_error(rep, "Redis", argv[0], err, errlen);
		freeReplyObject(rep);
		rep = NULL;
	}
	free(argv);
	release(r, s, rep == NULL);
	if (rep == NULL)
		return STORE_ERR_RETRY;
	return eval_result(rep, out, nout, got, err, errlen);
}

/* queue_runs - MULTI, an EVAL of each run, EXEC into the output buffer */
static int
queue_runs(redisContext *c, const struct store_script *sc,
           const struct store_eval_run *runs, size_t n)
{
	const char *multi[1] = {"MULTI"}, *exec[1] = {"EXEC"}, **argv = NULL;
	size_t i, j, max = 0;
	char nk[32];
	int rc = 0;

	for (i = 0; i < n; i++)
		if (runs[i].nkeys + runs[i].nargs > max)
			max = runs[i].nkeys + runs[i].nargs;
	argv = xcalloc(max + 3, sizeof *argv);
	if (pipeline_send(c, 1, multi, NULL) != 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		(void)snprintf(nk, sizeof nk, "%zu", runs[i].nkeys);
		argv[0] = "EVAL";
		argv[1] = sc->body;
		argv[2] = nk;
		for (j = 0; j < runs[i].nkeys; j++)
			argv[3 + j] = runs[i].keys[j];
		for (j = 0; j < runs[i].nargs; j++)
			argv[3 + runs[i].nkeys + j] = runs[i].args[j];
		if (pipeline_send(c, (int)(3 + runs[i].nkeys + runs[i].nargs),
		                  argv, NULL) != 0)
			rc = -1;
	}
	free(argv);
	return rc == 0 ? pipeline_send(c, 1, exec, NULL) : -1;
}

/* runs_result - out[] from EXEC's array of the runs' replies (freed here) */
static enum store_status
runs_result(redisReply *rep, size_t n, long long *out, char *err, size_t errlen)
{
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
		errbuf_set(err, errlen, "Redis EXEC: aborted");
		freeReplyObject(rep);
		return STORE_ERR_RETRY;
	}
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];

		if (e->type == REDIS_REPLY_ERROR) {
			rconn_error(e, "Redis", "EVAL", err, errlen);
			freeReplyObject(rep);
			return STORE_ERR_RETRY;
		}
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER) {
			errbuf_set(err, errlen, "Redis EVAL: unexpected reply");
			freeReplyObject(rep);
			return STORE_ERR_CONFIG;
		}
		out[i] = e->element[0]->integer;
	}
	freeReplyObject(rep);
	return STORE_OK;
}

/*
 * redis_eval_all - the runs as EVALs in one MULTI/EXEC (store.h)
 *
 * EVAL, not EVALSHA: a script Redis lost between two runs would fail
 * some of them and not others.  A queueing error makes EXEC abort the
 * whole; a connection lost after EXEC was sent leaves the outcome
 * unknown, which the message says.
 */
static enum store_status
redis_eval_all(struct store *st, const struct store_script *sc,
               const struct store_eval_run *runs, size_t n, long long *out,
               char *err, size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	struct rconn_call k = rconn_call_new(r, err, errlen);
	enum store_status ret = STORE_OK;
	struct slot *s;
	redisReply *rep;
	size_t i;

	if ((s = borrow(r, &k, "MULTI")) == NULL)
		return STORE_ERR_RETRY;
	if (queue_runs(s->c, sc, runs, n) != 0) {
		errbuf_set(err, errlen, "Redis MULTI: %s", s->c->errstr);
		release(r, s, 1);
		return STORE_ERR_RETRY;
	}
	for (i = 0; i < n + 2; i++) {
		if ((rep = get_reply(r, s->c)) == NULL) {
			apply_failed(r, s->c, errno, &k, i <= n);
			release(r, s, 1);
			return STORE_ERR_RETRY;
		}
		if (i == n + 1 && ret == STORE_OK) {
			ret = runs_result(rep, n, out, err, errlen);
			continue;
		}
		if (ret == STORE_OK && rep->type == REDIS_REPLY_ERROR) {
			rconn_error(rep, "Redis", i == 0 ? "MULTI" : "EVAL",
			            err, errlen);
			ret = STORE_ERR_RETRY;
		}
		freeReplyObject(rep);
	}
	release(r, s, ret != STORE_OK);
	return ret;
}

/* redis_get - GET and PTTL, pipelined */
static enum store_status
redis_get(struct store *st, const char *key, struct store_value *out,
          long long *ttl, char *err, size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	const char *get[2] = {"GET", key}, *pttl[2] = {"PTTL", key};
	redisReply *v = NULL, *t = NULL;
	enum store_status ret = STORE_ERR_RETRY;
	struct rconn_call k = rconn_call_new(r, err, errlen);
	struct slot *s;

	if ((s = borrow(r, &k, "GET")) == NULL)
		return STORE_ERR_RETRY;
	if (pipeline_send(s->c, 2, get, NULL) != 0 ||
	    pipeline_send(s->c, 2, pttl, NULL) != 0 ||
	    (v = get_reply(r, s->c)) == NULL ||
	    (t = get_reply(r, s->c)) == NULL) {
		rconn_no_reply(r, s->c, errno, &k, "Redis", "GET");
	} else if (v->type == REDIS_REPLY_STRING) {
		out->status = STORE_OK;
		out->val = xmemdup(v->str, v->len);
		out->len = v->len;
		*ttl = t->type == REDIS_REPLY_INTEGER && t->integer > 0
		           ? (t->integer + 999) / 1000
		           : -1;
		ret = STORE_OK;
	} else if (v->type == REDIS_REPLY_NIL ||
	           (v->type == REDIS_REPLY_ERROR &&
	            strncmp(v->str, "WRONGTYPE", 9) == 0)) {
		ret = STORE_NOTFOUND;
	} else {
		rconn_error(v, "Redis", "GET", err, errlen);
	}
	release(r, s, ret == STORE_ERR_RETRY);
	freeReplyObject(v);
	freeReplyObject(t);
	return ret;
}

/*
 * redis_hmget - HMGET and PTTL, pipelined; a key of another type
 * (WRONGTYPE) is STORE_NOTFOUND, as for get()
 */
static enum store_status
redis_hmget(struct store *st, const char *key, const char *const *fields,
            size_t n, struct store_value *out, long long *pttl, char *err,
            size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	const char *ttl[2] = {"PTTL", key}, **argv;
	redisReply *v = NULL, *t = NULL;
	enum store_status ret = STORE_ERR_RETRY;
	struct rconn_call k = rconn_call_new(r, err, errlen);
	struct slot *s;

	if ((s = borrow(r, &k, "HMGET")) == NULL)
		return STORE_ERR_RETRY;
	argv = xcalloc(n + 2, sizeof *argv);
	argv[0] = "HMGET";
	argv[1] = key;
	memcpy(argv + 2, fields, n * sizeof *fields);
	if (pipeline_send(s->c, (int)n + 2, argv, NULL) != 0 ||
	    pipeline_send(s->c, 2, ttl, NULL) != 0 ||
	    (v = get_reply(r, s->c)) == NULL ||
	    (t = get_reply(r, s->c)) == NULL) {
		rconn_no_reply(r, s->c, errno, &k, "Redis", "HMGET");
	} else if (v->type == REDIS_REPLY_ERROR &&
	           strncmp(v->str, "WRONGTYPE", 9) == 0) {
		ret = STORE_NOTFOUND;
	} else if (v->type == REDIS_REPLY_ERROR) {
		rconn_error(v, "Redis", "HMGET", err, errlen);
	} else {
		*pttl = t->type == REDIS_REPLY_INTEGER ? t->integer : -2;
		ret = mget_values(v, n, out, "HMGET", err, errlen);
		v = NULL; /* mget_values() freed it */
	}
	release(r, s, ret == STORE_ERR_RETRY);
	free(argv);
	freeReplyObject(v);
	freeReplyObject(t);
	return ret;
}

/*
 * entry_copy - one XREVRANGE element, [id, [field, value, ...]], into e;
 * -1 when it is not that shape (e then holds nothing)
 */
static int
entry_copy(const redisReply *el, struct store_entry *e)
{
	const redisReply *fv;
	size_t i;

	memset(e, 0, sizeof *e);
	if (el->type != REDIS_REPLY_ARRAY || el->elements != 2 ||
	    el->element[0]->type != REDIS_REPLY_STRING ||
	    (fv = el->element[1])->type != REDIS_REPLY_ARRAY ||
	    fv->elements % 2 != 0)
		return -1;
	for (i = 0; i < fv->elements; i++)
		if (fv->element[i]->type != REDIS_REPLY_STRING)
			return -1;
	e->id = xmemdup(el->element[0]->str, el->element[0]->len);
	e->n = fv->elements / 2;
	e->fv = xcalloc(fv->elements + 1, sizeof *e->fv);
	for (i = 0; i < fv->elements; i++) {
		e->fv[i].status = STORE_OK;
		e->fv[i].val =
		    xmemdup(fv->element[i]->str, fv->element[i]->len);
		e->fv[i].len = fv->element[i]->len;
	}
	return 0;
}

/* redis_xrevrange - XREVRANGE key end - COUNT count (store.h) */
static enum store_status
redis_xrevrange(struct store *st, const char *key, const char *end,
                size_t count, struct store_entry **out, size_t *n, char *err,
                size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	char cnt[32];
	const char *argv[6] = {"XREVRANGE", key, end, "-", "COUNT", cnt};
	redisReply *rep;
	size_t i;

	*out = NULL;
	*n = 0;
	(void)snprintf(cnt, sizeof cnt, "%zu", count > 0 ? count : 1);
	if ((rep = command(r, 6, argv, NULL, 1, err, errlen)) == NULL)
		return STORE_ERR_RETRY;
	if (rep->type != REDIS_REPLY_ARRAY) {
		errbuf_set(err, errlen, "Redis XREVRANGE: unexpected reply");
		freeReplyObject(rep);
		return STORE_ERR_CONFIG;
	}
	*out = xcalloc(rep->elements + 1, sizeof **out);
	for (i = 0; i < rep->elements; i++) {
		if (entry_copy(rep->element[i], &(*out)[i]) != 0) {
			store_entries_free(*out, i);
			*out = NULL;
			errbuf_set(err, errlen,
			           "Redis XREVRANGE: unexpected entry");
			freeReplyObject(rep);
			return STORE_ERR_CONFIG;
		}
	}
	*n = rep->elements;
	freeReplyObject(rep);
	return STORE_OK;
}

/* redis_stats_add - the commands sent, for store_stats() */
static void
redis_stats_add(struct store *st, struct store_stats *out)
{
	struct store_redis_stats s;

	store_redis_stats(st, &s);
	out->commands += s.commands;
}

/* redis_close - free the pool */
static void
redis_close(struct store *st)
{
	struct store_redis *r = (struct store_redis *)st;
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nslots; i++)
		if (r->slots[i].c != NULL)
			redisFree(r->slots[i].c);
	free(r->slots);
	if (r->role != NULL) {
		pthread_mutex_destroy(&r->role->mu);
		free(r->role);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	explicit_bzero(&r->url, sizeof r->url);
	free(r);
}

/* init_sync - the mutex and a condition variable on the monotonic clock */
static void
init_sync(struct store_redis *r)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
}

/*
 * store_redis_open - a store on the Redis of a URL
 *
 * Returns the store (free it with its close()), or NULL with err set when
 * the URL or the settings are bad.  Nothing is connected yet.
 */
struct store *
store_redis_open(const struct store_redis_conf *conf, char *err, size_t errlen)
{
	struct store_redis *r = xcalloc(1, sizeof *r);
	struct timespec now;

	if (redis_url_parse(conf->url, &r->url, err, errlen) != 0) {
		free(r);
		return NULL;
	}
	if (conf->sentinel_password != NULL &&
	    str_copy(r->sentinel_password, conf->sentinel_password,
	             sizeof r->sentinel_password) >=
	        sizeof r->sentinel_password) {
		errbuf_set(err, errlen, "Sentinel password is too long");
		free(r);
		return NULL;
	}
	if (conf->password != NULL &&
	    str_copy(r->url.password, conf->password, sizeof r->url.password) >=
	        sizeof r->url.password) {
		errbuf_set(err, errlen, "Redis password is too long");
		free(r);
		return NULL;
	}
	r->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 500;
	r->nslots = conf->connections > 0 ? conf->connections : 1;
	r->slots = xcalloc((size_t)r->nslots, sizeof *r->slots);
	if (conf->check_role != NULL)
		r->role = role_new(&r->url, conf->check_role, conf->notice);
	init_sync(r);
	clock_gettime(CLOCK_REALTIME, &now);
	(void)snprintf(r->token, sizeof r->token, "%ld.%ld.%ld", (long)getpid(),
	               (long)now.tv_sec, now.tv_nsec);
	r->store.mget = redis_mget;
	r->store.get = redis_get;
	r->store.put = redis_put;
	r->store.del = redis_del;
	r->store.scan = redis_scan;
	r->store.apply = redis_apply;
	r->store.lock = redis_lock;
	r->store.unlock = redis_unlock;
	r->store.eval = redis_eval;
	r->store.eval_all = redis_eval_all;
	r->store.hmget = redis_hmget;
	r->store.xrevrange = redis_xrevrange;
	r->store.stats = redis_stats_add;
	r->store.close = redis_close;
	return &r->store;
}

/*
 * store_redis_drop - every pooled connection made again at its next use
 * (a Sentinel's primary changed: connections to the old one must go)
 */
void
store_redis_drop(struct store *st)
{
	struct store_redis *r = (struct store_redis *)st;

	atomic_fetch_add(&r->gen, 1);
}

/* store_redis_stats - connections made and commands sent since open */
void
store_redis_stats(struct store *st, struct store_redis_stats *out)
{
	struct store_redis *r = (struct store_redis *)st;

	out->connects = atomic_load(&r->connects);
	out->commands = atomic_load(&r->commands);
}
