/*
 * test_cidr - the canonical text of addresses and networks (policy/cidr.c)
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include <check.h>

#include "cidr.h"

static const struct text_case {
	const char *in;
	int bits; /* -1: the address itself */
	const char *want;
} text_cases[] = {
    {"192.0.2.77", -1, "192.0.2.77"},
    {"192.0.2.77", 31, "192.0.2.76/31"},
    {"192.0.2.77", 24, "192.0.2.0/24"},
    {"192.0.2.77", 20, "192.0.0.0/20"},
    {"255.255.255.255", 9, "255.128.0.0/9"},
    {"10.1.2.3", 8, "10.0.0.0/8"},
    {"0.0.0.0", -1, "0.0.0.0"},
    {"2001:db8:0:0:1::7", -1, "2001:db8::1:0:0:7"},
    {"2001:db8:aaaa:bbbb::1", 64, "2001:db8:aaaa:bbbb::/64"},
    {"2001:db8:aaaa:bbbb::1", 127, "2001:db8:aaaa:bbbb::/127"},
    {"2001:db8:ffff::", 33, "2001:db8:8000::/33"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 16, "ffff::/16"},
};

START_TEST(cidr_text_writes_the_canonical_form)
{
	const struct text_case *c = &text_cases[_i];
	unsigned char ip[sizeof(struct in6_addr)];
	char out[CIDR_TEXT_MAX], *end;
	int af = strchr(c->in, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, c->in, ip), 1);
	end = cidr_text(af, ip, c->bits, out);
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(out, c->want);
	ck_assert_ptr_eq(end, out + strlen(out));
}
END_TEST

START_TEST(cidr_text_leaves_the_address_alone)
{
	unsigned char ip[4] = {192, 0, 2, 77};
	char out[CIDR_TEXT_MAX];

	ck_assert_ptr_nonnull(cidr_text(AF_INET, ip, 8, out));
	ck_assert_int_eq(ip[3], 77);
}
END_TEST

START_TEST(cidr_text_refuses_an_unknown_family)
{
	unsigned char ip[16] = {0};
	char out[CIDR_TEXT_MAX];

	ck_assert_ptr_null(cidr_text(AF_UNIX, ip, -1, out));
}
END_TEST

START_TEST(cidr_text_clears_host_bits_only)
{
	unsigned char ip[4] = {0xff, 0xff, 0xff, 0xff};
	char out[CIDR_TEXT_MAX];

	ck_assert_ptr_nonnull(cidr_text(AF_INET, ip, 13, out));
	ck_assert_str_eq(out, "255.248.0.0/13");
	ck_assert_ptr_nonnull(cidr_text(AF_INET, ip, 0, out));
	ck_assert_str_eq(out, "0.0.0.0/0");
}
END_TEST

/* The longest text there is fits in CIDR_TEXT_MAX. */
START_TEST(cidr_text_max_holds_the_longest_network)
{
	unsigned char ip[sizeof(struct in6_addr)];
	char out[CIDR_TEXT_MAX];

	ck_assert_int_eq(
	    inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	              ip),
	    1);
	ck_assert_ptr_nonnull(cidr_text(AF_INET6, ip, 127, out));
	ck_assert_uint_lt(strlen(out), CIDR_TEXT_MAX);
}
END_TEST

static Suite *
cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("cidr");

	tcase_add_loop_test(tc, cidr_text_writes_the_canonical_form, 0,
	                    sizeof text_cases / sizeof text_cases[0]);
	tcase_add_test(tc, cidr_text_leaves_the_address_alone);
	tcase_add_test(tc, cidr_text_refuses_an_unknown_family);
	tcase_add_test(tc, cidr_text_clears_host_bits_only);
	tcase_add_test(tc, cidr_text_max_holds_the_longest_network);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cidr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
