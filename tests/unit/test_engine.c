/*
 * test_engine - precedence, delay_checks, WARN/DUNNO/OK, broken rules and
 * store failures (policy/policy.c on policy/store/store_mem.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "request.h"
#include "policy.h"
#include "reply.h"
#include "store_mem.h"

static struct store *store;
static struct policy_conf conf;

static void
setup(void)
{
	store = store_mem_new();
	conf.prefix = "redmilter:";
	conf.delims = "+";
	conf.delay_checks = 1;
	conf.skip_broken = 0;
	conf.trail_notfound = 1;
}

static void
teardown(void)
{
	store->close(store);
}

/* rule - store "<prefix><table>:<key>" = value */
static void
rule(const char *table, const char *key, const char *value)
{
	char k[1024], err[128];

	snprintf(k, sizeof k, "redmilter:%s:%s", table, key);
	ck_assert_int_eq(
	    store->put(store, k, value, strlen(value), 0, err, sizeof err),
	    STORE_OK);
}

/* The SMTP session of most tests. */
static struct request
rcpt(const char *sender, const char *recipient)
{
	return request_rcpt("mail.spammer.example", sender, recipient);
}

/* eval - evaluate, and return the SMTP reply text (or a verdict name) */
static char *
eval(const struct request *req, struct verdict *v)
{
	char err[256];
	struct reply r;
	char *s;

	ck_assert_int_eq(policy_eval(&conf, req, store, v, err, sizeof err), 0);
	if (v->type != VERDICT_REPLY)
		return strdup(verdict_type_name(v->type));
	ck_assert_int_eq(
	    action_reply(&v->action, v->table, &r, err, sizeof err), 0);
	s = reply_smtp(&r);
	reply_free(&r);
	return s;
}

/* expect - evaluate and compare the reply, the deciding table and key */
static void
expect(const struct request *req, const char *reply, const char *table,
       const char *key)
{
	struct verdict v;
	char *got = eval(req, &v);

	ck_assert_str_eq(got, reply);
	if (table != NULL) {
		ck_assert_str_eq(table_name(v.table), table);
		ck_assert_str_eq(v.key, key);
	}
	free(got);
	verdict_free(&v);
}

START_TEST(engine_spec_abuse_ok_beats_blocked_sender)
{
	struct request a =
	    rcpt("<spammer@spammer.example>", "<abuse@example.com>");
	struct request o =
	    rcpt("<spammer@spammer.example>", "<info@example.com>");

	rule("recipient", "abuse@example.com", "OK");
	rule("sender", "spammer.example", "REJECT Go away");
	expect(&a, "accept", "recipient", "abuse@example.com");
	expect(&o, "550 5.7.1 Go away", "sender", "spammer.example");
}
END_TEST

START_TEST(engine_spec_mailbox_full_beats_sender_ok)
{
	struct request b =
	    rcpt("<friend@partner.example>", "<bob@example.com>");
	struct request c =
	    rcpt("<friend@partner.example>", "<carol@example.com>");

	rule("recipient", "bob@example.com", "552 5.2.2 Mailbox full");
	rule("sender", "partner.example", "OK");
	expect(&b, "552 5.2.2 Mailbox full", "recipient", "bob@example.com");
	expect(&c, "accept", "sender", "partner.example");
}
END_TEST

START_TEST(engine_spec_pair_rules)
{
	struct request n = rcpt("<>", "<noreply@example.com>");
	struct request p =
	    rcpt("<bot@spammer.example>", "<postmaster@example.com>");

	rule("pair", "<>,noreply@example.com", "OK");
	rule("pair", "spammer.example,postmaster@example.com",
	     "554 5.7.1 Not from you");
	rule("sender", "<>", "REJECT No bounces here");
	rule("recipient", "postmaster@example.com", "OK");
	expect(&n, "accept", "pair", "<>,noreply@example.com");
	expect(&p, "554 5.7.1 Not from you", "pair",
	       "spammer.example,postmaster@example.com");
}
END_TEST

START_TEST(engine_spec_examples_verbatim)
{
	struct request b = rcpt("<a@b.example>", "<Bob@Example.com>");
	struct request s = rcpt("<x@Spammer.Example>", "<u@example.com>");

	rule("recipient", "bob@example.com", "552 5.2.2 Mailbox full");
	rule("sender", "spammer.example", "REJECT Go away");
	expect(&b, "552 5.2.2 Mailbox full", "recipient", "bob@example.com");
	expect(&s, "550 5.7.1 Go away", "sender", "spammer.example");
}
END_TEST

