/* port_vxlan_rx.c - VXLAN port, receive: datagrams from remote VTEPs checked and decapsulated into frames for the switch; UDP GRO buffers cut apart and merged. */
#include "port/port_vxlan_int.h"

#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/perf.h"
#include "packet/csum.h"
#include "packet/ecn.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"
#include "port/vtep.h"

/*
 * A datagram's way in (port_vxlan.c's opening comment says why):
 *
 *   recvmmsg --> a slot of 64 KiB: one datagram, or (UDP GRO) several of one flow and their size
 *     vx_rx_msg_start()   the message as a whole: not truncated, from a known remote VTEP
 *     vxlan_gro_split()   GRO: the slot cut into its datagrams
 *     vx_rx_check()       each datagram: VXLAN header, VNI (vlan_vni=: its VLAN); the inner frame a view into the slot
 *     vxlan_gro_merge()   a run of one flow's inner TCP segments made one TSO frame (views in rx_miov):
 *                         a GRO slot's, or without GRO the messages' of one burst (vx_rx_run())
 *     vx_rx_deliver()     tunnel metadata, the VLAN's tag, the inner source learned behind its VTEP
 *   --> pkts[] for the switch; a slot's datagrams past the burst wait there for the next one
 */

/*
 * The tunnel metadata of a frame that came in (PKT_F_TUNNEL) in @vni from
 * the VTEP @src: whoever sets the flag fills every field.  Inline: a call
 * a frame was half its cost.
 */
static inline void vx_tun_meta(const struct vx_port *v, struct pkt *pk, uint32_t vni, const union vtep_addr *src)
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

/*
 * Inner frames a merge looks at (a GRO slot's run, vx_rx_run()'s):
 * untagged IPv4 (no options) or IPv6 TCP, of at least their headers
 * (@len).  The TCP header's offset in *@t.  Cheap tests on the way to
 * vxlan_gro_merge(), which checks everything itself: they only keep what
 * cannot merge (other frames, pure ACKs, another stream) from costing it
 * a checksum.
 */
static inline bool vx_inner_tcp_at(const uint8_t *f, size_t len, size_t *t)
{
	if (len >= PKT_ETH_HLEN + 20 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[14] == 0x45 && f[23] == 6)
		*t = PKT_ETH_HLEN + 20;
	else if (len >= PKT_ETH_HLEN + 40 + 20 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 6)
		*t = PKT_ETH_HLEN + 40;
	else
		return false;
	return true;
}

/* Could inner frame @f open a run of merged messages: TCP with payload, ACK its only flag (PSH ends a run)? */
static inline bool vx_rx_opens(const uint8_t *f, size_t len)
{
	size_t t, ip_len, hdr;

	if (!vx_inner_tcp_at(f, len, &t) || f[t + 13] != 0x10)
		return false;
	ip_len = t == PKT_ETH_HLEN + 20 ? (size_t)(f[16] << 8 | f[17]) : 40 + (size_t)(f[18] << 8 | f[19]);
	hdr = t - PKT_ETH_HLEN + (size_t)(f[t + 12] >> 4) * 4;
	return ip_len > hdr;
}

/* Is inner frame @f (@len bytes) of @first's TCP stream (addresses, ports) with ACK and at most PSH as flags? */
static inline bool vx_rx_same_stream(const uint8_t *first, const uint8_t *f, size_t len)
{
	size_t t;

	if (!vx_inner_tcp_at(f, len, &t) || (f[t + 13] & ~0x08) != 0x10 || f[12] != first[12] || f[13] != first[13])
		return false;
	/* IPv4: addresses at 26, ports at 34; IPv6: addresses at 22, ports at 54 (first is of the same family) */
	return t == PKT_ETH_HLEN + 20 ? !memcmp(f + 26, first + 26, 12) : !memcmp(f + 22, first + 22, 36);
}

/*
 * The drop mark vx_rx_ecn() writes over a datagram's VXLAN flags and the
 * reserved bytes after them: the I flag clear (vx_rx_check() drops it),
 * the rest saying why.  Looked for only in a fill that marked one
 * (rx_ecn_marks): a datagram that came so off the wire in such a fill is
 * counted as `ecn` rather than `flags`, dropped either way.
 */
static const uint8_t vx_ecn_mark[4] = { 0x00, 'E', 'C', 'N' };

static inline bool vx_rx_ecn_marked(const uint8_t *d)
{
	return !memcmp(d, vx_ecn_mark, sizeof(vx_ecn_mark));
}

/*
 * RFC 6040 at the egress: message @i's datagrams (one, or its GRO slot's,
 * of @seg bytes each) arrived under an outer ECN field @outer (not
 * Not-ECT): each inner IP header takes the table's codepoint in place
 * (ecn_decap_frame()), before any merge compares them; one to drop gets
 * the drop mark in its VXLAN header (vx_rx_ecn_marked(): vx_rx_check()
 * counts it), unless the VXLAN checks drop it for a reason of their
 * own.  Rare (a router marked, or a peer's ingress copies ECN): out of
 * the loops, which see only what it rewrote.
 */
