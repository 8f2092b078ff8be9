/*
 * tracking - the invalidation link of the tracked store (store_track.h):
 * the Redis side of server-assisted client-side caching, over RESP2, with
 * the API hiredis 0.14 shares with 1.x.
 *
 * track_open() makes two connections to the server of a Redis store
 * (store_redis.h: its address, password, database, Sentinels and
 * timeout): the link, which asks CLIENT ID, then CLIENT TRACKING on
 * REDIRECT <its own id> BCAST with one PREFIX per entry of prefixes, then
 * SUBSCRIBE __redis__:invalidate; and a plain one for track_scan() and
 * track_role().  It returns the link, or NULL with err set and *refused 1
 * when Redis answered but said no (a version before 6.0, an ACL without
 * the grants), 0 when it did not answer.
 *
 * track_poll() waits up to ms milliseconds (0: not at all) for the link or
 * for wake_fd (-1: none) to be readable, then passes every invalidation
 * that has arrived to fn: a key name, or NULL for a flush (FLUSHDB,
 * FLUSHALL: everything is to be forgotten).  It returns 1 when wake_fd is
 * readable, 0 otherwise, -1 with err set when the link is lost (closed,
 * failed, or a PING unanswered for longer than the store's timeout: on
 * RESP2 nothing else would tell).  track_ping() sends a PING when none is
 * outstanding.
 *
 * track_scan() calls scanfn with every key name under match_prefix (SCAN
 * MATCH, batches of 1000, never KEYS), and track_poll(ms 0, fn) between
 * batches so that the link is read while a long scan runs; it returns 0
 * when done, 1 when wake_fd became readable, -1 with err set.
 * track_role() returns, for a sentinel:// store, 1 when the server says
 * ROLE master and is the one the Sentinels name, 0 with err set when it
 * says anything else (a primary demoted by a failover) or the Sentinels
 * name another (a graceful failover, before the old primary is demoted),
 * -1 with err set when it did not answer; for any other store 1 without
 * asking.  track_close() frees the link (NULL accepted).  A link
 * belongs to one thread.
 */
#ifndef TRACKING_H
#define TRACKING_H

#include <stddef.h>

#include "store.h"

struct track_link;

typedef void (*track_fn)(void *arg, const char *key, size_t len);

struct track_link *track_open(struct store *redis, const char *const *prefixes,
                              size_t nprefixes, int *refused, char *err,
                              size_t errlen);
int track_poll(struct track_link *, int ms, int wake_fd, track_fn, void *arg,
               char *err, size_t errlen);
int track_ping(struct track_link *, char *err, size_t errlen);
int track_scan(struct track_link *, const char *match_prefix, track_fn scanfn,
               void *scanarg, int wake_fd, track_fn fn, void *arg, char *err,
               size_t errlen);
int track_role(struct track_link *, char *err, size_t errlen);
void track_close(struct track_link *);

#endif
