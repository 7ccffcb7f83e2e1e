/* test_vxlan_gso.c - unit tests of packet/vxlan_gso: UDP_SEGMENT payloads built from TSO frames (against the reference segments), GRO buffers cut apart, hostile sizes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/gso_ref.h"
#include "../lib/zalloc.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/vnet_hdr.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"

#define VNI 0x123456u

static uint8_t frame[65535], want[65535], buf[65536];
static struct iovec iov[2];
static struct pkt *src, *scratch;

static int setup(void **state)
{
	src = zalloc64(sizeof(*src));
	scratch = zalloc64(sizeof(*scratch) * VXLAN_GSO_SEGS_MAX);
	return 0;
}

static int teardown(void **state)
{
	free(src);
	free(scratch);
	return 0;
}

/* A TCP (or UDP) frame of @payload bytes with a segmentation request of @mss (0: a partial checksum only); its geometry into @g. */
static size_t load(struct ref_geom *g, bool v6, bool udp, size_t payload, unsigned mss)
{
	size_t len = ref_frame(frame, g, v6, udp, false, 0, udp ? 0 : 12, 0x18, payload, 99);

	/* The view in two pieces: the copy must walk them. */
	iov[0] = (struct iovec){ frame, len / 3 };
	iov[1] = (struct iovec){ frame + len / 3, len - len / 3 };
	pkt_rx_init(src, iov, 2, (uint32_t)len, 1);
	pkt_load(src);
	src->csum = PKT_CSUM_PARTIAL;
	src->csum_start = (uint16_t)g->l4;
	src->csum_offset = udp ? 6 : 16;
	src->gso_type = (uint8_t)(mss ? (udp ? VNET_GSO_UDP_L4 : v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) : VNET_GSO_NONE);
	src->gso_size = (uint16_t)mss;
	assert_int_equal(gso_check(src), GSO_OK);
	return len;
}

/*
 * Every payload of the frame, @cap bytes at most each: pieces of seg_bytes
 * but the last, each a VXLAN header for VNI and the reference segment.
 * Returns the payloads made.
 */
static unsigned check_payloads(const struct ref_geom *g, size_t len, unsigned mss, size_t cap)
{
	unsigned first = 0, msgs = 0, nseg = gso_count(src);
	struct vxlan_gso_msg gm;
	int k;

	while ((k = vxlan_gso_build(src, first, VNI, scratch, buf, cap, &gm)) > 0) {
		size_t off = 0, inner = 0;

		assert_true(gm.segs == (unsigned)k && gm.segs <= VXLAN_GSO_SEGS_MAX);
		assert_true(gm.len <= cap && gm.len <= VXLAN_GSO_BYTES);
		for (unsigned i = 0; i < gm.segs; i++) {
			size_t wl = ref_segment(frame, len, g, mss ? mss : 65535, first + i, want);
			size_t piece = gm.len - off < gm.seg_bytes ? gm.len - off : gm.seg_bytes;
			uint32_t vni = 0;

			/* UDP_SEGMENT's rule: every piece seg_bytes long but the last. */
			if (i + 1 < gm.segs)
				assert_int_equal(piece, gm.seg_bytes);
			assert_int_equal(piece, VXLAN_HLEN + wl);
			assert_int_equal(vxlan_hdr_check(buf + off, piece, VNI, &vni), VXLAN_OK);
			assert_memory_equal(buf + off + VXLAN_HLEN, want, wl);
			assert_true(ref_csums_ok(buf + off + VXLAN_HLEN, wl, g));
			off += piece;
			inner += wl;
		}
		assert_int_equal(off, gm.len);
		assert_int_equal(inner, gm.inner_bytes);
		first += gm.segs;
		msgs++;
	}
	assert_int_equal(k, 0);
	assert_int_equal(first, nseg);
	return msgs;
}

/* A 64 KiB TSO frame (46 segments of 1448 + 66): the whole payload is too big for one message, so two. */
static void test_build_tso4_64k(void **state)
{
	struct ref_geom g;
	size_t len = load(&g, false, false, 65535 - 14 - 20 - 32 - 1, 1448);

	assert_int_equal(gso_count(src), 46);
	assert_int_equal(check_payloads(&g, len, 1448, sizeof(buf)), 2);
}

