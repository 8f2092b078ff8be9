/*
 * ctl_grey - redmilterctl greylist (ctl_grey.c): "greylist list
 * [pending|passed|clients]" prints the greylisting state kept in Redis,
 * "greylist pass CLIENT-IP SENDER RECIPIENT" lets one triplet pass now
 * (greylist.h).  It takes the global options and the command's arguments
 * and returns the exit status (ctl.h).
 */
#ifndef CTL_GREY_H
#define CTL_GREY_H

#include "ctl.h"

int ctl_greylist(struct ctl *, int, char **);

#endif
