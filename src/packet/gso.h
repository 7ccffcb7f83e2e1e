/* gso.h - software segmentation (TCP over IPv4/IPv6, UDP) and checksum completion of a frame's offload request, for a destination that cannot take it whole. */
#ifndef VSW_PACKET_GSO_H
#define VSW_PACKET_GSO_H

/*
 * A frame may come in with work left to do (pkt.h's offload fields, set
 * by its source port from a virtio-net header): a checksum to complete
 * (PKT_CSUM_PARTIAL), segments to cut (gso_type, gso_size).  A
 * destination that takes the request whole (GSO_TX_* bits it accepted)
 * gets the frame as it is; for any other one, just before its tx_burst,
 * the frame becomes finished frames here:
 *
 *   frame:    | eth | ip | tcp |  payload: gso_size | gso_size | ... | rest |
 *                              ^ hdr (end of headers: ours, parsed, never the sender's hdr_len)
 *   segment k: struct pkt in a caller's array (nothing allocated):
 *     head:   | eth | ip' | tcp' | payload bytes the source's head held |   private copy, fixed up
 *     view:   the source's iovecs from payload byte k * gso_size on       zero copy
 *
 *   ip':  total / payload length, IPv4 id + k, IPv4 header checksum
 *   tcp': seq + k * gso_size; CWR on the first segment only, FIN and PSH on
 *         the last only (what the sender's stack would have sent); checksum
 *   udp': length; checksum (a computed zero sent as 0xffff, RFC 768)
 *
 * The head of the source frame is shared by all its destinations and is
 * never written: segments and completed clones have heads of their own.
 * Every offload request is checked before any of this (gso_check()): a
 * request that does not match the frame is a drop with a reason, never
 * trusted.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/pkt.h"

/* What a destination takes whole (and what a frame needs of it): gso_needs(), port.tx_offload. */
#define GSO_TX_CSUM 1u		/* a partial checksum (virtio NEEDS_CSUM) */
#define GSO_TX_TSO4 2u		/* TCP over IPv4 segmentation */
#define GSO_TX_TSO6 4u		/* TCP over IPv6 segmentation */
#define GSO_TX_ECN 8u		/* TCP segmentation with CWR set (virtio GSO_ECN) */
#define GSO_TX_USO 16u		/* UDP segmentation (virtio GSO_UDP_L4) */
#define GSO_TX_ALL 31u
/*
 * Segmentation of a UDP tunnel's inner packet (PKT_GSO_TUNNEL), which no
 * port takes whole: Linux's AF_PACKET gives such a request (a container's
 * vxlan device) but cannot send it back (packet_snd() on a veth: ENOMEM,
 * the skb segmented as a plain TCP one), and a virtio-net device without
 * the 1.4 tunnel feature has no header for it.  Outside GSO_TX_ALL.
 */
#define GSO_TX_TUNNEL 32u

/* Segments of one frame at most: a frame cut finer than this is refused (GSO_BAD_SIZE). */
#define GSO_SEGS_MAX 1024u

/*
 * How far from the frame's start a checksum-only request's field may end
 * (csum_start + csum_offset + 2): past the 128-byte head, where an inner
 * checksum lies behind an IPv6 VXLAN header (a Linux guest's or
 * container's vxlan over IPv6 with inner IPv6: 14 + 40 + 8 + 8 + 14 + 40
 * + 16 = the field at 140), completed in a clone's longer head when a
 * destination needs it done (gso_segment()).  Three lines: two tags and
 * 40 bytes of IPv6 extension headers more than that, and room for the
 * tags a destination pushes in the 256-byte buffer.
 */
#define GSO_CSUM_FIELD_MAX 192u

/* Why an offload request was refused. */
enum gso_bad {
	GSO_OK,
	GSO_BAD_CSUM_RANGE,	/* csum_start + csum_offset + 2 past the frame's end */
	GSO_BAD_CSUM_FIELD,	/* the checksum field ends past GSO_CSUM_FIELD_MAX (cannot be written in a head) */
	GSO_BAD_HEADERS,	/* segmentation of headers that do not parse (or a fragment) */
	GSO_BAD_TYPE,		/* gso type vs protocol (TCPV4 on IPv6, UDP on TCP, UFO) */
	GSO_BAD_SIZE,		/* gso_size 0, or more than GSO_SEGS_MAX segments */
	GSO_BAD_CSUM_PLACE,	/* segmentation without a partial checksum on the L4 header's field, or a checksum
				 * whose field lies where the switch reads (the MACs, a tag, IP or ARP, L4 ports) */
	GSO_BAD_IP_LEN,		/* the IP length is not the frame's (padding, or short) */
	GSO_BAD_VIEW,		/* the frame's bytes are not all there */
	GSO_BAD__COUNT
};
extern const char *const gso_bad_names[GSO_BAD__COUNT];

