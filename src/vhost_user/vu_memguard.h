/* vu_memguard.h - survive a front end that shrinks guest memory under our mappings. */
#ifndef VSW_VHOST_USER_VU_MEMGUARD_H
#define VSW_VHOST_USER_VU_MEMGUARD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Guest memory is a MAP_SHARED mapping of the front end's file.  A front
 * end that truncates that file after SET_MEM_TABLE makes our next access
 * fault with SIGBUS, in whichever thread touches it.  Each mapping is
 * watched here; the SIGBUS handler maps private zero pages over the whole
 * region (so the access completes, harmlessly), marks the region faulted,
 * and the control thread ends that session.  A SIGBUS outside every watched
 * region is a real crash and keeps its default action.
 */

/* Watch [base, base + len); returns a slot, or -1 when none is free (then unguarded). */
int vu_memguard_watch(void *base, size_t len);
/* Stop watching (before munmap). */
void vu_memguard_unwatch(int slot);
/* Did an access to the slot's region fault? */
bool vu_memguard_faulted(int slot);

#endif
