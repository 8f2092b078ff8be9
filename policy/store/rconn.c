/*
 * rconn - the Redis store's connections and round trips.
 *
 * Part of store_redis (see store_redis.h for the contract and rconn.h for
 * what the two files share): a call's deadline (rconn_call_new,
 * rconn_left_us, from mono.h's mono_deadline), one command within it
 * (rconn_arm, rconn_roundtrip, rconn_no_reply), the message of an error reply
 * (rconn_error), and a new connection set up for use
 * (rconn_connect): connect, AUTH and SELECT, or with a sentinel:// URL the
 * Sentinels asked in turn for the primary and its ROLE checked.  A host
 * that is a name is resolved first, within the deadline (resolve.h).
 *
 * Every step gets only what is left of the call's deadline; a connection
 * that fails in any way is freed here, never handed back half set up.
 * Errors go into the caller's buffer (struct rconn_call); nothing is logged.
 * Thread-safe: a connection is used by the one thread that borrowed it, and
 * the counters and the last good Sentinel are atomic.
 */
#include <sys/time.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "errbuf.h"
#include "mono.h"
#include "rconn.h"
#include "resolve.h"
#include "str.h"
#include "xmalloc.h"

/* rconn_error - "WHO WHAT: " and the text of an error reply, printable */
void
rconn_error(const redisReply *rep, const char *who, const char *what, char *err,
            size_t errlen)
{
	char *s = str_sanitize(rep->str != NULL ? rep->str : "",
	                       rep->str != NULL ? rep->len : 0, 200);

	errbuf_set(err, errlen, "%s %s: %s", who, what, s);
	free(s);
}

/* rconn_call_new - a call of r with its deadline starting now */
struct rconn_call
rconn_call_new(const struct store_redis *r, char *err, size_t errlen)
{
	struct rconn_call k;

	k.until = mono_deadline((long long)r->timeout_ms * 1000);
	k.err = err;
	k.errlen = errlen;
	k.lost = 0;
	return k;
}

/* rconn_left_us - microseconds from now until `until`, <= 0 once passed */
long long
rconn_left_us(const struct timespec *until)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(until->tv_sec - now.tv_sec) * 1000000 +
	       (until->tv_nsec - now.tv_nsec) / 1000;
}

/* left_tv - what is left of until, never 0 (no timeout); -1 if nothing */
static int
left_tv(const struct timespec *until, struct timeval *tv)
{
	long long us = rconn_left_us(until);

	if (us <= 0)
		return -1;
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
	return 0;
}

/* timed_out - whether c's failure (errno e) was the end of the deadline */
static int
timed_out(const redisContext *c, int e, const struct timespec *until)
{
	if (rconn_left_us(until) <= 0)
		return 1;
#ifdef REDIS_ERR_TIMEOUT /* 1.x, for ETIMEDOUT */
	if (c->err == REDIS_ERR_TIMEOUT)
		return 1;
#endif
	/* SO_RCVTIMEO and SO_SNDTIMEO end a read or write with EAGAIN. */
	if (c->err != REDIS_ERR_IO)
		return 0;
#if EWOULDBLOCK != EAGAIN
	if (e == EWOULDBLOCK)
		return 1;
#endif
	return e == EAGAIN || e == ETIMEDOUT;
}

/* say_timeout - the message of a step that ran out of time */
static void
say_timeout(const struct store_redis *r, struct rconn_call *k, const char *who,
            const char *what)
{
	errbuf_set(k->err, k->errlen, "%s %s: timed out (timeout %d ms)", who,
	           what, r->timeout_ms);
}

/* rconn_arm - the socket timeout of c set to what is left of the deadline */
int
rconn_arm(const struct store_redis *r, redisContext *c, struct rconn_call *k,
          const char *who, const char *what)
{
	struct timeval tv;

	if (left_tv(&k->until, &tv) != 0) {
		say_timeout(r, k, who, what);
		return -1;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		errbuf_set(k->err, k->errlen, "%s %s: %s", who, what,
		           c->errstr);
		return -1;
	}
	return 0;
}

