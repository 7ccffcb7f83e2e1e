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
 * vq_pop_lone_split() (vsw/virtq_inline.h) for a run of chains: behind the
 * avail->idx already read, each ring entry and descriptor read once, as
 * there; the position stored once at the end.
 */
unsigned vq_pop_burst_split(struct vq *q, const struct gmem_region *r, struct vq_elem *elem, struct iovec *iov, unsigned max)
{
	const uint16_t *ring = q->ring.split.avail->ring;
	const struct virtq_desc *desc = q->ring.split.desc;
	const uint64_t gpa = r->gpa, size = r->size;
	uint8_t *const hva = r->hva;
	const uint16_t last = q->last_avail, mask = (uint16_t)(q->num - 1);
	uint16_t pos = last, end;

	if (max > (uint16_t)(q->avail_idx_cache - last))
		max = (uint16_t)(q->avail_idx_cache - last);
	end = (uint16_t)(last + max);
	for (; pos != end; pos++, elem++, iov++) {
		uint16_t head = vq_sh_load16(&ring[pos & mask]);
		const uint64_t *d;
		uint64_t addr, rest;

		/* Out of range (above num - 1): left to vq_pop(), which refuses it. */
		if (head > mask)
			break;
		/* As vq_pop_lone_split(): untorn 64-bit loads of the 16-byte aligned table (2.7.1). */
		d = (const uint64_t *)&desc[head];
		addr = vq_sh_load64(&d[0]);
		rest = vq_sh_load64(&d[1]);
		if (!vq_take_lone_in(gpa, size, hva, addr, (uint32_t)rest, (uint16_t)(rest >> 32), head, elem, iov))
			break;
	}
	q->last_avail = pos;
	return (uint16_t)(pos - last);
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
	for (unsigned i = 0; i < n; i++) {
		/* Masked into the table; a head out of range is refused by the pop. */
		uint16_t head = vq_sh_load16(&q->ring.split.avail->ring[(uint16_t)(q->last_avail + i) & (q->num - 1)]);

		prefetch_r(&q->ring.split.desc[head & (q->num - 1)]);
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

bool vq_has_avail_split(struct vq *q)
{
	if (q->last_avail != q->avail_idx_cache)
		return true;
	return vq_sh_load16_acquire(&q->ring.split.avail->idx) != q->last_avail;
}
