/*
 * ctl_check - redmilterctl check: the reply the milter would give each
 * recipient, and the rule that decided, from the milter's own engine and
 * store code.
 *
 * Public: ctl_check().  With delay_checks = yes every table is evaluated at
 * each recipient; with delay_checks = no the client, HELO and MAIL stages are
 * evaluated first, and a reply, DISCARD or HOLD there applies to every
 * recipient, as in the milter.  A recipient the tables let through is then
 * checked against the limits as the milter would check it at that point
 * of one message with these recipients (the counters read, nothing
 * written).  A GREYLIST rule is looked up as the milter would, its
 * triplet's state read and not written: a recipient it would delay gets
 * the 451 with the seconds it would wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_check.h"
#include "limiter.h"
#include "policy.h"
#include "reply.h"
#include "str.h"

#define RCPT_MAX 1000

#define TEMPFAIL_STORE "451 4.3.0 Temporary policy lookup failure"
#define TEMPFAIL_CONFIG "451 4.3.5 Server configuration error"

struct check_args {
	struct request req;
	const char *rcpt[RCPT_MAX];
	size_t nrcpt;
};

/* print_trail - every key tried, for -v */
static void
print_trail(const struct verdict *v)
{
	size_t i;

	for (i = 0; i < v->ntrail; i++) {
		const struct trail_entry *e = &v->trail[i];

		if (e->what == TRAIL_MALFORMED) {
			printf("  %s: malformed address %s: %s\n",
			       table_name(e->table), e->key, e->note);
		} else if (e->what == TRAIL_NOTFOUND) {
			printf("  %s %s: not found\n", table_name(e->table),
			       e->key);
		} else if (e->what == TRAIL_BROKEN) {
			printf("  %s %s: %s (broken: %s)\n",
			       table_name(e->table), e->key, e->value, e->note);
		} else if (e->what == TRAIL_GREYLIST) {
			printf("  %s %s: %s (greylist: %s)\n",
			       table_name(e->table), e->key, e->value, e->note);
		} else {
			printf("  %s %s: %s (%s)\n", table_name(e->table),
			       e->key, e->value, verdict_trail_name(e->what));
		}
	}
}

/* print_reply - a reply line by line, the deciding rule after the first */
static void
print_reply(const char *rcpt, const char *reply, const char *why)
{
	const char *nl = strstr(reply, "\r\n");

	if (nl == NULL) {
		printf("%s: %s (%s)\n", rcpt, reply, why);
		return;
	}
	printf("%s: %.*s (%s)\n", rcpt, (int)(nl - reply), reply, why);
	for (reply = nl + 2; (nl = strstr(reply, "\r\n")) != NULL;
	     reply = nl + 2)
		printf("  %.*s\n", (int)(nl - reply), reply);
	printf("  %s\n", reply);
}

/* print_verdict - one recipient's line; returns its exit status */
static int
print_verdict(const struct ctl *c, const char *rcpt, const struct verdict *v)
{
	char why[1024], *smtp;
	struct reply r;
	int accept = c->conf.on_error == CONF_ON_ERROR_ACCEPT;

	snprintf(why, sizeof why, "%s %s", table_name(v->table),
	         v->key != NULL ? v->key : "");
	switch (v->type) {
	case VERDICT_NONE:
		printf("%s: accept (no rule)\n", rcpt);
		return CTL_OK;
	case VERDICT_ACCEPT:
	case VERDICT_DISCARD:
	case VERDICT_HOLD:
		printf("%s: %s (%s)\n", rcpt, verdict_type_name(v->type), why);
		return CTL_OK;
	case VERDICT_REPLY:
		if (action_reply(&v->action, v->table, &r, why, sizeof why) !=
		    0)
			break;
		smtp = reply_smtp(&r);
		snprintf(why, sizeof why, "%s%s %s",
		         v->greylisted ? "greylisted by " : "",
		         table_name(v->table), v->key);
		print_reply(rcpt, smtp, why);
		free(smtp);
		reply_free(&r);
		return CTL_OK;
	case VERDICT_ERR_STORE:
		printf("%s: %s (%sRedis error: %s)\n", rcpt,
		       accept ? "accept" : TEMPFAIL_STORE,
		       accept ? "on_error = accept: " : "", v->err);
		return CTL_STORE;
	case VERDICT_ERR_CONFIG:
		printf("%s: %s (broken rule %s: %s)\n", rcpt, TEMPFAIL_CONFIG,
		       why, v->err);
		return CTL_INVALID;
	}
	printf("%s: %s (internal error: %s)\n", rcpt, TEMPFAIL_CONFIG, why);
	return CTL_INVALID;
}

