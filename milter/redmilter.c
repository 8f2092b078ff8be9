/*
 * redmilter - the milter daemon: rules in Redis, replies per recipient.
 *
 * usage: redmilter [-c FILE] [-f] [-n] [-V]
 *
 * Start-up, in order: read the configuration (a problem stops us with
 * file, line and problem, exit EX_CONFIG, on standard error and in
 * syslog), -n check mode, refuse root without `user`, open the Redis store
 * (no connection yet: a Redis that is down must not stop the milter, it
 * tempfails mail), open the libmilter socket (refused when a milter
 * already answers on it; sockfile.h), drop privileges, detach unless -f,
 * write the pidfile, run smfi_main() on a thread of its own while the main
 * thread waits for signals: SIGUSR1 reloads the configuration,
 * SIGTERM/SIGINT/SIGHUP stop us within 5 s (sessions in progress get 4 s
 * of it), then the socket and pidfile are removed if they are still ours.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "daemon.h"
#include "hitbatch.h"
#include "lint.h"
#include "log.h"
#include "metrics.h"
#include "mlfi.h"
#include "mono.h"
#include "redis_url.h"
#include "schema.h"
#include "sockfile.h"
#include "sockspec.h"
#include "store.h"
#include "store_open.h"
#include "str.h"
#include "table.h"
#include "version.h"
#include "xmalloc.h"

/* How long after SIGTERM sessions in progress may go on (redmilter(8)). */
#define STOP_GRACE_US 4000000LL

static const char *conf_file; /* NULL: the default, if any */

/* usage - the synopsis */
static int
usage(void)
{
	fprintf(stderr, "usage: redmilter [-c FILE] [-f] [-n] [-V]\n");
	return EX_USAGE;
}

/*
 * startup_error - a problem found before logging is set up: on standard
 * error and in syslog (facility mail: the configured one is not known)
 */
static void
startup_error(int log_it, const char *err)
{
	fprintf(stderr, "redmilter: %s\n", err);
	if (log_it) {
		log_open("redmilter", LOG_MAIL, LOG_INFO, 0);
		log_msg(LOG_ERR, "%s", err);
		log_close();
	}
	exit(EX_CONFIG);
}

/* load - the configuration, or exit with its problem (logged unless -n) */
static void
load(struct conf *c, int check)
{
	char err[1024];

	if (conf_load(c, &conf_file, err, sizeof err) != 0 ||
	    conf_finish(c, err, sizeof err) != 0)
		startup_error(!check, err);
}

/* store_notice - what the store tells: redis_read's fitness, tracking */
static void
store_notice(int warning, const char *msg)
{
	log_msg(warning ? LOG_WARNING : LOG_NOTICE, "%s", msg);
}

