/*
 * loadgen - a load generator that speaks the milter protocol (version 6)
 * to a milter's socket, checks every reply, and measures.
 *
 * usage: loadgen -s SOCKET [-c CONC] [-n TRANSACTIONS] [-k RCPTS] [options]
 *        loadgen --write-rules FILE [--rules N] [--domains D]
 *        (see usage() below, or tests/bench/README)
 *
 * What it sends: CONC connections at once, each running TRANSACTIONS
 * transactions (OPTNEG, CONNECT, HELO once per connection; then per
 * transaction MAIL, K x RCPT, and EOM when a recipient was accepted, ABORT
 * when none was), with --new-conn one connection per transaction, as Postfix
 * does for one message per SMTP session.  Macros ('D' packets) go before
 * CONNECT, MAIL and RCPT as Postfix sends them.
 *
 * How it knows the right reply: the rules are its own.  A rule set of N
 * rules is a pure function of N and D (--write-rules writes it for
 * `redmilterctl import`, --write-postfix and --write-postfwd the same rules
 * for Postfix access maps and postfwd), and every address it sends is drawn
 * from pools whose members are known hits or known misses:
 *   rule i, i % 10 != 9: recipient  "<2i>r@d<2i % D>.bench.example"
 *   rule i, i % 10 == 9: sender     "<2i>s@s<2i % D>.bench.example"
 *   misses use odd numbers, which no rule has.
 * With delay_checks = yes (redmilter's default) every table is decided at
 * RCPT: the recipient's rule if there is one, else the sender's, else
 * continue.  Actions cover the catalogue (a bare code), explicit codes,
 * REJECT, DEFER and OK; hits are sometimes sent with a +extension or in
 * upper case, which must still hit.  --expect continue expects "continue"
 * everywhere (for a do-nothing milter), --expect naive what
 * tests/bench/naivemilter answers (an exact GET per address, and only values
 * of the form "NNN X.Y.Z text" are replies).
 *
 * --edit K measures something else: the time from an edit in Redis to the
 * first decision of the milter that obeys it (loadgen_edit.c).
 *
 * It refuses any target that is not a unix socket or a loopback address,
 * and stops by itself: after TRANSACTIONS per connection or --duration
 * seconds, whichever comes first, and every read and write has --timeout.
 *
 * The code: this file has main, the options, the run loop and the report;
 * loadgen_milter.c speaks the protocol, loadgen_rules.c makes the rules and
 * the addresses (loadgen.h).
 *
 * Output: a human table on stdout, then one line "loadgen: key=value ...".
 * Exit status: 0 every reply as expected (or allowed by --allow-reply), 1
 * a wrong reply or an I/O error (unless --allow-errors), 2 usage or refused
 * target.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"

#define WRONG_SHOWN 10

static const char *const cmd_names[CMD_COUNT] = {
    "optneg", "connect", "helo", "mail", "rcpt", "eom", "txn"};

/* The run's settings: the defaults, then the options (parse_args). */
struct lg_options lg_opt = {
    .conc = 4,
    .txns = 1000,
    .rcpts = 1,
    .duration = 60.0,
    .timeout = 10.0,
    .nrules = 10000,
    .domains = 1,
    .rcpt_hit = 0.5,
    .sender_hit = 0.2,
    .pool_rcpt = 10000,
    .pool_sender = 100,
    .pool_client = 100,
    .variants = 1,
    .seed = 1,
    .prefix = "redmilter:",
    .edit_timeout = 5.0,
};

static struct timespec t_start;
static atomic_int stop_flag;
static pthread_barrier_t opened, go; /* persistent mode: all open, then go */
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int wrong_shown;

/* lg_die - a usage or set-up error */
void
lg_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* xcalloc - calloc or die */
static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		lg_die("out of memory");
	return p;
}

/* lg_now_ns - monotonic nanoseconds */
uint64_t
lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* elapsed - seconds since the start */
static double
elapsed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t_start.tv_sec) +
	       (double)(ts.tv_nsec - t_start.tv_nsec) / 1e9;
}

/* --- histograms ------------------------------------------------------ */

