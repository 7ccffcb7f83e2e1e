/* port_vhost.c - vhost-user port: a VM's virtio-net tx vrings feed the switch, its rx vrings take frames out. */
#include "port/port_vhost.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/perf.h"
#include "lib/prefetch.h"
#include "lib/unix_sock.h"
#include "packet/iov.h"
#include "packet/vnet_hdr.h"
#include "vhost_user/vu_dev.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"

/*
 * Data path, per queue pair q (virtio-net numbering: rx vring 2q, tx vring 2q+1):
 *
 *   guest tx vring --rx_burst--> pkt views into the guest's buffers --> switch
 *   switch --tx_burst--> copy into guest rx vring buffers (mergeable: num_buffers):
 *                        the pkt's head (private), then the rest of its view
 *
 * rx_burst/rx_done of queue q run on the one worker that polls q.  tx_burst
 * may come from any worker, so each rx vring has a spinlock, taken once per
 * burst, never per frame.
 *
 * Notifications: one write() of the vring's call eventfd per burst, when
 * the driver asked for one, and never under the spinlock.  vu_dev.c takes
 * only eventfds and makes them non-blocking; a front end can still make
 * its eventfd blocking again (the file description is shared), so the
 * write is bracketed by io->blame: if it blocks, the data path watchdog
 * (dp.h) breaks the port and interrupts the write, and a broken port is
 * never notified again.
 */

#define VP_CHAIN_IOV 256	/* iovecs one chain may need */
#define VP_IOV_POOL 4096	/* iovecs per burst */
#define VP_MERGE_MAX 96		/* receive buffers one frame may span */
#define VP_TX_ELEMS (PKT_BURST + VP_MERGE_MAX) /* receive buffers taken per chunk of a tx burst */

/*
 * The features this device offers.  MQ (which needs CTRL_VQ; the front
 * end serves the control queue itself) only with more than one queue pair.
 * Offloads (VP_FEATURES_OFFLOAD), each direction obeying what the driver
 * acked (vp_offloads()):
 *   driver -> device: CSUM (NEEDS_CSUM), HOST_TSO4/6, HOST_ECN, HOST_USO:
 *     the requests vnet_hdr_parse() lets through, then checked against the
 *     frame (port_offload_rx_ok());
 *   device -> driver: GUEST_CSUM (NEEDS_CSUM, DATA_VALID), GUEST_TSO4/6,
 *     GUEST_ECN, GUEST_USO4 + GUEST_USO6: what the port takes whole
 *     (port.tx_offload); the rest is done before it (dp/offload.h).
 * UFO neither way (IP fragments: deprecated in Linux).  QEMU 7.2 knows no
 * USO bit: its virtio-net never offers one to the guest, so the USO bits
 * here are only ever acked by newer front ends.
 * GUEST_ANNOUNCE needs CTRL_VQ too, which QEMU offers and serves itself for
 * vhost-user (it is not among the bits the back end masks): after a
 * migration QEMU then asks the guest to announce itself (gratuitous ARP on
 * the data path) instead of sending us SEND_RARP (QEMU's
 * vhost_user_migration_done).
 */
#define VIRTIO_F_ANY_LAYOUT 27
#define VP_FEATURES                                                                                     \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
	 VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |                          \
	 VIRTIO_BIT(VIRTIO_F_RING_PACKED) | VIRTIO_BIT(VIRTIO_F_IN_ORDER) | VIRTIO_BIT(VIRTIO_NET_F_MTU) | \
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE))
#define VP_FEATURES_MQ (VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))
#define VP_FEATURES_OFFLOAD                                                                                  \
	(VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | \
	 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_HOST_USO) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) |                               \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_USO4) |                                \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_USO6))

struct vp_queue {
	/* guest -> switch, owned by one worker */
	unsigned rx_popped;
	struct vq_elem rx_elems[PKT_BURST];
	uint16_t rx_iov_at[PKT_BURST];		/* where each chain's iovecs start in rx_iov */
	struct iovec rx_iov[VP_IOV_POOL];
	struct port_queue_count rx_count;	/* the guest's frames taken from this pair's tx vring */
	/* switch -> guest, under tx_lock */
	pthread_spinlock_t tx_lock;
	struct port_queue_count tx_count;	/* frames put in this pair's rx vring */
	struct vq_elem tx_elems[VP_TX_ELEMS];
	uint16_t tx_iov_at[VP_TX_ELEMS];
	uint32_t tx_len[VP_TX_ELEMS];		/* bytes written into each, pushed together at the chunk's end */
	struct iovec tx_iov[VP_IOV_POOL];
	/* SEND_RARP's frame, built by the worker that emits it (queue 0) */
	uint8_t rarp[60];
	struct iovec rarp_iov;
};

/* What the watchdog blames when a notification of vring idx blocks (port.h, dp.h). */
struct vp_blame {
	struct port_blame b;
	struct vhost_port *vp;
	unsigned idx;
};

struct vhost_port {
	struct port port;
	struct port_env env;
	struct vu_dev dev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool client;
	unsigned queues;
	int listen_fd;
	struct unix_sock_id listen_id;	/* the inode bound at path: the only one destroy unlinks */
	struct ev_handler listen_h, conn_h;
	uint64_t sessions;
	char last_error[200];
	atomic_bool dp_error;		/* a worker found a broken ring */
	atomic_bool dp_error_claimed;
	char dp_error_msg[160];
	struct vp_blame blame[VU_MAX_VRINGS];
	struct vp_queue *qs;
	uint8_t rarp_mac[6];		/* written before rarp_pending is set */
	atomic_bool rarp_pending;
	bool fault_skip_rx_log;		/* tests only: VSW_FAULT_SKIP_RX_LOG, must break migration */
	bool told_log_missed;		/* warned that pages fell outside the dirty log, this log */
	bool told_writable_read;	/* said that the driver marks transmit buffers writable, this session */
	/* What the driver acked, as the data path uses it (vp_offloads(), while the rings are off). */
	unsigned rx_accept;		/* VNET_ACCEPT_*: requests taken from the driver's headers */
	bool guest_csum;		/* DATA_VALID may go to the driver */
};

static struct vhost_port *vp_of(struct port *p) { return (struct vhost_port *)p; }

/* ---- data path ---- */

static void vp_dp_error(struct vhost_port *vp, unsigned idx, const char *why)
{
	if (!atomic_exchange(&vp->dp_error_claimed, true)) {
		snprintf(vp->dp_error_msg, sizeof(vp->dp_error_msg), "vring %u: %s", idx, why);
		atomic_store(&vp->dp_error, true);
	}
}

/* The watchdog found a worker blocked in our notification (port_blame.stalled, control thread). */
static void vp_stalled(const struct port_blame *b, unsigned worker, unsigned ms)
{
	const struct vp_blame *vb = (const struct vp_blame *)b;
	char why[80];

	snprintf(why, sizeof(why), "call fd blocked worker %u for %u ms", worker, ms);
	vp_dp_error(vb->vp, vb->idx, why);
}

