/*
 * redmilterctl - edit and check redmilter's rules in Redis.
 *
 * usage: redmilterctl [-c FILE] [-r REDIS] [-p PREFIX] [-v] COMMAND ...
 *
 * This file holds main(), the global options and the small commands (add,
 * del, get, lint, codes); ctl_audit.c the audit trail they, import, reset
 * and greylist pass write, and history; ctl.c has what the commands share (the
 * store, warnings), ctl_bulk.c list, export, import, top and stale, ctl_hits.c
 * the hit counters they and get show, ctl_check.c check, ctl_limit.c usage
 * and reset, and ctl_grey.c greylist.  Every
 * rule is validated with the engine's own parser before it is written, so the
 * milter reads what was checked here. Exit status: 0 success, 1 invalid input
 * or rule, 2 Redis failing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "conf.h"
#include "ctl.h"
#include "ctl_audit.h"
#include "ctl_bulk.h"
#include "ctl_check.h"
#include "ctl_grey.h"
#include "ctl_hits.h"
#include "ctl_limit.h"
#include "lint.h"
#include "redis_url.h"
#include "rule.h"
#include "schema.h"
#include "table.h"
#include "str.h"
#include "xmalloc.h"

/* table_key - TABLE and KEY arguments, the key folded and checked */
static int
table_key(char **argv, int *t, char *key, size_t keylen)
{
	char err[256];

	if ((*t = table_from_name(argv[0])) < 0) {
		ctl_warn("unknown table '%s'", argv[0]);
		return -1;
	}
	if (rule_key_check((enum table) * t, argv[1], key, keylen, err,
	                   sizeof err) != 0) {
		ctl_warn("%s %s: %s", argv[0], argv[1], err);
		return -1;
	}
	return 0;
}

/* join - the ACTION words with single spaces; the caller frees */
static char *
join(int argc, char **argv)
{
	size_t len = 1, n = 0;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xmalloc(len);
	for (i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (i > 0)
			s[n++] = ' ';
		memcpy(s + n, argv[i], l);
		n += l;
	}
	s[n] = '\0';
	return s;
}

/* take_ttl - "-t SECONDS" at argv[at], removed from the arguments */
static int
take_ttl(int *argc, char **argv, int at, long long *ttl)
{
	if (at < 0 || at + 1 >= *argc || strcmp(argv[at], "-t") != 0)
		return 0;
	if (rule_parse_ttl(argv[at + 1], ttl) != 0) {
		ctl_warn("-t needs a number of seconds, not '%s'",
		         argv[at + 1]);
		return -1;
	}
	memmove(argv + at, argv + at + 2,
	        (size_t)(*argc - at - 2) * sizeof *argv);
	*argc -= 2;
	return 0;
}

/*
 * take_opts - -t SECONDS (when ttl is not NULL) and -m TEXT, before the
 * other arguments or after them, in either order
 */
static int
take_opts(struct ctl *c, int *argc, char **argv, long long *ttl)
{
	int i, before;

	for (i = 0; i < 4; i++) {
		before = *argc;
		if ((ttl != NULL &&
		     (take_ttl(argc, argv, 0, ttl) != 0 ||
		      take_ttl(argc, argv, *argc - 2, ttl) != 0)) ||
		    ctl_audit_take_note(c, argc, argv, 0) != 0 ||
		    ctl_audit_take_note(c, argc, argv, *argc - 2) != 0)
			return -1;
		if (*argc == before)
			break;
	}
	return 0;
}

