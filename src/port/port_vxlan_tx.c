/* port_vxlan_tx.c - VXLAN port, transmit: frames to their remote VTEPs behind UDP + VXLAN headers, through the raw socket or as UDP GSO payloads. */
#include "port/port_vxlan_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/perf.h"
#include "packet/csum.h"
#include "packet/ecn.h"
#include "packet/gso.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"
#include "port/vtep.h"

/*
 * A frame's way out (port_vxlan.c's opening comment says why), in
 * vx_tx_burst() under tx_lock (the common frames at a burst's head in
 * vx_tx_gather()'s or vx_tx_plain()'s loops): its VNI, its
 * remote VTEP (the table, else its VNI's flood list; remote=flow: its
 * tun_dst, vx_tx_flow()), then
 *
 *   an offload request (TSO, USO, a partial checksum)
 *     --> vx_gso_frame(): cut into UDP_SEGMENT payloads in the arena --.
 *   finished frames at a burst's head, by the GSO socket of each flow  |
 *     --> vx_tx_gather(): a socket's frames of one size, one payload --+
 *   a finished frame in a run of one flow and one size                 |
 *     --> vx_gso_small(): glued into one UDP_SEGMENT payload ----------+--> vx_gso_flush(): sendmmsg per GSO socket
 *   any other                                                           (refused for good: vx_gso_refuse(), and
 *     --> vx_encap(), vx_encap_copy() a flood copy                       vx_gso_resend() a datagram at a time)
 *     --> vx_send(): sendmmsg on the raw socket
 *
 * A flow's frames that take both ways stay in order: either batch is sent
 * before the other takes a frame of a flow it holds.
 */

/*
 * The inner IPv4 TOS or IPv6 traffic class (DSCP and ECN), else 0: the
 * outer TOS for tos=inherit.  Behind two tags too (the parse reads one).
 */
static inline int vx_inner_tos(struct pkt *pk)
{
	const uint8_t *h = pkt_head(pk);
	unsigned flags = pkt_parsed(pk), l3 = pk->l3_off;

	if ((flags & PKT_F_VLAN) && (pk->ethertype == PKT_TPID_8021Q || pk->ethertype == PKT_TPID_8021AD)) {
		struct pkt_l3 o;

		flags = pkt_parse_l3(pk, &o);
		l3 = o.l3_off;
	}
	if (flags & PKT_F_IPV4)
		return h[l3 + 1];
	if (flags & PKT_F_IPV6)
		return (h[l3] & 0x0f) << 4 | h[l3 + 1] >> 4;
	return 0;
}

/*
 * The inner ECN field of the frame whose head is @h (@hl bytes): the bits
 * where an IPv4 TOS or IPv6 traffic class is, untagged or behind one or
 * two tags (802.1Q or 802.1ad, as packet/ecn.c reads it on the way out), of a
 * frame of that EtherType, else 0 (Not-ECT).  From the head's bytes, in
 * the common loops and the general path alike, so both give a frame the
 * same outer TOS: the common loops hash most frames without a parse
 * (vxlan_flow4_is()), and a parse for this was ~50 instructions.
 */
static inline unsigned vx_inner_ecn(const uint8_t *h, unsigned hl)
{
	uint16_t type;

	if (hl < PKT_ETH_HLEN + PKT_VLAN_HLEN + 2)
		return 0; /* (no frame of an IP header is so short: the bytes read are the frame's) */
	memcpy(&type, h + 12, sizeof(type));
	if (type == htons(0x0800))
		return h[15] & ECN_MASK; /* IPv4's TOS */
	if (type == htons(0x86dd))
		return h[15] >> 4 & ECN_MASK; /* the low nibble of IPv6's traffic class */
	if (type != htons(PKT_TPID_8021Q) && type != htons(PKT_TPID_8021AD))
		return 0;
	memcpy(&type, h + 16, sizeof(type));
	if (type == htons(0x0800))
		return h[19] & ECN_MASK;
	if (type == htons(0x86dd))
		return h[19] >> 4 & ECN_MASK;
	if ((type != htons(PKT_TPID_8021Q) && type != htons(PKT_TPID_8021AD)) ||
	    hl < PKT_ETH_HLEN + 2 * PKT_VLAN_HLEN + 2)
		return 0;
	memcpy(&type, h + 20, sizeof(type)); /* QinQ: behind the second tag */
	if (type == htons(0x0800))
		return h[23] & ECN_MASK;
	if (type == htons(0x86dd))
		return h[23] >> 4 & ECN_MASK;
	return 0;
}

/* The outer TOS without tos=inherit for inner ECN field @ecn: the port's DSCP with it, -1 (the socket's) for Not-ECT. */
static inline int vx_ecn_tos(const struct vx_port *v, unsigned ecn)
{
	return ecn ? v->tos | (int)ecn : -1;
}

/*
 * The outer TOS of @pk's datagram, -1 when it is the socket's (tos=, ECN
 * Not-ECT).  RFC 6040 section 4.1's normal mode: the inner ECN field
 * copied to the outer header (a router on the underlay then marks CE
 * where it would drop, and the egress passes the mark on, section 4.2),
 * with tos=inherit the whole TOS, otherwise the port's DSCP (tos=, whose
 * ECN bits are zero) with it.  (Linux's vxlan and OVS copy it too, but an
 * inner CE as ECT(0), RFC 3168's rule; the egress ends with CE either way.)
 */
static inline int vx_outer_tos(const struct vx_port *v, struct pkt *pk)
{
	if (v->tos_inherit)
		return vx_inner_tos(pk);
	return vx_ecn_tos(v, vx_inner_ecn(pkt_head(pk), pk->head_len));
}

/* Which of @n_gso GSO sockets (the port's n_gso) inner flow hash @hash (vxlan_flow_hash()) picks: its high bits scaled. */
static inline unsigned vx_hash_sock(unsigned n_gso, uint32_t hash)
{
	return (unsigned)((uint64_t)hash * n_gso >> 32);
}

/*
 * The outer source port for inner flow hash @hash without GSO: the port of
 * the bound socket the hash picks (@n_ports of them, @ports), or with none
 * the hash spread over lo-hi.  Its arguments are the port's fields, so
 * that vx_tx_plain()'s loop passes them from locals.
 */
static inline uint16_t vx_ports_pick(unsigned n_ports, const uint16_t *ports, uint16_t lo, uint16_t hi, uint32_t hash)
{
	return n_ports ? ports[vx_hash_sock(n_ports, hash)] : vxlan_hash_port(hash, lo, hi);
}

/*
 * The outer source port for inner flow hash @hash (vxlan_flow_hash()), in
 * src_ports= (RFC 7348 section 5): the port of the bound socket the hash
 * picks (while UDP GSO is on, its index into *@sock; 0 with GSO off), for
 * the frames of the raw socket too: one inner flow, one outer port, one
 * ECMP path, whichever way each of its frames leaves.  With GSO off the
 * sockets are there all the same, for the kernel's ICMP errors
 * (vx_open_ports()); only when none could be bound does the hash span the
 * whole range.
 */
