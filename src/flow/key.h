/* key.h - the flow key: every field a flow can match, as 64-bit words for masked compare, and its extraction from a frame's first bytes. */
#ifndef VSW_FLOW_KEY_H
#define VSW_FLOW_KEY_H

/*
 * One key per packet, built once from a private copy of the frame's first
 * bytes (flow_key_extract) and kept in step with the headers by the
 * actions.  Every field is stored in network byte order, metadata and
 * registers too, so that a field is "n bytes big-endian at an offset"
 * for every reader (the classifier, the parser, load/move/set_field),
 * and a mask is the same thing with 1-bits where the key must match.
 *
 *   word  bytes
 *     0   in_port(2) vlan_tci(2) dl_type(2) nw_proto(1) nw_frag(1)
 *     1   dl_dst(6) tp_src(2)
 *     2   dl_src(6) tp_dst(2)
 *     3   nw_src(4) nw_dst(4)          IPv4 addresses, or ARP spa/tpa
 *     4   nw_tos(1) nw_ttl(1) arp_sha(6)
 *     5   arp_tha(6) tcp_flags(2)
 *   6-7   ipv6_src
 *   8-9   ipv6_dst
 *    10   tun_id
 *    11   tun_src(4) tun_dst(4)
 *    12   metadata
 * 13-16   reg0 .. reg7
 * 17-18   tun_ipv6_src
 * 19-20   tun_ipv6_dst
 *
 * Shared slots, as in Open vSwitch's struct flow: an ARP frame keeps its
 * opcode (low 8 bits; larger opcodes read as 0) in nw_proto and its
 * sender/target IPv4 addresses in nw_src/nw_dst; ICMP type and code sit in
 * the low byte of tp_src and tp_dst.  vlan_tci has bit 12 (CFI/DEI in the
 * frame) forced to 1 when a tag is present and is 0 without one.  nw_tos is
 * the whole ToS/traffic-class byte (DSCP and ECN); nw_frag has bit 0 for
 * "a fragment" and bit 1 for "not the first fragment".  tcp_flags is the
 * low 12 bits of the TCP header's 13th and 14th bytes (NS, CWR ... FIN,
 * and the three reserved bits above NS), 0 in any frame but TCP; it
 * shares word 5 with arp_tha, which only ARP frames fill.
 *
 * A frame from an IPv4 underlay fills tun_src/tun_dst, one from an IPv6
 * underlay tun_ipv6_src/tun_ipv6_dst, and the other pair stays 0 (as Open
 * vSwitch's flow_tnl).  The IPv6 pair is last: the words every frame uses
 * keep their places, the caches (which hold the first 10 words of keys
 * whose later words are 0) are unchanged, and a frame from no tunnel pays
 * two more 16-byte zero stores.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FLOW_KEY_WORDS 21
/* The words a frame's own headers fill (0-9); the rest are tunnel, metadata and registers. */
#define FLOW_KEY_FRAME_WORDS 10

/* nw_frag bits (NXM_NX_IP_FRAG). */
#define FLOW_FRAG_ANY 0x01
#define FLOW_FRAG_LATER 0x02

/* tcp_flags: the bits that exist (ovs-fields(7): the low 12 of the 16). */
#define FLOW_TCP_FLAGS_MASK 0x0fff

/* vlan_tci: the "tag present" bit and the fields of the TCI. */
#define FLOW_TCI_PRESENT 0x1000
#define FLOW_TCI_VID 0x0fff
#define FLOW_TCI_PCP 0xe000

/* dl_type of a frame with an 802.2 length field and no SNAP Ethertype (OVS's OFP_DL_TYPE_NOT_ETH_TYPE). */
#define FLOW_DL_TYPE_NONE 0x05ff

struct flow_key {
	union {
		struct {
			uint16_t in_port;
			uint16_t vlan_tci;
			uint16_t dl_type;
			uint8_t nw_proto;
			uint8_t nw_frag;

			uint8_t dl_dst[6];
			uint16_t tp_src;

			uint8_t dl_src[6];
			uint16_t tp_dst;

			uint32_t nw_src;
			uint32_t nw_dst;

			uint8_t nw_tos;
			uint8_t nw_ttl;
			uint8_t arp_sha[6];

			uint8_t arp_tha[6];
			uint16_t tcp_flags;

			uint8_t ipv6_src[16];
			uint8_t ipv6_dst[16];

			uint64_t tun_id;
			uint32_t tun_src;
			uint32_t tun_dst;

			uint64_t metadata;
			uint32_t regs[8];

			uint8_t tun_ipv6_src[16];
			uint8_t tun_ipv6_dst[16];
		};
		uint64_t w[FLOW_KEY_WORDS];
		uint8_t b[FLOW_KEY_WORDS * 8];
	};
};

