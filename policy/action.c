/*
 * action - parse and validate the value of a rule (redmilterctl(8), RULES,
 * "Actions").
 *
 * See action.h.  Public: action_parse(), action_free(), action_type_name().
 *
 * The value is read as pointer and length and never past len, so a NUL
 * byte is seen and refused.  Grammar, after leading and trailing spaces and
 * tabs are dropped:
 *
 *	OK | DUNNO
 *	REJECT [X.Y.Z] [text] | DEFER [X.Y.Z] [text] | NNN [X.Y.Z] [text]
 *	DISCARD [text] | HOLD [text] | WARN text
 *	GREYLIST [DELAY] [text]
 *
 * Keywords are case-insensitive and end at a space, a tab or the end.
 * One or more spaces or tabs separate the words; the text is kept as
 * written after that separator.  A word made only of digits and dots, with
 * at least one dot, right after the code is an enhanced code (as Postfix
 * dsn_split() reads access(5) values) and must then be a valid one.
 * After GREYLIST, a word that begins with a digit is the delay, a period
 * of 1s to 1d (period.h); the text, if any, replaces the reply's text
 * and obeys the reply rules for 451 4.7.1.
 *
 * The checks of the reply itself (code class, enhanced code, line count and
 * length) are reply_build()'s, run here for every table: a rule valid in one
 * table is then valid in all, whatever enhanced code the catalogue gives.
 * Bytes are checked here first, so that a message names the byte's offset
 * in the whole value (0 is the first byte).
 *
 * Errors return -1 with a message in err; the action then owns nothing.
 * No globals but const tables; thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "action.h"
#include "period.h"
#include "str.h"
#include "xmalloc.h"

#define IS_BLANK(c) ((c) == ' ' || (c) == '\t')

/* Longest piece of the value quoted in a message. */
#define QUOTE_MAX 40

/* A piece of the value, with its offset in the value for messages. */
struct span {
	const char *p;
	size_t len;
	size_t off;
};

struct keyword;
typedef int (*keyword_parser)(const struct keyword *, struct span *,
                              struct action *, char *, size_t);

/* One keyword: its parser and what the parser needs to know. */
struct keyword {
	const char *name; /* upper case, as messages show it */
	keyword_parser parse;
	enum action_type type;
	int code;         /* REJECT, DEFER */
	const char *enh;  /* REJECT, DEFER: default enhanced code */
	const char *text; /* REJECT, DEFER: default text */
	int needs_text;   /* WARN */
};

static int parse_bare(const struct keyword *, struct span *, struct action *,
                      char *, size_t);
static int parse_fixed(const struct keyword *, struct span *, struct action *,
                       char *, size_t);
static int parse_greylist(const struct keyword *, struct span *,
                          struct action *, char *, size_t);
static int parse_logtext(const struct keyword *, struct span *, struct action *,
                         char *, size_t);

static const struct keyword keywords[] = {
    {"OK", parse_bare, ACTION_OK, 0, NULL, NULL, 0},
    {"DUNNO", parse_bare, ACTION_DUNNO, 0, NULL, NULL, 0},
    {"REJECT", parse_fixed, ACTION_REPLY, 550, "5.7.1", "Access denied", 0},
    {"DEFER", parse_fixed, ACTION_REPLY, 450, "4.7.1", "Try again later", 0},
    {"DISCARD", parse_logtext, ACTION_DISCARD, 0, NULL, NULL, 0},
    {"HOLD", parse_logtext, ACTION_HOLD, 0, NULL, NULL, 0},
    {"WARN", parse_logtext, ACTION_WARN, 0, NULL, NULL, 1},
    {"GREYLIST", parse_greylist, ACTION_GREYLIST, 0, NULL, NULL, 0},
};

static const char *const type_names[] = {
    [ACTION_OK] = "OK",
    [ACTION_DUNNO] = "DUNNO",
    [ACTION_REPLY] = "REPLY",
    [ACTION_DISCARD] = "DISCARD",
    [ACTION_HOLD] = "HOLD",
    [ACTION_WARN] = "WARN",
    [ACTION_GREYLIST] = "GREYLIST",
};

/* skip_blanks - drop leading spaces and tabs */
static void
skip_blanks(struct span *s)
{
	while (s->len > 0 && IS_BLANK(*s->p)) {
		s->p++;
		s->len--;
		s->off++;
	}
}

/* next_word - split the first word off s, and the blanks after it */
static void
next_word(struct span *s, struct span *word)
{
	size_t n = 0;

	while (n < s->len && !IS_BLANK(s->p[n]))
		n++;
	word->p = s->p;
	word->len = n;
	word->off = s->off;
	s->p += n;
	s->len -= n;
	s->off += n;
	skip_blanks(s);
}

