/*
 * rule - one rule as an administrator writes it: table, key, action, TTL.
 *
 * rule_key_check() folds a key to lower case into out and checks that a
 * lookup can reach it: not empty, at most RULE_KEY_MAX bytes, no blanks or
 * control characters, a pair key "SENDER,RECIPIENT", and a client address
 * or network in the canonical form that lookups use (the message suggests
 * the canonical form).  rule_action_parse() reads a value as the action of
 * a rule of a table, for the milter (out: the parsed action, which the
 * caller frees) and for redmilterctl and lint (out NULL: only checked), so
 * that what redmilterctl writes is what the milter reads.  rule_parse_line()
 * reads one import line "[-t SECONDS] TABLE KEY ACTION..." into a rule that
 * owns copies of its strings, and says what the line was (enum rule_line).
 * rule_free() frees a parsed rule. All return 0 (or as said) or -1 with the
 * problem in err.  Thread-safe.
 */
#ifndef RULE_H
#define RULE_H

#include <stddef.h>

#include "action.h"
#include "table.h"

#define RULE_KEY_MAX 512
#define RULE_TTL_MAX 2147483648LL

struct rule {
	enum table table;
	char *key;     /* folded */
	char *action;  /* as written */
	long long ttl; /* seconds; 0: none */
};

int rule_key_check(enum table, const char *, char *out, size_t outlen,
                   char *err, size_t errlen);
int rule_action_parse(enum table, const char *, size_t, struct action *, char *,
                      size_t);
int rule_parse_ttl(const char *, long long *);
/* What one import line is. */
enum rule_line {
	RULE_LINE_RULE,  /* a rule, in the struct */
	RULE_LINE_EMPTY, /* blank, or a comment */
	RULE_LINE_BAD    /* refused, err says why */
};

enum rule_line rule_parse_line(const char *, struct rule *, char *, size_t);
void rule_free(struct rule *);

#endif
