/* port_vxlan.c - VXLAN port: frames to and from remote VTEPs (a flood list, learned and static MACs) in one VNI or any (vni=flow), over the kernel's UDP/IP (RFC 7348). */
#include "port/port_vxlan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/perf.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"
#include "port/port_types.h"
#include "port/vxlan_mtu.h"
#include "port/vtep.h"

/*
 * The kernel owns the underlay: its addresses, routes and neighbours pick
 * the outer Ethernet header and the interface; vsw never answers or sends
 * an ARP or a neighbour solicitation of its own.
 *
 *   switch --tx_burst--> [UDP hdr | VXLAN hdr] + the frame's segments --sendmmsg--> raw IP socket (proto UDP)
 *                                                                                  kernel: IP header, route, neighbour
 *   switch <--rx_burst-- frame = datagram past 8 bytes <--recvmmsg-- UDP socket bound to local:dstport
 *
 * Two sockets, because a UDP socket sends from the one port it is bound
 * to, and RFC 7348 wants the outer source port to vary with the inner
 * flow (section 5: "a hash of fields from the inner packet", so that ECMP
 * on the underlay spreads flows).  Transmit therefore writes its own
 * 8-byte UDP header through a raw socket of protocol UDP (the kernel still
 * builds the IP header, routes and resolves, and refuses to fragment:
 * IP_PMTUDISC_DO / IPV6_DONTFRAG, so an outer packet over the path MTU is
 * an EMSGSIZE, counted too_big); the raw socket's own receive side drops
 * everything through a one-instruction socket filter.  Receive is an
 * ordinary UDP socket, so the kernel checks the outer UDP checksum (and
 * accepts zero: always for IPv4, UDP_NO_CHECK6_RX for IPv6, RFC 7348
 * section 5 "the UDP checksum ... SHOULD be transmitted as zero. When a
 * packet is received with a UDP checksum of zero, it MUST be accepted").
 *
 * Outer UDP checksum on transmit (csum=on, the default): IPv4 sums in
 * software here (pseudo header, UDP + VXLAN header, the inner frame's
 * segments); IPv6 asks the kernel (IPV6_CHECKSUM at offset 6).  csum=off
 * sends zero (for IPv6 the receiver must allow it: Linux's udp6zerocsumrx).
 *
 * One socket per port bound to local:dstport: a second port on the same
 * local address and UDP port is refused (EADDRINUSE).  SO_REUSEPORT would
 * not help: unconnected members of a group are picked by a hash of the
 * datagram, not by its VNI, and connect() would also filter on the remote's
 * source port, which varies.  One port serves many remotes (remote=IP,IP..)
 * and, with vni=flow, every VNI: the flows tell them apart (tun_id,
 * tun_src; set_tunnel), as Open vSwitch's options:key=flow.
 *
 * Remotes (vtep.h): remote= is the port's flood list (none without
 * it); a VNI may have one of its own (tunnel fdb add 00:00:00:00:00:00
 * vni=N remote=IP, once per remote), which replaces the port's for that
 * VNI; a VNI with neither floods nowhere (`no_destination`).  remote=flow
 * (OVS's options:remote_ip=flow) has neither: each frame goes to its own
 * tun_dst, or tun_ipv6_dst on an IPv6 underlay (pkt.tun.dst, from the
 * flows' set_field), a frame without one of the port's family is a
 * `no_tunnel_dst` drop, nothing is learned, and datagrams from any VTEP
 * are received (the flows read tun_src or tun_ipv6_src).  A frame whose
 * inner destination the port's table has (learned from received frames'
 * inner source and outer source address, or static: vswctl tunnel fdb
 * add) goes to that VTEP alone; a broadcast, multicast or unknown
 * destination goes once to each remote of its VNI's flood list
 * (head-end replication: one header built, copied per remote with its
 * checksum, the frame's bytes never copied by us; VX_FLOOD_COPIES
 * datagrams a burst, past that a `flood_budget` drop).
 *
 * Receive checks, on the datagram (untrusted): its source address is a
 * known remote (a flood list's or a static entry's; else `remote` drop;
 * any with remote=flow),
 * it holds a VXLAN header with the I flag and this port's VNI (any, with
 * vni=flow) and an inner Ethernet header (vxlan_hdr_check(); else
 * `short`, `flags` or `vni`).  The inner frame goes to the switch as a
 * view into the datagram's slot, with the outer addresses and VNI as the
 * packet's tunnel metadata (PKT_F_TUNNEL); its source MAC is learned
 * behind the remote it came from (once a second per MAC, one lock per
 * burst when anything changed).
 *
 * Offloads, where the kernel has them (probed once at create; describe
 * says which are on, `stats` counts them):
 *
 *   UDP GSO (UDP_SEGMENT, Linux >= 4.18; csum=on only: the kernel refuses
 *   GSO without checksums): the port takes TSO4/TSO6/ECN/USO and partial
 *   checksums (tx_offload), and a frame that asks for either is cut here
 *   into one or more UDP_SEGMENT payloads (packet/vxlan_gso.h: its
 *   segments back to back, each behind its VXLAN header) sent through a
 *   UDP socket: one sendmsg for up to 64 datagrams, the kernel adding
 *   each one's UDP and IP header and checksum.  A UDP socket sends from
 *   its bound port, so there are VX_GSO_SOCKS of them bound to ports of
 *   src_ports=, the flow's hash picking one: a flow keeps one outer port
 *   and flows still spread, over VX_GSO_SOCKS ports instead of the whole
 *   range.  A flow's finished frames (pure ACKs, small packets) go through
 *   its GSO socket too when they come in runs of one size (two or more
 *   to one remote in a row: vx_gso_small(), one UDP_SEGMENT send for the
 *   run, one trip through the kernel's stack instead of one per frame),
 *   else through the raw socket with that same port (vx_sport()), so one
 *   inner flow takes one ECMP path whichever way each frame goes; a
 *   flow's frames in the raw socket's batch are sent before any of its
 *   GSO payloads that follow them, and the other way round.  Without GSO,
 *   tx_offload is 0, the egress fallback hands finished frames
 *   (segmented, checksums complete) and the hash spans all of src_ports=.
 *
 *   A kernel may refuse UDP_SEGMENT for good on a path (EIO when the
 *   route has an xfrm/IPsec transform, EINVAL, EOPNOTSUPP): the port then
 *   turns GSO off for good (vx_gso_refuse(): one log line, gso_fallbacks,
 *   describe says why, tx_offload 0 so the egress fallback segments from
 *   the next burst on) and sends the refused payloads, the rest of their
 *   round and any frame with a request already on its way a datagram at
 *   a time through the raw socket (vx_gso_resend()): nothing is lost.
 *   Per port, not per remote: tx_offload, which the egress fallback
 *   reads, is the port's, and one underlay usually routes every remote
 *   the same way.  EAGAIN, ENOBUFS (a full queue) stay drops.
 *
 *   UDP GRO (UDP_GRO, Linux >= 5.0): the receive socket may return
 *   several datagrams of one flow in one slot with their size (cmsg);
 *   vxlan_gro_split() cuts them apart and each is checked and
 *   decapsulated alone; then a run of one flow's inner TCP segments
 *   becomes one TSO frame (vxlan_gro_merge(): headers rewritten in the
 *   slot, the view the first frame and the others' payloads, from
 *   rx_miov), so the port makes offload requests (rx_offload).  A slot is
 *   64 KiB either way (a datagram's largest payload), so GRO costs no
 *   memory but the iovecs; frames of a slot past the burst wait there for
 *   the next burst (no recvmmsg until they are out).
 *
 * VLANs to VNIs (vlan_vni=10:1010,20:1020; the switch makes the port a
 * trunk of those VLANs, ctl/port_opts.c): one port, one socket, many VNIs,
 * and the learning bridge keeps them apart by VLAN, as a Linux bridge with
 * one vxlan device and `bridge vlan add ... tunnel_info id` does.  A
 * received frame of a mapped VNI gets its VLAN's tag pushed into its head
 * here (an unmapped VNI is a `vni` drop, an inner frame already tagged a
 * `tagged` one: VXLAN carries untagged frames between VLAN-mapped VTEPs);
 * a frame to send must carry a mapped VLAN's tag, which is left out of the
 * datagram (the head is not changed: a flood's other destinations read
 * it), and goes in that VLAN's VNI; else a `vlan_denied` drop.  Under
 * vlan_vni= neither UDP GSO nor the GRO merge is used (the tag would have
 * to come out of every segment and into every merged frame): GRO's
 * datagrams are still cut apart, each a frame.
 */

/* vlan_vni=: VID -> VNI by index, VNI -> VID by open addressing (at most half full). */
#define VX_MAP_SLOTS 8192u
#define VX_NO_VNI UINT32_MAX
#define VX_MAP_USED (1ull << 40)	/* a slot: USED | vni << 12 | vid */

struct vx_map {
	uint32_t vni_of[4096];		/* VX_NO_VNI: the VLAN is not mapped */
	uint64_t slot[VX_MAP_SLOTS];
	unsigned n;
	uint16_t vids[4094];		/* in the order given, for describe */
};

static unsigned vx_map_hash(uint32_t vni)
{
	return (vni * 2654435761u) >> (32 - 13);
}

/* The VLAN of @vni under @m, or 0: not mapped. */
static unsigned vx_map_vid(const struct vx_map *m, uint32_t vni)
{
	for (unsigned i = vx_map_hash(vni), k = 0; k < VX_MAP_SLOTS; k++, i = (i + 1) & (VX_MAP_SLOTS - 1)) {
		uint64_t e = m->slot[i];

		if (!e)
			return 0;
		if ((uint32_t)(e >> 12 & VXLAN_VNI_MAX) == vni)
			return (unsigned)(e & 0xfff);
	}
	return 0;
}

#define VX_RX_SLOT 65536u	/* a datagram: at most 65535 bytes of UDP payload */
#define VX_TX_IOV 64		/* segments of one inner frame */
#define VX_HDR_LEN (VXLAN_UDP_HLEN + VXLAN_HLEN)
/*
 * Head-end replication: datagrams one tx_burst makes for flooded frames,
 * at most (4 bursts' worth: a burst of broadcasts to 4 remotes, or one
 * broadcast to each of VTEP_REMOTES_MAX and more); a flood frame past it
 * is a `flood_budget` drop, unicast frames still go.
 */
#define VX_FLOOD_COPIES (4u * PKT_BURST)
#define VX_GSO_SOCKS 8		/* UDP sockets for GSO payloads: outer source ports a flow's hash picks from */
/*
 * The GSO payloads of one round of sendmmsg, back to back in one arena
 * (512 KiB a port): a payload is built where at least VX_GSO_BUF bytes are
 * left and takes what it used, so a round holds 8 payloads of 64 KiB or
 * up to PKT_BURST small ones (frames with a partial checksum alone).
 */
#define VX_GSO_ARENA (8u * 65536u)
#define VX_GSO_BUF 65536u
#define VX_GSO_TX_OFFLOAD (GSO_TX_CSUM | GSO_TX_TSO4 | GSO_TX_TSO6 | GSO_TX_ECN | GSO_TX_USO)

/* The port's offload counters (`stats` "tunnel"): UDP GSO payloads sent, GRO buffers received, and their datagrams. */
enum vx_off_counter {
	VX_GSO_SENDS,
	VX_GSO_SEGMENTS,
	VX_GSO_FALLBACKS,	/* the kernel refused UDP GSO for good: 1, GSO off since (vx_gso_refuse()) */
	VX_GSO_RESENT,		/* datagrams of refused (or later) GSO payloads sent one by one through the raw socket */
	VX_GRO_RECEIVES,
	VX_GRO_SEGMENTS,
	VX_GRO_MERGED,
	VX_OFF__COUNT
};
static const char *const vx_off_names[VX_OFF__COUNT] = { "gso_sends",	 "gso_segments", "gso_fallbacks", "gso_resent",
							  "gro_receives", "gro_segments", "gro_merged" };
/* Iovecs of merged TSO frames one burst may need: every datagram of a full burst of GRO slots. */
#define VX_RX_MIOV ((size_t)PKT_BURST * VXLAN_GSO_SEGS_MAX)

_Static_assert(VTEP_REMOTES_MAX <= PKT_BURST, "one frame's copies fit the messages of one sendmmsg");

