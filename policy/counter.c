/*
 * counter - the counters of limit rules in Redis.  See counter.h.
 *
 * One script does both jobs, so that the bucket arithmetic has one home:
 * ARGV[1] is "read" or "add", then for each key the number of its terms
 * and, for each term, its kind ("m" messages, "r" recipients), its period
 * in milliseconds and what to add.  "read" returns every term's count, in
 * order; "add" returns nothing, and does as little as it can, since it
 * runs for every message: HINCRBY of each term's bucket; HGETALL, to drop
 * the fields that are over, only when a bucket was new (once a bucket's
 * width); PEXPIRE only when the hash has less than its longest period
 * left (so, again, once a bucket's width), which still keeps everything
 * for at least its period.  Terms of one counter with the same kind and
 * period are sent once (a bucket is counted once).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cidr.h"
#include "counter.h"
#include "errbuf.h"
#include "schema.h"
#include "str.h"
#include "xmalloc.h"

#define BUCKETS 60
#define VALUE_MAX 600 /* bytes of a value that cannot be parsed, kept */

static const char script_body[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local add = ARGV[1] == 'add'\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local out, a = {}, 2\n"
    "for i = 1, #KEYS do\n"
    "  local k, n = KEYS[i], tonumber(ARGV[a])\n"
    "  a = a + 1\n"
    "  local terms, keep, longest, fresh, new = {}, {}, 0, 0, false\n"
    "  for j = 1, n do\n"
    "    local per = tonumber(ARGV[a + 1])\n"
    "    local w = math.ceil(per / 60)\n"
    "    local tm = {tag = ARGV[a] .. per .. ':', cur = math.floor(now / w),\n"
    "                amt = tonumber(ARGV[a + 2]), sum = 0}\n"
    "    terms[j] = tm\n"
    "    keep[tm.tag] = tm\n"
    "    if per + w > longest then longest, fresh = per + w, per end\n"
    "    a = a + 3\n"
    "  end\n"
    "  for j = 1, add and n or 0 do\n"
    "    local tm = terms[j]\n"
    "    if tm.amt > 0 and redis.call('HINCRBY', k,\n"
    "        tm.tag .. string.format('%d', tm.cur), tm.amt) == tm.amt then\n"
    "      new = true\n"
    "    end\n"
    "  end\n"
    "  if not add or new then\n"
    "    local h = redis.call('HGETALL', k)\n"
    "    for f = 1, #h, 2 do\n"
    "      local c = string.find(h[f], ':', 1, true)\n"
    "      local tm = c and keep[string.sub(h[f], 1, c)]\n"
    "      local b = c and tonumber(string.sub(h[f], c + 1))\n"
    "      if tm and b and b >= tm.cur - 60 then\n"
    "        tm.sum = tm.sum + tonumber(h[f + 1])\n"
    "      elseif add then\n"
    "        redis.call('HDEL', k, h[f])\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if not add then\n"
    "    for j = 1, n do out[#out + 1] = terms[j].sum end\n"
    "  elseif n > 0 and redis.call('PTTL', k) < fresh then\n"
    "    redis.call('PEXPIRE', k, longest)\n"
    "  end\n"
    "end\n"
    "return out\n";

static struct store_script_text script = STORE_SCRIPT_TEXT(script_body);

/* counter_value - what a subject counts under (counter.h) */
char *
counter_value(enum limit_subject s, const char *text, const char *delims,
              char *err, size_t errlen)
{
	unsigned char ip[16];
	char canon[CIDR_TEXT_MAX];
	struct addr a;
	char *v;
	int af;

	switch (s) {
	case LIMIT_CLIENT:
		af = inet_pton(AF_INET, text, ip) == 1    ? AF_INET
		     : inet_pton(AF_INET6, text, ip) == 1 ? AF_INET6
		                                          : -1;
		if (af < 0) {
			errbuf_set(err, errlen, "not an IP address: %.60s",
			           text);
			return NULL;
		}
		(void)cidr_text(af, ip, -1, canon);
		return xstrdup(canon);
	case LIMIT_AUTH:
		v = str_sanitize(text, strlen(text), VALUE_MAX);
		str_lower(v);
		return v;
	default:
		switch (addr_parse(text, strlen(text), &a, NULL, 0)) {
		case ADDR_NULL:
			return xstrdup("<>");
		case ADDR_OK:
			v = xmalloc(ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2);
			(void)snprintf(v, ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2,
			               "%.*s%s%s",
			               (int)addr_base_len(&a, delims), a.local,
			               a.has_domain ? "@" : "", a.domain);
			return v;
		default:
			v = str_sanitize(text, strlen(text), VALUE_MAX);
			str_lower(v);
			return v;
		}
	}
}

/* counter_key - "<prefix>_limit:SUBJECT:VALUE" or the shared one's */
char *
counter_key(const char *prefix, enum limit_subject s, const char *rule_key,
            const struct limit *l, const char *value)
{
	size_t n = strlen(rule_key) + strlen(value) + 32;
	char *name = xmalloc(n), *k;

	if (l->shared)
		(void)snprintf(name, n, "limit:shared:%s:%s",
		               limit_subject_name(s), rule_key);
	else
		(void)snprintf(name, n, "limit:%s:%s", limit_subject_name(s),
		               value);
	k = schema_internal_key(prefix, name);
	free(name);
	return k;
}

/* rate - a term a counter counts (rcpts/msg is counted in the message) */
static int
rate(const struct limit_term *t)
{
	return t->unit != LIMIT_RCPTS_PER_MSG;
}

/* same_as - the earlier term of c with t's kind and period, or -1 */
static int
same_as(const struct limit *l, size_t j)
{
	size_t i;

	for (i = 0; i < j; i++)
		if (rate(&l->term[i]) && l->term[i].unit == l->term[j].unit &&
		    l->term[i].period == l->term[j].period)
			return (int)i;
	return -1;
}

/* The arguments of one script call, and room for their numbers. */
struct call {
	const char **keys, **args;
	char (*num)[24];
	size_t nargs, nnum, nout;
};

/* number_arg - a number as the next argument */
static void
number_arg(struct call *k, long long v)
{
	(void)snprintf(k->num[k->nnum], sizeof k->num[0], "%lld", v);
	k->args[k->nargs++] = k->num[k->nnum++];
}

/* build - the keys and arguments of op for n counters */
static void
build(struct call *k, const char *op, const struct counter *c, size_t n)
{
	size_t i, j, count_at, terms;

	k->keys = xcalloc(n, sizeof *k->keys);
	k->args = xcalloc(1 + n * (1 + 3 * LIMIT_TERMS_MAX), sizeof *k->args);
	k->num = xcalloc(n * (1 + 2 * LIMIT_TERMS_MAX), sizeof *k->num);
	k->nargs = k->nnum = k->nout = 0;
	k->args[k->nargs++] = op;
	for (i = 0; i < n; i++) {
		k->keys[i] = c[i].key;
		count_at = k->nargs++; /* the number of terms, below */
		for (j = terms = 0; j < c[i].lim->nterms; j++) {
			const struct limit_term *t = &c[i].lim->term[j];

			if (!rate(t) || same_as(c[i].lim, j) >= 0)
				continue;
			k->args[k->nargs++] = t->unit == LIMIT_MSGS ? "m" : "r";
			number_arg(k, t->period * 1000);
			number_arg(k, t->unit == LIMIT_MSGS ? c[i].msgs
			                                    : c[i].rcpts);
			terms++;
		}
		(void)snprintf(k->num[k->nnum], sizeof k->num[0], "%zu", terms);
		k->args[count_at] = k->num[k->nnum++];
		k->nout += terms;
	}
}

/* run - one script call for n counters; count[] filled from its reply */
static enum store_status
run(struct store *st, const char *op, struct counter *c, size_t n, char *err,
    size_t errlen)
{
	struct store_script sc = {script_body, store_script_sha(&script),
	                          strcmp(op, "read") == 0};
	struct call k;
	size_t i, j, got = 0, off = 0;
	long long *out;
	enum store_status ret;
	int same;

	build(&k, op, c, n);
	out = xcalloc(k.nout + 1, sizeof *out);
	ret = store_eval(st, &sc, k.keys, n, k.args, k.nargs, out, k.nout + 1,
	                 &got, err, errlen);
	if (strcmp(op, "add") == 0)
		k.nout = 0; /* add answers no counts */
	if (ret == STORE_OK && got != k.nout) {
		errbuf_set(err, errlen,
		           "the counting script gave %zu counts for %zu terms",
		           got, k.nout);
		ret = STORE_ERR_CONFIG;
	}
	for (i = 0; ret == STORE_OK && k.nout > 0 && i < n; i++) {
		for (j = 0; j < c[i].lim->nterms; j++) {
			c[i].count[j] = 0;
			if (!rate(&c[i].lim->term[j]))
				continue;
			if ((same = same_as(c[i].lim, j)) >= 0)
				c[i].count[j] = c[i].count[same];
			else
				c[i].count[j] = out[off++];
		}
	}
	free(k.keys);
	free(k.args);
	free(k.num);
	free(out);
	return ret;
}

enum store_status
counter_read(struct store *st, struct counter *c, size_t n, char *err,
             size_t errlen)
{
	return run(st, "read", c, n, err, errlen);
}

enum store_status
counter_add(struct store *st, struct counter *c, size_t n, char *err,
            size_t errlen)
{
	return run(st, "add", c, n, err, errlen);
}
