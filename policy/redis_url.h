/*
 * redis_url - parse the "redis" setting (SPEC.md "Configuration").
 *
 * Forms: redis://[[user]:password@]host[:port][/db] (host may be an IPv6
 * address in brackets; the password may use %XX escapes) and
 * unix:PATH[?db=N].  redis_url_parse() returns 0, or -1 with the problem in
 * err; err never contains the password.  redis_url_show() writes the URL
 * with any password replaced by "*****", for logs and output.  No
 * allocation; thread-safe.
 */
#ifndef REDIS_URL_H
#define REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_SECRET_MAX 512

struct redis_url {
	int is_unix;
	char host[256];
	int port;
	char path[108]; /* sun_path */
	int db;
	char user[128];                          /* "" when none */
	char password[REDIS_URL_SECRET_MAX + 1]; /* "" when none */
};

int redis_url_parse(const char *, struct redis_url *, char *, size_t);
void redis_url_show(const char *, char *, size_t);

#endif