static inline bool vx_rx_check(const struct vx_port *v, const uint8_t *d, size_t dlen, uint32_t *vni, uint16_t *vid,
			       unsigned bad[VX_RX__COUNT]);

static __attribute__((noinline)) void vx_rx_ecn(struct vx_port *v, unsigned i, unsigned outer, size_t seg)
{
	uint8_t *buf = v->rx_iov[i].iov_base;
	size_t len = v->rx_msgs[i].msg_len;
	bool marked = false;
	unsigned odd = 0;

	if (!seg)
		seg = len;
	for (size_t off = 0; off < len; off += seg) {
		uint8_t *d = buf + off;
		size_t l = len - off < seg ? len - off : seg;

		if (l < VXLAN_HLEN)
			break;
		switch (ecn_decap_frame(d + VXLAN_HLEN, l - VXLAN_HLEN, outer)) {
		case ECN_FRAME_KEEP:
			break;
		case ECN_FRAME_ODD:
			odd++;
			break;
		case ECN_FRAME_MARKED:
			marked = true;
			break;
		case ECN_FRAME_DROP: {
			unsigned spare[VX_RX__COUNT] = { 0 };
			uint32_t vni;
			uint16_t vid;

			/* one the VXLAN checks drop anyway keeps its own reason (another VNI, a tag under vlan_vni=) */
			if (vx_rx_check(v, d, l, &vni, &vid, spare)) {
				memcpy(d, vx_ecn_mark, sizeof(vx_ecn_mark));
				v->rx_ecn_marks++;
			}
			break;
		}
		}
	}
	/* xdp=: the inner frame's sum from the outer check no longer holds (IPv6's traffic class is in it). */
	if (marked && i < 64)
		v->rx_isum_ok &= ~(1ull << i);
	if (odd)
		port_count(&v->rx_ecn_odd, odd);
}

/*
 * The byte of a TOS control message (the port's family's: rx_tos_key)
 * that holds the ECN field: IP_TOS's one byte; IPV6_TCLASS's int's low
 * byte (its first on a little-endian CPU).
 */
static inline unsigned vx_rx_tos_at(const struct vx_port *v)
{
	return v->ipv6 && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? sizeof(int) - 1 : 0;
}

/* Is control message @cm the TOS one of the port's family (its level and type one word: rx_tos_key)? */
static inline bool vx_rx_is_tos(const struct vx_port *v, const struct cmsghdr *cm)
{
	uint64_t key;

	_Static_assert(offsetof(struct cmsghdr, cmsg_type) == offsetof(struct cmsghdr, cmsg_level) + sizeof(int),
		       "a control message's level and type are one word");
	memcpy(&key, &cm->cmsg_level, sizeof(key));
	return key == v->rx_tos_key;
}

/*
 * Message @mh's control messages (the kernel's) the slow way: its GRO
 * datagram size (UDP_GRO) into *@seg and its outer ECN field (of IP_TOS
 * or IPV6_TCLASS) into *@ecn.
 */
static void vx_rx_cmsgs(const struct vx_port *v, const struct msghdr *mh, int *seg, unsigned *ecn)
{
	const unsigned at = vx_rx_tos_at(v);

	*seg = 0;
	*ecn = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(seg, CMSG_DATA(cm), sizeof(int));
		else if (vx_rx_is_tos(v, cm) && cm->cmsg_len >= CMSG_LEN(at + 1))
			*ecn = CMSG_DATA(cm)[at] & ECN_MASK;
	}
}

/*
 * Is message @i a datagram alone whose only control message is its TOS
 * (the common message: no GRO coalescing; xdp='s are written so, their
 * ECN field applied at the fill)?  Then its outer ECN field goes into
 * *@ecn; false for any other (a GRO slot: vx_rx_msg_start()'s).  The TOS
 * control message's level and type compared in one word
 * (vx_rx_is_tos()), its size as CMSG_SPACE(int) (IP_TOS's one byte takes
 * as many), the ECN bits read from one byte (vx_rx_tos_at()): a walk with
 * CMSG_NXTHDR() was ~40 instructions a message (callgrind, bench_vxlan -c
 * off -f 1024).
 */
static inline bool vx_rx_alone(const struct vx_port *v, unsigned i, unsigned *ecn)
{
	const struct cmsghdr *cm = (const struct cmsghdr *)v->rx_cmsg[i].buf;

	_Static_assert(CMSG_SPACE(1) == CMSG_SPACE(sizeof(int)), "IP_TOS's byte takes an int's room");
	if (v->rx_msgs[i].msg_hdr.msg_controllen != CMSG_SPACE(sizeof(int)) || !vx_rx_is_tos(v, cm))
		return false;
	*ecn = CMSG_DATA(cm)[vx_rx_tos_at(v)] & ECN_MASK;
	return true;
}

