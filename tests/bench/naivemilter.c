/*
 * naivemilter - the milter a user would write in an afternoon: the
 * benchmark's second baseline, between the do-nothing milter and redmilter.
 *
 * usage: naivemilter -s SOCKET -r HOST:PORT [-n DB] [-p PREFIX] [-b BACKLOG]
 *
 * libmilter, one hiredis connection per libmilter worker thread (a
 * pthread_key, opened at its first use and again after an error), and per
 * transaction one `GET <prefix>sender:<address>` at MAIL and one
 * `GET <prefix>recipient:<address>` per RCPT, the address as sent without
 * its angle brackets: no lower-casing, no +extension, no domain or client
 * rules, no caching.  A value of the form "NNN X.Y.Z text" is a reply:
 * smfi_setreply() with it, and SMFIS_REJECT for a 5xx, SMFIS_TEMPFAIL for a
 * 4xx; anything else (or nothing) continues.  The sender's reply is applied
 * at each RCPT that has no reply of its own, as Postfix's
 * smtpd_delay_reject does, so that MAIL is always answered "continue" and
 * loadgen sends the same packets to it as to redmilter (delay_checks).  A
 * Redis error tempfails the command.
 *
 * The negotiation is nullmilter's (redmilter's): the same skipped stages,
 * the same macro lists, the same action flags.  Redis must be on loopback.
 * SIGTERM or SIGINT stop it; a unix socket is removed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libmilter/mfapi.h>

#include "bench_negotiate.h"

#define KEY_MAX 600
#define REPLY_TEXT_MAX 512

static const char *redis_host = "127.0.0.1";
static int redis_port = 6379;
static long redis_db;
static const char *prefix = "redmilter:";
static pthread_key_t conn_key;

/* A parsed reply: "550", "5.1.1", "Mailbox not found". */
struct reply {
	char rcode[4];
	char xcode[32];
	char text[REPLY_TEXT_MAX];
};

/* What one SMTP session keeps between MAIL and RCPT. */
struct priv {
	int have_sender; /* the sender's value was a reply */
	struct reply sender;
};

/* conn_free - the pthread_key destructor */
static void
conn_free(void *p)
{
	redisFree(p);
}

