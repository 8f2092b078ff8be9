/*
 * policy - the decision for one recipient, or one stage, from the rules of
 * every table (redmilterctl(8), RULES, "Precedence").
 *
 * Public: policy_conf_init(), policy_eval().  See policy.h for the contract,
 * verdict.h for what it decides.
 *
 * One evaluation is three steps: the candidate keys of every table the stage
 * looks at (keys.c), one store mget() for all of them, then a walk of the
 * tables in precedence order.  Fetching keys the walk may never reach costs
 * bytes, not round trips: one round trip per decision is what a busy mail
 * server notices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "errbuf.h"
#include "greylist.h"
#include "keys.h"
#include "limit.h"
#include "policy.h"
#include "rule.h"
#include "schema.h"
#include "str.h"
#include "xmalloc.h"

#define TRAIL_VALUE_MAX 200 /* bytes of a stored value kept in the trail */
/*
 * Keys of one decision, at most.  keys.c's limits keep every request under
 * it (some 250 keys at most, at RCPT with delay_checks, an IPv6 client
 * and long names, and some 150 more for the limit ladders of a message's
 * first recipient: 400 in all for the worst case tried); it is
 * a backstop, so that no key form added later can make one envelope cost
 * the shared Redis connections what hundreds of decisions cost.  Past it
 * the decision fails as a store failure would: no rule is skipped.
 */
#define POLICY_KEYS_MAX 512

/* The lists of keys: one per table, then one per limit subject. */
#define NLISTS (TABLE_WALK + LIMIT_SUBJECTS)
#define LIST_TABLE(i) ((i) < TABLE_WALK ? (enum table)(i) : TABLE_LIMIT)

/* The tables each stage looks at when delay_checks is off. */
static const unsigned stage_tables[] = {
    [STAGE_CONNECT] = 1u << TABLE_CLIENT,
    [STAGE_HELO] = 1u << TABLE_HELO,
    [STAGE_MAIL] = 1u << TABLE_AUTH | 1u << TABLE_SENDER,
    [STAGE_RCPT] = 1u << TABLE_PAIR | 1u << TABLE_RECIPIENT,
};

/* tables_of - the set of tables a request looks at */
static unsigned
tables_of(const struct policy_conf *conf, enum policy_stage stage)
{
	if (conf->delay_checks)
		return stage == STAGE_RCPT ? (1u << TABLE_WALK) - 1 : 0;
	return stage_tables[stage];
}

/* policy_stage_tables - the tables a stage looks at (policy.h) */
unsigned
policy_stage_tables(const struct policy_conf *conf, enum policy_stage stage)
{
	return tables_of(conf, stage);
}

/* trail_add - append a step to the verdict's trail */
static void
trail_add(struct verdict *v, enum table t, enum trail_what what,
          const char *key, const struct store_value *sv, const char *note)
{
	struct trail_entry *e;

	v->trail = xgrow(v->trail, v->ntrail, sizeof *v->trail);
	e = &v->trail[v->ntrail++];
	e->table = t;
	e->what = what;
	e->key = key != NULL ? xstrdup(key) : NULL;
	e->value = sv != NULL && sv->val != NULL
	               ? str_sanitize(sv->val, sv->len, TRAIL_VALUE_MAX)
	               : NULL;
	e->note = note != NULL ? xstrdup(note) : NULL;
}

/*
 * address_keys - the keys of one address; a malformed one is in the trail,
 * and gives the keys of its domain alone
 */
static void
address_keys(struct keylist *kl, const char *text, enum table t,
             const struct policy_conf *conf, struct verdict *v)
{
	struct addr a;
	enum addr_status st;
	char why[128];

	if (text == NULL)
		return;
	st = addr_parse(text, strlen(text), &a, why, sizeof why);
	if (st == ADDR_MALFORMED) {
		char *shown = str_sanitize(text, strlen(text), 100);

		trail_add(v, t, TRAIL_MALFORMED, shown, NULL, why);
		free(shown);
		/* Its domain's rules still apply (addr.c explains why). */
		if (addr_domain_only(text, strlen(text), &a) == 0) {
			if (a.literal)
				keylist_add(kl, a.domain);
			else
				keys_domain(kl, a.domain);
		}
		return;
	}
	keys_address(kl, st, &a, conf->delims != NULL ? conf->delims : "");
}

