/*
 * catalogue - the default enhanced code and text of each reply code.
 *
 * See catalogue.h.  The rows are the catalogue that redmilterctl(8)
 * "codes" prints; they
 * are a const table, so every function here is thread-safe and none can
 * fail.  Public: catalogue_lookup(), catalogue_size(), catalogue_row().
 */
#include <stdio.h>

#include "catalogue.h"
#include "str.h"

/* Codes not in the table get "X.0.0" and this text. */
#define CATALOGUE_OTHER_TEXT "Requested action not taken"

static const struct catalogue_row rows[] = {
    {421, "4.3.2", "Service not available, closing channel", NULL, NULL},
    {450, "4.2.1", "Mailbox unavailable", NULL, NULL},
    {451, "4.3.0", "Local error in processing", NULL, NULL},
    {452, "4.2.2", "Mailbox full, try again later", NULL, NULL},
    {500, "5.5.2", "Syntax error", NULL, NULL},
    {501, "5.5.4", "Syntax error in parameters", NULL, NULL},
    {502, "5.5.1", "Command not implemented", NULL, NULL},
    {503, "5.5.1", "Bad sequence of commands", NULL, NULL},
    {504, "5.5.4", "Parameter not implemented", NULL, NULL},
    {521, "5.3.2", "Host does not accept mail", NULL, NULL},
    {530, "5.7.0", "Authentication required", NULL, NULL},
    {535, "5.7.8", "Authentication credentials invalid", NULL, NULL},
    {550, "5.7.1", "Rejected by policy", "5.1.1", "Mailbox not found"},
    {551, "5.1.6", "User not local", NULL, NULL},
    {552, "5.2.2", "Mailbox full", NULL, NULL},
    {553, "5.1.7", "Mailbox name invalid", "5.1.3", NULL},
    {554, "5.7.1", "Transaction failed", NULL, NULL},
    {556, "5.1.10", "Domain does not accept mail", NULL, NULL},
};

#define NROWS (sizeof rows / sizeof rows[0])

/* find_row - the row of a code, or NULL */
static const struct catalogue_row *
find_row(int code)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (rows[i].code == code)
			return &rows[i];
	return NULL;
}

/*
 * catalogue_lookup - the default enhanced code and text of a code
 *
 * Writes the enhanced code into enh (enhlen bytes, REPLY_ENH_MAX is
 * enough; always terminated when enhlen > 0) and points *text at a static
 * string.  A code outside 100..999 is given an empty enhanced code and the
 * generic text; callers validate codes first.  enh or text may be NULL
 * when the caller wants only the other.
 */
void
catalogue_lookup(int code, enum table t, char *enh, size_t enhlen,
                 const char **text)
{
	const struct catalogue_row *row = find_row(code);
	const char *e = NULL, *x = CATALOGUE_OTHER_TEXT;
	char other[16]; /* "9.0.0" */

	if (row != NULL) {
		int rcpt = TABLE_IS_RECIPIENT(t);

		e = rcpt && row->rcpt_enh != NULL ? row->rcpt_enh : row->enh;
		x = rcpt && row->rcpt_text != NULL ? row->rcpt_text : row->text;
	} else if (code >= 100 && code <= 999) {
		int n = snprintf(other, sizeof other, "%d.0.0", code / 100);

		e = n < 0 || (size_t)n >= sizeof other ? "" : other;
	} else {
		e = "";
	}
	/* Truncation can only come from a caller's too small buffer. */
	if (enh != NULL && enhlen > 0)
		(void)str_copy(enh, e, enhlen);
	if (text != NULL)
		*text = x;
}

/* catalogue_size - the number of rows, for "redmilterctl codes" */
size_t
catalogue_size(void)
{
	return NROWS;
}

/* catalogue_row - row i in code order, or NULL past the end (static) */
const struct catalogue_row *
catalogue_row(size_t i)
{
	if (i >= NROWS)
		return NULL;
	return &rows[i];
}
