/* ecn.c - RFC 6040 decapsulation of the ECN field onto an inner frame's IP header. */
#include "packet/ecn.h"

#include <string.h>

#include "packet/csum.h"
#include "packet/pkt.h"

enum ecn_frame ecn_decap_frame(uint8_t *f, size_t len, unsigned outer)
{
	size_t l3 = PKT_ETH_HLEN;
	unsigned type, inner;
	uint8_t *ip;
	int to;

	if (len < PKT_ETH_HLEN)
		return ECN_FRAME_KEEP;
	type = (unsigned)f[12] << 8 | f[13];
	/* Untagged, one tag, or two (QinQ), as vxlan's transmit reads it. */
	for (unsigned t = 0; t < 2 && (type == PKT_TPID_8021Q || type == PKT_TPID_8021AD) && len >= l3 + 4; t++) {
		type = (unsigned)f[l3 + 2] << 8 | f[l3 + 3];
		l3 += 4;
	}
	ip = f + l3;
	if (type == 0x0800 && len >= l3 + 20 && ip[0] >> 4 == 4)
		inner = ip[1];
	else if (type == 0x86dd && len >= l3 + 40 && ip[0] >> 4 == 6)
		inner = ip[1] >> 4;
	else
		return ECN_FRAME_KEEP;
	to = ecn_decap(outer, inner);
	if (to < 0)
		return ECN_FRAME_DROP;
	if ((unsigned)to == (inner & ECN_MASK))
		return ecn_odd(outer, inner) ? ECN_FRAME_ODD : ECN_FRAME_KEEP;
	if (type == 0x0800) {
		/* The first header word (version, IHL, TOS) changes: its checksum follows (RFC 1624). */
		uint8_t w[2] = { ip[0], (uint8_t)((ip[1] & ~ECN_MASK) | (unsigned)to) };

		csum_replace(ip + 10, ip, w, 2, false);
		ip[1] = w[1];
	} else {
		/* Traffic class: the low nibble of byte 0 and the high one of byte 1; ECN its two low bits. */
		ip[1] = (uint8_t)((ip[1] & ~(ECN_MASK << 4)) | (unsigned)to << 4);
	}
	return ECN_FRAME_MARKED;
}
