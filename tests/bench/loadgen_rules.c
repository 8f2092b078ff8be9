/*
 * loadgen_rules - loadgen's rule set, and the addresses it sends.
 *
 * The rule set is a pure function of --rules and --domains (the address
 * forms are in loadgen.c).  rules_write() writes it for `redmilterctl
 * import`, rules_write_postfix() the same rules as Postfix access maps and
 * rules_write_postfwd() as postfwd rules; each dies on an I/O error.
 * rules_choose() draws a transaction's sender and recipients from pools
 * whose members are known hits or known misses, and rules_expected() names
 * the reply a recipient must get.
 *
 * Thread-safety: a pool member is a pure function of the seed and its
 * index, a worker's generator is its own, and the --sweep counter is atomic.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

static atomic_ulong sweep_next; /* --sweep: the next pair's index */

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
	                 num % lg_opt.domains);

	if (n < 0 || (size_t)n >= size)
		lg_die("address too long");
}

/* rules_write - the rule set in `redmilterctl import` form */
void
rules_write(const char *path)
{
	FILE *f = fopen(path, "w");
	char a[ADDR_MAX];
	long i;

	if (f == NULL)
		lg_die("%s: %s", path, strerror(errno));
	fprintf(f, "# loadgen rule set: %ld rules, %ld domains\n",
	        lg_opt.nrules, lg_opt.domains);
	for (i = 0; i < lg_opt.nrules; i++) {
		format_addr(a, sizeof a, rule_is_sender(i), 2 * i, "");
		fprintf(f, "%s %s %s\n",
		        rule_is_sender(i) ? "sender" : "recipient", a,
		        rule_action(i)->rule);
	}
	if (fclose(f) != 0)
		lg_die("%s: %s", path, strerror(errno));
}

/* open_in - fopen DIR/NAME for writing, or die */
static FILE *
open_in(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f;

	if (n < 0 || (size_t)n >= sizeof path)
		lg_die("%s: path too long", dir);
	if ((f = fopen(path, "w")) == NULL)
		lg_die("%s: %s", path, strerror(errno));
	return f;
}

/* rules_write_postfix - the same rules as two access maps (source for postmap)
 */
void
rules_write_postfix(const char *dir)
{
	FILE *snd = open_in(dir, "sender_access");
	FILE *rcpt = open_in(dir, "recipient_access");
	char a[ADDR_MAX];
	long i;

	for (i = 0; i < lg_opt.nrules; i++) {
		format_addr(a, sizeof a, rule_is_sender(i), 2 * i, "");
		fprintf(rule_is_sender(i) ? snd : rcpt, "%s %s\n", a,
		        rule_action(i)->postfix);
	}
	if (fclose(snd) != 0 || fclose(rcpt) != 0)
		lg_die("%s: %s", dir, strerror(errno));
}

/*
 * rules_write_postfwd - the same rules for postfwd: one rule per action, each
 * with the list of its addresses in a file (postfwd's fastest form), the
 * recipient rules first as our precedence has it
 */
void
rules_write_postfwd(const char *dir)
{
	FILE *lists[NRCPT_ACTIONS + NSENDER_ACTIONS], *cf;
	char a[ADDR_MAX], name[64];
	size_t j;
	long i;
	int n;

	for (j = 0; j < NRCPT_ACTIONS + NSENDER_ACTIONS; j++) {
		n = snprintf(name, sizeof name, "list%zu", j);
		if (n < 0 || (size_t)n >= sizeof name)
			lg_die("list name");
		lists[j] = open_in(dir, name);
	}
	for (i = 0; i < lg_opt.nrules; i++) {
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
			lg_die("%s: %s", dir, strerror(errno));
		fprintf(cf, "id=R%zu; %s==file:%s/list%zu; action=%s\n", j,
		        snd ? "sender" : "recipient", dir, j, act->postfix);
	}
	if (fclose(cf) != 0)
		lg_die("%s: %s", dir, strerror(errno));
}

/* --- address pools ---------------------------------------------------------
 */

/* nrecipient_rules, nsender_rules - how many of each kind exist */
static long
nsender_rules(void)
{
	return lg_opt.nrules / 10;
}

/*
 * naive_reply - what tests/bench/naivemilter answers for a stored value:
 * the value itself when it is "NNN X.Y.Z text" (4xx or 5xx, the enhanced
 * code of the same class), else NULL (continue)
 */