/* IPv6 and UDP (USO) too; small segments: the 64-datagram limit cuts before the byte limit. */
static void test_build_v6_uso_limits(void **state)
{
	struct ref_geom g;
	size_t len = load(&g, true, false, 30000, 1200);

	check_payloads(&g, len, 1200, sizeof(buf));
	len = load(&g, false, true, 20000, 100);
	assert_int_equal(gso_count(src), 200);
	/* 200 segments of 142 bytes fit 64 KiB: four payloads, for UDP_MAX_SEGMENTS. */
	assert_int_equal(check_payloads(&g, len, 100, sizeof(buf)), 4);
}

/* A buffer of three pieces; one smaller than a piece: EMSGSIZE, nothing claimed. */
static void test_build_cap(void **state)
{
	struct ref_geom g;
	size_t len = load(&g, false, false, 10 * 1000, 1000), piece = VXLAN_HLEN + 14 + 20 + 32 + 1000;
	struct vxlan_gso_msg gm;

	assert_int_equal(check_payloads(&g, len, 1000, 3 * piece + piece / 2), 4);
	assert_int_equal(vxlan_gso_build(src, 0, VNI, scratch, buf, piece - 1, &gm), -EMSGSIZE);
	assert_int_equal(gm.segs, 0);
	/* Past the last segment: nothing. */
	assert_int_equal(vxlan_gso_build(src, 10, VNI, scratch, buf, sizeof(buf), &gm), 0);
}

/* A partial checksum alone: one piece, the checksum completed. */
static void test_build_csum_only(void **state)
{
	struct ref_geom g;
	size_t len = load(&g, false, false, 700, 0);

	assert_int_equal(check_payloads(&g, len, 0, sizeof(buf)), 1);
}

/* A view shorter than the frame claims: refused, not read past. */
static void test_build_short_view(void **state)
{
	struct ref_geom g;
	struct vxlan_gso_msg gm;

	load(&g, false, false, 5000, 1000);
	iov[1].iov_len -= 1500;
	assert_int_equal(vxlan_gso_build(src, 0, VNI, scratch, buf, sizeof(buf), &gm), -EINVAL);
}

/* GRO: pieces of the size given, the last shorter; a limit and a restart in the middle. */
static void test_gro_split(void **state)
{
	struct iovec out[8];
	size_t off = 0;

	assert_int_equal(vxlan_gro_split(buf, 340, 100, &off, out, 8), 4);
	assert_int_equal(off, 340);
	for (unsigned i = 0; i < 4; i++) {
		assert_ptr_equal(out[i].iov_base, buf + 100 * i);
		assert_int_equal(out[i].iov_len, i < 3 ? 100 : 40);
	}
	off = 0;
	assert_int_equal(vxlan_gro_split(buf, 340, 100, &off, out, 3), 3);
	assert_int_equal(off, 300);
	assert_int_equal(vxlan_gro_split(buf, 340, 100, &off, out, 3), 1);
	assert_ptr_equal(out[0].iov_base, buf + 300);
	assert_int_equal(out[0].iov_len, 40);
	assert_int_equal(vxlan_gro_split(buf, 340, 100, &off, out, 3), 0);
	/* An exact multiple: no empty piece at the end. */
	off = 0;
	assert_int_equal(vxlan_gro_split(buf, 300, 100, &off, out, 8), 3);
	assert_int_equal(out[2].iov_len, 100);
}

/* Sizes off the wire: none, or past the buffer, is one datagram; an empty buffer none; nothing past @len. */
static void test_gro_hostile(void **state)
{
	struct iovec out[64];
	size_t off = 0;
	uint32_t vni;

	assert_int_equal(vxlan_gro_split(buf, 340, 0, &off, out, 8), 1);
	assert_int_equal(out[0].iov_len, 340);
	off = 0;
	assert_int_equal(vxlan_gro_split(buf, 340, 65536, &off, out, 8), 1);
	assert_int_equal(out[0].iov_len, 340);
	off = 0;
	assert_int_equal(vxlan_gro_split(buf, 0, 100, &off, out, 8), 0);
	assert_int_equal(off, 0);
	/* A size of one byte: 64 pieces at a time, each too short for VXLAN (a `short` drop each). */
	off = 0;
	assert_int_equal(vxlan_gro_split(buf, 1000, 1, &off, out, 64), 64);
	assert_int_equal(off, 64);
	assert_int_equal(vxlan_hdr_check(out[0].iov_base, out[0].iov_len, VNI, &vni), VXLAN_BAD_SHORT);
	/* A last piece too short for VXLAN + Ethernet, the others whole. */
	vxlan_hdr_build(buf, VNI);
	vxlan_hdr_build(buf + 100, VNI);
	off = 0;
	assert_int_equal(vxlan_gro_split(buf, 110, 100, &off, out, 8), 2);
	assert_int_equal(vxlan_hdr_check(out[0].iov_base, out[0].iov_len, VNI, &vni), VXLAN_OK);
	assert_int_equal(vxlan_hdr_check(out[1].iov_base, out[1].iov_len, VNI, &vni), VXLAN_BAD_SHORT);
}