_Static_assert(sizeof(struct flow_key) == FLOW_KEY_WORDS * 8, "flow_key is whole words");
_Static_assert(offsetof(struct flow_key, tp_src) == 14, "tp_src closes word 1");
_Static_assert(offsetof(struct flow_key, nw_src) == 24, "nw_src opens word 3");
_Static_assert(offsetof(struct flow_key, tcp_flags) == 46, "tcp_flags closes word 5");
_Static_assert(offsetof(struct flow_key, ipv6_src) == 48, "ipv6_src opens word 6");
_Static_assert(offsetof(struct flow_key, tun_id) == 80, "tun_id is word 10");
_Static_assert(offsetof(struct flow_key, metadata) == 96, "metadata is word 12");
_Static_assert(offsetof(struct flow_key, regs) == 104, "registers are words 13-16");
_Static_assert(offsetof(struct flow_key, tun_ipv6_src) == 136, "tun_ipv6_src opens word 17");

/* A match: the key bits a rule looks at (mask) and their values (value, no bit outside the mask). */
struct flow_match {
	struct flow_key value;
	struct flow_key mask;
};

/*
 * Where the layers of a frame start, from its first byte (what the actions
 * need to rewrite headers).  FLOW_OFS_NONE when the layer was not parsed.
 */
#define FLOW_OFS_NONE 0xffff

struct flow_ofs {
	uint16_t l3;		/* IPv4, IPv6 or ARP header */
	uint16_t l4;		/* TCP, UDP, ICMP or ICMPv6 header (only of a first or only fragment) */
	uint16_t l4_len;	/* the IP payload's length from l4 on, as its IP header says (for checksums) */
	uint8_t truncated;	/* the copy ended before a header the frame has: the key holds what came before */
	uint8_t pad;
};

/*
 * Build @key from the @hdr_len bytes at @hdr, a copy of the first bytes of
 * a frame of @frame_len bytes received on @in_port; where the layers
 * start goes to @ofs (may be NULL).  Every read is bounded by both
 * lengths: the frame is untrusted.  What cannot be parsed (a header cut
 * short, an IPv4 header with a bad IHL or total length, an unknown
 * Ethertype) leaves the fields from that layer on at zero, as Open
 * vSwitch does.  Parsed: Ethernet, one 802.1Q/802.1ad tag (a second tag's
 * TPID becomes dl_type), 802.2 SNAP, IPv4 with options, IPv6 with its
 * hop-by-hop, routing, fragment, destination options and AH extension
 * headers (at most FLOW_IPV6_EXT_MAX of them), ARP/RARP over Ethernet and
 * IPv4, TCP, UDP, ICMP, ICMPv6.  Tunnel fields, metadata and registers
 * are zero.
 */
void flow_key_extract(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len, uint16_t in_port,
		      struct flow_ofs *ofs);

/*
 * flow_key_extract() by the general walk alone, for every frame: the
 * same key and offsets.  flow_key_extract() takes the most common frame
 * (untagged IPv4 without options, TCP or UDP) a shorter way first; the
 * tests compare the two.
 */
void flow_key_extract_walk(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len,
			   uint16_t in_port, struct flow_ofs *ofs);

/*
 * flow_key_extract() into a key whose words from FLOW_KEY_FRAME_WORDS on
 * (tunnel fields, metadata, registers) are zero already, and stay as they
 * are: 80 bytes written instead of 168.  A worker's key slots keep them
 * zero between frames that set none of them (dp/flows.c).  @ofs is
 * required.  True when the frame was of the common shape
 * flow_key_extract() takes the short way (untagged IPv4 without options
 * or fragments, TCP or UDP, lengths consistent): then
 * flow_key_extract_same() may follow it.
 */
bool flow_key_extract_frame(struct flow_key *key, const uint8_t *hdr, size_t hdr_len, size_t frame_len,
			    uint16_t in_port, struct flow_ofs *ofs);

/*
 * The lengths of a head of the short way's shape (untagged IPv4 with IHL
 * 5, TCP if hdr[23] is 6, else UDP) as extract_fast() checks them: its TCP
 * or UDP header inside @end (the head's end or the frame's, the nearer),
 * the IP total length holding that header and inside @frame_len.  The
 * total length when they hold, else 0.  Both head compares' end.
 */
static inline unsigned flow_head_tot(const uint8_t *hdr, size_t end, size_t frame_len)
{
	unsigned need = hdr[23] == 6 ? 20 : 8, tot;

	if (end < 14 + 20 + need)
		return 0;
	tot = (unsigned)hdr[16] << 8 | hdr[17];
	if (tot < 20 + need || 14 + tot > frame_len)
		return 0;
	return tot;
}