/*
 * ladder - a subject's limit keys: "SUBJECT:KEY" for every key of keys,
 * then "SUBJECT:*" (redmilterctl(8), LIMITS)
 */
static void
ladder(struct keylist *out, enum limit_subject s, const struct keylist *keys)
{
	const char *name = limit_subject_name(s);
	size_t i, nl = strlen(name);
	char *k;

	for (i = 0; i < keys->n; i++) {
		size_t kl = strlen(keys->v[i]);

		k = xmalloc(nl + 1 + kl + 1);
		memcpy(k, name, nl);
		k[nl] = ':';
		memcpy(k + nl + 1, keys->v[i], kl + 1);
		keylist_take(out, k);
	}
	k = xmalloc(nl + 3);
	memcpy(k, name, nl);
	memcpy(k + nl, ":*", 3);
	keylist_take(out, k);
}

/*
 * build_ladders - the limit keys of the subjects asked for: a client with
 * an address, a session with a login, a sender, a recipient
 */
static void
build_ladders(const struct request *req, const struct keylist *snd,
              const struct keylist *rcpt, struct keylist *kl)
{
	struct keylist tmp;
	const char *at;

	if (req->limits & 1u << LIMIT_CLIENT && req->client_addr != NULL) {
		keylist_init(&tmp);
		keys_client(&tmp, req->client_name, req->client_addr);
		ladder(&kl[TABLE_WALK + LIMIT_CLIENT], LIMIT_CLIENT, &tmp);
		keylist_free(&tmp);
	}
	if (req->limits & 1u << LIMIT_AUTH && req->auth != NULL &&
	    *req->auth != '\0') {
		keylist_init(&tmp);
		keys_auth(&tmp, req->auth);
		if (tmp.n > 0 && (at = strrchr(tmp.v[0], '@')) != NULL &&
		    at[1] != '\0')
			keylist_add(&tmp, at);
		ladder(&kl[TABLE_WALK + LIMIT_AUTH], LIMIT_AUTH, &tmp);
		keylist_free(&tmp);
	}
	if (req->limits & 1u << LIMIT_SENDER && req->sender != NULL)
		ladder(&kl[TABLE_WALK + LIMIT_SENDER], LIMIT_SENDER, snd);
	if (req->limits & 1u << LIMIT_RECIPIENT && req->recipient != NULL)
		ladder(&kl[TABLE_WALK + LIMIT_RECIPIENT], LIMIT_RECIPIENT,
		       rcpt);
}

/* build_keys - the candidate keys of every table in the set, and ladders */
static void
build_keys(const struct policy_conf *conf, const struct request *req,
           unsigned set, struct keylist *kl, struct verdict *v)
{
	struct keylist snd, rcpt;

	keylist_init(&snd);
	keylist_init(&rcpt);
	if (set & (1u << TABLE_SENDER | 1u << TABLE_PAIR) ||
	    req->limits & 1u << LIMIT_SENDER)
		address_keys(&snd, req->sender, TABLE_SENDER, conf, v);
	if (set & (1u << TABLE_RECIPIENT | 1u << TABLE_PAIR) ||
	    req->limits & 1u << LIMIT_RECIPIENT)
		address_keys(&rcpt, req->recipient, TABLE_RECIPIENT, conf, v);
	build_ladders(req, &snd, &rcpt, kl);
	if (set & 1u << TABLE_PAIR)
		keys_pair(&kl[TABLE_PAIR], &snd, &rcpt);
	if (set & 1u << TABLE_RECIPIENT) {
		kl[TABLE_RECIPIENT] = rcpt;
		keylist_init(&rcpt);
	}
	if (set & 1u << TABLE_AUTH)
		keys_auth(&kl[TABLE_AUTH], req->auth);
	if (set & 1u << TABLE_SENDER) {
		kl[TABLE_SENDER] = snd;
		keylist_init(&snd);
	}
	if (set & 1u << TABLE_HELO)
		keys_helo(&kl[TABLE_HELO], req->helo);
	if (set & 1u << TABLE_CLIENT)
		keys_client(&kl[TABLE_CLIENT], req->client_name,
		            req->client_addr);
	keylist_free(&snd);
	keylist_free(&rcpt);
}

