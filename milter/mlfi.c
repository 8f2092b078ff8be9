/*
 * mlfi - the libmilter callbacks.  See mlfi.h.
 *
 * Glue only, no policy here: each callback copies its arguments into the
 * connection's context, builds a struct request, calls policy_eval(), and
 * hands the verdict to answer(), which maps it to an SMFIS_* result and a
 * reply.  Three facts of libmilter, found by experiment (RELIABILITY.md,
 * section 8), shape answer():
 * - a REJECT or TEMPFAIL always comes with smfi_setreply() of its own class,
 *   and CONTINUE never does, or libmilter sends a stale text later;
 * - an accepted recipient is SMFIS_CONTINUE, never SMFIS_ACCEPT, which
 *   would accept the whole message and skip the later recipients' checks;
 * - '%' is doubled in every reply line (reply_milter_line()).
 * DISCARD and HOLD are remembered and carried out at end of message, where
 * libmilter allows smfi_delrcpt() and smfi_quarantine().  A recipient the
 * tables let through goes on to the limits (mlfi_limit.c), and a message
 * is counted at its end; what the two files share is mlfi_int.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "hitbatch.h"
#include "hits.h"
#include "policy.h"
#include "log.h"
#include "mlfi.h"
#include "mlfi_int.h"
#include "reply.h"
#include "rule.h"
#include "mono.h"
#include "str.h"
#include "version.h"
#include "xmalloc.h"

static pthread_mutex_t rt_mu = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *current; /* new transactions take this one */
static struct runtime *live;    /* every one not yet freed */

/* Stopping (mlfi_shutdown()): callbacks in progress, connections open. */
static atomic_int closing;
static atomic_long active;
static atomic_long sessions;

static const char *const stage_names[] = {"CONNECT", "HELO", "MAIL", "RCPT"};

/* rt_new - a runtime of conf's contents and st */
static struct runtime *
rt_new(struct conf *conf, struct store *st)
{
	struct runtime *r = xcalloc(1, sizeof *r);

	r->conf = *conf;
	conf_init(conf); /* the strings are r's now */
	policy_conf_init(&r->pc, &r->conf);
	r->store = st;
	return r;
}

/* rt_free - a runtime nobody uses, off the live list */
static void
rt_free(struct runtime *r)
{
	r->store->close(r->store);
	conf_free(&r->conf);
	free(r);
}

/* rt_unlink - r off the live list; caller holds rt_mu */
static void
rt_unlink(struct runtime *r)
{
	struct runtime **p;

	for (p = &live; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			return;
		}
}

/* rt_hold - the current runtime, held */
static struct runtime *
rt_hold(void)
{
	struct runtime *r;

	pthread_mutex_lock(&rt_mu);
	r = current;
	r->refs++;
	pthread_mutex_unlock(&rt_mu);
	return r;
}

/* rt_release - let go of r; the last user of an old one frees it */
static void
rt_release(struct runtime *r)
{
	int last;

	if (r == NULL)
		return;
	pthread_mutex_lock(&rt_mu);
	last = --r->refs == 0 && r != current;
	if (last)
		rt_unlink(r);
	pthread_mutex_unlock(&rt_mu);
	if (last)
		rt_free(r);
}

/* rt_renew - hold the current runtime instead of *r, if it is another */
static void
rt_renew(struct runtime **r)
{
	struct runtime *old = *r;

	pthread_mutex_lock(&rt_mu);
	if (old == current) {
		pthread_mutex_unlock(&rt_mu);
		return;
	}
	current->refs++;
	*r = current;
	pthread_mutex_unlock(&rt_mu);
	rt_release(old);
}

/* mlfi_install - make a new runtime current (see mlfi.h) */
void
mlfi_install(struct conf *conf, struct store *st)
{
	struct runtime *r = rt_new(conf, st), *old;
	int unused;

	pthread_mutex_lock(&rt_mu);
	old = current;
	current = r;
	r->next = live;
	live = r;
	unused = old != NULL && old->refs == 0;
	if (unused)
		rt_unlink(old);
	pthread_mutex_unlock(&rt_mu);
	if (unused)
		rt_free(old);
}

/*
 * mlfi_shutdown - after smfi_main(): give open connections until
 * deadline_us (mono_us()) to end, then turn callbacks away, wait a little
 * for those in progress, and free everything if none is left
 */
