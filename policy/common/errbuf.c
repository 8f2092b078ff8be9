/*
 * errbuf - the caller's error buffer.  See errbuf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "str.h"

/* errbuf_set - a bounded message into err; returns -1 */
int
errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* A message cut short still names the problem first; only an
	 * encoding error (no message at all) needs a fallback. */
	if (n < 0)
		(void)str_copy(err, "error message lost", errlen);
	return -1;
}

/* errbuf_strerror - the text of errno value e, into buf */
void
errbuf_strerror(int e, char *buf, size_t size)
{
#if defined(_GNU_SOURCE)
	const char *s = strerror_r(e, buf, size);

	if (s != buf)
		(void)str_copy(buf, s, size);
#else
	if (strerror_r(e, buf, size) != 0)
		(void)snprintf(buf, size, "error %d", e);
#endif
}
