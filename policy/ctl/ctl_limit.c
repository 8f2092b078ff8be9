/*
 * ctl_limit - redmilterctl usage and reset.  See ctl_limit.h.
 *
 * The rule is found as the milter finds it (policy_eval() with the
 * subject's ladder alone) and its counter named and read as the milter
 * counts (counter.h), so that what these print is what the milter sees.
 * A client VALUE is an IP address: the ladder's host-name keys are
 * skipped, as for a client whose name the MTA could not verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "ctl.h"
#include "ctl_audit.h"
#include "ctl_limit.h"
#include "limit.h"
#include "policy.h"
#include "str.h"

/* What one command found for SUBJECT VALUE. */
struct found {
	enum limit_subject subject;
	const char *text; /* VALUE as given */
	char *shown;      /* VALUE, printable */
	char *value;      /* what it counts under */
	struct verdict v; /* v.limit[subject]: the rule, if any */
	struct policy_conf pc;
};

static void
found_free(struct found *f)
{
	free(f->shown);
	free(f->value);
	verdict_free(&f->v);
}

/*
 * find - the subject, the value and the rule that applies to it; returns
 * CTL_OK, or the exit status of a failure (warned)
 */
static int
find(struct ctl *c, int argc, char **argv, const char *cmd, struct found *f)
{
	struct request req;
	char err[256];
	int s;

	memset(f, 0, sizeof *f);
	if (argc != 2 ||
	    (s = limit_subject_from_name(argv[0], strlen(argv[0]))) < 0) {
		ctl_warn("usage: %s SUBJECT VALUE (SUBJECT: client, auth, "
		         "sender or recipient)",
		         cmd);
		return CTL_INVALID;
	}
	f->subject = (enum limit_subject)s;
	f->text = argv[1];
	f->shown = str_sanitize(argv[1], strlen(argv[1]), 300);
	policy_conf_init(&f->pc, &c->conf);
	if ((f->value = counter_value(f->subject, f->text, f->pc.delims, err,
	                              sizeof err)) == NULL) {
		ctl_warn("%s %s: %s", argv[0], f->shown, err);
		return CTL_INVALID;
	}
	memset(&req, 0, sizeof req);
	req.stage = STAGE_RCPT;
	req.limits = 1u << s;
	req.limits_only = 1;
	req.client_addr = s == LIMIT_CLIENT ? f->text : NULL;
	req.auth = s == LIMIT_AUTH ? f->text : NULL;
	req.sender = s == LIMIT_SENDER ? f->text : NULL;
	req.recipient = s == LIMIT_RECIPIENT ? f->text : NULL;
	if (ctl_store(c) == NULL)
		return CTL_STORE;
	if (policy_eval(&f->pc, &req, c->store, &f->v, err, sizeof err) != 0) {
		ctl_warn("%s", err);
		return CTL_INVALID;
	}
	if (f->v.type == VERDICT_ERR_STORE) {
		ctl_warn("Redis: %s", f->v.err);
		return CTL_STORE;
	}
	return CTL_OK;
}

/* print_counts - each term of the rule with its count */
static int
print_counts(struct ctl *c, const struct found *f, const struct limit_hit *h)
{
	struct counter k;
	char err[256], term[LIMIT_TERM_TEXT_MAX];
	size_t i;

	memset(&k, 0, sizeof k);
	k.key =
	    counter_key(c->conf.prefix, f->subject, h->key, &h->lim, f->value);
	k.lim = &h->lim;
	if (counter_read(c->store, &k, 1, err, sizeof err) != STORE_OK) {
		ctl_warn("Redis: %s", err);
		free((char *)k.key);
		return CTL_STORE;
	}
	for (i = 0; i < h->lim.nterms; i++) {
		limit_term_text(&h->lim.term[i], term, sizeof term);
		if (h->lim.term[i].unit == LIMIT_RCPTS_PER_MSG)
			printf("  %s: per message\n", term);
		else
			printf("  %s: %lld\n", term, k.count[i]);
	}
	free((char *)k.key);
	return CTL_OK;
}

/* ctl_usage - "usage SUBJECT VALUE" */
int
ctl_usage(struct ctl *c, int argc, char **argv)
{
	struct found f;
	const struct limit_hit *h;
	int rc;

	if ((rc = find(c, argc, argv, "usage", &f)) == CTL_OK) {
		h = &f.v.limit[f.subject];
		if (h->key == NULL) {
			printf("no limit applies to %s %s\n",
			       limit_subject_name(f.subject), f.shown);
		} else {
			printf("limit %s:%s %s\n",
			       limit_subject_name(f.subject), h->key, h->value);
			if (h->broken) {
				ctl_warn("limit %s:%s: %s",
				         limit_subject_name(f.subject), h->key,
				         h->why);
				rc = CTL_INVALID;
			} else if (!h->lim.none) {
				rc = print_counts(c, &f, h);
			}
		}
	}
	found_free(&f);
	return rc;
}

/*
 * clear - delete the value's own counter and, shared (not NULL), the
 * limit's, in one script with one audit entry (ctl_audit.h); CTL_OK also
 * when there were none
 */
static int
clear(struct ctl *c, const struct found *f, char *own, char *shared)
{
	struct ctl_audit_op op[2];
	char err[512];
	size_t i, changed;
	int rc;

	for (i = 0; i < 2; i++) {
		op[i].key = i == 0 ? own : shared;
		op[i].mode = i == 0 ? "reset" : "purge";
		op[i].val = NULL;
		op[i].ttl = 0;
		op[i].table = limit_subject_name(f->subject);
		op[i].rkey = f->value;
	}
	rc = ctl_audit_apply(c, "reset", op, shared != NULL ? 2 : 1, 0,
	                     &changed, err, sizeof err);
	if (rc != CTL_OK)
		ctl_warn("Redis: %s", err);
	free(own);
	free(shared);
	return rc;
}

/*
 * ctl_reset - "reset SUBJECT VALUE": the value's own counter and, when the
 * rule that applies is shared, the counter it shares
 */
int
ctl_reset(struct ctl *c, int argc, char **argv)
{
	struct limit own;
	struct found f;
	const struct limit_hit *h;
	int rc;

	if ((rc = find(c, argc, argv, "reset", &f)) != CTL_OK) {
		found_free(&f);
		return rc;
	}
	h = &f.v.limit[f.subject];
	memset(&own, 0, sizeof own);
	rc = clear(c, &f,
	           counter_key(c->conf.prefix, f.subject, "", &own, f.value),
	           h->key != NULL && !h->broken && h->lim.shared
	               ? counter_key(c->conf.prefix, f.subject, h->key, &h->lim,
	                             f.value)
	               : NULL);
	if (rc == CTL_OK) {
		printf("%s %s: counters cleared\n",
		       limit_subject_name(f.subject), f.shown);
		if (h->key != NULL && !h->broken && h->lim.shared)
			printf("  (the one limit %s:%s shares, for every value "
			       "it matches)\n",
			       limit_subject_name(f.subject), h->key);
	}
	found_free(&f);
	return rc;
}