/* hist_index - the bucket of a value */
static size_t
hist_index(uint64_t v)
{
	int e;

	if (v < 64)
		return (size_t)v;
	e = 63 - __builtin_clzll(v);
	if (e - 6 >= 40)
		return H_BUCKETS - 1;
	return 64 + (size_t)(e - 6) * H_SUB +
	       (size_t)((v >> (e - H_SUB_BITS)) & (H_SUB - 1));
}

/* hist_value - the middle of a bucket */
static uint64_t
hist_value(size_t i)
{
	uint64_t e, sub, lo, width;

	if (i < 64)
		return i;
	e = (i - 64) / H_SUB + 6;
	sub = (i - 64) % H_SUB;
	width = (uint64_t)1 << (e - H_SUB_BITS);
	lo = ((uint64_t)1 << e) + sub * width;
	return lo + width / 2;
}

/* lg_hist_add - one value (ns) into a histogram */
void
lg_hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

/* hist_merge - add the counts of one histogram to another */
static void
hist_merge(struct hist *to, const struct hist *from)
{
	size_t i;

	for (i = 0; i < H_BUCKETS; i++)
		to->b[i] += from->b[i];
	to->n += from->n;
	if (from->max > to->max)
		to->max = from->max;
}

/* hist_pct - the value at a percentile (0..100), ns */
static uint64_t
hist_pct(const struct hist *h, double pct)
{
	uint64_t want, seen = 0;
	size_t i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)((double)h->n * pct / 100.0 + 0.5);
	if (want < 1)
		want = 1;
	for (i = 0; i < H_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* --- random numbers ------------------------------------------------------ */

/* lg_mix - a 64-bit hash (splitmix64 finaliser) */
uint64_t
lg_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* lg_rng - xorshift64* */
uint64_t
lg_rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* --- one worker --------------------------------------------------------------
 */

/* count_reply - one reply into the histogram of replies */
static void
count_reply(struct stats *st, enum cmd cmd, const char *text)
{
	size_t i;

	for (i = 0; i < st->nrc; i++)
		if (st->rc[i].cmd == cmd && strcmp(st->rc[i].text, text) == 0) {
			st->rc[i].n++;
			return;
		}
	if (st->nrc == MAX_REPLIES) {
		st->other++;
		return;
	}
	st->rc[st->nrc].cmd = cmd;
	snprintf(st->rc[st->nrc].text, sizeof st->rc[st->nrc].text, "%s", text);
	st->rc[st->nrc++].n = 1;
}

/* allowed - whether a reply is on the --allow-reply list (prefixes) */
static int
allowed(const char *text)
{
	size_t i;

	for (i = 0; i < lg_opt.nallow; i++)
		if (strncmp(text, lg_opt.allow[i], strlen(lg_opt.allow[i])) ==
		    0)
			return 1;
	return 0;
}

/* lg_judge - compare a reply with the expected one and count it */
void
lg_judge(struct worker *w, enum cmd cmd, const char *got, const char *want,
         const char *what)
{
	count_reply(&w->st, cmd, got);
	if (strcmp(got, want) == 0)
		return;
	if (allowed(got)) {
		w->st.allowed++;
		return;
	}
	w->st.wrong++;
	if (atomic_fetch_add(&wrong_shown, 1) < WRONG_SHOWN) {
		pthread_mutex_lock(&print_mu);
		fprintf(stderr,
		        "loadgen: wrong reply to %s %s: got \"%s\", "
		        "want \"%s\"\n",
		        cmd_names[cmd], what, got, want);
		pthread_mutex_unlock(&print_mu);
	}
}

/* io_error - count a broken connection, and drop it */
static void
io_error(struct worker *w)
{
	w->st.io_errors++;
	if (atomic_fetch_add(&wrong_shown, 1) < WRONG_SHOWN) {
		pthread_mutex_lock(&print_mu);
		fprintf(stderr, "loadgen: connection %ld: %s\n", w->id,
		        errno != 0 ? strerror(errno) : "closed or bad packet");
		pthread_mutex_unlock(&print_mu);
	}
	milter_conn_close(&w->c);
	w->open = 0;
}

/* worker_main - one connection slot: its transactions, then QUIT */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pick *rcpts = xcalloc((size_t)lg_opt.rcpts, sizeof *rcpts);
	struct timespec pause = {0, 50000000};
	long t;

	w->c.fd = -1;
	w->c.rbuf = xcalloc(1, MAX_PACKET + 4);
	if (!lg_opt.new_conn) {
		/* Sessions open first, and the clock starts when all are:
		 * throughput is measured without the ramp-up. */
		errno = 0;
		if (milter_session_open(w) != 0)
			io_error(w);
		pthread_barrier_wait(&opened);
		pthread_barrier_wait(&go);
	}
	for (t = 0; t < lg_opt.txns; t++) {
		if (atomic_load(&stop_flag) || elapsed() >= lg_opt.duration)
			break;
		snprintf(w->qid, sizeof w->qid, "B%lX%lX", w->id, t);
		errno = 0;
		if (!w->open && milter_session_open(w) != 0) {
			io_error(w);
			nanosleep(&pause, NULL); /* the milter may be down */
			continue;
		}
		if (milter_transaction(w, rcpts) != 0) {
			io_error(w);
			continue;
		}
		if (lg_opt.new_conn)
			milter_session_close(w);
	}
	milter_session_close(w);
	free(w->c.rbuf);
	free(rcpts);
	return NULL;
}

