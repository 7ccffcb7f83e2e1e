/* fuzz_vxlan_outer.c - libFuzzer target: a hostile underlay frame through packet/vxlan_outer's checks, as the vxlan port's AF_XDP path hands it every frame its XDP program picked. */

/*
 * What comes through the vxlan port's AF_XDP sockets (xdp=) is any frame
 * off the wire that looked, to the XDP program, like a datagram to the
 * port.  vxlan_outer_parse() must read nothing past the frame, and accept
 * exactly a frame the kernel's IP and UDP receive would have handed the
 * port's socket: its payload view must be inside the frame, the UDP length
 * less 8 bytes, right behind the IP and UDP headers, inside the IP length,
 * with a whole IPv4 header (its sum, no fragment), and the checksum (when
 * not zero) must add up; each is checked here again the slow way.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u8    flags   bit 0: IPv6 (else IPv4)
 *     1   u8[16] local  the port's address (IPv4: the first 4 bytes)
 *    17   u16   dstport the port's UDP port (big endian)
 *    19   ...   frame   the frame (at most 9,216 bytes used)
 *
 * The frame is one heap allocation of exactly its length, so ASan sees a
 * read one byte past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/vxlan_outer.h"

static unsigned rd16(const uint8_t *b) { return (unsigned)b[0] << 8 | b[1]; }

/* The one's-complement sum of @len bytes at @b as 16-bit big-endian words (a last odd byte padded). */
static uint32_t slow_sum(uint32_t s, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += rd16(b + i);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vxlan_outer o;
	bool v6;
	uint8_t *f;
	size_t len;

	if (size < 19)
		return 0;
	v6 = data[0] & 1;
	len = size - 19 > 9216 ? 9216 : size - 19;
	f = malloc(len ? len : 1);
	if (!f)
		return 0;
	memcpy(f, data + 19, len);
	if (vxlan_outer_parse(f, len, v6, data + 1, (uint16_t)rd16(data + 17), &o) == VXO_OK) {
		const unsigned l3 = 14, alen = v6 ? 16 : 4;
		const uint8_t *u = o.payload - 8;

		const uint8_t *ip = f + l3;
		size_t l4 = v6 ? l3 + 40 : l3 + (size_t)(ip[0] & 0x0f) * 4;

		/* The view is right behind the IP header and a UDP header to the port, of the UDP length. */
		if (o.payload != f + l4 + 8 || o.payload + o.len > f + len || rd16(u + 2) != rd16(data + 17) ||
		    rd16(u + 4) != o.len + 8 || rd16(u) != o.sport)
			abort();
		/* The IP header is whole and right: its version, its sum, no fragment, a length that holds the datagram. */
		if (!v6 && (ip[0] >> 4 != 4 || slow_sum(0, ip, l4 - l3) != 0xffff || (rd16(ip + 6) & 0x3fff) ||
			    rd16(ip + 2) < l4 - l3 + o.len + 8 || l3 + rd16(ip + 2) > len || ip[9] != 17))
			abort();
		if (v6 && (ip[0] >> 4 != 6 || rd16(ip + 4) < o.len + 8 || l3 + 40 + rd16(ip + 4) > len || ip[6] != 17))
			abort();
		/* The destination is the port's, the source the header's. */
		if (memcmp(f + l3 + (v6 ? 24 : 16), data + 1, alen) || memcmp(o.src, f + l3 + (v6 ? 8 : 12), alen))
			abort();
		/* A checksum that is not zero adds up over the pseudo header, the header and the payload. */
		if (rd16(u + 6)) {
			uint32_t s = slow_sum(0, f + l3 + (v6 ? 8 : 12), 2 * alen);

			s = slow_sum(s + 17 + o.len + 8, u, o.len + 8);
			if (s != 0xffff)
				abort();
		}
	}
	free(f);
	return 0;
}