int
mlfi_shutdown(long long deadline_us)
{
	struct runtime *r;

	while (atomic_load(&sessions) > 0 && mono_us() < deadline_us)
		usleep(10000);
	atomic_store(&closing, 1);
	while (atomic_load(&active) > 0 && mono_us() < deadline_us + 500000)
		usleep(5000);
	hitbatch_stop(); /* the last batch, with the store still there */
	if (atomic_load(&active) > 0)
		return -1; /* still in use: exit without freeing */
	current = NULL;
	while ((r = live) != NULL) {
		live = r->next;
		rt_free(r);
	}
	return 0;
}

/* enter - a callback starts; 0: we are stopping, touch nothing */
static int
enter(void)
{
	atomic_fetch_add(&active, 1);
	if (!atomic_load(&closing))
		return 1;
	atomic_fetch_sub(&active, 1);
	return 0;
}

/* leave - a callback ends */
static void
leave(void)
{
	atomic_fetch_sub(&active, 1);
}

/* set - replace a string field with a copy (NULL allowed) */
static void
set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

/* reset_transaction - forget the current message */
static void
reset_transaction(struct conn *c)
{
	size_t i;

	set(&c->sender, NULL);
	set(&c->auth, NULL);
	set(&c->msg_hold, NULL);
	for (i = 0; i < c->ndrop; i++)
		free(c->drop[i]);
	free(c->drop);
	c->drop = NULL;
	c->ndrop = 0;
	c->naccepted = 0;
	c->msg_discard = 0;
	c->msg_grey = 0;
	c->grey_delayed = -1;
	limiter_reset(&c->lim);
}

/* conn_free - everything of a connection */
static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	reset_transaction(c);
	free(c->client_name);
	free(c->client_addr);
	free(c->helo);
	free(c->conn_hold);
	rt_release(c->rt);
	atomic_fetch_sub(&sessions, 1);
	free(c);
}

/*
 * queue_id - the MTA's queue id as a log line may show it (the `i` macro is
 * the MTA's text: anything but printable ASCII becomes '?', so that it
 * cannot forge a line), or NOQUEUE as Postfix logs it
 */
