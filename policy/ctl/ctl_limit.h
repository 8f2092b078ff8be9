/*
 * ctl_limit - redmilterctl usage and reset (ctl_limit.c): the counters of
 * the limit rule that applies to one value.  Each takes the global options
 * and the command's arguments (SUBJECT VALUE) and returns the exit status
 * (ctl.h).
 */
#ifndef CTL_LIMIT_H
#define CTL_LIMIT_H

#include "ctl.h"

int ctl_usage(struct ctl *, int, char **);
int ctl_reset(struct ctl *, int, char **);

#endif
