/* raw_ring.h - hand-laid split and packed rings in test guest memory, bypassing the driver library. */
#ifndef VSW_TESTS_RAW_RING_H
#define VSW_TESTS_RAW_RING_H

/*
 * The hostile virtqueue tests need rings the driver library would refuse to
 * write: loops, bad indices, nested indirect tables, lengths near 4 GiB.
 * This helper owns a small guest memory map and writes ring fields raw.
 *
 *   guest physical                         this process
 *   0x0010_0000 +---------------+          +-------------+ r0
 *               | R0  1 MiB     | -------> | rings,      |
 *               | rings, tables,|          | tables,     |
 *               | buffers       |          | buffers     |
 *   0x0020_0000 +---------------+          +-------------+
 *               | R1  64 KiB    | ---+     | guard page  |  PROT_NONE
 *   0x0021_0000 +---------------+    +---> +-------------+ r1
 *                   (hole)                 | R1          |
 *   0x1_0000_0000 +-------------+          +-------------+
 *               | HUGE 8 GiB    | ---+     | guard page  |  PROT_NONE
 *   0x3_0000_0000 +-------------+    |
 *                                    +---> MAP_NORESERVE anonymous: costs
 *                                          nothing until touched, and pop
 *                                          only touches indirect tables
 *
 * R0 and R1 are adjacent in guest physical space but not here, so a buffer
 * across 0x0020_0000 needs two iovecs, and one that assumed contiguity
 * would point into the guard page.
 *
 * Inside R0 (offsets from RR_R0_GPA):
 *   0x00000 descriptor table / ring (up to 256 entries)
 *   0x01000 split available ring / packed driver event suppression
 *   0x02000 split used ring / packed device event suppression
 *   0x04000 indirect tables, 4 KiB apart (RR_TABLE_GPA(i), i < 16)
 *   0x20000 data buffers, 4 KiB apart (RR_BUF_GPA(i), i < 224)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vsw/guest_mem.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"

#define RR_R0_GPA 0x100000ull
#define RR_R0_SIZE 0x100000ull
#define RR_R1_GPA (RR_R0_GPA + RR_R0_SIZE)
#define RR_R1_SIZE 0x10000ull
#define RR_HOLE_GPA (RR_R1_GPA + RR_R1_SIZE)	/* first unmapped byte after R1 */
#define RR_HUGE_GPA 0x100000000ull
#define RR_HUGE_SIZE (8ull << 30)

#define RR_DESC_GPA (RR_R0_GPA + 0x0000)
#define RR_DRIVER_GPA (RR_R0_GPA + 0x1000)
#define RR_DEVICE_GPA (RR_R0_GPA + 0x2000)
#define RR_TABLE_GPA(i) (RR_R0_GPA + 0x4000 + 0x1000ull * (i))
#define RR_BUF_GPA(i) (RR_R0_GPA + 0x20000 + 0x1000ull * (i))
#define RR_MAX_NUM 256u

struct rr_mem {
	struct gmem gmem;
	uint8_t *map;		/* R0 | guard | R1 | guard */
	size_t map_len;
	uint8_t *r0, *r1;
	uint8_t *huge;		/* NULL when the 8 GiB reservation failed */
};

/*
 * Map R0 and R1 (and the HUGE reservation when @huge) and register them.
 * Returns 0 or -errno.
 */
int rr_mem_init(struct rr_mem *m, bool huge);

/* Unmap everything rr_mem_init() mapped. */
void rr_mem_fini(struct rr_mem *m);

/* Zero R0 and R1. */
void rr_mem_clear(struct rr_mem *m);

/* Host address of @gpa in R0 or R1 (aborts elsewhere: test bug). */
void *rr_hva(const struct rr_mem *m, uint64_t gpa);

/* Host address of @gpa in any region, without touching it; NULL outside. */
void *rr_hva_any(const struct rr_mem *m, uint64_t gpa);

/* Does [@base, @base + @len) lie inside one region's host mapping? */
bool rr_inside(const struct rr_mem *m, const void *base, size_t len);

/*
 * Is a popped element sane: iovec count within @cap, each iovec non-empty
 * and inside one region's mapping, lengths summing to out_len / in_len?
 * Returns NULL or what is wrong.
 */
const char *rr_elem_problem(const struct rr_mem *m, const struct vq_elem *e, const struct iovec *iov, unsigned cap);

/* A ring laid out at RR_DESC_GPA / RR_DRIVER_GPA / RR_DEVICE_GPA. */
struct rr_ring {
	struct rr_mem *mem;
	unsigned num;
	bool packed;
	uint64_t desc_gpa, driver_gpa, device_gpa;
	struct virtq_desc *desc;	/* split */
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct pvirtq_desc *pdesc;	/* packed */
	struct pvirtq_event_suppress *driver_event, *device_event;
	uint16_t avail_idx;		/* split: next avail->idx to publish */
};

/* Zero the ring areas for a queue of @num (<= RR_MAX_NUM) and point @r at them. */
void rr_ring_init(struct rr_ring *r, struct rr_mem *m, unsigned num, bool packed);

/* A device configuration for @r (no event_idx, no in_order). */
struct vq_config rr_ring_config(const struct rr_ring *r, bool indirect);

/* Split: write descriptor @i of the table exactly as given. */
void rr_split_desc(struct rr_ring *r, unsigned i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next);

/* Split: put @head in the next available slot and publish avail->idx + 1. */
void rr_split_avail(struct rr_ring *r, uint16_t head);

/* Split: raw writes of an available ring slot and of avail->idx. */
void rr_split_set_slot(struct rr_ring *r, unsigned slot, uint16_t head);
void rr_split_set_idx(struct rr_ring *r, uint16_t idx);

/*
 * Packed: write descriptor @pos.  @flags must not hold AVAIL/USED; they are
 * added so that the descriptor reads as available in driver round @wrap
 * (AVAIL = wrap, USED = !wrap).  The flags are stored last, with release.
 */
void rr_packed_desc(struct rr_ring *r, unsigned pos, uint64_t addr, uint32_t len,
		    uint16_t id, uint16_t flags, bool wrap);

/* Packed: write descriptor @pos with @flags exactly as given (release on flags). */
void rr_packed_desc_raw(struct rr_ring *r, unsigned pos, uint64_t addr, uint32_t len,
			uint16_t id, uint16_t flags);

/* Copy @len bytes to guest [@gpa, @gpa + @len) in R0/R1, across their boundary if need be. */
void rr_write(struct rr_mem *m, uint64_t gpa, const void *src, size_t len);

/* Write entry @i of a split-layout indirect table at @table_gpa (any alignment). */
void rr_split_table(struct rr_mem *m, uint64_t table_gpa, unsigned i, uint64_t addr,
		    uint32_t len, uint16_t flags, uint16_t next);

/* Write entry @i of a packed-layout indirect table at @table_gpa (id = 0, any alignment). */
void rr_packed_table(struct rr_mem *m, uint64_t table_gpa, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags);

#endif
