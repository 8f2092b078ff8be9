/*
 * daemon - the parts of starting a daemon that are not libmilter's:
 * dropping privileges, the pidfile, detaching, and warnings about files
 * others can read or write (the socket file is sockfile.h's).
 *
 * Each function returns 0, or -1 after writing the problem into err.
 * Called at start, single-threaded.  daemon_read_small() is a helper: up
 * to len - 1 bytes of a small file, NUL-terminated, opened with
 * O_RDONLY | O_CLOEXEC | flags; -1 when it cannot be opened or is empty.
 * It is thread-safe.
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
int daemon_read_small(const char *path, int flags, char *buf, size_t len);
int daemon_detach(char *, size_t);
void daemon_check_file(const char *path, int secret,
                       void (*warn)(const char *));

#endif
