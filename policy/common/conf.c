/*
 * conf - redmilter.conf: defaults, parsing and checking.
 *
 * Public: conf_init(), conf_read(), conf_load(), conf_set(), conf_finish(),
 * conf_free(), conf_key_name().
 * See conf.h for the contract.
 *
 * Every key is one row of keys[] below (Postfix CONFIG_*_TABLE): its name,
 * its type, its default written as in the file, its limits and the offset
 * of its field in struct conf.  conf_init() runs each default through the
 * same parser as the file, so the defaults live only in that table.
 *
 * The file is "key = value" lines.  Blank lines are ignored and '#' starts
 * a comment only as the first non-blank character of a line: a value may
 * hold '#' (a recipient_delimiter, a Redis password in a URL).  There is no
 * quoting; whitespace around the key, the '=' and the value is dropped.
 * The first problem stops the reading, with "FILE:LINE: problem" in err.
 *
 * Nothing here logs or exits; messages go into the caller's err buffer,
 * always bounded and NUL-terminated.  A struct conf is not thread-safe
 * while being written; read-only use afterwards is.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "errbuf.h"
#include "conf.h"
#include "redis_url.h"
#include "sockspec.h"
#include "str.h"
#include "xmalloc.h"

#define CONF_LINE_MAX 4096    /* longest line, without its newline */
#define CONF_PASSWORD_MAX 512 /* longest password in redis_password_file */
#define CONF_SHOW_MAX 64      /* longest value quoted in a message */

enum key_type {
	KEY_STRING, /* printable text, see the flags and check below */
	KEY_PATH,   /* an absolute path name */
	KEY_INT,    /* a decimal number in min..max */
	KEY_MODE,   /* octal permission bits in min..max */
	KEY_BOOL,   /* yes/no and friends */
	KEY_ENUM    /* one of names[] */
};

#define KEY_NONE 0x1    /* an empty value means none: the field is NULL */
#define KEY_NOSPACE 0x2 /* no whitespace inside the value */

struct name_value {
	const char *name;
	int value;
};

/* NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding): 16 rows */
struct conf_key {
	const char *name;
	enum key_type type;
	const char *def; /* the default, written as in the file */
	long min;        /* numbers: smallest value; strings: shortest */
	long max;        /* numbers: largest value; strings: longest */
	size_t offset;   /* of the field in struct conf */
	const struct name_value *names; /* KEY_ENUM: the allowed names */
	int (*check)(const char *, char *, size_t); /* more string checks */
	int flags;
};

static int check_socket(const char *, char *, size_t);
static int check_redis(const char *, char *, size_t);
static int check_delimiter(const char *, char *, size_t);
static int check_netmask(const char *, char *, size_t);
static int check_metrics(const char *, char *, size_t);

static const struct name_value bool_names[] = {
    {"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"on", 1},
    {"off", 0}, {"1", 1},  {"0", 0},    {NULL, 0},
};

static const struct name_value on_error_names[] = {
    {"tempfail", CONF_ON_ERROR_TEMPFAIL},
    {"accept", CONF_ON_ERROR_ACCEPT},
    {NULL, 0},
};

static const struct name_value mode_names[] = {
    {"enforce", CONF_MODE_ENFORCE},
    {"test", CONF_MODE_TEST},
    {NULL, 0},
};

static const struct name_value level_names[] = {
    {"error", LOG_ERR}, {"warning", LOG_WARNING},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},
    {NULL, 0},
};

static const struct name_value facility_names[] = {
    {"mail", LOG_MAIL},         {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0},     {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3},     {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6},     {"local7", LOG_LOCAL7}, {"auth", LOG_AUTH},
    {"authpriv", LOG_AUTHPRIV}, {"news", LOG_NEWS},     {"uucp", LOG_UUCP},
    {"cron", LOG_CRON},         {"lpr", LOG_LPR},       {NULL, 0},
};

#define F(field) offsetof(struct conf, field)

