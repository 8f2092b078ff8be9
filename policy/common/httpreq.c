/*
 * httpreq - an incremental, bounded parser of one HTTP/1.x request head.
 * See httpreq.h.
 *
 * A state machine fed one byte at a time from the start of the buffer: each
 * byte either moves it on, ends the head, or is the byte that makes the
 * request wrong.  That is what makes a prefix's answer agree with the whole
 * input's (httpreq.h).  The grammar is RFC 9112's: request-line (section
 * 3), field lines (section 5), CRLF or LF line ends (section 2.2).
 */
#include <string.h>

#include "httpreq.h"

#define VERSION_LEN 8 /* "HTTP/1.1" */

enum state {
	ST_START,       /* before the request line; empty lines skipped */
	ST_METHOD,      /* in the method */
	ST_TARGET,      /* in the request-target */
	ST_VERSION,     /* in the HTTP-version */
	ST_FIELD_START, /* at the first byte of a field line or the end */
	ST_FIELD_NAME,  /* in a field name */
	ST_FIELD_VALUE, /* after the colon */
	ST_CR,          /* after a CR: an LF must follow, then p->after */
	ST_DONE         /* (p->after only) the head is complete */
};

struct parser {
	const char *buf;
	enum state st;
	enum state after; /* ST_CR: the state after the LF */
	size_t start;     /* where the method, target or version began */
	struct httpreq *r;
};

#define STEP_ON 0 /* step(): go on; HTTPREQ_OK: done; else a status */

/* is_tchar - whether c may be part of a token (RFC 9110 section 5.6.2) */
static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* line_end - a CR or LF ends a line; then state next (ST_DONE: the end) */
static int
line_end(struct parser *p, unsigned char c, enum state next)
{
	if (c == '\r') {
		p->st = ST_CR;
		p->after = next;
		return STEP_ON;
	}
	if (next == ST_DONE)
		return HTTPREQ_OK;
	p->st = next;
	return STEP_ON;
}