START_TEST(engine_precedence_order_of_tables)
{
	/* Each table in turn answers; a more specific one always wins. */
	static const char *const tables[] = {"client", "helo",      "sender",
	                                     "auth",   "recipient", "pair"};
	static const char *const keys[] = {
	    "192.0.2.7", "mail.spammer.example", "<>",
	    "alice",     "bob@example.com",      "<>,bob@example.com"};
	struct request r = rcpt("<>", "<bob@example.com>");
	char reply[64], value[64];
	size_t i;

	r.auth = "Alice";
	for (i = 0; i < 6; i++) {
		snprintf(value, sizeof value, "%u %s", 551 + (unsigned)i % 3,
		         tables[i]);
		rule(tables[i], keys[i], value);
		snprintf(reply, sizeof reply, "%u 5.%s %s",
		         551 + (unsigned)i % 3,
		         i % 3 == 0   ? "1.6"
		         : i % 3 == 1 ? "2.2"
		                      : "1.3",
		         tables[i]);
		if (i % 3 == 2 && strcmp(tables[i], "pair") != 0 &&
		    strcmp(tables[i], "recipient") != 0)
			snprintf(reply, sizeof reply, "553 5.1.7 %s",
			         tables[i]);
		expect(&r, reply, tables[i], keys[i]);
	}
}
END_TEST

START_TEST(engine_catalogue_defaults_depend_on_table)
{
	struct request r = rcpt("<x@sender.example>", "<y@example.com>");

	rule("sender", "sender.example", "550");
	expect(&r, "550 5.7.1 Rejected by policy", "sender", "sender.example");
	rule("recipient", "y@example.com", "550");
	expect(&r, "550 5.1.1 Mailbox not found", "recipient", "y@example.com");
	rule("pair", "sender.example,y@example.com", "553");
	expect(&r, "553 5.1.3 Mailbox name invalid", "pair",
	       "sender.example,y@example.com");
}
END_TEST

START_TEST(engine_first_key_in_table_wins)
{
	struct request r = rcpt("<x@s.example>", "<John+Tag@Mail.Example.com>");

	rule("recipient", "john@", "552");
	expect(&r, "552 5.2.2 Mailbox full", "recipient", "john@");
	rule("recipient", ".com", "551");
	expect(&r, "551 5.1.6 User not local", "recipient", ".com");
	rule("recipient", "mail.example.com", "450");
	expect(&r, "450 4.2.1 Mailbox unavailable", "recipient",
	       "mail.example.com");
	rule("recipient", "john@mail.example.com", "452");
	expect(&r, "452 4.2.2 Mailbox full, try again later", "recipient",
	       "john@mail.example.com");
	rule("recipient", "john+tag@mail.example.com", "DEFER");
	expect(&r, "450 4.7.1 Try again later", "recipient",
	       "john+tag@mail.example.com");
}
END_TEST

START_TEST(engine_leading_dot_matches_subdomains_only)
{
	struct request sub = rcpt("<x@a.spam.example>", "<u@example.com>");
	struct request bare = rcpt("<x@spam.example>", "<u@example.com>");

	rule("sender", ".spam.example", "REJECT");
	expect(&sub, "550 5.7.1 Access denied", "sender", ".spam.example");
	expect(&bare, "none", NULL, NULL);
}
END_TEST

START_TEST(engine_warn_logs_and_keeps_looking)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	struct verdict v;
	char *got;

	rule("recipient", "u@example.com", "WARN first");
	rule("recipient", "example.com", "WARN second");
	rule("recipient", "u@", "554 last");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "554 5.7.1 last");
	/* 16 pair keys (4 x 4) not found, then the recipient table */
	ck_assert_uint_eq(v.ntrail, 16 + 4);
	ck_assert_int_eq(v.trail[15].what, TRAIL_NOTFOUND);
	ck_assert_int_eq(v.trail[15].table, TABLE_PAIR);
	ck_assert_int_eq(v.trail[16].what, TRAIL_WARN);
	ck_assert_str_eq(v.trail[16].note, "first");
	ck_assert_int_eq(v.trail[17].what, TRAIL_WARN);
	ck_assert_str_eq(v.trail[17].note, "second");
	ck_assert_int_eq(v.trail[18].what, TRAIL_NOTFOUND);
	ck_assert_str_eq(v.trail[18].key, ".com");
	ck_assert_int_eq(v.trail[19].what, TRAIL_DECIDED);
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_dunno_stops_table_not_walk)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");

	rule("recipient", "u@example.com", "DUNNO");
	rule("recipient", "example.com", "REJECT domain");
	rule("sender", "s.example", "REJECT sender");
	expect(&r, "550 5.7.1 sender", "sender", "s.example");
}
END_TEST

