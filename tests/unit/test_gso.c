/* test_gso.c - unit tests of packet/gso: segments and completed checksums against the plain reference (tests/lib/gso_ref.h), every refusal by its reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/gso_ref.h"
#include "../lib/rng.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/vnet_hdr.h"

#define FRAME_MAX 65535u
#define ROUNDS 400

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rnd(void)
{
	return test_rnd(&rng_state);
}

static uint8_t frame[FRAME_MAX], saved[FRAME_MAX], want[FRAME_MAX], got[FRAME_MAX + 2];
static struct iovec iov[40];
static struct pkt src, segs[8];

/* @len bytes of @f as a packet whose view is cut into up to 32 random pieces (odd ones too). */
static void load_from(uint8_t *f, size_t len, bool cut)
{
	unsigned n = 0;
	size_t at = 0;

	while (cut && at < len && n < 31) {
		size_t take = rnd() % 3 == 0 ? rnd() % 5 : rnd() % (len - at + 1) / 4;

		iov[n++] = (struct iovec){ f + at, take };
		at += take;
	}
	iov[n++] = (struct iovec){ f + at, len - at };
	pkt_rx_init(&src, iov, n, (uint32_t)len, 3);
	pkt_load(&src);
}

/* @len bytes of frame[] as a packet (load_from()). */
static void load(size_t len, bool cut)
{
	load_from(frame, len, cut);
}

/* src's request for a frame of layout @g that starts @at bytes in (behind a tunnel's outer header; 0: none). */
static void set_offload_at(const struct ref_geom *g, size_t at, unsigned gso, unsigned mss)
{
	src.csum = PKT_CSUM_PARTIAL;
	src.csum_start = (uint16_t)(at + g->l4);
	src.csum_offset = g->udp ? 6 : 16;
	src.gso_type = (uint8_t)gso;
	src.gso_size = (uint16_t)mss;
}

static void set_offload(const struct ref_geom *g, unsigned gso, unsigned mss)
{
	set_offload_at(g, 0, gso, mss);
}

/*
 * Every segment of src, taken @chunk at a time, equal to the reference's,
 * with correct sums; with @partial (gso_segment_partial()) each L4 sum is
 * left partial on the L4 header's field and equals the reference's once
 * completed.  Either way gso_copy_finish() copies it as the reference's
 * bytes (the sum completed in the copy, or a finished frame as it is).
 */
static void check_segments(const struct ref_geom *g, size_t len, unsigned mss, unsigned chunk, bool partial)
{
	unsigned nseg = gso_count(&src), k = 0;
	uint8_t head_before[sizeof(src.buf)];

	memcpy(head_before, src.buf, sizeof(src.buf));
	while (k < nseg) {
		int n = partial ? gso_segment_partial(&src, k, segs, chunk) : gso_segment(&src, k, segs, chunk);

		assert_true(n > 0);
		for (int i = 0; i < n; i++, k++) {
			size_t wl = ref_segment(frame, len, g, mss, k, want);

			assert_int_not_equal(wl, 0);
			assert_int_equal(segs[i].len, wl);
			/* The fused copy: the reference's bytes, checksum completed, in one pass (nothing past wl written). */
			memset(got, 0xa5, wl + 2);
			assert_int_equal(gso_copy_finish(&segs[i], got), (int)wl);
			if (memcmp(got, want, wl))
				fail_msg("copied segment %u of %u differs (len %zu mss %u v6 %d udp %d partial %d)", k, nseg,
					 len, mss, g->v6, g->udp, partial);
			assert_int_equal(got[wl], 0xa5);
			assert_int_equal(got[wl + 1], 0xa5);
			assert_int_equal(pkt_to_buf(&segs[i], got, sizeof(got)), wl);
			if (partial) {
				assert_int_equal(segs[i].csum, PKT_CSUM_PARTIAL);
				assert_int_equal(segs[i].csum_start, g->l4);
				assert_int_equal(segs[i].csum_offset, g->udp ? 6 : 16);
				assert_int_equal(csum_complete_buf(got, wl, g->l4, g->udp ? 6 : 16), 0);
			}
			if (memcmp(got, want, wl))
				fail_msg("segment %u of %u differs (len %zu mss %u v6 %d udp %d)", k, nseg, len, mss,
					 g->v6, g->udp);
			assert_true(ref_csums_ok(got, wl, g));
			assert_int_equal(segs[i].gso_type, 0);
			assert_int_equal(segs[i].csum, partial ? PKT_CSUM_PARTIAL : PKT_CSUM_NONE);
		}
	}
	assert_int_equal(ref_segment(frame, len, g, mss, k, want), 0);
	assert_int_equal(partial ? gso_segment_partial(&src, k, segs, chunk) : gso_segment(&src, k, segs, chunk), 0);
	/* The source's head (shared by its other destinations) and its memory are untouched. */
	assert_memory_equal(head_before, src.buf, sizeof(src.buf));
	assert_memory_equal(frame, saved, len);
}

