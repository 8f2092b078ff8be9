/*
 * store - where rules live, behind a small interface (Postfix DICT).
 *
 * A store is a struct of function pointers; store_mem.c keeps rules in memory
 * (unit tests, fuzzers) and store_redis.c in Redis.  Every call returns a
 * STORE_* status; "not found" and "store down" are never the same value.
 *
 * mget() looks up n keys in one round trip.  On STORE_OK every out[i] is set:
 * status STORE_OK with a malloc'd copy of the value (val, len; val also has
 * a NUL after len bytes, and may hold NUL bytes before it), or
 * STORE_NOTFOUND with val NULL.  On a failure (STORE_ERR_RETRY: the store is
 * unreachable, slow or answered an error; STORE_ERR_CONFIG: it answered
 * something that makes no sense) no out[i] holds anything and err says why.
 * store_values_free() frees the values of an mget.
 *
 * get() reads one key with its TTL in seconds (-1: none): STORE_OK with out
 * filled as by mget(), or STORE_NOTFOUND (also for a key of another type).
 * put() stores a value with a TTL in seconds (0: none); del() removes a key
 * (STORE_NOTFOUND when there was none); scan() calls fn for every key that
 * starts with a prefix, in no particular order, with its value and TTL in
 * seconds (-1: none), and stops when fn returns non-zero; a key that holds
 * something other than a string is passed with val NULL and its type
 * ("hash", "list"), so that lint can report it.  apply() carries out a batch of
 * sets and deletes atomically: all of them or, on failure, none (Redis
 * MULTI/EXEC); no reader sees half of it.  lock() takes a named advisory lock
 * for ms milliseconds (STORE_OK: taken; STORE_NOTFOUND: someone else holds it);
 * unlock() releases a lock this store took.  eval(), which may be NULL (a
 * store that runs no scripts: store_eval() says so), runs a script
 * atomically where the data is (Redis: EVALSHA, EVAL when Redis does not
 * know it yet) with nkeys keys and nargs arguments, and gives the integers
 * of the array it returns in out (at most nout; *got says how many).
 * eval_all(), which may be NULL (store_eval_all() says so), runs one
 * script n times, each run with its own keys and arguments, in one
 * transaction (Redis: MULTI, the EVALs, EXEC), so that no other client
 * sees a state between two runs, and so that each run is short (Redis
 * answers other clients BUSY while one script runs long); out[i] is the
 * first integer run i returned.  A run that fails does not undo those
 * before it, so a script meant for eval_all() checks first what could
 * make it fail, and fails alike in every run.
 * hmget(), which may be NULL (a store without hashes: store_hmget() says
 * so), reads n (at least 1) fields of one hash with the key's PTTL in
 * milliseconds (-1: none, -2: no key): STORE_OK with every out[i] set as
 * by mget() (STORE_NOTFOUND for a field the hash lacks, or for all of them
 * when there is no key), or STORE_NOTFOUND when the key holds no hash.
 * xrevrange(), which may be NULL (a store without streams:
 * store_xrevrange() says so), reads at most count entries of a stream,
 * newest first, from the ID end ("+": the newest) down: STORE_OK with *out
 * (malloc'd, free with store_entries_free()) and *n set, n 0 at the
 * stream's end or when there is no key; a key of another type is an error.
 * stats(), which may be NULL (nothing to count), adds the store's
 * counters since open to *out (store_stats() zeroes it first, with
 * tracking -1: no tracked store): commands sent, lookups of rule keys
 * answered from memory or not, whether memory is trusted now.
 * start(), which may be NULL,
 * starts what the store does in the background (a thread: so after a
 * daemon's fork(), never before; store_start() calls it when set).
 * close() frees the store.
 * Thread-safety is the implementation's: see its header.  A store never
 * logs; one may tell of a change through a store_notice_fn it was given.
 */
#ifndef STORE_H
#define STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "sha1.h"

enum store_status {
	STORE_OK,
	STORE_NOTFOUND,
	STORE_ERR_RETRY,
	STORE_ERR_CONFIG
};

struct store_value {
	enum store_status status;
	char *val;
	size_t len;
};

/* One write of an apply(): a set (val, len, ttl seconds, 0: none) or a del. */
struct store_op {
	const char *key;
	const char *val; /* NULL: delete the key */
	size_t len;
	long long ttl;
};

/* One entry of a stream (xrevrange()): its ID and n field/value pairs. */
struct store_entry {
	char *id;
	struct store_value *fv; /* 2 * n: field, value, field, value... */
	size_t n;
};

