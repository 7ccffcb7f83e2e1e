/* vu_memguard.h - survive a front end that shrinks guest memory under our mappings. */
#ifndef VSW_VHOST_USER_VU_MEMGUARD_H
#define VSW_VHOST_USER_VU_MEMGUARD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Guest memory is a MAP_SHARED mapping of the front end's file.  A front
 * end that truncates that file after SET_MEM_TABLE makes our next access
 * fault with SIGBUS, in whichever thread touches it.  Each mapping is
 * watched here; the SIGBUS handler maps a stand-in over the whole mapping
 * (so the access completes, harmlessly), marks the region faulted, and the
 * control thread ends that session.  A SIGBUS outside every watched region
 * is a real crash: it goes to whatever handled SIGBUS before us (by
 * default, a core dump).
 *
 * The handler must not fail, so everything it needs is made at watch time:
 *
 *   watched mapping  [base ............................ base + len)
 *                      one VMA: len covers the whole mapping, rounded to
 *                      the file's block size (the huge page for hugetlb)
 *   stand-in memfd   [slot * SPAN .... slot * SPAN + len)   sparse, 4 KiB pages
 *
 * On a fault the handler maps the slot's range of one sparse memfd, made
 * once, MAP_SHARED | MAP_FIXED over exactly the watched VMA: no VMA split
 * (a hugetlb mapping cannot be split inside a huge page), nothing charged
 * to overcommit (a private replacement of a sparse 1 TiB region would be),
 * no file to open.  Each slot has its own range, emptied when the slot is
 * given back, so no session ever reads what another one's workers wrote.
 */

/*
 * Make the stand-in (one memfd, kept open for the life of the process) and
 * claim SIGBUS; 0 or -errno.  Idempotent, and done by the first watch: a
 * program that counts its fds calls it first to have that fd from the start.
 */
int vu_memguard_init(void);

/*
 * Watch the whole mapping [base, base + len) (what munmap() will get).
 * Returns a slot, or -ENOSPC when every slot is taken, -EFBIG when len is
 * larger than a slot's stand-in, -errno when the stand-in cannot be made.
 * A region that cannot be watched must be refused, never used unguarded.
 * Also (re)claims SIGBUS if another handler replaced ours.
 */
int vu_memguard_watch(void *base, size_t len);
/* Stop watching (before munmap); a faulted slot's stand-in pages are freed. */
void vu_memguard_unwatch(int slot);
/* Did an access to the slot's region fault? */
bool vu_memguard_faulted(int slot);

#endif
