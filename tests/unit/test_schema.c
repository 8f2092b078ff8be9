/*
 * test_schema - the names of redmilter's keys in Redis (policy/schema.c)
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "schema.h"

START_TEST(schema_rule_key_is_prefix_table_colon_key)
{
	char *k =
	    schema_rule_key("redmilter:", TABLE_RECIPIENT, "bob@example.com");

	ck_assert_str_eq(k, "redmilter:recipient:bob@example.com");
	ck_assert_uint_eq(schema_rule_key_size("redmilter:", TABLE_RECIPIENT,
	                                       "bob@example.com"),
	                  strlen(k) + 1);
	free(k);
}
END_TEST

START_TEST(schema_rule_key_write_fits_or_says_how_long)
{
	char buf[32];

	ck_assert_uint_eq(
	    schema_rule_key_write(buf, sizeof buf, "p:", TABLE_PAIR, "a,b"),
	    strlen("p:pair:a,b"));
	ck_assert_str_eq(buf, "p:pair:a,b");
	/* Too small: nothing half written, the length it needs. */
	ck_assert_uint_eq(
	    schema_rule_key_write(buf, 5, "p:", TABLE_PAIR, "a,b"), 10);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(schema_scan_prefix_of_one_table_or_all)
{
	char *one = schema_scan_prefix("rm:", TABLE_CLIENT);
	char *all = schema_scan_prefix("rm:", -1);

	ck_assert_str_eq(one, "rm:client:");
	ck_assert_str_eq(all, "rm:");
	free(one);
	free(all);
}
END_TEST

START_TEST(schema_internal_key_is_under_the_mark)
{
	char *k = schema_internal_key("redmilter:", "import.lock");

	ck_assert_str_eq(k, "redmilter:_import.lock");
	free(k);
}
END_TEST

/* What schema_parse_key() makes of keys under "redmilter:". */
static const struct parse_case {
	const char *full;
	enum schema_kind kind;
	enum table table; /* SCHEMA_RULE */
	const char *key;  /* NULL: not looked at */
} parse_cases[] = {
    {"redmilter:recipient:bob@example.com", SCHEMA_RULE, TABLE_RECIPIENT,
     "bob@example.com"},
    {"redmilter:pair:a@x,b@y", SCHEMA_RULE, TABLE_PAIR, "a@x,b@y"},
    {"redmilter:client:192.0.2.0/24", SCHEMA_RULE, TABLE_CLIENT,
     "192.0.2.0/24"},
    {"redmilter:helo:", SCHEMA_RULE, TABLE_HELO, ""},
    {"redmilter:sender:a:b", SCHEMA_RULE, TABLE_SENDER, "a:b"},
    {"redmilter:_import.lock", SCHEMA_INTERNAL, 0, "_import.lock"},
    {"redmilter:nosuch:x", SCHEMA_UNKNOWN_TABLE, 0, "nosuch:x"},
    {"redmilter:Recipient:x", SCHEMA_UNKNOWN_TABLE, 0, "Recipient:x"},
    {"redmilter:nocolon", SCHEMA_UNKNOWN_TABLE, 0, "nocolon"},
    {"redmilter:averyveryverylongname:x", SCHEMA_UNKNOWN_TABLE, 0,
     "averyveryverylongname:x"},
    {"other:recipient:x", SCHEMA_OUTSIDE, 0, NULL},
    {"redmilter", SCHEMA_OUTSIDE, 0, NULL},
};

START_TEST(schema_parse_key_tells_rules_from_the_rest)
{
	const struct parse_case *c = &parse_cases[_i];
	const char *key = NULL;
	enum table t = TABLE_COUNT;

	ck_assert_int_eq(schema_parse_key("redmilter:", c->full, &t, &key),
	                 c->kind);
	if (c->kind == SCHEMA_RULE)
		ck_assert_int_eq(t, c->table);
	if (c->key != NULL)
		ck_assert_str_eq(key, c->key);
}
END_TEST

START_TEST(schema_parse_key_reads_what_schema_rule_key_writes)
{
	const char *key;
	enum table t, back;
	char *full;

	for (t = 0; t < TABLE_COUNT; t++) {
		full = schema_rule_key("x_y:", t, "k@example.com");
		ck_assert_int_eq(schema_parse_key("x_y:", full, &back, &key),
		                 SCHEMA_RULE);
		ck_assert_int_eq(back, t);
		ck_assert_str_eq(key, "k@example.com");
		free(full);
	}
}
END_TEST

static Suite *
schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("schema");

	tcase_add_test(tc, schema_rule_key_is_prefix_table_colon_key);
	tcase_add_test(tc, schema_rule_key_write_fits_or_says_how_long);
	tcase_add_test(tc, schema_scan_prefix_of_one_table_or_all);
	tcase_add_test(tc, schema_internal_key_is_under_the_mark);
	tcase_add_loop_test(tc, schema_parse_key_tells_rules_from_the_rest, 0,
	                    sizeof parse_cases / sizeof parse_cases[0]);
	tcase_add_test(tc, schema_parse_key_reads_what_schema_rule_key_writes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(schema_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
