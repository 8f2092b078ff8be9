/*
 * mlfi_limit - the limits in the callbacks: a recipient the tables let
 * through, checked against them and answered; a message counted at its end
 * (redmilterctl(8), LIMITS).  See mlfi_int.h.  What is checked and
 * counted is limiter.c's; this file logs and answers it as mlfi.c answers
 * the tables: a refusal with its own smfi_setreply(), a failure through
 * on_error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "limiter.h"
#include "log.h"
#include "mlfi_int.h"
#include "rule.h"
#include "str.h"

/* limit_rule - "limit:SUBJECT:KEY", as log lines name a limit rule */
static void
limit_rule(char *buf, size_t len, enum limit_subject s, const char *key)
{
	snprintf(buf, len, "limit:%s:%s", limit_subject_name(s), key);
}

/* log_over - one term over its limit: a WARN rule's, or a refusal's */
static void
log_over(SMFICTX *ctx, const struct conn *c, const char *rcpt,
         const struct limiter_over *ov, const char *what, const char *reply)
{
	char rule[RULE_KEY_MAX + 32], what_over[600], line[1200];

	limit_rule(rule, sizeof rule, ov->entry->subject, ov->entry->rule);
	limiter_describe(ov, what_over, sizeof what_over);
	if (reply != NULL)
		snprintf(line, sizeof line, "%s (%s)", reply, what_over);
	else if (ov->entry->lim.warn_text != NULL)
		snprintf(line, sizeof line, "%s (%s)", ov->entry->lim.warn_text,
		         what_over);
	else
		snprintf(line, sizeof line, "over the limit (%s)", what_over);
	mlfi_log_decision(ctx, c, STAGE_RCPT, rcpt, what, rule, line);
}

/* limit_error - a failure of the limits, answered by on_error */
static sfsistat
limit_error(SMFICTX *ctx, struct conn *c, const char *rcpt,
            const struct limiter_outcome *o)
{
	int config = o->result == LIMITER_ERR_CONFIG;
	char rule[RULE_KEY_MAX + 32], once[RULE_KEY_MAX + 600];
	struct verdict v;
	sfsistat rc;

	memset(&v, 0, sizeof v);
	v.type = config ? VERDICT_ERR_CONFIG : VERDICT_ERR_STORE;
	v.table = TABLE_LIMIT;
	snprintf(rule, sizeof rule, "%s:%s", limit_subject_name(o->subject),
	         o->rule);
	if (config) {
		/* Once per key and problem, as log_trail() does for tables. */
		v.key = rule;
		snprintf(once, sizeof once, "limit:%s=%s", rule, o->err);
		log_once(LOG_ERR, once, "broken rule %slimit:%s: %s",
		         c->rt->conf.prefix, rule, o->err);
	}
	str_copy(v.err, o->err, sizeof v.err);
	if (!config)
		stats_redis_error(STATS_ERR_LIMIT_CHECK);
	rc = mlfi_on_error(ctx, c, STAGE_RCPT, rcpt, &v, config);
	return rc;
}

/*
 * mlfi_check_limits - a recipient the tables accepted, against the limits
 * (redmilterctl(8), LIMITS)
 */
sfsistat
mlfi_check_limits(SMFICTX *ctx, struct conn *c, const char *rcpt,
                  const struct request *req, const struct verdict *v)
{
	struct runtime *rt = c->rt;
	struct limiter_outcome o;
	sfsistat rc = SMFIS_CONTINUE;
	char *smtp;
	size_t i;

	limiter_rcpt(&c->lim, &rt->pc, rt->store, req, v, &o);
	for (i = 0; i < o.nwarn; i++)
		log_over(ctx, c, rcpt, &o.warn[i], "warn", NULL);
	switch (o.result) {
	case LIMITER_PASS:
	case LIMITER_WARN:
		break;
	case LIMITER_REFUSE:
		smtp = mlfi_one_line(reply_smtp(&o.reply));
		log_over(ctx, c, rcpt, &o.over,
		         reply_is_temporary(&o.reply) ? "tempfail" : "reject",
		         smtp);
		free(smtp);
		c->st_action = STATS_LIMIT;
		c->st_table = TABLE_LIMIT;
		stats_limit_refusal(o.over.entry->subject);
		if (rt->conf.mode == CONF_MODE_TEST)
			break;
		rc = reply_is_temporary(&o.reply) ? SMFIS_TEMPFAIL
		                                  : SMFIS_REJECT;
		if (mlfi_set_reply(ctx, &o.reply) != 0) {
			log_msg(LOG_ERR,
			        "smfi_setreply refused a limit's reply");
			rc = mlfi_tempfail(ctx, "4.3.5", TEMPFAIL_CONFIG_TEXT);
		}
		break;
	case LIMITER_ERR_STORE:
	case LIMITER_ERR_CONFIG:
		rc = limit_error(ctx, c, rcpt, &o);
		break;
	}
	limiter_outcome_free(&o);
	return rc;
}

/*
 * mlfi_commit_limits - the message and its accepted recipients counted; a
 * counter that cannot be written is logged and the message accepted
 * (redmilterctl(8), LIMITS)
 */
void
mlfi_commit_limits(SMFICTX *ctx, struct conn *c)
{
	char err[256], qid[QID_MAX];

	err[0] = '\0';
	if (limiter_commit(&c->lim, c->rt->store, err, sizeof err) !=
	    STORE_OK) {
		stats_redis_error(STATS_ERR_LIMIT_COMMIT);
		log_msg(LOG_WARNING,
		        "%s: limit counters not written (%s); the message is "
		        "accepted",
		        mlfi_queue_id(ctx, qid, sizeof qid), err);
	}
}