/* Drops of received datagrams by reason, for describe (each is also a port drop). */
enum vx_rx_bad {
	VX_RX_SHORT,	/* no room for VXLAN + Ethernet headers */
	VX_RX_FLAGS,	/* I flag clear */
	VX_RX_VNI,	/* another VNI */
	VX_RX_REMOTE,	/* not from the remote VTEP */
	VX_RX_TRUNC,	/* larger than a slot (cannot be: a UDP payload fits) */
	VX_RX_TAGGED,	/* vlan_vni=: an inner frame that carries a tag already */
	VX_RX__COUNT
};
static const char *const vx_rx_bad_names[VX_RX__COUNT] = { "short", "flags", "vni", "remote", "truncated", "tagged" };

union vx_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct vx_port {
	struct port port;
	/* configuration (fixed after create) */
	bool ipv6, csum, tos_inherit;
	bool vni_flow;		/* vni=flow: the VNI is the frame's tunnel key (pkt.tun.id), any VNI is received */
	bool remote_flow;	/* remote=flow: each frame to its tun_dst (pkt.tun.dst), any remote VTEP received */
	struct vx_map *map;	/* vlan_vni=: the VNI is the frame's VLAN's (NULL: no map) */
	uint32_t vni;
	uint16_t dstport, sport_lo, sport_hi;
	int ttl, tos;
	/* what every tx burst reads, next to the configuration (one line, not three far apart) */
	unsigned n_gso;		/* UDP GSO sockets, 0: GSO off (below) */
	atomic_int gso_err;	/* the errno of the kernel's refusal: GSO off for good (vx_gso_refuse()), 0 while on */
	unsigned gso_m;		/* GSO messages of the current round */
	bool gso_open;		/* the last of them takes more finished frames (vx_gso_small()) */
	uint32_t gso_socks;	/* the sockets they go through (bit per socket) */
	union vx_addr local;
	socklen_t alen;
	char local_str[INET6_ADDRSTRLEN];
	/* the remote VTEPs (remote=: the flood list) and the remote MACs behind them (vtep.h) */
	struct vtep vt;
	int rx_fd, tx_fd;
	struct vxlan_mtu mtu;	/* the underlay MTU: port.tx_frame_max from it (vxlan_mtu.h) */
	/* receive: the worker polling queue 0 */
	bool drained;		/* the last burst found the socket empty: the next datagram signals */
	uint8_t *rx_slots;	/* PKT_BURST x VX_RX_SLOT */
	bool gro;		/* UDP_GRO on the receive socket */
	unsigned rx_got, rx_next;	/* messages of the last recvmmsg, and the first not yet all out */
	size_t rx_off;		/* bytes of message rx_next already out (GRO: the datagrams before) */
	size_t rx_seg;		/* its GRO datagram size (0: one datagram) */
	int rx_r;		/* its remote (remote=flow: VTEP_REMOTES_MAX, none: nothing learned) */
	int rx_r_prev;		/* the message before's (-1: none, or dropped), for the next with its address */
	const union vtep_addr *rx_src;	/* its source VTEP: remotes[rx_r]'s address, or rx_from[] (remote=flow) */
	struct iovec *rx_miov;	/* VX_RX_MIOV: the views of merged TSO frames (GRO on) */
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} rx_cmsg[PKT_BURST];
	struct mmsghdr rx_msgs[PKT_BURST];
	struct iovec rx_iov[PKT_BURST];	/* the slots, for recvmmsg */
	struct iovec rx_view[PKT_BURST];	/* the inner frames, for the switch */
	union vx_addr rx_from[PKT_BURST];
	atomic_uint_least64_t rx_bad[VX_RX__COUNT];
	/* transmit: any worker, one at a time */
	pthread_spinlock_t tx_lock;
	struct mmsghdr msgs[PKT_BURST];
	struct iovec tx_iov[PKT_BURST][VX_TX_IOV + 1];
	uint8_t tx_hdr[PKT_BURST][VX_HDR_LEN];
	uint16_t tx_sum[PKT_BURST];	/* IPv4 csum=on: the UDP datagram's sum but the pseudo header (folded) */
	union vtep_addr tx_to[PKT_BURST];	/* remote=flow: message m's destination (its tun_dst) */
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} tx_cmsg[PKT_BURST];
	/* UDP GSO (under tx_lock): n_gso sockets, 0 when off (gso_off says why); n_gso, gso_err, gso_m: above */
	const char *gso_off;
	int gso_fd[VX_GSO_SOCKS];
	uint16_t gso_sport[VX_GSO_SOCKS];
	uint8_t *gso_buf;	/* VX_GSO_ARENA bytes */
	struct pkt *gso_scratch;	/* VXLAN_GSO_SEGS_MAX segments of the frame being cut */
	size_t gso_used;	/* arena bytes they use */
	struct mmsghdr gso_msgs[PKT_BURST];
	struct iovec gso_iov[PKT_BURST];
	union vx_addr gso_to[PKT_BURST];
	struct {
		uint8_t sock;
		uint8_t remote;		/* its index in vt.remotes */
		uint16_t sport;		/* its outer source port (the socket's, or vx_sport()'s once GSO is refused) */
		int tos;		/* its outer TOS, -1: the socket's */
		uint16_t seg_bytes;	/* its pieces' size (the last may be shorter) */
		unsigned segs;
		size_t inner_bytes;
	} gso_meta[PKT_BURST];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int))];
	} gso_cmsg[PKT_BURST];
	struct mmsghdr gso_batch[PKT_BURST];	/* one socket's messages of a round, for its sendmmsg */
	unsigned gso_batch_of[PKT_BURST];
	atomic_uint_least64_t off_count[VX_OFF__COUNT];
};

static struct vx_port *vx_of(struct port *p) { return (struct vx_port *)p; }

/* The tunnel metadata of a frame that came in (PKT_F_TUNNEL) in @vni from the VTEP @src: whoever sets the flag fills every field. */
static void vx_tun_meta(const struct vx_port *v, struct pkt *pk, uint32_t vni, const union vtep_addr *src)
{
	pk->flags |= PKT_F_TUNNEL;
	pk->tun.id = vni;
	pk->tun.ipv6 = v->ipv6;
	if (v->ipv6) {
		memcpy(pk->tun.src.v6, &src->v6.sin6_addr, 16);
		memcpy(pk->tun.dst.v6, &v->local.v6.sin6_addr, 16);
	} else {
		memset(&pk->tun.src, 0, sizeof(pk->tun.src));
		memset(&pk->tun.dst, 0, sizeof(pk->tun.dst));
		pk->tun.src.v4 = src->v4.sin_addr.s_addr;
		pk->tun.dst.v4 = v->local.v4.sin_addr.s_addr;
	}
}

/* Could inner frame @f (@len bytes) open a run vxlan_gro_merge() glues: IPv4 or IPv6 and TCP (it checks the rest)? */
static inline bool vx_inner_tcp(const uint8_t *f, size_t len)
{
	if (len < PKT_ETH_HLEN + 40 + 20)
		return len >= PKT_ETH_HLEN + 20 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6;
	return (f[12] == 0x08 && f[13] == 0x00 && f[23] == 6) || (f[12] == 0x86 && f[13] == 0xdd && f[20] == 6);
}

/* The GRO datagram size of a received message (its UDP_GRO cmsg), or 0: one datagram. */
static size_t vx_gro_size(const struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
		int seg;

		if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO || cm->cmsg_len < CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&seg, CMSG_DATA(cm), sizeof(seg));
		return seg > 0 ? (size_t)seg : 0;
	}
	return 0;
}

/* The receive messages, once the slots are there and GRO is known: each its slot, address and control buffer. */
static void vx_rx_init(struct vx_port *v)
{
	for (unsigned i = 0; i < PKT_BURST; i++) {
		v->rx_msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &v->rx_from[i], .msg_namelen = sizeof(v->rx_from[i]),
			.msg_iov = &v->rx_iov[i], .msg_iovlen = 1,
			.msg_control = v->gro ? v->rx_cmsg[i].buf : NULL,
			.msg_controllen = v->gro ? sizeof(v->rx_cmsg[i].buf) : 0,
		};
	}
}

/* Fill the slots again: recvmmsg of up to @max messages; false when the socket had none. */
static bool vx_rx_fill(struct vx_port *v, unsigned max)
{
	int got;

	/* The kernel writes back a message's name and control lengths (and flags): those two again, the rest stays (vx_rx_init()). */
	for (unsigned i = 0; i < max; i++) {
		v->rx_msgs[i].msg_hdr.msg_namelen = sizeof(v->rx_from[i]);
		v->rx_msgs[i].msg_hdr.msg_controllen = v->gro ? sizeof(v->rx_cmsg[i].buf) : 0;
	}
	got = recvmmsg(v->rx_fd, v->rx_msgs, max, MSG_DONTWAIT, NULL);
	v->rx_next = v->rx_got = 0;
	v->rx_off = 0;
	v->rx_r_prev = -1;
	if (got <= 0) {
		v->drained = true;
		return false;
	}
	v->drained = (unsigned)got < max;
	v->rx_got = (unsigned)got;
	return true;
}

/* Two source addresses of received messages (the kernel's, family checked by vtep_remote_find()) of one host. */
static bool vx_same_host(const struct vx_port *v, const union vx_addr *a, const union vx_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (v->ipv6)
		return !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof(a->v6.sin6_addr));
	return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

/*
 * The next message's checks as a whole (truncated, from a known remote)
 * and its GRO size, before its first datagram; false when it is dropped
 * whole (counted in @bad) and skipped.
 */
static bool vx_rx_msg_start(struct vx_port *v, unsigned bad[VX_RX__COUNT])
{
	unsigned i = v->rx_next;
	const struct msghdr *mh = &v->rx_msgs[i].msg_hdr;
	size_t len = v->rx_msgs[i].msg_len;

	v->rx_r = -1;
	if (mh->msg_flags & MSG_TRUNC)
		bad[VX_RX_TRUNC]++;
	else if (!len)
		bad[VX_RX_SHORT]++;
	else if (v->remote_flow)
		v->rx_r = VTEP_REMOTES_MAX; /* any VTEP: the flows tell them apart (tun_src), as OVS's remote_ip=flow */
	else if (i && v->rx_r_prev >= 0 && vx_same_host(v, &v->rx_from[i], &v->rx_from[i - 1]))
		v->rx_r = v->rx_r_prev; /* the message before's VTEP (a burst mostly comes from one): found once */
	else if ((v->rx_r = vtep_remote_find(&v->vt, (const union vtep_addr *)&v->rx_from[i], mh->msg_namelen)) < 0)
		bad[VX_RX_REMOTE]++;
	v->rx_r_prev = v->rx_r;
	if (v->rx_r < 0) {
		v->rx_next++;
		return false;
	}
	v->rx_src = v->remote_flow ? (const union vtep_addr *)&v->rx_from[i] : &v->vt.remotes[v->rx_r].addr;
	v->rx_seg = v->gro ? vx_gro_size(mh) : 0;
	if (v->rx_seg && v->rx_seg < len) {
		port_count(&v->off_count[VX_GRO_RECEIVES], 1);
		port_count(&v->off_count[VX_GRO_SEGMENTS], (len + v->rx_seg - 1) / v->rx_seg);
	}
	return true;
}

/*
 * Datagram @d (@dlen bytes, untrusted)'s checks: its VNI into *@vni and,
 * under vlan_vni=, its VNI's VLAN into *@vid (else 0); false when it is
 * dropped (counted in @bad).
 */
static inline bool vx_rx_check(const struct vx_port *v, const uint8_t *d, size_t dlen, uint32_t *vni, uint16_t *vid,
			       unsigned bad[VX_RX__COUNT])
{
	*vni = 0;
	switch (vxlan_hdr_check(d, dlen, v->vni, vni)) {
	case VXLAN_OK:
		break;
	case VXLAN_BAD_VNI:
		if (v->vni_flow || v->map)
			break; /* every VNI is this port's: the flows (tun_id) or the map tell them apart */
		bad[VX_RX_VNI]++;
		return false;
	case VXLAN_BAD_SHORT:
		bad[VX_RX_SHORT]++;
		return false;
	case VXLAN_BAD_FLAGS:
		bad[VX_RX_FLAGS]++;
		return false;
	default:
		bad[VX_RX_VNI]++;
		return false;
	}
	*vid = 0;
	if (v->map) {
		const uint8_t *eth = d + VXLAN_HLEN;

		*vid = (uint16_t)vx_map_vid(v->map, *vni);
		if (!*vid) {
			bad[VX_RX_VNI]++;
			return false;
		}
		if ((eth[12] << 8 | eth[13]) == PKT_TPID_8021Q) {
			bad[VX_RX_TAGGED]++;
			return false;
		}
	}
	return true;
}

