/*
 * addr - parse and normalise an SMTP envelope address.
 *
 * addr_parse() takes the address as the MTA passed it (RCPT TO:<...> argument:
 * brackets optional, source route possible) as a pointer and a length, so an
 * embedded NUL is seen and refused.  On success the result holds the local
 * part in internal (unquoted) form and the domain, both folded to lower case,
 * the domain without its trailing dot.  It never reads past len bytes and
 * never allocates.  Thread-safe.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>

/* Limits, generous beside RFC 5321 4.5.3.1 (64, 255, 256). */
#define ADDR_INPUT_MAX 1000  /* raw argument, as an SMTP line */
#define ADDR_LOCAL_MAX 256   /* local part, internal form */
#define ADDR_MAILBOX_MAX 254 /* local@domain: RFC 5321's path less "<>" */
#define ADDR_DOMAIN_MAX 255  /* domain or domain literal */
#define ADDR_LABELS_MAX 32   /* labels in a domain */

enum addr_status {
	ADDR_OK,       /* an address, with or without a domain */
	ADDR_NULL,     /* the null address <> */
	ADDR_MALFORMED /* anything else; err says why */
};

struct addr {
	char local[ADDR_LOCAL_MAX + 1];   /* internal form, folded */
	char domain[ADDR_DOMAIN_MAX + 1]; /* folded; "" when none */
	int has_domain;                   /* "@domain" was present */
	int literal;                      /* domain is "[...]" */
};

enum addr_status addr_parse(const char *, size_t, struct addr *, char *,
                            size_t);
int addr_domain_only(const char *, size_t, struct addr *);
size_t addr_base_len(const struct addr *, const char *);

#endif