/* rconn_no_reply - why a command of c got no reply (errno e); sets k->lost */
void
rconn_no_reply(const struct store_redis *r, const redisContext *c, int e,
               struct rconn_call *k, const char *who, const char *what)
{
	if (timed_out(c, e, &k->until)) {
		say_timeout(r, k, who, what);
		return;
	}
	k->lost = c->err == REDIS_ERR_IO || c->err == REDIS_ERR_EOF;
	errbuf_set(k->err, k->errlen, "%s %s: %s", who, what,
	           c->errstr[0] != '\0' ? c->errstr : "no reply");
}

/*
 * rconn_roundtrip - one command within the deadline
 *
 * Returns the reply, error replies included (the caller frees it), or NULL
 * with k->err set, and k->lost when the server had closed the connection.
 */
redisReply *
rconn_roundtrip(struct store_redis *r, redisContext *c, struct rconn_call *k,
                const char *who, int argc, const char **argv, const size_t *len)
{
	redisReply *rep;
	int e;

	k->lost = 0;
	if (rconn_arm(r, c, k, who, argv[0]) != 0)
		return NULL;
	errno = 0;
	rep = redisCommandArgv(c, argc, argv, len);
	e = errno;
	atomic_fetch_add(&r->commands, 1);
	if (rep == NULL)
		rconn_no_reply(r, c, e, k, who, argv[0]);
	return rep;
}

/* How a step of setting up a connection went. */
enum step {
	STEP_OK,
	STEP_NO_REPLY, /* nothing came back: down, slow, or closed */
	STEP_REFUSED   /* an answer, but not the one needed (k->err says) */
};

/*
 * simple - one command that answers OK, on a connection being set up
 *
 * Returns STEP_OK; STEP_NO_REPLY when no reply came, STEP_REFUSED for an
 * error reply (k->err set).
 */
static enum step
simple(struct store_redis *r, redisContext *c, struct rconn_call *k,
       const char *who, int argc, const char **argv)
{
	redisReply *rep = rconn_roundtrip(r, c, k, who, argc, argv, NULL);

	if (rep == NULL)
		return STEP_NO_REPLY;
	if (rep->type == REDIS_REPLY_ERROR) {
		rconn_error(rep, who, argv[0], k->err, k->errlen);
		freeReplyObject(rep);
		return STEP_REFUSED;
	}
	freeReplyObject(rep);
	return STEP_OK;
}

/* setup - AUTH and SELECT on a new connection, as simple() says */
static enum step
setup(struct store_redis *r, redisContext *c, struct rconn_call *k,
      const char *who)
{
	const char *auth[3] = {"AUTH", r->url.user, r->url.password};
	const char *select[2] = {"SELECT", NULL};
	char db[16];
	enum step rc = STEP_OK;

	if (r->url.password[0] != '\0' && r->url.user[0] == '\0') {
		auth[1] = r->url.password;
		rc = simple(r, c, k, who, 2, auth);
	} else if (r->url.password[0] != '\0') {
		rc = simple(r, c, k, who, 3, auth);
	}
	if (rc != STEP_OK || r->url.db == 0)
		return rc;
	(void)snprintf(db, sizeof db, "%d", r->url.db);
	select[1] = db;
	return simple(r, c, k, who, 2, select);
}

