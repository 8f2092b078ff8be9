/*
 * store_redis - the Redis store against a real redis-server
 * (policy/store/store_redis.c).  Run by store_redis.sh, which starts the server
 * and passes REDIS_URL, REDIS_SOCK and REDIS_PID.
 *
 * Covers: found / not found / binary values, one command per mget, many
 * threads on a bounded pool without connection churn, a refused
 * connection, a frozen server (SIGSTOP) answered within the timeout and
 * recovered from, one deadline for the wait for a pooled connection and
 * the command, pooled connections killed by the server (retried at once),
 * AUTH (a password set behind the store's back), a Sentinel's error named,
 * unix sockets with SELECT, atomic batches, the import lock, GET with TTL,
 * SCAN with TTLs and non-string keys, and a split store that leaves a hung
 * replica alone for a while.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "store_redis.h"
#include "store_split.h"

static const char *url, *sock;
static pid_t redis_pid;

/* open_store - a store on a server */
static struct store *
open_store(const char *u, const char *password, int timeout, int conns)
{
	struct store_redis_conf rc = {.url = u,
	                              .password = password,
	                              .timeout_ms = timeout,
	                              .connections = conns};
	char err[256];
	struct store *st = store_redis_open(&rc, err, sizeof err);

	ck_assert_msg(st != NULL, "%s", err);
	return st;
}

/* raw - one command over the unix socket, with a password when given */
static void
raw(const char *password, int argc, const char **argv)
{
	redisContext *c = redisConnectUnix(sock);
	redisReply *r;

	ck_assert_msg(c != NULL && c->err == 0, "raw connect");
	if (password != NULL) {
		r = redisCommand(c, "AUTH %s", password);
		freeReplyObject(r);
	}
	r = redisCommandArgv(c, argc, argv, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s", r->str);
	freeReplyObject(r);
	redisFree(c);
}

/* now_ms - monotonic milliseconds */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* hang_port - a loopback port that accepts connections and never answers */
static int
hang_port(int *fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(*fd, 64), 0);
	ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

/* redis_port - the port of REDIS_URL (redis://127.0.0.1:PORT/0) */
static int
redis_port(void)
{
	const char *colon = strrchr(url, ':');

	ck_assert_ptr_nonnull(colon);
	return (int)strtol(colon + 1, NULL, 10);
}

static void
setup(void)
{
	const char *flush[1] = {"FLUSHALL"};

	raw(NULL, 1, flush);
}

START_TEST(store_redis_mget_found_notfound_binary)
{
	struct store *st = open_store(url, NULL, 500, 1);
	const char *keys[3] = {"t:a", "t:missing", "t:bin"};
	struct store_value v[3];
	char err[256];

	ck_assert_int_eq(st->put(st, "t:a", "OK", 2, 0, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(
	    st->put(st, "t:bin", "a\0b\r\n", 5, 0, err, sizeof err), STORE_OK);
	ck_assert_int_eq(st->mget(st, keys, 3, v, err, sizeof err), STORE_OK);
	ck_assert_int_eq(v[0].status, STORE_OK);
	ck_assert_str_eq(v[0].val, "OK");
	ck_assert_int_eq(v[1].status, STORE_NOTFOUND);
	ck_assert_ptr_null(v[1].val);
	ck_assert_int_eq(v[2].status, STORE_OK);
	ck_assert_uint_eq(v[2].len, 5);
	ck_assert_int_eq(memcmp(v[2].val, "a\0b\r\n", 5), 0);
	store_values_free(v, 3);
	st->close(st);
}
END_TEST

START_TEST(store_redis_one_command_per_mget)
{
	struct store *st = open_store(url, NULL, 500, 2);
	const char *keys[100];
	char names[100][16], err[256];
	struct store_value v[100];
	struct store_redis_stats a, b;
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(names[i], sizeof names[i], "k%d", i);
		keys[i] = names[i];
	}
	ck_assert_int_eq(st->mget(st, keys, 100, v, err, sizeof err), STORE_OK);
	store_values_free(v, 100);
	store_redis_stats(st, &a);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(st->mget(st, keys, 100, v, err, sizeof err),
		                 STORE_OK);
		store_values_free(v, 100);
	}
	store_redis_stats(st, &b);
	ck_assert_uint_eq(b.commands - a.commands, 10);
	ck_assert_uint_eq(b.connects, 1);
	st->close(st);
}
END_TEST

struct worker {
	struct store *st;
	int bad;
};

/* hammer - one thread's lookups */
static void *
hammer(void *arg)
{
	struct worker *w = arg;
	const char *keys[2] = {"t:a", "t:none"};
	struct store_value v[2];
	char err[256];
	int i;

	for (i = 0; i < 500; i++) {
		if (w->st->mget(w->st, keys, 2, v, err, sizeof err) !=
		        STORE_OK ||
		    v[0].status != STORE_OK ||
		    strcmp(v[0].val, "REJECT") != 0 ||
		    v[1].status != STORE_NOTFOUND)
			w->bad++;
		else
			store_values_free(v, 2);
	}
	return NULL;
}

START_TEST(store_redis_threads_share_a_bounded_pool)
{
	struct store *st = open_store(url, NULL, 2000, 4);
	struct worker w[16];
	pthread_t t[16];
	struct store_redis_stats s;
	char err[256];
	int i;

	ck_assert_int_eq(st->put(st, "t:a", "REJECT", 6, 0, err, sizeof err),
	                 STORE_OK);
	for (i = 0; i < 16; i++) {
		w[i].st = st;
		w[i].bad = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].bad, 0);
	}
	store_redis_stats(st, &s);
	ck_assert_uint_le(s.connects, 4);
	ck_assert_uint_eq(s.commands, 16 * 500 + 1);
	st->close(st);
}
END_TEST

