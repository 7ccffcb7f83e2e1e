/* pkt.h - the packet: a private copy of a frame's first bytes with headroom, parsed offsets, offload and tunnel metadata, and a view of the rest. */
#ifndef VSW_PACKET_PKT_H
#define VSW_PACKET_PKT_H

/*
 * One frame between its source port's rx_burst() and rx_done():
 *
 *   struct pkt: 384 bytes, six cache lines, 64-byte aligned
 *
 *   line 0    view, head bounds, parsed offsets, offload      every frame
 *   line 1    tunnel metadata                                 only under PKT_F_TUNNEL
 *   line 2-3  headroom (PKT_HEADROOM)                         only after a push
 *   line 4-5  head: the frame's first min(len, PKT_HEAD_COPY)  every frame (a 64-byte one: line 4 only)
 *
 *   buf:     [ headroom ............ | head: frame's first bytes |  (unused) ]
 *                                    ^ buf + head_off  (PKT_HEADROOM, less after a push)
 *                                    |<--- head_len --->|
 *   frame:   [ head bytes (private) ][ view bytes from view_off on ........ ]
 *   view:    [ iov[0..niov) in the source port's memory .................... ]
 *            |<--- view_off --->|
 *
 * The frame as delivered is the head, then the view past the view_off
 * bytes the head already holds; len counts both.  A push (a VLAN tag, an
 * outer VXLAN header) grows the head into the headroom and leaves the view
 * alone.
 *
 * Who fills what:
 *   - the source port's rx_burst: the view (pkt_rx_init()), and the offload
 *     fields when its medium says something (zero: a finished frame;
 *     vnet_to_pkt(), then port_offload_rx_ok(), which loads the head and
 *     checks the request against it: the parse stage does not load a
 *     loaded frame again, so what was checked is what is forwarded); a
 *     port whose medium carries what belongs in the head (a vxlan port's
 *     VNI-to-VLAN map: a tag) loads it and puts it there;
 *   - the tx stage, for a destination that does not take a request whole:
 *     finished frames of their own (packet/gso.h, dp/offload.h);
 *   - the parse stage (pkt_load_burst()): the head, copied once from the
 *     view; the parsed offsets, from the head only, by pkt_parsed() in the
 *     stage that first needs them (the learning bridge reads only the MACs:
 *     parsing every frame up to L4 cost it ~19 cycles of ~220 at 64 B);
 *   - the lookup and the actions read and change the head only: a guest
 *     rewriting its buffer after the lookup cannot change what was decided
 *     nor the headers delivered;
 *   - the tx stage, on a switch with VLAN ports, pushes, rewrites or pops
 *     the 802.1Q tag in the head for each destination just before its
 *     burst (pkt_vlan_push(), pkt_vlan_pop(); switch/switch_vlan.h);
 *   - every tx path and the capture take the bytes through pkt_to_buf(),
 *     pkt_copy() or pkt_segs(): head bytes from the private copy, the rest
 *     from the view.  No port reads the view's first bytes again.
 *
 * Sizes:
 *   - PKT_HEAD_COPY 128: Ethernet (14) + a VLAN tag (4) + IPv6 (40) + TCP
 *     with the most options (60) = 118, so the lookup never needs the view;
 *     two whole cache lines.  A 64-byte frame fits in one line, copied
 *     with fixed-size moves (pkt_copy_small()), never a memcpy of a length
 *     known only at run time.
 *   - PKT_HEAD_LONG 192: a head grown for an offload request whose headers
 *     reach past PKT_HEAD_COPY (a tunnel's packet to segment:
 *     pkt_load_long()), moved down the buffer; 64 bytes of headroom stay.
 *   - PKT_HEADROOM 128: a VLAN tag (4) and an outer Ethernet + IPv6 + UDP +
 *     VXLAN header (14 + 40 + 8 + 8 = 70) make 74; with an outer tag, 78.
 *     The next multiple of a cache line keeps the head line-aligned, so a
 *     64-byte frame's head is one line, not two.
 *   - The tunnel metadata has a line of its own, read only under
 *     PKT_F_TUNNEL, so frames that never saw a tunnel never touch it (and
 *     nothing zeroes it: whoever sets the flag fills every field).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "packet/iov.h"

#define PKT_BURST 64		/* frames per rx_burst: the budget per queue per round (32 -> 64: +7 % at 64 B) */
#define PKT_BURST_BYTES (256u * 1024) /* and the byte budget */
#define PKT_MAX_FRAME 65535u	/* largest frame anything here carries */
#define PKT_HEAD_COPY 128u	/* frame bytes the parse stage copies into the head (see above) */
#define PKT_HEADROOM 128u	/* room to push headers in front of them (see above) */
#define PKT_ETH_HLEN 14u	/* an Ethernet header: the least a port hands the switch */
#define PKT_VLAN_HLEN 4u
#define PKT_VXLAN6_HLEN (14u + 40u + 8u + 8u) /* outer Ethernet + IPv6 + UDP + VXLAN */
#define PKT_TPID_8021Q 0x8100u	/* the tag the switch's VLANs use (switch/switch_vlan.c) */
#define PKT_TPID_8021AD 0x88a8u	/* an S-tag (802.1ad), outer tag of QinQ */
#define PKT_VLAN_NONE 0xffffu	/* pkt.vlan: no VLAN given (VID 4095 is reserved: no frame of ours carries it) */

