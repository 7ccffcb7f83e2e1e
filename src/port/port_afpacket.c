/* port_afpacket.c - AF_PACKET port: attach an existing interface (a container's veth end) through a TPACKET_V3 ring. */
#include "port/port_afpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "packet/vnet_hdr.h"
#include "port/port_types.h"
#include "vsw/virtio_net.h"

/*
 * The fallback that works on any interface.  Receive: the kernel fills
 * blocks of a TPACKET_V3 ring mapped into our memory (tpacket_rcv), each
 * frame preceded by a 10-byte virtio_net_hdr (PACKET_VNET_HDR); frames go
 * to the switch as views into the ring, and a block goes back to the
 * kernel when every frame in it was forwarded.  Transmit: one sendmmsg()
 * per burst, each message the header plus the source's iovecs.
 *
 *   ring:  | block 0 | block 1 | ... |   block: hdr, frame, frame, ...
 *            ^ rx_block (next to read), rx_frame (position inside it)
 *
 * Offloads: the socket takes and hands over frames whole, as the
 * container's stack made them: a checksum left partial (NEEDS_CSUM) and
 * TCP/UDP segmentation (GSO, up to 64 KiB) come in as the packet's offload
 * request (vnet_to_pkt(), checked by port_offload_rx_ok()) and go out the
 * same way (vnet_from_pkt()); the kernel segments or completes them where
 * its own path needs it.  Every request is taken whole (tx_offload: all);
 * a destination that takes less gets finished frames (dp/offload.h).
 *
 * VLAN tags: the kernel takes a frame's 802.1Q tag off before packet
 * sockets see it (skb_vlan_untag() in netif_receive_skb, or the sender's
 * VLAN offload on a veth) and reports it in tp_vlan_tci; the frame is
 * whole only with the tag put back, in front of the frame, over the
 * virtio-net header we already copied out (see afp_rx_burst).  The
 * header's csum_start counted from the untagged frame: it moves with it.
 */

#define AFP_BLOCK_SIZE (1u << 20)
#define AFP_BLOCKS 8
#define AFP_FRAME_SIZE 2048u
#define AFP_HDR_LEN VNET_HDR_LEN	/* struct virtio_net_hdr, without num_buffers */
#define AFP_TX_IOV 64
/* What the socket takes from the kernel's virtio_net_hdr (virtio_net_hdr_from_skb()): all it can say but UFO. */
#define AFP_ACCEPT (VNET_ACCEPT_CSUM | VNET_ACCEPT_DATA_VALID | VNET_ACCEPT_TSO4 | VNET_ACCEPT_TSO6 | \
		    VNET_ACCEPT_ECN | VNET_ACCEPT_USO)

struct afp_port {
	struct port port;
	int fd;
	char ifname[IFNAMSIZ];
	uint8_t *ring;
	size_t ring_len;
	unsigned rx_block;		/* next block to read */
	unsigned rx_frame;		/* frames already taken from it */
	uint8_t *rx_next;		/* next frame header in it */
	unsigned rx_done_blocks;	/* blocks fully consumed by the last burst, to release */
	bool pending;			/* the last burst stopped on budget */
	struct iovec rx_iov[PKT_BURST];
	pthread_spinlock_t tx_lock;
	struct mmsghdr msgs[PKT_BURST];
	struct iovec tx_iov[PKT_BURST][AFP_TX_IOV + 1];
	uint8_t tx_hdr[PKT_BURST][AFP_HDR_LEN];
	/* Control thread: what the kernel counted on the socket (reading resets it), summed. */
	uint64_t kernel_packets, kernel_drops, kernel_freezes;
};

static struct afp_port *afp_of(struct port *p) { return (struct afp_port *)p; }

static struct tpacket_block_desc *block(struct afp_port *a, unsigned i)
{
	return (struct tpacket_block_desc *)(a->ring + (size_t)i * AFP_BLOCK_SIZE);
}