const char *
mlfi_queue_id(SMFICTX *ctx, char *buf, size_t len)
{
	const char *id = smfi_getsymval(ctx, (char *)"i");
	size_t i;

	if (id == NULL || *id == '\0')
		return "NOQUEUE";
	for (i = 0; id[i] != '\0' && i + 1 < len; i++)
		buf[i] = id[i] > ' ' && id[i] < 127 ? id[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * address_field - " from=<addr>" or " to=<addr>", or "" when the MTA has
 * given none yet (a NULL sender is not the null sender "<>")
 */
static void
address_field(char *buf, size_t len, const char *name, const char *addr)
{
	char *a;

	if (addr == NULL) {
		*buf = '\0';
		return;
	}
	a = log_clean(addr, LOG_TEXT_MAX);
	snprintf(buf, len, " %s=%s%s%s", name, *a == '<' ? "" : "<", a,
	         *a == '<' ? "" : ">");
	free(a);
}

/*
 * log_decision - one line per decision, with what redmilter(8), LOGGING,
 * lists:
 * queue id, stage, sender, recipient, client, rule and reply
 */
void
mlfi_log_decision(SMFICTX *ctx, const struct conn *c, enum policy_stage stage,
                  const char *rcpt, const char *what, const char *rule,
                  const char *reply)
{
	char from[LOG_TEXT_MAX + 16], to[LOG_TEXT_MAX + 16], qid[QID_MAX];
	const char *name;
	char *n, *ru;

	if (!log_wanted(LOG_INFO))
		return;
	/* As Postfix logs it: "unknown" when the MTA has no verified name
	 * (Postfix says "unknown", Sendmail passes the address in brackets). */
	name = c->client_name == NULL || *c->client_name == '[' ||
	               *c->client_name == '\0'
	           ? "unknown"
	           : c->client_name;
	n = log_clean(name, LOG_TEXT_MAX);
	ru = log_clean(rule, 2 * LOG_TEXT_MAX);

	address_field(from, sizeof from, "from", c->sender);
	address_field(to, sizeof to, "to", rcpt);
	log_msg(LOG_INFO, "%s: %s: %s%s%s%s client=%s[%s] rule=%s: %s",
	        mlfi_queue_id(ctx, qid, sizeof qid), stage_names[stage],
	        c->rt->conf.mode == CONF_MODE_TEST ? "test " : "", what, from,
	        to, n, c->client_addr ? c->client_addr : "", ru, reply);
	free(n);
	free(ru);
}

/*
 * log_trail - the WARN rules met, the GREYLIST rules passed, and the broken
 * ones (once each)
 */
static void
log_trail(SMFICTX *ctx, const struct conn *c, enum policy_stage stage,
          const char *rcpt, const struct verdict *v)
{
	char rule[1200], once[1600], qid[QID_MAX];
	size_t i;

	for (i = 0; i < v->ntrail; i++) {
		const struct trail_entry *e = &v->trail[i];

		snprintf(rule, sizeof rule, "%s:%s", table_name(e->table),
		         e->key);
		if (e->what == TRAIL_WARN)
			mlfi_log_decision(ctx, c, stage, rcpt, "warn", rule,
			                  e->note != NULL ? e->note : "");
		else if (e->what == TRAIL_GREYLIST && stage == STAGE_RCPT)
			mlfi_log_decision(ctx, c, stage, rcpt, "greylist pass",
			                  rule, e->note != NULL ? e->note : "");
		else if (e->what == TRAIL_BROKEN) {
			snprintf(once, sizeof once, "%s=%s", rule, e->value);
			log_once(LOG_ERR, once, "broken rule %s%s (\"%s\"): %s",
			         c->rt->conf.prefix, rule, e->value, e->note);
		} else if (e->what == TRAIL_MALFORMED)
			log_msg(LOG_INFO,
			        "%s: %s: malformed %s address <%s>: %s",
			        mlfi_queue_id(ctx, qid, sizeof qid),
			        stage_names[stage], table_name(e->table),
			        e->key, e->note);
	}
}

/*
 * set_reply - hand a reply to libmilter, '%' doubled, one line or many
 *
 * Returns 0, or -1 when libmilter refused it.
 */
int
mlfi_set_reply(SMFICTX *ctx, const struct reply *r)
{
	char *l[REPLY_LINES_MAX + 1] = {NULL};
	size_t i;
	int rc;

	for (i = 0; i < r->nlines && i < REPLY_LINES_MAX; i++)
		l[i] = reply_milter_line(r, i);
	if (r->nlines == 1)
		rc = smfi_setreply(ctx, (char *)r->code, (char *)r->enh, l[0]);
	else
		rc = smfi_setmlreply(ctx, r->code, r->enh, l[0], l[1], l[2],
		                     l[3], l[4], l[5], l[6], l[7], l[8], l[9],
		                     l[10], l[11], l[12], l[13], l[14], l[15],
		                     l[16], l[17], l[18], l[19], l[20], l[21],
		                     l[22], l[23], l[24], l[25], l[26], l[27],
		                     l[28], l[29], l[30], l[31], (char *)NULL);
	for (i = 0; i < REPLY_LINES_MAX; i++)
		free(l[i]);
	if (rc == MI_SUCCESS)
		stats_reply((r->code[0] - '0') * 100 + (r->code[1] - '0') * 10 +
		            (r->code[2] - '0'));
	return rc == MI_SUCCESS ? 0 : -1;
}

/* tempfail - our own 451, for a store failure or a broken rule */
sfsistat
mlfi_tempfail(SMFICTX *ctx, const char *enh, const char *text)
{
	if (smfi_setreply(ctx, (char *)"451", (char *)enh, (char *)text) !=
	    MI_SUCCESS)
		log_msg(LOG_ERR, "smfi_setreply refused our own 451 reply");
	else
		stats_reply(451);
	return SMFIS_TEMPFAIL;
}

/* on_error - the configured answer to a failure of ours, logged */
sfsistat
mlfi_on_error(SMFICTX *ctx, struct conn *c, enum policy_stage stage,
              const char *rcpt, const struct verdict *v, int config)
{
	char rule[1200], reply[600];
	const char *enh = config ? "4.3.5" : "4.3.0";
	const char *text = config ? TEMPFAIL_CONFIG_TEXT : TEMPFAIL_STORE_TEXT;
	int accept = c->rt->conf.on_error == CONF_ON_ERROR_ACCEPT;

	snprintf(rule, sizeof rule, "%s%s%s",
	         config ? table_name(v->table) : "-", config ? ":" : "",
	         config && v->key != NULL ? v->key : "");
	if (accept)
		snprintf(reply, sizeof reply, "accepted by on_error (%s: %s)",
		         config ? "broken rule" : "Redis lookup failed",
		         v->err);
	else
		snprintf(reply, sizeof reply, "451 %s %s (%s: %s)", enh, text,
		         config ? "broken rule" : "Redis lookup failed",
		         v->err);
	mlfi_log_decision(ctx, c, stage, rcpt,
	                  accept ? "accept (on_error)" : "tempfail", rule,
	                  reply);
	c->st_action = accept ? STATS_ACCEPT : STATS_TEMPFAIL;
	c->st_table = config ? (int)v->table : STATS_TABLE_NONE;
	if (accept || c->rt->conf.mode == CONF_MODE_TEST)
		return SMFIS_CONTINUE;
	return mlfi_tempfail(ctx, enh, text);
}

/*
 * one_line - a multi-line reply as logged: its lines joined with " / ",
 * as one log line must be (CR LF in a log line would forge another)
 */
char *
mlfi_one_line(char *smtp)
{
	char *p;

	if (smtp == NULL)
		return xstrdup("");
	while ((p = strstr(smtp, "\r\n")) != NULL) {
		char *w = xmalloc(strlen(smtp) + 2);

		memcpy(w, smtp, (size_t)(p - smtp));
		memcpy(w + (p - smtp), " / ", 3);
		memcpy(w + (p - smtp) + 3, p + 2, strlen(p + 2) + 1);
		free(smtp);
		smtp = w;
	}
	return smtp;
}

/* answer_reply - a 4xx or 5xx rule */
static sfsistat
answer_reply(SMFICTX *ctx, struct conn *c, enum policy_stage stage,
             const char *rcpt, struct verdict *v, const char *rule)
{
	struct reply r;
	char err[256], *smtp;
	sfsistat rc;

	if (action_reply(&v->action, v->table, &r, err, sizeof err) != 0) {
		str_copy(v->err, err, sizeof v->err);
		return mlfi_on_error(ctx, c, stage, rcpt, v, 1);
	}
	if (log_wanted(LOG_INFO)) {
		smtp = mlfi_one_line(reply_smtp(&r));
		mlfi_log_decision(ctx, c, stage, rcpt,
		                  v->greylisted            ? "greylist"
		                  : reply_is_temporary(&r) ? "tempfail"
		                                           : "reject",
		                  rule, smtp);
		free(smtp);
	}
	c->st_action = v->greylisted            ? STATS_GREYLIST
	               : reply_is_temporary(&r) ? STATS_DEFER
	                                        : STATS_REJECT;
	c->st_table = (int)v->table;
	if (c->rt->conf.mode == CONF_MODE_TEST) {
		reply_free(&r);
		return SMFIS_CONTINUE;
	}
	rc = reply_is_temporary(&r) ? SMFIS_TEMPFAIL : SMFIS_REJECT;
	if (mlfi_set_reply(ctx, &r) != 0) {
		str_copy(v->err, "libmilter refused the reply", sizeof v->err);
		rc = mlfi_on_error(ctx, c, stage, rcpt, v, 1);
	}
	reply_free(&r);
	return rc;
}

/* remember - a DISCARD or HOLD, carried out at end of message */
static void
remember(struct conn *c, enum policy_stage stage, const char *rcpt,
         const struct verdict *v)
{
	const char *why = v->action.text != NULL ? v->action.text : "";
	int conn_wide = stage == STAGE_CONNECT || stage == STAGE_HELO;

	if (v->type == VERDICT_HOLD) {
		set(conn_wide ? &c->conn_hold : &c->msg_hold, why);
	} else if (TABLE_IS_RECIPIENT(v->table) && rcpt != NULL) {
		c->drop = xrealloc(c->drop, (c->ndrop + 1) * sizeof *c->drop);
		c->drop[c->ndrop++] = xstrdup(rcpt);
	} else if (conn_wide) {
		c->conn_discard = 1;
	} else {
		c->msg_discard = 1;
	}
}

/*
 * warned - whether the walk met a WARN rule (and nothing decided): *table
 * is then the first one's table
 */
static int
warned(const struct verdict *v, int *table)
{
	size_t i;

	for (i = 0; i < v->ntrail; i++)
		if (v->trail[i].what == TRAIL_WARN) {
			*table = (int)v->trail[i].table;
			return 1;
		}
	return 0;
}

/* count_greylist - the GREYLIST rules the walk met, for the metrics */
static void
count_greylist(const struct verdict *v)
{
	int s;

	for (s = GREY_NEW; s <= GREY_CLIENT; s++)
		if (v->grey_met[s] > 0)
			stats_greylist((enum grey_state)s, v->grey_met[s]);
}

/* answer - map a verdict to a callback result, and log it */
static sfsistat
answer(SMFICTX *ctx, struct conn *c, enum policy_stage stage, const char *rcpt,
       struct verdict *v)
{
	char rule[1200];

	log_trail(ctx, c, stage, rcpt, v);
	rule[0] = '\0'; /* only for log lines */
	if (v->type != VERDICT_NONE && log_wanted(LOG_INFO))
		snprintf(rule, sizeof rule, "%s:%s", table_name(v->table),
		         v->key != NULL ? v->key : "");
	c->st_table =
	    v->type == VERDICT_NONE ? STATS_TABLE_NONE : (int)v->table;
	switch (v->type) {
	case VERDICT_NONE:
		c->st_action =
		    warned(v, &c->st_table) ? STATS_WARN : STATS_ACCEPT;
		return SMFIS_CONTINUE;
	case VERDICT_ACCEPT:
		c->st_action = STATS_ACCEPT;
		mlfi_log_decision(ctx, c, stage, rcpt, "accept", rule, "OK");
		return SMFIS_CONTINUE;
	case VERDICT_REPLY:
		return answer_reply(ctx, c, stage, rcpt, v, rule);
	case VERDICT_DISCARD:
	case VERDICT_HOLD:
		c->st_action =
		    v->type == VERDICT_HOLD ? STATS_HOLD : STATS_DISCARD;
		mlfi_log_decision(ctx, c, stage, rcpt,
		                  v->type == VERDICT_HOLD ? "hold" : "discard",
		                  rule,
		                  v->action.text != NULL ? v->action.text : "");
		if (c->rt->conf.mode != CONF_MODE_TEST)
			remember(c, stage, rcpt, v);
		return SMFIS_CONTINUE;
	case VERDICT_ERR_STORE:
		stats_redis_error(STATS_ERR_LOOKUP);
		return mlfi_on_error(ctx, c, stage, rcpt, v, 0);
	case VERDICT_ERR_CONFIG:
		return mlfi_on_error(ctx, c, stage, rcpt, v, 1);
	}
	return SMFIS_CONTINUE;
}

/*
 * log_slow - a decision that took longer than redis_timeout, which bounds
 * every lookup: Redis timed out, or something of ours is slow.  The time is
 * ours alone, from the callback's start to its reply (libmilter's own
 * queueing before the callback is not in it).
 */
static void
log_slow(SMFICTX *ctx, const struct conn *c, enum policy_stage stage,
         const char *rcpt, long long us)
{
	char from[LOG_TEXT_MAX + 16], to[LOG_TEXT_MAX + 16], qid[QID_MAX];

	address_field(from, sizeof from, "from", c->sender);
	address_field(to, sizeof to, "to", rcpt);
	log_msg(LOG_WARNING,
	        "%s: %s: slow decision: %lld ms, more than redis_timeout "
	        "(%d ms):%s%s",
	        mlfi_queue_id(ctx, qid, sizeof qid), stage_names[stage],
	        (us + 999) / 1000, c->rt->conf.redis_timeout, from, to);
}

/*
 * tables_accept - whether a recipient's verdict lets it through to the
 * limits: no rule, OK, DISCARD, HOLD, or a broken rule that on_error
 * accepted.  Not a refusal let through by mode = test (it is logged as the
 * refusal it is), nor a failed lookup that on_error accepted (it found no
 * limit rule either); such a recipient is counted all the same.
 */
static int
tables_accept(const struct verdict *v, sfsistat rc)
{
	return rc == SMFIS_CONTINUE && v->type != VERDICT_REPLY &&
	       v->type != VERDICT_ERR_STORE;
}

/*
 * note_hits - the rules a decision met, for the hit counters
 * (redmilter(8), HIT COUNTERS): the deciding one, WARN, DUNNO, a GREYLIST
 * that passed or delayed (at RCPT: one met earlier is decided there)
 */
static void
note_hits(const struct runtime *rt, const struct verdict *v,
          enum policy_stage stage)
{
	const struct trail_entry *e;
	size_t i;

	for (i = 0; rt->conf.hit_counters && i < v->ntrail; i++) {
		e = &v->trail[i];
		if (e->what == TRAIL_DECIDED || e->what == TRAIL_WARN ||
		    e->what == TRAIL_DUNNO ||
		    (e->what == TRAIL_GREYLIST && stage == STAGE_RCPT))
			hitbatch_note(table_name(e->table), e->key);
	}
}

/* note_limit_hits - the limit rules a recipient was checked against */
static void
note_limit_hits(const struct runtime *rt, const struct verdict *v)
{
	char key[600];
	int s;

	for (s = 0; rt->conf.hit_counters && s < LIMIT_SUBJECTS; s++) {
		if (v->limit[s].key == NULL)
			continue;
		(void)snprintf(key, sizeof key, "%s:%s",
		               limit_subject_name((enum limit_subject)s),
		               v->limit[s].key);
		hitbatch_note(table_name(TABLE_LIMIT), key);
	}
}

/* decide - evaluate one stage and answer it */
static sfsistat
decide(SMFICTX *ctx, struct conn *c, enum policy_stage stage, const char *rcpt)
{
	struct request req = {
	    .stage = stage,
	    .client_name = c->client_name,
	    .client_addr = c->client_addr,
	    .helo = c->helo,
	    .auth = c->auth,
	    .sender = c->sender,
	    .recipient = rcpt,
	    .limits = stage == STAGE_RCPT ? limiter_wants(&c->lim) : 0,
	    .tables_extra = c->conn_grey | c->msg_grey,
	};
	struct runtime *rt = c->rt;
	struct verdict v;
	char err[256];
	sfsistat rc;
	long long t0 = mono_us(), us;
	int checked = 0;

	c->st_action = STATS_ACCEPT;
	c->st_table = STATS_TABLE_NONE;
	if (policy_eval(&rt->pc, &req, rt->store, &v, err, sizeof err) != 0) {
		str_copy(v.err, err, sizeof v.err);
		rc = mlfi_on_error(ctx, c, stage, rcpt, &v, 0);
	} else {
		note_hits(rt, &v, stage);
		count_greylist(&v);
		rc = answer(ctx, c, stage, rcpt, &v);
		if (v.grey_later)
			*(stage == STAGE_MAIL ? &c->msg_grey : &c->conn_grey) |=
			    policy_stage_tables(&rt->pc, stage);
		if (rc == SMFIS_CONTINUE && v.grey_delayed > c->grey_delayed)
			c->grey_delayed = v.grey_delayed;
		if (stage == STAGE_RCPT && tables_accept(&v, rc)) {
			rc = mlfi_check_limits(ctx, c, rcpt, &req, &v);
			checked = 1;
			note_limit_hits(rt, &v);
		}
	}
	/* Whatever let it through, an accepted recipient counts. */
	if (stage == STAGE_RCPT && rc == SMFIS_CONTINUE)
		limiter_accept(&c->lim, checked);
	verdict_free(&v);
	us = mono_us() - t0;
	stats_decision(stage, c->st_action, c->st_table, us);
	if (us > (long long)rt->conf.redis_timeout * 1000)
		log_slow(ctx, c, stage, rcpt, us);
	return rc;
}

/* conn_of - the connection context; NULL means a libmilter oddity */
static struct conn *
conn_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* client_ip - the textual address of a connect() argument, or NULL */
static char *
client_ip(const struct sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN];
	const void *a;

	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return NULL;
	if (inet_ntop(sa->sa_family, a, buf, sizeof buf) == NULL)
		return NULL;
	return xstrdup(buf);
}

/* on_connect - a new SMTP connection */
static sfsistat
on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = xcalloc(1, sizeof *c);
	int accept;

	c->grey_delayed = -1;
	limiter_init(&c->lim);
	conn_free(conn_of(ctx));
	c->rt = rt_hold();
	atomic_fetch_add(&sessions, 1);
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		accept = c->rt->conf.on_error == CONF_ON_ERROR_ACCEPT;
		conn_free(c);
		log_msg(LOG_ERR, "smfi_setpriv failed");
		return accept
		           ? SMFIS_ACCEPT
		           : mlfi_tempfail(ctx, "4.3.0", TEMPFAIL_STORE_TEXT);
	}
	set(&c->client_name, hostname);
	c->client_addr = client_ip(hostaddr);
	if (c->rt->conf.delay_checks)
		return SMFIS_CONTINUE;
	return decide(ctx, c, STAGE_CONNECT, NULL);
}

