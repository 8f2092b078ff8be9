/*
 * test_rule - rule keys and import lines (policy/rule.c)
 */
#include <string.h>

#include <check.h>

#include "rule.h"

struct key_case {
	const char *table;
	const char *key;
	const char *out; /* folded key, or NULL */
	const char *err; /* problem, when out is NULL */
};

static const struct key_case keys[] = {
    {"recipient", "Bob@Example.COM", "bob@example.com", NULL},
    {"sender", "<>", "<>", NULL},
    {"sender", ".Example.com", ".example.com", NULL},
    {"pair", "<>,noreply@example.com", "<>,noreply@example.com", NULL},
    {"pair", "nocomma", NULL, "a pair key is SENDER,RECIPIENT"},
    {"pair", ",x", NULL, "a pair key is SENDER,RECIPIENT"},
    {"pair", "x,", NULL, "a pair key is SENDER,RECIPIENT"},
    {"recipient", "", NULL, "empty key"},
    {"recipient", "a b", NULL, "blank or control character in key"},
    {"recipient", "a\tb", NULL, "blank or control character in key"},
    {"client", "192.0.2.7", "192.0.2.7", NULL},
    {"client", "192.0.2.0/24", "192.0.2.0/24", NULL},
    {"client", "192.0.2.7/24", NULL,
     "not the network's canonical form, write 192.0.2.0/24"},
    {"client", "192.0.2.7/32", NULL,
     "/32 is the address itself: write 192.0.2.7"},
    {"client", "10.0.0.0/7", NULL, "prefix length must be 8 to 31"},
    /* No lookup writes a prefix length with a leading zero. */
    {"client", "192.0.2.0/024", NULL,
     "not the network's canonical form, write 192.0.2.0/24"},
    {"client", "10.0.0.0/x", NULL, "prefix length must be 8 to 31"},
    {"client", "2001:DB8::1", "2001:db8::1", NULL},
    {"client", "2001:db8:0::1", NULL,
     "not the address's canonical form, write 2001:db8::1"},
    {"client", "2001:db8::/32", "2001:db8::/32", NULL},
    {"client", "2001:db8::1/64", NULL,
     "not the network's canonical form, write 2001:db8::/64"},
    {"client", "2001:db8::/8", NULL, "prefix length must be 16 to 127"},
    {"client", "mail.example.com", "mail.example.com", NULL},
    {"client", "host/24", NULL, "not a network"},
};

START_TEST(rule_key_check_folds_and_refuses_unreachable_keys)
{
	const struct key_case *k = &keys[_i];
	char out[RULE_KEY_MAX + 1], err[256] = "";
	int t = table_from_name(k->table);
	int rc = rule_key_check((enum table)t, k->key, out, sizeof out, err,
	                        sizeof err);

	if (k->out != NULL) {
		ck_assert_msg(rc == 0, "%s: %s", k->key, err);
		ck_assert_str_eq(out, k->out);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, k->err);
	}
}
END_TEST

START_TEST(rule_key_check_refuses_long_keys)
{
	char key[RULE_KEY_MAX + 2], out[RULE_KEY_MAX + 1], err[128];

	memset(key, 'a', RULE_KEY_MAX);
	key[RULE_KEY_MAX] = '\0';
	ck_assert_int_eq(
	    rule_key_check(TABLE_HELO, key, out, sizeof out, err, sizeof err),
	    0);
	key[RULE_KEY_MAX] = 'a';
	key[RULE_KEY_MAX + 1] = '\0';
	ck_assert_int_eq(
	    rule_key_check(TABLE_HELO, key, out, sizeof out, err, sizeof err),
	    -1);
	ck_assert_str_eq(err, "key longer than 512 bytes");
}
END_TEST

struct line_case {
	const char *line;
	enum rule_line rc;
	const char *table;
	const char *key;
	const char *action;
	long long ttl;
	const char *err;
};

