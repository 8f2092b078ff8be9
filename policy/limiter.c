/*
 * limiter - the limits of one message.  See limiter.h.
 *
 * Whether accepting one more recipient goes over a term, with C the count
 * read from Redis (this message not in it) and P the recipients this
 * message has already accepted under that counter:
 *
 *	N msgs/PERIOD    C + 1 > N    (the message counts once)
 *	N rcpts/PERIOD   C + P + 1 > N
 *	N rcpts/msg      P + 1 > N
 *
 * P is every accepted recipient for the client, login and sender, and
 * those counted under the same counter for a recipient limit (two
 * recipients of one shared rule share one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "limiter.h"
#include "str.h"
#include "xmalloc.h"

void
limiter_init(struct limiter *l)
{
	memset(l, 0, sizeof *l);
	l->rcpt_entry = -1;
}

/* drop_from - free entries i and after */
static void
drop_from(struct limiter *l, size_t i)
{
	size_t j;

	for (j = i; j < l->n; j++) {
		free(l->e[j].rule);
		free(l->e[j].value);
		free(l->e[j].key);
		limit_free(&l->e[j].lim);
	}
	l->n = i;
}

void
limiter_reset(struct limiter *l)
{
	drop_from(l, 0);
	free(l->e);
	free(l->rcpt_value);
	limiter_init(l);
}

unsigned
limiter_wants(const struct limiter *l)
{
	if (l->loaded)
		return 1u << LIMIT_RECIPIENT;
	return (1u << LIMIT_SUBJECTS) - 1;
}

/* has_rate - whether a limit has a term counted in Redis */
static int
has_rate(const struct limit *lim)
{
	size_t i;

	for (i = 0; i < lim->nterms; i++)
		if (lim->term[i].unit != LIMIT_RCPTS_PER_MSG)
			return 1;
	return 0;
}

/* subject_text - what the MTA said of a subject */
static const char *
subject_text(const struct request *req, enum limit_subject s)
{
	switch (s) {
	case LIMIT_CLIENT:
		return req->client_addr;
	case LIMIT_AUTH:
		return req->auth;
	case LIMIT_SENDER:
		return req->sender;
	default:
		return req->recipient;
	}
}

/*
 * add_entry - the entry of a subject's rule, new or (for a recipient) one
 * of this message with the same counter; its index, or -1 when the rule
 * limits nothing or the subject has no value to count.  A recipient's
 * value is kept in rcpt_value.
 */
static long
add_entry(struct limiter *l, const struct policy_conf *pc,
          const struct request *req, enum limit_subject s,
          const struct limit_hit *hit)
{
	const char *text = subject_text(req, s);
	struct limiter_entry *e;
	char *value, *key, why[128];
	size_t i;

	if (hit->key == NULL || hit->lim.none || hit->lim.nterms == 0 ||
	    text == NULL)
		return -1;
	if ((value =
	         counter_value(s, text, pc->delims != NULL ? pc->delims : "",
	                       why, sizeof why)) == NULL)
		return -1;
	key = counter_key(pc->prefix, s, hit->key, &hit->lim, value);
	if (s == LIMIT_RECIPIENT) {
		free(l->rcpt_value);
		l->rcpt_value = xstrdup(value);
	}
	for (i = l->nmsg; i < l->n; i++) {
		if (l->e[i].subject == s && strcmp(l->e[i].key, key) == 0) {
			free(value);
			free(key);
			return (long)i;
		}
	}
	l->e = xgrow(l->e, l->n, sizeof *l->e);
	e = &l->e[l->n];
	memset(e, 0, sizeof *e);
	e->subject = s;
	e->rule = xstrdup(hit->key);
	e->value = value;
	e->key = key;
	limit_copy(&e->lim, &hit->lim);
	return (long)l->n++;
}

/* broken - a broken limit rule met: the outcome says which */
static int
broken(const struct limit_hit *hit, enum limit_subject s,
       struct limiter_outcome *o)
{
	if (hit->key == NULL || !hit->broken)
		return 0;
	o->result = LIMITER_ERR_CONFIG;
	o->subject = s;
	str_copy(o->rule, hit->key, sizeof o->rule);
	str_copy(o->err, hit->why, sizeof o->err);
	return 1;
}

/* read_new - the counts of the entries from first on, in one round trip */
static int
read_new(struct limiter *l, size_t first, struct store *st,
         struct limiter_outcome *o)
{
	struct counter *c = xcalloc(l->n - first + 1, sizeof *c);
	size_t i, n = 0;
	enum store_status ret = STORE_OK;

	for (i = first; i < l->n; i++) {
		if (!has_rate(&l->e[i].lim))
			continue;
		c[n].key = l->e[i].key;
		c[n].lim = &l->e[i].lim;
		n++;
	}
	if (n > 0)
		ret = counter_read(st, c, n, o->err, sizeof o->err);
	for (i = first, n = 0; ret == STORE_OK && i < l->n; i++)
		if (has_rate(&l->e[i].lim))
			memcpy(l->e[i].count, c[n++].count,
			       sizeof l->e[i].count);
	free(c);
	if (ret == STORE_OK)
		return 0;
	o->result = LIMITER_ERR_STORE;
	return -1;
}

