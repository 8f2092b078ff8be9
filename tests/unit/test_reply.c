/*
 * test_reply - unit tests of reply_build(), action_reply() and the two
 * renderings.
 *
 * Replies are built both from parsed rules and from hand-made actions
 * (through action_reply(), which hands reply_build() their code, enhanced
 * code and text), since a broken action must be refused whatever its origin.
 * Run: ./test_reply (CK_FORK=no under valgrind).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "action.h"
#include "reply.h"
#include "table.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ERRLEN 256

/* hand - a hand-made REPLY action; text is borrowed, not freed */
static struct action
hand(int code, const char *enh, const char *text)
{
	struct action a;

	memset(&a, 0, sizeof a);
	a.type = ACTION_REPLY;
	a.code = code;
	if (enh != NULL)
		memcpy(a.enh, enh, strlen(enh) + 1);
	a.text = (char *)text; /* never freed: see hand() users */
	return a;
}

/* build_ok - build must succeed; the caller frees r */
static void
build_ok(const struct action *a, enum table t, struct reply *r)
{
	char err[ERRLEN];

	ck_assert_msg(action_reply(a, t, r, err, sizeof err) == 0, "%s", err);
}

/* build_bad - build must fail with msg in err and leave r empty */
static void
build_bad(const struct action *a, enum table t, const char *msg)
{
	struct reply r;
	char err[ERRLEN];

	ck_assert_int_eq(action_reply(a, t, &r, err, sizeof err), -1);
	ck_assert_msg(strstr(err, msg) != NULL, "got \"%s\", want \"%s\"", err,
	              msg);
	ck_assert_ptr_null(r.lines);
	ck_assert_uint_eq(r.nlines, 0);
}

/* Hand-made actions and what reply_smtp() and line 0 for libmilter give. */
struct render {
	int code;
	const char *enh;
	const char *text;
	enum table table;
	const char *smtp;
	const char *milter0;
};

static const struct render renders[] = {
    {550, "5.7.1", "Access denied", TABLE_CLIENT, "550 5.7.1 Access denied",
     "Access denied"},
    {450, "4.7.1", "Try again later", TABLE_PAIR, "450 4.7.1 Try again later",
     "Try again later"},
    {552, "5.2.2", "Mailbox full", TABLE_RECIPIENT, "552 5.2.2 Mailbox full",
     "Mailbox full"},
    {552, "", NULL, TABLE_RECIPIENT, "552 5.2.2 Mailbox full", "Mailbox full"},
    {550, "", NULL, TABLE_RECIPIENT, "550 5.1.1 Mailbox not found",
     "Mailbox not found"},
    {550, "", NULL, TABLE_HELO, "550 5.7.1 Rejected by policy",
     "Rejected by policy"},
    {553, "", "Bad", TABLE_PAIR, "553 5.1.3 Bad", "Bad"},
    {553, "", NULL, TABLE_AUTH, "553 5.1.7 Mailbox name invalid",
     "Mailbox name invalid"},
    {455, "", NULL, TABLE_CLIENT, "455 4.0.0 Requested action not taken",
     "Requested action not taken"},
    {557, "", NULL, TABLE_SENDER, "557 5.0.0 Requested action not taken",
     "Requested action not taken"},
    {556, "", "x", TABLE_SENDER, "556 5.1.10 x", "x"},
    {550, "5.7.1", "100% full", TABLE_CLIENT, "550 5.7.1 100% full",
     "100%% full"},
    {550, "5.7.1", "%%s %d", TABLE_CLIENT, "550 5.7.1 %%s %d", "%%%%s %%d"},
    {550, "5.7.1", "%", TABLE_CLIENT, "550 5.7.1 %", "%%"},
    {550, "5.1.1", "one\\ntwo", TABLE_CLIENT, "550-5.1.1 one\r\n550 5.1.1 two",
     "one"},
    {451, "4.3.0", "50%\\nof it", TABLE_CLIENT,
     "451-4.3.0 50%\r\n451 4.3.0 of it", "50%%"},
    {550, "5.7.1", "a\\n\\nb", TABLE_CLIENT,
     "550-5.7.1 a\r\n550-5.7.1 \r\n550 5.7.1 b", "a"},
    {550, "5.7.1", "", TABLE_CLIENT, "550 5.7.1 ", ""},
    {550, "5.7.1", "back\\slash", TABLE_CLIENT, "550 5.7.1 back\\slash",
     "back\\slash"},
};

