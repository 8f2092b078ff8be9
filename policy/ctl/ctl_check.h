/*
 * ctl_check - redmilterctl check (ctl_check.c): the reply the milter would
 * give each recipient.  Takes the global options and the command's
 * arguments and returns the exit status (ctl.h).
 */
#ifndef CTL_CHECK_H
#define CTL_CHECK_H

#include "ctl.h"

int ctl_check(struct ctl *, int, char **);

#endif
