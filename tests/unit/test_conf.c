/*
 * test_conf - redmilter.conf parsing and defaults (policy/common/conf.c)
 *
 * Files are written with mkstemp() under /tmp and removed before the
 * assertions, so a failing test leaves nothing behind.
 */
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"

/* write_temp - a new /tmp file holding len bytes of text; path into buf */
static void
write_temp(const char *text, size_t len, char *path, size_t size)
{
	FILE *fp;
	int fd;

	ck_assert_uint_gt(size, sizeof "/tmp/test_conf.XXXXXX");
	memcpy(path, "/tmp/test_conf.XXXXXX", sizeof "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* read_text - conf_read() of a temporary file holding len bytes of text */
static int
read_text(struct conf *c, const char *text, size_t len, char *path, size_t size,
          char *err, size_t errlen)
{
	int r;

	write_temp(text, len, path, size);
	r = conf_read(c, path, err, errlen);
	unlink(path);
	return r;
}

/* read_str - read_text() of a C string */
static int
read_str(struct conf *c, const char *text, char *path, size_t size, char *err,
         size_t errlen)
{
	return read_text(c, text, strlen(text), path, size, err, errlen);
}

/* Every key of redmilter.conf(5), in its order. */
static const char *const all_keys[] = {
    "socket",
    "socket_mode",
    "user",
    "group",
    "pidfile",
    "redis",
    "redis_password_file",
    "redis_read",
    "redis_sentinel_password_file",
    "redis_timeout",
    "redis_connections",
    "cache",
    "cache_size",
    "cache_reread",
    "cache_ttl",
    "prefix",
    "delay_checks",
    "recipient_delimiter",
    "on_error",
    "mode",
    "greylist_netmask",
    "greylist_header",
    "hit_counters",
    "metrics",
    "log_level",
    "syslog_facility",
};

#define NDEFAULTS (int)(sizeof all_keys / sizeof all_keys[0])

/* assert_defaults - every field of c at its documented default */
static void
assert_defaults(const struct conf *c)
{
	ck_assert_str_eq(c->socket, "unix:/run/redmilter/redmilter.sock");
	ck_assert_int_eq(c->socket_mode, 0660);
	ck_assert_ptr_null(c->user);
	ck_assert_ptr_null(c->group);
	ck_assert_ptr_null(c->pidfile);
	ck_assert_str_eq(c->redis, "redis://127.0.0.1:6379/0");
	ck_assert_ptr_null(c->redis_password_file);
	ck_assert_ptr_null(c->redis_password);
	ck_assert_int_eq(c->redis_timeout, 500);
	ck_assert_int_eq(c->redis_connections, 4);
	ck_assert_int_eq(c->cache, 1);
	ck_assert_int_eq(c->cache_size, 65536);
	ck_assert_int_eq(c->cache_reread, 300);
	ck_assert_int_eq(c->cache_ttl_set, 0);
	ck_assert_str_eq(c->prefix, "redmilter:");
	ck_assert_int_eq(c->delay_checks, 1);
	ck_assert_str_eq(c->recipient_delimiter, "+");
	ck_assert_int_eq(c->on_error, CONF_ON_ERROR_TEMPFAIL);
	ck_assert_int_eq(c->mode, CONF_MODE_ENFORCE);
	ck_assert_str_eq(c->greylist_netmask, "24 64");
	ck_assert_int_eq(c->greylist_header, 1);
	ck_assert_int_eq(c->hit_counters, 1);
	ck_assert_ptr_null(c->metrics);
	ck_assert_int_eq(c->log_level, LOG_INFO);
	ck_assert_int_eq(c->syslog_facility, LOG_MAIL);
}

START_TEST(conf_init_sets_spec_defaults)
{
	struct conf c;

	conf_init(&c);
	assert_defaults(&c);
	conf_free(&c);
}
END_TEST

START_TEST(conf_key_name_walks_the_documented_keys_in_order)
{
	size_t i;

	for (i = 0; i < (size_t)NDEFAULTS; i++)
		ck_assert_str_eq(conf_key_name(i), all_keys[i]);
	ck_assert_ptr_null(conf_key_name(i));
}
END_TEST

START_TEST(conf_set_knows_every_documented_key)
{
	char err[512] = "";
	struct conf c;

	conf_init(&c);
	/* The value may be refused; the key must not be. */
	(void)conf_set(&c, all_keys[_i], "", err, sizeof err);
	ck_assert_msg(strncmp(err, "unknown key", 11) != 0, "%s", err);
	conf_free(&c);
}
END_TEST

START_TEST(conf_load_reads_the_file_it_is_given)
{
	char path[64], err[512] = "";
	const char *p = path;
	struct conf c;

	write_temp("prefix = given:\n", 16, path, sizeof path);
	ck_assert_msg(conf_load(&c, &p, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_eq(p, path);
	ck_assert_str_eq(c.prefix, "given:");
	conf_free(&c);
	unlink(path);
	ck_assert_int_eq(conf_load(&c, &p, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, ": cannot open: "));
	conf_free(&c);
}
END_TEST

START_TEST(conf_load_without_a_path_takes_the_default_file_if_any)
{
	char err[512] = "";
	const char *p = NULL;
	struct conf c;
	int missing = access(CONF_DEFAULT_PATH, F_OK) != 0 && errno == ENOENT;
	int r = conf_load(&c, &p, err, sizeof err);

	if (missing) {
		ck_assert_int_eq(r, 0);
		ck_assert_ptr_null(p);
		assert_defaults(&c);
	} else {
		ck_assert_str_eq(p, CONF_DEFAULT_PATH);
	}
	conf_free(&c);
}
END_TEST

static const char full_file[] =
    "# a full configuration\n"
    "socket = inet:8891@127.0.0.1\n"
    "socket_mode = 0600\n"
    "user = redmilter\n"
    "group = postfix\n"
    "pidfile = /run/redmilter/redmilter.pid\n"
    "redis = unix:/run/redis/redis.sock?db=2\n"
    "redis_password_file = /etc/redmilter/redis.pass\n"
    "redis_timeout = 250\n"
    "redis_connections = 16\n"
    "prefix = rm:\n"
    "delay_checks = no\n"
    "recipient_delimiter = +-\n"
    "on_error = accept\n"
    "mode = test\n"
    "log_level = debug\n"
    "syslog_facility = local3\n";

START_TEST(conf_read_accepts_a_full_file)
{
	char path[64], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_msg(
	    read_str(&c, full_file, path, sizeof path, err, sizeof err) == 0,
	    "%s", err);
	ck_assert_str_eq(c.socket, "inet:8891@127.0.0.1");
	ck_assert_int_eq(c.socket_mode, 0600);
	ck_assert_str_eq(c.user, "redmilter");
	ck_assert_str_eq(c.group, "postfix");
	ck_assert_str_eq(c.pidfile, "/run/redmilter/redmilter.pid");
	ck_assert_str_eq(c.redis, "unix:/run/redis/redis.sock?db=2");
	ck_assert_str_eq(c.redis_password_file, "/etc/redmilter/redis.pass");
	ck_assert_ptr_null(c.redis_password);
	ck_assert_int_eq(c.redis_timeout, 250);
	ck_assert_int_eq(c.redis_connections, 16);
	ck_assert_str_eq(c.prefix, "rm:");
	ck_assert_int_eq(c.delay_checks, 0);
	ck_assert_str_eq(c.recipient_delimiter, "+-");
	ck_assert_int_eq(c.on_error, CONF_ON_ERROR_ACCEPT);
	ck_assert_int_eq(c.mode, CONF_MODE_TEST);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert_int_eq(c.syslog_facility, LOG_LOCAL3);
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_skips_comments_and_blank_lines_and_trims)
{
	static const char text[] = "\n"
	                           "   \t\n"
	                           "# comment = ignored\n"
	                           "   # indented comment\n"
	                           "\t#\n"
	                           "  prefix\t=\t  a:b:  \r\n"
	                           "redis_timeout=42\r\n"
	                           "recipient_delimiter = #\n"
	                           "redis = redis://:pa#ss=w@host:6380/1\n"
	                           "socket = unix:/tmp/x#y.sock";
	char path[64], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_msg(read_str(&c, text, path, sizeof path, err, sizeof err) ==
	                  0,
	              "%s", err);
	ck_assert_str_eq(c.prefix, "a:b:");
	ck_assert_int_eq(c.redis_timeout, 42);
	ck_assert_str_eq(c.recipient_delimiter, "#");
	ck_assert_str_eq(c.redis, "redis://:pa#ss=w@host:6380/1");
	ck_assert_str_eq(c.socket, "unix:/tmp/x#y.sock");
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_of_an_empty_file_keeps_defaults)
{
	char path[64], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(read_str(&c, "", path, sizeof path, err, sizeof err),
	                 0);
	assert_defaults(&c);
	conf_free(&c);
}
END_TEST

/* A file, and the message conf_read() gives, after "FILE". */
struct bad {
	const char *text;
	const char *why;
};

static const struct bad bads[] = {
    {"socket\n", ":1: missing '=' after key"},
    {"# c\n\n  redis_timeout 500\n", ":3: missing '=' after key"},
    {"foo = 1\n", ":1: unknown key 'foo'"},
    {"Prefix = x:\n", ":1: unknown key 'Prefix'"},
    {"redis password = x\n", ":1: unknown key 'redis password'"},
    {"redis_password = x\n", ":1: unknown key 'redis_password'"},
    {" = 1\n", ":1: missing key before '='"},
    {"redis_timeout = 5x\n", ":1: redis_timeout: '5x' is not a number"},
    {"redis_timeout =\n", ":1: redis_timeout: '' is not a number"},
    {"redis_timeout = -5\n", ":1: redis_timeout: '-5' is not a number"},
    {"redis_timeout = +5\n", ":1: redis_timeout: '+5' is not a number"},
    {"redis_timeout = 0x10\n", ":1: redis_timeout: '0x10' is not a number"},
    {"redis_timeout = 5 0\n", ":1: redis_timeout: '5 0' is not a number"},
    {"redis_timeout = 0\n", ":1: redis_timeout: '0' is out of range 1..60000"},
    {"redis_timeout = 60001\n",
     ":1: redis_timeout: '60001' is out of range 1..60000"},
    {"redis_timeout = 99999999999999999999999\n",
     ":1: redis_timeout: '99999999999999999999999' is out of range "
     "1..60000"},
    {"redis_connections = 0\n",
     ":1: redis_connections: '0' is out of range 1..256"},
    {"redis_connections = 257\n",
     ":1: redis_connections: '257' is out of range 1..256"},
    {"cache_ttl = 3600001\n",
     ":1: cache_ttl: '3600001' is out of range 0..3600000"},
    {"cache_size = 15\n", ":1: cache_size: '15' is out of range 16..10000000"},
    {"cache_reread = 0\n", ":1: cache_reread: '0' is out of range 1..86400"},
    {"cache_reread = 86401\n",
     ":1: cache_reread: '86401' is out of range 1..86400"},
    {"socket_mode = 0999\n", ":1: socket_mode: '0999' is not an octal number"},
    {"socket_mode = rw\n", ":1: socket_mode: 'rw' is not an octal number"},
    {"socket_mode = 01000\n",
     ":1: socket_mode: '01000' is out of range 0000..0777"},
    {"delay_checks = maybe\n", ":1: delay_checks: 'maybe' is not yes or no"},
    {"delay_checks =\n", ":1: delay_checks: '' is not yes or no"},
    {"on_error = reject\n",
     ":1: on_error: 'reject' is not one of tempfail, accept"},
    {"mode = strict\n", ":1: mode: 'strict' is not one of enforce, test"},
    {"log_level = notice\n",
     ":1: log_level: 'notice' is not one of error, warning, info, debug"},
    {"syslog_facility = local8\n",
     ":1: syslog_facility: 'local8' is not one of mail, daemon, user, "
     "local0, local1, local2, local3, local4, local5, local6, local7, auth, "
     "authpriv, news, uucp, cron, lpr"},
    {"socket =\n", ":1: socket: empty value"},
    {"socket = /run/redmilter.sock\n",
     ":1: socket: '/run/redmilter.sock' has no type: write "
     "unix:/run/redmilter.sock"},
    {"socket = tcp:25\n",
     ":1: socket: 'tcp:25' is not unix:PATH, local:PATH, inet:PORT[@HOST] "
     "or inet6:PORT[@HOST]"},
    {"socket = UNIX:/run/x.sock\n",
     ":1: socket: 'UNIX:/run/x.sock' is not unix:PATH, local:PATH, "
     "inet:PORT[@HOST] or inet6:PORT[@HOST]"},
    {"socket = unix:run/x.sock\n",
     ":1: socket: 'run/x.sock' is not an absolute path"},
    {"socket = local:\n", ":1: socket: '' is not an absolute path"},
    {"socket = unix:/run/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "\n",
     ":1: socket: unix socket path longer than 107 bytes"},
    {"socket = inet:\n", ":1: socket: port '' is not a number 1..65535"},
    {"socket = inet:0\n", ":1: socket: port '0' is not a number 1..65535"},
    {"socket = inet:65536@localhost\n",
     ":1: socket: port '65536' is not a number 1..65535"},
    {"socket = inet:smtp\n",
     ":1: socket: port 'smtp' is not a number 1..65535"},
    {"socket = inet:12345678@h\n",
     ":1: socket: port '12345678@h' is not a number 1..65535"},
    {"socket = inet6:@::1\n", ":1: socket: port '' is not a number 1..65535"},
    {"socket = inet:8891@\n", ":1: socket: no host after '@'"},
    {"socket = unix:/run/my socket\n", ":1: socket: whitespace in value"},
    {"redis = http://127.0.0.1/\n",
     ":1: redis: must start with redis://, unix: or sentinel://"},
    {"redis = 127.0.0.1:6379\n",
     ":1: redis: must start with redis://, unix: or sentinel://"},
    /* The whole address is parsed here, as the store will parse it. */
    {"redis = redis://\n", ":1: redis: redis://: bad host"},
    {"redis = redis://h:99999\n", ":1: redis: redis://: bad port"},
    {"redis = redis://token@h\n",
     ":1: redis: redis://: expected ':password@' before the host"},
    {"redis = sentinel://h1/\n", ":1: redis: sentinel://: bad master name"},
    {"redis_read = unix:run/redis.sock\n",
     ":1: redis_read: unix: needs an absolute socket path"},
    {"redis =\n", ":1: redis: empty value"},
    {"redis = redis://:my secret@host\n", ":1: redis: whitespace in value"},
    {"prefix =\n", ":1: prefix: empty value"},
    {"prefix = a b\n", ":1: prefix: whitespace in value"},
    {"prefix = a:b # trailing comments are values\n",
     ":1: prefix: whitespace in value"},
    {"prefix = "
     "12345678901234567890123456789012345678901234567890123456789012345\n",
     ":1: prefix: longer than 64 characters"},
    {"prefix = caf\xc3\xa9:\n",
     ":1: prefix: control or non-ASCII character in value"},
    {"recipient_delimiter = +@\n",
     ":1: recipient_delimiter: '@' cannot be a delimiter"},
    {"recipient_delimiter = + -\n",
     ":1: recipient_delimiter: whitespace in value"},
    {"recipient_delimiter = 123456789\n",
     ":1: recipient_delimiter: longer than 8 characters"},
    {"greylist_netmask = 24\n",
     ":1: greylist_netmask: expected two prefix lengths, IPv4's (1 to 32) "
     "then IPv6's (1 to 128), as in \"24 64\""},
    {"greylist_netmask = 33 64\n",
     ":1: greylist_netmask: expected two prefix lengths, IPv4's (1 to 32) "
     "then IPv6's (1 to 128), as in \"24 64\""},
    {"greylist_netmask = 24 0\n",
     ":1: greylist_netmask: expected two prefix lengths, IPv4's (1 to 32) "
     "then IPv6's (1 to 128), as in \"24 64\""},
    {"greylist_netmask = 24 64x\n",
     ":1: greylist_netmask: expected two prefix lengths, IPv4's (1 to 32) "
     "then IPv6's (1 to 128), as in \"24 64\""},
    {"metrics = unix:/run/m.sock\n",
     ":1: metrics: an HTTP server listens on inet:PORT@ADDRESS or "
     "inet6:PORT@ADDRESS, not a unix socket"},
    {"metrics = inet:9491@localhost\n",
     ":1: metrics: \"localhost\" is not a numeric IPv4 address (no name is "
     "looked up)"},
    {"metrics = inet6:9491@127.0.0.1\n",
     ":1: metrics: \"127.0.0.1\" is not a numeric IPv6 address (no name is "
     "looked up)"},
    {"greylist_header = maybe\n",
     ":1: greylist_header: 'maybe' is not yes or no"},
    {"hit_counters = often\n", ":1: hit_counters: 'often' is not yes or no"},
    {"user = red milter\n", ":1: user: whitespace in value"},
    {"group = mail\tgroup\n",
     ":1: group: control or non-ASCII character in value"},
    {"pidfile = run/redmilter.pid\n",
     ":1: pidfile: 'run/redmilter.pid' is not an absolute path"},
    {"redis_password_file = redis.pass\n",
     ":1: redis_password_file: 'redis.pass' is not an absolute path"},
    {"prefix = a:\n\nprefix = b:\n",
     ":3: duplicate key 'prefix' (first set on line 1)"},
    {"socket_mode = 0600\nuser = x\nsocket_mode = 0600\n",
     ":3: duplicate key 'socket_mode' (first set on line 1)"},
    {"mode = test\nmode = foo\n",
     ":2: duplicate key 'mode' (first set on line 1)"},
};

START_TEST(conf_read_reports_file_line_and_problem)
{
	const struct bad *b = &bads[_i];
	char path[64], want[640], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(
	    read_str(&c, b->text, path, sizeof path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s%s", path, b->why);
	ck_assert_str_eq(err, want);
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_refuses_a_nul_byte)
{
	static const char text[] = "prefix = a:\nuser = x\0y\n";
	char path[64], want[128], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(read_text(&c, text, sizeof text - 1, path, sizeof path,
	                           err, sizeof err),
	                 -1);
	snprintf(want, sizeof want, "%s:2: NUL byte in line", path);
	ck_assert_str_eq(err, want);
	conf_free(&c);
}
END_TEST

/* long_line_file - "#" and n - 1 'x', a newline, then "\nmode = test\n" */
static char *
long_line_file(size_t n, const char *eol, size_t *len)
{
	char *text = malloc(n + 32);

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', n);
	text[0] = '#';
	*len = n + (size_t)snprintf(text + n, 32, "%s\nmode = test\n", eol);
	return text;
}

START_TEST(conf_read_takes_lines_of_4096_bytes_and_no_longer)
{
	char path[64], want[128], err[512] = "";
	struct conf c;
	size_t len;
	char *text;

	conf_init(&c);
	text = long_line_file(4096, "\r", &len);
	ck_assert_msg(
	    read_text(&c, text, len, path, sizeof path, err, sizeof err) == 0,
	    "%s", err);
	free(text);
	ck_assert_int_eq(c.mode, CONF_MODE_TEST);

	conf_free(&c);
	conf_init(&c);
	text = long_line_file(4097, "", &len);
	ck_assert_int_eq(
	    read_text(&c, text + 0, len, path, sizeof path, err, sizeof err),
	    -1);
	free(text);
	snprintf(want, sizeof want, "%s:1: line longer than 4096 bytes", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(c.mode, CONF_MODE_ENFORCE);
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_counts_the_long_line_number)
{
	char path[64], want[128], err[512] = "";
	char text[5000];
	struct conf c;

	memcpy(text, "mode = test\n# ", 14);
	memset(text + 14, 'y', 4100);
	memcpy(text + 4114, "\n", 2);
	conf_init(&c);
	ck_assert_int_eq(read_str(&c, text, path, sizeof path, err, sizeof err),
	                 -1);
	snprintf(want, sizeof want, "%s:2: line longer than 4096 bytes", path);
	ck_assert_str_eq(err, want);
	/* The lines before the bad one are set; the struct stays valid. */
	ck_assert_int_eq(c.mode, CONF_MODE_TEST);
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_reports_a_file_it_cannot_open)
{
	char path[64], want[160], err[512] = "";
	struct conf c;

	write_temp("", 0, path, sizeof path);
	unlink(path);
	conf_init(&c);
	ck_assert_int_eq(conf_read(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want,
	         "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);
	assert_defaults(&c);
	/* A directory opens, but reading it fails. */
	ck_assert_int_eq(conf_read(&c, "/tmp", err, sizeof err), -1);
	ck_assert_str_eq(err, "/tmp:1: read error: Is a directory");
	conf_free(&c);
}
END_TEST

/* One enum or bool value, and where it lands. */
struct named {
	const char *key;
	const char *value;
	size_t offset;
	int want;
};

#define AT(field) offsetof(struct conf, field)

static const struct named nameds[] = {
    {"on_error", "tempfail", AT(on_error), CONF_ON_ERROR_TEMPFAIL},
    {"on_error", "accept", AT(on_error), CONF_ON_ERROR_ACCEPT},
    {"on_error", "ACCEPT", AT(on_error), CONF_ON_ERROR_ACCEPT},
    {"mode", "enforce", AT(mode), CONF_MODE_ENFORCE},
    {"mode", "test", AT(mode), CONF_MODE_TEST},
    {"mode", "Test", AT(mode), CONF_MODE_TEST},
    {"log_level", "error", AT(log_level), LOG_ERR},
    {"log_level", "warning", AT(log_level), LOG_WARNING},
    {"log_level", "info", AT(log_level), LOG_INFO},
    {"log_level", "debug", AT(log_level), LOG_DEBUG},
    {"log_level", "DEBUG", AT(log_level), LOG_DEBUG},
    {"syslog_facility", "mail", AT(syslog_facility), LOG_MAIL},
    {"syslog_facility", "daemon", AT(syslog_facility), LOG_DAEMON},
    {"syslog_facility", "user", AT(syslog_facility), LOG_USER},
    {"syslog_facility", "local0", AT(syslog_facility), LOG_LOCAL0},
    {"syslog_facility", "local1", AT(syslog_facility), LOG_LOCAL1},
    {"syslog_facility", "local2", AT(syslog_facility), LOG_LOCAL2},
    {"syslog_facility", "local3", AT(syslog_facility), LOG_LOCAL3},
    {"syslog_facility", "local4", AT(syslog_facility), LOG_LOCAL4},
    {"syslog_facility", "local5", AT(syslog_facility), LOG_LOCAL5},
    {"syslog_facility", "local6", AT(syslog_facility), LOG_LOCAL6},
    {"syslog_facility", "local7", AT(syslog_facility), LOG_LOCAL7},
    {"syslog_facility", "auth", AT(syslog_facility), LOG_AUTH},
    {"syslog_facility", "authpriv", AT(syslog_facility), LOG_AUTHPRIV},
    {"syslog_facility", "news", AT(syslog_facility), LOG_NEWS},
    {"syslog_facility", "uucp", AT(syslog_facility), LOG_UUCP},
    {"syslog_facility", "cron", AT(syslog_facility), LOG_CRON},
    {"syslog_facility", "lpr", AT(syslog_facility), LOG_LPR},
    {"syslog_facility", "LOCAL7", AT(syslog_facility), LOG_LOCAL7},
    {"greylist_header", "no", AT(greylist_header), 0},
    {"greylist_header", "yes", AT(greylist_header), 1},
    {"hit_counters", "no", AT(hit_counters), 0},
    {"hit_counters", "yes", AT(hit_counters), 1},
    {"delay_checks", "yes", AT(delay_checks), 1},
    {"delay_checks", "no", AT(delay_checks), 0},
    {"delay_checks", "true", AT(delay_checks), 1},
    {"delay_checks", "false", AT(delay_checks), 0},
    {"delay_checks", "on", AT(delay_checks), 1},
    {"delay_checks", "off", AT(delay_checks), 0},
    {"delay_checks", "1", AT(delay_checks), 1},
    {"delay_checks", "0", AT(delay_checks), 0},
    {"delay_checks", "YES", AT(delay_checks), 1},
    {"delay_checks", "No", AT(delay_checks), 0},
    {"delay_checks", "True", AT(delay_checks), 1},
    {"delay_checks", "FALSE", AT(delay_checks), 0},
    {"delay_checks", "On", AT(delay_checks), 1},
    {"delay_checks", "oFF", AT(delay_checks), 0},
    {"socket_mode", "0660", AT(socket_mode), 0660},
    {"socket_mode", "660", AT(socket_mode), 0660},
    {"socket_mode", "0777", AT(socket_mode), 0777},
    {"socket_mode", "0007", AT(socket_mode), 07},
    {"socket_mode", "0", AT(socket_mode), 0},
    {"socket_mode", "0000", AT(socket_mode), 0},
    {"redis_timeout", "1", AT(redis_timeout), 1},
    {"redis_timeout", "60000", AT(redis_timeout), 60000},
    {"redis_timeout", "0500", AT(redis_timeout), 500},
    {"redis_connections", "1", AT(redis_connections), 1},
    {"redis_connections", "256", AT(redis_connections), 256},
};

START_TEST(conf_read_accepts_each_named_and_numeric_value)
{
	const struct named *n = &nameds[_i];
	char path[64], text[128], err[512] = "";
	struct conf c;
	int got;

	/* Start from a value that differs from the one to be read. */
	conf_init(&c);
	memset((char *)&c + n->offset, 0x55, sizeof(int));
	snprintf(text, sizeof text, "%s = %s\n", n->key, n->value);
	ck_assert_msg(read_str(&c, text, path, sizeof path, err, sizeof err) ==
	                  0,
	              "%s", err);
	memcpy(&got, (char *)&c + n->offset, sizeof got);
	ck_assert_int_eq(got, n->want);
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_takes_names_in_any_case_and_octal_modes)
{
	char path[64], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(read_str(&c,
	                          "delay_checks = OFF\nsocket_mode = 7\n"
	                          "syslog_facility = LOCAL5\n"
	                          "log_level = Warning\n",
	                          path, sizeof path, err, sizeof err),
	                 0);
	ck_assert_int_eq(c.delay_checks, 0);
	ck_assert_int_eq(c.socket_mode, 07);
	ck_assert_int_eq(c.syslog_facility, LOG_LOCAL5);
	ck_assert_int_eq(c.log_level, LOG_WARNING);
	conf_free(&c);
}
END_TEST

START_TEST(conf_read_takes_empty_delimiter_and_none_values)
{
	static const char text[] = "recipient_delimiter =\n"
	                           "user = \n"
	                           "group =\t\n"
	                           "pidfile =\n"
	                           "redis_password_file =\n";
	char path[64], err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(conf_set(&c, "user", "mail", err, sizeof err), 0);
	ck_assert_int_eq(conf_set(&c, "pidfile", "/run/r.pid", err, sizeof err),
	                 0);
	ck_assert_msg(read_str(&c, text, path, sizeof path, err, sizeof err) ==
	                  0,
	              "%s", err);
	ck_assert_ptr_nonnull(c.recipient_delimiter);
	ck_assert_str_eq(c.recipient_delimiter, "");
	ck_assert_ptr_null(c.user);
	ck_assert_ptr_null(c.group);
	ck_assert_ptr_null(c.pidfile);
	ck_assert_ptr_null(c.redis_password_file);
	conf_free(&c);
}
END_TEST

START_TEST(conf_set_overrides_and_keeps_old_value_on_error)
{
	char err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(conf_set(&c, "prefix", "other:", err, sizeof err), 0);
	ck_assert_str_eq(c.prefix, "other:");
	ck_assert_int_eq(conf_set(&c, "prefix", "again:", err, sizeof err), 0);
	ck_assert_str_eq(c.prefix, "again:");
	ck_assert_int_eq(conf_set(&c, "prefix", "", err, sizeof err), -1);
	ck_assert_str_eq(err, "prefix: empty value");
	ck_assert_str_eq(c.prefix, "again:");
	ck_assert_int_eq(conf_set(&c, "redis_timeout", "5x", err, sizeof err),
	                 -1);
	ck_assert_str_eq(err, "redis_timeout: '5x' is not a number");
	ck_assert_int_eq(c.redis_timeout, 500);
	ck_assert_int_eq(conf_set(&c, "nosuch", "1", err, sizeof err), -1);
	ck_assert_str_eq(err, "unknown key 'nosuch'");
	ck_assert_int_eq(
	    conf_set(&c, "redis", "redis://10.0.0.1:6379/3", err, sizeof err),
	    0);
	ck_assert_str_eq(c.redis, "redis://10.0.0.1:6379/3");
	ck_assert_int_eq(
	    conf_set(&c, "socket", "local:/run/r.sock", err, sizeof err), 0);
	ck_assert_int_eq(
	    conf_set(&c, "socket", "inet6:8891@::1", err, sizeof err), 0);
	ck_assert_int_eq(conf_set(&c, "socket", "inet:65535", err, sizeof err),
	                 0);
	ck_assert_int_eq(conf_set(&c, "redis", "sentinel://h1:26379/mymaster",
	                          err, sizeof err),
	                 0);
	conf_free(&c);
}
END_TEST

START_TEST(conf_errors_are_bounded_and_terminated)
{
	char err[8];
	struct conf c;

	conf_init(&c);
	memset(err, 'x', sizeof err);
	ck_assert_int_eq(conf_set(&c, "redis_timeout", "5x", err, sizeof err),
	                 -1);
	ck_assert_str_eq(err, "redis_t");
	ck_assert_int_eq(conf_set(&c, "redis_timeout", "5x", NULL, 0), -1);
	ck_assert_int_eq(conf_read(&c, "/nonexistent/redmilter.conf", err, 1),
	                 -1);
	ck_assert_str_eq(err, "");
	conf_free(&c);
}
END_TEST

START_TEST(conf_free_is_safe_twice)
{
	char err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(conf_set(&c, "user", "mail", err, sizeof err), 0);
	conf_free(&c);
	ck_assert_ptr_null(c.socket);
	ck_assert_ptr_null(c.user);
	ck_assert_ptr_null(c.redis);
	ck_assert_ptr_null(c.prefix);
	ck_assert_ptr_null(c.recipient_delimiter);
	ck_assert_ptr_null(c.redis_password);
	conf_free(&c);
}
END_TEST

/* Password files: the text, and the problem after "FILE" (NULL: good). */
struct pass {
	const char *text;
	size_t len;
	const char *why;
	const char *want;
};

static const struct pass passes[] = {
    {"s3cr#t\n", 7, NULL, "s3cr#t"},
    {"s3cr#t\r\nsecond line\n", 20, NULL, "s3cr#t"},
    {"no newline", 10, NULL, "no newline"},
    {" spaces kept ", 13, NULL, " spaces kept "},
    {"", 0, ": no password on the first line", NULL},
    {"\n", 1, ": no password on the first line", NULL},
    {"\r\npassword\n", 11, ": no password on the first line", NULL},
    {"ab\0cd\n", 6, ": NUL byte in the password", NULL},
};

START_TEST(conf_finish_reads_the_password_file)
{
	const struct pass *p = &passes[_i];
	char path[64], want[160], err[512] = "";
	struct conf c;
	int r;

	conf_init(&c);
	write_temp(p->text, p->len, path, sizeof path);
	ck_assert_int_eq(
	    conf_set(&c, "redis_password_file", path, err, sizeof err), 0);
	r = conf_finish(&c, err, sizeof err);
	unlink(path);
	if (p->why == NULL) {
		ck_assert_msg(r == 0, "%s", err);
		ck_assert_str_eq(c.redis_password, p->want);
	} else {
		ck_assert_int_eq(r, -1);
		snprintf(want, sizeof want, "%s%s", path, p->why);
		ck_assert_str_eq(err, want);
		ck_assert_ptr_null(c.redis_password);
	}
	conf_free(&c);
	ck_assert_ptr_null(c.redis_password);
}
END_TEST

START_TEST(conf_finish_limits_the_password_to_512_bytes)
{
	char path[64], want[160], text[600], err[512] = "";
	struct conf c;

	memset(text, 'p', sizeof text);
	conf_init(&c);
	write_temp(text, 512, path, sizeof path);
	conf_set(&c, "redis_password_file", path, err, sizeof err);
	ck_assert_msg(conf_finish(&c, err, sizeof err) == 0, "%s", err);
	unlink(path);
	ck_assert_uint_eq(strlen(c.redis_password), 512);

	write_temp(text, 513, path, sizeof path);
	conf_set(&c, "redis_password_file", path, err, sizeof err);
	ck_assert_int_eq(conf_finish(&c, err, sizeof err), -1);
	unlink(path);
	snprintf(want, sizeof want, "%s: password longer than 512 bytes", path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(c.redis_password);
	conf_free(&c);
}
END_TEST

START_TEST(conf_finish_reports_a_missing_password_file)
{
	char path[64], want[160], err[512] = "";
	struct conf c;

	write_temp("", 0, path, sizeof path);
	unlink(path);
	conf_init(&c);
	conf_set(&c, "redis_password_file", path, err, sizeof err);
	ck_assert_int_eq(conf_finish(&c, err, sizeof err), -1);
	snprintf(want, sizeof want,
	         "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(c.redis_password);
	conf_free(&c);
}
END_TEST

START_TEST(conf_finish_without_password_file_is_a_no_op)
{
	char err[512] = "";
	struct conf c;

	conf_init(&c);
	ck_assert_int_eq(conf_finish(&c, err, sizeof err), 0);
	ck_assert_ptr_null(c.redis_password);
	conf_free(&c);
}
END_TEST

START_TEST(conf_finish_refuses_two_passwords)
{
	char path[64], err[512] = "";
	struct conf c;

	conf_init(&c);
	write_temp("secret\n", 7, path, sizeof path);
	conf_set(&c, "redis_password_file", path, err, sizeof err);
	conf_set(&c, "redis", "redis://:other@127.0.0.1", err, sizeof err);
	ck_assert_int_eq(conf_finish(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "redis_password_file: redis holds a password "
	                      "too: use only one of them");
	conf_set(&c, "redis", "redis://127.0.0.1", err, sizeof err);
	ck_assert_msg(conf_finish(&c, err, sizeof err) == 0, "%s", err);
	unlink(path);
	ck_assert_str_eq(c.redis_password, "secret");
	conf_free(&c);
}
END_TEST

/* example_path - contrib/redmilter.conf of the tree this file came from */
static void
example_path(char *path, size_t size)
{
	const char *here = __FILE__, *tail = "tests/unit/test_conf.c";
	size_t n = strlen(here) - strlen(tail);

	ck_assert(strlen(here) >= strlen(tail));
	ck_assert_str_eq(here + n, tail);
	snprintf(path, size, "%.*scontrib/redmilter.conf", (int)n, here);
}

/* uncomment - the file with "#key =" lines made "key =" lines; counted */
static char *
uncomment(const char *path, size_t *len, int *keys)
{
	char line[4200], *text = malloc(65536);
	FILE *fp = fopen(path, "r");
	size_t n = 0, k;

	*keys = 0;
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(text);
	while (fgets(line, sizeof line, fp) != NULL) {
		const char *p = line;

		k = line[0] == '#'
		        ? strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_")
		        : 0;
		if (k > 0 && strncmp(line + 1 + k, " =", 2) == 0) {
			p = line + 1;
			(*keys)++;
		}
		ck_assert_uint_lt(n + strlen(p), 65536);
		memcpy(text + n, p, strlen(p));
		n += strlen(p);
	}
	fclose(fp);
	*len = n;
	return text;
}

START_TEST(conf_read_loads_the_example_config_as_defaults)
{
	char path[512], tmp[64], err[512] = "";
	struct conf c;
	size_t len;
	char *text;
	int nkeys;

	example_path(path, sizeof path);
	conf_init(&c);
	ck_assert_msg(conf_read(&c, path, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(conf_finish(&c, err, sizeof err), 0);
	assert_defaults(&c);
	conf_free(&c);

	/* Every key is there, and uncommented it still says the defaults. */
	text = uncomment(path, &len, &nkeys);
	ck_assert_int_eq(nkeys, NDEFAULTS - 1); /* cache_ttl: obsolete */
	conf_init(&c);
	ck_assert_int_eq(conf_set(&c, "mode", "test", err, sizeof err), 0);
	ck_assert_msg(
	    read_text(&c, text, len, tmp, sizeof tmp, err, sizeof err) == 0,
	    "%s", err);
	free(text);
	assert_defaults(&c);
	conf_free(&c);
}
END_TEST

/* conf_suite - every test of the conf module */
static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, conf_init_sets_spec_defaults);
	tcase_add_test(tc, conf_load_reads_the_file_it_is_given);
	tcase_add_test(tc,
	               conf_load_without_a_path_takes_the_default_file_if_any);
	tcase_add_test(tc, conf_key_name_walks_the_documented_keys_in_order);
	tcase_add_loop_test(tc, conf_set_knows_every_documented_key, 0,
	                    NDEFAULTS);
	tcase_add_test(tc, conf_read_accepts_a_full_file);
	tcase_add_test(tc, conf_read_skips_comments_and_blank_lines_and_trims);
	tcase_add_test(tc, conf_read_of_an_empty_file_keeps_defaults);
	tcase_add_loop_test(tc, conf_read_reports_file_line_and_problem, 0,
	                    (int)(sizeof bads / sizeof bads[0]));
	tcase_add_test(tc, conf_read_refuses_a_nul_byte);
	tcase_add_test(tc, conf_read_takes_lines_of_4096_bytes_and_no_longer);
	tcase_add_test(tc, conf_read_counts_the_long_line_number);
	tcase_add_test(tc, conf_read_reports_a_file_it_cannot_open);
	tcase_add_loop_test(tc, conf_read_accepts_each_named_and_numeric_value,
	                    0, (int)(sizeof nameds / sizeof nameds[0]));
	tcase_add_test(tc, conf_read_takes_names_in_any_case_and_octal_modes);
	tcase_add_test(tc, conf_read_takes_empty_delimiter_and_none_values);
	tcase_add_test(tc, conf_set_overrides_and_keeps_old_value_on_error);
	tcase_add_test(tc, conf_errors_are_bounded_and_terminated);
	tcase_add_test(tc, conf_free_is_safe_twice);
	tcase_add_loop_test(tc, conf_finish_reads_the_password_file, 0,
	                    (int)(sizeof passes / sizeof passes[0]));
	tcase_add_test(tc, conf_finish_limits_the_password_to_512_bytes);
	tcase_add_test(tc, conf_finish_reports_a_missing_password_file);
	tcase_add_test(tc, conf_finish_without_password_file_is_a_no_op);
	tcase_add_test(tc, conf_finish_refuses_two_passwords);
	tcase_add_test(tc, conf_read_loads_the_example_config_as_defaults);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