/* Every key, in the order of redmilter.conf(5). */
static const struct conf_key keys[] = {
    {"socket", KEY_STRING, "unix:/run/redmilter/redmilter.sock", 1, 1024,
     F(socket), NULL, check_socket, KEY_NOSPACE},
    {"socket_mode", KEY_MODE, "0660", 0, 0777, F(socket_mode), NULL, NULL, 0},
    {"user", KEY_STRING, "", 1, 64, F(user), NULL, NULL,
     KEY_NONE | KEY_NOSPACE},
    {"group", KEY_STRING, "", 1, 64, F(group), NULL, NULL,
     KEY_NONE | KEY_NOSPACE},
    {"pidfile", KEY_PATH, "", 1, 4095, F(pidfile), NULL, NULL, KEY_NONE},
    {"redis", KEY_STRING, "redis://127.0.0.1:6379/0", 1, 1024, F(redis), NULL,
     check_redis, KEY_NOSPACE},
    {"redis_password_file", KEY_PATH, "", 1, 4095, F(redis_password_file), NULL,
     NULL, KEY_NONE},
    {"redis_read", KEY_STRING, "", 1, 1024, F(redis_read), NULL, check_redis,
     KEY_NONE | KEY_NOSPACE},
    {"redis_sentinel_password_file", KEY_PATH, "", 1, 4095,
     F(redis_sentinel_password_file), NULL, NULL, KEY_NONE},
    {"redis_timeout", KEY_INT, "500", 1, 60000, F(redis_timeout), NULL, NULL,
     0},
    {"redis_connections", KEY_INT, "4", 1, 256, F(redis_connections), NULL,
     NULL, 0},
    {"cache", KEY_BOOL, "on", 0, 1, F(cache), bool_names, NULL, 0},
    {"cache_size", KEY_INT, "65536", 16, 10000000, F(cache_size), NULL, NULL,
     0},
    {"cache_reread", KEY_INT, "300", 1, 86400, F(cache_reread), NULL, NULL, 0},
    /* obsolete: read, range-checked, ignored (redmilter warns) */
    {"cache_ttl", KEY_INT, "0", 0, 3600000, F(cache_ttl_set), NULL, NULL, 0},
    {"prefix", KEY_STRING, "redmilter:", 1, 64, F(prefix), NULL, NULL,
     KEY_NOSPACE},
    {"delay_checks", KEY_BOOL, "yes", 0, 1, F(delay_checks), bool_names, NULL,
     0},
    {"recipient_delimiter", KEY_STRING, "+", 0, 8, F(recipient_delimiter), NULL,
     check_delimiter, KEY_NOSPACE},
    {"on_error", KEY_ENUM, "tempfail", 0, 0, F(on_error), on_error_names, NULL,
     0},
    {"mode", KEY_ENUM, "enforce", 0, 0, F(mode), mode_names, NULL, 0},
    {"greylist_netmask", KEY_STRING, "24 64", 1, 16, F(greylist_netmask), NULL,
     check_netmask, 0},
    {"greylist_header", KEY_BOOL, "yes", 0, 1, F(greylist_header), bool_names,
     NULL, 0},
    {"hit_counters", KEY_BOOL, "yes", 0, 1, F(hit_counters), bool_names, NULL,
     0},
    {"metrics", KEY_STRING, "", 1, 300, F(metrics), NULL, check_metrics,
     KEY_NONE | KEY_NOSPACE},
    {"log_level", KEY_ENUM, "info", 0, 0, F(log_level), level_names, NULL, 0},
    {"syslog_facility", KEY_ENUM, "mail", 0, 0, F(syslog_facility),
     facility_names, NULL, 0},
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* The enum fields are written through an int *. */
_Static_assert(sizeof(enum conf_on_error) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_mode) == sizeof(int), "enum size");

/* str_field - the char * field of key k in c */
static char **
str_field(struct conf *c, const struct conf_key *k)
{
	return (char **)(void *)((char *)c + k->offset);
}

/* int_field - the int (or enum) field of key k in c */
static int *
int_field(struct conf *c, const struct conf_key *k)
{
	return (int *)(void *)((char *)c + k->offset);
}

/* is_string - non-zero for the keys whose field is a char * */
static int
is_string(const struct conf_key *k)
{
	return k->type == KEY_STRING || k->type == KEY_PATH;
}

/* What parse_long() made of a value. */
enum number {
	NUMBER_OK,
	NUMBER_NOT,    /* not a number */
	NUMBER_TOO_BIG /* does not fit in a long */
};

/*
 * parse_long - a number, all of s, with strtol() in the given base
 *
 * Signs and blanks are refused.
 */
