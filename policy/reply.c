/*
 * reply - the SMTP reply of a rule, ready for libmilter and for people.
 *
 * See reply.h.  Public: reply_build(), reply_free(), reply_milter_line(),
 * reply_smtp(), reply_is_temporary().
 *
 * reply_build() is where the reply rules live (redmilterctl(8), RULES,
 * "Actions"): the code is 4xx
 * or 5xx with a second digit 0-5, the enhanced code is class.subject.detail
 * with the code's class, the text is printable ASCII, the two characters
 * backslash and n split it into at most REPLY_LINES_MAX lines, and each
 * line as sent ("550-5.1.1 " + text with '%' doubled + CR LF) fits in
 * REPLY_LINE_MAX octets.  action_parse() relies on it for those checks.
 * A built reply owns its lines; reply_free() releases them.  Returned
 * strings are malloc'd and the caller frees them.  No globals; thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "catalogue.h"
#include "reply.h"
#include "str.h"
#include "xmalloc.h"

/* The separator of reply lines: a backslash and an 'n', not a newline. */
#define LINE_SEP "\\n"
#define LINE_SEP_LEN 2

/* check_code - a reply code the milter may send */
static int
check_code(int code, char *err, size_t errlen)
{
	int first = code / 100, second = code / 10 % 10;

	if (code < 0 || code > 999)
		return errbuf_set(err, errlen,
		                  "reply code %d is not three digits", code);
	if (first == 2 || first == 3)
		return errbuf_set(
		    err, errlen,
		    "reply code %03d is not 4xx or 5xx: acceptance is OK",
		    code);
	if (first != 4 && first != 5)
		return errbuf_set(err, errlen,
		                  "reply code %03d is not 4xx or 5xx", code);
	if (second > 5)
		return errbuf_set(
		    err, errlen,
		    "reply code %03d is invalid: its second digit must "
		    "be 0 to 5",
		    code);
	return 0;
}

/* enh_syntax_ok - "class.subject.detail", 1 to 3 digits each */
static int
enh_syntax_ok(const char *enh)
{
	int part, digits;
	const char *p = enh;

	for (part = 0; part < 3; part++) {
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits < 1 || digits > 3)
			return 0;
		if (part < 2 && *p++ != '.')
			return 0;
	}
	return *p == '\0';
}

/* check_enh - a well-formed enhanced code of the code's class */
static int
check_enh(const char *enh, int code, char *err, size_t errlen)
{
	if (memchr(enh, '\0', REPLY_ENH_MAX) == NULL ||
	    !str_printable(enh, strlen(enh)))
		return errbuf_set(err, errlen, "malformed enhanced code");
	if (!enh_syntax_ok(enh))
		return errbuf_set(err, errlen, "malformed enhanced code %s",
		                  enh);
	/* The class is one digit: "55.1.1" does not match 550. */
	if (enh[1] != '.' || enh[0] - '0' != code / 100)
		return errbuf_set(
		    err, errlen,
		    "enhanced code %s does not match reply code %d", enh, code);
	return 0;
}

/* check_text - printable ASCII only; offsets count from the text's start */
static int
check_text(const char *text, char *err, size_t errlen)
{
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		size_t off = (size_t)(p - (const unsigned char *)text);

		if (*p > 0x7f)
			return errbuf_set(
			    err, errlen,
			    "text contains non-ASCII byte 0x%02x at "
			    "offset %zu",
			    *p, off);
		if (*p < 0x20 || *p == 0x7f)
			return errbuf_set(
			    err, errlen,
			    "text contains control character 0x%02x at "
			    "offset %zu",
			    *p, off);
	}
	return 0;
}

/* count_lines - the number of lines of a text, separated by LINE_SEP */
static size_t
count_lines(const char *text)
{
	size_t n = 1;
	const char *p;

	for (p = text; (p = strstr(p, LINE_SEP)) != NULL; p += LINE_SEP_LEN)
		n++;
	return n;
}

/* sent_length - octets of one line as sent: code, enh, text, CR LF */
static size_t
sent_length(size_t enhlen, const char *line, size_t len)
{
	size_t i, n = 3 + 1 + enhlen + 1 + len + 2;

	for (i = 0; i < len; i++)
		if (line[i] == '%')
			n++;
	return n;
}

/* check_lines - the line count and every line's length as sent */
static int
check_lines(const char *text, size_t enhlen, char *err, size_t errlen)
{
	size_t n = count_lines(text), i;
	const char *p = text, *q;

	if (n > REPLY_LINES_MAX)
		return errbuf_set(err, errlen,
		                  "reply has %zu lines, at most %d", n,
		                  REPLY_LINES_MAX);
	for (i = 1; i <= n; i++, p = q + LINE_SEP_LEN) {
		size_t sent;

		if ((q = strstr(p, LINE_SEP)) == NULL)
			q = p + strlen(p);
		sent = sent_length(enhlen, p, (size_t)(q - p));
		if (sent > REPLY_LINE_MAX)
			return errbuf_set(
			    err, errlen,
			    "reply line %zu is too long (%zu octets as "
			    "sent with %% doubled, at most %d)",
			    i, sent, REPLY_LINE_MAX);
	}
	return 0;
}

