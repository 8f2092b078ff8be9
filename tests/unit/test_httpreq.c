/*
 * test_httpreq - the HTTP request head parser (policy/common/httpreq.c)
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "httpreq.h"

static const struct good_case {
	const char *in;
	const char *method;
	const char *path;
	const char *query; /* NULL: none */
	int minor;
	int nheaders;
} good[] = {
    {"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET", "/metrics",
     NULL, 1, 1},
    {"GET /metrics HTTP/1.1\n\n", "GET", "/metrics", NULL, 1, 0},
    {"GET /metrics HTTP/1.0\r\n\r\n", "GET", "/metrics", NULL, 0, 0},
    {"HEAD /metrics?x=1&y HTTP/1.1\nHost: a\nAccept: */*\n\n", "HEAD",
     "/metrics", "x=1&y", 1, 2},
    {"GET /metrics? HTTP/1.1\r\n\r\n", "GET", "/metrics", "", 1, 0},
    {"GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\nX-8bit: \xc3\xa9\r\n\r\n",
     "GET", "/", NULL, 1, 3},
    {"\r\n\nGET / HTTP/1.1\r\n\r\n", "GET", "/", NULL, 1, 0},
    {"GET http://127.0.0.1:9491/metrics?a HTTP/1.1\r\n\r\n", "GET", "/metrics",
     "a", 1, 0},
    {"GET http://h HTTP/1.1\r\n\r\n", "GET", "", NULL, 1, 0},
    {"OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS", "*", NULL, 1, 0},
    {"M-SEARCH!~ /x HTTP/1.1\r\n\r\n", "M-SEARCH!~", "/x", NULL, 1, 0},
    {"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "POST",
     "/metrics", NULL, 1, 1},
};

static void
check_good(const struct good_case *c, const struct httpreq *r)
{
	size_t len = strlen(c->in);

	ck_assert_uint_eq(r->method_len, strlen(c->method));
	ck_assert(memcmp(r->method, c->method, r->method_len) == 0);
	ck_assert_uint_eq(r->path_len, strlen(c->path));
	ck_assert(memcmp(r->path, c->path, r->path_len) == 0);
	if (c->query == NULL) {
		ck_assert_ptr_null(r->query);
	} else {
		ck_assert_ptr_nonnull(r->query);
		ck_assert_uint_eq(r->query_len, strlen(c->query));
		ck_assert(memcmp(r->query, c->query, r->query_len) == 0);
	}
	ck_assert_int_eq(r->version_minor, c->minor);
	ck_assert_int_eq(r->nheaders, c->nheaders);
	ck_assert_uint_le(r->head_len, len);
	ck_assert_int_eq(c->in[r->head_len - 1], '\n');
}

START_TEST(httpreq_parse_takes_good_requests_apart)
{
	const struct good_case *c = &good[_i];
	struct httpreq r;

	ck_assert_int_eq(httpreq_parse(c->in, strlen(c->in), &r), HTTPREQ_OK);
	check_good(c, &r);
}
END_TEST

START_TEST(httpreq_parse_wants_more_until_the_empty_line)
{
	const struct good_case *c = &good[_i];
	struct httpreq r;
	size_t k;

	ck_assert_int_eq(httpreq_parse(c->in, strlen(c->in), &r), HTTPREQ_OK);
	for (k = 0; k < r.head_len; k++) {
		struct httpreq p;

		ck_assert_msg(httpreq_parse(c->in, k, &p) == HTTPREQ_MORE,
		              "case %d, prefix %zu", _i, k);
	}
}
END_TEST