static bool block_ready(struct tpacket_block_desc *b)
{
	/* Acquire: the kernel wrote the frames before handing the block to user space. */
	return __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

static unsigned afp_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct afp_port *a = afp_of(p);
	unsigned n = 0;
	uint64_t bytes = 0;

	a->rx_done_blocks = 0;
	a->pending = false;
	while (n < max && bytes < PKT_BURST_BYTES) {
		struct tpacket_block_desc *b = block(a, a->rx_block);
		struct tpacket3_hdr *f;
		struct vnet_info vi;
		uint8_t hdr[VNET_HDR_LEN];
		uint8_t *frame;
		uint32_t len;

		if (!block_ready(b))
			break;
		if (a->rx_frame == b->hdr.bh1.num_pkts) {
			/* Block done: released in rx_done, after the views into it are used. */
			a->rx_done_blocks++;
			a->rx_block = (a->rx_block + 1) % AFP_BLOCKS;
			a->rx_frame = 0;
			a->rx_next = NULL;
			if (a->rx_done_blocks == AFP_BLOCKS)
				break;
			continue;
		}
		if (!a->rx_next)
			a->rx_next = (uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
		f = (struct tpacket3_hdr *)a->rx_next;
		a->rx_next += f->tp_next_offset;
		a->rx_frame++;
		frame = (uint8_t *)f + f->tp_mac;
		len = f->tp_snaplen;
		if (f->tp_mac < AFP_HDR_LEN || len < f->tp_len || len < PKT_ETH_HLEN) {
			port_count_drop(p, len < PKT_ETH_HLEN ? DROP_RUNT : DROP_TOO_BIG, 1);
			continue;
		}
		memcpy(hdr, frame - AFP_HDR_LEN, AFP_HDR_LEN);
		if (vnet_hdr_parse(hdr, len, AFP_ACCEPT, &vi) != VNET_OK) {
			port_count_drop(p, DROP_BAD_HEADER, 1);
			continue;
		}
		if (f->tp_status & TP_STATUS_VLAN_VALID) {
			/* The tag the kernel took off, back after the MACs (above); the header's bytes are spare now. */
			unsigned tpid = f->tp_status & TP_STATUS_VLAN_TPID_VALID ? f->hv1.tp_vlan_tpid : ETH_P_8021Q;

			_Static_assert(AFP_HDR_LEN >= 4, "room for a tag in front of the frame");
			memmove(frame - 4, frame, 12);
			frame -= 4;
			frame[12] = (uint8_t)(tpid >> 8);
			frame[13] = (uint8_t)tpid;
			frame[14] = (uint8_t)(f->hv1.tp_vlan_tci >> 8);
			frame[15] = (uint8_t)f->hv1.tp_vlan_tci;
			len += 4;
			/* The header's offsets were the untagged frame's (virtio_net_hdr_from_skb() with no vlan_hlen). */
			if (vi.flags & VNET_NEEDS_CSUM)
				vi.csum_start += 4;
			if (vi.hdr_len)
				vi.hdr_len += 4;
		}
		a->rx_iov[n] = (struct iovec){ frame, len };
		pkt_rx_init(&pkts[n], &a->rx_iov[n], 1, len, p->id);
		vnet_to_pkt(&vi, &pkts[n]);
		if (vnet_requests(&vi) && !port_offload_rx_ok(p, &pkts[n]))
			continue;
		bytes += len;
		n++;
	}
	a->pending = n == max || bytes >= PKT_BURST_BYTES;
	port_count(&p->stats.rx_packets, n);
	port_count(&p->stats.rx_bytes, bytes);
	return n;
}

static void afp_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	struct afp_port *a = afp_of(p);
	unsigned first = (a->rx_block + AFP_BLOCKS - a->rx_done_blocks) % AFP_BLOCKS;

	/* Release: our reads of the frames happen before the kernel may refill the block. */
	for (unsigned i = 0; i < a->rx_done_blocks; i++)
		__atomic_store_n(&block(a, (first + i) % AFP_BLOCKS)->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
	a->rx_done_blocks = 0;
}

static void afp_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct afp_port *a = afp_of(p);
	unsigned drops[DROP__COUNT] = { 0 }, m = 0, sent;
	struct vnet_info vi;
	uint64_t bytes = 0;

	pthread_spin_lock(&a->tx_lock);
	for (unsigned i = 0; i < n; i++) {
		int nseg = pkt_segs(pkts[i], &a->tx_iov[m][1], AFP_TX_IOV); /* the head, then the rest of the view */

		if (nseg < 0) {
			drops[DROP_TOO_BIG]++;
			continue;
		}
		/* The frame's requests, whole (its checksum and segments are the kernel's to finish). */
		vnet_from_pkt(pkts[i], false, &vi);
		vnet_hdr_build(a->tx_hdr[m], &vi);
		a->tx_iov[m][0] = (struct iovec){ a->tx_hdr[m], AFP_HDR_LEN };
		a->msgs[m].msg_hdr = (struct msghdr){ .msg_iov = a->tx_iov[m], .msg_iovlen = (size_t)nseg + 1 };
		m++;
	}
	sent = port_sendmmsg(a->fd, a->msgs, m, AFP_HDR_LEN, &bytes, drops);
	pthread_spin_unlock(&a->tx_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	port_count_drops(p, drops);
}

static unsigned afp_rx_queues(struct port *p) { return 1; }
static int afp_rx_fd(struct port *p, unsigned q) { return afp_of(p)->fd; }

static bool afp_rx_arm(struct port *p, unsigned q)
{
	struct afp_port *a = afp_of(p);

	/* A ready block already signalled: look at it rather than wait. */
	return a->pending || block_ready(block(a, a->rx_block));
}

static void afp_rx_disarm(struct port *p, unsigned q) {}

/*
 * Once a second (control thread): collect the socket's counters.  Frames
 * the kernel dropped because the ring had no room (vswd fell behind) never
 * reach the switch, so they are not among its drops; `vswctl show` gives
 * them here, as the afxdp port gives its socket's.
 */
static void afp_tick(struct port *p)
{
	struct afp_port *a = afp_of(p);
	struct tpacket_stats_v3 st;
	socklen_t sl = sizeof(st);

	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0) {
		a->kernel_packets += st.tp_packets;
		a->kernel_drops += st.tp_drops;
		a->kernel_freezes += st.tp_freeze_q_cnt;
	}
}

