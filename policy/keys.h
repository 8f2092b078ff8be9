/*
 * keys - the candidate lookup keys of each table, in the order they are tried
 * (redmilterctl(8), RULES, "Tables and keys").
 *
 * A keylist owns its strings.  keylist_init() makes it empty, keylist_free()
 * frees the strings and leaves it empty again (safe to call twice).  The
 * keys_*() functions append to a list; they never fail (memory comes from
 * xmalloc) and append nothing for input that yields no key.  Thread-safe.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>

#include "addr.h"

struct keylist {
	char **v;
	size_t n;
	size_t cap;
};

void keylist_init(struct keylist *);
void keylist_free(struct keylist *);
void keylist_add(struct keylist *, const char *);

/* sender, recipient: delims is the recipient_delimiter set ("" for none) */
void keys_address(struct keylist *, enum addr_status, const struct addr *,
                  const char *delims);
/* client: name may be NULL or "unknown"; addr is the textual IP or NULL */
void keys_client(struct keylist *, const char *name, const char *ip);
void keys_helo(struct keylist *, const char *);
void keys_auth(struct keylist *, const char *);
/* pair: every recipient key (outer) with every sender key (inner) */
void keys_pair(struct keylist *, const struct keylist *sender,
               const struct keylist *recipient);
/* the name and its parent domains: "a.b.c", ".b.c", ".c" */
void keys_domain(struct keylist *, const char *);

#endif
