/* atomic_file.h - replace a file so that a crash leaves either the old contents or the new, never a mix. */
#ifndef VSW_LIB_ATOMIC_FILE_H
#define VSW_LIB_ATOMIC_FILE_H

#include <stdio.h>

/* Writes the new contents to @f; 0 or -errno. */
typedef int (*atomic_file_fill_fn)(void *arg, FILE *f);

/*
 * Replace @path (mode 0600) with what @fill writes:
 *
 *   PATH.tmp  created, filled, fflush, fsync     (the data is on disk)
 *   rename(PATH.tmp, PATH)                       (atomic: old or new name)
 *   fsync(the directory)                         (the rename is on disk)
 *
 * A crash before the rename leaves the old file and a stale PATH.tmp
 * (truncated by the next write); after it, the new file.  On error the
 * tmp file is removed and @path is untouched.  0 or -errno.
 */
int atomic_file_write(const char *path, atomic_file_fill_fn fill, void *arg);

#endif
