/*
 * engine - the decision for one recipient (or one stage), from the rules of
 * every table (SPEC.md "Precedence").
 *
 * policy_eval() builds the candidate keys of every table the stage looks at,
 * fetches them all with one store mget() (one round trip), and walks the
 * tables in precedence order, each table's keys in order.  It has no
 * globals, never logs, never exits, and does I/O only through the store.
 *
 * It returns 0 and fills the verdict, or -1 only for a caller's error (bad
 * arguments), with err set.  A store failure is not an error of the call:
 * it is the verdict VERDICT_ERR_STORE.  The verdict owns everything it
 * points to; verdict_free() releases it and is a no-op on a zeroed verdict.
 * verdict_copy() makes dst a deep copy of src (dst is overwritten, not
 * freed).
 * Thread-safe as far as the store is.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

#include "action.h"
#include "store.h"
#include "table.h"

enum policy_stage { STAGE_CONNECT, STAGE_HELO, STAGE_MAIL, STAGE_RCPT };

struct policy_conf {
	const char *prefix; /* "redmilter:" */
	const char *delims; /* recipient_delimiter: "+"; "" for none */
	int delay_checks;   /* evaluate every table at RCPT */
	int skip_broken;    /* on_error = accept: a broken rule is absent */
	int trail_notfound; /* the trail lists the keys not found too (they
	                       are most keys: redmilterctl check -v only) */
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
};

enum verdict_type {
	VERDICT_NONE,   /* no rule decided */
	VERDICT_ACCEPT, /* OK */
	VERDICT_REPLY,  /* a 4xx or 5xx reply */
	VERDICT_DISCARD,
	VERDICT_HOLD,
	VERDICT_ERR_STORE, /* the store failed: on_error */
	VERDICT_ERR_CONFIG /* a broken rule was reached: on_error */
};

enum trail_what {
	TRAIL_NOTFOUND, /* no rule under this key */
	TRAIL_DECIDED,  /* this rule decided */
	TRAIL_WARN,     /* a WARN rule: log it, go on */
	TRAIL_DUNNO,    /* DUNNO: the rest of this table is skipped */
	TRAIL_BROKEN,   /* a rule that breaks the reply rules */
	TRAIL_MALFORMED /* an address that yields no key */
};

struct trail_entry {
	enum table table;
	enum trail_what what;
	char *key;   /* without prefix and table: "bob@example.com" */
	char *value; /* the rule as stored, sanitised; NULL if none */
	char *note;  /* WARN text, or what is wrong */
};

struct verdict {
	enum verdict_type type;
	enum table table;     /* deciding rule, for ACCEPT .. HOLD */
	char *key;            /* deciding rule's key */
	struct action action; /* deciding rule, parsed */
	char err[256];        /* ERR_STORE, ERR_CONFIG: what failed; for
	                         ERR_CONFIG table and key say where */
	struct trail_entry *trail;
	size_t ntrail;
	size_t keys_looked_up; /* keys sent to the store */
};

int policy_eval(const struct policy_conf *, const struct request *,
                struct store *, struct verdict *, char *, size_t);
void verdict_free(struct verdict *);
void verdict_copy(struct verdict *, const struct verdict *);
const char *verdict_type_name(enum verdict_type);
const char *trail_what_name(enum trail_what);

#endif
