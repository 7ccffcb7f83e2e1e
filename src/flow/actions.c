/* actions.c - running compiled actions on a header buffer and its key: rewrites with incremental checksums, VLAN tags, control flow, outputs. */
#include "flow/actions.h"

#include <arpa/inet.h>
#include <string.h>

#include "flow/classifier.h"
#include "flow/field.h"
#include "packet/csum.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_ARP 0x0806
#define ETH_P_RARP 0x8035
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8

const char *const flow_cnt_names[FLOW_CNT__COUNT] = {
	[FLOW_CNT_PACKETS] = "packets",
	[FLOW_CNT_MISS_DROP] = "table_miss_drop",
	[FLOW_CNT_NO_OUTPUT] = "no_output",
	[FLOW_CNT_TTL] = "ttl_exceeded",
	[FLOW_CNT_DEPTH] = "too_deep",
	[FLOW_CNT_RESUBMITS] = "too_many_resubmits",
	[FLOW_CNT_HEADROOM] = "no_headroom",
	[FLOW_CNT_OUT_FULL] = "too_many_outputs",
	[FLOW_CNT_SNAP_FULL] = "too_many_header_versions",
	[FLOW_CNT_HDR_TOO_BIG] = "headers_too_big",
	[FLOW_CNT_CUT_SKIP] = "write_past_copy_skipped",
	[FLOW_CNT_STACK] = "stack_too_deep",
};

static inline uint8_t *frame_of(struct flow_pkt *pkt)
{
	return pkt->buf + pkt->head;
}

static inline bool fits(const struct flow_pkt *pkt, unsigned at, unsigned len)
{
	return at != FLOW_OFS_NONE && (unsigned)at + len <= pkt->len;
}

/*
 * Where the L4 checksum of the packet is, when it covers a pseudo-header
 * (TCP, UDP, ICMPv6) or just the L4 data (ICMP): NULL when there is none
 * to update (no L4 header, a UDP datagram without checksum).
 */
static uint8_t *l4_csum(struct flow_pkt *pkt, const struct flow_key *k, bool *pseudo)
{
	unsigned l4 = pkt->ofs.l4;
	uint8_t *p;

	*pseudo = true;
	switch (k->nw_proto) {
	case 6:
		if (!fits(pkt, l4, 20))
			return NULL;
		return frame_of(pkt) + l4 + 16;
	case 17:
		if (!fits(pkt, l4, 8))
			return NULL;
		p = frame_of(pkt) + l4 + 6;
		/* IPv4 UDP without checksum stays without (RFC 768); IPv6 UDP always has one (RFC 8200 8.1). */
		return p[0] == 0 && p[1] == 0 && k->dl_type == htons(ETH_P_IP) && !(pkt->flags & FLOW_PKT_CSUM_PARTIAL)
			       ? NULL
			       : p;
	case 1:
		*pseudo = false;
		return k->dl_type == htons(ETH_P_IP) && fits(pkt, l4, 8) ? frame_of(pkt) + l4 + 2 : NULL;
	case 58:
		return k->dl_type == htons(ETH_P_IPV6) && fits(pkt, l4, 4) ? frame_of(pkt) + l4 + 2 : NULL;
	default:
		return NULL;
	}
}

/* A UDP checksum that came out as zero is sent as 0xffff (zero means "none"). */
static void udp_zero_fixup(uint8_t *csum, const struct flow_key *k, const struct flow_pkt *pkt)
{
	if (k->nw_proto == 17 && !(pkt->flags & FLOW_PKT_CSUM_PARTIAL) && csum[0] == 0 && csum[1] == 0)
		csum[0] = csum[1] = 0xff;
}

/* An address of the pseudo-header changed from @old to @new (@len bytes): the L4 checksum follows. */
static void l4_pseudo_replace(struct flow_pkt *pkt, const struct flow_key *k, const void *old, const void *new,
			      size_t len)
{
	bool pseudo;
	uint8_t *c = l4_csum(pkt, k, &pseudo);

	if (c && pseudo) {
		csum_replace(c, old, new, len, pkt->flags & FLOW_PKT_CSUM_PARTIAL);
		udp_zero_fixup(c, k, pkt);
	}
}

/*
 * An ICMPv4 checksum that came out as 0x0000 is sent as 0xffff.  The
 * incremental update gives 0x0000 when the message's words sum to zero,
 * and cannot tell -0 (0xffff: data that is not all zero) from +0 (type 0,
 * code 0, identifier, sequence and data all zero bytes: RFC 1624 eqn. 3
 * turns +0 into -0 whenever a change leaves or makes the data so).  For
 * +0 only 0xffff verifies; for -0 both do (0xffff + 0xffff folds to
 * 0xffff).  Only ICMPv4 can be all zero (TCP's, UDP's and ICMPv6's
 * pseudo-headers hold the protocol), and its bytes past the copy held
 * here are the caller's: so always 0xffff, as UDP's zero is.
 */
static void icmp_zero_fixup(uint8_t *csum)
{
	if (!(csum[0] | csum[1]))
		csum[0] = csum[1] = 0xff;
}

/* @len bytes of the L4 header at @at become @new: the L4 checksum follows, unless left for later (partial). */
static void l4_data_write(struct flow_pkt *pkt, const struct flow_key *k, uint8_t *at, const void *new, size_t len)
{
	bool pseudo;
	uint8_t *c = l4_csum(pkt, k, &pseudo);

	if (!c || (pkt->flags & FLOW_PKT_CSUM_PARTIAL)) {
		memcpy(at, new, len);
		return;
	}
	csum_replace(c, at, new, len, false);
	memcpy(at, new, len);
	if (pseudo)
		udp_zero_fixup(c, k, pkt);
	else
		icmp_zero_fixup(c);
}

/* ---- what a run's decisions read of its input key (flow_exec.wc, dep) ---- */

/*
 * Open vSwitch's rule for a megaflow (ofproto-dpif-xlate): its mask holds
 * every bit the translation read, the lookups' and the actions' own.  A
 * lookup after a rewrite reads the rewritten key, so each bit it reads is
 * mapped back to what produced it: a bit nothing wrote is the input's
 * own, a bit a move copied is its source's (as it was mapped then), a bit
 * set to a value depends on nothing.  Nothing here runs without x->wc
 * (a replay, a trace, a frame a cache answered); until an action changes
 * the key every bit is the input's own and a read is an OR.
 */

/* Bit @bits of key byte @byte was read by a decision of the run: the input's bits it came from into x->wc. */
static void dep_read_byte(struct flow_exec *x, unsigned byte, uint8_t bits)
{
	uint8_t moved;

	if (!x->dep_on) {
		x->wc->b[byte] |= bits;
		return;
	}
	x->wc->b[byte] |= bits & x->dep_orig.b[byte];
	moved = bits & x->dep_moved.b[byte];
	for (unsigned t = 0; moved; t++, moved >>= 1)
		if (moved & 1) {
			unsigned from = x->dep_from[byte * 8 + t];

			x->wc->b[from >> 3] |= (uint8_t)(1u << (from & 7));
		}
}