START_TEST(engine_ok_stops_lower_tables)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");

	rule("client", "192.0.2.0/24", "REJECT client");
	rule("helo", ".spammer.example", "REJECT helo");
	rule("sender", "s.example", "OK");
	expect(&r, "accept", "sender", "s.example");
	rule("recipient", "example.com", "REJECT higher");
	expect(&r, "550 5.7.1 higher", "recipient", "example.com");
}
END_TEST

START_TEST(engine_discard_and_hold)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	struct verdict v;
	char *got;

	rule("recipient", "u@example.com", "DISCARD quietly");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "discard");
	ck_assert_int_eq(v.table, TABLE_RECIPIENT);
	ck_assert_str_eq(v.action.text, "quietly");
	free(got);
	verdict_free(&v);
	rule("recipient", "u@example.com", "DUNNO");
	rule("sender", "s.example", "HOLD look at it");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "hold");
	ck_assert_int_eq(v.table, TABLE_SENDER);
	ck_assert_str_eq(v.action.text, "look at it");
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_broken_rule_is_config_failure)
{
	struct request r = rcpt("<x@s.example>", "<abuse@example.com>");
	struct verdict v;
	char *got;

	rule("recipient", "abuse@example.com", "OK thanks");
	rule("sender", "s.example", "REJECT");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "config-error");
	ck_assert_int_eq(v.table, TABLE_RECIPIENT);
	ck_assert_str_eq(v.key, "abuse@example.com");
	ck_assert_str_eq(v.err, "OK takes no text");
	ck_assert_uint_eq(v.ntrail, 16 + 1);
	ck_assert_int_eq(v.trail[16].what, TRAIL_BROKEN);
	ck_assert_str_eq(v.trail[16].value, "OK thanks");
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_broken_rule_skipped_with_on_error_accept)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	struct verdict v;
	char *got;

	conf.skip_broken = 1;
	rule("recipient", "u@example.com", "250 2.0.0 fine");
	rule("recipient", "example.com", "550 4.7.1 mismatch");
	rule("sender", "s.example", "REJECT sender");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "550 5.7.1 sender");
	ck_assert_int_eq(v.trail[16].what, TRAIL_BROKEN);
	ck_assert_int_eq(v.trail[17].what, TRAIL_BROKEN);
	ck_assert_int_eq(v.trail[18].what, TRAIL_NOTFOUND);
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_hostile_values_never_reach_a_reply)
{
	static const char *const values[] = {
	    "550 5.7.1 a\r\n250 ok",
	    "550 5.7.1 a\nb",
	    "250 Ok",
	    "354 go ahead",
	    "550 4.7.1 mismatch",
	    "OK\r\n",
	    "\x01\x02",
	    "REJECT \xff\xfe",
	    "",
	};
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	struct verdict v;
	size_t i;
	char *got;

	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		rule("recipient", "u@example.com", values[i]);
		got = eval(&r, &v);
		ck_assert_msg(strcmp(got, "config-error") == 0,
		              "value %zu gave %s", i, got);
		free(got);
		verdict_free(&v);
	}
	/* and a value with a NUL byte in the middle */
	{
		char err[64];

		ck_assert_int_eq(
		    store->put(store, "redmilter:recipient:u@example.com",
		               "REJECT a\0b", 10, 0, err, sizeof err),
		    STORE_OK);
		got = eval(&r, &v);
		ck_assert_str_eq(got, "config-error");
		free(got);
		verdict_free(&v);
	}
}
END_TEST

START_TEST(engine_store_failure_is_not_absence)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	struct verdict v;
	char *got;

	store_mem_fail(store, STORE_ERR_RETRY);
	got = eval(&r, &v);
	ck_assert_str_eq(got, "store-error");
	ck_assert_str_eq(v.err, "in-memory store: injected temporary failure");
	free(got);
	verdict_free(&v);
	store_mem_fail(store, STORE_OK);
	expect(&r, "none", NULL, NULL);
}
END_TEST

