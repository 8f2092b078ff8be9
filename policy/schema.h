/*
 * schema - the names of redmilter's keys in Redis (redmilterctl(8), RULES,
 * "Tables and keys").
 *
 * A rule of table T for key K lives under "<prefix>T:K" ("redmilter:
 * recipient:bob@example.com"); what redmilter keeps for itself (the import
 * lock) lives under "<prefix>_NAME", which no table name starts with.  This
 * module is the only one that knows those two forms: the engine builds its
 * lookup keys with it, redmilterctl its writes and scans, lint its reading.
 *
 * schema_rule_key() returns "<prefix>T:K" malloc'd (the caller frees it);
 * schema_rule_key_size() and schema_rule_key_write() build it into a
 * caller's buffer (size with its NUL; write returns the length, as
 * str_copy() does).  schema_scan_prefix() is what the keys of one table
 * (t >= 0) or of every table (t < 0) start with, malloc'd;
 * schema_internal_key() is "<prefix>_NAME", malloc'd.  schema_parse_key()
 * says what a key found under the prefix is and, for a rule, its table and
 * the key after "T:" (a pointer into full); for an unknown table, *key is
 * the part after the prefix.  Thread-safe.
 */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stddef.h>

#include "table.h"

#define SCHEMA_INTERNAL_MARK '_'  /* "<prefix>_...": not a rule */
#define SCHEMA_AUDIT "audit"      /* <prefix>_audit: redmilterctl(8) */
#define SCHEMA_AUDIT_MAX "100000" /* its entries, about (XADD MAXLEN ~) */

enum schema_kind {
	SCHEMA_RULE,          /* "<prefix>TABLE:KEY" */
	SCHEMA_INTERNAL,      /* "<prefix>_...": redmilter's own */
	SCHEMA_UNKNOWN_TABLE, /* under the prefix, but no table of ours */
	SCHEMA_OUTSIDE        /* not under the prefix at all */
};

char *schema_rule_key(const char *prefix, enum table, const char *key);
size_t schema_rule_key_size(const char *prefix, enum table, const char *key);
size_t schema_rule_key_write(char *buf, size_t size, const char *prefix,
                             enum table, const char *key);
char *schema_scan_prefix(const char *prefix, int table);
char *schema_internal_key(const char *prefix, const char *name);
enum schema_kind schema_parse_key(const char *prefix, const char *full,
                                  enum table *, const char **key);

#endif