/* @len key bytes from @ofs, bits @bits of each, read by a decision. */
static void dep_read(struct flow_exec *x, unsigned ofs, unsigned len, uint8_t bits)
{
	if (!x->wc)
		return;
	for (unsigned i = 0; i < len; i++)
		dep_read_byte(x, ofs + i, bits);
}

/* The bits of @m (a lookup's wc on the key as it was then) read. */
static void dep_read_mask(struct flow_exec *x, const struct flow_key *m)
{
	for (unsigned w = 0; w < FLOW_KEY_WORDS; w++) {
		if (!m->w[w])
			continue;
		if (!x->dep_on) {
			x->wc->w[w] |= m->w[w];
			continue;
		}
		for (unsigned i = 0; i < 8; i++)
			if (m->b[w * 8 + i])
				dep_read_byte(x, w * 8 + i, m->b[w * 8 + i]);
	}
}

/* The key is about to change: from now on its bits are tracked (false: no wc, nothing to track). */
static bool dep_begin(struct flow_exec *x)
{
	if (!x->wc)
		return false;
	if (!x->dep_on) {
		memset(&x->dep_orig, 0xff, sizeof(x->dep_orig));
		memset(&x->dep_moved, 0, sizeof(x->dep_moved));
		x->dep_on = true;
	}
	return true;
}

/* Bits @bits (NULL: all) of the @len key bytes from @ofs were given a value that depends on nothing of the input. */
static void dep_const(struct flow_exec *x, unsigned ofs, unsigned len, const uint8_t *bits)
{
	if (!dep_begin(x))
		return;
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = bits ? bits[i] : 0xff;

		x->dep_orig.b[ofs + i] &= (uint8_t)~m;
		x->dep_moved.b[ofs + i] &= (uint8_t)~m;
	}
}

/* The key bit (byte * 8 + bit) of bit @n of field @f, counted from its least significant bit as load/move do. */
static unsigned field_bit(const struct flow_field *f, unsigned n)
{
	unsigned b = f->shift + n;

	return (f->ofs + f->len - 1u - b / 8) * 8 + b % 8;
}

/* A move copied @n bits of @src from @src_start to @dst's from @dst_start: each takes its source's origin. */
static void dep_move(struct flow_exec *x, const struct flow_field *src, unsigned src_start,
		     const struct flow_field *dst, unsigned dst_start, unsigned n)
{
	uint16_t from[128];	/* every source bit's origin first: the fields may overlap */
	enum { ORIG, MOVED, CONST } kind[128];

	if (!dep_begin(x))
		return;
	for (unsigned j = 0; j < n && j < 128; j++) {
		unsigned sb = field_bit(src, src_start + j);
		uint8_t bit = (uint8_t)(1u << (sb & 7));

		if (x->dep_orig.b[sb >> 3] & bit) {
			kind[j] = ORIG;
			from[j] = (uint16_t)sb;
		} else if (x->dep_moved.b[sb >> 3] & bit) {
			kind[j] = MOVED;
			from[j] = x->dep_from[sb];
		} else {
			kind[j] = CONST;
			from[j] = 0;
		}
	}
	for (unsigned j = 0; j < n && j < 128; j++) {
		unsigned db = field_bit(dst, dst_start + j);
		uint8_t bit = (uint8_t)(1u << (db & 7));

		x->dep_orig.b[db >> 3] &= (uint8_t)~bit;
		x->dep_moved.b[db >> 3] &= (uint8_t)~bit;
		if (kind[j] != CONST) {
			x->dep_moved.b[db >> 3] |= bit;
			x->dep_from[db] = from[j];
		}
	}
}

/* What testing prerequisite @p reads: dl_type, and for an L4 one nw_proto and nw_frag (flow_prereq_in_key()). */
static void dep_read_prereq(struct flow_exec *x, enum flow_prereq p)
{
	if (p == FP_NONE)
		return;
	dep_read(x, offsetof(struct flow_key, dl_type), 2, 0xff);
	if (flow_prereq_l4(p))
		dep_read(x, offsetof(struct flow_key, nw_proto), 2, 0xff);
}

/*
 * What a VLAN action reads before it changes the tag: whether the key has
 * one (the frame has it then), and dl_type (the Ethertype after it, which
 * says whether an inner tag follows, and the frame's when there is no tag).
 */
static void dep_read_vlan(struct flow_exec *x)
{
	dep_read(x, offsetof(struct flow_key, vlan_tci), 1, FLOW_TCI_PRESENT >> 8);
	dep_read(x, offsetof(struct flow_key, dl_type), 2, 0xff);
}

/* ---- header writes: the key's value of one storage slot into the frame ---- */

enum slot {
	SL_META,		/* no packet bytes: in_port, metadata, registers, tunnel */
	SL_DL_DST,
	SL_DL_SRC,
	SL_VLAN,
	SL_NW_SRC,
	SL_NW_DST,
	SL_IPV6_SRC,
	SL_IPV6_DST,
	SL_NW_PROTO,		/* only ARP's opcode is writable */
	SL_NW_TOS,
	SL_NW_TTL,
	SL_TP_SRC,
	SL_TP_DST,
	SL_ARP_SHA,
	SL_ARP_THA,
};

static enum slot slot_of(const struct flow_field *f)
{
	switch (f->ofs) {
	case offsetof(struct flow_key, dl_dst):
		return SL_DL_DST;
	case offsetof(struct flow_key, dl_src):
		return SL_DL_SRC;
	case offsetof(struct flow_key, vlan_tci):
		return SL_VLAN;
	case offsetof(struct flow_key, nw_src):
		return SL_NW_SRC;
	case offsetof(struct flow_key, nw_dst):
		return SL_NW_DST;
	case offsetof(struct flow_key, ipv6_src):
		return SL_IPV6_SRC;
	case offsetof(struct flow_key, ipv6_dst):
		return SL_IPV6_DST;
	case offsetof(struct flow_key, nw_proto):
		return SL_NW_PROTO;
	case offsetof(struct flow_key, nw_tos):
		return SL_NW_TOS;
	case offsetof(struct flow_key, nw_ttl):
		return SL_NW_TTL;
	case offsetof(struct flow_key, tp_src):
		return SL_TP_SRC;
	case offsetof(struct flow_key, tp_dst):
		return SL_TP_DST;
	case offsetof(struct flow_key, arp_sha):
		return SL_ARP_SHA;
	case offsetof(struct flow_key, arp_tha):
		return SL_ARP_THA;
	default:
		return SL_META;
	}
}

