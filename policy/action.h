/*
 * action - parse and validate the value of a rule (redmilterctl(8), RULES,
 * "Actions").
 *
 * action_parse() reads one rule value, given as pointer and length (Redis
 * values may hold NUL bytes), checks it against the reply rules, and fills a
 * struct action that owns a copy of the text.  It returns 0 on success, or -1
 * with a message naming the problem in err (for example "enhanced code 4.7.1
 * does not match reply code 550"); on error the action holds nothing to free.
 * action_free() releases the text and is a no-op on a zeroed action.
 * action_reply() builds the reply of a REPLY action for a table
 * (reply_build() with the action's code, enhanced code and text), and
 * refuses any other type of action.
 * The reply code and enhanced code are filled in only when the rule gave
 * them: defaults come from the catalogue when the reply is rendered, because
 * they depend on the table.  Thread-safe.
 */
#ifndef ACTION_H
#define ACTION_H

#include <stddef.h>

#include "reply.h"
#include "table.h"

#define ACTION_MAX 16384       /* longest rule value accepted */
#define ACTION_LOGTEXT_MAX 512 /* text of DISCARD, HOLD, WARN */
#define ACTION_GREY_DELAY 300  /* GREYLIST's default delay, seconds */
#define ACTION_GREY_DELAY_MAX 86400
#define ACTION_GREY_CODE 451, "4.7.1" /* GREYLIST's reply: greylist.h */

enum action_type {
	ACTION_OK,
	ACTION_DUNNO,
	ACTION_REPLY, /* REJECT, DEFER and NNN */
	ACTION_DISCARD,
	ACTION_HOLD,
	ACTION_WARN,
	ACTION_GREYLIST /* GREYLIST [DELAY] [text]: greylist.h */
};

struct action {
	enum action_type type;
	int code;                /* ACTION_REPLY: 400..559 */
	char enh[REPLY_ENH_MAX]; /* "" when the rule gave none */
	char *text;              /* NULL when the rule gave none */
	long long delay;         /* ACTION_GREYLIST: seconds */
};

int action_parse(const char *, size_t, struct action *, char *, size_t);
void action_free(struct action *);
const char *action_type_name(enum action_type);
int action_reply(const struct action *, enum table, struct reply *, char *,
                 size_t);

#endif
