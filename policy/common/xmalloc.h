/*
 * xmalloc - memory allocation that cannot fail (Postfix mymalloc).
 *
 * xmalloc(), xcalloc(), xrealloc(), xgrow(), xstrdup() and xmemdup() either
 * succeed or abort() after writing a message to stderr: callers never test
 * for NULL.  A size of 0 allocates one byte.  xgrow() returns the array v of
 * n elements of size bytes with room for one more (it grows by doubling).
 * Thread-safe.
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xgrow(void *, size_t, size_t);
char *xstrdup(const char *);
char *xmemdup(const void *, size_t);

#endif
