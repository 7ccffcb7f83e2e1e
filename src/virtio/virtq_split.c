/* virtq_split.c - device side of the split virtqueue (virtio 1.3 section 2.7). */
#include <errno.h>
#include <stddef.h>

#include "lib/prefetch.h"
#include "virtio/virtq_internal.h"

/* avail->ring[num] is used_event; used->ring[num] is avail_event (2.7.6, 2.7.8). */
static uint16_t *used_event_of(struct vq *q) { return &q->ring.split.avail->ring[q->num]; }
static uint16_t *avail_event_of(struct vq *q) { return (uint16_t *)&q->ring.split.used->ring[q->num]; }

int vq_init_split(struct vq *q, const struct vq_config *cfg)
{
	unsigned num = cfg->num;

	/* 2.7: "Queue Size value is always a power of 2" for split rings. */
	if (num & (num - 1))
		return -EINVAL;
	/* 2.7.1: alignment 16 for the descriptor table, 2 available, 4 used. */
	if ((cfg->desc_gpa & 15) || (cfg->driver_gpa & 1) || (cfg->device_gpa & 3))
		return -EINVAL;
	q->ring.split.desc = gmem_translate_whole(cfg->mem, cfg->desc_gpa, virtq_split_desc_size(num));
	q->ring.split.avail = gmem_translate_whole(cfg->mem, cfg->driver_gpa, virtq_split_avail_size(num));
	q->ring.split.used = gmem_translate_whole(cfg->mem, cfg->device_gpa, virtq_split_used_size(num));
	if (!q->ring.split.desc || !q->ring.split.avail || !q->ring.split.used)
		return -EFAULT;
	/* The same alignment where we map them, or our untorn loads would not be. */
	if (((uintptr_t)q->ring.split.desc & 15) || ((uintptr_t)q->ring.split.avail & 1) ||
	    ((uintptr_t)q->ring.split.used & 3))
		return -EINVAL;
	return 0;
}

/*
 * Walk one chain starting at @head in the descriptor table, following
 * `next`, possibly ending in one indirect table (2.7.5.3.2: "The device
 * MUST handle the case of zero or more normal chained descriptors followed
 * by a single descriptor with flags&VIRTQ_DESC_F_INDIRECT").
 */
static int walk_chain(struct vq *q, struct vq_chain *c, uint16_t head)
{
	const struct gmem *mem = q->mem;
	const uint8_t *table = (const uint8_t *)q->ring.split.desc;
	uint64_t table_gpa = 0;		/* indirect table not contiguous here: read piecewise */
	unsigned table_n = q->num, hops = 0, i = head;
	bool in_indirect = false;

	for (;;) {
		struct vq_raw_desc d;
		uint16_t flags;

		/* Bounded by the table size: a longer walk must revisit a descriptor. */
		if (++hops > table_n)
			return vq_fail(q, -ELOOP, "descriptor chain loops or is longer than the queue size");
		if (table) {
			d = vq_sh_load_desc(table + (size_t)i * 16);
		} else if (gmem_read(mem, table_gpa + (uint64_t)i * 16, &d, sizeof(d)) < 0) {
			return vq_fail(q, -EFAULT, "indirect table outside guest memory");
		}
		flags = vq_raw_hi16a(d);

		if (flags & VIRTQ_DESC_F_INDIRECT) {
			int n;

			/* 2.7.5.3.1: "MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within an indirect descriptor". */
			if (in_indirect)
				return vq_fail(q, -EINVAL, "nested indirect descriptor");
			/* 2.7.5.3.1: "MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT". */
			if (flags & VIRTQ_DESC_F_NEXT)
				return vq_fail(q, -EINVAL, "descriptor has both INDIRECT and NEXT");
			n = vq_indirect_entries(q, vq_raw_len(d));
			if (n < 0)
				return n;
			/* 2.7.5.3.2: "The device MUST ignore the write-only flag" here. */
			if (!gmem_is_mapped(mem, d.addr, vq_raw_len(d)))
				return vq_fail(q, -EFAULT, "indirect table outside guest memory");
			/* Contiguous here: read in place; straddling regions: piecewise. */
			table = gmem_translate_whole(mem, d.addr, vq_raw_len(d));
			table_gpa = d.addr;
			table_n = (unsigned)n;
			in_indirect = true;
			hops = 0;
			i = 0;
			continue;
		}

		int rc = vq_chain_add(q, c, d.addr, vq_raw_len(d), flags & VIRTQ_DESC_F_WRITE);
		if (rc < 0)
			return rc;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = vq_raw_hi16b(d);
		if (i >= table_n)
			return vq_fail(q, -EINVAL, "descriptor next index out of range");
	}
}

