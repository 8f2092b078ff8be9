/*
 * sockfile - the milter's unix socket file, put in place so that nobody
 * who can write in its directory can turn it into a weapon.
 *
 * The directory of the socket may belong to the unprivileged user
 * (INSTALL), and we start as root.  So nothing here touches a path that
 * such a user could have replaced with a link:
 * - sockfile_prepare() refuses a path where a milter already answers (a
 *   second instance must not take over the live socket), a symbolic link
 *   or anything but a socket; it makes a private directory (0700, ours)
 *   beside the socket and gives libmilter a spec inside it, reached
 *   through /proc/self/fd, so that libmilter's bind() cannot be redirected;
 * - sockfile_publish() sets mode and owner there, where nobody else can
 *   plant anything, notes the socket's inode, and rename()s it over the
 *   final name in one step (a stale socket is replaced, never unlinked
 *   first);
 * - sockfile_remove(), at exit, removes the final name only when it is
 *   still the socket this process created.
 * libmilter's own removal at exit looks at the private name, which is gone
 * by then.  Each returns 0, or -1 with the problem in err;
 * sockfile_prepare() returns SOCKFILE_LIVE when a milter answers.  Called at
 * start and at exit, single-threaded.
 */
#ifndef SOCKFILE_H
#define SOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

struct daemon_ids;

#define SOCKFILE_LIVE (-2) /* a milter answers on the socket already */

struct sockfile {
	int dirfd;      /* the socket's directory; -1: none (inet) */
	int privfd;     /* the private directory, open to the end */
	char base[256]; /* the socket's name in dirfd */
	char priv[64];  /* the private directory's name in dirfd */
	char spec[64];  /* what libmilter binds: unix:/proc/self/fd/N/s */
	dev_t dev;      /* the socket as created, after publish */
	ino_t ino;
	int published;
};

int sockfile_prepare(struct sockfile *, const char *path, char *err,
                     size_t errlen);
int sockfile_publish(struct sockfile *, int mode, const struct daemon_ids *,
                     char *err, size_t errlen);
int sockfile_remove(struct sockfile *, char *err, size_t errlen);

#endif