/* decided - a verdict that ends the evaluation of later stages */
static int
decided(const struct verdict *v)
{
	return v->type != VERDICT_NONE && v->type != VERDICT_ACCEPT;
}

/* evaluate - one stage; returns 0, or -1 for an engine failure */
static int
evaluate(struct ctl *c, const struct policy_conf *pc, struct request *req,
         enum policy_stage stage, struct verdict *v)
{
	char err[256];

	req->stage = stage;
	if (policy_eval(pc, req, ctl_store(c), v, err, sizeof err) != 0) {
		ctl_warn("%s", err);
		return -1;
	}
	return 0;
}

/* worse - the exit status of two: store failures first */
static int
worse(int a, int b)
{
	return a == CTL_STORE || b == CTL_STORE ? CTL_STORE
	       : a != CTL_OK                    ? a
	                                        : b;
}

/* What the stages before RCPT came to. */
enum early {
	EARLY_NONE,    /* nothing decided: every recipient is evaluated */
	EARLY_DECIDED, /* a reply, DISCARD or HOLD for every recipient */
	EARLY_FAILED   /* the engine refused the request (warned) */
};

/* early_stages - with delay_checks = no: client, HELO, MAIL */
static enum early
early_stages(struct ctl *c, const struct policy_conf *pc, struct check_args *a,
             struct verdict *early)
{
	static const enum policy_stage stages[] = {STAGE_CONNECT, STAGE_HELO,
	                                           STAGE_MAIL};
	size_t i;

	memset(early, 0, sizeof *early);
	for (i = 0; i < 3 && !pc->delay_checks; i++) {
		verdict_free(early);
		if (evaluate(c, pc, &a->req, stages[i], early) != 0)
			return EARLY_FAILED;
		if (c->verbose)
			print_trail(early);
		if (decided(early))
			return EARLY_DECIDED;
		/* A GREYLIST met here is decided at each RCPT. */
		if (early->grey_later)
			a->req.tables_extra |=
			    policy_stage_tables(pc, stages[i]);
	}
	verdict_free(early);
	return EARLY_NONE;
}

/* over_text - "limit auth:* for alice@example.com: 3 msgs/4s, 3 counted" */
static void
over_text(const struct limiter_over *ov, char *buf, size_t len)
{
	char term[LIMIT_TERM_TEXT_MAX];

	limit_term_text(&ov->entry->lim.term[ov->term], term, sizeof term);
	snprintf(buf, len, "limit %s:%s for %s: %s, %lld counted",
	         limit_subject_name(ov->entry->subject), ov->entry->rule,
	         ov->value, term, ov->count);
}

/*
 * print_limited - a recipient the tables let through, against the limits
 * as the milter would check it at this point of the message; returns its
 * exit status, or -1 when the limits let it through too (print_verdict()
 * then says what the tables said)
 */
static int
print_limited(struct ctl *c, const struct policy_conf *pc, struct limiter *lim,
              const struct request *req, const char *rcpt,
              const struct verdict *v)
{
	struct limiter_outcome o;
	char why[1024], *smtp;
	int rc = -1;
	size_t i;

	limiter_rcpt(lim, pc, ctl_store(c), req, v, &o);
	for (i = 0; i < o.nwarn; i++) {
		over_text(&o.warn[i], why, sizeof why);
		printf("%s: over a WARN limit, not refused (%s)\n", rcpt, why);
	}
	if (o.result == LIMITER_REFUSE) {
		over_text(&o.over, why, sizeof why);
		smtp = reply_smtp(&o.reply);
		print_reply(rcpt, smtp, why);
		free(smtp);
		rc = CTL_OK;
	} else if (o.result == LIMITER_ERR_STORE) {
		printf(
		    "%s: %s (Redis error reading limit counters: %s)\n", rcpt,
		    c->conf.on_error == CONF_ON_ERROR_ACCEPT ? "accept"
		                                             : TEMPFAIL_STORE,
		    o.err);
		rc = CTL_STORE;
	} else if (o.result == LIMITER_ERR_CONFIG) {
		printf("%s: %s (broken rule limit %s:%s: %s)\n", rcpt,
		       TEMPFAIL_CONFIG, limit_subject_name(o.subject), o.rule,
		       o.err);
		rc = CTL_INVALID;
	}
	limiter_outcome_free(&o);
	if (rc == -1)
		limiter_accept(lim, 1);
	return rc;
}

