/*
 * test_verdict_cache - whole decisions remembered (policy/verdict_cache.c),
 * alone and as the milter uses it: over the engine and a store_cache, with
 * cache_ttl split between the two
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "request.h"
#include "policy.h"
#include "store_cache.h"
#include "store_mem.h"
#include "mono.h"
#include "str.h"
#include "xmalloc.h"
#include "verdict_cache.h"

static struct request
rcpt(const char *sender, const char *recipient)
{
	return request_rcpt("mail.example.net", sender, recipient);
}

/* a_reply - a verdict as the engine makes one: a 552, with a WARN trail */
static void
a_reply(struct verdict *v, const char *text)
{
	memset(v, 0, sizeof *v);
	v->type = VERDICT_REPLY;
	v->table = TABLE_RECIPIENT;
	v->key = xstrdup("bob@example.com");
	v->action.type = ACTION_REPLY;
	v->action.code = 552;
	str_copy(v->action.enh, "5.2.2", sizeof v->action.enh);
	v->action.text = xstrdup(text);
	v->trail = xcalloc(1, sizeof *v->trail);
	v->ntrail = 1;
	v->trail[0].table = TABLE_SENDER;
	v->trail[0].what = TRAIL_WARN;
	v->trail[0].key = xstrdup("example.org");
	v->trail[0].value = xstrdup("WARN watch this");
	v->trail[0].note = xstrdup("watch this");
	v->keys_looked_up = 42;
}

/* put_reply - remember a_reply(text) for r (the cache keeps its own copy) */
static void
put_reply(struct verdict_cache *vc, const struct request *r, const char *text)
{
	struct verdict v;

	a_reply(&v, text);
	verdict_cache_put(vc, r, &v);
	verdict_free(&v);
}

START_TEST(verdict_cache_hit_is_an_equal_independent_copy)
{
	struct verdict_cache *vc = verdict_cache_new(60000, 1024);
	struct request r = rcpt("<a@example.org>", "<bob@example.com>");
	struct verdict v, got;

	a_reply(&v, "Mailbox full");
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 0);
	verdict_cache_put(vc, &r, &v);
	verdict_free(&v); /* the cache keeps its own copy */
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 1);
	ck_assert_int_eq(got.type, VERDICT_REPLY);
	ck_assert_int_eq(got.table, TABLE_RECIPIENT);
	ck_assert_str_eq(got.key, "bob@example.com");
	ck_assert_int_eq(got.action.code, 552);
	ck_assert_str_eq(got.action.enh, "5.2.2");
	ck_assert_str_eq(got.action.text, "Mailbox full");
	ck_assert_uint_eq(got.ntrail, 1);
	ck_assert_int_eq(got.trail[0].what, TRAIL_WARN);
	ck_assert_str_eq(got.trail[0].key, "example.org");
	ck_assert_str_eq(got.trail[0].value, "WARN watch this");
	ck_assert_str_eq(got.trail[0].note, "watch this");
	ck_assert_uint_eq(got.keys_looked_up, 42);
	verdict_free(&got);
	/* freeing a copy handed out leaves the cached one whole */
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 1);
	ck_assert_str_eq(got.action.text, "Mailbox full");
	verdict_free(&got);
	verdict_cache_free(vc);
}
END_TEST

START_TEST(verdict_cache_key_is_the_whole_request)
{
	struct verdict_cache *vc = verdict_cache_new(60000, 1024);
	struct request r = rcpt("<a@example.org>", "<bob@example.com>");
	struct request o;
	struct verdict v, got;

	put_reply(vc, &r, "Mailbox full");
	o = r;
	o.recipient = "<carol@example.com>";
	ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
	o = r;
	o.sender = "<b@example.org>";
	ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
	o = r;
	o.client_addr = "192.0.2.8";
	ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
	o = r;
	o.stage = STAGE_MAIL;
	ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
	/* a field not given is not an empty one, nor one shifted over */
	o = r;
	o.auth = "";
	ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
	o = r;
	o.helo = NULL;
	o.auth = "mail.example.net";
	ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 1);
	verdict_free(&got);
	/* a request too long for the key's buffer on the stack is kept */
	{
		char to[800], huge[2048];

		memset(to, 'x', sizeof to - 1);
		to[sizeof to - 1] = '\0';
		o = r;
		o.recipient = to;
		a_reply(&v, "long");
		verdict_cache_put(vc, &o, &v);
		ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 1);
		ck_assert_str_eq(got.action.text, "long");
		verdict_free(&got);
		to[100] = 'y';
		ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
		/* one of more than 1 kB is not (memory per entry is bounded) */
		memset(huge, 'x', sizeof huge - 1);
		huge[sizeof huge - 1] = '\0';
		o.recipient = huge;
		verdict_cache_put(vc, &o, &v);
		ck_assert_int_eq(verdict_cache_get(vc, &o, &got), 0);
		verdict_free(&v);
	}
	verdict_cache_free(vc);
}
END_TEST

START_TEST(verdict_cache_never_keeps_a_store_failure)
{
	struct verdict_cache *vc = verdict_cache_new(60000, 1024);
	struct request r = rcpt("<a@example.org>", "<bob@example.com>");
	struct verdict v, got;

	memset(&v, 0, sizeof v);
	v.type = VERDICT_ERR_STORE;
	str_copy(v.err, "Redis timed out", sizeof v.err);
	verdict_cache_put(vc, &r, &v);
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 0);
	verdict_cache_free(vc);
}
END_TEST

