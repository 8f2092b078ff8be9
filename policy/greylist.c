/*
 * greylist - the greylisting script and the triplet.  See greylist.h.
 *
 * Public: greylist_triplet(), greylist_check(), greylist_pass(),
 * greylist_reply(),
 * greylist_state_name(), greylist_key(), greylist_client_key().
 *
 * The script's ARGV: the operation ("check", "peek", "pass"), the delay,
 * the retry window and the keeping time in milliseconds, the passes that
 * whitelist a network, then the triplet's net, from and to (kept in the
 * hash for redmilterctl greylist list), and for a pass with an audit
 * entry (greylist_pass()) the user; its KEYS: the triplet's hash, the
 * client's, and for that entry the audit stream.  It answers {state,
 * seconds}.
 * An early retry does not move the first attempt: the window is 2 days
 * from it, as postgrey's is.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "errbuf.h"
#include "greylist.h"
#include "schema.h"
#include "str.h"
#include "xmalloc.h"

static const char script_body[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local op = ARGV[1]\n"
    "local write = op ~= 'peek'\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local delay, window = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local keep, many = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local tk, ck = KEYS[1], KEYS[2]\n"
    "local function seen(first)\n"
    "  if write then\n"
    "    redis.call('HSET', ck, 'last', now, 'net', ARGV[6])\n"
    "    redis.call('PEXPIRE', ck, keep)\n"
    "  end\n"
    "end\n"
    "if op ~= 'pass' and\n"
    "    tonumber(redis.call('HGET', ck, 'n') or '0') >= many then\n"
    "  seen()\n"
    "  return {5, 0}\n"
    "end\n"
    "local h = redis.call('HMGET', tk, 'first', 'pass')\n"
    "local first, pass = tonumber(h[1]), tonumber(h[2])\n"
    "if pass and op ~= 'pass' then\n"
    "  if write then\n"
    "    redis.call('HSET', tk, 'last', now)\n"
    "    redis.call('PEXPIRE', tk, keep)\n"
    "  end\n"
    "  seen()\n"
    "  return {4, 0}\n"
    "end\n"
    "if op == 'pass' or (first and now - first >= delay) then\n"
    "  first = first or now\n"
    "  if write then\n"
    "    redis.call('HSET', tk, 'first', first, 'pass', now, 'last', now,\n"
    "               'net', ARGV[6], 'from', ARGV[7], 'to', ARGV[8])\n"
    "    redis.call('PEXPIRE', tk, keep)\n"
    "    if not pass then redis.call('HINCRBY', ck, 'n', 1) end\n"
    "    if KEYS[3] then\n"
    "      local e = {'user', ARGV[9], 'cmd', 'pass', 'table', 'greylist',\n"
    "                 'key', ARGV[6] .. ',' .. ARGV[7] .. ',' .. ARGV[8]}\n"
    "      if pass then e[#e + 1] = 'old'; e[#e + 1] = 'passed'\n"
    "      elseif h[1] then e[#e + 1] = 'old'; e[#e + 1] = 'pending' end\n"
    "      e[#e + 1] = 'new'; e[#e + 1] = 'passed'\n"
    "      redis.call('XADD', KEYS[3], 'MAXLEN', '~', '" SCHEMA_AUDIT_MAX "',\n"
    "                 '*', unpack(e))\n"
    "    end\n"
    "  end\n"
    "  seen()\n"
    "  return {3, math.floor((now - first) / 1000)}\n"
    "end\n"
    "if first then\n"
    "  return {2, math.max(1, math.ceil((delay - (now - first)) / 1000))}\n"
    "end\n"
    "if write then\n"
    "  redis.call('HSET', tk, 'first', now, 'last', now, 'net', ARGV[6],\n"
    "             'from', ARGV[7], 'to', ARGV[8])\n"
    "  redis.call('PEXPIRE', tk, window)\n"
    "end\n"
    "return {1, math.ceil(delay / 1000)}\n";

static struct store_script_text script = STORE_SCRIPT_TEXT(script_body);

static const char *const state_names[] = {
    [GREY_NEW] = "new",         [GREY_WAIT] = "wait",
    [GREY_FIRST_PASS] = "pass", [GREY_PASSED] = "passed",
    [GREY_CLIENT] = "client",
};

/* greylist_state_name - "new", "wait", "pass", "passed", "client" */
const char *
greylist_state_name(enum grey_state s)
{
	if ((unsigned)s >= sizeof state_names / sizeof state_names[0] ||
	    state_names[s] == NULL)
		return "?";
	return state_names[s];
}

/* address - an envelope address as the triplet holds it */
static int
address(char *out, size_t len, const char *text, const char *delims,
        const char *what, char *err, size_t errlen)
{
	char *v;

	if (text == NULL)
		return errbuf_set(err, errlen, "no %s", what);
	v = counter_value(LIMIT_SENDER, text, delims, err, errlen);
	if (v == NULL)
		return -1;
	str_copy(out, v, len);
	free(v);
	return 0;
}

