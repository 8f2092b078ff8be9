/*
 * catalogue - the default enhanced code and text of each reply code
 * (redmilterctl(8), "codes").
 *
 * catalogue_lookup() gives the defaults of a valid reply code for a table:
 * 550 and 553 differ between recipient-level tables (recipient, pair) and
 * the others; a code not in the catalogue gets "X.0.0" and "Requested action
 * not taken".  The strings are static.  catalogue_size() and
 * catalogue_row() walk the rows for "redmilterctl codes".  Thread-safe.
 */
#ifndef CATALOGUE_H
#define CATALOGUE_H

#include <stddef.h>

#include "table.h"

struct catalogue_row {
	int code;
	const char *enh;       /* other tables */
	const char *text;      /* other tables */
	const char *rcpt_enh;  /* recipient, pair; NULL: same as enh */
	const char *rcpt_text; /* recipient, pair; NULL: same as text */
};

void catalogue_lookup(int code, enum table, char *enh, size_t enhlen,
                      const char **text);
size_t catalogue_size(void);
const struct catalogue_row *catalogue_row(size_t);

#endif
