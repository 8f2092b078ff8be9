/*
 * test_sockspec - libmilter's socket syntax (policy/common/sockspec.c)
 */
#include <string.h>

#include <check.h>

#include "sockspec.h"

static const struct good_case {
	const char *spec;
	enum sockspec_type type;
	const char *path; /* SOCKSPEC_UNIX */
	int port;
	const char *host;
} good[] = {
    {"unix:/run/redmilter/redmilter.sock", SOCKSPEC_UNIX,
     "/run/redmilter/redmilter.sock", 0, ""},
    {"local:/tmp/m.sock", SOCKSPEC_UNIX, "/tmp/m.sock", 0, ""},
    {"inet:8891@127.0.0.1", SOCKSPEC_INET, NULL, 8891, "127.0.0.1"},
    {"inet:1", SOCKSPEC_INET, NULL, 1, ""},
    {"inet6:65535@::1", SOCKSPEC_INET6, NULL, 65535, "::1"},
};

START_TEST(sockspec_parse_takes_every_type_apart)
{
	const struct good_case *c = &good[_i];
	struct sockspec s;
	char err[256] = "";

	ck_assert_msg(sockspec_parse(c->spec, &s, err, sizeof err) == 0, "%s",
	              err);
	ck_assert_int_eq(s.type, c->type);
	if (c->path != NULL)
		ck_assert_str_eq(s.path, c->path);
	else
		ck_assert_ptr_null(s.path);
	ck_assert_int_eq(s.port, c->port);
	ck_assert_str_eq(s.host, c->host);
}
END_TEST

static const struct bad_case {
	const char *spec;
	const char *err;
} bad[] = {
    {"/run/m.sock", "'/run/m.sock' has no type: write unix:/run/m.sock"},
    {"tcp:25", "'tcp:25' is not unix:PATH, local:PATH, inet:PORT[@HOST] or "
               "inet6:PORT[@HOST]"},
    {"unix:m.sock", "'m.sock' is not an absolute path"},
    {"inet:0@h", "port '0' is not a number 1..65535"},
    {"inet:65536", "port '65536' is not a number 1..65535"},
    {"inet:+25", "port '+25' is not a number 1..65535"},
    {"inet:25x", "port '25x' is not a number 1..65535"},
    {"inet:@h", "port '' is not a number 1..65535"},
    {"inet6:25@", "no host after '@'"},
};

START_TEST(sockspec_parse_refuses_with_a_clear_message)
{
	const struct bad_case *c = &bad[_i];
	struct sockspec s;
	char err[256] = "";

	ck_assert_int_eq(sockspec_parse(c->spec, &s, err, sizeof err), -1);
	ck_assert_str_eq(err, c->err);
}
END_TEST

START_TEST(sockspec_parse_refuses_a_path_too_long_for_a_socket)
{
	char spec[200] = "unix:/", err[256] = "";
	struct sockspec s;

	memset(spec + 6, 'a', 150);
	ck_assert_int_eq(sockspec_parse(spec, &s, err, sizeof err), -1);
	ck_assert_str_eq(err, "unix socket path longer than 107 bytes");
}
END_TEST

START_TEST(sockspec_unix_path_only_of_unix_specs)
{
	ck_assert_str_eq(sockspec_unix_path("unix:/a/b"), "/a/b");
	ck_assert_str_eq(sockspec_unix_path("local:/a/b"), "/a/b");
	ck_assert_ptr_null(sockspec_unix_path("inet:25@localhost"));
	ck_assert_ptr_null(sockspec_unix_path("/a/b"));
}
END_TEST

static Suite *
sockspec_suite(void)
{
	Suite *s = suite_create("sockspec");
	TCase *tc = tcase_create("sockspec");

	tcase_add_loop_test(tc, sockspec_parse_takes_every_type_apart, 0,
	                    sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, sockspec_parse_refuses_with_a_clear_message, 0,
	                    sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, sockspec_parse_refuses_a_path_too_long_for_a_socket);
	tcase_add_test(tc, sockspec_unix_path_only_of_unix_specs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sockspec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
