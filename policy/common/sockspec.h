/*
 * sockspec - libmilter's socket syntax, for the `socket` setting
 * (redmilter.conf(5)): unix:PATH (local:PATH is its other name),
 * inet:PORT[@HOST] and inet6:PORT[@HOST].
 *
 * sockspec_parse() checks a spec and fills s: its type, the path of a unix
 * socket (a pointer into spec), the port and host of an inet one (host ""
 * when none is given: libmilter then listens on every address).  It
 * returns 0, or -1 with the problem in err.  We want the type written out,
 * though libmilter takes a bare path for unix:PATH.  sockspec_unix_path()
 * is the path of a unix spec, or NULL for any other.  No allocation but
 * for messages; thread-safe.
 */
#ifndef SOCKSPEC_H
#define SOCKSPEC_H

#include <stddef.h>

#define SOCKSPEC_HOST_MAX 255

enum sockspec_type { SOCKSPEC_UNIX, SOCKSPEC_INET, SOCKSPEC_INET6 };

struct sockspec {
	enum sockspec_type type;
	const char *path;                 /* SOCKSPEC_UNIX: in spec */
	int port;                         /* SOCKSPEC_INET, _INET6 */
	char host[SOCKSPEC_HOST_MAX + 1]; /* "" when none */
};

int sockspec_parse(const char *spec, struct sockspec *, char *err,
                   size_t errlen);
const char *sockspec_unix_path(const char *spec);

#endif