/*
 * xdp=: message @i's control as vx_rx_alone() reads it, Not-ECT (its
 * outer ECN field was applied at the fill), as if the socket had written
 * it: one TOS control message.
 */
static void vx_rx_alone_write(struct vx_port *v, unsigned i)
{
	struct cmsghdr *cm = (struct cmsghdr *)v->rx_cmsg[i].buf;

	memcpy(&cm->cmsg_level, &v->rx_tos_key, sizeof(v->rx_tos_key));
	cm->cmsg_len = CMSG_LEN(v->ipv6 ? sizeof(int) : 1);
	memset(CMSG_DATA(cm), 0, sizeof(int));
	v->rx_msgs[i].msg_hdr.msg_controllen = CMSG_SPACE(sizeof(int));
}

/* The word vx_rx_alone() compares a control message's level and type with: the TOS's of the port's family. */
static void vx_rx_tos_key(struct vx_port *v)
{
	const int lt[2] = { v->ipv6 ? IPPROTO_IPV6 : IPPROTO_IP, v->ipv6 ? IPV6_TCLASS : IP_TOS };

	memcpy(&v->rx_tos_key, lt, sizeof(v->rx_tos_key));
}

/* The receive messages, once the slots are there and GRO is known: each its slot, address and control buffer. */
void vx_rx_init(struct vx_port *v)
{
	vx_rx_tos_key(v);
	for (unsigned i = 0; i < PKT_BURST; i++) {
		v->rx_msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &v->rx_from[i], .msg_namelen = sizeof(v->rx_from[i]),
			.msg_iov = &v->rx_iov[i], .msg_iovlen = 1,
			.msg_control = v->rx_cmsg[i].buf,
			.msg_controllen = sizeof(v->rx_cmsg[i].buf),
		};
	}
}

/*
 * xdp=: the frames the sockets have, up to @max, as messages [0, n) the
 * way recvmmsg would have written them (the slot a view of the UDP payload
 * in the frame, the source address, the length, no flags, its TOS as
 * control: vx_rx_alone_write()), once
 * each passes what the kernel would have checked (vxlan_outer_parse(): a
 * frame that does not is counted by reason and dropped).  The frames of
 * the fill before go back to the kernel first: their messages are done.
 */
static unsigned vx_rx_fill_xdp(struct vx_port *v, unsigned max)
{
	const uint8_t *local = vx_local_bytes(v);
	unsigned got, n = 0, bad[VXO__COUNT] = { 0 }, nbad = 0;

	vxlan_xdp_recycle(v->xdp, v->rx_xf, v->rx_xn);
	got = v->rx_xn = vxlan_xdp_rx(v->xdp, v->rx_xf, max);
	v->rx_isum_ok = 0;
	for (unsigned i = 0; i < got; i++) {
		struct msghdr *mh = &v->rx_msgs[n].msg_hdr;
		enum vxlan_outer_bad r;
		struct vxlan_outer o;

		r = vxlan_outer_parse(v->rx_xf[i].data, v->rx_xf[i].len, v->ipv6, local, v->dstport, &o);
		if (r != VXO_OK) {
			bad[r]++;
			nbad++;
			continue;
		}
		v->rx_iov[n].iov_base = (void *)o.payload;
		v->rx_msgs[n].msg_len = (unsigned)o.len;
		if (o.sum_ok && o.len >= VXLAN_HLEN) {
			/* The inner frame's sum: the payload's less the VXLAN header's (a merge's checks need no pass). */
			v->rx_isum[n] = csum_sub(o.sum, csum_add(0, o.payload, VXLAN_HLEN));
			v->rx_isum_ok |= 1ull << n;
		}
		mh->msg_flags = 0;
		vx_rx_alone_write(v, n);
		mh->msg_namelen = v->alen;
		if (o.tos & ECN_MASK)
			vx_rx_ecn(v, n, o.tos & ECN_MASK, 0);
		if (v->ipv6) {
			v->rx_from[n].v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(o.sport) };
			memcpy(&v->rx_from[n].v6.sin6_addr, o.src, 16);
			/* A link-local source is of the interface it came in on, as the kernel would say. */
			if (IN6_IS_ADDR_LINKLOCAL(&v->rx_from[n].v6.sin6_addr))
				v->rx_from[n].v6.sin6_scope_id = v->xdp->ifindex;
		} else {
			v->rx_from[n].v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(o.sport) };
			memcpy(&v->rx_from[n].v4.sin_addr, o.src, 4);
		}
		n++;
	}
	if (nbad) {
		for (unsigned r = 1; r < VXO__COUNT; r++)
			if (bad[r])
				port_count(&v->xdp_bad[r], bad[r]);
		/* A martian source as a remote the port does not know (src_ip); the rest as a bad header. */
		if (bad[VXO_SOURCE])
			port_count_drop(&v->port, DROP_SRC_IP, bad[VXO_SOURCE]);
		if (nbad > bad[VXO_SOURCE])
			port_count_drop(&v->port, DROP_BAD_HEADER, nbad - bad[VXO_SOURCE]);
	}
	if (n)
		port_count(&v->xdp_rx, n);
	/* The messages behind [0, n) that were frames' the last time are the slots' again, for recvmmsg. */
	for (unsigned i = n; i < v->rx_xfront; i++)
		v->rx_iov[i].iov_base = v->rx_slots + (size_t)i * VX_RX_SLOT;
	v->rx_xfront = n;
	return n;
}