START_TEST(store_redis_refused_connection_is_a_retry)
{
	struct store *st = open_store("redis://127.0.0.1:1/0", NULL, 500, 1);
	const char *keys[1] = {"x"};
	struct store_value v[1];
	char err[256] = "";

	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_msg(strstr(err, "127.0.0.1:1") != NULL, "%s", err);
	st->close(st);
}
END_TEST

START_TEST(store_redis_frozen_server_times_out_then_recovers)
{
	struct store *st = open_store(url, NULL, 300, 1);
	const char *keys[1] = {"t:a"};
	struct store_value v[1];
	char err[256];
	long t0, took;
	enum store_status rc;

	ck_assert_int_eq(st->put(st, "t:a", "OK", 2, 0, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(kill(redis_pid, SIGSTOP), 0);
	t0 = now_ms();
	rc = st->mget(st, keys, 1, v, err, sizeof err);
	took = now_ms() - t0;
	kill(redis_pid, SIGCONT);
	ck_assert_int_eq(rc, STORE_ERR_RETRY);
	ck_assert_msg(took >= 250 && took < 5000, "took %ld ms", took);
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err), STORE_OK);
	ck_assert_str_eq(v[0].val, "OK");
	store_values_free(v, 1);
	st->close(st);
}
END_TEST

struct timed {
	struct store *st;
	enum store_status rc;
	long took;
	char err[256];
};

/* timed_mget - one lookup of t:a, timed */
static void *
timed_mget(void *arg)
{
	struct timed *t = arg;
	const char *keys[1] = {"t:a"};
	struct store_value v[1];
	long t0 = now_ms();

	t->rc = t->st->mget(t->st, keys, 1, v, t->err, sizeof t->err);
	t->took = now_ms() - t0;
	if (t->rc == STORE_OK)
		store_values_free(v, 1);
	return NULL;
}

/*
 * One pooled connection, the server frozen: lookup A takes the connection,
 * lookup B comes 200 ms later and waits for it.  B's wait is part of its
 * lookup, so B too must fail within its timeout (1000 ms), not after
 * A's timeout plus its own (1800 ms).
 */