static void test_segment_random(void **state)
{
	for (unsigned r = 0; r < ROUNDS; r++) {
		bool v6 = rnd() & 1, udp = rnd() % 3 == 0;
		unsigned tags = rnd() % 4 == 0 ? 1 + rnd() % 2 : 0; /* one tag or two (QinQ) */
		unsigned ip_opt = v6 ? 0 : (rnd() % 3) * 4, tcp_opt = udp ? 0 : (rnd() % 11) * 4;
		size_t payload = rnd() % 4 == 0 ? rnd() % 65000 : rnd() % 9000, max_payload;
		unsigned mss = rnd() % 4 == 0 ? 1 + rnd() % 200 : 500 + rnd() % 9000, flags = rnd() & 0xff;
		struct ref_geom g;
		size_t len;

		max_payload = FRAME_MAX - 22 - 60 - 60 - 8;
		if (payload > max_payload)
			payload = max_payload;
		if (payload / mss >= GSO_SEGS_MAX)
			mss = (unsigned)(payload / GSO_SEGS_MAX + 1);
		len = ref_frame(frame, &g, v6, udp, tags, ip_opt, tcp_opt, udp ? 0 : flags, payload, rnd());
		memcpy(saved, frame, len);
		load(len, rnd() & 1);
		set_offload(&g, udp ? VNET_GSO_UDP_L4 : v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, mss);
		if (!udp && (flags & 0x80) && rnd() % 2)
			src.gso_type |= PKT_GSO_ECN;
		assert_int_equal(gso_check(&src), GSO_OK);
		assert_int_equal(gso_count(&src), payload ? (payload + mss - 1) / mss : 1);
		check_segments(&g, len, mss, 1 + rnd() % 8, rnd() & 1);
	}
}

/* A 64 KiB TSO frame (the usual one) cut by a 1448-byte MSS: 46 segments, CWR first, PSH and FIN last. */
static void test_segment_64k(void **state)
{
	struct ref_geom g;
	size_t len = ref_frame(frame, &g, false, false, false, 0, 12, 0x80 | 0x18 | 0x01, 65535 - 14 - 20 - 32 - 1, 7);
	unsigned n = 0;

	memcpy(saved, frame, len);
	load(len, false);
	set_offload(&g, VNET_GSO_TCPV4 | PKT_GSO_ECN, 1448);
	assert_int_equal(gso_check(&src), GSO_OK);
	assert_int_equal(gso_count(&src), 46);
	check_segments(&g, len, 1448, 8, false);
	check_segments(&g, len, 1448, 8, true);
	/* Flags seen through the segments themselves. */
	for (unsigned k = 0; k < 46; k += (unsigned)n) {
		n = (unsigned)gso_segment(&src, k, segs, 8);
		for (unsigned i = 0; i < n; i++) {
			uint8_t fl = pkt_head(&segs[i])[g.l4 + 13];

			assert_int_equal(!!(fl & 0x80), k + i == 0);
			assert_int_equal(!!(fl & 0x09), k + i == 45);
		}
	}
}

/* A partial checksum alone: one clone, completed in its own head; the source's head stays partial. */
static void test_complete_clone(void **state)
{
	for (unsigned r = 0; r < 200; r++) {
		bool v6 = rnd() & 1, udp = rnd() & 1;
		struct ref_geom g;
		size_t len = ref_frame(frame, &g, v6, udp, rnd() % 3, 0, 0, 0x10, rnd() % 3000, rnd());
		uint8_t head_before[sizeof(src.buf)];

		memcpy(saved, frame, len);
		load(len, true);
		set_offload(&g, VNET_GSO_NONE, 0);
		memcpy(head_before, src.buf, sizeof(src.buf));
		assert_int_equal(gso_check(&src), GSO_OK);
		assert_int_equal(gso_count(&src), 1);
		assert_int_equal(gso_segment(&src, 0, segs, 4), 1);
		assert_int_equal(pkt_to_buf(&segs[0], got, sizeof(got)), len);
		assert_true(ref_csums_ok(got, len, &g));
		/* Only the checksum field differs from the sender's frame. */
		{
			unsigned at = g.l4 + (udp ? 6 : 16);

			memcpy(want, frame, len);
			memcpy(want + at, got + at, 2);
			assert_memory_equal(got, want, len);
		}
		assert_memory_equal(head_before, src.buf, sizeof(src.buf));
		assert_int_equal(gso_segment(&src, 1, segs, 4), 0);
	}
}

