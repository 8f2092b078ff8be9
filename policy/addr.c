/*
 * addr - parse and normalise an SMTP envelope address.
 *
 * Public: addr_parse(), addr_domain_only(), addr_base_len().  See addr.h for
 * the contract.
 *
 * The input is what the MTA passed the milter as argv[0] of MAIL or RCPT: the
 * client's text, brackets possibly missing, source route kept.  We accept
 * what RFC 5321 4.1.2 calls a Path (optionally without its brackets), with
 * two liberties real MTAs take too: 8-bit bytes (SMTPUTF8) anywhere but in
 * domain literals, and dots anywhere in an unquoted local part.  The local
 * part comes out in internal form (Postfix's term): quotes and backslash
 * escapes removed, so "john"@example.com and john@example.com are one
 * address.  Everything else is ADDR_MALFORMED with a reason.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "addr.h"
#include "str.h"

/* An input cursor: the remaining bytes. */
struct span {
	const char *p;
	size_t len;
};

/* malformed - write a reason, naming the byte at off, and say so */
static enum addr_status
malformed(char *err, size_t errlen, const char *what, unsigned char c,
          size_t off)
{
	if (c == 0 && off == (size_t)-1)
		errbuf_set(err, errlen, "%s", what);
	else if (c >= 0x20 && c < 0x7f)
		errbuf_set(err, errlen, "%s '%c' at offset %zu", what, c, off);
	else
		errbuf_set(err, errlen, "%s 0x%02x at offset %zu", what, c,
		           off);
	return ADDR_MALFORMED;
}

#define FAIL(what) malformed(err, errlen, (what), 0, (size_t)-1)

/* is_special - RFC 5321 specials that an unquoted local part cannot hold */
static int
is_special(unsigned char c)
{
	return c != '\0' && strchr("()<>[]\\,;:@\" ", c) != NULL;
}

/* lower - fold one ASCII byte */
static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * parse_local - the local part up to '@' or the end, into a->local
 *
 * On return s is past the local part.
 */
static enum addr_status
parse_local(struct span *s, struct addr *a, const char *base, char *err,
            size_t errlen)
{
	size_t n = 0, i = 0;
	int quoted = s->len > 0 && s->p[0] == '"';

	if (quoted)
		i = 1;
	for (; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (quoted && c == '"')
			break;
		if (!quoted && c == '@')
			break;
		if (quoted && c == '\\') {
			if (++i >= s->len)
				return FAIL("backslash at end of quoted "
				            "local part");
			c = (unsigned char)s->p[i];
		} else if (!quoted && is_special(c)) {
			return malformed(err, errlen, "invalid character", c,
			                 (size_t)(s->p + i - base));
		}
		if (n >= ADDR_LOCAL_MAX)
			return FAIL("local part is too long");
		a->local[n++] = lower((char)c);
	}
	if (quoted) {
		if (i >= s->len)
			return FAIL("unterminated quoted local part");
		i++;
		if (i < s->len && s->p[i] != '@')
			return malformed(
			    err, errlen,
			    "invalid character after quoted local part",
			    (unsigned char)s->p[i], (size_t)(s->p + i - base));
	}
	a->local[n] = '\0';
	if (n == 0)
		return FAIL("empty local part");
	s->p += i;
	s->len -= i;
	return ADDR_OK;
}

/*
 * literal_canon - canonical text of a domain literal's contents
 *
 * "192.0.2.1" and "IPv6:2001:DB8::1" become inet_ntop() text; another
 * "tag:content" literal (RFC 5321 General-address-literal) is kept, folded.
 */
static int
literal_canon(const char *in, char *out, size_t outlen)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char txt[INET6_ADDRSTRLEN];
	const char *colon;

	if (inet_pton(AF_INET, in, buf) == 1) {
		if (inet_ntop(AF_INET, buf, txt, sizeof txt) == NULL)
			return -1;
		return snprintf(out, outlen, "[%s]", txt) < (int)outlen ? 0
		                                                        : -1;
	}
	if (strncasecmp(in, "ipv6:", 5) == 0) {
		if (inet_pton(AF_INET6, in + 5, buf) != 1 ||
		    inet_ntop(AF_INET6, buf, txt, sizeof txt) == NULL)
			return -1;
		return snprintf(out, outlen, "[ipv6:%s]", txt) < (int)outlen
		           ? 0
		           : -1;
	}
	/* General-address-literal: Standardized-tag ":" 1*dcontent */
	if ((colon = strchr(in, ':')) == NULL || colon == in ||
	    colon[1] == '\0')
		return -1;
	if (snprintf(out, outlen, "[%s]", in) >= (int)outlen)
		return -1;
	str_lower(out);
	return 0;
}

