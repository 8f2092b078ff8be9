/*
 * test_ctl_audit - the pure parts of redmilterctl's audit trail
 * (policy/ctl/ctl_audit.c): -m notes, the user, quoting, stream IDs,
 * history's line and its filter
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ctl.h"
#include "ctl_audit.h"

/* entry - a stream entry of n "field", "value" pairs (static storage) */
static struct store_entry
entry(const char *id, const char *const *fv, size_t n)
{
	static struct store_value v[32];
	struct store_entry e;
	size_t i;

	ck_assert_uint_le(2 * n, sizeof v / sizeof v[0]);
	for (i = 0; i < 2 * n; i++) {
		v[i].status = STORE_OK;
		v[i].val = (char *)fv[i];
		v[i].len = strlen(fv[i]);
	}
	e.id = (char *)id;
	e.fv = v;
	e.n = n;
	return e;
}

START_TEST(ctl_audit_note_check_takes_printable_text_up_to_1000_bytes)
{
	static const struct {
		const char *note;
		int want;
	} cases[] = {
	    {"", 0},
	    {"ticket 42: let bob in", 0},
	    {"caf\xc3\xa9 %s %n \"quoted\"", 0},
	    {"two\nlines", -1},
	    {"cr\r", -1},
	    {"tab\there", -1},
	    {"\x01", -1},
	    {"del\x7f", -1},
	};
	char err[128], big[CTL_AUDIT_NOTE_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_int_eq(
		    ctl_audit_note_check(cases[i].note, err, sizeof err),
		    cases[i].want);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(ctl_audit_note_check(big, err, sizeof err), -1);
	ck_assert_str_eq(err, "-m: note longer than 1000 bytes");
	big[CTL_AUDIT_NOTE_MAX] = '\0';
	ck_assert_int_eq(ctl_audit_note_check(big, err, sizeof err), 0);
}
END_TEST

START_TEST(ctl_audit_take_note_takes_m_at_the_place_asked)
{
	char a0[] = "recipient", a1[] = "-m", a2[] = "a note", a3[] = "OK";
	char *argv[] = {a0, a1, a2, a3, NULL};
	char b0[] = "-m", b1[] = "bad\nnote", b2[] = "x";
	char *bargv[] = {b0, b1, b2, NULL};
	struct ctl c;
	int argc = 4;

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(ctl_audit_take_note(&c, &argc, argv, 0), 0);
	ck_assert_int_eq(argc, 4);
	ck_assert_ptr_null(c.note);
	ck_assert_int_eq(ctl_audit_take_note(&c, &argc, argv, 1), 0);
	ck_assert_int_eq(argc, 2);
	ck_assert_str_eq(c.note, "a note");
	ck_assert_str_eq(argv[0], "recipient");
	ck_assert_str_eq(argv[1], "OK");
	/* "-m" as the last argument has no TEXT: left to the usage check */
	argc = 3;
	ck_assert_int_eq(ctl_audit_take_note(&c, &argc, bargv, 2), 0);
	ck_assert_int_eq(argc, 3);
	ck_assert_int_eq(ctl_audit_take_note(&c, &argc, bargv, 0), -1);
}
END_TEST

START_TEST(ctl_audit_user_is_sudo_user_else_the_account)
{
	char buf[CTL_AUDIT_USER_SIZE], small[4];

	setenv("SUDO_USER", "alice", 1);
	ctl_audit_user(buf, sizeof buf);
	ck_assert_str_eq(buf, "alice");
	setenv("SUDO_USER", "a-very-long-name", 1);
	ctl_audit_user(small, sizeof small);
	ck_assert_str_eq(small, "a-v");
	setenv("SUDO_USER", "", 1);
	ctl_audit_user(buf, sizeof buf);
	ck_assert_str_ne(buf, "");
	unsetenv("SUDO_USER");
	ctl_audit_user(buf, sizeof buf);
	ck_assert_str_ne(buf, "");
}
END_TEST

START_TEST(ctl_audit_quote_escapes_quotes_backslashes_and_controls)
{
	static const struct {
		const char *s;
		size_t len;
		int bare;
		const char *want;
	} cases[] = {
	    {"OK", 2, 0, "\"OK\""},
	    {"", 0, 0, "\"\""},
	    {"550 5.1.1 Gone", 14, 0, "\"550 5.1.1 Gone\""},
	    {"a\"b\\c", 5, 0, "\"a\\\"b\\\\c\""},
	    {"t\tn\nr\r", 6, 0, "\"t\\tn\\nr\\r\""},
	    {"\x01\x7f\x1f", 3, 0, "\"\\x01\\x7f\\x1f\""},
	    {"nul\0x", 5, 0, "\"nul\\x00x\""},
	    {"%s%n", 4, 0, "\"%s%n\""},
	    {"caf\xc3\xa9", 5, 0, "\"caf\xc3\xa9\""},
	    {"mallory x", 9, 1, "mallory\\x20x"},
	    {"k\"y", 3, 1, "k\\\"y"},
	    {"bob@example.com", 15, 1, "bob@example.com"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *q =
		    ctl_audit_quote(cases[i].s, cases[i].len, cases[i].bare);

		ck_assert_str_eq(q, cases[i].want);
		free(q);
	}
}
END_TEST

START_TEST(ctl_audit_prev_id_is_the_id_just_before)
{
	static const struct {
		const char *id;
		int rc;
		const char *want;
	} cases[] = {
	    {"1796299201000-5", 0, "1796299201000-4"},
	    {"1796299201000-0", 0, "1796299200999-18446744073709551615"},
	    {"1-0", 0, "0-18446744073709551615"},
	    {"0-1", 0, "0-0"},
	    {"0-0", -1, NULL},
	    {"", -1, NULL},
	    {"12", -1, NULL},
	    {"12-", -1, NULL},
	    {"-1-2", -1, NULL},
	    {"1-2x", -1, NULL},
	    {"1- 2", -1, NULL},
	    {"99999999999999999999-1", -1, NULL},
	};
	char out[CTL_AUDIT_ID_SIZE], tiny[4];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(
		    ctl_audit_prev_id(cases[i].id, out, sizeof out),
		    cases[i].rc);
		if (cases[i].want != NULL)
			ck_assert_str_eq(out, cases[i].want);
	}
	ck_assert_int_eq(ctl_audit_prev_id("123456-7", tiny, sizeof tiny), -1);
}
END_TEST

START_TEST(ctl_audit_line_is_time_user_cmd_table_key_then_quoted_fields)
{
	static const char *const add[] = {
	    "user",  "alice",     "cmd",  "add",
	    "table", "recipient", "key",  "bob@example.com",
	    "old",   "OK",        "new",  "550 5.1.1 Gone",
	    "ttl",   "600",       "note", "ticket \"42\""};
	static const char *const del[] = {
	    "cmd",    "del", "user",      "bob", "table",
	    "sender", "key", "s.example", "old", "OK"};
	static const char *const odd[] = {"user", "", "extra", "x"};
	struct store_entry e;
	char *l;

	e = entry("1796299201000-0", add, 8);
	l = ctl_audit_line(&e);
	ck_assert_str_eq(l, "2026-12-03T12:00:01Z alice add recipient "
	                    "bob@example.com old=\"OK\" new=\"550 5.1.1 "
	                    "Gone\" ttl=600 note=\"ticket \\\"42\\\"\"");
	free(l);
	e = entry("1796299201999-3", del, 5);
	l = ctl_audit_line(&e);
	ck_assert_str_eq(l, "2026-12-03T12:00:01Z bob del sender s.example "
	                    "old=\"OK\"");
	free(l);
	e = entry("junk", odd, 2);
	l = ctl_audit_line(&e);
	ck_assert_str_eq(l, "? - - - -");
	free(l);
}
END_TEST

START_TEST(ctl_audit_line_cuts_a_huge_value_at_4096_bytes_with_dots)
{
	static char big[10000];
	const char *fv[] = {"new", big};
	struct store_entry e;
	char *l;

	char want[4200];

	memset(big, 'v', sizeof big - 1);
	memcpy(want, "2026-12-03T12:00:01Z - - - - new=\"", 34);
	memset(want + 34, 'v', 4096);
	memcpy(want + 34 + 4096, "\"...", 5);
	e = entry("1796299201000-0", fv, 1);
	l = ctl_audit_line(&e);
	ck_assert_uint_eq(strlen(l), strlen(want));
	ck_assert_int_eq(strcmp(l, want), 0);
	free(l);
}
END_TEST

START_TEST(ctl_audit_match_filters_by_table_then_key)
{
	static const char *const fv[] = {"table", "recipient", "key",
	                                 "bob@example.com"};
	static const char *const none[] = {"user", "seed"};
	struct store_entry e = entry("1-0", fv, 2);

	ck_assert_int_eq(ctl_audit_match(&e, NULL, NULL), 1);
	ck_assert_int_eq(ctl_audit_match(&e, "recipient", NULL), 1);
	ck_assert_int_eq(ctl_audit_match(&e, "recipient", "bob@example.com"),
	                 1);
	ck_assert_int_eq(ctl_audit_match(&e, "sender", NULL), 0);
	ck_assert_int_eq(ctl_audit_match(&e, "recipient", "bob@example.co"), 0);
	e = entry("1-0", none, 1);
	ck_assert_int_eq(ctl_audit_match(&e, NULL, NULL), 1);
	ck_assert_int_eq(ctl_audit_match(&e, "recipient", NULL), 0);
}
END_TEST

static Suite *
ctl_audit_suite(void)
{
	Suite *s = suite_create("ctl_audit");
	TCase *tc = tcase_create("ctl_audit");

	tcase_add_test(
	    tc, ctl_audit_note_check_takes_printable_text_up_to_1000_bytes);
	tcase_add_test(tc, ctl_audit_take_note_takes_m_at_the_place_asked);
	tcase_add_test(tc, ctl_audit_user_is_sudo_user_else_the_account);
	tcase_add_test(tc,
	               ctl_audit_quote_escapes_quotes_backslashes_and_controls);
	tcase_add_test(tc, ctl_audit_prev_id_is_the_id_just_before);
	tcase_add_test(
	    tc, ctl_audit_line_is_time_user_cmd_table_key_then_quoted_fields);
	tcase_add_test(
	    tc, ctl_audit_line_cuts_a_huge_value_at_4096_bytes_with_dots);
	tcase_add_test(tc, ctl_audit_match_filters_by_table_then_key);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ctl_audit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
