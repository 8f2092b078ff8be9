/*
 * fuzz_action - libFuzzer target for action_parse() and the reply renderings.
 *
 * Feeds raw bytes to action_parse().  For a REPLY action it builds the reply
 * of every table and checks what libmilter and the SMTP client would get;
 * for the others, the log text.  Any broken invariant calls abort(), so the
 * fuzzer reports it with the input.  Build:
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ipolicy \
 *	    policy/{action,catalogue,reply,util,table}.c \
 *	    tests/fuzz/fuzz_action.c -o fuzz_action
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "greylist.h"
#include "reply.h"
#include "table.h"

#define ERRLEN 256
#define MILTER_LINE_MAX 980 /* smfi_setreply() refuses longer texts */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - abort when an invariant does not hold */
static void
check(int ok, const char *what)
{
	if (!ok) {
		(void)fprintf(stderr, "fuzz_action: invariant broken: %s\n",
		              what);
		abort();
	}
}

/* printable - every byte of s is printable ASCII */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* check_milter_line - doubled '%', printable, short enough to be sent */
static void
check_milter_line(const struct reply *r, size_t i)
{
	char *m = reply_milter_line(r, i);
	size_t j, k, len;

	check(m != NULL, "milter line exists");
	len = strlen(m);
	check(printable(m), "milter line printable");
	check(len <= MILTER_LINE_MAX, "milter line within 980");
	check(4 + strlen(r->enh) + 1 + len + 2 <= REPLY_LINE_MAX,
	      "line as sent within 512 octets");
	/* Undoubling gives the line back: no lone '%' reaches libmilter. */
	for (j = 0, k = 0; m[j] != '\0'; j++, k++) {
		if (m[j] == '%') {
			check(m[j + 1] == '%', "every % doubled");
			j++;
		}
		check(r->lines[i][k] == m[j], "milter line is the line");
	}
	check(r->lines[i][k] == '\0', "milter line has the whole line");
	free(m);
}

/* check_smtp - the reply as the client sees it, line by line */
static void
check_smtp(const struct reply *r)
{
	char *s = reply_smtp(r), *p, *eol;
	size_t i, n;

	check(s != NULL, "smtp reply exists");
	for (i = 0, p = s; i < r->nlines; i++, p = eol + 2) {
		eol = strstr(p, "\r\n");
		check((eol == NULL) == (i + 1 == r->nlines), "CR LF between");
		n = eol != NULL ? (size_t)(eol - p) : strlen(p);
		check(n >= 5 + strlen(r->enh) && memcmp(p, r->code, 3) == 0,
		      "line starts with the code");
		check(p[3] == (i + 1 < r->nlines ? '-' : ' '), "continuation");
		check(memcmp(p + 4, r->enh, strlen(r->enh)) == 0, "enh");
		check(strlen(r->lines[i]) == n - 5 - strlen(r->enh) &&
		          memcmp(p + 5 + strlen(r->enh), r->lines[i],
		                 n - 5 - strlen(r->enh)) == 0,
		      "text as written");
		if (eol == NULL)
			break;
	}
	/* CR and LF appear only in the separators. */
	for (n = 0, p = s; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			n++;
	check(n == 2 * (r->nlines - 1), "no CR or LF but separators");
	free(s);
}

/* check_reply - the reply of a REPLY action in every table */
static void
check_reply(const struct action *a)
{
	struct reply r;
	char err[ERRLEN];
	size_t i;
	int t;

	check(a->code >= 400 && a->code <= 559 && a->code / 10 % 10 <= 5,
	      "code 4xx or 5xx, second digit 0-5");
	for (t = 0; t < TABLE_COUNT; t++) {
		check(action_reply(a, (enum table)t, &r, err, sizeof err) == 0,
		      "a parsed rule builds in every table");
		check(strlen(r.code) == 3 && r.code[0] - '0' == a->code / 100,
		      "code string");
		check(r.enh[0] == r.code[0] && r.enh[1] == '.',
		      "enh class is the code's first digit");
		check(r.nlines >= 1 && r.nlines <= REPLY_LINES_MAX,
		      "1 to 32 lines");
		for (i = 0; i < r.nlines; i++) {
			check(printable(r.lines[i]), "line printable");
			check_milter_line(&r, i);
		}
		check(reply_milter_line(&r, r.nlines) == NULL, "past the end");
		check_smtp(&r);
		reply_free(&r);
	}
}

/* check_roundtrip - the action written back parses to the same action */
static void
check_roundtrip(const struct action *a)
{
	size_t len = 32 + (a->text != NULL ? strlen(a->text) : 0);
	char *s = malloc(len), err[ERRLEN];
	struct action b;
	int n;

	check(s != NULL, "malloc");
	n = snprintf(s, len, "%d %s %s", a->code, a->enh,
	             a->text != NULL ? a->text : "");
	check(n > 0 && (size_t)n < len, "snprintf");
	check(action_parse(s, (size_t)n, &b, err, sizeof err) == 0,
	      "written back parses");
	check(b.type == ACTION_REPLY && b.code == a->code &&
	          strcmp(b.enh, a->enh) == 0,
	      "same code and enh");
	check((a->text == NULL) == (b.text == NULL) &&
	          (a->text == NULL || strcmp(a->text, b.text) == 0),
	      "same text");
	action_free(&b);
	free(s);
}

/* LLVMFuzzerTestOneInput - one input: parse, render, check */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct action a;
	char err[ERRLEN];
	int rc;

	memset(err, 'z', sizeof err);
	rc = action_parse((const char *)data, size, &a, err, sizeof err);
	check(rc == 0 || rc == -1, "0 or -1");
	check(memchr(err, '\0', sizeof err) != NULL, "err terminated");
	if (rc < 0) {
		check(err[0] != '\0', "a refusal says why");
		check(a.text == NULL && a.enh[0] == '\0', "nothing owned");
		return 0;
	}
	check(err[0] == '\0', "no message on success");
	check(a.text == NULL || (printable(a.text) && a.text[0] != ' ' &&
	                         a.text[strlen(a.text) - 1] != ' '),
	      "text printable and trimmed");
	if (a.type == ACTION_REPLY) {
		check(a.enh[0] == '\0' || a.enh[0] - '0' == a.code / 100,
		      "enh class");
		check_reply(&a);
		check_roundtrip(&a);
	} else if (a.type == ACTION_GREYLIST) {
		check(a.delay >= 1 && a.delay <= ACTION_GREY_DELAY_MAX,
		      "GREYLIST delay 1s to 1d");
		greylist_action(&a, a.delay);
		check(a.type == ACTION_REPLY && a.code == 451 &&
		          strcmp(a.enh, "4.7.1") == 0,
		      "GREYLIST answers 451 4.7.1");
		check_reply(&a);
	} else {
		check(a.type != ACTION_WARN || a.text != NULL, "WARN has text");
		check((a.type != ACTION_OK && a.type != ACTION_DUNNO) ||
		          a.text == NULL,
		      "OK and DUNNO have no text");
		check(a.text == NULL || strlen(a.text) <= ACTION_LOGTEXT_MAX,
		      "log text within 512");
	}
	action_free(&a);
	return 0;
}