static enum number
parse_long(const char *s, int base, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*s))
		return NUMBER_NOT;
	errno = 0;
	n = strtol(s, &end, base);
	if (*end != '\0')
		return NUMBER_NOT;
	if (errno == ERANGE)
		return NUMBER_TOO_BIG;
	*out = n;
	return NUMBER_OK;
}

/* set_number - parse a KEY_INT (decimal) or KEY_MODE (octal) value */
static int
set_number(struct conf *c, const struct conf_key *k, const char *v, char *err,
           size_t errlen)
{
	int octal = k->type == KEY_MODE;
	char q[CONF_SHOW_MAX + 4];
	long n = 0;
	enum number r;

	str_quote(q, sizeof q, v);
	r = parse_long(v, octal ? 8 : 10, &n);
	if (r == NUMBER_NOT) {
		errbuf_set(err, errlen, "'%s' is not %s", q,
		           octal ? "an octal number" : "a number");
		return -1;
	}
	if (r == NUMBER_TOO_BIG || n < k->min || n > k->max) {
		if (octal)
			errbuf_set(
			    err, errlen, "'%s' is out of range %04lo..%04lo", q,
			    (unsigned long)k->min, (unsigned long)k->max);
		else
			errbuf_set(err, errlen, "'%s' is out of range %ld..%ld",
			           q, k->min, k->max);
		return -1;
	}
	*int_field(c, k) = (int)n;
	return 0;
}

/* find_name - the entry of names[] called v, case-insensitively, or NULL */
static const struct name_value *
find_name(const struct name_value *nv, const char *v)
{
	for (; nv->name != NULL; nv++)
		if (strcasecmp(nv->name, v) == 0)
			return nv;
	return NULL;
}

/* list_names - "a, b, c" from names[], truncated to fit buf */
static void
list_names(const struct name_value *nv, char *buf, size_t size)
{
	size_t len = 0;
	int n;

	buf[0] = '\0';
	for (; nv->name != NULL; nv++) {
		n = snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "",
		             nv->name);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
}

/* set_name - parse a KEY_BOOL or KEY_ENUM value */
static int
set_name(struct conf *c, const struct conf_key *k, const char *v, char *err,
         size_t errlen)
{
	const struct name_value *nv = find_name(k->names, v);
	char q[CONF_SHOW_MAX + 4], list[256];

	if (nv != NULL) {
		*int_field(c, k) = nv->value;
		return 0;
	}
	str_quote(q, sizeof q, v);
	if (k->type == KEY_BOOL) {
		errbuf_set(err, errlen, "'%s' is not yes or no", q);
	} else {
		list_names(k->names, list, sizeof list);
		errbuf_set(err, errlen, "'%s' is not one of %s", q, list);
	}
	return -1;
}

/* set_string - check a KEY_STRING or KEY_PATH value and store a copy */
static int
set_string(struct conf *c, const struct conf_key *k, const char *v, char *err,
           size_t errlen)
{
	char **field = str_field(c, k), q[CONF_SHOW_MAX + 4];
	size_t len = strlen(v);

	if (len == 0 && (k->flags & KEY_NONE)) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (len < (size_t)k->min) {
		errbuf_set(err, errlen, "empty value");
		return -1;
	}
	if (len > (size_t)k->max) {
		errbuf_set(err, errlen, "longer than %ld characters", k->max);
		return -1;
	}
	/* These messages do not quote the value: redis may hold a password. */
	if (!str_printable(v, len)) {
		errbuf_set(err, errlen,
		           "control or non-ASCII character in value");
		return -1;
	}
	if ((k->flags & KEY_NOSPACE) && strchr(v, ' ') != NULL) {
		errbuf_set(err, errlen, "whitespace in value");
		return -1;
	}
	if (k->type == KEY_PATH && *v != '/') {
		str_quote(q, sizeof q, v);
		errbuf_set(err, errlen, "'%s' is not an absolute path", q);
		return -1;
	}
	if (k->check != NULL && k->check(v, err, errlen) != 0)
		return -1;
	free(*field);
	*field = xstrdup(v);
	return 0;
}

/* One parser per type, indexed by enum key_type. */
static int (*const setters[])(struct conf *, const struct conf_key *,
                              const char *, char *, size_t) = {
    [KEY_STRING] = set_string, [KEY_PATH] = set_string, [KEY_INT] = set_number,
    [KEY_MODE] = set_number,   [KEY_BOOL] = set_name,   [KEY_ENUM] = set_name,
};

