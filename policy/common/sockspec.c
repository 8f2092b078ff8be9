/*
 * sockspec - libmilter's socket syntax.  See sockspec.h.
 */
#include <sys/un.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "sockspec.h"
#include "str.h"

#define SHOW_MAX 64 /* longest piece of a spec quoted in a message */

/* The types libmilter knows, by the prefix that names each. */
static const struct sock_type {
	const char *prefix;
	enum sockspec_type type;
} sock_types[] = {
    {"unix:", SOCKSPEC_UNIX},
    {"local:", SOCKSPEC_UNIX},
    {"inet:", SOCKSPEC_INET},
    {"inet6:", SOCKSPEC_INET6},
};

#define NTYPES (sizeof sock_types / sizeof sock_types[0])

/* find_type - the type a spec starts with, or NULL */
static const struct sock_type *
find_type(const char *spec)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (strncmp(spec, sock_types[i].prefix,
		            strlen(sock_types[i].prefix)) == 0)
			return &sock_types[i];
	return NULL;
}

/* parse_unix - the PATH of unix:PATH or local:PATH */
static int
parse_unix(const char *path, struct sockspec *s, char *err, size_t errlen)
{
	size_t max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1;
	char q[SHOW_MAX + 4];

	if (*path != '/')
		return errbuf_set(err, errlen, "'%s' is not an absolute path",
		                  str_quote(q, sizeof q, path));
	if (strlen(path) > max)
		return errbuf_set(
		    err, errlen, "unix socket path longer than %zu bytes", max);
	s->path = path;
	return 0;
}

/* parse_inet - the PORT[@HOST] of inet:PORT[@HOST] or inet6:PORT[@HOST] */
static int
parse_inet(const char *spec, struct sockspec *s, char *err, size_t errlen)
{
	const char *at = strchr(spec, '@');
	size_t plen = at != NULL ? (size_t)(at - spec) : strlen(spec);
	char port[8], q[SHOW_MAX + 4], *end = port;
	long n = 0;

	memset(port, 0, sizeof port);
	if (plen < sizeof port)
		memcpy(port, spec, plen);
	errno = 0;
	if (plen > 0 && plen < sizeof port && port[0] >= '0' && port[0] <= '9')
		n = strtol(port, &end, 10);
	if (n < 1 || n > 65535 || errno != 0 || *end != '\0')
		return errbuf_set(
		    err, errlen, "port '%s' is not a number 1..65535",
		    str_quote(q, sizeof q, plen < sizeof port ? port : spec));
	if (at != NULL && at[1] == '\0')
		return errbuf_set(err, errlen, "no host after '@'");
	if (at != NULL && strlen(at + 1) > SOCKSPEC_HOST_MAX)
		return errbuf_set(err, errlen, "host longer than %d bytes",
		                  SOCKSPEC_HOST_MAX);
	s->port = (int)n;
	str_copy(s->host, at != NULL ? at + 1 : "", sizeof s->host);
	return 0;
}

/* sockspec_parse - check a socket spec and take it apart */
int
sockspec_parse(const char *spec, struct sockspec *s, char *err, size_t errlen)
{
	const struct sock_type *t = find_type(spec);
	const char *rest;
	char q[SHOW_MAX + 4];

	memset(s, 0, sizeof *s);
	if (t == NULL) {
		str_quote(q, sizeof q, spec);
		if (*spec == '/')
			return errbuf_set(err, errlen,
			                  "'%s' has no type: write unix:%s", q,
			                  q);
		return errbuf_set(err, errlen,
		                  "'%s' is not unix:PATH, local:PATH, "
		                  "inet:PORT[@HOST] or inet6:PORT[@HOST]",
		                  q);
	}
	s->type = t->type;
	rest = spec + strlen(t->prefix);
	if (t->type == SOCKSPEC_UNIX)
		return parse_unix(rest, s, err, errlen);
	return parse_inet(rest, s, err, errlen);
}

/* sockspec_unix_path - the path of a unix socket spec, or NULL */
const char *
sockspec_unix_path(const char *spec)
{
	const struct sock_type *t = find_type(spec);

	return t != NULL && t->type == SOCKSPEC_UNIX ? spec + strlen(t->prefix)
	                                             : NULL;
}
