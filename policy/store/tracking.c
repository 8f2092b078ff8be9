/*
 * tracking - the invalidation link of the tracked store.  See tracking.h.
 *
 * The link is a blocking hiredis context that, once subscribed, is only
 * read when poll(2) says it is readable (redisBufferRead() then reads what
 * is there, redisGetReplyFromReader() takes the messages out), and written
 * only with a PING (redisAppendCommand(), redisBufferWrite()), so that no
 * call on it ever waits for a reply that may not come.  In RESP2's
 * subscribed mode a PING is answered ["pong", ""], an invalidation comes as
 * ["message", "__redis__:invalidate", [KEY...] or nil].
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "errbuf.h"
#include "mono.h"
#include "rconn.h"
#include "resolve.h"
#include "tracking.h"
#include "xmalloc.h"

#define CHANNEL "__redis__:invalidate"
#define SCAN_BATCH "1000"

struct track_link {
	struct store_redis *r;
	redisContext *link; /* subscribed */
	redisContext *data; /* SCAN, ROLE */
	long long ping_at; /* mono_ms() of the PING not yet answered; 0: none */
};

/* command - one command on c within a deadline of its own; NULL: err set */
static redisReply *
command(struct track_link *t, redisContext *c, int argc, const char **argv,
        char *err, size_t errlen)
{
	struct rconn_call k = rconn_call_new(t->r, err, errlen);

	return rconn_roundtrip(t->r, c, &k, "Redis", argc, argv, NULL);
}

/*
 * expect - whether rep is the reply wanted (type, and for a status its
 * text); an error reply sets *refused; rep is freed
 */
static int
expect(redisReply *rep, int type, const char *what, int *refused, char *err,
       size_t errlen)
{
	int ok;

	if (rep == NULL)
		return 0;
	if (rep->type == REDIS_REPLY_ERROR) {
		*refused = 1;
		rconn_error(rep, "Redis", what, err, errlen);
		freeReplyObject(rep);
		return 0;
	}
	ok = rep->type == type;
	if (!ok)
		errbuf_set(err, errlen, "Redis %s: unexpected reply of type %d",
		           what, rep->type);
	freeReplyObject(rep);
	return ok;
}

/* subscribe - CLIENT ID, CLIENT TRACKING ... BCAST PREFIX..., SUBSCRIBE */
static int
subscribe(struct track_link *t, const char *const *prefixes, size_t n,
          int *refused, char *err, size_t errlen)
{
	const char *id_argv[2] = {"CLIENT", "ID"};
	const char **argv = xcalloc(6 + 2 * n, sizeof *argv);
	const char *sub[2] = {"SUBSCRIBE", CHANNEL};
	char id[32];
	redisReply *rep;
	size_t i;
	int argc = 0, ok;

	rep = command(t, t->link, 2, id_argv, err, errlen);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER) {
		(void)snprintf(id, sizeof id, "%lld", rep->integer);
		freeReplyObject(rep);
	} else if (!expect(rep, REDIS_REPLY_INTEGER, "CLIENT ID", refused, err,
	                   errlen)) {
		free(argv);
		return -1;
	}
	argv[argc++] = "CLIENT";
	argv[argc++] = "TRACKING";
	argv[argc++] = "on";
	argv[argc++] = "REDIRECT";
	argv[argc++] = id;
	argv[argc++] = "BCAST";
	for (i = 0; i < n; i++) {
		argv[argc++] = "PREFIX";
		argv[argc++] = prefixes[i];
	}
	ok = expect(command(t, t->link, argc, argv, err, errlen),
	            REDIS_REPLY_STATUS, "CLIENT TRACKING", refused, err,
	            errlen) &&
	     expect(command(t, t->link, 2, sub, err, errlen), REDIS_REPLY_ARRAY,
	            "SUBSCRIBE", refused, err, errlen);
	free(argv);
	return ok ? 0 : -1;
}