/*
 * @ilen bytes of @inner behind an outer Ethernet (@tags tags: 0 or 1) +
 * IPv4 or IPv6 (@ov6) + UDP + VXLAN header into @f, as a Linux vxlan
 * device hands its TSO frames to AF_PACKET: the outer lengths the whole
 * frame's, the outer UDP checksum field 0 (none) or, with @ocsum, some
 * value (the super-frame's; recomputed per segment).  The outer header's
 * length.
 */
static size_t tunnel_wrap(uint8_t *f, const uint8_t *inner, size_t ilen, bool ov6, unsigned tags, bool ocsum,
			  unsigned id)
{
	unsigned opt = !ov6 && id % 3 == 0 ? 8 : 0; /* IPv4 options (two NOPs words) now and then */
	size_t l3 = 14 + 4 * tags, l4 = l3 + (ov6 ? 40 : 20 + opt), o = l4 + 16, len = o + ilen;

	memset(f, 0, o);
	for (unsigned i = 0; i < 12; i++)
		f[i] = (uint8_t)(0x30 + i);
	if (tags) {
		ref_wr16(f + 12, 0x8100);
		ref_wr16(f + 14, 9);
	}
	ref_wr16(f + l3 - 2, ov6 ? 0x86dd : 0x0800);
	if (ov6) {
		f[l3] = 0x60;
		ref_wr16(f + l3 + 4, (unsigned)(len - l3 - 40));
		f[l3 + 6] = 17;
		f[l3 + 7] = 64;
		for (unsigned i = 0; i < 32; i++)
			f[l3 + 8 + i] = (uint8_t)(0xa0 + i * 7);
	} else {
		f[l3] = (uint8_t)(0x45 + opt / 4);
		ref_wr16(f + l3 + 2, (unsigned)(len - l3));
		ref_wr16(f + l3 + 4, id);
		ref_wr16(f + l3 + 6, 0x4000);
		f[l3 + 8] = 64;
		f[l3 + 9] = 17;
		for (unsigned i = 0; i < 8; i++)
			f[l3 + 12 + i] = (uint8_t)(0xc0 + i * 5);
		memset(f + l3 + 20, 1, opt);
		ref_put(f + l3 + 10, (uint16_t)~ref_sum(f + l3, 20 + opt));
	}
	ref_wr16(f + l4, 40000 + id % 1000);
	ref_wr16(f + l4 + 2, 4789);
	ref_wr16(f + l4 + 4, (unsigned)(len - l4));
	if (ocsum)
		ref_wr16(f + l4 + 6, 0x5a5a);
	f[l4 + 8] = 0x08;
	f[l4 + 14] = 42;
	memcpy(f + o, inner, ilen);
	return o;
}

/*
 * The inner checksum of a frame tunnelled in IPv6 VXLAN (a guest's or a
 * container's vxlan device over IPv6 with checksum offload): its field
 * past the 128-byte head (inner IPv6 TCP: at 140), taken up to
 * GSO_CSUM_FIELD_MAX and completed in a clone whose longer head holds it;
 * the source's head and memory untouched, and the same after a tag pushed
 * in front for a destination.  Past the limit: csum_field.
 */