/* check_socket - a libmilter socket spec (sockspec.h) */
static int
check_socket(const char *v, char *err, size_t errlen)
{
	struct sockspec s;

	return sockspec_parse(v, &s, err, errlen);
}

/*
 * check_redis - a Redis address (redis_url.h), parsed as the store will
 *
 * redis_url_parse() never puts the password into its message.
 */
static int
check_redis(const char *v, char *err, size_t errlen)
{
	struct redis_url u;
	int r = redis_url_parse(v, &u, err, errlen);

	explicit_bzero(&u, sizeof u);
	return r;
}

/*
 * check_metrics - inet:PORT[@ADDRESS] or inet6:PORT[@ADDRESS], the
 * address numeric (no name is looked up); none means the loopback
 */
static int
check_metrics(const char *v, char *err, size_t errlen)
{
	struct sockspec s;
	unsigned char a[16];

	if (sockspec_parse(v, &s, err, errlen) != 0)
		return -1;
	if (s.type == SOCKSPEC_UNIX)
		return errbuf_set(err, errlen,
		                  "an HTTP server listens on inet:PORT@ADDRESS "
		                  "or inet6:PORT@ADDRESS, not a unix socket");
	if (s.host[0] != '\0' &&
	    inet_pton(s.type == SOCKSPEC_INET ? AF_INET : AF_INET6, s.host,
	              a) != 1)
		return errbuf_set(err, errlen,
		                  "\"%s\" is not a numeric IPv%c address (no "
		                  "name is looked up)",
		                  s.host, s.type == SOCKSPEC_INET ? '4' : '6');
	return 0;
}

/* check_delimiter - recipient_delimiter cannot hold '@' */
static int
check_delimiter(const char *v, char *err, size_t errlen)
{
	if (strchr(v, '@') != NULL) {
		errbuf_set(err, errlen, "'@' cannot be a delimiter");
		return -1;
	}
	return 0;
}

/*
 * conf_netmask - greylist_netmask's "BITS4 BITS6" (1..32, 1..128): 0, or
 * -1 when it is not that
 */
int
conf_netmask(const char *v, int *bits4, int *bits6)
{
	char *end;
	long a, b;

	if (*v < '0' || *v > '9')
		return -1;
	a = strtol(v, &end, 10);
	if (end == v || (*end != ' ' && *end != '\t'))
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	v = end;
	if (*v < '0' || *v > '9')
		return -1;
	b = strtol(v, &end, 10);
	if (end == v || *end != '\0' || a < 1 || a > 32 || b < 1 || b > 128)
		return -1;
	*bits4 = (int)a;
	*bits6 = (int)b;
	return 0;
}

/* check_netmask - two prefix lengths, IPv4's then IPv6's */
static int
check_netmask(const char *v, char *err, size_t errlen)
{
	int a, b;

	if (conf_netmask(v, &a, &b) != 0) {
		errbuf_set(err, errlen,
		           "expected two prefix lengths, IPv4's (1 to 32) then "
		           "IPv6's (1 to 128), as in \"24 64\"");
		return -1;
	}
	return 0;
}

/* set_key - parse v for key k into c; err gets "key: problem" */
static int
set_key(struct conf *c, const struct conf_key *k, const char *v, char *err,
        size_t errlen)
{
	char why[384];

	why[0] = '\0';
	if (setters[k->type](c, k, v, why, sizeof why) == 0)
		return 0;
	errbuf_set(err, errlen, "%s: %s", k->name, why);
	return -1;
}

/* find_key - the index of the key called name, or -1 */
static int
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * conf_init - every key at its default
 *
 * The struct must not hold anything yet (it is overwritten, not freed).
 */
void
conf_init(struct conf *c)
{
	size_t i;
	int r;

	memset(c, 0, sizeof *c);
	for (i = 0; i < NKEYS; i++) {
		r = set_key(c, &keys[i], keys[i].def, NULL, 0);
		/* A default its own parser refuses is a bug in keys[]. */
		assert(r == 0);
		(void)r;
	}
}

/* conf_key_name - the name of key i in the table's order, NULL past the end */
const char *
conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

/*
 * conf_set - set one key from text, as if read from the file
 *
 * Returns 0, or -1 with "unknown key 'x'" or "key: problem" in err; on
 * error the key keeps its previous value.  No duplicate check here: a
 * command-line override replaces what the file said.
 */
