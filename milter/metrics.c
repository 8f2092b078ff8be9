/*
 * metrics - the HTTP server of the Prometheus metrics endpoint.  See
 * metrics.h.
 *
 * One thread runs a poll(2) loop over the listening socket, a self-pipe
 * that metrics_stop() writes to, and at most METRICS_CLIENTS_MAX clients.
 * Every socket is non-blocking.  While all the slots are taken the
 * listening socket is not polled: further connections wait in the kernel's
 * backlog (listen(2)) until a slot frees, and are neither accepted nor
 * refused.  A client has METRICS_CLIENT_TIMEOUT_MS from its accept to send
 * its request head (at most HTTPREQ_HEAD_MAX bytes, httpreq.h) and to take
 * the whole answer; the unsent part of an answer waits for POLLOUT, so a
 * slow reader holds its slot, never the thread.  After the answer the
 * server shuts its side down and reads until the client closes, for at
 * most LINGER_MS, so that unread request bytes do not turn the close into
 * a reset that could lose the answer (RFC 9112 section 9.6).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "httpreq.h"
#include "metrics.h"
#include "mono.h"
#include "sockspec.h"
#include "str.h"

#define LINGER_MS 1000      /* reading after the answer, at most */
#define ACCEPT_PAUSE_MS 100 /* no accept(2) after EMFILE and the like */
#define HEADER_MAX 512      /* the answer's status line and header */
#define SPEC_MAX 300        /* a spec we look at */

static const char type_metrics[] = "text/plain; version=0.0.4; charset=utf-8";
static const char type_text[] = "text/plain; charset=utf-8";

enum client_state { CL_FREE, CL_READ, CL_WRITE, CL_LINGER };

struct client {
	enum client_state st;
	int fd;
	long long deadline; /* mono_ms() */
	char in[HTTPREQ_HEAD_MAX];
	size_t inlen;
	char *out; /* the answer, malloc'd */
	size_t outlen, outoff;
};

struct metrics {
	int lfd;
	int wake[2]; /* the self-pipe: metrics_stop() writes to wake[1] */
	int port;
	pthread_t thread;
	metrics_render_fn render;
	void *arg;
	long long accept_pause; /* mono_ms() before which not to accept */
	struct client cl[METRICS_CLIENTS_MAX];
};