static void test_complete_long_field(void **state)
{
	static uint8_t inner[4000];

	for (unsigned r = 0; r < 300; r++) {
		bool v6 = rnd() % 4 != 0, udp = rnd() % 3 == 0, tagged = rnd() & 1;
		unsigned tags = rnd() % 4 == 0 ? 1 + rnd() % 2 : 0, tcp_opt = udp ? 0 : (rnd() % 11) * 4;
		struct ref_geom g;
		size_t ilen = ref_frame(inner, &g, v6, udp, tags, 0, tcp_opt, 0x10, rnd() % 3000, rnd());
		size_t o = tunnel_wrap(frame, inner, ilen, true, tagged, false, r), len = o + ilen;
		size_t start = o + g.l4, field = start + (udp ? 6 : 16);
		uint8_t head_before[sizeof(src.buf)];
		bool push = rnd() & 1;

		memcpy(saved, frame, len);
		load(len, rnd() & 1);
		set_offload_at(&g, o, VNET_GSO_NONE, 0);
		if (field + 2 > GSO_CSUM_FIELD_MAX) {
			assert_int_equal(gso_check(&src), GSO_BAD_CSUM_FIELD);
			continue;
		}
		assert_int_equal(gso_check(&src), GSO_OK);
		if (push) {
			assert_int_equal(pkt_vlan_push(&src, 0x0042), 0);
			memmove(saved + 16, saved + 12, len - 12);
			ref_wr16(saved + 12, 0x8100);
			ref_wr16(saved + 14, 0x0042);
			len += 4;
			o += 4;
			field += 4;
		}
		memcpy(head_before, src.buf, sizeof(src.buf));
		assert_int_equal(gso_segment(&src, 0, segs, 4), 1);
		assert_int_equal(segs[0].csum, PKT_CSUM_NONE);
		assert_true(segs[0].head_len >= field + 2);
		assert_int_equal(pkt_to_buf(&segs[0], got, sizeof(got)), len);
		assert_true(ref_csums_ok(got + o, len - o, &g));
		/* Only the checksum field differs from the sender's frame. */
		memcpy(want, saved, len);
		memcpy(want + field, got + field, 2);
		assert_memory_equal(got, want, len);
		/* gso_segment_partial() completes a checksum alone the same way. */
		assert_int_equal(gso_segment_partial(&src, 0, segs, 4), 1);
		memset(got, 0xa5, len + 2);
		assert_int_equal(gso_copy_finish(&segs[0], got), (int)len);
		assert_memory_equal(got, want, len);
		assert_int_equal(got[len], 0xa5);
		assert_memory_equal(head_before, src.buf, sizeof(src.buf));
		assert_memory_equal(frame, push ? frame : saved, push ? 0 : len);
	}
}

/*
 * A UDP tunnel's TSO / USO frame as Linux's AF_PACKET gives it from a
 * container's vxlan device: the inner type, csum_start at the inner
 * transport header, nothing said of the tunnel.  Recognised
 * (PKT_GSO_TUNNEL, needing GSO_TX_TUNNEL), and cut into segments whose
 * inner and outer headers are the reference's (outer IPv4 and IPv6, with
 * and without its UDP checksum, inner IPv4 and IPv6, TCP and UDP), also
 * with the inner sums left partial; headers past the 128-byte head (outer
 * and inner IPv6: 156 bytes and more) read into a longer one.
 */