START_TEST(store_redis_pool_wait_counts_against_the_deadline)
{
	struct store *st = open_store(url, NULL, 1000, 1);
	struct timed a = {st, STORE_OK, 0, ""}, b = {st, STORE_OK, 0, ""};
	pthread_t t;
	char err[256];

	ck_assert_int_eq(st->put(st, "t:a", "OK", 2, 0, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(kill(redis_pid, SIGSTOP), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, timed_mget, &a), 0);
	nanosleep(&(struct timespec){0, 200000000L}, NULL);
	timed_mget(&b);
	pthread_join(t, NULL);
	kill(redis_pid, SIGCONT);
	ck_assert_int_eq(a.rc, STORE_ERR_RETRY);
	ck_assert_int_eq(b.rc, STORE_ERR_RETRY);
	ck_assert_msg(a.took >= 900 && a.took < 1400, "A took %ld ms", a.took);
	ck_assert_msg(b.took >= 900 && b.took < 1400, "B took %ld ms: %s",
	              b.took, b.err);
	ck_assert_msg(strstr(b.err, "timed out") != NULL, "%s", b.err);
	st->close(st);
}
END_TEST

/* kill_clients - CLIENT KILL every normal client but our own */
static void
kill_clients(void)
{
	const char *kill[4] = {"CLIENT", "KILL", "TYPE", "normal"};

	raw(NULL, 4, kill);
}

/*
 * The server closes every pooled connection (as a restart, CLIENT KILL or
 * a Sentinel promotion does): the next lookups, one thread or many, still
 * succeed at their first try, on connections made anew.
 */
START_TEST(store_redis_killed_pooled_connections_are_retried)
{
	struct store *st = open_store(url, NULL, 2000, 4);
	const char *keys[1] = {"t:a"};
	struct store_redis_stats a, b;
	struct store_value v[1];
	struct worker w[8];
	pthread_t t[8];
	char err[256];
	int i, round;

	ck_assert_int_eq(st->put(st, "t:a", "REJECT", 6, 0, err, sizeof err),
	                 STORE_OK);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 8; i++) {
			w[i].st = st;
			w[i].bad = 0;
			ck_assert_int_eq(
			    pthread_create(&t[i], NULL, hammer, &w[i]), 0);
		}
		for (i = 0; i < 8; i++) {
			pthread_join(t[i], NULL);
			ck_assert_int_eq(w[i].bad, 0);
		}
		store_redis_stats(st, &a);
		kill_clients();
	}
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err), STORE_OK);
	ck_assert_str_eq(v[0].val, "REJECT");
	store_values_free(v, 1);
	store_redis_stats(st, &b);
	ck_assert_uint_gt(b.connects, a.connects);
	st->close(st);
}
END_TEST

/*
 * A sentinel:// URL whose "Sentinel" answers errors (a plain Redis, which
 * knows no SENTINEL command, and has no password for AUTH): the message
 * names the Sentinel and quotes its error, instead of hiding it.
 */
START_TEST(store_redis_sentinel_error_is_named)
{
	struct store_redis_conf rc = {.timeout_ms = 500, .connections = 1};
	const char *keys[1] = {"t:a"};
	struct store_value v[1];
	struct store *st;
	char u[256], err[256] = "";

	snprintf(u, sizeof u, "sentinel://127.0.0.1:%d/m", redis_port());
	st = open_store(u, NULL, 500, 1);
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_msg(strstr(err, "Sentinel 127.0.0.1:") != NULL &&
	                  strstr(err, "unknown command") != NULL,
	              "%s", err);
	st->close(st);
	rc.url = u;
	rc.sentinel_password = "s3cret";
	st = store_redis_open(&rc, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_msg(strstr(err, "Sentinel 127.0.0.1:") != NULL &&
	                  strstr(err, "AUTH") != NULL,
	              "%s", err);
	st->close(st);
}
END_TEST

/*
 * A split store whose replica hangs (it accepts connections and never
 * answers): the first lookup waits for it, then asks the primary; for a
 * second after that, lookups go straight to the primary; then the replica
 * is tried again.
 */
START_TEST(store_split_leaves_a_hung_replica_alone)
{
	int fd, port = hang_port(&fd), i;
	char u[64], err[256];
	const char *keys[1] = {"t:a"};
	struct store *primary = open_store(url, NULL, 300, 1), *st;
	struct store_value v[1];
	long t0, took;

	ck_assert_int_eq(
	    primary->put(primary, "t:a", "OK", 2, 0, err, sizeof err),
	    STORE_OK);
	snprintf(u, sizeof u, "redis://127.0.0.1:%d/0", port);
	st = store_split_new(open_store(u, NULL, 300, 1), primary);
	for (i = 0; i < 6; i++) {
		if (i == 5) /* the hold is over: the replica's turn again */
			nanosleep(&(struct timespec){1, 100000000L}, NULL);
		t0 = now_ms();
		ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err),
		                 STORE_OK);
		took = now_ms() - t0;
		ck_assert_str_eq(v[0].val, "OK");
		store_values_free(v, 1);
		if (i == 0 || i == 5)
			ck_assert_msg(took >= 250, "lookup %d: %ld ms", i,
			              took);
		else
			ck_assert_msg(took < 200, "lookup %d: %ld ms", i, took);
	}
	st->close(st);
	close(fd);
}
END_TEST

