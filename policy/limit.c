/*
 * limit - the value of a limit rule.  See limit.h for the grammar.
 *
 * The value is read as pointer and length, never past len.  Words are
 * separated by spaces or tabs; a term's number and unit may be written
 * together ("100msgs/1h"), and the comma after a term may have blanks on
 * either side.  The reply after the terms is read by action_parse(), so a
 * limit's reply obeys the reply rules of every other rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "limit.h"
#include "period.h"
#include "str.h"
#include "xmalloc.h"

#define IS_BLANK(c) ((c) == ' ' || (c) == '\t')
#define QUOTE_MAX 40

static const char *const subject_names[LIMIT_SUBJECTS] = {
    [LIMIT_CLIENT] = "client",
    [LIMIT_AUTH] = "auth",
    [LIMIT_SENDER] = "sender",
    [LIMIT_RECIPIENT] = "recipient",
};

static const enum table subject_tables[LIMIT_SUBJECTS] = {
    [LIMIT_CLIENT] = TABLE_CLIENT,
    [LIMIT_AUTH] = TABLE_AUTH,
    [LIMIT_SENDER] = TABLE_SENDER,
    [LIMIT_RECIPIENT] = TABLE_RECIPIENT,
};

/* What is left of the value. */
struct cursor {
	const char *p;
	size_t len;
};

static void
skip_blanks(struct cursor *c)
{
	while (c->len > 0 && IS_BLANK(*c->p))
		c->p++, c->len--;
}

/* word - the next run of bytes up to a blank, a comma or the end */
static size_t
word(const struct cursor *c)
{
	size_t n = 0;

	while (n < c->len && !IS_BLANK(c->p[n]) && c->p[n] != ',')
		n++;
	return n;
}

/* is_word - whether the next word is w, case-insensitively */
static int
is_word(const struct cursor *c, const char *w)
{
	size_t n = word(c), wl = strlen(w);

	return n == wl && strncasecmp(c->p, w, n) == 0;
}

/* quoted - a piece of the value fit for a message (printable, short) */
static void
quoted(const char *p, size_t n, char *out, size_t outlen)
{
	char *s = str_sanitize(p, n, QUOTE_MAX);

	str_copy(out, s, outlen);
	free(s);
}

/* number - digits as a long long; -1 when there are none, -2 when huge */
static long long
number(struct cursor *c)
{
	long long v = 0;
	size_t n = 0;

	while (n < c->len && c->p[n] >= '0' && c->p[n] <= '9') {
		if (v > LIMIT_N_MAX * 10)
			v = LIMIT_N_MAX * 10 + 1; /* stays huge, never wraps */
		else
			v = v * 10 + (c->p[n] - '0');
		n++;
	}
	if (n == 0)
		return -1;
	c->p += n, c->len -= n;
	return v > LIMIT_N_MAX * 10 ? -2 : v;
}

/* parse_term - "N msgs/PERIOD", "N rcpts/PERIOD" or "N rcpts/msg" */
static int
parse_term(struct cursor *c, struct limit_term *t, char *err, size_t errlen)
{
	char q[QUOTE_MAX + 8];
	const char *slash;
	long long n;
	size_t w, kl;

	if ((n = number(c)) == -1) {
		quoted(c->p, word(c), q, sizeof q);
		return errbuf_set(err, errlen,
		                  "limit: expected a number, as in \"100 "
		                  "msgs/1h\", not \"%s\"",
		                  q);
	}
	if (n == 0)
		return errbuf_set(err, errlen,
		                  "limit: a limit of 0 lets nothing through; "
		                  "write a REJECT rule instead");
	if (n < 0 || n > LIMIT_N_MAX)
		return errbuf_set(err, errlen, "limit: more than %lld",
		                  LIMIT_N_MAX);
	skip_blanks(c);
	w = word(c);
	quoted(c->p, w, q, sizeof q);
	slash = memchr(c->p, '/', w);
	kl = slash != NULL ? (size_t)(slash - c->p) : w;
	t->n = n;
	if (slash != NULL && kl == 4 && strncasecmp(c->p, "msgs", 4) == 0)
		t->unit = LIMIT_MSGS;
	else if (slash != NULL && kl == 5 && strncasecmp(c->p, "rcpts", 5) == 0)
		t->unit = LIMIT_RCPTS;
	else
		return errbuf_set(err, errlen,
		                  "limit: unknown unit \"%s\"; expected "
		                  "msgs/PERIOD, rcpts/PERIOD or rcpts/msg",
		                  q);
	slash++;
	if (t->unit == LIMIT_RCPTS && w - kl - 1 == 3 &&
	    strncasecmp(slash, "msg", 3) == 0) {
		t->unit = LIMIT_RCPTS_PER_MSG;
		t->period = 0;
	} else if ((t->period =
	                period_parse(slash, w - kl - 1, LIMIT_PERIOD_MAX,
	                             "limit", q, err, errlen)) < 0) {
		return -1;
	}
	c->p += w, c->len -= w;
	return 0;
}