/* What one rx burst gathers for after its frames: the learning requests, the bytes. */
struct vx_rx_state {
	struct vtep_learn learn[PKT_BURST];
	struct vtep_learn seen;		/* the last source asked about */
	unsigned nlearn;
	uint32_t now_s;
	uint64_t bytes;
};

/*
 * Packet @pk, made from the current message's datagram (its inner frame
 * at @inner) in @vni: the tunnel metadata, under vlan_vni= its VLAN's tag
 * (@vid), the learning of its inner source behind the VTEP it came from.
 * Inline in both of vx_rx_burst()'s ways (a call a frame cost ~27
 * instructions of the ~200).
 */
static inline __attribute__((always_inline)) void vx_rx_deliver(struct vx_port *v, struct pkt *pk,
								    const uint8_t *inner, uint32_t vni, uint16_t vid,
								    struct vx_rx_state *st)
{
	uint64_t src_mac;

	vx_tun_meta(v, pk, vni, v->rx_src);
	st->bytes += pk->len;
	if (vid) {
		/* The VNI's VLAN, as a tag in the head: the switch sees a trunk port (PCP 0). */
		pkt_load_head(pk);
		(void)pkt_vlan_push(pk, vid); /* cannot fail: a fresh head has its headroom */
	}
	/* flood-and-learn: the inner source is behind the VTEP the datagram came from */
	src_mac = vtep_mac(inner + 6);
	if (!v->remote_flow &&
	    (src_mac != st->seen.mac || vni != st->seen.vni || v->rx_r != (int)st->seen.remote)) {
		/* A source asked once a burst (a burst is mostly one stream): one request at most. */
		st->seen = (struct vtep_learn){ .mac = src_mac, .vni = vni, .remote = (uint8_t)v->rx_r };
		if (vtep_learn_wanted(&v->vt, vni, src_mac, (unsigned)v->rx_r, st->now_s))
			st->learn[st->nlearn++] = st->seen;
	}
}

static unsigned vx_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct vx_port *v = vx_of(p);
	unsigned bad[VX_RX__COUNT] = { 0 }, n = 0, dgrams = 0;
	struct vx_rx_state st = { .seen = { .remote = 0xff } };
	struct iovec dg[PKT_BURST];
	uint32_t ok_vni[PKT_BURST];	/* a datagram's VNI when it passed the checks, else ~0 */
	unsigned same_to[PKT_BURST];	/* GRO: the end of the run of ok_vni[] values equal to a datagram's */
	uint16_t ok_vid[PKT_BURST];	/* vlan_vni=: its VNI's VLAN */
	size_t miov_used = 0;
	unsigned merged = 0;
	uint64_t t0;

	if (max > PKT_BURST)
		max = PKT_BURST;
	/* A slot's datagrams left over from the last burst (GRO) go first: the slots are not filled again before. */
	if (v->rx_next >= v->rx_got && !vx_rx_fill(v, max))
		return 0;
	t0 = dp_perf_note_start(io->perf);
	st.now_s = vtep_now_s();
	while (n < max && v->rx_next < v->rx_got) {
		unsigned i = v->rx_next, nd;
		size_t len = v->rx_msgs[i].msg_len;

		if (!v->rx_off && !vx_rx_msg_start(v, bad))
			continue;
		if (!v->rx_seg) {
			/* One datagram (no GRO, or the kernel coalesced nothing): checked and made a packet at once. */
			const uint8_t *d = v->rx_iov[i].iov_base;
			uint32_t vni;
			uint16_t vid;

			v->rx_next++;
			dgrams++;
			if (!vx_rx_check(v, d, len, &vni, &vid, bad))
				continue;
			v->rx_view[n] = (struct iovec){ (uint8_t *)d + VXLAN_HLEN, len - VXLAN_HLEN };
			pkt_rx_init(&pkts[n], &v->rx_view[n], 1, (uint32_t)(len - VXLAN_HLEN), p->id);
			vx_rx_deliver(v, &pkts[n], d + VXLAN_HLEN, vni, vid, &st);
			n++;
			continue;
		}
		nd = vxlan_gro_split(v->rx_iov[i].iov_base, len, v->rx_seg, &v->rx_off, dg, max - n);
		if (v->rx_off >= len) {
			v->rx_next++;
			v->rx_off = 0;
		}
		dgrams += nd;
		/* Each datagram checked; the inner frames that pass, with their VNI. */
		for (unsigned j = 0; j < nd; j++) {
			const uint8_t *d = dg[j].iov_base;
			uint32_t vni;

			ok_vni[j] = ~0u;
			if (!vx_rx_check(v, d, dg[j].iov_len, &vni, &ok_vid[j], bad))
				continue;
			ok_vni[j] = vni;
			dg[j] = (struct iovec){ (uint8_t *)d + VXLAN_HLEN, dg[j].iov_len - VXLAN_HLEN };
		}
		/* GRO: where each datagram's run of one VNI ends (same_to), worked out once, back to front */
		if (v->rx_miov && nd > 1) {
			same_to[nd - 1] = nd;
			for (unsigned j = nd - 1; j-- > 0;)
				same_to[j] = ok_vni[j + 1] == ok_vni[j] ? same_to[j + 1] : j + 1;
		}
		for (unsigned j = 0, k; j < nd; j += k) {
			const uint8_t *inner = dg[j].iov_base;
			uint32_t vni = ok_vni[j];
			unsigned run = 1;
			struct pkt *pk = &pkts[n];

			k = 1;
			if (vni == ~0u)
				continue;
			/* GRO: a run of one flow's inner TCP segments becomes one TSO frame (vxlan_gro_merge()). */
			if (v->rx_miov && nd > 1 && vx_inner_tcp(inner, dg[j].iov_len)) {
				run = same_to[j] - j;
				if (run > VXLAN_GSO_SEGS_MAX)
					run = VXLAN_GSO_SEGS_MAX;
			}
			if (run > 1 && miov_used + run <= VX_RX_MIOV) {
				struct vxlan_tso tso;

				k = vxlan_gro_merge(&dg[j], run, v->rx_miov + miov_used, &tso);
				if (k > 1) {
					pkt_rx_init(pk, v->rx_miov + miov_used, (uint16_t)k, tso.len, p->id);
					miov_used += k;
					pk->csum = PKT_CSUM_PARTIAL;
					pk->csum_start = tso.csum_start;
					pk->csum_offset = tso.csum_offset;
					pk->gso_type = tso.gso_type;
					pk->gso_size = tso.gso_size;
					if (!port_offload_rx_ok(p, pk))
						continue; /* cannot be: the merge checked the headers; counted if it does */
					merged++;
				}
			}
			if (k == 1) {
				v->rx_view[n] = dg[j];
				pkt_rx_init(pk, &v->rx_view[n], 1, (uint32_t)dg[j].iov_len, p->id);
			}
			vx_rx_deliver(v, pk, inner, vni, ok_vid[j], &st);
			n++;
		}
	}
	if (v->rx_next < v->rx_got)
		v->drained = false; /* datagrams wait in a slot: poll again, the socket will not signal them */
	vtep_learn(&v->vt, st.learn, st.nlearn, st.now_s);
	for (unsigned r = 0; r < VX_RX__COUNT; r++) {
		if (!bad[r])
			continue;
		port_count(&v->rx_bad[r], bad[r]);
		port_count_drop(p, r == VX_RX_REMOTE ? DROP_SRC_IP : r == VX_RX_TRUNC ? DROP_TOO_BIG
						 : r == VX_RX_TAGGED ? DROP_VLAN_TAGGED : DROP_BAD_HEADER,
				bad[r]);
	}
	port_count(&p->stats.rx_packets, n);
	port_count(&p->stats.rx_bytes, st.bytes);
	if (merged)
		port_count(&v->off_count[VX_GRO_MERGED], merged);
	dp_perf_note(io->perf, DP_PT_DECAP, t0, dgrams);
	return n;
}

static void vx_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	/* The slots are read again by the next burst only: nothing to give back. */
}

/* The outer TOS for tos=inherit: the inner IPv4 TOS or IPv6 traffic class (DSCP and ECN), else 0. */
static int vx_inner_tos(struct pkt *pk)
{
	const uint8_t *h = pkt_head(pk);
	unsigned flags = pkt_parsed(pk);

	if (flags & PKT_F_IPV4)
		return h[pk->l3_off + 1];
	if (flags & PKT_F_IPV6)
		return (h[pk->l3_off] & 0x0f) << 4 | h[pk->l3_off + 1] >> 4;
	return 0;
}

/* UDP GSO is on: the port has GSO sockets and the kernel has not refused it for good. */
static inline bool vx_gso_on(const struct vx_port *v)
{
	return v->n_gso && !atomic_load_explicit(&v->gso_err, memory_order_relaxed);
}

/*
 * The outer source port for inner flow hash @hash (vxlan_flow_hash()):
 * in src_ports= (RFC 7348 section 5), or, while UDP GSO is on, the port
 * of the GSO socket the hash picks (its index into *@sock; 0 with GSO
 * off), for the frames of the raw socket too: one inner flow, one outer
 * port, one ECMP path, whichever way each of its frames leaves.
 */
static inline uint16_t vx_hash_sport(const struct vx_port *v, uint32_t hash, unsigned *sock)
{
	*sock = 0;
	if (!vx_gso_on(v))
		return vxlan_hash_port(hash, v->sport_lo, v->sport_hi);
	*sock = (unsigned)((uint64_t)hash * v->n_gso >> 32);
	return v->gso_sport[*sock];
}

/* vx_hash_sport() of @pk's inner flow; its GSO socket into *@sock when not NULL. */
static inline uint16_t vx_sport(const struct vx_port *v, struct pkt *pk, unsigned *sock)
{
	unsigned s;
	uint16_t sport = vx_hash_sport(v, vxlan_flow_hash(pk), &s);

	if (sock)
		*sock = s;
	return sport;
}

/* The UDP checksum of message @m's datagram to @dst (IPv4, csum=on): its sum (tx_sum) and @dst's pseudo header. */
static void vx_csum4(struct vx_port *v, unsigned m, const union vtep_addr *dst, uint32_t udp_len)
{
	uint32_t sum = csum_pseudo_ipv4(&v->local.v4.sin_addr, &dst->v4.sin_addr, IPPROTO_UDP, udp_len);
	uint16_t c = csum_finish((uint32_t)csum_fold(sum) + v->tx_sum[m]); /* sum may be near 2^32: folded, no carry lost */

	if (c == 0)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones (zero means "none") */
	memcpy(v->tx_hdr[m] + 6, &c, 2);
}

/* Message @m's outer TOS (tos=inherit): @tos as its control message. */
static void vx_tos_cmsg(struct vx_port *v, unsigned m, int tos)
{
	struct cmsghdr *cm = (struct cmsghdr *)v->tx_cmsg[m].buf;
	struct msghdr *mh = &v->msgs[m].msg_hdr;

	mh->msg_control = v->tx_cmsg[m].buf;
	mh->msg_controllen = sizeof(v->tx_cmsg[m].buf);
	cm->cmsg_level = v->ipv6 ? IPPROTO_IPV6 : IPPROTO_IP;
	cm->cmsg_type = v->ipv6 ? IPV6_TCLASS : IP_TOS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &tos, sizeof(int));
}

/*
 * The outer UDP header of a datagram of @udp_len bytes from @sport to the
 * port's dstport, into @h; its checksum zero: no checksum (csum=off), or
 * the kernel's to fill (IPv6), or vx_csum4()'s (IPv4).  Returns the sum of
 * its words (memory order, unfolded), for vx_csum4()'s.  One store of four
 * big-endian words: a checksum that reads it back right after gets it
 * from the store buffer, as it would not from eight byte stores.
 */
static uint32_t vx_udp_hdr(const struct vx_port *v, uint8_t *h, uint16_t sport, uint32_t udp_len)
{
	const uint16_t w[4] = { htons(sport), htons(v->dstport), htons((uint16_t)udp_len), 0 };

	memcpy(h, w, sizeof(w));
	return (uint32_t)w[0] + w[1] + w[2];
}

