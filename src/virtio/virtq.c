/* virtq.c - device-side virtqueue entry points: dispatch to the split or packed twin, chain building shared by both. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtio/virtq_internal.h"

int vq_fail(struct vq *q, int err, const char *why)
{
	if (!q->broken) {
		q->broken = true;
		q->error = why;
	}
	return err;
}

int vq_indirect_entries(struct vq *q, uint32_t table_len)
{
	if (!q->indirect)
		return vq_fail(q, -EINVAL, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (table_len == 0 || table_len % 16)
		return vq_fail(q, -EINVAL, "indirect table length is not a non-zero multiple of 16");
	/* 2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the Queue Size". */
	if (table_len / 16 > q->num)
		return vq_fail(q, -EINVAL, "indirect table longer than the queue size");
	return (int)(table_len / 16);
}

int vq_init(struct vq *q, const struct vq_config *cfg)
{
	memset(q, 0, sizeof(*q));
	if (cfg->num == 0 || cfg->num > VIRTQ_MAX_SIZE || !cfg->mem)
		return -EINVAL;
	q->num = cfg->num;
	q->packed = cfg->packed;
	q->event_idx = cfg->event_idx;
	q->indirect = cfg->indirect;
	q->in_order = cfg->in_order;
	q->device_reads = cfg->device_reads;
	q->mem = cfg->mem;
	q->log = cfg->log;
	q->desc_gpa = cfg->desc_gpa;
	q->driver_gpa = cfg->driver_gpa;
	q->device_gpa = cfg->device_gpa;
	q->log_used_gpa = cfg->log_used_gpa;
	return q->packed ? vq_init_packed(q, cfg) : vq_init_split(q, cfg);
}

int vq_pop_slow(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max)
{
	if (q->broken)
		return -EIO;
	memset(elem, 0, sizeof(*elem));
	return q->packed ? vq_pop_packed(q, elem, iov, iov_max) : vq_pop_split(q, elem, iov, iov_max);
}

unsigned vq_pop_burst(struct vq *q, enum vq_dir dir, struct vq_elem *elem, struct iovec *iov, unsigned max)
{
	const struct gmem *m = q->mem;
	struct gmem_region r;

	/* The region of the last translation, as vq_take_lone() finds it, copied once for the run. */
	if (q->broken || max == 0 || q->mem_hint >= m->nregions)
		return 0;
	r = m->regions[q->mem_hint];
	return q->packed ? vq_pop_burst_packed(q, dir, &r, elem, iov, max)
			 : vq_pop_burst_split(q, dir, &r, elem, iov, max);
}

bool vq_avail_seen_empty(struct vq *q)
{
	if (q->broken)
		return true;
	return q->packed ? !vq_has_avail_packed(q) : q->last_avail == q->avail_idx_cache;
}

void vq_prefetch(struct vq *q, unsigned n)
{
	if (q->broken || n == 0)
		return;
	if (q->packed)
		vq_prefetch_packed(q, n);
	else
		vq_prefetch_split(q, n);
}

/* ---- dirty page logging (live migration): see struct vq_log in virtq.h ---- */

void vq_log_mark(struct vq_log *log, uint64_t gpa, uint64_t len)
{
	uint64_t first, last;

	if (len == 0)
		return;
	first = gpa >> VQ_LOG_PAGE_SHIFT;
	last = (len - 1 > UINT64_MAX - gpa ? UINT64_MAX : gpa + len - 1) >> VQ_LOG_PAGE_SHIFT;
	for (uint64_t page = first; page <= last; page++) {
		if (page / 8 >= log->size_bytes) {
			__atomic_fetch_add(&log->missed, last - page + 1, __ATOMIC_RELAXED);
			return;
		}
		/* Release: the bytes written to this page come before its bit (see virtq.h). */
		__atomic_fetch_or(&log->bits[page / 8], (uint8_t)(1u << (page % 8)), __ATOMIC_RELEASE);
	}
}

void vq_log_iov(struct vq *q, const struct iovec *iov, unsigned niov, uint64_t len)
{
	if (!q->log)
		return;
	for (unsigned i = 0; i < niov && len > 0; i++) {
		uint64_t n = iov[i].iov_len < len ? iov[i].iov_len : len, gpa;

		/* Every iovec came from gmem_to_iov() over the same map: always found. */
		if (gmem_gpa_of(q->mem, iov[i].iov_base, &gpa))
			vq_log_mark(q->log, gpa, n);
		len -= n;
	}
}

/* Log ring entries [@pos, @pos + @n) of @entry_bytes each starting at @base, wrapping at the queue size. */
static void log_ring_range(struct vq *q, uint64_t base, unsigned pos, unsigned n, unsigned entry_bytes)
{
	unsigned first = n < q->num - pos ? n : q->num - pos;

	vq_log_mark(q->log, base + (uint64_t)pos * entry_bytes, (uint64_t)first * entry_bytes);
	if (n > first)
		vq_log_mark(q->log, base, (uint64_t)(n - first) * entry_bytes);
}

/*
 * Staging, for vq_push_slow(): vq_push() writes elements into the ring
 * itself (vsw/virtq_inline.h) except while dirty logging, when they are
 * staged here and written and marked per batch.  Without IN_ORDER every
 * element is its own entry.  With it, buffers the device only reads
 * (in_len 0) are held back in a run and written as one used entry for the
 * whole run, per 2.7.9 (split) and 2.8.11 (packed): "The skipped buffers
 * (for which no used ring entry was written) are assumed to have been used
 * (read or written) by the device completely."  A buffer with a writable
 * part ends the run and carries its own length, even filled completely
 * (DPDK's in-order receive reads each one's length from its own entry:
 * vsw/virtq_inline.h, vq_push()).
 */
