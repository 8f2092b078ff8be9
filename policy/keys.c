/*
 * keys - the candidate lookup keys of each table, in the order they are
 * tried (redmilterctl(8), RULES, "Tables and keys").
 *
 * Public: keys_address(), keys_client(), keys_helo(), keys_auth(),
 * keys_pair(), keys_domain().
 * Memory comes from xmalloc(), so nothing here fails; input that yields no
 * key (a malformed address, an unknown client name) adds nothing.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "keylist.h"
#include "keys.h"
#include "rule.h"
#include "str.h"
#include "xmalloc.h"

#define NAME_MAX_LEN 255 /* a host name, as in DNS */

/* join - append a + b */
static void
join(struct keylist *kl, const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	char *k = xmalloc(alen + blen + 1);

	memcpy(k, a, alen);
	memcpy(k + alen, b, blen + 1);
	keylist_take(kl, k);
}

/*
 * ladder - a name and its parent domains of at most max labels
 *
 * "mail.example.com" gives "mail.example.com", ".example.com", ".com".
 * A name of many labels keeps its own key and its top-most parents (where
 * an administrator's rules are: ".spammer.example"), and loses the deep
 * ones, which only such a name has.  That bounds the keys of a name, and
 * the pair table's product of two addresses (redmilter(8), "Key limits").
 */
static void
ladder(struct keylist *kl, const char *name, size_t max)
{
	const char *p;
	size_t labels = 1;

	if (*name == '\0')
		return;
	keylist_add(kl, name);
	for (p = name; (p = strchr(p, '.')) != NULL; p++)
		labels++;
	for (p = strchr(name + 1, '.'); p != NULL; p = strchr(p + 1, '.'))
		if (--labels <= max && p[1] != '\0')
			keylist_add(kl, p);
}

/* keys_domain - an address's domain: 1 + 5 keys at most */
void
keys_domain(struct keylist *kl, const char *name)
{
	ladder(kl, name, KEYS_ADDR_PARENT_LABELS);
}

/*
 * keys_address - the keys of a sender or recipient address
 *
 * 1. local+ext@domain  2. local@domain (with an extension)  3. domain
 * 4. parent domains  5. local+ext@, local@.  "<>" has the one key "<>";
 * no domain gives step 5 only; a domain literal has no parents.
 */
void
keys_address(struct keylist *kl, enum addr_status st, const struct addr *a,
             const char *delims)
{
	size_t full = strlen(a->local), base = addr_base_len(a, delims);
	char at[ADDR_DOMAIN_MAX + 2];

	if (st == ADDR_NULL) {
		keylist_add(kl, "<>");
		return;
	}
	if (st != ADDR_OK)
		return;
	if (a->has_domain) {
		snprintf(at, sizeof at, "@%s", a->domain);
		join(kl, a->local, full, at);
		if (base < full)
			join(kl, a->local, base, at);
		if (a->literal)
			keylist_add(kl, a->domain);
		else
			keys_domain(kl, a->domain);
	}
	join(kl, a->local, full, "@");
	if (base < full)
		join(kl, a->local, base, "@");
}

/*
 * host_name - a host or HELO name folded, without its trailing dot
 *
 * Returns 0, or -1 when the text cannot be a key (empty, too long, blanks
 * or control characters).
 */
static int
host_name(const char *in, char *out, size_t outlen)
{
	size_t len = strlen(in), i;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len >= outlen)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c == 0x7f)
			return -1;
		out[i] =
		    (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	out[len] = '\0';
	return 0;
}

/* name_is_domain - dots only between non-empty labels, few labels */
static int
name_is_domain(const char *s)
{
	size_t labels = 1;

	if (*s == '.' || strstr(s, "..") != NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (*s == '.' && ++labels > ADDR_LABELS_MAX)
			return 0;
	return 1;
}

/*
 * parse_ip - a textual address into binary form
 *
 * Accepts "192.0.2.1", "2001:db8::1", "IPv6:2001:db8::1" (Sendmail) and
 * either in brackets.  An IPv4-mapped IPv6 address is taken as IPv4, as
 * Postfix does.  Returns the address family, or 0.
 */
static int
parse_ip(const char *in, unsigned char *ip)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len;
	const char *s = buf;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};

	if (str_copy(buf, in, sizeof buf) >= sizeof buf)
		return 0;
	len = strlen(buf);
	if (len > 2 && buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		s = buf + 1;
	}
	if (strncasecmp(s, "ipv6:", 5) == 0)
		s += 5;
	if (inet_pton(AF_INET, s, ip) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, ip) != 1)
		return 0;
	if (memcmp(ip, mapped, sizeof mapped) == 0) {
		memmove(ip, ip + 12, 4);
		return AF_INET;
	}
	return AF_INET6;
}