/* on_helo - HELO or EHLO, possibly again later in the session */
static sfsistat
on_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	set(&c->helo, helo);
	if (c->rt->conf.delay_checks)
		return SMFIS_CONTINUE;
	return decide(ctx, c, STAGE_HELO, NULL);
}

/* on_envfrom - MAIL FROM: a new transaction */
static sfsistat
on_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	reset_transaction(c);
	rt_renew(&c->rt);
	set(&c->sender, argv != NULL ? argv[0] : NULL);
	set(&c->auth, smfi_getsymval(ctx, (char *)"{auth_authen}"));
	if (c->rt->conf.delay_checks)
		return SMFIS_CONTINUE;
	return decide(ctx, c, STAGE_MAIL, NULL);
}

/* on_envrcpt - RCPT TO: the decision for one recipient */
static sfsistat
on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_of(ctx);
	sfsistat rc;

	if (c == NULL || argv == NULL || argv[0] == NULL)
		return SMFIS_CONTINUE;
	rc = decide(ctx, c, STAGE_RCPT, argv[0]);
	if (rc == SMFIS_CONTINUE)
		c->naccepted++;
	return rc;
}

/* strip_brackets - the address inside <>, as smfi_delrcpt() wants it */
static void
strip_brackets(char *a)
{
	size_t len = strlen(a);

	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		memmove(a, a + 1, len - 2);
		a[len - 2] = '\0';
	}
}

