/*
 * fuzz_conf - libFuzzer target for the configuration's parsers
 * (policy/common/conf.c and what it calls: the socket syntax, sockspec.c,
 * and the Redis address, redis_url.c) and for the reading of Redis key
 * names (policy/schema.c).
 *
 * The input is "KEY=VALUE": a whole file read by conf_read(), then the
 * value set by conf_set() under every documented key, and the whole input
 * read as a key name under the prefix "redmilter:".  Invariants checked
 * (abort() on violation): a refused value leaves a terminated, non-empty
 * message; an accepted socket or Redis address parses again the same way
 * and a unix socket has its path; a rule key names a known table and a
 * suffix of the input; a key built by schema_rule_key() reads back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "redis_url.h"
#include "schema.h"
#include "sockspec.h"

/* set_every_key - the value under each key; check what conf_set() says */
static void
set_every_key(const char *value)
{
	struct sockspec sp;
	struct redis_url u;
	const char *key;
	char err[512];
	struct conf c;
	size_t i;

	conf_init(&c);
	for (i = 0; (key = conf_key_name(i)) != NULL; i++) {
		err[0] = '\0';
		if (conf_set(&c, key, value, err, sizeof err) != 0) {
			if (err[0] == '\0' ||
			    memchr(err, '\0', sizeof err) == NULL)
				abort();
			continue;
		}
		if (strcmp(key, "socket") == 0 &&
		    (sockspec_parse(c.socket, &sp, err, sizeof err) != 0 ||
		     (sp.type == SOCKSPEC_UNIX) !=
		         (sockspec_unix_path(c.socket) != NULL)))
			abort();
		if (strcmp(key, "redis") == 0 &&
		    redis_url_parse(c.redis, &u, err, sizeof err) != 0)
			abort();
	}
	conf_free(&c);
}

/* read_file - the whole input as a configuration file */
static void
read_file(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_conf.XXXXXX", err[1024];
	struct conf c;
	FILE *fp;
	int fd;

	if ((fd = mkstemp(path)) < 0)
		abort();
	fp = fdopen(fd, "w");
	if (fp == NULL || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	conf_init(&c);
	err[0] = '\0';
	if (conf_read(&c, path, err, sizeof err) != 0 && err[0] == '\0')
		abort();
	conf_free(&c);
	unlink(path);
}

/* read_key - the input as a key name found under the prefix */
static void
read_key(const char *full)
{
	const char *key = NULL;
	enum table t = TABLE_COUNT;
	char *again;

	switch (schema_parse_key("redmilter:", full, &t, &key)) {
	case SCHEMA_OUTSIDE:
		return;
	case SCHEMA_INTERNAL:
	case SCHEMA_UNKNOWN_TABLE:
		if (key == NULL || key < full || key > full + strlen(full))
			abort();
		return;
	case SCHEMA_RULE:
		break;
	default:
		abort();
	}
	if ((unsigned)t >= TABLE_COUNT || key < full ||
	    key > full + strlen(full))
		abort();
	again = schema_rule_key("redmilter:", t, key);
	if (strcmp(again, full) != 0)
		abort();
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	const char *eq;

	if (size > 8192)
		return 0;
	read_file(data, size);
	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	eq = strchr(s, '=');
	set_every_key(eq != NULL ? eq + 1 : s);
	read_key(s);
	free(s);
	return 0;
}