/* check_bytes - every byte printable ASCII; the message names the first */
static int
check_bytes(const char *what, const struct span *s, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (c == '\0')
			return errbuf_set(
			    err, errlen, "%s contains a NUL byte at offset %zu",
			    what, s->off + i);
		if (c > 0x7f)
			return errbuf_set(
			    err, errlen,
			    "%s contains non-ASCII byte 0x%02x at "
			    "offset %zu",
			    what, c, s->off + i);
		if (c < 0x20 || c == 0x7f)
			return errbuf_set(
			    err, errlen,
			    "%s contains control character 0x%02x at "
			    "offset %zu",
			    what, c, s->off + i);
	}
	return 0;
}

/* quote_len - how much of a printable word to quote in a message */
static int
quote_len(const struct span *s)
{
	return s->len > QUOTE_MAX ? QUOTE_MAX : (int)s->len;
}

/* quote_more - "..." when the quote was cut */
static const char *
quote_more(const struct span *s)
{
	return s->len > QUOTE_MAX ? "..." : "";
}

/* is_enh_word - only digits and dots, at least one dot */
static int
is_enh_word(const struct span *w)
{
	size_t i, dots = 0;

	for (i = 0; i < w->len; i++) {
		if (w->p[i] == '.')
			dots++;
		else if (w->p[i] < '0' || w->p[i] > '9')
			return 0;
	}
	return dots > 0;
}

/* take_text - a copy of the printable text of s, or NULL when empty */
static int
take_text(const struct span *s, char **text, char *err, size_t errlen)
{
	*text = NULL;
	if (s->len == 0)
		return 0;
	if (check_bytes("text", s, err, errlen) < 0)
		return -1;
	*text = xmemdup(s->p, s->len);
	return 0;
}

/*
 * parse_reply_args - "[X.Y.Z] [text]" after a reply code
 *
 * The enhanced code is only copied here: reply_build() checks its syntax
 * and class, except for a word too long to be one at all.
 */
static int
parse_reply_args(struct span *args, struct action *a, char *err, size_t errlen)
{
	struct span rest = *args, w;

	next_word(&rest, &w);
	if (w.len > 0 && is_enh_word(&w)) {
		if (w.len >= sizeof a->enh)
			return errbuf_set(err, errlen,
			                  "malformed enhanced code %.*s%s",
			                  quote_len(&w), w.p, quote_more(&w));
		memcpy(a->enh, w.p, w.len);
		a->enh[w.len] = '\0';
		*args = rest;
	}
	return take_text(args, &a->text, err, errlen);
}

/* check_reply - the reply rules, for the reply of every table */
static int
check_reply(const struct action *a, char *err, size_t errlen)
{
	struct reply r;
	int t;

	for (t = 0; t < TABLE_COUNT; t++) {
		if (action_reply(a, (enum table)t, &r, err, errlen) < 0)
			return -1;
		reply_free(&r);
		/* With both given, the table changes nothing. */
		if (a->enh[0] != '\0' && a->text != NULL)
			break;
	}
	return 0;
}

/* parse_bare - OK and DUNNO: nothing may follow */
static int
parse_bare(const struct keyword *kw, struct span *args, struct action *a,
           char *err, size_t errlen)
{
	if (args->len > 0)
		return errbuf_set(err, errlen, "%s takes no text", kw->name);
	a->type = kw->type;
	return 0;
}

/* parse_fixed - REJECT and DEFER: a reply with their own defaults */
static int
parse_fixed(const struct keyword *kw, struct span *args, struct action *a,
            char *err, size_t errlen)
{
	a->type = kw->type;
	a->code = kw->code;
	if (parse_reply_args(args, a, err, errlen) < 0)
		return -1;
	if (a->enh[0] == '\0')
		(void)str_copy(a->enh, kw->enh, sizeof a->enh);
	if (a->text == NULL)
		a->text = xstrdup(kw->text);
	return check_reply(a, err, errlen);
}

/* parse_logtext - DISCARD, HOLD and WARN: a text for the log */
static int
parse_logtext(const struct keyword *kw, struct span *args, struct action *a,
              char *err, size_t errlen)
{
	a->type = kw->type;
	if (args->len == 0)
		return kw->needs_text ? errbuf_set(err, errlen,
		                                   "%s needs a text", kw->name)
		                      : 0;
	if (args->len > ACTION_LOGTEXT_MAX)
		return errbuf_set(err, errlen,
		                  "%s text is too long (%zu bytes, at most %d)",
		                  kw->name, args->len, ACTION_LOGTEXT_MAX);
	return take_text(args, &a->text, err, errlen);
}

/*
 * parse_greylist - "[DELAY] [text]": a delay that begins with a digit and
 * has its unit ("GREYLIST 300" is refused: seconds or minutes?), and a
 * text that a 451 4.7.1 reply can carry
 */
