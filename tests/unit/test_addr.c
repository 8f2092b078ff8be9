/*
 * test_addr - envelope address parsing and normalisation (policy/addr.c)
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "addr.h"

struct good {
	const char *in;
	enum addr_status st;
	const char *local;
	const char *domain;
	int has_domain;
	int literal;
};

static const struct good goods[] = {
    {"<john@example.com>", ADDR_OK, "john", "example.com", 1, 0},
    {"john@example.com", ADDR_OK, "john", "example.com", 1, 0},
    {"<John+Tag@Mail.Example.COM>", ADDR_OK, "john+tag", "mail.example.com", 1,
     0},
    {"<john@example.com.>", ADDR_OK, "john", "example.com", 1, 0},
    {"<>", ADDR_NULL, "", "", 0, 0},
    {"", ADDR_NULL, "", "", 0, 0},
    {" <> ", ADDR_NULL, "", "", 0, 0},
    {"<postmaster>", ADDR_OK, "postmaster", "", 0, 0},
    {"POSTMASTER", ADDR_OK, "postmaster", "", 0, 0},
    {"<@a.example,@b.example:user@d.example>", ADDR_OK, "user", "d.example", 1,
     0},
    {"<@relay.example:Bob@Example.org>", ADDR_OK, "bob", "example.org", 1, 0},
    {"<\"john doe\"@example.com>", ADDR_OK, "john doe", "example.com", 1, 0},
    {"<\"john\"@example.com>", ADDR_OK, "john", "example.com", 1, 0},
    {"<\"a\\\"b\"@example.com>", ADDR_OK, "a\"b", "example.com", 1, 0},
    {"<\"x@y\"@example.com>", ADDR_OK, "x@y", "example.com", 1, 0},
    {"<\"quoted\">", ADDR_OK, "quoted", "", 0, 0},
    {"<user@[192.0.2.1]>", ADDR_OK, "user", "[192.0.2.1]", 1, 1},
    {"<user@[IPv6:2001:DB8:0::1]>", ADDR_OK, "user", "[ipv6:2001:db8::1]", 1,
     1},
    {"<user@[x-tag:Foo]>", ADDR_OK, "user", "[x-tag:foo]", 1, 1},
    {"<j.o.h.n@example.com>", ADDR_OK, "j.o.h.n", "example.com", 1, 0},
    {"<john..doe@example.com>", ADDR_OK, "john..doe", "example.com", 1, 0},
    {"<user@xn--bcher-kva.example>", ADDR_OK, "user", "xn--bcher-kva.example",
     1, 0},
    {"<J\xc3\xb6rg@B\xc3\xbc"
     "cher.example>",
     ADDR_OK, "j\xc3\xb6rg",
     "b\xc3\xbc"
     "cher.example",
     1, 0},
    {"<under_score@host_name.example>", ADDR_OK, "under_score",
     "host_name.example", 1, 0},
    {"<a!b#c$d%e&f'g*h=i?j^k`l{m|n}o~p@example.com>", ADDR_OK,
     "a!b#c$d%e&f'g*h=i?j^k`l{m|n}o~p", "example.com", 1, 0},
    {"user@localhost", ADDR_OK, "user", "localhost", 1, 0},
};

START_TEST(addr_parse_normalises_valid_addresses)
{
	const struct good *g = &goods[_i];
	struct addr a;
	char err[128] = "";
	enum addr_status st;

	st = addr_parse(g->in, strlen(g->in), &a, err, sizeof err);
	ck_assert_msg(st == g->st, "%s: status %d, wanted %d (%s)", g->in, st,
	              g->st, err);
	ck_assert_str_eq(a.local, g->local);
	ck_assert_str_eq(a.domain, g->domain);
	ck_assert_int_eq(a.has_domain, g->has_domain);
	ck_assert_int_eq(a.literal, g->literal);
}
END_TEST

struct bad {
	const char *in;
	size_t len; /* 0: strlen */
	const char *why;
};