/* dial - one TCP (to a numeric address) or unix connection, or NULL */
static redisContext *
dial(struct store_redis *r, const char *addr, int port, const char *path,
     const struct timespec *until, char *why, size_t whylen)
{
	struct timeval tv;
	redisContext *c;

	if (left_tv(until, &tv) != 0) {
		errbuf_set(why, whylen, "timed out before connecting");
		return NULL;
	}
	if (path != NULL)
		c = redisConnectUnixWithTimeout(path, tv);
	else
		c = redisConnectWithTimeout(addr, port, tv);
	atomic_fetch_add(&r->connects, 1);
	if (c != NULL && c->err == 0)
		return c;
	errbuf_set(why, whylen, "%s",
	           c != NULL ? c->errstr : "cannot allocate a connection");
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/*
 * dial_host - host's addresses found within the deadline, then each in
 * turn, all but the last given at most half of what is left
 * (redmilter.conf(5), redis_timeout); or NULL with why set
 *
 * getaddrinfo in hiredis has no deadline: hiredis is given only numeric
 * addresses, and a host that is one already is used as it is, unresolved.
 */
static redisContext *
dial_host(struct store_redis *r, const char *host, int port,
          const struct rconn_call *k, char *why, size_t whylen)
{
	struct resolve_addrs a;
	struct timespec until;
	redisContext *c = NULL;
	long long left;
	char one[256];
	int i;

	if (resolve_host(host, rconn_left_us(&k->until), &a, why, whylen) != 0)
		return NULL;
	for (i = 0; i < a.n && c == NULL; i++) {
		left = rconn_left_us(&k->until);
		until = k->until;
		if (i + 1 < a.n && left > 0)
			until = mono_deadline(left / 2);
		c = dial(r, a.addr[i], port, NULL, &until, one, sizeof one);
		if (c == NULL && strcmp(a.addr[i], host) != 0)
			errbuf_set(why, whylen, "%s: %s", a.addr[i], one);
		else if (c == NULL)
			errbuf_set(why, whylen, "%s", one);
	}
	return c;
}

/*
 * connect_at - a TCP or unix connection within the deadline, or NULL
 *
 * kind names the server in messages ("Redis at", "Sentinel").
 */
static redisContext *
connect_at(struct store_redis *r, const char *kind, const char *host, int port,
           const char *path, struct rconn_call *k)
{
	redisContext *c;
	char why[600];

	if (path != NULL)
		c = dial(r, NULL, 0, path, &k->until, why, sizeof why);
	else
		c = dial_host(r, host, port, k, why, sizeof why);
	if (c != NULL)
		return c;
	if (path != NULL)
		errbuf_set(k->err, k->errlen, "%s %s: %s", kind, path, why);
	else
		errbuf_set(k->err, k->errlen, "%s %s:%d: %s", kind, host, port,
		           why);
	return NULL;
}

/*
 * master_addr - host and port from a SENTINEL get-master-addr-by-name
 * reply: STEP_OK, or STEP_REFUSED with k->err naming what the Sentinel
 * said instead
 */
static enum step
master_addr(const redisReply *rep, const char *who, const char *master,
            char *host, size_t hostlen, int *port, struct rconn_call *k)
{
	char *end;
	long p;

	if (rep->type == REDIS_REPLY_ERROR) {
		rconn_error(rep, who, "SENTINEL", k->err, k->errlen);
		return STEP_REFUSED;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING) {
		errbuf_set(k->err, k->errlen, "%s does not know master %s", who,
		           master);
		return STEP_REFUSED;
	}
	errno = 0;
	p = strtol(rep->element[1]->str, &end, 10);
	if (errno != 0 || *end != '\0' || p < 1 || p > 65535 ||
	    str_copy(host, rep->element[0]->str, hostlen) >= hostlen) {
		errbuf_set(k->err, k->errlen,
		           "%s names a bad address for master %s", who, master);
		return STEP_REFUSED;
	}
	*port = (int)p;
	return STEP_OK;
}

/*
 * ask_sentinel - the current primary of our master name, from Sentinel i
 *
 * Returns STEP_OK with host and port; STEP_NO_REPLY when the Sentinel did
 * not answer, STEP_REFUSED when it answered something else (an error, an
 * unknown master), with k->err set.
 */
static enum step
ask_sentinel(struct store_redis *r, int i, char *host, size_t hostlen,
             int *port, struct rconn_call *k)
{
	const struct redis_hostport *s = &r->url.sentinel[i];
	const char *auth[2] = {"AUTH", r->sentinel_password};
	const char *get[3] = {"SENTINEL", "get-master-addr-by-name",
	                      r->url.master};
	redisContext *c = connect_at(r, "Sentinel", s->host, s->port, NULL, k);
	redisReply *rep = NULL;
	char who[300];
	enum step rc = STEP_NO_REPLY;

	if (c == NULL)
		return STEP_NO_REPLY;
	(void)snprintf(who, sizeof who, "Sentinel %s:%d", s->host, s->port);
	if (r->sentinel_password[0] != '\0' &&
	    (rc = simple(r, c, k, who, 2, auth)) != STEP_OK)
		goto done;
	rc = STEP_NO_REPLY;
	if ((rep = rconn_roundtrip(r, c, k, who, 3, get, NULL)) != NULL)
		rc = master_addr(rep, who, r->url.master, host, hostlen, port,
		                 k);
done:
	freeReplyObject(rep);
	redisFree(c);
	return rc;
}

/* is_primary - whether ROLE says "master", as simple() says */
static enum step
is_primary(struct store_redis *r, redisContext *c, const char *who,
           struct rconn_call *k)
{
	const char *role[1] = {"ROLE"};
	redisReply *rep = rconn_roundtrip(r, c, k, who, 1, role, NULL);
	enum step rc = STEP_REFUSED;

	if (rep == NULL)
		return STEP_NO_REPLY;
	if (rep->type == REDIS_REPLY_ERROR)
		rconn_error(rep, who, "ROLE", k->err, k->errlen);
	else if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
	         (rep->element[0]->type == REDIS_REPLY_STRING ||
	          rep->element[0]->type == REDIS_REPLY_STATUS) &&
	         strcmp(rep->element[0]->str, "master") == 0)
		rc = STEP_OK;
	else
		errbuf_set(k->err, k->errlen, "%s is not the primary of %s",
		           who, r->url.master);
	freeReplyObject(rep);
	return rc;
}

