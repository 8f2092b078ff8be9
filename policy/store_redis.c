/*
 * store_redis - the store on Redis, through hiredis.  See store_redis.h.
 *
 * The only file of redmilter that includes hiredis.  It uses only the API
 * that hiredis 0.14 (Debian 12) shares with 1.x: redisConnect*WithTimeout,
 * redisSetTimeout, redisCommandArgv, redisAppendCommandArgv, redisGetReply,
 * freeReplyObject.  Reply types beyond RESP2's (1.x RESP3) are unexpected
 * replies, never "not found".
 *
 * A redisContext is not thread-safe and libmilter runs callbacks on a pool
 * of worker threads, so connections live in a fixed pool of slots guarded by
 * one mutex; a thread borrows a slot for one round trip.  A connection that
 * failed in any way is freed and remade on next use: hiredis leaves a
 * context dead after an error, and 0.14's redisReconnect() forgets the
 * command timeout, so we never reuse one.
 */
#include <sys/time.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_url.h"
#include "store_redis.h"
#include "util.h"

#define SCAN_COUNT "1000"

struct slot {
	redisContext *c;
	int busy;
};

struct store_redis {
	struct store store; /* first: the struct store * is this */
	struct redis_url url;
	int timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot *slots;
	int nslots;
	atomic_ulong connects;
	atomic_ulong commands;
	char token[64]; /* value of the locks this store takes */
	char sentinel_password[REDIS_URL_SECRET_MAX + 1];
	atomic_int good_sentinel; /* the one that answered last */
};

/* say - bounded message into err, from a literal format */
__attribute__((format(printf, 3, 4))) static void
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* redis_error - the text of an error reply, printable, for messages */
static void
redis_error(const redisReply *rep, const char *what, char *err, size_t errlen)
{
	char *s = str_sanitize(rep->str != NULL ? rep->str : "",
	                       rep->str != NULL ? rep->len : 0, 200);

	say(err, errlen, "Redis %s: %s", what, s);
	free(s);
}

/* simple - one command on a fresh connection; 0 unless it failed */
static int
simple(struct store_redis *r, redisContext *c, int argc, const char **argv,
       char *err, size_t errlen)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);

	atomic_fetch_add(&r->commands, 1);
	if (rep == NULL) {
		say(err, errlen, "Redis %s: %s", argv[0], c->errstr);
		return -1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		redis_error(rep, argv[0], err, errlen);
		freeReplyObject(rep);
		return -1;
	}
	freeReplyObject(rep);
	return 0;
}

/* setup - AUTH and SELECT on a new connection */
static int
setup(struct store_redis *r, redisContext *c, char *err, size_t errlen)
{
	const char *auth[3] = {"AUTH", r->url.user, r->url.password};
	const char *select[2] = {"SELECT", NULL};
	char db[16];

	if (r->url.password[0] != '\0') {
		if (r->url.user[0] == '\0') {
			auth[1] = r->url.password;
			if (simple(r, c, 2, auth, err, errlen) != 0)
				return -1;
		} else if (simple(r, c, 3, auth, err, errlen) != 0) {
			return -1;
		}
	}
	if (r->url.db != 0) {
		snprintf(db, sizeof db, "%d", r->url.db);
		select[1] = db;
		return simple(r, c, 2, select, err, errlen);
	}
	return 0;
}

