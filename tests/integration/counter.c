/*
 * counter - the limit counters (policy/counter.c) against a real
 * redis-server, through the Redis store.  Run by counter.sh, which starts
 * the server and passes REDIS_URL.
 *
 * Covers: what is added is read back, per term; a bucket is forgotten
 * after its period and not before; two terms of one kind and period count
 * once; the hash gets an expiry past its longest period and drops stale
 * fields; the script is sent again (EVAL) after Redis forgot it (SCRIPT
 * FLUSH); a read is sent again when its pooled connection had been
 * closed by the server, an add is not; a counter key of another type and
 * a Redis that is down are
 * failures, never counts.  Periods are seconds, and every assertion on
 * time has a margin of a whole second or more (valgrind is slow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "counter.h"
#include "limit.h"
#include "store_redis.h"

static const char *url;
static struct store *st;

/* redis - one command on a connection of our own; the reply, freed later */
static redisReply *
redis(const char *fmt, const char *arg)
{
	const char *colon = strrchr(url, ':');
	redisContext *c =
	    redisConnect("127.0.0.1", (int)strtol(colon + 1, NULL, 10));
	redisReply *r;

	ck_assert_msg(c != NULL && c->err == 0, "connect");
	r = redisCommand(c, fmt, arg);
	ck_assert_ptr_nonnull(r);
	redisFree(c);
	return r;
}