START_TEST(store_redis_password_behind_our_back)
{
	const char *set[4] = {"CONFIG", "SET", "requirepass", "s3cret"};
	struct store *old = open_store(url, NULL, 500, 1), *st, *auth;
	const char *keys[1] = {"t:a"};
	struct store_value v[1];
	char err[256] = "";

	ck_assert_int_eq(old->mget(old, keys, 1, v, err, sizeof err), STORE_OK);
	raw(NULL, 4, set);
	/* Connections made before keep working, as Redis lets them... */
	ck_assert_int_eq(old->mget(old, keys, 1, v, err, sizeof err), STORE_OK);
	/* ...new ones without the password are refused, as a failure. */
	st = open_store(url, NULL, 500, 1);
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err),
	                 STORE_ERR_RETRY);
	ck_assert_msg(strstr(err, "NOAUTH") != NULL ||
	                  strstr(err, "Authentication") != NULL,
	              "%s", err);
	auth = open_store(url, "s3cret", 500, 1);
	ck_assert_int_eq(auth->mget(auth, keys, 1, v, err, sizeof err),
	                 STORE_OK);
	old->close(old);
	st->close(st);
	auth->close(auth);
}
END_TEST

/* no_password - undo the password test, whatever became of it */
static void
no_password(void)
{
	const char *unset[4] = {"CONFIG", "SET", "requirepass", ""};
	redisContext *c = redisConnectUnix(sock);
	redisReply *r;

	if (c == NULL)
		return;
	r = redisCommand(c, "AUTH %s", "s3cret");
	freeReplyObject(r);
	r = redisCommandArgv(c, 4, unset, NULL);
	freeReplyObject(r);
	redisFree(c);
}

START_TEST(store_redis_unix_socket_and_select)
{
	char u[256], err[256];
	const char *keys[1] = {"t:db3"};
	const char *sel[2] = {"SELECT", "3"};
	struct store_value v[1];
	struct store *st;

	snprintf(u, sizeof u, "unix:%s?db=3", sock);
	st = open_store(u, NULL, 500, 1);
	ck_assert_int_eq(st->put(st, "t:db3", "DUNNO", 5, 0, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err), STORE_OK);
	ck_assert_str_eq(v[0].val, "DUNNO");
	store_values_free(v, 1);
	st->close(st);
	/* and not in db 0 */
	st = open_store(url, NULL, 500, 1);
	ck_assert_int_eq(st->mget(st, keys, 1, v, err, sizeof err), STORE_OK);
	ck_assert_int_eq(v[0].status, STORE_NOTFOUND);
	st->close(st);
	raw(NULL, 2, sel);
}
END_TEST