static void test_segment_tunnel(void **state)
{
	static uint8_t inner[FRAME_MAX], ref[FRAME_MAX];

	for (unsigned r = 0; r < 200; r++) {
		bool ov6 = rnd() & 1, v6 = rnd() & 1, udp = rnd() % 3 == 0, ocsum = rnd() & 1, partial = rnd() & 1;
		unsigned tags = rnd() % 4 == 0, tcp_opt = udp ? 0 : (rnd() % 4) * 4, mss = 200 + rnd() % 1400, nseg, k = 0;
		size_t payload = rnd() % 30000, ilen, o, len;
		struct ref_geom g;
		unsigned ol3 = 14 + 4 * tags, ol4;

		ilen = ref_frame(inner, &g, v6, udp, 0, 0, tcp_opt, udp ? 0 : 0x10, payload, rnd());
		o = tunnel_wrap(frame, inner, ilen, ov6, tags, ocsum, rnd() & 0xffff);
		ol4 = (unsigned)o - 16;
		len = o + ilen;
		memcpy(saved, frame, len);
		load(len, rnd() & 1);
		set_offload_at(&g, o, udp ? VNET_GSO_UDP_L4 : v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, mss);
		assert_int_equal(gso_check(&src), GSO_OK);
		assert_true(src.gso_type & PKT_GSO_TUNNEL);
		assert_true(gso_needs(&src) & GSO_TX_TUNNEL);
		nseg = gso_count(&src);
		assert_int_equal(nseg, payload ? (payload + mss - 1) / mss : 1);
		assert_int_equal(gso_wire_len(&src), o + g.hdr + mss < len ? o + g.hdr + mss : len);
		while (k < nseg) {
			int n = partial ? gso_segment_partial(&src, k, segs, 4) : gso_segment(&src, k, segs, 4);

			assert_true(n > 0);
			for (int i = 0; i < n; i++, k++) {
				size_t wl = ref_tunnel_segment(frame, o, ol3, ol4, ov6, ocsum, inner, ilen, &g, mss, k, ref);

				assert_int_equal(segs[i].len, wl);
				assert_int_equal(pkt_to_buf(&segs[i], got, sizeof(got)), wl);
				if (partial) {
					assert_int_equal(segs[i].csum, PKT_CSUM_PARTIAL);
					assert_int_equal(segs[i].csum_start, o + g.l4);
					assert_int_equal(csum_complete_buf(got, wl, o + g.l4, udp ? 6 : 16), 0);
				}
				if (memcmp(got, ref, wl))
					fail_msg("tunnel segment %u of %u differs (ov6 %d v6 %d udp %d ocsum %d partial %d)",
						 k, nseg, ov6, v6, udp, ocsum, partial);
			}
		}
		assert_memory_equal(frame, saved, len);
	}
	/* Not a tunnel's: a sum starting past the outer UDP header with no inner IP header before it. */
	{
		struct ref_geom g;
		size_t ilen = ref_frame(inner, &g, false, false, 0, 0, 0, 0x10, 3000, 5);
		size_t o = tunnel_wrap(frame, inner, ilen, false, 0, false, 1);

		frame[o + g.l3] = 0x46; /* the inner IHL says 24 bytes: the header does not end at the TCP one */
		load(o + ilen, false);
		set_offload_at(&g, o, VNET_GSO_TCPV4, 1000);
		assert_int_equal(gso_check(&src), GSO_BAD_HEADERS);
		/* A TCPV6 request on an inner IPv4 packet. */
		ilen = ref_frame(inner, &g, false, false, 0, 0, 0, 0x10, 3000, 5);
		o = tunnel_wrap(frame, inner, ilen, true, 0, true, 1);
		load(o + ilen, false);
		set_offload_at(&g, o, VNET_GSO_TCPV6, 1000);
		assert_int_equal(gso_check(&src), GSO_BAD_TYPE);
		/* The outer UDP length not the frame's. */
		ref_wr16(frame + 14 + 40 + 4, 100);
		load(o + ilen, false);
		set_offload_at(&g, o, VNET_GSO_TCPV4, 1000);
		assert_int_equal(gso_check(&src), GSO_BAD_IP_LEN);
	}
}

/*
 * A segmentation request after the tx stage pushed a tag for a destination
 * (a trunk port): the segments' headers found where they lie now, not
 * where the parse at rx found them (the same frame sent tagged).
 */
static void test_segment_after_push(void **state)
{
	static uint8_t plain[FRAME_MAX];

	for (unsigned r = 0; r < 60; r++) {
		bool v6 = rnd() & 1, udp = rnd() % 3 == 0;
		unsigned mss = 500 + rnd() % 1500;
		uint32_t seed = rnd();
		struct ref_geom g;
		size_t payload = rnd() % 20000, len = ref_frame(plain, &g, v6, udp, 0, 0, 0, 0x10, payload, seed);

		load_from(plain, len, rnd() & 1);
		set_offload(&g, udp ? VNET_GSO_UDP_L4 : v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, mss);
		assert_int_equal(gso_check(&src), GSO_OK);
		assert_int_equal(pkt_vlan_push(&src, 0x0123), 0);
		/* The reference: the sender's frame with that tag (ref_frame()'s bytes after it are the same). */
		len = ref_frame(frame, &g, v6, udp, 1, 0, 0, 0x10, payload, seed);
		memcpy(saved, frame, len);
		/* Nothing parses the head again before (the parse at rx is all a destination without a size limit sees). */
		check_segments(&g, len, mss, 1 + rnd() % 8, rnd() & 1);
		assert_int_equal(gso_wire_len(&src), g.hdr + mss < len ? g.hdr + mss : len);
	}
}