/*
 * Fill the slots again: recvmmsg of up to @max messages; false when the
 * socket had none.  xdp=: the AF_XDP sockets' datagrams first
 * (vx_rx_fill_xdp()), the UDP socket's behind them (what the program
 * passed to the kernel: a jumbo frame, a fragment, IPv4 options, a queue
 * without a socket).
 */
static bool vx_rx_fill(struct vx_port *v, unsigned max)
{
	unsigned first = 0;
	bool xdp_more = false;
	int got;

	/*
	 * The kernel writes back a message's name and control lengths (and
	 * flags) when it fills it: those two again for the messages the last
	 * fills got (rx_dirty), the rest stays (vx_rx_init()).  Not all @max:
	 * a poll that finds the socket empty would reset them every time.
	 */
	for (unsigned i = 0; i < v->rx_dirty; i++) {
		v->rx_msgs[i].msg_hdr.msg_namelen = sizeof(v->rx_from[i]);
		v->rx_msgs[i].msg_hdr.msg_controllen = sizeof(v->rx_cmsg[i].buf);
	}
	v->rx_dirty = 0;
	v->rx_ecn_marks = 0;
	if (v->xdp) {
		/* A quarter of the burst is the socket's at least, so what the program passed it is read under load too. */
		unsigned ask = max > 4 ? max - max / 4 : max;

		first = vx_rx_fill_xdp(v, ask);
		xdp_more = v->rx_xn == ask;
	}
	got = first < max ? recvmmsg(v->rx_fd, v->rx_msgs + first, max - first, MSG_DONTWAIT, NULL) : 0;
	v->rx_next = 0;
	v->rx_got = v->rx_dirty = first;
	v->rx_off = 0;
	v->rx_r_prev = -1;
	if (got <= 0) {
		v->drained = !xdp_more;
		return first > 0;
	}
	v->drained = (unsigned)got < max - first && !xdp_more;
	v->rx_got = v->rx_dirty = first + (unsigned)got;
	return true;
}

/*
 * Two source addresses of received messages (the kernel's, family checked
 * by vtep_remote_find()) of one host.  IPv4: the first 8 bytes of each
 * (family, port, address) compared in one word, the port masked out (a
 * host's flows come from many outer source ports).
 */
static inline bool vx_same_host(const struct vx_port *v, const union vtep_addr *a, const union vtep_addr *b)
{
	static const uint8_t mask_bytes[8] = { 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff };
	uint64_t wa, wb, mask;

	_Static_assert(offsetof(struct sockaddr_in, sin_family) == 0 && offsetof(struct sockaddr_in, sin_port) == 2 &&
			       offsetof(struct sockaddr_in, sin_addr) == 4,
		       "sockaddr_in: family, port, address in its first 8 bytes");
	if (v->ipv6)
		return a->sa.sa_family == b->sa.sa_family &&
		       !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof(a->v6.sin6_addr));
	memcpy(&wa, &a->v4, 8);
	memcpy(&wb, &b->v4, 8);
	memcpy(&mask, mask_bytes, 8);
	return !((wa ^ wb) & mask);
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
	else if ((v->rx_r = vtep_remote_find(&v->vt, &v->rx_from[i], mh->msg_namelen)) < 0)
		bad[VX_RX_REMOTE]++;
	v->rx_r_prev = v->rx_r;
	if (v->rx_r < 0) {
		v->rx_next++;
		return false;
	}
	v->rx_src = v->remote_flow ? &v->rx_from[i] : &v->vt.remotes[v->rx_r].addr;
	{
		unsigned ecn;
		int seg;

		vx_rx_cmsgs(v, mh, &seg, &ecn);
		v->rx_seg = v->gro && seg > 0 ? (size_t)seg : 0;
		if (ecn)
			vx_rx_ecn(v, i, ecn, v->rx_seg);
	}
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
		bad[v->rx_ecn_marks && vx_rx_ecn_marked(d) ? VX_RX_ECN : VX_RX_FLAGS]++;
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
 * Packet @pk, made from a datagram (its inner frame at @inner) in @vni
 * from remote @r at @src: the tunnel metadata, under vlan_vni= its VLAN's
 * tag (@vid), the learning of its inner source behind that VTEP.
 * Inline in both of vx_rx_burst()'s ways (a call a frame cost ~27
 * instructions of the ~200).
 */