static const struct line_case lines[] = {
    {"", RULE_LINE_EMPTY, NULL, NULL, NULL, 0, NULL},
    {"   ", RULE_LINE_EMPTY, NULL, NULL, NULL, 0, NULL},
    {"# comment", RULE_LINE_EMPTY, NULL, NULL, NULL, 0, NULL},
    {"  # indented comment", RULE_LINE_EMPTY, NULL, NULL, NULL, 0, NULL},
    {"recipient Bob@Example.com 552 5.2.2 Mailbox full", RULE_LINE_RULE,
     "recipient", "bob@example.com", "552 5.2.2 Mailbox full", 0, NULL},
    {"sender spam.example  REJECT  Go   away  ", RULE_LINE_RULE, "sender",
     "spam.example", "REJECT  Go   away", 0, NULL},
    {"-t 3600 sender x.example DEFER", RULE_LINE_RULE, "sender", "x.example",
     "DEFER", 3600, NULL},
    {"recipient a@b 554 5.7.1 # not a comment", RULE_LINE_RULE, "recipient",
     "a@b", "554 5.7.1 # not a comment", 0, NULL},
    {"bogus a b", RULE_LINE_BAD, NULL, NULL, NULL, 0, "unknown table 'bogus'"},
    {"recipient", RULE_LINE_BAD, NULL, NULL, NULL, 0, "missing key"},
    {"recipient a@b", RULE_LINE_BAD, NULL, NULL, NULL, 0, "missing action"},
    {"recipient a@b 550 4.7.1 x", RULE_LINE_BAD, NULL, NULL, NULL, 0,
     "enhanced code 4.7.1 does not match reply code 550"},
    {"-t 0 recipient a@b OK", RULE_LINE_BAD, NULL, NULL, NULL, 0,
     "-t needs a number of seconds"},
    {"-t recipient a@b OK", RULE_LINE_BAD, NULL, NULL, NULL, 0,
     "-t needs a number of seconds"},
    {"-t 2147483648 sender x.example OK", RULE_LINE_RULE, "sender", "x.example",
     "OK", 2147483648LL, NULL},
    {"-t 2147483649 sender x.example OK", RULE_LINE_BAD, NULL, NULL, NULL, 0,
     "-t needs a number of seconds"},
    {"client 192.0.2.1/24 OK", RULE_LINE_BAD, NULL, NULL, NULL, 0,
     "not the network's canonical form, write 192.0.2.0/24"},
};

START_TEST(rule_parse_line_reads_import_lines)
{
	const struct line_case *l = &lines[_i];
	struct rule r;
	char err[256] = "";
	enum rule_line rc = rule_parse_line(l->line, &r, err, sizeof err);

	ck_assert_msg(rc == l->rc, "'%s': rc %d (%s)", l->line, (int)rc, err);
	if (rc == RULE_LINE_BAD)
		ck_assert_str_eq(err, l->err);
	if (rc == RULE_LINE_RULE) {
		ck_assert_str_eq(table_name(r.table), l->table);
		ck_assert_str_eq(r.key, l->key);
		ck_assert_str_eq(r.action, l->action);
		ck_assert_int_eq(r.ttl, l->ttl);
	}
	rule_free(&r);
	rule_free(&r);
}
END_TEST

/* GREYLIST in every table but auth and limit */
START_TEST(rule_action_parse_refuses_greylist_in_auth)
{
	struct action a;
	char err[256] = "";
	int t;

	for (t = 0; t < TABLE_WALK; t++) {
		int rc = rule_action_parse((enum table)t, "GREYLIST 1m", 11, &a,
		                           err, sizeof err);

		if (t == TABLE_AUTH) {
			ck_assert_int_eq(rc, -1);
			ck_assert_str_eq(err,
			                 "GREYLIST is not for the auth table: "
			                 "a session with a login is never "
			                 "greylisted");
		} else {
			ck_assert_msg(rc == 0, "%s: %s",
			              table_name((enum table)t), err);
			ck_assert_int_eq(a.type, ACTION_GREYLIST);
			ck_assert_int_eq(a.delay, 60);
			action_free(&a);
		}
	}
	ck_assert_int_eq(rule_action_parse(TABLE_LIMIT, "GREYLIST", 8, NULL,
	                                   err, sizeof err),
	                 -1);
}
END_TEST

static Suite *
rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *tc = tcase_create("rule");

	tcase_add_loop_test(tc,
	                    rule_key_check_folds_and_refuses_unreachable_keys,
	                    0, (int)(sizeof keys / sizeof keys[0]));
	tcase_add_test(tc, rule_key_check_refuses_long_keys);
	tcase_add_test(tc, rule_action_parse_refuses_greylist_in_auth);
	tcase_add_loop_test(tc, rule_parse_line_reads_import_lines, 0,
	                    (int)(sizeof lines / sizeof lines[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
