/*
 * ctl_grey - redmilterctl greylist list and greylist pass.  See ctl_grey.h.
 *
 * Public: ctl_greylist().  "pass" builds the triplet as the milter does
 * (greylist_triplet() with the configuration's greylist_netmask and
 * recipient_delimiter) and runs the greylisting script's "pass"
 * (GREY_FORCE), so the milter sees exactly what was written.  "list"
 * finds the state's hashes with the store's SCAN (never KEYS) under
 * "<prefix>_grey:", reads each with HMGET and PTTL (store_hmget()), and
 * prints one line per triplet or network, each section sorted.  The
 * times printed are the script's, from Redis's clock (TIME), in UTC; a
 * remaining lifetime is the key's PTTL, counted by Redis: neither depends
 * on this host's clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_audit.h"
#include "ctl_grey.h"
#include "greylist.h"
#include "policy.h"
#include "schema.h"
#include "str.h"
#include "xmalloc.h"

#define SHOW_MAX GREYLIST_ADDR_MAX /* bytes of a stored value printed */

enum section { SEC_PENDING, SEC_PASSED, SEC_CLIENTS, SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {[SEC_PENDING] = "pending",
                                                     [SEC_PASSED] = "passed",
                                                     [SEC_CLIENTS] = "clients"};

/* The lines of one section, and the keys the scan found. */
struct strings {
	char **v;
	size_t n;
};

/* strings_add - append a malloc'd string (taken over) */
static void
strings_add(struct strings *s, char *str)
{
	s->v = xgrow(s->v, s->n, sizeof *s->v);
	s->v[s->n++] = str;
}

/* strings_free - free each string and the array */
static void
strings_free(struct strings *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* by_text - qsort comparison of two strings */
static int
by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* line - a printf-formatted line, malloc'd */
static char *line(const char *, ...) __attribute__((format(printf, 1, 2)));

static char *
line(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return xstrdup("?");
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	(void)vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* shown - a stored or given value, printable; "?" when absent; malloc'd */
static char *
shown(const struct store_value *v)
{
	if (v->status != STORE_OK)
		return xstrdup("?");
	return str_sanitize(v->val, v->len, SHOW_MAX);
}

/*
 * when - milliseconds of Redis's clock as "2026-12-03T06:50:01Z" into buf;
 * "?" for a field absent or not a number
 */
static const char *
when(const struct store_value *v, char *buf, size_t len)
{
	struct tm tm;
	long long ms;
	time_t t;
	char *end;

	if (v->status != STORE_OK || v->len == 0 ||
	    (ms = strtoll(v->val, &end, 10), *end != '\0') || ms < 0) {
		str_copy(buf, "?", len);
		return buf;
	}
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(buf, "?", len);
	return buf;
}

/* expires - "expires-in=Ns" from a PTTL, "expires-in=never" without one */
static const char *
expires(long long pttl, char *buf, size_t len)
{
	if (pttl < 0)
		str_copy(buf, "expires-in=never", len);
	else
		(void)snprintf(buf, len, "expires-in=%llds",
		               (pttl + 999) / 1000);
	return buf;
}

/*
 * read_hash - the fields of one hash with its PTTL; 1 when there is one
 * (out filled: the caller frees it), 0 when it went since the scan (or is
 * no hash), -1 after a warning
 */
static int
read_hash(struct ctl *c, const char *key, const char *const *fields, size_t n,
          struct store_value *out, long long *pttl)
{
	char err[256];
	enum store_status st;

	st = store_hmget(c->store, key, fields, n, out, pttl, err, sizeof err);
	if (st == STORE_NOTFOUND)
		return 0;
	if (st != STORE_OK) {
		ctl_warn("%s", err);
		return -1;
	}
	if (*pttl == -2) {
		store_values_free(out, n);
		return 0;
	}
	return 1;
}

/* triplet - the line of a triplet's hash, in its section (pending, passed) */
static int
triplet(struct ctl *c, const char *key, struct strings *sec)
{
	static const char *const f[] = {"first", "pass", "last",
	                                "net",   "from", "to"};
	struct store_value v[6];
	char first[32], pass[32], last[32], exp[40], *net, *from, *to;
	long long pttl;
	int rc;

	if ((rc = read_hash(c, key, f, 6, v, &pttl)) <= 0)
		return rc;
	net = shown(&v[3]);
	from = shown(&v[4]);
	to = shown(&v[5]);
	when(&v[0], first, sizeof first);
	expires(pttl, exp, sizeof exp);
	if (v[1].status != STORE_OK)
		strings_add(&sec[SEC_PENDING],
		            line("pending %s %s %s first=%s %s", net, from, to,
		                 first, exp));
	else
		strings_add(
		    &sec[SEC_PASSED],
		    line("passed %s %s %s first=%s passed=%s last=%s %s", net,
		         from, to, first, when(&v[1], pass, sizeof pass),
		         when(&v[2], last, sizeof last), exp));
	free(net);
	free(from);
	free(to);
	store_values_free(v, 6);
	return 0;
}

/* client - the line of a network's hash */
static int
client(struct ctl *c, const char *key, struct strings *sec)
{
	static const char *const f[] = {"n", "last", "net"};
	struct store_value v[3];
	char last[32], exp[40], *net, *end;
	long long pttl, n = 0;
	int rc;

	if ((rc = read_hash(c, key, f, 3, v, &pttl)) <= 0)
		return rc;
	if (v[0].status == STORE_OK &&
	    ((n = strtoll(v[0].val, &end, 10)), *end != '\0' || n < 0))
		n = 0;
	net = shown(&v[2]);
	strings_add(&sec[SEC_CLIENTS],
	            line("client %s passed-triplets=%lld%s last=%s %s", net, n,
	                 n >= GREYLIST_CLIENT_PASSES ? " whitelisted" : "",
	                 when(&v[1], last, sizeof last),
	                 expires(pttl, exp, sizeof exp)));
	free(net);
	store_values_free(v, 3);
	return 0;
}

/* collect - scan callback: keep the keys that hold a hash */
static int
collect(const char *key, const char *val, size_t len, long long ttl,
        const char *type, void *arg)
{
	(void)val;
	(void)len;
	(void)ttl;
	if (type != NULL && strcmp(type, "hash") == 0)
		strings_add(arg, xstrdup(key));
	return 0;
}

/*
 * gather - every hash under "<prefix>_grey:" as a line of its section;
 * returns CTL_OK, or CTL_STORE after a warning
 */
static int
gather(struct ctl *c, struct strings *sec)
{
	struct strings keys = {NULL, 0};
	char err[256], *base = schema_internal_key(c->conf.prefix, "grey:");
	size_t blen = strlen(base), i;
	int rc = CTL_OK;

	if (c->store->scan(c->store, base, collect, &keys, err, sizeof err) !=
	    STORE_OK) {
		ctl_warn("%s", err);
		rc = CTL_STORE;
	}
	for (i = 0; rc == CTL_OK && i < keys.n; i++) {
		const char *rest = keys.v[i] + blen;

		if (strncmp(rest, "t:", 2) == 0 &&
		    triplet(c, keys.v[i], sec) < 0)
			rc = CTL_STORE;
		else if (strncmp(rest, "c:", 2) == 0 &&
		         client(c, keys.v[i], sec) < 0)
			rc = CTL_STORE;
	}
	strings_free(&keys);
	free(base);
	return rc;
}

/* cmd_list - "greylist list [pending|passed|clients]" */
static int
cmd_list(struct ctl *c, int argc, char **argv)
{
	struct strings sec[SEC_COUNT];
	int only = -1, rc, i;
	size_t j;

	for (i = 0; argc == 1 && i < SEC_COUNT; i++)
		if (strcmp(argv[0], section_names[i]) == 0)
			only = i;
	if (argc > 1 || (argc == 1 && only < 0)) {
		ctl_warn("usage: greylist list [pending|passed|clients]");
		return CTL_INVALID;
	}
	if (ctl_store(c) == NULL)
		return CTL_STORE;
	memset(sec, 0, sizeof sec);
	rc = gather(c, sec);
	for (i = 0; i < SEC_COUNT; i++) {
		if (sec[i].n > 1)
			qsort(sec[i].v, sec[i].n, sizeof *sec[i].v, by_text);
		for (j = 0;
		     rc == CTL_OK && (only < 0 || only == i) && j < sec[i].n;
		     j++)
			printf("%s\n", sec[i].v[j]);
		strings_free(&sec[i]);
	}
	return rc;
}

/* cmd_pass - "greylist pass CLIENT-IP SENDER RECIPIENT" */
static int
cmd_pass(struct ctl *c, int argc, char **argv)
{
	struct policy_conf pc;
	struct grey_triplet tr;
	struct grey_result res;
	char err[256], user[CTL_AUDIT_USER_SIZE], *from, *to;

	if (argc != 3) {
		ctl_warn("usage: greylist pass CLIENT-IP SENDER RECIPIENT");
		return CTL_INVALID;
	}
	policy_conf_init(&pc, &c->conf);
	if (greylist_triplet(
	        &tr, argv[0], pc.grey_bits4, pc.grey_bits6, argv[1], argv[2],
	        pc.delims != NULL ? pc.delims : "", err, sizeof err) != 0) {
		from = str_sanitize(err, strlen(err), sizeof err);
		ctl_warn("greylist pass: %s", from);
		free(from);
		return CTL_INVALID;
	}
	if (ctl_store(c) == NULL)
		return CTL_STORE;
	ctl_audit_user(user, sizeof user);
	if (greylist_pass(c->store, c->conf.prefix, &tr, user, &res, err,
	                  sizeof err) != STORE_OK) {
		ctl_warn("%s", err);
		return CTL_STORE;
	}
	from = str_sanitize(tr.from, strlen(tr.from), SHOW_MAX);
	to = str_sanitize(tr.to, strlen(tr.to), SHOW_MAX);
	printf("passed %s %s %s\n", tr.net, from, to);
	free(from);
	free(to);
	return CTL_OK;
}

static const struct command {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
} commands[] = {
    {"list", cmd_list},
    {"pass", cmd_pass},
};

/* ctl_greylist - "greylist list ..." or "greylist pass ..." */
int
ctl_greylist(struct ctl *c, int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 0 && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(c, argc - 1, argv + 1);
	ctl_warn("usage: greylist list [pending|passed|clients] | greylist "
	         "pass CLIENT-IP SENDER RECIPIENT");
	return CTL_INVALID;
}
