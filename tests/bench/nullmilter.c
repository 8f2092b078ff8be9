/*
 * nullmilter - a do-nothing libmilter milter, the benchmark's baseline.
 *
 * usage: nullmilter -s SOCKET [-b BACKLOG]
 *
 * The same libmilter as redmilter, the same negotiation (the stages it
 * skips and the macros it asks for are redmilter's, so the MTA or loadgen
 * sends the same packets to both), the same callbacks for the envelope
 * (connect, HELO, MAIL, RCPT, end of message, abort, close) and each one
 * answers SMFIS_CONTINUE at once.  What redmilter costs beyond this is the
 * price of its policy.  SIGTERM or SIGINT stop it; a unix socket is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "bench_negotiate.h"

/* null_connect - any callback of connect's shape: continue */
static sfsistat
null_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	(void)ctx;
	(void)hostname;
	(void)hostaddr;
	return SMFIS_CONTINUE;
}

/* null_str - HELO: continue */
static sfsistat
null_str(SMFICTX *ctx, char *s)
{
	(void)ctx;
	(void)s;
	return SMFIS_CONTINUE;
}

/* null_argv - MAIL and RCPT: continue */
static sfsistat
null_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

/* null_ctx - end of message, abort, close: continue */
static sfsistat
null_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    (char *)"nullmilter",
    SMFI_VERSION,
    SMFIF_DELRCPT | SMFIF_QUARANTINE,
    null_connect,
    null_str,
    null_argv,
    null_argv,
    NULL, /* header */
    NULL, /* eoh */
    NULL, /* body */
    null_ctx,
    null_ctx,
    null_ctx,
    NULL, /* unknown */
    NULL, /* data */
    bench_negotiate,
};

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	char *end;
	long backlog = 0;
	int ch, rc;

	while ((ch = getopt(argc, argv, "s:b:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'b':
			backlog = strtol(optarg, &end, 10);
			if (*end != '\0' || backlog < 1 || backlog > 65535) {
				fprintf(stderr, "nullmilter: bad -b %s\n",
				        optarg);
				return EX_USAGE;
			}
			break;
		default:
			fprintf(stderr, "usage: nullmilter -s SOCKET "
			                "[-b BACKLOG]\n");
			return EX_USAGE;
		}
	}
	if (sock == NULL || optind != argc) {
		fprintf(stderr, "usage: nullmilter -s SOCKET [-b BACKLOG]\n");
		return EX_USAGE;
	}
	if (smfi_register(desc) != MI_SUCCESS ||
	    smfi_setconn((char *)sock) != MI_SUCCESS ||
	    (backlog > 0 && smfi_setbacklog((int)backlog) != MI_SUCCESS)) {
		fprintf(stderr, "nullmilter: cannot set up %s\n", sock);
		return EX_SOFTWARE;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot open %s\n", sock);
		return EX_UNAVAILABLE;
	}
	rc = smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
		(void)unlink(strchr(sock, ':') + 1);
	return rc;
}
