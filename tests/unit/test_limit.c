/*
 * test_limit - the value and key of a limit rule (policy/limit.c,
 * policy/rule.c), the values and keys of the counters (policy/counter.c),
 * and the limit ladders of a decision (policy/policy.c), on an in-memory
 * store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "counter.h"
#include "limit.h"
#include "policy.h"
#include "reply.h"
#include "rule.h"
#include "store_mem.h"

/* A value that parses, and what it reads as. */
struct good {
	const char *value;
	size_t nterms;
	const char *terms; /* the terms written back, joined with ", " */
	int none, shared, warn;
	const char *reply; /* reply_smtp() of the first term's refusal */
};

static const struct good goods[] = {
    {"100 msgs/1h, 500 msgs/1d, 50 rcpts/msg", 3,
     "100 msgs/1h, 500 msgs/1d, 50 rcpts/msg", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"none", 0, "", 1, 0, 0, NULL},
    {"NONE", 0, "", 1, 0, 0, NULL},
    {"1000 msgs/1h shared 451 4.7.1 Slow down", 1, "1000 msgs/1h", 0, 1, 0,
     "451 4.7.1 Slow down"},
    {"3 msgs/4s WARN", 1, "3 msgs/4s", 0, 0, 1,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"3 msgs/4s WARN over quota", 1, "3 msgs/4s", 0, 0, 1,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"30 msgs/10m", 1, "30 msgs/10m", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"10 rcpts/h", 1, "10 rcpts/1h", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"100msgs/1h", 1, "100 msgs/1h", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"5 msgs/30d", 1, "5 msgs/30d", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"5 msgs/1s", 1, "5 msgs/1s", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"5 msgs/90s", 1, "5 msgs/90s", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"5 msgs/120s", 1, "5 msgs/2m", 0, 0, 0,
     "450 4.7.1 Rate limit exceeded, try again later"},
    {"50 RCPTS/MSG", 1, "50 rcpts/msg", 0, 0, 0,
     "452 4.5.3 Too many recipients"},
    {"  5 Msgs/1H ,6 rcpts/msg   REJECT  ", 2, "5 msgs/1h, 6 rcpts/msg", 0, 0,
     0, "550 5.7.1 Access denied"},
    {"5 msgs/1h DEFER Not now", 1, "5 msgs/1h", 0, 0, 0, "450 4.7.1 Not now"},
    {"5 msgs/1h SHARED 554", 1, "5 msgs/1h", 0, 1, 0,
     "554 5.7.1 Transaction failed"},
    {"1 msgs/1s, 2 rcpts/2s, 3 rcpts/msg, 4 msgs/4m, 5 rcpts/5h, "
     "6 msgs/6d, 7 rcpts/msg, 8 msgs/8s",
     8,
     "1 msgs/1s, 2 rcpts/2s, 3 rcpts/msg, 4 msgs/4m, 5 rcpts/5h, "
     "6 msgs/6d, 7 rcpts/msg, 8 msgs/8s",
     0, 0, 0, "450 4.7.1 Rate limit exceeded, try again later"},
};

START_TEST(limit_parse_reads_values)
{
	const struct good *g = &goods[_i];
	char err[256] = "", text[400] = "", term[LIMIT_TERM_TEXT_MAX];
	struct limit l;
	struct reply r;
	size_t i;

	ck_assert_msg(
	    limit_parse(g->value, strlen(g->value), &l, err, sizeof err) == 0,
	    "%s: %s", g->value, err);
	ck_assert_uint_eq(l.nterms, g->nterms);
	ck_assert_int_eq(l.none, g->none);
	ck_assert_int_eq(l.shared, g->shared);
	ck_assert_int_eq(l.warn, g->warn);
	for (i = 0; i < l.nterms; i++) {
		size_t at = strlen(text);

		limit_term_text(&l.term[i], term, sizeof term);
		snprintf(text + at, sizeof text - at, "%s%s", i > 0 ? ", " : "",
		         term);
	}
	ck_assert_str_eq(text, g->terms);
	if (g->reply != NULL) {
		char *smtp;

		ck_assert_int_eq(
		    limit_reply(&l, &l.term[0], &r, err, sizeof err), 0);
		smtp = reply_smtp(&r);
		ck_assert_str_eq(smtp, g->reply);
		free(smtp);
		reply_free(&r);
	}
	limit_free(&l);
}
END_TEST

