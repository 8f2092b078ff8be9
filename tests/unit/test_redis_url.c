/*
 * test_redis_url - the "redis" setting's URL forms (policy/common/redis_url.c)
 */
#include <string.h>

#include <check.h>

#include "redis_url.h"

struct url_case {
	const char *url;
	int rc;
	const char *host;
	int port;
	const char *path;
	int db;
	const char *user;
	const char *password;
	const char *shown; /* redis_url_show(), or the error */
};

static const struct url_case cases[] = {
    {"redis://127.0.0.1", 0, "127.0.0.1", 6379, "", 0, "", "",
     "redis://127.0.0.1"},
    {"redis://127.0.0.1:6380/2", 0, "127.0.0.1", 6380, "", 2, "", "",
     "redis://127.0.0.1:6380/2"},
    {"redis://:secret@localhost/1", 0, "localhost", 6379, "", 1, "", "secret",
     "redis://*****@localhost/1"},
    {"redis://:pa/ss@host:1234/3", 0, "host", 1234, "", 3, "", "pa/ss",
     "redis://*****@host:1234/3"},
    {"redis://user:p%40w@[::1]:6380/2", 0, "::1", 6380, "", 2, "user", "p@w",
     "redis://*****@[::1]:6380/2"},
    {"unix:/run/redis/redis.sock", 0, "", 0, "/run/redis/redis.sock", 0, "", "",
     "unix:/run/redis/redis.sock"},
    {"unix:/tmp/x.sock?db=4", 0, "", 0, "/tmp/x.sock", 4, "", "",
     "unix:/tmp/x.sock?db=4"},
    {"redis://h:99999", -1, "", 0, "", 0, "", "", "redis://: bad port"},
    {"redis://h:0", -1, "", 0, "", 0, "", "", "redis://: bad port"},
    {"redis://h/x", -1, "", 0, "", 0, "", "", "redis://: bad database number"},
    {"redis://", -1, "", 0, "", 0, "", "", "redis://: bad host"},
    {"redis://[::1", -1, "", 0, "", 0, "", "", "redis://: bad host"},
    {"redis://secret@h", -1, "", 0, "", 0, "", "",
     "redis://: expected ':password@' before the host"},
    {"redis://:bad%4@h", -1, "", 0, "", 0, "", "",
     "redis://: bad user or password (too long, or a bad %XX escape)"},
    {"unix:relative.sock", -1, "", 0, "", 0, "", "",
     "unix: needs an absolute socket path"},
    {"unix:/x.sock?db=x", -1, "", 0, "", 0, "", "",
     "unix: expected ?db=N after the path"},
    {"http://x", -1, "", 0, "", 0, "", "",
     "must start with redis://, unix: or sentinel://"},
    {"sentinel://h1", -1, "", 0, "", 0, "", "",
     "sentinel://: expected /MASTER after the Sentinels"},
    {"sentinel:///mymaster", -1, "", 0, "", 0, "", "",
     "sentinel://: no Sentinel given"},
    {"sentinel://h1/", -1, "", 0, "", 0, "", "",
     "sentinel://: bad master name"},
    {"sentinel://h1/m/x", -1, "", 0, "", 0, "", "",
     "sentinel://: bad database number"},
};

START_TEST(redis_url_parses_sentinel_lists)
{
	struct redis_url u;
	char err[256] = "", shown[256];

	ck_assert_int_eq(redis_url_parse("sentinel://:pw@127.0.0.1:26380,"
	                                 "[::1],host.example:7/mymaster/2",
	                                 &u, err, sizeof err),
	                 0);
	ck_assert_int_eq(u.is_sentinel, 1);
	ck_assert_int_eq(u.nsentinels, 3);
	ck_assert_str_eq(u.sentinel[0].host, "127.0.0.1");
	ck_assert_int_eq(u.sentinel[0].port, 26380);
	ck_assert_str_eq(u.sentinel[1].host, "::1");
	ck_assert_int_eq(u.sentinel[1].port, 26379);
	ck_assert_str_eq(u.sentinel[2].host, "host.example");
	ck_assert_int_eq(u.sentinel[2].port, 7);
	ck_assert_str_eq(u.master, "mymaster");
	ck_assert_int_eq(u.db, 2);
	ck_assert_str_eq(u.password, "pw");
	redis_url_show("sentinel://:pw@h1,h2/m", shown, sizeof shown);
	ck_assert_str_eq(shown, "sentinel://*****@h1,h2/m");
	ck_assert_int_eq(redis_url_parse("sentinel://a,b,c,d,e,f,g,h,i/m", &u,
	                                 err, sizeof err),
	                 -1);
	ck_assert_str_eq(err, "sentinel://: at most 8 Sentinels");
}
END_TEST

START_TEST(redis_url_parses_every_form)
{
	const struct url_case *c = &cases[_i];
	struct redis_url u;
	char err[256] = "", shown[512];

	ck_assert_int_eq(redis_url_parse(c->url, &u, err, sizeof err), c->rc);
	if (c->rc != 0) {
		ck_assert_str_eq(err, c->shown);
		ck_assert_ptr_null(strstr(err, "secret"));
		return;
	}
	ck_assert_str_eq(u.host, c->host);
	ck_assert_int_eq(u.port, c->port);
	ck_assert_str_eq(u.path, c->path);
	ck_assert_int_eq(u.db, c->db);
	ck_assert_str_eq(u.user, c->user);
	ck_assert_str_eq(u.password, c->password);
	redis_url_show(c->url, shown, sizeof shown);
	ck_assert_str_eq(shown, c->shown);
}
END_TEST

static Suite *
redis_url_suite(void)
{
	Suite *s = suite_create("redis_url");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, redis_url_parses_sentinel_lists);
	tcase_add_loop_test(tc, redis_url_parses_every_form, 0,
	                    (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(redis_url_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