/*
 * Message @m for frame @pk to @dst (a remote's address, or tx_to[m]: it
 * must last until the send) in @vni: the UDP + VXLAN header in
 * front of the frame's segments, without its 802.1Q tag under vlan_vni=
 * (the head's first segment split around it).  False when the frame
 * cannot go (too many segments, too big for one datagram).
 */
static inline bool vx_encap(struct vx_port *v, unsigned m, struct pkt *pk, uint32_t vni, const union vtep_addr *dst,
			    int known_sport)
{
	uint8_t *h = v->tx_hdr[m];
	struct iovec *iov = v->tx_iov[m];
	unsigned strip = v->map ? PKT_VLAN_HLEN : 0;
	int nseg = pkt_segs(pk, &iov[1], VX_TX_IOV - (strip ? 1 : 0));
	uint32_t udp_len = VX_HDR_LEN + pk->len - strip;
	uint16_t sport = known_sport >= 0 ? (uint16_t)known_sport : vx_sport(v, pk, NULL);
	struct msghdr *mh = &v->msgs[m].msg_hdr;
	uint32_t hsum;

	if (nseg < 0 || udp_len > 65535)
		return false;
	if (strip) {
		/* The head is the first segment and holds the tag (vx_tx_map() checked): the MACs, then what follows it. */
		memmove(&iov[3], &iov[2], (size_t)(nseg - 1) * sizeof(*iov));
		iov[2] = (struct iovec){ (uint8_t *)iov[1].iov_base + 12 + PKT_VLAN_HLEN,
					 iov[1].iov_len - 12 - PKT_VLAN_HLEN };
		iov[1].iov_len = 12;
		nseg++;
	}
	hsum = vx_udp_hdr(v, h, sport, udp_len) + vxlan_hdr_build(h + VXLAN_UDP_HLEN, vni);
	iov[0] = (struct iovec){ h, VX_HDR_LEN };
	*mh = (struct msghdr){ .msg_name = (void *)dst, .msg_namelen = v->alen, .msg_iov = iov,
			       .msg_iovlen = (size_t)nseg + 1 };
	if (v->csum && !v->ipv6) {
		/* A frame in one piece (a small one, whole in its head): two sums, no walk over a segment list. */
		uint32_t sum = nseg == 1 && !strip ? csum_add(hsum, iov[1].iov_base, iov[1].iov_len)
						   : csum_add_iov(hsum, &iov[1], (unsigned)nseg, 0, udp_len - VX_HDR_LEN, NULL);

		v->tx_sum[m] = csum_fold(sum);
		vx_csum4(v, m, dst, udp_len);
	}
	if (v->tos_inherit)
		vx_tos_cmsg(v, m, vx_inner_tos(pk));
	return true;
}

/*
 * Message @m: message @first's frame again, to remote @r (head-end
 * replication): the header's 16 bytes and the segment list copied, the
 * frame's bytes not (the kernel reads them once per datagram); for IPv4
 * with csum=on, the checksum from @first's sum and @r's pseudo header.
 */
static void vx_encap_copy(struct vx_port *v, unsigned m, unsigned first, unsigned r)
{
	const struct msghdr *src = &v->msgs[first].msg_hdr;
	struct msghdr *mh = &v->msgs[m].msg_hdr;

	memcpy(v->tx_hdr[m], v->tx_hdr[first], VX_HDR_LEN);
	memcpy(v->tx_iov[m], v->tx_iov[first], src->msg_iovlen * sizeof(struct iovec));
	v->tx_iov[m][0].iov_base = v->tx_hdr[m];
	if (src->msg_control)
		memcpy(v->tx_cmsg[m].buf, v->tx_cmsg[first].buf, sizeof(v->tx_cmsg[m].buf));
	*mh = *src;
	mh->msg_name = &v->vt.remotes[r].addr;
	mh->msg_iov = v->tx_iov[m];
	if (src->msg_control)
		mh->msg_control = v->tx_cmsg[m].buf;
	if (v->csum && !v->ipv6) {
		v->tx_sum[m] = v->tx_sum[first];
		vx_csum4(v, m, &v->vt.remotes[r].addr, (uint32_t)(v->tx_hdr[m][4] << 8 | v->tx_hdr[m][5]));
	}
}

/* Under vlan_vni=: the VNI of @pk's VLAN into *@vni, true; false when it has no tag or its VLAN no VNI. */
static bool vx_tx_map(const struct vx_port *v, const struct pkt *pk, uint32_t *vni)
{
	const uint8_t *h = pkt_head(pk);

	if (!pkt_vlan_tagged(pk))
		return false;
	*vni = v->map->vni_of[(h[14] << 8 | h[15]) & 0xfff];
	return *vni != VX_NO_VNI;
}

/* The VNI frame @pk goes in: the port's, or with vni=flow the frame's tunnel key (0 without one, as OVS's key=flow). */
static uint32_t vx_tx_vni(const struct vx_port *v, const struct pkt *pk)
{
	if (!v->vni_flow)
		return v->vni;
	return pk->flags & PKT_F_TUNNEL ? (uint32_t)pk->tun.id & VXLAN_VNI_MAX : 0;
}

/*
 * The encap point (lib/perf.h) of a tx burst: the cycles spent building
 * messages, the sendmmsg syscalls left out (a read before and after each).
 */
struct vx_clock {
	uint64_t t;		/* when the current stretch of building began (0: timing off) */
	uint64_t encap;		/* the stretches so far */
};

/* Messages [0, @m) through the raw socket, outside the encap point's clock. */
static unsigned vx_send(struct vx_port *v, struct port_io *io, struct vx_clock *clk, unsigned m, uint64_t *bytes,
			unsigned drops[DROP__COUNT])
{
	unsigned sent;

	if (io->perf)
		clk->encap += dp_tsc() - clk->t;
	sent = m ? port_sendmmsg(v->tx_fd, v->msgs, m, VX_HDR_LEN, bytes, drops) : 0;
	clk->t = dp_perf_note_start(io->perf);
	return sent;
}

/*
 * The sendmmsg errors of port_sendmmsg(), for the GSO message that failed
 * (@segs datagrams) and the ones after it (@left datagrams, that one's
 * included): counts the drops per datagram, as tx_packets counts sends;
 * true when the rest of the batch goes too.  (A refusal of UDP GSO itself
 * is not an error here: vx_gso_refused().)
 */
static bool vx_gso_error(int err, unsigned segs, unsigned left, unsigned drops[DROP__COUNT])
{
	if (err == EAGAIN || err == ENOBUFS) {
		drops[DROP_NO_RX_BUFFER] += left;
		return true;
	}
	if (err == ENETDOWN || err == ENXIO || err == ENETUNREACH || err == EHOSTUNREACH) {
		drops[DROP_PORT_DOWN] += left;
		return true;
	}
	/* EMSGSIZE: over the route's MTU. */
	drops[err == EMSGSIZE ? DROP_TOO_BIG : DROP_PORT_BROKEN] += segs;
	return false;
}

/* The name of an errno vx_gso_refused() takes, for the log and describe. */
static const char *vx_errno_name(int err)
{
	switch (err) {
	case EIO:
		return "EIO";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	default:
		return "?";
	}
}

/*
 * True when @err, the kernel's answer to a UDP_SEGMENT payload, says it
 * will not take UDP GSO on this path, whatever we send (Linux's
 * udp_send_skb(): EIO when the route has an xfrm transform, IPsec;
 * EINVAL for a socket without checksums and, before Linux 6.14, also for
 * a piece over the route's MTU; EOPNOTSUPP from a device or a hook that
 * cannot segment).  Not EAGAIN, ENOBUFS (a full queue: later sends may
 * go) nor EMSGSIZE (the frame's size, not GSO's).
 */
static bool vx_gso_refused(int err)
{
	return err == EIO || err == EINVAL || err == EOPNOTSUPP;
}

/*
 * The kernel refused UDP GSO with @err (vx_gso_refused()): GSO off for the
 * port from now on, and never on again (the port keeps forwarding: a
 * refusal is the path's, an xfrm policy or a device, which we cannot
 * watch change).  tx_offload 0: the egress fallback (dp/offload.h) hands
 * the port finished frames from the next burst on; the refused payload,
 * the rest of its round and frames with a request already on their way
 * go out a datagram at a time (vx_gso_resend()).  Logged once, counted
 * (gso_fallbacks), said by describe.  Under tx_lock.
 */
static void vx_gso_refuse(struct vx_port *v, int err)
{
	if (atomic_load_explicit(&v->gso_err, memory_order_relaxed))
		return;
	atomic_store_explicit(&v->gso_err, err, memory_order_relaxed);
	atomic_store_explicit(&v->port.tx_offload, 0, memory_order_relaxed);
	port_count(&v->off_count[VX_GSO_FALLBACKS], 1);
	log_warn("port %s: the kernel refuses UDP GSO (%s): udp_gso off, offloaded frames segmented in software from now on",
		 v->port.name, vx_errno_name(err));
}

/*
 * GSO messages @list[0..@n) (indices into gso_msgs) through the raw
 * socket a datagram at a time: each piece of a payload (its VXLAN header
 * and one inner segment, finished) behind a UDP header of its own, from
 * the message's source port, with the outer checksum (IPv4 here, the
 * kernel's for IPv6) and TOS.  Uses msgs[], which is empty whenever the
 * GSO round is flushed.  Returns the datagrams sent.
 */
static unsigned vx_gso_resend(struct vx_port *v, const unsigned *list, unsigned n, uint64_t *bytes,
			      unsigned drops[DROP__COUNT])
{
	unsigned sent = 0, x = 0, built = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned m = list[i], r = v->gso_meta[m].remote;
		uint8_t *pl = v->gso_iov[m].iov_base;
		size_t len = v->gso_iov[m].iov_len, seg = v->gso_meta[m].seg_bytes;

		for (size_t off = 0; off < len; off += seg) {
			size_t l = len - off < seg ? len - off : seg;
			uint32_t udp_len = (uint32_t)(VXLAN_UDP_HLEN + l);
			uint8_t *h = v->tx_hdr[x];
			struct iovec *iov = v->tx_iov[x];
			const union vtep_addr *dst;

			vx_udp_hdr(v, h, v->gso_meta[m].sport, udp_len);
			iov[0] = (struct iovec){ h, VXLAN_UDP_HLEN };
			iov[1] = (struct iovec){ pl + off, l };
			if (v->remote_flow) {
				/* its tun_dst, kept in gso_to[m]: the raw socket's address has port 0 */
				if (v->ipv6) {
					v->tx_to[x].v6 = v->gso_to[m].v6;
					v->tx_to[x].v6.sin6_port = 0;
				} else {
					v->tx_to[x].v4 = v->gso_to[m].v4;
					v->tx_to[x].v4.sin_port = 0;
				}
				dst = &v->tx_to[x];
			} else {
				dst = &v->vt.remotes[r].addr;
			}
			v->msgs[x].msg_hdr = (struct msghdr){ .msg_name = (void *)dst, .msg_namelen = v->alen,
							      .msg_iov = iov, .msg_iovlen = 2 };
			if (v->csum && !v->ipv6) {
				v->tx_sum[x] = csum_fold(csum_add_iov(0, iov, 2, 0, udp_len, NULL));
				vx_csum4(v, x, dst, udp_len);
			}
			if (v->gso_meta[m].tos >= 0)
				vx_tos_cmsg(v, x, v->gso_meta[m].tos);
			built++;
			/* port_sendmmsg() counts a datagram's bytes past VX_HDR_LEN: its inner frame's. */
			if (++x == PKT_BURST) {
				sent += port_sendmmsg(v->tx_fd, v->msgs, x, VX_HDR_LEN, bytes, drops);
				x = 0;
			}
		}
	}
	if (x)
		sent += port_sendmmsg(v->tx_fd, v->msgs, x, VX_HDR_LEN, bytes, drops);
	port_count(&v->off_count[VX_GSO_RESENT], built);
	return sent;
}

/*
 * The round's GSO messages, one sendmmsg (or more, on a partial send) per
 * socket they use, outside the encap point's clock; the datagrams sent.
 * Once the kernel refused GSO (vx_gso_refuse()), the refused message and
 * every one after it go through vx_gso_resend().
 */