START_TEST(verdict_cache_entries_expire_and_are_replaced)
{
	struct verdict_cache *vc = verdict_cache_new(50, 1024);
	struct request r = rcpt("<a@example.org>", "<bob@example.com>");
	struct verdict got;
	struct timespec nap = {0, 80 * 1000000L};

	put_reply(vc, &r, "first");
	put_reply(vc, &r, "second");
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 1);
	ck_assert_str_eq(got.action.text, "second");
	verdict_free(&got);
	nanosleep(&nap, NULL);
	ck_assert_int_eq(verdict_cache_get(vc, &r, &got), 0);
	verdict_cache_free(vc);
}
END_TEST

START_TEST(verdict_cache_stays_within_its_size)
{
	struct verdict_cache *vc = verdict_cache_new(60000, 64);
	struct request r = rcpt("<a@example.org>", NULL);
	struct verdict v, got;
	char to[64];
	int i, kept = 0;

	a_reply(&v, "Mailbox full");
	for (i = 0; i < 5000; i++) {
		snprintf(to, sizeof to, "<u%d@example.com>", i);
		r.recipient = to;
		verdict_cache_put(vc, &r, &v);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(to, sizeof to, "<u%d@example.com>", i);
		r.recipient = to;
		if (verdict_cache_get(vc, &r, &got)) {
			kept++;
			verdict_free(&got);
		}
	}
	verdict_free(&v);
	ck_assert_int_le(kept, 64);
	ck_assert_int_gt(kept, 0);
	verdict_cache_free(vc); /* valgrind: nothing leaks */
}
END_TEST

/* The milter's arrangement, as milter/redmilter.c builds it. */
static struct store *mem, *st;
static struct verdict_cache *vc;
static struct policy_conf conf = {"redmilter:", "+", 1, 0, 0};

/* decide - what mlfi.c's decide() does: the cache, else the engine */
static char *
decide(const struct request *r)
{
	struct verdict v;
	char err[256], *s;

	if (!verdict_cache_get(vc, r, &v)) {
		ck_assert_int_eq(policy_eval(&conf, r, st, &v, err, sizeof err),
		                 0);
		verdict_cache_put(vc, r, &v);
	}
	s = xstrdup(v.type == VERDICT_REPLY && v.action.text != NULL
	                ? v.action.text
	                : verdict_type_name(v.type));
	verdict_free(&v);
	return s;
}

START_TEST(verdict_cache_with_store_cache_keeps_within_cache_ttl)
{
	const long ttl = 300; /* cache_ttl */
	struct request r = rcpt("<a@example.org>", "<bob@example.com>");
	struct request r2 = rcpt("<b@example.org>", "<bob@example.com>");
	const char *k = "redmilter:recipient:bob@example.com";
	char err[128], *s;
	long long t0, edit, t;
	struct timespec nap = {0, 5 * 1000000L};
	unsigned long calls;

	mem = store_mem_new();
	st = store_cache_new(mem, ttl - ttl / 2, 1024);
	vc = verdict_cache_new(ttl / 2, 1024);
	ck_assert_int_eq(mem->put(mem, k, "552 Old", 7, 0, err, sizeof err),
	                 STORE_OK);
	t0 = mono_ms();
	s = decide(&r);
	ck_assert_str_eq(s, "Old");
	free(s);
	calls = store_mem_calls(mem);
	/* repeated, the decision costs no lookup at all */
	s = decide(&r);
	ck_assert_str_eq(s, "Old");
	free(s);
	ck_assert_uint_eq(store_mem_calls(mem), calls);
	/* an edit behind both caches' backs (redis-cli) */
	ck_assert_int_eq(mem->put(mem, k, "552 New", 7, 0, err, sizeof err),
	                 STORE_OK);
	edit = mono_ms();
	s = decide(&r);
	ck_assert_str_eq(s, "Old"); /* cached: the test is not vacuous */
	free(s);
	/* A third of cache_ttl later, another sender to bob: a new decision,
	 * built from bob's cached lookup, which is as old as the first one.
	 * Kept for the whole cache_ttl, it would outlive the bound. */
	while (mono_ms() < t0 + ttl / 3)
		nanosleep(&nap, NULL);
	s = decide(&r2);
	ck_assert_str_eq(s, "Old");
	free(s);
	/* never the old answer once cache_ttl has passed since the edit */
	while ((t = mono_ms()) < edit + 2 * ttl) {
		s = decide(&r2);
		if (t > edit + ttl)
			ck_assert_msg(
			    strcmp(s, "New") == 0,
			    "%lld ms after the edit (cache_ttl %ld): %s",
			    t - edit, ttl, s);
		free(s);
		nanosleep(&nap, NULL);
	}
	verdict_cache_free(vc);
	st->close(st);
}
END_TEST

static Suite *
verdict_cache_suite(void)
{
	Suite *s = suite_create("verdict_cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, verdict_cache_hit_is_an_equal_independent_copy);
	tcase_add_test(tc, verdict_cache_key_is_the_whole_request);
	tcase_add_test(tc, verdict_cache_never_keeps_a_store_failure);
	tcase_add_test(tc, verdict_cache_entries_expire_and_are_replaced);
	tcase_add_test(tc, verdict_cache_stays_within_its_size);
	tcase_add_test(tc,
	               verdict_cache_with_store_cache_keeps_within_cache_ttl);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(verdict_cache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
