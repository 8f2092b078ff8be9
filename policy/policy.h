/*
 * policy - the decision for one recipient (or one stage), from the rules of
 * every table (redmilterctl(8), RULES, "Precedence").
 *
 * policy_eval() builds the candidate keys of every table the stage looks at,
 * fetches them all with one store mget() (one round trip), and walks the
 * tables in precedence order, each table's keys in order.  It has no
 * globals, never logs, never exits, and does I/O only through the store.
 *
 * It returns 0 and fills the verdict, or -1 only for a caller's error (bad
 * arguments), with err set.  A store failure is not an error of the call:
 * it is the verdict VERDICT_ERR_STORE.  The caller releases the verdict
 * with verdict_free() (verdict.h) in both cases.
 * With limits set, the same mget() also finds the limit rule of each
 * subject named (limit.h), first key of its ladder first, into the
 * verdict's limit[]; a broken one is skipped with skip_broken, else
 * marked broken: deciding what that means is the caller's (limiter.h).
 * A GREYLIST rule (greylist.h) is checked against the store at RCPT,
 * where the triplet is known: delayed, it decides (a 451 REPLY, with
 * greylisted set); passed, or in a session with a SASL login, the walk
 * goes on with the next key of its table.  Met at an earlier stage, it
 * ends that stage's walk undecided with grey_later set: the caller walks
 * that stage's tables again at each RCPT (tables_extra).
 * policy_conf_init() fills the engine's settings from redmilter.conf's
 * (trail_notfound off; the strings are borrowed from the conf).
 * Thread-safe as far as the store is.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

#include "conf.h"
#include "store.h"
#include "table.h"
#include "verdict.h"

enum policy_stage { STAGE_CONNECT, STAGE_HELO, STAGE_MAIL, STAGE_RCPT };

struct policy_conf {
	const char *prefix; /* "redmilter:" */
	const char *delims; /* recipient_delimiter: "+"; "" for none */
	int delay_checks;   /* evaluate every table at RCPT */
	int skip_broken;    /* on_error = accept: a broken rule is absent */
	int trail_notfound; /* the trail lists the keys not found too (they
	                       are most keys: redmilterctl check -v only) */
	int grey_bits4, grey_bits6; /* greylist_netmask */
};

/* What the MTA told us; any pointer may be NULL when it told nothing. */
struct request {
	enum policy_stage stage;
	const char *client_name; /* verified hostname, or "unknown" */
	const char *client_addr; /* textual IPv4 or IPv6 address */
	const char *helo;
	const char *auth;      /* SASL login */
	const char *sender;    /* MAIL FROM argument as given */
	const char *recipient; /* RCPT TO argument as given */
	unsigned limits;       /* 1u << LIMIT_*: the limit rules to find */
	int limits_only;       /* find those and look at no table */
	unsigned tables_extra; /* 1u << TABLE_*: also walked at RCPT (the
	                          tables of a stage that met a GREYLIST) */
	int grey_peek;         /* say what greylisting would do, write
	                          nothing (redmilterctl check) */
};

void policy_conf_init(struct policy_conf *, const struct conf *);
unsigned policy_stage_tables(const struct policy_conf *, enum policy_stage);
int policy_eval(const struct policy_conf *, const struct request *,
                struct store *, struct verdict *, char *, size_t);

#endif
