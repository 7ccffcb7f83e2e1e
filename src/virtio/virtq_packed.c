/* virtq_packed.c - device side of the packed virtqueue (virtio 1.3 section 2.8). */
#include <errno.h>

#include "lib/prefetch.h"
#include "virtio/virtq_internal.h"

int vq_init_packed(struct vq *q, const struct vq_config *cfg)
{
	/* 2.8.10.1: alignment 16 for the descriptor ring, 4 for the event structures. */
	if ((cfg->desc_gpa & 15) || (cfg->driver_gpa & 3) || (cfg->device_gpa & 3))
		return -EINVAL;
	q->ring.packed.desc = gmem_translate_whole(cfg->mem, cfg->desc_gpa, 16ull * cfg->num);
	q->ring.packed.driver_event = gmem_translate_whole(cfg->mem, cfg->driver_gpa, 4);
	q->ring.packed.device_event = gmem_translate_whole(cfg->mem, cfg->device_gpa, 4);
	if (!q->ring.packed.desc || !q->ring.packed.driver_event || !q->ring.packed.device_event)
		return -EFAULT;
	/* The same alignment where we map them, or our untorn loads would not be. */
	if (((uintptr_t)q->ring.packed.desc & 15) || ((uintptr_t)q->ring.packed.driver_event & 3) ||
	    ((uintptr_t)q->ring.packed.device_event & 3))
		return -EINVAL;
	/* 2.8.1: both wrap counters start at 1. */
	q->avail_wrap = true;
	q->used_wrap = true;
	q->signalled_wrap = true;
	return 0;
}

