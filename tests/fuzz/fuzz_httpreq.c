/*
 * fuzz_httpreq - libFuzzer target for the HTTP request head parser
 * (policy/common/httpreq.c).
 *
 * The input is the bytes a client sends, parsed whole and then every prefix
 * of it (a few prefixes only when it is long).  Invariants checked (abort()
 * on violation): the result is MORE, OK or an error with status 400, 414,
 * 431 or 505; MORE only below HTTPREQ_HEAD_MAX bytes; OK's method is a
 * non-empty token and its path and query are printable ASCII, all inside the
 * buffer and inside the head, whose length is within bounds and ends with
 * LF; the head alone parses the same, and one byte less of it gives MORE;
 * a prefix gives MORE or exactly the whole input's answer (an error with
 * the same status, an OK with the same head), never an OK where the whole
 * gives an error, nor an error where it gives OK.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"

#define INPUT_MAX (HTTPREQ_HEAD_MAX + 1024)
#define EVERY_PREFIX_MAX 1024 /* longer inputs: a few prefixes only */

/* inside - whether p[0..n) lies within buf[0..len) */
static int
inside(const char *buf, size_t len, const char *p, size_t n)
{
	return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

/* printable - whether s[0..n) is all VCHAR */
static int
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* check_ok - the invariants of one OK answer */
static void
check_ok(const char *buf, size_t len, const struct httpreq *r)
{
	struct httpreq again;

	if (r->head_len == 0 || r->head_len > len ||
	    r->head_len > HTTPREQ_HEAD_MAX || buf[r->head_len - 1] != '\n')
		abort();
	if (r->method_len == 0 ||
	    !inside(buf, r->head_len, r->method, r->method_len) ||
	    !printable(r->method, r->method_len))
		abort();
	if (!inside(buf, r->head_len, r->path, r->path_len) ||
	    !printable(r->path, r->path_len) ||
	    r->path_len > HTTPREQ_TARGET_MAX)
		abort();
	if (r->query != NULL &&
	    (!inside(buf, r->head_len, r->query, r->query_len) ||
	     !printable(r->query, r->query_len) || r->query[-1] != '?'))
		abort();
	if ((r->version_minor != 0 && r->version_minor != 1) ||
	    r->nheaders < 0 || r->nheaders > HTTPREQ_HEADERS_MAX)
		abort();
	if (httpreq_parse(buf, r->head_len, &again) != HTTPREQ_OK ||
	    again.head_len != r->head_len || again.path != r->path ||
	    again.path_len != r->path_len || again.method != r->method)
		abort();
	if (httpreq_parse(buf, r->head_len - 1, &again) != HTTPREQ_MORE)
		abort();
}

/* check_one - the invariants of one answer on its own */
static void
check_one(const char *buf, size_t len, enum httpreq_result res,
          const struct httpreq *r)
{
	switch (res) {
	case HTTPREQ_MORE:
		if (len >= HTTPREQ_HEAD_MAX)
			abort();
		break;
	case HTTPREQ_OK:
		check_ok(buf, len, r);
		break;
	case HTTPREQ_ERROR:
		if (r->status != 400 && r->status != 414 && r->status != 431 &&
		    r->status != 505)
			abort();
		break;
	default:
		abort();
	}
}

/* check_prefix - a prefix's answer against the whole input's */
static void
check_prefix(const char *buf, size_t k, enum httpreq_result whole,
             const struct httpreq *w)
{
	struct httpreq r;
	enum httpreq_result res = httpreq_parse(buf, k, &r);

	if (res == HTTPREQ_MORE)
		return;
	if (res != whole)
		abort();
	if (res == HTTPREQ_ERROR && r.status != w->status)
		abort();
	if (res == HTTPREQ_OK && r.head_len != w->head_len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t few[] = {0,    1,    2,    16,   64,
	                             1024, 1025, 4096, 8191, 8192};
	struct httpreq w;
	enum httpreq_result whole;
	char *buf;
	size_t k;

	if (size > INPUT_MAX)
		return 0;
	/* A copy of just size bytes, so that ASan sees any read past it. */
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	whole = httpreq_parse(buf, size, &w);
	check_one(buf, size, whole, &w);
	if (size <= EVERY_PREFIX_MAX) {
		for (k = 0; k < size; k++)
			check_prefix(buf, k, whole, &w);
	} else {
		for (k = 0; k < sizeof few / sizeof few[0]; k++)
			if (few[k] < size)
				check_prefix(buf, few[k], whole, &w);
		check_prefix(buf, size - 1, whole, &w);
	}
	free(buf);
	return 0;
}