static inline __attribute__((always_inline)) void vx_rx_deliver(struct vx_port *v, struct pkt *pk,
								    const uint8_t *inner, uint32_t vni, uint16_t vid,
								    int r, const union vtep_addr *src,
								    struct vx_rx_state *st)
{
	uint64_t src_mac;

	vx_tun_meta(v, pk, vni, src);
	st->bytes += pk->len;
	if (vid) {
		/* The VNI's VLAN, as a tag in the head: the switch sees a trunk port (PCP 0). */
		pkt_load_head(pk);
		(void)pkt_vlan_push(pk, vid); /* cannot fail: a fresh head has its headroom */
	}
	/* flood-and-learn: the inner source is behind the VTEP the datagram came from */
	src_mac = vtep_mac(inner + 6);
	if (!v->remote_flow &&
	    (src_mac != st->seen.mac || vni != st->seen.vni || r != (int)st->seen.remote)) {
		/* A source asked once a burst (a burst is mostly one stream): one request at most. */
		st->seen = (struct vtep_learn){ .mac = src_mac, .vni = vni, .remote = (uint8_t)r };
		if (vtep_learn_wanted(&v->vt, vni, src_mac, (unsigned)r, st->now_s))
			st->learn[st->nlearn++] = st->seen;
	}
}

/*
 * A run of @run inner TCP segments (@dg, decapsulated, in slots the port
 * owns) made packet @pk when they continue one stream: vxlan_gro_merge()
 * with the views from rx_miov at *@miov_used (moved past them).  Returns
 * how many of the run it took: 1 leaves @pk alone (the first is a packet
 * of its own); *@dropped when the merged frame's request did not pass
 * (counted; cannot be: the merge checked the headers).
 */
static unsigned vx_rx_tso(struct vx_port *v, struct pkt *pk, const struct iovec *dg, const uint32_t *sums, unsigned run,
			  size_t *miov_used, bool *dropped)
{
	struct vxlan_tso tso;
	unsigned k;

	if (*miov_used + run > VX_RX_MIOV)
		return 1;
	k = vxlan_gro_merge_sums(dg, sums, run, v->rx_miov + *miov_used, &tso);
	if (k < 2)
		return 1;
	pkt_rx_init(pk, v->rx_miov + *miov_used, (uint16_t)k, tso.len, v->port.id);
	*miov_used += k;
	pk->csum = PKT_CSUM_PARTIAL;
	pk->csum_start = tso.csum_start;
	pk->csum_offset = tso.csum_offset;
	pk->gso_type = tso.gso_type;
	pk->gso_size = tso.gso_size;
	*dropped = !port_offload_rx_ok(&v->port, pk);
	return k;
}

/*
 * Without the kernel's GRO (an underlay device without it, such as a veth
 * with GRO off; or no UDP_GRO) a TSO frame's segments come as datagrams
 * of their own, one a message: the messages after @i (up to @got) that
 * continue message @i's datagram (@dg0, inner TCP that can open a run:
 * vx_rx_opens(), in @vni, from a host as message @i's) as a run into @dg.
 * Each must be a datagram alone, whole, from the same host, pass the
 * checks (not counted here: a message that fails ends the run and is
 * counted when its turn comes) with the same VNI and hold a segment of
 * the same TCP stream with ACK and at most PSH as flags
 * (vx_rx_same_stream()).  Returns the run's length (1: @dg0 alone).
 */
static unsigned vx_rx_run(struct vx_port *v, unsigned i, unsigned got, const struct iovec *dg0, uint32_t vni,
			  struct iovec *dg)
{
	unsigned run = 1, spare[VX_RX__COUNT] = { 0 }, ecn = 0;

