/*
 * test_metrics - the metrics endpoint's HTTP server (milter/metrics.c), on
 * a free loopback port (inet:0@127.0.0.1), with plain client sockets.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "metrics.h"
#include "mono.h"

#define ANSWER_MAX 16384

static atomic_int renders;

static const char answer_200[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
    "Content-Length: 4\r\n"
    "Connection: close\r\n\r\n";

/* render - the body "a 1\n", counted */
static char *
render(void *arg, size_t *len)
{
	char *s = malloc(4);

	(void)arg;
	ck_assert_ptr_nonnull(s);
	memcpy(s, "a 1\n", 4);
	*len = 4;
	atomic_fetch_add(&renders, 1);
	return s;
}

/* render_null - no body: 500 */
static char *
render_null(void *arg, size_t *len)
{
	(void)arg;
	*len = 0;
	return NULL;
}

static struct metrics *
start(metrics_render_fn fn)
{
	char err[256] = "";
	struct metrics *m =
	    metrics_start("inet:0@127.0.0.1", fn, NULL, err, sizeof err);

	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_int_gt(metrics_port(m), 0);
	return m;
}

/* dial - a blocking connection to 127.0.0.1:port */
static int
dial(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return fd;
}

static void
send_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		ck_assert_int_gt(n, 0);
		s += n;
		len -= (size_t)n;
	}
}

/* read_all - what the server sends until it closes, within ms; in buf */
static size_t
read_all(int fd, char *buf, size_t size, int ms)
{
	long long end = mono_ms() + ms;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t len = 0;
	ssize_t n;

	for (;;) {
		long long left = end - mono_ms();

		ck_assert_msg(left > 0, "no EOF within %d ms", ms);
		ck_assert_int_ge(poll(&p, 1, (int)left), 0);
		if (p.revents == 0)
			continue;
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n < 0 && errno == ECONNRESET)
			break;
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
		ck_assert_uint_lt(len, size - 1);
	}
	buf[len] = '\0';
	return len;
}

/* ask - send a request on a new connection; the answer, in buf */
static size_t
ask(int port, const char *req, size_t len, char *buf, size_t size)
{
	int fd = dial(port);
	size_t n;

	send_all(fd, req, len);
	n = read_all(fd, buf, size, 3000);
	close(fd);
	return n;
}

START_TEST(metrics_get_answers_200_with_the_body)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct metrics *m = start(render);
	char buf[ANSWER_MAX];
	int before = atomic_load(&renders);

	ask(metrics_port(m), req, sizeof req - 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "HTTP/1.1 200 OK\r\n"
	                      "Content-Type: text/plain; version=0.0.4; "
	                      "charset=utf-8\r\n"
	                      "Content-Length: 4\r\n"
	                      "Connection: close\r\n\r\n"
	                      "a 1\n");
	ck_assert_int_eq(atomic_load(&renders), before + 1);
	/* The query string does not matter, nor HTTP/1.0 and bare LFs. */
	ask(metrics_port(m), "GET /metrics?x=1 HTTP/1.0\n\n", 27, buf,
	    sizeof buf);
	ck_assert(strncmp(buf, answer_200, sizeof answer_200 - 1) == 0);
	metrics_stop(m);
}
END_TEST

START_TEST(metrics_head_answers_200_without_the_body)
{
	static const char req[] = "HEAD /metrics HTTP/1.1\r\n\r\n";
	struct metrics *m = start(render);
	char buf[ANSWER_MAX];

	ask(metrics_port(m), req, sizeof req - 1, buf, sizeof buf);
	ck_assert_str_eq(buf, answer_200);
	metrics_stop(m);
}
END_TEST

static const struct status_case {
	const char *req;
	const char *status_line;
	const char *also; /* NULL, or a header line the answer must have */
} status_cases[] = {
    {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", NULL},
    {"GET /metricsx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", NULL},
    {"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
     "HTTP/1.1 405 Method Not Allowed\r\n", "\r\nAllow: GET, HEAD\r\n"},
    {"get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n",
     "\r\nAllow: GET, HEAD\r\n"},
    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
     "HTTP/1.1 400 Bad Request\r\n", NULL},
    {"GET /metrics HTTP/2.0\r\n\r\n",
     "HTTP/1.1 505 HTTP Version Not Supported\r\n", NULL},
};

START_TEST(metrics_answers_each_error_with_its_status)
{
	const struct status_case *c = &status_cases[_i];
	struct metrics *m = start(render);
	char buf[ANSWER_MAX];

	ask(metrics_port(m), c->req, strlen(c->req), buf, sizeof buf);
	ck_assert_msg(strncmp(buf, c->status_line, strlen(c->status_line)) == 0,
	              "%s", buf);
	if (c->also != NULL)
		ck_assert_ptr_nonnull(strstr(buf, c->also));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nConnection: close\r\n\r\n"));
	metrics_stop(m);
}
END_TEST