/*
 * The call fd to notify after a burst on @vr, or -1: only when the driver
 * asked (EVENT_IDX or flags), and never for a broken port.  Under the
 * vring's lock when there is one (vq_need_notify() tracks what was
 * signalled); the write comes after, by vp_notify().
 */
static int vp_notify_fd(struct vhost_port *vp, struct vu_vring *vr)
{
	if (vr->call_fd < 0 || !vq_need_notify(&vr->vq) || atomic_load_explicit(&vp->dp_error, memory_order_relaxed))
		return -1;
	return vr->call_fd;
}

/* One eventfd write for @frames, outside any lock, named in io->blame while it lasts (timed: lib/perf.h). */
static void vp_notify(struct vhost_port *vp, struct port_io *io, unsigned idx, int fd, unsigned frames)
{
	uint64_t one = 1, t0;

	if (fd < 0)
		return;
	t0 = dp_perf_note_start(io->perf);
	atomic_store_explicit(&io->blame, &vp->blame[idx].b, memory_order_relaxed);
	if (write(fd, &one, sizeof(one)) < 0) {
		/*
		 * EAGAIN: the counter is saturated, so the driver has a
		 * notification pending anyway.  EINTR: the watchdog interrupted
		 * a write that blocked, and broke the port.
		 */
	}
	atomic_store_explicit(&io->blame, NULL, memory_order_relaxed);
	dp_perf_note(io->perf, DP_PT_NOTIFY, t0, frames);
}

/*
 * Copy a virtio-net header of @hdr_len bytes (10 or 12) with moves of a
 * size known at compile time: 8 bytes, then 2 or 4.  A memcpy of a length
 * known only at run time is a libc call per frame.
 */
static inline void vp_hdr_copy(void *dst, const void *src, unsigned hdr_len)
{
	memcpy(dst, src, 8);
	if (hdr_len == 12)
		memcpy((char *)dst + 8, (const char *)src + 8, 4);
	else
		memcpy((char *)dst + 8, (const char *)src + 8, 2);
}

/* Read a chain's virtio-net header (@hdr_len bytes): in place when the first iovec holds it. */
static void vp_peek_hdr(const struct iovec *iov, unsigned n, void *buf, unsigned hdr_len)
{
	if (iov[0].iov_len >= hdr_len)
		vp_hdr_copy(buf, iov[0].iov_base, hdr_len);
	else
		iov_to_buf(iov, n, 0, buf, hdr_len);
}

/*
 * Start loading the cache lines of the first @len bytes of a chain's first
 * iovec: the virtio-net header, and the frame's bytes the parse stage
 * copies into the head (three lines at most: 12 + PKT_HEAD_COPY bytes).
 */
static inline void vp_prefetch_head(const struct iovec *iov, size_t len)
{
	const char *b = iov->iov_base;

	if (len > iov->iov_len)
		len = iov->iov_len;
	prefetch_r(b);
	if (len > 1)
		prefetch_r(b + len - 1);
	if (len > 64)
		prefetch_r(b + 64); /* the middle line when there are three */
}

/*
 * The same for a receive buffer about to take a frame of @need bytes with
 * its header: the header's line for reading (vp_put_hdr() writes it only if
 * it changed) unless the frame starts on it too, the frame's lines for
 * writing.  A read prefetch and then a write one of the same line would
 * cost two transfers from the driver's CPU.
 */
static inline void vp_prefetch_rx_buf(const struct iovec *iov, unsigned hdr_len, size_t need)
{
	const char *b = iov->iov_base;

	if (need > iov->iov_len)
		need = iov->iov_len;
	if (need > hdr_len && ((uintptr_t)b >> 6) == ((uintptr_t)(b + hdr_len) >> 6)) {
		/* The frame starts on the header's line: it is written anyway, take it once, to own. */
		prefetch_w(b);
	} else {
		prefetch_r(b);
		if (need > hdr_len)
			prefetch_w(b + hdr_len);
	}
	if (need > 64)
		prefetch_w(b + need - 1);
}

/*
 * Write a virtio-net header into a receive buffer.  In a burst, only if it
 * differs from what is there: drivers recycle their buffers, the header is
 * mostly the same as last time, and a line we never write stays shared
 * with the driver's cache instead of bouncing between the two CPUs on every
 * frame.  A lone frame writes blindly: the read would be a cache miss with
 * nothing to overlap it, on the frame's way to the guest (~80 ns).
 */
static inline void vp_put_hdr(void *dst, const struct virtio_net_hdr_v1 *h, unsigned hdr_len, bool burst)
{
	uint64_t a, b;
	uint16_t c = 0, d = 0;
	uint32_t e = 0, g = 0;

	if (!burst) {
		vp_hdr_copy(dst, h, hdr_len);
		return;
	}
	/* Two or three plain loads (hdr_len is 10 or 12): cheaper than a call to memcmp for 12 bytes. */
	memcpy(&a, dst, 8);
	memcpy(&b, h, 8);
	if (hdr_len == 12) {
		memcpy(&e, (const char *)dst + 8, 4);
		memcpy(&g, (const char *)h + 8, 4);
	} else {
		memcpy(&c, (const char *)dst + 8, 2);
		memcpy(&d, (const char *)h + 8, 2);
	}
	if (a != b || c != d || e != g)
		vp_hdr_copy(dst, h, hdr_len);
}

/*
 * The frame QEMU sends itself for a back end without SEND_RARP (RFC 903
 * reverse request, "I am @mac"): broadcast, so every switch on the way
 * learns @mac on the port it came from.
 */
static void vp_rarp_build(struct vp_queue *qs, const uint8_t mac[6])
{
	uint8_t *f = qs->rarp;

	memset(f, 0, sizeof(qs->rarp));
	memset(f, 0xff, 6);			/* destination: broadcast */
	memcpy(f + 6, mac, 6);			/* source: the guest */
	f[12] = 0x80, f[13] = 0x35;		/* ethertype RARP */
	f[14] = 0, f[15] = 1;			/* hardware type: Ethernet */
	f[16] = 0x08, f[17] = 0x00;		/* protocol type: IPv4 */
	f[18] = 6, f[19] = 4;			/* address lengths */
	f[20] = 0, f[21] = 3;			/* operation: reverse request */
	memcpy(f + 22, mac, 6);			/* sender hardware address; sender IP 0 */
	memcpy(f + 32, mac, 6);			/* target hardware address; target IP 0 */
	qs->rarp_iov = (struct iovec){ .iov_base = f, .iov_len = sizeof(qs->rarp) };
}

/*
 * Guest tx vring -> switch.  Two passes over the burst so that the cache
 * misses overlap instead of queueing: the first pops every chain (its
 * descriptors were prefetched) and starts loading each frame's first
 * line; the second reads the headers, which have arrived by then.
 */
static __attribute__((noinline)) unsigned vp_rx_pop(struct vhost_port *vp, struct vp_queue *qs, unsigned q,
						     struct vu_vring *vr, struct port_io *io, struct pkt *pkts,
						     unsigned max);

