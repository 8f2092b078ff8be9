/*
 * util - memory allocation that cannot fail, and bounded string helpers.
 *
 * xmalloc(), xcalloc(), xrealloc(), xgrow(), xstrdup() and xmemdup() either
 * succeed or abort() after writing a message to stderr (Postfix mymalloc):
 * callers never test for NULL.  str_copy() has strlcpy() semantics.
 * str_sanitize() returns a malloc'd printable copy of untrusted bytes for logs
 * (Postfix printable()).  mono_us() and mono_ms() are the monotonic clock;
 * hash_bytes() a fast non-cryptographic hash for in-process tables.  All
 * functions are thread-safe.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xgrow(void *, size_t, size_t);
char *xstrdup(const char *);
char *xmemdup(const void *, size_t);

size_t str_copy(char *, const char *, size_t);
void str_lower(char *);
int str_printable(const char *, size_t);
char *str_sanitize(const char *, size_t, size_t);

long long mono_us(void);
long long mono_ms(void);
unsigned long hash_bytes(const void *, size_t);

#endif
