/*
 * schema - the names of redmilter's keys in Redis.  See schema.h.
 */
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "xmalloc.h"

#define TABLE_NAME_MAX 16 /* longer than any table name */

/* schema_rule_key_size - bytes of "<prefix>T:K" with its NUL */
size_t
schema_rule_key_size(const char *prefix, enum table t, const char *key)
{
	return strlen(prefix) + strlen(table_name(t)) + 1 + strlen(key) + 1;
}

/* schema_rule_key_write - "<prefix>T:K" into buf; returns its length */
size_t
schema_rule_key_write(char *buf, size_t size, const char *prefix, enum table t,
                      const char *key)
{
	const char *name = table_name(t);
	size_t plen = strlen(prefix), nlen = strlen(name), klen = strlen(key);
	size_t len = plen + nlen + 1 + klen;

	if (len >= size) {
		if (size > 0)
			buf[0] = '\0';
		return len;
	}
	memcpy(buf, prefix, plen);
	memcpy(buf + plen, name, nlen);
	buf[plen + nlen] = ':';
	memcpy(buf + plen + nlen + 1, key, klen + 1);
	return len;
}

/* schema_rule_key - "<prefix>T:K", malloc'd */
char *
schema_rule_key(const char *prefix, enum table t, const char *key)
{
	size_t size = schema_rule_key_size(prefix, t, key);
	char *k = xmalloc(size);

	(void)schema_rule_key_write(k, size, prefix, t, key);
	return k;
}

/* schema_scan_prefix - "<prefix>T:" for one table, "<prefix>" for all */
char *
schema_scan_prefix(const char *prefix, int t)
{
	if (t < 0 || t >= TABLE_COUNT)
		return xstrdup(prefix);
	return schema_rule_key(prefix, (enum table)t, "");
}

/* schema_internal_key - "<prefix>_NAME", malloc'd */
char *
schema_internal_key(const char *prefix, const char *name)
{
	size_t plen = strlen(prefix), nlen = strlen(name);
	char *k = xmalloc(plen + 1 + nlen + 1);

	memcpy(k, prefix, plen);
	k[plen] = SCHEMA_INTERNAL_MARK;
	memcpy(k + plen + 1, name, nlen + 1);
	return k;
}

/* schema_parse_key - what a key under the prefix is */
enum schema_kind
schema_parse_key(const char *prefix, const char *full, enum table *t,
                 const char **key)
{
	size_t plen = strlen(prefix), nlen;
	const char *rest = full + plen, *colon;
	char name[TABLE_NAME_MAX];
	int found;

	if (strncmp(full, prefix, plen) != 0)
		return SCHEMA_OUTSIDE;
	*key = rest;
	if (*rest == SCHEMA_INTERNAL_MARK)
		return SCHEMA_INTERNAL;
	if ((colon = strchr(rest, ':')) == NULL ||
	    (nlen = (size_t)(colon - rest)) >= sizeof name)
		return SCHEMA_UNKNOWN_TABLE;
	memcpy(name, rest, nlen);
	name[nlen] = '\0';
	if ((found = table_from_name(name)) < 0)
		return SCHEMA_UNKNOWN_TABLE;
	*t = (enum table)found;
	*key = colon + 1;
	return SCHEMA_RULE;
}