/* The reason phrases of the statuses we answer (RFC 9110 section 15). */
static const struct reason {
	int status;
	const char *text;
} reasons[] = {
    {200, "OK"},
    {400, "Bad Request"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {414, "URI Too Long"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {505, "HTTP Version Not Supported"},
};

static const char answer_408[] = "HTTP/1.1 408 Request Timeout\r\n"
                                 "Content-Length: 0\r\n"
                                 "Connection: close\r\n\r\n";

/* reason_text - the reason phrase of a status */
static const char *
reason_text(int status)
{
	size_t i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Error";
}

/* client_close - close a client's connection and free its slot */
static void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->st = CL_FREE;
}

/*
 * client_answer - make the answer: status line, header, and body unless
 * head_only; allow, if not NULL, is an Allow field's value.  Takes body
 * (malloc'd or NULL) in every case.  -1 when out of memory.
 */
static int
client_answer(struct client *c, int status, const char *type, char *body,
              size_t blen, int head_only, const char *allow)
{
	char head[HEADER_MAX];
	int n;

	n = snprintf(head, sizeof head,
	             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	             "Content-Length: %zu\r\n%s%s%sConnection: close\r\n\r\n",
	             status, reason_text(status), type, blen,
	             allow != NULL ? "Allow: " : "", allow != NULL ? allow : "",
	             allow != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof head ||
	    (!head_only && blen > SIZE_MAX - (size_t)n) ||
	    (c->out = malloc((size_t)n + (head_only ? 0 : blen))) == NULL) {
		free(body);
		return -1;
	}
	memcpy(c->out, head, (size_t)n);
	if (!head_only && blen > 0)
		memcpy(c->out + n, body, blen);
	c->outlen = (size_t)n + (head_only ? 0 : blen);
	c->outoff = 0;
	c->st = CL_WRITE;
	free(body);
	return 0;
}

/* answer_text - an answer whose body is the status's reason phrase */
static int
answer_text(struct client *c, int status, int head_only, const char *allow)
{
	const char *text = reason_text(status);
	size_t len = strlen(text);
	char *body = malloc(len + 2);

	if (body == NULL)
		return -1;
	snprintf(body, len + 2, "%s\n", text);
	return client_answer(c, status, type_text, body, len + 1, head_only,
	                     allow);
}

/* is - whether s[0..len) is the string word */
static int
is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* route - the answer to a well-formed request (methods: RFC 9110 9.1) */
static int
route(struct metrics *m, struct client *c, const struct httpreq *r)
{
	int get = is(r->method, r->method_len, "GET");
	int head = is(r->method, r->method_len, "HEAD");
	size_t len = 0;
	char *body;

	if (!is(r->path, r->path_len, "/metrics"))
		return answer_text(c, 404, head, NULL);
	if (!get && !head)
		return answer_text(c, 405, 0, "GET, HEAD");
	if ((body = m->render(m->arg, &len)) == NULL)
		return answer_text(c, 500, head, NULL);
	return client_answer(c, 200, type_metrics, body, len, head, NULL);
}

/* client_write - send what the socket takes; then shut down and linger */
static void
client_write(struct client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		         MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->st = CL_LINGER;
	if (c->deadline > mono_ms() + LINGER_MS)
		c->deadline = mono_ms() + LINGER_MS;
}

/* client_read - read more of the head; answer once it is complete */
static void
client_read(struct metrics *m, struct client *c)
{
	struct httpreq r;
	ssize_t n;
	int rc;

	n = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
	if (n < 0 &&
	    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->inlen += (size_t)n;
	switch (httpreq_parse(c->in, c->inlen, &r)) {
	case HTTPREQ_MORE:
		/* Then inlen < HTTPREQ_HEAD_MAX: there is room (httpreq.h). */
		return;
	case HTTPREQ_OK:
		rc = route(m, c, &r);
		break;
	default:
		rc = answer_text(c, r.status, 0, NULL);
		break;
	}
	if (rc != 0)
		client_close(c);
	else
		client_write(c);
}

/* client_linger - read and drop what the client still sends, until EOF */
static void
client_linger(struct client *c)
{
	char junk[4096];
	ssize_t n;

	do
		n = recv(c->fd, junk, sizeof junk, 0);
	while (n > 0);
	if (n == 0 ||
	    (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
		client_close(c);
}

/* client_expire - close a client past its deadline; 408 if still reading */
static void
client_expire(struct client *c, long long now)
{
	if (c->st == CL_FREE || now < c->deadline)
		return;
	/* One try, whatever the socket takes: the client has had its time. */
	if (c->st == CL_READ)
		(void)send(c->fd, answer_408, sizeof answer_408 - 1,
		           MSG_NOSIGNAL | MSG_DONTWAIT);
	client_close(c);
}

/* set_flags - make fd non-blocking and close-on-exec (fcntl(2)) */
static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return -1;
	return 0;
}

/* accept_clients - accept connections while there are free slots */
static void
accept_clients(struct metrics *m)
{
	size_t i;
	int fd;

	for (i = 0; i < METRICS_CLIENTS_MAX; i++) {
		if (m->cl[i].st != CL_FREE)
			continue;
		if ((fd = accept(m->lfd, NULL, NULL)) < 0) {
			/* Out of descriptors or memory: try again later, not
			 * at once, which would spin (accept(2) ERRORS). */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				m->accept_pause = mono_ms() + ACCEPT_PAUSE_MS;
			return;
		}
		/* Linux's accept(2) does not pass O_NONBLOCK on. */
		if (set_flags(fd) != 0) {
			close(fd);
			continue;
		}
		m->cl[i].fd = fd;
		m->cl[i].st = CL_READ;
		m->cl[i].inlen = 0;
		m->cl[i].deadline = mono_ms() + METRICS_CLIENT_TIMEOUT_MS;
	}
}

/*
 * poll_set - fill fds: the self-pipe, the listening socket if a slot is
 * free, each client; who[k] is the slot of fds[k] (-1: not a client).
 * Returns the number of fds and sets *timeout for poll().
 */
static nfds_t
poll_set(struct metrics *m, struct pollfd *fds, int *who, int *timeout)
{
	long long now = mono_ms(), next = -1;
	nfds_t n = 0;
	int i, slot = 0;

	fds[n] = (struct pollfd){.fd = m->wake[0], .events = POLLIN};
	who[n++] = -1;
	for (i = 0; i < METRICS_CLIENTS_MAX; i++) {
		struct client *c = &m->cl[i];

		if (c->st == CL_FREE) {
			slot = 1;
			continue;
		}
		fds[n] = (struct pollfd){.fd = c->fd,
		                         .events = c->st == CL_WRITE ? POLLOUT
		                                                     : POLLIN};
		who[n++] = i;
		if (next < 0 || c->deadline < next)
			next = c->deadline;
	}
	if (slot && now >= m->accept_pause) {
		fds[n] = (struct pollfd){.fd = m->lfd, .events = POLLIN};
		who[n++] = -1;
	} else if (slot && (next < 0 || m->accept_pause < next)) {
		next = m->accept_pause;
	}
	*timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
	return n;
}

/* serve_ready - handle each socket poll() found ready */
static void
serve_ready(struct metrics *m, const struct pollfd *fds, const int *who,
            nfds_t n)
{
	nfds_t k;

	for (k = 1; k < n; k++) {
		struct client *c;

		if (fds[k].revents == 0)
			continue;
		if (who[k] < 0) {
			accept_clients(m);
			continue;
		}
		c = &m->cl[who[k]];
		if (c->st == CL_READ)
			client_read(m, c);
		else if (c->st == CL_WRITE)
			client_write(c);
		else if (c->st == CL_LINGER)
			client_linger(c);
	}
}

/* serve - the server thread: poll until the self-pipe is readable */
static void *
serve(void *arg)
{
	struct metrics *m = arg;
	struct pollfd fds[METRICS_CLIENTS_MAX + 2];
	int who[METRICS_CLIENTS_MAX + 2], timeout, i;
	long long now;
	nfds_t n;

	for (;;) {
		n = poll_set(m, fds, who, &timeout);
		if (poll(fds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break; /* EFAULT, EINVAL, ENOMEM: nothing to wait on */
		}
		if (fds[0].revents != 0)
			break;
		serve_ready(m, fds, who, n);
		now = mono_ms();
		for (i = 0; i < METRICS_CLIENTS_MAX; i++)
			client_expire(&m->cl[i], now);
	}
	return NULL;
}

/* make_addr - the socket address of a numeric host and a port */
static int
make_addr(const struct sockspec *s, int port, struct sockaddr_storage *ss,
          socklen_t *sslen, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char q[80];

	memset(ss, 0, sizeof *ss);
	if (s->type == SOCKSPEC_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		*sslen = sizeof *sin;
		if (inet_pton(AF_INET, s->host, &sin->sin_addr) == 1)
			return 0;
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		*sslen = sizeof *sin6;
		if (inet_pton(AF_INET6, s->host, &sin6->sin6_addr) == 1)
			return 0;
	}
	return errbuf_set(err, errlen,
	                  "metrics: host '%s' is not a numeric IPv%c address",
	                  str_quote(q, sizeof q, s->host),
	                  s->type == SOCKSPEC_INET ? '4' : '6');
}

/*
 * parse_spec - the address and port of inet:PORT[@HOST] or
 * inet6:PORT[@HOST] into ss; shown gets the host as a message shows it.
 * sockspec_parse() refuses port 0, which means a free port here.
 */
static int
parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
           char *shown, size_t shownlen, char *err, size_t errlen)
{
	char copy[SPEC_MAX], q[80], why[256];
	const char *colon = strchr(spec, ':');
	struct sockspec s;
	int any_port = 0;

	if (str_copy(copy, spec, sizeof copy) >= sizeof copy)
		return errbuf_set(err, errlen, "metrics: socket spec too long");
	if ((strncmp(spec, "inet:", 5) == 0 ||
	     strncmp(spec, "inet6:", 6) == 0) &&
	    colon[1] == '0' && (colon[2] == '\0' || colon[2] == '@')) {
		copy[colon - spec + 1] = '1';
		any_port = 1;
	}
	if (sockspec_parse(copy, &s, why, sizeof why) != 0)
		return errbuf_set(err, errlen, "metrics: %s", why);
	if (s.type != SOCKSPEC_INET && s.type != SOCKSPEC_INET6)
		return errbuf_set(err, errlen,
		                  "metrics: '%s' is not inet:PORT@HOST or "
		                  "inet6:PORT@HOST",
		                  str_quote(q, sizeof q, spec));
	if (s.host[0] == '\0')
		str_copy(s.host, s.type == SOCKSPEC_INET ? "127.0.0.1" : "::1",
		         sizeof s.host);
	str_copy(shown, s.host, shownlen);
	return make_addr(&s, any_port ? 0 : s.port, ss, sslen, err, errlen);
}

/* bound_port - the port a socket is bound to, or -1 */
static int
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* open_listener - a listening socket on spec; its port in m->port */
static int
open_listener(struct metrics *m, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char host[SOCKSPEC_HOST_MAX + 1], why[128];
	int one = 1, port;

	memset(&ss, 0, sizeof ss);
	if (parse_spec(spec, &ss, &sslen, host, sizeof host, err, errlen) != 0)
		return -1;
	port = ntohs(ss.ss_family == AF_INET
	                 ? ((struct sockaddr_in *)&ss)->sin_port
	                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	m->lfd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* An IPv6 socket takes IPv6 only, whatever the sysctl (ipv6(7)). */
	if (m->lfd < 0 ||
	    setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) !=
	        0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(m->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) !=
	         0) ||
	    bind(m->lfd, (struct sockaddr *)&ss, sslen) != 0 ||
	    listen(m->lfd, METRICS_BACKLOG) != 0 ||
	    (m->port = bound_port(m->lfd)) < 0) {
		errbuf_strerror(errno, why, sizeof why);
		return errbuf_set(err, errlen,
		                  "metrics: cannot listen on %s port %d: %s",
		                  host, port, why);
	}
	return 0;
}

/* start_thread - the server thread, with every signal blocked */
static int
start_thread(struct metrics *m, char *err, size_t errlen)
{
	sigset_t all, old;
	char why[128];
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&m->thread, NULL, serve, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e == 0)
		return 0;
	errbuf_strerror(e, why, sizeof why);
	return errbuf_set(err, errlen, "metrics: cannot start a thread: %s",
	                  why);
}

/* metrics_close - close every socket and free m */
static void
metrics_close(struct metrics *m)
{
	size_t i;

	for (i = 0; i < METRICS_CLIENTS_MAX; i++)
		client_close(&m->cl[i]);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->wake[0] >= 0)
		close(m->wake[0]);
	if (m->wake[1] >= 0)
		close(m->wake[1]);
	free(m);
}

