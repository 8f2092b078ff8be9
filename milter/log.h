/*
 * log - redmilter's logging: syslog with the configured facility and level,
 * and stderr too in the foreground (-f).
 *
 * log_open() is called once at start, log_reconfigure() at a reload; log_msg()
 * is printf-like (literal formats only: untrusted text goes through "%s" after
 * log_clean()). log_wanted() says whether a priority is logged at all, so that
 * a caller can skip building a line that would be dropped. log_once() logs a
 * message only the first time its key is seen (a broken rule is logged once per
 * key and value, not once per message); the set of keys seen is bounded and
 * forgotten when full.  All functions are thread-safe.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>
#include <syslog.h>

void log_open(const char *ident, int facility, int level, int to_stderr);
void log_reconfigure(int facility, int level);
void log_close(void);
int log_wanted(int pri);
void log_msg(int pri, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_once(int pri, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *log_clean(const char *, size_t max);

#endif
