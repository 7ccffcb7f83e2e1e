/* virtq.h - the device side of a virtqueue: pop chains, push used buffers, notify. */
#ifndef VSW_VIRTQ_H
#define VSW_VIRTQ_H

/*
 * This is what a virtio back end does with a queue (QEMU's virtqueue_pop /
 * virtqueue_push, the vhost-net worker's vhost_get_vq_desc / vhost_add_used):
 *
 *   vq_kick_enable() ---- driver kicks ----> worker wakes
 *   loop:  vq_pop()   -> one descriptor chain as iovecs (readable, then writable)
 *          ... process the buffer ...
 *          vq_push()  -> stage a used element (not yet visible)
 *   vq_flush()        -> publish every staged element at once
 *   vq_need_notify()  -> did the driver ask for a used-buffer notification?
 *
 * Both ring layouts (split, virtio 1.3 2.7; packed, 2.8) sit behind these
 * entry points; each operation has a _split and a _packed twin inside.
 *
 * The driver is untrusted.  Every index, descriptor and address it wrote is
 * read from shared memory exactly once into private memory, validated, and
 * only then used.  A violation returns an error and latches the queue broken:
 * every later call fails with -EIO until vq_init() again.  vq_error() gives
 * the reason for the caller's single log line.
 *
 * One thread at a time may use a struct vq.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vsw/guest_mem.h"
#include "vsw/virtio_spec.h"

#define VQ_PENDING_MAX 64	/* used elements staged before they are written out (dirty logging: vq_push_slow()) */

/*
 * The dirty page log of live migration (vhost-user.rst "Migration"): one
 * bit per 4 KiB page of guest physical memory, bit (gpa / 4096) % 8 of byte
 * gpa / 4096 / 8, shared with the front end, which reads and clears it
 * while it copies guest memory to the destination.
 *
 *   bits:  byte 0            byte 1
 *          [p7 ... p1 p0]    [p15 ... p8]    ...   size_bytes * 8 pages
 *
 * A queue holds a pointer to it only while logging is on; NULL costs one
 * predictable branch per batch (Linux vhost's vq->log).  A page beyond the
 * log is counted in `missed`, never written.
 */
#define VQ_LOG_PAGE_SHIFT 12

struct vq_log {
	uint8_t *bits;
	uint64_t size_bytes;
	uint64_t missed;	/* pages written that the log could not hold (atomic) */
};

/* Where the rings are and what was negotiated; all addresses are guest physical. */
struct vq_config {
	unsigned num;		/* queue size; a power of 2 for split */
	bool packed;		/* VIRTIO_F_RING_PACKED */
	bool event_idx;		/* VIRTIO_F_EVENT_IDX */
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC */
	bool in_order;		/* VIRTIO_F_IN_ORDER */
	bool device_reads;	/* the device only reads this queue's buffers (virtio-net's transmitq): see vq.writable_read */
	uint64_t desc_gpa;	/* descriptor table / descriptor ring */
	uint64_t driver_gpa;	/* split: available ring; packed: driver event suppression */
	uint64_t device_gpa;	/* split: used ring; packed: device event suppression */
	const struct gmem *mem;	/* guest memory; must outlive the queue */
	struct vq_log *log;	/* dirty log while migrating, else NULL; must outlive the queue */
	uint64_t log_used_gpa;	/* split: where used ring writes are logged (vhost's log_guest_addr) */
};

/* One popped descriptor chain. */
struct vq_elem {
	uint16_t id;		/* head index (split) or buffer id (packed) */
	uint16_t ndesc;		/* ring descriptors the chain took (packed bookkeeping) */
	uint16_t out_num;	/* iov[0 .. out_num) are device-readable */
	uint16_t in_num;	/* iov[out_num .. out_num + in_num) are device-writable */
	uint32_t out_len;	/* bytes readable */
	uint32_t in_len;	/* bytes writable */
};

/* Device-side queue state.  Fields are private to src/virtio. */
struct vq {
	unsigned num;
	bool packed, event_idx, indirect, in_order;
	bool device_reads;		/* vq_config.device_reads */
	/*
	 * Set (relaxed atomics: the control thread reads it) when a packed
	 * indirect table on a queue the device only reads had an entry marked
	 * device-writable, which was read as device-readable: DPDK's virtio
	 * PMD marks every entry of its transmit indirect tables so at setup
	 * (vring_desc_init_indirect_packed()) and rewrites the flags of the
	 * data entries only (not even all of them: not the one whose index in
	 * the table equals the ring slot's), never the header's.
	 */
	bool writable_read;
	bool broken;
	const char *error;		/* why it broke */
	const struct gmem *mem;
	unsigned mem_hint;		/* region of the last buffer translated */

