/*
 * ctl_bulk - redmilterctl list, export, import, top and stale.
 *
 * Public: ctl_bulk_list(), ctl_bulk_export(), ctl_bulk_import(),
 * ctl_bulk_top(), ctl_bulk_stale().  Reads go through the store's SCAN
 * (never KEYS); list --hits, top and stale then read the hits of all the
 * rules scanned with one hits_read() (ctl_hits.h), in batches.  An import
 * validates every line before it writes anything, then writes every rule,
 * and with --replace deletes the old ones, with their audit entries, in
 * one transaction (ctl_audit.h): readers see the old rule set or the
 * new one, never a mix.
 * Imports are serialised with an advisory lock key under the bookkeeping
 * prefix, so that two --replace imports of the same tables end with exactly one
 * of the two files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_audit.h"
#include "ctl_bulk.h"
#include "ctl_hits.h"
#include "rule.h"
#include "schema.h"
#include "table.h"
#include "str.h"
#include "xmalloc.h"

#define LOCK_MS 120000     /* a crashed import frees the lock after this */
#define LOCK_WAIT_MS 60000 /* how long an import waits for another */
#define LINE_MAX_LEN 65536 /* one import line */
#define TOP_DEFAULT 10LL   /* rules top prints without N */
#define TOP_MAX 1000000LL
#define STALE_DAYS_MAX 36500LL /* 100 years */

/* A stored rule, as scanned. */
struct stored {
	int table; /* -1: bookkeeping or unknown table */
	char *key; /* after "<prefix><table>:"; the whole key if no rule */
	char *full;
	char *val; /* NULL: not a string */
	size_t len;
	long long ttl;
	char *type;
};

struct stored_set {
	const char *prefix;
	struct stored *v;
	size_t n;
};

/* collect - scan callback: keep every key under the prefix */
static int
collect(const char *key, const char *val, size_t len, long long ttl,
        const char *type, void *arg)
{
	struct stored_set *ss = arg;
	struct stored *s;
	const char *rest;
	enum table t;

	ss->v = xgrow(ss->v, ss->n, sizeof *ss->v);
	s = &ss->v[ss->n++];
	memset(s, 0, sizeof *s);
	s->full = xstrdup(key);
	s->table = -1;
	if (schema_parse_key(ss->prefix, key, &t, &rest) == SCHEMA_RULE)
		s->table = (int)t;
	else
		rest = key;
	s->key = s->full + (rest - key);
	s->val = val != NULL ? xmemdup(val, len) : NULL;
	s->len = len;
	s->ttl = ttl;
	s->type = type != NULL ? xstrdup(type) : NULL;
	return 0;
}

/* by_table_key - precedence order of tables, then key bytes */
static int
by_table_key(const void *a, const void *b)
{
	const struct stored *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* stored_free - free a scanned set */
static void
stored_free(struct stored_set *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++) {
		free(ss->v[i].full);
		free(ss->v[i].val);
		free(ss->v[i].type);
	}
	free(ss->v);
	ss->v = NULL;
	ss->n = 0;
}

/* scan_rules - every key of one table (or all tables: t < 0), sorted */
static int
scan_rules(struct ctl *c, int t, struct stored_set *ss)
{
	struct store *st = ctl_store(c);
	char *match, err[512];
	enum store_status rc;

	ss->prefix = c->conf.prefix;
	ss->v = NULL;
	ss->n = 0;
	if (st == NULL)
		return CTL_STORE;
	match = schema_scan_prefix(c->conf.prefix, t);
	rc = st->scan(st, match, collect, ss, err, sizeof err);
	free(match);
	if (rc != STORE_OK) {
		ctl_warn("%s", err);
		stored_free(ss);
		return CTL_STORE;
	}
	if (ss->n > 1)
		qsort(ss->v, ss->n, sizeof *ss->v, by_table_key);
	return CTL_OK;
}

/*
 * table_arg - the optional TABLE argument into *t (-1: every table);
 * returns 0, or -1 after a warning when it names no table
 */
static int
table_arg(int argc, char **argv, int *t)
{
	*t = -1;
	if (argc < 1)
		return 0;
	if (argc > 1 || (*t = table_from_name(argv[0])) < 0) {
		ctl_warn("unknown table '%s'", argv[0]);
		return -1;
	}
	return 0;
}

/* one_line - a value that can stand on one line of output */
static int
one_line(const struct stored *s)
{
	return s->val != NULL && str_printable(s->val, s->len);
}

