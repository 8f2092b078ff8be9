/*
 * log - syslog and stderr logging.  See log.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "str.h"
#include "xmalloc.h"

#define ONCE_MAX 4096 /* distinct log_once() keys remembered */
#define LINE_MAX_LEN 2048

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_level = LOG_INFO;
static int log_stderr;
static const char *log_ident = "redmilter";

/* The keys log_once() has seen: an open-addressing set of hashes. */
static unsigned long once_seen[ONCE_MAX];
static size_t once_n;

/* log_open - start logging */
void
log_open(const char *ident, int facility, int level, int to_stderr)
{
	log_ident = ident;
	log_level = level;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	setlogmask(LOG_UPTO(level));
}

/* log_reconfigure - another facility and level, from a reload */
void
log_reconfigure(int facility, int level)
{
	atomic_store(&log_level, level);
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	setlogmask(LOG_UPTO(level));
}

/* log_close - stop logging */
void
log_close(void)
{
	closelog();
}

/* log_wanted - whether messages of priority pri are logged */
int
log_wanted(int pri)
{
	return pri <= log_level;
}

/* emit - one formatted line to syslog and perhaps stderr */
__attribute__((format(printf, 2, 0))) static void
emit(int pri, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];

	if (pri > log_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	syslog(pri, "%s", line);
	if (log_stderr) {
		pthread_mutex_lock(&log_mu);
		fprintf(stderr, "%s: %s\n", log_ident, line);
		pthread_mutex_unlock(&log_mu);
	}
}

/* log_msg - log a message */
void
log_msg(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(pri, fmt, ap);
	va_end(ap);
}

/* hash - FNV-1a, never 0 (0 marks an empty slot) */
static unsigned long
hash(const char *s)
{
	unsigned long h = 2166136261UL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619UL;
	return h == 0 ? 1 : h;
}

/* first_time - record a key; non-zero when it was new */
static int
first_time(const char *key)
{
	unsigned long h = hash(key);
	size_t i = h % ONCE_MAX;
	int fresh = 1;

	pthread_mutex_lock(&log_mu);
	if (once_n >= ONCE_MAX / 2) {
		memset(once_seen, 0, sizeof once_seen);
		once_n = 0;
	}
	while (once_seen[i] != 0) {
		if (once_seen[i] == h) {
			fresh = 0;
			break;
		}
		i = (i + 1) % ONCE_MAX;
	}
	if (fresh) {
		once_seen[i] = h;
		once_n++;
	}
	pthread_mutex_unlock(&log_mu);
	return fresh;
}

/* log_once - log only the first time key is seen */
void
log_once(int pri, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (!first_time(key))
		return;
	va_start(ap, fmt);
	emit(pri, fmt, ap);
	va_end(ap);
}

/* log_clean - a printable copy of untrusted text; the caller frees it */
char *
log_clean(const char *s, size_t max)
{
	if (s == NULL)
		return xstrdup("");
	return str_sanitize(s, strlen(s), max);
}