int
conf_set(struct conf *c, const char *key, const char *value, char *err,
         size_t errlen)
{
	char q[CONF_SHOW_MAX + 4];
	int i = find_key(key);

	if (i < 0) {
		str_quote(q, sizeof q, key);
		errbuf_set(err, errlen, "unknown key '%s'", q);
		return -1;
	}
	return set_key(c, &keys[i], value, err, errlen);
}

/* trim - drop leading and trailing whitespace of s in place */
static char *
trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/*
 * conf_line - apply one line of the file
 *
 * first[] holds the line each key was set on (0: not yet).  Returns 0, or
 * -1 with the problem (no file and line) in err.
 */
static int
conf_line(struct conf *c, char *line, unsigned long lineno,
          unsigned long first[], char *err, size_t errlen)
{
	char *key = trim(line), *eq, *value, q[CONF_SHOW_MAX + 4];
	int i;

	if (*key == '\0' || *key == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		errbuf_set(err, errlen, "missing '=' after key");
		return -1;
	}
	*eq = '\0';
	value = trim(eq + 1);
	key = trim(key);
	str_quote(q, sizeof q, key);
	if (*key == '\0') {
		errbuf_set(err, errlen, "missing key before '='");
		return -1;
	}
	if ((i = find_key(key)) < 0) {
		errbuf_set(err, errlen, "unknown key '%s'", q);
		return -1;
	}
	if (first[i] != 0) {
		errbuf_set(err, errlen,
		           "duplicate key '%s' (first set on line %lu)", q,
		           first[i]);
		return -1;
	}
	first[i] = lineno;
	return set_key(c, &keys[i], value, err, errlen);
}

enum line_status {
	LINE_OK,   /* a line is in buf */
	LINE_EOF,  /* no more lines */
	LINE_LONG, /* the line does not fit in buf */
	LINE_NUL,  /* the line holds a NUL byte */
	LINE_ERR   /* read error; see errno */
};

/*
 * read_line - read one line into buf, without its LF or a CR before it
 *
 * The line must fit in size - 1 bytes.  Reading stops at a problem: the
 * callers give up on the file then.
 */
static enum line_status
read_line(FILE *fp, char *buf, size_t size)
{
	size_t len = 0;
	int ch, cr = 0;

	for (;;) {
		if ((ch = getc(fp)) == EOF) {
			if (ferror(fp))
				return LINE_ERR;
			if (len == 0 && !cr)
				return LINE_EOF;
			break;
		}
		if (ch == '\n')
			break;
		if (cr) {
			if (len + 1 >= size)
				return LINE_LONG;
			buf[len++] = '\r';
			cr = 0;
		}
		if (ch == '\r') {
			cr = 1;
			continue;
		}
		if (ch == '\0')
			return LINE_NUL;
		if (len + 1 >= size)
			return LINE_LONG;
		buf[len++] = (char)ch;
	}
	buf[len] = '\0';
	return LINE_OK;
}

/* line_problem - the message for a line that read_line() refused */
static void
line_problem(enum line_status st, int e, char *err, size_t errlen)
{
	char why[128];

	if (st == LINE_LONG) {
		errbuf_set(err, errlen, "line longer than %d bytes",
		           CONF_LINE_MAX);
	} else if (st == LINE_NUL) {
		errbuf_set(err, errlen, "NUL byte in line");
	} else {
		errbuf_strerror(e, why, sizeof why);
		errbuf_set(err, errlen, "read error: %s", why);
	}
}

/*
 * conf_read - read a configuration file into c
 *
 * Returns 0, or -1 with "FILE:LINE: problem" (or "FILE: cannot open: ...")
 * in err.  Keys before the bad line are set; c stays valid either way.
 */
int
conf_read(struct conf *c, const char *path, char *err, size_t errlen)
{
	unsigned long first[NKEYS], lineno = 0;
	char line[CONF_LINE_MAX + 1], msg[512], why[128];
	enum line_status st;
	FILE *fp;
	int ret = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		errbuf_strerror(errno, why, sizeof why);
		errbuf_set(err, errlen, "%s: cannot open: %s", path, why);
		return -1;
	}
	memset(first, 0, sizeof first);
	while (ret == 0 &&
	       (st = read_line(fp, line, sizeof line)) != LINE_EOF) {
		lineno++;
		if (st == LINE_OK) {
			ret =
			    conf_line(c, line, lineno, first, msg, sizeof msg);
		} else {
			line_problem(st, errno, msg, sizeof msg);
			ret = -1;
		}
		if (ret != 0)
			errbuf_set(err, errlen, "%s:%lu: %s", path, lineno,
			           msg);
	}
	(void)fclose(fp); /* read only: nothing to lose */
	return ret;
}

