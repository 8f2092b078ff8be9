/*
 * table - the rule tables and their names.
 *
 * The enum is in order of precedence, most specific first: a lower value
 * wins (redmilterctl(8), RULES, "Precedence").  TABLE_LIMIT, last, is no
 * part of that walk: its rules are limits (redmilterctl(8), LIMITS), and
 * TABLE_WALK counts the tables before it.  table_name() returns a static
 * string; table_from_name() returns -1 for an unknown name.  Thread-safe.
 */
#ifndef TABLE_H
#define TABLE_H

#include <stddef.h>

enum table {
	TABLE_PAIR,
	TABLE_RECIPIENT,
	TABLE_AUTH,
	TABLE_SENDER,
	TABLE_HELO,
	TABLE_CLIENT,
	TABLE_LIMIT,
	TABLE_COUNT
};

#define TABLE_WALK TABLE_LIMIT /* the tables of the precedence walk */

const char *table_name(enum table);
int table_from_name(const char *);

/* table_is_recipient - a table whose rules are about one recipient */
#define TABLE_IS_RECIPIENT(t) ((t) == TABLE_PAIR || (t) == TABLE_RECIPIENT)

#endif