/* A value refused, and the message that says why. */
struct bad {
	const char *value;
	const char *err;
};

static const struct bad bads[] = {
    {"", "limit: empty value"},
    {"   ", "limit: empty value"},
    {"0 msgs/1h",
     "limit: a limit of 0 lets nothing through; write a REJECT rule instead"},
    {"5 msgs/0s", "limit: a period of 0 in \"msgs/0s\""},
    {"5 msgs/31d", "limit: period of \"msgs/31d\" is longer than 30d"},
    {"5 msgs/721h", "limit: period of \"msgs/721h\" is longer than 30d"},
    {"5 msg/h", "limit: unknown unit \"msg/h\"; expected msgs/PERIOD, "
                "rcpts/PERIOD or rcpts/msg"},
    {"5 msgs", "limit: unknown unit \"msgs\"; expected msgs/PERIOD, "
               "rcpts/PERIOD or rcpts/msg"},
    {"5 msgs/1x",
     "limit: unknown unit \"x\" in \"msgs/1x\"; expected s, m, h or d"},
    {"5 msgs/msg",
     "limit: unknown unit \"msg\" in \"msgs/msg\"; expected s, m, h or d"},
    {"5 msgs/", "limit: unknown unit \"\" in \"msgs/\"; expected s, m, h or d"},
    {"99999999999999999999 msgs/1h", "limit: more than 1000000000"},
    {"1000000001 msgs/1h", "limit: more than 1000000000"},
    {"msgs/1h", "limit: expected a number, as in \"100 msgs/1h\", not "
                "\"msgs/1h\""},
    {"1 msgs/1s, 2 msgs/2s, 3 msgs/3s, 4 msgs/4s, 5 msgs/5s, 6 msgs/6s, "
     "7 msgs/7s, 8 msgs/8s, 9 msgs/9s",
     "limit: more than 8 terms"},
    {"5 msgs/1h OK", "limit: expected a reply (REJECT, DEFER or NNN) or WARN "
                     "after the terms, not \"OK\""},
    {"5 msgs/1h DISCARD", "limit: expected a reply (REJECT, DEFER or NNN) or "
                          "WARN after the terms, not \"DISCARD\""},
    {"5 msgs/1h 450 5.7.1 x",
     "limit: enhanced code 5.7.1 does not match reply code 450"},
    {"5 msgs/1h 250 ok",
     "limit: reply code 250 is not 4xx or 5xx: acceptance is OK"},
    {"none 5 msgs/1h", "limit: nothing may follow \"none\""},
    {"5 msgs/1h,", "limit: expected a number, as in \"100 msgs/1h\", not "
                   "\"\""},
    {"5 msgs/1h shared shared", "limit: unknown action \"shared\""},
    {"5 msgs/1h shared, 6 rcpts/msg",
     "limit: expected a reply (REJECT, DEFER or NNN) or WARN after the "
     "terms, not \", 6 rcpts/msg\""},
};

START_TEST(limit_parse_refuses_with_a_reason)
{
	const struct bad *b = &bads[_i];
	char err[256] = "";
	struct limit l;

	ck_assert_msg(
	    limit_parse(b->value, strlen(b->value), &l, err, sizeof err) != 0,
	    "accepted: %s", b->value);
	ck_assert_str_eq(err, b->err);
	limit_free(&l); /* zeroed: a no-op */
}
END_TEST

START_TEST(limit_parse_refuses_a_nul_byte)
{
	char err[256] = "";
	struct limit l;

	ck_assert_int_ne(limit_parse("5 msgs/1h\0 x", 12, &l, err, sizeof err),
	                 0);
	ck_assert_str_eq(err, "limit: NUL byte in the value");
}
END_TEST

