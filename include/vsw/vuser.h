/* vuser.h - vsw's virtio-net front end over vhost-user (the role of DPDK's virtio-user). */
#ifndef VSW_VUSER_H
#define VSW_VUSER_H

/*
 * A program becomes the "guest" of any vhost-user back end (vswd, DPDK's
 * vhost library, OVS): it shares a memfd as guest memory (guest physical
 * address = our virtual address), lays out split or packed rings in it,
 * negotiates features and protocol features, and then moves frames:
 *
 *   vuser_tx_burst()  frame bytes -> tx buffer (one copy) -> tx vring -> kick if asked
 *   vuser_rx_burst()  rx vring used buffers -> frames (mergeable buffers joined) -> refill
 *
 * As in the guest's virtio_net driver (start_xmit / virtnet_poll /
 * try_fill_recv), transmit buffers are reclaimed lazily and the rx ring is
 * refilled after each burst.  Busy polling by default; vuser_wait() blocks
 * on the call eventfd with used-buffer notifications enabled.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VUSER_MAX_QUEUE_PAIRS 8
#define VUSER_RX_BUF_MRG 2048u	/* a mergeable receive buffer, like Linux's: ~a page fraction each */

struct vuser_config {
	const char *path;	/* vhost-user socket */
	bool server;		/* listen on path and wait for the back end to connect */
	unsigned queue_pairs;	/* default 1 */
	unsigned queue_size;	/* default 256 */
	bool packed;		/* VIRTIO_F_RING_PACKED */
	bool no_mrg_rxbuf;	/* turn VIRTIO_NET_F_MRG_RXBUF off */
	bool no_event_idx;	/* turn VIRTIO_F_EVENT_IDX off */
	bool indirect;		/* offer VIRTIO_F_INDIRECT_DESC (frames are one segment: unused) */
	bool in_order;		/* offer VIRTIO_F_IN_ORDER */
	uint32_t mtu;		/* largest frame payload expected (default 1500); sizes rx buffers without mrg */
	unsigned connect_timeout_ms;	/* default 5000 */
	bool tso4;		/* ask for CSUM + HOST_TSO4 (send) and GUEST_CSUM + GUEST_TSO4 (receive); mtu 65536 fits one */
	bool no_guest_offload;	/* with tso4: ask for the send side only (receive finished frames) */
	bool fixed;		/* fixed buffers: the vuser_fixed_*() calls instead of the bursts (not with in_order) */
};

struct vuser_frame {
	const uint8_t *data;	/* valid until the next vuser_rx_burst() on the queue pair */
	uint32_t len;
};

struct vuser;
struct vnet_info;	/* packet/vnet_hdr.h: a virtio-net header, converted */

/* Connect (or accept), negotiate, set up rings and fill rx.  NULL with @err on failure. */
struct vuser *vuser_open(const struct vuser_config *cfg, char *err, size_t errlen);

/* Send up to @n frames on queue pair @qp; returns how many were queued (ring full: fewer). */
unsigned vuser_tx_burst(struct vuser *u, unsigned qp, const struct vuser_frame *frames, unsigned n);

/* Receive up to @max frames from queue pair @qp; returns the count. */
unsigned vuser_rx_burst(struct vuser *u, unsigned qp, struct vuser_frame *frames, unsigned max);

/*
 * The same with the virtio-net header of each frame: @vnet[i] becomes
 * frame i's header on tx (vnet_hdr_build(); the caller asks only for what
 * was negotiated, vuser_features()), and gets it on rx, checked by
 * vnet_hdr_parse() against what this end acked (GUEST_*): a frame whose
 * header asks for anything else is dropped and counted (rx_bad_hdr).
 * Without these calls headers are zero on tx and ignored on rx.
 */
unsigned vuser_tx_burst_vnet(struct vuser *u, unsigned qp, const struct vuser_frame *frames,
			     const struct vnet_info *vnet, unsigned n);
unsigned vuser_rx_burst_vnet(struct vuser *u, unsigned qp, struct vuser_frame *frames, struct vnet_info *vnet,
			     unsigned max);

/*
 * Fixed buffers (vuser_config.fixed), a generator's short way: tx buffer i
 * and rx buffer i stay behind the ring's descriptor (split) or buffer id
 * (packed) i, so nothing is copied and no descriptor rewritten per frame.
 *
 *   vuser_fixed_tx_fill()  a frame of @len bytes into every tx buffer, once,
 *                          behind the virtio-net header @vi (NULL: zero)
 *   vuser_fixed_tx_bufs()  up to @n free tx buffers' frames, each still
 *                          holding what it last sent: the caller rewrites
 *                          what changes (a sequence number, an address)
 *   vuser_fixed_tx_send()  send the first @n of those as frames of @len bytes
 *   vuser_fixed_rx()       up to @max frames received, valid until the next
 *                          call, whose buffers then go back to the ring
 *   vuser_fixed_rx_vnet()  the same with each frame's header, checked as
 *                          vuser_rx_burst_vnet() checks it
 *
 * Each receive buffer holds one frame of the mtu whole (with mergeable
 * buffers too: then the mtu, not 2 KiB, sizes them), and with GUEST_TSO4
 * acked one of 64 KiB, whatever the mtu.
 *
 * A device at fault (an id not in flight, a length past its buffer)
 * breaks the ring: vuser_error() says why.  The burst calls return 0 on
 * such a front end.
 */
void vuser_fixed_tx_fill(struct vuser *u, unsigned qp, const uint8_t *frame, uint32_t len, const struct vnet_info *vi);
unsigned vuser_fixed_tx_bufs(struct vuser *u, unsigned qp, uint8_t **frames, unsigned n);
unsigned vuser_fixed_tx_send(struct vuser *u, unsigned qp, unsigned n, uint32_t len);
unsigned vuser_fixed_rx(struct vuser *u, unsigned qp, struct vuser_frame *frames, unsigned max);
unsigned vuser_fixed_rx_vnet(struct vuser *u, unsigned qp, struct vuser_frame *frames, struct vnet_info *vnet,
			     unsigned max);

/* Block up to @timeout_ms for a used-buffer notification on @qp's rx ring; 1 ready, 0 timeout. */
int vuser_wait_rx(struct vuser *u, unsigned qp, int timeout_ms);

/* Negotiated virtio feature bits. */
uint64_t vuser_features(const struct vuser *u);

/* The reason the session failed (broken ring, back end gone), or NULL. */
const char *vuser_error(const struct vuser *u);

/* Counters: frames the ring could not take on tx, kicks sent, headers refused. */
struct vuser_stats {
	uint64_t tx_frames, tx_full, rx_frames, kicks;
	uint64_t rx_bad_hdr;	/* vuser_rx_burst_vnet(): frames dropped for a header this end did not ack */
};
void vuser_get_stats(const struct vuser *u, struct vuser_stats *s);

/* Stop and free everything (GET_VRING_BASE on each ring, then close). */
void vuser_close(struct vuser *u);

#endif
