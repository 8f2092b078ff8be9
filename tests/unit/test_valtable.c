/*
 * test_valtable - the rule values the tracked store keeps in memory
 * (policy/store/valtable.c): bounded, expiring by the caller's clock
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "valtable.h"

/* has - whether t holds name with value want at time now */
static int
has(struct valtable *t, const char *name, long long now, const char *want)
{
	char *v = NULL;
	size_t len = 0;
	int ok;

	if (!valtable_get(t, name, now, &v, &len))
		return 0;
	ok = want != NULL && len == strlen(want) && memcmp(v, want, len) == 0 &&
	     v[len] == '\0';
	free(v);
	return ok;
}

START_TEST(valtable_puts_gets_replaces_and_deletes)
{
	struct valtable *t = valtable_new(16);

	ck_assert(!has(t, "k", 0, NULL));
	valtable_put(t, "k", "550 5.7.1 A", 11, 0);
	ck_assert(has(t, "k", 0, "550 5.7.1 A"));
	valtable_put(t, "k", "552 5.2.2 B", 11, 0);
	ck_assert(has(t, "k", 1000000, "552 5.2.2 B"));
	ck_assert_uint_eq(valtable_count(t), 1);
	valtable_del(t, "k");
	ck_assert(!has(t, "k", 0, NULL));
	valtable_del(t, "k");
	ck_assert_uint_eq(valtable_count(t), 0);
	valtable_free(t);
}
END_TEST

START_TEST(valtable_keeps_nul_bytes_in_a_value)
{
	struct valtable *t = valtable_new(16);
	char *v;
	size_t len;

	valtable_put(t, "k", "a\0b", 3, 0);
	ck_assert(valtable_get(t, "k", 0, &v, &len));
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(v, "a\0b", 4);
	free(v);
	valtable_free(t);
}
END_TEST

START_TEST(valtable_drops_a_value_at_its_moment)
{
	struct valtable *t = valtable_new(16);

	valtable_put(t, "k", "v", 1, 1000);
	ck_assert(has(t, "k", 999, "v"));
	ck_assert(!has(t, "k", 1000, NULL));
	ck_assert_uint_eq(valtable_count(t), 0);
	valtable_free(t);
}
END_TEST

/* Full, it drops what was not read: a value read since stays. */
START_TEST(valtable_holds_at_most_max_and_keeps_what_is_read)
{
	struct valtable *t = valtable_new(100);
	char name[32];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "k%d", i);
		valtable_put(t, name, name, strlen(name), 0);
	}
	for (i = 0; i < 1000; i++) {
		ck_assert(has(t, "k7", 0, "k7"));
		snprintf(name, sizeof name, "n%d", i);
		valtable_put(t, name, name, strlen(name), 0);
		ck_assert_uint_eq(valtable_count(t), 100);
		ck_assert(has(t, name, 0, name));
	}
	ck_assert(has(t, "k7", 0, "k7"));
	valtable_free(t);
}
END_TEST

/*
 * Random puts, deletes and gets of 500 names in a table of 64, against a
 * model: a deleted name is never found, a name put is found with its last
 * value or not at all (evicted), and the table never holds more than 64.
 */
START_TEST(valtable_survives_churn)
{
	struct valtable *t = valtable_new(64);
	char name[32], val[32], *v;
	unsigned x = 12345;
	int i, j, gen[500] = {0}, live[500] = {0};
	size_t len;

	for (i = 0; i < 100000; i++) {
		x = x * 1103515245 + 12345;
		j = (int)((x >> 8) % 500);
		snprintf(name, sizeof name, "key:%d", j);
		switch ((x >> 20) % 3) {
		case 0:
			valtable_del(t, name);
			live[j] = 0;
			break;
		case 1:
			snprintf(val, sizeof val, "%d", ++gen[j]);
			valtable_put(t, name, val, strlen(val), 0);
			live[j] = 1;
			break;
		default:
			if (!valtable_get(t, name, 0, &v, &len)) {
				live[j] = 0; /* evicted, or not there */
				break;
			}
			ck_assert_msg(live[j], "%s found after its delete",
			              name);
			snprintf(val, sizeof val, "%d", gen[j]);
			ck_assert_str_eq(v, val);
			free(v);
			break;
		}
		ck_assert_uint_le(valtable_count(t), 64);
	}
	valtable_clear(t);
	ck_assert_uint_eq(valtable_count(t), 0);
	ck_assert(!has(t, "key:1", 0, NULL));
	valtable_free(t);
}
END_TEST

static Suite *
valtable_suite(void)
{
	Suite *s = suite_create("valtable");
	TCase *tc = tcase_create("valtable");

	tcase_add_test(tc, valtable_puts_gets_replaces_and_deletes);
	tcase_add_test(tc, valtable_keeps_nul_bytes_in_a_value);
	tcase_add_test(tc, valtable_drops_a_value_at_its_moment);
	tcase_add_test(tc, valtable_holds_at_most_max_and_keeps_what_is_read);
	tcase_add_test(tc, valtable_survives_churn);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(valtable_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
