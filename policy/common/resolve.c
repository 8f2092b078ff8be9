/*
 * resolve - a host name's addresses within a deadline.  See resolve.h.
 *
 * A name is looked up by getaddrinfo(3) in a detached thread of its own
 * while the caller waits on a condition variable for at most its time.
 * The lookup's state is shared by the two and freed by whichever lets go
 * of it last, so that a lookup the caller gave up on (getaddrinfo cannot
 * be interrupted) finishes on its own and writes only into memory that is
 * still its own.  Threads still under way are counted: beyond
 * RESOLVE_LOOKUPS_MAX (a resolver that has stopped answering while mail
 * keeps coming) a lookup fails at once rather than start another thread.
 *
 * IPv4 addresses come first, then IPv6, each in getaddrinfo's order: the
 * preference hiredis itself has for a name.
 */
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errbuf.h"
#include "mono.h"
#include "resolve.h"
#include "str.h"

/* One lookup, shared by the caller and its thread. */
struct lookup {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs; /* the caller's and the thread's */
	int done; /* rc, e and res are set */
	int rc;   /* getaddrinfo's */
	int e;    /* errno, for EAI_SYSTEM */
	struct addrinfo *res;
	char host[];
};

static atomic_int running; /* lookup threads not yet finished */

/* resolve_numeric - whether host is an address, needing no lookup */
int
resolve_numeric(const char *host)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	freeaddrinfo(res);
	return 1;
}

/* lookup_unref - let go of l; the last one frees it */
static void
lookup_unref(struct lookup *l)
{
	int left;

	pthread_mutex_lock(&l->mu);
	left = --l->refs;
	pthread_mutex_unlock(&l->mu);
	if (left > 0)
		return;
	if (l->res != NULL)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* lookup_run - the thread: getaddrinfo, however long it takes */
static void *
lookup_run(void *arg)
{
	struct lookup *l = arg;
	struct addrinfo hints, *res = NULL;
	int rc, e;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(l->host, NULL, &hints, &res);
	e = errno;
	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->e = e;
	l->res = rc == 0 ? res : NULL;
	l->done = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	lookup_unref(l);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

/* lookup_new - the shared state of a lookup of host, or NULL */
static struct lookup *
lookup_new(const char *host)
{
	size_t len = strlen(host) + 1;
	pthread_condattr_t ca;
	struct lookup *l;

	if ((l = calloc(1, sizeof *l + len)) == NULL)
		return NULL;
	memcpy(l->host, host, len);
	l->refs = 2;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	return l;
}

/*
 * lookup_start - a thread looking host up, signals blocked in it; NULL
 * with err set when too many are under way or none can be started
 */
static struct lookup *
lookup_start(const char *host, char *err, size_t errlen)
{
	struct lookup *l = NULL;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	char why[128];
	int e = ENOMEM;

	if (atomic_fetch_add(&running, 1) >= RESOLVE_LOOKUPS_MAX) {
		atomic_fetch_sub(&running, 1);
		errbuf_set(err, errlen, "resolving %s: %d lookups under way",
		           host, RESOLVE_LOOKUPS_MAX);
		return NULL;
	}
	if ((l = lookup_new(host)) != NULL) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		e = pthread_create(&t, &attr, lookup_run, l);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (e == 0)
			return l;
		l->refs = 1;
		lookup_unref(l);
	}
	atomic_fetch_sub(&running, 1);
	errbuf_strerror(e, why, sizeof why);
	errbuf_set(err, errlen, "resolving %s: cannot start a lookup: %s", host,
	           why);
	return NULL;
}

/* lookup_wait - whether l finished within us microseconds */
static int
lookup_wait(struct lookup *l, long long us)
{
	struct timespec until = mono_deadline(us);
	int done, e = 0;

	pthread_mutex_lock(&l->mu);
	while (!l->done && e != ETIMEDOUT)
		e = pthread_cond_timedwait(&l->cv, &l->mu, &until);
	done = l->done;
	pthread_mutex_unlock(&l->mu);
	return done;
}

/* take - the addresses of family af in res, numeric, appended to out */
static void
take(const struct addrinfo *res, int af, struct resolve_addrs *out)
{
	const struct addrinfo *ai;

	for (ai = res; ai != NULL && out->n < RESOLVE_ADDRS_MAX;
	     ai = ai->ai_next) {
		if (ai->ai_family != af ||
		    getnameinfo(ai->ai_addr, ai->ai_addrlen, out->addr[out->n],
		                sizeof out->addr[out->n], NULL, 0,
		                NI_NUMERICHOST) != 0)
			continue;
		out->n++;
	}
}

/* collect - what l found, into out; -1 with err set when nothing */
static int
collect(const struct lookup *l, struct resolve_addrs *out, char *err,
        size_t errlen)
{
	char why[256];

	if (l->rc == EAI_SYSTEM) {
		errbuf_strerror(l->e, why, sizeof why);
		errbuf_set(err, errlen, "resolving %s: %s", l->host, why);
		return -1;
	}
	if (l->rc != 0) {
		errbuf_set(err, errlen, "resolving %s: %s", l->host,
		           gai_strerror(l->rc));
		return -1;
	}
	take(l->res, AF_INET, out);
	take(l->res, AF_INET6, out);
	if (out->n == 0) {
		errbuf_set(err, errlen, "resolving %s: no IPv4 or IPv6 address",
		           l->host);
		return -1;
	}
	return 0;
}

/*
 * resolve_host - the addresses of host, numeric, found within timeout_us
 * microseconds: 0 with out->n >= 1, or -1 with err set ("resolving HOST:
 * timed out after N ms" when the time ran out)
 */
int
resolve_host(const char *host, long long timeout_us, struct resolve_addrs *out,
             char *err, size_t errlen)
{
	long long t0 = mono_us();
	struct lookup *l;
	int rc = -1;

	out->n = 0;
	if (resolve_numeric(host)) {
		if (str_copy(out->addr[0], host, sizeof out->addr[0]) >=
		    sizeof out->addr[0]) {
			errbuf_set(err, errlen, "resolving %s: too long", host);
			return -1;
		}
		out->n = 1;
		return 0;
	}
	if (timeout_us > 0 && (l = lookup_start(host, err, errlen)) != NULL) {
		if (lookup_wait(l, timeout_us))
			rc = collect(l, out, err, errlen);
		else
			errbuf_set(err, errlen,
			           "resolving %s: timed out after %lld ms",
			           host, (mono_us() - t0 + 500) / 1000);
		lookup_unref(l);
	} else if (timeout_us <= 0) {
		errbuf_set(err, errlen, "resolving %s: timed out after 0 ms",
		           host);
	}
	return rc;
}