START_TEST(store_redis_apply_lock_get_scan)
{
	struct store *st = open_store(url, NULL, 500, 1);
	struct store_op ops[3] = {
	    {"p:recipient:a", "OK", 2, 0},
	    {"p:recipient:b", "REJECT", 6, 100},
	    {"p:recipient:c", NULL, 0, 0},
	};
	const char *hset[4] = {"HSET", "p:sender:h", "f", "v"};
	struct store_value v;
	long long ttl;
	char err[256];

	ck_assert_int_eq(
	    st->put(st, "p:recipient:c", "x", 1, 0, err, sizeof err), STORE_OK);
	ck_assert_int_eq(st->apply(st, ops, 3, err, sizeof err), STORE_OK);
	ck_assert_int_eq(
	    st->get(st, "p:recipient:b", &v, &ttl, err, sizeof err), STORE_OK);
	ck_assert_str_eq(v.val, "REJECT");
	ck_assert(ttl > 90 && ttl <= 100);
	free(v.val);
	ck_assert_int_eq(
	    st->get(st, "p:recipient:c", &v, &ttl, err, sizeof err),
	    STORE_NOTFOUND);
	ck_assert_int_eq(st->del(st, "p:recipient:a", err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(st->del(st, "p:recipient:a", err, sizeof err),
	                 STORE_NOTFOUND);
	ck_assert_int_eq(st->lock(st, "p:_lock", 5000, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(st->lock(st, "p:_lock", 5000, err, sizeof err),
	                 STORE_NOTFOUND);
	ck_assert_int_eq(st->unlock(st, "p:_lock", err, sizeof err), STORE_OK);
	ck_assert_int_eq(st->lock(st, "p:_lock", 5000, err, sizeof err),
	                 STORE_OK);
	raw(NULL, 4, hset);
	ck_assert_int_eq(st->get(st, "p:sender:h", &v, &ttl, err, sizeof err),
	                 STORE_NOTFOUND);
	st->close(st);
}
END_TEST

struct seen {
	int strings, hashes, with_ttl;
};

/* count - scan callback */
static int
count(const char *key, const char *val, size_t len, long long ttl,
      const char *type, void *arg)
{
	struct seen *s = arg;

	(void)key;
	(void)len;
	if (val == NULL && type != NULL && strcmp(type, "hash") == 0)
		s->hashes++;
	else if (val != NULL)
		s->strings++;
	if (ttl > 0)
		s->with_ttl++;
	return 0;
}

START_TEST(store_redis_scan_sees_every_key_ttl_and_type)
{
	struct store *st = open_store(url, NULL, 2000, 1);
	const char *hset[4] = {"HSET", "s:sender:h", "f", "v"};
	struct seen s = {0, 0, 0};
	char key[32], err[256];
	int i;

	for (i = 0; i < 2500; i++) {
		snprintf(key, sizeof key, "s:recipient:%d", i);
		ck_assert_int_eq(
		    st->put(st, key, "OK", 2, i < 10 ? 60 : 0, err, sizeof err),
		    STORE_OK);
	}
	st->put(st, "other:recipient:x", "OK", 2, 0, err, sizeof err);
	raw(NULL, 4, hset);
	ck_assert_int_eq(st->scan(st, "s:", count, &s, err, sizeof err),
	                 STORE_OK);
	ck_assert_int_eq(s.strings, 2500);
	ck_assert_int_eq(s.hashes, 1);
	ck_assert_int_eq(s.with_ttl, 10);
	st->close(st);
}
END_TEST

static Suite *
store_redis_suite(void)
{
	Suite *s = suite_create("store_redis");
	TCase *tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, no_password);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, store_redis_mget_found_notfound_binary);
	tcase_add_test(tc, store_redis_one_command_per_mget);
	tcase_add_test(tc, store_redis_threads_share_a_bounded_pool);
	tcase_add_test(tc, store_redis_refused_connection_is_a_retry);
	tcase_add_test(tc, store_redis_frozen_server_times_out_then_recovers);
	tcase_add_test(tc, store_redis_pool_wait_counts_against_the_deadline);
	tcase_add_test(tc, store_redis_killed_pooled_connections_are_retried);
	tcase_add_test(tc, store_redis_password_behind_our_back);
	tcase_add_test(tc, store_redis_sentinel_error_is_named);
	tcase_add_test(tc, store_split_leaves_a_hung_replica_alone);
	tcase_add_test(tc, store_redis_unix_socket_and_select);
	tcase_add_test(tc, store_redis_apply_lock_get_scan);
	tcase_add_test(tc, store_redis_scan_sees_every_key_ttl_and_type);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	const char *pid = getenv("REDIS_PID");
	int failed;

	url = getenv("REDIS_URL");
	sock = getenv("REDIS_SOCK");
	if (url == NULL || sock == NULL || pid == NULL) {
		fprintf(stderr, "store_redis: REDIS_URL, REDIS_SOCK and "
		                "REDIS_PID must be set (store_redis.sh)\n");
		return 2;
	}
	redis_pid = (pid_t)strtol(pid, NULL, 10);
	/* A write to a connection the server closed must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(store_redis_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
