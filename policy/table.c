/*
 * table - the rule tables and their names.  See table.h.
 */
#include <string.h>

#include "table.h"

static const char *const names[TABLE_COUNT] = {
    [TABLE_PAIR] = "pair",   [TABLE_RECIPIENT] = "recipient",
    [TABLE_AUTH] = "auth",   [TABLE_SENDER] = "sender",
    [TABLE_HELO] = "helo",   [TABLE_CLIENT] = "client",
    [TABLE_LIMIT] = "limit",
};

/* table_name - the name of a table, as used in keys and commands */
const char *
table_name(enum table t)
{
	if ((unsigned)t >= TABLE_COUNT)
		return "?";
	return names[t];
}

/* table_from_name - the table of a name, or -1 */
int
table_from_name(const char *name)
{
	int t;

	for (t = 0; t < TABLE_COUNT; t++)
		if (strcmp(names[t], name) == 0)
			return t;
	return -1;
}
