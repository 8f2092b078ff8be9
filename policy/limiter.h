/*
 * limiter - the limits of one message, recipient by recipient
 * (redmilterctl(8), LIMITS, "Checking").
 *
 * A limiter belongs to one transaction.  limiter_wants() is the set of
 * limit subjects whose rules the next recipient's policy_eval() should find
 * (request's limits): all four until the message's client, login and sender
 * limits have been read, then the recipient's alone.  limiter_rcpt() takes
 * the verdict of a recipient the tables accepted and says whether a limit
 * refuses it: the first time, the counters of the client, login and sender
 * are read from Redis in one round trip; a recipient with a limit of its
 * own not seen yet in this message costs one more; the rest is arithmetic
 * on what was read and what this message has accepted so far.  Nothing is
 * written until limiter_commit(), at the end of the message, which adds
 * the message and its accepted recipients to every counter concerned in one
 * round trip.  limiter_accept() says that a recipient was accepted:
 * checked, the one limiter_rcpt() was last given (whatever it said: mode =
 * test, on_error = accept); not checked, one it was not given (a failed
 * lookup that on_error accepted, a refusal that mode = test let through),
 * which counts for the message's limits alone.  limiter_reset() forgets
 * the message.
 *
 * The outcome: LIMITER_PASS; LIMITER_REFUSE with the reply, and the
 * subject, rule, term and count that refused; LIMITER_WARN when only WARN
 * rules are over (each in warn[]); LIMITER_ERR_STORE (Redis failed) and
 * LIMITER_ERR_CONFIG (a broken limit rule) with err, for on_error.
 * limiter_describe() writes "auth alice@example.com: 3 msgs/4s, 3
 * counted" for a log line.  limiter_outcome_free() frees the reply.
 * Not thread-safe: one limiter, one transaction, one thread at a time.
 */
#ifndef LIMITER_H
#define LIMITER_H

#include <stddef.h>

#include "limit.h"
#include "policy.h"
#include "reply.h"
#include "store.h"
#include "verdict.h"

struct limiter_entry {
	enum limit_subject subject;
	char *rule;  /* the ladder's key that holds the rule: "*" */
	char *value; /* what it counts for (a login, an address) */
	char *key;   /* its counter in Redis */
	struct limit lim;
	long long count[LIMIT_TERMS_MAX]; /* read from Redis */
	long long pending;                /* recipient limits: this message's */
};

struct limiter {
	struct limiter_entry *e;
	size_t n;
	size_t nmsg;        /* e[0 .. nmsg): the client, login and sender's */
	int loaded;         /* those have been read */
	long long accepted; /* recipients of this message accepted */
	long rcpt_entry;    /* the last recipient's entry, or -1 */
	char *rcpt_value;   /* the last recipient's value, or NULL */
};

enum limiter_result {
	LIMITER_PASS,
	LIMITER_REFUSE,
	LIMITER_WARN,
	LIMITER_ERR_STORE,
	LIMITER_ERR_CONFIG
};

/*
 * One term over its limit: the entry, the term, the count it has, and the
 * value it was over for (a shared rule's entry counts for many).
 */
struct limiter_over {
	const struct limiter_entry *entry;
	const char *value;
	size_t term;
	long long count;
};

struct limiter_outcome {
	enum limiter_result result;
	struct limiter_over over; /* REFUSE */
	struct reply reply;       /* REFUSE */
	struct limiter_over warn[LIMIT_SUBJECTS];
	size_t nwarn;
	enum limit_subject subject; /* ERR_CONFIG: the broken rule's */
	char rule[200];             /* ERR_CONFIG: its key */
	char err[256];
};

void limiter_init(struct limiter *);
void limiter_reset(struct limiter *);
unsigned limiter_wants(const struct limiter *);
void limiter_rcpt(struct limiter *, const struct policy_conf *, struct store *,
                  const struct request *, const struct verdict *,
                  struct limiter_outcome *);
void limiter_accept(struct limiter *, int checked);
enum store_status limiter_commit(struct limiter *, struct store *, char *,
                                 size_t);
void limiter_describe(const struct limiter_over *, char *, size_t);
void limiter_outcome_free(struct limiter_outcome *);

#endif
