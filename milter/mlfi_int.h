/*
 * mlfi_int - what the callbacks (mlfi.c) share with their limits
 * (mlfi_limit.c): the connection's context, the runtime it decides with,
 * and the helpers that log a decision and answer the MTA.  Internal to the
 * milter: nothing outside milter/mlfi*.c includes it.
 *
 * mlfi_queue_id() is the MTA's queue id fit for a log line, or NOQUEUE;
 * mlfi_log_decision() writes the one line of a decision (redmilter(8),
 * LOGGING); mlfi_set_reply() hands a reply to libmilter, '%' doubled
 * (0, or -1 when libmilter refused it); mlfi_tempfail() answers our own
 * 451; mlfi_on_error() answers a failure as on_error says, and logs it
 * (config: a broken rule); mlfi_one_line() joins a multi-line reply for a
 * log line (it takes and returns a malloc'd string).
 * mlfi_check_limits() checks a recipient the tables let through against
 * the limits and answers it; mlfi_commit_limits() counts the message at
 * its end (redmilterctl(8), LIMITS).  Thread-safe as the callbacks are:
 * one connection's context is used by one thread at a time.
 */
#ifndef MLFI_INT_H
#define MLFI_INT_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "limiter.h"
#include "policy.h"
#include "reply.h"
#include "stats.h"
#include "store.h"
#include "verdict.h"

#define TEMPFAIL_STORE_TEXT "Temporary policy lookup failure"
#define TEMPFAIL_CONFIG_TEXT "Server configuration error"
#define LOG_TEXT_MAX 300 /* bytes of an untrusted value in a log line */
#define QID_MAX 65       /* bytes of a queue id as logged, and its NUL */

/*
 * What the callbacks decide with: one configuration and its store (with
 * the cache of rules in it, store_open.h).  A reload makes a new one
 * current; a connection holds the one it started its transaction with
 * (refs), and the last to let go of an old one frees it.  rt_mu guards
 * current, live and every refs.
 */
struct runtime {
	struct conf conf;
	struct policy_conf pc;
	struct store *store;
	unsigned long refs;
	struct runtime *next; /* on the list of live ones */
};

/* One SMTP connection; the second half is one transaction. */
struct conn {
	char *client_name;
	char *client_addr;
	char *helo;
	int conn_discard; /* a client or HELO DISCARD: every message */
	char *conn_hold;  /* a client or HELO HOLD: every message */
	char *sender;     /* MAIL FROM argument as given */
	char *auth;
	struct runtime *rt; /* held from connect, renewed at each MAIL */
	int msg_discard;    /* DISCARD of the whole message */
	char *msg_hold;     /* HOLD reason; "" when given none */
	char **drop;        /* recipients to delete at end of message */
	size_t ndrop;
	size_t naccepted;       /* recipients answered with CONTINUE */
	struct limiter lim;     /* this message's limits */
	unsigned conn_grey;     /* tables of a client or HELO stage that met a
	                           GREYLIST: walked again at each RCPT */
	unsigned msg_grey;      /* likewise, of the MAIL stage */
	long long grey_delayed; /* a recipient's first pass after this many
	                           seconds (X-Greylist); -1: none */
	enum stats_action st_action; /* the decision being made, as the */
	int st_table;                /* metrics count it (stats.h) */
};

const char *mlfi_queue_id(SMFICTX *, char *, size_t);
void mlfi_log_decision(SMFICTX *, const struct conn *, enum policy_stage,
                       const char *rcpt, const char *what, const char *rule,
                       const char *reply);
int mlfi_set_reply(SMFICTX *, const struct reply *);
sfsistat mlfi_tempfail(SMFICTX *, const char *enh, const char *text);
sfsistat mlfi_on_error(SMFICTX *, struct conn *, enum policy_stage,
                       const char *rcpt, const struct verdict *, int config);
char *mlfi_one_line(char *);
sfsistat mlfi_check_limits(SMFICTX *, struct conn *, const char *rcpt,
                           const struct request *, const struct verdict *);
void mlfi_commit_limits(SMFICTX *, struct conn *);

#endif