/* first_over - the first term of e that one more recipient goes over */
static int
first_over(const struct limiter *l, const struct limiter_entry *e,
           struct limiter_over *ov)
{
	long long p = e->subject == LIMIT_RECIPIENT ? e->pending : l->accepted;
	size_t i;

	for (i = 0; i < e->lim.nterms; i++) {
		const struct limit_term *t = &e->lim.term[i];
		long long used = t->unit == LIMIT_MSGS    ? e->count[i]
		                 : t->unit == LIMIT_RCPTS ? e->count[i] + p
		                                          : p;

		if (used + 1 > t->n) {
			ov->entry = e;
			ov->value = e->subject == LIMIT_RECIPIENT &&
			                    l->rcpt_value != NULL
			                ? l->rcpt_value
			                : e->value;
			ov->term = i;
			ov->count = used;
			return 1;
		}
	}
	return 0;
}

/* judge - the entries of this recipient, in the order of the subjects */
static void
judge(struct limiter *l, struct limiter_outcome *o)
{
	struct limiter_over ov;
	size_t i, n = l->nmsg + (l->rcpt_entry >= 0);

	for (i = 0; i < n; i++) {
		const struct limiter_entry *e =
		    &l->e[i < l->nmsg ? i : (size_t)l->rcpt_entry];

		if (!first_over(l, e, &ov))
			continue;
		if (e->lim.warn) {
			o->warn[o->nwarn++] = ov;
			continue;
		}
		if (limit_reply(&e->lim, &e->lim.term[ov.term], &o->reply,
		                o->err, sizeof o->err) != 0) {
			o->result = LIMITER_ERR_CONFIG;
			o->subject = e->subject;
			str_copy(o->rule, e->rule, sizeof o->rule);
			return;
		}
		o->result = LIMITER_REFUSE;
		o->over = ov;
		return;
	}
	o->result = o->nwarn > 0 ? LIMITER_WARN : LIMITER_PASS;
}

void
limiter_rcpt(struct limiter *l, const struct policy_conf *pc, struct store *st,
             const struct request *req, const struct verdict *v,
             struct limiter_outcome *o)
{
	size_t first = l->n;
	int s;

	memset(o, 0, sizeof *o);
	l->rcpt_entry = -1;
	if (!l->loaded) {
		for (s = 0; s < LIMIT_RECIPIENT; s++)
			if (broken(&v->limit[s], (enum limit_subject)s, o))
				return;
		for (s = 0; s < LIMIT_RECIPIENT; s++)
			(void)add_entry(l, pc, req, (enum limit_subject)s,
			                &v->limit[s]);
		l->nmsg = l->n;
	}
	if (broken(&v->limit[LIMIT_RECIPIENT], LIMIT_RECIPIENT, o)) {
		drop_from(l, first);
		if (!l->loaded)
			l->nmsg = 0;
		return;
	}
	l->rcpt_entry =
	    add_entry(l, pc, req, LIMIT_RECIPIENT, &v->limit[LIMIT_RECIPIENT]);
	if (read_new(l, first, st, o) != 0) {
		drop_from(l, first);
		if (!l->loaded)
			l->nmsg = 0;
		l->rcpt_entry = -1;
		return;
	}
	l->loaded = 1;
	judge(l, o);
}

void
limiter_accept(struct limiter *l, int checked)
{
	if (!checked)
		l->rcpt_entry = -1;
	l->accepted++;
	if (l->rcpt_entry >= 0)
		l->e[l->rcpt_entry].pending++;
}

enum store_status
limiter_commit(struct limiter *l, struct store *st, char *err, size_t errlen)
{
	struct counter *c;
	size_t i, n = 0;
	enum store_status ret = STORE_OK;

	if (l->accepted == 0 || l->n == 0)
		return STORE_OK;
	c = xcalloc(l->n, sizeof *c);
	for (i = 0; i < l->n; i++) {
		long long rcpts = i < l->nmsg ? l->accepted : l->e[i].pending;

		if (rcpts == 0 || !has_rate(&l->e[i].lim))
			continue;
		c[n].key = l->e[i].key;
		c[n].lim = &l->e[i].lim;
		c[n].msgs = 1;
		c[n].rcpts = rcpts;
		n++;
	}
	if (n > 0)
		ret = counter_add(st, c, n, err, errlen);
	free(c);
	return ret;
}

void
limiter_describe(const struct limiter_over *ov, char *buf, size_t len)
{
	char term[LIMIT_TERM_TEXT_MAX];
	char *value = str_sanitize(ov->value, strlen(ov->value), 300);

	limit_term_text(&ov->entry->lim.term[ov->term], term, sizeof term);
	(void)snprintf(buf, len, "%s %s: %s, %lld counted",
	               limit_subject_name(ov->entry->subject), value, term,
	               ov->count);
	free(value);
}

void
limiter_outcome_free(struct limiter_outcome *o)
{
	reply_free(&o->reply);
}