/* write_rule - one audited write of the rule TABLE KEY; the exit status */
static int
write_rule(struct ctl *c, const char *cmd, int t, const char *key,
           const char *action, long long ttl)
{
	struct ctl_audit_op op;
	char err[512], *full;
	size_t changed;
	int rc;

	if (ctl_store(c) == NULL)
		return CTL_STORE;
	full = schema_rule_key(c->conf.prefix, (enum table)t, key);
	op.key = full;
	op.mode = action != NULL ? "set" : "del";
	op.val = action;
	op.ttl = ttl;
	op.table = table_name((enum table)t);
	op.rkey = key;
	rc = ctl_audit_apply(c, cmd, &op, 1, 0, &changed, err, sizeof err);
	free(full);
	if (rc != CTL_OK)
		ctl_warn("%s", err);
	else if (action == NULL && changed == 0) {
		ctl_warn("no rule %s %s", op.table, key);
		rc = CTL_INVALID;
	}
	return rc;
}

/* cmd_add - "add TABLE KEY ACTION... [-t SECONDS] [-m TEXT]" */
static int
cmd_add(struct ctl *c, int argc, char **argv)
{
	char key[RULE_KEY_MAX + 1], err[512], *action;
	long long ttl = 0;
	int t, rc;

	if (take_opts(c, &argc, argv, &ttl) != 0)
		return CTL_INVALID;
	if (argc < 3) {
		ctl_warn("usage: add TABLE KEY ACTION... [-t SECONDS] "
		         "[-m TEXT]");
		return CTL_INVALID;
	}
	if (table_key(argv, &t, key, sizeof key) != 0)
		return CTL_INVALID;
	action = join(argc - 2, argv + 2);
	if (rule_action_parse((enum table)t, action, strlen(action), NULL, err,
	                      sizeof err) != 0) {
		ctl_warn("%s %s: %s", argv[0], key, err);
		free(action);
		return CTL_INVALID;
	}
	rc = write_rule(c, "add", t, key, action, ttl);
	free(action);
	return rc;
}

/*
 * one_rule - the TABLE KEY arguments of get: the store, the folded
 * key and the rule's Redis key (*full, which the caller frees); returns
 * CTL_OK, or the exit status after a warning
 */
static int
one_rule(struct ctl *c, int argc, char **argv, const char *usage,
         struct store **st, char *key, size_t keylen, char **full)
{
	int t;

	if (argc != 2) {
		ctl_warn("usage: %s", usage);
		return CTL_INVALID;
	}
	if (table_key(argv, &t, key, keylen) != 0)
		return CTL_INVALID;
	if ((*st = ctl_store(c)) == NULL)
		return CTL_STORE;
	*full = schema_rule_key(c->conf.prefix, (enum table)t, key);
	return CTL_OK;
}

/* found - the exit status of a del or get of the rule TABLE KEY */
static int
found(enum store_status rc, const char *table, const char *key, const char *err)
{
	if (rc == STORE_NOTFOUND) {
		ctl_warn("no rule %s %s", table, key);
		return CTL_INVALID;
	}
	if (rc != STORE_OK) {
		ctl_warn("%s", err);
		return CTL_STORE;
	}
	return CTL_OK;
}

/* cmd_del - "del TABLE KEY [-m TEXT]" */
static int
cmd_del(struct ctl *c, int argc, char **argv)
{
	char key[RULE_KEY_MAX + 1];
	int t;

	if (take_opts(c, &argc, argv, NULL) != 0)
		return CTL_INVALID;
	if (argc != 2) {
		ctl_warn("usage: del TABLE KEY [-m TEXT]");
		return CTL_INVALID;
	}
	if (table_key(argv, &t, key, sizeof key) != 0)
		return CTL_INVALID;
	return write_rule(c, "del", t, key, NULL, 0);
}

/* rule_hits - the hits of the rule TABLE KEY (ctl_hits_read()) */
static int
rule_hits(struct ctl *c, const char *table, const char *key, struct hit *h)
{
	struct ctl_hits_row row = {NULL, NULL, {0, 0}};
	int rc;

	row.rule = ctl_hits_rule(table_from_name(table), key);
	rc = ctl_hits_read(c, &row, 1);
	*h = row.hit;
	free(row.rule);
	return rc;
}

