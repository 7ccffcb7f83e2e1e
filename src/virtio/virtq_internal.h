/* virtq_internal.h - the split/packed twins behind virtq.h and virtq_driver.h, and the chain walk they share. */
#ifndef VSW_VIRTQ_INTERNAL_H
#define VSW_VIRTQ_INTERNAL_H

/*
 * Memory shared with the other side of a ring is only touched through the
 * sh_* accessors of vsw/virtq_inline.h (untorn loads and stores, ordering
 * spelled out at each use), which virtq.h includes with the inline fast
 * paths of vq_pop() and vq_push().
 */

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vsw/virtq.h"
#include "vsw/virtq_driver.h"

/* The shared-memory accessors (sh_*), struct vq_raw_desc and vq_packed_advance() are in vsw/virtq_inline.h. */

/* Device side: latch the queue broken with @why; returns @err for the caller to pass up. */
int vq_fail(struct vq *q, int err, const char *why) __attribute__((cold));

/* Device side: the chain being popped, filled one descriptor at a time by vq_chain_add(). */
struct vq_chain {
	struct vq_elem *elem;
	struct iovec *iov;
	unsigned iov_max;
	unsigned niov;
	uint32_t total;	/* bytes so far; kept below 2^32 */
};

/*
 * Every descriptor of a chain, direct or from an indirect table, lands
 * here after its fields were copied out of shared memory.  Always inline,
 * and every field 32 bits or a pointer: when total was 64 bits, gcc zeroed
 * niov and total with an 8-byte and a 4-byte store that the load of total
 * straddled, a failed store forward (about 15 % of vswd at 64 B) on every
 * descriptor.
 */
static inline __attribute__((always_inline)) int vq_chain_add(struct vq *q, struct vq_chain *c, uint64_t addr, uint32_t len, bool writable)
{
	struct vq_elem *e = c->elem;
	unsigned before = c->niov;
	int rc;

	/* QEMU refuses zero-sized buffers too (virtqueue_map_desc). */
	if (len == 0)
		return vq_fail(q, -EINVAL, "zero-length descriptor");
	/*
	 * 2.7.4.2 / 2.8.17.1: "The driver MUST place any device-writable
	 * descriptor elements after any device-readable descriptor elements."
	 */
	if (!writable && e->in_num)
		return vq_fail(q, -EINVAL, "device-readable descriptor after a device-writable one");
	/*
	 * 2.7.5.2: "Drivers MUST NOT add a descriptor chain longer than 2^32
	 * bytes in total"; used lengths are 32 bits, so the sum must fit them.
	 */
	if (len > UINT32_MAX - c->total)
		return vq_fail(q, -EINVAL, "descriptor chain longer than 4 GiB");
	c->total += len;

	rc = gmem_to_iov_fast(q->mem, &q->mem_hint, addr, len, c->iov, c->iov_max, &c->niov);
	if (rc == -EFAULT)
		return vq_fail(q, rc, "descriptor buffer outside guest memory");
	if (rc < 0)
		return vq_fail(q, rc, "descriptor chain needs more iovecs than the device allows");

	if (writable) {
		e->in_num += c->niov - before;
		e->in_len += len;
	} else {
		e->out_num += c->niov - before;
		e->out_len += len;
	}
	return 0;
}

/*
 * The bounds check and the element of vq_take_lone_in() for a lone
 * descriptor whose flags were checked already (no NEXT, no INDIRECT, WRITE
 * as @w says): with @w a constant, as in vq_pop_burst()'s loops for one
 * direction, the element's halves are constants but for the id and length.
 */
static inline __attribute__((always_inline)) bool vq_take_lone_dir(uint64_t gpa, uint64_t size, uint8_t *hva,
								    uint64_t addr, uint32_t len, unsigned w,
								    uint16_t id, struct vq_elem *elem, struct iovec *iov)
{
	uint64_t off = addr - gpa;

	/*
	 * Unsigned wrap: off refuses a buffer below the region; len - 1 in 64
	 * bits refuses length 0 (2^64 - 1) and a buffer past the region's end.
	 */
	if (off >= size || (uint64_t)len - 1 >= size - off)
		return false;
	iov->iov_base = hva + off;
	iov->iov_len = len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	{
		/* The element in two 8-byte stores, no branch on w: {id, ndesc, out_num, in_num}, {out_len, in_len}. */
		uint64_t a = id | 1u << 16 | 1ull << (32 + 16 * w), b = (uint64_t)len << (32 * w);

		_Static_assert(offsetof(struct vq_elem, in_num) == 6 && offsetof(struct vq_elem, in_len) == 12 &&
				       sizeof(struct vq_elem) == 16,
			       "struct vq_elem as two 8-byte halves");
		memcpy(elem, &a, 8);
		memcpy((uint8_t *)elem + 8, &b, 8);
	}
#else
	*elem = (struct vq_elem){
		.id = id, .ndesc = 1,
		.out_num = !w, .in_num = w,
		.out_len = w ? 0 : len, .in_len = w ? len : 0,
	};
#endif
	return true;
}

/*
 * vq_take_lone() (vsw/virtq_inline.h) against a private copy of the region
 * (@gpa, @size, @hva): the same checks, for vq_pop_burst()'s loops, which
 * keep the region in registers.
 */
