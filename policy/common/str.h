/*
 * str - bounded string helpers.
 *
 * str_copy() has strlcpy() semantics (glibc 2.36 has no strlcpy): it
 * returns strlen(src), so that a result >= size means it was cut.
 * str_lower() folds ASCII in place; str_printable() says whether bytes are
 * all printable ASCII; str_sanitize() returns a malloc'd printable copy of
 * untrusted bytes for logs (Postfix printable()); str_quote() writes one,
 * shortened to fit, into a caller's buffer for a message.  Thread-safe.
 */
#ifndef STR_H
#define STR_H

#include <stddef.h>

size_t str_copy(char *, const char *, size_t);
void str_lower(char *);
int str_printable(const char *, size_t);
char *str_sanitize(const char *, size_t, size_t);
const char *str_quote(char *, size_t, const char *);

#endif
