/* virtq_inline.h - the device side's per-buffer fast paths (vq_pop(), vq_push()), inline; included by virtq.h only. */
#ifndef VSW_VIRTQ_INLINE_H
#define VSW_VIRTQ_INLINE_H

/*
 * A busy queue pops and pushes one buffer after another; an out-of-line
 * call for each, the zeroing of the element, a chain walk's bookkeeping
 * and the staging of used elements cost about 200 of the 914 instructions
 * vswd's worker spent per forwarded 64-byte frame (two pops and two
 * pushes: scripts/callgrind-vswd.sh).  So the common case of each is
 * here, inline, and every other case (chains, indirect tables, dirty
 * logging, a new avail->idx, every violation) goes to the
 * out-of-line code of virtq.c and its split/packed twins, which read
 * everything again: the fast paths never decide that a chain is bad.
 *
 * Memory shared with the other side of a ring is only touched through the
 * accessors below: every load is a single, untorn access of a naturally
 * aligned field (C11 atomics through the GNU builtins, which implement the
 * C11 memory model on plain objects), so a value read once stays the value
 * we validated however the peer rewrites it.  Acquire/release and fences
 * are spelled out at each use, with what they order.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#ifndef VSW_VIRTQ_H
#error "include vsw/virtq.h, which includes this"
#endif

static inline uint16_t vq_sh_load16(const uint16_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint32_t vq_sh_load32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint64_t vq_sh_load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint16_t vq_sh_load16_acquire(const uint16_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void vq_sh_store16(uint16_t *p, uint16_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void vq_sh_store32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void vq_sh_store64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void vq_sh_store16_release(uint16_t *p, uint16_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* Full fence: orders an earlier store before a later load (the notification races). */
static inline void vq_sh_fence_store_load(void) { atomic_thread_fence(memory_order_seq_cst); }

/*
 * One 16-byte descriptor (split or packed; same size, different second half)
 * read once: 8-byte aligned tables as two untorn 64-bit loads, anything
 * else (an oddly placed indirect table) through memcpy followed by a
 * compiler barrier so the private copy cannot be re-derived from shared
 * memory later.
 */
struct vq_raw_desc {
	uint64_t addr;
	uint64_t rest; /* len (bits 0-31) and two 16-bit fields */
};

static inline struct vq_raw_desc vq_sh_load_desc(const void *src)
{
	struct vq_raw_desc d;

	if (((uintptr_t)src & 7) == 0) {
		d.addr = vq_sh_load64((const uint64_t *)src);
		d.rest = vq_sh_load64((const uint64_t *)src + 1);
	} else {
		memcpy(&d, src, sizeof(d));
		__asm__ __volatile__("" ::: "memory");
	}
	return d;
}

/* The second half's fields: len; then split flags / packed id; then split next / packed flags. */
static inline uint32_t vq_raw_len(struct vq_raw_desc d) { return (uint32_t)d.rest; }
static inline uint16_t vq_raw_hi16a(struct vq_raw_desc d) { return (uint16_t)(d.rest >> 32); }
static inline uint16_t vq_raw_hi16b(struct vq_raw_desc d) { return (uint16_t)(d.rest >> 48); }