/* parse_literal - a domain literal "[...]" into a->domain */
static enum addr_status
parse_literal(const char *d, size_t len, struct addr *a, char *err,
              size_t errlen)
{
	char in[ADDR_DOMAIN_MAX + 1];
	size_t i;

	if (len < 3 || d[len - 1] != ']')
		return FAIL("unterminated domain literal");
	if (len - 2 > ADDR_DOMAIN_MAX)
		return FAIL("domain literal is too long");
	for (i = 1; i < len - 1; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
			return FAIL("invalid character in domain literal");
	}
	memcpy(in, d + 1, len - 2);
	in[len - 2] = '\0';
	if (literal_canon(in, a->domain, sizeof a->domain) != 0)
		return FAIL("invalid domain literal");
	a->literal = 1;
	return ADDR_OK;
}

/* domain_char_ok - letters, digits, '-', '_' and 8-bit bytes (IDN) */
static int
domain_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

/*
 * addr_domain_check - validate a host name: labels, characters, lengths
 *
 * Returns NULL when valid, or the reason.
 */
static const char *
domain_check(const char *d, size_t len, size_t maxlabels)
{
	size_t i, label = 0, labels = 1;

	if (len == 0)
		return "empty domain";
	if (len > ADDR_DOMAIN_MAX)
		return "domain is too long";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			label = 0;
			if (++labels > maxlabels)
				return "too many labels in domain";
			continue;
		}
		if (!domain_char_ok(c))
			return "invalid character in domain";
		if (++label > 63)
			return "domain label longer than 63 octets";
	}
	if (label == 0)
		return "empty label in domain";
	return NULL;
}

/* parse_domain - the part after '@' into a->domain */
static enum addr_status
parse_domain(const char *d, size_t len, struct addr *a, char *err,
             size_t errlen)
{
	const char *why;
	size_t i;

	if (len > 0 && d[0] == '[')
		return parse_literal(d, len, a, err, errlen);
	if (len > 1 && d[len - 1] == '.')
		len--;
	if ((why = domain_check(d, len, ADDR_LABELS_MAX)) != NULL)
		return FAIL(why);
	for (i = 0; i < len; i++)
		a->domain[i] = lower(d[i]);
	a->domain[len] = '\0';
	return ADDR_OK;
}

/*
 * strip_route - skip a source route "@a,@b:" (RFC 5321 A-d-l), which
 * RFC 5321 4.1.1.3 says to accept and ignore
 */
static enum addr_status
strip_route(struct span *s, char *err, size_t errlen)
{
	const char *colon;
	size_t n;

	if (s->len == 0 || s->p[0] != '@')
		return ADDR_OK;
	if ((colon = memchr(s->p, ':', s->len)) == NULL)
		return FAIL("source route without ':'");
	n = (size_t)(colon - s->p) + 1;
	if (n < 3 || colon[-1] == ',' || colon[-1] == '@')
		return FAIL("empty domain in source route");
	s->p += n;
	s->len -= n;
	if (s->len == 0)
		return FAIL("source route without mailbox");
	return ADDR_OK;
}

/* check_bytes - no NUL and no control characters anywhere */
static enum addr_status
check_bytes(const char *in, size_t len, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == 0)
			return malformed(err, errlen, "NUL byte", c, i);
		if (c < 0x20 || c == 0x7f)
			return malformed(err, errlen, "control character", c,
			                 i);
	}
	return ADDR_OK;
}

/* unbracket - strip surrounding blanks and one pair of angle brackets */
static enum addr_status
unbracket(struct span *s, char *err, size_t errlen)
{
	while (s->len > 0 && (s->p[0] == ' ' || s->p[0] == '\t')) {
		s->p++;
		s->len--;
	}
	while (s->len > 0 &&
	       (s->p[s->len - 1] == ' ' || s->p[s->len - 1] == '\t'))
		s->len--;
	if (s->len > 0 && s->p[0] == '<') {
		if (s->len < 2 || s->p[s->len - 1] != '>')
			return FAIL("unbalanced angle brackets");
		s->p++;
		s->len -= 2;
	} else if (s->len > 0 && s->p[s->len - 1] == '>') {
		return FAIL("unbalanced angle brackets");
	}
	return ADDR_OK;
}

