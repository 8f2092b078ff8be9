/*
 * fuzz_limit - libFuzzer target for limit_parse(), the value of a limit
 * rule, and for the key of one (rule_key_check() of the limit table).
 *
 * Feeds raw bytes to limit_parse().  For a value it accepts: none has no
 * terms and nothing else; otherwise 1 to LIMIT_TERMS_MAX terms, each N in
 * 1..LIMIT_N_MAX and its period in 1 s..30 d (0 for rcpts/msg); each term
 * written back by limit_term_text() parses to the same term; every term's
 * refusal reply builds, is 4xx or 5xx, and its lines are printable; a WARN
 * rule has no reply.  The same bytes, up to a NUL, are also a limit key,
 * which, accepted, holds no blank or control byte (8-bit bytes are allowed,
 * as in every key) and is bounded.
 * Any broken invariant calls abort(), so the fuzzer reports the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "reply.h"
#include "rule.h"

#define ERRLEN 256

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int ok, const char *what)
{
	if (!ok) {
		(void)fprintf(stderr, "fuzz_limit: invariant broken: %s\n",
		              what);
		abort();
	}
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* no_blank - no space, control character or DEL (8-bit bytes may be) */
static int
no_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* check_term - in range, and written back it reads the same */
static void
check_term(const struct limit_term *t)
{
	char text[LIMIT_TERM_TEXT_MAX], err[ERRLEN];
	struct limit back;

	check(t->n >= 1 && t->n <= LIMIT_N_MAX, "N in range");
	if (t->unit == LIMIT_RCPTS_PER_MSG)
		check(t->period == 0, "rcpts/msg has no period");
	else
		check(t->period >= 1 && t->period <= LIMIT_PERIOD_MAX,
		      "period from 1 s to 30 d");
	limit_term_text(t, text, sizeof text);
	check(limit_parse(text, strlen(text), &back, err, sizeof err) == 0,
	      "a term's text parses");
	check(back.nterms == 1 && back.term[0].unit == t->unit &&
	          back.term[0].n == t->n && back.term[0].period == t->period,
	      "a term's text is the term");
	check(!back.shared && !back.warn && back.reply.type != ACTION_REPLY,
	      "a term's text is nothing more");
	limit_free(&back);
}

/* check_reply - the refusal of a term builds and can be sent */
static void
check_reply(const struct limit *l, const struct limit_term *t)
{
	struct reply r;
	char err[ERRLEN];
	size_t i;

	check(limit_reply(l, t, &r, err, sizeof err) == 0, "the reply builds");
	check(r.code[0] == '4' || r.code[0] == '5', "4xx or 5xx");
	check(r.enh[0] == r.code[0], "enhanced code of the code's class");
	check(r.nlines >= 1 && r.nlines <= REPLY_LINES_MAX, "1 to 32 lines");
	for (i = 0; i < r.nlines; i++)
		check(printable(r.lines[i]), "printable lines");
	reply_free(&r);
}

static void
check_limit(const struct limit *l)
{
	size_t i;

	if (l->none) {
		check(l->nterms == 0 && !l->shared && !l->warn &&
		          l->reply.type != ACTION_REPLY,
		      "none is alone");
		return;
	}
	check(l->nterms >= 1 && l->nterms <= LIMIT_TERMS_MAX, "1 to 8 terms");
	check(!(l->warn && l->reply.type == ACTION_REPLY), "WARN or a reply");
	if (l->warn_text != NULL)
		check(l->warn && printable(l->warn_text), "WARN's text");
	for (i = 0; i < l->nterms; i++) {
		check_term(&l->term[i]);
		check_reply(l, &l->term[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERRLEN], key[RULE_KEY_MAX + 64], *s;
	struct limit l;

	err[0] = '\0';
	if (limit_parse((const char *)data, size, &l, err, sizeof err) == 0) {
		check_limit(&l);
		limit_free(&l);
	} else {
		check(strncmp(err, "limit: ", 7) == 0 && printable(err),
		      "a refusal says limit: and is printable");
	}
	s = malloc(size + 1);
	check(s != NULL, "memory");
	memcpy(s, data, size);
	s[size] = '\0';
	if (rule_key_check(TABLE_LIMIT, s, key, sizeof key, err, sizeof err) ==
	    0)
		check(strlen(key) <= RULE_KEY_MAX + 16 && no_blank(key) &&
		          strchr(key, ':') != NULL,
		      "a limit key has no blank, a colon, and is bounded");
	free(s);
	return 0;
}
