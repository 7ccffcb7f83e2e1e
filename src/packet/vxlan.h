/* vxlan.h - the VXLAN header (RFC 7348): build it, check it on receive, and the outer UDP source port of a frame. */
#ifndef VSW_PACKET_VXLAN_H
#define VSW_PACKET_VXLAN_H

/*
 * RFC 7348 section 5, the 8 bytes after the outer UDP header:
 *
 *    0                   1                   2                   3
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   |                VXLAN Network Identifier (VNI) |   Reserved    |
 *
 * "Flags (8 bits): where the I flag MUST be set to 1 for a valid VXLAN
 * Network ID (VNI).  The other 7 bits (designated "R") are reserved
 * fields and MUST be set to zero on transmission and ignored on
 * receipt."  Reserved fields likewise: "MUST be set to zero on
 * transmission and ignored on receipt."  So a receiver checks the I flag
 * and the VNI and nothing else; vxlan_hdr_check() does exactly that (a
 * reserved bit set is accepted, as the RFC asks; Linux's vxlan driver is
 * stricter by choice: unless an extension claims them, its vxlan_rcv()
 * drops a datagram with reserved bits set, saying that it diverges from
 * the RFC there).
 */

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "packet/pkt.h"

#define VXLAN_HLEN 8u
#define VXLAN_UDP_HLEN 8u
#define VXLAN_FLAG_I 0x08u
#define VXLAN_VNI_MAX 0xffffffu
#define VXLAN_PORT 4789u	/* IANA */
/* Outer header bytes in front of an inner frame: IP + UDP + VXLAN (the outer Ethernet is the kernel's). */
#define VXLAN4_OVERHEAD (20u + VXLAN_UDP_HLEN + VXLAN_HLEN)
#define VXLAN6_OVERHEAD (40u + VXLAN_UDP_HLEN + VXLAN_HLEN)

/* What vxlan_hdr_check() found: OK, or why the datagram is dropped (each counted by the port). */
enum vxlan_bad {
	VXLAN_OK,
	VXLAN_BAD_SHORT,	/* shorter than the VXLAN header and an inner Ethernet header */
	VXLAN_BAD_FLAGS,	/* the I flag clear */
	VXLAN_BAD_VNI,		/* not the VNI this port serves */
	VXLAN_BAD__COUNT
};
extern const char *const vxlan_bad_names[VXLAN_BAD__COUNT];

/*
 * The 8-byte header for @vni (at most VXLAN_VNI_MAX) into @out: I flag,
 * VNI, reserved bits zero, in two word stores (an outer checksum that
 * reads it back right after gets it from the store buffer).  Returns the
 * sum of its 16-bit words in memory order, unfolded (packet/csum.h), for
 * a caller that sums the datagram.
 */
static inline uint32_t vxlan_hdr_build(uint8_t out[VXLAN_HLEN], uint32_t vni)
{
	const uint32_t w[2] = { htonl(VXLAN_FLAG_I << 24), htonl(vni << 8) };

	memcpy(out, w, sizeof(w));
	return (w[0] & 0xffff) + (w[0] >> 16) + (w[1] & 0xffff) + (w[1] >> 16);
}

/*
 * A received UDP payload of @len bytes at @b (untrusted): VXLAN_OK when it
 * holds a VXLAN header with the I flag and @vni followed by at least an
 * Ethernet header; the first reason it fails otherwise.  Reads nothing
 * before checking @len.  The VNI found goes into *@vni_out when not NULL
 * (for VXLAN_OK and VXLAN_BAD_VNI).
 */
static inline enum vxlan_bad vxlan_hdr_check(const uint8_t *b, size_t len, uint32_t vni, uint32_t *vni_out)
{
	uint32_t got;

	if (len < VXLAN_HLEN + PKT_ETH_HLEN)
		return VXLAN_BAD_SHORT;
	/* "The I flag MUST be set to 1 for a valid VNI"; the R bits and reserved bytes are ignored on receipt. */
	if (!(b[0] & VXLAN_FLAG_I))
		return VXLAN_BAD_FLAGS;
	/* The VNI: the second word's high 24 bits, read as one word (the reserved low byte shifted out). */
	memcpy(&got, b + 4, 4);
	got = ntohl(got) >> 8;
	if (vni_out)
		*vni_out = got;
	return got == vni ? VXLAN_OK : VXLAN_BAD_VNI;
}

/*
 * Decapsulate a received UDP payload (@len bytes at @d, untrusted):
 * vxlan_hdr_check(), and on VXLAN_OK the inner frame as *@inner (inside
 * @d, at least an Ethernet header).  *@inner is left alone otherwise.
 */
