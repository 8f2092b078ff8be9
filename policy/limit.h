/*
 * limit - the value of a limit rule (redmilterctl(8), LIMITS):
 *
 *	none
 *	TERM [, TERM]... [shared] [REPLY | WARN [text]]
 *	TERM: N msgs/PERIOD | N rcpts/PERIOD | N rcpts/msg
 *	PERIOD: [number] s|m|h|d, 1s to 30d ("msgs/h" is "msgs/1h")
 *
 * REPLY is any reply a rule may give (REJECT, DEFER, NNN [X.Y.Z] [text]).
 * limit_parse() reads a stored value (pointer and length: a NUL byte is
 * refused) into a struct limit that owns its reply's text, or returns -1
 * with a message in err that starts with "limit: " and names the problem
 * ("limit: unknown unit \"msg/h\"; ..."); on error the limit holds
 * nothing to free.  limit_free() releases it (a no-op on a zeroed one).
 *
 * limit_subject_name() and limit_subject_from_name() map the subjects;
 * limit_subject_table() is the table whose keys a subject's ladder tries.
 * limit_term_text() writes a term as limit_parse() reads it ("3 msgs/4s").
 * limit_reply() is the reply of a refusal for a term: the rule's own, or
 * the default of the term's kind.  Thread-safe.
 */
#ifndef LIMIT_H
#define LIMIT_H

#include <stddef.h>

#include "action.h"
#include "reply.h"
#include "table.h"

#define LIMIT_TERMS_MAX 8
#define LIMIT_N_MAX 1000000000LL
#define LIMIT_PERIOD_MAX (30LL * 86400) /* seconds */
#define LIMIT_TERM_TEXT_MAX 40

#define LIMIT_RATE_REPLY 450, "4.7.1", "Rate limit exceeded, try again later"
#define LIMIT_RCPTS_REPLY 452, "4.5.3", "Too many recipients"

/* The order of the subjects is the order of their replies. */
enum limit_subject {
	LIMIT_CLIENT,
	LIMIT_AUTH,
	LIMIT_SENDER,
	LIMIT_RECIPIENT,
	LIMIT_SUBJECTS
};

enum limit_unit {
	LIMIT_MSGS,         /* messages per period */
	LIMIT_RCPTS,        /* accepted recipients per period */
	LIMIT_RCPTS_PER_MSG /* recipients of one message */
};

struct limit_term {
	enum limit_unit unit;
	long long n;      /* 1 .. LIMIT_N_MAX */
	long long period; /* seconds; 0 for LIMIT_RCPTS_PER_MSG */
};

struct limit {
	int none;   /* the subject is exempt */
	int shared; /* one counter for everything the key matches */
	int warn;   /* WARN: log what would be refused, refuse nothing */
	size_t nterms;
	struct limit_term term[LIMIT_TERMS_MAX];
	struct action reply; /* type ACTION_REPLY when the rule gave one */
	char *warn_text;     /* WARN's text, or NULL */
};

int limit_parse(const char *, size_t, struct limit *, char *, size_t);
void limit_free(struct limit *);
void limit_copy(struct limit *dst, const struct limit *src);
const char *limit_subject_name(enum limit_subject);
int limit_subject_from_name(const char *, size_t);
enum table limit_subject_table(enum limit_subject);
void limit_term_text(const struct limit_term *, char *, size_t);
int limit_reply(const struct limit *, const struct limit_term *, struct reply *,
                char *, size_t);

#endif
