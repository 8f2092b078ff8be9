/*
 * daemon - the parts of starting a daemon that are not libmilter's:
 * dropping privileges, the pidfile, detaching, and warnings about files
 * others can read or write (the socket file is sockfile.h's).
 *
 * Each function returns 0, or -1 after writing the problem into err.
 * Called at start, single-threaded.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stddef.h>
#include <sys/types.h>

struct daemon_ids {
	uid_t uid;
	gid_t gid;
	int set; /* user or group given */
	const char *user;
};

int daemon_lookup_ids(const char *user, const char *group, struct daemon_ids *,
                      char *, size_t);
int daemon_drop(const struct daemon_ids *, char *, size_t);
int daemon_pidfile(const char *path, char *, size_t);
void daemon_pidfile_remove(const char *path);
int daemon_detach(char *, size_t);
void daemon_check_file(const char *path, int secret,
                       void (*warn)(const char *));

#endif
