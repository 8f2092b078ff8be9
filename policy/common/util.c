/*
 * util - memory allocation that cannot fail, and bounded string helpers.
 *
 * See util.h.  The allocators write one line to stderr and abort() when
 * memory runs out: a milter that cannot allocate cannot answer anyway, and
 * libmilter's MTA-side timeout then applies milter_default_action.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

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

/*
 * str_copy - copy src into dst of the given size, always terminated
 *
 * strlcpy() semantics: returns strlen(src); truncation happened when the
 * result is >= size.
 */
size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* str_lower - fold ASCII upper case letters in place; other bytes stay */
void
str_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* str_printable - non-zero when all len bytes are printable ASCII */
int
str_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * str_sanitize - a printable copy of untrusted bytes, for logs and output
 *
 * Every byte outside printable ASCII becomes '?'; more than max bytes are
 * cut and "..." appended.  Returns a malloc'd string the caller frees.
 */
char *
str_sanitize(const char *s, size_t len, size_t max)
{
	size_t n = len > max ? max : len, i;
	char *out = xmalloc(n + 4);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	/* cppcheck-suppress knownConditionTrueFalse */
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* mono_us - the monotonic clock in microseconds */
long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* mono_ms - the monotonic clock in milliseconds */
long long
mono_ms(void)
{
	return mono_us() / 1000;
}

/*
 * hash_bytes - of len bytes, eight at a time (a decision looks up some 60
 * keys of 30 to 60 bytes: a byte-at-a-time FNV-1a was a tenth of the
 * milter's time); the last bytes are zero-padded, the length mixed in
 */
unsigned long
hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b + i, len - i);
	h = (h ^ w ^ len) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (unsigned long)h;
}
