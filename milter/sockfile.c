/*
 * sockfile - the milter's unix socket file.  See sockfile.h.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "errbuf.h"
#include "sockfile.h"
#include "str.h"

#define PRIV_NAME "s" /* the socket's name in the private directory */

/*
 * probe - whether a milter answers on the unix socket path: 1 yes, 0 no
 * (nothing listens: a socket left by a process that is gone)
 */
static int
probe(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	str_copy(sun.sun_path, path, sizeof sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	/* EAGAIN: its backlog is full, so it is very much alive */
	rc = rc == 0 || errno == EAGAIN;
	close(fd);
	return rc;
}

/* check_existing - what is at the final name may be replaced by us */
static int
check_existing(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return errbuf_set(err, errlen,
		                  "%s is a symbolic link; refusing to use it",
		                  path);
	if (!S_ISSOCK(st.st_mode))
		return errbuf_set(err, errlen,
		                  "%s exists and is not a socket; refusing to "
		                  "replace it",
		                  path);
	if (probe(path)) {
		errbuf_set(err, errlen,
		           "a milter is already listening on %s (another "
		           "redmilter?); refusing to start",
		           path);
		return SOCKFILE_LIVE;
	}
	return 0;
}

/* open_dir - the directory of path, and the name in it */
static int
open_dir(struct sockfile *s, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[sizeof((struct sockaddr_un *)0)->sun_path];

	if (slash == NULL) {
		str_copy(dir, ".", sizeof dir);
		slash = path - 1;
	} else if (slash == path) {
		str_copy(dir, "/", sizeof dir);
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	if (slash[1] == '\0' ||
	    str_copy(s->base, slash + 1, sizeof s->base) >= sizeof s->base)
		return errbuf_set(err, errlen, "%s: not a socket file name",
		                  path);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return errbuf_set(err, errlen, "%s: %s", dir, strerror(errno));
	return 0;
}

/* make_private - a new directory beside the socket, 0700, ours */
static int
make_private(struct sockfile *s, char *err, size_t errlen)
{
	struct stat st;
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(s->priv, sizeof s->priv, ".redmilter.%ld.%d",
		         (long)getpid(), i);
		if (mkdirat(s->dirfd, s->priv, 0700) == 0)
			break;
		if (errno != EEXIST)
			return errbuf_set(err, errlen, "mkdir %s: %s", s->priv,
			                  strerror(errno));
	}
	if (i == 10)
		return errbuf_set(err, errlen, "mkdir %s: %s", s->priv,
		                  strerror(EEXIST));
	s->privfd = openat(s->dirfd, s->priv,
	                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* Renamed away and replaced before we opened it: by someone else. */
	if (s->privfd < 0 || fstat(s->privfd, &st) != 0 ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return errbuf_set(err, errlen,
		                  "%s: not the private directory just made",
		                  s->priv);
	snprintf(s->spec, sizeof s->spec, "unix:/proc/self/fd/%d/%s", s->privfd,
	         PRIV_NAME);
	return 0;
}

int
sockfile_prepare(struct sockfile *s, const char *path, char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof *s);
	s->dirfd = s->privfd = -1;
	if (strlen(path) >= sizeof((struct sockaddr_un *)0)->sun_path)
		return errbuf_set(err, errlen, "%s: path too long for a socket",
		                  path);
	if ((rc = check_existing(path, err, errlen)) != 0)
		return rc;
	if (open_dir(s, path, err, errlen) != 0 ||
	    make_private(s, err, errlen) != 0)
		return -1;
	return 0;
}

int
sockfile_publish(struct sockfile *s, int mode, const struct daemon_ids *ids,
                 char *err, size_t errlen)
{
	struct stat st;

	if (fchmodat(s->privfd, PRIV_NAME, (mode_t)mode, 0) != 0)
		return errbuf_set(err, errlen, "chmod socket: %s",
		                  strerror(errno));
	if (ids->set && geteuid() == 0 &&
	    fchownat(s->privfd, PRIV_NAME, ids->uid, ids->gid,
	             AT_SYMLINK_NOFOLLOW) != 0)
		return errbuf_set(err, errlen, "chown socket: %s",
		                  strerror(errno));
	if (fstatat(s->privfd, PRIV_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISSOCK(st.st_mode))
		return errbuf_set(err, errlen, "socket not made");
	if (renameat(s->privfd, PRIV_NAME, s->dirfd, s->base) != 0)
		return errbuf_set(err, errlen, "rename socket to %s: %s",
		                  s->base, strerror(errno));
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->published = 1;
	(void)unlinkat(s->dirfd, s->priv, AT_REMOVEDIR);
	return 0;
}

int
sockfile_remove(struct sockfile *s, char *err, size_t errlen)
{
	struct stat st;
	int rc = 0;

	if (s->dirfd < 0)
		return 0;
	if (!s->published) { /* failed on the way: the private directory */
		(void)unlinkat(s->privfd, PRIV_NAME, 0);
		(void)unlinkat(s->dirfd, s->priv, AT_REMOVEDIR);
	} else if (fstatat(s->dirfd, s->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	           st.st_dev == s->dev && st.st_ino == s->ino &&
	           unlinkat(s->dirfd, s->base, 0) != 0) {
		rc = errbuf_set(err, errlen, "cannot remove %s: %s", s->base,
		                strerror(errno));
	}
	if (s->privfd >= 0)
		close(s->privfd);
	close(s->dirfd);
	s->dirfd = s->privfd = -1;
	return rc;
}