START_TEST(limit_warn_keeps_its_text)
{
	char err[256] = "";
	struct limit l;

	ck_assert_int_eq(
	    limit_parse("3 msgs/4s WARN over quota", 25, &l, err, sizeof err),
	    0);
	ck_assert_str_eq(l.warn_text, "over quota");
	ck_assert_int_ne(l.reply.type, ACTION_REPLY);
	limit_free(&l);
}
END_TEST

/* A limit key: its folded form, or the problem. */
struct key_case {
	const char *key;
	const char *out;
	const char *err;
};

static const struct key_case keys[] = {
    {"auth:*", "auth:*", NULL},
    {"AUTH:Alice@Example.com", "auth:alice@example.com", NULL},
    {"auth:@example.com", "auth:@example.com", NULL},
    {"client:192.0.2.0/24", "client:192.0.2.0/24", NULL},
    {"client:*", "client:*", NULL},
    {"client:192.0.2.1/24", NULL,
     "not the network's canonical form, write 192.0.2.0/24"},
    {"recipient:Bob+x@Example.COM", "recipient:bob+x@example.com", NULL},
    {"sender:<>", "sender:<>", NULL},
    {"sender:", NULL, "empty key"},
    {"bogus:x", NULL,
     "a limit key is SUBJECT:KEY, SUBJECT being client, auth, sender or "
     "recipient"},
    {"auth", NULL,
     "a limit key is SUBJECT:KEY, SUBJECT being client, auth, sender or "
     "recipient"},
    {"helo:x", NULL,
     "a limit key is SUBJECT:KEY, SUBJECT being client, auth, sender or "
     "recipient"},
    {"auth:a b", NULL, "blank or control character in key"},
};

START_TEST(limit_keys_fold_and_refuse)
{
	const struct key_case *k = &keys[_i];
	char out[RULE_KEY_MAX + 32], err[256] = "";
	int rc = rule_key_check(TABLE_LIMIT, k->key, out, sizeof out, err,
	                        sizeof err);

	if (k->out != NULL) {
		ck_assert_msg(rc == 0, "%s: %s", k->key, err);
		ck_assert_str_eq(out, k->out);
	} else {
		ck_assert_msg(rc != 0, "accepted: %s", k->key);
		ck_assert_str_eq(err, k->err);
	}
}
END_TEST

START_TEST(limit_import_lines)
{
	struct rule r;
	char err[256] = "";

	ck_assert_int_eq(
	    rule_parse_line("limit auth:* 100 msgs/1h, 5 rcpts/msg", &r, err,
	                    sizeof err),
	    RULE_LINE_RULE);
	ck_assert_int_eq(r.table, TABLE_LIMIT);
	ck_assert_str_eq(r.key, "auth:*");
	ck_assert_str_eq(r.action, "100 msgs/1h, 5 rcpts/msg");
	rule_free(&r);
	ck_assert_int_eq(
	    rule_parse_line("limit auth:* 5 msg/h", &r, err, sizeof err),
	    RULE_LINE_BAD);
	ck_assert_str_eq(err, "limit: unknown unit \"msg/h\"; expected "
	                      "msgs/PERIOD, rcpts/PERIOD or rcpts/msg");
	ck_assert_int_eq(
	    rule_parse_line("limit helo:x 5 msgs/1h", &r, err, sizeof err),
	    RULE_LINE_BAD);
}
END_TEST