	(void)vx_rx_alone(v, i, &ecn); /* message i's outer ECN field (a datagram alone: vx_rx_plain() saw it) */
	dg[0] = *dg0;
	for (unsigned j = i + 1; j < got && run < VXLAN_GSO_SEGS_MAX; j++, run++) {
		const struct msghdr *mh = &v->rx_msgs[j].msg_hdr;
		size_t len = v->rx_msgs[j].msg_len;
		const uint8_t *d = v->rx_iov[j].iov_base;
		uint32_t vj;
		uint16_t vid;
		unsigned ej;

		/* (an outer ECN field of its own ends the run, as the kernel's GRO flushes on an outer TOS) */
		if (!vx_rx_alone(v, j, &ej) || ej != ecn || (mh->msg_flags & MSG_TRUNC) ||
		    !vx_same_host(v, &v->rx_from[j], &v->rx_from[j - 1]))
			break;
		if (ej)
			vx_rx_ecn(v, j, ej, 0); /* as its own turn would: the table applied twice is applied once */
		if (!vx_rx_check(v, d, len, &vj, &vid, spare) || vj != vni ||
		    !vx_rx_same_stream(dg0->iov_base, d + VXLAN_HLEN, len - VXLAN_HLEN))
			break;
		dg[run] = (struct iovec){ (uint8_t *)d + VXLAN_HLEN, len - VXLAN_HLEN };
	}
	return run;
}

/*
 * Message @i's datagram (@dg0, inner TCP maybe) and the messages after it
 * that continue its TCP stream (vx_rx_run()) as one TSO frame @pk
 * (vx_rx_tso()): how many messages it took (1: none, @pk untouched),
 * *@dropped as vx_rx_tso() says.  Out of vx_rx_plain()'s loop: a
 * datagram that is not TCP pays the two byte tests before the call, not
 * the registers this would take from the loop (~4 cycles a 64-byte UDP
 * datagram's decap when it was inline).
 */
static __attribute__((noinline)) unsigned vx_rx_plain_run(struct vx_port *v, struct pkt *pk, unsigned i, unsigned got,
							    const struct iovec *dg0, uint32_t vni, size_t *miov_used,
							    bool *dropped)
{
	struct iovec dg[VXLAN_GSO_SEGS_MAX];
	uint64_t sums_ok;
	unsigned run;

	if (!vx_rx_opens(dg0->iov_base, dg0->iov_len))
		return 1;
	run = vx_rx_run(v, i, got, dg0, vni, dg);
	if (run < 2)
		return 1;
	/* The inner frames' sums, when every message of the run has one (xdp=, csum on): no pass over them. */
	_Static_assert(PKT_BURST <= 64, "rx_isum_ok has a bit for each message");
	sums_ok = run >= 64 ? ~0ull : ((1ull << run) - 1) << i;
	return vx_rx_tso(v, pk, dg, (v->rx_isum_ok & sums_ok) == sums_ok ? &v->rx_isum[i] : NULL, run, miov_used, dropped);
}

/*
 * The common messages from slot rx_next on, in a loop of their own, the
 * message's state in locals: on a port with static remotes and no
 * vlan_vni=, each a datagram alone (no GRO coalescing: no UDP_GRO control
 * message), checked as vx_rx_msg_start() and vx_rx_check() check it (the
 * same drops, counted in @bad) and made packet pkts[@n...] (up to @max),
 * or with the messages after it that continue its TCP stream (vx_rx_run())
 * one TSO frame (views from rx_miov at *@miov_used; counted in *@merged).
 * Stops at a GRO slot (vx_rx_burst()'s loop cuts it) with rx_next on it.
 * Returns the packets made; *@dgrams counts the datagrams taken.
 */
static unsigned vx_rx_plain(struct vx_port *v, struct pkt *pkts, unsigned n, unsigned max, struct vx_rx_state *st,
			    unsigned bad[VX_RX__COUNT], unsigned *dgrams, size_t *miov_used, unsigned *merged)
{
	const unsigned got = v->rx_got, in_port = v->port.id;
	unsigned i = v->rx_next;
	int r = v->rx_r_prev;	/* message i - 1's remote, -1: none (or dropped) */
	const union vtep_addr *src = r >= 0 ? &v->vt.remotes[r].addr : NULL;

	for (; n < max && i < got; i++) {
		const struct msghdr *mh = &v->rx_msgs[i].msg_hdr;
		size_t len = v->rx_msgs[i].msg_len;
		const uint8_t *d = v->rx_iov[i].iov_base;
		uint32_t vni;
		uint16_t vid;
		unsigned ecn;

		if (!vx_rx_alone(v, i, &ecn))
			break; /* a GRO slot: vx_rx_burst()'s */
		if (mh->msg_flags & MSG_TRUNC || !len) {
			bad[len ? VX_RX_TRUNC : VX_RX_SHORT]++;
			r = -1;
			continue;
		}
		if (!(r >= 0 && i && vx_same_host(v, &v->rx_from[i], &v->rx_from[i - 1]))) {
			r = vtep_remote_find(&v->vt, &v->rx_from[i], mh->msg_namelen);
			if (r < 0) {
				bad[VX_RX_REMOTE]++;
				continue;
			}
			src = &v->vt.remotes[r].addr;
		}
		(*dgrams)++; /* a datagram of a message that passed (the decap point's count, as vx_rx_burst()'s) */
		if (__builtin_expect(ecn, 0))
			vx_rx_ecn(v, i, ecn, 0);
		if (!vx_rx_check(v, d, len, &vni, &vid, bad))
			continue;
		v->rx_view[n] = (struct iovec){ (uint8_t *)d + VXLAN_HLEN, len - VXLAN_HLEN };
		/* Inner TCP (IPv4's protocol byte, IPv6's next header; vx_rx_opens() checks): maybe a run to merge. */
		if (v->rx_miov && i + 1 < got && len >= VXLAN_HLEN + PKT_ETH_HLEN + 40 &&
		    (d[VXLAN_HLEN + 23] == 6 || d[VXLAN_HLEN + 20] == 6)) {
			bool dropped = false;
			unsigned k = vx_rx_plain_run(v, &pkts[n], i, got, &v->rx_view[n], vni, miov_used, &dropped);

			if (k > 1) {
				*dgrams += k - 1;
				i += k - 1;
				if (dropped)
					continue;
				(*merged)++;
				vx_rx_deliver(v, &pkts[n], d + VXLAN_HLEN, vni, 0, r, src, st);
				n++;
				continue;
			}
		}
		pkt_rx_init(&pkts[n], &v->rx_view[n], 1, (uint32_t)(len - VXLAN_HLEN), in_port);
		vx_rx_deliver(v, &pkts[n], d + VXLAN_HLEN, vni, 0, r, src, st);
		n++;
	}
	v->rx_next = i;
	v->rx_r_prev = r;
	return n;
}

