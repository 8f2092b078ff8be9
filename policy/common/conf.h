/*
 * conf - redmilter.conf: defaults, parsing and checking (redmilter.conf(5)),
 * shared by the daemon and redmilterctl.
 *
 * The keys are declared once, in a table in conf.c ({ name, type, default,
 * limits, field }), as Postfix's CONFIG_*_TABLE.  conf_init() fills every
 * default.  conf_read() reads a file of "key = value" lines ('#' starts a
 * comment line; blank lines ignored); conf_load() is conf_init() and
 * conf_read() of the file a program was given, or of the default file when
 * it was given none and that one exists; conf_set() sets one key (used by the
 * file reader and by command-line overrides).  Both return 0, or -1 with
 * err holding "FILE:LINE: problem" (conf_set: just the problem), for an
 * unknown key, a bad value, a duplicate key or an unreadable file; on error
 * the struct is still valid (and still needs conf_free()).  conf_finish()
 * checks the whole configuration after reading (for example reads
 * redis_password_file) and returns 0 or -1 with err.  conf_free() releases
 * every string and is safe on a conf_init()ed struct and twice.
 * conf_key_name() walks the keys' names, in order (NULL past the last).
 * Not thread-safe while being written; read-only use afterwards is.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

/*
 * Where both programs look for the file when none is named (-c).  The
 * Makefile passes $(SYSCONFDIR)/redmilter.conf (INSTALL, "Install"); this
 * default is a plain `make`'s.
 */
#ifndef CONF_DEFAULT_PATH
#define CONF_DEFAULT_PATH "/usr/local/etc/redmilter.conf"
#endif

enum conf_on_error { CONF_ON_ERROR_TEMPFAIL, CONF_ON_ERROR_ACCEPT };

enum conf_mode { CONF_MODE_ENFORCE, CONF_MODE_TEST };

/* log levels are syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, ... */

struct conf {
	char *socket;              /* "unix:/run/redmilter/redmilter.sock" */
	int socket_mode;           /* 0660 */
	char *user;                /* NULL: none */
	char *group;               /* NULL: none */
	char *pidfile;             /* NULL: none */
	char *redis;               /* "redis://127.0.0.1:6379/0" */
	char *redis_password_file; /* NULL: none */
	char *redis_password;      /* from the file, by conf_finish() */
	char *redis_read;          /* NULL: read from `redis` too */
	char *redis_sentinel_password_file; /* NULL: none */
	char *redis_sentinel_password;      /* from it, by conf_finish() */
	int redis_timeout;                  /* milliseconds, 500 */
	int redis_connections;              /* pool size, 4 */
	int cache;                          /* 1: on (tracking) */
	int cache_size;            /* rule values kept at most, 65536 */
	int cache_reread;          /* seconds between full re-reads, 300 */
	int cache_ttl_set;         /* the obsolete cache_ttl; non-zero: warn */
	char *prefix;              /* "redmilter:" */
	int delay_checks;          /* 1 */
	char *recipient_delimiter; /* "+"; "" disables */
	enum conf_on_error on_error;
	enum conf_mode mode;
	char *greylist_netmask; /* "24 64": conf_netmask() reads it */
	int greylist_header;    /* 1: X-Greylist on a delayed message */
	int hit_counters;       /* 1: rule hits counted in <prefix>_hits */
	char *metrics;          /* inet:PORT@HOST; NULL: no metrics */
	int log_level;          /* LOG_INFO */
	int syslog_facility;    /* LOG_MAIL */
};

void conf_init(struct conf *);
int conf_read(struct conf *, const char *path, char *err, size_t errlen);
int conf_load(struct conf *, const char **path, char *err, size_t errlen);
int conf_set(struct conf *, const char *key, const char *value, char *err,
             size_t errlen);
int conf_finish(struct conf *, char *err, size_t errlen);
void conf_free(struct conf *);
const char *conf_key_name(size_t);
int conf_netmask(const char *, int *bits4, int *bits6);

#endif