/* redis_int - an integer reply */
static long long
redis_int(const char *fmt, const char *arg)
{
	redisReply *r = redis(fmt, arg);
	long long v;

	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static void
setup(void)
{
	struct store_redis_conf rc = {
	    .url = url, .timeout_ms = 2000, .connections = 2};
	char err[256];

	freeReplyObject(redis("FLUSHALL", NULL));
	st = store_redis_open(&rc, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
}

static void
teardown(void)
{
	st->close(st);
}

/* parse - a limit value that must parse */
static void
parse(const char *v, struct limit *l)
{
	char err[256];

	ck_assert_msg(limit_parse(v, strlen(v), l, err, sizeof err) == 0,
	              "%s: %s", v, err);
}

/* read - the counts of one counter */
static void
read_counts(const char *key, const struct limit *l, long long *count)
{
	struct counter c = {.key = key, .lim = l};
	char err[256];

	ck_assert_msg(counter_read(st, &c, 1, err, sizeof err) == STORE_OK,
	              "%s", err);
	memcpy(count, c.count, sizeof c.count);
}

/* add - msgs and rcpts to one counter; its counts after (read again) */
static void
add(const char *key, const struct limit *l, long long msgs, long long rcpts,
    long long *count)
{
	struct counter c = {.key = key, .lim = l, .msgs = msgs, .rcpts = rcpts};
	char err[256];

	c.count[0] = -7; /* add answers no counts: left alone */
	ck_assert_msg(counter_add(st, &c, 1, err, sizeof err) == STORE_OK, "%s",
	              err);
	ck_assert_int_eq(c.count[0], -7);
	read_counts(key, l, count);
}

START_TEST(counter_adds_and_reads_per_term)
{
	struct limit l;
	long long n[LIMIT_TERMS_MAX];

	parse("10 msgs/1h, 20 rcpts/1h, 5 rcpts/msg, 100 rcpts/1d", &l);
	read_counts("c:a", &l, n);
	ck_assert_int_eq(n[0], 0);
	ck_assert_int_eq(n[1], 0);
	add("c:a", &l, 1, 3, n);
	ck_assert_int_eq(n[0], 1);
	ck_assert_int_eq(n[1], 3);
	ck_assert_int_eq(n[2], 0); /* rcpts/msg: counted in the message */
	ck_assert_int_eq(n[3], 3);
	add("c:a", &l, 1, 2, n);
	read_counts("c:a", &l, n);
	ck_assert_int_eq(n[0], 2);
	ck_assert_int_eq(n[1], 5);
	ck_assert_int_eq(n[3], 5);
	/* Another key counts apart. */
	read_counts("c:b", &l, n);
	ck_assert_int_eq(n[0], 0);
	limit_free(&l);
}
END_TEST

START_TEST(counter_slides_and_forgets_after_the_period)
{
	struct limit l;
	long long n[LIMIT_TERMS_MAX];

	parse("5 msgs/3s", &l);
	add("c:s", &l, 1, 1, n);
	ck_assert_int_eq(n[0], 1);
	sleep(1);
	add("c:s", &l, 1, 1, n);
	ck_assert_int_eq(n[0], 2);
	/* 4.2 s after the first, 3.2 s after the second: both forgotten
	 * (each is kept at most 3 s + 3 s / 60). */
	usleep(3200 * 1000);
	read_counts("c:s", &l, n);
	ck_assert_int_eq(n[0], 0);
	limit_free(&l);
}
END_TEST

START_TEST(counter_keeps_what_is_within_the_period)
{
	struct limit l;
	long long n[LIMIT_TERMS_MAX];

	/* A period far longer than any delay of the test, with its buckets
	 * of 1 s: what was added 2 s ago is still there. */
	parse("5 msgs/1m", &l);
	add("c:k", &l, 1, 1, n);
	sleep(2);
	read_counts("c:k", &l, n);
	ck_assert_int_eq(n[0], 1);
	limit_free(&l);
}
END_TEST

START_TEST(counter_same_kind_and_period_count_once)
{
	struct limit l;
	long long n[LIMIT_TERMS_MAX];

	parse("5 msgs/1h, 10 msgs/1h, 3 rcpts/1h", &l);
	add("c:d", &l, 1, 2, n);
	ck_assert_int_eq(n[0], 1);
	ck_assert_int_eq(n[1], 1);
	ck_assert_int_eq(n[2], 2);
	read_counts("c:d", &l, n);
	ck_assert_int_eq(n[0], 1);
	ck_assert_int_eq(n[1], 1);
	limit_free(&l);
}
END_TEST

START_TEST(counter_expires_and_drops_stale_fields)
{
	struct limit l, other;
	long long n[LIMIT_TERMS_MAX], pttl;

	parse("5 msgs/2s, 5 rcpts/4s", &l);
	add("c:e", &l, 1, 1, n);
	pttl = redis_int("PTTL %s", "c:e");
	ck_assert_int_gt(pttl, 2000);
	ck_assert_int_le(pttl, 4000 + 4000 / 60 + 1);
	ck_assert_int_eq(redis_int("HLEN %s", "c:e"), 2);
	/* Added to again after a second: less than the 4 s period is left,
	 * so the expiry is moved on. */
	sleep(1);
	add("c:e", &l, 1, 1, n);
	ck_assert_int_gt(redis_int("PTTL %s", "c:e"), 3000);
	/* The period changed: the old term's fields go at the next add. */
	parse("5 msgs/1h", &other);
	add("c:e", &other, 1, 1, n);
	ck_assert_int_eq(n[0], 1);
	ck_assert_int_eq(redis_int("HLEN %s", "c:e"), 1);
	ck_assert_int_gt(redis_int("PTTL %s", "c:e"), 3600 * 1000 - 60000);
	limit_free(&l);
	limit_free(&other);
}
END_TEST

START_TEST(counter_survives_script_flush)
{
	struct limit l;
	long long n[LIMIT_TERMS_MAX];

	parse("5 msgs/1h", &l);
	add("c:f", &l, 1, 1, n);
	freeReplyObject(redis("SCRIPT FLUSH", NULL));
	add("c:f", &l, 1, 1, n);
	ck_assert_int_eq(n[0], 2);
	read_counts("c:f", &l, n);
	ck_assert_int_eq(n[0], 2);
	limit_free(&l);
}
END_TEST

START_TEST(counter_read_again_on_a_closed_connection)
{
	struct limit l;
	struct counter c;
	long long n[LIMIT_TERMS_MAX];
	char err[256] = "";

	parse("5 msgs/1h", &l);
	add("c:k1", &l, 1, 1, n); /* the pool has its connection now */
	freeReplyObject(redis("CLIENT KILL TYPE %s", "normal"));
	/* A read is sent again on a new connection... */
	read_counts("c:k1", &l, n);
	ck_assert_int_eq(n[0], 1);
	/* ...an add is not (it may have run): one message uncounted. */
	freeReplyObject(redis("CLIENT KILL TYPE %s", "normal"));
	memset(&c, 0, sizeof c);
	c.key = "c:k1";
	c.lim = &l;
	c.msgs = 1;
	ck_assert_int_eq(counter_add(st, &c, 1, err, sizeof err),
	                 STORE_ERR_RETRY);
	read_counts("c:k1", &l, n);
	ck_assert_int_eq(n[0], 1);
	limit_free(&l);
}
END_TEST

START_TEST(counter_of_another_type_is_a_failure)
{
	struct limit l;
	struct counter c;
	char err[256] = "";

	parse("5 msgs/1h", &l);
	freeReplyObject(redis("SET %s x", "c:str"));
	memset(&c, 0, sizeof c);
	c.key = "c:str";
	c.lim = &l;
	c.msgs = 1;
	ck_assert_int_eq(counter_add(st, &c, 1, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_msg(strstr(err, "WRONGTYPE") != NULL, "%s", err);
	ck_assert_int_eq(counter_read(st, &c, 1, err, sizeof err),
	                 STORE_ERR_RETRY);
	limit_free(&l);
}
END_TEST

START_TEST(counter_with_redis_down_is_a_failure)
{
	struct store_redis_conf rc = {.url = "redis://127.0.0.1:1/0",
	                              .timeout_ms = 300,
	                              .connections = 1};
	struct limit l;
	struct counter c;
	struct store *down;
	char err[256] = "";

	down = store_redis_open(&rc, err, sizeof err);
	ck_assert_ptr_nonnull(down);
	parse("5 msgs/1h", &l);
	memset(&c, 0, sizeof c);
	c.key = "c:x";
	c.lim = &l;
	ck_assert_int_eq(counter_read(down, &c, 1, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_str_ne(err, "");
	down->close(down);
	limit_free(&l);
}
END_TEST

static Suite *
counter_suite(void)
{
	Suite *s = suite_create("counter");
	TCase *tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, counter_adds_and_reads_per_term);
	tcase_add_test(tc, counter_slides_and_forgets_after_the_period);
	tcase_add_test(tc, counter_keeps_what_is_within_the_period);
	tcase_add_test(tc, counter_same_kind_and_period_count_once);
	tcase_add_test(tc, counter_expires_and_drops_stale_fields);
	tcase_add_test(tc, counter_survives_script_flush);
	tcase_add_test(tc, counter_read_again_on_a_closed_connection);
	tcase_add_test(tc, counter_of_another_type_is_a_failure);
	tcase_add_test(tc, counter_with_redis_down_is_a_failure);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	url = getenv("REDIS_URL");
	if (url == NULL) {
		fprintf(stderr,
		        "counter: REDIS_URL must be set (counter.sh)\n");
		return 2;
	}
	sr = srunner_create(counter_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
