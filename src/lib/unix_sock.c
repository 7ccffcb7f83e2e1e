/* unix_sock.c - listening unix sockets at a path that replace only stale sockets and remove only their own. */
#include "lib/unix_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Does a process listen on the socket at @sa?  0: no (stale), 1: yes, -errno: cannot tell. */
static int unix_sock_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		rc = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		rc = 1; /* its backlog is full: alive all the same */
	else if (errno == ECONNREFUSED)
		rc = 0;
	else
		rc = -errno;
	close(fd);
	return rc;
}

/* Make @path free for bind: 0, or -1 with @err when something there must stay. */
static int unix_sock_clear(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int live;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket: not replaced", path);
		return -1;
	}
	live = unix_sock_live(sa);
	if (live != 0) {
		snprintf(err, errlen, "%s: %s", path,
			 live > 0 ? "another process listens on this socket" : strerror(-live));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot remove the stale socket: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int unix_sock_listen(const char *path, int backlog, mode_t mode, struct unix_sock_id *id, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask = 0;
	int fd, rc;

	if (unix_addr(&sa, path) < 0) {
		snprintf(err, errlen, "socket path empty or longer than %zu bytes", sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (unix_sock_clear(path, &sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -1;
	}
	/* The umask is the process's: only the control thread creates files, so no other thread sees this one. */
	if (mode)
		old_mask = umask(~mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (mode)
		umask(old_mask);
	if (rc < 0)
		goto out_close;
	if (lstat(path, &st) < 0)
		goto out_close;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST; /* replaced between bind and lstat: not ours to remove */
		goto out_close;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	if (listen(fd, backlog) < 0) {
		unix_sock_unlink(path, id);
		goto out_close;
	}
	return fd;

out_close:
	snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

void unix_sock_unlink(const char *path, const struct unix_sock_id *id)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(path);
}

int unix_sock_set_group(const char *path, const struct unix_sock_id *id, gid_t gid, mode_t mode, char *err,
			size_t errlen)
{
	char proc[64];
	struct stat st;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		goto out_errno;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != id->dev || st.st_ino != id->ino) {
		snprintf(err, errlen, "%s: no longer the socket vswd bound", path);
		close(fd);
		return -1;
	}
	/* Through the O_PATH fd: the inode checked above, even if the path changed since. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH) < 0 || chmod(proc, mode) < 0) {
		close(fd);
		goto out_errno;
	}
	close(fd);
	return 0;

out_errno:
	snprintf(err, errlen, "%s: cannot set its group and mode: %s", path, strerror(errno));
	return -1;
}