/*
 * Whether a frame received on the port of a frame whose key
 * flow_key_extract_frame() made from the head at @prev_hdr, returning
 * true, has that frame's key too: when the frame's head @hdr agrees with
 * @prev_hdr on every byte the key is made of and on the bytes that chose
 * the short way (Ethertype, version and IHL, the fragment bits,
 * protocol, TCP data offset), and its own lengths are consistent, its
 * IPv4 total length (28 or more); else 0.  flow_key_extract_same() makes
 * the key from it; dp/flows.c compares a batch's heads first, and makes
 * keys only when it needs them.
 *
 * Reads the first 42 bytes of both heads whatever @hdr_len says (and a
 * TCP frame's bytes 46-47 once @hdr_len says they are there): the caller's heads
 * have that room (a packet's head buffer); an answer never depends on
 * bytes past @hdr_len (the length checks refuse such a frame).
 */
static inline unsigned flow_key_head_same(const uint8_t *hdr, const uint8_t *prev_hdr, size_t hdr_len,
					  size_t frame_len)
{
	typedef uint8_t v16 __attribute__((vector_size(16), aligned(1)));
	typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8)));
	/*
	 *   bytes  0-15  MACs, Ethertype, version/IHL, ToS: all
	 *   bytes 16-31  total length, id: no; flags/fragment offset but DF (0x3fff); TTL, protocol: all;
	 *                header checksum: no; source address, first half of destination: all
	 *   bytes 26-41  addresses, ports: all; UDP length and checksum or TCP sequence: no
	 */
	static const v16 m1 = { 0, 0, 0, 0, 0x3f, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const v16 m2 = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	size_t end = hdr_len < frame_len ? hdr_len : frame_len;
	v16 d;

	/* The addresses and ports first: a frame of another flow stops here. */
	d = (*(const v16 *)(hdr + 26) ^ *(const v16 *)(prev_hdr + 26)) & m2;
	if (((u64x2)d)[0] | ((u64x2)d)[1])
		return 0;
	d = (*(const v16 *)hdr ^ *(const v16 *)prev_hdr) | ((*(const v16 *)(hdr + 16) ^ *(const v16 *)(prev_hdr + 16)) & m1);
	if (((u64x2)d)[0] | ((u64x2)d)[1])
		return 0;
	/* Of @prev's shape: IPv4 with IHL 5, no fragment, TCP (data offset >= 5: @prev's) or UDP. */
	if (hdr[23] == 6 && end >= 14 + 20 + 20 && ((hdr[46] ^ prev_hdr[46]) | (hdr[47] ^ prev_hdr[47])))
		return 0;	/* TCP: the data offset and the flags (tcp_flags) as @prev's */
	return flow_head_tot(hdr, end, frame_len);
}

/*
 * The key and offsets of a frame flow_key_head_same() found to have
 * @prev's (@tot: what it returned): @prev's frame words, copied, and its
 * offsets with the frame's own L4 length, as flow_key_extract_frame()
 * would make them.
 */
static inline void flow_key_same_fill(struct flow_key *key, const struct flow_key *prev, unsigned tot,
				      struct flow_ofs *ofs)
{
	memcpy(key->w, prev->w, FLOW_KEY_FRAME_WORDS * 8);
	*ofs = (struct flow_ofs){ 14, 14 + 20, (uint16_t)(tot - 20), 0, 0 };
}

/*
 * flow_key_extract_frame() of a frame received on the port of @prev's,
 * right after @prev was made from the head at @prev_hdr by
 * flow_key_extract_frame() returning true: when flow_key_head_same() says
 * the frame has @prev's key, that key and its offsets
 * (flow_key_same_fill()): true.  False, with @key and @ofs untouched, for
 * any other frame (the caller extracts it).  A run of one flow's frames
 * (a TCP stream's burst) then costs a compare and a copy each instead of
 * an extraction, and dp/flows.c knows their keys are equal without
 * comparing them.  Reads as flow_key_head_same().
 */
static inline bool flow_key_extract_same(struct flow_key *key, const struct flow_key *prev, const uint8_t *hdr,
					 const uint8_t *prev_hdr, size_t hdr_len, size_t frame_len,
					 struct flow_ofs *ofs)
{
	unsigned tot = flow_key_head_same(hdr, prev_hdr, hdr_len, frame_len);

	if (!tot)
		return false;
	flow_key_same_fill(key, prev, tot, ofs);
	return true;
}

/*
 * A key mask (the first FLOW_KEY_FRAME_WORDS words: a megaflow's) as a
 * mask over the first 48 bytes of a frame of the short way's shape
 * (untagged IPv4 with IHL 5, TCP or UDP: extract_fast() in key.c), for
 * flow_key_head_in().  Where the key takes a field from the frame, the
 * field's mask; the bytes that decide the frame's shape (EtherType,
 * version and IHL, fragment bits, protocol, TCP data offset) always; the
 * rest (lengths, id, checksums, TCP sequence) never.
 */