/* --- options ------------------------------------------------------------- */

/* num - a long option value in [lo, hi], or die */
static long
num(const char *name, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		lg_die("%s: want a whole number in [%ld, %ld], got \"%s\"",
		       name, lo, hi, s);
	return v;
}

/* real - a double option value in [lo, hi], or die */
static double
real(const char *name, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		lg_die("%s: want a number in [%g, %g], got \"%s\"", name, lo,
		       hi, s);
	return v;
}

/* usage - the options on stderr, and exit 2 */
static void
usage(void)
{
	fputs(
	    "usage: loadgen -s SOCKET [options]    run load against a milter\n"
	    "       loadgen --write-rules FILE [--write-postfix DIR]\n"
	    "               [--write-postfwd DIR] [--rules N] [--domains D]\n"
	    "  -s, --socket SPEC      unix:PATH or inet:PORT@127.0.0.1 "
	    "(loopback only)\n"
	    "  -c, --conc N           concurrent connections (4)\n"
	    "  -n, --transactions N   transactions per connection (1000)\n"
	    "  -k, --rcpts N          recipients per transaction (1)\n"
	    "      --new-conn         a new connection per transaction\n"
	    "  -d, --duration SEC     stop after this long at the latest (60)\n"
	    "  -t, --timeout SEC      per read or write (10)\n"
	    "      --rules N          the rule set's size (10000)\n"
	    "      --domains D        domains the rule set's addresses use "
	    "(1)\n"
	    "      --rcpt-hits P      share of recipients with a rule (0.5)\n"
	    "      --sender-hits P    share of senders with a rule (0.2)\n"
	    "      --recipients N     distinct recipient addresses (10000)\n"
	    "      --senders N        distinct senders (100)\n"
	    "      --clients N        distinct client addresses (100)\n"
	    "      --no-variants      hits never with +extension or in upper "
	    "case\n"
	    "      --sweep            every sender x recipient pair in turn\n"
	    "      --seed N           pools differ with the seed (1)\n"
	    "      --expect rules|naive|continue   what the replies must be\n"
	    "                         (rules; naive: tests/bench/naivemilter)\n"
	    "      --allow-reply TEXT also accept replies starting with TEXT\n"
	    "                         (repeatable: \"451 4.3.0\", tempfail)\n"
	    "      --allow-errors     I/O errors (the milter went away) do "
	    "not fail the run\n"
	    "  -q, --quiet            only the key=value line\n"
	    "      --edit K           instead of load: K edits in Redis, each\n"
	    "                         probed until the milter obeys it\n"
	    "      --redis ADDR       for --edit: 127.0.0.1:PORT[/DB]\n"
	    "      --prefix P         for --edit: the key prefix (redmilter:)\n"
	    "      --edit-timeout SEC for --edit: an edit's bound (5)\n",
	    stderr);
	exit(2);
}

enum {
	O_NEWCONN = 256,
	O_RULES,
	O_DOMAINS,
	O_RHIT,
	O_SHIT,
	O_PRCPT,
	O_PSND,
	O_PCLI,
	O_NOVAR,
	O_SWEEP,
	O_SEED,
	O_EXPECT,
	O_ALLOW,
	O_ALLOWERR,
	O_WRULES,
	O_WPOSTFIX,
	O_WPOSTFWD,
	O_EDIT,
	O_REDIS,
	O_PREFIX,
	O_EDITTMO
};