START_TEST(reply_renders_for_smtp_and_milter)
{
	const struct render *t = &renders[_i];
	struct action a = hand(t->code, t->enh, t->text);
	struct reply r;
	char *s;

	build_ok(&a, t->table, &r);
	s = reply_smtp(&r);
	ck_assert_str_eq(s, t->smtp);
	free(s);
	s = reply_milter_line(&r, 0);
	ck_assert_str_eq(s, t->milter0);
	free(s);
	reply_free(&r);
}
END_TEST

/* Hand-made actions that break a reply rule, and the message. */
struct bad {
	int code;
	const char *enh;
	const char *text;
	const char *msg;
};

static const struct bad bads[] = {
    {250, "", "x", "reply code 250 is not 4xx or 5xx: acceptance is OK"},
    {354, "", NULL, "reply code 354 is not 4xx or 5xx: acceptance is OK"},
    {650, "", "x", "reply code 650 is not 4xx or 5xx"},
    {99, "", "x", "reply code 099 is not 4xx or 5xx"},
    {0, "", "x", "reply code 000 is not 4xx or 5xx"},
    {-550, "", "x", "reply code -550 is not three digits"},
    {1550, "", "x", "reply code 1550 is not three digits"},
    {570, "", "x", "reply code 570 is invalid"},
    {486, "", "x", "reply code 486 is invalid"},
    {550, "5.7", "x", "malformed enhanced code 5.7"},
    {550, "5.7.", "x", "malformed enhanced code 5.7."},
    {550, "5.7.1.", "x", "malformed enhanced code 5.7.1."},
    {550, "5.7.1x", "x", "malformed enhanced code 5.7.1x"},
    {550, "5.1000.1", "x", "malformed enhanced code 5.1000.1"},
    {550, "x.7.1", "x", "malformed enhanced code x.7.1"},
    {550, " 5.7.1", "x", "malformed enhanced code  5.7.1"},
    {550, "5.7.1\n", "x", "malformed enhanced code"},
    {550, "4.7.1", "x", "enhanced code 4.7.1 does not match reply code 550"},
    {450, "5.7.1", "x", "enhanced code 5.7.1 does not match reply code 450"},
    {550, "55.7.1", "x", "enhanced code 55.7.1 does not match reply code 550"},
    {550, "2.0.0", "x", "enhanced code 2.0.0 does not match reply code 550"},
    {550, "5.7.1", "a\r\nb",
     "text contains control character 0x0d at offset 1"},
    {550, "5.7.1", "a\nb", "text contains control character 0x0a at offset 1"},
    {550, "5.7.1", "\tb", "text contains control character 0x09 at offset 0"},
    {550, "5.7.1", "ab\x7f",
     "text contains control character 0x7f at offset 2"},
    {550, "5.7.1", "caf\xc3\xa9",
     "text contains non-ASCII byte 0xc3 at offset 3"},
    {550, "", "\x80", "text contains non-ASCII byte 0x80 at offset 0"},
};

START_TEST(reply_build_refuses_broken_actions)
{
	const struct bad *b = &bads[_i];
	struct action a = hand(b->code, b->enh, b->text);

	build_bad(&a, TABLE_CLIENT, b->msg);
}
END_TEST

START_TEST(reply_build_refuses_unterminated_enh)
{
	struct action a = hand(550, NULL, "x");

	memset(a.enh, '5', sizeof a.enh);
	build_bad(&a, TABLE_CLIENT, "malformed enhanced code");
}
END_TEST

START_TEST(action_reply_refuses_other_action_types)
{
	static const enum action_type types[] = {
	    ACTION_OK, ACTION_DUNNO, ACTION_DISCARD, ACTION_HOLD, ACTION_WARN};
	struct action a;
	size_t i;

	memset(&a, 0, sizeof a);
	for (i = 0; i < NELEM(types); i++) {
		a.type = types[i];
		build_bad(&a, TABLE_CLIENT, "is not a reply action");
	}
	a.type = ACTION_WARN;
	build_bad(&a, TABLE_CLIENT, "WARN is not a reply action");
}
END_TEST

START_TEST(reply_build_refuses_unknown_table)
{
	struct action a = hand(550, "5.7.1", "x");

	build_bad(&a, TABLE_COUNT, "unknown table");
	build_bad(&a, (enum table) - 1, "unknown table");
}
END_TEST

/* text_of - a malloc'd text: n lines, each of len characters c */
static char *
text_of(size_t n, size_t len, char c)
{
	char *s = malloc(n * (len + 2) + 1), *o = s;
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			*o++ = '\\';
			*o++ = 'n';
		}
		memset(o, c, len);
		o += len;
	}
	*o = '\0';
	return s;
}

