/*
 * rule - one rule as an administrator writes it.  See rule.h.
 *
 * The checks here are the ones that make a rule reachable and renderable;
 * the grammar of actions is action.c's and the reply rules are reply.c's,
 * and rule_action_parse() is the one way to read a stored value, so that
 * redmilterctl, lint and the milter can never disagree about them.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "action.h"
#include "cidr.h"
#include "limit.h"
#include "rule.h"
#include "str.h"
#include "xmalloc.h"

/* blank - a space or a tab */
static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* prefix_bits - "/N" in range, or -1 */
static long
prefix_bits(const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/*
 * network_bits - the prefix length after the '/' of a network key
 *
 * Returns it, or -1 with the problem in err: not a number, the address
 * itself (/32, /128), or shorter than lookups try.
 */
static long
network_bits(int af, const unsigned char *ip, const char *s, char *err,
             size_t errlen)
{
	long max = af == AF_INET ? 32 : 128, bits = prefix_bits(s, 0, max);
	char canon[CIDR_TEXT_MAX];

	if (bits == max) {
		(void)cidr_text(af, ip, -1, canon);
		return errbuf_set(err, errlen,
		                  "/%ld is the address itself: write %s", bits,
		                  canon);
	}
	if (bits < (af == AF_INET ? 8 : 16))
		return errbuf_set(err, errlen, "prefix length must be %s",
		                  af == AF_INET ? "8 to 31" : "16 to 127");
	return bits;
}

/*
 * client_check - an address or network as lookups write it
 *
 * Lookups try the address in inet_ntop() form and networks /31../8 (IPv4)
 * or /127../16 (IPv6) with the host bits cleared (cidr.h); anything else is
 * never tried.  Keys that are not addresses (host names) pass.
 */
static int
client_check(const char *key, char *err, size_t errlen)
{
	unsigned char ip[sizeof(struct in6_addr)];
	char addr[INET6_ADDRSTRLEN + 1], canon[CIDR_TEXT_MAX];
	const char *slash = strchr(key, '/');
	size_t alen = slash != NULL ? (size_t)(slash - key) : strlen(key);
	int af;
	long bits = -1;

	if (alen >= sizeof addr)
		return slash != NULL ? errbuf_set(err, errlen, "not a network")
		                     : 0;
	memcpy(addr, key, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, ip) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, addr, ip) == 1)
		af = AF_INET6;
	else
		return slash != NULL ? errbuf_set(err, errlen, "not a network")
		                     : 0;
	if (slash != NULL &&
	    (bits = network_bits(af, ip, slash + 1, err, errlen)) < 0)
		return -1;
	(void)cidr_text(af, ip, (int)bits, canon);
	if (strcmp(canon, key) == 0)
		return 0;
	return errbuf_set(err, errlen, "not the %s's canonical form, write %s",
	                  slash != NULL ? "network" : "address", canon);
}

/*
 * limit_key - a limit rule's key, "SUBJECT:KEY", KEY being "*" or a key of
 * the subject's table, folded into out
 */
static int
limit_key(const char *key, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *colon = strchr(key, ':');
	int s;
	size_t sl;

	if (colon == NULL ||
	    (s = limit_subject_from_name(key, (size_t)(colon - key))) < 0)
		return errbuf_set(err, errlen,
		                  "a limit key is SUBJECT:KEY, SUBJECT being "
		                  "client, auth, sender or recipient");
	sl = (size_t)(colon - key) + 1;
	if (outlen <= sl)
		return errbuf_set(err, errlen, "key longer than %d bytes",
		                  RULE_KEY_MAX);
	memcpy(out, limit_subject_name((enum limit_subject)s), sl - 1);
	out[sl - 1] = ':';
	out[sl] = '\0';
	if (strcmp(colon + 1, "*") == 0) {
		str_copy(out + sl, "*", outlen - sl);
		return 0;
	}
	return rule_key_check(limit_subject_table((enum limit_subject)s),
	                      colon + 1, out + sl, outlen - sl, err, errlen);
}

