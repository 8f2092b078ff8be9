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
 * everywhere (for a do-nothing milter).
 *
 * It refuses any target that is not a unix socket or a loopback address,
 * and stops by itself: after TRANSACTIONS per connection or --duration
 * seconds, whichever comes first, and every read and write has --timeout.
 *
 * Output: a human table on stdout, then one line "loadgen: key=value ...".
 * Exit status: 0 every reply as expected (or allowed by --allow-reply), 1
 * a wrong reply or an I/O error (unless --allow-errors), 2 usage or refused
 * target.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define MILTER_VERSION 6
#define MAX_PACKET (1024 * 1024)
#define MAX_REPLIES 64 /* distinct (command, reply) pairs tracked */
#define MAX_ALLOW 16
#define REPLY_MAX 1024
#define ADDR_MAX 256
#define WRONG_SHOWN 10

/* The commands we time and count replies of. */
enum cmd {
	CMD_OPTNEG,
	CMD_CONNECT,
	CMD_HELO,
	CMD_MAIL,
	CMD_RCPT,
	CMD_EOM,
	CMD_TXN,
	CMD_COUNT
};

static const char *const cmd_names[CMD_COUNT] = {
    "optneg", "connect", "helo", "mail", "rcpt", "eom", "txn"};

/* Latency histogram: log-linear, 32 steps per power of two (~3%). */
#define H_SUB 32
#define H_SUB_BITS 5
#define H_BUCKETS (64 + 40 * H_SUB)

struct hist {
	uint32_t b[H_BUCKETS];
	uint64_t n;
	uint64_t max;
};

struct reply_count {
	enum cmd cmd;
	char text[128];
	uint64_t n;
};

/* What one worker saw. */
struct stats {
	struct hist h[CMD_COUNT];
	struct reply_count rc[MAX_REPLIES];
	size_t nrc;
	uint64_t txns, rcpts, wrong, allowed, io_errors, conns, other;
};

/* The run's settings. */
static struct {
	const char *socket;
	long conc, txns, rcpts;
	int new_conn;
	double duration, timeout;
	long nrules, domains;
	double rcpt_hit, sender_hit;
	long pool_rcpt, pool_sender, pool_client;
	int expect_continue;
	const char *allow[MAX_ALLOW];
	size_t nallow;
	int allow_errors;
	int quiet;
	int variants;
	unsigned long seed;
	int sweep;
} opt = {
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
};

/* The target, resolved once. */
static struct sockaddr_storage target;
static socklen_t target_len;

static struct timespec t_start;
static atomic_int stop_flag;
static atomic_ulong sweep_next;
static pthread_barrier_t opened, go; /* persistent mode: all open, then go */
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int wrong_shown;

/* die - a usage or set-up error */
static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
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
		die("out of memory");
	return p;
}

/* now_ns - monotonic nanoseconds */
static uint64_t
now_ns(void)
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

static void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

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

/* --- the rule set -------------------------------------------------------- */

/* One action: its import form, and what each contender answers. */
struct action {
	const char *rule;    /* redmilterctl import */
	const char *reply;   /* milter reply: "continue" or the REPLYCODE */
	const char *postfix; /* Postfix access map / postfwd action */
};

static const struct action rcpt_actions[] = {
    {"550", "550 5.1.1 Mailbox not found", "550 5.1.1 Mailbox not found"},
    {"552 5.2.2 Mailbox full", "552 5.2.2 Mailbox full",
     "552 5.2.2 Mailbox full"},
    {"REJECT No such user here", "550 5.7.1 No such user here",
     "550 5.7.1 No such user here"},
    {"DEFER Try again later", "450 4.7.1 Try again later",
     "450 4.7.1 Try again later"},
    {"OK", "continue", "OK"},
    {"450", "450 4.2.1 Mailbox unavailable", "450 4.2.1 Mailbox unavailable"},
    {"554 5.7.1 Relay access denied", "554 5.7.1 Relay access denied",
     "554 5.7.1 Relay access denied"},
};