START_TEST(reply_build_accepts_32_lines_and_refuses_33)
{
	char *text = text_of(REPLY_LINES_MAX, 3, 'a'), *s, *p;
	struct action a = hand(550, "5.7.1", text);
	struct reply r;
	size_t crlf = 0;

	build_ok(&a, TABLE_CLIENT, &r);
	ck_assert_uint_eq(r.nlines, 32);
	ck_assert_str_eq(r.lines[31], "aaa");
	s = reply_smtp(&r);
	for (p = s; (p = strstr(p, "\r\n")) != NULL; p += 2)
		crlf++;
	ck_assert_uint_eq(crlf, 31);
	ck_assert_ptr_nonnull(strstr(s, "\r\n550 5.7.1 aaa"));
	ck_assert_ptr_null(strstr(s, "550 5.7.1 aaa\r\n"));
	free(s);
	reply_free(&r);
	free(text);
	text = text_of(REPLY_LINES_MAX + 1, 3, 'a');
	a = hand(550, "5.7.1", text);
	build_bad(&a, TABLE_CLIENT, "reply has 33 lines, at most 32");
	free(text);
}
END_TEST

/* The 512-octet limit, CR LF included and '%' counted twice. */
struct limit {
	int code;
	const char *enh;
	size_t len; /* characters of the text */
	size_t pct; /* of which '%' */
	int ok;
};

static const struct limit limits[] = {
    {550, "5.7.1", 499, 0, 1},     {550, "5.7.1", 500, 0, 1},
    {550, "5.7.1", 501, 0, 0},     {550, "5.7.1", 499, 1, 1},
    {550, "5.7.1", 500, 1, 0},     {550, "5.7.1", 250, 250, 1},
    {550, "5.7.1", 251, 250, 0},   {550, "5.7.1", 251, 251, 0},
    {556, "", 499, 0, 1},          {556, "", 500, 0, 0},
    {550, "5.123.123", 496, 0, 1}, {550, "5.123.123", 497, 0, 0},
};

START_TEST(reply_build_enforces_512_octets_at_boundary)
{
	const struct limit *l = &limits[_i];
	char *text = text_of(1, l->len, 'x');
	struct action a;
	struct reply r;

	memset(text, '%', l->pct);
	a = hand(l->code, l->enh, text);
	if (l->ok) {
		char *m;

		build_ok(&a, TABLE_CLIENT, &r);
		m = reply_milter_line(&r, 0);
		/* As sent: "550 " enh ' ' text CR LF, with '%' doubled. */
		ck_assert_uint_le(4 + strlen(r.enh) + 1 + strlen(m) + 2,
		                  REPLY_LINE_MAX);
		ck_assert_uint_eq(strlen(m), l->len + l->pct);
		free(m);
		reply_free(&r);
	} else {
		build_bad(&a, TABLE_CLIENT, "reply line 1 is too long");
	}
	free(text);
}
END_TEST

START_TEST(reply_milter_line_doubles_percent_per_line)
{
	struct action a = hand(550, "5.7.1", "100% full\\n%\\nno pct\\n%%");
	static const char *const want[] = {"100%% full", "%%", "no pct",
	                                   "%%%%"};
	struct reply r;
	size_t i;
	char *s;

	build_ok(&a, TABLE_CLIENT, &r);
	ck_assert_uint_eq(r.nlines, NELEM(want));
	for (i = 0; i < r.nlines; i++) {
		s = reply_milter_line(&r, i);
		ck_assert_str_eq(s, want[i]);
		free(s);
	}
	ck_assert_ptr_null(reply_milter_line(&r, r.nlines));
	s = reply_smtp(&r);
	ck_assert_str_eq(s, "550-5.7.1 100% full\r\n550-5.7.1 %\r\n"
	                    "550-5.7.1 no pct\r\n550 5.7.1 %%");
	free(s);
	reply_free(&r);
}
END_TEST

START_TEST(reply_build_fills_fields)
{
	struct action a = hand(552, "", NULL);
	struct reply r;

	build_ok(&a, TABLE_RECIPIENT, &r);
	ck_assert_str_eq(r.code, "552");
	ck_assert_str_eq(r.enh, "5.2.2");
	ck_assert_uint_eq(r.nlines, 1);
	ck_assert_str_eq(r.lines[0], "Mailbox full");
	reply_free(&r);
	ck_assert_ptr_null(r.lines);
	ck_assert_uint_eq(r.nlines, 0);
}
END_TEST

