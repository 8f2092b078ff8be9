/*
 * reply - the SMTP reply of a rule, ready for libmilter and for people.
 *
 * reply_build() completes a REPLY action with the catalogue defaults for
 * its table and splits the text on the two characters "\n".  Two renderings
 * exist: reply_milter_line() gives line i with every '%' doubled, as
 * smfi_setreply()/smfi_setmlreply() need it so that the SMTP client sees
 * the rule's text exactly; reply_smtp() writes the whole reply as the SMTP
 * client sees it through Postfix ("550-5.1.1 a\r\n550 5.1.1 b" without the
 * final CR LF).  reply_build() returns 0, or -1 with a message in err when
 * the reply breaks a rule (the same checks as action_parse(), repeated
 * because a reply may also be built by hand).  reply_free() releases the
 * lines and is a no-op on a zeroed reply.  Thread-safe.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

#include "action.h"
#include "table.h"

struct reply {
	char code[4];             /* "550" */
	char enh[ACTION_ENH_MAX]; /* "5.1.1" */
	size_t nlines;            /* 1 .. ACTION_LINES_MAX */
	char **lines;             /* the text of each line, as written */
};

int reply_build(const struct action *, enum table, struct reply *, char *,
                size_t);
void reply_free(struct reply *);
char *reply_milter_line(const struct reply *, size_t);
char *reply_smtp(const struct reply *);
int reply_is_temporary(const struct reply *);

#endif
