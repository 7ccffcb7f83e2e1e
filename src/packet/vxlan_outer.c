/* vxlan_outer.c - an underlay frame (Ethernet, IPv4 or IPv6, UDP) checked as the kernel's IP and UDP receive check it, for the datagrams that skip them. */
#include "packet/vxlan_outer.h"

#include <string.h>

#include "packet/csum.h"

#define ETH_HLEN 14u
#define UDP_HLEN 8u

static inline unsigned rd16(const uint8_t *b) { return (unsigned)b[0] << 8 | b[1]; }

/* The UDP header at @u (@ip_payload bytes of IP payload from it), its checksum with the pseudo header of @src, @dst. */
static enum vxlan_outer_bad udp_check(const uint8_t *u, size_t ip_payload, uint16_t dstport, const uint8_t *src,
				      const uint8_t *dst, bool ipv6, struct vxlan_outer *o)
{
	size_t ulen;

	if (rd16(u + 2) != dstport)
		return VXO_NOT_OURS;
	ulen = rd16(u + 4);
	if (ulen < UDP_HLEN || ulen > ip_payload)
		return VXO_UDP_LENGTH;
	o->sum_ok = false;
	if (u[6] | u[7]) {
		uint32_t head = ipv6 ? csum_pseudo_ipv6(src, dst, 17, (uint32_t)ulen)
				     : csum_pseudo_ipv4(src, dst, 17, (uint32_t)ulen);
		uint32_t payload = csum_add(0, u + UDP_HLEN, ulen - UDP_HLEN);

		/*
		 * The pseudo header, the UDP header and the payload with the
		 * sender's checksum add to all ones.  The payload's own sum is
		 * kept: the inner frame's checks need no pass of their own.
		 */
		head = csum_add(head, u, UDP_HLEN);
		if (csum_fold((uint32_t)csum_fold(head) + csum_fold(payload)) != 0xffff)
			return VXO_UDP_CSUM;
		o->sum_ok = true;
		o->sum = payload;
	}
	o->payload = u + UDP_HLEN;
	o->len = ulen - UDP_HLEN;
	o->sport = (uint16_t)rd16(u);
	return VXO_OK;
}

/* Whether @src (4 or 16 bytes) is an address a datagram may come from (not a martian, not @local). */
static bool source_ok(const uint8_t *src, const uint8_t *local, bool ipv6)
{
	static const uint8_t zero[16], v4mapped[12] = { [10] = 0xff, [11] = 0xff }, broadcast[4] = { 0xff, 0xff, 0xff, 0xff };

	if (ipv6)
		return memcmp(src, zero, 16) != 0 && !(memcmp(src, zero, 15) == 0 && src[15] == 1) && src[0] != 0xff &&
		       memcmp(src, v4mapped, 12) != 0 && memcmp(src, local, 16) != 0;
	/* 240/4 (reserved, "class E") is a source the kernel takes; only its last address is broadcast. */
	return src[0] != 0 && src[0] != 127 && (src[0] < 224 || (src[0] >= 240 && memcmp(src, broadcast, 4) != 0)) &&
	       memcmp(src, local, 4) != 0;
}

enum vxlan_outer_bad vxlan_outer_parse(const uint8_t *f, size_t len, bool ipv6, const uint8_t *local, uint16_t dstport,
				       struct vxlan_outer *o)
{
	const uint8_t *ip = f + ETH_HLEN;
	unsigned type;

	if (len < ETH_HLEN + 2)
		return VXO_SHORT;
	type = rd16(f + 12);
	if (type != (ipv6 ? 0x86ddu : 0x0800u))
		return VXO_NOT_OURS;
	len -= ETH_HLEN;
	if (!ipv6) {
		size_t ihl, total;

		if (len < 20)
			return VXO_SHORT;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		if (ip[0] >> 4 != 4 || ihl < 20 || ihl > len || csum_fold(csum_add(0, ip, ihl)) != 0xffff)
			return VXO_IP_HEADER;
		total = rd16(ip + 2);
		if (total > len || total < ihl)
			return VXO_IP_LENGTH;
		if (rd16(ip + 6) & 0x3fff)
			return VXO_FRAGMENT;
		if (ip[9] != 17 || memcmp(ip + 16, local, 4) != 0)
			return VXO_NOT_OURS;
		if (total < ihl + UDP_HLEN)
			return VXO_IP_LENGTH;
		if (!source_ok(ip + 12, local, false))
			return VXO_SOURCE;
		memset(o->src, 0, sizeof(o->src));
		memcpy(o->src, ip + 12, 4);
		o->tos = ip[1];
		return udp_check(ip + ihl, total - ihl, dstport, ip + 12, ip + 16, false, o);
	} else {
		size_t plen;

		if (len < 40)
			return VXO_SHORT;
		if (ip[0] >> 4 != 6)
			return VXO_IP_HEADER;
		plen = rd16(ip + 4);
		if (plen > len - 40)
			return VXO_IP_LENGTH;
		if (ip[6] != 17 || memcmp(ip + 24, local, 16) != 0)
			return VXO_NOT_OURS;
		if (plen < UDP_HLEN)
			return VXO_IP_LENGTH;
		if (!source_ok(ip + 8, local, true))
			return VXO_SOURCE;
		memcpy(o->src, ip + 8, 16);
		o->tos = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
		return udp_check(ip + 40, plen, dstport, ip + 8, ip + 24, true, o);
	}
}
