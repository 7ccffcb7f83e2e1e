/* fuzz_packet_gso.c - libFuzzer target: packet/gso's checks, segmentation and checksum completion against the plain reference (tests/lib/gso_ref.h), on hostile frames and requests. */

/*
 * What arrives here is a frame and the offload request its sender put in
 * a virtio-net header (already past vnet_hdr_parse(), which checks only
 * the header's own fields): nothing guarantees the request matches the
 * frame.  gso_check() must refuse what does not match; what it accepts
 * must segment (or complete) into exactly what the reference builds, with
 * correct sums (a UDP tunnel's packet, PKT_GSO_TUNNEL: its inner and outer
 * headers), reading nothing outside the frame's iovecs and writing
 * nothing into them nor into the source's head.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u8   gso_type   pkt.gso_type (enum vnet_gso in the low bits, PKT_GSO_ECN; PKT_GSO_TUNNEL is
 *                          gso_check()'s to set: a raw one is cleared there)
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

/*
 * A tunnel's inner IP header, restated: IPv6 40 bytes before @l4 naming
 * @proto with the payload to the frame's end, else IPv4 of an IHL that
 * ends at @l4, naming @proto, no fragment, the total length to the end;
 * not before @from.  0: none.
 */
static unsigned ref_inner_l3(const uint8_t *f, size_t len, unsigned from, unsigned l4, unsigned proto, bool *v6)
{
	if (l4 >= from + 40 && (f[l4 - 40] & 0xf0) == 0x60 && f[l4 - 34] == proto &&
	    ref_rd16(f + l4 - 36) + (size_t)l4 == len) {
		*v6 = true;
		return l4 - 40;
	}
	for (unsigned words = 5; words <= 15; words++) {
		unsigned at = l4 - words * 4;

		if (l4 < from + words * 4)
			break;
		if (f[at] == 0x40 + words && f[at + 9] == proto && ref_rd16(f + at + 2) + (size_t)at == len &&
		    (ref_rd16(f + at + 6) & 0x3fff) == 0) {
			*v6 = false;
			return at;
		}
	}
	return 0;
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

	bad = gso_needs(&src) ? gso_check(&src) : GSO_OK;
	/* After the check, which may have read a longer head (pkt_load_long()). */
	memcpy(head_before, src.buf, sizeof(src.buf));
	check(bad < GSO_BAD__COUNT);
	if (bad != GSO_OK || !gso_needs(&src)) {
		if (bad != GSO_OK)
			check(gso_count(&src) == 0 || (src.gso_type & PKT_GSO_TYPE) == VNET_GSO_NONE);
		goto out;
	}
	nseg = gso_count(&src);
	check(nseg >= 1 && nseg <= GSO_SEGS_MAX);
	if ((src.gso_type & PKT_GSO_TYPE) == VNET_GSO_NONE) {
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
	if (src.gso_type & PKT_GSO_TUNNEL) {
		/* A tunnel's packet: the reference finds the inner header its own way and fixes the outer ones plainly. */
		struct pkt_l3 o;
		unsigned f = pkt_parse_l3(&src, &o), cs = src.csum_start, il3;
		bool udp = (src.gso_type & PKT_GSO_TYPE) == VNET_GSO_UDP_L4, v6;
		struct ref_geom g;

		check((f & PKT_F_L4) && o.ip_proto == 17);
		il3 = ref_inner_l3(before, len, o.l4_off + 8, cs, udp ? 17 : 6, &v6);
		check(il3 != 0);
		g = (struct ref_geom){ .l3 = 0, .l4 = cs - il3, .v6 = v6, .udp = udp };
		g.hdr = g.l4 + (udp ? 8 : (before[cs + 12] >> 4) * 4u);
		check(gso_needs(&src) & GSO_TX_TUNNEL);
		while (k < nseg) {
			int m = partial ? gso_segment_partial(&src, k, segs, chunk) : gso_segment(&src, k, segs, chunk);

			check(m > 0 && (unsigned)m <= chunk);
			for (int i = 0; i < m; i++, k++) {
				size_t wl = ref_tunnel_segment(before, il3, o.l3_off, o.l4_off, f & PKT_F_IPV6,
							       before[o.l4_off + 6] || before[o.l4_off + 7], before + il3,
							       len - il3, &g, src.gso_size, k, want);

				check(wl && segs[i].len == wl);
				check(pkt_to_buf(&segs[i], got, sizeof(got)) == wl);
				if (partial)
					check(segs[i].csum == PKT_CSUM_PARTIAL && segs[i].csum_start == cs &&
					      segs[i].csum_offset == (udp ? 6 : 16) &&
					      csum_complete_buf(got, wl, cs, udp ? 6 : 16) == 0);
				check(memcmp(got, want, wl) == 0);
				{
					/* The fused copy, as below. */
					uint8_t *flat = malloc(wl);

					check(flat != NULL);
					check(gso_copy_finish(&segs[i], flat) == (int)wl);
					check(memcmp(flat, want, wl) == 0);
					free(flat);
				}
			}
		}
		check((partial ? gso_segment_partial(&src, k, segs, chunk) : gso_segment(&src, k, segs, chunk)) == 0);
	} else {
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