/* track_open - the link, subscribed, and the data connection */
struct track_link *
track_open(struct store *redis, const char *const *prefixes, size_t nprefixes,
           int *refused, char *err, size_t errlen)
{
	struct track_link *t = xcalloc(1, sizeof *t);
	struct rconn_call k;

	*refused = 0;
	t->r = (struct store_redis *)redis;
	k = rconn_call_new(t->r, err, errlen);
	if ((t->link = rconn_connect(t->r, &k)) == NULL ||
	    subscribe(t, prefixes, nprefixes, refused, err, errlen) != 0) {
		track_close(t);
		return NULL;
	}
	k = rconn_call_new(t->r, err, errlen);
	if ((t->data = rconn_connect(t->r, &k)) == NULL) {
		track_close(t);
		return NULL;
	}
	return t;
}

/* is_str - whether r is a string (or status) equal to s */
static int
is_str(const redisReply *r, const char *s)
{
	return (r->type == REDIS_REPLY_STRING ||
	        r->type == REDIS_REPLY_STATUS) &&
	       r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* message - one reply read on the link: an invalidation, a pong, or noise */
static void
message(struct track_link *t, const redisReply *m, track_fn fn, void *arg)
{
	const redisReply *keys;
	size_t i;

	if (m->type != REDIS_REPLY_ARRAY || m->elements < 1)
		return;
	if (is_str(m->element[0], "pong")) {
		t->ping_at = 0;
		return;
	}
	if (m->elements != 3 || !is_str(m->element[0], "message") ||
	    !is_str(m->element[1], CHANNEL))
		return;
	keys = m->element[2];
	if (keys->type == REDIS_REPLY_NIL) {
		fn(arg, NULL, 0);
		return;
	}
	if (keys->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < keys->elements; i++)
		if (keys->element[i]->type == REDIS_REPLY_STRING)
			fn(arg, keys->element[i]->str, keys->element[i]->len);
}

/* drain - every complete reply the link has buffered; -1: a bad one */
static int
drain(struct track_link *t, track_fn fn, void *arg, char *err, size_t errlen)
{
	void *rep;

	for (;;) {
		rep = NULL;
		if (redisGetReplyFromReader(t->link, &rep) != REDIS_OK) {
			errbuf_set(err, errlen, "Redis tracking link: %s",
			           t->link->errstr);
			return -1;
		}
		if (rep == NULL)
			return 0;
		message(t, rep, fn, arg);
		freeReplyObject(rep);
	}
}

/* track_poll - wait for the link or wake_fd, then pass what came to fn */
int
track_poll(struct track_link *t, int ms, int wake_fd, track_fn fn, void *arg,
           char *err, size_t errlen)
{
	struct pollfd p[2] = {{t->link->fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
	long long now = mono_ms();
	int n;

	if (t->ping_at != 0) {
		long long left = t->ping_at + t->r->timeout_ms - now;

		if (left <= 0) {
			errbuf_set(
			    err, errlen,
			    "Redis tracking link: no answer to PING in %d ms",
			    t->r->timeout_ms);
			return -1;
		}
		if (ms > left)
			ms = (int)left;
	}
	n = poll(p, wake_fd >= 0 ? 2 : 1, ms);
	if (n < 0 && errno != EINTR) {
		char why[128];

		errbuf_strerror(errno, why, sizeof why);
		return errbuf_set(err, errlen, "Redis tracking link: poll: %s",
		                  why);
	}
	if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
		if (redisBufferRead(t->link) != REDIS_OK) {
			errbuf_set(err, errlen, "Redis tracking link: %s",
			           t->link->errstr[0] != '\0' ? t->link->errstr
			                                      : "closed");
			return -1;
		}
		if (drain(t, fn, arg, err, errlen) != 0)
			return -1;
	}
	return n > 0 && wake_fd >= 0 && (p[1].revents & POLLIN) != 0;
}

/* track_ping - a PING on the link, unless one is outstanding */
int
track_ping(struct track_link *t, char *err, size_t errlen)
{
	int done = 0;

	if (t->ping_at != 0)
		return 0;
	if (redisAppendCommand(t->link, "PING") != REDIS_OK)
		goto fail;
	while (!done)
		if (redisBufferWrite(t->link, &done) != REDIS_OK)
			goto fail;
	t->ping_at = mono_ms();
	return 0;
fail:
	errbuf_set(err, errlen, "Redis tracking link: PING: %s",
	           t->link->errstr[0] != '\0' ? t->link->errstr : "failed");
	return -1;
}

/* scan_reply - the keys of one SCAN reply to fn; the next cursor, or -1 */
static int
scan_reply(const redisReply *rep, char *cursor, size_t len, track_fn fn,
           void *arg)
{
	const redisReply *keys;
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[0]->len >= len ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY)
		return -1;
	memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
	cursor[rep->element[0]->len] = '\0';
	keys = rep->element[1];
	for (i = 0; i < keys->elements; i++)
		if (keys->element[i]->type == REDIS_REPLY_STRING)
			fn(arg, keys->element[i]->str, keys->element[i]->len);
	return 0;
}

/* track_scan - every key name under a prefix, the link read in between */
int
track_scan(struct track_link *t, const char *match_prefix, track_fn scanfn,
           void *scanarg, int wake_fd, track_fn fn, void *arg, char *err,
           size_t errlen)
{
	char *match = rconn_glob_escape(match_prefix), cursor[32] = "0";
	const char *argv[6] = {"SCAN", cursor,  "MATCH",
	                       match,  "COUNT", SCAN_BATCH};
	redisReply *rep;
	int ret;

	for (;;) {
		if ((rep = command(t, t->data, 6, argv, err, errlen)) == NULL) {
			ret = -1;
			break;
		}
		ret = scan_reply(rep, cursor, sizeof cursor, scanfn, scanarg);
		freeReplyObject(rep);
		if (ret != 0) {
			errbuf_set(err, errlen, "Redis SCAN: unexpected reply");
			break;
		}
		if (track_ping(t, err, errlen) != 0) {
			ret = -1;
			break;
		}
		if ((ret = track_poll(t, 0, wake_fd, fn, arg, err, errlen)) !=
		        0 ||
		    strcmp(cursor, "0") == 0)
			break;
	}
	free(match);
	return ret;
}

/*
 * moved - whether the Sentinels name another primary than the link's (a
 * graceful failover: the old primary says "master" for seconds more);
 * a Sentinel that does not answer moves nothing
 */
static int
moved(struct track_link *t, char *err, size_t errlen)
{
	struct rconn_call k = rconn_call_new(t->r, NULL, 0);
	struct resolve_addrs a;
	char host[256];
	int port, i;

	if (t->link->connection_type != REDIS_CONN_TCP ||
	    t->link->tcp.host == NULL ||
	    rconn_sentinel_primary(t->r, &k, host, sizeof host, &port) != 0)
		return 0;
	/* a name (Sentinels that announce host names): any of its addresses */
	if (resolve_host(host, rconn_left_us(&k.until), &a, NULL, 0) != 0)
		return 0;
	for (i = 0; i < a.n; i++)
		if (strcmp(a.addr[i], t->link->tcp.host) == 0 &&
		    port == t->link->tcp.port)
			return 0;
	errbuf_set(err, errlen, "the Sentinels name another primary, %s:%d",
	           host, port);
	return 1;
}

/* track_role - 1 if the data connection's server is a primary (Sentinel) */
int
track_role(struct track_link *t, char *err, size_t errlen)
{
	const char *argv[1] = {"ROLE"};
	redisReply *rep;
	int ret;

	if (!t->r->url.is_sentinel)
		return 1;
	if ((rep = command(t, t->data, 1, argv, err, errlen)) == NULL)
		return -1;
	ret = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
	      is_str(rep->element[0], "master");
	freeReplyObject(rep);
	if (ret == 0)
		errbuf_set(err, errlen, "the server is no longer the primary");
	else if (moved(t, err, errlen))
		ret = 0;
	return ret;
}

/* track_close - both connections; t may be NULL */
void
track_close(struct track_link *t)
{
	if (t == NULL)
		return;
	if (t->link != NULL)
		redisFree(t->link);
	if (t->data != NULL)
		redisFree(t->data);
	free(t);
}
