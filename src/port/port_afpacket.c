/* port_afpacket.c - AF_PACKET port: attach an existing interface (a container's veth end) through a TPACKET_V2 ring. */
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
 * The fallback that works on any interface.  Receive: the kernel fills the
 * slots of a TPACKET_V2 ring mapped into our memory (tpacket_rcv), each
 * frame preceded by a 10-byte virtio_net_hdr (PACKET_VNET_HDR); frames go
 * to the switch as views into the ring, and a slot goes back to the kernel
 * after the burst it was in.  Transmit: one sendmmsg() per burst, each
 * message the header plus the source's iovecs.
 *
 *   ring:  | slot 0 | slot 1 | ... | slot 4095 |   2 KiB each: tpacket2_hdr, vnet hdr, frame
 *            ^ rx_slot (next to read)
 *
 *   a frame longer than a slot (a GSO frame, a jumbo frame): its slot holds
 *   the first bytes and TP_STATUS_COPY, and the kernel queues the whole
 *   frame on the socket (PACKET_COPY_THRESH); rx_burst reads it with
 *   recvmsg() into big[] (vnet hdr + frame, back to back, the next free
 *   bytes of this burst's arena) and forwards it from there:
 *
 *   big:   | hdr frame | hdr frame | ... free |   PKT_BURST_BYTES + one largest frame
 *
 * Why V2 and not V3: a V3 block reaches us only when it is full or its
 * timer (1 ms at least) retires it, so every frame of a slow flow (a TCP
 * ACK, a ping) waited up to a millisecond each way; a V2 slot wakes us
 * when it is written.  Big frames cost one recvmsg() each (one copy, as
 * the ring's), small ones stay zero-syscall.
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
 * VLAN offload on a veth) and reports it in tp_vlan_tci (in the slot, or
 * in PACKET_AUXDATA for recvmsg()); the frame is whole only with the tag
 * put back, in front of the frame, over the virtio-net header we already
 * copied out (see afp_rx_burst).  The header's csum_start counted from
 * the untagged frame: it moves with it.
 */

#define AFP_BLOCK_SIZE (1u << 20)
#define AFP_BLOCKS 8
#define AFP_FRAME_SIZE 2048u	/* one slot: frames up to 1,958 bytes (a tagged 1500-byte MTU frame) stay in the ring */
#define AFP_SLOTS (AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCKS)
#define AFP_HDR_LEN VNET_HDR_LEN	/* struct virtio_net_hdr, without num_buffers */
#define AFP_BIG_MAX (AFP_HDR_LEN + 65535u + 18u) /* header + the largest GSO frame (IP 64 KiB, a tagged Ethernet header) */
#define AFP_BIG_BYTES (PKT_BURST_BYTES + AFP_BIG_MAX + 16u) /* a burst's big frames: it stops at PKT_BURST_BYTES */
#define AFP_RCVBUF (32u << 20)	/* socket buffer for queued big frames (each skb's truesize counts) */
#define AFP_SNDBUF (32u << 20)	/* frames sent but not yet consumed by the peer's stack (see port_afpacket_create) */
#define AFP_TX_IOV 64
/* What the socket takes from the kernel's virtio_net_hdr (virtio_net_hdr_from_skb()): all it can say but UFO. */
#define AFP_ACCEPT (VNET_ACCEPT_CSUM | VNET_ACCEPT_DATA_VALID | VNET_ACCEPT_TSO4 | VNET_ACCEPT_TSO6 | \
		    VNET_ACCEPT_ECN | VNET_ACCEPT_USO)

_Static_assert(AFP_BLOCK_SIZE % AFP_FRAME_SIZE == 0, "slots tile the blocks: slot i is at i * AFP_FRAME_SIZE");

