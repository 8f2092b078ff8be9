/*
 * loadgen_edit - loadgen --edit K: how long an edit in Redis takes to reach
 * the milter's decisions ("edit to effect").
 *
 * For each of K fresh recipients (an address no rule set has,
 * "e<run>n<i>@edit.bench.example"): one probe transaction (MAIL from a
 * sender without a rule, RCPT of the recipient, ABORT) that must be
 * answered "continue"; then `SET <prefix>recipient:<address> "554 5.7.1
 * Edit <i>"` on Redis, and probes one after another on the same milter
 * connection until the RCPT is answered with that reply: the time from the
 * SET's reply to that answer is the edit's latency.  Then the same for
 * `DEL` of the key, until the probe is answered "continue" again.  A probe
 * answered neither the old nor the new way is a wrong reply; an edit not
 * obeyed within --edit-timeout counts as a timeout (and that bound as its
 * latency).
 *
 * Redis is spoken to directly (RESP, one command at a time, over TCP to a
 * loopback address only: --redis 127.0.0.1:PORT[/DB]); no password.  The
 * load that makes this measurement "under load" is another loadgen run
 * against the same milter (tests/bench/run.sh starts it).
 *
 * Output: with -q only the line "loadgen: edits=... set_p50_us=...
 * set_p99_us=... set_max_us=... set_timeouts=... del_p50_us=... ...
 * probes=... stale=... wrong=... io_errors=...".  edit_run() returns the
 * exit status: 0, or 1 for a wrong reply or an I/O error.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define RESP_MAX 2048
#define EDIT_SENDER "1s@s0.bench.example" /* an odd number: no rule */

/* One kind of edit's latencies. */
struct lat {
	uint64_t *ns;
	long n, timeouts;
};

/* The run's counters. */
struct edit_stats {
	struct lat set, del;
	uint64_t probes, stale, wrong;
};

/* --- Redis ------------------------------------------------------------ */

static int edit_redis_cmd(int, const char *const *, char *, size_t);

/*
 * redis_open - a TCP connection to --redis (loopback only, or die), the
 * database selected; returns the descriptor
 */
static int
redis_open(const char *spec)
{
	char host[64], reply[RESP_MAX], db[16];
	const char *colon = strrchr(spec, ':'), *slash;
	struct sockaddr_in sa;
	struct timeval tv;
	int fd, one = 1;
	long port;
	char *end;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof host)
		lg_die("--redis: want 127.0.0.1:PORT[/DB], got \"%s\"", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		lg_die("refusing --redis %s: not a loopback address", spec);
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || (*end != '\0' && *end != '/') || port < 1 ||
	    port > 65535)
		lg_die("--redis %s: bad port", spec);
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		lg_die("socket: %s", strerror(errno));
	tv.tv_sec = (time_t)lg_opt.timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		lg_die("--redis %s: %s", spec, strerror(errno));
	slash = strchr(colon, '/');
	if (slash != NULL && strcmp(slash + 1, "0") != 0) {
		const char *args[] = {"SELECT", db, NULL};

		snprintf(db, sizeof db, "%s", slash + 1);
		if (edit_redis_cmd(fd, args, reply, sizeof reply) != 0 ||
		    strcmp(reply, "+OK") != 0)
			lg_die("--redis %s: SELECT: %s", spec, reply);
	}
	return fd;
}

/*
 * edit_redis_cmd - send one command (a NULL-terminated list of arguments)
 * and read its one-line reply, CR LF removed, into reply; 0 or -1
 */
