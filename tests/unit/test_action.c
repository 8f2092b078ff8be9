/*
 * test_action - unit tests of action_parse() (redmilterctl(8), RULES,
 * "Actions"), with the rendering of its examples through action_reply().
 *
 * Table-driven: each table row is one loop iteration of a Check test, so a
 * failure names the row.  Run: ./test_action (CK_FORK=no under valgrind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "action.h"
#include "reply.h"
#include "table.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ERRLEN 256

/* Valid values and the action each gives. */
struct good {
	const char *in;
	enum action_type type;
	int code;
	const char *enh;
	const char *text; /* NULL: none */
};

static const struct good goods[] = {
    {"OK", ACTION_OK, 0, "", NULL},
    {"ok", ACTION_OK, 0, "", NULL},
    {"Ok", ACTION_OK, 0, "", NULL},
    {"  \tOK\t  ", ACTION_OK, 0, "", NULL},
    {"DUNNO", ACTION_DUNNO, 0, "", NULL},
    {"dUnNo", ACTION_DUNNO, 0, "", NULL},
    {"REJECT", ACTION_REPLY, 550, "5.7.1", "Access denied"},
    {"reject", ACTION_REPLY, 550, "5.7.1", "Access denied"},
    {"ReJeCt", ACTION_REPLY, 550, "5.7.1", "Access denied"},
    {"REJECT Go away", ACTION_REPLY, 550, "5.7.1", "Go away"},
    {"REJECT \t Go  away \t", ACTION_REPLY, 550, "5.7.1", "Go  away"},
    {"REJECT 5.7.2 Go away", ACTION_REPLY, 550, "5.7.2", "Go away"},
    {"REJECT 5.7.2", ACTION_REPLY, 550, "5.7.2", "Access denied"},
    {"REJECT 5.7.1x Go", ACTION_REPLY, 550, "5.7.1", "5.7.1x Go"},
    {"DEFER", ACTION_REPLY, 450, "4.7.1", "Try again later"},
    {"defer Busy", ACTION_REPLY, 450, "4.7.1", "Busy"},
    {"DEFER 4.2.0 Busy", ACTION_REPLY, 450, "4.2.0", "Busy"},
    {"552 5.2.2 Mailbox full", ACTION_REPLY, 552, "5.2.2", "Mailbox full"},
    {"550", ACTION_REPLY, 550, "", NULL},
    {"550 Go away", ACTION_REPLY, 550, "", "Go away"},
    {"550 5.1.1", ACTION_REPLY, 550, "5.1.1", NULL},
    {"550\t5.1.1\tNo such user", ACTION_REPLY, 550, "5.1.1", "No such user"},
    {"550 5.123.123 x", ACTION_REPLY, 550, "5.123.123", "x"},
    {"550 5.1.1x text", ACTION_REPLY, 550, "", "5.1.1x text"},
    {"550 100% full", ACTION_REPLY, 550, "", "100% full"},
    {"554 5.7.1 one\\ntwo", ACTION_REPLY, 554, "5.7.1", "one\\ntwo"},
    {"421 4.3.2 Bye", ACTION_REPLY, 421, "4.3.2", "Bye"},
    {"400", ACTION_REPLY, 400, "", NULL},
    {"559 x", ACTION_REPLY, 559, "", "x"},
    {"DISCARD", ACTION_DISCARD, 0, "", NULL},
    {"discard spam run", ACTION_DISCARD, 0, "", "spam run"},
    {"HOLD", ACTION_HOLD, 0, "", NULL},
    {"Hold check this one", ACTION_HOLD, 0, "", "check this one"},
    {"WARN suspicious", ACTION_WARN, 0, "", "suspicious"},
    {"warn 100% odd\\n", ACTION_WARN, 0, "", "100% odd\\n"},
    {"GREYLIST", ACTION_GREYLIST, 0, "", NULL},
    {"greylist 30s", ACTION_GREYLIST, 0, "", NULL},
    {"GREYLIST 2m Come back soon", ACTION_GREYLIST, 0, "", "Come back soon"},
    {"GREYLIST Come back", ACTION_GREYLIST, 0, "", "Come back"},
};

