/* key.c - flow key extraction from a bounded copy of a frame's first bytes, and match comparisons. */
#include "flow/key.h"

#include <arpa/inet.h>
#include <string.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_RARP 0x8035
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_IPV6 0x86dd

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60

/*
 * The bytes a reader may look at: @end is the smaller of the copy and the
 * frame, @lim is where the current layer's own length says it ends (an IP
 * payload).  A header is taken only when it fits below both.
 */
struct cursor {
	const uint8_t *p;
	size_t end;		/* min(hdr_len, frame_len) */
	size_t frame_len;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* True when @len bytes at @off are in the copy; when they are in the frame but not in the copy, flags truncation. */
static bool have(const struct cursor *c, size_t off, size_t len, struct flow_ofs *ofs)
{
	if (off + len <= c->end)
		return true;
	if (off + len <= c->frame_len)
		ofs->truncated = 1;
	return false;
}

/* TCP, UDP, ICMP, ICMPv6 ports or type and code, when the header fits in both the copy and the IP payload. */
static void extract_l4(struct flow_key *key, const struct cursor *c, size_t off, size_t l4_len, struct flow_ofs *ofs)
{
	size_t need;

	switch (key->nw_proto) {
	case IPPROTO_TCP_:
		need = 20;
		break;
	case IPPROTO_UDP_:
		need = 8;
		break;
	case IPPROTO_ICMP_:
		if (key->dl_type != htons(ETH_P_IP))
			return;
		need = 8;
		break;
	case IPPROTO_ICMPV6_:
		if (key->dl_type != htons(ETH_P_IPV6))
			return;
		need = 4;
		break;
	default:
		return;
	}
	if (l4_len < need || !have(c, off, need, ofs))
		return;
	if (key->nw_proto == IPPROTO_TCP_ && (c->p[off + 12] >> 4) < 5)
		return;		/* a data offset below the header's own size: not a TCP header */
	if (key->nw_proto == IPPROTO_ICMP_ || key->nw_proto == IPPROTO_ICMPV6_) {
		key->tp_src = htons(c->p[off]);
		key->tp_dst = htons(c->p[off + 1]);
	} else {
		memcpy(&key->tp_src, c->p + off, 2);
		memcpy(&key->tp_dst, c->p + off + 2, 2);
		if (key->nw_proto == IPPROTO_TCP_)
			key->tcp_flags = htons(rd16(c->p + off + 12) & FLOW_TCP_FLAGS_MASK);
	}
	ofs->l4 = (uint16_t)off;
	ofs->l4_len = (uint16_t)(l4_len > 0xffff ? 0xffff : l4_len);
}

static void extract_ipv4(struct flow_key *key, const struct cursor *c, size_t off, struct flow_ofs *ofs)
{
	const uint8_t *ip = c->p + off;
	size_t ihl, tot;
	uint16_t frag;

	if (!have(c, off, 20, ofs))
		return;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || off + tot > c->frame_len)
		return;
	if (!have(c, off, ihl, ofs))
		return;
	memcpy(&key->nw_src, ip + 12, 4);
	memcpy(&key->nw_dst, ip + 16, 4);
	key->nw_proto = ip[9];
	key->nw_tos = ip[1];
	key->nw_ttl = ip[8];
	frag = rd16(ip + 6);
	if (frag & 0x3fff) {	/* MF, or a nonzero offset */
		key->nw_frag = FLOW_FRAG_ANY;
		if (frag & 0x1fff)
			key->nw_frag |= FLOW_FRAG_LATER;
	}
	ofs->l3 = (uint16_t)off;
	if (!(key->nw_frag & FLOW_FRAG_LATER))
		extract_l4(key, c, off + ihl, tot - ihl, ofs);
}

