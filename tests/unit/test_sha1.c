/*
 * test_sha1 - SHA-1 (policy/common/sha1.c) against the test vectors of
 * FIPS 180-2, appendix A, and of RFC 3174 section 7.3
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "sha1.h"

static void
expect(const void *data, size_t len, const char *hex)
{
	char out[SHA1_HEX_SIZE];

	sha1_hex(data, len, out);
	ck_assert_str_eq(out, hex);
}

START_TEST(sha1_test_vectors)
{
	static const char two_blocks[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char *million = malloc(1000000);

	expect("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	expect("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	expect(two_blocks, strlen(two_blocks),
	       "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	ck_assert_ptr_nonnull(million);
	memset(million, 'a', 1000000);
	expect(million, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(million);
}
END_TEST

START_TEST(sha1_lengths_around_a_block)
{
	/* 55, 56 and 64 bytes: the length fits the last block or needs one
	 * more (values from Python's hashlib). */
	char a[65];

	memset(a, 'a', sizeof a);
	expect(a, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
	expect(a, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
	expect(a, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sha1");
	TCase *tc = tcase_create("sha1");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sha1_test_vectors);
	tcase_add_test(tc, sha1_lengths_around_a_block);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