/* greylist_triplet - the triplet of a recipient (greylist.h) */
int
greylist_triplet(struct grey_triplet *tr, const char *client_addr, int bits4,
                 int bits6, const char *sender, const char *recipient,
                 const char *delims, char *err, size_t errlen)
{
	unsigned char ip[16];
	int af;

	memset(tr, 0, sizeof *tr);
	if (client_addr == NULL)
		return errbuf_set(err, errlen, "no client address");
	if (inet_pton(AF_INET, client_addr, ip) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, client_addr, ip) == 1)
		af = AF_INET6;
	else
		return errbuf_set(err, errlen, "not an IP address: %.60s",
		                  client_addr);
	if (cidr_text(af, ip, af == AF_INET ? bits4 : bits6, tr->net) == NULL)
		return errbuf_set(err, errlen, "no address family");
	if (address(tr->from, sizeof tr->from, sender, delims, "sender", err,
	            errlen) != 0 ||
	    address(tr->to, sizeof tr->to, recipient, delims, "recipient", err,
	            errlen) != 0)
		return -1;
	return 0;
}

/* greylist_key - "<prefix>_grey:t:NET|FROM|TO", malloc'd */
char *
greylist_key(const char *prefix, const struct grey_triplet *tr)
{
	size_t n = strlen(tr->net) + strlen(tr->from) + strlen(tr->to) + 16;
	char *name = xmalloc(n), *k;

	(void)snprintf(name, n, "grey:t:%s|%s|%s", tr->net, tr->from, tr->to);
	k = schema_internal_key(prefix, name);
	free(name);
	return k;
}

/* greylist_client_key - "<prefix>_grey:c:NET", malloc'd */
char *
greylist_client_key(const char *prefix, const char *net)
{
	char name[CIDR_TEXT_MAX + 16];

	(void)snprintf(name, sizeof name, "grey:c:%s", net);
	return schema_internal_key(prefix, name);
}

/*
 * run - one run of the script; user not NULL: with an audit entry in
 * <prefix>_audit
 */
static enum store_status
run(struct store *st, const char *prefix, const struct grey_triplet *tr,
    enum grey_op op, long long delay, const char *user, struct grey_result *res,
    char *err, size_t errlen)
{
	static const char *const ops[] = {[GREY_CHECK] = "check",
	                                  [GREY_PEEK] = "peek",
	                                  [GREY_FORCE] = "pass"};
	struct store_script sc = {script_body, store_script_sha(&script),
	                          op == GREY_PEEK};
	char num[4][24];
	const char *keys[3], *args[9];
	long long out[3];
	size_t got = 0;
	enum store_status ret;

	keys[0] = greylist_key(prefix, tr);
	keys[1] = greylist_client_key(prefix, tr->net);
	keys[2] =
	    user != NULL ? schema_internal_key(prefix, SCHEMA_AUDIT) : NULL;
	(void)snprintf(num[0], sizeof num[0], "%lld", delay * 1000);
	(void)snprintf(num[1], sizeof num[1], "%lld", GREYLIST_WINDOW * 1000);
	(void)snprintf(num[2], sizeof num[2], "%lld", GREYLIST_KEEP * 1000);
	(void)snprintf(num[3], sizeof num[3], "%d", GREYLIST_CLIENT_PASSES);
	args[0] = ops[op];
	args[1] = num[0];
	args[2] = num[1];
	args[3] = num[2];
	args[4] = num[3];
	args[5] = tr->net;
	args[6] = tr->from;
	args[7] = tr->to;
	args[8] = user;
	ret = store_eval(st, &sc, keys, user != NULL ? 3 : 2, args,
	                 user != NULL ? 9 : 8, out, 3, &got, err, errlen);
	if (ret == STORE_OK &&
	    (got != 2 || out[0] < GREY_NEW || out[0] > GREY_CLIENT)) {
		errbuf_set(err, errlen,
		           "the greylisting script gave %zu values (%lld)", got,
		           got > 0 ? out[0] : 0);
		ret = STORE_ERR_CONFIG;
	}
	if (ret == STORE_OK) {
		res->state = (enum grey_state)out[0];
		res->seconds = out[1];
	}
	free((char *)keys[0]);
	free((char *)keys[1]);
	free((char *)keys[2]);
	return ret;
}

/* greylist_check - one run of the script (greylist.h) */
enum store_status
greylist_check(struct store *st, const char *prefix,
               const struct grey_triplet *tr, enum grey_op op, long long delay,
               struct grey_result *res, char *err, size_t errlen)
{
	return run(st, prefix, tr, op, delay, NULL, res, err, errlen);
}

/* greylist_pass - GREY_FORCE with an audit entry by user (greylist.h) */
enum store_status
greylist_pass(struct store *st, const char *prefix,
              const struct grey_triplet *tr, const char *user,
              struct grey_result *res, char *err, size_t errlen)
{
	return run(st, prefix, tr, GREY_FORCE, 0, user, res, err, errlen);
}

/* greylist_action - the REPLY a delayed GREYLIST answers: 451 4.7.1 */
void
greylist_action(struct action *a, long long seconds)
{
	char text[80];

	a->type = ACTION_REPLY;
	a->code = 451;
	(void)str_copy(a->enh, "4.7.1", sizeof a->enh);
	if (a->text == NULL) {
		(void)snprintf(text, sizeof text,
		               "Greylisted, please try again in %lld seconds",
		               seconds);
		a->text = xstrdup(text);
	}
}