static unsigned vx_gso_flush(struct vx_port *v, struct port_io *io, struct vx_clock *clk, uint64_t *bytes,
			     unsigned drops[DROP__COUNT])
{
	unsigned sent = 0, msgs = 0, segs = 0;

	if (!v->gso_m)
		return 0;
	if (io->perf)
		clk->encap += dp_tsc() - clk->t;
	for (unsigned s = 0; s < v->n_gso; s++) {
		unsigned k = 0, off = 0;

		for (unsigned m = 0; m < v->gso_m; m++) {
			if (v->gso_meta[m].sock != s)
				continue;
			v->gso_batch[k] = v->gso_msgs[m];
			v->gso_batch_of[k++] = m;
		}
		while (off < k) {
			unsigned first = v->gso_batch_of[off], left = 0;
			int rc, err;

			if (atomic_load_explicit(&v->gso_err, memory_order_relaxed)) {
				sent += vx_gso_resend(v, v->gso_batch_of + off, k - off, bytes, drops);
				break;
			}
			rc = sendmmsg(v->gso_fd[s], v->gso_batch + off, k - off, MSG_DONTWAIT);
			if (rc > 0) {
				for (unsigned j = off; j < off + (unsigned)rc; j++) {
					unsigned m = v->gso_batch_of[j];

					sent += v->gso_meta[m].segs;
					*bytes += v->gso_meta[m].inner_bytes;
					if (v->gso_meta[m].segs > 1) {
						msgs++;
						segs += v->gso_meta[m].segs;
					}
				}
				off += (unsigned)rc;
				continue;
			}
			err = rc < 0 ? errno : EIO;
			/* Only a payload that asked for UDP_SEGMENT tells about GSO. */
			if (v->gso_meta[first].segs > 1 && vx_gso_refused(err)) {
				vx_gso_refuse(v, err);
				continue; /* this message and the rest: resent, above */
			}
			for (unsigned j = off; j < k; j++)
				left += v->gso_meta[v->gso_batch_of[j]].segs;
			if (vx_gso_error(err, v->gso_meta[first].segs, left, drops))
				break;
			off++;
		}
	}
	port_count(&v->off_count[VX_GSO_SENDS], msgs);
	port_count(&v->off_count[VX_GSO_SEGMENTS], segs);
	v->gso_m = 0;
	v->gso_used = 0;
	v->gso_open = false;
	v->gso_socks = 0;
	clk->t = dp_perf_note_start(io->perf);
	return sent;
}

/*
 * GSO message @m: payload @gm in @buf to remote @r at @dst (remote=flow:
 * the frame's tun_dst, @r unused) through socket @sock (source port
 * @sport), outer TOS @tos (-1: the socket's).
 */
static void vx_gso_msg(struct vx_port *v, unsigned m, uint8_t *buf, const struct vxlan_gso_msg *gm, unsigned r,
		       const union vtep_addr *dst, unsigned sock, uint16_t sport, int tos)
{
	uint8_t *c = v->gso_cmsg[m].buf;
	size_t clen = 0;

	/* The remotes are kept as raw-socket addresses (port 0): a UDP socket needs the port. */
	memcpy(&v->gso_to[m], dst, v->alen);
	if (v->ipv6)
		v->gso_to[m].v6.sin6_port = htons(v->dstport);
	else
		v->gso_to[m].v4.sin_port = htons(v->dstport);
	v->gso_iov[m] = (struct iovec){ buf, gm->len };
	if (gm->segs > 1) {
		struct cmsghdr *cm = (struct cmsghdr *)c;

		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &gm->seg_bytes, sizeof(uint16_t));
		clen += CMSG_SPACE(sizeof(uint16_t));
	}
	if (tos >= 0) {
		struct cmsghdr *cm = (struct cmsghdr *)(c + clen);

		cm->cmsg_level = v->ipv6 ? IPPROTO_IPV6 : IPPROTO_IP;
		cm->cmsg_type = v->ipv6 ? IPV6_TCLASS : IP_TOS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &tos, sizeof(int));
		clen += CMSG_SPACE(sizeof(int));
	}
	v->gso_msgs[m].msg_hdr = (struct msghdr){
		.msg_name = &v->gso_to[m], .msg_namelen = v->alen, .msg_iov = &v->gso_iov[m], .msg_iovlen = 1,
		.msg_control = clen ? c : NULL, .msg_controllen = clen,
	};
	v->gso_meta[m].sock = (uint8_t)sock;
	v->gso_socks |= 1u << sock;
	v->gso_meta[m].remote = (uint8_t)r;
	v->gso_meta[m].sport = sport;
	v->gso_meta[m].tos = tos;
	v->gso_meta[m].seg_bytes = gm->segs > 1 ? gm->seg_bytes : (uint16_t)gm->len;
	v->gso_meta[m].segs = gm->segs;
	v->gso_meta[m].inner_bytes = gm->inner_bytes;
}

/*
 * A frame with an offload request (segmentation or a partial checksum)
 * in @vni, to remote @r and, flooded, to the other remotes of @to (@need
 * in all), or to @flow_dst alone (remote=flow; NULL otherwise): its UDP_SEGMENT payloads, each sent to every one of them;
 * the round flushed whenever its buffers or messages run out.  The
 * datagrams they make are added to *@built (the encap point's packets).
 */
static void vx_gso_frame(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *pk, uint32_t vni,
			 unsigned r, uint32_t to, unsigned need, const union vtep_addr *flow_dst, unsigned *sent,
			 unsigned *built, uint64_t *bytes, unsigned drops[DROP__COUNT])
{
	unsigned sock;
	uint16_t sport = vx_sport(v, pk, &sock);
	int tos = v->tos_inherit ? vx_inner_tos(pk) : -1;

	for (unsigned first = 0;;) {
		struct vxlan_gso_msg gm;
		uint8_t *buf;
		uint32_t rest = to;
		unsigned rr = r;
		int k;

		v->gso_open = false;
		v->gso_used = (v->gso_used + 63) & ~(size_t)63; /* after vx_gso_small()'s payload, line-aligned */
		if (VX_GSO_ARENA - v->gso_used < VX_GSO_BUF || v->gso_m + need > PKT_BURST)
			*sent += vx_gso_flush(v, io, clk, bytes, drops);
		buf = v->gso_buf + v->gso_used;
		k = vxlan_gso_build(pk, first, vni, v->gso_scratch, buf, VX_GSO_BUF, &gm);
		if (k <= 0) {
			if (k < 0)
				drops[k == -EMSGSIZE ? DROP_TOO_BIG : DROP_BAD_OFFLOAD] += need;
			return;
		}
		v->gso_used += (gm.len + 63) & ~(size_t)63; /* the next payload line-aligned */
		*built += gm.segs * need;
		for (unsigned c = 0; c < need; c++) {
			if (c) {
				rest &= rest - 1;
				rr = (unsigned)__builtin_ctz(rest);
			}
			vx_gso_msg(v, v->gso_m++, buf, &gm, rr, flow_dst ? flow_dst : &v->vt.remotes[rr].addr, sock,
				   sport, tos);
		}
		first += (unsigned)k;
	}
}

/* A frame's way out of a GSO socket: its flow's hash, the socket that picks, that socket's port, its outer TOS (-1: the socket's). */
struct vx_flow_out {
	uint32_t hash;
	unsigned sock;
	uint16_t sport;
	int tos;
};

/* vx_sport()'s answer, the hash behind it and the outer TOS. */
static void vx_flow_out(const struct vx_port *v, struct pkt *pk, struct vx_flow_out *fo)
{
	fo->hash = vxlan_flow_hash(pk);
	fo->sport = vx_hash_sport(v, fo->hash, &fo->sock);
	fo->tos = v->tos_inherit ? vx_inner_tos(pk) : -1;
}

/* Would a datagram of @seg bytes to remote @r by @fo join the round's open GSO payload (vx_gso_small())? */
static bool vx_gso_joins(const struct vx_port *v, const struct vx_flow_out *fo, unsigned r, size_t seg)
{
	const unsigned m = v->gso_m - 1;

	return v->gso_open && v->gso_meta[m].sock == fo->sock && v->gso_meta[m].remote == r &&
	       v->gso_meta[m].tos == fo->tos && v->gso_meta[m].seg_bytes == seg && v->gso_meta[m].segs < VXLAN_GSO_SEGS_MAX;
}

/*
 * Does frame @i of the burst (to remote @r, inner destination @mac in
 * @vni, leaving by *@fo) go through vx_gso_small()?  When it joins the
 * open payload, or the next frame, of its flow, would join its own: a
 * run of two or more.  A frame alone stays on the raw socket: the raw socket's
 * messages of a burst go in one sendmmsg, the GSO sockets' in one each.
 * *@next gets the next frame's way when it was worked out (else its sock
 * is VX_GSO_SOCKS), for its own turn.
 */
static bool vx_gso_run(const struct vx_port *v, struct pkt *const *pkts, unsigned n, unsigned i, unsigned r,
		       uint64_t mac, uint32_t vni, const struct vx_flow_out *fo, struct vx_flow_out *next)
{
	struct pkt *pk = pkts[i], *nx;

	next->sock = VX_GSO_SOCKS;
	if (vx_gso_joins(v, fo, r, VXLAN_HLEN + pk->len))
		return true;
	if (i + 1 >= n)
		return false;
	nx = pkts[i + 1];
	if (nx->len != pk->len || gso_needs(nx) || vtep_mac(pkt_head(nx)) != mac || vx_tx_vni(v, nx) != vni)
		return false;
	vx_flow_out(v, nx, next);
	/* one flow (other flows of its socket may join the payload it opens, not open one with it) */
	return next->hash == fo->hash && next->tos == fo->tos;
}

/*
 * A finished frame (no offload request) in @vni to remote @r through the
 * GSO sockets, while GSO is on: appended to the round's last GSO payload
 * when that one is open (built here), goes to @r through the same socket
 * with the same TOS, and its datagrams are this frame's size (UDP_SEGMENT
 * cuts equal pieces), else the first datagram of a payload of its own.
 * So a burst of one flow's frames of one size (64-byte frames, a TCP
 * stream's pure ACKs) leaves as one UDP_SEGMENT send: one packet through
 * the kernel's UDP and IP output down to the device that cuts it, and one
 * GRO read on a receiving vsw, where the raw socket took one trip
 * through the stack per frame.  A flow keeps its socket (vx_sport()), so
 * its frames stay in order.
 */
static void vx_gso_small(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *pk, uint32_t vni,
			 unsigned r, const struct vx_flow_out *fo, unsigned *sent, uint64_t *bytes, unsigned drops[DROP__COUNT])
{
	unsigned m = v->gso_m - 1, sock = fo->sock;
	uint16_t sport = fo->sport;
	int tos = fo->tos;
	size_t seg = VXLAN_HLEN + pk->len;
	struct vxlan_gso_msg gm;
	uint8_t *b;

	if (vx_gso_joins(v, fo, r, seg) && v->gso_iov[m].iov_len + seg <= VXLAN_GSO_BYTES &&
	    VX_GSO_ARENA - v->gso_used >= seg) {
		/* The open payload is the arena's last: the frame goes right behind it. */
		b = (uint8_t *)v->gso_iov[m].iov_base + v->gso_iov[m].iov_len;
		vxlan_hdr_build(b, vni);
		pkt_to_buf(pk, b + VXLAN_HLEN, pk->len);
		gm = (struct vxlan_gso_msg){ .len = v->gso_iov[m].iov_len + seg,
					     .inner_bytes = v->gso_meta[m].inner_bytes + pk->len,
					     .seg_bytes = (uint16_t)seg, .segs = v->gso_meta[m].segs + 1 };
		v->gso_used += seg;
		if (gm.segs == 2) {
			/* a second datagram: the payload now asks for UDP_SEGMENT */
			vx_gso_msg(v, m, v->gso_iov[m].iov_base, &gm, r, &v->vt.remotes[r].addr, sock, sport, tos);
			return;
		}
		v->gso_iov[m].iov_len = gm.len;
		v->gso_meta[m].inner_bytes = gm.inner_bytes;
		v->gso_meta[m].segs = gm.segs;
		return;
	}
	v->gso_used = (v->gso_used + 63) & ~(size_t)63;
	if (VX_GSO_ARENA - v->gso_used < VX_GSO_BUF || v->gso_m == PKT_BURST)
		*sent += vx_gso_flush(v, io, clk, bytes, drops);
	b = v->gso_buf + v->gso_used;
	vxlan_hdr_build(b, vni);
	pkt_to_buf(pk, b + VXLAN_HLEN, pk->len);
	gm = (struct vxlan_gso_msg){ .len = seg, .inner_bytes = pk->len, .seg_bytes = (uint16_t)seg, .segs = 1 };
	vx_gso_msg(v, v->gso_m++, b, &gm, r, &v->vt.remotes[r].addr, sock, sport, tos);
	v->gso_used += seg;
	v->gso_open = true;
}