static bool is_ipv4(const struct flow_pkt *pkt, const struct flow_key *k)
{
	return k->dl_type == htons(ETH_P_IP) && fits(pkt, pkt->ofs.l3, 20);
}

static bool is_ipv6(const struct flow_pkt *pkt, const struct flow_key *k)
{
	return k->dl_type == htons(ETH_P_IPV6) && fits(pkt, pkt->ofs.l3, 40);
}

static bool is_arp(const struct flow_pkt *pkt, const struct flow_key *k)
{
	return (k->dl_type == htons(ETH_P_ARP) || k->dl_type == htons(ETH_P_RARP)) && fits(pkt, pkt->ofs.l3, 28);
}

static bool is_l4(const struct flow_pkt *pkt, const struct flow_key *k)
{
	return (is_ipv4(pkt, k) || is_ipv6(pkt, k)) && pkt->ofs.l4 != FLOW_OFS_NONE;
}

/*
 * An address of the pseudo-header may change only if the L4 checksum that
 * covers it is in the copy too: when the copy was cut before the L4
 * header (flow_ofs.truncated), rewriting the address would leave a wrong
 * checksum in the part of the frame the executor never sees.
 */
static bool l4_csum_reachable(const struct flow_pkt *pkt, const struct flow_key *k)
{
	return !pkt->ofs.truncated || pkt->ofs.l4 != FLOW_OFS_NONE || (k->nw_frag & FLOW_FRAG_LATER);
}

/* True when the frame has the bytes slot @s lives in, so a write to it can go to both key and frame. */
static bool slot_present(const struct flow_pkt *pkt, const struct flow_key *k, enum slot s)
{
	switch (s) {
	case SL_META:
		return true;
	case SL_DL_DST:
	case SL_DL_SRC:
	case SL_VLAN:
		return pkt->len >= 14;
	case SL_NW_SRC:
	case SL_NW_DST:
		return is_arp(pkt, k) || (is_ipv4(pkt, k) && l4_csum_reachable(pkt, k));
	case SL_IPV6_SRC:
	case SL_IPV6_DST:
		return is_ipv6(pkt, k) && l4_csum_reachable(pkt, k);
	case SL_NW_PROTO:
	case SL_ARP_SHA:
	case SL_ARP_THA:
		return is_arp(pkt, k);
	case SL_NW_TOS:
	case SL_NW_TTL:
		return is_ipv4(pkt, k) || is_ipv6(pkt, k);
	case SL_TP_SRC:
	case SL_TP_DST:
		return is_l4(pkt, k) && fits(pkt, pkt->ofs.l4, 4);
	}
	return false;
}

/* IPv4 header bytes at @off (even) changed to @new (@len, even): header checksum follows, then the bytes. */
static void ipv4_write(struct flow_pkt *pkt, unsigned off, const void *new, size_t len)
{
	uint8_t *ip = frame_of(pkt) + pkt->ofs.l3;

	csum_replace(ip + 10, ip + off, new, len, false);
	memcpy(ip + off, new, len);
}

/* A VLAN tag: push one in front of the Ethertype (the headroom takes the MAC addresses). */
static bool vlan_push(struct flow_exec *x, struct flow_pkt *pkt, uint16_t tpid, uint16_t tci)
{
	uint8_t *f;

	/* Either way the key already says "tagged" and the frame cannot follow: processing ends. */
	if (pkt->head < 4) {
		x->cnt[FLOW_CNT_HEADROOM]++;
		x->stop = x->counted = true;
		return false;
	}
	if (pkt->len + 4u > FLOW_HDR_MAX) {
		x->cnt[FLOW_CNT_HDR_TOO_BIG]++;
		x->stop = x->counted = true;
		return false;
	}
	pkt->head -= 4;
	f = frame_of(pkt);
	memmove(f, f + 4, 12);
	tpid = htons(tpid);
	tci = htons(tci);
	memcpy(f + 12, &tpid, 2);
	memcpy(f + 14, &tci, 2);
	pkt->len += 4;
	pkt->frame_len += 4;
	if (pkt->ofs.l3 != FLOW_OFS_NONE)
		pkt->ofs.l3 += 4;
	if (pkt->ofs.l4 != FLOW_OFS_NONE)
		pkt->ofs.l4 += 4;
	return true;
}

static void vlan_pop(struct flow_pkt *pkt)
{
	uint8_t *f = frame_of(pkt);

	memmove(f + 4, f, 12);
	pkt->head += 4;
	pkt->len -= 4;
	pkt->frame_len -= 4;
	if (pkt->ofs.l3 != FLOW_OFS_NONE)
		pkt->ofs.l3 -= 4;
	if (pkt->ofs.l4 != FLOW_OFS_NONE)
		pkt->ofs.l4 -= 4;
}

/* The Ethertype field says a tag follows (@whole: and the tag is in the copy). */
static bool frame_tagged(struct flow_pkt *pkt, bool whole)
{
	const uint8_t *f = frame_of(pkt);
	uint16_t type;

	if (pkt->len < (whole ? 18 : 14))
		return false;
	type = (uint16_t)(f[12] << 8 | f[13]);
	return type == ETH_P_8021Q || type == ETH_P_8021AD;
}

/*
 * The key's packet fields again from the frame, metadata kept: after a
 * tag change that exposed or hid another tag (the key follows one tag, as
 * flow_key_extract() does).
 */
static void key_reparse(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k)
{
	struct flow_key old = *k;

	/*
	 * The new fields come from the frame's bytes, which the key did not
	 * hold (the headers under a second tag): two frames with one key may
	 * differ there, so no memo, not even an exact-match one, stands for
	 * this run, and no mask of the input key either.
	 */
	x->memo_ok = false;
	x->dep_lost = true;

	flow_key_extract(k, frame_of(pkt), pkt->len, pkt->frame_len, ntohs(old.in_port), &pkt->ofs);
	k->in_port = old.in_port;
	k->tun_id = old.tun_id;
	k->tun_src = old.tun_src;
	k->tun_dst = old.tun_dst;
	memcpy(k->tun_ipv6_src, old.tun_ipv6_src, sizeof(k->tun_ipv6_src));
	memcpy(k->tun_ipv6_dst, old.tun_ipv6_dst, sizeof(k->tun_ipv6_dst));
	k->metadata = old.metadata;
	memcpy(k->regs, old.regs, sizeof(k->regs));
}