static const char *
naive_reply(const char *v)
{
	const char *p = v + 6;
	size_t n;

	if ((v[0] != '4' && v[0] != '5') || !isdigit((unsigned char)v[1]) ||
	    !isdigit((unsigned char)v[2]) || v[3] != ' ' || v[4] != v[0] ||
	    v[5] != '.')
		return NULL;
	for (n = 0; isdigit((unsigned char)p[n]); n++)
		;
	if (n < 1 || n > 3 || p[n] != '.')
		return NULL;
	p += n + 1;
	for (n = 0; isdigit((unsigned char)p[n]); n++)
		;
	if (n < 1 || n > 3 || p[n] != ' ' || p[n + 1] == '\0' ||
	    strchr(p + n + 1, '%') != NULL)
		return NULL;
	return v;
}

/*
 * pool_member - member k of a pool: a hit (an address with a rule of the
 * kind) with probability hit, else a miss (an odd number)
 */
static void
pool_member(struct pick *p, int sender, long k, double hit)
{
	uint64_t h =
	    lg_mix(lg_opt.seed * 1000003u + (uint64_t)k * 2 + !!sender);
	int is_hit = (double)(h % 1000000) < hit * 1000000.0;
	long i, num;
	const char *ext = "";
	uint64_t v = lg_mix(h);

	p->reply = NULL;
	p->naive = NULL;
	if (is_hit && sender && nsender_rules() > 0) {
		i = (long)(v % (uint64_t)nsender_rules()) * 10 + 9;
		num = 2 * i;
		p->reply = rule_action(i)->reply;
		p->naive = naive_reply(rule_action(i)->rule);
	} else if (is_hit && !sender && lg_opt.nrules > 0) {
		i = (long)(v % (uint64_t)lg_opt.nrules);
		if (rule_is_sender(i))
			i--;
		if (i < 0) /* one rule only, and it is a sender rule */
			i = 0;
		num = 2 * i;
		p->reply = rule_is_sender(i) ? NULL : rule_action(i)->reply;
		p->naive = rule_is_sender(i)
		               ? NULL
		               : naive_reply(rule_action(i)->rule);
		if (lg_opt.variants && (v >> 32) % 10 == 0)
			ext = "+bench";
	} else {
		num = 2 * (long)(v % 1000000000u) + 1;
	}
	format_addr(p->addr, sizeof p->addr, sender, num, ext);
	if (*ext != '\0')
		p->naive =
		    NULL; /* the naive milter looks the address up as is */
	if (p->reply != NULL && lg_opt.variants && (v >> 40) % 10 == 1) {
		char *c;

		for (c = p->addr; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		p->naive = NULL;
	}
}

/* rules_expected - the reply for a recipient from a sender (delay_checks yes)
 */
const char *
rules_expected(const struct pick *snd, const struct pick *rcpt)
{
	if (lg_opt.expect_continue)
		return "continue";
	if (lg_opt.expect_naive) {
		if (rcpt->naive != NULL)
			return rcpt->naive;
		return snd->naive != NULL ? snd->naive : "continue";
	}
	if (rcpt->reply != NULL)
		return rcpt->reply;
	if (snd->reply != NULL)
		return snd->reply;
	return "continue";
}

/* rules_choose - the sender and recipients of the next transaction */
void
rules_choose(struct worker *w, struct pick *snd, struct pick *rcpts)
{
	long k, s, r;

	if (lg_opt.sweep) {
		/* Every (sender, recipient) pair in turn: a warm-up that
		 * leaves nothing of the pools uncached. */
		uint64_t t = atomic_fetch_add(&sweep_next, 1);
		uint64_t base = t * (uint64_t)lg_opt.rcpts;

		s = (long)((base / (uint64_t)lg_opt.pool_rcpt) %
		           (uint64_t)lg_opt.pool_sender);
		pool_member(snd, 1, s, lg_opt.sender_hit);
		for (k = 0; k < lg_opt.rcpts; k++) {
			r = (long)((base + (uint64_t)k) %
			           (uint64_t)lg_opt.pool_rcpt);
			pool_member(&rcpts[k], 0, r, lg_opt.rcpt_hit);
		}
		return;
	}
	s = (long)(lg_rng(&w->rng) % (uint64_t)lg_opt.pool_sender);
	pool_member(snd, 1, s, lg_opt.sender_hit);
	for (k = 0; k < lg_opt.rcpts; k++) {
		r = (long)(lg_rng(&w->rng) % (uint64_t)lg_opt.pool_rcpt);
		pool_member(&rcpts[k], 0, r, lg_opt.rcpt_hit);
	}
}