static void extract_ipv6(struct flow_key *key, const struct cursor *c, size_t off, struct flow_ofs *ofs)
{
	const uint8_t *ip = c->p + off;
	size_t plen, at, left;
	uint8_t next;

	if (!have(c, off, 40, ofs))
		return;
	plen = rd16(ip + 4);
	if ((ip[0] >> 4) != 6 || off + 40 + plen > c->frame_len)
		return;
	memcpy(key->ipv6_src, ip + 8, 16);
	memcpy(key->ipv6_dst, ip + 24, 16);
	key->nw_tos = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
	key->nw_ttl = ip[7];
	ofs->l3 = (uint16_t)off;
	next = ip[6];
	at = off + 40;
	left = plen;

	/* Extension headers, a bounded number: each must fit in the payload and in the copy. */
	for (unsigned n = 0; n < FLOW_IPV6_EXT_MAX; n++) {
		size_t len;

		if (next != IPPROTO_HOPOPTS_ && next != IPPROTO_ROUTING_ && next != IPPROTO_DSTOPTS_ &&
		    next != IPPROTO_AH_ && next != IPPROTO_FRAGMENT_)
			break;
		if (left < 8 || !have(c, at, 8, ofs)) {
			key->nw_proto = next;
			return;
		}
		if (next == IPPROTO_FRAGMENT_) {
			uint16_t fo = rd16(c->p + at + 2);

			key->nw_frag = FLOW_FRAG_ANY;
			if (fo & 0xfff8) {
				/* Not the first fragment: OVS leaves nw_proto at 44 and reads nothing further. */
				key->nw_frag |= FLOW_FRAG_LATER;
				key->nw_proto = IPPROTO_FRAGMENT_;
				return;
			}
			len = 8;
		} else if (next == IPPROTO_AH_) {
			len = ((size_t)c->p[at + 1] + 2) * 4;
		} else {
			len = ((size_t)c->p[at + 1] + 1) * 8;
		}
		if (len > left || !have(c, at, len, ofs)) {
			key->nw_proto = next;
			return;
		}
		next = c->p[at];
		at += len;
		left -= len;
	}
	key->nw_proto = next;
	if (next == IPPROTO_HOPOPTS_ || next == IPPROTO_ROUTING_ || next == IPPROTO_DSTOPTS_ ||
	    next == IPPROTO_AH_ || next == IPPROTO_FRAGMENT_)
		return;		/* more extension headers than we walk: no L4 */
	extract_l4(key, c, at, left, ofs);
}

static void extract_arp(struct flow_key *key, const struct cursor *c, size_t off, struct flow_ofs *ofs)
{
	const uint8_t *a = c->p + off;
	uint16_t op;

	if (!have(c, off, 28, ofs))
		return;
	/* Ethernet hardware addresses and IPv4 protocol addresses only (hrd 1, pro 0x0800, hln 6, pln 4). */
	if (rd16(a) != 1 || rd16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return;
	op = rd16(a + 6);
	key->nw_proto = op <= 0xff ? (uint8_t)op : 0;
	memcpy(key->arp_sha, a + 8, 6);
	memcpy(&key->nw_src, a + 14, 4);
	memcpy(key->arp_tha, a + 18, 6);
	memcpy(&key->nw_dst, a + 24, 4);
	ofs->l3 = (uint16_t)off;
}

/*
 * @key all zero, in 16-byte stores: a memset() of its 168 bytes is a `rep
 * stos` on x86-64, whose start-up was most of the extraction's time on
 * the data path (bench/bench_flows.c: about 20 of 87 cycles per frame).
 * With @whole false only the words a frame's headers fill (the first
 * FLOW_KEY_FRAME_WORDS): the caller knows the rest are zero already.
 */
static inline void key_zero(struct flow_key *key, bool whole)
{
	typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8)));
	const u64x2 z = { 0, 0 };
	u64x2 *v = (u64x2 *)key->w;

	/* Written out: a loop of them is turned back into the memset. */
	_Static_assert(sizeof(*key) == 10 * 16 + 8 && FLOW_KEY_FRAME_WORDS == 10,
		       "the key is ten pairs of words and one, the frame's five pairs");
	v[0] = z, v[1] = z, v[2] = z, v[3] = z, v[4] = z;
	if (!whole)
		return;
	v[5] = z, v[6] = z, v[7] = z, v[8] = z, v[9] = z;
	key->w[20] = 0;
}

/*
 * The frame most traffic is, taken without the general walk: untagged
 * IPv4 without options, not a fragment, TCP (a data offset of 5 or more)
 * or UDP, whose headers are all in the copy and whose IP total length
 * fits the frame and holds the L4 header.  Looks before it writes: false,
 * and nothing written, for any other frame.  The key and offsets are
 * the walk's (test_flow_key: flow_key_extract_walk() on the same frames).
 */