/* parse_reply - what follows the terms: a reply, or WARN [text] */
static int
parse_reply(struct cursor *c, struct limit *l, char *err, size_t errlen)
{
	char why[256], q[QUOTE_MAX + 8];

	if (is_word(c, "warn")) {
		size_t w = word(c);

		if (w < c->len && c->p[w] == ',')
			goto bad;
		l->warn = 1;
		/* WARN's text obeys what every WARN rule's does. */
		if (c->len > w) {
			if (action_parse(c->p, c->len, &l->reply, why,
			                 sizeof why) != 0)
				return errbuf_set(err, errlen, "limit: %s",
				                  why);
			l->warn_text = l->reply.text;
			memset(&l->reply, 0, sizeof l->reply);
		}
		return 0;
	}
	if (c->len > 0 && *c->p == ',')
		goto bad;
	if (action_parse(c->p, c->len, &l->reply, why, sizeof why) != 0)
		return errbuf_set(err, errlen, "limit: %s", why);
	if (l->reply.type == ACTION_REPLY)
		return 0;
	action_free(&l->reply);
bad:
	quoted(c->p, word(c) > 0 ? word(c) : c->len, q, sizeof q);
	return errbuf_set(err, errlen,
	                  "limit: expected a reply (REJECT, DEFER or NNN) or "
	                  "WARN after the terms, not \"%s\"",
	                  q);
}

/* parse - the whole value; the caller frees l on failure */
static int
parse(struct cursor *c, struct limit *l, char *err, size_t errlen)
{
	skip_blanks(c);
	while (c->len > 0 && IS_BLANK(c->p[c->len - 1]))
		c->len--;
	if (c->len == 0)
		return errbuf_set(err, errlen, "limit: empty value");
	if (memchr(c->p, '\0', c->len) != NULL)
		return errbuf_set(err, errlen, "limit: NUL byte in the value");
	if (is_word(c, "none")) {
		l->none = 1;
		if (c->len > 4)
			return errbuf_set(err, errlen,
			                  "limit: nothing may follow \"none\"");
		return 0;
	}
	for (;;) {
		if (l->nterms == LIMIT_TERMS_MAX)
			return errbuf_set(err, errlen,
			                  "limit: more than %d terms",
			                  LIMIT_TERMS_MAX);
		if (parse_term(c, &l->term[l->nterms], err, errlen) != 0)
			return -1;
		l->nterms++;
		skip_blanks(c);
		if (c->len == 0 || *c->p != ',')
			break;
		c->p++, c->len--;
		skip_blanks(c);
	}
	if (is_word(c, "shared")) {
		l->shared = 1;
		c->p += 6, c->len -= 6;
		skip_blanks(c);
	}
	if (c->len == 0)
		return 0;
	return parse_reply(c, l, err, errlen);
}

/* limit_parse - a stored value as a limit */
int
limit_parse(const char *val, size_t len, struct limit *l, char *err,
            size_t errlen)
{
	struct cursor c = {val, val != NULL ? len : 0};

	memset(l, 0, sizeof *l);
	if (len > ACTION_MAX)
		return errbuf_set(err, errlen,
		                  "limit: too long (%zu bytes, at most %d)",
		                  len, ACTION_MAX);
	if (parse(&c, l, err, errlen) != 0) {
		limit_free(l);
		return -1;
	}
	return 0;
}

/* limit_free - what a limit owns */
void
limit_free(struct limit *l)
{
	if (l == NULL)
		return;
	action_free(&l->reply);
	free(l->warn_text);
	memset(l, 0, sizeof *l);
}

/* limit_copy - dst a deep copy of src (dst is overwritten, not freed) */
void
limit_copy(struct limit *dst, const struct limit *src)
{
	*dst = *src;
	dst->reply.text =
	    src->reply.text != NULL ? xstrdup(src->reply.text) : NULL;
	dst->warn_text =
	    src->warn_text != NULL ? xstrdup(src->warn_text) : NULL;
}

const char *
limit_subject_name(enum limit_subject s)
{
	return (unsigned)s < LIMIT_SUBJECTS ? subject_names[s] : "?";
}

/* limit_subject_from_name - case-insensitive; -1 when unknown */
int
limit_subject_from_name(const char *name, size_t len)
{
	int s;

	for (s = 0; s < LIMIT_SUBJECTS; s++)
		if (strlen(subject_names[s]) == len &&
		    strncasecmp(subject_names[s], name, len) == 0)
			return s;
	return -1;
}

enum table
limit_subject_table(enum limit_subject s)
{
	return subject_tables[(unsigned)s < LIMIT_SUBJECTS ? s : 0];
}

/* limit_term_text - "3 msgs/4s", "100 rcpts/1h", "50 rcpts/msg" */
void
limit_term_text(const struct limit_term *t, char *buf, size_t len)
{
	char p[PERIOD_TEXT_MAX];

	if (t->unit == LIMIT_RCPTS_PER_MSG) {
		(void)snprintf(buf, len, "%lld rcpts/msg", t->n);
		return;
	}
	period_text(t->period, p, sizeof p);
	(void)snprintf(buf, len, "%lld %s/%s", t->n,
	               t->unit == LIMIT_MSGS ? "msgs" : "rcpts", p);
}

/* limit_reply - the rule's reply, or the default of the term's kind */
int
limit_reply(const struct limit *l, const struct limit_term *t, struct reply *r,
            char *err, size_t errlen)
{
	if (l->reply.type == ACTION_REPLY)
		return action_reply(&l->reply, TABLE_LIMIT, r, err, errlen);
	if (t->unit == LIMIT_RCPTS_PER_MSG)
		return reply_build(LIMIT_RCPTS_REPLY, TABLE_LIMIT, r, err,
		                   errlen);
	return reply_build(LIMIT_RATE_REPLY, TABLE_LIMIT, r, err, errlen);
}
