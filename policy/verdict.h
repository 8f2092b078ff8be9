/*
 * verdict - what a decision decided (policy.h), and the trail of the keys
 * it tried, for redmilterctl check -v and the milter's log.
 *
 * A verdict owns everything it points to; verdict_free() releases it and
 * is a no-op on a zeroed verdict.  verdict_copy() makes dst a deep copy of
 * src (dst is overwritten, not freed).  verdict_type_name() and
 * verdict_trail_name() give static names.  Thread-safe.
 */
#ifndef VERDICT_H
#define VERDICT_H

#include <stddef.h>

#include "action.h"
#include "greylist.h"
#include "limit.h"
#include "table.h"

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
	TRAIL_NOTFOUND,  /* no rule under this key */
	TRAIL_DECIDED,   /* this rule decided */
	TRAIL_WARN,      /* a WARN rule: log it, go on */
	TRAIL_DUNNO,     /* DUNNO: the rest of this table is skipped */
	TRAIL_BROKEN,    /* a rule that breaks the reply rules */
	TRAIL_MALFORMED, /* an address that yields no key */
	TRAIL_GREYLIST   /* a GREYLIST rule passed: the note says why */
};

struct trail_entry {
	enum table table;
	enum trail_what what;
	char *key;   /* without prefix and table: "bob@example.com" */
	char *value; /* the rule as stored, sanitised; NULL if none */
	char *note;  /* WARN text, or what is wrong */
};

/*
 * The limit rule that one subject's ladder found (policy.h, request's
 * limits): the first key of the ladder that holds a rule.
 */
struct limit_hit {
	char *key;        /* "*", "192.0.2.0/24"...; NULL: no rule */
	char *value;      /* the rule as stored, sanitised, for messages */
	struct limit lim; /* parsed, when not broken */
	int broken;       /* the value breaks the grammar: why says how */
	char why[200];
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
	struct limit_hit limit[LIMIT_SUBJECTS];
	/*
	 * GREYLIST (greylist.h): grey_later, a rule met before RCPT, whose
	 * stage is then decided at RCPT; greylisted, the REPLY is its delay
	 * (grey_seconds to wait); grey_delayed, a first pass after that
	 * many seconds (the X-Greylist header's), else -1.
	 */
	int grey_later;
	int greylisted;
	long long grey_seconds;
	long long grey_delayed;
	unsigned grey_met[GREY_CLIENT + 1]; /* GREYLIST rules met, by result */
};

void verdict_free(struct verdict *);
void verdict_copy(struct verdict *, const struct verdict *);
const char *verdict_type_name(enum verdict_type);
const char *verdict_trail_name(enum trail_what);

#endif