/* skipped - say why a stored key is no line of list or export */
static void
skipped(const struct stored *s)
{
	char *k = str_sanitize(s->key, strlen(s->key), 200);

	ctl_warn("%s %s: %s, skipped", table_name(s->table), k,
	         s->type != NULL ? "not a string"
	                         : "value with control characters");
	free(k);
}

/* flushed - rc, or CTL_INVALID after saying that stdout failed */
static int
flushed(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warn("write error: %s", strerror(errno));
		return CTL_INVALID;
	}
	return rc;
}

/*
 * rule_rows - a row for each rule list prints, in its order, with no hits
 * read yet; the caller frees them with ctl_hits_rows_free()
 */
static struct ctl_hits_row *
rule_rows(const struct stored_set *ss, size_t *n)
{
	struct ctl_hits_row *rows = xcalloc(ss->n + 1, sizeof *rows);
	size_t i;

	*n = 0;
	for (i = 0; i < ss->n; i++) {
		const struct stored *s = &ss->v[i];

		if (s->table < 0 || !one_line(s))
			continue;
		rows[*n].rule = ctl_hits_rule(s->table, s->key);
		rows[*n].val = s->val;
		(*n)++;
	}
	return rows;
}

/*
 * print_rules - list or export lines, each with its row's hits after a tab
 * when there are rows (list --hits: one per rule, as rule_rows() makes
 * them); returns the exit status
 */
static int
print_rules(struct ctl *c, const struct stored_set *ss, int export,
            const struct ctl_hits_row *rows)
{
	char when[CTL_HITS_WHEN_SIZE];
	int rc = CTL_OK;
	size_t i, j = 0;

	if (export)
		printf("# redmilter rules, prefix %s\n", c->conf.prefix);
	for (i = 0; i < ss->n; i++) {
		const struct stored *s = &ss->v[i];

		if (s->table < 0)
			continue;
		if (!one_line(s)) {
			skipped(s);
			rc = export ? CTL_INVALID : rc;
			continue;
		}
		if (export && s->ttl > 0)
			printf("-t %lld ", s->ttl);
		printf("%s %s %s", table_name(s->table), s->key, s->val);
		if (rows != NULL) {
			printf(
			    "\thits=%lld last=%s", rows[j].hit.count,
			    ctl_hits_when(rows[j].hit.last, when, sizeof when));
			j++;
		}
		putchar('\n');
	}
	return flushed(rc);
}

/* take_flag - remove flag from the arguments; 1 when it was there */
static int
take_flag(int *argc, char **argv, const char *flag)
{
	int i, found = 0;

	for (i = 0; i < *argc; i++) {
		if (strcmp(argv[i], flag) != 0)
			continue;
		memmove(argv + i, argv + i + 1,
		        (size_t)(*argc - i - 1) * sizeof *argv);
		(*argc)--;
		i--;
		found = 1;
	}
	return found;
}

/* ctl_bulk_list - "list [TABLE] [--hits]" */
int
ctl_bulk_list(struct ctl *c, int argc, char **argv)
{
	int hits = take_flag(&argc, argv, "--hits"), t, rc;
	struct ctl_hits_row *rows = NULL;
	struct stored_set ss;
	size_t n = 0;

	if (table_arg(argc, argv, &t) != 0)
		return CTL_INVALID;
	if (scan_rules(c, t, &ss) != CTL_OK)
		return CTL_STORE;
	/* One hits_read() for all the rules, before any line is printed. */
	if (hits)
		rows = rule_rows(&ss, &n);
	if (hits && ctl_hits_read(c, rows, n) != CTL_OK)
		rc = CTL_STORE;
	else
		rc = print_rules(c, &ss, 0, rows);
	ctl_hits_rows_free(rows, n);
	stored_free(&ss);
	return rc;
}

/* ctl_bulk_export - "export [TABLE]" */
int
ctl_bulk_export(struct ctl *c, int argc, char **argv)
{
	struct stored_set ss;
	int t, rc;

	if (table_arg(argc, argv, &t) != 0)
		return CTL_INVALID;
	if (scan_rules(c, t, &ss) != CTL_OK)
		return CTL_STORE;
	rc = print_rules(c, &ss, 1, NULL);
	stored_free(&ss);
	return rc;
}