START_TEST(engine_one_store_round_trip_per_decision)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	struct verdict v;
	char *got;

	r.auth = "alice";
	got = eval(&r, &v);
	ck_assert_uint_eq(store_mem_calls(store), 1);
	/* every table's keys in that one call: pair (4 x 4), recipient 4,
	 * auth 1, sender 4, helo 3, client (name 3 + IP 25) */
	ck_assert_uint_eq(v.keys_looked_up, 16 + 4 + 1 + 4 + 3 + (3 + 25));
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_delay_checks_yes_waits_for_rcpt)
{
	struct request r = rcpt("<x@s.example>", NULL);
	struct verdict v;
	char *got;

	rule("client", "192.0.2.7", "REJECT");
	r.stage = STAGE_CONNECT;
	got = eval(&r, &v);
	ck_assert_str_eq(got, "none");
	free(got);
	verdict_free(&v);
	r.stage = STAGE_MAIL;
	got = eval(&r, &v);
	ck_assert_str_eq(got, "none");
	free(got);
	verdict_free(&v);
	ck_assert_uint_eq(store_mem_calls(store), 0);
}
END_TEST

START_TEST(engine_delay_checks_no_evaluates_each_stage)
{
	struct request r = rcpt("<x@s.example>", "<abuse@example.com>");

	conf.delay_checks = 0;
	rule("client", "192.0.2.0/24", "REJECT client");
	rule("helo", ".spammer.example", "554 helo");
	rule("sender", "s.example", "REJECT sender");
	rule("auth", "alice", "OK");
	rule("recipient", "abuse@example.com", "OK");
	r.stage = STAGE_CONNECT;
	expect(&r, "550 5.7.1 client", "client", "192.0.2.0/24");
	r.stage = STAGE_HELO;
	expect(&r, "554 5.7.1 helo", "helo", ".spammer.example");
	r.stage = STAGE_MAIL;
	expect(&r, "550 5.7.1 sender", "sender", "s.example");
	r.auth = "alice";
	expect(&r, "accept", "auth", "alice");
	/* At RCPT only pair and recipient: the sender's REJECT is not
	 * consulted again, and recipient OK is no exception for it. */
	r.stage = STAGE_RCPT;
	r.auth = NULL;
	expect(&r, "accept", "recipient", "abuse@example.com");
	r.recipient = "<other@example.com>";
	expect(&r, "none", NULL, NULL);
}
END_TEST

START_TEST(engine_malformed_recipient_leaves_other_tables)
{
	struct request r = rcpt("<x@s.example>", "<u@exa mple.com>");
	struct verdict v;
	char *got;

	rule("sender", "s.example", "REJECT sender");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "550 5.7.1 sender");
	ck_assert_int_eq(v.trail[0].what, TRAIL_MALFORMED);
	ck_assert_int_eq(v.trail[0].table, TABLE_RECIPIENT);
	ck_assert_str_eq(v.trail[0].note, "invalid character in domain");
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_malformed_address_keeps_its_domain_rules)
{
	static char sender[400];
	struct request r = rcpt(sender, "<x@example.com>");
	struct verdict v;
	char *got, local[301];

	memset(local, 'l', 300);
	local[300] = '\0';
	snprintf(sender, sizeof sender, "<%s@mx.Spammer.Example>", local);
	rule("sender", ".spammer.example", "REJECT Go away");
	rule("sender", "l@", "OK");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "550 5.7.1 Go away");
	ck_assert_int_eq(v.trail[0].what, TRAIL_MALFORMED);
	ck_assert_int_eq(v.trail[0].table, TABLE_SENDER);
	ck_assert_str_eq(v.trail[0].note, "local part is too long");
	ck_assert_str_eq(table_name(v.table), "sender");
	ck_assert_str_eq(v.key, ".spammer.example");
	free(got);
	verdict_free(&v);
	/* a recipient past the input limit, at a domain literal */
	r.sender = "<a@example.org>";
	r.recipient = "<\"a b\"@@[192.0.2.1]>";
	rule("recipient", "[192.0.2.1]", "550 5.1.1 No such host");
	expect(&r, "550 5.1.1 No such host", "recipient", "[192.0.2.1]");
}
END_TEST

/*
 * The keys of an ordinary envelope as the engine tried them before the key
 * limits (redmilter(8), "Key limits"): a domain of 6 labels keeps all its
 * parents, and the pair table is the whole product.
 */
