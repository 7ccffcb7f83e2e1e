/* virtq_driver_packed.c - driver side of the packed virtqueue (virtio 1.3 section 2.8). */
#include <errno.h>
#include <string.h>

#include "virtio/virtq_internal.h"

/* 2.8.1: available = AVAIL matches our wrap counter, USED does not. */
static uint16_t avail_flags(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

void vq_drv_init_packed(struct vq_drv *d)
{
	/* 2.8.13: "The descriptor ring is zero-initialized." */
	memset(d->ring.packed.desc, 0, 16ull * d->num);
	memset(d->ring.packed.driver_event, 0, sizeof(*d->ring.packed.driver_event));
	memset(d->ring.packed.device_event, 0, sizeof(*d->ring.packed.device_event));
	/* 2.8.1: both wrap counters start at 1. */
	d->avail_wrap = true;
	d->used_wrap = true;
}

static void write_desc(struct pvirtq_desc *p, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags,
		       bool with_flags)
{
	vq_sh_store64(&p->addr, addr);
	vq_sh_store32(&p->len, len);
	vq_sh_store16(&p->id, id);
	if (with_flags)
		vq_sh_store16(&p->flags, flags);
}

int vq_drv_add_packed(struct vq_drv *d, const struct vq_seg *segs, unsigned out_num, unsigned in_num, void *token)
{
	unsigned n = out_num + in_num;
	bool indirect = d->indirect && n > 1 && n <= d->indirect_max;
	unsigned need = indirect ? 1 : n;
	uint16_t id, pos = d->avail_idx, head_pos = d->avail_idx, head_flags = 0;
	bool wrap = d->avail_wrap;
	uint32_t in_len = 0;

	/*
	 * 2.8.17.1: "A driver MUST make sure there's enough space in the ring
	 * for the whole list before making the first descriptor available".
	 */
	if (d->nfree < need || d->nfree_ids == 0)
		return -ENOSPC;
	for (unsigned k = out_num; k < n; k++)
		in_len += segs[k].len;
	id = d->free_head;
	d->free_head = d->free_next[id];
	d->nfree_ids--;

	if (indirect) {
		struct pvirtq_desc *table = (struct pvirtq_desc *)(d->indirect_hva + (size_t)id * d->indirect_max * 16);

		/* Entries are sequential; only WRITE is a valid flag in them. */
		for (unsigned k = 0; k < n; k++)
			write_desc(&table[k], segs[k].addr, segs[k].len, 0,
				   k >= out_num ? VIRTQ_DESC_F_WRITE : 0, true);
		head_flags = VIRTQ_DESC_F_INDIRECT | avail_flags(wrap);
		write_desc(&d->ring.packed.desc[pos], d->indirect_gpa + (uint64_t)id * d->indirect_max * 16,
			   n * 16, id, head_flags, false);
		vq_packed_advance(d->num, &pos, &wrap, 1);
	} else {
		for (unsigned k = 0; k < n; k++) {
			uint16_t f = (k >= out_num ? VIRTQ_DESC_F_WRITE : 0) |
				     (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0) | avail_flags(wrap);

			/* The id matters in the last descriptor (2.8.6); write it in all. */
			write_desc(&d->ring.packed.desc[pos], segs[k].addr, segs[k].len, id, f, k > 0);
			if (k == 0)
				head_flags = f;
			vq_packed_advance(d->num, &pos, &wrap, 1);
		}
	}

	/*
	 * The head of the first chain since the last kick_prepare is held back
	 * and released there; later heads may be stored now, since the device
	 * cannot reach them before that first one.
	 */
	if (!d->batch_head.pending) {
		d->batch_head.pos = head_pos;
		d->batch_head.flags = head_flags;
		d->batch_head.pending = true;
	} else {
		vq_sh_store16(&d->ring.packed.desc[head_pos].flags, head_flags);
	}
	d->avail_idx = pos;
	d->avail_wrap = wrap;
	d->nfree -= need;
	d->slot[id] = (struct vq_drv_slot){ .token = token, .ndesc = (uint16_t)need, .in_len = in_len };
	d->inflight++;
	d->num_added++;
	d->added_desc += (uint16_t)need;
	if (d->in_order)
		vq_drv_order_push(d, id);
	return 0;
}

int vq_drv_add_burst_packed(struct vq_drv *d, const struct vq_seg *segs, void *const *tokens, unsigned n,
			    uint16_t flags)
{
	/* The state in locals: the stores to shared memory and slots below cannot make the compiler reload it. */
	struct pvirtq_desc *desc = d->ring.packed.desc;
	struct vq_drv_slot *slot = d->slot;
	const uint16_t *free_next = d->free_next;
	uint16_t pos = d->avail_idx, id = d->free_head, num = (uint16_t)d->num;
	bool wrap = d->avail_wrap, writable = flags & VIRTQ_DESC_F_WRITE, in_order = d->in_order;
	bool held = d->batch_head.pending;
	uint16_t f = flags | avail_flags(wrap);	/* this lap's flags; flipped with the wrap counter */
	unsigned k = 0;

	if (n > d->nfree)
		n = d->nfree;
	if (n > d->nfree_ids)
		n = d->nfree_ids;
	for (; k < n; k++) {
		uint32_t len = segs[k].len;

		if (len == 0 || !tokens[k])
			break;
		vq_sh_store64(&desc[pos].addr, segs[k].addr);
		if (!held) {
			/*
			 * The batch's first head: its flags are held back and stored
			 * by vq_drv_kick_prepare_packed() after everything else.
			 */
			vq_sh_store32(&desc[pos].len, len);
			vq_sh_store16(&desc[pos].id, id);
			d->batch_head.pos = pos;
			d->batch_head.flags = f;
			d->batch_head.pending = true;
			held = true;
		} else {
			/* The device cannot reach this one before that head: len, id and flags in one store. */
			vq_sh_store64((uint64_t *)&desc[pos] + 1, (uint64_t)f << 48 | (uint64_t)id << 32 | len);
		}
		/* Field by field: a compound literal would zero the padding too. */
		slot[id].token = tokens[k];
		slot[id].ndesc = 1;
		slot[id].in_len = writable ? len : 0;
		if (in_order)
			vq_drv_order_push(d, id);
		id = free_next[id];	/* past the last free id: not read, as nfree_ids is then 0 */
		if (++pos == num) {
			pos = 0;
			wrap = !wrap;
			f ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
		}
	}
	d->free_head = id;
	d->nfree_ids -= k;
	d->nfree -= k;
	d->avail_idx = pos;
	d->avail_wrap = wrap;
	d->inflight += k;
	d->num_added = (uint16_t)(d->num_added + k);
	d->added_desc = (uint16_t)(d->added_desc + k);
	return (int)k;
}

bool vq_drv_kick_prepare_packed(struct vq_drv *d)
{
	int old = (int)d->avail_idx - (int)d->added_desc, off;
	uint32_t ev;
	uint16_t flags, off_wrap;

	/*
	 * Release: orders every descriptor of the batch (and the buffers they
	 * point to) before the first head's flags (2.8.21.3.1: "The driver MUST
	 * perform a suitable memory barrier before the flags update").
	 */
	vq_sh_store16_release(&d->ring.packed.desc[d->batch_head.pos].flags, d->batch_head.flags);
	d->batch_head.pending = false;
	d->num_added = 0;
	d->added_desc = 0;
	/*
	 * Full fence: orders that flags store before reading the device event
	 * suppression structure (2.8.21.3.2: "The driver MUST perform a
	 * suitable memory barrier before reading the Event Suppression
	 * structure"); pairs with the device's fence in vq_kick_enable().
	 */
	vq_sh_fence_store_load();
	ev = vq_sh_load32((const uint32_t *)d->ring.packed.device_event);
	off_wrap = (uint16_t)ev;
	flags = (uint16_t)(ev >> 16);
	if (flags != RING_EVENT_FLAGS_DESC || !d->event_idx)
		return flags != RING_EVENT_FLAGS_DISABLE;
	/* Positions relative to the current lap; @old may be one lap back. */
	off = off_wrap & 0x7fff;
	if (!!(off_wrap & 0x8000) != d->avail_wrap)
		off -= (int)d->num;
	return vring_need_event((uint16_t)off, d->avail_idx, (uint16_t)old);
}

int vq_drv_get_used_packed(struct vq_drv *d, void **token, uint32_t *len)
{
	uint16_t id = 0;	/* always set below: an active batch implies in_order */
	int rc;

	if (!d->batch.active) {
		struct pvirtq_desc *u = &d->ring.packed.desc[d->last_used];
		/*
		 * Acquire: orders the flags read before the reads of id, len and
		 * the buffer contents the device wrote before marking it used.
		 */
		uint16_t flags = vq_sh_load16_acquire(&u->flags);

		if (!!(flags & VIRTQ_DESC_F_AVAIL) != d->used_wrap || !!(flags & VIRTQ_DESC_F_USED) != d->used_wrap)
			return -EAGAIN;
		if (d->inflight == 0)
			return vq_drv_fail(d, "device marked a descriptor used with nothing in flight");
		id = vq_sh_load16(&u->id);
		/* 2.8.4: the length is reserved when WRITE is clear. */
		*len = flags & VIRTQ_DESC_F_WRITE ? vq_sh_load32(&u->len) : 0;
		if (id >= d->num || !d->slot[id].token)
			return vq_drv_fail(d, "device used a buffer id that is not in flight");
		if (d->in_order) {
			rc = vq_drv_batch_start(d, id, *len, d->inflight);
			if (rc < 0)
				return rc;
		}
	}
	if (d->in_order)
		id = vq_drv_batch_next(d, len);
	rc = vq_drv_complete(d, id, *len, token);
	if (rc < 0)
		return rc;
	/* 2.8.6: skip past every descriptor of the list to the next used one. */
	vq_packed_advance(d->num, &d->last_used, &d->used_wrap, d->slot[id].ndesc);
	d->nfree += d->slot[id].ndesc;
	d->free_next[id] = d->free_head;
	d->free_head = id;
	d->nfree_ids++;
	return 0;
}

int vq_drv_get_used_burst_packed(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned max)
{
	/* The state in locals: the stores to tokens[] and slots cannot make the compiler reload it. */
	struct pvirtq_desc *desc = d->ring.packed.desc;
	struct vq_drv_slot *slot = d->slot;
	uint16_t *free_next = d->free_next;
	const uint16_t *order = d->order;
	uint16_t pos = d->last_used, num = (uint16_t)d->num, free_head = d->free_head, oldest = d->order_head;
	uint16_t used = d->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
	bool wrap = d->used_wrap, in_order = d->in_order;
	unsigned n = 0;

	if (d->batch.active)
		goto general;	/* the rest of an in-order batch (2.8.10: one used descriptor for several) */
	for (; n < max; n++) {
		/*
		 * Acquire: orders the flags read before the reads of id, len and
		 * the buffer contents the device wrote before marking it used.
		 */
		uint16_t flags = vq_sh_load16_acquire(&desc[pos].flags);
		uint16_t id;
		uint32_t len;

		if ((flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) != used) {
			max = n;	/* none more used: the general path has nothing to look at */
			break;
		}
		id = vq_sh_load16(&desc[pos].id);
		/* 2.8.4: the length is reserved when WRITE is clear. */
		len = flags & VIRTQ_DESC_F_WRITE ? vq_sh_load32(&desc[pos].len) : 0;
		/* A token means in flight (so inflight > 0). */
		if (id >= num || !slot[id].token || len > slot[id].in_len || slot[id].ndesc != 1)
			break;	/* the general path below judges it */
		if (in_order && id != order[oldest]) {
			/*
			 * 2.8.10: one used descriptor for a batch ending at @id; every
			 * older buffer in flight was used whole.  Taken here when the
			 * whole batch fits this burst.
			 */
			unsigned depth = vq_drv_order_depth(d, oldest, d->order_count - n, id, max - n);

			if (!depth)
				break;	/* not one-descriptor buffers, too deep, or not in flight: the general path */
			for (; depth; depth--, n++) {
				uint16_t older = order[oldest];

				oldest = (uint16_t)(oldest + 1u == num ? 0 : oldest + 1u);
				tokens[n] = slot[older].token;
				if (lens)
					lens[n] = slot[older].in_len;
				slot[older].token = NULL;
				free_next[older] = free_head;
				free_head = older;
				/* 2.8.6: past every descriptor of the batch. */
				if (++pos == num) {
					pos = 0;
					wrap = !wrap;
					used ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
				}
			}
		}
		if (in_order)
			oldest = (uint16_t)(oldest + 1u == num ? 0 : oldest + 1u);
		tokens[n] = slot[id].token;
		if (lens)
			lens[n] = len;
		slot[id].token = NULL;
		free_next[id] = free_head;
		free_head = id;
		if (++pos == num) {
			pos = 0;
			wrap = !wrap;
			used ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
		}
	}
	d->last_used = pos;
	d->used_wrap = wrap;
	d->free_head = free_head;
	d->inflight -= n;
	d->nfree += n;
	d->nfree_ids += n;
	if (in_order) {
		d->order_head = oldest;
		d->order_count = (uint16_t)(d->order_count - n);
	}
general:
	/* A chain, an in-order batch or a device at fault: through vq_drv_get_used_packed(). */
	for (; n < max; n++) {
		uint32_t len;
		int rc = vq_drv_get_used_packed(d, &tokens[n], &len);

		if (rc == -EAGAIN)
			break;
		if (rc < 0)
			return rc;
		if (lens)
			lens[n] = len;
		if (!d->batch.active)
			return (int)n + 1;	/* the odd one or the batch done: the fast path next burst */
	}
	return (int)n;
}

void vq_drv_call_disable_packed(struct vq_drv *d)
{
	vq_sh_store32((uint32_t *)d->ring.packed.driver_event, (uint32_t)RING_EVENT_FLAGS_DISABLE << 16);
}

bool vq_drv_call_enable_packed(struct vq_drv *d)
{
	struct pvirtq_desc *u = &d->ring.packed.desc[d->last_used];
	uint16_t flags;

	if (d->event_idx)
		vq_sh_store32((uint32_t *)d->ring.packed.driver_event,
			   (uint32_t)RING_EVENT_FLAGS_DESC << 16 | d->last_used | (uint32_t)d->used_wrap << 15);
	else
		vq_sh_store32((uint32_t *)d->ring.packed.driver_event, (uint32_t)RING_EVENT_FLAGS_ENABLE << 16);
	/*
	 * Full fence: orders the store above before re-reading the next used
	 * descriptor; pairs with the device's fence between publishing used
	 * descriptors and reading this structure.
	 */
	vq_sh_fence_store_load();
	flags = vq_sh_load16_acquire(&u->flags);
	return !!(flags & VIRTQ_DESC_F_AVAIL) == d->used_wrap && !!(flags & VIRTQ_DESC_F_USED) == d->used_wrap;
}