/* one_rcpt - the RCPT stage of one recipient; -1 for an engine failure */
static int
one_rcpt(struct ctl *c, const struct policy_conf *pc, struct check_args *a,
         struct limiter *lim, const char *shown)
{
	struct verdict v;
	int rc;

	a->req.limits = limiter_wants(lim);
	if (evaluate(c, pc, &a->req, STAGE_RCPT, &v) != 0)
		return -1;
	rc = -1;
	if (v.type != VERDICT_REPLY && v.type != VERDICT_ERR_STORE &&
	    v.type != VERDICT_ERR_CONFIG)
		rc = print_limited(c, pc, lim, &a->req, shown, &v);
	if (rc == -1)
		rc = print_verdict(c, shown, &v);
	if (c->verbose)
		print_trail(&v);
	verdict_free(&v);
	return rc;
}

/* run_check - every recipient in turn */
static int
run_check(struct ctl *c, struct check_args *a)
{
	struct policy_conf pc;
	struct verdict early;
	struct limiter lim;
	enum early got;
	int rc = CTL_OK, one;
	size_t i;

	policy_conf_init(&pc, &c->conf);
	pc.trail_notfound = 1; /* -v lists every key tried */
	a->req.grey_peek = 1;  /* what greylisting would say, nothing written */
	if (ctl_store(c) == NULL)
		return CTL_STORE;
	if ((got = early_stages(c, &pc, a, &early)) == EARLY_FAILED)
		return CTL_INVALID;
	limiter_init(&lim);
	for (i = 0; i < a->nrcpt; i++) {
		char *shown = str_sanitize(a->rcpt[i], strlen(a->rcpt[i]), 300);

		if (got == EARLY_DECIDED) {
			rc = worse(rc, print_verdict(c, shown, &early));
		} else {
			a->req.recipient = a->rcpt[i];
			if ((one = one_rcpt(c, &pc, a, &lim, shown)) < 0) {
				free(shown);
				limiter_reset(&lim);
				return CTL_INVALID;
			}
			rc = worse(rc, one);
		}
		free(shown);
	}
	limiter_reset(&lim);
	verdict_free(&early);
	if (c->conf.mode == CONF_MODE_TEST)
		printf("(mode = test: the milter logs these and accepts)\n");
	return rc;
}

/* parse_check - the options of check */
static int
parse_check(int argc, char **argv, struct check_args *a, int *verbose)
{
	int ch;

	memset(a, 0, sizeof *a);
	optind = 0;
	while ((ch = getopt(argc, argv, "+f:r:C:N:H:A:v")) != -1) {
		switch (ch) {
		case 'f':
			a->req.sender = optarg;
			break;
		case 'r':
			if (a->nrcpt == RCPT_MAX) {
				ctl_warn("at most %d recipients", RCPT_MAX);
				return -1;
			}
			a->rcpt[a->nrcpt++] = optarg;
			break;
		case 'C':
			a->req.client_addr = optarg;
			break;
		case 'N':
			a->req.client_name = optarg;
			break;
		case 'H':
			a->req.helo = optarg;
			break;
		case 'A':
			a->req.auth = optarg;
			break;
		case 'v':
			*verbose = 1;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || a->req.sender == NULL || a->nrcpt == 0)
		return -1;
	return 0;
}

/* ctl_check - "check -f SENDER -r RCPT ..." */
int
ctl_check(struct ctl *c, int argc, char **argv)
{
	struct check_args a;

	if (parse_check(argc + 1, argv - 1, &a, &c->verbose) != 0) {
		ctl_warn("usage: check -f SENDER -r RCPT [-r RCPT...] [-C IP] "
		         "[-N HOSTNAME] [-H HELO] [-A LOGIN] [-v]");
		return CTL_INVALID;
	}
	return run_check(c, &a);
}