START_TEST(counter_values_and_keys)
{
	char err[256] = "", *v, *k;
	struct limit own = {0}, shared = {0};

	shared.shared = 1;
	v = counter_value(LIMIT_CLIENT, "2001:DB8:0::1", "+", err, sizeof err);
	ck_assert_str_eq(v, "2001:db8::1");
	free(v);
	ck_assert_ptr_null(counter_value(LIMIT_CLIENT, "mail.example.com", "+",
	                                 err, sizeof err));
	ck_assert_str_eq(err, "not an IP address: mail.example.com");
	v = counter_value(LIMIT_AUTH, "Alice@Example.COM", "+", err,
	                  sizeof err);
	ck_assert_str_eq(v, "alice@example.com");
	free(v);
	v = counter_value(LIMIT_SENDER, "<John+tag@Example.COM>", "+", err,
	                  sizeof err);
	ck_assert_str_eq(v, "john@example.com");
	free(v);
	v = counter_value(LIMIT_RECIPIENT, "<John+tag@Example.COM>", "", err,
	                  sizeof err);
	ck_assert_str_eq(v, "john+tag@example.com");
	free(v);
	v = counter_value(LIMIT_SENDER, "<>", "+", err, sizeof err);
	ck_assert_str_eq(v, "<>");
	free(v);
	v = counter_value(LIMIT_RECIPIENT, "<Postmaster>", "+", err,
	                  sizeof err);
	ck_assert_str_eq(v, "postmaster");
	free(v);
	k = counter_key("redmilter:", LIMIT_AUTH, "*", &own,
	                "alice@example.com");
	ck_assert_str_eq(k, "redmilter:_limit:auth:alice@example.com");
	free(k);
	k = counter_key("redmilter:", LIMIT_CLIENT, "192.0.2.0/24", &shared,
	                "192.0.2.7");
	ck_assert_str_eq(k, "redmilter:_limit:shared:client:192.0.2.0/24");
	free(k);
}
END_TEST

/* eval - the ladders of a request with every subject asked for */
static void
eval(struct store *st, struct request *req, int skip_broken, struct verdict *v)
{
	struct policy_conf pc = {.prefix = "redmilter:",
	                         .delims = "+",
	                         .delay_checks = 1,
	                         .skip_broken = skip_broken};
	char err[256];

	req->limits = (1u << LIMIT_SUBJECTS) - 1;
	ck_assert_int_eq(policy_eval(&pc, req, st, v, err, sizeof err), 0);
}

/* put - a stored value */
static void
put(struct store *st, const char *key, const char *val)
{
	char err[256];

	ck_assert_int_eq(st->put(st, key, val, strlen(val), 0, err, sizeof err),
	                 STORE_OK);
}

/* hit_is - the key a subject's ladder found, or NULL */
static void
hit_is(const struct verdict *v, enum limit_subject s, const char *key)
{
	if (key == NULL)
		ck_assert_ptr_null(v->limit[s].key);
	else
		ck_assert_str_eq(
		    v->limit[s].key != NULL ? v->limit[s].key : "(none)", key);
}

