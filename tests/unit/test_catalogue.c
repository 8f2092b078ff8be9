/*
 * test_catalogue - unit tests of the catalogue (redmilterctl(8), "codes").
 *
 * Every row of the documented table, in every table where it applies, both
 * variants of 550 and 553, and codes outside the table.
 * Run: ./test_catalogue (CK_FORK=no under valgrind).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "action.h"
#include "catalogue.h"
#include "table.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The documented table; rcpt_* only where recipient and pair differ. */
struct spec_row {
	int code;
	const char *enh;
	const char *text;
	const char *rcpt_enh;
	const char *rcpt_text;
};

static const struct spec_row spec[] = {
    {421, "4.3.2", "Service not available, closing channel", NULL, NULL},
    {450, "4.2.1", "Mailbox unavailable", NULL, NULL},
    {451, "4.3.0", "Local error in processing", NULL, NULL},
    {452, "4.2.2", "Mailbox full, try again later", NULL, NULL},
    {500, "5.5.2", "Syntax error", NULL, NULL},
    {501, "5.5.4", "Syntax error in parameters", NULL, NULL},
    {502, "5.5.1", "Command not implemented", NULL, NULL},
    {503, "5.5.1", "Bad sequence of commands", NULL, NULL},
    {504, "5.5.4", "Parameter not implemented", NULL, NULL},
    {521, "5.3.2", "Host does not accept mail", NULL, NULL},
    {530, "5.7.0", "Authentication required", NULL, NULL},
    {535, "5.7.8", "Authentication credentials invalid", NULL, NULL},
    {550, "5.7.1", "Rejected by policy", "5.1.1", "Mailbox not found"},
    {551, "5.1.6", "User not local", NULL, NULL},
    {552, "5.2.2", "Mailbox full", NULL, NULL},
    {553, "5.1.7", "Mailbox name invalid", "5.1.3", "Mailbox name invalid"},
    {554, "5.7.1", "Transaction failed", NULL, NULL},
    {556, "5.1.10", "Domain does not accept mail", NULL, NULL},
};

/* Codes outside the table: X.0.0 and the generic text. */
struct other {
	int code;
	const char *enh;
};

static const struct other others[] = {
    {400, "4.0.0"}, {420, "4.0.0"}, {455, "4.0.0"}, {459, "4.0.0"},
    {505, "5.0.0"}, {555, "5.0.0"}, {557, "5.0.0"}, {559, "5.0.0"},
};

/* expect - the lookup of code in table t gives enh and text */
static void
expect(int code, enum table t, const char *enh, const char *text)
{
	char got[REPLY_ENH_MAX];
	const char *gtext = NULL;

	memset(got, 'z', sizeof got);
	catalogue_lookup(code, t, got, sizeof got, &gtext);
	ck_assert_msg(strcmp(got, enh) == 0, "%d in %s: enh %s, want %s", code,
	              table_name(t), got, enh);
	ck_assert_msg(gtext != NULL && strcmp(gtext, text) == 0,
	              "%d in %s: text %s, want %s", code, table_name(t),
	              gtext != NULL ? gtext : "(null)", text);
}

START_TEST(catalogue_lookup_gives_spec_row_in_every_table)
{
	const struct spec_row *r = &spec[_i];
	int t;

	for (t = 0; t < TABLE_COUNT; t++) {
		if (TABLE_IS_RECIPIENT(t) && r->rcpt_enh != NULL)
			expect(r->code, (enum table)t, r->rcpt_enh,
			       r->rcpt_text);
		else
			expect(r->code, (enum table)t, r->enh, r->text);
	}
}
END_TEST

START_TEST(catalogue_lookup_gives_x00_for_unlisted_codes)
{
	const struct other *o = &others[_i];
	int t;

	for (t = 0; t < TABLE_COUNT; t++)
		expect(o->code, (enum table)t, o->enh,
		       "Requested action not taken");
}
END_TEST

START_TEST(catalogue_lookup_distinguishes_550_by_table)
{
	expect(550, TABLE_RECIPIENT, "5.1.1", "Mailbox not found");
	expect(550, TABLE_PAIR, "5.1.1", "Mailbox not found");
	expect(550, TABLE_AUTH, "5.7.1", "Rejected by policy");
	expect(550, TABLE_SENDER, "5.7.1", "Rejected by policy");
	expect(550, TABLE_HELO, "5.7.1", "Rejected by policy");
	expect(550, TABLE_CLIENT, "5.7.1", "Rejected by policy");
}
END_TEST

