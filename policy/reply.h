/*
 * reply - the SMTP reply of a rule, ready for libmilter and for people.
 *
 * reply_build() makes the reply of a code, with an enhanced code and a text
 * when the rule gave them and the catalogue defaults for its table when it
 * did not, and splits the text on the two characters "\n".  It knows
 * nothing of rules: action_reply() builds the reply of a parsed action.  Two
 * renderings exist: reply_milter_line() gives line i with every '%' doubled, as
 * smfi_setreply()/smfi_setmlreply() need it so that the SMTP client sees
 * the rule's text exactly; reply_smtp() writes the whole reply as the SMTP
 * client sees it through Postfix ("550-5.1.1 a\r\n550 5.1.1 b" without the
 * final CR LF).  reply_build() returns 0, or -1 with a message in err when
 * the reply breaks a rule; these checks are the reply rules' only home
 * (action_parse() calls them).  reply_free() releases the
 * lines and is a no-op on a zeroed reply.  Thread-safe.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

#include "table.h"

#define REPLY_LINES_MAX 32 /* lines of a multi-line reply */
#define REPLY_LINE_MAX 512 /* one reply line, CR LF included */
#define REPLY_ENH_MAX 12   /* "123.123.123" and NUL */

struct reply {
	char code[4];            /* "550" */
	char enh[REPLY_ENH_MAX]; /* "5.1.1" */
	size_t nlines;           /* 1 .. REPLY_LINES_MAX */
	char **lines;            /* the text of each line, as written */
};

/* code: 400..599; enh: "" or NULL for the catalogue's; text: NULL likewise */
int reply_build(int code, const char *enh, const char *text, enum table,
                struct reply *, char *, size_t);
void reply_free(struct reply *);
char *reply_milter_line(const struct reply *, size_t);
char *reply_smtp(const struct reply *);
int reply_is_temporary(const struct reply *);

#endif
