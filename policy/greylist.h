/*
 * greylist - the state of greylisting, kept in Redis (redmilterctl(8),
 * GREYLISTING).
 *
 * A triplet is the client's network (its address cut to the netmask's
 * bits: 24 and 64 by default), the sender and the recipient, each
 * lower-cased without its extension ("<>" stays "<>").  Its state is one
 * hash, "<prefix>_grey:t:NET|SENDER|RECIPIENT" (fields first, pass, last
 * in milliseconds of Redis's clock, and net, from, to as written): pending
 * for the retry window (2 days) from its first attempt, passed once
 * retried after the rule's delay and then kept 36 days from its last
 * pass.  A network's passed triplets are counted in "<prefix>_grey:c:NET"
 * (n, last); from GREYLIST_CLIENT_PASSES on, every triplet of it passes,
 * for 36 days from its last pass.  One Lua script decides and writes, so
 * that two milters seeing a triplet's first attempt at once start one
 * delay, not two; the time is Redis's own (TIME), shared by every milter.
 *
 * greylist_triplet() fills a triplet from the client address and the
 * envelope (-1 and err when the address is none: an unknown client is
 * not greylisted).  greylist_check() runs the script: GREY_CHECK decides
 * and writes, GREY_PEEK only says what a check would say (redmilterctl
 * check), GREY_FORCE lets the triplet pass now (redmilterctl greylist
 * pass).  greylist_pass() is GREY_FORCE that also appends, in the same
 * script, the audit entry of user's "greylist pass" to <prefix>_audit
 * (redmilterctl(8), AUDIT TRAIL).  Both fill a result: what happened and its
 * seconds (to wait, or delayed).  greylist_action() turns a GREYLIST action
 * into the REPLY of a delayed recipient: 451 4.7.1 with the rule's text, or
 * "Greylisted, please try again in N seconds".
 * Thread-safe as far as the store is.
 */
#ifndef GREYLIST_H
#define GREYLIST_H

#include <stddef.h>

#include "action.h"
#include "cidr.h"
#include "store.h"

#define GREYLIST_WINDOW (2LL * 86400) /* a pending triplet's retry window */
#define GREYLIST_KEEP (36LL * 86400)  /* a passed one's, from its last pass */
#define GREYLIST_CLIENT_PASSES 5      /* passed triplets that whitelist */
#define GREYLIST_ADDR_MAX 600

enum grey_op { GREY_CHECK, GREY_PEEK, GREY_FORCE };

enum grey_state {
	GREY_NEW = 1,    /* first attempt: wait the delay */
	GREY_WAIT,       /* retried early: wait what is left */
	GREY_FIRST_PASS, /* retried after the delay: passes, was delayed */
	GREY_PASSED,     /* passed before */
	GREY_CLIENT      /* the client's network is whitelisted */
};

struct grey_triplet {
	char net[CIDR_TEXT_MAX];
	char from[GREYLIST_ADDR_MAX + 1];
	char to[GREYLIST_ADDR_MAX + 1];
};

struct grey_result {
	enum grey_state state;
	long long seconds; /* NEW, WAIT: to wait; FIRST_PASS: delayed */
};

int greylist_triplet(struct grey_triplet *, const char *client_addr, int bits4,
                     int bits6, const char *sender, const char *recipient,
                     const char *delims, char *err, size_t errlen);
enum store_status greylist_check(struct store *, const char *prefix,
                                 const struct grey_triplet *, enum grey_op,
                                 long long delay, struct grey_result *,
                                 char *err, size_t errlen);
enum store_status greylist_pass(struct store *, const char *prefix,
                                const struct grey_triplet *, const char *user,
                                struct grey_result *, char *err, size_t errlen);
void greylist_action(struct action *, long long seconds);
const char *greylist_state_name(enum grey_state);
char *greylist_key(const char *prefix, const struct grey_triplet *);
char *greylist_client_key(const char *prefix, const char *net);

#endif
