/* virtq_driver.c - driver-side virtqueue entry points and the bookkeeping both layouts share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/prefetch.h"
#include "virtio/virtq_internal.h"

int vq_drv_fail(struct vq_drv *d, const char *why)
{
	if (!d->broken) {
		d->broken = true;
		d->error = why;
	}
	return -EIO;
}

int vq_drv_init(struct vq_drv *d, const struct vq_drv_config *cfg)
{
	unsigned num = cfg->num;

	memset(d, 0, sizeof(*d));
	if (num == 0 || num > VIRTQ_MAX_SIZE || (!cfg->packed && (num & (num - 1))))
		return -EINVAL;
	if (!cfg->desc || !cfg->driver_area || !cfg->device_area || ((uintptr_t)cfg->desc & 15))
		return -EINVAL;
	if (cfg->indirect && (!cfg->indirect_hva || cfg->indirect_max < 2 || ((uintptr_t)cfg->indirect_hva & 15)))
		return -EINVAL;
	d->num = num;
	d->packed = cfg->packed;
	d->event_idx = cfg->event_idx;
	d->indirect = cfg->indirect;
	d->in_order = cfg->in_order;
	d->indirect_hva = cfg->indirect_hva;
	d->indirect_gpa = cfg->indirect_gpa;
	d->indirect_max = cfg->indirect_max;

	d->slot = calloc(num, sizeof(*d->slot));
	d->free_next = calloc(num, sizeof(*d->free_next));
	d->order = calloc(num, sizeof(*d->order));
	if (!d->slot || !d->free_next || !d->order) {
		vq_drv_fini(d);
		return -ENOMEM;
	}
	/* Free list 0 -> 1 -> ... -> num-1 (-> 0): in-order use keeps it sequential. */
	for (unsigned i = 0; i < num; i++)
		d->free_next[i] = (uint16_t)((i + 1) % num);
	d->free_head = 0;
	d->free_tail = (uint16_t)(num - 1);
	d->nfree = num;
	d->nfree_ids = num;

	if (d->packed) {
		d->ring.packed.desc = cfg->desc;
		d->ring.packed.driver_event = cfg->driver_area;
		d->ring.packed.device_event = cfg->device_area;
		vq_drv_init_packed(d);
	} else {
		d->ring.split.desc = cfg->desc;
		d->ring.split.avail = cfg->driver_area;
		d->ring.split.used = cfg->device_area;
		vq_drv_init_split(d);
	}
	return 0;
}

void vq_drv_fini(struct vq_drv *d)
{
	free(d->slot);
	free(d->free_next);
	free(d->order);
	d->slot = NULL;
	d->free_next = NULL;
	d->order = NULL;
}

int vq_drv_add(struct vq_drv *d, const struct vq_seg *segs, unsigned out_num, unsigned in_num, void *token)
{
	unsigned n = out_num + in_num;

	if (d->broken)
		return -EIO;
	if (!token || n == 0 || n > d->num)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (segs[i].len == 0)
			return -EINVAL;
	return d->packed ? vq_drv_add_packed(d, segs, out_num, in_num, token)
			 : vq_drv_add_split(d, segs, out_num, in_num, token);
}

int vq_drv_add_burst(struct vq_drv *d, const struct vq_seg *segs, void *const *tokens, unsigned n, bool writable)
{
	uint16_t flags = writable ? VIRTQ_DESC_F_WRITE : 0;

	if (d->broken)
		return -EIO;
	return d->packed ? vq_drv_add_burst_packed(d, segs, tokens, n, flags)
			 : vq_drv_add_burst_split(d, segs, tokens, n, flags);
}

void vq_drv_prefetch_add(const struct vq_drv *d, unsigned n)
{
	unsigned pos = d->avail_idx;

	if (d->broken || n == 0)
		return;
	if (n > d->num)
		n = d->num;
	if (d->packed) {
		/* Consecutive positions, four descriptors to a line. */
		pos %= d->num;
		for (unsigned k = 0; k < n; k += 4, pos += 4)
			prefetch_w(&d->ring.packed.desc[pos >= d->num ? pos - d->num : pos]);
		return;
	}
	/*
	 * Descriptors from the free list, which is sequential when buffers
	 * come back in order: the lines from its head on, four descriptors to
	 * a line, without walking the list (a hint may miss).
	 */
	for (unsigned k = 0; k < n; k += 4)
		prefetch_w(&d->ring.split.desc[(d->free_head + k) & (d->num - 1)]);
	/* Available ring entries, 32 to a line. */
	for (unsigned k = 0; k < n; k += 32)
		prefetch_w(&d->ring.split.avail->ring[(pos + k) & (d->num - 1)]);
	prefetch_w(&d->ring.split.avail->ring[(pos + n - 1) & (d->num - 1)]);
}