enum vxlan_bad vxlan_decap(const uint8_t *d, size_t len, uint32_t vni, struct iovec *inner);

/*
 * Two words to 32 bits: @b folded into @a by an odd multiplier, then the
 * 128-bit product with another folded (high half XOR low half, then its
 * halves): each input bit reaches the high output bits, which
 * vxlan_hash_port() uses.  A few multiplies, no byte loop: this is paid
 * per frame in the encap stage.
 */
static inline uint32_t vxlan_mix2(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)(a + b * 0x9e3779b97f4a7c15ull) * 0xc2b2ae3d27d4eb4full;
	uint64_t h = (uint64_t)r ^ (uint64_t)(r >> 64);

	return (uint32_t)(h ^ h >> 32);
}

/* Eight bytes at @b as they lie in memory (any alignment). */
static inline uint64_t vxlan_load64(const uint8_t *b)
{
	uint64_t w;

	memcpy(&w, b, 8);
	return w;
}

/*
 * What pkt_parse() would find in an unparsed untagged IPv4 frame with a
 * 20-byte header, from its head's bytes, without the parse (which took
 * ~30 cycles of the encap point a frame when the learning switch hands
 * frames on unparsed: bench_vxlan -u -f 1024): PKT_F_IPV4 with l3_off
 * 14, l4_off 34 and ip_proto h[23], and then 1 when it sets PKT_F_L4 (the
 * whole TCP, UDP, SCTP, ICMP or ICMPv6 header inside both the head and
 * the IP total length; not for a fragment), else 0.  -1, nothing
 * decided, for any other frame: it is parsed.  test_vxlan's
 * test_flow_hash_raw holds vxlan_flow_hash() and vxlan_flow4_of() equal
 * both ways; fuzz_packet_parse the hash.
 */
static inline int vxlan_raw4_l4(const struct pkt *p, const uint8_t *h)
{
	unsigned hl = p->head_len, tot, end;

	if (hl < 34 || h[12] != 0x08 || h[13] != 0x00 || h[14] != 0x45)
		return -1;
	tot = (unsigned)h[16] << 8 | h[17];
	if (tot < 20 || 14 + tot > p->len)
		return -1;
	if (((h[20] & 0x1f) | h[21]) != 0)
		return 0; /* a fragment: no L4 */
	end = 14 + tot < hl ? 14 + tot : hl;
	return pkt_l4_flag(h[23], h, 34, end) != 0;
}

/* vxlan_flow_hash()'s inputs for a frame vxlan_raw4_l4() decides (true), as it takes them from the parsed frame. */
static inline bool vxlan_flow_hash_raw4(const struct pkt *p, const uint8_t *h, uint64_t *a, uint64_t *b)
{
	int l4 = vxlan_raw4_l4(p, h);
	uint32_t ports;

	if (l4 < 0)
		return false;
	*a = vxlan_load64(h + 26);
	*b = h[23];
	if (l4 && (h[23] == 6 || h[23] == 17 || h[23] == 132)) {
		memcpy(&ports, h + 34, 4);
		*b |= (uint64_t)ports << 8;
	}
	return true;
}

/* vxlan_flow_hash() of a frame vxlan_flow_hash_raw4() does not take: parsed (here, if it was not yet). */
uint32_t vxlan_flow_hash_parsed(struct pkt *p);

/*
 * A 32-bit hash of a frame's inner flow for its outer UDP source port
 * (RFC 7348: "it is recommended that the UDP source port number be
 * calculated using a hash of fields from the inner packet"): of the inner
 * IP addresses and protocol, and the L4 ports when the head has them,
 * else of the MACs and EtherType; so one inner flow keeps one outer port
 * (no reordering by ECMP on the underlay) and different flows spread.
 * Reads the head only (parses it if needed, but for the frames
 * vxlan_flow_hash_raw4() takes, which it leaves unparsed).  Those inline,
 * any other frame by vxlan_flow_hash_parsed(): paid per frame in the encap
 * stage, where one call with its saved registers was 14 of the ~60
 * instructions (callgrind, bench_vxlan -u -f 1024).
 */
static inline __attribute__((always_inline)) uint32_t vxlan_flow_hash(struct pkt *p)
{
	uint64_t a, b = 0;

	if (!p->parsed && vxlan_flow_hash_raw4(p, pkt_head(p), &a, &b))
		return vxlan_mix2(a, b);
	return vxlan_flow_hash_parsed(p);
}

