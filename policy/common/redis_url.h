/*
 * redis_url - parse the "redis" setting (redmilter.conf(5), KEYS).
 *
 * Forms: redis://[[user]:password@]host[:port][/db] (host may be an IPv6
 * address in brackets; the password may use %XX escapes),
 * unix:PATH[?db=N], and
 * sentinel://[[user]:password@]HOST[:PORT][,HOST[:PORT]...]/MASTER[/db]
 * (Sentinels, port 26379 by default, up to REDIS_URL_SENTINELS_MAX; the
 * password is the data servers').  redis_url_parse() returns 0, or -1 with the
 * problem in err; err never contains the password.  redis_url_show() writes the
 * URL with any password replaced by "*****", for logs and output.  No
 * allocation; thread-safe.
 */
#ifndef REDIS_URL_H
#define REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_SECRET_MAX 512
#define REDIS_URL_SENTINELS_MAX 8

struct redis_hostport {
	char host[256];
	int port;
};

struct redis_url {
	int is_unix;
	char host[256];
	int port;
	char path[108]; /* sun_path */
	int db;
	char user[128];                          /* "" when none */
	char password[REDIS_URL_SECRET_MAX + 1]; /* "" when none */
	int has_auth;                            /* "[user]:password@" given */
	int is_sentinel;                         /* sentinel:// */
	char master[128];                        /* its master name */
	struct redis_hostport sentinel[REDIS_URL_SENTINELS_MAX];
	int nsentinels;
};

int redis_url_parse(const char *, struct redis_url *, char *, size_t);
void redis_url_show(const char *, char *, size_t);

#endif