/* A queue the front end started: its poll with nothing available is vq_avail_maybe()'s one read. */
static bool vp_rx_poll_cheap(struct port *p, unsigned q)
{
	struct vhost_port *vp = vp_of(p);

	return atomic_load_explicit(&vp->dev.vrings[virtio_net_txq(q)].live, memory_order_relaxed);
}

/*
 * The poll: a queue with nothing available (a busy-polling worker keeps
 * polling a few idle ones, dp.h) costs a read of the driver's side and
 * returns, before vp_rx_pop() sets anything up.
 */
static unsigned vp_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct vhost_port *vp = vp_of(p);
	struct vp_queue *qs = &vp->qs[q];
	struct vu_vring *vr = &vp->dev.vrings[virtio_net_txq(q)];

	qs->rx_popped = 0;
	if (!atomic_load_explicit(&vr->live, memory_order_acquire))
		return 0;
	if (!vq_avail_maybe(&vr->vq) && (q || !atomic_load_explicit(&vp->rarp_pending, memory_order_relaxed)))
		return 0;
	return vp_rx_pop(vp, qs, q, vr, io, pkts, max);
}

static unsigned vp_rx_pop(struct vhost_port *vp, struct vp_queue *qs, unsigned q, struct vu_vring *vr,
			  struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct port *p = &vp->port;
	unsigned idx = virtio_net_txq(q), hdr_len, used = 0, n = 0, popped = 0, rarp;
	unsigned drops[DROP__COUNT] = { 0 };
	uint64_t budget = 0, bytes = 0;

	hdr_len = vu_dev_net_hdr_len(&vp->dev);
	/* Acquire (the exchange): rarp_mac was written before the flag was set. */
	if (q == 0 && max > 0 && atomic_load_explicit(&vp->rarp_pending, memory_order_relaxed) &&
	    atomic_exchange_explicit(&vp->rarp_pending, false, memory_order_acquire)) {
		vp_rarp_build(qs, vp->rarp_mac);
		pkt_rx_init(&pkts[n++], &qs->rarp_iov, 1, sizeof(qs->rarp), p->id);
		bytes += sizeof(qs->rarp);
		max--;
	}
	rarp = n;
	vq_prefetch(&vr->vq, max);
	while (popped < max && budget < PKT_BURST_BYTES && VP_IOV_POOL - used >= VP_CHAIN_IOV) {
		struct vq_elem *e = &qs->rx_elems[popped];
		/*
		 * Lone descriptors in a run (one iovec each; as many as the test
		 * above would let through), those after the one that reaches the
		 * byte budget given back;
		 */
		unsigned room = VP_IOV_POOL - VP_CHAIN_IOV + 1 - used, want = max - popped < room ? max - popped : room;
		unsigned k = vq_pop_burst(&vr->vq, VQ_DIR_READ, e, &qs->rx_iov[used], want), j;
		int rc;

		for (j = 0; j < k && budget < PKT_BURST_BYTES; j++, used++) {
			const struct vq_elem *ej = &qs->rx_elems[popped];

			/* A run of read-only buffers (VQ_DIR_READ): each one's iovec holds its header and frame. */
			vp_prefetch_head(&qs->rx_iov[used], hdr_len + PKT_HEAD_COPY);
			qs->rx_iov_at[popped++] = (uint16_t)used;
			budget += ej->out_len;
		}
		for (unsigned u = k; u > j; u--)
			vq_unpop(&vr->vq, &qs->rx_elems[popped + u - 1 - j]);
		/*
		 * Fewer than asked and nothing more available, as the run saw it:
		 * done, without another look at the driver's index or descriptor
		 * (a line its CPU is writing): light load, every burst.
		 */
		if (k < want && vq_avail_seen_empty(&vr->vq))
			break;
		if (k)
			continue;
		/* then anything else, one chain. */
		rc = vq_pop(&vr->vq, e, &qs->rx_iov[used], VP_CHAIN_IOV);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			vp_dp_error(vp, idx, vq_error(&vr->vq));
			break;
		}
		if (e->out_num)
			vp_prefetch_head(&qs->rx_iov[used], hdr_len + PKT_HEAD_COPY);
		qs->rx_iov_at[popped++] = (uint16_t)used;
		used += e->out_num + e->in_num;
		budget += e->out_len;
	}
	qs->rx_popped = popped;

	for (unsigned i = 0; i < popped; i++) {
		const struct vq_elem *e = &qs->rx_elems[i];
		struct iovec *iov = &qs->rx_iov[qs->rx_iov_at[i]];
		struct virtio_net_hdr_v1 h = { 0 };
		struct vnet_info vi;
		enum vnet_bad why;
		struct pkt *pk = &pkts[n];
		size_t skip = hdr_len;
		unsigned k = 0;

		if (e->out_len < hdr_len + PKT_ETH_HLEN) {
			drops[DROP_RUNT]++;
			continue;
		}
		/*
		 * The common case: the header and the frame's first bytes in the
		 * first iovec (readable: out_len is not 0), no flag and no GSO,
		 * which vnet_hdr_parse() takes as they are and with nothing else
		 * of the header meaning anything (5.1.6.2).  flags and gso_type
		 * read once, as one private 16-bit copy; the rest below, as the
		 * frames that are not this case go.
		 */
		if (iov[0].iov_len > hdr_len && e->out_len - hdr_len <= PKT_MAX_FRAME) {
			uint16_t flags_gso;

			_Static_assert(offsetof(struct virtio_net_hdr_v1, gso_type) == 1 && VIRTIO_NET_HDR_GSO_NONE == 0,
				       "flags and gso_type: the header's first two bytes, both 0 in the common case");
			memcpy(&flags_gso, iov[0].iov_base, sizeof(flags_gso));
			if (flags_gso == 0) {
				iov[0].iov_base = (char *)iov[0].iov_base + hdr_len;
				iov[0].iov_len -= hdr_len;
				pkt_rx_init(pk, iov, e->out_num, e->out_len - hdr_len, p->id);
				bytes += pk->len;
				n++;
				continue;
			}
		}
		/* The header, copied once into private memory (5.1.6.2). */
		vp_peek_hdr(iov, e->out_num, &h, hdr_len);
		why = vnet_hdr_parse(&h, e->out_len - hdr_len, vp->rx_accept, &vi);
		if (why != VNET_OK) {
			/* a flag or GSO type that was not negotiated, fields that do not fit the frame */
			drops[DROP_BAD_HEADER]++;
			atomic_fetch_add_explicit(&p->header_bad[why], 1, memory_order_relaxed);
			continue;
		}
		if (e->out_len - hdr_len > PKT_MAX_FRAME) {
			drops[DROP_TOO_BIG]++;
			continue;
		}
		/* The view starts after the header, in place. */
		while (skip >= iov[k].iov_len) {
			skip -= iov[k].iov_len;
			k++;
		}
		iov[k].iov_base = (char *)iov[k].iov_base + skip;
		iov[k].iov_len -= skip;
		/* Its first bytes are copied once, by the parse stage, into the packet's head. */
		pkt_rx_init(pk, &iov[k], e->out_num - k, e->out_len - hdr_len, p->id);
		if (vnet_requests(&vi)) {
			vnet_to_pkt(&vi, pk);
			if (!port_offload_rx_ok(p, pk))
				continue; /* counted there, by reason */
		}
		bytes += pk->len;
		n++;
	}
	if (n) {
		port_count(&p->stats.rx_packets, n);
		port_count(&p->stats.rx_bytes, bytes);
		port_queue_count(&qs->rx_count, n, bytes);
	}
	if (n - rarp != popped)
		port_count_drops(p, drops);
	return n;
}