/*
 * remote=flow: the destination of frame @pk, its tun_dst or, on an IPv6
 * underlay, its tun_ipv6_dst (set by the flows: set_field:IP->tun_dst,
 * set_field:IP6->tun_ipv6_dst; kept from the tunnel a frame came in),
 * into message @m's address; false when it has none of the port's family
 * (no tunnel metadata, an unspecified address, or only an address of the
 * other family: the `no_tunnel_dst` drop, as Open vSwitch drops a packet
 * to a remote_ip=flow port without one; never sent to a wrong address).
 */
static bool vx_flow_dst(struct vx_port *v, unsigned m, const struct pkt *pk)
{
	static const uint8_t unspec[16];

	if (!(pk->flags & PKT_F_TUNNEL) || pk->tun.ipv6 != v->ipv6)
		return false;
	if (!v->ipv6) {
		if (!pk->tun.dst.v4)
			return false;
		v->tx_to[m].v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = pk->tun.dst.v4 };
		return true;
	}
	if (!memcmp(pk->tun.dst.v6, unspec, 16))
		return false;
	v->tx_to[m].v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6 };
	memcpy(&v->tx_to[m].v6.sin6_addr, pk->tun.dst.v6, 16);
	return true;
}

/*
 * remote=flow: frame @pk in @vni to its tun_dst, as message *@m (the raw
 * socket's) or GSO payloads; the same order rules as vx_tx_burst()'s.
 */
static void vx_tx_flow(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *pk, uint32_t vni,
		       unsigned *m, unsigned *sent, unsigned *built, uint64_t *bytes, unsigned drops[DROP__COUNT])
{
	if (*m == PKT_BURST) {
		*sent += vx_send(v, io, clk, *m, bytes, drops);
		*m = 0;
	}
	if (!vx_flow_dst(v, *m, pk)) {
		drops[DROP_NO_TUNNEL_DST]++;
		return;
	}
	if (v->n_gso && gso_needs(pk)) {
		/* A copy: a flush within vx_gso_frame() may resend through msgs[] and tx_to[] (vx_gso_resend()). */
		union vtep_addr dst = v->tx_to[*m];

		if (*m) {
			*sent += vx_send(v, io, clk, *m, bytes, drops);
			*m = 0;
		}
		vx_gso_frame(v, io, clk, pk, vni, 0, 0, 1, &dst, sent, built, bytes, drops);
		return;
	}
	if (v->gso_m)
		*sent += vx_gso_flush(v, io, clk, bytes, drops);
	if (!vx_encap(v, *m, pk, vni, &v->tx_to[*m], -1)) {
		drops[DROP_TOO_BIG]++;
		return;
	}
	(*m)++;
	(*built)++;
}

/* A frame's destination in vx_tx_burst(): (inner MAC, VNI) -> a remote, or a flood mask over remotes and its count. */
struct vx_dest {
	uint64_t mac;
	uint32_t vni;
	int r;
	uint32_t to;
	unsigned need;
};

/*
 * Each frame to the remote its inner destination was learned (or set)
 * behind, else, a broadcast, multicast or unknown unicast, to every remote
 * of its VNI's flood list, or of the port's when the VNI has none
 * (VX_FLOOD_COPIES a burst); with remote=flow, to its tun_dst alone (no
 * table, no flood list: the flows decide, flood and normal included); as
 * many sendmmsg as the messages take, PKT_BURST at a time.
 */
static void vx_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct vx_port *v = vx_of(p);
	unsigned drops[DROP__COUNT] = { 0 }, m = 0, sent = 0, copies = 0, built = 0;
	uint32_t port_flood = v->vt.n_flood >= 32 ? ~0u : (1u << v->vt.n_flood) - 1;
	uint32_t now_s = vtep_now_s();
	uint64_t bytes = 0;
	struct vx_clock clk = { 0, 0 };
	struct vx_dest last = { .vni = UINT32_MAX };	/* no VNI is that: nothing matches before the first lookup */
	struct vx_flow_out ahead = { .sock = VX_GSO_SOCKS };	/* frame ahead_i's way, when vx_gso_run() worked it out */
	unsigned ahead_i = 0;
	uint32_t raw_socks = 0;	/* the GSO sockets of the flows with messages m holds (all: one of no known socket) */
	int sock, sport;	/* the frame's GSO socket and outer port when worked out, else -1 */

	pthread_spin_lock(&v->tx_lock);
	clk.t = dp_perf_note_start(io->perf);
	for (unsigned i = 0; i < n; i++) {
		struct pkt *pk = pkts[i];
		uint32_t vni = 0, to = 0;
		unsigned need = 1;
		uint64_t mac;
		int r;

		if (!v->map)
			vni = vx_tx_vni(v, pk);
		else if (!vx_tx_map(v, pk, &vni)) {
			drops[DROP_VLAN_DENIED]++;
			continue;
		}
		if (v->remote_flow) {
			vx_tx_flow(v, io, &clk, pk, vni, &m, &sent, &built, &bytes, drops);
			continue;
		}
		mac = vtep_mac(pkt_head(pk));
		if (mac == last.mac && vni == last.vni) {
			/* The previous frame's destination (a burst is mostly one stream): its answer again. */
			r = last.r;
			to = last.to;
			need = last.need;
		} else {
			r = vtep_lookup(&v->vt, vni, mac, now_s);
			if (r < 0) {
				/* flood: the VNI's list (read once: one word), else the port's */
				to = vtep_flood_mask(&v->vt, vni);
				if (!to)
					to = port_flood;
				need = to & (to - 1) ? (unsigned)__builtin_popcount(to) : to != 0; /* one: no libgcc call */
				r = to ? __builtin_ctz(to) : 0;
			}
			last = (struct vx_dest){ mac, vni, r, to, need };
		}

		if (!need) {
			drops[DROP_NO_DESTINATION]++;
			continue;
		}
		if (need > 1) {
			if (copies + need > VX_FLOOD_COPIES) {
				drops[DROP_FLOOD_BUDGET]++;
				continue;
			}
			copies += need;
		}
		if (v->n_gso && gso_needs(pk)) {
			/* In order: what the raw socket holds goes first (a flow's frames may take either way). */
			if (m) {
				sent += vx_send(v, io, &clk, m, &bytes, drops);
				m = 0;
				raw_socks = 0;
			}
			vx_gso_frame(v, io, &clk, pk, vni, (unsigned)r, to, need, NULL, &sent, &built, &bytes, drops);
			continue;
		}
		sock = sport = -1;
		if (need == 1 && !v->map && vx_gso_on(v)) {
			/* Unicast (or one flood remote) in a run of one size: glued together (vx_gso_small()). */
			struct vx_flow_out fo;

			if (ahead.sock < VX_GSO_SOCKS && i == ahead_i)
				fo = ahead;
			else
				vx_flow_out(v, pk, &fo);
			sock = (int)fo.sock;
			sport = fo.sport;
			if (vx_gso_run(v, pkts, n, i, (unsigned)r, mac, vni, &fo, &ahead)) {
				ahead_i = i + 1;
				if (m && (raw_socks & 1u << fo.sock)) {
					/* in order: a flow's frames the raw socket holds go first */
					sent += vx_send(v, io, &clk, m, &bytes, drops);
					m = 0;
					raw_socks = 0;
				}
				vx_gso_small(v, io, &clk, pk, vni, (unsigned)r, &fo, &sent, &bytes, drops);
				built++;
				continue;
			}
			ahead_i = i + 1;
		}
		/* The same the other way round: a flow (its socket) with datagrams in the GSO round, or a frame of no known socket. */
		if (v->gso_m && (sock < 0 || (v->gso_socks & 1u << sock)))
			sent += vx_gso_flush(v, io, &clk, &bytes, drops);
		if (m + need > PKT_BURST) {
			sent += vx_send(v, io, &clk, m, &bytes, drops);
			m = 0;
			raw_socks = 0;
		}
		if (!vx_encap(v, m, pk, vni, &v->vt.remotes[r].addr, sport)) {
			drops[DROP_TOO_BIG]++;
			continue;
		}
		for (unsigned k = 1; k < need; k++) {
			to &= to - 1;
			vx_encap_copy(v, m + k, m, (unsigned)__builtin_ctz(to));
		}
		m += need;
		built += need;
		raw_socks |= sock < 0 ? ~0u : 1u << sock;
	}
	/* The raw socket's and the GSO round's datagrams share no flow (no socket) now: either may go first. */
	sent += vx_send(v, io, &clk, m, &bytes, drops);
	sent += vx_gso_flush(v, io, &clk, &bytes, drops);
	if (io->perf)
		dp_perf_add(io->perf, DP_PT_ENCAP, clk.encap, built);
	pthread_spin_unlock(&v->tx_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	port_count_drops(p, drops);
}

static unsigned vx_rx_queues(struct port *p) { return 1; }
static int vx_rx_fd(struct port *p, unsigned q) { return vx_of(p)->rx_fd; }

static bool vx_rx_arm(struct port *p, unsigned q)
{
	/* Edge-triggered: only an emptied socket signals the next datagram. */
	return !vx_of(p)->drained;
}

static void vx_rx_disarm(struct port *p, unsigned q) {}

static void vx_describe(struct port *p, char *buf, size_t len)
{
	struct vx_port *v = vx_of(p);
	int gso_err = atomic_load_explicit(&v->gso_err, memory_order_relaxed);
	char vni[16];
	int off;

	if (v->vni_flow)
		snprintf(vni, sizeof(vni), "flow");
	else if (v->map)
		snprintf(vni, sizeof(vni), "vlan_vni");
	else
		snprintf(vni, sizeof(vni), "%u", (unsigned)v->vni);
	off = snprintf(buf, len, "vxlan vni %s", vni);
	for (unsigned i = 0; v->map && i < v->map->n && off >= 0 && (size_t)off < len; i++)
		off += snprintf(buf + off, len - (size_t)off, "%s%u:%u", i ? "," : " ", (unsigned)v->map->vids[i],
				(unsigned)v->map->vni_of[v->map->vids[i]]);
	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " local %s remote %s", v->local_str,
				v->remote_flow ? "flow" : v->vt.n_flood ? "" : "none");
	for (unsigned r = 0; r < v->vt.n_flood && off >= 0 && (size_t)off < len; r++)
		off += snprintf(buf + off, len - (size_t)off, "%s%s", r ? "," : "", v->vt.remotes[r].str);
	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " dstport %u src_ports %u-%u csum %s", (unsigned)v->dstport,
				(unsigned)v->sport_lo, (unsigned)v->sport_hi, v->csum ? "on" : "off");
	for (unsigned c = 0; c < VTEP__COUNT && off >= 0 && (size_t)off < len; c++) {
		uint64_t k = atomic_load_explicit(&v->vt.counters[c], memory_order_relaxed);

		if (k)
			off += snprintf(buf + off, len - (size_t)off, "; fdb %s: %llu", vtep_counter_names[c],
					(unsigned long long)k);
	}

	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " mtu %u (route %u%s) frame_max %u", v->mtu.used,
				v->mtu.route, v->mtu.conf ? ", mtu= set" : "",
				atomic_load_explicit(&p->tx_frame_max, memory_order_relaxed));
	if (gso_err && off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off,
				" udp_gso off (the kernel refused it: %s; offloaded frames segmented in software)",
				vx_errno_name(gso_err));
	else if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " udp_gso %s%s%s", v->n_gso ? "on (source ports " : "off (",
				v->n_gso ? "" : v->gso_off, v->n_gso ? "" : ")");
	for (unsigned s = 0; !gso_err && s < v->n_gso && off >= 0 && (size_t)off < len; s++)
		off += snprintf(buf + off, len - (size_t)off, "%s%u%s", s ? "," : "", (unsigned)v->gso_sport[s],
				s + 1 == v->n_gso ? ")" : "");
	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " udp_gro %s", v->gro ? "on" : "off (no UDP_GRO: kernel < 5.0)");
	for (unsigned r = 0; r < VX_RX__COUNT && off >= 0 && (size_t)off < len; r++) {
		uint64_t c = atomic_load_explicit(&v->rx_bad[r], memory_order_relaxed);

		if (c)
			off += snprintf(buf + off, len - (size_t)off, "; rx %s: %llu", vx_rx_bad_names[r],
					(unsigned long long)c);
	}
}