/* Walk an indirect table: entries are sequential; only WRITE is meaningful (2.8.x, Indirect Flag). */
static int walk_indirect(struct vq *q, struct vq_chain *c, uint64_t table_gpa, uint32_t table_len)
{
	int n = vq_indirect_entries(q, table_len);
	const uint8_t *table;

	if (n < 0)
		return n;
	if (!gmem_is_mapped(q->mem, table_gpa, table_len))
		return vq_fail(q, -EFAULT, "indirect table outside guest memory");
	table = gmem_translate_whole(q->mem, table_gpa, table_len);
	for (int i = 0; i < n; i++) {
		struct vq_raw_desc d;
		uint16_t flags;
		int rc;

		if (table)
			d = vq_sh_load_desc(table + (size_t)i * 16);
		else if (gmem_read(q->mem, table_gpa + (uint64_t)i * 16, &d, sizeof(d)) < 0)
			return vq_fail(q, -EFAULT, "indirect table outside guest memory");
		flags = vq_raw_hi16b(d);
		/* "The driver MUST NOT set any flags except DESC_F_WRITE within an indirect descriptor." */
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return vq_fail(q, -EINVAL, "nested indirect descriptor");
		if ((flags & VIRTQ_DESC_F_WRITE) && q->device_reads) {
			/*
			 * A transmit buffer the driver marked device-writable: DPDK's
			 * virtio PMD leaves its header entry so in every indirect table
			 * (vq.writable_read).  The device only reads these buffers, so
			 * reading it writes nothing the driver did not give; DPDK's
			 * vhost reads it too.  Broken instead, a DPDK application's
			 * first frame through such a table ended its port.
			 */
			flags &= (uint16_t)~VIRTQ_DESC_F_WRITE;
			if (!q->writable_read)
				__atomic_store_n(&q->writable_read, true, __ATOMIC_RELAXED);
		}
		rc = vq_chain_add(q, c, d.addr, vq_raw_len(d), flags & VIRTQ_DESC_F_WRITE);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int vq_pop_packed(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max)
{
	struct vq_chain c = { .elem = elem, .iov = iov, .iov_max = iov_max };
	struct pvirtq_desc *ring = q->ring.packed.desc;
	uint16_t pos = q->last_avail, flags, id;
	bool wrap = q->avail_wrap;
	unsigned ndesc = 0;
	struct vq_raw_desc d;
	int rc;

	/*
	 * Acquire: orders the read of the head's flags before the reads of
	 * its other fields and of the rest of the chain, which the driver
	 * wrote before making the head available (2.8.21.3.1).
	 */
	flags = vq_sh_load16_acquire(&ring[pos].flags);
	if (!vq_desc_is_avail(flags, wrap))
		return -EAGAIN;
	for (;;) {
		d = vq_sh_load_desc(&ring[pos]);
		ndesc++;
		if (ndesc > 1) {
			/* Later descriptors: take their flags from the same single read. */
			flags = vq_raw_hi16b(d);
			/* 2.8.6: "all flags ... must be set/cleared correctly in all descriptors in the list". */
			if (!vq_desc_is_avail(flags, wrap))
				return vq_fail(q, -EINVAL, "descriptor chain runs into a descriptor that is not available");
		}
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/*
			 * 2.8.x: "A driver MUST NOT write direct descriptors with
			 * VIRTQ_DESC_F_INDIRECT set in a scatter-gather list linked by
			 * VIRTQ_DESC_F_NEXT."
			 */
			if (flags & VIRTQ_DESC_F_NEXT)
				return vq_fail(q, -EINVAL, "descriptor has both INDIRECT and NEXT");
			if (ndesc > 1)
				return vq_fail(q, -EINVAL, "indirect descriptor inside a descriptor chain");
			rc = walk_indirect(q, &c, d.addr, vq_raw_len(d));
		} else {
			rc = vq_chain_add(q, &c, d.addr, vq_raw_len(d), flags & VIRTQ_DESC_F_WRITE);
		}
		if (rc < 0)
			return rc;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		/* 2.8.18.1: "A driver MUST NOT create a descriptor list longer than the Queue Size." */
		if (ndesc >= q->num)
			return vq_fail(q, -ELOOP, "descriptor chain longer than the queue size");
		vq_packed_advance(q->num, &pos, &wrap, 1);
	}
	/* 2.8.6: "Buffer ID is included in the last descriptor in the list." */
	id = vq_raw_hi16a(d);
	vq_packed_advance(q->num, &pos, &wrap, 1);
	q->last_avail = pos;
	q->avail_wrap = wrap;
	elem->id = id;
	elem->ndesc = (uint16_t)ndesc;
	q->popped_since_hint++;
	return 0;
}

/*
 * vq_pop_lone_packed() (vsw/virtq_inline.h) for the descriptors @d[0, @n),
 * consecutive in the ring (no wrap), available when their AVAIL and USED
 * bits are @want (2.8.1): each one's flags read with acquire first
 * (ordering the reads of its other fields, 2.8.21.3.1), then the rest
 * once, as there.  For one direction @dir (a constant in each copy of the
 * loop) one compare of the flags takes AVAIL, USED, NEXT, INDIRECT and
 * WRITE together.  Returns where it stopped: @d + how many it took.
 */
static inline __attribute__((always_inline)) const struct pvirtq_desc *
pop_run_packed(const struct pvirtq_desc *d, unsigned n, uint16_t want, const enum vq_dir dir, const struct gmem_region *r,
	       struct vq_elem *elem, struct iovec *iov)
{
	const uint64_t gpa = r->gpa, size = r->size;
	uint8_t *const hva = r->hva;
	const struct pvirtq_desc *end = d + n;
	const uint16_t ring_bits = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	const uint16_t mask = dir == VQ_DIR_ANY ? ring_bits
						: ring_bits | VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE;
	const uint16_t match = dir == VQ_DIR_WRITE ? want | VIRTQ_DESC_F_WRITE : want;

	for (; d != end; d++, elem++, iov++) {
		uint16_t flags = vq_sh_load16_acquire(&d->flags);
		uint64_t addr, rest;
		bool ok;

		if ((flags & mask) != match)
			break;
		addr = vq_sh_load64((const uint64_t *)d);
		rest = vq_sh_load64((const uint64_t *)d + 1);
		if (dir == VQ_DIR_ANY)
			ok = vq_take_lone_in(gpa, size, hva, addr, (uint32_t)rest, flags, (uint16_t)(rest >> 32), elem, iov);
		else
			ok = vq_take_lone_dir(gpa, size, hva, addr, (uint32_t)rest, dir == VQ_DIR_WRITE,
					      (uint16_t)(rest >> 32), elem, iov);
		if (!ok)
			break;
	}
	return d;
}

/*
 * Out of line and not static, a pointer and its end, as vq_pop_run_split():
 * what it keeps fits the registers.  One copy of the loop per direction.
 */
const struct pvirtq_desc *vq_pop_run_packed(const struct pvirtq_desc *d, unsigned n, uint16_t want, enum vq_dir dir,
					    const struct gmem_region *r, struct vq_elem *elem, struct iovec *iov)
{
	if (dir == VQ_DIR_READ)
		return pop_run_packed(d, n, want, VQ_DIR_READ, r, elem, iov);
	if (dir == VQ_DIR_WRITE)
		return pop_run_packed(d, n, want, VQ_DIR_WRITE, r, elem, iov);
	return pop_run_packed(d, n, want, VQ_DIR_ANY, r, elem, iov);
}

/*
 * vq_pop_lone_packed() for a run of descriptors: runs up to the ring's end
 * (vq_pop_run_packed()), the wrap counter flipped there; the position
 * stored once at the end.
 */
unsigned vq_pop_burst_packed(struct vq *q, enum vq_dir dir, const struct gmem_region *r, struct vq_elem *elem,
			     struct iovec *iov, unsigned max)
{
	const struct pvirtq_desc *ring = q->ring.packed.desc;
	const unsigned num = q->num;
	unsigned pos = q->last_avail, i = 0;
	/* The AVAIL and USED bits an available descriptor has (2.8.1), for one compare per descriptor. */
	uint16_t want = q->avail_wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;

	while (i < max) {
		unsigned run = max - i < num - pos ? max - i : num - pos;
		unsigned k = (unsigned)(vq_pop_run_packed(&ring[pos], run, want, dir, r, &elem[i], &iov[i]) - &ring[pos]);

		i += k;
		pos += k;
		if (pos == num) {
			pos = 0;
			want ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
		}
		if (k < run)
			break;
	}
	q->last_avail = (uint16_t)pos;
	q->avail_wrap = want == VIRTQ_DESC_F_AVAIL;
	q->popped_since_hint = (uint16_t)(q->popped_since_hint + i);
	return i;
}

void vq_prefetch_packed(struct vq *q, unsigned n)
{
	unsigned pos = q->last_avail, want = q->popped_since_hint + 4u;

	/*
	 * Chains are consecutive in the ring: one prefetch per cache line of
	 * descriptors (4), wrapping.  Which are available cannot be known
	 * without reading them, and a line the driver has yet to write is
	 * better left alone (pulling it here makes its write wait for us), so
	 * ask for about as many as the last burst took.
	 */
	q->popped_since_hint = 0;
	if (n > want)
		n = want;
	if (n > q->num)
		n = q->num;
	for (unsigned i = 0; i < n; i += 4, pos += 4) {
		if (pos >= q->num)
			pos -= q->num;
		prefetch_r(&q->ring.packed.desc[pos]);
	}
}

void vq_publish_packed(struct vq *q)
{
	if (!q->batch_head.pending)
		return;
	/*
	 * Release: orders our writes into the buffers and every used
	 * descriptor of the batch before the first one's flags, which is the
	 * only location the driver polls.
	 */
	vq_sh_store16_release(&q->ring.packed.desc[q->batch_head.pos].flags, q->batch_head.flags);
	q->batch_head.pending = false;
	if (q->log)
		vq_log_mark(q->log, q->desc_gpa + (uint64_t)q->batch_head.pos * sizeof(struct pvirtq_desc),
			    sizeof(struct pvirtq_desc));
}

/* The event suppression structure as one untorn 32-bit read: off_wrap and flags together. */
static struct pvirtq_event_suppress load_event(const struct pvirtq_event_suppress *e)
{
	uint32_t v = vq_sh_load32((const uint32_t *)e);

	return (struct pvirtq_event_suppress){ .off_wrap = (uint16_t)v, .flags = (uint16_t)(v >> 16) };
}

static void store_event(struct pvirtq_event_suppress *e, uint16_t off_wrap, uint16_t flags)
{
	vq_sh_store32((uint32_t *)e, (uint32_t)flags << 16 | off_wrap);
}

bool vq_need_notify_packed(struct vq *q)
{
	struct pvirtq_event_suppress ev;
	int old = q->signalled_used, off;
	uint32_t since = q->used_since_signal;
	bool valid = q->signalled_valid;

	/*
	 * Full fence: orders the used flags we published before the read of
	 * the driver event suppression structure; pairs with the driver's
	 * fence between writing it and re-checking the ring.
	 */
	vq_sh_fence_store_load();
	ev = load_event(q->ring.packed.driver_event);
	if (q->signalled_wrap != q->used_wrap)
		old -= (int)q->num;	/* the last check was one lap back */
	q->signalled_used = q->used_idx;
	q->signalled_wrap = q->used_wrap;
	q->signalled_valid = true;
	q->used_since_signal = 0;

	if (since == 0)
		return false;
	if (ev.flags == RING_EVENT_FLAGS_DISABLE)
		return false;
	if (ev.flags != RING_EVENT_FLAGS_DESC || !q->event_idx)
		return true;
	if (!valid || since >= q->num)
		return true;	/* lapped since the last check: cannot tell, so notify */
	/* The event position, relative to the current lap like @old. */
	off = ev.off_wrap & 0x7fff;
	if (!!(ev.off_wrap & 0x8000) != q->used_wrap)
		off -= (int)q->num;
	return vring_need_event((uint16_t)off, q->used_idx, (uint16_t)old);
}

void vq_kick_disable_packed(struct vq *q)
{
	store_event(q->ring.packed.device_event, 0, RING_EVENT_FLAGS_DISABLE);
	if (q->log)
		vq_log_mark(q->log, q->device_gpa, sizeof(struct pvirtq_event_suppress));
}

bool vq_kick_enable_packed(struct vq *q)
{
	if (q->event_idx)
		store_event(q->ring.packed.device_event,
			    (uint16_t)(q->last_avail | (uint16_t)q->avail_wrap << 15), RING_EVENT_FLAGS_DESC);
	else
		store_event(q->ring.packed.device_event, 0, RING_EVENT_FLAGS_ENABLE);
	if (q->log)
		vq_log_mark(q->log, q->device_gpa, sizeof(struct pvirtq_event_suppress));
	/*
	 * Full fence: orders the store above before re-reading the next
	 * descriptor's flags; pairs with the driver's fence between making a
	 * descriptor available and reading this structure.
	 */
	vq_sh_fence_store_load();
	return vq_has_avail_packed(q);
}

bool vq_has_avail_packed(struct vq *q)
{
	return vq_desc_is_avail(vq_sh_load16_acquire(&q->ring.packed.desc[q->last_avail].flags), q->avail_wrap);
}
