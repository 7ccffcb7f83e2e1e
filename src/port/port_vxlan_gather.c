/* port_vxlan_gather.c - VXLAN port, transmit: the common frames at a burst's head, glued by GSO socket into UDP_SEGMENT payloads, or raw datagrams. */
#include "port/port_vxlan_int.h"

#include "packet/csum.h"
#include "packet/vxlan.h"
#include "port/vtep.h"

/*
 * The frames most bursts are made of, in loops of their own, which
 * vx_tx_burst() (port_vxlan_tx.c) calls at a burst's head and again after
 * each frame it takes itself: on a port with one VNI, static remotes, no
 * vlan_vni= and no tos=inherit, a finished frame (no offload request)
 * that fits every path, to one remote.
 *
 *   UDP GSO on:   vx_tx_gather(): pass 1 (vx_gather_ways()) each frame's GSO
 *                 socket and remote; pass 2 (vx_gather_payloads()) a socket's
 *                 frames of one size and remote as UDP_SEGMENT payloads in the
 *                 arena, the GSO round's messages (vx_tx_burst() flushes it);
 *                 a socket with nothing to glue: raw datagrams (vx_raw_msg())
 *   UDP GSO off:  vx_tx_plain(): raw datagrams (vx_raw_msg())
 */

/*
 * Raw message @m for finished frame @pk (vx_tx_plain()'s and
 * vx_tx_gather()'s: no tag to strip, no TOS of its own) to @dst from
 * @sport, behind header bytes @vxh (their sum @vxh_sum); with @csum4
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
 * offload request) that fits every path, to one remote
 * (vx_plain_remote()), through the raw socket.  Messages [@m0, @m0 +
 * return) built for frames [0, return): it stops at the first frame that
 * is not such (vx_tx_burst() takes it, and tries again after it) or when
 * the messages are full.  The port's settings are read once into locals: vx_tx_burst()'s
 * loop reloaded them after each header store (a store through a byte
 * pointer may alias them), and its tests for the rare cases were most of
 * the ~260 instructions a frame (callgrind on bench_vxlan, csum=off).
 */
unsigned vx_tx_plain(struct vx_port *v, struct pkt *const *pkts, unsigned n, unsigned fit, uint32_t now_s,
		     unsigned m0)
{
	const uint32_t vni = v->vni;
	const uint16_t lo = v->sport_lo, hi = v->sport_hi;
	const bool csum4 = v->csum && !v->ipv6;
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
		if (!vx_raw_msg(v, m0 + m, pk, dst, vxlan_src_port(pk, lo, hi), vxh, vxh_sum, csum4, psum))
			break; /* vx_tx_burst() drops it */
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
	struct vxlan_flow4 f = { 0 };	/* read only once have_f (gcc 12 cannot see that here) */
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

/* GSO message of the round for the payload of @segs datagrams of @len-byte frames at @base (@plen bytes) to remote @r by socket @s. */
static void vx_gather_msg(struct vx_port *v, uint8_t *base, size_t plen, unsigned segs, unsigned len, unsigned r,
			  unsigned s)
{
	struct vxlan_gso_msg gm = { .len = plen, .inner_bytes = (size_t)segs * len,
				    .seg_bytes = (uint16_t)(VXLAN_HLEN + len), .segs = segs };

	vx_gso_msg(v, v->gso_m++, base, &gm, r, &v->vt.remotes[r].addr, s, v->gso_sport[s], -1);
	v->gso_used += plen;
}

/*
 * Pass 2 of vx_tx_gather(): socket @s's frames (*@g) as UDP_SEGMENT
 * payloads in the arena, each of frames of one size to one remote (at
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
	unsigned segs = 0, most = 0, r = 0, len = 0;
	uint32_t key = UINT32_MAX;	/* no frame's: the first opens a payload */

	for (unsigned i = g->head[s]; i < PKT_BURST; i = g->next[i]) {
		const struct pkt *pk = pkts[i];
		uint32_t k = g->key[i];

		if (k != key || segs == most) {
			if (segs)
				vx_gather_msg(v, base, (size_t)(b - base), segs, len, r, s);
			v->gso_used = (v->gso_used + 63) & ~(size_t)63;
			base = b = arena + v->gso_used;
			segs = 0;
			key = k;
			r = vx_gather_key_remote(k);
			len = vx_gather_key_len(k);
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
		vx_gather_msg(v, base, (size_t)(b - base), segs, len, r, s);
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
unsigned vx_tx_gather(struct vx_port *v, struct port_io *io, struct vx_clock *clk, struct pkt *const *pkts,
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