/* Packed ring: move position @pos (wrap counter @wrap) forward by @n descriptors. */
static inline void vq_packed_advance(unsigned num, uint16_t *pos, bool *wrap, unsigned n)
{
	unsigned p = *pos + n;

	while (p >= num) {
		p -= num;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

/* 2.8.1: a packed descriptor is available when its AVAIL bit matches the driver's wrap counter and its USED bit does not. */
static inline bool vq_desc_is_avail(uint16_t flags, bool wrap)
{
	return !!(flags & VIRTQ_DESC_F_AVAIL) == wrap && !!(flags & VIRTQ_DESC_F_USED) != wrap;
}

/*
 * Is a buffer available right now?  One read of the driver's side (the
 * available index, or the next packed descriptor's flags), inline for a
 * poll of an idle queue to end there; vq_has_avail() is this.  False for
 * a broken queue, which has none to give.
 */
static inline bool vq_avail_maybe(const struct vq *q)
{
	if (q->broken)
		return false;
	if (q->packed)
		return vq_desc_is_avail(vq_sh_load16_acquire(&q->ring.packed.desc[q->last_avail].flags),
					q->avail_wrap);
	return q->last_avail != q->avail_idx_cache || vq_sh_load16_acquire(&q->ring.split.avail->idx) != q->last_avail;
}

/*
 * Write one used element into its split used-ring slot and advance the used
 * index by the buffers it stands for (1 unless IN_ORDER coalesced).
 * 2.7.8.2: "The device MUST set len prior to updating the used idx": the
 * element is written here, the index only in vq_publish_split().
 */
static inline void vq_write_used_split(struct vq *q, const struct vq_used_pending *p)
{
	struct virtq_used_elem *u = &q->ring.split.used->ring[q->used_idx & (q->num - 1)];

	vq_sh_store64((uint64_t *)u, (uint64_t)p->len << 32 | p->id);
	q->used_idx += p->count;
	q->staged += p->count;
}

/*
 * Write one used element as one used descriptor at the next used position
 * and skip past all descriptors it stands for (2.8.6: "The device only
 * writes out a single used descriptor for the whole list. It then skips
 * forward").  The first used descriptor of a batch keeps its flags back:
 * they are stored last, in vq_publish_packed(), so the driver never sees a
 * partial batch.
 */
static inline void vq_write_used_packed(struct vq *q, const struct vq_used_pending *p)
{
	struct pvirtq_desc *u = &q->ring.packed.desc[q->used_idx];
	uint16_t flags = q->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

	/* 2.8.4: in a used descriptor WRITE says whether data was written. */
	if (p->len)
		flags |= VIRTQ_DESC_F_WRITE;
	if (!q->batch_head.pending) {
		vq_sh_store16(&u->id, p->id);
		vq_sh_store32(&u->len, p->len);
		q->batch_head.pos = q->used_idx;
		q->batch_head.flags = flags;
		q->batch_head.pending = true;
	} else {
		/*
		 * len, id and flags in one store (the descriptor's second
		 * half, 8-byte aligned in the 16-byte aligned ring): invisible
		 * until the head's release store in vq_publish_packed() orders
		 * it, so the order among the three does not matter.
		 */
		vq_sh_store64((uint64_t *)u + 1, (uint64_t)flags << 48 | (uint64_t)p->id << 32 | p->len);
	}
	q->used_since_signal += p->ndesc;
	vq_packed_advance(q->num, &q->used_idx, &q->used_wrap, p->ndesc);
}

/* One used element into the ring of either layout (still unpublished). */
static inline void vq_write_used(struct vq *q, const struct vq_used_pending *p)
{
	if (q->packed)
		vq_write_used_packed(q, p);
	else
		vq_write_used_split(q, p);
}

/*
 * A lone descriptor's buffer (@addr, @len, @flags as read once) as the whole
 * chain, when it lies in the guest memory region of the last translation:
 * fills @elem and @iov[0] as the chain walk would, and returns true.  False
 * leaves everything to the slow path: NEXT or INDIRECT set, length 0 (which
 * the slow path refuses), a buffer outside that one region.  The unsigned
 * differences refuse a buffer below the region or past its end, as
 * gmem_to_iov_fast().
 */
static inline bool vq_take_lone(const struct vq *q, uint64_t addr, uint32_t len, uint16_t flags, uint16_t id,
				struct vq_elem *elem, struct iovec *iov)
{
	const struct gmem *m = q->mem;
	unsigned hint = q->mem_hint;
	bool w = flags & VIRTQ_DESC_F_WRITE;

	if ((flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) || len == 0 || hint >= m->nregions ||
	    addr - m->regions[hint].gpa >= m->regions[hint].size ||
	    len > m->regions[hint].size - (addr - m->regions[hint].gpa))
		return false;
	iov[0].iov_base = m->regions[hint].hva + (addr - m->regions[hint].gpa);
	iov[0].iov_len = len;
	*elem = (struct vq_elem){
		.id = id, .ndesc = 1,
		.out_num = !w, .in_num = w,
		.out_len = w ? 0 : len, .in_len = w ? len : 0,
	};
	return true;
}

/*
 * Split (2.7): the next chain behind an avail->idx already read and
 * validated (vq_prefetch() or an earlier pop read it), its ring entry and
 * descriptor read once, as vq_pop_split() reads them (untorn 64-bit loads
 * of the 16-byte aligned table, 2.7.1).
 */
static inline bool vq_pop_lone_split(struct vq *q, struct vq_elem *elem, struct iovec *iov)
{
	uint16_t head;
	const uint64_t *d;
	uint64_t addr, rest;

	if (q->last_avail == q->avail_idx_cache)
		return false;
	head = vq_sh_load16(&q->ring.split.avail->ring[q->last_avail & (q->num - 1)]);
	if (head >= q->num)
		return false;
	d = (const uint64_t *)&q->ring.split.desc[head];
	addr = vq_sh_load64(&d[0]);
	rest = vq_sh_load64(&d[1]);
	if (!vq_take_lone(q, addr, (uint32_t)rest, (uint16_t)(rest >> 32), head, elem, iov))
		return false;
	q->last_avail++;
	return true;
}

/*
 * Packed (2.8): the descriptor at the available position, its flags read
 * with acquire first (ordering the reads of its other fields, which the
 * driver wrote before making it available, 2.8.21.3.1), then the rest
 * once, as vq_pop_packed() does; a lone descriptor carries its buffer ID
 * itself (2.8.6).
 */
static inline bool vq_pop_lone_packed(struct vq *q, struct vq_elem *elem, struct iovec *iov)
{
	struct pvirtq_desc *dp = &q->ring.packed.desc[q->last_avail];
	uint16_t flags = vq_sh_load16_acquire(&dp->flags);
	uint64_t addr, rest;

	if (!vq_desc_is_avail(flags, q->avail_wrap))
		return false;
	addr = vq_sh_load64((const uint64_t *)dp);
	rest = vq_sh_load64((const uint64_t *)dp + 1);
	if (!vq_take_lone(q, addr, (uint32_t)rest, flags, (uint16_t)(rest >> 32), elem, iov))
		return false;
	vq_packed_advance(q->num, &q->last_avail, &q->avail_wrap, 1);
	q->popped_since_hint++;
	return true;
}

static inline int vq_pop(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max)
{
	if (!q->broken && iov_max &&
	    (q->packed ? vq_pop_lone_packed(q, elem, iov) : vq_pop_lone_split(q, elem, iov)))
		return 0;
	return vq_pop_slow(q, elem, iov, iov_max);
}

/*
 * With IN_ORDER a buffer the device only reads (no writable part: a
 * transmit queue's) only extends the current run (2.7.9 / 2.8.11: skipped
 * buffers "are assumed to have been used (read or written) by the device
 * completely").  A buffer with a writable part gets its own entry even
 * when filled completely (the spec lets a device skip it, not that it
 * must): DPDK's in-order receive paths read each buffer's length from its
 * own used entry, so a frame spread over several receive buffers
 * (mergeable buffers) would reach them with stale lengths for the skipped
 * ones.  Any other buffer (without IN_ORDER every buffer) ends the run:
 * one used entry for the run and itself, with its id and length, written straight into the ring, where
 * the driver cannot see it before vq_flush() publishes (split: used->idx;
 * packed: the batch head's flags): the ring slot is the staging.  The
 * slow path stages entries instead, for dirty logging (it marks what a
 * batch wrote, vq_flush()) and behind entries it staged already.
 */
static inline void vq_push(struct vq *q, const struct vq_elem *elem, uint32_t len)
{
	if (!q->broken && q->in_order && elem->in_len == 0) {
		q->run.id = elem->id;
		q->run.len = elem->in_len;
		q->run.count++;
		q->run.ndesc += elem->ndesc;
		return;
	}
	if (!q->broken && !q->log && q->npending == 0) {
		struct vq_used_pending u = {
			.id = elem->id, .count = (uint16_t)(q->run.count + 1),
			.len = len < elem->in_len ? len : elem->in_len, .ndesc = q->run.ndesc + elem->ndesc,
		};

		q->run.count = 0;
		q->run.ndesc = 0;
		vq_write_used(q, &u);
		return;
	}
	vq_push_slow(q, elem, len);
}

/*
 * @n elements popped in a row, each used with @lens[i] bytes, or @len when
 * @lens is NULL (clamped to its in_len, as vq_push()), in order: vq_push()
 * for each, with what it checks once per element (broken, dirty logging,
 * entries staged, a run) checked once for all of them.  A receive port that
 * only reads its guest's transmit buffers pushes a whole burst this way
 * (used length 0), a transmit port the buffers of a chunk it filled.  The
 * used elements go into the ring as vq_push() writes them, and stay
 * invisible until vq_flush() publishes them (split: 2.7.8.2, len before
 * used idx; packed: 2.8.6, one used descriptor for each buffer, skipping
 * the rest of its chain, the batch head's flags written last).
 */
static inline __attribute__((always_inline)) void vq_push_many(struct vq *q, const struct vq_elem *elem, unsigned n,
								  const uint32_t *lens, uint32_t len)
{
	unsigned i = 0;
	bool mixed = false;	/* IN_ORDER: buffers with and without a writable part */

	if (n == 0)
		return;
	if (!q->broken && q->in_order) {
		/* As vq_push(): buffers the device only read only extend the run; all of them, at once. */
		uint32_t ndesc = 0;

		for (; i < n && elem[i].in_len == 0; i++)
			ndesc += elem[i].ndesc;
		if (i == n) {
			q->run.id = elem[n - 1].id;
			q->run.len = elem[n - 1].in_len;
			q->run.count = (uint16_t)(q->run.count + n);
			q->run.ndesc += ndesc;
			return;
		}
		/*
		 * Buffers with a writable part have their entries with their
		 * lengths: all of them in the loops below, unless read-only
		 * ones are among them (only a hostile driver mixes the two in
		 * a queue), which vq_push() one by one puts in runs.
		 */
		mixed = i > 0;
		for (unsigned j = 1; j < n; j++)
			mixed |= elem[j].in_len == 0;
		i = 0;
	}
	if (q->broken || mixed || q->log || q->npending || q->run.count) {
		for (; i < n; i++)
			vq_push(q, &elem[i], lens ? lens[i] : len);
		return;
	}
	if (q->packed) {
		/* In locals: the stores into the ring could alias the queue's fields, which gcc would load again each time. */
		struct pvirtq_desc *const desc = q->ring.packed.desc;
		const unsigned num = q->num;
		const uint64_t flip = (uint64_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) << 48;
		const uint64_t write = (uint64_t)VIRTQ_DESC_F_WRITE << 48;
		unsigned pos, start, laps = 0;
		uint64_t au;	/* AVAIL and USED as the used wrap counter says, in place for the 64-bit store */

		if (!q->batch_head.pending)
			vq_push(q, &elem[i], lens ? lens[i] : len), i++; /* the batch head: its flags held back */
		pos = start = q->used_idx;
		au = q->used_wrap ? flip : 0;
		for (; i < n; i++) {
			uint32_t li = lens ? lens[i] : len, l = li < elem[i].in_len ? li : elem[i].in_len;

			/*
			 * len, id and flags in one store, as vq_write_used_packed() (the
			 * head's release orders it); 2.8.4: in a used descriptor WRITE
			 * says whether data was written.
			 */
			vq_sh_store64((uint64_t *)&desc[pos] + 1, au | (l ? write : 0) | (uint64_t)elem[i].id << 32 | l);
			pos += elem[i].ndesc;
			if (pos >= num) {
				pos -= num;
				laps++;
				au ^= flip;
			}
		}
		q->used_idx = (uint16_t)pos;
		q->used_wrap = (q->used_wrap ^ laps) & 1;
		/* Each chain takes fewer than num descriptors: the walk's length is the descriptors used. */
		q->used_since_signal += laps * num + pos - start;
		return;
	}
	{
		/* In locals, as above (num <= 2^15: the mask takes the 16-bit wrap too). */
		struct virtq_used_elem *const used = q->ring.split.used->ring;
		const unsigned mask = q->num - 1u, at = q->used_idx;

		for (; i < n; i++) {
			uint32_t li = lens ? lens[i] : len, l = li < elem[i].in_len ? li : elem[i].in_len;

			/* 2.7.8.2: the element now, used->idx only in vq_publish_split(). */
			vq_sh_store64((uint64_t *)&used[(at + i) & mask], (uint64_t)l << 32 | elem[i].id);
		}
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	q->staged = (uint16_t)(q->staged + n);
}

static inline __attribute__((always_inline)) void vq_push_n(struct vq *q, const struct vq_elem *elem, unsigned n,
							       uint32_t len)
{
	vq_push_many(q, elem, n, NULL, len);
}

static inline __attribute__((always_inline)) void vq_push_lens(struct vq *q, const struct vq_elem *elem,
								  const uint32_t *lens, unsigned n)
{
	vq_push_many(q, elem, n, lens, 0);
}

#endif
