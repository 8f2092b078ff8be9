/*
 * str - bounded string helpers.  See str.h.
 */
#include <stdlib.h>
#include <string.h>

#include "str.h"
#include "xmalloc.h"

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

/*
 * str_quote - str_sanitize() of a string into buf, for a message: at most
 * size - 4 bytes of it, then "..." if it was longer; returns buf
 */
const char *
str_quote(char *buf, size_t size, const char *s)
{
	char *q = str_sanitize(s, strlen(s), size > 4 ? size - 4 : 0);

	str_copy(buf, q, size);
	free(q);
	return buf;
}
