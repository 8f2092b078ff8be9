/*
 * test_store_open - the store a configuration describes
 * (policy/store/store_open.c).  Nothing here connects: store_open() makes
 * no connection, so no Redis is needed.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conf.h"
#include "store.h"
#include "store_open.h"

/* with - a configuration at its defaults but for redis and redis_read */
static void
with(struct conf *c, const char *redis, const char *redis_read)
{
	conf_init(c);
	/* Set behind conf_set()'s back, to reach store_open()'s own check. */
	free(c->redis);
	c->redis = strdup(redis);
	c->redis_read = redis_read != NULL ? strdup(redis_read) : NULL;
}

START_TEST(store_open_builds_each_kind_of_stack)
{
	static const char *const tables[] = {"redmilter:client:",
	                                     "redmilter:recipient:"};
	static const struct store_open_opts opts[] = {
	    {0, 0, 0, NULL, 0, NULL},
	    {1, 30000, 1, NULL, 0, NULL},
	    {0, 0, 0, tables, 2, NULL},
	    {4, 0, 1, tables, 2, NULL},
	};
	char err[600] = "";
	struct store *st;
	struct conf c;

	with(&c, "redis://127.0.0.1:1/0", "unix:/nonexistent/redis.sock");
	st = store_open(&c, &opts[_i], err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	store_start(st); /* the tracked store's thread: nothing answers */
	st->close(st);
	conf_free(&c);
}
END_TEST

START_TEST(store_open_names_the_setting_at_fault)
{
	struct store_open_opts o = {0, 0, 0, NULL, 0, NULL};
	char err[600] = "";
	struct conf c;

	with(&c, "http://x", NULL);
	ck_assert_ptr_null(store_open(&c, &o, err, sizeof err));
	ck_assert_str_eq(
	    err, "redis: must start with redis://, unix: or sentinel://");
	conf_free(&c);

	with(&c, "redis://127.0.0.1", "redis://h:0");
	ck_assert_ptr_null(store_open(&c, &o, err, sizeof err));
	ck_assert_str_eq(err, "redis_read: redis://: bad port");
	conf_free(&c);
}
END_TEST

START_TEST(store_open_primary_only_ignores_redis_read)
{
	struct store_open_opts o = {1, 0, 1, NULL, 0, NULL};
	char err[600] = "";
	struct store *st;
	struct conf c;

	/* A broken redis_read is never looked at. */
	with(&c, "redis://127.0.0.1", "redis://h:0");
	st = store_open(&c, &o, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	st->close(st);
	conf_free(&c);
}
END_TEST

static Suite *
store_open_suite(void)
{
	Suite *s = suite_create("store_open");
	TCase *tc = tcase_create("store_open");

	tcase_add_loop_test(tc, store_open_builds_each_kind_of_stack, 0, 4);
	tcase_add_test(tc, store_open_names_the_setting_at_fault);
	tcase_add_test(tc, store_open_primary_only_ignores_redis_read);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_open_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