static const struct option longopts[] = {
    {"socket", required_argument, NULL, 's'},
    {"conc", required_argument, NULL, 'c'},
    {"transactions", required_argument, NULL, 'n'},
    {"rcpts", required_argument, NULL, 'k'},
    {"duration", required_argument, NULL, 'd'},
    {"timeout", required_argument, NULL, 't'},
    {"quiet", no_argument, NULL, 'q'},
    {"new-conn", no_argument, NULL, O_NEWCONN},
    {"rules", required_argument, NULL, O_RULES},
    {"domains", required_argument, NULL, O_DOMAINS},
    {"rcpt-hits", required_argument, NULL, O_RHIT},
    {"sender-hits", required_argument, NULL, O_SHIT},
    {"recipients", required_argument, NULL, O_PRCPT},
    {"senders", required_argument, NULL, O_PSND},
    {"clients", required_argument, NULL, O_PCLI},
    {"no-variants", no_argument, NULL, O_NOVAR},
    {"sweep", no_argument, NULL, O_SWEEP},
    {"seed", required_argument, NULL, O_SEED},
    {"expect", required_argument, NULL, O_EXPECT},
    {"allow-reply", required_argument, NULL, O_ALLOW},
    {"allow-errors", no_argument, NULL, O_ALLOWERR},
    {"write-rules", required_argument, NULL, O_WRULES},
    {"write-postfix", required_argument, NULL, O_WPOSTFIX},
    {"write-postfwd", required_argument, NULL, O_WPOSTFWD},
    {"edit", required_argument, NULL, O_EDIT},
    {"redis", required_argument, NULL, O_REDIS},
    {"prefix", required_argument, NULL, O_PREFIX},
    {"edit-timeout", required_argument, NULL, O_EDITTMO},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Files to write instead of running. */
static const char *w_rules, *w_postfix, *w_postfwd;

/* parse_args - the options into opt; dies on nonsense */
static void
parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "s:c:n:k:d:t:qh", longopts,
	                         NULL)) != -1) {
		switch (ch) {
		case 's':
			lg_opt.socket = optarg;
			break;
		case 'c':
			lg_opt.conc = num("--conc", optarg, 1, 10000);
			break;
		case 'n':
			lg_opt.txns =
			    num("--transactions", optarg, 1, LONG_MAX);
			break;
		case 'k':
			lg_opt.rcpts = num("--rcpts", optarg, 1, 1000);
			break;
		case 'd':
			lg_opt.duration =
			    real("--duration", optarg, 0.1, 86400);
			break;
		case 't':
			lg_opt.timeout = real("--timeout", optarg, 0.01, 3600);
			break;
		case 'q':
			lg_opt.quiet = 1;
			break;
		case O_NEWCONN:
			lg_opt.new_conn = 1;
			break;
		case O_RULES:
			lg_opt.nrules = num("--rules", optarg, 0, 100000000);
			break;
		case O_DOMAINS:
			lg_opt.domains = num("--domains", optarg, 1, 1000000);
			break;
		case O_RHIT:
			lg_opt.rcpt_hit = real("--rcpt-hits", optarg, 0, 1);
			break;
		case O_SHIT:
			lg_opt.sender_hit = real("--sender-hits", optarg, 0, 1);
			break;
		case O_PRCPT:
			lg_opt.pool_rcpt =
			    num("--recipients", optarg, 1, LONG_MAX);
			break;
		case O_PSND:
			lg_opt.pool_sender =
			    num("--senders", optarg, 1, LONG_MAX);
			break;
		case O_PCLI:
			lg_opt.pool_client = num("--clients", optarg, 1, 62500);
			break;
		case O_NOVAR:
			lg_opt.variants = 0;
			break;
		case O_SWEEP:
			lg_opt.sweep = 1;
			break;
		case O_SEED:
			lg_opt.seed =
			    (unsigned long)num("--seed", optarg, 0, LONG_MAX);
			break;
		case O_EXPECT:
			lg_opt.expect_continue = lg_opt.expect_naive = 0;
			if (strcmp(optarg, "continue") == 0)
				lg_opt.expect_continue = 1;
			else if (strcmp(optarg, "naive") == 0)
				lg_opt.expect_naive = 1;
			else if (strcmp(optarg, "rules") != 0)
				lg_die("--expect: rules, naive or continue");
			break;
		case O_ALLOW:
			if (lg_opt.nallow == MAX_ALLOW)
				lg_die("--allow-reply: at most %d", MAX_ALLOW);
			lg_opt.allow[lg_opt.nallow++] = optarg;
			break;
		case O_ALLOWERR:
			lg_opt.allow_errors = 1;
			break;
		case O_WRULES:
			w_rules = optarg;
			break;
		case O_WPOSTFIX:
			w_postfix = optarg;
			break;
		case O_WPOSTFWD:
			w_postfwd = optarg;
			break;
		case O_EDIT:
			lg_opt.edits = num("--edit", optarg, 1, 1000000);
			break;
		case O_REDIS:
			lg_opt.redis = optarg;
			break;
		case O_PREFIX:
			if (strlen(optarg) > 64)
				lg_die("--prefix: at most 64 bytes");
			lg_opt.prefix = optarg;
			break;
		case O_EDITTMO:
			lg_opt.edit_timeout =
			    real("--edit-timeout", optarg, 0.001, 3600);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (lg_opt.edits > 0 && (lg_opt.redis == NULL || lg_opt.socket == NULL))
		lg_die("--edit wants -s and --redis");
	if (lg_opt.socket == NULL && w_rules == NULL && w_postfix == NULL &&
	    w_postfwd == NULL)
		usage();
}

/* on_signal - SIGINT, SIGTERM: finish the transactions under way, report */
static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

/* --- the report ----------------------------------------------------------- */

/* by_count - qsort order: by command, then the most frequent reply first */
static int
by_count(const void *a, const void *b)
{
	const struct reply_count *x = a, *y = b;

	if (x->cmd != y->cmd)
		return (int)x->cmd - (int)y->cmd;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

/* merge - the workers' statistics into one */
static void
merge(struct stats *all, struct worker *w, long n)
{
	long i;
	size_t j;
	int c;

	memset(all, 0, sizeof *all);
	for (i = 0; i < n; i++) {
		struct stats *s = &w[i].st;

		for (c = 0; c < CMD_COUNT; c++)
			hist_merge(&all->h[c], &s->h[c]);
		for (j = 0; j < s->nrc; j++) {
			size_t k;

			for (k = 0; k < all->nrc; k++)
				if (all->rc[k].cmd == s->rc[j].cmd &&
				    strcmp(all->rc[k].text, s->rc[j].text) == 0)
					break;
			if (k == all->nrc) {
				if (all->nrc == MAX_REPLIES) {
					all->other += s->rc[j].n;
					continue;
				}
				all->rc[all->nrc] = s->rc[j];
				all->rc[all->nrc++].n = 0;
			}
			all->rc[k].n += s->rc[j].n;
		}
		all->txns += s->txns;
		all->rcpts += s->rcpts;
		all->wrong += s->wrong;
		all->allowed += s->allowed;
		all->io_errors += s->io_errors;
		all->conns += s->conns;
		all->other += s->other;
	}
}

/* us - nanoseconds as microseconds */
static double
us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* report - the human table, then the key=value line */
static void
report(struct stats *s, double secs)
{
	size_t j;
	int c;

	qsort(s->rc, s->nrc, sizeof s->rc[0], by_count);
	if (!lg_opt.quiet) {
		printf("loadgen: %s, %ld connections x %ld transactions x %ld "
		       "recipients%s, %ld rules\n",
		       lg_opt.socket, lg_opt.conc, lg_opt.txns, lg_opt.rcpts,
		       lg_opt.new_conn ? ", new connection per transaction"
		                       : "",
		       lg_opt.nrules);
		printf("%.3f s: %" PRIu64 " transactions (%.1f/s), %" PRIu64
		       " recipient decisions (%.1f/s), %" PRIu64
		       " connections\n",
		       secs, s->txns, (double)s->txns / secs, s->rcpts,
		       (double)s->rcpts / secs, s->conns);
		printf("\n%-8s %10s %10s %10s %10s %10s   (microseconds)\n",
		       "command", "count", "p50", "p90", "p99", "max");
		for (c = 0; c < CMD_COUNT; c++) {
			const struct hist *h = &s->h[c];

			if (h->n == 0)
				continue;
			printf("%-8s %10" PRIu64 " %10.1f %10.1f %10.1f "
			       "%10.1f\n",
			       cmd_names[c], h->n, us(hist_pct(h, 50)),
			       us(hist_pct(h, 90)), us(hist_pct(h, 99)),
			       us(h->max));
		}
		printf("\n%-8s %10s  %s\n", "command", "count", "reply");
		for (j = 0; j < s->nrc; j++)
			printf("%-8s %10" PRIu64 "  %s\n",
			       cmd_names[s->rc[j].cmd], s->rc[j].n,
			       s->rc[j].text);
		if (s->other > 0)
			printf("%-8s %10" PRIu64 "  (other replies)\n", "",
			       s->other);
		printf("\nwrong replies %" PRIu64 ", allowed %" PRIu64
		       ", I/O errors %" PRIu64 "\n",
		       s->wrong, s->allowed, s->io_errors);
	}
	printf("loadgen: secs=%.3f conc=%ld rcpts=%ld new_conn=%d txns=%" PRIu64
	       " decisions=%" PRIu64 " conns=%" PRIu64
	       " txn_per_s=%.1f decisions_per_s=%.1f",
	       secs, lg_opt.conc, lg_opt.rcpts, lg_opt.new_conn, s->txns,
	       s->rcpts, s->conns, (double)s->txns / secs,
	       (double)s->rcpts / secs);
	for (c = 0; c < CMD_COUNT; c++) {
		const struct hist *h = &s->h[c];

		if (h->n == 0)
			continue;
		printf(" %s_p50_us=%.1f %s_p90_us=%.1f %s_p99_us=%.1f "
		       "%s_max_us=%.1f",
		       cmd_names[c], us(hist_pct(h, 50)), cmd_names[c],
		       us(hist_pct(h, 90)), cmd_names[c], us(hist_pct(h, 99)),
		       cmd_names[c], us(h->max));
	}
	printf(" wrong=%" PRIu64 " allowed=%" PRIu64 " io_errors=%" PRIu64 "\n",
	       s->wrong, s->allowed, s->io_errors);
}

/* main - write the rule files, or run the load and report; see the top */
int
main(int argc, char **argv)
{
	struct worker *w;
	struct stats all;
	pthread_attr_t attr;
	struct sigaction sa;
	double secs;
	long i, started;

	parse_args(argc, argv);
	if (w_rules != NULL || w_postfix != NULL || w_postfwd != NULL) {
		if (w_rules != NULL)
			rules_write(w_rules);
		if (w_postfix != NULL)
			rules_write_postfix(w_postfix);
		if (w_postfwd != NULL)
			rules_write_postfwd(w_postfwd);
		if (lg_opt.socket == NULL)
			return 0;
	}
	milter_resolve_target(lg_opt.socket);
	if (lg_opt.edits > 0)
		return edit_run();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	w = xcalloc((size_t)lg_opt.conc, sizeof *w);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (pthread_barrier_init(&opened, NULL, (unsigned)lg_opt.conc + 1) !=
	        0 ||
	    pthread_barrier_init(&go, NULL, (unsigned)lg_opt.conc + 1) != 0)
		lg_die("pthread_barrier_init failed");
	for (started = 0; started < lg_opt.conc; started++) {
		w[started].id = started;
		w[started].rng =
		    lg_mix(lg_opt.seed * 7919u + (uint64_t)started) | 1;
		if (pthread_create(&w[started].tid, &attr, worker_main,
		                   &w[started]) != 0) {
			/* Without all its threads the run is void. */
			lg_die("cannot start thread %ld", started);
		}
	}
	if (!lg_opt.new_conn) {
		pthread_barrier_wait(&opened);
		clock_gettime(CLOCK_MONOTONIC, &t_start);
		pthread_barrier_wait(&go);
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	secs = elapsed();
	pthread_attr_destroy(&attr);
	merge(&all, w, started);
	report(&all, secs);
	free(w);
	if (all.wrong > 0 || (all.io_errors > 0 && !lg_opt.allow_errors))
		return 1;
	return 0;
}