static void vp_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	struct vhost_port *vp = vp_of(p);
	struct vp_queue *qs = &vp->qs[q];
	unsigned idx = virtio_net_txq(q);
	struct vu_vring *vr = &vp->dev.vrings[idx];
	uint64_t t0;

	if (!qs->rx_popped)
		return;
	/* Transmit buffers are only read: used length 0. */
	vq_push_n(&vr->vq, qs->rx_elems, qs->rx_popped, 0);
	t0 = dp_perf_note_start(io->perf);
	vq_flush(&vr->vq);
	dp_perf_note(io->perf, DP_PT_PUBLISH, t0, qs->rx_popped);
	vp_notify(vp, io, idx, vp_notify_fd(vp, vr), qs->rx_popped);
	qs->rx_popped = 0;
}

/*
 * Switch -> guest rx vring, in chunks of two passes: take receive buffers
 * for each frame of the chunk (their descriptors prefetched, each first
 * buffer line prefetched for writing as it is popped), then copy the
 * frames.  The chunk starts by popping a buffer per frame ahead, in one
 * run (vq_pop_burst()), which the frames take before popping more.  Only a
 * frame's own buffers and those popped ahead are ever given back
 * (vq_unpop, newest first), and always before anything is pushed.  When
 * every frame of the burst fits the buffer popped ahead for it, needs no
 * offload and nothing is logged, vp_fill_flat() does both passes without
 * the per-frame bookkeeping.
 */
struct vp_fill {
	unsigned hdr_len;
	bool mrg, guest_csum;
	uint32_t max_frame;
	unsigned ne, used;	/* tx_elems and tx_iov taken in this chunk */
	unsigned nst;		/* tx_elems[ne, nst) popped ahead (vq_pop_burst()), their iovecs from tx_iov[used] on */
};

enum vp_take { VP_TAKEN, VP_CHUNK_FULL, VP_DROPPED };

/* Frame @pk may go whole into the buffer popped ahead as tx_elems[@j] (one iovec), its header in front. */
static inline bool vp_fits_ahead(const struct vp_fill *f, const struct vp_queue *qs, unsigned j, const struct pkt *pk)
{
	/* A TSO frame the driver takes whole may pass the MTU. */
	return (pk->len <= f->max_frame || pk->gso_type) && qs->tx_elems[j].in_len >= (uint64_t)f->hdr_len + pk->len;
}

/* Pop the receive buffers frame @pk needs into the chunk; VP_DROPPED says why in *@why. */
static enum vp_take vp_fill_take(struct vhost_port *vp, struct vp_queue *qs, struct vu_vring *vr, unsigned idx,
				 struct vp_fill *f, const struct pkt *pk, enum port_drop *why)
{
	uint64_t need = f->hdr_len + pk->len, got = 0;
	unsigned first = f->ne, used0 = f->used;
	enum vp_take rc = VP_DROPPED;

	*why = DROP_TOO_BIG;
	if (pk->len > f->max_frame && !pk->gso_type) /* a TSO frame the driver takes whole may pass the MTU */
		return VP_DROPPED;
	while (got < need) {
		struct vq_elem *e = &qs->tx_elems[f->ne];
		int err;

		*why = DROP_NO_RX_BUFFER;
		if (f->ne - first == VP_MERGE_MAX)
			goto out_unpop;
		if (f->ne == VP_TX_ELEMS || VP_IOV_POOL - f->used < VP_CHAIN_IOV) {
			/* The chunk is full: finish it and come back, unless this frame alone fills it. */
			if (first)
				rc = VP_CHUNK_FULL;
			goto out_unpop;
		}
		/* Popped ahead, one iovec each, already where vq_pop() would have put them; else pop. */
		err = f->ne < f->nst ? 0 : vq_pop(&vr->vq, e, &qs->tx_iov[f->used], VP_CHAIN_IOV);
		if (err == -EAGAIN)
			goto out_unpop;
		*why = DROP_PORT_BROKEN;
		if (err < 0) {
			vp_dp_error(vp, idx, vq_error(&vr->vq));
			return VP_DROPPED;
		}
		if (e->in_len == 0) {
			/*
			 * Kept, never pushed, as a buffer just popped is.  Only
			 * vq_pop() above gives one (the run popped ahead takes
			 * writable buffers only), so none was popped ahead after it.
			 */
			vp_dp_error(vp, idx, "receive buffer with no device-writable part");
			return VP_DROPPED;
		}
		if (f->ne == first)
			vp_prefetch_rx_buf(&qs->tx_iov[f->used + e->out_num], f->hdr_len, need);
		qs->tx_iov_at[f->ne++] = (uint16_t)f->used;
		f->used += e->out_num + e->in_num;
		got += e->in_len;
		if (!f->mrg)
			break;
	}
	if (got < need) {
		*why = DROP_TOO_BIG;
		goto out_unpop;
	}
	return VP_TAKEN;

out_unpop:
	/* Newest first: those popped ahead, then the frame's own. */
	while (f->nst > f->ne)
		vq_unpop(&vr->vq, &qs->tx_elems[--f->nst]);
	while (f->ne > first)
		vq_unpop(&vr->vq, &qs->tx_elems[--f->ne]);
	f->nst = f->ne;
	f->used = used0;
	return rc;
}