	/* Host views of the rings, checked to lie inside mem at vq_init(). */
	union virtq_rings ring;

	/* Dirty logging (NULL: off) and the guest physical addresses its marks need. */
	struct vq_log *log;
	uint64_t desc_gpa, driver_gpa, device_gpa, log_used_gpa;

	/* Consumer side of the available buffers. */
	uint16_t last_avail;		/* split: free-running; packed: position */
	bool avail_wrap;		/* packed: wrap counter of last_avail */
	uint16_t avail_idx_cache;	/* split: last avail->idx read (validated) */
	uint16_t popped_since_hint;	/* packed: chains popped since the last vq_prefetch */

	/* Producer side of used buffers: staged and published state. */
	uint16_t used_idx;		/* split: free-running; packed: position of next used write */
	bool used_wrap;			/* packed: wrap counter of used_idx */
	uint16_t staged;		/* split: used entries staged since the last flush */
	struct {			/* packed: head of the staged batch, flags withheld */
		uint16_t pos;
		uint16_t flags;
		bool pending;
	} batch_head;
	struct {			/* in-order coalescing of read-only buffers (vq_push()) */
		uint16_t id;
		uint32_t len;
		uint16_t count;		/* buffers in the run */
		uint32_t ndesc;		/* descriptors in the run */
	} run;

	/* Used elements staged but not yet written to the ring: only while dirty logging, which marks a burst's writes together. */
	struct vq_used_pending {
		uint16_t id;
		uint16_t count;		/* buffers it stands for */
		uint32_t len;
		uint32_t ndesc;		/* descriptors it stands for */
	} pending[VQ_PENDING_MAX];
	unsigned npending;

	/* Used-buffer notification state (what was last checked). */
	uint16_t signalled_used;	/* split: used idx at the last vq_need_notify */
	bool signalled_wrap;		/* packed: wrap of signalled_used */
	bool signalled_valid;
	uint32_t used_since_signal;	/* packed: descriptors used since then */
};

/*
 * Set up @q over the rings in @cfg.  Checks the size (1..32768, a power of
 * 2 for split) and that each ring area is aligned as 2.7 / 2.8 require and
 * lies contiguous in guest memory.  Returns 0 or -EINVAL / -EFAULT.
 */
int vq_init(struct vq *q, const struct vq_config *cfg);

/* Did the driver mark a transmit indirect table's entries device-writable (vq.writable_read)?  Any thread. */
static inline bool vq_writable_read(const struct vq *q)
{
	return __atomic_load_n(&q->writable_read, __ATOMIC_RELAXED);
}

/*
 * Resume from a saved position (vhost-user SET_VRING_BASE).  Split: @base
 * is the next available index to process, and the used index.  Packed, as
 * QEMU encodes it: bits 0-14 the available position, bit 15 its wrap
 * counter, bits 16-30 and 31 the same for the used side (when bits 16-31
 * are all zero, as DPDK's virtio-user sends it, used starts at available).
 */
void vq_set_base(struct vq *q, uint32_t base);

/* The position to save (vhost-user GET_VRING_BASE), same encoding. */
uint32_t vq_get_base(const struct vq *q);

/*
 * Pop the next available descriptor chain into @iov (capacity @iov_max).
 * Returns 0 with @elem filled, -EAGAIN when no buffer is available, -EIO
 * when the queue is broken, or another -errno for the violation that just
 * broke it.  A chain needing more than @iov_max iovecs is such a violation
 * (-E2BIG): @iov_max is the device's chain limit (2.7.4.1 "The device MAY
 * have a reasonable limit of descriptors"), so size it for the largest
 * chain an honest driver builds.  @elem is overwritten on every call.
 */
static inline int vq_pop(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max);

/* vq_pop() for whatever its inline fast path leaves (vsw/virtq_inline.h): every other case and every error. */
int vq_pop_slow(struct vq *q, struct vq_elem *elem, struct iovec *iov, unsigned iov_max);

/* The buffers a vq_pop_burst() takes: the device's use of them. */
enum vq_dir {
	VQ_DIR_ANY,	/* either */
	VQ_DIR_READ,	/* only read by the device: a transmit queue's */
	VQ_DIR_WRITE,	/* only written: a receive queue's */
};

