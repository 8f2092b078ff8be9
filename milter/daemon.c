/*
 * daemon - starting a daemon, the parts that are not libmilter's.
 * See daemon.h.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "daemon.h"

/* daemon_lookup_ids - uid and gid of user and group (either may be NULL) */
int
daemon_lookup_ids(const char *user, const char *group, struct daemon_ids *ids,
                  char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	ids->uid = getuid();
	ids->gid = getgid();
	ids->set = user != NULL || group != NULL;
	ids->user = user;
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			errbuf_set(err, errlen, "user '%s' does not exist",
			           user);
			return -1;
		}
		ids->uid = pw->pw_uid;
		ids->gid = pw->pw_gid;
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			errbuf_set(err, errlen, "group '%s' does not exist",
			           group);
			return -1;
		}
		ids->gid = gr->gr_gid;
	}
	return 0;
}

/* daemon_drop - become user and group for good */
int
daemon_drop(const struct daemon_ids *ids, char *err, size_t errlen)
{
	if (!ids->set)
		return 0;
	if (geteuid() != 0) {
		if (getuid() == ids->uid && getgid() == ids->gid)
			return 0;
		errbuf_set(err, errlen,
		           "not root: cannot change user or group");
		return -1;
	}
	if ((ids->user != NULL ? initgroups(ids->user, ids->gid)
	                       : setgroups(1, &ids->gid)) != 0 ||
	    setgid(ids->gid) != 0 || setuid(ids->uid) != 0) {
		errbuf_set(err, errlen, "dropping privileges: %s",
		           strerror(errno));
		return -1;
	}
	if (ids->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		errbuf_set(err, errlen, "dropping privileges: root came back");
		return -1;
	}
	return 0;
}

/*
 * daemon_pidfile - write our pid into a file of our own: created anew
 * (O_EXCL), never through a link (O_NOFOLLOW), so that a link planted in a
 * directory another user can write overwrites nothing.  What was there is
 * removed first: unlink() removes a link, not what it points to.
 */
int
daemon_pidfile(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          0644);
	if (fd < 0 && errno == EEXIST && unlink(path) == 0)
		fd = open(path,
		          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		          0644);
	if (fd < 0)
		return errbuf_set(err, errlen, "pidfile %s: %s", path,
		                  strerror(errno));
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) != 0) {
		errbuf_set(err, errlen, "pidfile %s: %s", path,
		           strerror(errno));
		(void)unlink(path);
		return -1;
	}
	return 0;
}

/* daemon_pidfile_remove - remove the pidfile if it still holds our pid */
void
daemon_pidfile_remove(const char *path)
{
	char buf[32];

	if (daemon_read_small(path, O_NOFOLLOW, buf, sizeof buf) == 0 &&
	    strtol(buf, NULL, 10) == (long)getpid())
		(void)unlink(path);
}

/* daemon_read_small - a small file's text (daemon.h) */
int
daemon_read_small(const char *path, int flags, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (len == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC | flags)) < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* daemon_detach - into the background, without a terminal */
int
daemon_detach(char *err, size_t errlen)
{
	if (daemon(0, 0) != 0) {
		errbuf_set(err, errlen, "daemon: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * daemon_check_file - warn about a file others (or its group) can write,
 * and a secret others can read
 */
void
daemon_check_file(const char *path, int secret, void (*warn)(const char *))
{
	struct stat st;
	char msg[600];

	if (path == NULL || stat(path, &st) != 0)
		return;
	if (st.st_mode & S_IWOTH) {
		snprintf(msg, sizeof msg, "%s is writable by others", path);
		warn(msg);
	} else if (st.st_mode & S_IWGRP) {
		snprintf(msg, sizeof msg, "%s is writable by its group", path);
		warn(msg);
	}
	if (secret && (st.st_mode & S_IROTH)) {
		snprintf(msg, sizeof msg,
		         "%s holds a password and is readable by others", path);
		warn(msg);
	}
}