int vq_pop_split(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max)
{
	struct vq_chain c = { .elem = elem, .iov = iov, .iov_max = iov_max };
	uint16_t head;
	int rc;

	if (q->last_avail == q->avail_idx_cache) {
		/*
		 * Acquire: orders this read of avail->idx before our reads of the
		 * ring entries and descriptors it publishes (the driver's write
		 * barrier before its idx update, 2.7.13.3.1).  Read once per batch.
		 */
		uint16_t idx = vq_sh_load16_acquire(&q->ring.split.avail->idx);

		if ((uint16_t)(idx - q->last_avail) > q->num)
			return vq_fail(q, -EINVAL, "available index moved more than the queue size ahead");
		q->avail_idx_cache = idx;
		if (idx == q->last_avail)
			return -EAGAIN;
	}
	head = vq_sh_load16(&q->ring.split.avail->ring[q->last_avail & (q->num - 1)]);
	if (head >= q->num)
		return vq_fail(q, -EINVAL, "available ring entry out of range");
	rc = walk_chain(q, &c, head);
	if (rc < 0)
		return rc;
	elem->id = head;
	elem->ndesc = 1;
	q->last_avail++;
	return 0;
}

/*
 * vq_pop_lone_split() (vsw/virtq_inline.h) for the heads @heads[0, @n),
 * consecutive in the ring (no wrap): each ring entry and descriptor read
 * once, as there.  For one direction @dir (a constant in each copy of the
 * loop) one compare of the flags takes NEXT, INDIRECT and WRITE together.
 * Returns where it stopped: @heads + how many it took.
 */
static inline __attribute__((always_inline)) const uint16_t *
pop_run_split(const struct vq *q, const enum vq_dir dir, const struct gmem_region *r, const uint16_t *heads, unsigned n,
	      struct vq_elem *elem, struct iovec *iov)
{
	const struct virtq_desc *desc = q->ring.split.desc;
	const unsigned mask = q->num - 1u;
	const uint64_t gpa = r->gpa, size = r->size;
	uint8_t *const hva = r->hva;
	const uint16_t *p = heads, *end = heads + n;
	const uint64_t flag_mask = (uint64_t)(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE) << 32;
	const uint64_t flag_match = dir == VQ_DIR_WRITE ? (uint64_t)VIRTQ_DESC_F_WRITE << 32 : 0;

	for (; p != end; p++, elem++, iov++) {
		unsigned head = vq_sh_load16(p);
		const uint64_t *d;
		uint64_t addr, rest;
		bool ok;

		/* Out of range (above num - 1): left to vq_pop(), which refuses it. */
		if (head > mask)
			break;
		/* As vq_pop_lone_split(): untorn 64-bit loads of the 16-byte aligned table (2.7.1). */
		d = (const uint64_t *)&desc[head];
		addr = vq_sh_load64(&d[0]);
		rest = vq_sh_load64(&d[1]);
		if (dir == VQ_DIR_ANY) {
			ok = vq_take_lone_in(gpa, size, hva, addr, (uint32_t)rest, (uint16_t)(rest >> 32), (uint16_t)head,
					     elem, iov);
		} else {
			/* {len, flags, next}: the flags are bits 32-47. */
			ok = (rest & flag_mask) == flag_match &&
			     vq_take_lone_dir(gpa, size, hva, addr, (uint32_t)rest, dir == VQ_DIR_WRITE, (uint16_t)head, elem,
					      iov);
		}
		if (!ok)
			break;
	}
	return p;
}

/*
 * Out of line (and not static: gcc would split @q into more arguments than
 * go in registers), a loop over a pointer and its end, with no position to
 * mask: what it keeps fits the registers (with a position, and inline, gcc
 * spilled the element and iovec pointers on every chain).  One copy of the
 * loop per direction.
 */
const uint16_t *vq_pop_run_split(const struct vq *q, enum vq_dir dir, const struct gmem_region *r, const uint16_t *heads,
				 unsigned n, struct vq_elem *elem, struct iovec *iov)
{
	if (dir == VQ_DIR_READ)
		return pop_run_split(q, VQ_DIR_READ, r, heads, n, elem, iov);
	if (dir == VQ_DIR_WRITE)
		return pop_run_split(q, VQ_DIR_WRITE, r, heads, n, elem, iov);
	return pop_run_split(q, VQ_DIR_ANY, r, heads, n, elem, iov);
}

/*
 * vq_pop_lone_split() for a run of chains behind the avail->idx already
 * read: the ring entries from last_avail on, up to its end, then from its
 * start (vq_pop_run_split()); the position stored once at the end.
 */
unsigned vq_pop_burst_split(struct vq *q, enum vq_dir dir, const struct gmem_region *r, struct vq_elem *elem,
			    struct iovec *iov, unsigned max)
{
	const uint16_t *ring = q->ring.split.avail->ring;
	const unsigned mask = q->num - 1u, start = q->last_avail & mask;
	unsigned run, k;