static const struct bad_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int status;
} bad[] = {
    {"GET /\r\n\r\n", 0, 400},                      /* HTTP/0.9 */
    {"GET  / HTTP/1.1\r\n\r\n", 0, 400},            /* two spaces */
    {"GET / HTTP/1.1 \r\n\r\n", 0, 400},            /* space after version */
    {" GET / HTTP/1.1\r\n\r\n", 0, 400},            /* space first */
    {"GE(T / HTTP/1.1\r\n\r\n", 0, 400},            /* not a token */
    {"G\0T / HTTP/1.1\r\n\r\n", 18, 400},           /* NUL in method */
    {"GET /a\0b HTTP/1.1\r\n\r\n", 21, 400},        /* NUL in target */
    {"GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26, 400}, /* NUL in value */
    {"GET /a b HTTP/1.1\r\n\r\n", 0, 400},
    {"GET metrics HTTP/1.1\r\n\r\n", 0, 400},
    {"GET ** HTTP/1.1\r\n\r\n", 0, 400},
    {"GET http:/x HTTP/1.1\r\n\r\n", 0, 400},
    {"GET 1http://h/ HTTP/1.1\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\rX", 0, 400},                 /* bare CR */
    {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 0, 400}, /* bare CR in value */
    {"GET / HTTP/1.1\r\n\rX", 0, 400},
    {"GET / HTTP/1.1\r\n Fold: x\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\r\nA b: x\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\r\nName : x\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\r\n: x\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\r\nNo-Colon\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\r\nA: \x01\r\n\r\n", 0, 400},
    {"GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", 0, 400},
    {"GET / http/1.1\r\n\r\n", 0, 400},
    {"GET / HTTP/1.10\r\n\r\n", 0, 400},
    {"GET / HTTP/1\r\n\r\n", 0, 400},
    {"GET / HTTP/2.0\r\n\r\n", 0, 505},
    {"GET / HTTP/1.2\r\n\r\n", 0, 505},
    {"GET / HTTP/0.9\r\n\r\n", 0, 505},
};

START_TEST(httpreq_parse_answers_each_error_with_its_status)
{
	const struct bad_case *c = &bad[_i];
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	struct httpreq r;

	ck_assert_msg(httpreq_parse(c->in, len, &r) == HTTPREQ_ERROR, "case %d",
	              _i);
	ck_assert_int_eq(r.status, c->status);
}
END_TEST

/* request - "GET /TARGET HTTP/1.1\r\n" + fields + "\r\n", malloc'd */
static char *
request(size_t target_len, int nfields, size_t pad, size_t *len)
{
	size_t size = target_len + 64 + (size_t)nfields * 8 + pad;
	char *s = malloc(size);
	size_t n = 0;
	int i;

	ck_assert_ptr_nonnull(s);
	memcpy(s + n, "GET /", 5);
	n += 5;
	memset(s + n, 'a', target_len - 1);
	n += target_len - 1;
	memcpy(s + n, " HTTP/1.1\r\n", 11);
	n += 11;
	for (i = 0; i < nfields; i++) {
		memcpy(s + n, "A: b\r\n", 6);
		n += 6;
	}
	if (pad > 0) {
		memcpy(s + n, "P: ", 3);
		memset(s + n + 3, 'x', pad - 3);
		n += pad;
		memcpy(s + n, "\r\n", 2);
		n += 2;
	}
	memcpy(s + n, "\r\n", 2);
	n += 2;
	*len = n;
	return s;
}

START_TEST(httpreq_parse_takes_a_target_of_the_limit_not_one_more)
{
	struct httpreq r;
	size_t len;
	char *s = request(HTTPREQ_TARGET_MAX, 0, 0, &len);

	ck_assert_int_eq(httpreq_parse(s, len, &r), HTTPREQ_OK);
	ck_assert_uint_eq(r.path_len, HTTPREQ_TARGET_MAX);
	free(s);
	s = request(HTTPREQ_TARGET_MAX + 1, 0, 0, &len);
	ck_assert_int_eq(httpreq_parse(s, len, &r), HTTPREQ_ERROR);
	ck_assert_int_eq(r.status, 414);
	/* Decided as soon as the byte too many comes in. */
	ck_assert_int_eq(httpreq_parse(s, 4 + HTTPREQ_TARGET_MAX + 1, &r),
	                 HTTPREQ_ERROR);
	ck_assert_int_eq(r.status, 414);
	ck_assert_int_eq(httpreq_parse(s, 4 + HTTPREQ_TARGET_MAX, &r),
	                 HTTPREQ_MORE);
	free(s);
}
END_TEST

START_TEST(httpreq_parse_takes_the_most_fields_not_one_more)
{
	struct httpreq r;
	size_t len;
	char *s = request(1, HTTPREQ_HEADERS_MAX, 0, &len);

	ck_assert_int_eq(httpreq_parse(s, len, &r), HTTPREQ_OK);
	ck_assert_int_eq(r.nheaders, HTTPREQ_HEADERS_MAX);
	free(s);
	s = request(1, HTTPREQ_HEADERS_MAX + 1, 0, &len);
	ck_assert_int_eq(httpreq_parse(s, len, &r), HTTPREQ_ERROR);
	ck_assert_int_eq(r.status, 431);
	free(s);
}
END_TEST

START_TEST(httpreq_parse_takes_a_head_of_the_limit_not_one_more)
{
	/* "GET / HTTP/1.1\r\n" is 16 bytes, "\r\n" after P's line 2 more. */
	size_t pad = HTTPREQ_HEAD_MAX - 16 - 2 - 2, len;
	struct httpreq r;
	char *s = request(1, 0, pad, &len);

	ck_assert_uint_eq(len, HTTPREQ_HEAD_MAX);
	ck_assert_int_eq(httpreq_parse(s, len, &r), HTTPREQ_OK);
	ck_assert_uint_eq(r.head_len, HTTPREQ_HEAD_MAX);
	ck_assert_int_eq(httpreq_parse(s, len - 1, &r), HTTPREQ_MORE);
	free(s);
	s = request(1, 0, pad + 1, &len);
	ck_assert_uint_eq(len, HTTPREQ_HEAD_MAX + 1);
	ck_assert_int_eq(httpreq_parse(s, len, &r), HTTPREQ_ERROR);
	ck_assert_int_eq(r.status, 431);
	/* A buffer of HTTPREQ_HEAD_MAX bytes is enough to know. */
	ck_assert_int_eq(httpreq_parse(s, HTTPREQ_HEAD_MAX, &r), HTTPREQ_ERROR);
	ck_assert_int_eq(r.status, 431);
	ck_assert_int_eq(httpreq_parse(s, HTTPREQ_HEAD_MAX - 1, &r),
	                 HTTPREQ_MORE);
	free(s);
}
END_TEST

START_TEST(httpreq_parse_decides_an_error_at_its_byte)
{
	static const char in[] =
	    "GET / HTTP/1.1\r\nA: b\r\nBad Name: x\r\n\r\n";
	size_t bad_at = strlen("GET / HTTP/1.1\r\nA: b\r\nBad"), k;
	struct httpreq r;

	for (k = 0; k <= bad_at; k++)
		ck_assert_int_eq(httpreq_parse(in, k, &r), HTTPREQ_MORE);
	for (; k <= sizeof in - 1; k++) {
		ck_assert_int_eq(httpreq_parse(in, k, &r), HTTPREQ_ERROR);
		ck_assert_int_eq(r.status, 400);
	}
}
END_TEST

static Suite *
httpreq_suite(void)
{
	Suite *s = suite_create("httpreq");
	TCase *tc = tcase_create("httpreq");

	tcase_add_loop_test(tc, httpreq_parse_takes_good_requests_apart, 0,
	                    sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, httpreq_parse_wants_more_until_the_empty_line,
	                    0, sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc,
	                    httpreq_parse_answers_each_error_with_its_status, 0,
	                    sizeof bad / sizeof bad[0]);
	tcase_add_test(tc,
	               httpreq_parse_takes_a_target_of_the_limit_not_one_more);
	tcase_add_test(tc, httpreq_parse_takes_the_most_fields_not_one_more);
	tcase_add_test(tc,
	               httpreq_parse_takes_a_head_of_the_limit_not_one_more);
	tcase_add_test(tc, httpreq_parse_decides_an_error_at_its_byte);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(httpreq_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
