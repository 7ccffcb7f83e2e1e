/* virtq_driver_split.c - driver side of the split virtqueue (virtio 1.3 section 2.7). */
#include <errno.h>
#include <string.h>

#include "virtio/virtq_internal.h"

static uint16_t *used_event_of(struct vq_drv *d) { return &d->ring.split.avail->ring[d->num]; }
static uint16_t *avail_event_of(struct vq_drv *d) { return (uint16_t *)&d->ring.split.used->ring[d->num]; }

void vq_drv_init_split(struct vq_drv *d)
{
	memset(d->ring.split.desc, 0, virtq_split_desc_size(d->num));
	memset(d->ring.split.avail, 0, virtq_split_avail_size(d->num));
	/* 2.7.8.2: "The driver MUST initialize flags in the used ring to 0". */
	memset(d->ring.split.used, 0, virtq_split_used_size(d->num));
}

static void write_desc(struct virtq_desc *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vq_sh_store64(&p->addr, addr);
	vq_sh_store64((uint64_t *)p + 1, (uint64_t)next << 48 | (uint64_t)flags << 32 | len);
}

int vq_drv_add_split(struct vq_drv *d, const struct vq_seg *segs, unsigned out_num, unsigned in_num, void *token)
{
	unsigned n = out_num + in_num;
	bool indirect = d->indirect && n > 1 && n <= d->indirect_max;
	unsigned need = indirect ? 1 : n;
	uint16_t head = d->free_head, i = head, last = head;
	uint32_t in_len = 0;

	if (d->nfree < need)
		return -ENOSPC;
	for (unsigned k = out_num; k < n; k++)
		in_len += segs[k].len;

	if (indirect) {
		struct virtq_desc *table = (struct virtq_desc *)(d->indirect_hva + (size_t)head * d->indirect_max * 16);

		/* 2.7.5.3: indirect entries chained by next; sequential, as IN_ORDER requires. */
		for (unsigned k = 0; k < n; k++)
			write_desc(&table[k], segs[k].addr, segs[k].len,
				   (k >= out_num ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
				   (uint16_t)(k + 1 < n ? k + 1 : 0));
		write_desc(&d->ring.split.desc[head], d->indirect_gpa + (uint64_t)head * d->indirect_max * 16,
			   n * 16, VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		/* With IN_ORDER the free list is sequential, so next = x + 1 as 2.7.5.2 requires. */
		for (unsigned k = 0; k < n; k++) {
			last = i;
			write_desc(&d->ring.split.desc[i], segs[k].addr, segs[k].len,
				   (k >= out_num ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
				   d->free_next[i]);
			i = d->free_next[i];
		}
	}
	d->free_head = d->free_next[last];
	d->nfree -= need;
	d->slot[head] = (struct vq_drv_slot){ .token = token, .ndesc = (uint16_t)need, .in_len = in_len };
	d->inflight++;
	if (d->in_order)
		vq_drv_order_push(d, head);

	vq_sh_store16(&d->ring.split.avail->ring[d->avail_idx & (d->num - 1)], head);
	d->avail_idx++;
	d->num_added++;
	return 0;
}

int vq_drv_add_burst_split(struct vq_drv *d, const struct vq_seg *segs, void *const *tokens, unsigned n,
			   uint16_t flags)
{
	/* The state in locals: the stores to shared memory and slots below cannot make the compiler reload it. */
	struct virtq_desc *desc = d->ring.split.desc;
	uint16_t *ring = d->ring.split.avail->ring;
	struct vq_drv_slot *slot = d->slot;
	const uint16_t *free_next = d->free_next;
	uint16_t mask = (uint16_t)(d->num - 1), head = d->free_head, avail = d->avail_idx;
	bool writable = flags & VIRTQ_DESC_F_WRITE, in_order = d->in_order;
	unsigned k;

	if (n > d->nfree)
		n = d->nfree;
	for (k = 0; k < n; k++) {
		uint32_t len = segs[k].len;

		if (len == 0 || !tokens[k])
			break;
		/* No NEXT flag: the device ignores next (2.7.5), and IN_ORDER asks nothing of it then. */
		write_desc(&desc[head], segs[k].addr, len, flags, 0);
		/* Field by field: a compound literal would zero the padding too. */
		slot[head].token = tokens[k];
		slot[head].ndesc = 1;
		slot[head].in_len = writable ? len : 0;
		if (in_order)
			vq_drv_order_push(d, head);
		vq_sh_store16(&ring[avail & mask], head);
		avail++;
		head = free_next[head];	/* past the last free one: not read, as nfree is then 0 */
	}
	d->free_head = head;
	d->nfree -= k;
	d->inflight += k;
	d->avail_idx = avail;
	d->num_added = (uint16_t)(d->num_added + k);
	return (int)k;
}

bool vq_drv_kick_prepare_split(struct vq_drv *d)
{
	uint16_t new_idx = d->avail_idx, old = (uint16_t)(new_idx - d->num_added);

	/*
	 * Release: orders the descriptors and ring entries written by
	 * vq_drv_add() before the index the device polls (2.7.13.3.1: "The
	 * driver MUST perform a suitable memory barrier before the idx update").
	 */
	vq_sh_store16_release(&d->ring.split.avail->idx, new_idx);
	d->num_added = 0;
	/*
	 * Full fence: orders that idx store before reading avail_event or
	 * used->flags (2.7.13.4.1); pairs with the device's fence in
	 * vq_kick_enable().
	 */
	vq_sh_fence_store_load();
	if (d->event_idx)
		return vring_need_event(vq_sh_load16(avail_event_of(d)), new_idx, old);
	return !(vq_sh_load16(&d->ring.split.used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

/* Return the chain at @head to the tail of the free list. */
static void free_chain(struct vq_drv *d, uint16_t head)
{
	uint16_t last = head;

	for (unsigned k = 1; k < d->slot[head].ndesc; k++)
		last = d->free_next[last];
	if (d->nfree == 0)
		d->free_head = head;
	else
		d->free_next[d->free_tail] = head;
	d->free_tail = last;
	d->nfree += d->slot[head].ndesc;
}

int vq_drv_get_used_split(struct vq_drv *d, void **token, uint32_t *len)
{
	uint16_t id = 0;	/* always set below: an active batch implies in_order */
	int rc;

	if (!d->batch.active) {
		struct virtq_used_elem *u;
		uint64_t e;

		if (d->last_used == d->used_idx_cache) {
			/*
			 * Acquire: orders the used index read before the reads of
			 * the used elements and buffer contents it publishes.
			 */
			uint16_t idx = vq_sh_load16_acquire(&d->ring.split.used->idx);

			if ((uint16_t)(idx - d->last_used) > d->inflight)
				return vq_drv_fail(d, "device moved the used index past the buffers in flight");
			d->used_idx_cache = idx;
			if (idx == d->last_used)
				return -EAGAIN;
		}
		u = &d->ring.split.used->ring[d->last_used & (d->num - 1)];
		e = vq_sh_load64((const uint64_t *)u);
		id = (uint16_t)e;
		*len = (uint32_t)(e >> 32);
		if ((uint32_t)e >= d->num || !d->slot[id].token)
			return vq_drv_fail(d, "device used a buffer id that is not in flight");
		if (d->in_order) {
			/* 2.7.9: one entry may stand for a batch ending at @id. */
			rc = vq_drv_batch_start(d, id, *len, (uint16_t)(d->used_idx_cache - d->last_used));
			if (rc < 0)
				return rc;
		}
	}
	if (d->in_order)
		id = vq_drv_batch_next(d, len);
	rc = vq_drv_complete(d, id, *len, token);
	if (rc < 0)
		return rc;
	free_chain(d, id);
	d->last_used++;
	return 0;
}

/* One used buffer through vq_drv_get_used_split() into @tokens[@n] / @lens[@n]: its return value. */
static int get_used_one(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned n)
{
	uint32_t len;
	int rc = vq_drv_get_used_split(d, &tokens[n], &len);

	if (rc == 0 && lens)
		lens[n] = len;
	return rc;
}

int vq_drv_get_used_burst_split(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned max)
{
	unsigned n = 0, ready;
	uint16_t mask = (uint16_t)(d->num - 1);
	int rc;

	/* The rest of an in-order batch (2.7.9: one used entry for several buffers) first. */
	for (; n < max && d->batch.active; n++)
		if ((rc = get_used_one(d, tokens, lens, n)) < 0)
			return rc;
	if (n == max)
		return (int)n;
	if (d->last_used == d->used_idx_cache) {
		/*
		 * Acquire, once for the burst: orders the used index read before
		 * the reads of every used element and buffer it publishes.
		 */
		uint16_t idx = vq_sh_load16_acquire(&d->ring.split.used->idx);

		if ((uint16_t)(idx - d->last_used) > d->inflight)
			return vq_drv_fail(d, "device moved the used index past the buffers in flight");
		d->used_idx_cache = idx;
	}
	ready = (uint16_t)(d->used_idx_cache - d->last_used);
	if (ready > max - n)
		ready = max - n;
	ready += n;
	{
		/* The state in locals, as in vq_drv_add_burst_split(); written back below. */
		const struct virtq_used_elem *used = d->ring.split.used->ring;
		struct vq_drv_slot *slot = d->slot;
		uint16_t *free_next = d->free_next;
		const uint16_t *order = d->order;
		uint16_t last = d->last_used, tail = d->free_tail, head = d->free_head, oldest = d->order_head;
		unsigned num = d->num, nfree = d->nfree, first = n;
		bool in_order = d->in_order;

		for (; n < ready; n++) {
			/* Each element read once, as one untorn 8-byte load: id and len agree. */
			uint64_t e = vq_sh_load64((const uint64_t *)&used[last & mask]);
			uint32_t id = (uint32_t)e, len = (uint32_t)(e >> 32);
			struct vq_drv_slot *s;

			if (id >= num || !slot[id].token || len > slot[id].in_len || slot[id].ndesc != 1)
				break;	/* the general path below judges it */
			if (in_order && id != order[oldest]) {
				/*
				 * 2.7.9: one entry for a batch ending at @id; every older
				 * buffer in flight was used whole, and the index moved past
				 * them all.  Taken here when the whole batch fits this burst.
				 */
				unsigned depth = vq_drv_order_depth(d, oldest, d->order_count - (n - first), id, ready - n);

				if (!depth)
					break;	/* not one-descriptor buffers, too deep, or not in flight: the general path */
				for (; depth; depth--, n++, last++) {
					uint16_t older = order[oldest];

					oldest = (uint16_t)(oldest + 1u == num ? 0 : oldest + 1u);
					tokens[n] = slot[older].token;
					if (lens)
						lens[n] = slot[older].in_len;
					slot[older].token = NULL;
					if (nfree == 0)
						head = older;
					else
						free_next[tail] = older;
					tail = older;
					nfree++;
				}
			}
			if (in_order)
				oldest = (uint16_t)(oldest + 1u == num ? 0 : oldest + 1u);
			s = &slot[id];
			tokens[n] = s->token;
			if (lens)
				lens[n] = len;
			s->token = NULL;
			/* One descriptor back to the tail of the free list. */
			if (nfree == 0)
				head = (uint16_t)id;
			else
				free_next[tail] = (uint16_t)id;
			tail = (uint16_t)id;
			nfree++;
			last++;
		}
		d->free_tail = tail;
		d->free_head = head;
		d->nfree = nfree;
		d->inflight -= n - first;
		d->last_used = last;
		if (in_order) {
			d->order_head = oldest;
			d->order_count = (uint16_t)(d->order_count - (n - first));
		}
	}
	/*
	 * A chain, an in-order batch or a device at fault: through
	 * vq_drv_get_used_split(), which fails the ring or takes the batch.
	 */
	if (n < ready) {
		do {
			if ((rc = get_used_one(d, tokens, lens, n)) < 0)
				return rc;
			n++;
		} while (n < ready && d->batch.active);
	}
	return (int)n;
}

void vq_drv_call_disable_split(struct vq_drv *d)
{
	/*
	 * With EVENT_IDX, an event one behind what we reaped is reached only
	 * after the index wraps: effectively off.  Without, the flag.
	 */
	if (d->event_idx)
		vq_sh_store16(used_event_of(d), (uint16_t)(d->last_used - 1));
	else
		vq_sh_store16(&d->ring.split.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vq_drv_call_enable_split(struct vq_drv *d)
{
	if (d->event_idx)
		vq_sh_store16(used_event_of(d), d->last_used);
	else
		vq_sh_store16(&d->ring.split.avail->flags, 0);
	/*
	 * Full fence: orders the store above before re-reading used->idx;
	 * pairs with the device's fence between publishing used->idx and
	 * reading used_event / avail->flags.
	 */
	vq_sh_fence_store_load();
	return vq_sh_load16_acquire(&d->ring.split.used->idx) != d->last_used;
}
