/* vxlan_outer.h - an underlay frame (Ethernet, IPv4 or IPv6, UDP) checked as the kernel's IP and UDP receive check it, for the datagrams that skip them (the vxlan port's AF_XDP path). */
#ifndef VSW_PACKET_VXLAN_OUTER_H
#define VSW_PACKET_VXLAN_OUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A frame the vxlan port's XDP program handed it (port/vxlan_xdp.h) came
 * off the wire with nothing checked: the program only looks at where a
 * datagram to local:dstport would be.  What the kernel would have done
 * before the UDP socket saw it is done here:
 *
 *   Ethernet   untagged, type IPv4 (0x0800) or IPv6 (0x86dd), the port's family
 *   IPv4       version 4, IHL >= 5, header checksum (RFC 791), total length
 *              within the frame (what is past it is padding), no fragment
 *              (MF or an offset: the kernel reassembles those, the program
 *              passes them), protocol UDP, destination local=
 *   IPv6       version 6, payload length within the frame, next header UDP
 *              (extension headers: the program passes them), destination local=
 *   source     not one a host sends from, as the kernel's martian checks
 *              (ip_route_input_slow(), ipv6_rcv()): IPv4 0/8, 127/8,
 *              224/4 (multicast), 255.255.255.255 (broadcast; the rest
 *              of 240/4 passes, as there); IPv6 ::,
 *              ::1, ff00::/8, ::ffff:0:0/96 (v4-mapped); nor the port's
 *              own address
 *   UDP        destination port dstport=, length >= 8 and within the IP
 *              payload (RFC 768), checksum over the pseudo header
 *              (RFC 768; RFC 8200 section 8.1) unless zero: a zero is no
 *              checksum, accepted for IPv4 and, as the port's socket
 *              accepts it (UDP_NO_CHECK6_RX, RFC 6935), for IPv6
 *
 * The UDP payload is the view handed on; the source address and port
 * are copied out.
 */
enum vxlan_outer_bad {
	VXO_OK,
	VXO_SHORT,		/* shorter than its headers */
	VXO_NOT_OURS,		/* another type, family, protocol, destination or port, a VLAN tag, extension headers */
	VXO_IP_HEADER,		/* an IPv4 header with a wrong version, IHL or checksum; an IPv6 header with a wrong version */
	VXO_IP_LENGTH,		/* IP length past the frame, or too short for UDP */
	VXO_FRAGMENT,		/* an IPv4 fragment */
	VXO_UDP_LENGTH,		/* UDP length under 8 or past the IP payload */
	VXO_UDP_CSUM,		/* a UDP checksum that does not add up */
	VXO_SOURCE,		/* a source no host sends from (martian): see vxlan_outer_parse() */
	VXO__COUNT
};

struct vxlan_outer {
	const uint8_t *payload;	/* the UDP payload, in the frame */
	size_t len;
	uint8_t src[16];	/* the source address (IPv4: the first 4 bytes), as in the frame */
	uint16_t sport;		/* the source port, host order */
	uint8_t tos;		/* IPv4's TOS, IPv6's traffic class: DSCP and the ECN field (RFC 6040's outer) */
	bool sum_ok;		/* the checksum was there and checked: @sum is the payload's */
	uint32_t sum;		/* the one's complement sum of the payload's bytes (csum_add()'s, not folded) */
};

/*
 * Check frame @f (@len bytes) for a datagram of family @ipv6 to address
 * @local (4 or 16 bytes, as in a frame) and UDP port @dstport (host
 * order); fill @o when it passes.  Reads nothing past @f + @len.
 */
enum vxlan_outer_bad vxlan_outer_parse(const uint8_t *f, size_t len, bool ipv6, const uint8_t *local, uint16_t dstport,
				       struct vxlan_outer *o);

#endif
