/*
 * redis_url - parse the "redis" setting.  See redis_url.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "redis_url.h"
#include "str.h"

/* parse_int - a decimal number within [min, max], or -1 */
static int
parse_int(const char *s, size_t len, long min, long max, long *out)
{
	char buf[16], *end;
	long v;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* hexval - the value of a hex digit, or -1 */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* unescape - copy len bytes, decoding %XX; -1 if bad or too long */
static int
unescape(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* last_at - the last '@' in the first len bytes, or NULL */
static const char *
last_at(const char *s, size_t len)
{
	while (len > 0)
		if (s[--len] == '@')
			return s + len;
	return NULL;
}

/* parse_unix - unix:PATH[?db=N] */
static int
parse_unix(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *q = strchr(s, '?');
	size_t plen = q != NULL ? (size_t)(q - s) : strlen(s);
	long db = 0;

	u->is_unix = 1;
	if (plen == 0 || s[0] != '/') {
		errbuf_set(err, errlen, "unix: needs an absolute socket path");
		return -1;
	}
	if (plen >= sizeof u->path) {
		errbuf_set(err, errlen, "unix socket path is too long");
		return -1;
	}
	memcpy(u->path, s, plen);
	u->path[plen] = '\0';
	if (q != NULL &&
	    (strncmp(q, "?db=", 4) != 0 ||
	     parse_int(q + 4, strlen(q + 4), 0, 65535, &db) != 0)) {
		errbuf_set(err, errlen, "unix: expected ?db=N after the path");
		return -1;
	}
	u->db = (int)db;
	return 0;
}

/* parse_auth - "[user]:password" before '@' */
static int
parse_auth(const char *s, size_t len, struct redis_url *u, char *err,
           size_t errlen)
{
	const char *colon = memchr(s, ':', len);

	if (colon == NULL) {
		errbuf_set(err, errlen,
		           "redis://: expected ':password@' before "
		           "the host");
		return -1;
	}
	if (unescape(s, (size_t)(colon - s), u->user, sizeof u->user) != 0 ||
	    unescape(colon + 1, len - (size_t)(colon - s) - 1, u->password,
	             sizeof u->password) != 0) {
		errbuf_set(err, errlen,
		           "redis://: bad user or password "
		           "(too long, or a bad %%XX escape)");
		return -1;
	}
	u->has_auth = 1;
	return 0;
}

/* parse_hostport - host, [v6host], with an optional :port */
static int
parse_hostport(const char *s, size_t len, struct redis_hostport *u, long dflt,
               char *err, size_t errlen)
{
	const char *hend, *port = NULL;
	const char *hs = s;
	long p = dflt;

	if (len > 0 && s[0] == '[') {
		if ((hend = memchr(s, ']', len)) == NULL)
			goto bad;
		hs = s + 1;
		if ((size_t)(hend + 1 - s) < len) {
			if (hend[1] != ':')
				goto bad;
			port = hend + 2;
		}
	} else {
		hend = memchr(s, ':', len);
		if (hend != NULL)
			port = hend + 1;
		else
			hend = s + len;
	}
	if (hend == hs || (size_t)(hend - hs) >= sizeof u->host)
		goto bad;
	memcpy(u->host, hs, (size_t)(hend - hs));
	u->host[hend - hs] = '\0';
	if (port != NULL &&
	    parse_int(port, len - (size_t)(port - s), 1, 65535, &p) != 0) {
		errbuf_set(err, errlen, "redis://: bad port");
		return -1;
	}
	u->port = (int)p;
	return 0;
bad:
	errbuf_set(err, errlen, "redis://: bad host");
	return -1;
}

/*
 * parse_tcp - [[user]:password@]host[:port][/db] after "redis://"
 *
 * The last '@' ends the credentials, so a password may hold '/' or '@'.
 */
static int
parse_tcp(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	struct redis_hostport hp;
	const char *at = last_at(s, strlen(s)), *slash;
	size_t len;
	long db = 0;

	if (at != NULL) {
		if (parse_auth(s, (size_t)(at - s), u, err, errlen) != 0)
			return -1;
		s = at + 1;
	}
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (parse_hostport(s, len, &hp, 6379, err, errlen) != 0)
		return -1;
	memcpy(u->host, hp.host, sizeof u->host);
	u->port = hp.port;
	if (slash != NULL && slash[1] != '\0' &&
	    parse_int(slash + 1, strlen(slash + 1), 0, 65535, &db) != 0) {
		errbuf_set(err, errlen, "redis://: bad database number");
		return -1;
	}
	u->db = (int)db;
	return 0;
}

/* parse_master - "MASTER[/db]" after the Sentinels */
static int
parse_master(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s), i;
	long db = 0;

	if (len == 0 || len >= sizeof u->master) {
		errbuf_set(err, errlen, "sentinel://: bad master name");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			errbuf_set(err, errlen, "sentinel://: bad master name");
			return -1;
		}
	}
	memcpy(u->master, s, len);
	u->master[len] = '\0';
	if (slash != NULL && slash[1] != '\0' &&
	    parse_int(slash + 1, strlen(slash + 1), 0, 65535, &db) != 0) {
		errbuf_set(err, errlen, "sentinel://: bad database number");
		return -1;
	}
	u->db = (int)db;
	return 0;
}