/* Write out every staged element (still unpublished): one pass over the ring's used area. */
static void write_pending(struct vq *q)
{
	uint16_t start = q->used_idx;
	bool wrap0 = q->used_wrap;

	for (unsigned i = 0; i < q->npending; i++)
		vq_write_used(q, &q->pending[i]);
	/* Migrating: the entries just written, once per batch (used ring of split, descriptors of packed). */
	if (q->log && q->npending) {
		if (q->packed) {
			unsigned n = (unsigned)q->used_idx + (wrap0 != q->used_wrap ? q->num : 0) - start;

			if (n == 0 || n > q->num)
				n = q->num; /* a whole lap */
			log_ring_range(q, q->desc_gpa, start, n, sizeof(struct pvirtq_desc));
		} else {
			unsigned n = (uint16_t)(q->used_idx - start);

			/* A batch of num or more entries rewrote the whole ring. */
			log_ring_range(q, q->log_used_gpa + offsetof(struct virtq_used, ring), start & (q->num - 1),
				       n < q->num ? n : q->num, sizeof(struct virtq_used_elem));
		}
	}
	q->npending = 0;
}

/* End the current run: it becomes one staged used element. */
static void stage_run(struct vq *q)
{
	if (q->npending == VQ_PENDING_MAX)
		write_pending(q);
	q->pending[q->npending++] = (struct vq_used_pending){
		.id = q->run.id, .count = q->run.count, .len = q->run.len, .ndesc = q->run.ndesc,
	};
	q->run.count = 0;
	q->run.ndesc = 0;
}

void vq_push_slow(struct vq *q, const struct vq_elem *elem, uint32_t len)
{
	if (q->broken)
		return;
	if (len > elem->in_len)
		len = elem->in_len;
	q->run.id = elem->id;
	q->run.len = len;
	q->run.count++;
	q->run.ndesc += elem->ndesc;
	if (q->in_order && elem->in_len == 0)
		return;
	stage_run(q);
}

void vq_unpop(struct vq *q, const struct vq_elem *elem)
{
	if (q->broken)
		return;
	if (!q->packed) {
		q->last_avail--;
		return;
	}
	if (q->last_avail < elem->ndesc) {
		q->last_avail = (uint16_t)(q->last_avail + q->num - elem->ndesc);
		q->avail_wrap = !q->avail_wrap;
	} else {
		q->last_avail = (uint16_t)(q->last_avail - elem->ndesc);
	}
}

void vq_flush(struct vq *q)
{
	if (q->broken)
		return;
	if (q->run.count)
		stage_run(q);
	write_pending(q);
	if (q->packed)
		vq_publish_packed(q);
	else
		vq_publish_split(q);
}

bool vq_need_notify(struct vq *q)
{
	if (q->broken)
		return false;
	return q->packed ? vq_need_notify_packed(q) : vq_need_notify_split(q);
}

void vq_kick_disable(struct vq *q)
{
	if (q->broken)
		return;
	if (q->packed)
		vq_kick_disable_packed(q);
	else
		vq_kick_disable_split(q);
}

bool vq_kick_enable(struct vq *q)
{
	if (q->broken)
		return false;
	return q->packed ? vq_kick_enable_packed(q) : vq_kick_enable_split(q);
}

bool vq_has_avail(struct vq *q)
{
	return vq_avail_maybe(q);
}

void vq_set_base(struct vq *q, uint32_t base)
{
	if (q->packed) {
		q->last_avail = (base & 0x7fff) % q->num;
		q->avail_wrap = base & 0x8000;
		/*
		 * QEMU sends the used side in bits 16-31; DPDK's virtio-user and
		 * SPDK send only the available side.  Without a used half, start
		 * used where available starts, as DPDK's vhost library does.
		 */
		if (base >> 16) {
			q->used_idx = ((base >> 16) & 0x7fff) % q->num;
			q->used_wrap = base & 0x80000000u;
		} else {
			q->used_idx = q->last_avail;
			q->used_wrap = q->avail_wrap;
		}
		q->signalled_used = q->used_idx;
		q->signalled_wrap = q->used_wrap;
	} else {
		q->last_avail = (uint16_t)base;
		q->avail_idx_cache = (uint16_t)base;
		q->used_idx = (uint16_t)base;
		q->signalled_used = (uint16_t)base;
	}
	q->signalled_valid = false;
	q->used_since_signal = 0;
	memset(&q->run, 0, sizeof(q->run));
	q->npending = 0;
	q->batch_head.pending = false;
	q->staged = 0;
}

uint32_t vq_get_base(const struct vq *q)
{
	if (q->packed) {
		/*
		 * The used side the driver has seen: a batch whose head's flags
		 * are still withheld (vq_push() wrote its entries, no vq_flush()
		 * published them, as when the queue broke in the middle of a
		 * burst) is not used yet; its head's flags carry its wrap.
		 */
		uint16_t used = q->batch_head.pending ? q->batch_head.pos : q->used_idx;
		bool wrap = q->batch_head.pending ? q->batch_head.flags & VIRTQ_DESC_F_USED : q->used_wrap;

		return (uint32_t)q->last_avail | (uint32_t)q->avail_wrap << 15 | (uint32_t)used << 16 |
		       (uint32_t)wrap << 31;
	}
	return q->last_avail;
}