/*
 * `stats`' "tunnel" object: received datagrams dropped by reason
 * (rx_bad_REASON, each also a port drop), the tunnel fdb's events
 * (fdb_learned, fdb_moved, fdb_full), the remotes (all, and those of the
 * flood list) and the live entries, learned and static: what describe
 * shows, as numbers; whether UDP GSO and GRO are on (1/0), and their
 * counts (gso_sends: payloads of more than one datagram sent, gso_segments:
 * their datagrams; gso_fallbacks: 1 once the kernel refused GSO for good,
 * gso_resent: datagrams of GSO payloads then sent one by one; gro_receives:
 * slots holding more than one datagram, gro_segments: their datagrams).
 */
static unsigned vx_type_stats(struct port *p, struct port_type_stat *out, unsigned max)
{
	static const char *const rx_names[VX_RX__COUNT] = { "rx_bad_short", "rx_bad_flags", "rx_bad_vni",
							     "rx_bad_remote", "rx_bad_truncated", "rx_bad_tagged" };
	static const char *const fdb_names[VTEP__COUNT] = { "fdb_learned", "fdb_moved", "fdb_full" };
	struct vx_port *v = vx_of(p);
	unsigned n = 0, learned, statics;

	_Static_assert(VX_RX__COUNT + VTEP__COUNT + VX_OFF__COUNT + 6 <= PORT_TYPE_STATS_MAX,
		       "the figures fit what `stats` asks for");
	if (max < VX_RX__COUNT + VTEP__COUNT + VX_OFF__COUNT + 6)
		return 0;
	for (unsigned r = 0; r < VX_RX__COUNT; r++)
		out[n++] = (struct port_type_stat){ rx_names[r], atomic_load_explicit(&v->rx_bad[r], memory_order_relaxed) };
	for (unsigned c = 0; c < VTEP__COUNT; c++)
		out[n++] = (struct port_type_stat){ fdb_names[c],
						    atomic_load_explicit(&v->vt.counters[c], memory_order_relaxed) };
	vtep_count(&v->vt, vtep_now_s(), &learned, &statics);
	out[n++] = (struct port_type_stat){ "remotes", atomic_load_explicit(&v->vt.n_remotes, memory_order_acquire) };
	out[n++] = (struct port_type_stat){ "flood_remotes", v->vt.n_flood };
	out[n++] = (struct port_type_stat){ "fdb_learned_entries", learned };
	out[n++] = (struct port_type_stat){ "fdb_static_entries", statics };
	out[n++] = (struct port_type_stat){ "udp_gso", vx_gso_on(v) };
	out[n++] = (struct port_type_stat){ "udp_gro", v->gro };
	for (unsigned c = 0; c < VX_OFF__COUNT; c++)
		out[n++] = (struct port_type_stat){ vx_off_names[c],
						    atomic_load_explicit(&v->off_count[c], memory_order_relaxed) };
	return n;
}

/* Control plane, once a second: the underlay MTU again (a route or a path MTU may have changed). */
static void vx_tick(struct port *p)
{
	vxlan_mtu_apply(&vx_of(p)->mtu, &vx_of(p)->vt, p);
}

static void vx_destroy(struct port *p)
{
	struct vx_port *v = vx_of(p);

	vxlan_mtu_close(&v->mtu);
	if (v->rx_fd >= 0)
		close(v->rx_fd);
	if (v->tx_fd >= 0)
		close(v->tx_fd);
	for (unsigned s = 0; s < v->n_gso; s++)
		close(v->gso_fd[s]);
	free(v->gso_buf);
	free(v->gso_scratch);
	free(v->rx_miov);
	free(v->rx_slots);
	free(v->map);
	vtep_destroy(&v->vt);
	pthread_spin_destroy(&v->tx_lock);
	free(v);
}

static const struct port_ops vx_port_ops = {
	.type = "vxlan",
	.rx_burst = vx_rx_burst,
	.rx_done = vx_rx_done,
	.tx_burst = vx_tx_burst,
	.rx_queues = vx_rx_queues,
	.rx_fd = vx_rx_fd,
	.rx_arm = vx_rx_arm,
	.rx_disarm = vx_rx_disarm,
	.describe = vx_describe,
	.tick = vx_tick,
	.type_stats = vx_type_stats,
	.type_stats_name = "tunnel",
	.destroy = vx_destroy,
};

/* @s as an IPv4 or IPv6 address into @a (port @port); its family, or -1. */
static int vx_parse_addr(const char *s, uint16_t port, union vx_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s && inet_pton(AF_INET, s, &a->v4.sin_addr) == 1) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_port = htons(port);
		return AF_INET;
	}
	if (s && inet_pton(AF_INET6, s, &a->v6.sin6_addr) == 1) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_port = htons(port);
		return AF_INET6;
	}
	return -1;
}

/*
 * remote=IP[,IP..] into the flood list of @v->vt (whose family is
 * local='s); none without remote= (a VNI then floods to its own list
 * alone: tunnel fdb add 00:00:00:00:00:00).  0, or -1 with @err.
 */
static int vx_parse_remotes(struct vx_port *v, const char *list, char *err, size_t errlen)
{
	char buf[VTEP_REMOTES_MAX * (INET6_ADDRSTRLEN + 1)], *save = NULL;
	unsigned n = 0;

	if (!list)
		return 0;
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "vxlan: remote= must be IP[,IP..] (at most %u)", VTEP_REMOTES_MAX);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *ip = strtok_r(buf, ",", &save); ip; ip = strtok_r(NULL, ",", &save), n++) {
		union vx_addr a;
		int fam = vx_parse_addr(ip, 0, &a), rc;

		if (fam < 0) {
			snprintf(err, errlen, "vxlan: remote= must be IPv4 or IPv6 addresses (\"%s\")", ip);
			return -1;
		}
		rc = vtep_remote_add(&v->vt, (const union vtep_addr *)&a, true);
		if (rc == -EAFNOSUPPORT) {
			snprintf(err, errlen, "vxlan: local= and remote= must be of one family (IPv4 or IPv6)");
			return -1;
		}
		if (rc < 0) {
			snprintf(err, errlen, "vxlan: at most %u remotes", VTEP_REMOTES_MAX);
			return -1;
		}
	}
	if (!n) {
		snprintf(err, errlen, "vxlan: remote= must be IP[,IP..]");
		return -1;
	}
	return 0;
}

int port_vxlan_vlan_vni_parse(const char *s, uint16_t *vids, uint32_t *vnis, unsigned max, char *err, size_t errlen)
{
	unsigned n = 0;

	if (!s || !*s)
		goto bad;
	for (;;) {
		unsigned long vid, vni;
		char *end;

		if (*s < '0' || *s > '9')
			goto bad;
		vid = strtoul(s, &end, 10);
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			goto bad;
		vni = strtoul(end + 1, &end, 10);
		if (vid < 1 || vid > 4094 || vni > VXLAN_VNI_MAX) {
			snprintf(err, errlen, "vxlan: vlan_vni=: VLAN %lu to VNI %lu: VLANs are 1..4094, VNIs 0..%u", vid, vni,
				 VXLAN_VNI_MAX);
			return -1;
		}
		for (unsigned i = 0; i < n; i++) {
			if (vids[i] == vid || vnis[i] == vni) {
				snprintf(err, errlen, "vxlan: vlan_vni=: VLAN %lu or VNI %lu mapped twice (the map is one to one)",
					 vid, vni);
				return -1;
			}
		}
		if (n == max) {
			snprintf(err, errlen, "vxlan: vlan_vni=: at most %u VLANs", max);
			return -1;
		}
		vids[n] = (uint16_t)vid;
		vnis[n++] = (uint32_t)vni;
		if (!*end)
			return (int)n;
		if (*end != ',')
			goto bad;
		s = end + 1;
	}
bad:
	snprintf(err, errlen, "vxlan: vlan_vni= must be VID:VNI[,VID:VNI..] like 10:1010,20:1020");
	return -1;
}

/* vlan_vni= into @v->map (allocated here, at port add); 0, or -1 with @err. */
static int vx_parse_map(struct vx_port *v, const char *list, char *err, size_t errlen)
{
	uint16_t vids[4094];
	uint32_t vnis[4094];
	int n = port_vxlan_vlan_vni_parse(list, vids, vnis, 4094, err, errlen);

	if (n < 0)
		return -1;
	v->map = malloc(sizeof(*v->map));
	if (!v->map) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(v->map->vni_of, 0xff, sizeof(v->map->vni_of));
	memset(v->map->slot, 0, sizeof(v->map->slot));
	v->map->n = (unsigned)n;
	for (int i = 0; i < n; i++) {
		unsigned k = vx_map_hash(vnis[i]);

		while (v->map->slot[k])
			k = (k + 1) & (VX_MAP_SLOTS - 1);
		v->map->slot[k] = VX_MAP_USED | (uint64_t)vnis[i] << 12 | vids[i];
		v->map->vni_of[vids[i]] = vnis[i];
		v->map->vids[i] = vids[i];
	}
	return 0;
}