struct afp_port {
	struct port port;
	int fd;
	char ifname[IFNAMSIZ];
	uint8_t *ring;
	size_t ring_len;
	unsigned rx_slot;		/* next slot to read */
	unsigned rx_taken;		/* slots the last burst read, to give back in rx_done */
	bool pending;			/* the last burst stopped on budget */
	struct iovec rx_iov[PKT_BURST];
	uint8_t *big;			/* AFP_BIG_BYTES: this burst's frames longer than a slot */
	pthread_spinlock_t tx_lock;
	struct mmsghdr msgs[PKT_BURST];
	struct iovec tx_iov[PKT_BURST][AFP_TX_IOV + 1];
	uint8_t tx_hdr[PKT_BURST][AFP_HDR_LEN];
	/* Control thread: what the kernel counted on the socket (reading resets it), summed. */
	uint64_t kernel_packets, kernel_drops;
	atomic_uint_least64_t big_frames;	/* frames that came through recvmsg() (data path, relaxed) */
};

static struct afp_port *afp_of(struct port *p) { return (struct afp_port *)p; }

static struct tpacket2_hdr *slot(struct afp_port *a, unsigned i)
{
	return (struct tpacket2_hdr *)(a->ring + (size_t)i * AFP_FRAME_SIZE);
}