START_TEST(catalogue_lookup_distinguishes_553_by_table)
{
	expect(553, TABLE_RECIPIENT, "5.1.3", "Mailbox name invalid");
	expect(553, TABLE_PAIR, "5.1.3", "Mailbox name invalid");
	expect(553, TABLE_AUTH, "5.1.7", "Mailbox name invalid");
	expect(553, TABLE_SENDER, "5.1.7", "Mailbox name invalid");
	expect(553, TABLE_HELO, "5.1.7", "Mailbox name invalid");
	expect(553, TABLE_CLIENT, "5.1.7", "Mailbox name invalid");
}
END_TEST

START_TEST(catalogue_rows_match_spec_in_order)
{
	size_t i;

	ck_assert_uint_eq(catalogue_size(), NELEM(spec));
	for (i = 0; i < catalogue_size(); i++) {
		const struct catalogue_row *row = catalogue_row(i);

		ck_assert_ptr_nonnull(row);
		ck_assert_int_eq(row->code, spec[i].code);
		ck_assert_str_eq(row->enh, spec[i].enh);
		ck_assert_str_eq(row->text, spec[i].text);
		if (i > 0)
			ck_assert_int_gt(row->code, catalogue_row(i - 1)->code);
	}
	ck_assert_ptr_null(catalogue_row(catalogue_size()));
	ck_assert_ptr_null(catalogue_row((size_t)-1));
}
END_TEST

START_TEST(catalogue_rows_enh_class_matches_code)
{
	size_t i;

	for (i = 0; i < catalogue_size(); i++) {
		const struct catalogue_row *row = catalogue_row(i);

		ck_assert_int_eq(row->enh[0] - '0', row->code / 100);
		if (row->rcpt_enh != NULL)
			ck_assert_int_eq(row->rcpt_enh[0] - '0',
			                 row->code / 100);
		ck_assert_uint_lt(strlen(row->enh), REPLY_ENH_MAX);
	}
}
END_TEST

START_TEST(catalogue_lookup_truncates_small_buffer_safely)
{
	char enh[4] = "zzz";
	const char *text = NULL;

	catalogue_lookup(556, TABLE_CLIENT, enh, sizeof enh, &text);
	ck_assert_str_eq(enh, "5.1");
	ck_assert_str_eq(text, "Domain does not accept mail");
}
END_TEST

START_TEST(catalogue_lookup_accepts_null_outputs)
{
	char enh[REPLY_ENH_MAX];
	const char *text = NULL;

	catalogue_lookup(552, TABLE_CLIENT, NULL, 0, &text);
	ck_assert_str_eq(text, "Mailbox full");
	catalogue_lookup(552, TABLE_CLIENT, enh, sizeof enh, NULL);
	ck_assert_str_eq(enh, "5.2.2");
}
END_TEST

START_TEST(catalogue_lookup_gives_empty_enh_for_out_of_range_code)
{
	char enh[REPLY_ENH_MAX] = "zzz";
	const char *text = NULL;

	catalogue_lookup(-5, TABLE_CLIENT, enh, sizeof enh, &text);
	ck_assert_str_eq(enh, "");
	ck_assert_str_eq(text, "Requested action not taken");
	catalogue_lookup(1000, TABLE_CLIENT, enh, sizeof enh, &text);
	ck_assert_str_eq(enh, "");
}
END_TEST

/* catalogue_suite - every test of the module */
static Suite *
catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc = tcase_create("lookup");

	tcase_add_loop_test(tc, catalogue_lookup_gives_spec_row_in_every_table,
	                    0, (int)NELEM(spec));
	tcase_add_loop_test(tc, catalogue_lookup_gives_x00_for_unlisted_codes,
	                    0, (int)NELEM(others));
	tcase_add_test(tc, catalogue_lookup_distinguishes_550_by_table);
	tcase_add_test(tc, catalogue_lookup_distinguishes_553_by_table);
	tcase_add_test(tc, catalogue_rows_match_spec_in_order);
	tcase_add_test(tc, catalogue_rows_enh_class_matches_code);
	tcase_add_test(tc, catalogue_lookup_truncates_small_buffer_safely);
	tcase_add_test(tc, catalogue_lookup_accepts_null_outputs);
	tcase_add_test(tc,
	               catalogue_lookup_gives_empty_enh_for_out_of_range_code);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; exit 0 only when nothing failed */
int
main(void)
{
	SRunner *sr = srunner_create(catalogue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