/*
 * ranked_rows - the rules of every table with their hits, for top and
 * stale (*rows and ss then the caller's to free); CTL_OK, or CTL_STORE
 * after a warning.  Keys that are no rule list can print are left out
 * without a word: list and lint report them.
 */
static int
ranked_rows(struct ctl *c, struct stored_set *ss, struct ctl_hits_row **rows,
            size_t *n)
{
	*rows = NULL;
	*n = 0;
	if (scan_rules(c, -1, ss) != CTL_OK)
		return CTL_STORE;
	*rows = rule_rows(ss, n);
	if (ctl_hits_read(c, *rows, *n) != CTL_OK) {
		ctl_hits_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		stored_free(ss);
		return CTL_STORE;
	}
	return CTL_OK;
}

/* ctl_bulk_top - "top [N]": the N rules hit most, 0 hits left out */
int
ctl_bulk_top(struct ctl *c, int argc, char **argv)
{
	char when[CTL_HITS_WHEN_SIZE];
	struct ctl_hits_row *rows;
	struct stored_set ss;
	long long max = TOP_DEFAULT;
	size_t i, n;

	if (argc > 1) {
		ctl_warn("usage: top [N]");
		return CTL_INVALID;
	}
	if (argc == 1 && ctl_hits_number(argv[0], 1, TOP_MAX, &max) != 0) {
		ctl_warn("top: N must be a whole number from 1 to %lld, "
		         "not '%s'",
		         TOP_MAX, argv[0]);
		return CTL_INVALID;
	}
	if (ranked_rows(c, &ss, &rows, &n) != CTL_OK)
		return CTL_STORE;
	ctl_hits_sort_top(rows, n);
	for (i = 0; i < n && i < (size_t)max && rows[i].hit.count > 0; i++)
		printf("%lld %s %s %s\n", rows[i].hit.count,
		       ctl_hits_when(rows[i].hit.last, when, sizeof when),
		       rows[i].rule, rows[i].val);
	ctl_hits_rows_free(rows, n);
	stored_free(&ss);
	return flushed(CTL_OK);
}

/* ctl_bulk_stale - "stale DAYS": rules not hit for DAYS days, or never */
int
ctl_bulk_stale(struct ctl *c, int argc, char **argv)
{
	char when[CTL_HITS_WHEN_SIZE];
	struct ctl_hits_row *rows;
	struct stored_set ss;
	long long days, now;
	size_t i, n;
	int rc;

	if (argc != 1) {
		ctl_warn("usage: stale DAYS");
		return CTL_INVALID;
	}
	if (ctl_hits_number(argv[0], 0, STALE_DAYS_MAX, &days) != 0) {
		ctl_warn("stale: DAYS must be a whole number from 0 to %lld, "
		         "not '%s'",
		         STALE_DAYS_MAX, argv[0]);
		return CTL_INVALID;
	}
	if (ranked_rows(c, &ss, &rows, &n) != CTL_OK)
		return CTL_STORE;
	if ((rc = ctl_hits_now(c, &now)) == CTL_OK) {
		ctl_hits_sort_stale(rows, n);
		for (i = 0; i < n; i++)
			if (ctl_hits_stale(rows[i].hit.last, now, days))
				printf("%s %s %s\n",
				       ctl_hits_when(rows[i].hit.last, when,
				                     sizeof when),
				       rows[i].rule, rows[i].val);
		rc = flushed(CTL_OK);
	}
	ctl_hits_rows_free(rows, n);
	stored_free(&ss);
	return rc;
}

/* A parsed import file: rules with their line numbers. */
struct import_rule {
	struct rule r;
	size_t line;
};

struct import {
	struct import_rule *v;
	size_t n;
	unsigned tables; /* bit per table named in the file */
};

/* import_free - free a parsed import file */
static void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		rule_free(&im->v[i].r);
	free(im->v);
}

/* read_line - one line without its line end; -1 at the end or on error */
static ssize_t
read_line(FILE *fp, char **buf, size_t *cap)
{
	ssize_t len = getline(buf, cap, fp);

	if (len > 0 && (*buf)[len - 1] == '\n')
		(*buf)[--len] = '\0';
	if (len > 0 && (*buf)[len - 1] == '\r')
		(*buf)[--len] = '\0';
	return len;
}

