/*
 * test_ctl_hits - what redmilterctl's get, list --hits, top and stale print
 * of the hit counters (policy/ctl/ctl_hits.c): rule names, times, the
 * N and DAYS arguments, staleness and the two orders
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ctl_hits.h"
#include "table.h"

START_TEST(ctl_hits_rule_is_table_colon_key)
{
	static const struct {
		int table;
		const char *key, *want;
	} cases[] = {
	    {TABLE_RECIPIENT, "bob@example.com", "recipient:bob@example.com"},
	    {TABLE_CLIENT, "192.0.2.0/24", "client:192.0.2.0/24"},
	    {TABLE_LIMIT, "auth:*", "limit:auth:*"},
	    {TABLE_PAIR, "<>,noreply@example.com",
	     "pair:<>,noreply@example.com"},
	    {TABLE_HELO, "", "helo:"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = ctl_hits_rule(cases[i].table, cases[i].key);

		ck_assert_str_eq(s, cases[i].want);
		free(s);
	}
}
END_TEST

START_TEST(ctl_hits_when_prints_utc_never_or_question_mark)
{
	static const struct {
		long long last;
		const char *want;
	} cases[] = {
	    {0, "never"},
	    {-5, "never"},
	    {1, "1970-01-01T00:00:01Z"},
	    {1796299201, "2026-12-03T12:00:01Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	    {4102444799, "2099-12-31T23:59:59Z"},
	    {0x7fffffffffffffffLL, "?"},
	};
	char buf[CTL_HITS_WHEN_SIZE];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_str_eq(ctl_hits_when(cases[i].last, buf, sizeof buf),
		                 cases[i].want);
}
END_TEST

START_TEST(ctl_hits_when_never_overflows_a_short_buffer)
{
	char buf[6];

	ck_assert_str_eq(ctl_hits_when(1796299201, buf, sizeof buf), "?");
	ck_assert_str_eq(ctl_hits_when(0, buf, sizeof buf), "never");
}
END_TEST

START_TEST(ctl_hits_number_takes_plain_decimals_in_range)
{
	static const struct {
		const char *s;
		long long min, max;
		int ok;
		long long want;
	} cases[] = {
	    {"0", 0, 36500, 1, 0},
	    {"36500", 0, 36500, 1, 36500},
	    {"007", 0, 36500, 1, 7},
	    {"36501", 0, 36500, 0, 0},
	    {"0", 1, 10, 0, 0},
	    {"-1", 0, 10, 0, 0},
	    {"+1", 0, 10, 0, 0},
	    {" 1", 0, 10, 0, 0},
	    {"1 ", 0, 10, 0, 0},
	    {"1.5", 0, 10, 0, 0},
	    {"2d", 0, 10, 0, 0},
	    {"", 0, 10, 0, 0},
	    {"0x10", 0, 100, 0, 0},
	    {"99999999999999999999", 0, 0x7fffffffffffffffLL, 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long long x = -42;
		int rc =
		    ctl_hits_number(cases[i].s, cases[i].min, cases[i].max, &x);

		ck_assert_msg((rc == 0) == cases[i].ok, "'%s': %d", cases[i].s,
		              rc);
		ck_assert_int_eq(x, cases[i].ok ? cases[i].want : -42);
	}
}
END_TEST

START_TEST(ctl_hits_stale_counts_whole_days_back_from_now)
{
	const long long now = 1796299201, day = 86400;

	ck_assert(ctl_hits_stale(0, now, 36500));
	ck_assert(ctl_hits_stale(now - 3 * day, now, 2));
	ck_assert(!ctl_hits_stale(now - day, now, 2));
	ck_assert(ctl_hits_stale(now - day, now, 1));
	ck_assert(!ctl_hits_stale(now - day + 1, now, 1));
	ck_assert(ctl_hits_stale(now, now, 0));
	ck_assert(!ctl_hits_stale(now + 1, now, 0));
}
END_TEST

/* The rows both orders are tried on: name, count, last hit. */
static const struct {
	const char *rule;
	long long count, last;
} sample[] = {
    {"recipient:b", 12, 100}, {"client:x", 12, 300},    {"sender:s", 40, 50},
    {"recipient:a", 0, 0},    {"limit:auth:*", 3, 100}, {"helo:h", 0, 0},
};
#define NSAMPLE (sizeof sample / sizeof sample[0])

/* sample_rows - the sample as malloc'd rows (ctl_hits_rows_free()) */
static struct ctl_hits_row *
sample_rows(void)
{
	struct ctl_hits_row *rows = calloc(NSAMPLE, sizeof *rows);
	size_t i;

	ck_assert_ptr_nonnull(rows);
	for (i = 0; i < NSAMPLE; i++) {
		rows[i].rule = strdup(sample[i].rule);
		ck_assert_ptr_nonnull(rows[i].rule);
		rows[i].val = "OK";
		rows[i].hit.count = sample[i].count;
		rows[i].hit.last = sample[i].last;
	}
	return rows;
}

/* names - the rows' rule names, space-separated, in buf */
static const char *
names(const struct ctl_hits_row *rows, size_t n, char *buf, size_t len)
{
	size_t i, at = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t l = strlen(rows[i].rule);

		ck_assert_uint_lt(at + l + 1, len);
		if (i > 0)
			buf[at++] = ' ';
		memcpy(buf + at, rows[i].rule, l + 1);
		at += l;
	}
	return buf;
}

START_TEST(ctl_hits_sort_top_by_count_then_name)
{
	struct ctl_hits_row *rows = sample_rows();
	char buf[256];

	ctl_hits_sort_top(rows, NSAMPLE);
	ck_assert_str_eq(names(rows, NSAMPLE, buf, sizeof buf),
	                 "sender:s client:x recipient:b limit:auth:* "
	                 "helo:h recipient:a");
	ctl_hits_sort_top(rows, 0);
	ctl_hits_rows_free(rows, NSAMPLE);
}
END_TEST

START_TEST(ctl_hits_sort_stale_never_first_then_oldest_then_name)
{
	struct ctl_hits_row *rows = sample_rows();
	char buf[256];

	ctl_hits_sort_stale(rows, NSAMPLE);
	ck_assert_str_eq(names(rows, NSAMPLE, buf, sizeof buf),
	                 "helo:h recipient:a sender:s limit:auth:* "
	                 "recipient:b client:x");
	ctl_hits_rows_free(rows, NSAMPLE);
}
END_TEST

START_TEST(ctl_hits_rows_free_takes_null)
{
	ctl_hits_rows_free(NULL, 3);
}
END_TEST

static Suite *
ctl_hits_suite(void)
{
	Suite *s = suite_create("ctl_hits");
	TCase *tc = tcase_create("ctl_hits");

	tcase_add_test(tc, ctl_hits_rule_is_table_colon_key);
	tcase_add_test(tc, ctl_hits_when_prints_utc_never_or_question_mark);
	tcase_add_test(tc, ctl_hits_when_never_overflows_a_short_buffer);
	tcase_add_test(tc, ctl_hits_number_takes_plain_decimals_in_range);
	tcase_add_test(tc, ctl_hits_stale_counts_whole_days_back_from_now);
	tcase_add_test(tc, ctl_hits_sort_top_by_count_then_name);
	tcase_add_test(tc,
	               ctl_hits_sort_stale_never_first_then_oldest_then_name);
	tcase_add_test(tc, ctl_hits_rows_free_takes_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ctl_hits_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