static inline uint16_t vx_hash_sport(const struct vx_port *v, uint32_t hash, unsigned *sock)
{
	*sock = 0;
	if (vx_gso_on(v)) {
		*sock = vx_hash_sock(v->n_gso, hash);
		return v->gso_sport[*sock];
	}
	return vx_ports_pick(v->n_ports, v->gso_sport, v->sport_lo, v->sport_hi, hash);
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

/*
 * The UDP checksum of message @m's datagram to @dst (IPv4, csum=on): its
 * sum (tx_sum) and @dst's pseudo header, added in 64 bits and folded once.
 * Inline: it is paid per frame.
 */
static inline void vx_csum4(struct vx_port *v, unsigned m, const union vtep_addr *dst, uint32_t udp_len)
{
	uint64_t acc = (uint64_t)v->tx_sum[m] +
		       csum_pseudo_ipv4(&v->local.v4.sin_addr, &dst->v4.sin_addr, IPPROTO_UDP, udp_len);
	uint16_t c = csum_finish_l4_64(acc, CSUM_UDP_OFFSET);

	memcpy(v->tx_hdr[m] + 6, &c, 2);
}

/*
 * The raw socket's messages, once at create: the fields vx_encap() leaves
 * as they are.  Whoever writes a whole message (vx_encap_copy(),
 * vx_gso_resend()) writes these same values again: its address length,
 * its own iovecs, and a control message when the datagram has a TOS of
 * its own (vx_outer_tos(): every one with tos=inherit, else one whose
 * inner header is ECN-capable), none otherwise.
 */
void vx_tx_init(struct vx_port *v)
{
	for (unsigned m = 0; m < VX_TX_MSGS; m++)
		v->msgs[m].msg_hdr = (struct msghdr){ .msg_namelen = v->alen, .msg_iov = v->tx_iov[m] };
}

/* The outer TOS control message (IP_TOS, IPV6_TCLASS) of @tos at @c: the bytes it takes (CMSG_SPACE). */
static inline size_t vx_cmsg_tos(const struct vx_port *v, uint8_t *c, int tos)
{
	struct cmsghdr *cm = (struct cmsghdr *)c;

	cm->cmsg_level = v->ipv6 ? IPPROTO_IPV6 : IPPROTO_IP;
	cm->cmsg_type = v->ipv6 ? IPV6_TCLASS : IP_TOS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &tos, sizeof(int));
	return CMSG_SPACE(sizeof(int));
}

/* The UDP_SEGMENT control message for pieces of @seg_bytes at @c: the bytes it takes (CMSG_SPACE). */
static inline size_t vx_cmsg_segment(uint8_t *c, uint16_t seg_bytes)
{
	struct cmsghdr *cm = (struct cmsghdr *)c;

	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
	memcpy(CMSG_DATA(cm), &seg_bytes, sizeof(uint16_t));
	return CMSG_SPACE(sizeof(uint16_t));
}

/*
 * Message @m's outer TOS (vx_outer_tos()): @tos as its control message,
 * or for -1 the socket's: no control message (a message before in this
 * slot may have had one).
 */
static inline void vx_tos_cmsg(struct vx_port *v, unsigned m, int tos)
{
	struct msghdr *mh = &v->msgs[m].msg_hdr;

	if (tos < 0) {
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		return;
	}
	mh->msg_control = v->tx_cmsg[m].buf;
	mh->msg_controllen = sizeof(v->tx_cmsg[m].buf);
	vx_cmsg_tos(v, v->tx_cmsg[m].buf, tos);
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
 * cannot go (too many segments, too big for one datagram).  The message's
 * other fields are vx_tx_init()'s.  Forced inline: a call with its six
 * arguments, saved registers and stack guard was ~35 of the ~290
 * instructions a frame took (callgrind on bench_vxlan, csum=off).
 */
static inline __attribute__((always_inline)) bool vx_encap(struct vx_port *v, unsigned m, struct pkt *pk, uint32_t vni,
							   const union vtep_addr *dst, int known_sport)
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
	mh->msg_name = (void *)dst;
	mh->msg_iovlen = (size_t)nseg + 1;
	if (v->csum && !v->ipv6) {
		/* A frame in one piece (a small one, whole in its head): two sums, no walk over a segment list. */
		uint32_t sum = nseg == 1 && !strip ? csum_add(hsum, iov[1].iov_base, iov[1].iov_len)
						   : csum_add_iov(hsum, &iov[1], (unsigned)nseg, 0, udp_len - VX_HDR_LEN, NULL);

		v->tx_sum[m] = sum;
		vx_csum4(v, m, dst, udp_len);
	}
	vx_tos_cmsg(v, m, vx_outer_tos(v, pk));
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
 * The tunnel metadata of an ICMP answer to @pk (dp/pmtu.c), too big for
 * its way out of this port: the VNI @pk was going in, from the remote it
 * was going to (its tun_dst with remote=flow; else the one its inner
 * destination is known behind, or for a flood the first of the VNI's
 * list), to local=.  Linux's vxlan answers the same way (the tunnel's
 * key and addresses swapped), and flows that match tun_id or tun_src
 * (vni=flow) take the answer as they take that remote's frames.
 */
bool vx_answer_tun(struct port *p, const struct pkt *pk, struct pkt_tun *tun)
{
	struct vx_port *v = (struct vx_port *)p;
	const union vtep_addr *from = NULL;
	uint32_t vni;

	if (v->map) {
		if (!vx_tx_map(v, pk, &vni))
			return false;
	} else {
		vni = vx_tx_vni(v, pk);
	}
	memset(tun, 0, sizeof(*tun));
	tun->id = vni;
	tun->ipv6 = v->ipv6;
	if (v->remote_flow) {
		if (!(pk->flags & PKT_F_TUNNEL) || pk->tun.ipv6 != v->ipv6)
			return false;
		tun->src = pk->tun.dst;
	} else {
		int r = vtep_lookup(&v->vt, vni, vtep_mac(pkt_head(pk)), vtep_now_s());

		if (r < 0) {
			uint32_t to = vtep_flood_mask(&v->vt, vni);

			if (!to)
				to = vtep_port_flood(&v->vt); /* the VNI's list, else the port's: vx_tx_burst()'s flood */
			if (!to)
				return false;
			r = __builtin_ctz(to);
		}
		from = &v->vt.remotes[r].addr;
		if (v->ipv6)
			memcpy(tun->src.v6, &from->v6.sin6_addr, 16);
		else
			tun->src.v4 = from->v4.sin_addr.s_addr;
	}
	if (v->ipv6)
		memcpy(tun->dst.v6, &v->local.v6.sin6_addr, 16);
	else
		tun->dst.v4 = v->local.v4.sin_addr.s_addr;
	return true;
}

/*
 * The encap point (lib/perf.h) of a tx burst: the cycles spent building
 * messages, the sendmmsg syscalls left out (a read before and after each).
 */
struct vx_clock {
	uint64_t t;		/* when the current stretch of building began (0: timing off) */
	uint64_t encap;		/* the stretches so far */
	bool last;		/* the burst's last send: no stretch after it, no clock read */
};

/* Messages [0, @m) through the raw socket, outside the encap point's clock. */
static unsigned vx_send(struct vx_port *v, struct port_io *io, struct vx_clock *clk, unsigned m, uint64_t *bytes,
			unsigned drops[DROP__COUNT])
{
	unsigned sent;

	if (!m)
		return 0; /* nor the two clock reads around no syscall (~25 cycles each, inside the encap point) */
	if (io->perf)
		clk->encap += dp_tsc() - clk->t;
	sent = port_sendmmsg(v->tx_fd, v->msgs, m, VX_HDR_LEN, bytes, drops);
	if (!clk->last)
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
const char *vx_errno_name(int err)
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
 * kernel's for IPv6) and TOS.  Uses the second half of msgs[]: the
 * first may hold the burst's raw batch, not sent yet (a frame of no known
 * socket, or of a socket the round holds, flushes the round while the
 * batch waits).  Returns the datagrams sent.
 */