START_TEST(engine_key_limits_leave_ordinary_envelopes_alone)
{
	static const char *const snd[] = {"john+tag@a.b.c.example.co.uk",
	                                  "john@a.b.c.example.co.uk",
	                                  "a.b.c.example.co.uk",
	                                  ".b.c.example.co.uk",
	                                  ".c.example.co.uk",
	                                  ".example.co.uk",
	                                  ".co.uk",
	                                  ".uk",
	                                  "john+tag@",
	                                  "john@"};
	static const char *const rcp[] = {"bob+x@mx.example.com",
	                                  "bob@mx.example.com",
	                                  "mx.example.com",
	                                  ".example.com",
	                                  ".com",
	                                  "bob+x@",
	                                  "bob@"};
	struct request r =
	    rcpt("<John+tag@a.b.c.Example.co.uk>", "<bob+x@mx.example.com>");
	struct verdict v;
	char *got, want[256];
	size_t i, j, n = 0;

	conf.delay_checks = 0;
	got = eval(&r, &v);
	ck_assert_uint_eq(v.ntrail, 10 * 7 + 7);
	for (i = 0; i < 7; i++)
		for (j = 0; j < 10; j++, n++) {
			snprintf(want, sizeof want, "%s,%s", snd[j], rcp[i]);
			ck_assert_int_eq(v.trail[n].table, TABLE_PAIR);
			ck_assert_str_eq(v.trail[n].key, want);
		}
	for (i = 0; i < 7; i++, n++) {
		ck_assert_int_eq(v.trail[n].table, TABLE_RECIPIENT);
		ck_assert_str_eq(v.trail[n].key, rcp[i]);
	}
	free(got);
	verdict_free(&v);
}
END_TEST

/* hostile - "<" local "@" name ">", name of labels "abcdefg." and "example" */
static char *
hostile(char *buf, size_t len, size_t local, size_t labels)
{
	size_t n = 0, i;

	buf[n++] = '<';
	for (i = 0; i < local; i++)
		buf[n++] = i == local / 2 ? '+' : 'a';
	buf[n++] = '@';
	for (i = 1; i < labels; i++, n += 8)
		memcpy(buf + n, "abcdefg.", 8);
	snprintf(buf + n, len - n, "example>");
	return buf;
}

/* keys_and_reply - the keys one request looked up, and its reply */
static size_t
keys_and_reply(const struct request *r, const char *reply)
{
	struct verdict v;
	char *got = eval(r, &v);
	size_t n = v.keys_looked_up;

	ck_assert_str_eq(got, reply);
	free(got);
	verdict_free(&v);
	return n;
}

START_TEST(engine_key_limits_bound_hostile_envelopes)
{
	static char snd[600], rcp[600];
	struct request r = rcpt(hostile(snd, sizeof snd, 256, 32),
	                        hostile(rcp, sizeof rcp, 12, 32));

	/* 514 and 270 bytes: each looked up by its domain, 1 + 5 keys: were
	 * 36 each, and a pair table of 1,296 */
	ck_assert_uint_eq(strlen(snd), 514);
	ck_assert_uint_eq(strlen(rcp), 270);
	conf.delay_checks = 0;
	ck_assert_uint_eq(keys_and_reply(&r, "none"), 6 * 6 + 6);
	/* the most an envelope can make at RCPT: 10 x 10 + 10 */
	r.sender = hostile(snd, sizeof snd, 62, 24);
	r.recipient = hostile(rcp, sizeof rcp, 62, 24);
	ck_assert_uint_eq(strlen(snd) - 2, 254);
	ck_assert_uint_eq(keys_and_reply(&r, "none"), 10 * 10 + 10);
	/* with delay_checks, a login and an IPv6 client of 32 labels */
	conf.delay_checks = 1;
	r.auth = "alice";
	r.client_addr = "2001:db8::1";
	r.client_name = r.helo =
	    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f";
	ck_assert_uint_eq(keys_and_reply(&r, "none"),
	                  110 + 1 + 10 + 9 + (9 + 113));
}
END_TEST

START_TEST(engine_key_limits_keep_the_rules_of_the_domain)
{
	static char snd[600], rcp[600];
	struct request r = rcpt(hostile(snd, sizeof snd, 256, 32),
	                        hostile(rcp, sizeof rcp, 12, 32));
	char key[600];

	conf.delay_checks = 0;
	rule("recipient", ".example", "550 5.1.1 No such user");
	expect(&r, "550 5.1.1 No such user", "recipient", ".example");
	rule("pair", ".abcdefg.example,.example", "554 5.7.1 Not from you");
	expect(&r, "554 5.7.1 Not from you", "pair",
	       ".abcdefg.example,.example");
	/* an address of RFC 5321's length keeps its own keys, first */
	r.sender = hostile(snd, sizeof snd, 62, 24);
	snprintf(key, sizeof key, "%.*s,.example", (int)strlen(snd) - 2,
	         snd + 1);
	rule("pair", key, "OK");
	expect(&r, "accept", "pair", key);
}
END_TEST