/* Copy frame @pk into buffers tx_elems[first, first + nb), their used lengths into tx_len[] (pushed by the caller). */
static void vp_fill_copy(struct vp_queue *qs, struct vu_vring *vr, const struct vp_fill *f, struct pkt *pk,
			 unsigned first, unsigned nb, bool burst, bool log)
{
	/* 5.1.6.4.2: "the device MUST set num_buffers to ... the number of buffers the packet is spread over". */
	struct virtio_net_hdr_v1 h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = (uint16_t)nb };
	const struct vq_elem *e = &qs->tx_elems[first];
	struct iovec *in = &qs->tx_iov[qs->tx_iov_at[first] + e->out_num];
	size_t copied = 0;

	if (pk->csum != PKT_CSUM_NONE || pk->gso_type) {
		/* Requests the driver acked (the rest was done before tx_burst), or DATA_VALID under GUEST_CSUM. */
		struct vnet_info vi;

		vnet_from_pkt(pk, f->guest_csum, &vi);
		vnet_hdr_build(&h, &vi);
	}

	if (nb == 1 && in[0].iov_len >= f->hdr_len + pk->len) {
		/* The common case: the frame into one flat buffer (head from the packet, the rest from the view). */
		vp_put_hdr(in[0].iov_base, &h, f->hdr_len, burst);
		pkt_to_buf(pk, (char *)in[0].iov_base + f->hdr_len, pk->len);
		if (log)
			vq_log_iov(&vr->vq, in, 1, f->hdr_len + pk->len);
		qs->tx_len[first] = f->hdr_len + pk->len;
		return;
	}
	for (unsigned b = 0; b < nb; b++, e++) {
		size_t off = b == 0 ? f->hdr_len : 0, take = e->in_len - off;

		in = &qs->tx_iov[qs->tx_iov_at[first + b] + e->out_num];
		if (take > pk->len - copied)
			take = pk->len - copied;
		if (b == 0)
			iov_from_buf(in, e->in_num, 0, &h, f->hdr_len);
		copied += pkt_copy(pk, copied, in, e->in_num, off, take);
		if (log)
			vq_log_iov(&vr->vq, in, e->in_num, off + take);
		qs->tx_len[first + b] = (uint32_t)(off + take);
	}
}

/*
 * Push the chunk's buffers tx_elems[from, to), filled, with their lengths
 * from tx_len: in the order they were popped, as the ring needs, after the
 * chunk's copies rather than one by one between them (the checks of
 * vq_push() once for all).  A broken queue takes no push.
 */
static void vp_push_filled(struct vp_queue *qs, struct vu_vring *vr, unsigned from, unsigned to)
{
	if (to > from && !vq_broken(&vr->vq))
		vq_push_lens(&vr->vq, &qs->tx_elems[from], &qs->tx_len[from], to - from);
}

/*
 * A burst of at most VP_EARLY_BURST frames is published to the driver
 * every VP_EARLY_EVERY frames as it is copied, not only at its end.  A
 * burst that small means the senders keep few frames in flight: the
 * driver is waiting for these frames, and in a closed loop (a TCP window,
 * testpmd's tx_first, vsw-bench --in-flight) it sends the next ones only
 * once it has them, so the first frames reach it while the rest are
 * copied instead of the whole burst at once.  DPDK's vhost writes packed
 * descriptors back per line of four for the same reason.  Measured with
 * 32 frames in flight (docs/PERFORMANCE.md, "Load sweep: reading the
 * figures"): +25-36 % packed, +15-25 % split; with full rings the bursts
 * are bigger and each publish would be one more line traded with the
 * driver, so they are published once, as before.
 */
#define VP_EARLY_BURST 32
#define VP_EARLY_EVERY 8

/*
 * The general way publishes what it filled once VP_EARLY_BYTES were
 * copied since the last publish, whatever the burst's size: a TSO frame
 * of 64 KiB reaches the driver as soon as it is copied, not after the
 * rest of its burst, and its sender's window opens while the switch
 * copies the next.  Against a copy of that size a publish (a line of the
 * used ring) costs nothing; 64-byte frames never reach it.  vsw-bench
 * --tso, 4 sends in flight (docs/PERFORMANCE.md, "Switching with TSO").
 */
#define VP_EARLY_BYTES 16384u

/* Publish tx_elems[from, to) now, before the burst ends (its rest: at the end, by vp_tx_burst()); returns @to. */
static unsigned vp_push_early(struct vp_queue *qs, struct vu_vring *vr, unsigned from, unsigned to)
{
	vp_push_filled(qs, vr, from, to);
	vq_flush(&vr->vq);
	return to;
}

/*
 * The common chunk the short way: every frame of @pkts[0, @k) takes the
 * receive buffer popped ahead for it (a lone descriptor: one iovec,
 * tx_iov[j]) whole with its header, and asks for no offload (its header is
 * the plain one, as vp_fill_copy() writes it).  One pass checks and starts
 * each buffer's lines; a second writes headers and frames; the lengths
 * are pushed together.  Returns @k, or 0 (nothing written, the buffers
 * still popped ahead) when a frame needs vp_fill_take()'s way.
 */
static unsigned vp_fill_flat(struct vp_queue *qs, struct vu_vring *vr, const struct vp_fill *f,
			     struct pkt *const *pkts, unsigned k, bool burst, uint64_t *bytes)
{
	/* 5.1.6.4.2: num_buffers 1, a frame in one buffer. */
	const struct virtio_net_hdr_v1 h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = 1 };
	const unsigned hdr_len = f->hdr_len;
	unsigned pushed = 0;	/* frames published early (VP_EARLY_BURST) */
	uint64_t sum = 0;

	for (unsigned j = 0; j < k; j++) {
		const struct pkt *pk = pkts[j];

		if (pk->csum != PKT_CSUM_NONE || pk->gso_type || !vp_fits_ahead(f, qs, j, pk))
			return 0;
		vp_prefetch_rx_buf(&qs->tx_iov[j], hdr_len, hdr_len + pk->len);
	}
	for (unsigned j = 0; j < k; j++) {
		const struct pkt *pk = pkts[j];
		char *b = qs->tx_iov[j].iov_base;

		vp_put_hdr(b, &h, hdr_len, burst);
		/* A frame all in the head (up to PKT_HEAD_COPY bytes): pkt_to_buf()'s first move, without the call. */
		if (pk->head_len == pk->len)
			pkt_copy_small(b + hdr_len, pkt_head(pk), pk->len);
		else
			pkt_to_buf(pk, b + hdr_len, pk->len);
		qs->tx_len[j] = hdr_len + pk->len;
		sum += pk->len;
		if (k <= VP_EARLY_BURST && j + 1 - pushed == VP_EARLY_EVERY && j + 1 < k)
			pushed = vp_push_early(qs, vr, pushed, j + 1);
	}
	vp_push_filled(qs, vr, pushed, k);
	*bytes += sum;
	return k;
}

