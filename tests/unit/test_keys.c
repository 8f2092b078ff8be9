/*
 * test_keys - candidate keys of every table, in order (policy/keys.c)
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "keys.h"

/* assert_keys - the list holds exactly the NULL-terminated want */
static void
assert_keys(const struct keylist *kl, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++) {
		ck_assert_msg(i < kl->n, "missing key %zu '%s'", i, want[i]);
		ck_assert_str_eq(kl->v[i], want[i]);
	}
	ck_assert_msg(kl->n == i, "%zu keys, wanted %zu; extra '%s'", kl->n, i,
	              kl->n > i ? kl->v[i] : "");
}

/* address - the keys of one address with delimiter "+" */
static void
address(struct keylist *kl, const char *in, const char *delims)
{
	struct addr a;
	enum addr_status st;
	char err[128];

	keylist_init(kl);
	st = addr_parse(in, strlen(in), &a, err, sizeof err);
	keys_address(kl, st, &a, delims);
}

START_TEST(keys_address_follows_spec_example)
{
	static const char *const want[] = {"john+tag@mail.example.com",
	                                   "john@mail.example.com",
	                                   "mail.example.com",
	                                   ".example.com",
	                                   ".com",
	                                   "john+tag@",
	                                   "john@",
	                                   NULL};
	struct keylist kl;

	address(&kl, "John+tag@Mail.Example.com", "+");
	assert_keys(&kl, want);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_without_extension_has_no_step_2)
{
	static const char *const want[] = {"bob@example.com", "example.com",
	                                   ".com", "bob@", NULL};
	struct keylist kl;

	address(&kl, "<Bob@Example.COM.>", "+");
	assert_keys(&kl, want);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_empty_delimiter_disables_extensions)
{
	static const char *const want[] = {
	    "john+tag@example.com", "example.com", ".com", "john+tag@", NULL};
	struct keylist kl;

	address(&kl, "<john+tag@example.com>", "");
	assert_keys(&kl, want);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_several_delimiters)
{
	static const char *const want[] = {"john-x+y@example.com",
	                                   "john@example.com",
	                                   "example.com",
	                                   ".com",
	                                   "john-x+y@",
	                                   "john@",
	                                   NULL};
	struct keylist kl;

	address(&kl, "<john-x+y@example.com>", "+-");
	assert_keys(&kl, want);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_null_sender_has_one_key)
{
	static const char *const want[] = {"<>", NULL};
	struct keylist kl;

	address(&kl, "<>", "+");
	assert_keys(&kl, want);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_without_domain_tries_step_5_only)
{
	static const char *const want[] = {"postmaster@", NULL};
	static const char *const ext[] = {"abuse+x@", "abuse@", NULL};
	struct keylist kl;

	address(&kl, "<postmaster>", "+");
	assert_keys(&kl, want);
	keylist_free(&kl);
	address(&kl, "<Abuse+x>", "+");
	assert_keys(&kl, ext);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_domain_literal_has_no_parents)
{
	static const char *const want[] = {"user@[192.0.2.1]", "[192.0.2.1]",
	                                   "user@", NULL};
	static const char *const v6[] = {"user@[ipv6:2001:db8::1]",
	                                 "[ipv6:2001:db8::1]", "user@", NULL};
	struct keylist kl;

	address(&kl, "user@[192.0.2.1]", "+");
	assert_keys(&kl, want);
	keylist_free(&kl);
	address(&kl, "<user@[IPv6:2001:DB8::1]>", "+");
	assert_keys(&kl, v6);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_malformed_gives_no_key)
{
	struct keylist kl;

	address(&kl, "<john@example..com>", "+");
	ck_assert_uint_eq(kl.n, 0);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_domain_keeps_the_name_and_parents_of_5_labels)
{
	static const char name[] =
	    "l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.l13."
	    "l14.l15.l16.l17.l18.l19.l20.l21.l22.l23.l24."
	    "l25.l26.l27.l28.l29.l30.l31.l32.l33.l34.l35";
	static const char *const want[] = {name,
	                                   ".l31.l32.l33.l34.l35",
	                                   ".l32.l33.l34.l35",
	                                   ".l33.l34.l35",
	                                   ".l34.l35",
	                                   ".l35",
	                                   NULL};
	static const char *const six[] = {
	    "a.b.c.d.e.f", ".b.c.d.e.f", ".c.d.e.f", ".d.e.f",
	    ".e.f",        ".f",         NULL};
	static const char *const seven[] = {
	    "a.b.c.d.e.f.g", ".c.d.e.f.g", ".d.e.f.g", ".e.f.g",
	    ".f.g",          ".g",         NULL};
	struct keylist kl;

	/* the name, then the parents of 5 labels down to 1 */
	keylist_init(&kl);
	keys_domain(&kl, name);
	assert_keys(&kl, want);
	keylist_free(&kl);
	/* a name of 6 labels has all its parents, one of 7 loses one */
	keys_domain(&kl, "a.b.c.d.e.f");
	assert_keys(&kl, six);
	keylist_free(&kl);
	keys_domain(&kl, "a.b.c.d.e.f.g");
	assert_keys(&kl, seven);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_host_names_keep_parents_of_8_labels)
{
	static const char *const want[] = {
	    "static.123.45.67.89.clients.your-server.de",
	    ".123.45.67.89.clients.your-server.de",
	    ".45.67.89.clients.your-server.de",
	    ".67.89.clients.your-server.de",
	    ".89.clients.your-server.de",
	    ".clients.your-server.de",
	    ".your-server.de",
	    ".de",
	    NULL};
	struct keylist kl;

	keylist_init(&kl);
	keys_helo(&kl, "static.123.45.67.89.clients.your-server.de");
	assert_keys(&kl, want);
	keylist_free(&kl);
	/* 32 labels: the name and 8 parents, in the client table too */
	keys_helo(&kl, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a."
	               "b.c.d.e.f");
	ck_assert_uint_eq(kl.n, 1 + 8);
	ck_assert_str_eq(kl.v[1], ".y.z.a.b.c.d.e.f");
	keylist_free(&kl);
	keys_client(&kl, "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z",
	            NULL);
	ck_assert_uint_eq(kl.n, 1 + 8);
	ck_assert_str_eq(kl.v[8], ".z");
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_address_source_route_stripped)
{
	static const char *const want[] = {"user@d.example", "d.example",
	                                   ".example", "user@", NULL};
	struct keylist kl;

	address(&kl, "<@a.example,@b.example:user@d.example>", "+");
	assert_keys(&kl, want);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_client_ipv4_networks_longest_prefix_first)
{
	struct keylist kl;
	char want[32];
	unsigned bits;

	keylist_init(&kl);
	keys_client(&kl, "unknown", "192.0.2.7");
	ck_assert_uint_eq(kl.n, 1 + 24);
	ck_assert_str_eq(kl.v[0], "192.0.2.7");
	ck_assert_str_eq(kl.v[1], "192.0.2.6/31");
	ck_assert_str_eq(kl.v[2], "192.0.2.4/30");
	ck_assert_str_eq(kl.v[8], "192.0.2.0/24");
	ck_assert_str_eq(kl.v[9], "192.0.2.0/23");
	ck_assert_str_eq(kl.v[16], "192.0.0.0/16");
	ck_assert_str_eq(kl.v[24], "192.0.0.0/8");
	for (bits = 31; bits >= 8; bits--) {
		char *slash = strchr(kl.v[32 - bits], '/');

		snprintf(want, sizeof want, "/%u", bits);
		ck_assert_ptr_nonnull(slash);
		ck_assert_str_eq(slash, want);
	}
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_client_ipv6_networks_longest_prefix_first)
{
	struct keylist kl;

	keylist_init(&kl);
	keys_client(&kl, NULL, "2001:DB8:0:0::1");
	ck_assert_uint_eq(kl.n, 1 + 112);
	ck_assert_str_eq(kl.v[0], "2001:db8::1");
	ck_assert_str_eq(kl.v[1], "2001:db8::/127");
	ck_assert_str_eq(kl.v[2], "2001:db8::/126");
	ck_assert_str_eq(kl.v[64], "2001:db8::/64");
	ck_assert_str_eq(kl.v[96], "2001:db8::/32");
	ck_assert_str_eq(kl.v[112], "2001::/16");
	keylist_free(&kl);
	keylist_init(&kl);
	keys_client(&kl, NULL, "2001:db8:abcd:1234:5678:9abc:def0:1357");
	ck_assert_str_eq(kl.v[1], "2001:db8:abcd:1234:5678:9abc:def0:1356/127");
	ck_assert_str_eq(kl.v[80], "2001:db8:abcd::/48");
	ck_assert_str_eq(kl.v[77], "2001:db8:abcd::/51");
	ck_assert_str_eq(kl.v[76], "2001:db8:abcd:1000::/52");
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_client_hostname_then_ip)
{
	struct keylist kl;

	keylist_init(&kl);
	keys_client(&kl, "Mail.Example.COM.", "192.0.2.7");
	ck_assert_uint_eq(kl.n, 3 + 25);
	ck_assert_str_eq(kl.v[0], "mail.example.com");
	ck_assert_str_eq(kl.v[1], ".example.com");
	ck_assert_str_eq(kl.v[2], ".com");
	ck_assert_str_eq(kl.v[3], "192.0.2.7");
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_client_skips_unknown_and_literal_names)
{
	struct keylist kl;

	keylist_init(&kl);
	keys_client(&kl, "unknown", "198.51.100.1");
	keys_client(&kl, "UNKNOWN", NULL);
	keys_client(&kl, "[198.51.100.1]", NULL);
	keys_client(&kl, "", NULL);
	keys_client(&kl, "bad name", NULL);
	keys_client(&kl, NULL, "not-an-ip");
	ck_assert_uint_eq(kl.n, 25);
	ck_assert_str_eq(kl.v[0], "198.51.100.1");
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_client_ip_forms_are_canonical)
{
	struct keylist kl;

	keylist_init(&kl);
	keys_client(&kl, NULL, "::ffff:192.0.2.9");
	ck_assert_str_eq(kl.v[0], "192.0.2.9");
	ck_assert_uint_eq(kl.n, 25);
	keylist_free(&kl);
	keylist_init(&kl);
	keys_client(&kl, NULL, "IPv6:2001:db8::5");
	ck_assert_str_eq(kl.v[0], "2001:db8::5");
	keylist_free(&kl);
	keylist_init(&kl);
	keys_client(&kl, NULL, "[192.0.2.10]");
	ck_assert_str_eq(kl.v[0], "192.0.2.10");
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_helo_name_and_parents_or_literal)
{
	static const char *const name[] = {"mx.mail.example.net",
	                                   ".mail.example.net", ".example.net",
	                                   ".net", NULL};
	static const char *const lit[] = {"[192.0.2.1]", NULL};
	static const char *const lit6[] = {"[ipv6:2001:db8::1]", NULL};
	static const char *const odd[] = {"localhost", NULL};
	struct keylist kl;

	keylist_init(&kl);
	keys_helo(&kl, "MX.mail.example.net.");
	assert_keys(&kl, name);
	keylist_free(&kl);
	keys_helo(&kl, "[192.0.2.1]");
	assert_keys(&kl, lit);
	keylist_free(&kl);
	keys_helo(&kl, "[IPv6:2001:db8:0::1]");
	assert_keys(&kl, lit6);
	keylist_free(&kl);
	keys_helo(&kl, "LOCALHOST");
	assert_keys(&kl, odd);
	keylist_free(&kl);
	keys_helo(&kl, "");
	keys_helo(&kl, NULL);
	keys_helo(&kl, "two words");
	keys_helo(&kl, "ctl\x01");
	ck_assert_uint_eq(kl.n, 0);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_auth_is_folded_login)
{
	static const char *const want[] = {"alice@example.com", NULL};
	static char big[514];
	struct keylist kl;

	keylist_init(&kl);
	keys_auth(&kl, "Alice@Example.com");
	assert_keys(&kl, want);
	keylist_free(&kl);
	keys_auth(&kl, NULL);
	keys_auth(&kl, "");
	keys_auth(&kl, "bad\nlogin");
	/* a login longer than any key (512 bytes) is no rule's */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	keys_auth(&kl, big);
	ck_assert_uint_eq(kl.n, 0);
	big[512] = '\0';
	keys_auth(&kl, big);
	ck_assert_uint_eq(kl.n, 1);
	keylist_free(&kl);
}
END_TEST