static const struct action sender_actions[] = {
    {"REJECT Go away", "550 5.7.1 Go away", "550 5.7.1 Go away"},
    {"OK", "continue", "OK"},
    {"553", "553 5.1.7 Mailbox name invalid", "553 5.1.7 Mailbox name invalid"},
    {"DEFER Slow down", "450 4.7.1 Slow down", "450 4.7.1 Slow down"},
};

#define NRCPT_ACTIONS (sizeof rcpt_actions / sizeof rcpt_actions[0])
#define NSENDER_ACTIONS (sizeof sender_actions / sizeof sender_actions[0])

/* rule_is_sender - whether rule i is a sender rule */
static int
rule_is_sender(long i)
{
	return i % 10 == 9;
}

/* rule_action - the action of rule i */
static const struct action *
rule_action(long i)
{
	if (rule_is_sender(i))
		return &sender_actions[(i / 10) % (long)NSENDER_ACTIONS];
	return &rcpt_actions[(i / 10 + i % 10) % (long)NRCPT_ACTIONS];
}

/* format_addr - "<num><kind>@<kind-letter><num % D>.bench.example" */
static void
format_addr(char *buf, size_t size, int sender, long num, const char *ext)
{
	int n = snprintf(buf, size, "%ld%s%s@%s%ld.bench.example", num,
	                 sender ? "s" : "r", ext, sender ? "s" : "d",
	                 num % opt.domains);

	if (n < 0 || (size_t)n >= size)
		die("address too long");
}