static void vp_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct vhost_port *vp = vp_of(p);
	unsigned qp = io->worker_id % vp->queues, idx = virtio_net_rxq(qp), sent = 0, i = 0;
	struct vu_vring *vr = &vp->dev.vrings[idx];
	unsigned drops[DROP__COUNT] = { 0 };
	struct vp_fill f;
	uint64_t bytes = 0, t0;
	struct vp_queue *qs;
	bool log;
	int call_fd;

	if (!atomic_load_explicit(&vr->live, memory_order_acquire)) {
		qp = 0;
		idx = virtio_net_rxq(0);
		vr = &vp->dev.vrings[idx];
		if (!atomic_load_explicit(&vr->live, memory_order_acquire)) {
			port_count_drop(p, DROP_PORT_DOWN, n);
			return;
		}
	}
	qs = &vp->qs[qp];
	f.hdr_len = vu_dev_net_hdr_len(&vp->dev);
	f.mrg = vu_has_feature(&vp->dev, VIRTIO_NET_F_MRG_RXBUF);
	f.guest_csum = vp->guest_csum;
	f.max_frame = vp->dev.mtu ? vp->dev.mtu + 18 : PKT_MAX_FRAME;
	pthread_spin_lock(&qs->tx_lock);
	/* Migrating: log the buffers we fill (the rings log themselves); read once per burst. */
	log = vq_logging(&vr->vq) && !vp->fault_skip_rx_log;
	vq_prefetch(&vr->vq, n);
	while (i < n) {
		unsigned start = i, first[PKT_BURST], nb[PKT_BURST], push_from;
		bool ok[PKT_BURST];

		f.ne = 0;
		f.used = 0;
		/* A buffer per frame popped ahead, in one run, while they are lone writable descriptors (one iovec each). */
		f.nst = vq_pop_burst(&vr->vq, VQ_DIR_WRITE, qs->tx_elems, qs->tx_iov, n - i < VP_TX_ELEMS ? n - i : VP_TX_ELEMS);
		/* A buffer popped for every frame left, nothing to log: the short way, if every frame fits its own. */
		if (f.nst == n - i && !log) {
			unsigned k = vp_fill_flat(qs, vr, &f, pkts + i, f.nst, n > 1, &bytes);

			sent += k;
			i += k;
			if (k)
				continue;
		}
		push_from = 0;
		for (; i < n; i++) {
			enum port_drop why = DROP_PORT_BROKEN;
			unsigned ne0 = f.ne;
			const struct pkt *pk = pkts[i];
			enum vp_take rc;

			/*
			 * The common case without vp_fill_take()'s loop: the next
			 * buffer popped ahead (one iovec, at tx_iov[used]) holds
			 * the frame and its header whole, so it is the frame's
			 * only buffer, as vp_fill_take() would find.
			 */
			if (f.ne < f.nst && !vq_broken(&vr->vq) && vp_fits_ahead(&f, qs, f.ne, pk)) {
				vp_prefetch_rx_buf(&qs->tx_iov[f.used], f.hdr_len, f.hdr_len + pk->len);
				qs->tx_iov_at[f.ne++] = (uint16_t)f.used++;
				ok[i - start] = true;
				first[i - start] = ne0;
				nb[i - start] = 1;
				continue;
			}
			rc = vq_broken(&vr->vq) ? VP_DROPPED : vp_fill_take(vp, qs, vr, idx, &f, pk, &why);
			if (rc == VP_CHUNK_FULL)
				break;
			ok[i - start] = rc == VP_TAKEN;
			if (rc == VP_DROPPED)
				drops[why]++;
			first[i - start] = ne0;
			nb[i - start] = f.ne - ne0;
		}
		/* Popped ahead and not taken: given back, newest first, before anything is pushed. */
		while (f.nst > f.ne)
			vq_unpop(&vr->vq, &qs->tx_elems[--f.nst]);
		for (unsigned j = start, early = 0; j < i; j++) {
			if (!ok[j - start]) {
				/* Buffers a dropped frame kept (a bad one among them: the port is failing) are not pushed. */
				if (nb[j - start]) {
					vp_push_filled(qs, vr, push_from, first[j - start]);
					push_from = first[j - start] + nb[j - start];
				}
				continue;
			}
			if (vq_broken(&vr->vq)) {
				drops[DROP_PORT_BROKEN]++; /* broken by a later frame's buffers */
				continue;
			}
			vp_fill_copy(qs, vr, &f, pkts[j], first[j - start], nb[j - start], n > 1, log);
			sent++;
			bytes += pkts[j]->len;
			early += pkts[j]->len;
			if (early >= VP_EARLY_BYTES && j + 1 < i) {
				push_from = vp_push_early(qs, vr, push_from, first[j - start] + nb[j - start]);
				early = 0;
			}
		}
		vp_push_filled(qs, vr, push_from, f.ne);
	}
	t0 = dp_perf_note_start(io->perf);
	vq_flush(&vr->vq);
	dp_perf_note(io->perf, DP_PT_PUBLISH, t0, sent);
	call_fd = vp_notify_fd(vp, vr);
	if (sent)
		port_queue_count(&qs->tx_count, sent, bytes);
	pthread_spin_unlock(&qs->tx_lock);
	vp_notify(vp, io, idx, call_fd, sent);
	if (sent) {
		port_count(&p->stats.tx_packets, sent);
		port_count(&p->stats.tx_bytes, bytes);
	}
	if (sent != n)
		port_count_drops(p, drops);
}

static unsigned vp_rx_queues(struct port *p)
{
	return vp_of(p)->queues;
}

/* Each queue pair's counters (control thread): rx from its tx vring, tx into its rx vring. */
static unsigned vp_queue_stats(struct port *p, struct port_queue_stats *out, unsigned max)
{
	struct vhost_port *vp = vp_of(p);
	unsigned q;

	for (q = 0; q < vp->queues && q < max; q++) {
		struct vp_queue *qs = &vp->qs[q];

		out[q] = (struct port_queue_stats){
			.rx_packets = port_queue_read(&qs->rx_count.packets),
			.rx_bytes = port_queue_read(&qs->rx_count.bytes),
			.tx_packets = port_queue_read(&qs->tx_count.packets),
			.tx_bytes = port_queue_read(&qs->tx_count.bytes),
		};
	}
	return q;
}

static int vp_rx_fd(struct port *p, unsigned q)
{
	struct vu_vring *vr = &vp_of(p)->dev.vrings[virtio_net_txq(q)];

	return atomic_load(&vr->live) ? vr->kick_fd : -1;
}

static bool vp_rx_arm(struct port *p, unsigned q)
{
	struct vu_vring *vr = &vp_of(p)->dev.vrings[virtio_net_txq(q)];

	if (!atomic_load_explicit(&vr->live, memory_order_acquire))
		return false;
	if (vr->kick_fd < 0)
		return true; /* the front end asked for polling: no kick will ever come */
	return vq_kick_enable(&vr->vq);
}

static void vp_rx_disarm(struct port *p, unsigned q)
{
	struct vu_vring *vr = &vp_of(p)->dev.vrings[virtio_net_txq(q)];

	if (atomic_load_explicit(&vr->live, memory_order_acquire))
		vq_kick_disable(&vr->vq);
}

/* ---- control plane ---- */

static void vp_quiesce(void *arg)
{
	struct vhost_port *vp = arg;

	/* Until the rings are back, nothing but finished frames (features may change meanwhile). */
	atomic_store(&vp->port.tx_offload, 0);
	port_env_changed(&vp->env, &vp->port, PORT_QUIESCE);
}

/*
 * The offloads the driver acked, for the data path, with the rings off
 * or just started (rings_changed): what its headers may ask (rx_accept)
 * and what the port takes whole (tx_offload).  5.1.3.1: the driver
 * "MUST NOT negotiate VIRTIO_NET_F_HOST_TSO4 ... without VIRTIO_NET_F_CSUM"
 * (and GUEST_TSO* without GUEST_CSUM): a driver that does gets the
 * segmentation taken away rather than trusted.
 */
