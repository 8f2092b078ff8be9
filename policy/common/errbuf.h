/*
 * errbuf - the caller's error buffer: a bounded message, and errno as text.
 *
 * Every function below the programs reports a problem the same way: a
 * message in the caller's char *err of errlen bytes (hiredis errstr,
 * milter-regex parse_ruleset), never a log line.  errbuf_set() writes it,
 * printf-like from a literal format (untrusted text goes through "%s"),
 * truncated to fit and always terminated; err may be NULL or errlen 0, and
 * then nothing is written.  It returns -1, so that a failing function can
 * end with "return errbuf_set(err, errlen, ...);".  errbuf_strerror() is
 * strerror() into a buffer, whichever strerror_r() libc has.  Thread-safe.
 */
#ifndef ERRBUF_H
#define ERRBUF_H

#include <stddef.h>

int errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void errbuf_strerror(int e, char *buf, size_t size);

#endif