/* Invalid values (length given for embedded NULs) and their message. */
struct bad {
	const char *in;
	size_t len; /* 0: strlen(in) */
	const char *msg;
};

static const struct bad bads[] = {
    {"", 0, "empty action"},
    {"   ", 0, "empty action"},
    {" \t \t", 0, "empty action"},
    {"REJECTED", 0, "unknown action \"REJECTED\""},
    {"ACCEPT", 0, "unknown action \"ACCEPT\""},
    {"-550 x", 0, "unknown action \"-550\""},
    {"OKAY", 0, "unknown action \"OKAY\""},
    {"OK hello", 0, "OK takes no text"},
    {"dunno x", 0, "DUNNO takes no text"},
    {"WARN", 0, "WARN needs a text"},
    {"GREYLIST 300", 0,
     "GREYLIST: delay \"300\" has no unit; write 300s or 300m"},
    {"GREYLIST 0s", 0, "GREYLIST: a period of 0 in \"0s\""},
    {"GREYLIST 2d", 0, "GREYLIST: period of \"2d\" is longer than 1d"},
    {"GREYLIST 86401s", 0, "GREYLIST: period of \"86401s\" is longer than 1d"},
    {"GREYLIST 99999999999999999999999m", 0,
     "GREYLIST: period of \"99999999999999999999999m\" is longer than 1d"},
    {"GREYLIST 5x", 0,
     "GREYLIST: unknown unit \"x\" in \"5x\"; expected s, m, h or d"},
    {"GREYLIST 5mm", 0,
     "GREYLIST: unknown unit \"mm\" in \"5mm\"; expected s, m, h or d"},
    {"warn \t ", 0, "WARN needs a text"},
    {"250 ok", 0, "reply code 250 is not 4xx or 5xx: acceptance is OK"},
    {"354 go", 0, "reply code 354 is not 4xx or 5xx: acceptance is OK"},
    {"199 x", 0, "reply code 199 is not 4xx or 5xx"},
    {"650 x", 0, "reply code 650 is not 4xx or 5xx"},
    {"050", 0, "reply code 050 is not 4xx or 5xx"},
    {"570 x", 0, "reply code 570 is invalid"},
    {"460", 0, "reply code 460 is invalid"},
    {"550text", 0, "malformed reply code \"550text\""},
    {"550-5.7.1 x", 0, "malformed reply code \"550-5.7.1\""},
    {"5500 x", 0, "malformed reply code \"5500\""},
    {"55 x", 0, "malformed reply code \"55\""},
    {"5x0 x", 0, "malformed reply code \"5x0\""},
    {"5.7.1 x", 0, "malformed reply code \"5.7.1\""},
    {"550 5.7", 0, "malformed enhanced code 5.7"},
    {"550 5.7 x", 0, "malformed enhanced code 5.7"},
    {"550 5..1 x", 0, "malformed enhanced code 5..1"},
    {"550 5.1.1234 x", 0, "malformed enhanced code 5.1.1234"},
    {"550 5.1.1. x", 0, "malformed enhanced code 5.1.1."},
    {"550 .5.1.1 x", 0, "malformed enhanced code .5.1.1"},
    {"550 5.1234.1", 0, "malformed enhanced code 5.1234.1"},
    {"550 5.7.1.1.1.1.1 x", 0, "malformed enhanced code 5.7.1.1.1.1.1"},
    {"REJECT 5.7 x", 0, "malformed enhanced code 5.7"},
    {"550 55.1.1 x", 0, "enhanced code 55.1.1 does not match reply code 550"},
    {"550 4.7.1 x", 0, "enhanced code 4.7.1 does not match reply code 550"},
    {"450 5.7.1 x", 0, "enhanced code 5.7.1 does not match reply code 450"},
    {"550 2.0.0 ok", 0, "enhanced code 2.0.0 does not match reply code 550"},
    {"REJECT 4.7.1 x", 0, "enhanced code 4.7.1 does not match reply code 550"},
    {"DEFER 5.7.1 x", 0, "enhanced code 5.7.1 does not match reply code 450"},
    {"REJECT a\r\nb", 0, "text contains control character 0x0d at offset 8"},
    {"REJECT hello\nworld", 0,
     "text contains control character 0x0a at offset 12"},
    {"REJECT a\tb", 0, "text contains control character 0x09 at offset 8"},
    {"REJECT a\x7f", 0, "text contains control character 0x7f at offset 8"},
    {"REJECT caf\xc3\xa9", 0, "text contains non-ASCII byte 0xc3 at offset 10"},
    {"550 5.1.1 \xff", 0, "text contains non-ASCII byte 0xff at offset 10"},
    {"REJECT a\0b", 10, "text contains a NUL byte at offset 8"},
    {"\0", 1, "action contains a NUL byte at offset 0"},
    {"OK\0", 3, "action contains a NUL byte at offset 2"},
    {"550\0 x", 6, "action contains a NUL byte at offset 3"},
    {"REJECT\r\n", 0, "action contains control character 0x0d at offset 6"},
    {"\xef\xbb\xbfREJECT", 0,
     "action contains non-ASCII byte 0xef at offset 0"},
    {"DISCARD a\x01", 0, "text contains control character 0x01 at offset 9"},
    {"HOLD \x1b[1m", 0, "text contains control character 0x1b at offset 5"},
    {"WARN \xff", 0, "text contains non-ASCII byte 0xff at offset 5"},
};