/* split_lines - copy the lines of a checked text into the reply */
static void
split_lines(const char *text, struct reply *r)
{
	size_t n = count_lines(text), i;
	const char *p = text, *q;

	r->lines = xcalloc(n, sizeof *r->lines);
	for (i = 0; i < n; i++, p = q + LINE_SEP_LEN) {
		if ((q = strstr(p, LINE_SEP)) == NULL)
			q = p + strlen(p);
		r->lines[i] = xmemdup(p, (size_t)(q - p));
	}
	r->nlines = n;
}

/*
 * reply_build - the reply of a code in a table
 *
 * Fills r, taking the enhanced code and the text from the catalogue when
 * enh is empty (or NULL) or text is NULL.  Returns 0, or -1 with a message
 * in err when the reply breaks a reply rule; then r holds nothing to free.
 * On success the caller releases r with reply_free().
 */
int
reply_build(int code, const char *enh, const char *text, enum table t,
            struct reply *r, char *err, size_t errlen)
{
	char e[REPLY_ENH_MAX];
	const char *dtext;
	int n;

	memset(r, 0, sizeof *r);
	if ((unsigned)t >= TABLE_COUNT)
		return errbuf_set(err, errlen, "unknown table %d", (int)t);
	if (check_code(code, err, errlen) < 0)
		return -1;
	catalogue_lookup(code, t, e, sizeof e, &dtext);
	if (enh != NULL && enh[0] != '\0') {
		if (check_enh(enh, code, err, errlen) < 0)
			return -1;
		(void)str_copy(e, enh, sizeof e);
	}
	if (text == NULL)
		text = dtext;
	if (check_text(text, err, errlen) < 0 ||
	    check_lines(text, strlen(e), err, errlen) < 0)
		return -1;
	n = snprintf(r->code, sizeof r->code, "%d", code);
	if (n < 0 || (size_t)n >= sizeof r->code)
		return errbuf_set(err, errlen,
		                  "reply code %d is not three digits", code);
	(void)str_copy(r->enh, e, sizeof r->enh);
	split_lines(text, r);
	return 0;
}

/* reply_free - release the lines; a no-op on a zeroed reply */
void
reply_free(struct reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; r->lines != NULL && i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof *r);
}

/*
 * reply_milter_line - line i with every '%' doubled, for smfi_setreply()
 *
 * Returns a malloc'd string that the caller frees, or NULL when the reply
 * has no line i.
 */
char *
reply_milter_line(const struct reply *r, size_t i)
{
	const char *s, *p;
	char *out, *o;
	size_t n;

	if (r == NULL || r->lines == NULL || i >= r->nlines)
		return NULL;
	s = r->lines[i];
	for (n = 0, p = s; *p != '\0'; p++)
		n += *p == '%' ? 2 : 1;
	o = out = xmalloc(n + 1);
	for (p = s; *p != '\0'; p++) {
		*o++ = *p;
		if (*p == '%')
			*o++ = '%';
	}
	*o = '\0';
	return out;
}

/*
 * reply_smtp - the reply as the SMTP client sees it through Postfix
 *
 * "550-5.1.1 one\r\n550 5.1.1 two": lines joined with CR LF, no final
 * CR LF, '%' single.  Returns a malloc'd string that the caller frees, or
 * NULL for a reply without lines (a zeroed one).
 */
char *
reply_smtp(const struct reply *r)
{
	size_t i, n = 0, enhlen;
	char *out, *o;

	if (r == NULL || r->lines == NULL || r->nlines == 0)
		return NULL;
	enhlen = strlen(r->enh);
	/* Lines are bounded by REPLY_LINE_MAX, so this cannot overflow. */
	for (i = 0; i < r->nlines; i++)
		n += 3 + 1 + enhlen + 1 + strlen(r->lines[i]) + 2;
	o = out = xmalloc(n + 1);
	for (i = 0; i < r->nlines; i++) {
		memcpy(o, r->code, 3);
		o[3] = i + 1 < r->nlines ? '-' : ' ';
		memcpy(o + 4, r->enh, enhlen);
		o[4 + enhlen] = ' ';
		o += 4 + enhlen + 1;
		size_t len = strlen(r->lines[i]);

		memcpy(o, r->lines[i], len);
		o += len;
		if (i + 1 < r->nlines) {
			memcpy(o, "\r\n", 2);
			o += 2;
		}
	}
	*o = '\0';
	return out;
}

/* reply_is_temporary - non-zero for a 4xx reply */
int
reply_is_temporary(const struct reply *r)
{
	return r->code[0] == '4';
}
