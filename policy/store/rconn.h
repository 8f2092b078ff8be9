/*
 * rconn - what the two files of the Redis store share.
 *
 * Internal to policy/store/store_redis.c, policy/store/rconn.c and
 * policy/store/tracking.c: not installed and not part of the API, which is
 * store_redis.h.  Like those three files (and no other file), it includes
 * hiredis.
 *
 * store_redis.c has the pool of connections and the store's calls;
 * rconn.c has a call's deadline (struct rconn_call), one command's round
 * trip and the making of a connection (connect, AUTH, SELECT, the
 * Sentinels, ROLE).
 *
 * Functions (rconn.c): rconn_error(), rconn_call_new(),
 * rconn_left_us(), rconn_arm(), rconn_no_reply(), rconn_roundtrip(),
 * rconn_connect(), rconn_sentinel_primary() (the primary the Sentinels
 * name now: 0 with host and port, -1 when none answers),
 * rconn_glob_escape() (a SCAN MATCH pattern: the prefix
 * with glob characters escaped, then *; malloc'd).  They write their
 * errors into the caller's buffer and never log.  They touch only the
 * settings and the atomic counters of a struct store_redis, never its pool,
 * so any thread may call them with a connection it has borrowed.
 */
#ifndef RCONN_H
#define RCONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "redis_url.h"
#include "store.h"

struct slot;       /* one pooled connection: store_redis.c */
struct role_check; /* a replica's fitness to be read: store_redis.c */

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
	struct role_check *role;  /* NULL: lookups trust any server */
	atomic_ulong gen;         /* store_redis_drop() moves it */
};

/* One call: its deadline, and where its error message goes. */
struct rconn_call {
	struct timespec until; /* on the monotonic clock */
	char *err;
	size_t errlen;
	int lost; /* the last command's connection was closed by the server */
};

void rconn_error(const redisReply *, const char *, const char *, char *,
                 size_t);
struct rconn_call rconn_call_new(const struct store_redis *, char *, size_t);
long long rconn_left_us(const struct timespec *);
int rconn_arm(const struct store_redis *, redisContext *, struct rconn_call *,
              const char *, const char *);
void rconn_no_reply(const struct store_redis *, const redisContext *, int,
                    struct rconn_call *, const char *, const char *);
redisReply *rconn_roundtrip(struct store_redis *, redisContext *,
                            struct rconn_call *, const char *, int,
                            const char **, const size_t *);
redisContext *rconn_connect(struct store_redis *, struct rconn_call *);
char *rconn_glob_escape(const char *);
int rconn_sentinel_primary(struct store_redis *, struct rconn_call *,
                           char *host, size_t hostlen, int *port);

#endif