/*
 * A GRO slot's datagrams (message rx_next from rx_off on, of rx_seg bytes
 * each, the last maybe shorter) in a loop of their own, on a port with
 * static remotes and no vlan_vni=: while each has the first one's VXLAN
 * header word for word (so it passes vx_rx_check() as that one did; a
 * first that fails is left, uncounted, to vx_rx_burst()'s loop, which
 * drops and counts it) and an inner frame that cannot open a run of TCP
 * segments (vx_rx_opens(): not TCP, or a pure ACK; a run may merge:
 * vx_rx_burst()'s loop does that), each is made
 * packet pkts[@n...] (up to @max) in place.  The kernel coalesces one
 * flow's datagrams into a slot, so a slot is mostly one such run: the
 * general loop took ~156 instructions a 64-byte datagram (the split into
 * an array, the checks, the per-VNI runs; callgrind, bench_vxlan -c on
 * -f 1).  Returns the packets made; rx_off (and rx_next at the slot's
 * end) moved past the datagrams taken, *@dgrams counting them.
 */
static unsigned vx_rx_gro_plain(struct vx_port *v, struct pkt *pkts, unsigned n, unsigned max,
				struct vx_rx_state *st, unsigned *dgrams)
{
	const unsigned i = v->rx_next, in_port = v->port.id;
	uint8_t *const buf = v->rx_iov[i].iov_base;
	const size_t len = v->rx_msgs[i].msg_len, seg = v->rx_seg;
	const int r = v->rx_r;
	const union vtep_addr *const src = v->rx_src;
	size_t off = v->rx_off;
	uint64_t hdr0;
	uint32_t vni;
	uint16_t vid;

	{
		size_t l = len - off < seg ? len - off : seg;
		unsigned spare[VX_RX__COUNT] = { 0 };

		if (l < VXLAN_HLEN + PKT_ETH_HLEN || !vx_rx_check(v, buf + off, l, &vni, &vid, spare) ||
		    vx_rx_opens(buf + off + VXLAN_HLEN, l - VXLAN_HLEN))
			return n; /* dropped and counted, or merged, by vx_rx_burst()'s loop */
	}
	memcpy(&hdr0, buf + off, 8);
	for (; n < max && off < len; n++) {
		size_t l = len - off < seg ? len - off : seg;
		uint8_t *d = buf + off;
		uint64_t h;

		if (l < VXLAN_HLEN + PKT_ETH_HLEN)
			break;
		memcpy(&h, d, 8);
		if (h != hdr0 || vx_rx_opens(d + VXLAN_HLEN, l - VXLAN_HLEN))
			break;
		v->rx_view[n] = (struct iovec){ d + VXLAN_HLEN, l - VXLAN_HLEN };
		pkt_rx_init(&pkts[n], &v->rx_view[n], 1, (uint32_t)(l - VXLAN_HLEN), in_port);
		vx_rx_deliver(v, &pkts[n], d + VXLAN_HLEN, vni, 0, r, src, st);
		off += l;
		(*dgrams)++;
	}
	v->rx_off = off;
	if (off >= len) {
		v->rx_next++;
		v->rx_off = 0;
	}
	return n;
}

