/*
 * resolve - a host name's addresses within a deadline.
 *
 * getaddrinfo(3) has no timeout of its own: with a resolver that does not
 * answer, glibc waits its resolv.conf(5) timeout for every attempt and
 * every nameserver.  resolve() waits at most the time it is given
 * (redis_timeout's share, redmilter.conf(5)), and gives the caller numeric
 * addresses, which connect without a lookup.
 *
 * A host that is an address already (IPv4, or IPv6 with or without a
 * scope, as getaddrinfo's AI_NUMERICHOST takes it) is returned as it is,
 * with no lookup and no thread.  Thread-safe; never logs.
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stddef.h>

#define RESOLVE_ADDRS_MAX 8 /* addresses kept of one name */
#define RESOLVE_ADDRLEN 256 /* a host of redis_url.h fits */
/* Lookups under way at once, those given up on included. */
#define RESOLVE_LOOKUPS_MAX 32

struct resolve_addrs {
	int n;
	char addr[RESOLVE_ADDRS_MAX][RESOLVE_ADDRLEN];
};

int resolve_numeric(const char *);
int resolve_host(const char *, long long, struct resolve_addrs *, char *,
                 size_t);

#endif