static const struct bad bads[] = {
    {"<john@example.com", 0, "unbalanced angle brackets"},
    {"john@example.com>", 0, "unbalanced angle brackets"},
    {"<", 0, "unbalanced angle brackets"},
    {">", 0, "unbalanced angle brackets"},
    {"<<john@example.com>>", 0, "invalid character"},
    {"<john<@example.com>", 0, "invalid character"},
    {"<@example.com>", 0, "source route without ':'"},
    {"<@a.example:>", 0, "source route without mailbox"},
    {"<@:user@example.com>", 0, "empty domain in source route"},
    {"<@a.example,:user@example.com>", 0, "empty domain in source route"},
    {"<@example.com", 0, "unbalanced angle brackets"},
    {"@", 0, "source route without ':'"},
    {"<@a:@b>", 0, "empty local part"},
    {"<john@>", 0, "empty domain"},
    {"<@>", 0, "source route without ':'"},
    {"<\"\"@example.com>", 0, "empty local part"},
    {"<\"john@example.com>", 0, "unterminated quoted local part"},
    {"<\"john\\>", 0, "backslash at end of quoted local part"},
    {"\"john\\", 0, "backslash at end of quoted local part"},
    {"<\"john\"x@example.com>", 0, "invalid character after quoted local part"},
    {"<john doe@example.com>", 0, "invalid character"},
    {"<john,doe@example.com>", 0, "invalid character"},
    {"<john;doe@example.com>", 0, "invalid character"},
    {"<john:doe@example.com>", 0, "invalid character"},
    {"<john(doe)@example.com>", 0, "invalid character"},
    {"<john[x]@example.com>", 0, "invalid character"},
    {"<john\\x@example.com>", 0, "invalid character"},
    {"<jo\"hn@example.com>", 0, "invalid character"},
    {"<john@exa mple.com>", 0, "invalid character in domain"},
    {"<john@example..com>", 0, "empty label in domain"},
    {"<john@.example.com>", 0, "empty label in domain"},
    {"<john@example.com..>", 0, "empty label in domain"},
    {"<john@.>", 0, "empty label in domain"},
    {"<john@exa@mple.com>", 0, "invalid character in domain"},
    {"<john@exa<mple.com>", 0, "invalid character in domain"},
    {"<john@exa\"mple.com>", 0, "invalid character in domain"},
    {"<john@[192.0.2.1>", 0, "unterminated domain literal"},
    {"<john@[]>", 0, "unterminated domain literal"},
    {"<john@[300.1.1.1]>", 0, "invalid domain literal"},
    {"<john@[IPv6:2001:db8::zz]>", 0, "invalid domain literal"},
    {"<john@[IPv6:]>", 0, "invalid domain literal"},
    {"<john@[foo]>", 0, "invalid domain literal"},
    {"<john@[1.2.3.4]x>", 0, "unterminated domain literal"},
    {"<john@[1.2.\xff.4]>", 0, "invalid character in domain literal"},
    {"<john@[1.2 .3.4]>", 0, "invalid character in domain literal"},
    {"<john@ex\\ample.com>", 0, "invalid character in domain"},
    {"<jo\0hn@example.com>", 19, "NUL byte 0x00 at offset 3"},
    {"<john@example.com>\0", 19, "NUL byte 0x00 at offset 18"},
    {"\0", 1, "NUL byte 0x00 at offset 0"},
    {"<jo\rhn@example.com>", 0, "control character 0x0d at offset 3"},
    {"<john@example.com>\r\nRCPT TO:<x@y>", 0,
     "control character 0x0d at offset 18"},
    {"<jo\nhn@example.com>", 0, "control character 0x0a at offset 3"},
    {"<jo\thn@example.com>", 0, "control character 0x09 at offset 3"},
    {"<jo\x7fhn@example.com>", 0, "control character 0x7f at offset 3"},
    {"<jo\x1bhn@example.com>", 0, "control character 0x1b at offset 3"},
    {"<\"jo\x01hn\"@example.com>", 0, "control character 0x01 at offset 4"},
    {"<john@exam\x01ple.com>", 0, "control character 0x01 at offset 10"},
    {"<john@-->", 0, NULL}, /* valid: hyphens are letters here */
};

