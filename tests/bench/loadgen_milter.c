/*
 * loadgen_milter - loadgen's side of the milter protocol (version 6).
 *
 * milter_resolve_target() sets the run's one target, and dies on one that
 * is neither a unix socket nor on loopback.  milter_session_open() connects
 * and sends OPTNEG, CONNECT and HELO, milter_transaction() one transaction
 * (MAIL, RCPT..., then EOM, or ABORT when no recipient was accepted), and
 * milter_session_close() QUIT; milter_conn_close() just drops the
 * connection.  Every reply is timed into the worker's histograms and
 * checked with lg_judge().  The int functions return 0, or -1 on an I/O or
 * protocol error (with errno when the system gave one).
 *
 * Thread-safety: a worker and its connection belong to one thread, and the
 * target is set before any thread starts.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "loadgen.h"

#define MILTER_VERSION 6

/* The target, resolved once. */
static struct sockaddr_storage target;
static socklen_t target_len;

/* --- the wire ------------------------------------------------------------ */

/* set_timeouts - every read and write of a connection is bounded */
static void
set_timeouts(int fd)
{
	struct timeval tv;

	tv.tv_sec = (time_t)lg_opt.timeout;
	tv.tv_usec = (suseconds_t)((lg_opt.timeout - (double)tv.tv_sec) * 1e6);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* conn_open - a new connection to the target; -1 on failure */
static int
conn_open(struct conn *c)
{
	int one = 1;

	c->fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	set_timeouts(c->fd);
	if (target.ss_family != AF_UNIX)
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof one);
	if (connect(c->fd, (struct sockaddr *)&target, target_len) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->rlen = c->roff = c->wlen = 0;
	return 0;
}

/* milter_conn_close - close a connection, if open */
void
milter_conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* put - append one packet to the write buffer (or die: a bug of ours) */
static void
put(struct conn *c, int cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)(len + 1));

	if (c->wlen + 5 + len > sizeof c->wbuf)
		lg_die("packet too large for the write buffer");
	memcpy(c->wbuf + c->wlen, &n, 4);
	c->wbuf[c->wlen + 4] = (unsigned char)cmd;
	if (len > 0)
		memcpy(c->wbuf + c->wlen + 5, data, len);
	c->wlen += 5 + len;
}

/*
 * pack - append the NULL-terminated list of strings s, each with its NUL,
 * to buf of size bytes holding len; returns the new length
 */
static size_t
pack(unsigned char *buf, size_t size, size_t len, const char *const *s,
     const char *what)
{
	size_t l;

	for (; *s != NULL; s++) {
		l = strlen(*s) + 1;
		if (len + l > size)
			lg_die("%s", what);
		memcpy(buf + len, *s, l);
		len += l;
	}
	return len;
}

/* put_strings - a packet of NUL-terminated strings, NULL-terminated list */
static void
put_strings(struct conn *c, int cmd, const char *const *s)
{
	unsigned char buf[2048];

	put(c, cmd, buf, pack(buf, sizeof buf, 0, s, "strings too long"));
}

