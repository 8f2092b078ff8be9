/*
 * httpreq - an incremental, bounded parser of one HTTP/1.x request head
 * (RFC 9112), for the metrics endpoint.
 *
 * httpreq_parse() reads the bytes received so far, buf[0..len), and says
 * HTTPREQ_MORE (the head is not complete yet and still within its bounds),
 * HTTPREQ_OK (the request line and the headers up to the empty line that
 * ends them are well-formed: r holds the method, the path and the query,
 * pointers into buf, and head_len, the bytes of the head; bytes after it,
 * a body, are not looked at), or HTTPREQ_ERROR, with r->status the HTTP
 * status to answer: 400 (a malformed request line or header line, a CR not
 * followed by LF, a NUL or other control byte, a method that is not a
 * token), 414 (a request-target over HTTPREQ_TARGET_MAX bytes), 431 (a head
 * of more than HTTPREQ_HEAD_MAX bytes or more than HTTPREQ_HEADERS_MAX
 * header lines) or 505 (a version other than HTTP/1.0 and HTTP/1.1).
 *
 * The answer depends only on the bytes up to the one that decides it, so a
 * prefix of an input that gives an error gives MORE or the same error,
 * never OK, and a prefix of an input that gives OK gives MORE.  MORE is
 * only answered for len < HTTPREQ_HEAD_MAX: a buffer of HTTPREQ_HEAD_MAX
 * bytes is always enough.  Each call parses from the start (at most
 * HTTPREQ_HEAD_MAX bytes), so the caller keeps no state but the buffer.
 *
 * Line ends are CRLF or a bare LF (RFC 9112 section 2.2); empty lines
 * before the request line are skipped (ibid.).  The request-target is
 * origin-form (/path?query), asterisk-form (*) or absolute-form
 * (scheme://authority/path?query, section 3.2.2, whose path may be empty);
 * path is the part before '?', query the part after it (NULL when there is
 * none).  Header fields must be `name: value` with a token name and no
 * whitespace before the colon (section 5.1) and no obs-fold (section 5.2);
 * their values are otherwise ignored.  No allocation; pure; thread-safe.
 */
#ifndef HTTPREQ_H
#define HTTPREQ_H

#include <stddef.h>

#define HTTPREQ_HEAD_MAX 8192   /* bytes of the head, the empty line too */
#define HTTPREQ_TARGET_MAX 1024 /* bytes of the request-target */
#define HTTPREQ_HEADERS_MAX 64  /* header lines */

enum httpreq_result { HTTPREQ_ERROR = -1, HTTPREQ_MORE = 0, HTTPREQ_OK = 1 };

struct httpreq {
	const char *method; /* HTTPREQ_OK: in buf, method_len bytes */
	size_t method_len;
	const char *path; /* HTTPREQ_OK: in buf, path_len bytes (may be 0) */
	size_t path_len;
	const char *query; /* HTTPREQ_OK: in buf, or NULL if no '?' */
	size_t query_len;
	int version_minor; /* HTTPREQ_OK: 0 or 1 */
	int nheaders;      /* HTTPREQ_OK: header lines */
	size_t head_len;   /* HTTPREQ_OK: bytes of the head */
	int status;        /* HTTPREQ_ERROR: 400, 414, 431 or 505 */
};

enum httpreq_result httpreq_parse(const char *buf, size_t len,
                                  struct httpreq *r);

#endif