START_TEST(addr_parse_refuses_malformed_addresses)
{
	const struct bad *b = &bads[_i];
	size_t len = b->len != 0 ? b->len : strlen(b->in);
	struct addr a;
	char err[128] = "";
	enum addr_status st;

	st = addr_parse(b->in, len, &a, err, sizeof err);
	if (b->why == NULL) {
		ck_assert_int_eq(st, ADDR_OK);
		return;
	}
	ck_assert_msg(st == ADDR_MALFORMED, "case %d: status %d, local '%s'",
	              _i, st, a.local);
	ck_assert_msg(strncmp(err, b->why, strlen(b->why)) == 0,
	              "case %d: reason '%s', wanted '%s'", _i, err, b->why);
	ck_assert_str_eq(a.local, "");
	ck_assert_str_eq(a.domain, "");
}
END_TEST

/* fill - a buffer of n copies of c, terminated */
static char *
fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(addr_parse_refuses_oversized_parts)
{
	static char big[10241], in[12000];
	char err[128], part[400];
	struct addr a;

	/* 10 kB: refused before anything is copied */
	fill(big, 'a', 10240);
	big[5000] = '@';
	ck_assert_int_eq(addr_parse(big, strlen(big), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_str_eq(err, "address is too long");
	/* an address: 254 octets (RFC 5321's path less "<>") is the limit */
	snprintf(in, sizeof in, "<%s@example.com>", fill(part, 'l', 242));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_OK);
	ck_assert_uint_eq(strlen(a.local) + 1 + strlen(a.domain), 254);
	snprintf(in, sizeof in, "<%s@example.com>", fill(part, 'l', 243));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_str_eq(err, "address is longer than 254 octets");
	ck_assert_str_eq(a.local, "");
	snprintf(in, sizeof in, "<%s>", fill(part, 'l', 254));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_OK);
	snprintf(in, sizeof in, "<%s>", fill(part, 'l', 255));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	/* quotes do not count: the internal form does */
	snprintf(in, sizeof in, "<\"%s\"@example.com>", fill(part, 'l', 242));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_OK);
	/* local part: 256 is the parser's own limit */
	snprintf(in, sizeof in, "<%s@example.com>", fill(part, 'l', 257));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_str_eq(err, "local part is too long");
	/* a label of 64 octets, and a domain of 33 labels */
	snprintf(in, sizeof in, "<u@%s.example>", fill(part, 'd', 64));
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_str_eq(err, "domain label longer than 63 octets");
	snprintf(in, sizeof in, "<u@%s>",
	         "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d."
	         "e.f.g");
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_str_eq(err, "too many labels in domain");
	/* a domain longer than 255 octets */
	snprintf(in, sizeof in, "<u@%s.%s.%s.%s.%s>", fill(part, 'x', 60), part,
	         part, part, part);
	ck_assert_int_eq(addr_parse(in, strlen(in), &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_str_eq(err, "domain is too long");
}
END_TEST

START_TEST(addr_parse_reads_only_len_bytes)
{
	/* The bytes after len are not part of the address. */
	const char buf[] = "<john@example.com>GARBAGE";
	struct addr a;
	char err[64];

	ck_assert_int_eq(addr_parse(buf, 18, &a, err, sizeof err), ADDR_OK);
	ck_assert_str_eq(a.domain, "example.com");
	ck_assert_int_eq(addr_parse(buf, 5, &a, err, sizeof err),
	                 ADDR_MALFORMED);
	ck_assert_int_eq(addr_parse(NULL, 0, &a, err, sizeof err),
	                 ADDR_MALFORMED);
	/* a zero-sized err buffer is left alone */
	ck_assert_int_eq(addr_parse("<", 1, &a, NULL, 0), ADDR_MALFORMED);
}
END_TEST

/* domain_only - addr_domain_only() of a string */
static int
domain_only(const char *in, struct addr *a)
{
	return addr_domain_only(in, strlen(in), a);
}

START_TEST(addr_domain_only_keeps_the_domain_of_refused_addresses)
{
	static char in[6000];
	char part[400];
	struct addr a;

	/* a local part past the limit: the domain, folded, no local part */
	snprintf(in, sizeof in, "<%s@Spammer.Example.>", fill(part, 'l', 300));
	ck_assert_int_eq(addr_domain_only(in, strlen(in), &a), 0);
	ck_assert_str_eq(a.domain, "spammer.example");
	ck_assert_str_eq(a.local, "");
	ck_assert_int_eq(a.has_domain, 1);
	ck_assert_int_eq(a.literal, 0);
	/* an input line past ADDR_INPUT_MAX */
	memset(in, 'x', 5000);
	snprintf(in + 5000, sizeof in - 5000, "@long.example>");
	ck_assert_int_eq(addr_domain_only(in, strlen(in), &a), 0);
	ck_assert_str_eq(a.domain, "long.example");
	/* more labels than ADDR_LABELS_MAX, within 255 bytes */
	snprintf(in, sizeof in, "a@%s",
	         "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r."
	         "s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.x");
	ck_assert_int_eq(addr_domain_only(in, strlen(in), &a), 0);
	ck_assert_str_eq(a.domain, in + 2);
	/* a domain literal */
	snprintf(in, sizeof in, "<%s@[IPv6:2001:DB8::1]>", part);
	ck_assert_int_eq(addr_domain_only(in, strlen(in), &a), 0);
	ck_assert_str_eq(a.domain, "[ipv6:2001:db8::1]");
	ck_assert_int_eq(a.literal, 1);
	/* nothing that is a domain: no '@', a bad character, a control
	 * character, an empty or over-long domain, a quoted '@' */
	ck_assert_int_eq(domain_only("<postmaster>", &a), -1);
	ck_assert_int_eq(domain_only("<a@ex ample.com>", &a), -1);
	ck_assert_int_eq(domain_only("<a@ex\rample.com>", &a), -1);
	ck_assert_int_eq(domain_only("<a@>", &a), -1);
	ck_assert_int_eq(domain_only("<\"abc@quoted.example>", &a), -1);
	ck_assert_int_eq(domain_only("<\"a\\\"@quoted.example>", &a), -1);
	ck_assert_int_eq(domain_only("<\"a\\\"\"@x@quoted.example>", &a), 0);
	ck_assert_str_eq(a.domain, "quoted.example");
	ck_assert_int_eq(domain_only("<\"a@evil.example\">", &a), -1);
	snprintf(in, sizeof in, "<u@%s.%s.%s.%s.%s>", fill(part, 'x', 60), part,
	         part, part, part);
	ck_assert_int_eq(addr_domain_only(in, strlen(in), &a), -1);
	ck_assert_str_eq(a.domain, "");
	ck_assert_int_eq(addr_domain_only(NULL, 0, &a), -1);
}
END_TEST

START_TEST(addr_base_len_splits_at_recipient_delimiter)
{
	struct addr a;
	char err[64];

	addr_parse("<john+tag@example.com>", 22, &a, err, sizeof err);
	ck_assert_uint_eq(addr_base_len(&a, "+"), 4);
	ck_assert_uint_eq(addr_base_len(&a, ""), 8);
	ck_assert_uint_eq(addr_base_len(&a, NULL), 8);
	ck_assert_uint_eq(addr_base_len(&a, "-"), 8);
	addr_parse("<john-a+b@example.com>", 22, &a, err, sizeof err);
	ck_assert_uint_eq(addr_base_len(&a, "+-"), 4);
	/* A delimiter first: no extension (as Postfix). */
	addr_parse("<+tag@example.com>", 18, &a, err, sizeof err);
	ck_assert_uint_eq(addr_base_len(&a, "+"), 4);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, addr_parse_normalises_valid_addresses, 0,
	                    (int)(sizeof goods / sizeof goods[0]));
	tcase_add_loop_test(tc, addr_parse_refuses_malformed_addresses, 0,
	                    (int)(sizeof bads / sizeof bads[0]));
	tcase_add_test(tc, addr_parse_refuses_oversized_parts);
	tcase_add_test(tc, addr_parse_reads_only_len_bytes);
	tcase_add_test(tc,
	               addr_domain_only_keeps_the_domain_of_refused_addresses);
	tcase_add_test(tc, addr_base_len_splits_at_recipient_delimiter);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