/*
 * cmd_get - "get TABLE KEY": the action, then "ttl N" or "ttl none", then
 * "hits N last TIME" or "hits 0 last never"
 */
static int
cmd_get(struct ctl *c, int argc, char **argv)
{
	char key[RULE_KEY_MAX + 1], err[512], *full, *shown;
	char when[CTL_HITS_WHEN_SIZE];
	struct store_value v;
	struct store *st;
	long long ttl = -1;
	struct hit h;
	int rc;

	rc = one_rule(c, argc, argv, "get TABLE KEY", &st, key, sizeof key,
	              &full);
	if (rc != CTL_OK)
		return rc;
	rc = found(st->get(st, full, &v, &ttl, err, sizeof err), argv[0], key,
	           err);
	free(full);
	if (rc != CTL_OK)
		return rc;
	if ((rc = rule_hits(c, argv[0], key, &h)) != CTL_OK) {
		free(v.val);
		return rc;
	}
	shown = str_sanitize(v.val, v.len, v.len);
	printf("%s\n", shown);
	if (ttl > 0)
		printf("ttl %lld\n", ttl);
	else
		printf("ttl none\n");
	printf("hits %lld last %s\n", h.count,
	       ctl_hits_when(h.last, when, sizeof when));
	free(shown);
	free(v.val);
	return CTL_OK;
}

/* print_finding - one lint problem */
static void
print_finding(const char *where, const char *problem, void *arg)
{
	(void)arg;
	printf("%s: %s\n", where, problem);
}

/* cmd_lint - "lint" */
static int
cmd_lint(struct ctl *c, int argc, char **argv)
{
	size_t nrules = 0, nproblems = 0;
	struct store *st;
	char err[512];

	(void)argv;
	if (argc != 0) {
		ctl_warn("usage: lint");
		return CTL_INVALID;
	}
	if ((st = ctl_store(c)) == NULL)
		return CTL_STORE;
	if (lint_run(st, c->conf.prefix, print_finding, NULL, &nrules,
	             &nproblems, err, sizeof err) != STORE_OK) {
		ctl_warn("%s", err);
		return CTL_STORE;
	}
	printf("%zu rules, %zu problems\n", nrules, nproblems);
	return nproblems == 0 ? CTL_OK : CTL_INVALID;
}

/* cmd_codes - "codes": the catalogue */
static int
cmd_codes(struct ctl *c, int argc, char **argv)
{
	size_t i;

	(void)c;
	(void)argv;
	if (argc != 0) {
		ctl_warn("usage: codes");
		return CTL_INVALID;
	}
	for (i = 0; i < catalogue_size(); i++) {
		const struct catalogue_row *r = catalogue_row(i);

		if (r->rcpt_enh == NULL && r->rcpt_text == NULL) {
			printf("%d %s %s\n", r->code, r->enh, r->text);
			continue;
		}
		printf("%d %s %s (recipient, pair)\n", r->code,
		       r->rcpt_enh ? r->rcpt_enh : r->enh,
		       r->rcpt_text ? r->rcpt_text : r->text);
		printf("%d %s %s (other tables)\n", r->code, r->enh, r->text);
	}
	return CTL_OK;
}

static const struct command {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
} commands[] = {
    {"add", cmd_add},
    {"del", cmd_del},
    {"get", cmd_get},
    {"list", ctl_bulk_list},
    {"top", ctl_bulk_top},
    {"stale", ctl_bulk_stale},
    {"check", ctl_check},
    {"import", ctl_bulk_import},
    {"export", ctl_bulk_export},
    {"lint", cmd_lint},
    {"codes", cmd_codes},
    {"usage", ctl_usage},
    {"reset", ctl_reset},
    {"greylist", ctl_greylist},
    {"history", ctl_audit_history},
};

