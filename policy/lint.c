/*
 * lint - check every stored rule under a prefix.  See lint.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "rule.h"
#include "schema.h"
#include "table.h"
#include "str.h"
#include "xmalloc.h"

struct finding {
	char *where;
	char *problem;
};

struct lint_state {
	const char *prefix;
	size_t nrules;
	struct finding *v;
	size_t n;
};

/* add - record one problem */
static void
add(struct lint_state *ls, const char *where, const char *problem)
{
	ls->v = xgrow(ls->v, ls->n, sizeof *ls->v);
	ls->v[ls->n].where = str_sanitize(where, strlen(where), 600);
	ls->v[ls->n].problem = xstrdup(problem);
	ls->n++;
}

/* has_upper - ASCII upper case anywhere */
static int
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 1;
	return 0;
}

/* check_rule - the problems of one rule key and value */
static void
check_rule(struct lint_state *ls, enum table t, const char *key,
           const char *where, const char *val, size_t len, const char *type)
{
	char folded[RULE_KEY_MAX + 1], why[256], msg[320];

	if (type != NULL) {
		snprintf(msg, sizeof msg,
		         "a Redis %s, not a string: lookups never see it",
		         type);
		add(ls, where, msg);
	} else if (rule_action_parse(t, val, len, NULL, why, sizeof why) != 0) {
		add(ls, where, why);
	}
	if (has_upper(key))
		add(ls, where, "upper-case letters: no lookup can reach it");
	else if (rule_key_check(t, key, folded, sizeof folded, why,
	                        sizeof why) != 0)
		add(ls, where, why);
}

/* visit - scan callback: one key under the prefix */
static int
visit(const char *key, const char *val, size_t len, long long ttl,
      const char *type, void *arg)
{
	struct lint_state *ls = arg;
	const char *rest, *name;
	size_t nlen;
	char *where;
	enum table t;

	(void)ttl;
	switch (schema_parse_key(ls->prefix, key, &t, &rest)) {
	case SCHEMA_OUTSIDE:
	case SCHEMA_INTERNAL:
		return 0;
	case SCHEMA_UNKNOWN_TABLE:
		ls->nrules++;
		add(ls, rest, "unknown table");
		return 0;
	case SCHEMA_RULE:
		break;
	}
	ls->nrules++;
	/* Findings name a rule as redmilterctl does: "TABLE KEY". */
	name = table_name(t);
	nlen = strlen(name);
	where = xmalloc(nlen + 1 + strlen(rest) + 1);
	memcpy(where, name, nlen);
	where[nlen] = ' ';
	memcpy(where + nlen + 1, rest, strlen(rest) + 1);
	check_rule(ls, t, rest, where, val, len, type);
	free(where);
	return 0;
}

/* by_where - order findings by key, then problem */
static int
by_where(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int c = strcmp(x->where, y->where);

	return c != 0 ? c : strcmp(x->problem, y->problem);
}

/* lint_run - report every unreachable or broken rule */
enum store_status
lint_run(struct store *store, const char *prefix, lint_fn fn, void *arg,
         size_t *nrules, size_t *nproblems, char *err, size_t errlen)
{
	struct lint_state ls = {prefix, 0, NULL, 0};
	enum store_status st;
	size_t i;

	st = store->scan(store, prefix, visit, &ls, err, errlen);
	if (st == STORE_OK) {
		if (ls.n > 1)
			qsort(ls.v, ls.n, sizeof *ls.v, by_where);
		for (i = 0; i < ls.n; i++)
			fn(ls.v[i].where, ls.v[i].problem, arg);
		*nrules = ls.nrules;
		*nproblems = ls.n;
	}
	for (i = 0; i < ls.n; i++) {
		free(ls.v[i].where);
		free(ls.v[i].problem);
	}
	free(ls.v);
	return st;
}