/*
 * add_greylist_header - X-Greylist on a message that a recipient's first
 * pass delayed (redmilter.conf(5), greylist_header); none in mode = test
 */
static void
add_greylist_header(SMFICTX *ctx, const struct conn *c)
{
	char val[80], qid[QID_MAX];

	if (c->grey_delayed < 0 || !c->rt->conf.greylist_header ||
	    c->rt->conf.mode == CONF_MODE_TEST)
		return;
	(void)snprintf(val, sizeof val, "delayed %lld seconds by redmilter",
	               c->grey_delayed);
	if (smfi_addheader(ctx, (char *)"X-Greylist", val) != MI_SUCCESS)
		log_msg(LOG_ERR, "%s: smfi_addheader failed",
		        mlfi_queue_id(ctx, qid, sizeof qid));
}

/* on_eom - end of message: count it, carry out DISCARD and HOLD */
static sfsistat
on_eom(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);
	const char *hold;
	char qid[QID_MAX];
	sfsistat rc = SMFIS_CONTINUE;
	size_t i;

	if (c == NULL)
		return SMFIS_CONTINUE;
	mlfi_commit_limits(ctx, c);
	add_greylist_header(ctx, c);
	hold = c->msg_hold != NULL ? c->msg_hold : c->conn_hold;
	if (c->msg_discard || c->conn_discard ||
	    (c->ndrop > 0 && c->ndrop >= c->naccepted)) {
		rc = SMFIS_DISCARD;
	} else {
		for (i = 0; i < c->ndrop; i++) {
			strip_brackets(c->drop[i]);
			if (smfi_delrcpt(ctx, c->drop[i]) != MI_SUCCESS)
				log_msg(LOG_ERR, "%s: smfi_delrcpt failed",
				        mlfi_queue_id(ctx, qid, sizeof qid));
		}
		if (hold != NULL &&
		    smfi_quarantine(
		        ctx,
		        (char *)(*hold != '\0' ? hold : "redmilter HOLD")) !=
		        MI_SUCCESS)
			log_msg(LOG_ERR, "%s: smfi_quarantine failed",
			        mlfi_queue_id(ctx, qid, sizeof qid));
	}
	reset_transaction(c);
	return rc;
}

