/* proc_counts.h - what a test or fuzz target leaked: open fds and memfd mappings of this process, from /proc. */
#ifndef VSW_TESTS_PROC_COUNTS_H
#define VSW_TESTS_PROC_COUNTS_H

/* Open file descriptors of this process (not counting the one used to list them); -1 if /proc fails. */
int proc_count_fds(void);

/* Mappings in this process of memfds created with @name (memfd_create); -1 if /proc fails. */
int proc_count_memfd_maps(const char *name);

#endif
