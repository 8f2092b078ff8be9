/*
 * ctl_bulk - redmilterctl list, export, import, top and stale (ctl_bulk.c).
 *
 * Each takes the global options and the command's arguments and returns
 * the exit status (ctl.h).
 */
#ifndef CTL_BULK_H
#define CTL_BULK_H

#include "ctl.h"

int ctl_bulk_list(struct ctl *, int, char **);
int ctl_bulk_export(struct ctl *, int, char **);
int ctl_bulk_import(struct ctl *, int, char **);
int ctl_bulk_top(struct ctl *, int, char **);
int ctl_bulk_stale(struct ctl *, int, char **);

#endif