static int
edit_redis_cmd(int fd, const char *const *args, char *reply, size_t size)
{
	char buf[RESP_MAX];
	size_t len, argc = 0, l, off;
	ssize_t n;
	int k;

	while (args[argc] != NULL)
		argc++;
	k = snprintf(buf, sizeof buf, "*%zu\r\n", argc);
	len = (size_t)k;
	for (; *args != NULL; args++) {
		l = strlen(*args);
		k = snprintf(buf + len, sizeof buf - len, "$%zu\r\n", l);
		if (k < 0 || len + (size_t)k + l + 2 > sizeof buf)
			lg_die("Redis command too long");
		len += (size_t)k;
		memcpy(buf + len, *args, l);
		memcpy(buf + len + l, "\r\n", 2);
		len += l + 2;
	}
	for (off = 0; off < len; off += (size_t)n)
		if ((n = send(fd, buf + off, len - off, MSG_NOSIGNAL)) <= 0)
			return -1;
	/* Replies to SET, DEL and SELECT are one line; one at a time. */
	for (off = 0; off + 1 < size; off++) {
		do
			n = recv(fd, reply + off, 1, 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		if (off > 0 && reply[off - 1] == '\r' && reply[off] == '\n') {
			reply[off - 1] = '\0';
			return 0;
		}
	}
	return -1;
}

/* --- latencies ---------------------------------------------------------- */

static int
by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* pct - the nearest-rank percentile of sorted values, µs */
static double
pct(const struct lat *l, double p)
{
	long r;

	if (l->n == 0)
		return 0;
	r = (long)((double)l->n * p / 100.0 + 0.999999);
	if (r < 1)
		r = 1;
	if (r > l->n)
		r = l->n;
	return (double)l->ns[r - 1] / 1000.0;
}

/* --- the edits ------------------------------------------------------------ */

/*
 * await - probe until the reply is want; the latency from t0 into l.
 * Returns 0, or -1 on an I/O error (a wrong reply is counted in st).
 */
static int
await(struct worker *w, const char *rcpt, const char *want, const char *old,
      uint64_t t0, struct lat *l, struct edit_stats *st)
{
	uint64_t bound = (uint64_t)(lg_opt.edit_timeout * 1e9), now;
	char got[REPLY_MAX];

	for (;;) {
		if (milter_probe(w, EDIT_SENDER, rcpt, got, sizeof got) != 0)
			return -1;
		now = lg_now_ns();
		st->probes++;
		if (strcmp(got, want) == 0)
			break;
		if (strcmp(got, old) != 0) {
			st->wrong++;
			fprintf(stderr,
			        "loadgen: edit: wrong reply to RCPT <%s>: got "
			        "\"%s\", want \"%s\" or \"%s\"\n",
			        rcpt, got, want, old);
			return 0;
		}
		st->stale++;
		if (now - t0 >= bound) {
			l->timeouts++;
			break;
		}
	}
	l->ns[l->n++] = now - t0;
	return 0;
}

/* one_edit - probe, SET, await; DEL, await.  0, or -1 on an I/O error */
static int
one_edit(struct worker *w, int rfd, long run, long i, struct edit_stats *st)
{
	char rcpt[ADDR_MAX], key[ADDR_MAX + 64], value[64], got[REPLY_MAX];
	char reply[RESP_MAX];
	const char *set[] = {"SET", key, value, NULL};
	const char *del[] = {"DEL", key, NULL};
	uint64_t t0;

	snprintf(rcpt, sizeof rcpt, "e%lxn%ld@edit.bench.example", run, i);
	snprintf(key, sizeof key, "%srecipient:%s", lg_opt.prefix, rcpt);
	snprintf(value, sizeof value, "554 5.7.1 Edit %ld", i);
	if (milter_probe(w, EDIT_SENDER, rcpt, got, sizeof got) != 0)
		return -1;
	st->probes++;
	if (strcmp(got, "continue") != 0) {
		st->wrong++;
		fprintf(stderr,
		        "loadgen: edit: RCPT <%s> before its rule: "
		        "got \"%s\", want \"continue\"\n",
		        rcpt, got);
	}
	if (edit_redis_cmd(rfd, set, reply, sizeof reply) != 0 ||
	    strcmp(reply, "+OK") != 0)
		lg_die("Redis SET failed: %s", reply);
	t0 = lg_now_ns();
	if (await(w, rcpt, value, "continue", t0, &st->set, st) != 0)
		return -1;
	if (edit_redis_cmd(rfd, del, reply, sizeof reply) != 0 ||
	    strcmp(reply, ":1") != 0)
		lg_die("Redis DEL failed: %s", reply);
	t0 = lg_now_ns();
	return await(w, rcpt, "continue", value, t0, &st->del, st);
}

/* print_lat - one kind's numbers, as key=value */
static void
print_lat(const char *name, const struct lat *l)
{
	printf(" %s_p50_us=%.1f %s_p90_us=%.1f %s_p99_us=%.1f %s_max_us=%.1f "
	       "%s_timeouts=%ld",
	       name, pct(l, 50), name, pct(l, 90), name, pct(l, 99), name,
	       pct(l, 100), name, l->timeouts);
}

/* edit_run - --edit K against the target; the exit status */
int
edit_run(void)
{
	struct timespec pause = {0, 2000000};
	struct edit_stats st;
	struct worker w;
	long i, run = (long)((lg_now_ns() / 1000) & 0xfffffff);
	int rfd, io = 0;

	memset(&st, 0, sizeof st);
	st.set.ns = calloc((size_t)lg_opt.edits, sizeof *st.set.ns);
	st.del.ns = calloc((size_t)lg_opt.edits, sizeof *st.del.ns);
	memset(&w, 0, sizeof w);
	w.c.fd = -1;
	w.c.rbuf = calloc(1, MAX_PACKET + 4);
	w.rng = lg_mix(lg_opt.seed) | 1;
	if (st.set.ns == NULL || st.del.ns == NULL || w.c.rbuf == NULL)
		lg_die("out of memory");
	rfd = redis_open(lg_opt.redis);
	if (milter_session_open(&w) != 0)
		lg_die("cannot open a milter session: %s", strerror(errno));
	for (i = 0; i < lg_opt.edits && !io; i++) {
		if (one_edit(&w, rfd, run, i, &st) != 0) {
			fprintf(stderr, "loadgen: edit %ld: milter I/O error\n",
			        i);
			io = 1;
		}
		nanosleep(&pause, NULL);
	}
	milter_session_close(&w);
	close(rfd);
	qsort(st.set.ns, (size_t)st.set.n, sizeof *st.set.ns, by_value);
	qsort(st.del.ns, (size_t)st.del.n, sizeof *st.del.ns, by_value);
	printf("loadgen: edits=%ld", st.set.n);
	print_lat("set", &st.set);
	print_lat("del", &st.del);
	printf(" probes=%" PRIu64 " stale=%" PRIu64 " wrong=%" PRIu64
	       " io_errors=%d\n",
	       st.probes, st.stale, st.wrong, io);
	free(st.set.ns);
	free(st.del.ns);
	free(w.c.rbuf);
	return st.wrong > 0 || io ? 1 : 0;
}