/* Make the frame's outer tag what the key's vlan_tci says: rewrite, pop or push. */
static bool vlan_sync(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k)
{
	uint16_t tci = ntohs(k->vlan_tci);
	bool have = frame_tagged(pkt, true);

	if (!(tci & FLOW_TCI_PRESENT)) {
		k->vlan_tci = 0;
		dep_const(x, offsetof(struct flow_key, vlan_tci), 2, NULL);
		if (have) {
			vlan_pop(pkt);
			if (frame_tagged(pkt, false))
				key_reparse(x, pkt, k);	/* an inner tag (or part of one) is the outer one now */
		}
		return true;
	}
	/* The CFI/DEI bit carries "present" in the key; the frame gets 0 there, as from Open vSwitch. */
	if (have) {
		uint16_t wire = htons(tci & ~FLOW_TCI_PRESENT);

		memcpy(frame_of(pkt) + 14, &wire, 2);
		return true;
	}
	have = frame_tagged(pkt, false);	/* part of a tag the key could not parse: it becomes the inner one */
	if (!vlan_push(x, pkt, ETH_P_8021Q, tci & ~FLOW_TCI_PRESENT))
		return false;
	if (have)
		key_reparse(x, pkt, k);
	return true;
}

/* The key's value of slot @s into the frame (slot_present() said it is there). */
static bool slot_write(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, enum slot s)
{
	uint8_t *f = frame_of(pkt), *l3 = f + (pkt->ofs.l3 == FLOW_OFS_NONE ? 0 : pkt->ofs.l3);
	uint8_t *l4 = f + (pkt->ofs.l4 == FLOW_OFS_NONE ? 0 : pkt->ofs.l4);

	switch (s) {
	case SL_META:
		return true;
	case SL_DL_DST:
		memcpy(f, k->dl_dst, 6);
		return true;
	case SL_DL_SRC:
		memcpy(f + 6, k->dl_src, 6);
		return true;
	case SL_VLAN:
		return vlan_sync(x, pkt, k);
	case SL_NW_SRC:
	case SL_NW_DST: {
		const uint32_t *v = s == SL_NW_SRC ? &k->nw_src : &k->nw_dst;

		if (is_arp(pkt, k)) {
			memcpy(l3 + (s == SL_NW_SRC ? 14 : 24), v, 4);
			return true;
		}
		l4_pseudo_replace(pkt, k, l3 + (s == SL_NW_SRC ? 12 : 16), v, 4);
		ipv4_write(pkt, s == SL_NW_SRC ? 12 : 16, v, 4);
		return true;
	}
	case SL_IPV6_SRC:
	case SL_IPV6_DST: {
		const uint8_t *v = s == SL_IPV6_SRC ? k->ipv6_src : k->ipv6_dst;
		uint8_t *at = l3 + (s == SL_IPV6_SRC ? 8 : 24);

		l4_pseudo_replace(pkt, k, at, v, 16);
		memcpy(at, v, 16);
		return true;
	}
	case SL_NW_PROTO: {
		uint8_t op[2] = { 0, k->nw_proto };	/* ARP opcodes above 255 are not kept (key.h) */

		memcpy(l3 + 6, op, 2);
		return true;
	}
	case SL_NW_TOS:
		if (is_ipv4(pkt, k)) {
			uint8_t w[2] = { l3[0], k->nw_tos };

			ipv4_write(pkt, 0, w, 2);
		} else {
			/* IPv6 traffic class: the low nibble of byte 0, the high one of byte 1; no checksum covers it. */
			l3[0] = (uint8_t)((l3[0] & 0xf0) | k->nw_tos >> 4);
			l3[1] = (uint8_t)((l3[1] & 0x0f) | (k->nw_tos & 0x0f) << 4);
		}
		return true;
	case SL_NW_TTL:
		if (is_ipv4(pkt, k)) {
			uint8_t w[2] = { k->nw_ttl, l3[9] };

			ipv4_write(pkt, 8, w, 2);
		} else {
			l3[7] = k->nw_ttl;
		}
		return true;
	case SL_TP_SRC:
	case SL_TP_DST: {
		uint16_t v = s == SL_TP_SRC ? k->tp_src : k->tp_dst;

		if (k->nw_proto == 1 || k->nw_proto == 58) {
			/* ICMP type and code: one word, the low byte of each key slot. */
			uint8_t w[2] = { (uint8_t)ntohs(k->tp_src), (uint8_t)ntohs(k->tp_dst) };

			l4_data_write(pkt, k, l4, w, 2);
		} else {
			uint8_t *at = l4 + (s == SL_TP_SRC ? 0 : 2);

			l4_data_write(pkt, k, at, &v, 2);
		}
		return true;
	}
	case SL_ARP_SHA:
		memcpy(l3 + 8, k->arp_sha, 6);
		return true;
	case SL_ARP_THA:
		memcpy(l3 + 18, k->arp_tha, 6);
		return true;
	}
	return true;
}

/* ---- outputs and header versions ---- */

/*
 * About to change the frame: if an output took it as it is, keep those
 * bytes for it in a snapshot first (copy on write).  False when no
 * snapshot is left: the packet's processing ends.
 */
static bool prepare_write(struct flow_exec *x, struct flow_pkt *pkt)
{
	struct flow_snap *s;

	if (!x->live_taken)
		return true;
	if (x->n_snap == FLOW_SNAP_MAX) {
		x->cnt[FLOW_CNT_SNAP_FULL]++;
		x->stop = x->counted = true;
		return false;
	}
	s = &x->snap[x->n_snap];
	s->len = pkt->len;
	s->frame_len = pkt->frame_len;
	s->ofs = pkt->ofs;
	memcpy(s->bytes, frame_of(pkt), pkt->len);
	for (unsigned i = 0; i < x->n_out; i++)
		if (x->out[i].snap == FLOW_SNAP_LIVE)
			x->out[i].snap = (uint8_t)x->n_snap;
	x->n_snap++;
	x->live_taken = false;
	return true;
}

static void emit(struct flow_exec *x, enum flow_out_kind kind, uint16_t port, const struct flow_key *k)
{
	if (x->n_out == FLOW_OUT_MAX) {
		x->cnt[FLOW_CNT_OUT_FULL]++;
		return;
	}
	x->out[x->n_out] = (struct flow_out){ .kind = (uint8_t)kind, .snap = FLOW_SNAP_LIVE, .port = port,
					      .in_port = ntohs(k->in_port), .tun_dst = k->tun_dst, .tun_id = k->tun_id };
	if (k->w[19] | k->w[20]) {
		/* tun_ipv6_dst: into the run's table, unless the last output's is the same */
		_Static_assert(offsetof(struct flow_key, tun_ipv6_dst) == 19 * 8, "tun_ipv6_dst is words 19-20");
		if (!x->n_tun6 || memcmp(x->tun6_dst[x->n_tun6 - 1], k->tun_ipv6_dst, 16))
			memcpy(x->tun6_dst[x->n_tun6++], k->tun_ipv6_dst, 16);
		x->out[x->n_out].tun6 = (uint8_t)x->n_tun6;
	}
	x->n_out++;
	x->live_taken = true;
}