START_TEST(ladders_find_the_first_rule_of_each_subject)
{
	struct store *st = store_mem_new();
	struct request req = {.stage = STAGE_RCPT,
	                      .client_name = "mx.example.net",
	                      .client_addr = "127.0.0.1",
	                      .auth = "Alice@Example.com",
	                      .sender = "<john+tag@mail.example.com>",
	                      .recipient = "<bob+x@example.org>"};
	struct verdict v;

	put(st, "redmilter:limit:auth:*", "1 msgs/1h");
	put(st, "redmilter:limit:auth:@example.com", "2 msgs/1h");
	put(st, "redmilter:limit:client:*", "3 msgs/1h");
	put(st, "redmilter:limit:client:127.0.0.0/8", "4 msgs/1h");
	put(st, "redmilter:limit:sender:*", "5 msgs/1h");
	put(st, "redmilter:limit:sender:.example.com", "6 msgs/1h");
	put(st, "redmilter:limit:recipient:*", "7 msgs/1h");
	put(st, "redmilter:limit:recipient:bob@", "8 msgs/1h");
	put(st, "redmilter:recipient:bob@example.org", "552");
	eval(st, &req, 0, &v);
	ck_assert_int_eq(v.type, VERDICT_REPLY); /* the tables still decide */
	hit_is(&v, LIMIT_AUTH, "@example.com");
	hit_is(&v, LIMIT_CLIENT, "127.0.0.0/8");
	hit_is(&v, LIMIT_SENDER, ".example.com");
	hit_is(&v, LIMIT_RECIPIENT, "bob@");
	ck_assert_int_eq(v.limit[LIMIT_AUTH].lim.term[0].n, 2);
	verdict_free(&v);
	/* More specific keys first. */
	put(st, "redmilter:limit:auth:alice@example.com", "none");
	put(st, "redmilter:limit:client:mx.example.net", "9 msgs/1h");
	put(st, "redmilter:limit:sender:john@mail.example.com", "10 msgs/1h");
	put(st, "redmilter:limit:recipient:bob@example.org", "11 msgs/1h");
	eval(st, &req, 0, &v);
	hit_is(&v, LIMIT_AUTH, "alice@example.com");
	ck_assert_int_eq(v.limit[LIMIT_AUTH].lim.none, 1);
	hit_is(&v, LIMIT_CLIENT, "mx.example.net");
	hit_is(&v, LIMIT_SENDER, "john@mail.example.com");
	hit_is(&v, LIMIT_RECIPIENT, "bob@example.org");
	verdict_free(&v);
	/* No login, no auth ladder; limits_only looks at no table. */
	req.auth = NULL;
	req.limits_only = 1;
	eval(st, &req, 0, &v);
	ck_assert_int_eq(v.type, VERDICT_NONE);
	hit_is(&v, LIMIT_AUTH, NULL);
	hit_is(&v, LIMIT_RECIPIENT, "bob@example.org");
	verdict_free(&v);
	st->close(st);
}
END_TEST

START_TEST(ladders_mark_a_broken_rule_or_skip_it)
{
	struct store *st = store_mem_new();
	struct request req = {.stage = STAGE_RCPT,
	                      .client_addr = "192.0.2.7",
	                      .auth = "alice",
	                      .sender = "<a@example.com>",
	                      .recipient = "<b@example.org>"};
	struct verdict v;

	put(st, "redmilter:limit:auth:alice", "5 msg/h");
	put(st, "redmilter:limit:auth:*", "7 msgs/1h");
	eval(st, &req, 0, &v);
	ck_assert_str_eq(v.limit[LIMIT_AUTH].key, "alice");
	ck_assert_int_eq(v.limit[LIMIT_AUTH].broken, 1);
	ck_assert_str_eq(v.limit[LIMIT_AUTH].why,
	                 "limit: unknown unit \"msg/h\"; expected msgs/PERIOD, "
	                 "rcpts/PERIOD or rcpts/msg");
	ck_assert_int_eq(v.type, VERDICT_NONE); /* the tables are untouched */
	verdict_free(&v);
	eval(st, &req, 1, &v);
	ck_assert_str_eq(v.limit[LIMIT_AUTH].key, "*");
	ck_assert_int_eq(v.limit[LIMIT_AUTH].broken, 0);
	ck_assert_int_eq(v.limit[LIMIT_AUTH].lim.term[0].n, 7);
	verdict_free(&v);
	st->close(st);
}
END_TEST

static Suite *
limit_suite(void)
{
	Suite *s = suite_create("limit");
	TCase *tc = tcase_create("limit");

	tcase_add_loop_test(tc, limit_parse_reads_values, 0,
	                    (int)(sizeof goods / sizeof goods[0]));
	tcase_add_loop_test(tc, limit_parse_refuses_with_a_reason, 0,
	                    (int)(sizeof bads / sizeof bads[0]));
	tcase_add_test(tc, limit_parse_refuses_a_nul_byte);
	tcase_add_test(tc, limit_warn_keeps_its_text);
	tcase_add_loop_test(tc, limit_keys_fold_and_refuse, 0,
	                    (int)(sizeof keys / sizeof keys[0]));
	tcase_add_test(tc, limit_import_lines);
	tcase_add_test(tc, counter_values_and_keys);
	tcase_add_test(tc, ladders_find_the_first_rule_of_each_subject);
	tcase_add_test(tc, ladders_mark_a_broken_rule_or_skip_it);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(limit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