/* flush - send the write buffer; -1 on error */
static int
flush(struct conn *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->wlen) {
		n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* fill - read more bytes; -1 on error or EOF */
static int
fill(struct conn *c)
{
	ssize_t n;

	if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (c->rlen >= MAX_PACKET + 4)
		return -1;
	do
		n = recv(c->fd, c->rbuf + c->rlen, MAX_PACKET + 4 - c->rlen, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->rlen += (size_t)n;
	return 0;
}

/* get - read one packet: its command, c->pkt and c->pktlen; -1 on error */
static int
get(struct conn *c, int *cmd)
{
	uint32_t n;

	while (c->rlen - c->roff < 4)
		if (fill(c) != 0)
			return -1;
	memcpy(&n, c->rbuf + c->roff, 4);
	n = ntohl(n);
	if (n < 1 || n > MAX_PACKET)
		return -1;
	while (c->rlen - c->roff < 4 + (size_t)n)
		if (fill(c) != 0)
			return -1;
	*cmd = c->rbuf[c->roff + 4];
	c->pkt = c->rbuf + c->roff + 5;
	c->pktlen = n - 1;
	c->roff += 4 + (size_t)n;
	return 0;
}

/*
 * reply_text - a final reply as text ("continue", "550 5.1.1 ...");
 * returns 1 for a final reply, 0 for a packet to skip (progress,
 * modifications at end of message)
 */
static int
reply_text(struct conn *c, int cmd, char *buf, size_t size)
{
	static const struct {
		int cmd;
		const char *name;
	} names[] = {
	    {SMFIR_CONTINUE, "continue"}, {SMFIR_ACCEPT, "accept"},
	    {SMFIR_REJECT, "reject"},     {SMFIR_TEMPFAIL, "tempfail"},
	    {SMFIR_DISCARD, "discard"},   {SMFIR_CONN_FAIL, "conn_fail"},
	    {SMFIR_SHUTDOWN, "shutdown"}, {SMFIR_SKIP, "skip"},
	};
	size_t i, len;

	if (cmd == SMFIR_REPLYCODE) {
		len = c->pktlen < size - 1 ? c->pktlen : size - 1;
		memcpy(buf, c->pkt, len);
		buf[len] = '\0';
		len = strlen(buf);
		while (len > 0 &&
		       (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		return 1;
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].cmd == cmd) {
			snprintf(buf, size, "%s", names[i].name);
			return 1;
		}
	return 0; /* 'p', '+', '-', 'q', 'h', 'm', ... */
}

/* --- sessions and transactions ---------------------------------------- */

/*
 * exchange - send the buffered packets, and unless the milter asked for no
 * reply, read the final reply into buf and time it
 *
 * Returns 0, 1 when no reply was due, -1 on an I/O or protocol error.
 */
static int
exchange(struct worker *w, enum cmd cmd, int noreply, char *buf, size_t size)
{
	uint64_t t0 = lg_now_ns();
	int rcmd;

	if (flush(&w->c) != 0)
		return -1;
	if (noreply)
		return 1;
	for (;;) {
		if (get(&w->c, &rcmd) != 0)
			return -1;
		if (reply_text(&w->c, rcmd, buf, size))
			break;
	}
	lg_hist_add(&w->st.h[cmd], lg_now_ns() - t0);
	return 0;
}

/* step - one command that must be answered "continue" */
static int
step(struct worker *w, enum cmd cmd, int noreply, const char *what)
{
	char got[REPLY_MAX];
	int rc = exchange(w, cmd, noreply, got, sizeof got);

	if (rc == 0)
		lg_judge(w, cmd, got, "continue", what);
	return rc < 0 ? -1 : 0;
}

/*
 * put_macros - one 'D' packet: for command cmd, name and value pairs in a
 * NULL-terminated list
 */
static void
put_macros(struct conn *c, int cmd, const char *const *nv)
{
	unsigned char buf[512];

	buf[0] = (unsigned char)cmd;
	put(c, SMFIC_MACRO, buf,
	    pack(buf, sizeof buf, 1, nv, "macros too long"));
}

/* milter_session_open - connect, OPTNEG, CONNECT and HELO */
int
milter_session_open(struct worker *w)
{
	unsigned char o[12];
	uint32_t v[3];
	char host[64], ip[32], pkt[160], helo[80];
	const char *macros[5];
	size_t len;
	int rcmd, n;
	uint64_t t0 = lg_now_ns();

	if (conn_open(&w->c) != 0)
		return -1;
	w->st.conns++;
	v[0] = htonl(MILTER_VERSION);
	v[1] = htonl(0x1ff);      /* every action we know of */
	v[2] = htonl(0x001fffff); /* every protocol step of version 6 */
	memcpy(o, v, sizeof o);
	put(&w->c, SMFIC_OPTNEG, o, sizeof o);
	if (flush(&w->c) != 0 || get(&w->c, &rcmd) != 0 ||
	    rcmd != SMFIC_OPTNEG || w->c.pktlen < 12)
		return -1;
	memcpy(v, w->c.pkt, sizeof v);
	w->c.pflags = ntohl(v[2]);
	lg_hist_add(&w->st.h[CMD_OPTNEG], lg_now_ns() - t0);

	w->client = (long)(lg_rng(&w->rng) % (uint64_t)lg_opt.pool_client);
	snprintf(ip, sizeof ip, "198.18.%ld.%ld", (w->client / 250) % 250,
	         w->client % 250 + 1);
	n = snprintf(host, sizeof host, "h%ld.clients.bench.example",
	             w->client);
	if (n < 0 || (size_t)n >= sizeof host)
		return -1;
	macros[0] = "j";
	macros[1] = "mx.bench.example";
	macros[2] = "{client_name}";
	macros[3] = host;
	macros[4] = NULL;
	if (!(w->c.pflags & SMFIP_NOCONNECT)) {
		uint16_t port = htons(40000);

		put_macros(&w->c, SMFIC_CONNECT, macros);
		memcpy(pkt, host, strlen(host) + 1);
		len = strlen(host) + 1;
		pkt[len++] = SMFIA_INET;
		memcpy(pkt + len, &port, 2);
		len += 2;
		memcpy(pkt + len, ip, strlen(ip) + 1);
		len += strlen(ip) + 1;
		put(&w->c, SMFIC_CONNECT, pkt, len);
		if (step(w, CMD_CONNECT, !!(w->c.pflags & SMFIP_NR_CONN), ip) !=
		    0)
			return -1;
	}
	if (!(w->c.pflags & SMFIP_NOHELO)) {
		const char *h[] = {helo, NULL};

		snprintf(helo, sizeof helo, "%s", host);
		put_strings(&w->c, SMFIC_HELO, h);
		if (step(w, CMD_HELO, !!(w->c.pflags & SMFIP_NR_HELO), helo) !=
		    0)
			return -1;
	}
	w->open = 1;
	return 0;
}

/* milter_session_close - QUIT and close */
void
milter_session_close(struct worker *w)
{
	if (w->c.fd >= 0 && w->open) {
		put(&w->c, SMFIC_QUIT, NULL, 0);
		(void)flush(&w->c);
	}
	milter_conn_close(&w->c);
	w->open = 0;
}

/* milter_transaction - MAIL, RCPT..., EOM or ABORT; -1 on an I/O error */
int
milter_transaction(struct worker *w, struct pick *rcpts)
{
	struct pick snd;
	char a[ADDR_MAX + 2], got[REPLY_MAX], what[2 * ADDR_MAX + 16];
	const char *args[3];
	long k, accepted = 0;
	uint64_t t0 = lg_now_ns();
	int rc;

	rules_choose(w, &snd, rcpts);
	if (!(w->c.pflags & SMFIP_NOMAIL)) {
		snprintf(a, sizeof a, "<%s>", snd.addr);
		args[0] = a;
		args[1] = "SIZE=1000";
		args[2] = NULL;
		put_strings(&w->c, SMFIC_MAIL, args);
		if (step(w, CMD_MAIL, !!(w->c.pflags & SMFIP_NR_MAIL), a) != 0)
			return -1;
	}
	for (k = 0; k < lg_opt.rcpts; k++) {
		const char *want = rules_expected(&snd, &rcpts[k]);

		if (k == 1) {
			/* Postfix has a queue id from the second RCPT on. */
			const char *m[] = {"i", w->qid, NULL};

			put_macros(&w->c, SMFIC_RCPT, m);
		}
		snprintf(a, sizeof a, "<%s>", rcpts[k].addr);
		args[0] = a;
		args[1] = NULL;
		if (w->c.pflags & SMFIP_NORCPT) {
			accepted++;
			continue;
		}
		put_strings(&w->c, SMFIC_RCPT, args);
		rc = exchange(w, CMD_RCPT, !!(w->c.pflags & SMFIP_NR_RCPT), got,
		              sizeof got);
		if (rc < 0)
			return -1;
		w->st.rcpts++;
		if (rc == 1 || strcmp(got, "continue") == 0)
			accepted++;
		if (rc == 0) {
			snprintf(what, sizeof what, "%s from <%s>", a,
			         snd.addr);
			lg_judge(w, CMD_RCPT, got, want, what);
		}
	}
	if (accepted > 0) {
		put(&w->c, SMFIC_BODYEOB, NULL, 0);
		if (step(w, CMD_EOM, 0, "end of message") != 0)
			return -1;
	} else {
		put(&w->c, SMFIC_ABORT, NULL, 0);
		if (flush(&w->c) != 0)
			return -1;
	}
	w->st.txns++;
	lg_hist_add(&w->st.h[CMD_TXN], lg_now_ns() - t0);
	return 0;
}

/*
 * milter_probe - one transaction of one recipient for loadgen --edit: MAIL
 * from snd, RCPT to rcpt (its reply, as text, into got), ABORT.  0, or -1
 * on an I/O or protocol error.
 */
int
milter_probe(struct worker *w, const char *snd, const char *rcpt, char *got,
             size_t size)
{
	char a[ADDR_MAX + 2];
	const char *args[3];
	int rc;

	if (!(w->c.pflags & SMFIP_NOMAIL)) {
		snprintf(a, sizeof a, "<%s>", snd);
		args[0] = a;
		args[1] = NULL;
		put_strings(&w->c, SMFIC_MAIL, args);
		if (step(w, CMD_MAIL, !!(w->c.pflags & SMFIP_NR_MAIL), a) != 0)
			return -1;
	}
	snprintf(got, size, "continue");
	if (!(w->c.pflags & SMFIP_NORCPT)) {
		snprintf(a, sizeof a, "<%s>", rcpt);
		args[0] = a;
		args[1] = NULL;
		put_strings(&w->c, SMFIC_RCPT, args);
		rc = exchange(w, CMD_RCPT, !!(w->c.pflags & SMFIP_NR_RCPT), got,
		              size);
		if (rc < 0)
			return -1;
		w->st.rcpts++;
	}
	put(&w->c, SMFIC_ABORT, NULL, 0);
	if (flush(&w->c) != 0)
		return -1;
	w->st.txns++;
	return 0;
}

/* --- the target ---------------------------------------------------------- */

/* is_loopback - whether an address is on this machine's loopback */
static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const uint8_t *b = s6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
	}
	return 0;
}

/*
 * milter_resolve_target - unix:PATH, local:PATH, a bare path, inet:PORT@HOST or
 * inet6:PORT@HOST (libmilter's forms); dies on anything not on loopback
 */
void
milter_resolve_target(const char *spec)
{
	const char *colon = strchr(spec, ':'), *at;
	struct addrinfo hints, *res, *ai;
	char port[16], host[256];
	int rc;

	if (colon == NULL || strncmp(spec, "unix:", 5) == 0 ||
	    strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&target;
		const char *path = colon != NULL ? colon + 1 : spec;

		if (strlen(path) >= sizeof un->sun_path)
			lg_die("unix socket path too long: %s", path);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		target_len = sizeof *un;
		return;
	}
	if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0)
		lg_die("unknown socket type: %s", spec);
	at = strchr(colon + 1, '@');
	if (at == NULL)
		lg_die("%s: give the host: inet:PORT@127.0.0.1", spec);
	if ((size_t)(at - colon - 1) >= sizeof port ||
	    strlen(at + 1) >= sizeof host)
		lg_die("%s: too long", spec);
	memcpy(port, colon + 1, (size_t)(at - colon - 1));
	port[at - colon - 1] = '\0';
	memcpy(host, at + 1, strlen(at + 1) + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = spec[4] == '6' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		lg_die("%s: %s", spec, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (!is_loopback(ai->ai_addr)) {
			freeaddrinfo(res);
			lg_die("refusing %s: not a loopback address (this is a "
			       "load generator: it only targets this machine)",
			       spec);
		}
	memcpy(&target, res->ai_addr, res->ai_addrlen);
	target_len = res->ai_addrlen;
	freeaddrinfo(res);
}
