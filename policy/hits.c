/*
 * hits - the hit counters' script and reads.  See hits.h.
 *
 * Public: hits_key(), hits_add(), hits_read().
 *
 * The script's ARGV: pairs of a rule's name and the hits to add.  It
 * answers {rules written}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "hits.h"
#include "schema.h"
#include "xmalloc.h"

static const char script_body[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local t = redis.call('TIME')[1]\n"
    "local k = KEYS[1]\n"
    "for i = 1, #ARGV - 1, 2 do\n"
    "  redis.call('HINCRBY', k, 'n:' .. ARGV[i], ARGV[i + 1])\n"
    "  redis.call('HSET', k, 't:' .. ARGV[i], t)\n"
    "end\n"
    "return {math.floor(#ARGV / 2)}\n";

static struct store_script_text script = STORE_SCRIPT_TEXT(script_body);

/* hits_key - "<prefix>_hits", malloc'd */
char *
hits_key(const char *prefix)
{
	return schema_internal_key(prefix, "hits");
}

/* add_batch - one script call for n rules (at most HITS_BATCH) */
static enum store_status
add_batch(struct store *st, const char *key, const char *const *rules,
          const long long *counts, size_t n, char *err, size_t errlen)
{
	struct store_script sc = {script_body, store_script_sha(&script), 0};
	const char **args = xcalloc(2 * n, sizeof *args);
	char(*num)[24] = xcalloc(n, sizeof *num);
	long long out[1];
	size_t i, got = 0;
	enum store_status ret;

	for (i = 0; i < n; i++) {
		(void)snprintf(num[i], sizeof num[i], "%lld", counts[i]);
		args[2 * i] = rules[i];
		args[2 * i + 1] = num[i];
	}
	ret = store_eval(st, &sc, &key, 1, args, 2 * n, out, 1, &got, err,
	                 errlen);
	if (ret == STORE_OK && (got != 1 || out[0] != (long long)n)) {
		errbuf_set(err, errlen,
		           "the hit counters' script wrote %lld "
		           "rules of %zu",
		           got == 1 ? out[0] : -1LL, n);
		ret = STORE_ERR_CONFIG;
	}
	free(num);
	free(args);
	return ret;
}

/* hits_add - add counts to rules (hits.h) */
enum store_status
hits_add(struct store *st, const char *prefix, const char *const *rules,
         const long long *counts, size_t n, char *err, size_t errlen)
{
	char *key = hits_key(prefix);
	enum store_status ret = STORE_OK;
	size_t i, m;

	for (i = 0; i < n && ret == STORE_OK; i += m) {
		m = n - i < HITS_BATCH ? n - i : HITS_BATCH;
		ret = add_batch(st, key, rules + i, counts + i, m, err, errlen);
	}
	free(key);
	return ret;
}

/* number - a field's integer; 0 for none or for what is not one */
static long long
number(const struct store_value *v)
{
	char *end;
	long long x;

	if (v->status != STORE_OK || v->len == 0)
		return 0;
	x = strtoll(v->val, &end, 10);
	return *end == '\0' && x > 0 ? x : 0;
}

/* field - "n:RULE" or "t:RULE", malloc'd */
static char *
field(char kind, const char *rule)
{
	size_t len = strlen(rule);
	char *f = xmalloc(len + 3);

	f[0] = kind;
	f[1] = ':';
	memcpy(f + 2, rule, len + 1);
	return f;
}

/* read_batch - one HMGET of n rules' two fields */
static enum store_status
read_batch(struct store *st, const char *key, const char *const *rules,
           size_t n, struct hit *out, char *err, size_t errlen)
{
	char **f = xcalloc(2 * n, sizeof *f);
	struct store_value *v = xcalloc(2 * n, sizeof *v);
	enum store_status ret;
	long long pttl;
	size_t i;

	for (i = 0; i < n; i++) {
		f[2 * i] = field('n', rules[i]);
		f[2 * i + 1] = field('t', rules[i]);
	}
	ret = store_hmget(st, key, (const char *const *)f, 2 * n, v, &pttl, err,
	                  errlen);
	for (i = 0; i < n; i++) {
		out[i].count = ret == STORE_OK ? number(&v[2 * i]) : 0;
		out[i].last = ret == STORE_OK ? number(&v[2 * i + 1]) : 0;
	}
	if (ret == STORE_OK)
		store_values_free(v, 2 * n);
	for (i = 0; i < 2 * n; i++)
		free(f[i]);
	free(f);
	free(v);
	return ret == STORE_NOTFOUND ? STORE_OK : ret;
}

/* hits_read - n rules' counts (hits.h) */
enum store_status
hits_read(struct store *st, const char *prefix, const char *const *rules,
          size_t n, struct hit *out, char *err, size_t errlen)
{
	char *key = hits_key(prefix);
	enum store_status ret = STORE_OK;
	size_t i, m;

	memset(out, 0, n * sizeof *out);
	for (i = 0; i < n && ret == STORE_OK; i += m) {
		m = n - i < HITS_BATCH ? n - i : HITS_BATCH;
		ret = read_batch(st, key, rules + i, m, out + i, err, errlen);
	}
	free(key);
	return ret;
}