START_TEST(engine_trail_lists_every_key_tried_in_order)
{
	struct request r = rcpt("<>", "<u@example.com>");
	struct verdict v;
	char *got;

	r.client_name = "unknown";
	r.client_addr = "192.0.2.7";
	r.helo = NULL;
	rule("client", "192.0.2.0/24", "DEFER greylisted");
	got = eval(&r, &v);
	ck_assert_str_eq(got, "450 4.7.1 greylisted");
	/* pair 4, recipient 4, sender 1, client: the IP and /31 to /24 */
	ck_assert_uint_eq(v.ntrail, 4 + 4 + 1 + 1 + 8);
	ck_assert_str_eq(v.trail[0].key, "<>,u@example.com");
	ck_assert_str_eq(v.trail[4].key, "u@example.com");
	ck_assert_str_eq(v.trail[8].key, "<>");
	ck_assert_int_eq(v.trail[8].table, TABLE_SENDER);
	ck_assert_str_eq(v.trail[9].key, "192.0.2.7");
	ck_assert_str_eq(v.trail[17].key, "192.0.2.0/24");
	ck_assert_int_eq(v.trail[17].what, TRAIL_DECIDED);
	ck_assert_str_eq(v.trail[17].value, "DEFER greylisted");
	free(got);
	verdict_free(&v);
}
END_TEST

START_TEST(engine_rejects_bad_arguments_and_frees_zeroed_verdicts)
{
	struct verdict v;
	char err[64];

	ck_assert_int_eq(policy_eval(&conf, NULL, store, &v, err, sizeof err),
	                 -1);
	ck_assert_str_eq(err, "policy_eval: invalid arguments");
	verdict_free(&v);
	verdict_free(&v);
	verdict_free(NULL);
}
END_TEST

START_TEST(engine_prefix_separates_rule_sets)
{
	struct request r = rcpt("<x@s.example>", "<u@example.com>");
	char err[64];

	ck_assert_int_eq(store->put(store, "other:recipient:u@example.com",
	                            "REJECT", 6, 0, err, sizeof err),
	                 STORE_OK);
	expect(&r, "none", NULL, NULL);
	conf.prefix = "other:";
	expect(&r, "550 5.7.1 Access denied", "recipient", "u@example.com");
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, engine_spec_abuse_ok_beats_blocked_sender);
	tcase_add_test(tc, engine_spec_mailbox_full_beats_sender_ok);
	tcase_add_test(tc, engine_spec_pair_rules);
	tcase_add_test(tc, engine_spec_examples_verbatim);
	tcase_add_test(tc, engine_precedence_order_of_tables);
	tcase_add_test(tc, engine_catalogue_defaults_depend_on_table);
	tcase_add_test(tc, engine_first_key_in_table_wins);
	tcase_add_test(tc, engine_leading_dot_matches_subdomains_only);
	tcase_add_test(tc, engine_warn_logs_and_keeps_looking);
	tcase_add_test(tc, engine_dunno_stops_table_not_walk);
	tcase_add_test(tc, engine_ok_stops_lower_tables);
	tcase_add_test(tc, engine_discard_and_hold);
	tcase_add_test(tc, engine_broken_rule_is_config_failure);
	tcase_add_test(tc, engine_broken_rule_skipped_with_on_error_accept);
	tcase_add_test(tc, engine_hostile_values_never_reach_a_reply);
	tcase_add_test(tc, engine_store_failure_is_not_absence);
	tcase_add_test(tc, engine_one_store_round_trip_per_decision);
	tcase_add_test(tc, engine_delay_checks_yes_waits_for_rcpt);
	tcase_add_test(tc, engine_delay_checks_no_evaluates_each_stage);
	tcase_add_test(tc, engine_malformed_recipient_leaves_other_tables);
	tcase_add_test(tc, engine_malformed_address_keeps_its_domain_rules);
	tcase_add_test(tc, engine_key_limits_leave_ordinary_envelopes_alone);
	tcase_add_test(tc, engine_key_limits_bound_hostile_envelopes);
	tcase_add_test(tc, engine_key_limits_keep_the_rules_of_the_domain);
	tcase_add_test(tc, engine_trail_lists_every_key_tried_in_order);
	tcase_add_test(tc,
	               engine_rejects_bad_arguments_and_frees_zeroed_verdicts);
	tcase_add_test(tc, engine_prefix_separates_rule_sets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