/* Rendering of the documented examples: value, table, reply as the client sees
 * it. */
struct render {
	const char *in;
	enum table table;
	const char *smtp;
};

static const struct render renders[] = {
    {"REJECT", TABLE_RECIPIENT, "550 5.7.1 Access denied"},
    {"REJECT", TABLE_PAIR, "550 5.7.1 Access denied"},
    {"REJECT", TABLE_CLIENT, "550 5.7.1 Access denied"},
    {"DEFER", TABLE_RECIPIENT, "450 4.7.1 Try again later"},
    {"DEFER", TABLE_HELO, "450 4.7.1 Try again later"},
    {"REJECT Go away", TABLE_SENDER, "550 5.7.1 Go away"},
    {"552 5.2.2 Mailbox full", TABLE_RECIPIENT, "552 5.2.2 Mailbox full"},
    {"552", TABLE_RECIPIENT, "552 5.2.2 Mailbox full"},
    {"550", TABLE_RECIPIENT, "550 5.1.1 Mailbox not found"},
    {"550", TABLE_PAIR, "550 5.1.1 Mailbox not found"},
    {"550", TABLE_SENDER, "550 5.7.1 Rejected by policy"},
    {"550", TABLE_CLIENT, "550 5.7.1 Rejected by policy"},
    {"550 Go away", TABLE_RECIPIENT, "550 5.1.1 Go away"},
    {"550 5.7.1", TABLE_RECIPIENT, "550 5.7.1 Mailbox not found"},
    {"553", TABLE_RECIPIENT, "553 5.1.3 Mailbox name invalid"},
    {"553", TABLE_AUTH, "553 5.1.7 Mailbox name invalid"},
    {"556", TABLE_HELO, "556 5.1.10 Domain does not accept mail"},
    {"455", TABLE_CLIENT, "455 4.0.0 Requested action not taken"},
    {"557", TABLE_PAIR, "557 5.0.0 Requested action not taken"},
    {"421 Bye", TABLE_CLIENT, "421 4.3.2 Bye"},
    {"554 5.7.1 ...", TABLE_CLIENT, "554 5.7.1 ..."},
    {"550 100% full", TABLE_RECIPIENT, "550 5.1.1 100% full"},
    {"550 5.7.1 line one\\nline two", TABLE_SENDER,
     "550-5.7.1 line one\r\n550 5.7.1 line two"},
    {"DEFER a\\nb\\nc", TABLE_CLIENT,
     "450-4.7.1 a\r\n450-4.7.1 b\r\n450 4.7.1 c"},
};