static void output_port(struct flow_exec *x, uint16_t port, const struct flow_key *k)
{
	/* OpenFlow: output to the input port is dropped; in_port is the way to send it back. */
	if (port != ntohs(k->in_port))
		emit(x, FLOW_OUT_PORT, port, k);
}

/* ---- counters ---- */

static void stats_flush(struct flow_exec *x)
{
	for (unsigned i = 0; i < x->n_stats; i++)
		flow_rule_count(x->stats[i].rule, x->stats[i].packets, x->stats[i].bytes, x->now_ms);
	x->n_stats = 0;
}

/* @packets more frames of @bytes in all for rule @r, into its slot of the batch. */
static inline void stats_add_n(struct flow_exec *x, const struct flow_rule *r, uint64_t packets, uint64_t bytes)
{
	for (unsigned i = 0; i < x->n_stats; i++)
		if (x->stats[i].rule == r) {
			x->stats[i].packets += packets;
			x->stats[i].bytes += bytes;
			return;
		}
	if (x->n_stats == FLOW_STATS_SLOTS)
		stats_flush(x);
	x->stats[x->n_stats++] = (struct flow_stats_slot){ r, packets, bytes };
}

static inline void stats_add(struct flow_exec *x, const struct flow_rule *r, uint32_t bytes)
{
	stats_add_n(x, r, 1, bytes);
}