/*
 * vq_pop() of up to @max chains in a row while each is one descriptor in
 * the guest memory region of the last translation (its common case, the
 * inline fast path's): elem[i] and its one iovec iov[i], exactly as vq_pop()
 * would give them, with the queue's fields and the region read once for
 * the whole run instead of once per chain.  Stops before the first chain
 * that is anything else (none available, split: none behind the avail->idx
 * last read; a chain, an indirect table, another region, every violation),
 * which it leaves to vq_pop().  Returns how many it popped; a caller that
 * wants fewer (a byte budget) gives the last ones back with vq_unpop(),
 * newest first.  Returns 0 for a broken queue.  With @dir VQ_DIR_READ or
 * VQ_DIR_WRITE it also stops before a descriptor of the other direction
 * (vq_pop() then gives it as it would, to the caller's own checks), and
 * takes the run's descriptors with one flags compare each.
 */
unsigned vq_pop_burst(struct vq *q, enum vq_dir dir, struct vq_elem *elem, struct iovec *iov, unsigned max);

/*
 * After a vq_pop_burst() that took fewer than asked: true when it stopped
 * because nothing more was available as far as it looked (split: the
 * available index last read, not read again here; packed: the next
 * descriptor, whose line the run just read, not available), false when a
 * chain it leaves to vq_pop() waits there.  A caller that has what there
 * was can stop without another look at the driver's side of the ring
 * (on a ring another CPU writes, a cache miss each time); a buffer made
 * available since then is found by the next burst.  True for a broken
 * queue.
 */
bool vq_avail_seen_empty(struct vq *q);

/*
 * A hint before popping up to @n chains: start loading their descriptors
 * into the cache so the pops that follow do not wait for each in turn (on
 * a ring another CPU writes, every descriptor line is a cache miss).
 * Nothing read here is acted on; vq_pop() reads and checks everything again.
 */
void vq_prefetch(struct vq *q, unsigned n);

/*
 * Stage @elem as used with @len bytes written into its writable part
 * (clamped to elem->in_len).  Elements must be pushed in the order they
 * were popped.  Nothing is visible to the driver before vq_flush().
 */
static inline void vq_push(struct vq *q, const struct vq_elem *elem, uint32_t len);

/* vq_push() of @n elements popped in a row, each with @len bytes (clamped to its in_len): the checks once for all. */
static inline void vq_push_n(struct vq *q, const struct vq_elem *elem, unsigned n, uint32_t len);

/* The same with a length each, @lens[0 .. @n). */
static inline void vq_push_lens(struct vq *q, const struct vq_elem *elem, const uint32_t *lens, unsigned n);

/* vq_push() with dirty logging (elements staged, written and marked at vq_flush()), or behind elements so staged. */
void vq_push_slow(struct vq *q, const struct vq_elem *elem, uint32_t len);

/*
 * Give back the most recently popped chain, unused and unpushed (a frame
 * that did not fit): the next vq_pop() returns it again.  Chains must be
 * given back in the reverse order of popping, before any vq_push() of them.
 */
void vq_unpop(struct vq *q, const struct vq_elem *elem);

/* Publish everything staged: one used index (split) or head flags (packed) store. */
void vq_flush(struct vq *q);

/*
 * After vq_flush(): does the driver want a used-buffer notification for
 * what was published since the last call?  Honours VIRTQ_AVAIL_F_NO_INTERRUPT,
 * used_event (EVENT_IDX) or the packed driver event suppression structure.
 * Records the current used position for the next call.
 */
bool vq_need_notify(struct vq *q);

/* Ask the driver not to kick (we are polling). */
void vq_kick_disable(struct vq *q);

/*
 * Ask the driver to kick when it adds buffers, then look again: returns
 * true when buffers became available in between, in which case the caller
 * must keep processing (the kick it asked for may never come).
 */
bool vq_kick_enable(struct vq *q);

/* Is a buffer available right now? (A broken queue has none.) */
bool vq_has_avail(struct vq *q);

/*
 * Mark the pages of [@gpa, @gpa + @len) dirty in @log, after the bytes were
 * written.  Each mark is an atomic OR with release ordering: our writes to
 * the page come before the bit the front end reads, so a page it copies
 * after clearing the bit holds them.
 */
void vq_log_mark(struct vq_log *log, uint64_t gpa, uint64_t len);

/*
 * Log what the device wrote into a popped chain's writable part: the first
 * @len bytes of @iov[0 .. @niov), host addresses from vq_pop(), translated
 * back to guest physical.  No-op when logging is off.
 */
void vq_log_iov(struct vq *q, const struct iovec *iov, unsigned niov, uint64_t len);

/* The queue's dirty log, NULL when off: test once per batch. */
static inline struct vq_log *vq_logging(const struct vq *q) { return q->log; }

static inline bool vq_broken(const struct vq *q) { return q->broken; }
static inline const char *vq_error(const struct vq *q) { return q->error; }

/* The inline fast paths of vq_pop() and vq_push(). */
#include "vsw/virtq_inline.h"

#endif