/* The options into @v; 0, or -1 with @err. */
static int vx_parse(struct vx_port *v, struct json_object *params, char *err, size_t errlen)
{
	const char *local = port_param_str(params, "local"), *remote = port_param_str(params, "remote");
	const char *csum = port_param_str(params, "csum"), *tos = port_param_str(params, "tos");
	const char *range = port_param_str(params, "src_ports"), *vni_str = port_param_str(params, "vni");
	const char *map = port_param_str(params, "vlan_vni");
	unsigned vni = 0, dstport, ttl, mtu, lo = 49152, hi = 65535, tosv = 0;
	bool vni_flow = vni_str && strcmp(vni_str, "flow") == 0, remote_flow = remote && strcmp(remote, "flow") == 0;
	int fl;
	char tail;

	unsigned probe;

	/* vni= given in any form (a config file's may be a number): a sentinel default tells. */
	if (map && (vni_str || port_param_uint(params, "vni", 0, ~0u - 1, ~0u, &probe, err, errlen) < 0 || probe != ~0u)) {
		snprintf(err, errlen, "vxlan: vlan_vni= takes the place of vni= (give one of them)");
		return -1;
	}
	if (map && vx_parse_map(v, map, err, errlen) < 0)
		return -1;
	if ((!vni_flow && !map &&
	     port_param_uint(params, "vni", 0, VXLAN_VNI_MAX, VXLAN_VNI_MAX + 1, &vni, err, errlen) < 0) ||
	    port_param_uint(params, "dstport", 1, 65535, VXLAN_PORT, &dstport, err, errlen) < 0 ||
	    port_param_uint(params, "ttl", 1, 255, 64, &ttl, err, errlen) < 0 ||
	    port_param_uint(params, "mtu", 576, 65535, 0, &mtu, err, errlen) < 0)
		return -1;
	v->mtu.conf = mtu;
	if (vni > VXLAN_VNI_MAX && !map) {
		snprintf(err, errlen, "vxlan: vni= (0..%u, or flow) or vlan_vni= is required", VXLAN_VNI_MAX);
		return -1;
	}
	fl = vx_parse_addr(local, 0, &v->local);
	if (fl < 0) {
		snprintf(err, errlen, "vxlan: local= must be an IPv4 or IPv6 address");
		return -1;
	}
	if (vtep_init(&v->vt, fl == AF_INET6) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!remote_flow && vx_parse_remotes(v, remote, err, errlen) < 0)
		return -1;
	if (csum && strcmp(csum, "on") != 0 && strcmp(csum, "off") != 0) {
		snprintf(err, errlen, "vxlan: csum= must be on or off");
		return -1;
	}
	if (tos && strcmp(tos, "inherit") != 0 && (sscanf(tos, "%u%c", &tosv, &tail) != 1 || tosv > 255)) {
		snprintf(err, errlen, "vxlan: tos= must be 0..255 or inherit");
		return -1;
	}
	if (range && (sscanf(range, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1 || lo > hi || hi > 65535)) {
		snprintf(err, errlen, "vxlan: src_ports= must be LO-HI with 1 <= LO <= HI <= 65535");
		return -1;
	}
	v->ipv6 = fl == AF_INET6;
	v->alen = v->ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	v->vni = vni;
	v->vni_flow = vni_flow;
	v->remote_flow = remote_flow;
	v->dstport = (uint16_t)dstport;
	v->ttl = (int)ttl;
	v->csum = !csum || strcmp(csum, "on") == 0;
	v->tos_inherit = tos && strcmp(tos, "inherit") == 0;
	v->tos = (int)tosv;
	v->sport_lo = (uint16_t)lo;
	v->sport_hi = (uint16_t)hi;
	inet_ntop(fl, v->ipv6 ? (void *)&v->local.v6.sin6_addr : (void *)&v->local.v4.sin_addr, v->local_str,
		  sizeof(v->local_str));
	return 0;
}

static int setopt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* The receive socket: UDP, bound to local:dstport, zero checksums accepted. NULL @what on success. */
static const char *vx_open_rx(struct vx_port *v)
{
	union vx_addr bind_to = v->local;

	v->rx_fd = socket(v->ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (v->rx_fd < 0)
		return "UDP socket";
	if (v->ipv6) {
		bind_to.v6.sin6_port = htons(v->dstport);
		if (setopt(v->rx_fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
			return "IPV6_V6ONLY";
		if (setopt(v->rx_fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, 1) < 0)
			return "UDP_NO_CHECK6_RX";
	} else {
		bind_to.v4.sin_port = htons(v->dstport);
	}
	/* A burst of 64 full datagrams and more: the kernel's default (~200 KiB) drops under a TCP window. */
	(void)setopt(v->rx_fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
	if (bind(v->rx_fd, &bind_to.sa, v->alen) < 0)
		return "bind local:dstport";
	return NULL;
}

/* The transmit socket: raw IP, protocol UDP, our UDP header, never fragmented. NULL @what on success. */
static const char *vx_open_tx(struct vx_port *v)
{
	/* Accept nothing: this socket only sends (its receive side would get a copy of every UDP datagram). */
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop_all };
	union vx_addr bind_to = v->local;

	v->tx_fd = socket(v->ipv6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (v->tx_fd < 0)
		return "raw socket (needs CAP_NET_RAW)";
	if (setsockopt(v->tx_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return "SO_ATTACH_FILTER";
	(void)setopt(v->tx_fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
	if (v->ipv6) {
		if (setopt(v->tx_fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO) < 0 ||
		    setopt(v->tx_fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1) < 0)
			return "IPV6_DONTFRAG";
		if (setopt(v->tx_fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, v->ttl) < 0 ||
		    setopt(v->tx_fd, IPPROTO_IPV6, IPV6_TCLASS, v->tos) < 0)
			return "IPV6_UNICAST_HOPS/IPV6_TCLASS";
		/* The kernel fills the UDP checksum at offset 6 (a computed zero goes out as 0xffff). */
		if (v->csum && setopt(v->tx_fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6) < 0)
			return "IPV6_CHECKSUM";
	} else {
		if (setopt(v->tx_fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO) < 0)
			return "IP_MTU_DISCOVER";
		if (setopt(v->tx_fd, IPPROTO_IP, IP_TTL, v->ttl) < 0 || setopt(v->tx_fd, IPPROTO_IP, IP_TOS, v->tos) < 0)
			return "IP_TTL/IP_TOS";
	}
	/* The outer source address: local= (the kernel then routes from it). */
	if (bind(v->tx_fd, &bind_to.sa, v->alen) < 0)
		return "bind local";
	return NULL;
}

/*
 * UDP GSO: VX_GSO_SOCKS UDP sockets bound to local= and ports spread over
 * src_ports= (a port in use is skipped for the next one), each with the
 * raw socket's TTL, TOS and no fragmentation, and what sending needs: the
 * buffers.  GSO stays off (gso_off says why) when csum=off (the kernel
 * refuses UDP_SEGMENT without checksums), when the kernel does not take
 * UDP_SEGMENT (before 4.18) or when no port is free; the port works
 * without it.
 */
static void vx_open_gso(struct vx_port *v)
{
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop_all };
	unsigned range = (unsigned)v->sport_hi - v->sport_lo + 1;

	if (!v->csum) {
		v->gso_off = "csum=off";
		return;
	}
	if (v->map) {
		v->gso_off = "vlan_vni=";
		return;
	}
	v->gso_off = "no free source port";
	for (unsigned k = 0; k < VX_GSO_SOCKS && k < range; k++) {
		int fd = socket(v->ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
		bool ok = fd >= 0;

		if (ok && setopt(fd, SOL_UDP, UDP_SEGMENT, 0) < 0) {
			v->gso_off = "no UDP_SEGMENT: kernel < 4.18";
			close(fd);
			break;
		}
		ok = ok && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0;
		(void)(ok && setopt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20));
		if (ok && v->ipv6)
			ok = setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, v->ttl) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_TCLASS, v->tos) == 0;
		else if (ok)
			ok = setopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO) == 0 &&
			     setopt(fd, IPPROTO_IP, IP_TTL, v->ttl) == 0 && setopt(fd, IPPROTO_IP, IP_TOS, v->tos) == 0;
		/* Ports spread over the range; a taken one: the next, a few times. */
		for (unsigned t = 0, base = (unsigned)((uint64_t)range * k / VX_GSO_SOCKS); ok && t < 16; t++) {
			union vx_addr a = v->local;
			uint16_t port = (uint16_t)(v->sport_lo + (base + t) % range);

			if (v->ipv6)
				a.v6.sin6_port = htons(port);
			else
				a.v4.sin_port = htons(port);
			if (bind(fd, &a.sa, v->alen) == 0) {
				v->gso_sport[v->n_gso] = port;
				v->gso_fd[v->n_gso++] = fd;
				fd = -1;
				break;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	if (!v->n_gso)
		return;
	v->gso_buf = malloc(VX_GSO_ARENA);
	v->gso_scratch = aligned_alloc(_Alignof(struct pkt), sizeof(struct pkt) * VXLAN_GSO_SEGS_MAX);
	if (!v->gso_buf || !v->gso_scratch) {
		for (unsigned s = 0; s < v->n_gso; s++)
			close(v->gso_fd[s]);
		v->n_gso = 0;
		v->gso_off = "out of memory";
		return;
	}
	atomic_store_explicit(&v->port.tx_offload, VX_GSO_TX_OFFLOAD, memory_order_relaxed);
}

struct port *port_vxlan_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen)
{
	struct vx_port *v = calloc(1, sizeof(*v));
	const char *what;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->rx_fd = v->tx_fd = v->mtu.fd = -1;
	pthread_spin_init(&v->tx_lock, PTHREAD_PROCESS_PRIVATE);
	snprintf(v->port.name, sizeof(v->port.name), "%s", name);
	v->port.ops = &vx_port_ops;
	v->port.rx_offload = false;
	atomic_init(&v->port.tx_offload, 0);
	if (vx_parse(v, params, err, errlen) < 0)
		goto out_free;
	v->rx_slots = malloc((size_t)PKT_BURST * VX_RX_SLOT);
	if (!v->rx_slots) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	for (unsigned i = 0; i < PKT_BURST; i++)
		v->rx_iov[i] = (struct iovec){ v->rx_slots + (size_t)i * VX_RX_SLOT, VX_RX_SLOT };
	v->drained = false;
	what = vx_open_rx(v);
	if (!what)
		what = vx_open_tx(v);
	if (!what) {
		vx_open_gso(v);
		/*
		 * UDP GRO: the kernel may glue a flow's datagrams in one slot
		 * (vx_rx_burst() cuts them apart, and merges runs of inner TCP
		 * segments into TSO frames: the port then makes offload requests).
		 */
		v->gro = setopt(v->rx_fd, SOL_UDP, UDP_GRO, 1) == 0;
		if (v->gro && !v->map)
			v->rx_miov = malloc(VX_RX_MIOV * sizeof(*v->rx_miov));
		v->port.rx_offload = v->rx_miov != NULL;
		vx_rx_init(v);
	}
	if (!what) {
		int e = vxlan_mtu_open(&v->mtu, &v->local.sa, v->alen, v->ipv6, v->mtu.conf, v->remote_flow);

		errno = -e;
		what = e < 0 ? "MTU probe socket" : NULL;
		v->mtu.strip = v->map ? PKT_VLAN_HLEN : 0;
		vxlan_mtu_apply(&v->mtu, &v->vt, &v->port);
	}
	if (what) {
		snprintf(err, errlen, "vxlan %s:%u: %s: %s", v->local_str, (unsigned)v->dstport, what, strerror(errno));
		goto out_free;
	}
	return &v->port;

out_free:
	vx_destroy(&v->port);
	return NULL;
}

/* ---- the tunnel fdb, for the control thread (vswctl tunnel fdb) ---------------------------------------------- */

bool port_is_vxlan(const struct port *p)
{
	return p->ops == &vx_port_ops;
}

int port_vxlan_vni(const struct port *p)
{
	const struct vx_port *v = (const struct vx_port *)p;

	return v->vni_flow || v->map ? -1 : (int)v->vni;
}

int port_vxlan_fdb_add(struct port *p, const uint8_t mac[6], uint32_t vni, const char *remote, char *err,
		       size_t errlen)
{
	struct vx_port *v = vx_of(p);
	bool flood = !vtep_mac(mac);	/* 00:00:00:00:00:00: a flood destination of the VNI (bridge fdb append) */
	union vx_addr a;
	int r;

	if (v->remote_flow) {
		/* As OVS's remote_ip=flow: no table and no flood list, the flows pick each frame's VTEP. */
		snprintf(err, errlen, "port %s has remote=flow: the flows choose the VTEP (set_field:IP->tun_dst)",
			 p->name);
		return -EINVAL;
	}
	if (v->map && (vni > VXLAN_VNI_MAX || !vx_map_vid(v->map, (uint32_t)vni))) {
		snprintf(err, errlen, "port %s maps no VLAN to VNI %u (vlan_vni=)", p->name, (unsigned)vni);
		return -EINVAL;
	}
	if (!v->vni_flow && !v->map && vni != v->vni) {
		snprintf(err, errlen, "port %s serves VNI %u only (vni=flow serves any)", p->name, (unsigned)v->vni);
		return -EINVAL;
	}
	if (vni > VXLAN_VNI_MAX || (mac[0] & 1 && !flood)) {
		snprintf(err, errlen, "%s", vni > VXLAN_VNI_MAX ? "vni must be 0..16777215" : "a group MAC cannot be static");
		return -EINVAL;
	}
	if (vx_parse_addr(remote, 0, &a) < 0) {
		snprintf(err, errlen, "remote= must be an IPv4 or IPv6 address");
		return -EINVAL;
	}
	r = vtep_remote_add(&v->vt, (const union vtep_addr *)&a, false);
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -EAFNOSUPPORT ? "remote= must be of local='s family"
							       : "too many remotes on this port");
		return r;
	}
	if (flood) {
		r = vtep_flood_add(&v->vt, vni, (unsigned)r);
		if (r < 0)
			snprintf(err, errlen, "at most %u VNIs with a flood list of their own on a port", VTEP_FLOOD_VNIS_MAX);
		return r;
	}
	r = vtep_static_add(&v->vt, vni, vtep_mac(mac), (unsigned)r);
	if (r < 0)
		snprintf(err, errlen, "the port's table has no room for this MAC (its bucket holds static entries only)");
	return r;
}

int port_vxlan_fdb_del(struct port *p, const uint8_t mac[6], uint32_t vni, const char *remote)
{
	struct vx_port *v = vx_of(p);
	union vx_addr a;
	int r = -1;

	if (vtep_mac(mac))
		return vtep_del(&v->vt, vni, vtep_mac(mac));
	if (!remote)
		return vtep_flood_del(&v->vt, vni, -1);
	if (vx_parse_addr(remote, 0, &a) >= 0)
		r = vtep_remote_find(&v->vt, (const union vtep_addr *)&a, v->alen);
	return r < 0 ? -ENOENT : vtep_flood_del(&v->vt, vni, r);
}

unsigned port_vxlan_flood_dump(struct port *p, struct vtep_flood *out, unsigned max)
{
	return vtep_flood_dump(&vx_of(p)->vt, out, max);
}

unsigned port_vxlan_fdb_dump(struct port *p, struct vtep_entry *out, unsigned max)
{
	return vtep_dump(&vx_of(p)->vt, out, max, vtep_now_s());
}

const char *port_vxlan_remote_str(struct port *p, unsigned r)
{
	struct vx_port *v = vx_of(p);

	return r < atomic_load_explicit(&v->vt.n_remotes, memory_order_acquire) ? v->vt.remotes[r].str : "?";
}