/* write_rules - the rule set in `redmilterctl import` form */
static void
write_rules(const char *path)
{
	FILE *f = fopen(path, "w");
	char a[ADDR_MAX];
	long i;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "# loadgen rule set: %ld rules, %ld domains\n", opt.nrules,
	        opt.domains);
	for (i = 0; i < opt.nrules; i++) {
		format_addr(a, sizeof a, rule_is_sender(i), 2 * i, "");
		fprintf(f, "%s %s %s\n",
		        rule_is_sender(i) ? "sender" : "recipient", a,
		        rule_action(i)->rule);
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* open_in - fopen DIR/NAME for writing, or die */
static FILE *
open_in(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f;

	if (n < 0 || (size_t)n >= sizeof path)
		die("%s: path too long", dir);
	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	return f;
}

/* write_postfix - the same rules as two access maps (source for postmap) */
static void
write_postfix(const char *dir)
{
	FILE *snd = open_in(dir, "sender_access");
	FILE *rcpt = open_in(dir, "recipient_access");
	char a[ADDR_MAX];
	long i;

	for (i = 0; i < opt.nrules; i++) {
		format_addr(a, sizeof a, rule_is_sender(i), 2 * i, "");
		fprintf(rule_is_sender(i) ? snd : rcpt, "%s %s\n", a,
		        rule_action(i)->postfix);
	}
	if (fclose(snd) != 0 || fclose(rcpt) != 0)
		die("%s: %s", dir, strerror(errno));
}

/*
 * write_postfwd - the same rules for postfwd: one rule per action, each
 * with the list of its addresses in a file (postfwd's fastest form), the
 * recipient rules first as our precedence has it
 */
static void
write_postfwd(const char *dir)
{
	FILE *lists[NRCPT_ACTIONS + NSENDER_ACTIONS], *cf;
	char a[ADDR_MAX], name[64];
	size_t j;
	long i;
	int n;

	for (j = 0; j < NRCPT_ACTIONS + NSENDER_ACTIONS; j++) {
		n = snprintf(name, sizeof name, "list%zu", j);
		if (n < 0 || (size_t)n >= sizeof name)
			die("list name");
		lists[j] = open_in(dir, name);
	}
	for (i = 0; i < opt.nrules; i++) {
		const struct action *act = rule_action(i);

		format_addr(a, sizeof a, rule_is_sender(i), 2 * i, "");
		j = rule_is_sender(i)
		        ? NRCPT_ACTIONS + (size_t)(act - sender_actions)
		        : (size_t)(act - rcpt_actions);
		fprintf(lists[j], "%s\n", a);
	}
	cf = open_in(dir, "postfwd.cf");
	for (j = 0; j < NRCPT_ACTIONS + NSENDER_ACTIONS; j++) {
		int snd = j >= NRCPT_ACTIONS;
		const struct action *act =
		    snd ? &sender_actions[j - NRCPT_ACTIONS] : &rcpt_actions[j];

		if (fclose(lists[j]) != 0)
			die("%s: %s", dir, strerror(errno));
		fprintf(cf, "id=R%zu; %s==file:%s/list%zu; action=%s\n", j,
		        snd ? "sender" : "recipient", dir, j, act->postfix);
	}
	if (fclose(cf) != 0)
		die("%s: %s", dir, strerror(errno));
}

/* --- address pools ---------------------------------------------------------
 */

/* mix - a 64-bit hash (splitmix64 finaliser) */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* rng - xorshift64* */
static uint64_t
rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* One address to send and the reply its rule makes ("continue": none). */
struct pick {
	char addr[ADDR_MAX];
	const char *reply; /* NULL: no rule */
};

/* nrecipient_rules, nsender_rules - how many of each kind exist */
static long
nsender_rules(void)
{
	return opt.nrules / 10;
}

/*
 * pool_member - member k of a pool: a hit (an address with a rule of the
 * kind) with probability hit, else a miss (an odd number)
 */
static void
pool_member(struct pick *p, int sender, long k, double hit)
{
	uint64_t h = mix(opt.seed * 1000003u + (uint64_t)k * 2 + !!sender);
	int is_hit = (double)(h % 1000000) < hit * 1000000.0;
	long i, num;
	const char *ext = "";
	uint64_t v = mix(h);

	p->reply = NULL;
	if (is_hit && sender && nsender_rules() > 0) {
		i = (long)(v % (uint64_t)nsender_rules()) * 10 + 9;
		num = 2 * i;
		p->reply = rule_action(i)->reply;
	} else if (is_hit && !sender && opt.nrules > 0) {
		i = (long)(v % (uint64_t)opt.nrules);
		if (rule_is_sender(i))
			i--;
		if (i < 0) /* one rule only, and it is a sender rule */
			i = 0;
		num = 2 * i;
		p->reply = rule_is_sender(i) ? NULL : rule_action(i)->reply;
		if (opt.variants && (v >> 32) % 10 == 0)
			ext = "+bench";
	} else {
		num = 2 * (long)(v % 1000000000u) + 1;
	}
	format_addr(p->addr, sizeof p->addr, sender, num, ext);
	if (p->reply != NULL && opt.variants && (v >> 40) % 10 == 1) {
		char *c;

		for (c = p->addr; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
	}
}

/* expected - the reply for a recipient from a sender (delay_checks yes) */
static const char *
expected(const struct pick *snd, const struct pick *rcpt)
{
	if (opt.expect_continue)
		return "continue";
	if (rcpt->reply != NULL)
		return rcpt->reply;
	if (snd->reply != NULL)
		return snd->reply;
	return "continue";
}

/* --- the wire ------------------------------------------------------------ */

struct conn {
	int fd;
	unsigned long pflags; /* what the milter asked for */
	unsigned char *rbuf;
	size_t rlen, roff;
	unsigned char wbuf[4096];
	size_t wlen;
	unsigned char *pkt; /* the last packet read */
	size_t pktlen;
};

/* set_timeouts - every read and write of a connection is bounded */
static void
set_timeouts(int fd)
{
	struct timeval tv;

	tv.tv_sec = (time_t)opt.timeout;
	tv.tv_usec = (suseconds_t)((opt.timeout - (double)tv.tv_sec) * 1e6);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* conn_open - a new connection to the target; -1 on failure */
static int
conn_open(struct conn *c)
{
	int one = 1;

	c->fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	set_timeouts(c->fd);
	if (target.ss_family != AF_UNIX)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof one);
	if (connect(c->fd, (struct sockaddr *)&target, target_len) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->rlen = c->roff = c->wlen = 0;
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* put - append one packet to the write buffer (or die: a bug of ours) */
static void
put(struct conn *c, int cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)(len + 1));

	if (c->wlen + 5 + len > sizeof c->wbuf)
		die("packet too large for the write buffer");
	memcpy(c->wbuf + c->wlen, &n, 4);
	c->wbuf[c->wlen + 4] = (unsigned char)cmd;
	if (len > 0)
		memcpy(c->wbuf + c->wlen + 5, data, len);
	c->wlen += 5 + len;
}

/* put_strings - a packet of NUL-terminated strings, NULL-terminated list */
static void
put_strings(struct conn *c, int cmd, const char *const *s)
{
	unsigned char buf[2048];
	size_t len = 0, l;

	for (; *s != NULL; s++) {
		l = strlen(*s) + 1;
		if (len + l > sizeof buf)
			die("strings too long");
		memcpy(buf + len, *s, l);
		len += l;
	}
	put(c, cmd, buf, len);
}

/* flush - send the write buffer; -1 on error */
static int
flush(struct conn *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->wlen) {
		n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* fill - read more bytes; -1 on error or EOF */
static int
fill(struct conn *c)
{
	ssize_t n;

	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (c->rlen >= MAX_PACKET + 4)
		return -1;
	do
		n = recv(c->fd, c->rbuf + c->rlen, MAX_PACKET + 4 - c->rlen, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->rlen += (size_t)n;
	return 0;
}

/* get - read one packet: its command, c->pkt and c->pktlen; -1 on error */
static int
get(struct conn *c, int *cmd)
{
	uint32_t n;

	while (c->rlen - c->roff < 4)
		if (fill(c) != 0)
			return -1;
	memcpy(&n, c->rbuf + c->roff, 4);
	n = ntohl(n);
	if (n < 1 || n > MAX_PACKET)
		return -1;
	while (c->rlen - c->roff < 4 + (size_t)n)
		if (fill(c) != 0)
			return -1;
	*cmd = c->rbuf[c->roff + 4];
	c->pkt = c->rbuf + c->roff + 5;
	c->pktlen = n - 1;
	c->roff += 4 + (size_t)n;
	return 0;
}

/*
 * reply_text - a final reply as text ("continue", "550 5.1.1 ...");
 * returns 1 for a final reply, 0 for a packet to skip (progress,
 * modifications at end of message)
 */
static int
reply_text(struct conn *c, int cmd, char *buf, size_t size)
{
	static const struct {
		int cmd;
		const char *name;
	} names[] = {
	    {SMFIR_CONTINUE, "continue"}, {SMFIR_ACCEPT, "accept"},
	    {SMFIR_REJECT, "reject"},     {SMFIR_TEMPFAIL, "tempfail"},
	    {SMFIR_DISCARD, "discard"},   {SMFIR_CONN_FAIL, "conn_fail"},
	    {SMFIR_SHUTDOWN, "shutdown"}, {SMFIR_SKIP, "skip"},
	};
	size_t i, len;

	if (cmd == SMFIR_REPLYCODE) {
		len = c->pktlen < size - 1 ? c->pktlen : size - 1;
		memcpy(buf, c->pkt, len);
		buf[len] = '\0';
		len = strlen(buf);
		while (len > 0 &&
		       (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		return 1;
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].cmd == cmd) {
			snprintf(buf, size, "%s", names[i].name);
			return 1;
		}
	return 0; /* 'p', '+', '-', 'q', 'h', 'm', ... */
}

/* --- one worker --------------------------------------------------------------
 */

struct worker {
	pthread_t tid;
	long id;
	uint64_t rng;
	struct stats st;
	struct conn c;
	int open;    /* OPTNEG, CONNECT and HELO done */
	long client; /* the client this connection claims to be */
	char qid[32];
};

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

	for (i = 0; i < opt.nallow; i++)
		if (strncmp(text, opt.allow[i], strlen(opt.allow[i])) == 0)
			return 1;
	return 0;
}

/* judge - compare a reply with the expected one and count it */
static void
judge(struct worker *w, enum cmd cmd, const char *got, const char *want,
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

/*
 * exchange - send the buffered packets, and unless the milter asked for no
 * reply, read the final reply into buf and time it
 *
 * Returns 0, 1 when no reply was due, -1 on an I/O or protocol error.
 */
static int
exchange(struct worker *w, enum cmd cmd, int noreply, char *buf, size_t size)
{
	uint64_t t0 = now_ns();
	int rcmd;

	if (flush(&w->c) != 0)
		return -1;
	if (noreply)
		return 1;
	for (;;) {
		if (get(&w->c, &rcmd) != 0)
			return -1;
		if (reply_text(&w->c, rcmd, buf, size))
			break;
	}
	hist_add(&w->st.h[cmd], now_ns() - t0);
	return 0;
}

/* step - one command that must be answered "continue" */
static int
step(struct worker *w, enum cmd cmd, int noreply, const char *what)
{
	char got[REPLY_MAX];
	int rc = exchange(w, cmd, noreply, got, sizeof got);

	if (rc == 0)
		judge(w, cmd, got, "continue", what);
	return rc < 0 ? -1 : 0;
}

/*
 * put_macros - one 'D' packet: for command cmd, name and value pairs in a
 * NULL-terminated list
 */
static void
put_macros(struct conn *c, int cmd, const char *const *nv)
{
	unsigned char buf[512];
	size_t len = 1, l;

	buf[0] = (unsigned char)cmd;
	for (; *nv != NULL; nv++) {
		l = strlen(*nv) + 1;
		if (len + l > sizeof buf)
			die("macros too long");
		memcpy(buf + len, *nv, l);
		len += l;
	}
	put(c, SMFIC_MACRO, buf, len);
}

/* session_open - connect, OPTNEG, CONNECT and HELO */
static int
session_open(struct worker *w)
{
	unsigned char o[12];
	uint32_t v[3];
	char host[64], ip[32], pkt[160], helo[80];
	const char *macros[5];
	size_t len;
	int rcmd, n;
	uint64_t t0 = now_ns();

	if (conn_open(&w->c) != 0)
		return -1;
	w->st.conns++;
	v[0] = htonl(MILTER_VERSION);
	v[1] = htonl(0x1ff);      /* every action we know of */
	v[2] = htonl(0x001fffff); /* every protocol step of version 6 */
	memcpy(o, v, sizeof o);
	put(&w->c, SMFIC_OPTNEG, o, sizeof o);
	if (flush(&w->c) != 0 || get(&w->c, &rcmd) != 0 ||
	    rcmd != SMFIC_OPTNEG || w->c.pktlen < 12)
		return -1;
	memcpy(v, w->c.pkt, sizeof v);
	w->c.pflags = ntohl(v[2]);
	hist_add(&w->st.h[CMD_OPTNEG], now_ns() - t0);

	w->client = (long)(rng(&w->rng) % (uint64_t)opt.pool_client);
	snprintf(ip, sizeof ip, "198.18.%ld.%ld", (w->client / 250) % 250,
	         w->client % 250 + 1);
	n = snprintf(host, sizeof host, "h%ld.clients.bench.example",
	             w->client);
	if (n < 0 || (size_t)n >= sizeof host)
		return -1;
	macros[0] = "j";
	macros[1] = "mx.bench.example";
	macros[2] = "{client_name}";
	macros[3] = host;
	macros[4] = NULL;
	if (!(w->c.pflags & SMFIP_NOCONNECT)) {
		uint16_t port = htons(40000);

		put_macros(&w->c, SMFIC_CONNECT, macros);
		memcpy(pkt, host, strlen(host) + 1);
		len = strlen(host) + 1;
		pkt[len++] = SMFIA_INET;
		memcpy(pkt + len, &port, 2);
		len += 2;
		memcpy(pkt + len, ip, strlen(ip) + 1);
		len += strlen(ip) + 1;
		put(&w->c, SMFIC_CONNECT, pkt, len);
		if (step(w, CMD_CONNECT, !!(w->c.pflags & SMFIP_NR_CONN), ip) !=
		    0)
			return -1;
	}
	if (!(w->c.pflags & SMFIP_NOHELO)) {
		const char *h[] = {helo, NULL};

		snprintf(helo, sizeof helo, "%s", host);
		put_strings(&w->c, SMFIC_HELO, h);
		if (step(w, CMD_HELO, !!(w->c.pflags & SMFIP_NR_HELO), helo) !=
		    0)
			return -1;
	}
	w->open = 1;
	return 0;
}

/* session_close - QUIT and close */
static void
session_close(struct worker *w)
{
	if (w->c.fd >= 0 && w->open) {
		put(&w->c, SMFIC_QUIT, NULL, 0);
		(void)flush(&w->c);
	}
	conn_close(&w->c);
	w->open = 0;
}

/* choose - the sender and recipients of the next transaction */
static void
choose(struct worker *w, struct pick *snd, struct pick *rcpts)
{
	long k, s, r;

	if (opt.sweep) {
		/* Every (sender, recipient) pair in turn: a warm-up that
		 * leaves nothing of the pools uncached. */
		uint64_t t = atomic_fetch_add(&sweep_next, 1);
		uint64_t base = t * (uint64_t)opt.rcpts;

		s = (long)((base / (uint64_t)opt.pool_rcpt) %
		           (uint64_t)opt.pool_sender);
		pool_member(snd, 1, s, opt.sender_hit);
		for (k = 0; k < opt.rcpts; k++) {
			r = (long)((base + (uint64_t)k) %
			           (uint64_t)opt.pool_rcpt);
			pool_member(&rcpts[k], 0, r, opt.rcpt_hit);
		}
		return;
	}
	s = (long)(rng(&w->rng) % (uint64_t)opt.pool_sender);
	pool_member(snd, 1, s, opt.sender_hit);
	for (k = 0; k < opt.rcpts; k++) {
		r = (long)(rng(&w->rng) % (uint64_t)opt.pool_rcpt);
		pool_member(&rcpts[k], 0, r, opt.rcpt_hit);
	}
}

/* transaction - MAIL, RCPT..., EOM or ABORT; -1 on an I/O error */
static int
transaction(struct worker *w, struct pick *rcpts)
{
	struct pick snd;
	char a[ADDR_MAX + 2], got[REPLY_MAX], what[2 * ADDR_MAX + 16];
	const char *args[3];
	long k, accepted = 0;
	uint64_t t0 = now_ns();
	int rc;

	choose(w, &snd, rcpts);
	if (!(w->c.pflags & SMFIP_NOMAIL)) {
		snprintf(a, sizeof a, "<%s>", snd.addr);
		args[0] = a;
		args[1] = "SIZE=1000";
		args[2] = NULL;
		put_strings(&w->c, SMFIC_MAIL, args);
		if (step(w, CMD_MAIL, !!(w->c.pflags & SMFIP_NR_MAIL), a) != 0)
			return -1;
	}
	for (k = 0; k < opt.rcpts; k++) {
		const char *want = expected(&snd, &rcpts[k]);

		if (k == 1) {
			/* Postfix has a queue id from the second RCPT on. */
			const char *m[] = {"i", w->qid, NULL};

			put_macros(&w->c, SMFIC_RCPT, m);
		}
		snprintf(a, sizeof a, "<%s>", rcpts[k].addr);
		args[0] = a;
		args[1] = NULL;
		if (w->c.pflags & SMFIP_NORCPT) {
			accepted++;
			continue;
		}
		put_strings(&w->c, SMFIC_RCPT, args);
		rc = exchange(w, CMD_RCPT, !!(w->c.pflags & SMFIP_NR_RCPT), got,
		              sizeof got);
		if (rc < 0)
			return -1;
		w->st.rcpts++;
		if (rc == 1 || strcmp(got, "continue") == 0)
			accepted++;
		if (rc == 0) {
			snprintf(what, sizeof what, "%s from <%s>", a,
			         snd.addr);
			judge(w, CMD_RCPT, got, want, what);
		}
	}
	if (accepted > 0) {
		put(&w->c, SMFIC_BODYEOB, NULL, 0);
		if (step(w, CMD_EOM, 0, "end of message") != 0)
			return -1;
	} else {
		put(&w->c, SMFIC_ABORT, NULL, 0);
		if (flush(&w->c) != 0)
			return -1;
	}
	w->st.txns++;
	hist_add(&w->st.h[CMD_TXN], now_ns() - t0);
	return 0;
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
	conn_close(&w->c);
	w->open = 0;
}

/* worker_main - one connection slot: its transactions, then QUIT */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pick *rcpts = xcalloc((size_t)opt.rcpts, sizeof *rcpts);
	struct timespec pause = {0, 50000000};
	long t;

	w->c.fd = -1;
	w->c.rbuf = xcalloc(1, MAX_PACKET + 4);
	if (!opt.new_conn) {
		/* Sessions open first, and the clock starts when all are:
		 * throughput is measured without the ramp-up. */
		errno = 0;
		if (session_open(w) != 0)
			io_error(w);
		pthread_barrier_wait(&opened);
		pthread_barrier_wait(&go);
	}
	for (t = 0; t < opt.txns; t++) {
		if (atomic_load(&stop_flag) || elapsed() >= opt.duration)
			break;
		snprintf(w->qid, sizeof w->qid, "B%lX%lX", w->id, t);
		errno = 0;
		if (!w->open && session_open(w) != 0) {
			io_error(w);
			nanosleep(&pause, NULL); /* the milter may be down */
			continue;
		}
		if (transaction(w, rcpts) != 0) {
			io_error(w);
			continue;
		}
		if (opt.new_conn)
			session_close(w);
	}
	session_close(w);
	free(w->c.rbuf);
	free(rcpts);
	return NULL;
}

/* --- target and options -------------------------------------------------- */

/* is_loopback - whether an address is on this machine's loopback */
static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const uint8_t *b = s6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
	}
	return 0;
}

/*
 * resolve_target - unix:PATH, local:PATH, a bare path, inet:PORT@HOST or
 * inet6:PORT@HOST (libmilter's forms); dies on anything not on loopback
 */
static void
resolve_target(const char *spec)
{
	const char *colon = strchr(spec, ':'), *at;
	struct addrinfo hints, *res, *ai;
	char port[16], host[256];
	int rc;

	if (colon == NULL || strncmp(spec, "unix:", 5) == 0 ||
	    strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&target;
		const char *path = colon != NULL ? colon + 1 : spec;

		if (strlen(path) >= sizeof un->sun_path)
			die("unix socket path too long: %s", path);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		target_len = sizeof *un;
		return;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0)
		die("unknown socket type: %s", spec);
	at = strchr(colon + 1, '@');
	if (at == NULL)
		die("%s: give the host: inet:PORT@127.0.0.1", spec);
	if ((size_t)(at - colon - 1) >= sizeof port ||
	    strlen(at + 1) >= sizeof host)
		die("%s: too long", spec);
	memcpy(port, colon + 1, (size_t)(at - colon - 1));
	port[at - colon - 1] = '\0';
	memcpy(host, at + 1, strlen(at + 1) + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = spec[4] == '6' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		die("%s: %s", spec, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (!is_loopback(ai->ai_addr)) {
			freeaddrinfo(res);
			die("refusing %s: not a loopback address (this is a "
			    "load generator: it only targets this machine)",
			    spec);
		}
	memcpy(&target, res->ai_addr, res->ai_addrlen);
	target_len = res->ai_addrlen;
	freeaddrinfo(res);
}

/* num - a long option value in [lo, hi], or die */
static long
num(const char *name, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die("%s: want a whole number in [%ld, %ld], got \"%s\"", name,
		    lo, hi, s);
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
		die("%s: want a number in [%g, %g], got \"%s\"", name, lo, hi,
		    s);
	return v;
}

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
	    "      --expect rules|continue   what the replies must be (rules)\n"
	    "      --allow-reply TEXT also accept replies starting with TEXT\n"
	    "                         (repeatable: \"451 4.3.0\", tempfail)\n"
	    "      --allow-errors     I/O errors (the milter went away) do "
	    "not fail the run\n"
	    "  -q, --quiet            only the key=value line\n",
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
	O_WPOSTFWD
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
			opt.socket = optarg;
			break;
		case 'c':
			opt.conc = num("--conc", optarg, 1, 10000);
			break;
		case 'n':
			opt.txns = num("--transactions", optarg, 1, LONG_MAX);
			break;
		case 'k':
			opt.rcpts = num("--rcpts", optarg, 1, 1000);
			break;
		case 'd':
			opt.duration = real("--duration", optarg, 0.1, 86400);
			break;
		case 't':
			opt.timeout = real("--timeout", optarg, 0.01, 3600);
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case O_NEWCONN:
			opt.new_conn = 1;
			break;
		case O_RULES:
			opt.nrules = num("--rules", optarg, 0, 100000000);
			break;
		case O_DOMAINS:
			opt.domains = num("--domains", optarg, 1, 1000000);
			break;
		case O_RHIT:
			opt.rcpt_hit = real("--rcpt-hits", optarg, 0, 1);
			break;
		case O_SHIT:
			opt.sender_hit = real("--sender-hits", optarg, 0, 1);
			break;
		case O_PRCPT:
			opt.pool_rcpt =
			    num("--recipients", optarg, 1, LONG_MAX);
			break;
		case O_PSND:
			opt.pool_sender = num("--senders", optarg, 1, LONG_MAX);
			break;
		case O_PCLI:
			opt.pool_client = num("--clients", optarg, 1, 62500);
			break;
		case O_NOVAR:
			opt.variants = 0;
			break;
		case O_SWEEP:
			opt.sweep = 1;
			break;
		case O_SEED:
			opt.seed =
			    (unsigned long)num("--seed", optarg, 0, LONG_MAX);
			break;
		case O_EXPECT:
			if (strcmp(optarg, "continue") == 0)
				opt.expect_continue = 1;
			else if (strcmp(optarg, "rules") == 0)
				opt.expect_continue = 0;
			else
				die("--expect: rules or continue");
			break;
		case O_ALLOW:
			if (opt.nallow == MAX_ALLOW)
				die("--allow-reply: at most %d", MAX_ALLOW);
			opt.allow[opt.nallow++] = optarg;
			break;
		case O_ALLOWERR:
			opt.allow_errors = 1;
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
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt.socket == NULL && w_rules == NULL && w_postfix == NULL &&
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
	if (!opt.quiet) {
		printf("loadgen: %s, %ld connections x %ld transactions x %ld "
		       "recipients%s, %ld rules\n",
		       opt.socket, opt.conc, opt.txns, opt.rcpts,
		       opt.new_conn ? ", new connection per transaction" : "",
		       opt.nrules);
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
	       secs, opt.conc, opt.rcpts, opt.new_conn, s->txns, s->rcpts,
	       s->conns, (double)s->txns / secs, (double)s->rcpts / secs);
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
			write_rules(w_rules);
		if (w_postfix != NULL)
			write_postfix(w_postfix);
		if (w_postfwd != NULL)
			write_postfwd(w_postfwd);
		if (opt.socket == NULL)
			return 0;
	}
	resolve_target(opt.socket);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	w = xcalloc((size_t)opt.conc, sizeof *w);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (pthread_barrier_init(&opened, NULL, (unsigned)opt.conc + 1) != 0 ||
	    pthread_barrier_init(&go, NULL, (unsigned)opt.conc + 1) != 0)
		die("pthread_barrier_init failed");
	for (started = 0; started < opt.conc; started++) {
		w[started].id = started;
		w[started].rng = mix(opt.seed * 7919u + (uint64_t)started) | 1;
		if (pthread_create(&w[started].tid, &attr, worker_main,
		                   &w[started]) != 0) {
			/* Without all its threads the run is void. */
			die("cannot start thread %ld", started);
		}
	}
	if (!opt.new_conn) {
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
	if (all.wrong > 0 || (all.io_errors > 0 && !opt.allow_errors))
		return 1;
	return 0;
}