_Static_assert(PKT_HEADROOM >= 2 * PKT_VLAN_HLEN + PKT_VXLAN6_HLEN, "headroom for a tag and a tagged VXLAN header");
_Static_assert(PKT_HEAD_COPY >= PKT_ETH_HLEN + PKT_VLAN_HLEN + 40 + 60, "head holds Eth + VLAN + IPv6 + TCP");
_Static_assert(PKT_HEADROOM % 64 == 0 && PKT_HEAD_COPY % 64 == 0, "the head starts and ends on a cache line");

/* pkt.flags: what pkt_parse() found (and PKT_F_TUNNEL, which it keeps). */
#define PKT_F_VLAN 0x01u	/* an 802.1Q / 802.1ad tag after the MACs: vlan_tci is its TCI */
#define PKT_F_IPV4 0x02u	/* a consistent IPv4 header at l3_off, whole in the head */
#define PKT_F_IPV6 0x04u	/* a consistent IPv6 header at l3_off, whole in the head */
#define PKT_F_L4 0x08u		/* ip_proto's header (TCP, UDP, SCTP, ICMP, ICMPv6) whole in the head at l4_off */
#define PKT_F_FRAG 0x10u	/* an IP fragment but the first: ip_proto known, no L4 header */
#define PKT_F_TUNNEL 0x80u	/* pkt.tun describes the outer header the frame came in */

/* pkt.csum: what is known of the frame's L4 checksum. */
enum pkt_csum {
	PKT_CSUM_NONE,		/* nothing: the frame is finished as it is */
	PKT_CSUM_PARTIAL,	/* to be completed: csum_start, csum_offset (virtio NEEDS_CSUM) */
	PKT_CSUM_VERIFIED,	/* checked by the medium (virtio DATA_VALID) */
};

/*
 * pkt.gso_type: an enum vnet_gso (PKT_GSO_TYPE bits), and these: the TCP
 * header carries CWR (virtio GSO_ECN); the frame is a UDP tunnel's packet
 * whose inner transport header is to be segmented (set by gso_check()
 * alone, never by a medium: Linux's AF_PACKET and tun say only the inner
 * type).
 */
#define PKT_GSO_ECN 0x80u
#define PKT_GSO_TUNNEL 0x40u
#define PKT_GSO_TYPE 0x3fu

/* Outer header of a decapsulated frame (valid under PKT_F_TUNNEL). */
struct pkt_tun {
	uint64_t id;		/* tunnel key: a VXLAN VNI in the low 24 bits */
	union {
		uint32_t v4;	/* network byte order */
		uint8_t v6[16];
	} src, dst;		/* outer IP addresses */
	bool ipv6;		/* src, dst are IPv6 */
};

