/* atomic_file.c - replace a file so that a crash leaves either the old contents or the new, never a mix. */
#include "lib/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* fsync the directory holding @path, so that a rename into it survives a power loss.  0 or -errno. */
static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int atomic_file_write(const char *path, atomic_file_fill_fn fill, void *arg)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto out_unlink;
	}
	rc = fill(arg, f);
	if (!rc && (fflush(f) || fsync(fileno(f))))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -EIO;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (!rc)
		return fsync_dir_of(path);
out_unlink:
	unlink(tmp);
	return rc;
}