/*
 * store_keys - the store key of every key (schema.h), in table order, all
 * in one allocation (*arena, which the caller frees with full)
 */
static char **
store_keys(const char *prefix, const struct keylist *kl, size_t total,
           char **arena)
{
	size_t size = 0, j, off = 0, n;
	char **full = xmalloc(total * sizeof *full), *p;
	int t;

	for (t = 0; t < NLISTS; t++)
		for (j = 0; j < kl[t].n; j++)
			size += schema_rule_key_size(prefix, LIST_TABLE(t),
			                             kl[t].v[j]);
	p = *arena = xmalloc(size);
	for (t = 0; t < NLISTS; t++) {
		for (j = 0; j < kl[t].n; j++) {
			full[off++] = p;
			n = schema_rule_key_write(p, size, prefix,
			                          LIST_TABLE(t), kl[t].v[j]);
			p += n + 1;
			size -= n + 1;
		}
	}
	return full;
}

/* decide - make the verdict of a deciding rule */
static void
decide(struct verdict *v, enum table t, const char *key, struct action *act)
{
	static const enum verdict_type of[] = {
	    [ACTION_OK] = VERDICT_ACCEPT,
	    [ACTION_REPLY] = VERDICT_REPLY,
	    [ACTION_DISCARD] = VERDICT_DISCARD,
	    [ACTION_HOLD] = VERDICT_HOLD,
	};

	v->type = of[act->type];
	v->table = t;
	v->key = xstrdup(key);
	v->action = *act;
	memset(act, 0, sizeof *act);
}

/* grey_passed - a GREYLIST rule passed: why, in the trail */
static void
grey_passed(struct verdict *v, enum table t, const char *key,
            const struct store_value *sv, const struct grey_result *res)
{
	char note[128];

	if (res->state == GREY_FIRST_PASS) {
		v->grey_delayed = res->seconds;
		snprintf(note, sizeof note, "passed, delayed %lld seconds",
		         res->seconds);
	} else {
		str_copy(note,
		         res->state == GREY_CLIENT
		             ? "passed: the client's network is whitelisted"
		             : "passed before",
		         sizeof note);
	}
	trail_add(v, t, TRAIL_GREYLIST, key, sv, note);
}

/*
 * greylist - a GREYLIST rule met at RCPT: 0 when it passed (the walk goes
 * on), 1 when it decided (delayed, or the store failed)
 */
static int
greylist(const struct policy_conf *conf, const struct request *req,
         struct store *store, enum table t, const char *key,
         const struct store_value *sv, struct action *act, struct verdict *v)
{
	struct grey_triplet tr;
	struct grey_result res;
	char why[256], note[128];

	if (req->auth != NULL && *req->auth != '\0') {
		trail_add(v, t, TRAIL_GREYLIST, key, sv,
		          "not greylisted: a session with a SASL login");
		return 0;
	}
	if (greylist_triplet(&tr, req->client_addr, conf->grey_bits4,
	                     conf->grey_bits6, req->sender, req->recipient,
	                     conf->delims != NULL ? conf->delims : "", why,
	                     sizeof why) != 0) {
		snprintf(note, sizeof note, "not greylisted: %.100s", why);
		trail_add(v, t, TRAIL_GREYLIST, key, sv, note);
		return 0;
	}
	why[0] = '\0';
	if (greylist_check(store, conf->prefix, &tr,
	                   req->grey_peek ? GREY_PEEK : GREY_CHECK, act->delay,
	                   &res, why, sizeof why) != STORE_OK) {
		v->type = VERDICT_ERR_STORE;
		v->table = t;
		v->key = xstrdup(key);
		str_copy(v->err, why[0] != '\0' ? why : "greylisting failed",
		         sizeof v->err);
		return 1;
	}
	v->grey_met[res.state]++;
	if (res.state == GREY_NEW || res.state == GREY_WAIT) {
		trail_add(v, t, TRAIL_DECIDED, key, sv, NULL);
		greylist_action(act, res.seconds);
		decide(v, t, key, act);
		v->greylisted = 1;
		v->grey_seconds = res.seconds;
		return 1;
	}
	grey_passed(v, t, key, sv, &res);
	return 0;
}

