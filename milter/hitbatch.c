/*
 * hitbatch - the hit counters' memory and their writer thread.  See
 * hitbatch.h.
 *
 * Public: hitbatch_start(), hitbatch_note(), hitbatch_dropped(),
 * hitbatch_stop().
 *
 * Each shard is a chained hash table of the rules hit since the last
 * batch.  The writer swaps a shard's chains out under its lock and builds
 * the batch outside it, so that a decision never waits for more than a
 * few pointer moves.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errbuf.h"
#include "hash.h"
#include "hitbatch.h"
#include "xmalloc.h"

#define BUCKETS 256 /* per shard */

struct entry {
	struct entry *next;
	long long n;
	char rule[]; /* TABLE:KEY */
};

struct shard {
	pthread_mutex_t mu;
	struct entry *bucket[BUCKETS];
	size_t count;
};

static struct shard shards[HITBATCH_SHARDS];
static struct hash_key hkey;
static atomic_int running;
static atomic_ulong dropped;

static pthread_t writer;
static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcv;
static int stopping;
static hitbatch_flush_fn flush_fn;
static void *flush_arg;

/* note_in - one hit of rule (len bytes) in shard s, bucket b; s locked */
static void
note_in(struct shard *s, size_t b, const char *rule, size_t len)
{
	struct entry *e;

	for (e = s->bucket[b]; e != NULL; e = e->next)
		if (strcmp(e->rule, rule) == 0) {
			e->n++;
			return;
		}
	if (s->count >= HITBATCH_SHARD_MAX) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	e = xmalloc(sizeof *e + len + 1);
	memcpy(e->rule, rule, len + 1);
	e->n = 1;
	e->next = s->bucket[b];
	s->bucket[b] = e;
	s->count++;
}

/* hitbatch_note - one hit of TABLE:KEY (hitbatch.h) */
void
hitbatch_note(const char *table, const char *key)
{
	size_t tl = strlen(table), kl = strlen(key), len = tl + 1 + kl;
	char stack[512], *rule = len < sizeof stack ? stack : xmalloc(len + 1);
	uint64_t h;
	struct shard *s;

	if (!atomic_load(&running)) {
		if (rule != stack)
			free(rule);
		return;
	}
	memcpy(rule, table, tl);
	rule[tl] = ':';
	memcpy(rule + tl + 1, key, kl + 1);
	h = hash_keyed(&hkey, rule, len);
	s = &shards[h % HITBATCH_SHARDS];
	pthread_mutex_lock(&s->mu);
	note_in(s, (size_t)(h / HITBATCH_SHARDS) % BUCKETS, rule, len);
	pthread_mutex_unlock(&s->mu);
	if (rule != stack)
		free(rule);
}

/* hitbatch_dropped - hits not counted since start (a shard was full) */
unsigned long
hitbatch_dropped(void)
{
	return atomic_load(&dropped);
}

/* take - every shard's entries, as one list */
static struct entry *
take(size_t *n)
{
	struct entry *all = NULL, *e, *next;
	size_t i, b;

	*n = 0;
	for (i = 0; i < HITBATCH_SHARDS; i++) {
		pthread_mutex_lock(&shards[i].mu);
		for (b = 0; b < BUCKETS; b++) {
			for (e = shards[i].bucket[b]; e != NULL; e = next) {
				next = e->next;
				e->next = all;
				all = e;
			}
			shards[i].bucket[b] = NULL;
		}
		*n += shards[i].count;
		shards[i].count = 0;
		pthread_mutex_unlock(&shards[i].mu);
	}
	return all;
}

/* hand_over - one batch to flush(), then freed */
static void
hand_over(void)
{
	struct entry *all, *e;
	const char **rules;
	long long *counts;
	size_t n, i = 0;

	if ((all = take(&n)) == NULL)
		return;
	rules = xcalloc(n, sizeof *rules);
	counts = xcalloc(n, sizeof *counts);
	for (e = all; e != NULL && i < n; e = e->next, i++) {
		rules[i] = e->rule;
		counts[i] = e->n;
	}
	flush_fn(rules, counts, i, flush_arg);
	while ((e = all) != NULL) {
		all = e->next;
		free(e);
	}
	free(rules);
	free(counts);
}

/* writer_main - a batch a second until stopped, then the last one */
static void *
writer_main(void *arg)
{
	struct timespec until;
	int stop = 0;

	(void)arg;
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += HITBATCH_PERIOD_MS / 1000;
		pthread_mutex_lock(&wmu);
		while (!stopping &&
		       pthread_cond_timedwait(&wcv, &wmu, &until) != ETIMEDOUT)
			;
		stop = stopping;
		pthread_mutex_unlock(&wmu);
		hand_over();
	}
	return NULL;
}

/* hitbatch_start - the writer thread (hitbatch.h) */
int
hitbatch_start(hitbatch_flush_fn flush, void *arg, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	size_t i;
	int e;

	for (i = 0; i < HITBATCH_SHARDS; i++)
		pthread_mutex_init(&shards[i].mu, NULL);
	hash_key_new(&hkey);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wcv, &ca);
	pthread_condattr_destroy(&ca);
	flush_fn = flush;
	flush_arg = arg;
	stopping = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&writer, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_cond_destroy(&wcv);
		return errbuf_set(err, errlen,
		                  "hit counters: cannot start "
		                  "their thread: %s",
		                  strerror(e));
	}
	atomic_store(&running, 1);
	return 0;
}

/* hitbatch_stop - the last batch, and the thread joined (hitbatch.h) */
void
hitbatch_stop(void)
{
	if (!atomic_load(&running))
		return;
	atomic_store(&running, 0);
	pthread_mutex_lock(&wmu);
	stopping = 1;
	pthread_cond_signal(&wcv);
	pthread_mutex_unlock(&wmu);
	pthread_join(writer, NULL);
	hand_over(); /* what a decision noted as running went to 0 */
	pthread_cond_destroy(&wcv);
	/* The shards' locks stay: a decision may be noting a hit still. */
}