START_TEST(metrics_answers_431_to_a_head_too_big)
{
	struct metrics *m = start(render);
	char buf[ANSWER_MAX], *req = malloc(9000);

	ck_assert_ptr_nonnull(req);
	memcpy(req, "GET /metrics HTTP/1.1\r\nX: ", 26);
	memset(req + 26, 'x', 9000 - 26 - 4);
	memcpy(req + 9000 - 4, "\r\n\r\n", 4);
	ask(metrics_port(m), req, 9000, buf, sizeof buf);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 431 ", 13) == 0, "%s", buf);
	free(req);
	metrics_stop(m);
}
END_TEST

START_TEST(metrics_answers_500_when_render_fails)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	struct metrics *m = start(render_null);
	char buf[ANSWER_MAX];

	ask(metrics_port(m), req, sizeof req - 1, buf, sizeof buf);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 500 ", 13) == 0, "%s", buf);
	metrics_stop(m);
}
END_TEST

START_TEST(metrics_start_refuses_with_a_clear_message)
{
	static const struct {
		const char *spec, *err;
	} bad[] = {
	    {"unix:/tmp/m.sock",
	     "metrics: 'unix:/tmp/m.sock' is not inet:PORT@HOST or "
	     "inet6:PORT@HOST"},
	    {"inet:9491@localhost",
	     "metrics: host 'localhost' is not a numeric IPv4 address"},
	    {"inet6:9491@127.0.0.1",
	     "metrics: host '127.0.0.1' is not a numeric IPv6 address"},
	    {"inet:x", "metrics: port 'x' is not a number 1..65535"},
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ck_assert_ptr_null(
		    metrics_start(bad[i].spec, render, NULL, err, sizeof err));
		ck_assert_str_eq(err, bad[i].err);
	}
	metrics_stop(NULL);
}
END_TEST

START_TEST(metrics_start_says_when_the_port_is_taken)
{
	struct metrics *m = start(render);
	char spec[64], want[128], err[256] = "";

	snprintf(spec, sizeof spec, "inet:%d", metrics_port(m));
	ck_assert_ptr_null(metrics_start(spec, render, NULL, err, sizeof err));
	snprintf(want, sizeof want,
	         "metrics: cannot listen on 127.0.0.1 port %d: Address "
	         "already in use",
	         metrics_port(m));
	ck_assert_str_eq(err, want);
	metrics_stop(m);
}
END_TEST

START_TEST(metrics_closes_an_idle_client_and_serves_others_meanwhile)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	struct metrics *m = start(render);
	char buf[ANSWER_MAX];
	long long t0 = mono_ms(), waited;
	int idle = dial(metrics_port(m));

	/* Half a request line, then nothing. */
	send_all(idle, "GET /me", 7);
	ask(metrics_port(m), req, sizeof req - 1, buf, sizeof buf);
	ck_assert(strncmp(buf, answer_200, sizeof answer_200 - 1) == 0);
	ck_assert_int_lt(mono_ms() - t0, 1000);
	read_all(idle, buf, sizeof buf, METRICS_CLIENT_TIMEOUT_MS + 3000);
	waited = mono_ms() - t0;
	ck_assert_int_ge(waited, METRICS_CLIENT_TIMEOUT_MS - 100);
	ck_assert_int_le(waited, METRICS_CLIENT_TIMEOUT_MS + 2000);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 408 ", 13) == 0, "%s", buf);
	close(idle);
	metrics_stop(m);
}
END_TEST

START_TEST(metrics_serves_one_more_when_an_idle_client_times_out)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	struct metrics *m = start(render);
	int idle[METRICS_CLIENTS_MAX], fd, i;
	long long t0, waited;
	char buf[ANSWER_MAX];

	for (i = 0; i < METRICS_CLIENTS_MAX; i++)
		idle[i] = dial(metrics_port(m));
	t0 = mono_ms();
	/* connect() returns once the kernel has it in the backlog. */
	fd = dial(metrics_port(m));
	send_all(fd, req, sizeof req - 1);
	read_all(fd, buf, sizeof buf, 12000);
	waited = mono_ms() - t0;
	ck_assert(strncmp(buf, answer_200, sizeof answer_200 - 1) == 0);
	ck_assert_int_ge(waited, METRICS_CLIENT_TIMEOUT_MS - 500);
	close(fd);
	for (i = 0; i < METRICS_CLIENTS_MAX; i++)
		close(idle[i]);
	metrics_stop(m);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("answers");
	TCase *slow = tcase_create("timeouts");

	tcase_add_test(tc, metrics_get_answers_200_with_the_body);
	tcase_add_test(tc, metrics_head_answers_200_without_the_body);
	tcase_add_loop_test(tc, metrics_answers_each_error_with_its_status, 0,
	                    sizeof status_cases / sizeof status_cases[0]);
	tcase_add_test(tc, metrics_answers_431_to_a_head_too_big);
	tcase_add_test(tc, metrics_answers_500_when_render_fails);
	tcase_add_test(tc, metrics_start_refuses_with_a_clear_message);
	tcase_add_test(tc, metrics_start_says_when_the_port_is_taken);
	suite_add_tcase(s, tc);
	tcase_set_timeout(slow, 20);
	tcase_add_test(
	    slow, metrics_closes_an_idle_client_and_serves_others_meanwhile);
	tcase_add_test(slow,
	               metrics_serves_one_more_when_an_idle_client_times_out);
	suite_add_tcase(s, slow);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
