/*
 * test_resolve - a host's addresses within a deadline
 * (policy/common/resolve.c): an address is taken as it is, with no lookup
 * and no time needed; a name is looked up (localhost, from /etc/hosts);
 * a name with no time left is a timeout at once.
 */
#include <string.h>

#include <check.h>

#include "resolve.h"

static const char *const numeric[] = {"127.0.0.1", "::1", "10.1.2.3",
                                      "2001:db8::5"};

START_TEST(resolve_numeric_is_taken_as_it_is)
{
	struct resolve_addrs a;
	char err[256] = "";
	const char *h = numeric[_i];

	ck_assert_int_eq(resolve_numeric(h), 1);
	/* No time at all: an address needs no lookup. */
	ck_assert_int_eq(resolve_host(h, 0, &a, err, sizeof err), 0);
	ck_assert_int_eq(a.n, 1);
	ck_assert_str_eq(a.addr[0], h);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(resolve_names_are_not_numeric)
{
	ck_assert_int_eq(resolve_numeric("localhost"), 0);
	ck_assert_int_eq(resolve_numeric("redis.example.com"), 0);
	ck_assert_int_eq(resolve_numeric("127.0.0.1.example"), 0);
	ck_assert_int_eq(resolve_numeric(""), 0);
}
END_TEST

START_TEST(resolve_localhost)
{
	struct resolve_addrs a;
	char err[256] = "";
	int i, v6 = 0, loop = 0;

	ck_assert_int_eq(
	    resolve_host("localhost", 5000000, &a, err, sizeof err), 0);
	ck_assert_int_ge(a.n, 1);
	ck_assert_int_le(a.n, RESOLVE_ADDRS_MAX);
	for (i = 0; i < a.n; i++) {
		ck_assert_msg(resolve_numeric(a.addr[i]), "not numeric: %s",
		              a.addr[i]);
		loop |= strcmp(a.addr[i], "127.0.0.1") == 0 ||
		        strcmp(a.addr[i], "::1") == 0;
		/* IPv4 first, as hiredis prefers it */
		if (strchr(a.addr[i], ':') != NULL)
			v6 = 1;
		else
			ck_assert_msg(!v6, "IPv4 %s after IPv6", a.addr[i]);
	}
	ck_assert_msg(loop, "localhost is not 127.0.0.1 or ::1: %s", a.addr[0]);
}
END_TEST

START_TEST(resolve_name_without_time_times_out)
{
	struct resolve_addrs a;
	char err[256];

	ck_assert_int_eq(resolve_host("localhost", 0, &a, err, sizeof err), -1);
	ck_assert_int_eq(a.n, 0);
	ck_assert_str_eq(err, "resolving localhost: timed out after 0 ms");
}
END_TEST

/* Lookups one after the other: each thread finishes and frees its own. */
START_TEST(resolve_localhost_many_times)
{
	struct resolve_addrs a;
	char err[256];
	int i;

	for (i = 0; i < 4 * RESOLVE_LOOKUPS_MAX; i++)
		ck_assert_int_eq(
		    resolve_host("localhost", 5000000, &a, err, sizeof err), 0);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("resolve");

	tcase_add_loop_test(tc, resolve_numeric_is_taken_as_it_is, 0,
	                    (int)(sizeof numeric / sizeof numeric[0]));
	tcase_add_test(tc, resolve_names_are_not_numeric);
	tcase_add_test(tc, resolve_localhost);
	tcase_add_test(tc, resolve_name_without_time_times_out);
	tcase_add_test(tc, resolve_localhost_many_times);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(resolve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