/* open_store - the store of the configuration for -n (no cache), or exit */
static struct store *
open_store(const struct conf *c)
{
	struct store_open_opts o = {.notice = store_notice};
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
	struct store *st = open_store(c);
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

/*
 * The keys a reload cannot change (redmilter(8), SIGNALS), as the milter
 * started with them; the socket file it created.
 */
struct fixed {
	char *socket, *user, *group, *pidfile, *metrics;
	int socket_mode;
	struct sockfile sf;
	struct metrics *server; /* metrics; NULL: none */
};

static pthread_t main_thread;
static atomic_int milter_done; /* smfi_main() has returned */
static atomic_int stop_asked;  /* we called smfi_stop() */
static atomic_int milter_skip; /* stopped before smfi_main() was called */
static sem_t milter_go;        /* the main thread waits for signals now */
static int milter_rc;

/*
 * main_waits - wait (2 s at most) until the main thread is in
 * rt_sigtimedwait(2), as /proc/self/task/PID/syscall tells; without /proc,
 * at once
 */
static void
main_waits(void)
{
	char path[64], buf[32], want[16];
	int i;

	(void)snprintf(path, sizeof path, "/proc/self/task/%ld/syscall",
	               (long)getpid());
	(void)snprintf(want, sizeof want, "%ld ", (long)SYS_rt_sigtimedwait);
	for (i = 0; i < 2000; i++) {
		if (daemon_read_small(path, 0, buf, sizeof buf) != 0)
			return;
		if (strncmp(buf, want, strlen(want)) == 0)
			return;
		usleep(1000);
	}
}

/*
 * milter_thread - smfi_main(), then wake the main thread.  smfi_main()
 * starts libmilter's own signal thread, which waits for SIGTERM, SIGINT
 * and SIGHUP as the main thread does, and takes one that is pending when
 * it comes first: then libmilter stops by itself, up to 5 s later and
 * maybe with a failure (RELIABILITY.md, section 8).  So smfi_main() waits
 * until the main thread has taken what was pending and waits itself: the
 * kernel gives a signal sent to the process to its main thread when that
 * thread waits for it.
 */
static void *
milter_thread(void *arg)
{
	(void)arg;
	while (sem_wait(&milter_go) != 0)
		;
	if (!atomic_load(&milter_skip))
		main_waits();
	milter_rc = atomic_load(&milter_skip) ? MI_SUCCESS : smfi_main();
	atomic_store(&milter_done, 1);
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

/*
 * open_socket - register, open the socket, set its mode and owner; a unix
 * socket is made in a private directory and moved into place (sockfile.h)
 */
static void
open_socket(const struct conf *c, const struct daemon_ids *ids,
            struct sockfile *sf)
{
	const char *path = sockspec_unix_path(c->socket);
	char err[512];
	int rc;

	sf->dirfd = sf->privfd = -1;
	if (smfi_register(*mlfi_desc()) != MI_SUCCESS)
		die(EX_SOFTWARE, "smfi_register", "failed");
	if (path != NULL && (rc = sockfile_prepare(sf, path, err, sizeof err)))
		die(rc == SOCKFILE_LIVE ? 1 : EX_UNAVAILABLE,
		    "cannot open milter socket", err);
	if (smfi_setconn(path != NULL ? sf->spec : (char *)c->socket) !=
	    MI_SUCCESS)
		die(EX_CONFIG, "smfi_setconn", c->socket);
	if (smfi_opensocket(1) != MI_SUCCESS) {
		(void)sockfile_remove(sf, err, sizeof err);
		die(EX_UNAVAILABLE, "cannot open milter socket", c->socket);
	}
	if (path != NULL &&
	    sockfile_publish(sf, c->socket_mode, ids, err, sizeof err) != 0) {
		(void)sockfile_remove(sf, err, sizeof err);
		die(EX_OSERR, "socket", err);
	}
}

/* same - whether two settings (either may be NULL) are equal */
static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* restart_keys - log each key a reload changed that needs a restart */
static void
restart_keys(const struct fixed *f, const struct conf *n)
{
	const char *changed[6];
	size_t i, k = 0;

	if (!same(f->socket, n->socket))
		changed[k++] = "socket";
	if (f->socket_mode != n->socket_mode)
		changed[k++] = "socket_mode";
	if (!same(f->user, n->user))
		changed[k++] = "user";
	if (!same(f->group, n->group))
		changed[k++] = "group";
	if (!same(f->pidfile, n->pidfile))
		changed[k++] = "pidfile";
	if (!same(f->metrics, n->metrics))
		changed[k++] = "metrics";
	for (i = 0; i < k; i++)
		log_msg(LOG_WARNING,
		        "reload: %s changed; it takes effect at the next "
		        "restart, the running value is kept",
		        changed[i]);
}

/*
 * new_runtime - the store of a configuration, with the cache of rules
 * (redmilter.conf(5), "cache") over every table; store_start() it once
 * the process is the daemon
 */
static struct store *
new_runtime(const struct conf *c, char *err, size_t errlen)
{
	char *tables[TABLE_COUNT];
	struct store_open_opts o = {.tables = (const char *const *)tables,
	                            .ntables = TABLE_COUNT,
	                            .notice = store_notice};
	struct store *st;
	size_t i;

	for (i = 0; i < TABLE_COUNT; i++)
		tables[i] = schema_scan_prefix(c->prefix, (int)i);
	st = store_open(c, &o, err, errlen);
	for (i = 0; i < TABLE_COUNT; i++)
		free(tables[i]);
	if (st != NULL && c->cache_ttl_set != 0)
		log_msg(LOG_WARNING,
		        "cache_ttl is obsolete and ignored: with cache = on, "
		        "Redis tells redmilter of every change "
		        "(redmilter.conf(5))");
	return st;
}

/*
 * reload - SIGUSR1: read the configuration again; a file with a problem
 * leaves the running configuration as it is
 */
static void
reload(const struct fixed *f)
{
	const char *path = conf_file;
	struct store *st;
	struct conf n;
	char err[1024];

	if (conf_load(&n, &path, err, sizeof err) != 0 ||
	    conf_finish(&n, err, sizeof err) != 0 ||
	    (st = new_runtime(&n, err, sizeof err)) == NULL) {
		log_msg(LOG_ERR,
		        "reload: %s; the running configuration is kept", err);
		conf_free(&n);
		return;
	}
	restart_keys(f, &n);
	log_reconfigure(n.syslog_facility, n.log_level);
	log_msg(LOG_INFO, "reload: %s read (on_error %s, mode %s)",
	        path != NULL ? path : "defaults",
	        n.on_error == CONF_ON_ERROR_ACCEPT ? "accept" : "tempfail",
	        n.mode == CONF_MODE_TEST ? "test" : "enforce");
	store_start(st);
	mlfi_install(&n, st);
	conf_free(&n);
}

/*
 * wait_signal - reload at each SIGUSR1; the signal that stops us.  What
 * is pending is taken before smfi_main() may start (milter_thread()).
 */
static int
wait_signal(const sigset_t *set, const struct fixed *f)
{
	const struct timespec now = {0, 0};
	int sig;

	while ((sig = sigtimedwait(set, NULL, &now)) == SIGUSR1)
		reload(f);
	if (sig > 0 && sig != SIGUSR2) {
		atomic_store(&milter_skip, 1);
		sem_post(&milter_go);
		return sig;
	}
	sem_post(&milter_go);
	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			reload(f);
		else if (sig != SIGUSR2 || atomic_load(&milter_done))
			return sig;
	}
}

/* Where the poker connects (worked out once), and when it stops. */
struct poke {
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	socklen_t len; /* 0: no address, no poking */
	atomic_int done;
};

/*
 * poke_addr - our own socket's address from its spec; a wildcard or a name
 * means loopback of its family
 */
static void
poke_addr(struct poke *p, const char *spec)
{
	struct sockspec ss;

	memset(&p->a, 0, sizeof p->a);
	p->len = 0;
	if (sockspec_parse(spec, &ss, NULL, 0) != 0)
		return;
	if (ss.type == SOCKSPEC_UNIX) {
		p->a.un.sun_family = AF_UNIX;
		str_copy(p->a.un.sun_path, ss.path, sizeof p->a.un.sun_path);
		p->len = sizeof p->a.un;
	} else if (ss.type == SOCKSPEC_INET) {
		p->a.in.sin_family = AF_INET;
		p->a.in.sin_port = htons((unsigned short)ss.port);
		if (inet_pton(AF_INET, ss.host, &p->a.in.sin_addr) != 1 ||
		    p->a.in.sin_addr.s_addr == htonl(INADDR_ANY))
			p->a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		p->len = sizeof p->a.in;
	} else {
		p->a.in6.sin6_family = AF_INET6;
		p->a.in6.sin6_port = htons((unsigned short)ss.port);
		if (inet_pton(AF_INET6, ss.host, &p->a.in6.sin6_addr) != 1 ||
		    IN6_IS_ADDR_UNSPECIFIED(&p->a.in6.sin6_addr))
			p->a.in6.sin6_addr = in6addr_loopback;
		p->len = sizeof p->a.in6;
	}
}

/*
 * poker - libmilter's listener waits up to 5 s in poll() before it sees
 * smfi_stop(), holding the lock smfi_stop() needs (RELIABILITY.md,
 * section 8): a connection of our own wakes it at once.  Pokes every 20
 * ms, for 5 s at most.
 */
static void *
poker(void *arg)
{
	struct poke *p = arg;
	int i, fd;

	for (i = 0; i < 250 && !atomic_load(&p->done); i++) {
		fd = socket(p->a.sa.sa_family,
		            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			(void)connect(fd, &p->a.sa, p->len);
			close(fd);
		}
		usleep(20000);
	}
	return NULL;
}

/*
 * milter_status - the exit status smfi_main()'s result gives.  A stop
 * that comes while the listener starts or between two of its rounds
 * closes the listening socket under it, and libmilter then reports a
 * failure of its own making (RELIABILITY.md, section 8): after our
 * smfi_stop() that is a clean stop.
 */
static int
milter_status(void)
{
	if (milter_rc == MI_SUCCESS)
		return EX_OK;
	if (atomic_load(&stop_asked)) {
		log_msg(LOG_INFO, "libmilter reported a failure as it stopped "
		                  "(its listening socket was closed under it)");
		return EX_OK;
	}
	return EX_SOFTWARE;
}

/* stop_listener - stop smfi_main() at once and wait for it */
static void
stop_listener(pthread_t milter, const char *spec)
{
	struct poke p;
	pthread_t t;
	int poking;

	if (!atomic_load(&milter_done) && !atomic_load(&milter_skip)) {
		poke_addr(&p, spec);
		atomic_init(&p.done, 0);
		poking = p.len > 0 && pthread_create(&t, NULL, poker, &p) == 0;
		atomic_store(&stop_asked, 1);
		smfi_stop();
		atomic_store(&p.done, 1);
		if (poking)
			pthread_join(t, NULL);
	}
	pthread_join(milter, NULL);
}

/*
 * block_signals - the signals the main thread waits for, blocked in every
 * thread (those started later inherit the mask)
 */
static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* fixed_keys - copies of the keys a reload cannot change */
static void
fixed_keys(struct fixed *f, const struct conf *c)
{
	f->socket = xstrdup(c->socket);
	f->user = c->user != NULL ? xstrdup(c->user) : NULL;
	f->group = c->group != NULL ? xstrdup(c->group) : NULL;
	f->pidfile = c->pidfile != NULL ? xstrdup(c->pidfile) : NULL;
	f->metrics = c->metrics != NULL ? xstrdup(c->metrics) : NULL;
	f->socket_mode = c->socket_mode;
	f->server = NULL;
}

/*
 * serve - run smfi_main() on a thread of its own and wait here for
 * signals (Linux gives a signal sent to the process to its main thread
 * when that thread waits for it, before libmilter's own signal thread);
 * returns the exit status
 */
static int
serve(struct fixed *f, const sigset_t *set)
{
	pthread_t milter;
	long long t0;
	char err[512];
	int sig;

	main_thread = pthread_self();
	if (sem_init(&milter_go, 0, 0) != 0)
		die(EX_OSERR, "sem_init", strerror(errno));
	if (pthread_create(&milter, NULL, milter_thread, NULL) != 0)
		die(EX_OSERR, "pthread_create", "cannot start the milter");
	sig = wait_signal(set, f);
	t0 = mono_us();
	if (sig != SIGUSR2)
		log_msg(LOG_INFO, "redmilter stopping (signal %d)", sig);
	stop_listener(milter, f->socket);
	if (sig == SIGUSR2)
		log_msg(LOG_INFO, "redmilter stopping (libmilter ended)");
	metrics_stop(f->server); /* it reads what mlfi_shutdown() frees */
	/* sessions in progress get what is left of 4.5 s from the signal */
	if (mlfi_shutdown(t0 + STOP_GRACE_US) != 0)
		log_msg(LOG_WARNING, "callbacks still running at exit");
	if (sockfile_remove(&f->sf, err, sizeof err) != 0)
		log_msg(LOG_WARNING, "%s", err);
	if (f->pidfile != NULL)
		daemon_pidfile_remove(f->pidfile);
	free(f->socket);
	free(f->user);
	free(f->group);
	free(f->pidfile);
	free(f->metrics);
	return milter_status();
}

/* start_checks - the refusals and warnings before anything is opened */
static void
start_checks(const struct conf *c, struct daemon_ids *ids)
{
	char err[512];

	if (geteuid() == 0 && c->user == NULL)
		die(EX_USAGE, "refusing to run as root",
		    "set `user` in the configuration (`user = root` to run "
		    "as root anyway)");
	if (geteuid() == 0 && strcmp(c->user, "root") == 0)
		log_msg(LOG_WARNING, "warning: running as root (user = root)");
	if (conf_file != NULL)
		daemon_check_file(conf_file, 0, warn_line);
	daemon_check_file(c->redis_password_file, 1, warn_line);
	daemon_check_file(c->redis_sentinel_password_file, 1, warn_line);
	if (daemon_lookup_ids(c->user, c->group, ids, err, sizeof err) != 0)
		die(EX_NOUSER, "configuration", err);
}

/*
 * The store made before daemon(3) forks: the parent's _exit() leaves it to
 * the system, and this pointer keeps it reachable (not a leak to valgrind)
 * until then.
 */
static struct store *volatile first_store; /* volatile: never read */

/* run - everything after the configuration; returns the exit status */
static int
run(struct conf *c, int foreground)
{
	struct daemon_ids ids;
	struct store *st;
	struct fixed f;
	sigset_t set;
	char err[512];

	block_signals(&set);
	log_open("redmilter", c->syslog_facility, c->log_level, foreground);
	die_to_stderr = !foreground;
	start_checks(c, &ids);
	if ((st = first_store = new_runtime(c, err, sizeof err)) == NULL)
		die(EX_CONFIG, conf_file ? conf_file : "defaults", err);
	fixed_keys(&f, c);
	open_socket(c, &ids, &f.sf);
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
	store_start(st); /* after fork and privileges: a thread */
	mlfi_install(c, st);
	/* A thread too, and after mlfi_install(): it reads the runtime. */
	if (f.metrics != NULL &&
	    (f.server = metrics_start(f.metrics, mlfi_metrics, NULL, err,
	                              sizeof err)) == NULL)
		die(EX_UNAVAILABLE, "metrics", err);
	if (f.server != NULL)
		log_msg(LOG_INFO, "metrics on %s", f.metrics);
	if (hitbatch_start(mlfi_hits_flush, NULL, err, sizeof err) != 0)
		die(EX_OSERR, "hit counters", err);
	return serve(&f, &set);
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
	load(&c, check);
	rc = check ? check_only(&c) : run(&c, foreground);
	conf_free(&c);
	return rc;
}