bool vq_drv_kick_prepare(struct vq_drv *d)
{
	if (d->broken || d->num_added == 0)
		return false;
	return d->packed ? vq_drv_kick_prepare_packed(d) : vq_drv_kick_prepare_split(d);
}

int vq_drv_get_used(struct vq_drv *d, void **token, uint32_t *len)
{
	if (d->broken)
		return -EIO;
	return d->packed ? vq_drv_get_used_packed(d, token, len) : vq_drv_get_used_split(d, token, len);
}

int vq_drv_get_used_burst(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned max)
{
	if (d->broken)
		return -EIO;
	return d->packed ? vq_drv_get_used_burst_packed(d, tokens, lens, max)
			 : vq_drv_get_used_burst_split(d, tokens, lens, max);
}

void vq_drv_call_disable(struct vq_drv *d)
{
	if (d->broken)
		return;
	d->call_disabled = true;
	if (d->packed)
		vq_drv_call_disable_packed(d);
	else
		vq_drv_call_disable_split(d);
}

bool vq_drv_call_enable(struct vq_drv *d)
{
	if (d->broken)
		return false;
	d->call_disabled = false;
	if (d->batch.active)
		return true;	/* an in-order batch is half reaped */
	return d->packed ? vq_drv_call_enable_packed(d) : vq_drv_call_enable_split(d);
}

unsigned vq_drv_free_slots(const struct vq_drv *d)
{
	if (d->packed)
		return d->nfree < d->nfree_ids ? d->nfree : d->nfree_ids;
	return d->nfree;
}

unsigned vq_drv_in_flight(const struct vq_drv *d)
{
	return d->inflight;
}

int vq_drv_batch_start(struct vq_drv *d, uint16_t id, uint32_t len, unsigned max_bufs)
{
	unsigned depth;

	if (id >= d->num || !d->slot[id].token)
		return vq_drv_fail(d, "device used a buffer id that is not in flight");
	for (depth = 0; depth < d->order_count; depth++) {
		unsigned at = d->order_head + depth;

		if (d->order[at >= d->num ? at - d->num : at] == id)
			break;
	}
	if (depth == d->order_count || depth >= max_bufs)
		return vq_drv_fail(d, "device's in-order batch reaches past what it used");
	d->batch.last_id = id;
	d->batch.last_len = len;
	d->batch.active = true;
	return 0;
}

unsigned vq_drv_order_depth(const struct vq_drv *d, uint16_t oldest, unsigned left, uint16_t id, unsigned room)
{
	for (unsigned depth = 0, at = oldest; depth < left && depth < room; depth++) {
		uint16_t older = d->order[at];

		if (older == id)
			return depth;
		if (d->slot[older].ndesc != 1)
			return 0;
		at = at + 1 == d->num ? 0 : at + 1;
	}
	return 0;
}

uint16_t vq_drv_batch_next(struct vq_drv *d, uint32_t *len)
{
	uint16_t id = d->order[d->order_head];

	d->order_head = (uint16_t)(d->order_head + 1u == d->num ? 0 : d->order_head + 1u);
	d->order_count--;
	if (id == d->batch.last_id) {
		*len = d->batch.last_len;
		d->batch.active = false;
	} else {
		*len = d->slot[id].in_len;	/* skipped: used completely */
	}
	return id;
}

int vq_drv_complete(struct vq_drv *d, uint16_t id, uint32_t len, void **token)
{
	struct vq_drv_slot *s = &d->slot[id];

	if (len > s->in_len)
		return vq_drv_fail(d, "device wrote more than the buffer holds");
	*token = s->token;
	s->token = NULL;
	d->inflight--;
	return 0;
}
