/*
 * fuzz_addr - libFuzzer target for the envelope address parser and the
 * candidate keys built from its result (policy/addr.c, policy/keys.c).
 *
 * Invariants checked (abort() on violation): a result is one of the three
 * statuses; ADDR_OK yields a folded local part within its limit and a domain
 * without upper case or trailing dot; a malformed result leaves the struct
 * empty; every key is non-empty, NUL-free and within a bounded length;
 * addr_domain_only() of a refused address gives a folded domain or nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "keys.h"

/* has_upper - ASCII upper case anywhere */
static int
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 1;
	return 0;
}

/* check_addr - the invariants of one parse result */
static void
check_addr(enum addr_status st, const struct addr *a)
{
	size_t dlen = strlen(a->domain);

	if (st != ADDR_OK && st != ADDR_NULL && st != ADDR_MALFORMED)
		abort();
	if (st != ADDR_OK) {
		if (a->local[0] != '\0' || a->domain[0] != '\0')
			abort();
		return;
	}
	if (a->local[0] == '\0' || strlen(a->local) > ADDR_LOCAL_MAX)
		abort();
	if (has_upper(a->local) || has_upper(a->domain))
		abort();
	if (a->has_domain && (dlen == 0 || a->domain[dlen - 1] == '.'))
		abort();
	if (!a->has_domain && dlen != 0)
		abort();
}

/*
 * check_domain_only - the domain of a refused address: folded, within
 * ADDR_DOMAIN_MAX, no trailing dot, and at most 1 + KEYS_ADDR_PARENT_LABELS
 * keys with parents
 */
static void
check_domain_only(const uint8_t *data, size_t size)
{
	struct keylist kl;
	struct addr a;
	size_t dlen;

	if (addr_domain_only((const char *)data, size, &a) != 0) {
		if (a.domain[0] != '\0' || a.has_domain)
			abort();
		return;
	}
	dlen = strlen(a.domain);
	if (dlen == 0 || dlen > ADDR_DOMAIN_MAX || a.local[0] != '\0' ||
	    has_upper(a.domain) || a.domain[dlen - 1] == '.' ||
	    memchr(a.domain, '@', dlen) != NULL || !a.has_domain)
		abort();
	keylist_init(&kl);
	keys_domain(&kl, a.domain);
	if (kl.n == 0 || kl.n > 1 + KEYS_ADDR_PARENT_LABELS)
		abort();
	keylist_free(&kl);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keylist kl, pair;
	struct addr a;
	char err[128];
	enum addr_status st;
	size_t i;

	st = addr_parse((const char *)data, size, &a, err, sizeof err);
	check_addr(st, &a);
	if (st == ADDR_MALFORMED && err[0] == '\0')
		abort();
	keylist_init(&kl);
	keylist_init(&pair);
	keys_address(&kl, st, &a, "+-");
	keys_pair(&pair, &kl, &kl);
	for (i = 0; i < kl.n; i++)
		if (kl.v[i][0] == '\0' ||
		    strlen(kl.v[i]) > ADDR_MAILBOX_MAX + 1)
			abort();
	if (pair.n != kl.n * kl.n)
		abort();
	keylist_free(&pair);
	keylist_free(&kl);
	if (st == ADDR_MALFORMED)
		check_domain_only(data, size);
	return 0;
}