/* conn_get - this thread's Redis connection, opened if need be */
static redisContext *
conn_get(void)
{
	redisContext *c = pthread_getspecific(conn_key);
	struct timeval tv = {0, 500000};
	redisReply *r;

	if (c != NULL)
		return c;
	c = redisConnectWithTimeout(redis_host, redis_port, tv);
	if (c == NULL)
		return NULL;
	if (c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
		redisFree(c);
		return NULL;
	}
	if (redis_db != 0) {
		r = redisCommand(c, "SELECT %ld", redis_db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	(void)pthread_setspecific(conn_key, c);
	return c;
}

/* conn_drop - forget this thread's connection after an error */
static void
conn_drop(void)
{
	redisContext *c = pthread_getspecific(conn_key);

	(void)pthread_setspecific(conn_key, NULL);
	if (c != NULL)
		redisFree(c);
}

/* digit_run - the number of digits at s */
static size_t
digit_run(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * parse_reply - "NNN X.Y.Z text" into r: a 4xx or 5xx code, an enhanced
 * code of the same class, some text without '%' (libmilter's MTA treats it
 * as a format), CR or LF; 0 on success, -1 for anything else
 */
static int
parse_reply(const char *v, size_t len, struct reply *r)
{
	size_t b, c, xlen;
	const char *x, *t;

	if (len < 11 || (v[0] != '4' && v[0] != '5') || digit_run(v) != 3 ||
	    v[3] != ' ' || v[4] != v[0] || v[5] != '.')
		return -1;
	x = v + 4;
	b = digit_run(x + 2);
	if (b < 1 || b > 3 || x[2 + b] != '.')
		return -1;
	c = digit_run(x + 3 + b);
	if (c < 1 || c > 3 || x[3 + b + c] != ' ')
		return -1;
	xlen = 2 + b + 1 + c;
	t = x + xlen + 1;
	if ((size_t)(t - v) >= len || len - (size_t)(t - v) >= sizeof r->text ||
	    memchr(t, '%', len - (size_t)(t - v)) != NULL ||
	    memchr(t, '\r', len - (size_t)(t - v)) != NULL ||
	    memchr(t, '\n', len - (size_t)(t - v)) != NULL ||
	    memchr(t, '\0', len - (size_t)(t - v)) != NULL)
		return -1;
	memcpy(r->rcode, v, 3);
	r->rcode[3] = '\0';
	memcpy(r->xcode, x, xlen);
	r->xcode[xlen] = '\0';
	memcpy(r->text, t, len - (size_t)(t - v));
	r->text[len - (size_t)(t - v)] = '\0';
	return 0;
}

/*
 * lookup - GET <prefix><table>:<address without <>>; 1 and r set when the
 * value is a reply, 0 when there is none, -1 on a Redis error
 */
static int
lookup(const char *table, const char *arg, struct reply *r)
{
	char key[KEY_MAX];
	size_t alen = strlen(arg);
	redisContext *c;
	redisReply *rep;
	int n, rc = 0;

	if (alen >= 2 && arg[0] == '<' && arg[alen - 1] == '>') {
		arg++;
		alen -= 2;
	}
	n = snprintf(key, sizeof key, "%s%s:%.*s", prefix, table, (int)alen,
	             arg);
	if (n < 0 || (size_t)n >= sizeof key)
		return 0; /* no such key can exist: too long for us */
	if ((c = conn_get()) == NULL)
		return -1;
	rep = redisCommand(c, "GET %b", key, (size_t)n);
	if (rep == NULL) {
		conn_drop();
		return -1;
	}
	if (rep->type == REDIS_REPLY_STRING)
		rc = parse_reply(rep->str, rep->len, r) == 0;
	else if (rep->type != REDIS_REPLY_NIL)
		rc = -1;
	freeReplyObject(rep);
	return rc;
}

/* answer - a reply for this command: REJECT or TEMPFAIL */
static sfsistat
answer(SMFICTX *ctx, struct reply *r)
{
	if (smfi_setreply(ctx, r->rcode, r->xcode, r->text) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	return r->rcode[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* naive_connect - the session's state */
static sfsistat
naive_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct priv *p = calloc(1, sizeof *p);

	(void)hostname;
	(void)hostaddr;
	if (p == NULL || smfi_setpriv(ctx, p) != MI_SUCCESS) {
		free(p);
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

/* naive_helo - continue */
static sfsistat
naive_helo(SMFICTX *ctx, char *s)
{
	(void)ctx;
	(void)s;
	return SMFIS_CONTINUE;
}

/* naive_mail - GET the sender's value; its reply waits for RCPT */
static sfsistat
naive_mail(SMFICTX *ctx, char **argv)
{
	struct priv *p = smfi_getpriv(ctx);
	int rc;

	if (p == NULL || argv[0] == NULL)
		return SMFIS_TEMPFAIL;
	rc = lookup("sender", argv[0], &p->sender);
	if (rc < 0)
		return SMFIS_TEMPFAIL;
	p->have_sender = rc;
	return SMFIS_CONTINUE;
}

/* naive_rcpt - GET the recipient's value: its reply, or the sender's */
static sfsistat
naive_rcpt(SMFICTX *ctx, char **argv)
{
	struct priv *p = smfi_getpriv(ctx);
	struct reply r;
	int rc;

	if (p == NULL || argv[0] == NULL)
		return SMFIS_TEMPFAIL;
	rc = lookup("recipient", argv[0], &r);
	if (rc < 0)
		return SMFIS_TEMPFAIL;
	if (rc > 0)
		return answer(ctx, &r);
	if (p->have_sender)
		return answer(ctx, &p->sender);
	return SMFIS_CONTINUE;
}

/* naive_end - end of message, abort: the next MAIL looks again */
static sfsistat
naive_end(SMFICTX *ctx)
{
	struct priv *p = smfi_getpriv(ctx);

	if (p != NULL)
		p->have_sender = 0;
	return SMFIS_CONTINUE;
}

/* naive_close - the session's state goes */
static sfsistat
naive_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	(void)smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    (char *)"naivemilter",
    SMFI_VERSION,
    SMFIF_DELRCPT | SMFIF_QUARANTINE,
    naive_connect,
    naive_helo,
    naive_mail,
    naive_rcpt,
    NULL, /* header */
    NULL, /* eoh */
    NULL, /* body */
    naive_end,
    naive_end,
    naive_close,
    NULL, /* unknown */
    NULL, /* data */
    bench_negotiate,
};

/* usage - on stderr; EX_USAGE */
static int
usage(void)
{
	fprintf(stderr, "usage: naivemilter -s SOCKET -r HOST:PORT [-n DB] "
	                "[-p PREFIX] [-b BACKLOG]\n");
	return EX_USAGE;
}

/* number - a whole number in [lo, hi] from s, or -1 */
static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

/* set_redis - HOST:PORT, the host on loopback; 0 or -1 */
static int
set_redis(char *spec)
{
	char *colon = strrchr(spec, ':');
	long port;

	if (colon == NULL)
		return -1;
	*colon = '\0';
	port = number(colon + 1, 1, 65535);
	if (port < 0 ||
	    (strncmp(spec, "127.", 4) != 0 && strcmp(spec, "localhost") != 0)) {
		fprintf(stderr, "naivemilter: -r wants 127.x.y.z:PORT\n");
		return -1;
	}
	redis_host = spec;
	redis_port = (int)port;
	return 0;
}

/* options - the command line; 0, or an exit status */
static int
options(int argc, char **argv, const char **sock, long *backlog)
{
	int ch;

	while ((ch = getopt(argc, argv, "s:r:n:p:b:")) != -1) {
		switch (ch) {
		case 's':
			*sock = optarg;
			break;
		case 'r':
			if (set_redis(optarg) != 0)
				return usage();
			break;
		case 'n':
			if ((redis_db = number(optarg, 0, 15)) < 0)
				return usage();
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'b':
			if ((*backlog = number(optarg, 1, 65535)) < 0)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (*sock == NULL || optind != argc)
		return usage();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	long backlog = 0;
	int rc;

	if ((rc = options(argc, argv, &sock, &backlog)) != 0)
		return rc;
	if (pthread_key_create(&conn_key, conn_free) != 0) {
		fprintf(stderr, "naivemilter: pthread_key_create failed\n");
		return EX_OSERR;
	}
	if (smfi_register(desc) != MI_SUCCESS ||
	    smfi_setconn((char *)sock) != MI_SUCCESS ||
	    (backlog > 0 && smfi_setbacklog((int)backlog) != MI_SUCCESS)) {
		fprintf(stderr, "naivemilter: cannot set up %s\n", sock);
		return EX_SOFTWARE;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "naivemilter: cannot open %s\n", sock);
		return EX_UNAVAILABLE;
	}
	rc = smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
		(void)unlink(strchr(sock, ':') + 1);
	return rc;
}
