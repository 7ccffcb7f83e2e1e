/* icmp_pmtu.h - the ICMP "fragmentation needed" / ICMPv6 "packet too big" answer to an inner frame too big for a tunnel (path MTU discovery through it). */
#ifndef VSW_PACKET_ICMP_PMTU_H
#define VSW_PACKET_ICMP_PMTU_H

/*
 * RFC 7348 section 4.3: a VTEP "MUST NOT fragment VXLAN packets"; an inner
 * frame that does not fit the underlay is dropped.  Without an answer a
 * TCP sender behind the tunnel retransmits its full-size segment forever
 * (a "black hole"); with one, its path MTU discovery (RFC 1191 for IPv4,
 * RFC 8201 for IPv6) lowers the segment size and the transfer goes on.
 *
 * The answer is built the way Linux answers for a bridged tunnel
 * (skb_tunnel_check_pmtu(), net/ipv4/ip_tunnel_core.c): a tunnel on a
 * bridge has no IP address of its own on the inner network, so the error
 * comes "from" the inner destination, to the inner source, with the
 * Ethernet addresses swapped; the sender's stack checks only that the
 * quoted packet is one of its own:
 *
 *   frame in:   | dst MAC | src MAC | [tag] | IP src S dst D  DF | payload ...     (too big)
 *   answer:     | src MAC | dst MAC | [tag] | IP src D dst S | ICMP 3/4 or ICMPv6 2, MTU | quote
 *
 *   IPv4: type 3 code 4, next-hop MTU in the low 16 bits of the second
 *         word (RFC 1191 section 4), the quote cut so the answer is at most
 *         576 bytes (RFC 1812 section 4.3.2.3); only for DF set with no
 *         fragment offset or MF (without DF the inner sender expects the
 *         path to fragment; vsw does not, so it is a plain drop).
 *   IPv6: type 2 code 0, the MTU as 32 bits, the quote cut so the answer
 *         is at most 1280 bytes (RFC 4443 section 3.2).
 *
 * No answer (a plain drop) when it would be wrong or useless: an MTU below
 * the protocol's minimum (576 / 1280: the sender would not go below it);
 * a source that cannot be answered (unspecified, multicast, broadcast,
 * loopback); an inner destination that cannot be a source (multicast,
 * broadcast, at the IP or the Ethernet layer); an ICMP or ICMPv6 error itself (RFC 1122 3.2.2, RFC 4443
 * 2.4(e)); a frame whose headers do not parse whole from the head.
 */

#include <stdint.h>

#include "packet/pkt.h"

#define ICMP_PMTU_V4_MAX 576u		/* IPv4 answer, IP header on */
#define ICMP_PMTU_V6_MAX 1280u		/* IPv6 answer, IP header on: the IPv6 minimum MTU */
/* The largest answer frame: an Ethernet header with a VLAN tag and an IPv6 answer. */
#define ICMP_PMTU_FRAME_MAX (PKT_ETH_HLEN + PKT_VLAN_HLEN + ICMP_PMTU_V6_MAX)

/*
 * The answer to @p (a frame whose IP packet is larger than @mtu, the IP
 * MTU of the path it was to take) into @out (ICMP_PMTU_FRAME_MAX bytes):
 * the answer frame's length, or 0 when none is due (see above).  Reads
 * the head (parsing it if needed) and, for the quote, the frame's bytes
 * through pkt_copy().  Allocates nothing.
 */
unsigned icmp_pmtu_build(struct pkt *p, unsigned mtu, uint8_t *out);

#endif