/*
 * conf_load - conf_init(), then the file at *path; with *path NULL, the
 * file at CONF_DEFAULT_PATH if there is one
 *
 * Only a default file that does not exist means the defaults (*path stays
 * NULL then); one that cannot be read is an error, as a named file is.
 * Returns 0 with *path the file read, or -1 with the problem in err, as
 * conf_read().  The caller still calls conf_finish() (after any override).
 */
int
conf_load(struct conf *c, const char **path, char *err, size_t errlen)
{
	conf_init(c);
	if (*path == NULL) {
		if (access(CONF_DEFAULT_PATH, F_OK) != 0 && errno == ENOENT)
			return 0;
		*path = CONF_DEFAULT_PATH;
	}
	return conf_read(c, *path, err, errlen);
}

/* wipe - overwrite and free a secret string, leave NULL */
static void
wipe(char **p)
{
	if (*p != NULL) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* read_password - the first line of path, into *out */
static int
read_password(const char *path, char **out, char *err, size_t errlen)
{
	char buf[CONF_PASSWORD_MAX + 1], why[128];
	enum line_status st;
	FILE *fp;
	int e;

	if ((fp = fopen(path, "re")) == NULL) {
		errbuf_strerror(errno, why, sizeof why);
		errbuf_set(err, errlen, "%s: cannot open: %s", path, why);
		return -1;
	}
	/* Unbuffered, so that no stdio buffer keeps a copy. */
	(void)setvbuf(fp, NULL, _IONBF, 0);
	st = read_line(fp, buf, sizeof buf);
	e = errno;
	(void)fclose(fp);
	if (st == LINE_OK && buf[0] != '\0') {
		*out = xstrdup(buf);
	} else if (st == LINE_OK || st == LINE_EOF) {
		errbuf_set(err, errlen, "%s: no password on the first line",
		           path);
	} else if (st == LINE_LONG) {
		errbuf_set(err, errlen, "%s: password longer than %d bytes",
		           path, CONF_PASSWORD_MAX);
	} else if (st == LINE_NUL) {
		errbuf_set(err, errlen, "%s: NUL byte in the password", path);
	} else {
		errbuf_strerror(e, why, sizeof why);
		errbuf_set(err, errlen, "%s: read error: %s", path, why);
	}
	explicit_bzero(buf, sizeof buf);
	return *out != NULL ? 0 : -1;
}

/*
 * conf_finish - check the whole configuration once it is read
 *
 * Reads redis_password_file into redis_password.  Refuses a password file
 * together with a password in the redis URL: one of them would be ignored.
 * Returns 0, or -1 with "FILE: problem" or "key: problem" in err.
 */
int
conf_finish(struct conf *c, char *err, size_t errlen)
{
	struct redis_url u;
	int has_auth;

	wipe(&c->redis_password);
	wipe(&c->redis_sentinel_password);
	if (c->redis_sentinel_password_file != NULL &&
	    read_password(c->redis_sentinel_password_file,
	                  &c->redis_sentinel_password, err, errlen) != 0)
		return -1;
	if (c->redis_password_file == NULL)
		return 0;
	has_auth = c->redis != NULL &&
	           redis_url_parse(c->redis, &u, NULL, 0) == 0 && u.has_auth;
	explicit_bzero(&u, sizeof u);
	if (has_auth)
		return errbuf_set(err, errlen,
		                  "redis_password_file: redis holds a password "
		                  "too: use only one of them");
	return read_password(c->redis_password_file, &c->redis_password, err,
	                     errlen);
}

/*
 * conf_free - release every string of c and leave the pointers NULL
 *
 * The password is overwritten first.  Safe to call twice.
 */
void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (is_string(&keys[i])) {
			char **field = str_field(c, &keys[i]);

			free(*field);
			*field = NULL;
		}
	}
	wipe(&c->redis_password);
	wipe(&c->redis_sentinel_password);
}