/* The segments of the loaded frame as flat inner frames in flat[] (each at flat_at[k], flat_len[k]): what GRO hands after decap. */
static uint8_t flat[2 * 65536];
static struct iovec flat_seg[64];

static unsigned flatten(void)
{
	unsigned n = gso_count(src), at = 0;

	assert_true(n <= 64);
	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(gso_segment(src, k, scratch, 1), 1);
		assert_true(at + scratch[0].len <= sizeof(flat));
		assert_int_equal(pkt_to_buf(&scratch[0], flat + at, scratch[0].len), scratch[0].len);
		flat_seg[k] = (struct iovec){ flat + at, scratch[0].len };
		at += scratch[0].len;
	}
	return n;
}

/* The @k iovecs as one buffer in got_buf; its length. */
static uint8_t got_buf[65536];
static size_t gather(const struct iovec *out, unsigned k)
{
	size_t at = 0;

	for (unsigned i = 0; i < k; i++) {
		memcpy(got_buf + at, out[i].iov_base, out[i].iov_len);
		at += out[i].iov_len;
	}
	return at;
}

/* The segments of a TSO frame merge back into that very frame (IPv4 and IPv6), its TSO request restored. */
static void test_merge_roundtrip(void **state)
{
	static const bool v6s[] = { false, true };
	struct iovec mv[64];
	struct vxlan_tso tso;

	for (unsigned t = 0; t < 2; t++) {
		struct ref_geom g;
		size_t len = load(&g, v6s[t], false, 64 * 1000 - 100, 1000);
		unsigned n = flatten();

		assert_int_equal(n, 64);
		assert_int_equal(vxlan_gro_merge(flat_seg, n, mv, &tso), 64);
		assert_int_equal(tso.len, len);
		assert_int_equal(tso.gso_type, v6s[t] ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
		assert_int_equal(tso.gso_size, 1000);
		assert_int_equal(tso.csum_start, g.l4);
		assert_int_equal(tso.csum_offset, 16);
		assert_int_equal(gather(mv, 64), len);
		assert_memory_equal(got_buf, frame, len);
	}
}

/*
 * With each segment's sum known (the outer checksum's check leaves it,
 * xdp=), the merge checks the TCP checksums from the sums: the same runs,
 * IPv4 and IPv6, and a flipped payload byte (its sum the bytes' as they
 * are) still ends the run where it is.
 */
static void test_merge_sums(void **state)
{
	static const bool v6s[] = { false, true };
	struct iovec mv[64];
	struct vxlan_tso tso, tso2;
	uint32_t sums[64];

	for (unsigned t = 0; t < 2; t++) {
		struct ref_geom g;
		size_t len = load(&g, v6s[t], false, 64 * 1000 - 100, 1000);
		unsigned n = flatten();

		for (unsigned k = 0; k < n; k++)
			sums[k] = csum_add(0, flat_seg[k].iov_base, flat_seg[k].iov_len);
		assert_int_equal(vxlan_gro_merge_sums(flat_seg, sums, n, mv, &tso), 64);
		assert_int_equal(tso.len, len);
		assert_int_equal(gather(mv, 64), len);
		assert_memory_equal(got_buf, frame, len);
	}
	{
		struct ref_geom g;
		unsigned n;

		load(&g, false, false, 10 * 1000, 1000);
		n = flatten();
		((uint8_t *)flat_seg[5].iov_base)[100] ^= 1;
		for (unsigned k = 0; k < n; k++)
			sums[k] = csum_add(0, flat_seg[k].iov_base, flat_seg[k].iov_len);
		assert_int_equal(vxlan_gro_merge_sums(flat_seg, sums, n, mv, &tso), 5);
		/* ... as without them: the first frame's headers, rewritten by the first merge, are of the run's length */
		load(&g, false, false, 10 * 1000, 1000);
		n = flatten();
		((uint8_t *)flat_seg[5].iov_base)[100] ^= 1;
		assert_int_equal(vxlan_gro_merge(flat_seg, n, mv, &tso2), 5);
		assert_int_equal(tso.len, tso2.len);
		/* a sum that is not the bytes' (one off in a payload word) fails the check as a wrong checksum does */
		load(&g, false, false, 10 * 1000, 1000);
		n = flatten();
		for (unsigned k = 0; k < n; k++)
			sums[k] = csum_add(0, flat_seg[k].iov_base, flat_seg[k].iov_len);
		sums[3] += 1;
		assert_int_equal(vxlan_gro_merge_sums(flat_seg, sums, n, mv, &tso), 3);
	}
}

/* A run ends at what cannot follow: a bad checksum, a gap, another flag, a short segment; a lone segment stays. */
static void test_merge_stops(void **state)
{
	struct iovec mv[64];
	struct vxlan_tso tso;
	struct ref_geom g;
	unsigned n;

	load(&g, false, false, 10 * 1000, 1000);
	n = flatten();
	assert_int_equal(n, 10);
	assert_int_equal(vxlan_gro_merge(flat_seg, 1, mv, &tso), 1);
	/* a payload byte flipped in segment 5: its TCP checksum fails, the run is 0..4 */
	((uint8_t *)flat_seg[5].iov_base)[100] ^= 1;
	assert_int_equal(vxlan_gro_merge(flat_seg, n, mv, &tso), 5);
	assert_int_equal(tso.len, 14 + 20 + 32 + 5000);
	load(&g, false, false, 10 * 1000, 1000);
	n = flatten();
	/* segment 3 missing: a gap in the sequence */
	memmove(&flat_seg[3], &flat_seg[4], 6 * sizeof(flat_seg[0]));
	assert_int_equal(vxlan_gro_merge(flat_seg, n - 1, mv, &tso), 3);
	/* the first one alone has PSH (the whole frame in one segment's worth): nothing merges after it */
	load(&g, false, false, 3 * 1000, 1000);
	n = flatten();
	assert_int_equal(vxlan_gro_merge(&flat_seg[2], 1, mv, &tso), 1);
	assert_int_equal(vxlan_gro_merge(flat_seg, n, mv, &tso), 3); /* ACK, ACK, ACK|PSH */
	/* a frame of another flow in the middle (a port changed: its checksum still right) */
	load(&g, false, false, 6 * 1000, 1000);
	n = flatten();
	{
		uint8_t *f = flat_seg[2].iov_base;
		struct iovec one = { f, flat_seg[2].iov_len };

		f[g.l4 + 1] ^= 1;
		f[g.l4 + 16] = f[g.l4 + 17] = 0;
		assert_int_equal(csum_complete(&one, 1, one.iov_len, g.l4, 16), 0);
	}
	assert_int_equal(vxlan_gro_merge(flat_seg, n, mv, &tso), 2);
	/* nothing that is not TCP over untagged IP merges: UDP */
	load(&g, false, true, 3 * 1000, 1000);
	n = flatten();
	memcpy(want, flat_seg[0].iov_base, flat_seg[0].iov_len);
	assert_int_equal(vxlan_gro_merge(flat_seg, n, mv, &tso), 1);
	/* the first frame is untouched when nothing merges */
	assert_memory_equal(flat_seg[0].iov_base, want, flat_seg[0].iov_len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_tso4_64k),
		cmocka_unit_test(test_build_v6_uso_limits),
		cmocka_unit_test(test_build_cap),
		cmocka_unit_test(test_build_csum_only),
		cmocka_unit_test(test_build_short_view),
		cmocka_unit_test(test_gro_split),
		cmocka_unit_test(test_gro_hostile),
		cmocka_unit_test(test_merge_roundtrip),
		cmocka_unit_test(test_merge_stops),
		cmocka_unit_test(test_merge_sums),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