/*
 * greylist_step - a GREYLIST rule met by the walk: decided at RCPT, or left
 * for it (grey_later) at an earlier stage; 1 when the walk is over
 */
static int
greylist_step(const struct policy_conf *conf, const struct request *req,
              struct store *store, enum table t, const char *key,
              const struct store_value *sv, struct action *act,
              struct verdict *v)
{
	int over = 1;

	if (req->stage != STAGE_RCPT) {
		trail_add(v, t, TRAIL_GREYLIST, key, sv, "decided at RCPT");
		v->grey_later = 1;
	} else {
		over = greylist(conf, req, store, t, key, sv, act, v);
	}
	action_free(act);
	return over;
}

/*
 * walk_table - the keys of one table in order
 *
 * Returns 1 when the walk is over (a decision or a configuration failure),
 * 0 to go on with the next table.
 */
static int
walk_table(const struct policy_conf *conf, const struct request *req,
           struct store *store, enum table t, const struct keylist *kl,
           const struct store_value *vals, struct verdict *v)
{
	struct action act;
	char why[256];
	size_t i;

	for (i = 0; i < kl->n; i++) {
		const struct store_value *sv = &vals[i];

		if (sv->status != STORE_OK) {
			if (conf->trail_notfound)
				trail_add(v, t, TRAIL_NOTFOUND, kl->v[i], NULL,
				          NULL);
			continue;
		}
		if (rule_action_parse(t, sv->val, sv->len, &act, why,
		                      sizeof why) != 0) {
			trail_add(v, t, TRAIL_BROKEN, kl->v[i], sv, why);
			if (conf->skip_broken)
				continue;
			v->type = VERDICT_ERR_CONFIG;
			v->table = t;
			v->key = xstrdup(kl->v[i]);
			str_copy(v->err, why, sizeof v->err);
			return 1;
		}
		switch (act.type) {
		case ACTION_WARN:
			trail_add(v, t, TRAIL_WARN, kl->v[i], sv, act.text);
			action_free(&act);
			continue;
		case ACTION_DUNNO:
			trail_add(v, t, TRAIL_DUNNO, kl->v[i], sv, NULL);
			return 0;
		case ACTION_GREYLIST:
			if (greylist_step(conf, req, store, t, kl->v[i], sv,
			                  &act, v))
				return 1;
			continue;
		default:
			trail_add(v, t, TRAIL_DECIDED, kl->v[i], sv, NULL);
			decide(v, t, kl->v[i], &act);
			return 1;
		}
	}
	return 0;
}

/*
 * walk_ladder - the first rule of a subject's ladder into hit; a broken one
 * is passed over with skip_broken (on_error = accept), as in the tables
 */
static void
walk_ladder(const struct policy_conf *conf, const struct keylist *kl,
            const struct store_value *vals, struct limit_hit *hit)
{
	size_t i;

	for (i = 0; i < kl->n; i++) {
		const struct store_value *sv = &vals[i];
		const char *key = strchr(kl->v[i], ':') + 1;

		if (sv->status != STORE_OK)
			continue;
		if (limit_parse(sv->val, sv->len, &hit->lim, hit->why,
		                sizeof hit->why) != 0) {
			if (conf->skip_broken)
				continue;
			hit->broken = 1;
		}
		hit->key = xstrdup(key);
		hit->value = str_sanitize(sv->val, sv->len, TRAIL_VALUE_MAX);
		return;
	}
}

