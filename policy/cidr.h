/*
 * cidr - the canonical text of an address or network, as lookups write the
 * client table's keys (redmilterctl(8), RULES, "Tables and keys"):
 * inet_ntop()'s form of the address with every host bit cleared, then
 * "/BITS" for a network ("192.0.2.0/24", "2001:db8::/32").
 *
 * Keys are built with it (keys.c, for every decision) and rules checked
 * against it (rule.c, for every rule written), so that a rule redmilterctl
 * accepts is a key some lookup tries.  cidr_text() writes the canonical
 * text of a 4-byte (AF_INET) or 16-byte (AF_INET6) address (bits < 0), or
 * of the network of its first bits, into out, which has room for
 * CIDR_TEXT_MAX bytes; it returns the end of the text (its NUL), or NULL
 * for an address family it does not know.  No allocation; thread-safe.
 */
#ifndef CIDR_H
#define CIDR_H

#include <netinet/in.h>

#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 4) /* "/128" and the NUL */

char *cidr_text(int af, const unsigned char *ip, int bits, char *out);

#endif
