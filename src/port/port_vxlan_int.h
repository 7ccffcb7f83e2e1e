/* port_vxlan_int.h - the VXLAN port's own parts: its struct and what its three files share (port_vxlan.c's opening comment has the design). */
#ifndef VSW_PORT_PORT_VXLAN_INT_H
#define VSW_PORT_PORT_VXLAN_INT_H

/*
 * Included by the port's files alone, never by another module (their
 * header is port_vxlan.h):
 *
 *   port_vxlan.c      the port: options, sockets, create and destroy, describe, stats, the tunnel fdb
 *   port_vxlan_rx.c   rx_burst: datagrams in, checked, decapsulated; UDP GRO buffers cut apart and
 *                     runs of inner TCP segments merged back into TSO frames
 *   port_vxlan_tx.c   tx_burst: frames out to their VTEPs through the raw socket, or through the UDP
 *                     GSO sockets as UDP_SEGMENT payloads (cut from offloaded frames, glued from
 *                     runs of small ones)
 *   vxlan_xdp.c       xdp=: the XDP program and AF_XDP sockets that bring datagrams past the
 *                     kernel's IP and UDP receive (port_vxlan_rx.c reads them with the socket's)
 *
 * The helpers two of them call are inline here: a burst calls them per
 * frame (vx_map_vid(), vx_gso_on()).
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "packet/gso.h"
#include "packet/pkt.h"
#include "packet/vxlan.h"
#include "lib/evloop.h"
#include "packet/vxlan_gso.h"
#include "packet/vxlan_outer.h"
#include "port/port.h"
#include "port/vtep.h"
#include "port/vxlan_mtu.h"
#include "port/vxlan_xdp.h"

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

static inline unsigned vx_map_hash(uint32_t vni)
{
	return (vni * 2654435761u) >> (32 - 13);
}

/* The VLAN of @vni under @m, or 0: not mapped. */
static inline unsigned vx_map_vid(const struct vx_map *m, uint32_t vni)
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
 * (512 KiB a port): a payload of a cut frame or a run is built where at
 * least VX_GSO_BUF bytes are left, the gathered ones of a burst where
 * their frames' bytes are (vx_tx_gather()), and each takes what it used,
 * so a round holds 8 payloads of 64 KiB or up to PKT_BURST small ones.
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
#define VX_TX_MSGS (2 * PKT_BURST)	/* the raw socket's messages: a burst's, then vx_gso_resend()'s */
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
	VX_RX_ECN,	/* CE on the outer header over a Not-ECT inner packet (RFC 6040 section 4.2: drop) */
	VX_RX__COUNT
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
	uint8_t n_ports;	/* UDP sockets bound to source ports (gso_fd, gso_sport), GSO on or off: vx_open_ports() */
	uint32_t gso_socks;	/* the sockets they go through (bit per socket) */
	union vtep_addr local;
	socklen_t alen;
	char local_str[INET6_ADDRSTRLEN];
	/* the remote VTEPs (remote=: the flood list) and the remote MACs behind them (vtep.h) */
	struct vtep vt;
	struct port_env env;	/* the daemon's: a grace period (PORT_QUIESCE) before a freed remote's slot is reused */
	int rx_fd, tx_fd;
	/* xdp=IFNAME: the AF_XDP receive path (vxlan_xdp.h); rx_ep holds rx_fd and its sockets for the worker */
	struct vxlan_xdp *xdp;
	char *xdp_if;
	int rx_ep;			/* -1: none (the worker waits on rx_fd) */
	unsigned rx_xn;			/* frames of the last fill, given back at the next (rx_xf) */
	unsigned rx_xfront;		/* messages at the front whose slot is a frame's (rx_iov[] points into the UMEM) */
	uint64_t rx_isum_ok;		/* messages whose inner frame's sum is known (bit i: rx_isum[i]; xdp=, csum on) */
	uint32_t rx_isum[PKT_BURST];	/* the sum of message i's inner frame, from the outer checksum's check */
	atomic_uint_least64_t xdp_rx;	/* datagrams that came through it */
	atomic_uint_least64_t xdp_bad[VXO__COUNT];	/* frames it refused, by vxlan_outer_parse()'s reason */
	bool xdp_csum_said;		/* control thread: wrong UDP checksums were logged */
	struct vxlan_mtu mtu;	/* the underlay MTU: port.tx_frame_max from it (vxlan_mtu.h) */
	struct ev_handler mtu_wake_h;	/* remote=flow: the data path asked for a destination's MTU */
	int mtu_wake_fd;	/* its eventfd on env.loop (-1: none) */
	/* receive: the worker polling queue 0 */
	bool drained;		/* the last burst found the socket empty: the next datagram signals */
	uint8_t *rx_slots;	/* PKT_BURST x VX_RX_SLOT */
	bool gro;		/* UDP_GRO on the receive socket */
	unsigned rx_got, rx_next;	/* messages of the last recvmmsg, and the first not yet all out */
	unsigned rx_dirty;	/* messages whose lengths the kernel wrote since they were last reset (vx_rx_fill()) */
	size_t rx_off;		/* bytes of message rx_next already out (GRO: the datagrams before) */
	size_t rx_seg;		/* its GRO datagram size (0: one datagram) */
	int rx_r;		/* its remote (remote=flow: VTEP_REMOTES_MAX, none: nothing learned) */
	int rx_r_prev;		/* the message before's (-1: none, or dropped), for the next with its address */
	const union vtep_addr *rx_src;	/* its source VTEP: remotes[rx_r]'s address, or rx_from[] (remote=flow) */
	struct iovec *rx_miov;	/* VX_RX_MIOV: the views of merged TSO frames (no vlan_vni=) */
	unsigned rx_ecn_marks;	/* datagrams of the last fill that vx_rx_ecn() marked for the drop */
	atomic_uint_least64_t rx_ecn_odd;	/* datagrams of a "(!!!)" ECN combination taken as they were (packet/ecn.h) */
	uint64_t rx_tos_key;	/* the TOS control message's level and type as one word (vx_rx_alone()) */
	union {
		struct cmsghdr align;
		/* UDP_GRO's, then IP_TOS's (one byte) or IPV6_TCLASS's (an int) */
		uint8_t buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(int))];
	} rx_cmsg[PKT_BURST];
	struct mmsghdr rx_msgs[PKT_BURST];
	struct iovec rx_iov[PKT_BURST];	/* the slots, for recvmmsg */
	struct vxlan_xdp_frame rx_xf[PKT_BURST];	/* xdp=: the frames of the last fill */
	struct iovec rx_view[PKT_BURST];	/* the inner frames, for the switch */
	union vtep_addr rx_from[PKT_BURST];
	atomic_uint_least64_t rx_bad[VX_RX__COUNT];
	/* transmit: any worker, one at a time */
	pthread_spinlock_t tx_lock;
	/*
	 * The raw socket's messages: [0, PKT_BURST) a burst's batch, [PKT_BURST,
	 * VX_TX_MSGS) vx_gso_resend()'s, which may run (a GSO round flushed when
	 * the kernel first refuses GSO) while a batch waits in the first half.
	 */
	struct mmsghdr msgs[VX_TX_MSGS];
	struct iovec tx_iov[VX_TX_MSGS][VX_TX_IOV + 1];
	uint8_t tx_hdr[VX_TX_MSGS][VX_HDR_LEN];
	uint32_t tx_sum[VX_TX_MSGS];	/* IPv4 csum=on: the UDP datagram's sum but the pseudo header (csum_add()'s, unfolded) */
	union vtep_addr tx_to[VX_TX_MSGS];	/* remote=flow: message m's destination (its tun_dst) */
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} tx_cmsg[VX_TX_MSGS];
	/* UDP GSO (under tx_lock): n_gso sockets, 0 when off (gso_off says why); n_gso, n_ports, gso_err, gso_m: above */
	const char *gso_off;
	int gso_fd[VX_GSO_SOCKS];
	uint16_t gso_sport[VX_GSO_SOCKS];
	uint8_t *gso_buf;	/* VX_GSO_ARENA bytes */
	struct pkt *gso_scratch;	/* VXLAN_GSO_SEGS_MAX segments of the frame being cut */
	size_t gso_used;	/* arena bytes they use */
	struct mmsghdr gso_msgs[PKT_BURST];
	struct iovec gso_iov[PKT_BURST];
	union vtep_addr gso_to[PKT_BURST];
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

