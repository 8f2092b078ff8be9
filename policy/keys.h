/*
 * keys - the candidate lookup keys of each table, in the order they are tried
 * (redmilterctl(8), RULES, "Tables and keys").
 *
 * The keys_*() functions append to a keylist (keylist.h); they never fail
 * (memory comes from xmalloc) and append nothing for input that yields no key.
 * Thread-safe.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>

#include "addr.h"
#include "keylist.h"

/*
 * Parent domains tried: those of at most this many labels, of an address's
 * domain (its keys are multiplied in the pair table) and of a client or HELO
 * name; the name's own key is always tried (redmilter(8), "Key limits").
 */
#define KEYS_ADDR_PARENT_LABELS 5
#define KEYS_HOST_PARENT_LABELS 8

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
/* an address's domain and its parents: "a.b.c", ".b.c", ".c" (those of at
 * most KEYS_ADDR_PARENT_LABELS labels) */
void keys_domain(struct keylist *, const char *);

#endif
