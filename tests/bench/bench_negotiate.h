/*
 * bench_negotiate - the negotiation of the bench's own milters (nullmilter,
 * naivemilter): redmilter's (milter/mlfi.c), the same stages skipped and
 * the same macro lists asked for, so that the same packets cross the
 * socket and only what each milter does with them differs.
 */
#ifndef BENCH_NEGOTIATE_H
#define BENCH_NEGOTIATE_H

#include <libmilter/mfapi.h>

static inline sfsistat
bench_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                unsigned long f2, unsigned long f3, unsigned long *pf0,
                unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long skip = SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH |
	                     SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_DELRCPT | SMFIF_QUARANTINE);
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)"j {client_name}");
	smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)"i {auth_authen}");
	smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)"i");
	smfi_setsymlist(ctx, SMFIM_EOM, (char *)"i");
	return SMFIS_CONTINUE;
}

#endif