/*
 * addr_parse - parse an envelope address
 *
 * Returns ADDR_OK (a filled in), ADDR_NULL for "<>" or an empty argument, or
 * ADDR_MALFORMED with the reason in err.  a is always initialised.  An
 * address longer than ADDR_MAILBOX_MAX (local part, '@' and domain, in
 * internal form) is refused, as RFC 5321 4.5.3.1.3 allows a path of 256
 * octets with its brackets: the caller looks it up by its domain alone
 * (addr_domain_only(); redmilter(8), "Key limits").
 */
enum addr_status
addr_parse(const char *in, size_t len, struct addr *a, char *err, size_t errlen)
{
	struct span s = {in, len};
	enum addr_status st;

	memset(a, 0, sizeof *a);
	if (err != NULL && errlen > 0)
		*err = '\0';
	if (in == NULL)
		return FAIL("no address");
	if (len > ADDR_INPUT_MAX)
		return FAIL("address is too long");
	if ((st = check_bytes(in, len, err, errlen)) != ADDR_OK ||
	    (st = unbracket(&s, err, errlen)) != ADDR_OK)
		return st;
	if (s.len == 0)
		return ADDR_NULL;
	if ((st = strip_route(&s, err, errlen)) == ADDR_OK &&
	    (st = parse_local(&s, a, in, err, errlen)) == ADDR_OK &&
	    s.len > 0) {
		/* s.p[0] is '@': parse_local stops only there or at the end. */
		a->has_domain = 1;
		st = parse_domain(s.p + 1, s.len - 1, a, err, errlen);
	}
	if (st == ADDR_OK &&
	    strlen(a->local) + (a->has_domain ? 1 : 0) + strlen(a->domain) >
	        ADDR_MAILBOX_MAX)
		st = FAIL("address is longer than 254 octets");
	if (st != ADDR_OK)
		memset(a, 0, sizeof *a);
	return st;
}

/* quotes_closed - no quoted string is open at the end of the text */
static int
quotes_closed(const char *p, size_t len)
{
	size_t i;
	int open = 0;

	for (i = 0; i < len; i++) {
		if (open && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			open = !open;
	}
	return !open;
}

/*
 * addr_domain_only - the domain of an address that addr_parse() refused
 *
 * An MTA may pass what we refuse (a local part past ADDR_LOCAL_MAX, an
 * address past ADDR_MAILBOX_MAX, more than ADDR_LABELS_MAX labels, a line
 * past ADDR_INPUT_MAX): the rules of its
 * domain must still apply, or a long local part would slip past a domain
 * REJECT.  The domain is whatever follows the last '@' outside quotes
 * (an unterminated quote makes the domain unknown), when that is a valid
 * domain (any number of labels within ADDR_DOMAIN_MAX bytes) or
 * domain literal.  Returns 0 with a holding the domain and an empty local
 * part, or -1 when there is no such domain.
 */
int
addr_domain_only(const char *in, size_t len, struct addr *a)
{
	struct span s = {in, len};
	size_t at;

	memset(a, 0, sizeof *a);
	if (in == NULL)
		return -1;
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	if (s.len > 0 && s.p[s.len - 1] == '>')
		s.len--;
	for (at = s.len; at > 0 && s.p[at - 1] != '@'; at--)
		;
	if (at == 0 || !quotes_closed(s.p, at - 1))
		return -1;
	s.p += at;
	s.len -= at;
	if (check_bytes(s.p, s.len, NULL, 0) != ADDR_OK)
		return -1;
	if (s.len > 0 && s.p[0] == '[') {
		if (parse_literal(s.p, s.len, a, NULL, 0) != ADDR_OK) {
			memset(a, 0, sizeof *a);
			return -1;
		}
	} else {
		if (s.len > 1 && s.p[s.len - 1] == '.')
			s.len--;
		if (domain_check(s.p, s.len, ADDR_DOMAIN_MAX) != NULL)
			return -1;
		for (at = 0; at < s.len; at++)
			a->domain[at] = lower(s.p[at]);
		a->domain[s.len] = '\0';
	}
	a->has_domain = 1;
	return 0;
}

/*
 * addr_base_len - length of the local part without its extension
 *
 * The extension starts at the first byte of the local part that is one of
 * delims (Postfix recipient_delimiter with several characters).  A local
 * part that starts with a delimiter has no extension, as in Postfix.
 * Returns strlen(a->local) when there is no extension.
 */
size_t
addr_base_len(const struct addr *a, const char *delims)
{
	size_t n;

	if (delims == NULL || *delims == '\0')
		return strlen(a->local);
	n = strcspn(a->local, delims);
	return n == 0 ? strlen(a->local) : n;
}