/* One run of a script in an eval_all(). */
struct store_eval_run {
	const char *const *keys;
	size_t nkeys;
	const char *const *args;
	size_t nargs;
};

/* type: NULL for a string; else the Redis type ("hash") and val NULL */
/* A change worth an administrator's eye; warning 0: good news. */
typedef void (*store_notice_fn)(int warning, const char *msg);

/*
 * A script, known to the store by its text and that text's SHA-1 in hex;
 * reads: it writes nothing, so it may be sent again when the connection
 * it went out on turns out to have been closed by the server.
 */
struct store_script {
	const char *body;
	const char *sha1;
	int reads;
};

/*
 * A script's text, with its SHA-1 worked out the first time
 * store_script_sha() is asked for it (thread-safe); STORE_SCRIPT_TEXT(b)
 * initialises one from a string array b.
 */
struct store_script_text {
	const char *body;
	size_t len;
	char sha1[SHA1_HEX_SIZE];
	atomic_int ready;
	pthread_mutex_t lock;
};
#define STORE_SCRIPT_TEXT(b)                                                   \
	{                                                                      \
		(b), sizeof(b) - 1, "", 0, PTHREAD_MUTEX_INITIALIZER           \
	}

typedef int (*store_scan_fn)(const char *key, const char *val, size_t len,
                             long long ttl, const char *type, void *arg);

/* What a store counts (stats()). */
struct store_stats {
	unsigned long commands;     /* sent to Redis */
	unsigned long cache_hits;   /* rule keys answered from memory */
	unsigned long cache_misses; /* rule keys read from Redis */
	int tracking;               /* -1: none; 0: not ready; 1: ready */
};

struct store {
	enum store_status (*mget)(struct store *, const char *const *keys,
	                          size_t n, struct store_value *out, char *err,
	                          size_t errlen);
	enum store_status (*get)(struct store *, const char *key,
	                         struct store_value *out, long long *ttl,
	                         char *err, size_t errlen);
	enum store_status (*put)(struct store *, const char *key,
	                         const char *val, size_t len, long long ttl,
	                         char *err, size_t errlen);
	enum store_status (*del)(struct store *, const char *key, char *err,
	                         size_t errlen);
	enum store_status (*scan)(struct store *, const char *prefix,
	                          store_scan_fn fn, void *arg, char *err,
	                          size_t errlen);
	enum store_status (*apply)(struct store *, const struct store_op *,
	                           size_t n, char *err, size_t errlen);
	enum store_status (*lock)(struct store *, const char *name,
	                          long long ms, char *err, size_t errlen);
	enum store_status (*unlock)(struct store *, const char *name, char *err,
	                            size_t errlen);
	enum store_status (*eval)(struct store *, const struct store_script *,
	                          const char *const *keys, size_t nkeys,
	                          const char *const *args, size_t nargs,
	                          long long *out, size_t nout, size_t *got,
	                          char *err, size_t errlen);
	enum store_status (*eval_all)(struct store *,
	                              const struct store_script *,
	                              const struct store_eval_run *, size_t n,
	                              long long *out, char *err, size_t errlen);
	enum store_status (*hmget)(struct store *, const char *key,
	                           const char *const *fields, size_t n,
	                           struct store_value *out, long long *pttl,
	                           char *err, size_t errlen);
	enum store_status (*xrevrange)(struct store *, const char *key,
	                               const char *end, size_t count,
	                               struct store_entry **out, size_t *n,
	                               char *err, size_t errlen);
	void (*stats)(struct store *, struct store_stats *);
	void (*start)(struct store *); /* NULL: nothing to start */
	void (*close)(struct store *);
};

void store_values_free(struct store_value *, size_t);
void store_start(struct store *);
enum store_status store_eval(struct store *, const struct store_script *,
                             const char *const *keys, size_t nkeys,
                             const char *const *args, size_t nargs,
                             long long *out, size_t nout, size_t *got,
                             char *err, size_t errlen);
enum store_status store_eval_all(struct store *, const struct store_script *,
                                 const struct store_eval_run *, size_t n,
                                 long long *out, char *err, size_t errlen);
enum store_status store_hmget(struct store *, const char *key,
                              const char *const *fields, size_t n,
                              struct store_value *out, long long *pttl,
                              char *err, size_t errlen);
enum store_status store_xrevrange(struct store *, const char *key,
                                  const char *end, size_t count,
                                  struct store_entry **out, size_t *n,
                                  char *err, size_t errlen);
void store_entries_free(struct store_entry *, size_t);
void store_stats(struct store *, struct store_stats *);
const char *store_script_sha(struct store_script_text *);
const char *store_status_name(enum store_status);

#endif
