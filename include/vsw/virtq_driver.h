/* virtq_driver.h - the driver side of a virtqueue: add buffers, kick, reap used ones. */
#ifndef VSW_VIRTQ_DRIVER_H
#define VSW_VIRTQ_DRIVER_H

/*
 * The role of the guest's virtio_ring.c (virtqueue_add, virtqueue_kick_prepare,
 * virtqueue_get_buf, virtqueue_enable_cb), for both layouts.  It is the base
 * of vsw's own front end and of the transport tests.
 *
 *   vq_drv_add() ... vq_drv_add()   chains written, not yet visible
 *   vq_drv_kick_prepare()           publish them at once; kick if asked
 *   vq_drv_get_used()               reap what the device used
 *   vq_drv_call_enable()            re-arm the used-buffer notification
 *
 * The driver owns the ring memory: it lives in memory the device can see
 * (shared with it), at the host pointers given here.  Buffer addresses are
 * whatever the device translates (guest physical addresses).  The device is
 * checked too: a used id that is not in flight latches the queue broken.
 *
 * One thread at a time may use a struct vq_drv.
 */

#include <stdbool.h>
#include <stdint.h>

#include "vsw/virtio_spec.h"

struct vq_drv_config {
	unsigned num;		/* queue size; a power of 2 for split */
	bool packed, event_idx, indirect, in_order;
	void *desc;		/* descriptor table / ring, 16-byte aligned */
	void *driver_area;	/* split: available ring; packed: driver event suppression */
	void *device_area;	/* split: used ring; packed: device event suppression */
	/*
	 * With indirect: num tables of indirect_max descriptors each, table i at
	 * indirect_hva + i * indirect_max * 16, seen by the device at indirect_gpa.
	 */
	void *indirect_hva;
	uint64_t indirect_gpa;
	unsigned indirect_max;
};

/* One buffer element: device-visible address and length. */
struct vq_seg {
	uint64_t addr;
	uint32_t len;
};

struct vq_drv_slot {			/* per head (split) or buffer id (packed) */
	void *token;			/* NULL: not in flight */
	uint16_t ndesc;			/* ring descriptors the chain took */
	uint32_t in_len;		/* writable bytes, the length of a skipped in-order buffer */
};

/* Driver-side queue state; fields are private to src/virtio. */
struct vq_drv {
	unsigned num;
	bool packed, event_idx, indirect, in_order;
	bool broken;
	const char *error;
	union virtq_rings ring;
	uint8_t *indirect_hva;
	uint64_t indirect_gpa;
	unsigned indirect_max;

	struct vq_drv_slot *slot;	/* [num] */
	uint16_t *free_next;		/* [num] split: free descriptor list; packed: free id list */
	uint16_t free_head, free_tail;
	unsigned nfree;			/* free descriptors (split) / ring slots (packed) */
	unsigned nfree_ids;		/* packed: free buffer ids */
	uint16_t *order;		/* [num] in flight heads/ids in submission order (in-order) */
	uint16_t order_head;		/* oldest in flight */
	uint16_t order_count;
	unsigned inflight;		/* buffers added and not yet reaped */
	struct {			/* in-order: a used entry that stands for several buffers */
		uint16_t last_id;	/* id the device wrote: the batch ends there */
		uint32_t last_len;	/* the length it wrote for that last buffer */
		bool active;
	} batch;

	/* Available side. */
	uint16_t avail_idx;		/* split: shadow of avail->idx; packed: next position */
	bool avail_wrap;		/* packed */
	uint16_t num_added;		/* chains added since the last kick_prepare */
	uint16_t added_desc;		/* packed: descriptors added since then */
	struct {			/* packed: first head of the unpublished batch */
		uint16_t pos;
		uint16_t flags;
		bool pending;
	} batch_head;

	/* Used side. */
	uint16_t last_used;		/* split: free-running; packed: position */
	bool used_wrap;			/* packed */
	uint16_t used_idx_cache;	/* split: last used->idx read */
	bool call_disabled;
};

/* Zero the rings and set up @d.  Returns 0, -EINVAL or -ENOMEM. */
int vq_drv_init(struct vq_drv *d, const struct vq_drv_config *cfg);

/* Free what vq_drv_init() allocated (not the ring memory). */
void vq_drv_fini(struct vq_drv *d);

/*
 * Add one buffer: @out_num readable then @in_num writable segments from
 * @segs, identified by @token (not NULL).  Uses an indirect table when the
 * queue has them and the buffer has more than one segment.  The buffer is
 * not visible to the device before vq_drv_kick_prepare().  Returns 0,
 * -ENOSPC when the ring is full, -EINVAL for a bad request, -EIO when broken.
 */
int vq_drv_add(struct vq_drv *d, const struct vq_seg *segs, unsigned out_num,
	       unsigned in_num, void *token);

/*
 * The common case of vq_drv_add(), a burst at a time: @n buffers of one
 * segment each (@segs[i], token @tokens[i]), all device-readable or all
 * (@writable) device-writable, as a virtio-net driver lays out a frame with
 * its header in front (VERSION_1 allows any layout).  No indirect tables;
 * the queue's state is read once for the burst.  Returns how many were
 * added (fewer when the ring fills up or a segment is empty or a token
 * NULL), or -EIO when broken.
 */
int vq_drv_add_burst(struct vq_drv *d, const struct vq_seg *segs, void *const *tokens, unsigned n, bool writable);

/*
 * A hint before adding @n one-segment buffers: start taking the ring lines
 * they will be written to (descriptors; split: available ring entries) for
 * writing.  The device last read them from its CPU.  No state changes.
 */
void vq_drv_prefetch_add(const struct vq_drv *d, unsigned n);

/*
 * Publish every buffer added since the last call with one index (split) or
 * head flags (packed) store, and say whether the device asked to be kicked.
 */
bool vq_drv_kick_prepare(struct vq_drv *d);

/*
 * Reap one used buffer: its token and the bytes the device wrote.  Returns
 * 0, -EAGAIN when none is used, -EIO when the device broke the ring.
 */
int vq_drv_get_used(struct vq_drv *d, void **token, uint32_t *len);

/*
 * Reap up to @max used buffers at once: their tokens into @tokens and the
 * bytes written into @lens (NULL: not wanted), as vq_drv_get_used() would
 * one by one (an in-order batch entry gives every buffer it stands for).
 * The split ring's used index is read only when the last value read is
 * used up, so a burst may return fewer than are used by now.  Returns
 * how many (0: none used), or -EIO when the device broke the ring (the
 * buffers before it are lost to the caller: the queue is dead anyway).
 */
int vq_drv_get_used_burst(struct vq_drv *d, void **tokens, uint32_t *lens, unsigned max);

/* Ask the device not to send used-buffer notifications. */
void vq_drv_call_disable(struct vq_drv *d);

/*
 * Ask for a notification on the next used buffer, then look again: returns
 * true when used buffers are already waiting (reap them; no call may come).
 */
bool vq_drv_call_enable(struct vq_drv *d);

/* How many more single-segment buffers fit now. */
unsigned vq_drv_free_slots(const struct vq_drv *d);

/* Buffers in flight (added, not yet reaped). */
unsigned vq_drv_in_flight(const struct vq_drv *d);

#endif