/* read_rules - parse every line; the first bad one stops it */
static int
read_rules(FILE *fp, const char *name, struct import *im)
{
	char *buf = NULL, err[512];
	size_t cap = 0, lineno = 0;
	ssize_t len;
	struct rule r;
	enum rule_line got;
	int rc = CTL_OK;

	while (rc == CTL_OK && (len = read_line(fp, &buf, &cap)) >= 0) {
		lineno++;
		if ((size_t)len != strlen(buf) || len > LINE_MAX_LEN) {
			ctl_warn("%s:%zu: %s", name, lineno,
			         len > LINE_MAX_LEN ? "line too long"
			                            : "NUL byte in line");
			rc = CTL_INVALID;
		} else if ((got = rule_parse_line(buf, &r, err, sizeof err)) ==
		           RULE_LINE_BAD) {
			ctl_warn("%s:%zu: %s", name, lineno, err);
			rc = CTL_INVALID;
		} else if (got == RULE_LINE_RULE) {
			im->v = xgrow(im->v, im->n, sizeof *im->v);
			im->v[im->n].r = r;
			im->v[im->n++].line = lineno;
			im->tables |= 1u << r.table;
		}
	}
	free(buf);
	if (rc == CTL_OK && ferror(fp)) {
		ctl_warn("%s: read error: %s", name, strerror(errno));
		rc = CTL_INVALID;
	}
	return rc;
}

/* by_rule - order by table and key, then line */
static int
by_rule(const void *a, const void *b)
{
	const struct import_rule *x = a, *y = b;
	int c;

	if (x->r.table != y->r.table)
		return x->r.table < y->r.table ? -1 : 1;
	if ((c = strcmp(x->r.key, y->r.key)) != 0)
		return c;
	return x->line < y->line ? -1 : 1;
}

/* find_duplicate - report the earliest line that repeats a rule */
static int
find_duplicate(const struct import *im, const char *name)
{
	const struct import_rule *dup = NULL, *first = NULL;
	size_t i;

	for (i = 1; i < im->n; i++) {
		const struct import_rule *a = &im->v[i - 1], *b = &im->v[i];

		if (a->r.table != b->r.table || strcmp(a->r.key, b->r.key) != 0)
			continue;
		if (dup == NULL || b->line < dup->line) {
			dup = b;
			first = a;
		}
	}
	if (dup == NULL)
		return CTL_OK;
	ctl_warn("%s:%zu: duplicate rule %s %s (first on line %zu)", name,
	         dup->line, table_name(dup->r.table), dup->r.key, first->line);
	return CTL_INVALID;
}

/* in_file - is a stored rule one of the file's (sorted by by_rule) */
static int
in_file(const struct import *im, int t, const char *key)
{
	size_t lo = 0, hi = im->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rule *r = &im->v[mid].r;
		int c = (int)r->table != t ? ((int)r->table < t ? -1 : 1)
		                           : strcmp(r->key, key);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* take_lock - the import lock, waiting for another import at most a while */
static int
take_lock(struct ctl *c, struct store *st)
{
	struct timespec nap = {0, 100 * 1000000L};
	char err[512];
	long waited;
	enum store_status rc;

	for (waited = 0; waited <= LOCK_WAIT_MS; waited += 100) {
		rc = st->lock(st, c->lock_name, LOCK_MS, err, sizeof err);
		if (rc == STORE_OK)
			return CTL_OK;
		if (rc != STORE_NOTFOUND) {
			ctl_warn("%s", err);
			return CTL_STORE;
		}
		nanosleep(&nap, NULL);
	}
	ctl_warn("another import holds the lock %s", c->lock_name);
	return CTL_STORE;
}

/* Writes of an import: sets, then the deletes of --replace. */
struct ops {
	struct ctl_audit_op *v;
	char **keys;  /* the Redis keys, malloc'd */
	char **rkeys; /* the rules' keys, malloc'd */
	size_t n;
	size_t removed;
};

/* add_op - append a set (val != NULL) or a delete of the rule t rkey */
static void
add_op(struct ops *o, const char *prefix, int t, const char *rkey,
       const char *val, long long ttl)
{
	o->v = xgrow(o->v, o->n, sizeof *o->v);
	o->keys = xgrow(o->keys, o->n, sizeof *o->keys);
	o->rkeys = xgrow(o->rkeys, o->n, sizeof *o->rkeys);
	o->keys[o->n] = schema_rule_key(prefix, (enum table)t, rkey);
	o->rkeys[o->n] = xstrdup(rkey);
	o->v[o->n].key = o->keys[o->n];
	o->v[o->n].mode = val != NULL ? "set" : "del";
	o->v[o->n].val = val;
	o->v[o->n].ttl = ttl;
	o->v[o->n].table = table_name((enum table)t);
	o->v[o->n].rkey = o->rkeys[o->n];
	o->n++;
}

/* ops_free - free the keys of the writes */
static void
ops_free(struct ops *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		free(o->keys[i]);
		free(o->rkeys[i]);
	}
	free(o->keys);
	free(o->rkeys);
	free(o->v);
}

