/*
 * test_store_cache - the lookup cache in front of a store
 * (policy/store/store_cache.c on policy/store/store_mem.c)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "store_cache.h"
#include "store_mem.h"

static struct store *mem, *cache;

static void
setup(void)
{
	char err[64];

	mem = store_mem_new();
	ck_assert_int_eq(mem->put(mem, "k:a", "OK", 2, 0, err, sizeof err),
	                 STORE_OK);
	cache = store_cache_new(mem, 60000, 1024);
}

static void
teardown(void)
{
	cache->close(cache); /* closes mem too */
}

/* get2 - mget of "k:a" and "k:none" through the cache */
static enum store_status
get2(struct store_value *v)
{
	const char *keys[2] = {"k:a", "k:none"};
	char err[128];

	return cache->mget(cache, keys, 2, v, err, sizeof err);
}

START_TEST(store_cache_second_lookup_costs_no_round_trip)
{
	struct store_value v[2];
	struct store_cache_stats s;

	ck_assert_int_eq(get2(v), STORE_OK);
	ck_assert_str_eq(v[0].val, "OK");
	ck_assert_int_eq(v[1].status, STORE_NOTFOUND);
	store_values_free(v, 2);
	ck_assert_uint_eq(store_mem_calls(mem), 1);
	ck_assert_int_eq(get2(v), STORE_OK);
	ck_assert_str_eq(v[0].val, "OK");
	ck_assert_int_eq(v[1].status, STORE_NOTFOUND);
	store_values_free(v, 2);
	ck_assert_uint_eq(store_mem_calls(mem), 1);
	store_cache_stats(cache, &s);
	ck_assert_uint_eq(s.hits, 2);
	ck_assert_uint_eq(s.misses, 2);
}
END_TEST

START_TEST(store_cache_fetches_only_missing_keys_in_one_call)
{
	const char *keys[3] = {"k:a", "k:b", "k:c"};
	struct store_value v[3];
	char err[64];

	ck_assert_int_eq(get2(v), STORE_OK);
	store_values_free(v, 2);
	mem->put(mem, "k:c", "DUNNO", 5, 0, err, sizeof err);
	ck_assert_int_eq(cache->mget(cache, keys, 3, v, err, sizeof err),
	                 STORE_OK);
	ck_assert_uint_eq(store_mem_calls(mem), 2);
	ck_assert_str_eq(v[0].val, "OK");
	ck_assert_int_eq(v[1].status, STORE_NOTFOUND);
	ck_assert_str_eq(v[2].val, "DUNNO");
	store_values_free(v, 3);
}
END_TEST

START_TEST(store_cache_entries_expire)
{
	struct store_value v[2];
	struct timespec nap = {0, 120 * 1000000L};
	char err[64];

	cache->close(cache);
	mem = store_mem_new();
	mem->put(mem, "k:a", "OK", 2, 0, err, sizeof err);
	cache = store_cache_new(mem, 50, 1024);
	ck_assert_int_eq(get2(v), STORE_OK);
	store_values_free(v, 2);
	/* an edit behind the cache's back shows after ttl_ms */
	mem->put(mem, "k:a", "REJECT", 6, 0, err, sizeof err);
	nanosleep(&nap, NULL);
	ck_assert_int_eq(get2(v), STORE_OK);
	ck_assert_str_eq(v[0].val, "REJECT");
	store_values_free(v, 2);
	ck_assert_uint_eq(store_mem_calls(mem), 2);
}
END_TEST

START_TEST(store_cache_failure_is_all_or_nothing)
{
	const char *keys[2] = {"k:a", "k:new"};
	struct store_value v[2];
	char err[128] = "";

	ck_assert_int_eq(get2(v), STORE_OK);
	store_values_free(v, 2);
	store_mem_fail(mem, STORE_ERR_RETRY);
	memset(v, 0, sizeof v);
	ck_assert_int_eq(cache->mget(cache, keys, 2, v, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_ptr_null(v[0].val);
	ck_assert_str_eq(err, "in-memory store: injected temporary failure");
	/* keys all cached: answered even while the backend is down */
	ck_assert_int_eq(get2(v), STORE_OK);
	store_values_free(v, 2);
}
END_TEST

START_TEST(store_cache_own_writes_are_seen_at_once)
{
	struct store_value v[2];
	struct store_op op = {"k:none", "REJECT", 6, 0};
	char err[64];

	ck_assert_int_eq(get2(v), STORE_OK);
	store_values_free(v, 2);
	ck_assert_int_eq(
	    cache->put(cache, "k:a", "DUNNO", 5, 0, err, sizeof err), STORE_OK);
	ck_assert_int_eq(cache->apply(cache, &op, 1, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(get2(v), STORE_OK);
	ck_assert_str_eq(v[0].val, "DUNNO");
	ck_assert_str_eq(v[1].val, "REJECT");
	store_values_free(v, 2);
	ck_assert_int_eq(cache->del(cache, "k:a", err, sizeof err), STORE_OK);
	ck_assert_int_eq(get2(v), STORE_OK);
	ck_assert_int_eq(v[0].status, STORE_NOTFOUND);
	store_values_free(v, 2);
}
END_TEST

START_TEST(store_cache_stays_within_its_size)
{
	char key[32], err[64];
	const char *keys[1] = {key};
	struct store_value v[1];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "k:%d", i);
		ck_assert_int_eq(
		    cache->mget(cache, keys, 1, v, err, sizeof err), STORE_OK);
	}
	/* the oldest were forgotten: asking again goes to the store */
	snprintf(key, sizeof key, "k:%d", 0);
	ck_assert_int_eq(cache->mget(cache, keys, 1, v, err, sizeof err),
	                 STORE_OK);
	ck_assert_uint_eq(store_mem_calls(mem), 20001);
}
END_TEST

static Suite *
store_cache_suite(void)
{
	Suite *s = suite_create("store_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_cache_second_lookup_costs_no_round_trip);
	tcase_add_test(tc, store_cache_fetches_only_missing_keys_in_one_call);
	tcase_add_test(tc, store_cache_entries_expire);
	tcase_add_test(tc, store_cache_failure_is_all_or_nothing);
	tcase_add_test(tc, store_cache_own_writes_are_seen_at_once);
	tcase_add_test(tc, store_cache_stays_within_its_size);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_cache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