/* Each malformed request refused with its reason (and the reasons named). */
static void test_rejects(void **state)
{
	struct ref_geom g;
	size_t len = ref_frame(frame, &g, false, false, false, 0, 0, 0x10, 3000, 1);

	/* A field past the frame. */
	load(len, false);
	set_offload(&g, VNET_GSO_NONE, 0);
	src.csum_start = (uint16_t)(len - 1);
	src.csum_offset = 0;
	assert_int_equal(gso_check(&src), GSO_BAD_CSUM_RANGE);
	/* Inside the frame, past what a head can hold (GSO_CSUM_FIELD_MAX); at its end, taken. */
	src.csum_start = 1000;
	assert_int_equal(gso_check(&src), GSO_BAD_CSUM_FIELD);
	src.csum_start = GSO_CSUM_FIELD_MAX - 2 - 10;
	src.csum_offset = 11;
	assert_int_equal(gso_check(&src), GSO_BAD_CSUM_FIELD);
	src.csum_offset = 10;
	assert_int_equal(gso_check(&src), GSO_OK);
	/* gso_size 0, and one cutting into more than GSO_SEGS_MAX. */
	set_offload(&g, VNET_GSO_TCPV4, 0);
	assert_int_equal(gso_check(&src), GSO_BAD_SIZE);
	set_offload(&g, VNET_GSO_TCPV4, 2);
	assert_int_equal(gso_check(&src), GSO_BAD_SIZE);
	assert_int_equal(gso_count(&src), 0);
	assert_int_equal(gso_segment(&src, 0, segs, 8), -EINVAL);
	/* Type against protocol: TCPV6 on IPv4, UDP_L4 on TCP, UFO, ECN on UDP. */
	set_offload(&g, VNET_GSO_TCPV6, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_TYPE);
	set_offload(&g, VNET_GSO_UDP_L4, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_TYPE);
	set_offload(&g, VNET_GSO_UDP, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_TYPE);
	set_offload(&g, PKT_GSO_ECN, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_TYPE);
	set_offload(&g, 9, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_TYPE);
	/* Segmentation without the partial checksum, or with it elsewhere. */
	set_offload(&g, VNET_GSO_TCPV4, 1000);
	src.csum = PKT_CSUM_NONE;
	assert_int_equal(gso_check(&src), GSO_BAD_CSUM_PLACE);
	set_offload(&g, VNET_GSO_TCPV4, 1000);
	src.csum_offset = 6;
	assert_int_equal(gso_check(&src), GSO_BAD_CSUM_PLACE);
	/* Padding after the datagram. */
	len = ref_frame(frame, &g, false, false, false, 0, 0, 0x10, 3000, 1);
	load(len + 4, false);
	set_offload(&g, VNET_GSO_TCPV4, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_IP_LEN);
	/* Headers that do not parse: an IPv4 version nibble of 5, a fragment. */
	frame[g.l3] = 0x55;
	load(len, false);
	set_offload(&g, VNET_GSO_TCPV4, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_HEADERS);
	len = ref_frame(frame, &g, false, false, false, 0, 0, 0x10, 3000, 1);
	ref_wr16(frame + g.l3 + 6, 0x2010);
	load(len, false);
	set_offload(&g, VNET_GSO_TCPV4, 1000);
	assert_int_equal(gso_check(&src), GSO_BAD_HEADERS);
	/* A view shorter than the frame claims: refused at segmentation, nothing read past it. */
	len = ref_frame(frame, &g, true, true, false, 0, 0, 0, 3000, 1);
	load(len, false);
	set_offload(&g, VNET_GSO_UDP_L4, 1000);
	assert_int_equal(gso_check(&src), GSO_OK);
	iov[0].iov_len = len - 10;
	assert_int_equal(gso_segment(&src, 0, segs, 8), -EINVAL);
	for (unsigned r = 0; r < GSO_BAD__COUNT; r++)
		assert_non_null(gso_bad_names[r]);
}

/*
 * A checksum-only request whose field lies where the switch reads (the
 * MACs, a tag, the IP header, the L4 ports, ARP) is refused: the sum is
 * written at egress, after port security and the flows looked at those
 * bytes, and a guest choosing its payload would choose what is written.
 */