static inline bool extract_fast(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len,
				uint16_t in_port, struct flow_ofs *ofs, bool whole)
{
	const uint8_t *ip = hdr + ETH_HLEN, *l4 = ip + 20;
	size_t end = hdr_len < frame_len ? hdr_len : frame_len, tot;
	unsigned need;

	if (end < ETH_HLEN + 20 + 8 || rd16(hdr + 12) != ETH_P_IP || ip[0] != 0x45 || (rd16(ip + 6) & 0x3fff))
		return false;
	if (ip[9] == IPPROTO_UDP_)
		need = 8;
	else if (ip[9] == IPPROTO_TCP_ && end >= ETH_HLEN + 20 + 20 && (l4[12] >> 4) >= 5)
		need = 20;
	else
		return false;
	tot = rd16(ip + 2);
	if (tot < 20 + need || ETH_HLEN + tot > frame_len)
		return false;
	key_zero(key, whole);
	key->in_port = htons(in_port);
	memcpy(key->dl_dst, hdr, 6);
	memcpy(key->dl_src, hdr + 6, 6);
	key->dl_type = htons(ETH_P_IP);
	memcpy(&key->nw_src, ip + 12, 4);
	memcpy(&key->nw_dst, ip + 16, 4);
	key->nw_proto = ip[9];
	key->nw_tos = ip[1];
	key->nw_ttl = ip[8];
	memcpy(&key->tp_src, l4, 2);
	memcpy(&key->tp_dst, l4 + 2, 2);
	if (need == 20)
		key->tcp_flags = htons(rd16(l4 + 12) & FLOW_TCP_FLAGS_MASK);
	*ofs = (struct flow_ofs){ ETH_HLEN, ETH_HLEN + 20, (uint16_t)(tot - 20), 0, 0 };
	return true;
}

static void extract_walk(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len, uint16_t in_port,
			 struct flow_ofs *ofs, bool whole);

void flow_key_extract(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len, uint16_t in_port,
		      struct flow_ofs *ofs)
{
	if (ofs && extract_fast(key, hdr, hdr_len, frame_len, in_port, ofs, true))
		return;
	extract_walk(key, hdr, hdr_len, frame_len, in_port, ofs, true);
}

bool flow_key_extract_frame(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len,
			    uint16_t in_port, struct flow_ofs *ofs)
{
	if (extract_fast(key, hdr, hdr_len, frame_len, in_port, ofs, false))
		return true;
	extract_walk(key, hdr, hdr_len, frame_len, in_port, ofs, false);
	return false;
}

void flow_key_extract_walk(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len,
			   uint16_t in_port, struct flow_ofs *ofs)
{
	extract_walk(key, hdr, hdr_len, frame_len, in_port, ofs, true);
}

/* Both extractions' general walk; @whole as key_zero()'s. */
static void extract_walk(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len, uint16_t in_port,
			 struct flow_ofs *ofs, bool whole)
{
	struct flow_ofs scratch;
	struct cursor c = { hdr, hdr_len < frame_len ? hdr_len : frame_len, frame_len };
	uint16_t type;
	size_t off = ETH_HLEN;

	if (!ofs)
		ofs = &scratch;
	*ofs = (struct flow_ofs){ FLOW_OFS_NONE, FLOW_OFS_NONE, 0, 0, 0 };
	key_zero(key, whole);
	key->in_port = htons(in_port);
	if (!have(&c, 0, ETH_HLEN, ofs))
		return;
	memcpy(key->dl_dst, hdr, 6);
	memcpy(key->dl_src, hdr + 6, 6);
	type = rd16(hdr + 12);

	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		if (!have(&c, off, 4, ofs)) {
			/* Part of a tag only: OVS drops such a frame in normal; the key says nothing beyond the MACs. */
			return;
		}
		key->vlan_tci = htons(rd16(hdr + off) | FLOW_TCI_PRESENT);
		type = rd16(hdr + off + 2);
		off += 4;
	}
	if (type < 0x600) {
		/* 802.2 LLC: an Ethertype only behind a SNAP header with a zero OUI (RFC 1042). */
		static const uint8_t snap[6] = { 0xaa, 0xaa, 0x03, 0, 0, 0 };

		if (have(&c, off, 8, ofs) && memcmp(hdr + off, snap, 6) == 0 && rd16(hdr + off + 6) >= 0x600) {
			type = rd16(hdr + off + 6);
			off += 8;
		} else {
			key->dl_type = htons(FLOW_DL_TYPE_NONE);
			return;
		}
	}
	key->dl_type = htons(type);
	switch (type) {
	case ETH_P_IP:
		extract_ipv4(key, &c, off, ofs);
		break;
	case ETH_P_IPV6:
		extract_ipv6(key, &c, off, ofs);
		break;
	case ETH_P_ARP:
	case ETH_P_RARP:
		extract_arp(key, &c, off, ofs);
		break;
	default:
		break;
	}
}

bool flow_match_equal(const struct flow_match *a, const struct flow_match *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool flow_match_covers(const struct flow_match *wide, const struct flow_match *narrow)
{
	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++) {
		if (wide->mask.w[i] & ~narrow->mask.w[i])
			return false;	/* wide looks at a bit narrow leaves free */
		if ((narrow->value.w[i] & wide->mask.w[i]) != wide->value.w[i])
			return false;
	}
	return true;
}