/* rule_key_check - fold a key and check that lookups can reach it */
int
rule_key_check(enum table t, const char *key, char *out, size_t outlen,
               char *err, size_t errlen)
{
	size_t len = strlen(key), i;
	const char *comma;

	if (t == TABLE_LIMIT)
		return limit_key(key, out, outlen, err, errlen);
	if (len == 0)
		return errbuf_set(err, errlen, "empty key");
	if (len > RULE_KEY_MAX || len >= outlen)
		return errbuf_set(err, errlen, "key longer than %d bytes",
		                  RULE_KEY_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c <= 0x20 || c == 0x7f) {
			errbuf_set(err, errlen,
			           "blank or control character in "
			           "key");
			return -1;
		}
		out[i] =
		    (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	out[len] = '\0';
	if (t == TABLE_PAIR && ((comma = strchr(out, ',')) == NULL ||
	                        comma == out || comma[1] == '\0')) {
		errbuf_set(err, errlen, "a pair key is SENDER,RECIPIENT");
		return -1;
	}
	if (t == TABLE_CLIENT)
		return client_check(out, err, errlen);
	return 0;
}

/*
 * rule_action_parse - a value as the action of a rule of table t
 *
 * action_parse() checks that the reply of a REPLY action renders in every
 * table, so nothing more is needed for one; the table is there for actions
 * that some tables refuse.  With a NULL out, the action is only checked.
 * A limit's value is no action: it is only checked, with limit_parse()
 * (the limit table's readers parse it themselves).
 */
int
rule_action_parse(enum table t, const char *val, size_t len, struct action *out,
                  char *err, size_t errlen)
{
	struct action a;
	struct limit l;

	if (t == TABLE_LIMIT) {
		if (out != NULL)
			return errbuf_set(err, errlen,
			                  "a limit rule is no action");
		if (limit_parse(val, len, &l, err, errlen) != 0)
			return -1;
		limit_free(&l);
		return 0;
	}
	if (action_parse(val, len, &a, err, errlen) != 0)
		return -1;
	if (a.type == ACTION_GREYLIST && t == TABLE_AUTH) {
		action_free(&a);
		return errbuf_set(err, errlen,
		                  "GREYLIST is not for the auth table: a "
		                  "session with a login is never greylisted");
	}
	if (out != NULL)
		*out = a;
	else
		action_free(&a);
	return 0;
}

/* rule_parse_ttl - seconds, 1 .. RULE_TTL_MAX */
int
rule_parse_ttl(const char *s, long long *ttl)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > RULE_TTL_MAX)
		return -1;
	*ttl = v;
	return 0;
}

/* word - the next blank-separated word: start and length; 0 at end */
static size_t
word(const char **p, const char **start)
{
	const char *s = *p;

	while (blank(*s))
		s++;
	*start = s;
	while (*s != '\0' && !blank(*s))
		s++;
	*p = s;
	return (size_t)(s - *start);
}

/* take_word - a copy of the next word, or NULL at the end of the line */
static char *
take_word(const char **p)
{
	const char *start;
	size_t n = word(p, &start);

	return n == 0 ? NULL : xmemdup(start, n);
}

/* parse_words - "[-t SECONDS] TABLE KEY" then the rest as the action */
static int
parse_words(const char **p, struct rule *r, char *err, size_t errlen)
{
	char *w = take_word(p), *key;
	char folded[RULE_KEY_MAX + 1];
	int t;

	if (w != NULL && strcmp(w, "-t") == 0) {
		free(w);
		w = take_word(p);
		if (w == NULL || rule_parse_ttl(w, &r->ttl) != 0) {
			free(w);
			return errbuf_set(err, errlen,
			                  "-t needs a number of "
			                  "seconds");
		}
		free(w);
		w = take_word(p);
	}
	if (w == NULL || (t = table_from_name(w)) < 0) {
		errbuf_set(err, errlen, "unknown table '%.40s'", w ? w : "");
		free(w);
		return -1;
	}
	free(w);
	r->table = (enum table)t;
	if ((key = take_word(p)) == NULL)
		return errbuf_set(err, errlen, "missing key");
	if (rule_key_check(r->table, key, folded, sizeof folded, err, errlen) !=
	    0) {
		free(key);
		return -1;
	}
	free(key);
	r->key = xstrdup(folded);
	return 0;
}

/* rule_parse_line - one line of an import file */
enum rule_line
rule_parse_line(const char *line, struct rule *r, char *err, size_t errlen)
{
	const char *p = line;
	size_t len;

	memset(r, 0, sizeof *r);
	while (blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return RULE_LINE_EMPTY;
	if (parse_words(&p, r, err, errlen) != 0) {
		rule_free(r);
		return RULE_LINE_BAD;
	}
	while (blank(*p))
		p++;
	len = strlen(p);
	while (len > 0 && blank(p[len - 1]))
		len--;
	if (len == 0) {
		errbuf_set(err, errlen, "missing action");
		rule_free(r);
		return RULE_LINE_BAD;
	}
	r->action = xmemdup(p, len);
	if (rule_action_parse(r->table, r->action, len, NULL, err, errlen) !=
	    0) {
		rule_free(r);
		return RULE_LINE_BAD;
	}
	return RULE_LINE_RULE;
}

/* rule_free - free what a parsed rule holds */
void
rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	free(r->key);
	free(r->action);
	r->key = r->action = NULL;
}
