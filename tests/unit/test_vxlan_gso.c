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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