static void test_csum_place(void **state)
{
	static const struct {
		bool udp;
		unsigned vlan;	/* tags */
		int start;	/* from L4 (l4 + start) or, below -100, from the frame's start (-start - 100) */
		unsigned offset;
		enum gso_bad want;
	} cases[] = {
		{ false, false, 0, 16, GSO_OK },			/* TCP's own field */
		{ false, false, 20, 10, GSO_OK },			/* past the TCP header: a tunnel's inner sum */
		{ false, false, 0, 0, GSO_BAD_CSUM_PLACE },		/* the source port */
		{ false, false, 0, 2, GSO_BAD_CSUM_PLACE },		/* the destination port */
		{ false, false, 0, 13, GSO_BAD_CSUM_PLACE },		/* the flags */
		{ false, false, -20, 12, GSO_BAD_CSUM_PLACE },		/* the IP source address */
		{ false, false, -106, 0, GSO_BAD_CSUM_PLACE },		/* the source MAC */
		{ false, false, -110, 24, GSO_BAD_CSUM_PLACE },		/* the sum starts in the MACs, field on TCP's */
		{ true, false, 0, 6, GSO_OK },				/* UDP's own field */
		{ true, false, 8, 4, GSO_OK },				/* in the payload */
		{ true, false, 0, 2, GSO_BAD_CSUM_PLACE },
		{ false, true, 0, 16, GSO_OK },				/* tagged: the offsets after the tag */
		{ false, true, -114, 0, GSO_BAD_CSUM_PLACE },		/* the tag's TCI */
		{ false, 2, 0, 16, GSO_OK },				/* QinQ: the offsets after both tags */
		{ false, 2, 0, 0, GSO_BAD_CSUM_PLACE },			/* QinQ: the source port */
		{ false, 2, -20, 12, GSO_BAD_CSUM_PLACE },		/* QinQ: the IP source address */
		{ true, 2, 0, 6, GSO_OK },
		{ true, 2, 0, 4, GSO_BAD_CSUM_PLACE },			/* QinQ: the UDP length */
	};
	struct ref_geom g;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = ref_frame(frame, &g, false, cases[i].udp, cases[i].vlan, 0, 0, 0x10, 1000, 1);

		load(len, false);
		set_offload(&g, VNET_GSO_NONE, 0);
		src.csum_start = (uint16_t)(cases[i].start < -100 ? -cases[i].start - 100 : (int)g.l4 + cases[i].start);
		src.csum_offset = (uint16_t)cases[i].offset;
		if (gso_check(&src) != cases[i].want)
			fail_msg("case %zu: %s, want %s", i, gso_bad_names[gso_check(&src)], gso_bad_names[cases[i].want]);
	}
	/* An ARP request (sender at 14 + 8..17): no sum inside its 28 bytes, after them one is as good as any. */
	memset(frame, 0, 60);
	memset(frame, 0xff, 6);
	frame[6] = 2;
	frame[12] = 0x08;
	frame[13] = 0x06;
	frame[14 + 1] = 1;
	frame[14 + 2] = 0x08;
	frame[14 + 4] = 6;
	frame[14 + 5] = 4;
	frame[14 + 7] = 1;
	load(60, false);
	src.csum = PKT_CSUM_PARTIAL;
	src.gso_type = VNET_GSO_NONE;
	src.csum_start = 14;
	src.csum_offset = 14;
	assert_int_equal(gso_check(&src), GSO_BAD_CSUM_PLACE);
	src.csum_offset = 28;
	assert_int_equal(gso_check(&src), GSO_OK);
}

/* What a frame needs of its destination. */
static void test_needs(void **state)
{
	struct pkt p = { 0 };

	assert_int_equal(gso_needs(&p), 0);
	p.csum = PKT_CSUM_VERIFIED;
	assert_int_equal(gso_needs(&p), 0);
	p.csum = PKT_CSUM_PARTIAL;
	assert_int_equal(gso_needs(&p), GSO_TX_CSUM);
	p.gso_type = VNET_GSO_TCPV4 | PKT_GSO_ECN;
	assert_int_equal(gso_needs(&p), GSO_TX_CSUM | GSO_TX_TSO4 | GSO_TX_ECN);
	p.gso_type = VNET_GSO_TCPV6;
	assert_int_equal(gso_needs(&p), GSO_TX_CSUM | GSO_TX_TSO6);
	p.gso_type = VNET_GSO_UDP_L4;
	assert_int_equal(gso_needs(&p), GSO_TX_CSUM | GSO_TX_USO);
	p.gso_type = VNET_GSO_UDP;
	assert_true(gso_needs(&p) & ~GSO_TX_ALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segment_random),
		cmocka_unit_test(test_segment_64k),
		cmocka_unit_test(test_complete_clone),
		cmocka_unit_test(test_complete_long_field),
		cmocka_unit_test(test_segment_after_push),
		cmocka_unit_test(test_segment_tunnel),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_csum_place),
		cmocka_unit_test(test_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