/*
 * Leftovers of the last burst's slots: their remote is found again.  A
 * grace period may have passed between the bursts (the worker went
 * through the top of its loop), so the index found then may be of a
 * remote freed since and reused for another address (vtep.h): what is
 * left of a message is learned behind, and carries as tun_src, the remote
 * its address is now, or is dropped (`remote`) when it is none.
 */
static void vx_rx_resume(struct vx_port *v, unsigned bad[VX_RX__COUNT])
{
	unsigned i = v->rx_next;

	v->rx_r_prev = -1;
	if (!v->rx_off || v->remote_flow)
		return; /* a message not started: vx_rx_msg_start() finds it; remote=flow: any VTEP, no index */
	v->rx_r = vtep_remote_find(&v->vt, &v->rx_from[i], v->rx_msgs[i].msg_hdr.msg_namelen);
	if (v->rx_r < 0) {
		bad[VX_RX_REMOTE]++;
		v->rx_next++;
		v->rx_off = 0;
		return;
	}
	v->rx_src = &v->vt.remotes[v->rx_r].addr;
}

unsigned vx_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct vx_port *v = vx_of(p);
	unsigned bad[VX_RX__COUNT] = { 0 }, n = 0, dgrams = 0;
	struct vx_rx_state st;	/* learn[] is written before it is read: not zeroed (a KiB a call) */
	struct iovec dg[PKT_BURST];
	uint32_t ok_vni[PKT_BURST];	/* a datagram's VNI when it passed the checks, else ~0 */
	unsigned same_to[PKT_BURST];	/* GRO: the end of the run of ok_vni[] values equal to a datagram's */
	bool same_known;	/* same_to[] is worked out for the current slot */
	uint16_t ok_vid[PKT_BURST];	/* vlan_vni=: its VNI's VLAN */
	size_t miov_used = 0;
	unsigned merged = 0;
	uint64_t t0;

	if (max > PKT_BURST)
		max = PKT_BURST;
	/* A slot's datagrams left over from the last burst (GRO) go first: the slots are not filled again before. */
	if (v->rx_next >= v->rx_got) {
		if (!vx_rx_fill(v, max))
			return 0;
	} else {
		vx_rx_resume(v, bad);
	}
	t0 = dp_perf_note_start(io->perf);
	st.seen = (struct vtep_learn){ .remote = 0xff };
	st.nlearn = 0;
	st.bytes = 0;
	st.now_s = vtep_now_s();
	if (!v->rx_off && !v->remote_flow && !v->map)
		n = vx_rx_plain(v, pkts, n, max, &st, bad, &dgrams, &miov_used, &merged);
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
			vx_rx_deliver(v, &pkts[n], d + VXLAN_HLEN, vni, vid, v->rx_r, v->rx_src, &st);
			n++;
			continue;
		}
		if (!v->map && !v->remote_flow) {
			unsigned was = n;

			n = vx_rx_gro_plain(v, pkts, n, max, &st, &dgrams);
			if (n != was || v->rx_next != i)
				continue; /* on with what is left: the slot's next datagram, or the next message */
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
		same_known = false;
		for (unsigned j = 0, k; j < nd; j += k) {
			const uint8_t *inner = dg[j].iov_base;
			uint32_t vni = ok_vni[j];
			unsigned run = 1;
			struct pkt *pk = &pkts[n];
			size_t t;

			k = 1;
			if (vni == ~0u)
				continue;
			/* GRO: a run of one flow's inner TCP segments becomes one TSO frame (vxlan_gro_merge()). */
			if (v->rx_miov && nd > 1 && vx_inner_tcp_at(inner, dg[j].iov_len, &t)) {
				if (!same_known) {
					/*
					 * Where each datagram's run of one VNI ends (same_to), worked out
					 * once, back to front, when the first inner TCP segment asks:
					 * a slot of other frames (UDP, 64-byte ones) never needs it.
					 */
					same_to[nd - 1] = nd;
					for (unsigned x = nd - 1; x-- > 0;)
						same_to[x] = ok_vni[x + 1] == ok_vni[x] ? same_to[x + 1] : x + 1;
					same_known = true;
				}
				run = same_to[j] - j;
				if (run > VXLAN_GSO_SEGS_MAX)
					run = VXLAN_GSO_SEGS_MAX;
			}
			if (run > 1) {
				bool dropped = false;

				k = vx_rx_tso(v, pk, &dg[j], NULL, run, &miov_used, &dropped);
				if (dropped)
					continue;
				merged += k > 1;
			}
			if (k == 1) {
				v->rx_view[n] = dg[j];
				pkt_rx_init(pk, &v->rx_view[n], 1, (uint32_t)dg[j].iov_len, p->id);
			}
			vx_rx_deliver(v, pk, inner, vni, ok_vid[j], v->rx_r, v->rx_src, &st);
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

void vx_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	/* The slots are read again by the next burst only: nothing to give back. */
}