/*
 * An untagged IPv4 TCP or UDP frame without options (parsed: PKT_F_IPV4
 * and PKT_F_L4, l3_off 14, l4_off 34), kept as raw bytes to compare other
 * frames of its length with (vxlan_flow4_is()), parsed or not (the data
 * path parses lazily): a frame whose EtherType, version and IHL, TOS
 * (which neither needs: stricter), total length, fragment offset,
 * protocol, addresses, ports (and TCP data offset) are these, with as
 * many bytes in its head, parses the same (pkt_parse()) and gives
 * vxlan_flow_hash() the same input, so the same hash.  A run of one
 * flow's frames compares each with it instead of parsing and hashing each
 * (~15 instructions against ~80).
 */
struct vxlan_flow4 {
	uint64_t eth_ip;	/* bytes 12-17: EtherType, version/IHL, TOS, total length */
	uint64_t addrs;		/* bytes 26-33 */
	uint32_t frag_proto;	/* bytes 20-23 under its mask: the fragment offset (zero) and the protocol */
	uint32_t ports;		/* bytes 34-37 */
	uint16_t head_len;
	uint8_t doff;		/* TCP: byte 46, the data offset with the reserved bits (stricter than the parse); UDP: 0 */
	uint8_t tcp;
};

/* The bytes vxlan_flow4 keeps of the words it loads, as masks in memory order (either byte order). */
static inline uint64_t vxlan_flow4_eth_ip_mask(void)
{
	static const uint8_t m[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0 };	/* bytes 12-17 of 12-19 */

	return vxlan_load64(m);
}

static inline uint32_t vxlan_flow4_frag_proto_mask(void)
{
	static const uint8_t m[4] = { 0x1f, 0xff, 0, 0xff };	/* 20-21: the fragment offset; 23: the protocol */
	uint32_t v;

	memcpy(&v, m, 4);
	return v;
}

/* @f from frame @p (parsed: pkt_parsed()); false, @f unusable, when @p is not such a frame. */
static inline bool vxlan_flow4_of(struct vxlan_flow4 *f, const struct pkt *p)
{
	const uint8_t *h = (const uint8_t *)p->buf + p->head_off;
	uint32_t w;

	if (!p->parsed) {
		/* what the parse would say, from the bytes (the flow hash leaves such a frame unparsed) */
		if (vxlan_raw4_l4(p, h) != 1 || (h[23] != 6 && h[23] != 17))
			return false;
	} else if ((p->flags & (PKT_F_IPV4 | PKT_F_L4 | PKT_F_VLAN | PKT_F_FRAG)) != (PKT_F_IPV4 | PKT_F_L4) ||
		   p->l3_off != 14 || p->l4_off != 34 || (p->ip_proto != 6 && p->ip_proto != 17)) {
		return false;
	}
	f->eth_ip = vxlan_load64(h + 12) & vxlan_flow4_eth_ip_mask();
	memcpy(&w, h + 20, 4);
	f->frag_proto = w & vxlan_flow4_frag_proto_mask();
	f->addrs = vxlan_load64(h + 26);
	memcpy(&f->ports, h + 34, 4);
	f->head_len = p->head_len;
	f->tcp = h[23] == 6;
	f->doff = f->tcp ? h[46] : 0; /* PKT_F_L4 on TCP: its 20 bytes are in the head */
	return true;
}

/* Is frame @p, of @f's frame's length (the caller's test), one @f describes (see struct vxlan_flow4)? */
static inline bool vxlan_flow4_is(const struct vxlan_flow4 *f, const struct pkt *p)
{
	const uint8_t *h = (const uint8_t *)p->buf + p->head_off;
	uint32_t w, ports;

	if (p->head_len != f->head_len || (vxlan_load64(h + 12) & vxlan_flow4_eth_ip_mask()) != f->eth_ip ||
	    vxlan_load64(h + 26) != f->addrs)
		return false;
	memcpy(&w, h + 20, 4);
	memcpy(&ports, h + 34, 4);
	return (w & vxlan_flow4_frag_proto_mask()) == f->frag_proto && ports == f->ports && (!f->tcp || h[46] == f->doff);
}

/* @hash (vxlan_flow_hash()) onto [@lo, @hi]: its high bits scaled, no division. */
static inline uint16_t vxlan_hash_port(uint32_t hash, uint16_t lo, uint16_t hi)
{
	if (hi <= lo)
		return lo;
	return (uint16_t)(lo + ((uint64_t)hash * ((uint32_t)hi - lo + 1) >> 32));
}

/* The outer UDP source port for a frame, in [@lo, @hi]: its flow hash onto the range. */
static inline uint16_t vxlan_src_port(struct pkt *p, uint16_t lo, uint16_t hi)
{
	return vxlan_hash_port(vxlan_flow_hash(p), lo, hi);
}

#endif