static void vp_offloads(struct vhost_port *vp)
{
	const struct vu_dev *d = &vp->dev;
	unsigned acc = 0, tx = 0;

	if (vu_has_feature(d, VIRTIO_NET_F_CSUM)) {
		acc = VNET_ACCEPT_CSUM;
		acc |= vu_has_feature(d, VIRTIO_NET_F_HOST_TSO4) ? VNET_ACCEPT_TSO4 : 0;
		acc |= vu_has_feature(d, VIRTIO_NET_F_HOST_TSO6) ? VNET_ACCEPT_TSO6 : 0;
		acc |= vu_has_feature(d, VIRTIO_NET_F_HOST_ECN) ? VNET_ACCEPT_ECN : 0;
		acc |= vu_has_feature(d, VIRTIO_NET_F_HOST_USO) ? VNET_ACCEPT_USO : 0;
	}
	if (vu_has_feature(d, VIRTIO_NET_F_GUEST_CSUM)) {
		tx = GSO_TX_CSUM;
		tx |= vu_has_feature(d, VIRTIO_NET_F_GUEST_TSO4) ? GSO_TX_TSO4 : 0;
		tx |= vu_has_feature(d, VIRTIO_NET_F_GUEST_TSO6) ? GSO_TX_TSO6 : 0;
		tx |= vu_has_feature(d, VIRTIO_NET_F_GUEST_ECN) ? GSO_TX_ECN : 0;
		tx |= vu_has_feature(d, VIRTIO_NET_F_GUEST_USO4) && vu_has_feature(d, VIRTIO_NET_F_GUEST_USO6) ?
			      GSO_TX_USO : 0;
	}
	vp->rx_accept = acc;
	vp->guest_csum = tx & GSO_TX_CSUM;
	vp->port.rx_offload = acc != 0;
	atomic_store(&vp->port.tx_offload, tx);
}

static void vp_rings_changed(void *arg)
{
	struct vhost_port *vp = arg;

	vp_offloads(vp);
	/* We never wait for receive buffers: ask the guest not to kick its rx vrings. */
	for (unsigned q = 0; q < vp->queues; q++) {
		struct vu_vring *vr = &vp->dev.vrings[virtio_net_rxq(q)];

		pthread_spin_lock(&vp->qs[q].tx_lock);
		if (atomic_load(&vr->live))
			vq_kick_disable(&vr->vq);
		pthread_spin_unlock(&vp->qs[q].tx_lock);
	}
	port_env_changed(&vp->env, &vp->port, PORT_RINGS_CHANGED);
}

/*
 * SEND_RARP (control thread): queue the frame for queue 0's worker and wake
 * it through the kick eventfd, as a guest kick would (a spurious kick only
 * costs one empty poll).  Without a started ring it waits for the first poll.
 */
