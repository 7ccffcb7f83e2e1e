/* ecn.h - ECN across a tunnel (RFC 6040): the outer header's ECN field onto the inner IP header at decapsulation. */
#ifndef VSW_PACKET_ECN_H
#define VSW_PACKET_ECN_H

/*
 * The ECN field (RFC 3168) is the low two bits of IPv4's TOS byte and of
 * IPv6's traffic class: Not-ECT 00, ECT(1) 01, ECT(0) 10, CE 11.  A
 * router on the underlay marks CE on the outer header only; RFC 6040
 * section 4.2 says what the egress makes of it, Figure 4 (the "(!!!)"
 * and "(!)" combinations are ones a compliant ingress never sends):
 *
 *   +---------+------------------------------------------------+
 *   |Arriving |            Arriving Outer Header               |
 *   |   Inner +---------+------------+------------+------------+
 *   |  Header | Not-ECT | ECT(0)     | ECT(1)     |     CE     |
 *   +---------+---------+------------+------------+------------+
 *   | Not-ECT | Not-ECT |Not-ECT(!!!)|Not-ECT(!!!)| <drop>(!!!)|
 *   |  ECT(0) |  ECT(0) | ECT(0)     | ECT(1)     |     CE     |
 *   |  ECT(1) |  ECT(1) | ECT(1) (!) | ECT(1)     |     CE     |
 *   |    CE   |      CE |     CE     |     CE(!!!)|     CE     |
 *   +---------+---------+------------+------------+------------+
 *
 * "The ECN field of the outgoing header is set to the codepoint at the
 * intersection"; the drop is the one case where the congestion mark
 * cannot be passed on to a transport that does not understand ECN.  Of
 * the other "(!!!)" cells the RFC says a decapsulator "SHOULD log the
 * event": ecn_decap_frame() tells them apart (ECN_FRAME_ODD) for a count.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ECN_NOT_ECT 0u
#define ECN_ECT1 1u
#define ECN_ECT0 2u
#define ECN_CE 3u
#define ECN_MASK 3u

/* Is (@outer, @inner) a "(!!!)" cell of the table that does not drop (an ECT outer over Not-ECT, ECT(1) over CE)? */
static inline bool ecn_odd(unsigned outer, unsigned inner)
{
	outer &= ECN_MASK;
	inner &= ECN_MASK;
	return (inner == ECN_NOT_ECT && (outer == ECN_ECT0 || outer == ECN_ECT1)) ||
	       (inner == ECN_CE && outer == ECN_ECT1);
}

/* The table above: the inner codepoint that leaves for @inner under @outer, or -1: drop. */
static inline int ecn_decap(unsigned outer, unsigned inner)
{
	outer &= ECN_MASK;
	inner &= ECN_MASK;
	if (inner == ECN_NOT_ECT)
		return outer == ECN_CE ? -1 : (int)ECN_NOT_ECT;
	if (outer == ECN_CE)
		return ECN_CE;
	if (outer == ECN_ECT1 && inner == ECN_ECT0)
		return ECN_ECT1;
	return (int)inner;
}

enum ecn_frame {
	ECN_FRAME_KEEP,		/* not IP (or too short for its header), or the table leaves it as it is */
	ECN_FRAME_ODD,		/* left as it is, but a "(!!!)" combination no compliant ingress sends: worth counting */
	ECN_FRAME_MARKED,	/* the ECN field rewritten (IPv4: the header checksum updated, RFC 1624) */
	ECN_FRAME_DROP,		/* Not-ECT inner under a CE outer */
};

/*
 * The decapsulated Ethernet frame @f (@len bytes, untrusted, writable)
 * under an outer ECN field @outer: ecn_decap() applied to its IPv4 or
 * IPv6 header, untagged or behind one or two 802.1Q / 802.1ad tags.  Reads
 * nothing past @f + @len; writes only the ECN bits (and IPv4's checksum).
 */
enum ecn_frame ecn_decap_frame(uint8_t *f, size_t len, unsigned outer);

#endif