/* parse_sentinel - [[user]:password@]h[:p][,h[:p]...]/MASTER[/db] */
static int
parse_sentinel(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *at = last_at(s, strlen(s)), *slash, *comma;

	u->is_sentinel = 1;
	if (at != NULL) {
		if (parse_auth(s, (size_t)(at - s), u, err, errlen) != 0)
			return -1;
		s = at + 1;
	}
	if ((slash = strchr(s, '/')) == NULL) {
		errbuf_set(err, errlen,
		           "sentinel://: expected /MASTER after "
		           "the Sentinels");
		return -1;
	}
	while (s < slash) {
		comma = memchr(s, ',', (size_t)(slash - s));
		if (comma == NULL)
			comma = slash;
		if (u->nsentinels == REDIS_URL_SENTINELS_MAX) {
			errbuf_set(err, errlen,
			           "sentinel://: at most %d Sentinels",
			           REDIS_URL_SENTINELS_MAX);
			return -1;
		}
		if (parse_hostport(s, (size_t)(comma - s),
		                   &u->sentinel[u->nsentinels++], 26379, err,
		                   errlen) != 0)
			return -1;
		s = comma + (comma < slash ? 1 : 0);
	}
	if (u->nsentinels == 0) {
		errbuf_set(err, errlen, "sentinel://: no Sentinel given");
		return -1;
	}
	return parse_master(slash + 1, u, err, errlen);
}

/*
 * redis_url_parse - the parts of a Redis URL
 *
 * Returns 0, or -1 with the problem in err (never the password).
 */
int
redis_url_parse(const char *url, struct redis_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	if (strncmp(url, "unix:", 5) == 0)
		return parse_unix(url + 5, u, err, errlen);
	if (strncmp(url, "redis://", 8) == 0)
		return parse_tcp(url + 8, u, err, errlen);
	if (strncmp(url, "sentinel://", 11) == 0)
		return parse_sentinel(url + 11, u, err, errlen);
	errbuf_set(err, errlen,
	           "must start with redis://, unix: or sentinel://");
	return -1;
}

/* redis_url_show - the URL with its credentials, if any, hidden */
void
redis_url_show(const char *url, char *out, size_t outlen)
{
	const char *rest, *at;

	if (strncmp(url, "redis://", 8) == 0)
		rest = url + 8;
	else if (strncmp(url, "sentinel://", 11) == 0)
		rest = url + 11;
	else
		rest = NULL;
	if (rest == NULL) {
		str_copy(out, url, outlen);
		return;
	}
	if ((at = last_at(rest, strlen(rest))) == NULL) {
		str_copy(out, url, outlen);
		return;
	}
	snprintf(out, outlen, "%.*s*****%s", (int)(rest - url), url, at);
}