static inline struct vx_port *vx_of(struct port *p) { return (struct vx_port *)p; }

/* local='s address as in a header (4 or 16 bytes). */
static inline const uint8_t *vx_local_bytes(const struct vx_port *v)
{
	return v->ipv6 ? (const uint8_t *)&v->local.v6.sin6_addr : (const uint8_t *)&v->local.v4.sin_addr;
}

/* UDP GSO is on: the port has GSO sockets and the kernel has not refused it for good. */
static inline bool vx_gso_on(const struct vx_port *v)
{
	return v->n_gso && !atomic_load_explicit(&v->gso_err, memory_order_relaxed);
}

/* ---- port_vxlan_rx.c ---- */

/* The receive messages, once the slots are there and GRO is known (at create). */
void vx_rx_init(struct vx_port *v);
/* port_ops.rx_burst, rx_done. */
unsigned vx_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max);
void vx_rx_done(struct port *p, unsigned q, struct port_io *io);

/* ---- port_vxlan_tx.c ---- */

/* The raw socket's messages, once at create (after the local address is known). */
void vx_tx_init(struct vx_port *v);
/* port_ops.tx_burst. */
void vx_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n);
bool vx_answer_tun(struct port *p, const struct pkt *pk, struct pkt_tun *tun);
/* The name of an errno with which the kernel refuses UDP GSO, for the log and describe. */
const char *vx_errno_name(int err);

#endif
