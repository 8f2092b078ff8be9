/*
 * xmalloc - memory allocation that cannot fail.  See xmalloc.h.
 *
 * The allocators write one line to stderr and abort() when memory runs
 * out: a milter that cannot allocate cannot answer anyway, and the MTA's
 * milter timeout then applies milter_default_action.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* out_of_memory - report and stop */
static void
out_of_memory(size_t size)
{
	fprintf(stderr, "redmilter: out of memory allocating %zu bytes\n",
	        size);
	abort();
}

/* xmalloc - malloc that succeeds or does not return */
void *
xmalloc(size_t size)
{
	void *p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		out_of_memory(size);
	return p;
}

/* xcalloc - calloc that succeeds or does not return */
void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		out_of_memory(n * size);
	return p;
}

/* xrealloc - realloc that succeeds or does not return */
void *
xrealloc(void *old, size_t size)
{
	void *p;

	if ((p = realloc(old, size == 0 ? 1 : size)) == NULL)
		out_of_memory(size);
	return p;
}

/*
 * xgrow - an array v of n elements of size bytes, with room for one more
 *
 * Grows by doubling (16, 32, 64, ...): appending one at a time with a
 * realloc of n + 1 is quadratic wherever realloc copies (AddressSanitizer
 * always does; a 100,000-rule import took minutes).
 */
void *
xgrow(void *v, size_t n, size_t size)
{
	if (n == 0 || (n >= 16 && (n & (n - 1)) == 0))
		return xrealloc(v, (n < 16 ? 16 : 2 * n) * size);
	return v;
}

/* xstrdup - copy a string */
char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

/* xmemdup - copy len bytes and add a NUL */
char *
xmemdup(const void *s, size_t len)
{
	char *p;

	if (len == (size_t)-1)
		out_of_memory(len);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