static unsigned vx_gso_resend(struct vx_port *v, const unsigned *list, unsigned n, uint64_t *bytes,
			      unsigned drops[DROP__COUNT])
{
	unsigned sent = 0, x = PKT_BURST, built = 0;

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
				v->tx_sum[x] = csum_add_iov(0, iov, 2, 0, udp_len, NULL);
				vx_csum4(v, x, dst, udp_len);
			}
			if (v->gso_meta[m].tos >= 0)
				vx_tos_cmsg(v, x, v->gso_meta[m].tos);
			built++;
			/* port_sendmmsg() counts a datagram's bytes past VX_HDR_LEN: its inner frame's. */
			if (++x == VX_TX_MSGS) {
				sent += port_sendmmsg(v->tx_fd, v->msgs + PKT_BURST, x - PKT_BURST, VX_HDR_LEN, bytes, drops);
				x = PKT_BURST;
			}
		}
	}
	if (x > PKT_BURST)
		sent += port_sendmmsg(v->tx_fd, v->msgs + PKT_BURST, x - PKT_BURST, VX_HDR_LEN, bytes, drops);
	port_count(&v->off_count[VX_GSO_RESENT], built);
	return sent;
}

/* GSO message @m went out: its datagrams to *@sent, its inner bytes to *@bytes, and a UDP_SEGMENT send's to *@msgs, *@segs. */
static inline void vx_gso_sent(const struct vx_port *v, unsigned m, unsigned *sent, uint64_t *bytes, unsigned *msgs,
			       unsigned *segs)
{
	*sent += v->gso_meta[m].segs;
	*bytes += v->gso_meta[m].inner_bytes;
	if (v->gso_meta[m].segs > 1) {
		++*msgs;
		*segs += v->gso_meta[m].segs;
	}
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
	if (v->gso_m == 1 && !atomic_load_explicit(&v->gso_err, memory_order_relaxed)) {
		/*
		 * One message (a burst of one flow, or of one socket's): sent
		 * without the batching below, ~120 of its ~180 instructions a
		 * burst.  Anything but its whole send goes the way below, which
		 * sends it again and sorts out the error.
		 */
		if (sendmmsg(v->gso_fd[v->gso_meta[0].sock], v->gso_msgs, 1, MSG_DONTWAIT) == 1) {
			vx_gso_sent(v, 0, &sent, bytes, &msgs, &segs);
			goto done;
		}
	}
	/*
	 * Each socket's messages where they are when they lie together (one
	 * socket, the usual case, or a round vx_tx_gather() built socket by
	 * socket), else copied into one batch a socket.
	 */
	bool in_place = true;
	unsigned at = 0;	/* in place: the next socket's first message */
	uint32_t seen = 1u << v->gso_meta[0].sock;

	for (unsigned m = 1; m < v->gso_m && in_place; m++) {
		uint32_t bit = 1u << v->gso_meta[m].sock;

		if (v->gso_meta[m].sock != v->gso_meta[m - 1].sock) {
			in_place = !(seen & bit);
			seen |= bit;
		}
	}
	for (uint32_t socks = v->gso_socks; socks; socks &= socks - 1) {
		unsigned s = (unsigned)__builtin_ctz(socks);
		struct mmsghdr *batch = v->gso_batch;
		unsigned k = 0, off = 0;

		if (in_place) {
			s = v->gso_meta[at].sock;
			batch = v->gso_msgs + at;
			for (; at + k < v->gso_m && v->gso_meta[at + k].sock == s; k++)
				v->gso_batch_of[k] = at + k;
			at += k;
		} else {
			for (unsigned m = 0; m < v->gso_m; m++) {
				if (v->gso_meta[m].sock != s)
					continue;
				v->gso_batch[k] = v->gso_msgs[m];
				v->gso_batch_of[k++] = m;
			}
		}
		while (off < k) {
			unsigned first = v->gso_batch_of[off], left = 0;
			int rc, err;

			if (atomic_load_explicit(&v->gso_err, memory_order_relaxed)) {
				sent += vx_gso_resend(v, v->gso_batch_of + off, k - off, bytes, drops);
				break;
			}
			rc = sendmmsg(v->gso_fd[s], batch + off, k - off, MSG_DONTWAIT);
			if (rc > 0) {
				for (unsigned j = off; j < off + (unsigned)rc; j++)
					vx_gso_sent(v, v->gso_batch_of[j], &sent, bytes, &msgs, &segs);
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
done:
	/* under tx_lock, their one writer: plain adds, no locked ones (two a burst were ~40 cycles) */
	if (msgs) {
		port_count_owned(&v->off_count[VX_GSO_SENDS], msgs);
		port_count_owned(&v->off_count[VX_GSO_SEGMENTS], segs);
	}
	v->gso_m = 0;
	v->gso_used = 0;
	v->gso_open = false;
	v->gso_socks = 0;
	if (!clk->last)
		clk->t = dp_perf_note_start(io->perf);
	return sent;
}

/*
 * GSO message @m: payload @gm in @buf to remote @r at @dst (remote=flow:
 * the frame's tun_dst, @r unused) through socket @sock (source port
 * @sport), outer TOS @tos (-1: the socket's).  Inline: a call with its
 * nine arguments was ~30 of its ~100 instructions, paid a message (eight
 * a burst of many flows, one a socket).
 */
static inline __attribute__((always_inline)) void vx_gso_msg(struct vx_port *v, unsigned m, uint8_t *buf,
							     const struct vxlan_gso_msg *gm, unsigned r,
							     const union vtep_addr *dst, unsigned sock, uint16_t sport,
							     int tos)
{
	uint8_t *c = v->gso_cmsg[m].buf;
	size_t clen = 0;

	/* The remotes are kept as raw-socket addresses (port 0): a UDP socket needs the port.  The whole union: a fixed copy, no call. */
	v->gso_to[m] = *dst;
	if (v->ipv6)
		v->gso_to[m].v6.sin6_port = htons(v->dstport);
	else
		v->gso_to[m].v4.sin_port = htons(v->dstport);
	v->gso_iov[m] = (struct iovec){ buf, gm->len };
	if (gm->segs > 1)
		clen += vx_cmsg_segment(c, gm->seg_bytes);
	if (tos >= 0)
		clen += vx_cmsg_tos(v, c + clen, tos);
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
	int tos = vx_outer_tos(v, pk);

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

/* vx_sport()'s answer, the hash behind it and the outer TOS.  Forced inline: a call a frame was ~20 instructions. */
static inline __attribute__((always_inline)) void vx_flow_out(const struct vx_port *v, struct pkt *pk,
							      struct vx_flow_out *fo)
{
	fo->hash = vxlan_flow_hash(pk);
	fo->sport = vx_hash_sport(v, fo->hash, &fo->sock);
	fo->tos = vx_outer_tos(v, pk);
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
 * is VX_GSO_SOCKS), for its own turn; *@joins whether the frame joins the
 * open payload, for vx_gso_small() (not asked twice).
 */
static bool vx_gso_run(const struct vx_port *v, struct pkt *const *pkts, unsigned n, unsigned i, unsigned r,
		       uint64_t mac, uint32_t vni, const struct vx_flow_out *fo, struct vx_flow_out *next, bool *joins)
{
	struct pkt *pk = pkts[i], *nx;

	next->sock = VX_GSO_SOCKS;
	*joins = vx_gso_joins(v, fo, r, VXLAN_HLEN + pk->len);
	if (*joins)
		return true;
	if (i + 1 >= n)
		return false;
	nx = pkts[i + 1];
	if (nx->len != pk->len || gso_wanted(nx) || vtep_mac(pkt_head(nx)) != mac || vx_tx_vni(v, nx) != vni)
		return false;
	vx_flow_out(v, nx, next);
	/* one flow (other flows of its socket may join the payload it opens, not open one with it) */
	return next->hash == fo->hash && next->tos == fo->tos;
}

/*
 * Frame @pk's bytes to @to, which has @room bytes: a frame of up to 64
 * bytes whole in its head as one fixed 64-byte copy (the head has
 * PKT_HEAD_COPY bytes; what lands past the frame is under the next
 * datagram or past the payload's end, never sent; the read stays in
 * buf[] while head_off <= PKT_HEADROOM + PKT_HEAD_COPY - 64, which pops
 * of tags, 4 bytes each, are far from), else pkt_to_buf().
 * The copy of a 60-byte frame was ~40 instructions through pkt_to_buf()'s
 * call and memcpy() of a length known at run time (callgrind, bench_vxlan
 * -c on -f 1).
 */
static inline __attribute__((always_inline)) void vx_frame_to(const struct pkt *pk, uint8_t *to, size_t room)
{
	_Static_assert(PKT_HEAD_COPY >= 64, "a head holds 64 bytes");
	if (pk->len == pk->head_len && pk->len <= 64 && room >= 64)
		pkt_copy64(to, pkt_head(pk));
	else
		pkt_to_buf(pk, to, pk->len);
}

/*
 * Frame @pk in @vni appended to the round's open payload, which it joins
 * (vx_gso_joins()) and which asks for UDP_SEGMENT already (two datagrams
 * or more), when the payload and the arena have room: its datagram right
 * behind the payload's, the payload's length, inner bytes and count
 * grown.  False, nothing done, otherwise (vx_gso_small()'s to do).
 * Inline in vx_tx_burst()'s loop over a run: a call of vx_gso_small() a
 * frame, its eleven arguments and saved registers, was ~25 of the ~290
 * instructions a frame of a run took (callgrind, bench_vxlan -c on -f 1).
 */
static inline __attribute__((always_inline)) bool vx_gso_append(struct vx_port *v, const struct pkt *pk, uint32_t vni)
{
	const unsigned m = v->gso_m - 1;
	size_t seg = VXLAN_HLEN + pk->len;
	uint8_t *b;

	if (v->gso_meta[m].segs < 2 || v->gso_iov[m].iov_len + seg > VXLAN_GSO_BYTES ||
	    VX_GSO_ARENA - v->gso_used < seg)
		return false;
	/* The open payload is the arena's last: the frame goes right behind it. */
	b = (uint8_t *)v->gso_iov[m].iov_base + v->gso_iov[m].iov_len;
	vxlan_hdr_build(b, vni);
	vx_frame_to(pk, b + VXLAN_HLEN, VX_GSO_ARENA - (size_t)(b - v->gso_buf) - VXLAN_HLEN);
	v->gso_used += seg;
	v->gso_iov[m].iov_len += seg;
	v->gso_meta[m].inner_bytes += pk->len;
	v->gso_meta[m].segs++;
	return true;
}

/*
 * A finished frame (no offload request) in @vni to remote @r through the
 * GSO sockets, while GSO is on: appended to the round's last GSO payload
 * when that one is open (built here), goes to @r through the same socket
 * with the same TOS, and its datagrams are this frame's size (UDP_SEGMENT
 * cuts equal pieces: @joins, vx_gso_joins()'s answer) and it has room,
 * else the first datagram of a payload of its own.
 * So a burst of one flow's frames of one size (64-byte frames, a TCP
 * stream's pure ACKs) leaves as one UDP_SEGMENT send: one packet through
 * the kernel's UDP and IP output down to the device that cuts it, and one
 * GRO read on a receiving vsw, where the raw socket took one trip
 * through the stack per frame.  A flow keeps its socket (vx_sport()), so
 * its frames stay in order.
 */
static void vx_gso_small(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *pk, uint32_t vni,
			 unsigned r, const struct vx_flow_out *fo, bool joins, unsigned *sent, uint64_t *bytes,
			 unsigned drops[DROP__COUNT])
{
	unsigned m = v->gso_m - 1, sock = fo->sock;
	uint16_t sport = fo->sport;
	int tos = fo->tos;
	size_t seg = VXLAN_HLEN + pk->len;
	struct vxlan_gso_msg gm;
	uint8_t *b;

	if (joins && v->gso_iov[m].iov_len + seg <= VXLAN_GSO_BYTES &&
	    VX_GSO_ARENA - v->gso_used >= seg) {
		/* The open payload is the arena's last: the frame goes right behind it. */
		b = (uint8_t *)v->gso_iov[m].iov_base + v->gso_iov[m].iov_len;
		vxlan_hdr_build(b, vni);
		vx_frame_to(pk, b + VXLAN_HLEN, VX_GSO_ARENA - (size_t)(b - v->gso_buf) - VXLAN_HLEN);
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
	vx_frame_to(pk, b + VXLAN_HLEN, VX_GSO_ARENA - (size_t)(b - v->gso_buf) - VXLAN_HLEN);
	gm = (struct vxlan_gso_msg){ .len = seg, .inner_bytes = pk->len, .seg_bytes = (uint16_t)seg, .segs = 1 };
	vx_gso_msg(v, v->gso_m++, b, &gm, r, &v->vt.remotes[r].addr, sock, sport, tos);
	v->gso_used += seg;
	v->gso_open = true;
}

/*
 * remote=flow: the destination of frame @pk, its tun_dst or, on an IPv6
 * underlay, its tun_ipv6_dst (set by the flows: set_field:IP->tun_dst,
 * set_field:IP6->tun_ipv6_dst; kept from the tunnel a frame came in),
 * into message @m's address; false when it has none the port may send to:
 * no tunnel metadata, only an address of the other family, or one a
 * static remote= would be refused (vtep_remote_refused(): unspecified,
 * broadcast, multicast, the port's own local=).  That is the
 * `no_tunnel_dst` drop, as Open vSwitch drops a packet to a
 * remote_ip=flow port without one; never sent to a wrong address.  A
 * flow may write any address into tun_dst (a constant, a move from a
 * field the sender chose); this is where it is checked.
 */
static bool vx_flow_dst(struct vx_port *v, unsigned m, const struct pkt *pk)
{
	if (!(pk->flags & PKT_F_TUNNEL) || pk->tun.ipv6 != v->ipv6)
		return false;
	if (!v->ipv6) {
		v->tx_to[m].v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = pk->tun.dst.v4 };
	} else {
		v->tx_to[m].v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6 };
		memcpy(&v->tx_to[m].v6.sin6_addr, pk->tun.dst.v6, 16);
	}
	return !vtep_remote_refused(&v->tx_to[m], &v->local);
}

/* remote=flow: a burst's last destination and its frame limit (a burst mostly goes to one VTEP: one cache lookup). */
struct vx_mtu_memo {
	uint64_t key[2];	/* 0, 0: none yet (no destination is that) */
	unsigned max;
};

/*
 * remote=flow: does frame @pk fit the path to its destination @dst?  The
 * cache's limit for it (vxlan_mtu_dst_max(): a miss takes the port's and
 * is asked for), through *@memo.  When it does not: a too_big drop,
 * answered with that limit (port_tx_too_big()), false.
 */
static bool vx_flow_fits(struct vx_port *v, struct port_io *io, struct pkt *pk, const union vtep_addr *dst,
			 struct vx_mtu_memo *memo, uint32_t now_s, unsigned drops[DROP__COUNT])
{
	uint64_t key[2];

	vxlan_mtu_key(dst, v->ipv6, key);
	if (key[0] != memo->key[0] || key[1] != memo->key[1]) {
		memo->max = vxlan_mtu_dst_max(&v->mtu, key, now_s);
		memo->key[0] = key[0];
		memo->key[1] = key[1];
	}
	if (!memo->max || gso_wire_len(pk) <= memo->max)
		return true;
	drops[DROP_TOO_BIG]++;
	port_tx_too_big(io, &v->port, pk, memo->max);
	return false;
}

/*
 * remote=flow: frame @pk in @vni to its tun_dst, as message *@m (the raw
 * socket's) or GSO payloads, if it fits the path there (checked when it
 * is over @fit, vx_flow_fits()); the same order rules as vx_tx_burst()'s.
 */
static void vx_tx_flow(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *pk, uint32_t vni,
		       unsigned fit, struct vx_mtu_memo *memo, uint32_t now_s, unsigned *m, unsigned *sent,
		       unsigned *built, uint64_t *bytes, unsigned drops[DROP__COUNT])
{
	if (*m == PKT_BURST) {
		*sent += vx_send(v, io, clk, *m, bytes, drops);
		*m = 0;
	}
	if (!vx_flow_dst(v, *m, pk)) {
		drops[DROP_NO_TUNNEL_DST]++;
		return;
	}
	if (pk->len > fit && !vx_flow_fits(v, io, pk, &v->tx_to[*m], memo, now_s, drops))
		return;
	if (v->n_gso && gso_wanted(pk)) {
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
 * Does frame @pk fit the paths to its destination: remote *@r alone
 * (*@to 0), or the flood mask *@to (*@need copies)?  Each copy too big
 * for its remote's limit (vxlan_mtu_remote_max()) is a too_big drop and
 * leaves the mask; the frame is answered once (port_tx_too_big()) with the
 * smallest limit it was over.  *@r, *@to, *@need are what is left; false
 * when nothing is.  Only for a frame over fit_all: the loop over a flood's
 * remotes is what its copies cost anyway.
 */
static bool vx_fits(struct vx_port *v, struct port_io *io, struct pkt *pk, int *r, uint32_t *to, unsigned *need,
		    unsigned drops[DROP__COUNT])
{
	unsigned wire = gso_wire_len(pk), over = 0;

	if (!*to) {
		unsigned lim = vxlan_mtu_remote_max(&v->mtu, (unsigned)*r);

		if (!lim || wire <= lim)
			return true;
		drops[DROP_TOO_BIG]++;
		port_tx_too_big(io, &v->port, pk, lim);
		return false;
	}
	for (uint32_t rest = *to; rest; rest &= rest - 1) {
		unsigned rr = (unsigned)__builtin_ctz(rest), lim = vxlan_mtu_remote_max(&v->mtu, rr);

		if (!lim || wire <= lim)
			continue;
		*to &= ~(1u << rr);
		drops[DROP_TOO_BIG]++;
		if (!over || lim < over)
			over = lim;
	}
	if (!over)
		return true;
	port_tx_too_big(io, &v->port, pk, over);
	*need = (unsigned)__builtin_popcount(*to);
	*r = *to ? __builtin_ctz(*to) : 0;
	return *to != 0;
}

/*
 * Raw message @m for finished frame @pk (vx_tx_plain()'s and
 * vx_tx_gather()'s: no tag to strip) to @dst from @sport, the socket's
 * TOS (a caller gives a frame with an ECN field its own after:
 * vx_tos_cmsg()), behind header bytes @vxh (their sum @vxh_sum); with @csum4
 * (IPv4, csum=on) its outer checksum from @psum, @dst's pseudo header
 * but its length.  False when it cannot go (too many segments, too big
 * for one datagram): vx_tx_burst()'s too_big drop.
 */
static inline __attribute__((always_inline)) bool vx_raw_msg(struct vx_port *v, unsigned m, struct pkt *pk,
							     const union vtep_addr *dst, uint16_t sport,
							     const uint8_t vxh[VXLAN_HLEN], uint32_t vxh_sum,
							     bool csum4, uint32_t psum)
{
	uint8_t *h = v->tx_hdr[m];
	struct iovec *iov = v->tx_iov[m];
	struct msghdr *mh = &v->msgs[m].msg_hdr;
	uint32_t udp_len = VX_HDR_LEN + pk->len, hsum;
	int nseg = pkt_segs(pk, &iov[1], VX_TX_IOV);

	if (nseg < 0 || udp_len > 65535)
		return false;
	hsum = vx_udp_hdr(v, h, sport, udp_len) + vxh_sum;
	memcpy(h + VXLAN_UDP_HLEN, vxh, VXLAN_HLEN);
	iov[0] = (struct iovec){ h, VX_HDR_LEN };
	mh->msg_name = (void *)dst;
	mh->msg_iovlen = (size_t)nseg + 1;
	vx_tos_cmsg(v, m, -1); /* the socket's TOS (a caller gives a frame with an ECN field its own after) */
	if (csum4) {
		/* The datagram's sum (a small frame whole in its head: csum_add64()), the pseudo header's, folded once. */
		const uint8_t *head = pkt_head(pk);
		uint32_t sum = pk->len == pk->head_len && csum_small64(pk->len) ? csum_add64(hsum, head, pk->len)
			       : nseg == 1 ? csum_add(hsum, iov[1].iov_base, iov[1].iov_len)
					   : csum_add_iov(hsum, &iov[1], (unsigned)nseg, 0, pk->len, NULL);
		uint64_t acc = (uint64_t)sum + psum + htons((uint16_t)udp_len); /* the pseudo header's length */
		uint16_t c = csum_finish_l4_64(acc, CSUM_UDP_OFFSET);

		memcpy(h + 6, &c, 2);
	}
	return true;
}

/*
 * The remote a frame to inner destination @mac in the port's one VNI
 * @vni goes to (the one it is known behind, or a flood list of one: an
 * unknown destination on a point-to-point tunnel); -1 when it floods to
 * none or to several (vx_tx_burst()'s, which makes the copies).
 */
static inline int vx_plain_remote(struct vx_port *v, uint32_t vni, uint64_t mac, uint32_t now_s)
{
	int r = vtep_lookup(&v->vt, vni, mac, now_s);

	if (r < 0) {
		/* Flooded: one remote in the list (the VNI's, else the port's) is one message too. */
		uint32_t to = vtep_flood_mask(&v->vt, vni);

		if (!to)
			to = vtep_port_flood(&v->vt);
		if (!to || (to & (to - 1)))
			return -1;
		r = __builtin_ctz(to);
	}
	return r;
}

/*
 * The common frames at the head of a burst, in a loop of their own, with
 * UDP GSO off (vx_tx_gather()'s with it on): on a port with one VNI,
 * static remotes, no vlan_vni= and no tos=inherit, a finished frame (no
 * offload request; one with an ECN field gets its outer TOS as a control
 * message, vx_ecn_tos()) that fits every path, to one remote
 * (vx_plain_remote()), through the raw socket.  Messages [@m0, @m0 +
 * return) built for frames [0, return): it stops at the first frame that
 * is not such (vx_tx_burst() takes it, and tries again after it) or when
 * the messages are full.  The port's settings are read once into locals: vx_tx_burst()'s
 * loop reloaded them after each header store (a store through a byte
 * pointer may alias them), and its tests for the rare cases were most of
 * the ~260 instructions a frame (callgrind on bench_vxlan, csum=off).
 */
static unsigned vx_tx_plain(struct vx_port *v, struct pkt *const *pkts, unsigned n, unsigned fit, uint32_t now_s,
			    unsigned m0)
{
	const uint32_t vni = v->vni;
	const uint16_t lo = v->sport_lo, hi = v->sport_hi;
	/* The outer source ports (vx_ports_pick()), read once. */
	const unsigned np = v->n_ports;
	const uint16_t *const ports = v->gso_sport;
	const bool csum4 = v->csum && !v->ipv6;
	const int dscp = v->tos;	/* with a frame's ECN field its outer TOS (vx_ecn_tos()) */
	uint8_t vxh[VXLAN_HLEN];
	const uint32_t vxh_sum = vxlan_hdr_build(vxh, vni);	/* the same 8 bytes every frame */
	const union vtep_addr *dst = NULL;
	uint64_t last_mac = 0;
	uint32_t psum = 0;	/* dst's pseudo header but its length (csum4) */
	unsigned m = 0;

	if (n > PKT_BURST - m0)
		n = PKT_BURST - m0;
	for (; m < n; m++) {
		struct pkt *pk = pkts[m];
		uint64_t mac = vtep_mac(pkt_head(pk));
		unsigned ecn;

		if (gso_wanted(pk) || pk->len > fit)
			break;
		if (mac != last_mac || !dst) {
			int r = vx_plain_remote(v, vni, mac, now_s);

			if (r < 0)
				break;
			dst = &v->vt.remotes[r].addr;
			last_mac = mac;
			if (csum4)
				psum = csum_pseudo_ipv4(&v->local.v4.sin_addr, &dst->v4.sin_addr, IPPROTO_UDP, 0);
		}
		if (!vx_raw_msg(v, m0 + m, pk, dst, vx_ports_pick(np, ports, lo, hi, vxlan_flow_hash(pk)), vxh, vxh_sum,
				csum4, psum))
			break; /* vx_tx_burst() drops it */
		ecn = vx_inner_ecn(pkt_head(pk), pk->head_len);
		if (__builtin_expect(ecn, 0))
			vx_tos_cmsg(v, m0 + m, dscp | (int)ecn); /* its TOS, vx_ecn_tos()'s */
	}
	return m;
}

/*
 * vx_tx_gather()'s ways of the frames it takes: each frame's GSO socket and
 * remote, each socket's frames as a list in the burst's order.  A list of
 * frames, not of runs: a burst of many flows puts frames of one socket far
 * apart, each a run of its own, and pass 2's work a run was ~50
 * instructions a frame there (callgrind, bench_vxlan -u -f 64).
 */
struct vx_gather {
	/* 16-bit indices, not bytes: a store through a char type may alias anything, and made the loops reload */
	uint32_t key[PKT_BURST];	/* each frame's size and remote (vx_gather_key()) */
	uint16_t sock[PKT_BURST];	/* and socket */
	uint16_t next[PKT_BURST];	/* the socket's next frame (PKT_BURST: none) */
	uint16_t head[VX_GSO_SOCKS], tail[VX_GSO_SOCKS];
	uint32_t used;		/* sockets with frames */
	uint32_t glued;		/* sockets with a frame that follows one of its size and remote: GSO payloads */
};

/* A frame's size and remote in one word: frames of one key go into one payload (lengths fit 24 bits: two fit a payload). */
static inline uint32_t vx_gather_key(uint32_t len, unsigned r)
{
	return len << 8 | r;
}

/* The remote of a vx_gather_key(). */
static inline unsigned vx_gather_key_remote(uint32_t key)
{
	return key & 0xff;
}

/* The size of a vx_gather_key(). */
static inline unsigned vx_gather_key_len(uint32_t key)
{
	return key >> 8;
}

/*
 * Pass 1 of vx_tx_gather(): the ways of frames [0, return) of @pkts (@n,
 * at most PKT_BURST) into *@g.  Stops where vx_tx_plain() does, at a
 * frame two of which would not fit one payload, or where the arena could
 * not hold the payloads (each frame's datagram, a line's alignment, the
 * 64 bytes of the last frame's fixed copy, after what the round holds).
 * After two frames of one size and hash in a row, the next frames of that
 * flow take its way without a hash of their own (vxlan_flow4_is(), ~15
 * instructions against ~45).
 */
static unsigned vx_gather_ways(struct vx_port *v, struct pkt *const *pkts, unsigned n, unsigned fit, uint32_t now_s,
			       struct vx_gather *g)
{
	const uint32_t vni = v->vni;
	const unsigned n_gso = v->n_gso;
	uint64_t last_mac = 0;
	size_t bytes = v->gso_used + 64;
	struct vxlan_flow4 f;
	bool have_f = false;
	unsigned i = 0, s = 0, flen = 0, run_s = VX_GSO_SOCKS;	/* run_s, run_key: the way of the frame before */
	uint32_t last_hash = 0, glued = 0, used = 0, run_key = 0;
	int r = -1;

	for (; i < n; i++) {
		struct pkt *pk = pkts[i];
		uint64_t mac = vtep_mac(pkt_head(pk));
		uint32_t key, bit;

		/* (and two frames to a payload at least: a larger one is vx_tx_burst()'s) */
		if (gso_wanted(pk) || pk->len > fit || 2 * (VXLAN_HLEN + pk->len) > VXLAN_GSO_BYTES)
			break;
		bytes += VXLAN_HLEN + pk->len + 63;
		if (bytes > VX_GSO_ARENA)
			break;
		if (mac != last_mac || r < 0) {
			r = vx_plain_remote(v, vni, mac, now_s);
			if (r < 0)
				break;
			last_mac = mac;
		}
		if (!have_f || pk->len != flen || !vxlan_flow4_is(&f, pk)) {
			uint32_t hash = vxlan_flow_hash(pk);

			s = vx_hash_sock(n_gso, hash);
			/* Two frames of one size and hash in a row: a flow, whose next frames compare with this one. */
			have_f = false;
			if (hash == last_hash && i && pk->len == pkts[i - 1]->len)
				have_f = vxlan_flow4_of(&f, pk);
			flen = pk->len;
			last_hash = hash;
		}
		key = vx_gather_key(pk->len, (unsigned)r);
		bit = 1u << s;
		g->key[i] = key;
		g->sock[i] = (uint16_t)s;
		if (s == run_s && key == run_key) {
			/* the way of the frame before (a flow's frames in a row): its socket's tail, known */
			g->next[i - 1] = (uint16_t)i;
			glued |= bit;
		} else {
			if (used & bit) {
				unsigned t = g->tail[s];

				g->next[t] = (uint16_t)i;
				if (g->key[t] == key)
					glued |= bit;
			} else {
				used |= bit;
				g->head[s] = (uint16_t)i;
			}
			run_s = s;
			run_key = key;
		}
		g->tail[s] = (uint16_t)i;
	}
	for (uint32_t u = used; u; u &= u - 1)
		g->next[g->tail[__builtin_ctz(u)]] = PKT_BURST;
	g->used = used;
	g->glued = glued;
	return i;
}

/*
 * GSO message of the round for the payload of @segs datagrams of @len-byte
 * frames at @base (@plen bytes) to remote @r by socket @s, outer TOS @tos
 * (-1: the socket's).
 */
static void vx_gather_msg(struct vx_port *v, uint8_t *base, size_t plen, unsigned segs, unsigned len, unsigned r,
			  unsigned s, int tos)
{
	struct vxlan_gso_msg gm = { .len = plen, .inner_bytes = (size_t)segs * len,
				    .seg_bytes = (uint16_t)(VXLAN_HLEN + len), .segs = segs };

	vx_gso_msg(v, v->gso_m++, base, &gm, r, &v->vt.remotes[r].addr, s, v->gso_sport[s], tos);
	v->gso_used += plen;
}

/*
 * Pass 2 of vx_tx_gather(): socket @s's frames (*@g) as UDP_SEGMENT
 * payloads in the arena, each of frames of one size to one remote with
 * one inner ECN field, the payload's outer TOS (at
 * most VXLAN_GSO_SEGS_MAX datagrams, VXLAN_GSO_BYTES), each datagram its
 * VXLAN header @vxh and the frame; the GSO messages of the round.  The
 * payloads are built one after the other, each contiguous, the socket's
 * frames in the burst's order.
 */
static void vx_gather_payloads(struct vx_port *v, struct pkt *const *pkts, const struct vx_gather *g, unsigned s,
			       const uint8_t vxh[VXLAN_HLEN])
{
	uint8_t *const arena = v->gso_buf;
	uint8_t *base = NULL, *b = NULL;
	size_t seg = 0;
	unsigned segs = 0, most = 0, r = 0, len = 0, ecn = 0;
	uint32_t key = UINT32_MAX;	/* no frame's: the first opens a payload */

	for (unsigned i = g->head[s]; i < PKT_BURST; i = g->next[i]) {
		const struct pkt *pk = pkts[i];
		uint32_t k = g->key[i];
		unsigned e = vx_inner_ecn(pkt_head(pk), pk->head_len);	/* one outer TOS a payload: vx_ecn_tos() */

		if (k != key || segs == most || e != ecn) {
			if (segs)
				vx_gather_msg(v, base, (size_t)(b - base), segs, len, r, s, vx_ecn_tos(v, ecn));
			v->gso_used = (v->gso_used + 63) & ~(size_t)63;
			base = b = arena + v->gso_used;
			segs = 0;
			key = k;
			r = vx_gather_key_remote(k);
			len = vx_gather_key_len(k);
			ecn = e;
			seg = VXLAN_HLEN + len;
			most = VXLAN_GSO_BYTES / (unsigned)seg;
			if (most > VXLAN_GSO_SEGS_MAX)
				most = VXLAN_GSO_SEGS_MAX;
		}
		/*
		 * vx_frame_to() without its room test (the budget of
		 * vx_gather_ways() leaves 64 bytes past any frame) nor its
		 * reloads: ~12 of ~120 instructions a frame of one flow.
		 */
		memcpy(b, vxh, VXLAN_HLEN);
		if (len <= 64 && pk->head_len == len)
			pkt_copy64(b + VXLAN_HLEN, pkt_head(pk));
		else
			pkt_to_buf(pk, b + VXLAN_HLEN, len);
		b += seg;
		segs++;
	}
	if (segs)
		vx_gather_msg(v, base, (size_t)(b - base), segs, len, r, s, vx_ecn_tos(v, ecn));
}

/*
 * The common frames at the head of a burst (vx_tx_plain()'s) with UDP GSO
 * on, gathered by the GSO socket their flow's hash picks, whatever flow
 * each is: a socket's frames of one size to one remote make one
 * UDP_SEGMENT payload, which the kernel cuts into datagrams that each
 * carry that socket's source port, as each would alone.  So a burst of
 * many inner flows (64-byte frames of many sources, many TCP streams'
 * ACKs) leaves in a send a socket, one trip through the kernel's UDP and
 * IP output a payload, where the raw socket took one a frame; the frames
 * of one flow are the case of one socket.  A socket none of whose
 * frames follows one of its size and remote (nothing to glue) sends its
 * frames through the raw socket, in its one sendmmsg: a send of its own
 * would cost more than it saves (but for a socket with messages in the
 * round already: they go first).
 * Order: a flow's frames all take its socket; a socket's frames stay in
 * the burst's order, all on one way here (its payloads, built and sent
 * in order, or the raw batch), so each flow's do.  With what the
 * batches held before, vx_tx_burst()'s rule: a socket with messages in
 * the round stays on it, and the raw batch is sent first (through
 * @io, @clk: *@sent, *@bytes) when it holds a frame of a socket that
 * goes into the round.  At a burst's start, and again after each frame
 * vx_tx_burst() takes: returns the frames taken, [0, return): raw
 * messages from *@m on (*@m grown), their sockets added to *@raw_socks,
 * the rest appended to the GSO round; the datagrams made added to
 * *@built, frames it could not send counted in @drops.
 */
static unsigned vx_tx_gather(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *const *pkts,
			     unsigned n, unsigned fit, uint32_t now_s, unsigned *m, uint32_t *raw_socks, unsigned *built,
			     unsigned *sent, uint64_t *bytes, unsigned drops[DROP__COUNT])
{
	const bool csum4 = v->csum && !v->ipv6;
	uint8_t vxh[VXLAN_HLEN];
	const uint32_t vxh_sum = vxlan_hdr_build(vxh, v->vni);
	const unsigned m0 = v->gso_m, room = PKT_BURST - (*m > m0 ? *m : m0);
	struct vx_gather g;
	unsigned k, raw, segs = 0;
	int last_r = -1;
	uint32_t psum = 0, glued;

	/* At most a message a frame on either way: both have room for all */
	k = vx_gather_ways(v, pkts, n < room ? n : room, fit, now_s, &g);
	glued = g.glued | (g.used & v->gso_socks);
	if (*m && (glued & *raw_socks)) {
		/*
		 * Frames of a socket that goes into the round wait in the raw
		 * batch (before a frame vx_tx_burst() took): the batch goes
		 * first, as the round may be flushed before it (a frame of no
		 * known socket, a full arena).
		 */
		*sent += vx_send(v, io, clk, *m, bytes, drops);
		*m = 0;
		*raw_socks = 0;
	}
	raw = *m;
	/* The lone ways' frames, in the burst's order, through the raw socket. */
	for (unsigned i = 0; i < k && (g.used & ~glued); i++) {
		unsigned s = g.sock[i], r = vx_gather_key_remote(g.key[i]);
		const union vtep_addr *dst = &v->vt.remotes[r].addr;

		if (glued & 1u << s)
			continue;
		if (csum4 && (int)r != last_r) {
			psum = csum_pseudo_ipv4(&v->local.v4.sin_addr, &dst->v4.sin_addr, IPPROTO_UDP, 0);
			last_r = (int)r;
		}
		if (!vx_raw_msg(v, raw, pkts[i], dst, v->gso_sport[s], vxh, vxh_sum, csum4, psum)) {
			drops[DROP_TOO_BIG]++;
			continue;
		}
		{
			unsigned ecn = vx_inner_ecn(pkt_head(pkts[i]), pkts[i]->head_len);

			if (ecn)
				vx_tos_cmsg(v, raw, vx_ecn_tos(v, ecn));
		}
		raw++;
	}
	for (uint32_t socks = glued; socks; socks &= socks - 1)
		vx_gather_payloads(v, pkts, &g, (unsigned)__builtin_ctz(socks), vxh);
	for (unsigned i = m0; i < v->gso_m; i++)
		segs += v->gso_meta[i].segs;
	if (v->gso_m != m0)
		v->gso_open = false; /* the round's last payload is one of these, closed */
	*built += raw - *m + segs;
	*m = raw;
	*raw_socks |= g.used & ~glued;
	return k;
}

/*
 * Each frame to the remote its inner destination was learned (or set)
 * behind, else, a broadcast, multicast or unknown unicast, to every remote
 * of its VNI's flood list, or of the port's when the VNI has none
 * (VX_FLOOD_COPIES a burst); with remote=flow, to its tun_dst alone (no
 * table, no flood list: the flows decide, flood and normal included); as
 * many sendmmsg as the messages take, PKT_BURST at a time.
 */
void vx_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct vx_port *v = vx_of(p);
	unsigned drops[DROP__COUNT] = { 0 }, m = 0, sent = 0, copies = 0, built = 0;
	uint32_t port_flood = vtep_port_flood(&v->vt);
	uint32_t now_s = vtep_now_s();
	unsigned fit = atomic_load_explicit(&v->mtu.fit_all, memory_order_relaxed);	/* frames up to it fit anywhere */
	struct vx_mtu_memo memo = { { 0, 0 }, 0 };
	uint64_t bytes = 0;
	struct vx_clock clk = { 0, 0, false };
	struct vx_dest last = { .vni = UINT32_MAX };	/* no VNI is that: nothing matches before the first lookup */
	struct vx_flow_out ahead = { .sock = VX_GSO_SOCKS };	/* frame ahead_i's way, when vx_gso_run() worked it out */
	unsigned ahead_i = 0;
	uint32_t raw_socks = 0;	/* the GSO sockets of the flows with messages m holds (all: one of no known socket) */
	int sock, sport;	/* the frame's GSO socket and outer port when worked out, else -1 */
	const bool plain = !v->map && !v->remote_flow && !v->vni_flow && !v->tos_inherit;
	unsigned common = 0;	/* the common frames' loops are tried again from frame `common` on */

	pthread_spin_lock(&v->tx_lock);
	clk.t = dp_perf_note_start(io->perf);
	for (unsigned i = 0; i < n; i++) {
		if (plain && i >= common) {
			/* The common frames in their own loops, from the burst's start and after each frame they left to the rest below. */
			if (vx_gso_on(v)) {
				i += vx_tx_gather(v, io, &clk, pkts + i, n - i, fit, now_s, &m, &raw_socks, &built, &sent,
						  &bytes, drops);
			} else if (!v->gso_m) {
				/* GSO off: not while a round waits (refused in this burst): the loop below sends it first */
				unsigned k = vx_tx_plain(v, pkts + i, n - i, fit, now_s, m);

				i += k;
				m += k;
				built += k;
				raw_socks = ~0u;
			}
			common = i + 1;
			if (i >= n)
				break;
		}
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
			vx_tx_flow(v, io, &clk, pk, vni, fit, &memo, now_s, &m, &sent, &built, &bytes, drops);
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
		/* Each remote's own path MTU: copies too big for theirs out, the frame answered once. */
		if (pk->len > fit && !vx_fits(v, io, pk, &r, &to, &need, drops))
			continue;
		if (need > 1) {
			if (copies + need > VX_FLOOD_COPIES) {
				drops[DROP_FLOOD_BUDGET]++;
				continue;
			}
			copies += need;
		}
		if (v->n_gso && gso_wanted(pk)) {
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
			bool joins;

			if (ahead.sock < VX_GSO_SOCKS && i == ahead_i)
				fo = ahead;
			else
				vx_flow_out(v, pk, &fo);
			sock = (int)fo.sock;
			sport = fo.sport;
			if (vx_gso_run(v, pkts, n, i, (unsigned)r, mac, vni, &fo, &ahead, &joins)) {
				ahead_i = i + 1;
				if (m && (raw_socks & 1u << fo.sock)) {
					/* in order: a flow's frames the raw socket holds go first */
					sent += vx_send(v, io, &clk, m, &bytes, drops);
					m = 0;
					raw_socks = 0;
				}
				vx_gso_small(v, io, &clk, pk, vni, (unsigned)r, &fo, joins, &sent, &bytes, drops);
				built++;
				/*
				 * The run's next frames straight after: of this size, destination
				 * and VNI (this frame's remote), each joining the open payload
				 * (vx_gso_joins()), as this loop's top would find; the first
				 * that does not goes round it, its way kept in ahead.  A frame
				 * of the flow of the one before (vxlan_flow4_is(), which
				 * compares the TOS byte too: the same ECN field, so the same
				 * outer TOS without tos=inherit) has that one's way, and the open payload is
				 * that flow's (each frame of the run joined it or opened it):
				 * it joins while the payload has fewer than the most
				 * datagrams.  GSO checked again only after a send
				 * (vx_gso_small() may flush and find it refused).
				 */
				bool gso_ok = vx_gso_on(v);

				while (gso_ok && i + 1 < n) {
					struct pkt *nx = pkts[i + 1];
					struct vx_flow_out nf;
					struct vxlan_flow4 f4;

					if (nx->len != pk->len || gso_wanted(nx) || vtep_mac(pkt_head(nx)) != mac ||
					    vx_tx_vni(v, nx) != vni)
						break;
					if (!v->tos_inherit && vxlan_flow4_of(&f4, pkts[i]) && vxlan_flow4_is(&f4, nx)) {
						nf = fo;
						if (v->gso_meta[v->gso_m - 1].segs >= VXLAN_GSO_SEGS_MAX) {
							ahead = nf;
							ahead_i = i + 1;
							break;
						}
					} else {
						if (ahead.sock < VX_GSO_SOCKS && ahead_i == i + 1)
							nf = ahead;
						else
							vx_flow_out(v, nx, &nf);
						if (!vx_gso_joins(v, &nf, (unsigned)r, VXLAN_HLEN + nx->len)) {
							ahead = nf;
							ahead_i = i + 1;
							break;
						}
						fo = nf;
					}
					i++;
					built++;
					if (!vx_gso_append(v, nx, vni)) {
						vx_gso_small(v, io, &clk, nx, vni, (unsigned)r, &nf, true, &sent, &bytes, drops);
						gso_ok = vx_gso_on(v);
					}
				}
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
	if (!m && !v->gso_m && io->perf)
		clk.encap += dp_tsc() - clk.t; /* the stretch since the last send, which no send closes */
	clk.last = !v->gso_m;
	sent += vx_send(v, io, &clk, m, &bytes, drops);
	clk.last = true;
	sent += vx_gso_flush(v, io, &clk, &bytes, drops);
	if (io->perf)
		dp_perf_add(io->perf, DP_PT_ENCAP, clk.encap, built);
	pthread_spin_unlock(&v->tx_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	port_count_drops(p, drops);
}