/* repeat - a malloc'd string: prefix, n times c, suffix */
static char *
repeat(const char *prefix, size_t n, char c, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, lp);
	memset(s + lp, c, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

/* lines_value - "REJECT " and n lines "a" joined by backslash n */
static char *
lines_value(size_t n)
{
	char *s = malloc(8 + 3 * n);
	size_t i, o;

	ck_assert_ptr_nonnull(s);
	memcpy(s, "REJECT ", 7);
	for (i = 0, o = 7; i < n; i++) {
		if (i > 0) {
			s[o++] = '\\';
			s[o++] = 'n';
		}
		s[o++] = 'a';
	}
	s[o] = '\0';
	return s;
}

/* expect_ok - parse must succeed; the caller frees a */
static void
expect_ok(const char *in, size_t len, struct action *a)
{
	char err[ERRLEN];

	ck_assert_msg(action_parse(in, len, a, err, sizeof err) == 0,
	              "%.60s: %s", in, err);
}

/* expect_bad - parse must fail with msg in err, the action empty */
static void
expect_bad(const char *in, size_t len, const char *msg)
{
	struct action a;
	char err[ERRLEN];

	ck_assert_int_eq(action_parse(in, len, &a, err, sizeof err), -1);
	ck_assert_msg(strstr(err, msg) != NULL,
	              "%.60s: got \"%s\", want \"%s\"", in, err, msg);
	ck_assert_ptr_null(a.text);
	ck_assert_str_eq(a.enh, "");
}

START_TEST(action_parse_accepts_spec_actions)
{
	const struct good *g = &goods[_i];
	struct action a;

	expect_ok(g->in, strlen(g->in), &a);
	ck_assert_int_eq(a.type, g->type);
	ck_assert_int_eq(a.code, g->code);
	ck_assert_str_eq(a.enh, g->enh);
	if (g->text == NULL)
		ck_assert_ptr_null(a.text);
	else
		ck_assert_str_eq(a.text, g->text);
	action_free(&a);
}
END_TEST

/* GREYLIST's delays, in seconds. */
static const struct {
	const char *in;
	long long delay;
} delays[] = {
    {"GREYLIST", 300},         {"GREYLIST 1s", 1},      {"GREYLIST 90s", 90},
    {"GREYLIST 5M", 300},      {"GREYLIST 2h", 7200},   {"GREYLIST 1d", 86400},
    {"GREYLIST 24h x", 86400}, {"GREYLIST later", 300},
};

START_TEST(action_parse_reads_greylist_delays)
{
	struct action a;

	expect_ok(delays[_i].in, strlen(delays[_i].in), &a);
	ck_assert_int_eq(a.type, ACTION_GREYLIST);
	ck_assert_int_eq(a.delay, delays[_i].delay);
	action_free(&a);
}
END_TEST

START_TEST(action_parse_refuses_malformed_actions)
{
	const struct bad *b = &bads[_i];

	expect_bad(b->in, b->len != 0 ? b->len : strlen(b->in), b->msg);
}
END_TEST

START_TEST(action_parse_renders_spec_examples)
{
	const struct render *t = &renders[_i];
	struct action a;
	struct reply r;
	char err[ERRLEN], *s;

	expect_ok(t->in, strlen(t->in), &a);
	ck_assert_msg(action_reply(&a, t->table, &r, err, sizeof err) == 0,
	              "%s: %s", t->in, err);
	s = reply_smtp(&r);
	ck_assert_str_eq(s, t->smtp);
	free(s);
	reply_free(&r);
	action_free(&a);
}
END_TEST

/* A line at exactly 512 octets passes, one more fails (rows of lines). */
struct boundary {
	const char *prefix; /* before the x's */
	size_t nx;          /* how many 'x' */
	const char *suffix; /* after them */
	int ok;
};

static const struct boundary boundaries[] = {
    /* "550 5.7.1 " + text + CR LF: 10 + 500 + 2 = 512. */
    {"REJECT ", 499, "", 1},
    {"REJECT ", 500, "", 1},
    {"REJECT ", 501, "", 0},
    {"550 5.1.1 ", 500, "", 1},
    {"550 5.1.1 ", 501, "", 0},
    /* No enhanced code: 550's longest default is 5 characters. */
    {"550 ", 500, "", 1},
    {"550 ", 501, "", 0},
    /* 556 defaults to 5.1.10 (6), so one octet less is left. */
    {"556 ", 499, "", 1},
    {"556 ", 500, "", 0},
    {"556 5.1.1 ", 500, "", 1},
    /* A '%' counts twice: 498 + "%%" = 500 as sent. */
    {"REJECT ", 498, "%", 1},
    {"REJECT ", 499, "%", 0},
    {"REJECT %", 496, "%", 1},
    {"REJECT %", 497, "%", 0},
    /* The second line is measured too. */
    {"REJECT a\\n", 500, "", 1},
    {"REJECT a\\n", 501, "", 0},
    {"DEFER a\\n", 499, "%", 0},
    /* Log texts: ACTION_LOGTEXT_MAX bytes, '%' is not special. */
    {"HOLD ", 512, "", 1},
    {"HOLD ", 513, "", 0},
    {"WARN ", 511, "%", 1},
    {"DISCARD ", 513, "", 0},
};

START_TEST(action_parse_enforces_line_limit_at_boundary)
{
	const struct boundary *b = &boundaries[_i];
	char *s = repeat(b->prefix, b->nx, 'x', b->suffix);
	struct action a;

	if (b->ok) {
		expect_ok(s, strlen(s), &a);
		action_free(&a);
	} else {
		expect_bad(s, strlen(s), "too long");
	}
	free(s);
}
END_TEST

START_TEST(action_parse_reports_line_too_long)
{
	char *s = repeat("REJECT a\\nb\\n", 501, 'x', "");

	expect_bad(s, strlen(s),
	           "reply line 3 is too long (513 octets as sent");
	free(s);
}
END_TEST

START_TEST(action_parse_accepts_32_lines)
{
	char *s = lines_value(REPLY_LINES_MAX);
	struct action a;
	struct reply r;
	char err[ERRLEN];

	expect_ok(s, strlen(s), &a);
	ck_assert_int_eq(action_reply(&a, TABLE_CLIENT, &r, err, sizeof err),
	                 0);
	ck_assert_uint_eq(r.nlines, REPLY_LINES_MAX);
	reply_free(&r);
	action_free(&a);
	free(s);
}
END_TEST

START_TEST(action_parse_refuses_33_lines)
{
	char *s = lines_value(REPLY_LINES_MAX + 1);

	expect_bad(s, strlen(s), "reply has 33 lines, at most 32");
	free(s);
}
END_TEST

START_TEST(action_parse_refuses_100k_value)
{
	size_t n = 100 * 1024;
	char *s = repeat("REJECT ", n - 7, 'x', "");

	expect_bad(s, n, "action is too long (102400 bytes, at most 16384)");
	free(s);
}
END_TEST

START_TEST(action_parse_refuses_long_value_without_reading_it)
{
	struct action a;
	char err[ERRLEN];

	/* Nothing past the length test is read: a NULL pointer shows it. */
	ck_assert_int_eq(
	    action_parse(NULL, ACTION_MAX + 1, &a, err, sizeof err), -1);
	ck_assert_str_eq(err,
	                 "action is too long (16385 bytes, at most 16384)");
}
END_TEST

START_TEST(action_parse_accepts_value_of_action_max)
{
	char *s = repeat("", ACTION_MAX - 8, ' ', "REJECT x");
	struct action a;

	ck_assert_uint_eq(strlen(s), ACTION_MAX);
	expect_ok(s, ACTION_MAX, &a);
	ck_assert_str_eq(a.text, "x");
	action_free(&a);
	free(s);
	s = repeat("", ACTION_MAX - 7, ' ', "REJECT x");
	expect_bad(s, ACTION_MAX + 1, "action is too long (16385 bytes");
	free(s);
}
END_TEST

START_TEST(action_parse_reads_only_len_bytes)
{
	struct action a;

	/* "OK hello" cut after "OK": the rest is not the value's. */
	expect_ok("OK hello", 2, &a);
	ck_assert_int_eq(a.type, ACTION_OK);
	action_free(&a);
	expect_ok("REJECT Go away", 9, &a);
	ck_assert_str_eq(a.text, "Go");
	action_free(&a);
}
END_TEST

START_TEST(action_parse_bounds_err)
{
	struct action a;
	char err[8];

	memset(err, 'z', sizeof err);
	ck_assert_int_eq(action_parse("REJECTED", 8, &a, err, sizeof err), -1);
	ck_assert_uint_eq(strlen(err), sizeof err - 1);
	ck_assert_str_eq(err, "unknown");
	ck_assert_int_eq(action_parse("REJECTED", 8, &a, NULL, 0), -1);
	ck_assert_int_eq(action_parse("OK", 2, &a, err, 1), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(action_parse_quotes_long_word_shortened)
{
	char *s = repeat("", 200, 'Q', "");

	expect_bad(s, strlen(s),
	           "unknown action \"QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
	           "...\"");
	free(s);
	s = repeat("550 5.", 200, '1', "");
	expect_bad(s, strlen(s), "malformed enhanced code 5.1111");
	free(s);
}
END_TEST

START_TEST(action_free_accepts_zeroed_and_null)
{
	struct action a;

	memset(&a, 0, sizeof a);
	action_free(&a);
	action_free(&a);
	action_free(NULL);
}
END_TEST

START_TEST(action_type_name_names_types)
{
	ck_assert_str_eq(action_type_name(ACTION_OK), "OK");
	ck_assert_str_eq(action_type_name(ACTION_DUNNO), "DUNNO");
	ck_assert_str_eq(action_type_name(ACTION_REPLY), "REPLY");
	ck_assert_str_eq(action_type_name(ACTION_DISCARD), "DISCARD");
	ck_assert_str_eq(action_type_name(ACTION_HOLD), "HOLD");
	ck_assert_str_eq(action_type_name(ACTION_WARN), "WARN");
	ck_assert_str_eq(action_type_name(ACTION_GREYLIST), "GREYLIST");
	ck_assert_str_eq(action_type_name((enum action_type)99), "?");
}
END_TEST

/* action_suite - every test of the module */
static Suite *
action_suite(void)
{
	Suite *s = suite_create("action");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, action_parse_accepts_spec_actions, 0,
	                    (int)NELEM(goods));
	tcase_add_loop_test(tc, action_parse_reads_greylist_delays, 0,
	                    (int)NELEM(delays));
	tcase_add_loop_test(tc, action_parse_refuses_malformed_actions, 0,
	                    (int)NELEM(bads));
	tcase_add_loop_test(tc, action_parse_renders_spec_examples, 0,
	                    (int)NELEM(renders));
	tcase_add_loop_test(tc, action_parse_enforces_line_limit_at_boundary, 0,
	                    (int)NELEM(boundaries));
	tcase_add_test(tc, action_parse_reports_line_too_long);
	tcase_add_test(tc, action_parse_accepts_32_lines);
	tcase_add_test(tc, action_parse_refuses_33_lines);
	tcase_add_test(tc, action_parse_refuses_100k_value);
	tcase_add_test(tc, action_parse_refuses_long_value_without_reading_it);
	tcase_add_test(tc, action_parse_accepts_value_of_action_max);
	tcase_add_test(tc, action_parse_reads_only_len_bytes);
	tcase_add_test(tc, action_parse_bounds_err);
	tcase_add_test(tc, action_parse_quotes_long_word_shortened);
	tcase_add_test(tc, action_free_accepts_zeroed_and_null);
	tcase_add_test(tc, action_type_name_names_types);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; exit 0 only when nothing failed */
int
main(void)
{
	SRunner *sr = srunner_create(action_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