/* old_rules - deletes for every stored key of the file's tables not in it */
static int
old_rules(struct ctl *c, const struct import *im, struct ops *o)
{
	struct stored_set ss;
	size_t i;
	int t;

	for (t = 0; t < TABLE_COUNT; t++) {
		if (!(im->tables & (1u << t)))
			continue;
		if (scan_rules(c, t, &ss) != CTL_OK)
			return CTL_STORE;
		for (i = 0; i < ss.n; i++) {
			if (ss.v[i].table != t || in_file(im, t, ss.v[i].key))
				continue;
			add_op(o, c->conf.prefix, t, ss.v[i].key, NULL, 0);
			o->removed++;
		}
		stored_free(&ss);
	}
	return CTL_OK;
}

/*
 * write_rules - the whole import in one transaction, with an audit
 * entry for each rule it changes (ctl_audit.h), under the lock
 */
static int
write_rules(struct ctl *c, const struct import *im, int replace)
{
	struct store *st = ctl_store(c);
	struct ops o = {NULL, NULL, NULL, 0, 0};
	char err[512];
	size_t i, changed = 0;
	int rc = CTL_OK;

	if (st == NULL || take_lock(c, st) != CTL_OK)
		return CTL_STORE;
	for (i = 0; i < im->n; i++)
		add_op(&o, c->conf.prefix, (int)im->v[i].r.table,
		       im->v[i].r.key, im->v[i].r.action, im->v[i].r.ttl);
	if (replace)
		rc = old_rules(c, im, &o);
	if (rc == CTL_OK && o.n > 0 &&
	    (rc = ctl_audit_apply(c, "import", o.v, o.n, CTL_AUDIT_SKIP_SAME,
	                          &changed, err, sizeof err)) != CTL_OK)
		ctl_warn("%s", err);
	if (st->unlock(st, c->lock_name, err, sizeof err) != STORE_OK &&
	    rc == CTL_OK) {
		ctl_warn("%s", err);
		rc = CTL_STORE;
	}
	if (rc == CTL_OK)
		printf("imported %zu rules, removed %zu\n", im->n, o.removed);
	ops_free(&o);
	return rc;
}

/* import_opts - --replace and -m TEXT, before FILE (-m also after it) */
static int
import_opts(struct ctl *c, int *argc, char **argv, int *replace)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (*argc > 0 && strcmp(argv[0], "--replace") == 0) {
			*replace = 1;
			memmove(argv, argv + 1,
			        (size_t)(*argc - 1) * sizeof *argv);
			(*argc)--;
		}
		if (ctl_audit_take_note(c, argc, argv, 0) != 0 ||
		    ctl_audit_take_note(c, argc, argv, *argc - 2) != 0)
			return -1;
	}
	if (*argc != 1) {
		ctl_warn("usage: import [--replace] [-m TEXT] FILE|-");
		return -1;
	}
	return 0;
}

/* ctl_bulk_import - "import [--replace] [-m TEXT] FILE|-" */
int
ctl_bulk_import(struct ctl *c, int argc, char **argv)
{
	struct import im = {NULL, 0, 0};
	int replace = 0, rc;
	FILE *fp;

	if (import_opts(c, &argc, argv, &replace) != 0)
		return CTL_INVALID;
	if (strcmp(argv[0], "-") == 0)
		fp = stdin;
	else if ((fp = fopen(argv[0], "r")) == NULL) {
		ctl_warn("%s: %s", argv[0], strerror(errno));
		return CTL_INVALID;
	}
	rc = read_rules(fp, argv[0], &im);
	if (fp != stdin)
		fclose(fp);
	if (rc == CTL_OK) {
		if (im.n > 1)
			qsort(im.v, im.n, sizeof *im.v, by_rule);
		rc = find_duplicate(&im, argv[0]);
	}
	if (rc == CTL_OK)
		rc = write_rules(c, &im, replace);
	import_free(&im);
	return rc;
}