START_TEST(reply_is_temporary_follows_class)
{
	struct action a = hand(450, "", NULL);
	struct reply r;

	build_ok(&a, TABLE_CLIENT, &r);
	ck_assert_int_ne(reply_is_temporary(&r), 0);
	reply_free(&r);
	a = hand(421, "", NULL);
	build_ok(&a, TABLE_CLIENT, &r);
	ck_assert_int_ne(reply_is_temporary(&r), 0);
	reply_free(&r);
	a = hand(550, "", NULL);
	build_ok(&a, TABLE_CLIENT, &r);
	ck_assert_int_eq(reply_is_temporary(&r), 0);
	reply_free(&r);
}
END_TEST

START_TEST(reply_build_from_parsed_rules)
{
	static const char *const rules[] = {"REJECT", "DEFER",
	                                    "552 5.2.2 Mailbox full"};
	static const char *const want[] = {"550 5.7.1 Access denied",
	                                   "450 4.7.1 Try again later",
	                                   "552 5.2.2 Mailbox full"};
	struct action a;
	struct reply r;
	char err[ERRLEN], *s;
	size_t i;
	int t;

	for (i = 0; i < NELEM(rules); i++) {
		ck_assert_int_eq(action_parse(rules[i], strlen(rules[i]), &a,
		                              err, sizeof err),
		                 0);
		for (t = 0; t < TABLE_COUNT; t++) {
			build_ok(&a, (enum table)t, &r);
			s = reply_smtp(&r);
			ck_assert_str_eq(s, want[i]);
			free(s);
			reply_free(&r);
		}
		action_free(&a);
	}
}
END_TEST

START_TEST(reply_free_and_renderings_accept_empty_reply)
{
	struct reply r;

	memset(&r, 0, sizeof r);
	reply_free(&r);
	reply_free(&r);
	reply_free(NULL);
	ck_assert_ptr_null(reply_smtp(&r));
	ck_assert_ptr_null(reply_milter_line(&r, 0));
}
END_TEST

START_TEST(reply_build_takes_the_catalogue_for_what_is_not_given)
{
	struct reply r;
	char err[256];

	ck_assert_int_eq(
	    reply_build(550, NULL, NULL, TABLE_RECIPIENT, &r, err, sizeof err),
	    0);
	ck_assert_str_eq(r.code, "550");
	ck_assert_str_eq(r.enh, "5.1.1");
	ck_assert_uint_eq(r.nlines, 1);
	reply_free(&r);
	ck_assert_int_eq(
	    reply_build(550, "", "Go away", TABLE_CLIENT, &r, err, sizeof err),
	    0);
	ck_assert_str_eq(r.enh, "5.7.1");
	ck_assert_str_eq(r.lines[0], "Go away");
	reply_free(&r);
	ck_assert_int_eq(
	    reply_build(550, "4.7.1", NULL, TABLE_CLIENT, &r, err, sizeof err),
	    -1);
	ck_assert_str_eq(err,
	                 "enhanced code 4.7.1 does not match reply code 550");
}
END_TEST

START_TEST(reply_build_bounds_err)
{
	struct action a = hand(250, "", NULL);
	struct reply r;
	char err[6];

	ck_assert_int_eq(action_reply(&a, TABLE_CLIENT, &r, err, sizeof err),
	                 -1);
	ck_assert_str_eq(err, "reply");
	ck_assert_int_eq(action_reply(&a, TABLE_CLIENT, &r, NULL, 0), -1);
}
END_TEST

/* reply_suite - every test of the module */
static Suite *
reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("build");

	tcase_add_loop_test(tc, reply_renders_for_smtp_and_milter, 0,
	                    (int)NELEM(renders));
	tcase_add_loop_test(tc, reply_build_refuses_broken_actions, 0,
	                    (int)NELEM(bads));
	tcase_add_loop_test(tc, reply_build_enforces_512_octets_at_boundary, 0,
	                    (int)NELEM(limits));
	tcase_add_test(tc, reply_build_refuses_unterminated_enh);
	tcase_add_test(tc, action_reply_refuses_other_action_types);
	tcase_add_test(tc, reply_build_refuses_unknown_table);
	tcase_add_test(tc, reply_build_accepts_32_lines_and_refuses_33);
	tcase_add_test(tc, reply_milter_line_doubles_percent_per_line);
	tcase_add_test(tc, reply_build_fills_fields);
	tcase_add_test(tc, reply_is_temporary_follows_class);
	tcase_add_test(tc, reply_build_from_parsed_rules);
	tcase_add_test(tc, reply_free_and_renderings_accept_empty_reply);
	tcase_add_test(tc,
	               reply_build_takes_the_catalogue_for_what_is_not_given);
	tcase_add_test(tc, reply_build_bounds_err);
	suite_add_tcase(s, tc);
	return s;
}

/* main - run the suite; exit 0 only when nothing failed */
int
main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