	if (max > (uint16_t)(q->avail_idx_cache - q->last_avail))
		max = (uint16_t)(q->avail_idx_cache - q->last_avail);
	/* Never more than one lap (the cached index is at most num ahead): the second run stays in the ring. */
	if (max > q->num)
		max = q->num;
	run = max < q->num - start ? max : q->num - start;
	k = (unsigned)(vq_pop_run_split(q, dir, r, ring + start, run, elem, iov) - (ring + start));
	if (k == run && max > run)
		k += (unsigned)(vq_pop_run_split(q, dir, r, ring, max - run, elem + run, iov + run) - ring);
	q->last_avail = (uint16_t)(q->last_avail + k);
	return k;
}

/* Start loading the descriptors of the @n heads at @heads (masked into the table; a head out of range is refused by the pop). */
static inline void prefetch_descs(const struct virtq_desc *desc, unsigned mask, const uint16_t *heads, unsigned n)
{
	for (const uint16_t *end = heads + n; heads != end; heads++)
		prefetch_r(&desc[(size_t)vq_sh_load16(heads) & mask]);
}

void vq_prefetch_split(struct vq *q, unsigned n)
{
	uint16_t ready = (uint16_t)(q->avail_idx_cache - q->last_avail);

	if (ready < n) {
		/*
		 * Same acquire as in vq_pop_split().  An index that is bad, or
		 * behind what was already seen (a driver may only move it
		 * forward), is left alone: vq_pop_split() pops what it saw and
		 * then reports the index.
		 */
		uint16_t idx = vq_sh_load16_acquire(&q->ring.split.avail->idx);
		uint16_t now = (uint16_t)(idx - q->last_avail);

		if (now > q->num || now < ready)
			return;
		q->avail_idx_cache = idx;
		ready = now;
	}
	if (n > ready)
		n = ready;
	if (n > q->num)
		n = q->num; /* one lap at most (ready is): the second run stays in the ring */
	{
		/*
		 * The heads from last_avail on, as up to two runs of the ring
		 * (before and after its end): a load, a mask and a prefetch a
		 * head, no index to wrap.
		 */
		const uint16_t *ring = q->ring.split.avail->ring;
		const unsigned mask = q->num - 1u, start = q->last_avail & mask;
		const unsigned run = n < q->num - start ? n : q->num - start;

		prefetch_descs(q->ring.split.desc, mask, ring + start, run);
		prefetch_descs(q->ring.split.desc, mask, ring, n - run);
	}
}

void vq_publish_split(struct vq *q)
{
	if (!q->staged)
		return;
	/*
	 * Release: orders our writes into the buffers and the used elements
	 * before the used index the driver polls.
	 */
	vq_sh_store16_release(&q->ring.split.used->idx, q->used_idx);
	q->staged = 0;
	if (q->log)
		vq_log_mark(q->log, q->log_used_gpa + offsetof(struct virtq_used, idx), sizeof(uint16_t));
}

bool vq_need_notify_split(struct vq *q)
{
	uint16_t old = q->signalled_used, new_idx = q->used_idx;
	bool valid = q->signalled_valid;

	/*
	 * Full fence: orders our used->idx store before the load of
	 * used_event / avail->flags below; pairs with the driver's fence
	 * between writing used_event and re-reading used->idx, so one of us
	 * sees the other's write and no notification is lost.
	 */
	vq_sh_fence_store_load();
	q->signalled_used = new_idx;
	q->signalled_valid = true;
	if (valid && old == new_idx)
		return false;
	if (!q->event_idx)
		/* 2.7.10.1: if flags is 1 the device SHOULD NOT send a notification. */
		return !(vq_sh_load16(&q->ring.split.avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	/*
	 * 2.7.10.1: "If the idx field in the used ring was equal to used_event,
	 * the device MUST send a notification."
	 */
	return !valid || vring_need_event(vq_sh_load16(used_event_of(q)), new_idx, old);
}

void vq_kick_disable_split(struct vq *q)
{
	/* With EVENT_IDX the driver ignores the flag; a stale avail_event is enough. */
	if (!q->event_idx) {
		vq_sh_store16(&q->ring.split.used->flags, VIRTQ_USED_F_NO_NOTIFY);
		if (q->log)
			vq_log_mark(q->log, q->log_used_gpa + offsetof(struct virtq_used, flags), sizeof(uint16_t));
	}
}

bool vq_kick_enable_split(struct vq *q)
{
	if (q->event_idx)
		vq_sh_store16(avail_event_of(q), q->last_avail);
	else
		vq_sh_store16(&q->ring.split.used->flags, 0);
	if (q->log)
		vq_log_mark(q->log, q->log_used_gpa + (q->event_idx ? virtq_split_used_size(q->num) - 2 : 0),
			    sizeof(uint16_t));
	/*
	 * Full fence: orders the store above before re-reading avail->idx;
	 * pairs with the driver's fence between its avail->idx store and its
	 * read of avail_event / used->flags (2.7.13.4.1).
	 */
	vq_sh_fence_store_load();
	return vq_sh_load16_acquire(&q->ring.split.avail->idx) != q->last_avail;
}
