/* fuzz_icmp_pmtu.c - libFuzzer target: packet/icmp_pmtu's answer to a hostile inner frame too big for a tunnel. */

/*
 * The frame a tunnel's tx stage answers is any frame a port handed the
 * switch (a guest, a container, the other side of another tunnel).
 * icmp_pmtu_build() must read nothing outside the frame (its head and its
 * view, through pkt_copy()), write nothing past ICMP_PMTU_FRAME_MAX, and
 * give either no answer or one that is well formed: at most 576 IP bytes
 * (IPv4) or 1280 (IPv6), the MACs swapped, the IP length the answer's,
 * valid checksums, the MTU it was given.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u16   mtu     the path MTU to answer with (big endian)
 *     2   u8    split   where the view is cut in two (mod the frame's length)
 *     3   ...   frame   the inner frame (at most 65535 bytes used)
 *
 * The frame and the answer buffer are heap allocations of exactly their
 * length, so ASan sees a byte read or written past either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/csum.h"
#include "packet/icmp_pmtu.h"
#include "packet/pkt.h"

#define HDR 3

static void check(int cond)
{
	if (!cond)
		abort();
}

static unsigned rd16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt p;
	struct iovec iov[2];
	unsigned mtu, n, l3;
	size_t len, cut;
	uint8_t *f, *out;

	if (size < HDR + PKT_ETH_HLEN)
		return 0;
	mtu = rd16(data);
	len = size - HDR;
	if (len > 65535)
		len = 65535;
	cut = data[2] % len;
	f = malloc(len);
	out = malloc(ICMP_PMTU_FRAME_MAX);
	check(f && out);
	memcpy(f, data + HDR, len);
	iov[0] = (struct iovec){ f, cut };
	iov[1] = (struct iovec){ f + cut, len - cut };
	pkt_rx_init(&p, iov, 2, (uint32_t)len, 0);
	pkt_load(&p);
	n = icmp_pmtu_build(&p, mtu, out);
	if (n) {
		l3 = p.l3_off;
		check(n <= ICMP_PMTU_FRAME_MAX && n > l3 + 28);
		check(memcmp(out, f + 6, 6) == 0 && memcmp(out + 6, f, 6) == 0);
		if (rd16(out + l3 - 2) == 0x0800) {
			check(n - l3 <= ICMP_PMTU_V4_MAX && rd16(out + l3 + 2) == n - l3);
			check(csum_fold(csum_add(0, out + l3, 20)) == 0xffff);
			check(csum_fold(csum_add(0, out + l3 + 20, n - l3 - 20)) == 0xffff);
			check(out[l3 + 20] == 3 && out[l3 + 21] == 4 && rd16(out + l3 + 26) == mtu && mtu >= 576);
		} else {
			uint32_t sum;

			check(rd16(out + l3 - 2) == 0x86dd);
			check(n - l3 <= ICMP_PMTU_V6_MAX && rd16(out + l3 + 4) + 40u == n - l3);
			sum = csum_pseudo_ipv6(out + l3 + 8, out + l3 + 24, 58, n - l3 - 40);
			check(csum_fold(csum_add(sum, out + l3 + 40, n - l3 - 40)) == 0xffff);
			check(out[l3 + 40] == 2 && rd16(out + l3 + 46) == mtu && mtu >= 1280);
		}
	}
	free(out);
	free(f);
	return 0;
}