struct flow_head_mask {
	uint8_t m[48];
};

static inline void flow_head_mask_of(struct flow_head_mask *hm, const uint64_t *mask_words, bool tcp)
{
	const uint8_t *mb = (const uint8_t *)mask_words;

	_Static_assert(offsetof(struct flow_key, tcp_flags) + 2 <= FLOW_KEY_FRAME_WORDS * 8,
		       "the fields taken from a frame lie in its words");
	memset(hm, 0, sizeof(*hm));
	memcpy(hm->m, mb + offsetof(struct flow_key, dl_dst), 6);
	memcpy(hm->m + 6, mb + offsetof(struct flow_key, dl_src), 6);
	hm->m[12] = hm->m[13] = hm->m[14] = 0xff;	/* EtherType, version and IHL */
	hm->m[15] = mb[offsetof(struct flow_key, nw_tos)];
	hm->m[20] = 0x3f, hm->m[21] = 0xff;		/* fragment bits (MF, offset): none, as frame 0's */
	hm->m[22] = mb[offsetof(struct flow_key, nw_ttl)];
	hm->m[23] = 0xff;				/* protocol */
	memcpy(hm->m + 26, mb + offsetof(struct flow_key, nw_src), 4);
	memcpy(hm->m + 30, mb + offsetof(struct flow_key, nw_dst), 4);
	memcpy(hm->m + 34, mb + offsetof(struct flow_key, tp_src), 2);
	memcpy(hm->m + 36, mb + offsetof(struct flow_key, tp_dst), 2);
	if (tcp) {
		/* data offset (as frame 0's) and tcp_flags' twelve bits, which the key holds big-endian */
		hm->m[46] = 0xf0 | (mb[offsetof(struct flow_key, tcp_flags)] & (FLOW_TCP_FLAGS_MASK >> 8));
		hm->m[47] = mb[offsetof(struct flow_key, tcp_flags) + 1] & (FLOW_TCP_FLAGS_MASK & 0xff);
	}
}

/*
 * Does the frame with head @hdr (@hdr_len bytes of @frame_len) have, under
 * the key mask @hm was made of (flow_head_mask_of(), with @hdr0[23] == 6
 * for @tcp), the key of the frame at @hdr0, whose key the short way made
 * (flow_key_extract_frame() returned true)?  Its IP total length when it
 * does (flow_key_extract_frame() would take the short way for it too, and
 * the key it would make agrees with @hdr0's wherever the mask is set), 0
 * when that is not known.  flow_key_head_same() with a megaflow's mask: a
 * batch of many flows in one megaflow is known to be in it without a key
 * made for each frame.  Reads 48 bytes of each head, whatever its length.
 */
static inline unsigned flow_key_head_in(const uint8_t *hdr, const uint8_t *hdr0, size_t hdr_len, size_t frame_len,
					const struct flow_head_mask *hm)
{
	typedef uint8_t v16 __attribute__((vector_size(16), aligned(1)));
	typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8)));
	const v16 *a = (const v16 *)hdr, *b = (const v16 *)hdr0, *m = (const v16 *)hm->m;
	size_t end = hdr_len < frame_len ? hdr_len : frame_len;
	v16 d;

	d = ((a[0] ^ b[0]) & m[0]) | ((a[1] ^ b[1]) & m[1]) | ((a[2] ^ b[2]) & m[2]);
	if (((u64x2)d)[0] | ((u64x2)d)[1])
		return 0;
	/* Of @hdr0's shape (its protocol, and its data offset for TCP: compared above): the lengths. */
	return flow_head_tot(hdr, end, frame_len);
}

#define FLOW_IPV6_EXT_MAX 8

/* True when @key falls under @m. */
static inline bool flow_match_hit(const struct flow_match *m, const struct flow_key *key)
{
	uint64_t diff = 0;

	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		diff |= (key->w[i] & m->mask.w[i]) ^ m->value.w[i];
	return diff == 0;
}

/* @m with every value bit outside its mask cleared (the form every match is kept in). */
static inline void flow_match_normalize(struct flow_match *m)
{
	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		m->value.w[i] &= m->mask.w[i];
}

/* True when @a and @b match exactly the same keys (both normalized). */
bool flow_match_equal(const struct flow_match *a, const struct flow_match *b);

/* True when every key that @narrow matches is matched by @wide too (OpenFlow's non-strict modify and delete). */
bool flow_match_covers(const struct flow_match *wide, const struct flow_match *narrow);

#endif