static void vp_send_rarp(void *arg, const uint8_t mac[6])
{
	struct vhost_port *vp = arg;
	struct vu_vring *vr = &vp->dev.vrings[virtio_net_txq(0)];
	uint64_t one = 1;

	memcpy(vp->rarp_mac, mac, sizeof(vp->rarp_mac));
	/* Release: the MAC before the flag the worker reads. */
	atomic_store_explicit(&vp->rarp_pending, true, memory_order_release);
	log_info("port %s: SEND_RARP for %02x:%02x:%02x:%02x:%02x:%02x", vp->port.name, mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	if (vr->kick_fd >= 0 && write(vr->kick_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so a wake-up is pending anyway. */
	}
}

static const struct vu_dev_ops vp_dev_ops = {
	.quiesce = vp_quiesce,
	.rings_changed = vp_rings_changed,
	.send_rarp = vp_send_rarp,
};

static void vp_end_session(struct vhost_port *vp, int rc)
{
	const char *why = vp->dev.error[0] ? vp->dev.error : strerror(-rc);

	if (rc == -ECONNRESET && !vp->dev.error[0]) {
		log_info("port %s: front end disconnected", vp->port.name);
		snprintf(vp->last_error, sizeof(vp->last_error), "front end disconnected");
	} else {
		log_warn("port %s: broken: %s; session closed", vp->port.name, why);
		snprintf(vp->last_error, sizeof(vp->last_error), "broken: %s", why);
	}
	evloop_del(vp->env.loop, vp->dev.fd);
	vu_dev_detach(&vp->dev);
	port_env_changed(&vp->env, &vp->port, PORT_LINK_DOWN);
	atomic_store(&vp->dp_error, false);
	atomic_store(&vp->dp_error_claimed, false);
}

static void vp_on_conn(struct ev_handler *h, uint32_t events)
{
	struct vhost_port *vp = (struct vhost_port *)((char *)h - offsetof(struct vhost_port, conn_h));
	int rc;

	if (vp->dev.fd < 0)
		return;
	rc = vu_dev_on_readable(&vp->dev);
	if (rc == 0 && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		rc = -ECONNRESET;
	if (rc < 0)
		vp_end_session(vp, rc);
}

static void vp_attach(struct vhost_port *vp, int fd)
{
	vu_dev_attach(&vp->dev, fd);
	vp->sessions++;
	vp->last_error[0] = '\0';
	vp->told_writable_read = false;
	if (evloop_add(vp->env.loop, fd, EPOLLIN, &vp->conn_h) < 0) {
		log_err("port %s: cannot watch its socket", vp->port.name);
		vu_dev_detach(&vp->dev);
		return;
	}
	log_info("port %s: front end connected", vp->port.name);
}

static void vp_on_listen(struct ev_handler *h, uint32_t events)
{
	struct vhost_port *vp = (struct vhost_port *)((char *)h - offsetof(struct vhost_port, listen_h));
	int fd = accept4(vp->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (vp->dev.fd >= 0) {
		log_warn("port %s: second front end refused while one is connected", vp->port.name);
		close(fd);
		return;
	}
	vp_attach(vp, fd);
}

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void vp_try_connect(struct vhost_port *vp)
{
	struct sockaddr_un sa;
	int fd;

	if (unix_addr(&sa, vp->path) < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	vp_attach(vp, fd);
}

static void vp_tick(struct port *p)
{
	struct vhost_port *vp = vp_of(p);

	if (vp->dev.fd >= 0 && atomic_load(&vp->dp_error)) {
		vu_dev_fail(&vp->dev, "%s", vp->dp_error_msg);
		vp_end_session(vp, -EPROTO);
	}
	if (vp->dev.fd >= 0 && vu_dev_mem_faulted(&vp->dev)) {
		vu_dev_fail(&vp->dev, "guest memory shrank under its mapping (the front end truncated its file)");
		vp_end_session(vp, -EPROTO);
	}
	if (vp->dev.fd >= 0 && vu_dev_log_faulted(&vp->dev)) {
		vu_dev_fail(&vp->dev, "the dirty log shrank under its mapping (the front end truncated its file)");
		vp_end_session(vp, -EPROTO);
	}
	/* The front end's log stopped covering guest memory (vu_dev.c checks it when logging starts). */
	if (vp->dev.log.bits && __atomic_load_n(&vp->dev.log.missed, __ATOMIC_RELAXED)) {
		if (!vp->told_log_missed)
			log_warn("port %s: pages written beyond the dirty log (%llu so far): the migration may lose them",
				 vp->port.name, (unsigned long long)__atomic_load_n(&vp->dev.log.missed, __ATOMIC_RELAXED));
		vp->told_log_missed = true;
	} else {
		vp->told_log_missed = false;
	}
	for (unsigned q = 0; q < vp->queues && vp->dev.fd >= 0 && !vp->told_writable_read; q++) {
		const struct vu_vring *vr = &vp->dev.vrings[virtio_net_txq(q)];

		/* Mapped: set up in this session (vq_init() cleared the flag; a reset ring keeps the last session's). */
		if (!vr->mapped || !vq_writable_read(&vr->vq))
			continue;
		log_info("port %s: vring %u: the driver marks transmit buffers in indirect tables device-writable "
			 "(DPDK's virtio PMD does, packed rings): read as device-readable", vp->port.name,
			 virtio_net_txq(q));
		vp->told_writable_read = true;
	}
	if (vp->client && vp->dev.fd < 0)
		vp_try_connect(vp);
}

static void vp_describe(struct port *p, char *buf, size_t len)
{
	struct vhost_port *vp = vp_of(p);
	const char *mode = vp->client ? "client" : "server";

	if (vp->dev.fd >= 0) {
		/* A pair is live when the front end started and enabled both its rings
		 * (a guest using fewer queues than offered leaves the others off). */
		unsigned live = 0;

		for (unsigned q = 0; q < vp->queues; q++)
			live += atomic_load(&vp->dev.vrings[virtio_net_rxq(q)].live) &&
				atomic_load(&vp->dev.vrings[virtio_net_txq(q)].live);
		snprintf(buf, len, "connected (%s %s, %u of %u queue pairs live, %llu messages)", mode, vp->path,
			 live, vp->queues, (unsigned long long)vp->dev.messages);
	}
	else if (vp->last_error[0])
		snprintf(buf, len, "%s (%s %s, waiting)", vp->last_error, mode, vp->path);
	else
		snprintf(buf, len, "waiting (%s %s)", mode, vp->path);
}

static void vp_destroy(struct port *p)
{
	struct vhost_port *vp = vp_of(p);

	if (vp->dev.fd >= 0) {
		evloop_del(vp->env.loop, vp->dev.fd);
		vu_dev_detach(&vp->dev);
	}
	if (vp->listen_fd >= 0) {
		evloop_del(vp->env.loop, vp->listen_fd);
		close(vp->listen_fd);
		unix_sock_unlink(vp->path, &vp->listen_id); /* only the socket this port bound */
	}
	vu_dev_fini(&vp->dev);
	for (unsigned q = 0; q < vp->queues; q++)
		pthread_spin_destroy(&vp->qs[q].tx_lock);
	free(vp->qs);
	free(vp);
}

static const struct port_ops vhost_port_ops = {
	.type = "vhost-user",
	.rx_burst = vp_rx_burst,
	.rx_done = vp_rx_done,
	.tx_burst = vp_tx_burst,
	.rx_queues = vp_rx_queues,
	.queue_stats = vp_queue_stats,
	.rx_fd = vp_rx_fd,
	.rx_arm = vp_rx_arm,
	.rx_disarm = vp_rx_disarm,
	.rx_poll_cheap = vp_rx_poll_cheap,
	.describe = vp_describe,
	.tick = vp_tick,
	.destroy = vp_destroy,
};

/* Listen on path=: a stale socket there is replaced, a file or a live socket refused (lib/unix_sock.h). */
static int vp_listen(struct vhost_port *vp, char *err, size_t errlen)
{
	vp->listen_fd = unix_sock_listen(vp->path, 4, 0, &vp->listen_id, err, errlen);
	if (vp->listen_fd < 0)
		return -1;
	if (evloop_add(vp->env.loop, vp->listen_fd, EPOLLIN, &vp->listen_h) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", vp->path, strerror(errno));
		close(vp->listen_fd);
		unix_sock_unlink(vp->path, &vp->listen_id);
		vp->listen_fd = -1;
		return -1;
	}
	return 0;
}

struct port *port_vhost_create(const struct vhost_port_config *cfg, const struct port_env *env, char *err,
			       size_t errlen)
{
	struct vhost_port *vp;
	unsigned queues = cfg->queues ? cfg->queues : 1;

	if (queues > VU_MAX_QUEUE_PAIRS) {
		snprintf(err, errlen, "queues=%u: at most %d", queues, VU_MAX_QUEUE_PAIRS);
		return NULL;
	}
	if (!cfg->path || strlen(cfg->path) >= sizeof(vp->path)) {
		snprintf(err, errlen, "vhost-user port needs path= (at most %zu bytes)", sizeof(vp->path) - 1);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		goto out_nomem;
	vp->qs = calloc(queues, sizeof(*vp->qs));
	if (!vp->qs || vu_dev_init(&vp->dev, vp->port.name,
				   VP_FEATURES | VP_FEATURES_OFFLOAD | (queues > 1 ? VP_FEATURES_MQ : 0), queues,
				   &vp_dev_ops, vp) < 0)
		goto out_nomem;
	snprintf(vp->port.name, sizeof(vp->port.name), "%s", cfg->name);
	vp->port.ops = &vhost_port_ops;
	vp->env = *env;
	strcpy(vp->path, cfg->path);
	vp->client = cfg->client;
	vp->queues = queues;
	/* A fault injected for the migration scenario only: it must make that test fail. */
	if (getenv("VSW_FAULT_SKIP_RX_LOG")) {
		vp->fault_skip_rx_log = true;
		log_warn("port %s: VSW_FAULT_SKIP_RX_LOG set: receive buffers are NOT dirty-logged (a test's fault)",
			 cfg->name);
	}
	vp->listen_fd = -1;
	vp->listen_h.fn = vp_on_listen;
	vp->conn_h.fn = vp_on_conn;
	for (unsigned q = 0; q < queues; q++)
		pthread_spin_init(&vp->qs[q].tx_lock, PTHREAD_PROCESS_PRIVATE);
	for (unsigned i = 0; i < VU_MAX_VRINGS; i++)
		vp->blame[i] = (struct vp_blame){ { &vp->port, vp_stalled }, vp, i };
	if (!vp->client && vp_listen(vp, err, errlen) < 0) {
		vp_destroy(&vp->port);
		return NULL;
	}
	if (vp->client)
		vp_try_connect(vp);
	return &vp->port;

out_nomem:
	snprintf(err, errlen, "out of memory");
	if (vp) {
		free(vp->qs);
		vu_dev_fini(&vp->dev);
	}
	free(vp);
	return NULL;
}
