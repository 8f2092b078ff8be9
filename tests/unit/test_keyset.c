/*
 * test_keyset - the set of key hashes of the tracked store
 * (policy/store/keyset.c) and the keyed hash it uses (policy/common/hash.c)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "hash.h"
#include "keyset.h"

/*
 * SipHash-1-3 under the key 0, 0: CPython's hash() of bytes with
 * PYTHONHASHSEED=0 (sys.hash_info.algorithm 'siphash13'), an independent
 * implementation: python3 -c "print(hash(b'a') & 0xffffffffffffffff)"
 */
static const struct vector {
	const char *in;
	uint64_t want;
} vectors[] = {
    {"a", 4644417185603328019ULL},
    {"redmilter:recipient:bob@example.com", 14322786821954546219ULL},
    {"0123456789abcdef", 2108444454683020324ULL},
};

START_TEST(hash_keyed_is_siphash_1_3)
{
	struct hash_key k = {0, 0};

	ck_assert_uint_eq(
	    hash_keyed(&k, vectors[_i].in, strlen(vectors[_i].in)),
	    vectors[_i].want);
}
END_TEST

START_TEST(hash_keyed_depends_on_the_key)
{
	struct hash_key a, b;
	const char *s = "redmilter:sender:example.com";

	hash_key_new(&a);
	hash_key_new(&b);
	ck_assert(a.k0 != b.k0 || a.k1 != b.k1);
	ck_assert_uint_ne(hash_keyed(&a, s, strlen(s)),
	                  hash_keyed(&b, s, strlen(s)));
	ck_assert_uint_eq(hash_keyed(&a, s, strlen(s)),
	                  hash_keyed(&a, s, strlen(s)));
}
END_TEST

START_TEST(keyset_hash_is_never_zero)
{
	struct hash_key k = {0, 0};

	/* hash_keyed() may return 0, keyset_hash() never: 0 is an empty slot */
	ck_assert_uint_ne(keyset_hash(&k, "", 0), 0);
	ck_assert_uint_ne(keyset_hash(&k, "a", 1), 0);
}
END_TEST

START_TEST(keyset_adds_finds_and_deletes)
{
	struct keyset s;

	keyset_init(&s);
	ck_assert(!keyset_has(&s, 42));
	ck_assert_int_eq(keyset_add(&s, 42), 1);
	ck_assert_int_eq(keyset_add(&s, 42), 0);
	ck_assert(keyset_has(&s, 42));
	ck_assert_uint_eq(s.n, 1);
	keyset_del(&s, 7); /* not a member: nothing happens */
	keyset_del(&s, 42);
	ck_assert(!keyset_has(&s, 42));
	ck_assert_uint_eq(s.n, 0);
	keyset_free(&s);
}
END_TEST

/* rnd - a reproducible 64-bit sequence (xorshift64*) */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

/*
 * Random adds and deletes over a small universe (so that probe runs
 * collide and deletion shifts members back), checked against a plain
 * array after every step.
 */
START_TEST(keyset_agrees_with_a_plain_set)
{
	enum { U = 5000, STEPS = 200000 };
	static uint64_t val[U];
	static char in[U];
	struct keyset s;
	uint64_t x = 88172645463325252ULL;
	size_t i, n = 0, j;

	for (i = 0; i < U; i++)
		val[i] = rnd(&x) | 1;
	/* members that share home slots: the top bits decide the home */
	for (i = 0; i < U / 4; i++)
		val[i] = (val[0] & 0xffff000000000000ULL) | (i + 1);
	keyset_init(&s);
	for (j = 0; j < STEPS; j++) {
		i = (size_t)(rnd(&x) % U);
		if (rnd(&x) % 3 != 0) {
			ck_assert_int_eq(keyset_add(&s, val[i]), !in[i]);
			n += !in[i];
			in[i] = 1;
		} else {
			keyset_del(&s, val[i]);
			n -= in[i];
			in[i] = 0;
		}
		ck_assert_uint_eq(s.n, n);
		if (j % 997 == 0)
			for (i = 0; i < U; i++)
				ck_assert_int_eq(keyset_has(&s, val[i]), in[i]);
	}
	for (i = 0; i < U; i++)
		ck_assert_int_eq(keyset_has(&s, val[i]), in[i]);
	keyset_free(&s);
}
END_TEST

/*
 * Built by adding, a set takes at most 16 bytes a member; deletion shrinks
 * it before it takes more than 64.
 */
START_TEST(keyset_takes_at_most_16_bytes_a_key)
{
	enum { N = 300000 };
	static uint64_t v[N];
	struct keyset s;
	uint64_t x = 1;
	size_t i;

	keyset_init(&s);
	for (i = 0; i < N; i++) {
		keyset_add(&s, v[i] = rnd(&x) | 1);
		if (i >= 64)
			ck_assert_uint_le(keyset_bytes(&s), 16 * s.n);
	}
	for (i = 0; i + 1000 < N; i++) {
		keyset_del(&s, v[i]);
		ck_assert_uint_le(keyset_bytes(&s), 64 * s.n);
	}
	for (; i < N; i++)
		ck_assert(keyset_has(&s, v[i]));
	keyset_clear(&s);
	ck_assert_uint_eq(keyset_bytes(&s), 0);
	keyset_free(&s);
}
END_TEST

START_TEST(keyset_swap_exchanges_members)
{
	struct keyset a, b;

	keyset_init(&a);
	keyset_init(&b);
	keyset_add(&a, 5);
	keyset_swap(&a, &b);
	ck_assert(!keyset_has(&a, 5));
	ck_assert(keyset_has(&b, 5));
	keyset_free(&a);
	keyset_free(&b);
}
END_TEST

static Suite *
keyset_suite(void)
{
	Suite *s = suite_create("keyset");
	TCase *tc = tcase_create("keyset");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, hash_keyed_is_siphash_1_3, 0,
	                    sizeof vectors / sizeof vectors[0]);
	tcase_add_test(tc, hash_keyed_depends_on_the_key);
	tcase_add_test(tc, keyset_hash_is_never_zero);
	tcase_add_test(tc, keyset_adds_finds_and_deletes);
	tcase_add_test(tc, keyset_agrees_with_a_plain_set);
	tcase_add_test(tc, keyset_takes_at_most_16_bytes_a_key);
	tcase_add_test(tc, keyset_swap_exchanges_members);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(keyset_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