/* lookup_walk - fetch every key in one mget, then walk the tables */
static void
lookup_walk(const struct policy_conf *conf, const struct request *req,
            struct keylist *kl, struct store *store, struct verdict *v)
{
	struct store_value *vals;
	char **full, *arena, err[256];
	size_t total = 0, off;
	int t;

	for (t = 0; t < NLISTS; t++)
		total += kl[t].n;
	v->keys_looked_up = total;
	if (total == 0)
		return;
	if (total > POLICY_KEYS_MAX) {
		v->type = VERDICT_ERR_STORE;
		snprintf(v->err, sizeof v->err,
		         "%zu candidate keys, more than %d", total,
		         POLICY_KEYS_MAX);
		v->keys_looked_up = 0;
		return;
	}
	full = store_keys(conf->prefix, kl, total, &arena);
	vals = xcalloc(total, sizeof *vals);
	err[0] = '\0';
	if (store->mget(store, (const char *const *)full, total, vals, err,
	                sizeof err) != STORE_OK) {
		v->type = VERDICT_ERR_STORE;
		str_copy(v->err, err[0] != '\0' ? err : "store failure",
		         sizeof v->err);
	} else {
		for (t = 0, off = 0; t < TABLE_WALK; off += kl[t].n, t++)
			if (walk_table(conf, req, store, (enum table)t, &kl[t],
			               vals + off, v))
				break;
		for (t = 0, off = 0; t < TABLE_WALK; t++)
			off += kl[t].n;
		for (; t < NLISTS; off += kl[t].n, t++)
			walk_ladder(conf, &kl[t], vals + off,
			            &v->limit[t - TABLE_WALK]);
		store_values_free(vals, total);
	}
	free(arena);
	free(full);
	free(vals);
}

/* policy_conf_init - the engine's settings, from the configuration */
void
policy_conf_init(struct policy_conf *pc, const struct conf *c)
{
	pc->prefix = c->prefix;
	pc->delims = c->recipient_delimiter;
	pc->delay_checks = c->delay_checks;
	pc->skip_broken = c->on_error == CONF_ON_ERROR_ACCEPT;
	pc->trail_notfound = 0;
	pc->grey_bits4 = 24;
	pc->grey_bits6 = 64;
	if (c->greylist_netmask != NULL)
		(void)conf_netmask(c->greylist_netmask, &pc->grey_bits4,
		                   &pc->grey_bits6);
}

/*
 * policy_eval - the decision of the rules for one request
 *
 * Returns 0 with the verdict filled in (VERDICT_NONE when no rule decided),
 * or -1 with err set when the arguments make no sense.  The caller frees the
 * verdict with verdict_free() in both cases.
 */
int
policy_eval(const struct policy_conf *conf, const struct request *req,
            struct store *store, struct verdict *v, char *err, size_t errlen)
{
	struct keylist kl[NLISTS];
	int t;

	memset(v, 0, sizeof *v);
	v->type = VERDICT_NONE;
	if (conf == NULL || conf->prefix == NULL || req == NULL ||
	    store == NULL || (unsigned)req->stage > STAGE_RCPT) {
		errbuf_set(err, errlen, "policy_eval: invalid arguments");
		return -1;
	}
	for (t = 0; t < NLISTS; t++)
		keylist_init(&kl[t]);
	v->grey_delayed = -1;
	build_keys(conf, req,
	           req->limits_only
	               ? 0
	               : tables_of(conf, req->stage) |
	                     (req->stage == STAGE_RCPT ? req->tables_extra : 0),
	           kl, v);
	lookup_walk(conf, req, kl, store, v);
	for (t = 0; t < NLISTS; t++)
		keylist_free(&kl[t]);
	return 0;
}