/* usage - the synopsis, on stderr */
static int
usage(void)
{
	fputs("usage: redmilterctl [-c FILE] [-r REDIS] [-p PREFIX] [-v] "
	      "COMMAND ...\n"
	      "commands: add TABLE KEY ACTION... [-t SECONDS] [-m TEXT]\n"
	      "          del TABLE KEY [-m TEXT] | get TABLE KEY\n"
	      "          list [TABLE] [--hits] | export [TABLE]\n"
	      "          import [--replace] [-m TEXT] FILE|-\n"
	      "          history [-n N] [TABLE [KEY]]\n"
	      "          top [N] | stale DAYS\n"
	      "          check -f SENDER -r RCPT... [-C IP] [-N HOSTNAME] "
	      "[-H HELO] [-A LOGIN]\n"
	      "          usage SUBJECT VALUE | reset SUBJECT VALUE\n"
	      "          greylist list [pending|passed|clients]\n"
	      "          greylist pass CLIENT-IP SENDER RECIPIENT\n"
	      "          lint | codes\n",
	      stderr);
	return CTL_INVALID;
}

/*
 * elsewhere - -r: redis is url, without the configuration's passwords
 *
 * Those (redis_password_file, redis_sentinel_password_file, a password in
 * the file's redis URL, which url replaces) are for the configuration's
 * own Redis; another one gets only url's password (redmilterctl(8), -r).
 */
static int
elsewhere(struct conf *conf, const char *url, char *err, size_t errlen)
{
	free(conf->redis_password_file);
	conf->redis_password_file = NULL;
	free(conf->redis_sentinel_password_file);
	conf->redis_sentinel_password_file = NULL;
	return conf_set(conf, "redis", url, err, errlen);
}

/*
 * env_password - -r: REDISCLI_AUTH, as redis-cli(1) reads it, when url
 * holds no password of its own (redmilterctl(8), ENVIRONMENT)
 */
static void
env_password(struct conf *conf)
{
	struct redis_url u;
	const char *pw = getenv("REDISCLI_AUTH");
	int has_auth;

	if (pw == NULL || *pw == '\0')
		return;
	has_auth = redis_url_parse(conf->redis, &u, NULL, 0) == 0 && u.has_auth;
	explicit_bzero(&u, sizeof u);
	if (!has_auth)
		conf->redis_password = xstrdup(pw);
}

/* configure - the config file, then -r and -p, then derived settings */
static int
configure(struct ctl *c, const char *file, const char *redis,
          const char *prefix)
{
	char err[1024];

	if (conf_load(&c->conf, &file, err, sizeof err) != 0 ||
	    (redis != NULL &&
	     elsewhere(&c->conf, redis, err, sizeof err) != 0) ||
	    (prefix != NULL &&
	     conf_set(&c->conf, "prefix", prefix, err, sizeof err) != 0) ||
	    conf_finish(&c->conf, err, sizeof err) != 0) {
		ctl_warn("%s", err);
		return -1;
	}
	if (redis != NULL)
		env_password(&c->conf);
	c->lock_name = NULL;
	return 0;
}

/* run - the command argv[0] with its arguments; returns the exit status */
static int
run(struct ctl *c, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(c, argc - 1, argv + 1);
	ctl_warn("unknown command '%s'", argv[0]);
	return usage();
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *redis = NULL, *prefix = NULL;
	struct ctl c;
	char *lock;
	int ch, rc;

	/* A Redis connection closed under us is an error to report (exit
	 * status 2), not a signal to die of; so is a closed standard output. */
	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof c);
	while ((ch = getopt(argc, argv, "+c:r:p:vh")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'r':
			redis = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'v':
			c.verbose = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	if (configure(&c, file, redis, prefix) != 0) {
		conf_free(&c.conf);
		return CTL_INVALID;
	}
	c.lock_name = lock = schema_internal_key(c.conf.prefix, "import.lock");
	rc = run(&c, argc - optind, argv + optind);
	if (c.store != NULL)
		c.store->close(c.store);
	free(lock);
	conf_free(&c.conf);
	return rc;
}