struct pkt {
	/* line 0: the view (the source port's) */
	struct iovec *iov;	/* the frame in the source port's memory, until its rx_done() */
	uint16_t niov;
	uint16_t in_port;
	uint32_t len;		/* frame bytes as delivered: head_len + the view's bytes from view_off */
	/* the head (the parse stage's) */
	uint16_t view_off;	/* view bytes the head already holds: the rest starts there */
	uint16_t head_off;	/* the frame's first byte in buf[]: PKT_HEADROOM, less after a push */
	uint16_t head_len;	/* frame bytes in the head */
	/* parsed from the head (pkt_parse()) */
	uint16_t ethertype;	/* after the VLAN tag if any; below 0x600: an 802.3 length */
	uint16_t vlan_tci;	/* under PKT_F_VLAN */
	uint16_t l3_off;	/* from the frame's start: the header after the Ethernet header (and tag) */
	uint16_t l4_off;	/* ip_proto's header (PKT_F_L4: whole in the head), or 0: not known */
	uint8_t ip_proto;	/* under PKT_F_IPV4 / PKT_F_IPV6: the transport protocol */
	uint8_t flags;		/* PKT_F_* */
	bool parsed;		/* the offsets and flags above are pkt_parse()'s (pkt_parsed()) */
	bool loaded;		/* the head holds the frame's first bytes: the parse stage leaves it as it is */
	/* offload (the source port's; zero unless its medium says more) */
	uint8_t csum;		/* enum pkt_csum */
	uint8_t gso_type;	/* enum vnet_gso (vnet_hdr.h) | PKT_GSO_*: segment into gso_size payload bytes */
	uint16_t gso_size;
	uint16_t csum_start;	/* under PKT_CSUM_PARTIAL: the sum starts here, ... */
	uint16_t csum_offset;	/* ... and goes csum_offset bytes after it */
	/* the `normal` action's (switch/switch_vlan.c) */
	uint16_t vlan;		/* 802.1Q TCI of the frame's VLAN on a switch with VLAN ports, or PKT_VLAN_NONE */
	bool vlan_head;		/* under a VLAN: the head's first tag is that VLAN's (it came tagged, or was pushed) */
	/* line 1 */
	_Alignas(64) struct pkt_tun tun;
	/* lines 2-5 */
	_Alignas(64) uint8_t buf[PKT_HEADROOM + PKT_HEAD_COPY];
};

_Static_assert(offsetof(struct pkt, vlan_head) + 1 <= 64, "what every frame uses is one line");
_Static_assert(sizeof(struct pkt) == 6 * 64, "six lines: arrays of packets stay line-aligned");

/* The frame's first byte, in the head (the private copy). */
static inline uint8_t *pkt_head(const struct pkt *p)
{
	return (uint8_t *)p->buf + p->head_off;
}

/*
 * A port's rx_burst: frame of @len bytes (at least PKT_ETH_HLEN) in @niov
 * iovecs @iov of its memory, from port slot @in_port.  Sets the view and
 * clears the flags and offload fields; the parse stage fills the rest.
 */
static inline void pkt_rx_init(struct pkt *p, struct iovec *iov, unsigned niov, uint32_t len, unsigned in_port)
{
	p->iov = iov;
	p->niov = (uint16_t)niov;
	p->in_port = (uint16_t)in_port;
	p->len = len;
	p->flags = 0;
	p->parsed = false;
	p->loaded = false;
	p->csum = PKT_CSUM_NONE;
	p->gso_type = 0; /* VNET_GSO_NONE */
	p->gso_size = 0;
	p->csum_start = 0;
	p->csum_offset = 0;
	p->vlan = PKT_VLAN_NONE;
}

/*
 * Copy 64 bytes as four 16-byte moves.  A memcpy() of 64 in a block gcc
 * takes for a cold one (optimized for size) is compiled to `rep movsl`,
 * whose start-up costs tens of cycles (perf annotate of the encap point:
 * bench_vxlan -c on); a 16-byte memcpy() stays one load and one store.
 */
static inline void pkt_copy64(void *dst, const void *src)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	memcpy(d, s, 16);
	memcpy(d + 16, s + 16, 16);
	memcpy(d + 32, s + 32, 16);
	memcpy(d + 48, s + 48, 16);
}

/*
 * Copy @n bytes, at most a whole buffer (PKT_HEADROOM + PKT_HEAD_COPY: a
 * head after pushes), with moves of a size known at compile time: two that
 * may overlap cover any length from one size to twice it.  A 64-byte frame,
 * the smallest Ethernet frame with its FCS and the usual small-frame load,
 * takes one 64-byte move, not the same one twice (a compare instead of
 * eight moves).  No call, no loop.
 */