/* The GSO_TX_* bits @p's offload request needs of a destination that takes it whole (0: a finished frame). */
static inline unsigned gso_needs(const struct pkt *p)
{
	static const uint8_t by_type[5] = {
		[1] = GSO_TX_CSUM | GSO_TX_TSO4,	/* VNET_GSO_TCPV4 */
		[2] = GSO_TX_CSUM | GSO_TX_TSO6,	/* VNET_GSO_TCPV6 */
		[3] = 0xff,				/* VNET_GSO_UDP (UFO): nobody here takes it */
		[4] = GSO_TX_CSUM | GSO_TX_USO,		/* VNET_GSO_UDP_L4 */
	};
	unsigned t = p->gso_type & PKT_GSO_TYPE, n = t < 5 ? by_type[t] : 0xff; /* 0xff: no port takes it */

	if (p->gso_type & PKT_GSO_ECN)
		n |= GSO_TX_ECN;
	if (p->gso_type & PKT_GSO_TUNNEL)
		n |= GSO_TX_TUNNEL;
	return n | (p->csum == PKT_CSUM_PARTIAL ? GSO_TX_CSUM : 0);
}

/* Does @p make an offload request (gso_needs(@p) != 0)?  Two tests, for a path that asks per frame. */
static inline bool gso_wanted(const struct pkt *p)
{
	return p->gso_type || p->csum == PKT_CSUM_PARTIAL;
}

/* gso_wire_len() of a segmentation request: one segment's bytes (its headers + gso_size), or the frame's. */
unsigned gso_seg_len(const struct pkt *p);

/*
 * The bytes of the largest frame @p goes out as on a link that takes no
 * offload: itself, or for a segmentation request one segment (its headers
 * + gso_size).  What a size limit on the wire (a tunnel's path MTU) is
 * checked against.
 */
static inline unsigned gso_wire_len(const struct pkt *p)
{
	return p->gso_type ? gso_seg_len(p) : p->len;
}

/*
 * Check @p's offload request against its headers (parsed here if they
 * were not yet).  GSO_OK, or why the frame is to be dropped.  For a
 * segmentation request: IPv4 + TCP for TCPV4, IPv6 + TCP for TCPV6, either
 * + UDP for UDP_L4, the L4 header whole in the head, not a fragment, the
 * IP length the frame's, a partial checksum on the L4 header's field, and
 * at most GSO_SEGS_MAX segments, the headers found behind every VLAN tag
 * (pkt_parse_l3(): QinQ).  For a checksum alone: the field inside the
 * frame, ending within GSO_CSUM_FIELD_MAX bytes, and not where the
 * switch reads (the MACs, tags, the IP header, the L4 ports).
 */
enum gso_bad gso_check(struct pkt *p);

/* The segments @p makes (after GSO_OK from gso_check()): 1 for a frame to complete only. */
unsigned gso_count(const struct pkt *p);

/*
 * Segments [@first, @first + @max) of @p (checked) into @out: finished
 * frames, their heads private, their views into @p's.  Returns how many
 * (fewer than @max at the last); a frame with a partial checksum and no
 * segmentation gives one: a clone with the checksum completed.  -EINVAL
 * when the view holds less than the frame claims (GSO_BAD_VIEW).
 */
int gso_segment(const struct pkt *p, unsigned first, struct pkt *out, unsigned max);

/*
 * gso_segment() for a destination that takes partial checksums
 * (GSO_TX_CSUM) but not the segmentation: the same segments with their
 * TCP/UDP checksum left partial (PKT_CSUM_PARTIAL on the L4 header's
 * field, which holds the pseudo-header sum), so nobody sums the payload
 * here.  The IPv4 header checksum is always completed.  A frame to
 * complete only gives the completed clone, as gso_segment().
 */
int gso_segment_partial(const struct pkt *p, unsigned first, struct pkt *out, unsigned max);

/*
 * A segment of gso_segment_partial() (@s: its L4 checksum partial, the
 * field in the head) into the flat @buf (room for @s->len bytes), the
 * checksum completed in the copy: the payload read once, copied and
 * summed together (csum_copy()), where gso_segment() and pkt_to_buf()
 * read it twice.  The bytes written are the ones gso_segment() and
 * pkt_to_buf() write; a finished frame (no partial checksum) is copied
 * as it is.  @s->len, or -EINVAL when the checksum field is not in the
 * head or the view holds less than the frame claims.
 */
int gso_copy_finish(const struct pkt *s, uint8_t *buf);

/*
 * The one's-complement sum (csum.h's partial sum) of @p's bytes [@off,
 * @off + @len): the head's from the private copy, the rest from the view.
 * False when the frame holds less.
 */
bool gso_pkt_sum(const struct pkt *p, size_t off, size_t len, uint32_t *sum);

#endif