static void afp_describe(struct port *p, char *buf, size_t len)
{
	struct afp_port *a = afp_of(p);
	int off = snprintf(buf, len, "af_packet %s (TPACKET_V3, %u x %u KiB blocks)", a->ifname, AFP_BLOCKS,
			   AFP_BLOCK_SIZE / 1024);

	if (off >= 0 && (size_t)off < len && a->kernel_drops)
		snprintf(buf + off, len - off, "; kernel: ring full, %llu of %llu frames dropped (%llu freezes)",
			 (unsigned long long)a->kernel_drops, (unsigned long long)a->kernel_packets,
			 (unsigned long long)a->kernel_freezes);
}

static void afp_destroy(struct port *p)
{
	struct afp_port *a = afp_of(p);

	if (a->ring)
		munmap(a->ring, a->ring_len);
	if (a->fd >= 0)
		close(a->fd);
	pthread_spin_destroy(&a->tx_lock);
	free(a);
}

static const struct port_ops afp_port_ops = {
	.type = "afpacket",
	.rx_burst = afp_rx_burst,
	.rx_done = afp_rx_done,
	.tx_burst = afp_tx_burst,
	.rx_queues = afp_rx_queues,
	.rx_fd = afp_rx_fd,
	.rx_arm = afp_rx_arm,
	.rx_disarm = afp_rx_disarm,
	.describe = afp_describe,
	.tick = afp_tick,
	.destroy = afp_destroy,
};

struct port *port_afpacket_create(const char *name, struct json_object *params, const struct port_env *env,
				  char *err, size_t errlen)
{
	const char *ifname = port_param_str(params, "ifname");
	struct tpacket_req3 req = {
		.tp_block_size = AFP_BLOCK_SIZE, .tp_block_nr = AFP_BLOCKS,
		.tp_frame_size = AFP_FRAME_SIZE, .tp_frame_nr = AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCKS,
		.tp_retire_blk_tov = 1, /* ms: a partly filled block still reaches us promptly */
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int one = 1, v3 = TPACKET_V3;
	struct afp_port *a;
	const char *what;

	if (!ifname || strlen(ifname) >= IFNAMSIZ || !(sll.sll_ifindex = (int)if_nametoindex(ifname))) {
		snprintf(err, errlen, "afpacket: no interface %s (ifname=)", ifname ? ifname : "given");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(a->port.name, sizeof(a->port.name), "%s", name);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->port.ops = &afp_port_ops;
	a->port.rx_offload = true;
	atomic_init(&a->port.tx_offload, GSO_TX_ALL);
	pthread_spin_init(&a->tx_lock, PTHREAD_PROCESS_PRIVATE);
	mr.mr_ifindex = sll.sll_ifindex;
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (a->fd < 0) {
		what = "socket";
		goto out_errno;
	}
	/* The order matters: the vnet header and version before the ring. */
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
		what = "PACKET_VNET_HDR";
		goto out_errno;
	}
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0 ||
	    setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		what = "TPACKET_V3 ring";
		goto out_errno;
	}
	a->ring_len = (size_t)AFP_BLOCK_SIZE * AFP_BLOCKS;
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, a->fd, 0);
	if (a->ring == MAP_FAILED)
		a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (a->ring == MAP_FAILED) {
		a->ring = NULL;
		what = "mmap";
		goto out_errno;
	}
	/* Our own transmissions must not come back in: the switch already has them. */
	if (setsockopt(a->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		what = "PACKET_IGNORE_OUTGOING";
		goto out_errno;
	}
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		what = "bind";
		goto out_errno;
	}
	if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		what = "promiscuous mode";
		goto out_errno;
	}
	return &a->port;

out_errno:
	snprintf(err, errlen, "afpacket %s: %s: %s", ifname, what, strerror(errno));
	afp_destroy(&a->port);
	return NULL;
}