/*
 * metrics_start - listen on spec and serve render()'s body from a thread
 *
 * Returns the server, for metrics_stop(); NULL on error, with the reason
 * in err and nothing left open.
 */
struct metrics *
metrics_start(const char *spec, metrics_render_fn render, void *arg, char *err,
              size_t errlen)
{
	struct metrics *m = calloc(1, sizeof *m);
	char why[128];
	size_t i;

	if (m == NULL) {
		errbuf_set(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->lfd = m->wake[0] = m->wake[1] = -1;
	for (i = 0; i < METRICS_CLIENTS_MAX; i++)
		m->cl[i].fd = -1;
	m->render = render;
	m->arg = arg;
	if (open_listener(m, spec, err, errlen) != 0)
		goto fail;
	if (pipe(m->wake) != 0 || set_flags(m->wake[0]) != 0 ||
	    set_flags(m->wake[1]) != 0) {
		errbuf_strerror(errno, why, sizeof why);
		errbuf_set(err, errlen, "metrics: pipe: %s", why);
		goto fail;
	}
	if (start_thread(m, err, errlen) != 0)
		goto fail;
	return m;
fail:
	metrics_close(m);
	return NULL;
}

/* metrics_port - the port the server listens on */
int
metrics_port(const struct metrics *m)
{
	return m->port;
}

/*
 * metrics_stop - stop the thread, close every socket, free m
 *
 * NULL is a no-op.  After the call m is no longer valid.
 */
void
metrics_stop(struct metrics *m)
{
	ssize_t n;

	if (m == NULL)
		return;
	do
		n = write(m->wake[1], "x", 1);
	while (n < 0 && errno == EINTR);
	pthread_join(m->thread, NULL);
	metrics_close(m);
}
