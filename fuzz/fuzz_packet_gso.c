/* fuzz_packet_gso.c - libFuzzer target: packet/gso's checks, segmentation and checksum completion against the plain reference (tests/lib/gso_ref.h), on hostile frames and requests. */

/*
 * What arrives here is a frame and the offload request its sender put in
 * a virtio-net header (already past vnet_hdr_parse(), which checks only
 * the header's own fields): nothing guarantees the request matches the
 * frame.  gso_check() must refuse what does not match; what it accepts
 * must segment (or complete) into exactly what the reference builds, with
 * correct sums, reading nothing outside the frame's iovecs and writing
 * nothing into them nor into the source's head.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u8   gso_type   pkt.gso_type (enum vnet_gso in the low 3 bits, PKT_GSO_ECN)
 *     1   u8   csum       enum pkt_csum, modulo 3
 *     2   u16  gso_size   little-endian
 *     4   u16  csum_start
 *     6   u16  csum_offset
 *     8   u8   nsplit     iovec pieces: 1 + v % 8
 *     9   u8[7] cuts      piece lengths, modulo what is left (the last takes the rest)
 *    16   u8   chunk      segments per gso_segment() call: 1 + v % 8; bit 7: gso_segment_partial()
 *                          (each segment's L4 sum left partial, then completed and compared);
 *                          either way gso_copy_finish() of each segment equals the reference's
 *    17   ...  frame      at least PKT_ETH_HLEN bytes
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/lib/gso_ref.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/vnet_hdr.h"

#define HDR 17
#define CHUNK_MAX 8

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt src, segs[CHUNK_MAX];
	static uint8_t want[65536], got[65536];
	uint8_t *frame, *before, head_before[sizeof(src.buf)];
	struct iovec iov[8];
	unsigned nsplit, chunk, n = 0, nseg, k = 0;
	bool partial;
	size_t len, at = 0;
	enum gso_bad bad;

	if (size < HDR + PKT_ETH_HLEN || size - HDR > 65535)
		return 0;
	len = size - HDR;
	frame = malloc(len);
	before = malloc(len);
	if (!frame || !before)
		abort();
	memcpy(frame, data + HDR, len);
	memcpy(before, frame, len);
	nsplit = 1 + data[8] % 8;
	chunk = 1 + data[16] % CHUNK_MAX;
	partial = data[16] & 0x80;
	for (unsigned i = 0; i + 1 < nsplit; i++) {
		size_t take = data[9 + i] % (len - at + 1);

		iov[n++] = (struct iovec){ frame + at, take };
		at += take;
	}
	iov[n++] = (struct iovec){ frame + at, len - at };
	pkt_rx_init(&src, iov, n, (uint32_t)len, 1);
	src.gso_type = data[0];
	src.csum = data[1] % 3;
	src.gso_size = (uint16_t)(data[2] | data[3] << 8);
	src.csum_start = (uint16_t)(data[4] | data[5] << 8);
	src.csum_offset = (uint16_t)(data[6] | data[7] << 8);
	pkt_load(&src);
	memcpy(head_before, src.buf, sizeof(src.buf));

	bad = gso_needs(&src) ? gso_check(&src) : GSO_OK;
	check(bad < GSO_BAD__COUNT);
	if (bad != GSO_OK || !gso_needs(&src)) {
		if (bad != GSO_OK)
			check(gso_count(&src) == 0 || (src.gso_type & 0x7f) == VNET_GSO_NONE);
		goto out;
	}
	nseg = gso_count(&src);
	check(nseg >= 1 && nseg <= GSO_SEGS_MAX);
	if ((src.gso_type & 0x7f) == VNET_GSO_NONE) {
		/* A checksum alone: the frame with the field completed the reference's way. */
		size_t start = src.csum_start, field = start + src.csum_offset;
		uint16_t c;

		check(gso_segment(&src, 0, segs, chunk) == 1);
		check(pkt_to_buf(&segs[0], got, sizeof(got)) == len);
		memcpy(want, before, len);
		c = (uint16_t)~ref_sum(want + start, len - start);
		ref_put(want + field, c || src.csum_offset != 6 ? c : 0xffff); /* UDP's zero: all ones */
		check(memcmp(got, want, len) == 0);
		goto out;
	}
	{
		/* A segmentation request passed: the reference cuts the same frame at the same places. */
		struct pkt_l3 o;
		unsigned f = pkt_parse_l3(&src, &o); /* behind every tag: fuzz_packet_parse holds it to its reference */
		struct ref_geom g = {
			.l3 = o.l3_off, .l4 = o.l4_off,
			.v6 = f & PKT_F_IPV6, .udp = o.ip_proto == 17,
		};

		g.hdr = g.l4 + (g.udp ? 8 : (before[g.l4 + 12] >> 4) * 4u);
		while (k < nseg) {
			int m = partial ? gso_segment_partial(&src, k, segs, chunk) : gso_segment(&src, k, segs, chunk);

			check(m > 0 && (unsigned)m <= chunk);
			for (int i = 0; i < m; i++, k++) {
				size_t wl = ref_segment(before, len, &g, src.gso_size, k, want);

				check(wl && segs[i].len == wl);
				check(pkt_to_buf(&segs[i], got, sizeof(got)) == wl);
				if (partial) {
					check(segs[i].csum == PKT_CSUM_PARTIAL && segs[i].csum_start == g.l4 &&
					      segs[i].csum_offset == (g.udp ? 6 : 16));
					check(csum_complete_buf(got, wl, g.l4, g.udp ? 6 : 16) == 0);
				}
				check(memcmp(got, want, wl) == 0);
				check(ref_csums_ok(got, wl, &g));
				{
					/* The fused copy (vxlan encap): the same bytes, into exactly wl of heap (ASan: none past). */
					uint8_t *flat = malloc(wl);

					check(flat != NULL);
					check(gso_copy_finish(&segs[i], flat) == (int)wl);
					check(memcmp(flat, want, wl) == 0);
					free(flat);
				}
			}
		}
		check(ref_segment(before, len, &g, src.gso_size, k, want) == 0);
		check((partial ? gso_segment_partial(&src, k, segs, chunk) : gso_segment(&src, k, segs, chunk)) == 0);
	}
out:
	/* Neither the source's memory nor its head (its other destinations') changed. */
	check(memcmp(frame, before, len) == 0);
	check(memcmp(head_before, src.buf, sizeof(src.buf)) == 0);
	free(before);
	free(frame);
	return 0;
}
