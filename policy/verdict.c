/*
 * verdict - what a decision decided, and the trail of keys it tried.
 * See verdict.h.
 *
 * Public: verdict_free(), verdict_copy(), verdict_type_name(),
 * verdict_trail_name().
 */
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "verdict.h"

/* verdict_free - release what a verdict holds; it is zeroed afterwards */
void
verdict_free(struct verdict *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->ntrail; i++) {
		free(v->trail[i].key);
		free(v->trail[i].value);
		free(v->trail[i].note);
	}
	free(v->trail);
	free(v->key);
	action_free(&v->action);
	for (i = 0; i < LIMIT_SUBJECTS; i++) {
		free(v->limit[i].key);
		free(v->limit[i].value);
		limit_free(&v->limit[i].lim);
	}
	memset(v, 0, sizeof *v);
}

/* dup_or_null - a copy of s, or NULL */
static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* verdict_copy - dst becomes a deep copy of src */
void
verdict_copy(struct verdict *dst, const struct verdict *src)
{
	size_t i;

	*dst = *src;
	dst->key = dup_or_null(src->key);
	dst->action.text = dup_or_null(src->action.text);
	for (i = 0; i < LIMIT_SUBJECTS; i++) {
		dst->limit[i].key = dup_or_null(src->limit[i].key);
		dst->limit[i].value = dup_or_null(src->limit[i].value);
		limit_copy(&dst->limit[i].lim, &src->limit[i].lim);
	}
	dst->trail = NULL;
	if (src->ntrail > 0)
		dst->trail = xmalloc(src->ntrail * sizeof *dst->trail);
	for (i = 0; i < src->ntrail; i++) {
		dst->trail[i] = src->trail[i];
		dst->trail[i].key = dup_or_null(src->trail[i].key);
		dst->trail[i].value = dup_or_null(src->trail[i].value);
		dst->trail[i].note = dup_or_null(src->trail[i].note);
	}
}

/* verdict_type_name - a verdict type as text */
const char *
verdict_type_name(enum verdict_type t)
{
	static const char *const names[] = {
	    [VERDICT_NONE] = "none",
	    [VERDICT_ACCEPT] = "accept",
	    [VERDICT_REPLY] = "reply",
	    [VERDICT_DISCARD] = "discard",
	    [VERDICT_HOLD] = "hold",
	    [VERDICT_ERR_STORE] = "store-error",
	    [VERDICT_ERR_CONFIG] = "config-error",
	};

	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* verdict_trail_name - a trail step as text */
const char *
verdict_trail_name(enum trail_what w)
{
	static const char *const names[] = {
	    [TRAIL_NOTFOUND] = "not found", [TRAIL_DECIDED] = "decided",
	    [TRAIL_WARN] = "warn",          [TRAIL_DUNNO] = "dunno",
	    [TRAIL_BROKEN] = "broken",      [TRAIL_MALFORMED] = "malformed",
	    [TRAIL_GREYLIST] = "greylist",
	};

	return (unsigned)w < sizeof names / sizeof names[0] ? names[w] : "?";
}