/*
 * via_sentinel - a connection to the primary that Sentinel i names, set up
 * and checked with ROLE: STEP_OK with *out, or as simple() says
 *
 * The Sentinel gets at most half of what is left of the deadline, so that
 * one that hangs leaves time for the next one and for the primary.
 */
static enum step
via_sentinel(struct store_redis *r, int i, struct rconn_call *k,
             redisContext **out)
{
	struct rconn_call half = *k;
	long long left = rconn_left_us(&k->until);
	char host[256], who[300];
	redisContext *c;
	enum step rc;
	int port;

	half.until = mono_deadline(left > 0 ? left / 2 : 0);
	if ((rc = ask_sentinel(r, i, host, sizeof host, &port, &half)) !=
	    STEP_OK)
		return rc;
	if ((c = connect_at(r, "Redis at", host, port, NULL, k)) == NULL)
		return STEP_NO_REPLY;
	(void)snprintf(who, sizeof who, "Redis at %s:%d", host, port);
	if ((rc = setup(r, c, k, who)) == STEP_OK &&
	    (rc = is_primary(r, c, who, k)) == STEP_OK) {
		*out = c;
		return STEP_OK;
	}
	redisFree(c);
	return rc;
}

/*
 * connect_sentinel - the primary the Sentinels name, checked with ROLE
 *
 * Sentinels are asked in turn, starting with the one that answered last; a
 * Sentinel that is down, or names a server that is down or not a primary
 * (a failover in progress), is skipped.  When none leads to the primary,
 * err says why, preferring what a server answered (NOAUTH...) to a server
 * that did not answer.
 */
static redisContext *
connect_sentinel(struct store_redis *r, struct rconn_call *k)
{
	int n = r->url.nsentinels, first = atomic_load(&r->good_sentinel);
	int j, answered = 0;
	struct rconn_call mine = *k;
	enum step rc;
	redisContext *c = NULL;
	char why[512];

	mine.err = why;
	mine.errlen = sizeof why;
	for (j = 0; j < n; j++) {
		why[0] = '\0';
		rc = via_sentinel(r, (first + j) % n, &mine, &c);
		if (rc == STEP_OK) {
			atomic_store(&r->good_sentinel, (first + j) % n);
			return c;
		}
		if (rc == STEP_REFUSED || !answered)
			errbuf_set(k->err, k->errlen, "%s", why);
		answered |= rc == STEP_REFUSED;
	}
	return NULL;
}

/* rconn_sentinel_primary - the primary the first Sentinel to answer names */
int
rconn_sentinel_primary(struct store_redis *r, struct rconn_call *k, char *host,
                       size_t hostlen, int *port)
{
	int n = r->url.nsentinels, first = atomic_load(&r->good_sentinel), j;

	for (j = 0; j < n; j++)
		if (ask_sentinel(r, (first + j) % n, host, hostlen, port, k) ==
		    STEP_OK)
			return 0;
	return -1;
}

/* rconn_connect - a new connection with AUTH and SELECT, or NULL */
redisContext *
rconn_connect(struct store_redis *r, struct rconn_call *k)
{
	redisContext *c;

	if (r->url.is_sentinel)
		return connect_sentinel(r, k);
	c = connect_at(r, "Redis at", r->url.host, r->url.port,
	               r->url.is_unix ? r->url.path : NULL, k);
	if (c != NULL && setup(r, c, k, "Redis") != STEP_OK) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* rconn_glob_escape - the prefix with glob characters escaped, for SCAN MATCH
 */
char *
rconn_glob_escape(const char *prefix)
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
