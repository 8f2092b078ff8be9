/*
 * redmilter - the milter daemon: rules in Redis, replies per recipient.
 *
 * usage: redmilter [-c FILE] [-f] [-n] [-V]
 *
 * Start-up, in order: read the configuration (a problem stops us with
 * file, line and problem, exit EX_CONFIG), -n check mode, refuse root
 * without `user` unless -f, open the Redis store (no connection yet: a
 * Redis that is down must not stop the milter, it tempfails mail), open
 * the libmilter socket (a stale unix socket is removed), set its mode and
 * owner, drop privileges, detach unless -f, write the pidfile, run
 * smfi_main() until SIGTERM/SIGINT/SIGHUP, remove the socket and pidfile.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "daemon.h"
#include "lint.h"
#include "log.h"
#include "mlfi.h"
#include "redis_url.h"
#include "sockspec.h"
#include "store_open.h"
#include "verdict_cache.h"

#ifndef REDMILTER_VERSION
#define REDMILTER_VERSION "0.1.0"
#endif

static const char *conf_file; /* NULL: the default, if any */

/* usage - the synopsis */
static int
usage(void)
{
	fprintf(stderr, "usage: redmilter [-c FILE] [-f] [-n] [-V]\n");
	return EX_USAGE;
}

/* load - the configuration, or exit with its problem */
static void
load(struct conf *c)
{
	char err[1024];

	if (conf_load(c, &conf_file, err, sizeof err) != 0) {
		fprintf(stderr, "redmilter: %s\n", err);
		exit(EX_CONFIG);
	}
	if (conf_finish(c, err, sizeof err) != 0) {
		fprintf(stderr, "redmilter: %s\n", err);
		exit(EX_CONFIG);
	}
}

/*
 * open_store - the store of the configuration, or exit; cache_ms: how long
 * a lookup may be reused (0: never)
 */
static struct store *
open_store(const struct conf *c, long cache_ms)
{
	struct store_open_opts o = {.cache_ms = cache_ms};
	struct store *st;
	char err[600];

	if ((st = store_open(c, &o, err, sizeof err)) == NULL) {
		fprintf(stderr, "redmilter: %s: %s\n",
		        conf_file ? conf_file : "defaults", err);
		exit(EX_CONFIG);
	}
	return st;
}

/* print_finding - one problem of -n */
static void
print_finding(const char *where, const char *problem, void *arg)
{
	(void)arg;
	printf("%s: %s\n", where, problem);
}

/* check_only - -n: every stored rule, then exit 0 or 1 */
static int
check_only(const struct conf *c)
{
	struct store *st = open_store(c, 0);
	size_t nrules = 0, nproblems = 0;
	char err[512], url[600];

	redis_url_show(c->redis, url, sizeof url);
	if (lint_run(st, c->prefix, print_finding, NULL, &nrules, &nproblems,
	             err, sizeof err) != STORE_OK) {
		printf("redis %s: %s\n", url, err);
		st->close(st);
		return 1;
	}
	printf("configuration %s: ok; redis %s: %zu rules, %zu problems\n",
	       conf_file ? conf_file : "(defaults)", url, nrules, nproblems);
	st->close(st);
	return nproblems == 0 ? 0 : 1;
}

/* warn_line - a start-up warning */
static void
warn_line(const char *msg)
{
	log_msg(LOG_WARNING, "warning: %s", msg);
}

/* Whether die() writes to standard error itself (log_msg() does with -f). */
static int die_to_stderr = 1;

/*
 * die - log a start-up failure and exit; say it on standard error too,
 * where whoever started the daemon looks first (after daemon_detach()
 * standard error is /dev/null, and this costs nothing)
 */
static void
die(int status, const char *what, const char *err)
{
	log_msg(LOG_ERR, "%s: %s", what, err);
	if (die_to_stderr)
		fprintf(stderr, "redmilter: %s: %s\n", what, err);
	exit(status);
}

/* open_socket - register, open the socket, set its mode and owner */
static void
open_socket(const struct conf *c, const struct daemon_ids *ids)
{
	const char *path = sockspec_unix_path(c->socket);
	char err[512];

	if (smfi_register(*mlfi_desc()) != MI_SUCCESS)
		die(EX_SOFTWARE, "smfi_register", "failed");
	if (smfi_setconn((char *)c->socket) != MI_SUCCESS)
		die(EX_CONFIG, "smfi_setconn", c->socket);
	if (smfi_opensocket(1) != MI_SUCCESS)
		die(EX_UNAVAILABLE, "cannot open milter socket", c->socket);
	if (path != NULL && daemon_socket_perms(path, c->socket_mode, ids, err,
	                                        sizeof err) != 0)
		die(EX_OSERR, "socket", err);
}

/* run - everything after the configuration; returns the exit status */
static int
run(struct conf *c, int foreground)
{
	struct daemon_ids ids;
	struct store *st;
	struct verdict_cache *vc = NULL;
	const char *path = sockspec_unix_path(c->socket);
	char err[512];
	int rc;

	log_open("redmilter", c->syslog_facility, c->log_level, foreground);
	die_to_stderr = !foreground;
	if (geteuid() == 0 && c->user == NULL && !foreground)
		die(EX_USAGE, "refusing to run as root",
		    "set `user` in the configuration (or use -f)");
	if (conf_file != NULL)
		daemon_check_file(conf_file, 0, warn_line);
	daemon_check_file(c->redis_password_file, 1, warn_line);
	if (daemon_lookup_ids(c->user, c->group, &ids, err, sizeof err) != 0)
		die(EX_NOUSER, "configuration", err);
	/* cache_ttl bounds the age of what an answer rests on: a decision is
	 * kept for half of it, built from lookups kept for the other half. */
	st = open_store(c, c->cache_ttl - c->cache_ttl / 2);
	if (c->cache_ttl / 2 > 0)
		vc = verdict_cache_new(c->cache_ttl / 2, (size_t)c->cache_size);
	mlfi_setup(c, st, vc);
	open_socket(c, &ids);
	if (c->pidfile != NULL && !foreground && daemon_detach(err, sizeof err))
		die(EX_OSERR, "detach", err);
	if (c->pidfile != NULL && daemon_pidfile(c->pidfile, err, sizeof err))
		die(EX_CANTCREAT, "pidfile", err);
	if (daemon_drop(&ids, err, sizeof err) != 0)
		die(EX_NOPERM, "privileges", err);
	if (c->pidfile == NULL && !foreground && daemon_detach(err, sizeof err))
		die(EX_OSERR, "detach", err);
	log_msg(LOG_INFO, "redmilter %s starting on %s (on_error %s, mode %s)",
	        REDMILTER_VERSION, c->socket,
	        c->on_error == CONF_ON_ERROR_ACCEPT ? "accept" : "tempfail",
	        c->mode == CONF_MODE_TEST ? "test" : "enforce");
	rc = smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
	log_msg(LOG_INFO, "redmilter stopping");
	if (path != NULL && unlink(path) != 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "cannot remove %s: %s", path,
		        strerror(errno));
	if (c->pidfile != NULL)
		(void)unlink(c->pidfile);
	st->close(st);
	verdict_cache_free(vc);
	log_close();
	return rc;
}

int
main(int argc, char **argv)
{
	struct conf c;
	int ch, foreground = 0, check = 0, rc;

	while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
		switch (ch) {
		case 'c':
			conf_file = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("redmilter %s\n", REDMILTER_VERSION);
			return EX_OK;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	load(&c);
	rc = check ? check_only(&c) : run(&c, foreground);
	conf_free(&c);
	return rc;
}