START_TEST(keys_pair_recipient_outer_sender_inner)
{
	struct keylist s, r, p;

	address(&s, "spammer@spammer.example", "+");
	address(&r, "postmaster@example.com", "+");
	keylist_init(&p);
	keys_pair(&p, &s, &r);
	ck_assert_uint_eq(p.n, s.n * r.n);
	ck_assert_str_eq(p.v[0],
	                 "spammer@spammer.example,postmaster@example.com");
	ck_assert_str_eq(p.v[1], "spammer.example,postmaster@example.com");
	ck_assert_str_eq(p.v[s.n], "spammer@spammer.example,example.com");
	ck_assert_str_eq(p.v[p.n - 1], "spammer@,postmaster@");
	keylist_free(&s);
	keylist_free(&r);
	keylist_free(&p);
	address(&s, "<>", "+");
	address(&r, "noreply@example.com", "+");
	keys_pair(&p, &s, &r);
	ck_assert_str_eq(p.v[0], "<>,noreply@example.com");
	ck_assert_uint_eq(p.n, r.n);
	keylist_free(&s);
	keylist_free(&r);
	keylist_free(&p);
}
END_TEST

static Suite *
keys_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("keys");

	tcase_add_test(tc, keys_address_follows_spec_example);
	tcase_add_test(tc, keys_address_without_extension_has_no_step_2);
	tcase_add_test(tc, keys_address_empty_delimiter_disables_extensions);
	tcase_add_test(tc, keys_address_several_delimiters);
	tcase_add_test(tc, keys_address_null_sender_has_one_key);
	tcase_add_test(tc, keys_address_without_domain_tries_step_5_only);
	tcase_add_test(tc, keys_address_domain_literal_has_no_parents);
	tcase_add_test(tc, keys_address_malformed_gives_no_key);
	tcase_add_test(tc, keys_domain_keeps_the_name_and_parents_of_5_labels);
	tcase_add_test(tc, keys_host_names_keep_parents_of_8_labels);
	tcase_add_test(tc, keys_address_source_route_stripped);
	tcase_add_test(tc, keys_client_ipv4_networks_longest_prefix_first);
	tcase_add_test(tc, keys_client_ipv6_networks_longest_prefix_first);
	tcase_add_test(tc, keys_client_hostname_then_ip);
	tcase_add_test(tc, keys_client_skips_unknown_and_literal_names);
	tcase_add_test(tc, keys_client_ip_forms_are_canonical);
	tcase_add_test(tc, keys_helo_name_and_parents_or_literal);
	tcase_add_test(tc, keys_auth_is_folded_login);
	tcase_add_test(tc, keys_pair_recipient_outer_sender_inner);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(keys_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