/* One more on a counter only this executor's worker writes: a relaxed load and store, no locked add. */
static inline void cnt_inc(atomic_uint_least64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* A lookup of @table that found no rule: counted, and remembered for the run's memo (a hit counts on its rule). */
static void count_miss(struct flow_exec *x, unsigned table)
{
	cnt_inc(&x->tables_cnt[table].misses);
	if (x->n_missed == FLOW_MEMO_MISSES) {
		x->memo_ok = false;
		return;
	}
	x->missed[x->n_missed++] = (uint8_t)table;
}

/* ---- control flow ---- */

/*
 * Look @k up in @table; with x->wc, what the answer depended on, mapped
 * back to the input's bits (dep_read_mask()) once the key has changed.
 * @port_subst: in_port is a resubmit's constant in this lookup.
 */
static const struct flow_rule *lookup(struct flow_exec *x, unsigned table, const struct flow_key *k, bool port_subst)
{
	struct flow_key wc;
	const struct flow_rule *r;

	if (!x->wc || !x->dep_on)
		return flow_tables_lookup_wc(x->tables, table, k, x->wc);
	memset(&wc, 0, sizeof(wc));
	r = flow_tables_lookup_wc(x->tables, table, k, &wc);
	if (port_subst)
		wc.in_port = 0;
	dep_read_mask(x, &wc);
	return r;
}

static bool push_frame(struct flow_exec *x, const struct flow_act *a, unsigned n, uint8_t table, bool clone)
{
	if (x->n_frames == FLOW_DEPTH_MAX) {
		x->cnt[FLOW_CNT_DEPTH]++;
		x->stop = x->counted = true;
		return false;
	}
	x->frames[x->n_frames++] = (struct flow_exec_frame){ a, (uint16_t)n, 0, table, clone };
	return true;
}

/*
 * Run @rule, what @table gave for @k (NULL: a miss).  @honor_miss: the
 * table's miss behaviour applies (the first table, goto_table); a
 * resubmit's miss does nothing.  @tail: the current frame is done and
 * is replaced rather than nested.
 */
static void enter_table(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, unsigned table,
			const struct flow_rule *rule, bool honor_miss, bool tail)
{
	if (tail)
		x->n_frames--;
	for (;;) {
		if (!rule)
			count_miss(x, table);
		if (x->trace)
			x->trace(x->trace_arg, table, rule, k);
		if (rule)
			break;
		if (!honor_miss)
			return;
		switch (x->tables->miss[table]) {
		case FLOW_MISS_NORMAL:
			emit(x, FLOW_OUT_NORMAL, 0, k);
			return;
		case FLOW_MISS_NEXT:
			if (table + 1 < FLOW_N_TABLES) {
				table++;
				rule = lookup(x, table, k, false);
				continue;
			}
			/* no table after the last one: a drop */
			__attribute__((fallthrough));
		default:
			x->cnt[FLOW_CNT_MISS_DROP]++;
			x->miss_drops++;
			x->counted = true;
			return;
		}
	}
	if (x->n_entered < FLOW_MEMO_RULES) {
		x->entered_at[x->n_entered] = x->n_acts;
		x->entered[x->n_entered++] = rule;
	} else {
		x->memo_ok = false;
	}
	stats_add(x, rule, pkt->frame_len);
	push_frame(x, rule->actions->a, rule->actions->n, (uint8_t)table, false);
}

static void clone_begin(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, struct flow_exec_frame *f,
			const struct flow_act *a)
{
	struct flow_exec_save *s;

	if (!a->n)
		return;			/* clone() or clone(drop): nothing to run, nothing to save */
	f->i = (uint16_t)(f->i + a->n);		/* the body runs in its own frame */
	x->dep_lost = true;			/* its end puts the key back: not followed (a clone's run has no memo) */
	if (x->n_clone == FLOW_CLONE_MAX) {
		x->cnt[FLOW_CNT_DEPTH]++;
		x->stop = x->counted = true;
		return;
	}
	s = &x->saves[x->n_clone];
	s->key = *k;
	s->pkt = *pkt;
	memcpy(s->bytes, frame_of(pkt), pkt->len);
	s->n_stack = x->n_stack;
	memcpy(s->stack, x->stack, x->n_stack * sizeof(x->stack[0]));
	if (push_frame(x, a + 1, a->n, f->table, true))
		x->n_clone++;
}

static void clone_end(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k)
{
	struct flow_exec_save *s = &x->saves[--x->n_clone];

	if (!prepare_write(x, pkt))
		return;
	*k = s->key;
	*pkt = s->pkt;
	memcpy(frame_of(pkt), s->bytes, pkt->len);
	x->n_stack = s->n_stack;
	memcpy(x->stack, s->stack, s->n_stack * sizeof(x->stack[0]));
}

static bool dec_ttl(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k)
{
	dep_read(x, offsetof(struct flow_key, dl_type), 2, 0xff);
	if (!is_ipv4(pkt, k) && !is_ipv6(pkt, k))
		return true;	/* not IP: nothing to decrement */
	/* The whole TTL: the test reads its high 7 bits, the result (below, a value from here on) all 8. */
	dep_read(x, offsetof(struct flow_key, nw_ttl), 1, 0xff);
	if (k->nw_ttl <= 1)
		return false;
	if (!prepare_write(x, pkt))
		return true;
	k->nw_ttl--;
	dep_const(x, offsetof(struct flow_key, nw_ttl), 1, NULL);
	return slot_write(x, pkt, k, SL_NW_TTL);
}

/* FA_SET and FA_MOVE: the field in the key, then in the frame. */
static void write_field(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, const struct flow_act *a)
{
	const struct flow_field *f = &flow_fields[a->field];
	enum slot s = slot_of(f);

	dep_read_prereq(x, (enum flow_prereq)f->prereq);
	if (!flow_prereq_in_key((enum flow_prereq)f->prereq, k))
		return;		/* the packet has no such field: ovs-actions(7) ignores the write */
	if (s == SL_VLAN)
		dep_read_vlan(x);
	else if (s != SL_META && s != SL_DL_DST && s != SL_DL_SRC)
		dep_read(x, offsetof(struct flow_key, dl_type), 2, 0xff);	/* slot_present(): IPv4, IPv6 or ARP */
	if (!slot_present(pkt, k, s)) {
		if (pkt->ofs.truncated)
			x->cnt[FLOW_CNT_CUT_SKIP]++;
		return;
	}
	if (a->type == FA_MOVE) {
		dep_read_prereq(x, (enum flow_prereq)flow_fields[a->src_field].prereq);
		if (!flow_prereq_in_key((enum flow_prereq)flow_fields[a->src_field].prereq, k))
			return;
	}
	if (s != SL_META && !prepare_write(x, pkt))
		return;
	if (a->type == FA_SET) {
		for (unsigned i = 0; i < f->len; i++)
			k->b[f->ofs + i] = (uint8_t)((k->b[f->ofs + i] & ~a->mask[i]) | a->val[i]);
		dep_const(x, f->ofs, f->len, a->mask);
	} else {
		flow_field_copy_bits(&flow_fields[a->src_field], k, a->src_start, f, k, a->start, a->n_bits);
		dep_move(x, &flow_fields[a->src_field], a->src_start, f, a->start, a->n_bits);
	}
	if (f->flags & FF_SETS_TAG) {
		static const uint8_t present[1] = { FLOW_TCI_PRESENT >> 8 };

		k->vlan_tci |= htons(FLOW_TCI_PRESENT);
		dep_const(x, offsetof(struct flow_key, vlan_tci), 1, present);
	}
	if (s == SL_VLAN)	/* vlan_sync() tests the new tag's presence */
		dep_read(x, offsetof(struct flow_key, vlan_tci), 1, FLOW_TCI_PRESENT >> 8);
	slot_write(x, pkt, k, s);
}

static void set_vlan(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, const struct flow_act *a)
{
	uint16_t tci = ntohs(k->vlan_tci), changed = a->type == FA_SET_VLAN_VID ? FLOW_TCI_VID : FLOW_TCI_PCP;

	if (pkt->len < 14 || !prepare_write(x, pkt))
		return;
	dep_read_vlan(x);
	if (!(tci & FLOW_TCI_PRESENT)) {
		tci = FLOW_TCI_PRESENT;		/* mod_vlan_*: push a tag (VID 0, priority 0) first */
		changed = 0xffff;
	}
	if (a->type == FA_SET_VLAN_VID)
		tci = (uint16_t)((tci & ~FLOW_TCI_VID) | a->port);
	else
		tci = (uint16_t)((tci & ~FLOW_TCI_PCP) | a->port << 13);
	k->vlan_tci = htons(tci);
	{
		const uint8_t bits[2] = { (uint8_t)(changed >> 8), (uint8_t)changed };

		dep_const(x, offsetof(struct flow_key, vlan_tci), 2, bits);
	}
	vlan_sync(x, pkt, k);
}

static void push_vlan(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, uint16_t tpid)
{
	bool had = frame_tagged(pkt, false);	/* even part of a tag: the key saw no tag, but no IP either */

	if (pkt->len < 14 || !prepare_write(x, pkt))
		return;
	dep_read_vlan(x);
	if (!vlan_push(x, pkt, tpid, 0))
		return;
	if (had) {
		key_reparse(x, pkt, k);	/* the old tag is the inner one now: the key follows the outer */
	} else {
		k->vlan_tci = htons(FLOW_TCI_PRESENT);
		dep_const(x, offsetof(struct flow_key, vlan_tci), 2, NULL);
	}
}

/*
 * What a memo does with an action that ran: nothing (the lookups of
 * resubmit and goto_table depend on the key alone, a note does nothing),
 * keep it for a replay (outputs; writes, which also make the memo need
 * its actions), or give up (clone saves and restores, output:FIELD reads
 * the key at run time: neither is replayed).
 */
enum memo_use { MEMO_SKIP, MEMO_OUTPUT, MEMO_WRITE, MEMO_NEVER };

static enum memo_use memo_use(uint8_t type)
{
	switch ((enum flow_act_type)type) {
	case FA_OUTPUT:
	case FA_IN_PORT:
	case FA_NORMAL:
	case FA_FLOOD:
	case FA_ALL:
		return MEMO_OUTPUT;
	case FA_RESUBMIT:
	case FA_GOTO_TABLE:
	case FA_NOTE:
		return MEMO_SKIP;
	case FA_SET:
	case FA_MOVE:
	case FA_PUSH_VLAN:
	case FA_POP_VLAN:
	case FA_SET_VLAN_VID:
	case FA_SET_VLAN_PCP:
	case FA_DEC_TTL:
		return MEMO_WRITE;
	default:
		return MEMO_NEVER;
	}
}

/* Record action @a of this run for its memo. */
static void memo_note(struct flow_exec *x, const struct flow_act *a)
{
	switch (memo_use(a->type)) {
	case MEMO_SKIP:
		return;
	case MEMO_NEVER:
		x->memo_ok = false;
		return;
	case MEMO_WRITE:
		x->wrote = true;
		break;
	case MEMO_OUTPUT:
		break;
	}
	if (x->n_acts == FLOW_MEMO_ACTS)
		x->acts_full = true;
	else
		x->acts[x->n_acts++] = a;
}

static void pop_vlan(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k)
{
	dep_read_vlan(x);	/* the tag's presence, and dl_type: whether another one is under it */
	if ((k->vlan_tci & htons(FLOW_TCI_PRESENT)) && pkt->len >= 18 && prepare_write(x, pkt)) {
		k->vlan_tci = 0;
		vlan_sync(x, pkt, k);
	}
}

/* An action that neither looks up nor nests (memo_use() MEMO_OUTPUT or MEMO_WRITE); false: dec_ttl stopped the list. */
static bool do_act(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, const struct flow_act *a)
{
	switch ((enum flow_act_type)a->type) {
	case FA_OUTPUT:
		output_port(x, a->port, k);
		break;
	case FA_OUTPUT_FIELD:
		output_port(x, (uint16_t)flow_field_get_bits(&flow_fields[a->field], k, a->start, a->n_bits), k);
		break;
	case FA_IN_PORT:
		emit(x, FLOW_OUT_PORT, ntohs(k->in_port), k);
		break;
	case FA_NORMAL:
		emit(x, FLOW_OUT_NORMAL, 0, k);
		break;
	case FA_FLOOD:
		emit(x, FLOW_OUT_FLOOD, 0, k);
		break;
	case FA_ALL:
		emit(x, FLOW_OUT_ALL, 0, k);
		break;
	case FA_SET:
	case FA_MOVE:
		write_field(x, pkt, k, a);
		break;
	case FA_PUSH_VLAN:
		push_vlan(x, pkt, k, a->port);
		break;
	case FA_POP_VLAN:
		pop_vlan(x, pkt, k);
		break;
	case FA_SET_VLAN_VID:
	case FA_SET_VLAN_PCP:
		set_vlan(x, pkt, k, a);
		break;
	case FA_PUSH:
		if (x->n_stack == FLOW_STACK_MAX) {
			x->cnt[FLOW_CNT_STACK]++;
			x->stop = x->counted = true;
			return false;
		}
		x->stack[x->n_stack++] = flow_field_get128(&flow_fields[a->field], k, a->start, a->n_bits);
		break;
	case FA_POP:
	case FA_CHECK_PKT_LARGER: {
		struct flow_act set;
		flow_u128 v;

		if (a->type == FA_POP) {
			if (!x->n_stack) {
				x->cnt[FLOW_CNT_STACK]++;
				x->stop = x->counted = true;
				return false;
			}
			v = x->stack[--x->n_stack];	/* more bits than pushed: zeros on the left; fewer: cut */
		} else {
			/*
			 * The frame's length but its VLAN tag, as ovs-actions(7) counts
			 * it; of a segmentation request, its largest segment's (OVS's
			 * odp_execute_check_pkt_len()), with what a push or pop since
			 * the run began added or took.
			 */
			uint32_t len = pkt->seg_len ? pkt->seg_len + pkt->len - x->len0 : pkt->frame_len;

			len -= (k->vlan_tci & htons(FLOW_TCI_PRESENT)) && len >= 4 ? 4 : 0;

			v = len > a->port;
		}
		flow_act_set(&set, a->field, a->start, a->n_bits, v, ~(flow_u128)0, FAS_LOAD);
		write_field(x, pkt, k, &set);
		break;
	}
	case FA_DEC_TTL:
		if (!dec_ttl(x, pkt, k)) {
			/* ovs-actions(7): no decrement; the current action list stops, outer ones go on. */
			x->cnt[FLOW_CNT_TTL]++;
			x->counted = true;
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* One action of frame @f. */
static void step(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *k, struct flow_exec_frame *f,
		 const struct flow_act *a)
{
	bool tail = f->i == f->n && !f->clone;
	unsigned table;

	memo_note(x, a);
	switch ((enum flow_act_type)a->type) {
	default:
		if (!do_act(x, pkt, k, a))
			f->i = f->n;
		break;
	case FA_RESUBMIT:
	case FA_GOTO_TABLE: {
		const struct flow_rule *r;

		if (++x->resubmits > FLOW_RESUBMIT_MAX) {
			x->cnt[FLOW_CNT_RESUBMITS]++;
			x->stop = x->counted = true;
			break;
		}
		table = a->table == FLOW_TABLE_ANY ? f->table : a->table;
		if (a->type == FA_RESUBMIT && a->port != FLOW_PORT_NONE) {
			/* The port stands in for in_port in this lookup only (ovs-actions(7), resubmit). */
			uint16_t in_port = k->in_port;

			k->in_port = htons(a->port);
			r = lookup(x, table, k, true);
			k->in_port = in_port;
		} else {
			r = lookup(x, table, k, false);
		}
		/* @f may move when frames are pushed: nothing of it is used after this. */
		enter_table(x, pkt, k, table, r, a->type == FA_GOTO_TABLE, tail);
		break;
	}
	case FA_CLONE:
		clone_begin(x, pkt, k, f, a);
		break;
	case FA_NOTE:
		break;
	case FA_LEARN:
		if (x->learn)
			x->learn(x->learn_arg, a, k);
		f->i = (uint16_t)(f->i + a->n);	/* its specs are not actions */
		break;
	case FA_EXIT:
		x->stop = true;		/* every list, the outer ones too (ovs-actions(7)); no memo for such a run */
		break;
	}
}

void flow_act_set(struct flow_act *a, unsigned id, unsigned start, unsigned n, flow_u128 v, flow_u128 m,
		  unsigned syntax)
{
	const struct flow_field *f = &flow_fields[id];
	struct flow_key kv, km;

	m &= flow_ones(n);
	if (start == 0 && n == f->n_bits)
		m &= flow_field_valid(f);	/* a whole nw_tos: its DSCP bits, as `load` writes it */
	memset(a, 0, sizeof(*a));
	memset(&kv, 0, sizeof(kv));
	memset(&km, 0, sizeof(km));
	a->type = FA_SET;
	a->syntax = (uint8_t)syntax;
	a->field = (uint8_t)id;
	a->start = (uint8_t)start;
	a->n_bits = (uint8_t)n;
	a->table = FLOW_TABLE_ANY;
	a->port = FLOW_PORT_NONE;
	flow_field_set128(f, &kv, start, n, v & m);
	flow_field_set128(f, &km, start, n, m);
	memcpy(a->val, kv.b + f->ofs, f->len);
	memcpy(a->mask, km.b + f->ofs, f->len);
}

void flow_exec_init(struct flow_exec *x)
{
	memset(x, 0, sizeof(*x));
}

void flow_exec_begin(struct flow_exec *x, const struct flow_tables *tables, uint64_t now_ms)
{
	x->tables = tables;
	x->now_ms = now_ms;
	x->n_stats = 0;
}

unsigned flow_exec_run(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *key, uint8_t table,
		       const struct flow_rule *rule)
{
	x->n_out = 0;
	x->n_tun6 = 0;
	x->n_snap = 0;
	x->live_taken = false;
	x->stop = false;
	x->counted = false;
	x->resubmits = 0;
	x->n_frames = 0;
	x->n_clone = 0;
	x->n_stack = 0;
	x->n_entered = 0;
	x->miss_drops = 0;
	x->n_missed = 0;
	x->wrote = x->acts_full = false;
	x->n_acts = 0;
	x->len0 = pkt->len;
	x->head0 = pkt->head;
	x->flags0 = pkt->flags;
	x->l3_0 = pkt->ofs.l3;
	x->l4_0 = pkt->ofs.l4;
	x->trunc0 = pkt->ofs.truncated;
	x->dep_on = x->dep_lost = false;
	x->memo_ok = !x->trace && table == 0;
	x->cnt[FLOW_CNT_PACKETS]++;
	if (pkt->len > FLOW_HDR_MAX || table >= FLOW_N_TABLES) {
		x->cnt[FLOW_CNT_HDR_TOO_BIG]++;
		x->memo_ok = false;
		return 0;
	}
	enter_table(x, pkt, key, table, rule, true, false);
	while (x->n_frames && !x->stop) {
		struct flow_exec_frame *f = &x->frames[x->n_frames - 1];

		if (f->i >= f->n) {
			if (f->clone)
				clone_end(x, pkt, key);
			x->n_frames--;
			continue;
		}
		f->i++;
		step(x, pkt, key, f, &f->a[f->i - 1]);
	}
	if (!x->n_out && !x->counted)
		x->cnt[FLOW_CNT_NO_OUTPUT]++;
	return x->n_out;
}

bool flow_exec_memo(const struct flow_exec *x, struct flow_memo *m, struct flow_memo_acts *ma)
{
	/* A limit that ended the run (stop) or cut outputs (OUT_FULL: n_out stays at the maximum) is no memo either. */
	if (!x->memo_ok || x->stop)
		return false;
	if (x->wrote) {
		/* Its actions, for a frame shaped as this one (flow_memo_acts_fit()). */
		if (!ma || x->acts_full || x->trunc0 || x->n_out >= FLOW_OUT_MAX)
			return false;
		ma->n = x->n_acts;
		memcpy(ma->rule_at, x->entered_at, sizeof(ma->rule_at));
		ma->head_len = x->len0;
		ma->head = x->head0;
		ma->pkt_flags = x->flags0;
		ma->l3 = x->l3_0;
		ma->l4 = x->l4_0;
		memcpy(ma->a, x->acts, x->n_acts * sizeof(x->acts[0]));
		m->n_out = 0;
		m->flags = FLOW_MEMO_F_WRITES;
		memset(m->out, 0, sizeof(m->out));
	} else {
		if (x->n_out > FLOW_MEMO_OUTS || x->n_snap)
			return false;
		for (unsigned i = 0; i < x->n_out; i++)
			if (x->out[i].snap != FLOW_SNAP_LIVE || x->out[i].tun_id || x->out[i].tun_dst ||
			    x->out[i].tun6)
				return false;	/* a memo's outputs have no tunnel metadata (struct flow_memo_out) */
		m->n_out = (uint8_t)x->n_out;
		m->flags = 0;
		memset(m->out, 0, sizeof(m->out));	/* replay copies them all */
		for (unsigned i = 0; i < x->n_out; i++)
			m->out[i] = (struct flow_memo_out){ x->out[i].kind, x->out[i].snap, x->out[i].port,
							    x->out[i].in_port, 0 };
	}
	m->n_rules = x->n_entered;
	m->n_missed = x->n_missed;
	memcpy(m->missed, x->missed, sizeof(m->missed));
	m->miss_drops = x->miss_drops;
	if (!x->n_out && !x->counted)
		m->flags |= FLOW_MEMO_F_NO_OUTPUT;
	memcpy(m->rules, x->entered, x->n_entered * sizeof(x->entered[0]));
	return true;
}

unsigned flow_exec_replay_acts(struct flow_exec *x, const struct flow_memo *m, const struct flow_memo_acts *ma,
			       struct flow_pkt *pkt, struct flow_key *key)
{
	unsigned r = 0;

	x->n_out = 0;
	x->n_tun6 = 0;
	x->n_snap = 0;
	x->live_taken = false;
	x->stop = false;
	x->counted = m->miss_drops != 0;
	x->cnt[FLOW_CNT_PACKETS]++;
	x->cnt[FLOW_CNT_MISS_DROP] += m->miss_drops;
	for (unsigned i = 0; i < m->n_missed; i++)
		cnt_inc(&x->tables_cnt[m->missed[i]].misses);
	for (unsigned i = 0; i <= ma->n && !x->stop; i++) {
		/* Each rule counts the frame's length as it was when the run entered it (a push before: 4 more). */
		while (r < m->n_rules && ma->rule_at[r] == i)
			stats_add(x, m->rules[r++], pkt->frame_len);
		if (i < ma->n)
			do_act(x, pkt, key, ma->a[i]);
	}
	if (!x->n_out && !x->counted)
		x->cnt[FLOW_CNT_NO_OUTPUT]++;
	return x->n_out;
}

unsigned flow_exec_replay(struct flow_exec *x, const struct flow_memo *m, uint32_t frame_len)
{
	_Static_assert(FLOW_MEMO_OUTS <= FLOW_OUT_MAX, "a memo's outputs fit the executor's");
	_Static_assert(sizeof(struct flow_memo) <= 64, "a memo is one cache line");

	x->n_snap = 0;
	x->n_out = m->n_out;
	for (unsigned i = 0; i < FLOW_MEMO_OUTS; i++)	/* the whole array: a fixed count */
		x->out[i] = (struct flow_out){ .kind = m->out[i].kind, .snap = m->out[i].snap, .port = m->out[i].port,
					       .in_port = m->out[i].in_port };
	x->cnt[FLOW_CNT_PACKETS]++;
	x->cnt[FLOW_CNT_MISS_DROP] += m->miss_drops;
	x->cnt[FLOW_CNT_NO_OUTPUT] += m->flags & FLOW_MEMO_F_NO_OUTPUT;
	for (unsigned i = 0; i < m->n_rules; i++)
		stats_add(x, m->rules[i], frame_len);
	for (unsigned i = 0; i < m->n_missed; i++)
		cnt_inc(&x->tables_cnt[m->missed[i]].misses);
	return m->n_out;
}

void flow_exec_replay_more(struct flow_exec *x, const struct flow_memo *m, unsigned n_frames, uint64_t bytes)
{
	x->cnt[FLOW_CNT_PACKETS] += n_frames;
	x->cnt[FLOW_CNT_MISS_DROP] += (uint64_t)n_frames * m->miss_drops;
	x->cnt[FLOW_CNT_NO_OUTPUT] += (uint64_t)n_frames * (m->flags & FLOW_MEMO_F_NO_OUTPUT);
	for (unsigned i = 0; i < m->n_rules; i++)
		stats_add_n(x, m->rules[i], n_frames, bytes);
	for (unsigned i = 0; i < m->n_missed; i++) {
		atomic_uint_least64_t *c = &x->tables_cnt[m->missed[i]].misses;

		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n_frames, memory_order_relaxed);
	}
}

void flow_exec_end(struct flow_exec *x)
{
	stats_flush(x);
}