static int
parse_greylist(const struct keyword *kw, struct span *args, struct action *a,
               char *err, size_t errlen)
{
	struct span rest = *args, w;
	char ctx[QUOTE_MAX + 4];
	size_t i;

	a->type = kw->type;
	a->delay = ACTION_GREY_DELAY;
	next_word(&rest, &w);
	if (w.len > 0 && w.p[0] >= '0' && w.p[0] <= '9') {
		if (check_bytes("delay", &w, err, errlen) < 0)
			return -1;
		(void)snprintf(ctx, sizeof ctx, "%.*s%s", quote_len(&w), w.p,
		               quote_more(&w));
		for (i = 0; i < w.len && w.p[i] >= '0' && w.p[i] <= '9'; i++)
			;
		if (i == w.len)
			return errbuf_set(err, errlen,
			                  "GREYLIST: delay \"%s\" has no unit; "
			                  "write %ss or %sm",
			                  ctx, ctx, ctx);
		a->delay = period_parse(w.p, w.len, ACTION_GREY_DELAY_MAX,
		                        "GREYLIST", ctx, err, errlen);
		if (a->delay < 0)
			return -1;
		*args = rest;
	}
	if (take_text(args, &a->text, err, errlen) < 0)
		return -1;
	if (a->text != NULL) {
		struct reply r;

		if (reply_build(ACTION_GREY_CODE, a->text, TABLE_RECIPIENT, &r,
		                err, errlen) < 0)
			return -1;
		reply_free(&r);
	}
	return 0;
}

/* parse_code - "NNN [X.Y.Z] [text]" */
static int
parse_code(const struct span *w, struct span *args, struct action *a, char *err,
           size_t errlen)
{
	if (w->len != 3 || w->p[1] < '0' || w->p[1] > '9' || w->p[2] < '0' ||
	    w->p[2] > '9')
		return errbuf_set(err, errlen,
		                  "malformed reply code \"%.*s%s\"",
		                  quote_len(w), w->p, quote_more(w));
	a->type = ACTION_REPLY;
	a->code =
	    (w->p[0] - '0') * 100 + (w->p[1] - '0') * 10 + (w->p[2] - '0');
	if (parse_reply_args(args, a, err, errlen) < 0)
		return -1;
	return check_reply(a, err, errlen);
}

/* find_keyword - the keyword a word spells, in any case, or NULL */
static const struct keyword *
find_keyword(const struct span *w)
{
	size_t i;

	for (i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
		if (strlen(keywords[i].name) == w->len &&
		    strncasecmp(keywords[i].name, w->p, w->len) == 0)
			return &keywords[i];
	return NULL;
}

/* parse_value - the grammar, on a value already bounded in length */
static int
parse_value(struct span *v, struct action *a, char *err, size_t errlen)
{
	const struct keyword *kw;
	struct span w;

	skip_blanks(v);
	while (v->len > 0 && IS_BLANK(v->p[v->len - 1]))
		v->len--;
	if (v->len == 0)
		return errbuf_set(err, errlen, "empty action");
	next_word(v, &w);
	if (check_bytes("action", &w, err, errlen) < 0)
		return -1;
	if (w.p[0] >= '0' && w.p[0] <= '9')
		return parse_code(&w, v, a, err, errlen);
	if ((kw = find_keyword(&w)) == NULL)
		return errbuf_set(err, errlen, "unknown action \"%.*s%s\"",
		                  quote_len(&w), w.p, quote_more(&w));
	return kw->parse(kw, v, a, err, errlen);
}

/*
 * action_parse - parse one rule value into an action
 *
 * value is len bytes, not necessarily terminated.  Returns 0 with a filled
 * action that the caller releases with action_free(), or -1 with a
 * message in err (always terminated when errlen > 0) and a zeroed action
 * that owns nothing.
 */
int
action_parse(const char *value, size_t len, struct action *a, char *err,
             size_t errlen)
{
	struct span v;

	memset(a, 0, sizeof *a);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* Refuse a huge value before looking at any of its bytes. */
	if (len > ACTION_MAX)
		return errbuf_set(err, errlen,
		                  "action is too long (%zu bytes, at most %d)",
		                  len, ACTION_MAX);
	if (value == NULL)
		len = 0;
	v.p = value;
	v.len = len;
	v.off = 0;
	if (parse_value(&v, a, err, errlen) < 0) {
		action_free(a);
		return -1;
	}
	return 0;
}

/* action_free - release the text; a no-op on a zeroed action */
void
action_free(struct action *a)
{
	if (a == NULL)
		return;
	free(a->text);
	memset(a, 0, sizeof *a);
}

/* action_type_name - "OK", "REPLY"...; a static string, "?" if unknown */
const char *
action_type_name(enum action_type t)
{
	if ((unsigned)t >= sizeof type_names / sizeof type_names[0] ||
	    type_names[t] == NULL)
		return "?";
	return type_names[t];
}

/*
 * action_reply - the reply of a REPLY action in a table
 *
 * Returns 0 with r filled (the caller releases it with reply_free()), or -1
 * with a message in err when the action is not a reply or its reply breaks
 * a reply rule; then r holds nothing.
 */
int
action_reply(const struct action *a, enum table t, struct reply *r, char *err,
             size_t errlen)
{
	memset(r, 0, sizeof *r);
	if (a->type != ACTION_REPLY)
		return errbuf_set(err, errlen, "%s is not a reply action",
		                  action_type_name(a->type));
	return reply_build(a->code, a->enh, a->text, t, r, err, errlen);
}
