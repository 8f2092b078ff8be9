/*
 * version - the milter's version, as `redmilter -V` prints it and the
 * metrics' redmilter_build_info gives it; a build may set it
 * (-DREDMILTER_VERSION=...).
 */
#ifndef VERSION_H
#define VERSION_H

#ifndef REDMILTER_VERSION
#define REDMILTER_VERSION "0.1.0"
#endif

#endif