/* is_scheme_char - ALPHA / DIGIT / "+" / "-" / "." (RFC 3986 3.1) */
static int
is_scheme_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* absolute_path - the path of an absolute-form target, or NULL if bad */
static const char *
absolute_path(const char *t, const char *e)
{
	const char *colon = memchr(t, ':', (size_t)(e - t)), *s, *auth;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (colon == NULL ||
	    !((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z')))
		return NULL;
	for (s = t; s < colon; s++)
		if (!is_scheme_char(*s))
			return NULL;
	if ((size_t)(e - colon) < 3 || memcmp(colon, "://", 3) != 0)
		return NULL;
	auth = s = colon + 3;
	while (s < e && *s != '/' && *s != '?')
		s++;
	return s > auth ? s : NULL;
}

/* end_target - take the target buf[p->start..end) apart into r */
static int
end_target(struct parser *p, size_t end)
{
	const char *t = p->buf + p->start, *e = p->buf + end, *path = t;
	const char *q;

	if (*t == '*') {
		if (e - t != 1)
			return 400;
	} else if (*t != '/' && (path = absolute_path(t, e)) == NULL) {
		return 400;
	}
	q = memchr(path, '?', (size_t)(e - path));
	p->r->path = path;
	p->r->path_len = (size_t)((q != NULL ? q : e) - path);
	p->r->query = q != NULL ? q + 1 : NULL;
	p->r->query_len = q != NULL ? (size_t)(e - q - 1) : 0;
	return STEP_ON;
}

/* step_request_line - one byte of the method, the target or the version */
static int
step_request_line(struct parser *p, size_t i, unsigned char c)
{
	static const char pattern[] = "HTTP/D.D"; /* D: a digit */
	size_t n = i - p->start;

	switch (p->st) {
	case ST_METHOD:
		if (c != ' ')
			return is_tchar(c) ? STEP_ON : 400;
		p->r->method_len = n;
		p->st = ST_TARGET;
		p->start = i + 1;
		return STEP_ON;
	case ST_TARGET:
		if (c == ' ') {
			if (n == 0 || end_target(p, i) != STEP_ON)
				return 400;
			p->st = ST_VERSION;
			p->start = i + 1;
			return STEP_ON;
		}
		if (c <= ' ' || c >= 0x7f)
			return 400;
		return n >= HTTPREQ_TARGET_MAX ? 414 : STEP_ON;
	default: /* ST_VERSION */
		if (c == '\r' || c == '\n') {
			if (n != VERSION_LEN)
				return 400;
			if (p->buf[p->start + 5] != '1' ||
			    (p->buf[p->start + 7] != '0' &&
			     p->buf[p->start + 7] != '1'))
				return 505;
			p->r->version_minor = p->buf[p->start + 7] - '0';
			return line_end(p, c, ST_FIELD_START);
		}
		if (n >= VERSION_LEN)
			return 400;
		if (pattern[n] == 'D')
			return c >= '0' && c <= '9' ? STEP_ON : 400;
		return c == (unsigned char)pattern[n] ? STEP_ON : 400;
	}
}

/* step_field - one byte of a field line, or of the empty line after them */
static int
step_field(struct parser *p, unsigned char c)
{
	switch (p->st) {
	case ST_FIELD_START:
		if (c == '\r' || c == '\n')
			return line_end(p, c, ST_DONE);
		/* Whitespace here would be obs-fold: 400 (section 5.2). */
		if (!is_tchar(c))
			return 400;
		if (p->r->nheaders >= HTTPREQ_HEADERS_MAX)
			return 431;
		p->r->nheaders++;
		p->st = ST_FIELD_NAME;
		return STEP_ON;
	case ST_FIELD_NAME:
		/* No whitespace between name and colon (section 5.1). */
		if (c == ':')
			p->st = ST_FIELD_VALUE;
		else if (!is_tchar(c))
			return 400;
		return STEP_ON;
	default: /* ST_FIELD_VALUE: VCHAR, obs-text, SP, HTAB */
		if (c == '\r' || c == '\n')
			return line_end(p, c, ST_FIELD_START);
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return 400;
		return STEP_ON;
	}
}

/* step - feed one byte, buf[i] */
static int
step(struct parser *p, size_t i, unsigned char c)
{
	switch (p->st) {
	case ST_START:
		if (c == '\r' || c == '\n')
			return line_end(p, c, ST_START);
		if (!is_tchar(c))
			return 400;
		p->r->method = p->buf + i;
		p->st = ST_METHOD;
		p->start = i;
		return STEP_ON;
	case ST_METHOD:
	case ST_TARGET:
	case ST_VERSION:
		return step_request_line(p, i, c);
	case ST_CR:
		if (c != '\n')
			return 400;
		if (p->after == ST_DONE)
			return HTTPREQ_OK;
		p->st = p->after;
		return STEP_ON;
	default:
		return step_field(p, c);
	}
}

/*
 * httpreq_parse - how far buf[0..len) is from a complete request head
 *
 * HTTPREQ_OK fills r (pointers into buf); HTTPREQ_ERROR sets r->status;
 * HTTPREQ_MORE leaves r's fields meaningless.  See httpreq.h.
 */
enum httpreq_result
httpreq_parse(const char *buf, size_t len, struct httpreq *r)
{
	struct parser p;
	size_t i;
	int rc;

	memset(r, 0, sizeof *r);
	memset(&p, 0, sizeof p);
	p.buf = buf;
	p.st = ST_START;
	p.r = r;
	for (i = 0; i < len && i < HTTPREQ_HEAD_MAX; i++) {
		rc = step(&p, i, (unsigned char)buf[i]);
		if (rc == HTTPREQ_OK) {
			r->head_len = i + 1;
			return HTTPREQ_OK;
		}
		if (rc != STEP_ON) {
			r->status = rc;
			return HTTPREQ_ERROR;
		}
	}
	/* HTTPREQ_HEAD_MAX bytes and no end: any byte more is one too many. */
	if (len >= HTTPREQ_HEAD_MAX) {
		r->status = 431;
		return HTTPREQ_ERROR;
	}
	return HTTPREQ_MORE;
}
