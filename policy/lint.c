/*
 * lint - check every stored rule under a prefix.  See lint.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"
#include "rule.h"
#include "table.h"
#include "util.h"

struct finding {
	char *where;
	char *problem;
};

struct lint_state {
	const char *prefix;
	size_t plen;
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
check_rule(struct lint_state *ls, int t, const char *key, const char *where,
           const char *val, size_t len, const char *type)
{
	char folded[RULE_KEY_MAX + 1], why[256], msg[320];

	if (type != NULL) {
		snprintf(msg, sizeof msg,
		         "a Redis %s, not a string: lookups never see it",
		         type);
		add(ls, where, msg);
	} else if (rule_action_parse((enum table)t, val, len, NULL, why,
	                             sizeof why) != 0) {
		add(ls, where, why);
	}
	if (has_upper(key))
		add(ls, where, "upper-case letters: no lookup can reach it");
	else if (rule_key_check((enum table)t, key, folded, sizeof folded, why,
	                        sizeof why) != 0)
		add(ls, where, why);
}

/* visit - scan callback: one key under the prefix */
static int
visit(const char *key, const char *val, size_t len, long long ttl,
      const char *type, void *arg)
{
	struct lint_state *ls = arg;
	const char *rest = key + ls->plen, *colon;
	char name[16], *where;
	int t = -1;

	(void)ttl;
	if (strncmp(key, ls->prefix, ls->plen) != 0 || *rest == '_')
		return 0;
	ls->nrules++;
	colon = strchr(rest, ':');
	if (colon != NULL && (size_t)(colon - rest) < sizeof name) {
		memcpy(name, rest, (size_t)(colon - rest));
		name[colon - rest] = '\0';
		t = table_from_name(name);
	}
	if (t < 0) {
		add(ls, rest, "unknown table");
		return 0;
	}
	where = xstrdup(rest);
	where[colon - rest] = ' ';
	check_rule(ls, t, colon + 1, where, val, len, type);
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
	struct lint_state ls = {prefix, strlen(prefix), 0, NULL, 0};
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
