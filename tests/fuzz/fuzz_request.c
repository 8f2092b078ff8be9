/*
 * fuzz_request - libFuzzer target for the path from the MTA's callback
 * arguments to the reply handed to libmilter: client name and address,
 * HELO, SASL login, MAIL and RCPT arguments (ESMTP parameters included, as
 * the milter sees argv), and one stored rule value, through policy_eval()
 * on an in-memory store, in both delay_checks modes and every stage, then
 * action_reply() and the libmilter rendering.
 *
 * The input is split on NUL bytes into those seven fields.  Invariants
 * (abort() on violation): policy_eval() never fails on well-formed
 * arguments; a reply is 4xx or 5xx with a matching enhanced code class; no
 * rendered line holds a byte outside printable ASCII or a lone '%', and
 * none exceeds libmilter's 980 characters; a rule that the engine calls
 * broken never becomes a reply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "reply.h"
#include "store_mem.h"

#define FIELDS 7

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_line - printable, '%' doubled, within libmilter's limit */
static void
check_line(const char *l)
{
	size_t i, len = strlen(l);

	if (len > 980)
		abort();
	for (i = 0; i < len; i++) {
		if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e)
			abort();
		if (l[i] == '%' && l[++i] != '%')
			abort();
	}
}

/* check_verdict - the invariants of one verdict */
static void
check_verdict(const struct verdict *v)
{
	struct reply r;
	char err[256], *line;
	size_t i;

	if (v->type != VERDICT_REPLY)
		return;
	if (action_reply(&v->action, v->table, &r, err, sizeof err) != 0)
		abort(); /* the engine checked it: it must render */
	if ((r.code[0] != '4' && r.code[0] != '5') || r.enh[0] != r.code[0])
		abort();
	for (i = 0; i < r.nlines; i++) {
		line = reply_milter_line(&r, i);
		check_line(line);
		free(line);
	}
	reply_free(&r);
}

/* split - the NUL-separated fields of the input; missing ones are NULL */
static void
split(const uint8_t *data, size_t size, char *buf, char **f)
{
	size_t i, n = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i < FIELDS; i++)
		f[i] = NULL;
	f[n++] = buf;
	for (i = 0; i < size && n < FIELDS; i++)
		if (buf[i] == '\0')
			f[n++] = buf + i + 1;
}

/* evaluate - every stage in one delay_checks mode */
static void
evaluate(struct store *st, char **f, int delay)
{
	struct policy_conf pc = {.prefix = "redmilter:",
	                         .delims = "+-",
	                         .delay_checks = delay,
	                         .grey_bits4 = 24,
	                         .grey_bits6 = 64};
	/* Every limit ladder too, at every stage. */
	struct request req = {.stage = STAGE_CONNECT,
	                      .client_name = f[0],
	                      .client_addr = f[1],
	                      .helo = f[2],
	                      .auth = f[3],
	                      .sender = f[4],
	                      .recipient = f[5],
	                      .limits = (1u << LIMIT_SUBJECTS) - 1};
	struct verdict v;
	char err[128];
	int stage;

	for (stage = STAGE_CONNECT; stage <= STAGE_RCPT; stage++) {
		req.stage = (enum policy_stage)stage;
		if (policy_eval(&pc, &req, st, &v, err, sizeof err) != 0)
			abort();
		check_verdict(&v);
		verdict_free(&v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
	    "redmilter:recipient:bob@example.com",
	    "redmilter:sender:example.net",
	    "redmilter:client:127.0.0.0/8",
	    "redmilter:helo:.example.org",
	    "redmilter:pair:<>,bob@example.com",
	};
	struct store *st;
	char *buf, *f[FIELDS];
	char err[64];
	size_t i;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	split(data, size, buf, f);
	st = store_mem_new();
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		st->put(st, keys[i], f[6] != NULL ? f[6] : "REJECT",
		        f[6] != NULL ? strlen(f[6]) : 6, 0, err, sizeof err);
	evaluate(st, f, 1);
	evaluate(st, f, 0);
	st->close(st);
	free(buf);
	return 0;
}