/* connect_at - a TCP or unix connection with both timeouts, or NULL */
static redisContext *
connect_at(struct store_redis *r, const char *host, int port, const char *path,
           char *err, size_t errlen)
{
	struct timeval tv = {r->timeout_ms / 1000,
	                     (r->timeout_ms % 1000) * 1000};
	redisContext *c;

	if (path != NULL)
		c = redisConnectUnixWithTimeout(path, tv);
	else
		c = redisConnectWithTimeout(host, port, tv);
	atomic_fetch_add(&r->connects, 1);
	if (c == NULL) {
		say(err, errlen, "Redis at %s:%d: cannot allocate a connection",
		    path != NULL ? path : host, port);
		return NULL;
	}
	if (c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
		if (path != NULL)
			say(err, errlen, "Redis at %s: %s", path, c->errstr);
		else
			say(err, errlen, "Redis at %s:%d: %s", host, port,
			    c->errstr);
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * ask_sentinel - the current primary of our master name, from one Sentinel
 *
 * Returns 0 with host and port, or -1 with err set.
 */
static int
ask_sentinel(struct store_redis *r, int i, char *host, size_t hostlen,
             int *port, char *err, size_t errlen)
{
	const struct redis_hostport *s = &r->url.sentinel[i];
	const char *auth[2] = {"AUTH", r->sentinel_password};
	const char *get[3] = {"SENTINEL", "get-master-addr-by-name",
	                      r->url.master};
	redisContext *c = connect_at(r, s->host, s->port, NULL, err, errlen);
	redisReply *rep = NULL;
	int rc = -1;

	if (c == NULL)
		return -1;
	if (r->sentinel_password[0] != '\0' &&
	    simple(r, c, 2, auth, err, errlen) != 0)
		goto done;
	rep = redisCommandArgv(c, 3, get, NULL);
	atomic_fetch_add(&r->commands, 1);
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING) {
		say(err, errlen, "Sentinel %s:%d does not know master %s",
		    s->host, s->port, r->url.master);
		goto done;
	}
	str_copy(host, rep->element[0]->str, hostlen);
	*port = (int)strtol(rep->element[1]->str, NULL, 10);
	rc = 0;
done:
	freeReplyObject(rep);
	redisFree(c);
	return rc;
}

/* is_primary - ROLE says "master"; -1 with err set otherwise */
static int
is_primary(struct store_redis *r, redisContext *c, const char *host, int port,
           char *err, size_t errlen)
{
	const char *role[1] = {"ROLE"};
	redisReply *rep = redisCommandArgv(c, 1, role, NULL);
	int ok;

	atomic_fetch_add(&r->commands, 1);
	ok = rep != NULL && rep->type == REDIS_REPLY_ARRAY &&
	     rep->elements > 0 &&
	     (rep->element[0]->type == REDIS_REPLY_STRING ||
	      rep->element[0]->type == REDIS_REPLY_STATUS) &&
	     strcmp(rep->element[0]->str, "master") == 0;
	freeReplyObject(rep);
	if (!ok)
		say(err, errlen, "Redis at %s:%d is not the primary of %s",
		    host, port, r->url.master);
	return ok ? 0 : -1;
}

/*
 * connect_sentinel - the primary the Sentinels name, checked with ROLE
 *
 * Sentinels are asked in turn, starting with the one that answered last; a
 * Sentinel that is down, or names a server that is down or not a primary
 * (a failover in progress), is skipped.
 */
static redisContext *
connect_sentinel(struct store_redis *r, char *err, size_t errlen)
{
	int n = r->url.nsentinels, first = atomic_load(&r->good_sentinel), k;
	char host[256];
	redisContext *c;
	int port;

	for (k = 0; k < n; k++) {
		int i = (first + k) % n;

		if (ask_sentinel(r, i, host, sizeof host, &port, err, errlen) !=
		    0)
			continue;
		if ((c = connect_at(r, host, port, NULL, err, errlen)) == NULL)
			continue;
		if (setup(r, c, err, errlen) == 0 &&
		    is_primary(r, c, host, port, err, errlen) == 0) {
			atomic_store(&r->good_sentinel, i);
			return c;
		}
		redisFree(c);
	}
	return NULL;
}

/* connect_one - a new connection with timeouts, AUTH and SELECT, or NULL */
static redisContext *
connect_one(struct store_redis *r, char *err, size_t errlen)
{
	redisContext *c;

	if (r->url.is_sentinel)
		return connect_sentinel(r, err, errlen);
	c = connect_at(r, r->url.host, r->url.port,
	               r->url.is_unix ? r->url.path : NULL, err, errlen);
	if (c != NULL && setup(r, c, err, errlen) != 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* deadline - now + ms on the monotonic clock */
static struct timespec
deadline(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * acquire - borrow a connected slot
 *
 * Waits at most timeout_ms for a free slot.  Returns the slot, or NULL with
 * err set.
 */
static struct slot *
acquire(struct store_redis *r, char *err, size_t errlen)
{
	struct timespec until = deadline(r->timeout_ms);
	struct slot *s = NULL;
	int i, rc = 0;

	pthread_mutex_lock(&r->mu);
	while (s == NULL) {
		for (i = 0; i < r->nslots && s == NULL; i++)
			if (!r->slots[i].busy)
				s = &r->slots[i];
		if (s != NULL || rc == ETIMEDOUT)
			break;
		rc = pthread_cond_timedwait(&r->cv, &r->mu, &until);
	}
	if (s != NULL)
		s->busy = 1;
	pthread_mutex_unlock(&r->mu);
	if (s == NULL) {
		say(err, errlen,
		    "all %d Redis connections stayed busy for %d ms", r->nslots,
		    r->timeout_ms);
		return NULL;
	}
	if (s->c == NULL && (s->c = connect_one(r, err, errlen)) == NULL) {
		pthread_mutex_lock(&r->mu);
		s->busy = 0;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		return NULL;
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
 * command - one command, one reply
 *
 * Returns the reply (the caller frees it), or NULL with err set for an I/O
 * failure, a timeout or an error reply.  The connection is dropped on any
 * failure, so that the next use starts afresh (with AUTH, should a password
 * have been set behind our back).
 */
static redisReply *
command(struct store_redis *r, int argc, const char **argv,
        const size_t *argvlen, char *err, size_t errlen)
{
	struct slot *s;
	redisReply *rep;

	if ((s = acquire(r, err, errlen)) == NULL)
		return NULL;
	rep = redisCommandArgv(s->c, argc, argv, argvlen);
	atomic_fetch_add(&r->commands, 1);
	if (rep == NULL) {
		say(err, errlen, "Redis %s: %s", argv[0],
		    s->c->errstr[0] != '\0' ? s->c->errstr : "no reply");
		release(r, s, 1);
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		redis_error(rep, argv[0], err, errlen);
		freeReplyObject(rep);
		release(r, s, 1);
		return NULL;
	}
	release(r, s, 0);
	return rep;
}

/* redis_mget - every key in one MGET */
static enum store_status
redis_mget(struct store *st, const char *const *keys, size_t n,
           struct store_value *out, char *err, size_t errlen)
{
	struct store_redis *r = (struct store_redis *)st;
	const char **argv;
	redisReply *rep;
	size_t i;

	if (n == 0)
		return STORE_OK;
	argv = xcalloc(n + 1, sizeof *argv);
	argv[0] = "MGET";
	memcpy(argv + 1, keys, n * sizeof *keys);
	rep = command(r, (int)(n + 1), argv, NULL, err, errlen);
	free(argv);
	if (rep == NULL)
		return STORE_ERR_RETRY;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
		say(err, errlen, "Redis MGET: unexpected reply of type %d",
		    rep->type);
		freeReplyObject(rep);
		return STORE_ERR_CONFIG;
	}
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];

		if (e->type != REDIS_REPLY_STRING &&
		    e->type != REDIS_REPLY_NIL) {
			store_values_free(out, i);
			say(err, errlen,
			    "Redis MGET: unexpected element type %d", e->type);
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
		snprintf(ttl, ttllen, "%lld", op->ttl);
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

	if ((rep = command((struct store_redis *)st, argc, argv, len, err,
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

	if ((rep = command((struct store_redis *)st, 2, argv, NULL, err,
	                   errlen)) == NULL)
		return STORE_ERR_RETRY;
	ret = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0
	          ? STORE_OK
	          : STORE_NOTFOUND;
	freeReplyObject(rep);
	return ret;
}

/* glob_escape - the prefix with glob characters escaped, for SCAN MATCH */
static char *
glob_escape(const char *prefix)
{
	size_t len = strlen(prefix), n = 0;
	char *out = xmalloc(2 * len + 2);

	for (; *prefix != '\0'; prefix++) {
		if (strchr("*?[]\\", *prefix) != NULL)
			out[n++] = '\\';
		out[n++] = *prefix;
	}
	out[n++] = '*';
	out[n] = '\0';
	return out;
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
 * key_type - TYPE of a key: 0 a string, 1 gone, 2 another type (named in
 * buf), -1 on failure
 */
static int
key_type(struct store_redis *r, redisContext *c, const char *key, char *buf,
         size_t len)
{
	const char *argv[2] = {"TYPE", key};
	redisReply *rep;
	int t;

	if (pipeline_send(c, 2, argv, NULL) != 0 ||
	    (rep = get_reply(r, c)) == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_STATUS)
		t = -1;
	else if (strcmp(rep->str, "none") == 0)
		t = 1;
	else if (strcmp(rep->str, "string") == 0)
		t = 0;
	else
		t = 2;
	if (t == 2)
		str_copy(buf, rep->str, len);
	freeReplyObject(rep);
	return t;
}

/*
 * scan_batch - values and TTLs of one SCAN batch, passed to fn
 *
 * One MGET and one PTTL a key, pipelined.  Returns 1 when fn asked to
 * stop, 0 to go on, -1 on failure (err set).
 */
static int
scan_batch(struct store_redis *r, redisContext *c, const redisReply *keys,
           store_scan_fn fn, void *arg, char *err, size_t errlen)
{
	size_t n = keys->elements, i;
	const char **argv = xcalloc(n + 1, sizeof *argv);
	redisReply *vals = NULL, *ttl = NULL;
	int ret = -1, stop = 0;

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
		if (stop)
			continue;
		if (v->type == REDIS_REPLY_STRING)
			stop = fn(keys->element[i]->str, v->str, v->len, secs,
			          NULL, arg);
		else if (v->type == REDIS_REPLY_NIL)
			continue; /* TYPE below, once the pipeline is read */
	}
	for (i = 0; i < n && !stop; i++) {
		char type[32];
		int t;

		if (vals->element[i]->type != REDIS_REPLY_NIL)
			continue;
		t = key_type(r, c, keys->element[i]->str, type, sizeof type);
		if (t < 0)
			goto done;
		if (t == 2)
			stop =
			    fn(keys->element[i]->str, NULL, 0, -1, type, arg);
	}
	ret = stop ? 1 : 0;
done:
	if (ret < 0)
		say(err, errlen, "Redis SCAN: %s",
		    c->errstr[0] != '\0' ? c->errstr : "unexpected reply");
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
	char *match = glob_escape(prefix), cursor[32] = "0";
	const char *argv[6] = {"SCAN", cursor,  "MATCH",
	                       match,  "COUNT", SCAN_COUNT};
	struct slot *s;
	redisReply *rep;
	int rc = 0;

	if ((s = acquire(r, err, errlen)) == NULL) {
		free(match);
		return STORE_ERR_RETRY;
	}
	do {
		if (pipeline_send(s->c, 6, argv, NULL) != 0 ||
		    (rep = get_reply(r, s->c)) == NULL) {
			say(err, errlen, "Redis SCAN: %s", s->c->errstr);
			rc = -1;
			break;
		}
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			say(err, errlen, "Redis SCAN: unexpected reply");
			freeReplyObject(rep);
			rc = -1;
			break;
		}
		str_copy(cursor, rep->element[0]->str, sizeof cursor);
		if (rep->element[1]->elements > 0)
			rc = scan_batch(r, s->c, rep->element[1], fn, arg, err,
			                errlen);
		freeReplyObject(rep);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	release(r, s, rc < 0);
	free(match);
	return rc < 0 ? STORE_ERR_RETRY : STORE_OK;
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
	struct slot *s;
	redisReply *rep;
	size_t i;
	int bad = 0;

	if ((s = acquire(r, err, errlen)) == NULL)
		return STORE_ERR_RETRY;
	if (queue_ops(s->c, ops, n) != 0) {
		say(err, errlen, "Redis MULTI: %s", s->c->errstr);
		release(r, s, 1);
		return STORE_ERR_RETRY;
	}
	for (i = 0; i < n + 2; i++) {
		if ((rep = get_reply(r, s->c)) == NULL) {
			say(err, errlen, "Redis %s: %s%s",
			    i <= n ? "MULTI" : "EXEC", s->c->errstr,
			    i <= n ? " (nothing was written)"
			           : " (outcome unknown)");
			release(r, s, 1);
			return STORE_ERR_RETRY;
		}
		if (!bad && (rep->type == REDIS_REPLY_ERROR ||
		             (i == n + 1 && rep->type != REDIS_REPLY_ARRAY))) {
			if (rep->type == REDIS_REPLY_ERROR)
				redis_error(rep, "EXEC", err, errlen);
			else
				say(err, errlen, "Redis EXEC: aborted");
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

	snprintf(px, sizeof px, "%lld", ms > 0 ? ms : 1);
	if ((rep = command(r, 6, argv, NULL, err, errlen)) == NULL)
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

	if ((rep = command(r, 5, argv, NULL, err, errlen)) == NULL)
		return STORE_ERR_RETRY;
	freeReplyObject(rep);
	return STORE_OK;
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
	struct slot *s;

	if ((s = acquire(r, err, errlen)) == NULL)
		return STORE_ERR_RETRY;
	if (pipeline_send(s->c, 2, get, NULL) != 0 ||
	    pipeline_send(s->c, 2, pttl, NULL) != 0 ||
	    (v = get_reply(r, s->c)) == NULL ||
	    (t = get_reply(r, s->c)) == NULL) {
		say(err, errlen, "Redis GET: %s", s->c->errstr);
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
		redis_error(v, "GET", err, errlen);
	}
	release(r, s, ret == STORE_ERR_RETRY);
	freeReplyObject(v);
	freeReplyObject(t);
	return ret;
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
		say(err, errlen, "Sentinel password is too long");
		free(r);
		return NULL;
	}
	if (conf->password != NULL &&
	    str_copy(r->url.password, conf->password, sizeof r->url.password) >=
	        sizeof r->url.password) {
		say(err, errlen, "Redis password is too long");
		free(r);
		return NULL;
	}
	r->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 500;
	r->nslots = conf->connections > 0 ? conf->connections : 1;
	r->slots = xcalloc((size_t)r->nslots, sizeof *r->slots);
	init_sync(r);
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(r->token, sizeof r->token, "%ld.%ld.%ld", (long)getpid(),
	         (long)now.tv_sec, now.tv_nsec);
	r->store.mget = redis_mget;
	r->store.get = redis_get;
	r->store.put = redis_put;
	r->store.del = redis_del;
	r->store.scan = redis_scan;
	r->store.apply = redis_apply;
	r->store.lock = redis_lock;
	r->store.unlock = redis_unlock;
	r->store.close = redis_close;
	return &r->store;
}

/* store_redis_stats - connections made and commands sent since open */
void
store_redis_stats(struct store *st, struct store_redis_stats *out)
{
	struct store_redis *r = (struct store_redis *)st;

	out->connects = atomic_load(&r->connects);
	out->commands = atomic_load(&r->commands);
}
