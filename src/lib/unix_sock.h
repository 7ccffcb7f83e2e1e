/* unix_sock.h - listening unix sockets at a path: never replace a file or a live socket, remove only our own. */
#ifndef VSW_LIB_UNIX_SOCK_H
#define VSW_LIB_UNIX_SOCK_H

#include <stddef.h>
#include <sys/types.h>

/* Which inode a bound socket got: removed at the end only if the path still names it. */
struct unix_sock_id {
	dev_t dev;
	ino_t ino;
};

/*
 * Bind and listen on @path (non-blocking, close-on-exec).  What is there
 * already decides:
 *   nothing              bind
 *   a socket nobody      a stale socket of an earlier run: unlinked, then bind
 *   listens on (connect() is refused)
 *   a live socket        refused: another process (another vswd, QEMU...) uses it
 *   anything else        refused: a regular file, a directory, a symlink is never removed
 * @mode (0600, 0660, ...) when non-zero: the socket is created with it
 * whatever the umask (a temporary umask, no window with a wider mode);
 * 0 keeps the umask's choice.  Fills @id.  The fd, or -1 with a one-line
 * reason in @err.
 */
int unix_sock_listen(const char *path, int backlog, mode_t mode, struct unix_sock_id *id, char *err, size_t errlen);

/* Unlink @path if it is still the socket @id describes (not one another process put there since). */
void unix_sock_unlink(const char *path, const struct unix_sock_id *id);

/*
 * Give the socket at @path, which must still be the one @id describes,
 * group @gid and mode @mode, without following a symlink put in its place.
 * 0 or -1 with a reason in @err.
 */
int unix_sock_set_group(const char *path, const struct unix_sock_id *id, gid_t gid, mode_t mode, char *err,
			size_t errlen);

#endif