/* keys_ip - an address, then its networks longest prefix first */
static void
keys_ip(struct keylist *kl, const char *text)
{
	unsigned char ip[sizeof(struct in6_addr)];
	char txt[CIDR_TEXT_MAX];
	int af, bits, last;

	if ((af = parse_ip(text, ip)) == 0)
		return;
	if (cidr_text(af, ip, -1, txt) == NULL)
		return;
	keylist_add(kl, txt);
	bits = af == AF_INET ? 31 : 127;
	last = af == AF_INET ? 8 : 16;
	for (; bits >= last; bits--)
		if (cidr_text(af, ip, bits, txt) != NULL)
			keylist_add(kl, txt);
}

/*
 * keys_client - hostname and parents, then the IP and its networks
 *
 * The name is skipped when the MTA says "unknown" (Postfix) or gives an
 * address literal "[192.0.2.1]" (Sendmail, for a client without a name).
 */
void
keys_client(struct keylist *kl, const char *name, const char *ip)
{
	char host[NAME_MAX_LEN + 1];

	if (name != NULL && *name != '[' && strcasecmp(name, "unknown") != 0 &&
	    host_name(name, host, sizeof host) == 0 && name_is_domain(host))
		ladder(kl, host, KEYS_HOST_PARENT_LABELS);
	if (ip != NULL)
		keys_ip(kl, ip);
}

/*
 * keys_helo - the HELO name and its parents, or the one canonical literal
 *
 * "[192.0.2.1]" gives "[192.0.2.1]"; a bare IP address gives itself;
 * other text that is not a domain name gives itself alone.
 */
void
keys_helo(struct keylist *kl, const char *helo)
{
	char name[NAME_MAX_LEN + 1], lit[INET6_ADDRSTRLEN + 8];
	unsigned char ip[sizeof(struct in6_addr)];
	char txt[INET6_ADDRSTRLEN];
	int af;

	if (helo == NULL || host_name(helo, name, sizeof name) != 0)
		return;
	if ((af = parse_ip(name, ip)) != 0 &&
	    inet_ntop(af, ip, txt, sizeof txt) != NULL) {
		if (name[0] != '[')
			keylist_add(kl, txt);
		else {
			snprintf(lit, sizeof lit, "[%s%s]",
			         af == AF_INET6 ? "ipv6:" : "", txt);
			keylist_add(kl, lit);
		}
		return;
	}
	if (name[0] != '[' && name_is_domain(name))
		ladder(kl, name, KEYS_HOST_PARENT_LABELS);
	else
		keylist_add(kl, name);
}

/* keys_auth - the SASL login name, folded */
void
keys_auth(struct keylist *kl, const char *login)
{
	char *k;

	/* A key longer than RULE_KEY_MAX is no rule's (redmilterctl(8)). */
	if (login == NULL || *login == '\0' || strlen(login) > RULE_KEY_MAX ||
	    !str_printable(login, strlen(login)))
		return;
	k = xstrdup(login);
	str_lower(k);
	keylist_take(kl, k);
}

/* keys_pair - "<sender-key>,<recipient-key>", recipient outer */
void
keys_pair(struct keylist *kl, const struct keylist *sender,
          const struct keylist *recipient)
{
	size_t r, s, rlen;
	char *k;

	for (r = 0; r < recipient->n; r++) {
		rlen = strlen(recipient->v[r]);
		for (s = 0; s < sender->n; s++) {
			size_t slen = strlen(sender->v[s]);

			k = xmalloc(slen + 1 + rlen + 1);
			memcpy(k, sender->v[s], slen);
			k[slen] = ',';
			memcpy(k + slen + 1, recipient->v[r], rlen + 1);
			keylist_take(kl, k);
		}
	}
}