/* on_abort - the transaction ended early (RSET, QUIT, error) */
static sfsistat
on_abort(SMFICTX *ctx)
{
	struct conn *c = conn_of(ctx);

	if (c != NULL)
		reset_transaction(c);
	return SMFIS_CONTINUE;
}

/* on_close - the connection is gone; priv may be NULL */
static sfsistat
on_close(SMFICTX *ctx)
{
	conn_free(conn_of(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/*
 * The callbacks libmilter calls: each one turned away once we are stopping
 * (mlfi_shutdown()), when what it would use may be gone.
 */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	sfsistat rc = SMFIS_TEMPFAIL;

	if (enter()) {
		rc = on_connect(ctx, hostname, hostaddr);
		leave();
	}
	return rc;
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	sfsistat rc = SMFIS_TEMPFAIL;

	if (enter()) {
		rc = on_helo(ctx, helo);
		leave();
	}
	return rc;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	sfsistat rc = SMFIS_TEMPFAIL;

	if (enter()) {
		rc = on_envfrom(ctx, argv);
		leave();
	}
	return rc;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	sfsistat rc = SMFIS_TEMPFAIL;

	if (enter()) {
		rc = on_envrcpt(ctx, argv);
		leave();
	}
	return rc;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	sfsistat rc = SMFIS_TEMPFAIL;

	if (enter()) {
		rc = on_eom(ctx);
		leave();
	}
	return rc;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	if (enter()) {
		on_abort(ctx);
		leave();
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	if (enter()) {
		on_close(ctx);
		leave();
	}
	return SMFIS_CONTINUE;
}

/*
 * mlfi_negotiate - the actions we use, the stages we skip, and the macros
 * we want at each stage
 */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
               unsigned long f2, unsigned long f3, unsigned long *pf0,
               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long skip = SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH |
	                     SMFIP_NOUNKNOWN | SMFIP_NODATA;

	unsigned long want = SMFIF_DELRCPT | SMFIF_QUARANTINE;
	struct runtime *rt;

	(void)f2;
	(void)f3;
	/* Header addition only when X-Greylist may be added. */
	if (enter()) {
		rt = rt_hold();
		if (rt->conf.greylist_header)
			want |= SMFIF_ADDHDRS;
		rt_release(rt);
		leave();
	}
	*pf0 = f0 & want;
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)"j {client_name}");
	smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)"i {auth_authen}");
	smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)"i");
	smfi_setsymlist(ctx, SMFIM_EOM, (char *)"i");
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    (char *)"redmilter",
    SMFI_VERSION,
    SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_ADDHDRS,
    mlfi_connect,
    mlfi_helo,
    mlfi_envfrom,
    mlfi_envrcpt,
    NULL, /* header */
    NULL, /* eoh */
    NULL, /* body */
    mlfi_eom,
    mlfi_abort,
    mlfi_close,
    NULL, /* unknown */
    NULL, /* data */
    mlfi_negotiate,
};

