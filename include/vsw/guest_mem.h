/* guest_mem.h - the map from guest physical addresses to this process's mappings. */
#ifndef VSW_GUEST_MEM_H
#define VSW_GUEST_MEM_H

/*
 * Every access vsw makes to a guest's (or a front end's) memory goes
 * through this map.  A region says "guest physical [gpa, gpa + size) is
 * mapped here at host address hva".  Regions never overlap and are kept
 * sorted by gpa, so translation is a binary search.
 *
 *   guest physical                     this process
 *   0x0000_0000 +------------+         +------------+ hva of region 0
 *               | region 0   | ------> |            |
 *   0x1000_0000 +------------+         +------------+
 *                  (hole)
 *   0x1_0000_0000 +----------+         +------------+ hva of region 1
 *               | region 1   | ------> |            |
 *               +------------+         +------------+
 *
 * A buffer described by the guest may straddle two regions that are
 * adjacent in guest physical space but not in ours; gmem_to_iov() splits
 * it into one iovec per piece.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* vhost-user allows up to 509 slots with CONFIGURE_MEM_SLOTS; keep room. */
#define GMEM_MAX_REGIONS 512

struct gmem_region {
	uint64_t gpa;	  /* guest physical address of the first byte */
	uint64_t size;	  /* bytes, > 0 */
	uint8_t *hva;	  /* where the first byte is mapped here */
};

struct gmem {
	unsigned nregions;
	struct gmem_region regions[GMEM_MAX_REGIONS];
};

/* Empty the map (the mappings themselves belong to the caller). */
void gmem_init(struct gmem *m);

/*
 * Add a region.  Returns 0, -EINVAL for a zero size or a range that wraps
 * the 64-bit address space, -EEXIST when it overlaps a region already
 * present, -ENOSPC when the map is full.
 */
int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *hva);

/* Remove the region that starts at @gpa with @size; 0 or -ENOENT. */
int gmem_remove(struct gmem *m, uint64_t gpa, uint64_t size);

/*
 * Translate @gpa.  Returns the host pointer for it and stores in *@avail
 * how many bytes, at most @len, are contiguous there (the rest of the
 * region).  Returns NULL when @gpa is in no region.
 */
void *gmem_translate(const struct gmem *m, uint64_t gpa, uint64_t len, uint64_t *avail);

/*
 * Translate [@gpa, @gpa + @len) only if it is contiguous here: the host
 * pointer, or NULL when any byte is unmapped or the range straddles regions.
 */
void *gmem_translate_whole(const struct gmem *m, uint64_t gpa, uint64_t len);

/*
 * Describe [@gpa, @gpa + @len) as iovecs appended at @iov[*@niov], at most
 * @iov_max in all.  Returns 0, -EFAULT when a byte is outside the map or
 * the range wraps, -E2BIG when more than @iov_max entries would be needed.
 * On error *@niov is unspecified.
 */
int gmem_to_iov(const struct gmem *m, uint64_t gpa, uint64_t len,
		struct iovec *iov, unsigned iov_max, unsigned *niov);

/*
 * gmem_to_iov() trying region *@hint first, the one the previous lookup
 * found (buffers of one ring mostly sit in one region); *@hint is updated.
 * Any value is a safe hint: a wrong one costs the binary search.
 */
int gmem_to_iov_hinted(const struct gmem *m, unsigned *hint, uint64_t gpa, uint64_t len,
		       struct iovec *iov, unsigned iov_max, unsigned *niov);

/* The same, inline for the common case: the whole range inside the hinted region. */
static inline int gmem_to_iov_fast(const struct gmem *m, unsigned *hint, uint64_t gpa, uint64_t len,
				   struct iovec *iov, unsigned iov_max, unsigned *niov)
{
	unsigned i = *hint;

	/* Unsigned wrap makes each test also refuse gpa below the region and len past its end. */
	if (i < m->nregions && *niov < iov_max && gpa - m->regions[i].gpa < m->regions[i].size &&
	    len <= m->regions[i].size - (gpa - m->regions[i].gpa) && len > 0) {
		iov[*niov].iov_base = m->regions[i].hva + (gpa - m->regions[i].gpa);
		iov[*niov].iov_len = len;
		(*niov)++;
		return 0;
	}
	return gmem_to_iov_hinted(m, hint, gpa, len, iov, iov_max, niov);
}

/* Is every byte of [@gpa, @gpa + @len) in some region (possibly several)? */
bool gmem_is_mapped(const struct gmem *m, uint64_t gpa, uint64_t len);

/*
 * The guest physical address of host address @hva (a pointer gmem_to_iov()
 * gave out): true and *@gpa, or false when it lies in no region.  Regions
 * are separate mappings, so the answer is unique.  Linear in the regions:
 * for the migration path only.
 */
bool gmem_gpa_of(const struct gmem *m, const void *hva, uint64_t *gpa);

/* Copy @len bytes at @gpa into @dst across regions; 0 or -EFAULT. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, uint64_t len);

#endif