static bool slot_ready(struct tpacket2_hdr *f)
{
	/* Acquire: the kernel wrote the frame before handing the slot to user space. */
	return __atomic_load_n(&f->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

/* What a received frame is, wherever it came from. */
struct afp_rx {
	uint8_t *frame;		/* AFP_HDR_LEN bytes of virtio_net_hdr before it */
	uint32_t len;
	bool vlan;		/* the kernel took a tag off: ... */
	uint16_t tci, tpid;	/* ... this one */
};

/*
 * The whole frame a TP_STATUS_COPY slot stands for: the next one queued on
 * the socket, read into big[@*used] with its header.  False (the drop
 * counted) when there is none (the kernel could not queue it: its socket
 * buffer was full) or it is longer than AFP_BIG_MAX.
 */
static bool afp_rx_big(struct afp_port *a, size_t *used, struct afp_rx *rx)
{
	union {
		struct cmsghdr c;
		uint8_t buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	uint8_t *at = a->big + *used;
	struct iovec iov = { at, AFP_BIG_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	ssize_t got = recvmsg(a->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);

	if (got < 0) {
		port_count_drop(&a->port, DROP_NO_RX_BUFFER, 1);
		return false;
	}
	if ((size_t)got > AFP_BIG_MAX || (mh.msg_flags & MSG_TRUNC) || (size_t)got < AFP_HDR_LEN + PKT_ETH_HLEN) {
		port_count_drop(&a->port, (size_t)got < AFP_HDR_LEN + PKT_ETH_HLEN ? DROP_RUNT : DROP_TOO_BIG, 1);
		return false;
	}
	rx->frame = at + AFP_HDR_LEN;
	rx->len = (uint32_t)(got - AFP_HDR_LEN);
	rx->vlan = false;
	rx->tci = 0;
	rx->tpid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		rx->vlan = aux.tp_status & TP_STATUS_VLAN_VALID;
		rx->tci = aux.tp_vlan_tci;
		rx->tpid = aux.tp_status & TP_STATUS_VLAN_TPID_VALID ? aux.tp_vlan_tpid : ETH_P_8021Q;
	}
	/* 16-byte steps keep each frame's head aligned as the ring's. */
	*used += ((size_t)got + 15) & ~(size_t)15;
	atomic_fetch_add_explicit(&a->big_frames, 1, memory_order_relaxed);
	return true;
}

static unsigned afp_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct afp_port *a = afp_of(p);
	unsigned n = 0;
	uint64_t bytes = 0;
	size_t big_used = 0, big_mark;
	bool no_room = false;

	a->rx_taken = 0;
	a->pending = false;
	/*
	 * bytes < PKT_BURST_BYTES before each frame, and big[] holds only
	 * frames forwarded (a dropped one's bytes are taken back), so
	 * big_used <= bytes: the next big frame fits.  The room check below
	 * guards that invariant, not a case that happens.
	 */
	while (n < max && bytes < PKT_BURST_BYTES && a->rx_taken < AFP_SLOTS) {
		struct tpacket2_hdr *f = slot(a, (a->rx_slot + a->rx_taken) % AFP_SLOTS);
		uint32_t status, mac, snaplen, flen;
		struct afp_rx rx;
		struct vnet_info vi;
		enum vnet_bad why;
		uint8_t hdr[VNET_HDR_LEN];
		uint8_t *frame;
		uint32_t len;

		if (!slot_ready(f))
			break;
		/* The slot's fields once each, into private copies. */
		status = f->tp_status;
		mac = f->tp_mac;
		snaplen = f->tp_snaplen;
		flen = f->tp_len;
		if ((status & TP_STATUS_COPY) && AFP_BIG_BYTES - big_used < AFP_BIG_MAX) {
			no_room = true; /* the slot stays for the next burst */
			break;
		}
		a->rx_taken++;
		big_mark = big_used;
		if (status & TP_STATUS_COPY) {
			if (!afp_rx_big(a, &big_used, &rx))
				continue;
			if (rx.len != flen) {
				port_count_drop(p, DROP_PORT_BROKEN, 1); /* not the frame the slot stands for */
				big_used = big_mark;
				continue;
			}
		} else {
			if (mac < sizeof(*f) + AFP_HDR_LEN || mac > AFP_FRAME_SIZE || snaplen > AFP_FRAME_SIZE - mac ||
			    snaplen < flen || snaplen < PKT_ETH_HLEN) {
				/* snaplen < tp_len without COPY: longer than a slot and the socket could not queue it. */
				port_count_drop(p, snaplen < PKT_ETH_HLEN ? DROP_RUNT :
						   snaplen < flen ? DROP_NO_RX_BUFFER : DROP_PORT_BROKEN, 1);
				continue;
			}
			rx.frame = (uint8_t *)f + mac;
			rx.len = snaplen;
			rx.vlan = status & TP_STATUS_VLAN_VALID;
			rx.tci = f->tp_vlan_tci;
			rx.tpid = status & TP_STATUS_VLAN_TPID_VALID ? f->tp_vlan_tpid : ETH_P_8021Q;
		}
		frame = rx.frame;
		len = rx.len;
		memcpy(hdr, frame - AFP_HDR_LEN, AFP_HDR_LEN);
		why = vnet_hdr_parse(hdr, len, AFP_ACCEPT, &vi);
		if (why != VNET_OK) {
			port_count_bad_header(p, why);
			big_used = big_mark;
			continue;
		}
		if (rx.vlan) {
			/* The tag the kernel took off, back after the MACs (above); the header's bytes are spare now. */
			_Static_assert(AFP_HDR_LEN >= 4, "room for a tag in front of the frame");
			memmove(frame - 4, frame, 12);
			frame -= 4;
			frame[12] = (uint8_t)(rx.tpid >> 8);
			frame[13] = (uint8_t)rx.tpid;
			frame[14] = (uint8_t)(rx.tci >> 8);
			frame[15] = (uint8_t)rx.tci;
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
		if (vnet_requests(&vi) && !port_offload_rx_ok(p, &pkts[n])) {
			big_used = big_mark;
			continue;
		}
		bytes += len;
		n++;
	}
	a->pending = n == max || bytes >= PKT_BURST_BYTES || a->rx_taken == AFP_SLOTS || no_room;
	if (n) {	/* an empty poll writes no shared line */
		port_count(&p->stats.rx_packets, n);
		port_count(&p->stats.rx_bytes, bytes);
	}
	return n;
}

static void afp_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	struct afp_port *a = afp_of(p);

	/* Release: our reads of each frame happen before the kernel may write its slot again. */
	for (unsigned i = 0; i < a->rx_taken; i++)
		__atomic_store_n(&slot(a, (a->rx_slot + i) % AFP_SLOTS)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	a->rx_slot = (a->rx_slot + a->rx_taken) % AFP_SLOTS;
	a->rx_taken = 0;
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

	/* A ready slot already signalled: look at it rather than wait. */
	return a->pending || slot_ready(slot(a, a->rx_slot));
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
	struct tpacket_stats st = { 0 };
	socklen_t sl = sizeof(st);

	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0) {
		a->kernel_packets += st.tp_packets;
		a->kernel_drops += st.tp_drops;
	}
}

static void afp_describe(struct port *p, char *buf, size_t len)
{
	struct afp_port *a = afp_of(p);
	int off = snprintf(buf, len, "af_packet %s (TPACKET_V2, %u x %u-byte slots; %llu longer frames by recvmsg)",
			   a->ifname, AFP_SLOTS, AFP_FRAME_SIZE,
			   (unsigned long long)atomic_load_explicit(&a->big_frames, memory_order_relaxed));

	if (off >= 0 && (size_t)off < len && a->kernel_drops)
		snprintf(buf + off, len - off, "; kernel: ring full, %llu of %llu frames dropped",
			 (unsigned long long)a->kernel_drops, (unsigned long long)a->kernel_packets);
}

static void afp_destroy(struct port *p)
{
	struct afp_port *a = afp_of(p);

	if (a->ring)
		munmap(a->ring, a->ring_len);
	free(a->big);
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
	.rx_poll_cheap = port_rx_poll_cheap_always,
	.describe = afp_describe,
	.tick = afp_tick,
	.destroy = afp_destroy,
};

struct port *port_afpacket_create(const char *name, struct json_object *params, const struct port_env *env,
				  char *err, size_t errlen)
{
	const char *ifname = port_param_str(params, "ifname");
	struct tpacket_req req = {
		.tp_block_size = AFP_BLOCK_SIZE, .tp_block_nr = AFP_BLOCKS,
		.tp_frame_size = AFP_FRAME_SIZE, .tp_frame_nr = AFP_SLOTS,
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int one = 1, v2 = TPACKET_V2, rcvbuf = AFP_RCVBUF, sndbuf = AFP_SNDBUF;
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
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) < 0 ||
	    setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		what = "TPACKET_V2 ring";
		goto out_errno;
	}
	/*
	 * Frames longer than a slot: queued whole on the socket (any non-zero
	 * threshold turns it on), with their VLAN tag in PACKET_AUXDATA, in a
	 * socket buffer that holds a few bursts of 64 KiB frames (FORCE:
	 * past net.core.rmem_max, as root; else what rmem_max allows).
	 */
	if (setsockopt(a->fd, SOL_PACKET, PACKET_COPY_THRESH, &one, sizeof(one)) < 0 ||
	    setsockopt(a->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
		what = "PACKET_COPY_THRESH";
		goto out_errno;
	}
	if (setsockopt(a->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(a->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/*
	 * A frame we send stays charged to this socket until the kernel is
	 * done with it: on a veth, until the receiving CPU's backlog has been
	 * processed (later when that CPU is busy, e.g. ours, the receive path
	 * steered to it), or while a qdisc holds it.  With the default send
	 * buffer (net.core.wmem_default, 208 KiB: three 64 KiB GSO frames)
	 * sendmmsg() then refuses the rest of a burst (EAGAIN) and
	 * port_sendmmsg() drops it: a container's TCP segments lost by the
	 * switch while the container keeps up.  32 MiB instead (the kernel
	 * doubles it; FORCE as root, else what net.core.wmem_max allows):
	 * charged only while frames wait, as the receive side's.
	 */
	if (setsockopt(a->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(a->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	a->big = aligned_alloc(64, (AFP_BIG_BYTES + 63) & ~63u);
	if (!a->big) {
		what = "big-frame buffer";
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