static inline __attribute__((always_inline)) bool vq_take_lone_in(uint64_t gpa, uint64_t size, uint8_t *hva,
								   uint64_t addr, uint32_t len, uint16_t flags,
								   uint16_t id, struct vq_elem *elem, struct iovec *iov)
{
	if (flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT))
		return false;
	return vq_take_lone_dir(gpa, size, hva, addr, len, (flags & VIRTQ_DESC_F_WRITE) ? 1 : 0, id, elem, iov);
}

/* Device side: validate an indirect descriptor; returns its entry count or a -errno (queue broken). */
int vq_indirect_entries(struct vq *q, uint32_t table_len);

int vq_init_split(struct vq *q, const struct vq_config *cfg);
int vq_pop_split(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max);
unsigned vq_pop_burst_split(struct vq *q, enum vq_dir dir, const struct gmem_region *r, struct vq_elem *elem,
			    struct iovec *iov, unsigned max);
const uint16_t *vq_pop_run_split(const struct vq *q, enum vq_dir dir, const struct gmem_region *r, const uint16_t *heads,
				 unsigned n, struct vq_elem *elem, struct iovec *iov);
void vq_prefetch_split(struct vq *q, unsigned n);
void vq_publish_split(struct vq *q);
bool vq_need_notify_split(struct vq *q);
void vq_kick_disable_split(struct vq *q);
bool vq_kick_enable_split(struct vq *q);

int vq_init_packed(struct vq *q, const struct vq_config *cfg);
int vq_pop_packed(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max);
unsigned vq_pop_burst_packed(struct vq *q, enum vq_dir dir, const struct gmem_region *r, struct vq_elem *elem,
			     struct iovec *iov, unsigned max);
const struct pvirtq_desc *vq_pop_run_packed(const struct pvirtq_desc *d, unsigned n, uint16_t want, enum vq_dir dir,
					    const struct gmem_region *r, struct vq_elem *elem, struct iovec *iov);
void vq_prefetch_packed(struct vq *q, unsigned n);
void vq_publish_packed(struct vq *q);
bool vq_need_notify_packed(struct vq *q);
void vq_kick_disable_packed(struct vq *q);
bool vq_kick_enable_packed(struct vq *q);
bool vq_has_avail_packed(struct vq *q);

/* Driver side twins. */
int vq_drv_fail(struct vq_drv *d, const char *why);
void vq_drv_init_split(struct vq_drv *d);
int vq_drv_add_split(struct vq_drv *d, const struct vq_seg *segs, unsigned out_num, unsigned in_num, void *token);
int vq_drv_add_burst_split(struct vq_drv *d, const struct vq_seg *segs, void *const *tokens, unsigned n,
			   uint16_t flags);
bool vq_drv_kick_prepare_split(struct vq_drv *d);
int vq_drv_get_used_burst_split(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned max);
int vq_drv_get_used_split(struct vq_drv *d, void **token, uint32_t *len);
void vq_drv_call_disable_split(struct vq_drv *d);
bool vq_drv_call_enable_split(struct vq_drv *d);

void vq_drv_init_packed(struct vq_drv *d);
int vq_drv_add_packed(struct vq_drv *d, const struct vq_seg *segs, unsigned out_num, unsigned in_num, void *token);
int vq_drv_add_burst_packed(struct vq_drv *d, const struct vq_seg *segs, void *const *tokens, unsigned n,
			    uint16_t flags);
int vq_drv_get_used_burst_packed(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned max);
bool vq_drv_kick_prepare_packed(struct vq_drv *d);
int vq_drv_get_used_packed(struct vq_drv *d, void **token, uint32_t *len);
void vq_drv_call_disable_packed(struct vq_drv *d);
bool vq_drv_call_enable_packed(struct vq_drv *d);

/* Driver side, shared by both layouts: the in-order FIFO and slot bookkeeping. */
/* Append @id to the in-order FIFO (inline: once per buffer added with IN_ORDER). */
static inline void vq_drv_order_push(struct vq_drv *d, uint16_t id)
{
	unsigned at = d->order_head + d->order_count;

	/* No division per buffer: both terms are below num. */
	d->order[at >= d->num ? at - d->num : at] = id;
	d->order_count++;
}
/* Start an in-order batch ending at @id: checks @id is in flight no deeper than @max_bufs. */
int vq_drv_batch_start(struct vq_drv *d, uint16_t id, uint32_t len, unsigned max_bufs);
/*
 * The burst reaps' in-order batches: how many buffers in flight are older
 * than @id, in the FIFO from position @oldest on (@left entries), when @id
 * is there, fewer than @room buffers deep, and every buffer before it one
 * descriptor; else 0 (the per-buffer path judges the batch).
 */
unsigned vq_drv_order_depth(const struct vq_drv *d, uint16_t oldest, unsigned left, uint16_t id, unsigned room);
/* Next buffer of the current in-order batch: its id and length. */
uint16_t vq_drv_batch_next(struct vq_drv *d, uint32_t *len);
/* Take @id's token and check @len against what it could hold; 0 or -EIO. */
int vq_drv_complete(struct vq_drv *d, uint16_t id, uint32_t len, void **token);

#endif