/* mlfi_metrics - the metrics' text, the current store's counters in it */
char *
mlfi_metrics(void *arg, size_t *len)
{
	struct stats_extra x = {REDMILTER_VERSION, 0, 0, 0, 0, -1};
	struct store_stats ss;
	struct runtime *r = rt_hold();
	char *text;

	(void)arg;
	store_stats(r->store, &ss);
	rt_release(r);
	x.sessions = atomic_load(&sessions);
	x.redis_commands = ss.commands;
	x.cache_hits = ss.cache_hits;
	x.cache_misses = ss.cache_misses;
	x.tracking = ss.tracking;
	text = stats_render(&x, len);
	return text;
}

/*
 * mlfi_hits_flush - a batch of hit counts into the current store; a
 * failure loses the batch and is logged once until a batch is written
 */
void
mlfi_hits_flush(const char *const *rules, const long long *counts, size_t n,
                void *arg)
{
	static int failing;
	struct runtime *r = rt_hold();
	char err[256] = "";

	(void)arg;
	if (hits_add(r->store, r->conf.prefix, rules, counts, n, err,
	             sizeof err) != STORE_OK) {
		if (!failing)
			log_msg(
			    LOG_WARNING,
			    "hit counters: the hits of %zu rules are lost: %s",
			    n, err);
		failing = 1;
	} else if (failing) {
		log_msg(LOG_INFO, "hit counters: written again");
		failing = 0;
	}
	rt_release(r);
}

/* mlfi_desc - the filter description for smfi_register() */
struct smfiDesc *
mlfi_desc(void)
{
	return &desc;
}