static inline void pkt_copy_small(void *dst, const void *src, uint32_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (n >= 64) {
		if (n <= 128) {
			memcpy(d, s, 64);
			if (n > 64)
				memcpy(d + n - 64, s + n - 64, 64);
		} else {
			memcpy(d, s, 128);
			memcpy(d + n - 128, s + n - 128, 128);
		}
	} else if (n >= 32) {
		memcpy(d, s, 32);
		memcpy(d + n - 32, s + n - 32, 32);
	} else if (n >= 16) {
		memcpy(d, s, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else {
		memcpy(d, s, n);
	}
}

/*
 * Make room for @n more bytes in front of the frame (a VLAN tag, an outer
 * header): the head grows into the headroom, the view stays.  Returns the
 * new first byte, for the caller to fill, or NULL when the headroom is
 * short (only a bug of ours: PKT_HEADROOM holds what vsw pushes).
 */
static inline uint8_t *pkt_push(struct pkt *p, unsigned n)
{
	if (n > p->head_off)
		return NULL;
	p->head_off = (uint16_t)(p->head_off - n);
	p->head_len = (uint16_t)(p->head_len + n);
	p->len += n;
	return pkt_head(p);
}

/* Does the head carry an 802.1Q tag after the MACs (whole in the head)? */
static inline bool pkt_vlan_tagged(const struct pkt *p)
{
	const uint8_t *h = pkt_head(p);

	return p->head_len >= PKT_ETH_HLEN + PKT_VLAN_HLEN && (h[12] << 8 | h[13]) == PKT_TPID_8021Q;
}

/*
 * Insert an 802.1Q tag with @tci after the MACs, in the head (the view is
 * left alone); a partial checksum's start moves with the bytes, and the
 * parsed offsets are parsed again when next asked for.  0, or -1 when the
 * headroom is short.
 */
static inline int pkt_vlan_push(struct pkt *p, uint16_t tci)
{
	uint8_t *h = pkt_push(p, PKT_VLAN_HLEN);

	if (!h)
		return -1;
	memmove(h, h + PKT_VLAN_HLEN, 12);
	h[12] = PKT_TPID_8021Q >> 8;
	h[13] = PKT_TPID_8021Q & 0xff;
	h[14] = (uint8_t)(tci >> 8);
	h[15] = (uint8_t)tci;
	if (p->csum == PKT_CSUM_PARTIAL)
		p->csum_start = (uint16_t)(p->csum_start + PKT_VLAN_HLEN);
	p->parsed = false;
	return 0;
}

/* Remove the head's 802.1Q tag (pkt_vlan_tagged() must hold): pkt_vlan_push() undone. */
static inline void pkt_vlan_pop(struct pkt *p)
{
	uint8_t *h = pkt_head(p);

	memmove(h + PKT_VLAN_HLEN, h, 12);
	p->head_off = (uint16_t)(p->head_off + PKT_VLAN_HLEN);
	p->head_len = (uint16_t)(p->head_len - PKT_VLAN_HLEN);
	p->len -= PKT_VLAN_HLEN;
	if (p->csum == PKT_CSUM_PARTIAL && p->csum_start >= PKT_ETH_HLEN + PKT_VLAN_HLEN)
		p->csum_start = (uint16_t)(p->csum_start - PKT_VLAN_HLEN);
	p->parsed = false;
}

/*
 * One frame: copy its first min(len, PKT_HEAD_COPY) bytes from the view
 * into the head (the only read of them from the source) and parse them.
 */
void pkt_load(struct pkt *p);

/* pkt_load() without the parse: for a port that changes the head at rx (the parse stage then leaves it). */
void pkt_load_head(struct pkt *p);

/*
 * The longest head the rx checks grow (pkt_load_long() for gso_check()):
 * the buffer less 64 bytes of headroom (tags and headers a destination or
 * the flows push in front).
 */
#define PKT_HEAD_LONG (PKT_HEADROOM + PKT_HEAD_COPY - 64u)

/*
 * A loaded head grown to @want bytes (at most the whole buffer; the
 * frame's length if shorter), moved to the buffer's end to make room: for
 * an offload request whose headers reach past PKT_HEAD_COPY (a tunnel's
 * packet to segment, gso_check(): PKT_HEAD_LONG), and a clone whose
 * checksum field lies past its source's head (after which nothing pushes).
 * Parsed again when next asked.  False when the view holds fewer bytes
 * than the frame claims (the head is then as it was, moved).
 */
bool pkt_load_long(struct pkt *p, unsigned want);

/*
 * The parse stage: pkt_load() for a burst, but the parse left to
 * pkt_parsed() in whichever stage first reads an offset.
 */
void pkt_load_burst(struct pkt *pkts, unsigned n);

/*
 * PKT_F_L4 when the header of @proto at @at lies whole before @end (the
 * datagram's end or the head's, the nearer); 0 for a protocol whose
 * header we do not know, or a TCP data offset below its own header.
 * pkt_parse()'s, and vxlan_raw4_l4()'s without the parse.
 */
static inline unsigned pkt_l4_flag(unsigned proto, const uint8_t *h, unsigned at, unsigned end)
{
	unsigned need;

	switch (proto) {
	case 6: /* TCP (pkt.h does without netinet/in.h's names) */
		if (at + 20 > end)
			return 0;
		need = (h[at + 12] >> 4) * 4u;
		if (need < 20)
			return 0;
		break;
	case 17: /* UDP */
	case 1:	 /* ICMP */
	case 58: /* ICMPv6 */
		need = 8;
		break;
	case 132: /* SCTP */
		need = 12;
		break;
	default:
		return 0;
	}
	return at + need <= end ? PKT_F_L4 : 0;
}

/*
 * Fill ethertype, vlan_tci, l3_off, l4_off, ip_proto and the PKT_F_* flags
 * (PKT_F_TUNNEL kept) from the head alone.  The head is untrusted: every
 * read is checked against head_len and every length field against the
 * frame's; a header that is truncated or inconsistent ends the parse at
 * the layer before it (its flag stays clear).  Returns the flags.
 */
unsigned pkt_parse(struct pkt *p);

/* Where a frame's IP and transport headers lie (pkt_parse_l3()). */
struct pkt_l3 {
	uint16_t l3_off;	/* the header after the Ethernet header and its tags */
	uint16_t l4_off;	/* as pkt.l4_off */
	uint8_t ip_proto;	/* as pkt.ip_proto */
};

/*
 * pkt_parse()'s L3 and L4 part behind every 802.1Q / 802.1ad tag the head
 * holds, not only the first: for the offload checks and segmentation
 * (packet/gso.c), which must find a QinQ frame's TCP header where the
 * flows do not look.  Returns PKT_F_IPV4 / PKT_F_IPV6 / PKT_F_L4 /
 * PKT_F_FRAG as pkt_parse() would behind the last tag; @p is not changed.
 */
unsigned pkt_parse_l3(const struct pkt *p, struct pkt_l3 *o);

/* The flags, parsing the head first if nobody has since it was loaded. */
static inline unsigned pkt_parsed(struct pkt *p)
{
	return p->parsed ? p->flags : pkt_parse(p);
}

/*
 * The frame's bytes [@off, @off + @len) into @dst (@dn iovecs) from @doff
 * on: what the head holds from the private copy, the rest from the view.
 * Returns the bytes copied: less than @len only where @dst or the frame
 * ends.  Every tx path copies through this or pkt_to_buf(); this and
 * pkt_segs() are one walk over the frame's segments (pkt.c).
 */
size_t pkt_copy(const struct pkt *p, size_t off, const struct iovec *dst, unsigned dn, size_t doff, size_t len);

/*
 * The frame as a list of segments, for a port that hands the kernel
 * iovecs (writev, sendmmsg): the head, then the view from view_off, cut at
 * the frame's end.  Into @out (room for @max); returns the count, or -1
 * when @max is too small.
 */
int pkt_segs_walk(const struct pkt *p, struct iovec *out, unsigned max);

static inline int pkt_segs(const struct pkt *p, struct iovec *out, unsigned max)
{
	/* A frame whole in its head (a small one, the parse stage's copy): one segment, no walk. */
	if (p->len == p->head_len && p->head_len && max) {
		out[0] = (struct iovec){ pkt_head(p), p->head_len };
		return 1;
	}
	return pkt_segs_walk(p, out, max);
}

/*
 * The frame's first @len bytes (at most its length) into @buf; returns the
 * bytes copied.  pkt_copy() into one flat buffer, with the usual case
 * inline: the whole head, then the rest from the view's first iovec.
 */
static inline size_t pkt_to_buf(const struct pkt *p, void *buf, size_t len)
{
	size_t rest;

	if (len > p->len)
		len = p->len;
	if (len < p->head_len)
		return pkt_copy(p, 0, &(struct iovec){ .iov_base = buf, .iov_len = len }, 1, 0, len);
	pkt_copy_small(buf, pkt_head(p), p->head_len);
	rest = len - p->head_len;
	if (rest == 0)
		return len;
	if (p->iov[0].iov_len >= p->view_off + rest) {
		memcpy((uint8_t *)buf + p->head_len, (const uint8_t *)p->iov[0].iov_base + p->view_off, rest);
		return len;
	}
	return p->head_len + iov_to_buf(p->iov, p->niov, p->view_off, (uint8_t *)buf + p->head_len, rest);
}

#endif
