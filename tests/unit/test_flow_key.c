/* test_flow_key.c - unit tests of flow/key: extraction of every layer, tags, fragments, cut and malformed headers, match comparisons. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/flow_frames.h"
#include "flow/key.h"

static uint8_t buf[2048];

/* Extract from an exact-size heap copy, so ASan sees any read past @hdr_len. */
static void extract(struct flow_key *k, struct flow_ofs *ofs, const uint8_t *f, size_t hdr_len, size_t frame_len,
		    uint16_t in_port)
{
	uint8_t *copy = malloc(hdr_len ? hdr_len : 1);

	assert_non_null(copy);
	memcpy(copy, f, hdr_len);
	flow_key_extract(k, copy, hdr_len, frame_len, in_port, ofs);
	free(copy);
}

static void test_tcp4(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n;

	s.tos = 0xb9;
	n = frame_build(buf, &s);
	memset(&k, 0xa5, sizeof(k));	/* every word must be written: the IPv6 tunnel pair is the last four */
	extract(&k, &o, buf, n, n, 7);
	assert_int_equal(ntohs(k.in_port), 7);
	assert_memory_equal(k.dl_dst, s.dst, 6);
	assert_memory_equal(k.dl_src, s.src, 6);
	assert_int_equal(ntohs(k.dl_type), 0x0800);
	assert_int_equal(k.vlan_tci, 0);
	assert_int_equal(ntohl(k.nw_src), 0x0a000001);
	assert_int_equal(ntohl(k.nw_dst), 0x0a000002);
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(k.nw_tos, 0xb9);
	assert_int_equal(k.nw_ttl, 64);
	assert_int_equal(k.nw_frag, 0);
	assert_int_equal(ntohs(k.tp_src), 1234);
	assert_int_equal(ntohs(k.tp_dst), 80);
	assert_int_equal(ntohs(k.tcp_flags), 0x018);
	assert_int_equal(o.l3, 14);
	assert_int_equal(o.l4, 34);
	assert_int_equal(o.l4_len, 30);
	assert_int_equal(o.truncated, 0);
	/* Nothing outside the parsed layers. */
	assert_int_equal(k.tun_id | k.metadata | k.regs[0] | k.regs[7], 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(k.ipv6_src[i] | k.ipv6_dst[i] | k.tun_ipv6_src[i] | k.tun_ipv6_dst[i], 0);
	assert_int_equal(k.tun_src | k.tun_dst, 0);
}

/*
 * tcp_flags: the low 12 bits of the TCP header's bytes 12-13 (NS, the
 * three reserved bits, CWR ... FIN), never the data offset; by the short
 * way and by the walk (IPv4 with options, IPv6), 0 for UDP, for a later
 * fragment and for a header that does not fit.
 */
static void test_tcp_flags(void **state)
{
	static const uint16_t flags[] = { 0x000, 0x002, 0x012, 0x011, 0x004, 0x0c2, 0x100, 0xe00, 0xfff };
	struct flow_key k;
	struct flow_ofs o;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		for (unsigned shape = 0; shape < 3; shape++) {
			struct frame_spec s = frame_tcp4();
			size_t n;

			s.tcp_flags = flags[i];
			s.ip_opts = shape == 1 ? 8 : 0;
			if (shape == 2)
				s.type = 0x86dd;
			n = frame_build(buf, &s);
			buf[(size_t)(shape == 2 ? 54 : 34 + s.ip_opts) + 12] |= 0xf0;	/* data offset 15: not a flag */
			memset(&k, 0xa5, sizeof(k));
			extract(&k, &o, buf, n, n, 1);
			assert_int_equal(k.nw_proto, 6);
			assert_int_equal(ntohs(k.tcp_flags), flags[i]);
		}
	{
		struct frame_spec s = frame_tcp4();
		size_t n;

		s.proto = 17;
		n = frame_build(buf, &s);
		buf[34 + 12] = 0xff;	/* where TCP's flags would be: payload */
		buf[34 + 13] = 0xff;
		extract(&k, &o, buf, n, n, 1);
		assert_int_equal(k.tcp_flags, 0);

		s = frame_tcp4();
		s.tcp_flags = 0x002;
		s.frag = 0x0001;	/* offset 8: a later fragment */
		n = frame_build(buf, &s);
		extract(&k, &o, buf, n, n, 1);
		assert_int_equal(k.tcp_flags, 0);

		s.frag = 0;
		n = frame_build(buf, &s);
		extract(&k, &o, buf, 34 + 12, n, 1);	/* the copy ends before the flags */
		assert_int_equal(k.tcp_flags, 0);
		assert_int_equal(o.truncated, 1);
	}
}

static void test_udp_icmp_options(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n;

	s.proto = 17;
	s.sport = 53;
	s.dport = 5353;
	s.ip_opts = 12;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 17);
	assert_int_equal(o.l4, 14 + 32);
	assert_int_equal(ntohs(k.tp_src), 53);
	assert_int_equal(ntohs(k.tp_dst), 5353);

	s.proto = 1;
	s.icmp_type = 8;
	s.icmp_code = 3;
	s.ip_opts = 40;		/* the largest IHL */
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 1);
	assert_int_equal(o.l4, 14 + 60);
	assert_int_equal(ntohs(k.tp_src), 8);	/* ICMP type and code in the port slots' low byte */
	assert_int_equal(ntohs(k.tp_dst), 3);
}

static void test_vlan(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n;

	s.vlan = 0xa00a;	/* PCP 5, CFI 0, VID 10 */
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohs(k.vlan_tci), 0xb00a);	/* CFI position carries "present" */
	assert_int_equal(ntohs(k.dl_type), 0x0800);
	assert_int_equal(o.l3, 18);
	assert_int_equal(ntohs(k.tp_dst), 80);

	s.vlan = 0x0000;	/* a priority tag: VID 0, still a tag */
	s.vlan_tpid = 0x88a8;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohs(k.vlan_tci), 0x1000);
	assert_int_equal(k.nw_proto, 6);

	/* Two tags: the outer one is matched, the inner TPID is dl_type and parsing stops. */
	s.vlan = 5;
	s.vlan2 = 6;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohs(k.vlan_tci), 0x1005);
	assert_int_equal(ntohs(k.dl_type), 0x8100);
	assert_int_equal(k.nw_src, 0);
	assert_int_equal(o.l3, FLOW_OFS_NONE);

	/* Half a tag. */
	s.vlan2 = -1;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, 16, 16, 1);
	assert_int_equal(k.vlan_tci, 0);
	assert_int_equal(k.dl_type, 0);
	assert_memory_equal(k.dl_src, s.src, 6);
}

static void test_arp(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n;

	s.type = 0x0806;
	s.arp_op = 2;
	memcpy(s.sha, "\x0a\x0b\x0c\x0d\x0e\x0f", 6);
	memcpy(s.tha, "\x1a\x1b\x1c\x1d\x1e\x1f", 6);
	s.spa = 0xc0a80001;
	s.tpa = 0xc0a80002;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 3);
	assert_int_equal(ntohs(k.dl_type), 0x0806);
	assert_int_equal(k.nw_proto, 2);
	assert_int_equal(ntohl(k.nw_src), 0xc0a80001);
	assert_int_equal(ntohl(k.nw_dst), 0xc0a80002);
	assert_memory_equal(k.arp_sha, s.sha, 6);
	assert_memory_equal(k.arp_tha, s.tha, 6);
	assert_int_equal(o.l3, 14);
	assert_int_equal(o.l4, FLOW_OFS_NONE);

	s.arp_op = 0x101;	/* above 255: reads as 0 (Open vSwitch) */
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 3);
	assert_int_equal(k.nw_proto, 0);
	assert_int_equal(ntohl(k.nw_src), 0xc0a80001);

	buf[14 + 4] = 8;	/* hln 8: not Ethernet/IPv4 ARP, nothing past dl_type */
	extract(&k, &o, buf, n, n, 3);
	assert_int_equal(ntohs(k.dl_type), 0x0806);
	assert_int_equal(k.nw_src, 0);
	assert_int_equal(o.l3, FLOW_OFS_NONE);
}

static void test_ipv6(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n;

	s.type = 0x86dd;
	s.tos = 0x2e;
	s.ttl = 9;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohs(k.dl_type), 0x86dd);
	assert_memory_equal(k.ipv6_src, s.src6, 16);
	assert_memory_equal(k.ipv6_dst, s.dst6, 16);
	assert_int_equal(k.nw_tos, 0x2e);
	assert_int_equal(k.nw_ttl, 9);
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(ntohs(k.tp_dst), 80);
	assert_int_equal(o.l4, 54);
	assert_int_equal(k.nw_src, 0);

	/* Extension headers and a first fragment: walked, L4 found. */
	s.ext_hdrs = 2;
	s.frag6 = true;
	s.proto = 17;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 17);
	assert_int_equal(k.nw_frag, FLOW_FRAG_ANY);
	assert_int_equal(o.l4, 54 + 24);
	assert_int_equal(ntohs(k.tp_src), 1234);

	/* A later fragment: nw_proto 44, no L4 (Open vSwitch). */
	fr_put16(buf + 54 + 16 + 2, 0x0100);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 44);
	assert_int_equal(k.nw_frag, FLOW_FRAG_ANY | FLOW_FRAG_LATER);
	assert_int_equal(k.tp_src, 0);
	assert_int_equal(o.l4, FLOW_OFS_NONE);

	/* More extension headers than FLOW_IPV6_EXT_MAX: no L4, the last next-header seen. */
	s.ext_hdrs = FLOW_IPV6_EXT_MAX + 1;
	s.frag6 = false;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 60);
	assert_int_equal(o.l4, FLOW_OFS_NONE);

	s.ext_hdrs = 0;
	s.proto = 58;
	s.icmp_type = 135;
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohs(k.tp_src), 135);
	assert_int_equal(k.tp_dst, 0);
}

static void test_ipv4_fragments(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n;

	s.frag = 0x2000;	/* MF, offset 0: the first fragment has ports */
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_frag, FLOW_FRAG_ANY);
	assert_int_equal(ntohs(k.tp_dst), 80);

	s.frag = 0x0010;	/* a later fragment */
	n = frame_build(buf, &s);
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_frag, FLOW_FRAG_ANY | FLOW_FRAG_LATER);
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(k.tp_dst, 0);
	assert_int_equal(o.l4, FLOW_OFS_NONE);
}

static void test_malformed_ipv4(void **state)
{
	struct frame_spec s = frame_tcp4();
	struct flow_key k;
	struct flow_ofs o;
	size_t n = frame_build(buf, &s);

	buf[14] = 0x44;		/* IHL 4 */
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohs(k.dl_type), 0x0800);
	assert_int_equal(k.nw_src | k.nw_proto | k.tp_src, 0);
	buf[14] = 0x45;
	fr_put16(buf + 16, (uint16_t)(n - 14 + 1));	/* total length past the frame */
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_src, 0);
	fr_put16(buf + 16, 19);				/* shorter than its header */
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_src, 0);
	fr_put16(buf + 16, 20 + 10);			/* the TCP header does not fit in the IP payload */
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(ntohl(k.nw_src), 0x0a000001);
	assert_int_equal(k.tp_src, 0);
	fr_put16(buf + 16, (uint16_t)(n - 14));
	buf[14 + 20 + 12] = 0x40;			/* TCP data offset 4 */
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 6);
	assert_int_equal(k.tp_src, 0);
	buf[14] = 0x65;		/* version 6 in an IPv4 Ethertype */
	extract(&k, &o, buf, n, n, 1);
	assert_int_equal(k.nw_proto, 0);
}

/* Every cut of the copy: no read past it, the layers before the cut as in the whole frame, a flag when cut. */
static void test_every_cut(void **state)
{
	struct frame_spec specs[4] = { frame_tcp4(), frame_tcp4(), frame_tcp4(), frame_tcp4() };

	specs[1].vlan = 3;
	specs[1].ip_opts = 8;
	specs[2].type = 0x86dd;
	specs[2].ext_hdrs = 1;
	specs[3].type = 0x0806;
	for (int i = 0; i < 4; i++) {
		struct flow_key full, k;
		struct flow_ofs fo, o;
		size_t n = frame_build(buf, &specs[i]);

		extract(&full, &fo, buf, n, n, 2);
		for (size_t cut = 0; cut <= n; cut++) {
			extract(&k, &o, buf, cut, n, 2);
			if (cut < 14) {
				assert_int_equal(k.dl_type, 0);
				assert_int_equal(o.truncated, 1);
				continue;
			}
			assert_memory_equal(k.dl_src, full.dl_src, 6);
			if (fo.l4 != FLOW_OFS_NONE && cut >= (size_t)fo.l4 + 20u) {
				assert_memory_equal(&k, &full, sizeof(k));
				assert_int_equal(o.truncated, 0);
			}
			if (memcmp(&k, &full, sizeof(k)))
				assert_int_equal(o.truncated, 1);
		}
		/* A copy longer than the frame: only frame_len bytes count. */
		extract(&k, &o, buf, n, n - 1, 2);
		assert_true(memcmp(&k, &full, sizeof(k)) != 0 || i == 3);
	}
}

/*
 * flow_key_extract()'s short way for untagged IPv4 TCP and UDP gives what
 * the general walk gives: frames of six specs (TCP, UDP, ICMP, options,
 * a tag, a fragment) with the bytes either way decides on changed at
 * random (Ethertype, version and IHL, total length, fragment bits,
 * protocol, TCP data offset), copies cut and frames shortened at random:
 * the same key and offsets, every time.
 */
static void test_fast_equals_walk(void **state)
{
	static const unsigned spots[] = { 12, 13, 14, 16, 17, 20, 21, 23, 46, 47, 14, 23 };
	uint32_t rnd = 0x6b43a9b5u;
	unsigned fast = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		struct frame_spec s = frame_tcp4();
		struct flow_key k1, k2;
		struct flow_ofs o1, o2;
		size_t n, hdr_len, frame_len;
		uint8_t *copy;

		rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
		s.proto = (uint8_t[]){ 6, 17, 1, 6 }[rnd & 3];
		s.ip_opts = (rnd >> 2) % 8 == 0 ? 4 : 0;
		s.vlan = (rnd >> 5) % 8 == 0 ? 5 : -1;
		s.frag = (rnd >> 8) % 8 == 0 ? 0x2000 : 0;
		s.payload = (rnd >> 11) % 24;
		n = frame_build(buf, &s);
		for (unsigned m = 0, nm = (rnd >> 16) % 3; m < nm; m++) {
			rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
			buf[spots[rnd % (sizeof(spots) / sizeof(spots[0]))]] ^= (uint8_t)(1u << ((rnd >> 8) % 8));
		}
		rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
		hdr_len = rnd % 4 ? n : rnd % (n + 1);
		frame_len = (rnd >> 8) % 4 ? n : n - (rnd >> 10) % 24;
		copy = malloc(hdr_len ? hdr_len : 1);
		assert_non_null(copy);
		memcpy(copy, buf, hdr_len);
		flow_key_extract(&k1, copy, hdr_len, frame_len, 3, &o1);
		flow_key_extract_walk(&k2, copy, hdr_len, frame_len, 3, &o2);
		free(copy);
		if (memcmp(&k1, &k2, sizeof(k1)) || memcmp(&o1, &o2, sizeof(o1)))
			fail_msg("frame %u (%zu bytes, copy %zu, frame_len %zu): the short way differs", iter, n, hdr_len,
				 frame_len);
		fast += k1.dl_type == htons(0x0800) && o1.l4 == 34;
	}
	print_message("%u of 200000 frames the short way\n", fast);
	assert_true(fast > 20000);
}

/* The A-and-B tests' generator (xorshift32): *@r stepped. */
static void step(uint32_t *r)
{
	*r ^= *r << 13, *r ^= *r >> 17, *r ^= *r << 5;
}

/* Frame A of the A-and-B tests into @a (TCP or UDP, a short payload, any ToS), its key made the short way: its length. */
static size_t frame_a(uint32_t *r, struct frame_spec *s, uint8_t *a, struct flow_key *ka, struct flow_ofs *oa)
{
	size_t n;

	step(r);
	s->proto = (*r & 1) ? 6 : 17;
	s->payload = (*r >> 1) % 24;
	s->tos = (uint8_t)(*r >> 6);
	n = frame_build(a, s);
	memset(ka, 0, sizeof(*ka));
	assert_true(flow_key_extract_frame(ka, a, n, n, 3, oa));
	return n;
}

/* Frame B (buf, a copy of A) with up to three bits flipped: at the bytes the key or the short way's shape read, or anywhere in the first 60. */
static void flip_bits(uint32_t *r)
{
	static const unsigned spots[] = { 0, 5, 6, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24,
					  26, 29, 30, 33, 34, 35, 36, 37, 38, 41, 46, 47 };

	for (unsigned m = 0, nm = (*r >> 16) % 4; m < nm; m++) {
		unsigned at;

		step(r);
		at = *r % 2 ? spots[(*r >> 1) % (sizeof(spots) / sizeof(spots[0]))] : (*r >> 1) % 60;
		buf[at] ^= (uint8_t)(1u << ((*r >> 8) % 8));
	}
}

/*
 * B (buf, @n bytes) as a port may hand it: its head (*@hdr_len) and its
 * frame (*@frame_len) cut short at times, in a heap copy of at least
 * @min bytes (what the code under test reads whatever the head's length),
 * the bytes past the head stale: @a's own at times when @stale_a (an
 * earlier frame of the flow left them), else any.
 */
static uint8_t *cut_copy(uint32_t *r, const uint8_t *a, size_t n, size_t min, bool stale_a, size_t *hdr_len,
			 size_t *frame_len)
{
	size_t room;
	uint8_t *copy;

	step(r);
	*hdr_len = *r % 4 ? n : *r % (n + 1);
	*frame_len = (*r >> 8) % 4 ? n : n - (*r >> 10) % 24;
	room = *hdr_len > min ? *hdr_len : min;
	copy = malloc(room);
	assert_non_null(copy);
	for (size_t j = 0; j < room; j++)
		copy[j] = j < *hdr_len ? buf[j] : stale_a && (*r >> 24) % 2 ? a[j] : (uint8_t)(*r >> (j % 24));
	return copy;
}

/*
 * flow_key_extract_same(): a frame B after a frame A whose key the short
 * way made gets, whenever it says true, exactly the key and offsets the
 * general walk makes of B; and it says false, leaving key and offsets as
 * they were, whenever B differs from A in a byte the key is made of.  B
 * is A with bits flipped anywhere in its first 60 bytes (more often in
 * the bytes that decide), its copy and frame length cut at random; B's
 * copy has exactly max(copy, 42) bytes (the function's stated reach,
 * ASan watching) with garbage after the copied bytes.
 */
static void test_same_equals_extract(void **state)
{
	static uint8_t a[2048];
	uint32_t rnd = 0x2f6e91c3u;
	unsigned same = 0, refused_key = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		struct frame_spec s = frame_tcp4();
		struct flow_key ka, kb, kw;
		struct flow_ofs oa, ob, ow;
		size_t n, hdr_len, frame_len;
		uint8_t *copy;
		bool key_bytes = false, ok;

		n = frame_a(&rnd, &s, a, &ka, &oa);
		memcpy(buf, a, n);
		flip_bits(&rnd);
		/* Bytes the key or the short way's choice read (A is TCP or UDP, IHL 5, no options). */
		for (unsigned at = 0; at < 60; at++) {
			bool keyed = at < 16 || (at >= 20 && at <= 23) || (at >= 26 && at <= 37) ||
				     ((at == 46 || at == 47) && s.proto == 6);	/* data offset; tcp_flags */

			key_bytes |= keyed && at < n && ((buf[at] ^ a[at]) & (at == 20 ? 0x3f : 0xff));
		}
		copy = cut_copy(&rnd, a, n, 42, false, &hdr_len, &frame_len);
		memset(&kb, 0xa5, sizeof(kb));
		memset(&ob, 0xa5, sizeof(ob));
		kw = kb;
		ow = ob;
		ok = flow_key_extract_same(&kb, &ka, copy, a, hdr_len, frame_len, &ob);
		if (ok) {
			/* The frame words copied; the rest as they were (the caller's, zero in a worker's slots). */
			memset(&kb.w[FLOW_KEY_FRAME_WORDS], 0, sizeof(kb) - FLOW_KEY_FRAME_WORDS * 8);
			flow_key_extract_walk(&kw, copy, hdr_len, frame_len, 3, &ow);
			if (memcmp(&kb, &kw, sizeof(kb)) || memcmp(&ob, &ow, sizeof(ob)))
				fail_msg("frame %u (%zu bytes, copy %zu, frame_len %zu): the copied key is not B's", iter, n,
					 hdr_len, frame_len);
			if (key_bytes)
				fail_msg("frame %u: a key byte differs and the key was copied", iter);
			same++;
		} else {
			if (memcmp(&kb, &kw, sizeof(kb)) || memcmp(&ob, &ow, sizeof(ob)))
				fail_msg("frame %u: refused, but the key or offsets were written", iter);
			refused_key += key_bytes;
		}
		free(copy);
	}
	print_message("%u of 200000 frames took the key of the frame before; %u refused for a key byte\n", same,
		      refused_key);
	assert_true(same > 40000);
	assert_true(refused_key > 40000);
}

/*
 * flow_key_head_in() against extraction: frame A (TCP or UDP, the short
 * way's shape) and a random key mask, frame B from A with random bits
 * flipped (key bytes, shape bytes, bytes no key reads) and its head or
 * frame cut short at times.  Whenever B is found in A's megaflow, the
 * short way takes B too and B's key equals A's under the mask; B's with
 * only unmasked key bytes changed are found (the mask matters), and
 * B's with a masked key byte changed are not.
 */
static void test_head_in_masked(void **state)
{
	static uint8_t a[2048];
	uint32_t rnd = 0x6d2b79f5u;
	unsigned in = 0, in_unmasked_diff = 0, out_masked_diff = 0;

	(void)state;
	for (unsigned iter = 0; iter < 200000; iter++) {
		struct frame_spec s = frame_tcp4();
		struct flow_key ka, kb, mask;
		struct flow_ofs oa, ob;
		struct flow_head_mask hm;
		size_t n, hdr_len, frame_len;
		uint8_t *copy;
		bool masked_diff = false, unmasked_diff = false;
		unsigned tot;

		n = frame_a(&rnd, &s, a, &ka, &oa);
		/* a mask: each byte of the frame's words all, none or some bits */
		memset(&mask, 0, sizeof(mask));
		for (unsigned k = 0; k < FLOW_KEY_FRAME_WORDS * 8; k++) {
			rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
			mask.b[k] = rnd % 3 == 0 ? 0 : rnd % 3 == 1 ? 0xff : (uint8_t)(rnd >> 8);
		}
		flow_head_mask_of(&hm, mask.w, s.proto == 6);
		memcpy(buf, a, n);
		flip_bits(&rnd);
		copy = cut_copy(&rnd, a, n, 48, true, &hdr_len, &frame_len);
		memset(&kb, 0, sizeof(kb));
		tot = flow_key_head_in(copy, a, hdr_len, frame_len, &hm);
		if (flow_key_extract_frame(&kb, copy, hdr_len, frame_len, 3, &ob) &&
		    !((buf[20] ^ a[20]) & 0x3f) && !(buf[21] ^ a[21]) && buf[23] == a[23] &&
		    (s.proto != 6 || !((buf[46] ^ a[46]) & 0xf0))) {
			/* B of A's shape: where their keys differ */
			for (unsigned k = 0; k < FLOW_KEY_FRAME_WORDS * 8; k++) {
				masked_diff |= ((ka.b[k] ^ kb.b[k]) & mask.b[k]) != 0;
				unmasked_diff |= ((ka.b[k] ^ kb.b[k]) & ~mask.b[k]) != 0;
			}
			if (!masked_diff && unmasked_diff && tot) {
				in_unmasked_diff++;
			}
			if (masked_diff) {
				if (tot)
					fail_msg("frame %u: a masked key byte differs and B was found in A's megaflow", iter);
				out_masked_diff++;
			}
		}
		if (tot) {
			memset(&kb, 0, sizeof(kb));
			if (!flow_key_extract_frame(&kb, copy, hdr_len, frame_len, 3, &ob))
				fail_msg("frame %u: found in A's megaflow, but not of the short way's shape", iter);
			for (unsigned k = 0; k < FLOW_KEY_FRAME_WORDS; k++)
				if ((ka.w[k] ^ kb.w[k]) & mask.w[k])
					fail_msg("frame %u: found in A's megaflow, key word %u differs under the mask", iter, k);
			assert_int_equal(tot, ob.l4 + ob.l4_len - 14);
			in++;
		}
		free(copy);
	}
	print_message("%u of 200000 frames found in A's megaflow, %u with unmasked key bytes changed; %u with a masked "
		      "key byte changed refused\n", in, in_unmasked_diff, out_masked_diff);
	assert_true(in > 40000);
	assert_true(in_unmasked_diff > 10000);
	assert_true(out_masked_diff > 10000);
}

static void test_llc_snap(void **state)
{
	static const uint8_t snap[] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06 };
	struct flow_key k;
	struct flow_ofs o;

	memset(buf, 0, 64);
	fr_put16(buf + 12, 46);		/* an 802.3 length */
	extract(&k, &o, buf, 60, 60, 1);
	assert_int_equal(ntohs(k.dl_type), FLOW_DL_TYPE_NONE);
	memcpy(buf + 14, snap, sizeof(snap));
	extract(&k, &o, buf, 60, 60, 1);
	assert_int_equal(ntohs(k.dl_type), 0x0806);
}

static void test_match_ops(void **state)
{
	struct flow_match wide, narrow;
	struct flow_key k;

	memset(&wide, 0, sizeof(wide));
	memset(&narrow, 0, sizeof(narrow));
	wide.mask.dl_type = 0xffff;
	wide.value.dl_type = htons(0x0800);
	narrow = wide;
	narrow.mask.nw_dst = htonl(0xff000000);
	narrow.value.nw_dst = htonl(0x0a000000);
	assert_true(flow_match_covers(&wide, &narrow));
	assert_false(flow_match_covers(&narrow, &wide));
	assert_true(flow_match_covers(&wide, &wide));
	assert_true(flow_match_equal(&wide, &wide));
	assert_false(flow_match_equal(&wide, &narrow));

	memset(&k, 0, sizeof(k));
	k.dl_type = htons(0x0800);
	k.nw_dst = htonl(0x0a010203);
	assert_true(flow_match_hit(&narrow, &k));
	k.nw_dst = htonl(0x0b010203);
	assert_false(flow_match_hit(&narrow, &k));
	assert_true(flow_match_hit(&wide, &k));

	narrow.value.nw_src = htonl(1);	/* a value bit outside the mask: normalize drops it */
	flow_match_normalize(&narrow);
	assert_int_equal(narrow.value.nw_src, 0);

	/* The last words (tun_ipv6_dst's low half) count in every comparison. */
	narrow.mask.tun_ipv6_dst[15] = 0xff;
	narrow.value.tun_ipv6_dst[15] = 2;
	k.nw_dst = htonl(0x0a010203);
	assert_false(flow_match_hit(&narrow, &k));
	k.tun_ipv6_dst[15] = 2;
	assert_true(flow_match_hit(&narrow, &k));
	assert_false(flow_match_covers(&narrow, &wide));
	assert_true(flow_match_covers(&wide, &narrow));
	wide = narrow;
	wide.value.tun_ipv6_dst[15] = 3;
	assert_false(flow_match_equal(&narrow, &wide));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_udp_icmp_options),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_malformed_ipv4),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_fast_equals_walk),
		cmocka_unit_test(test_same_equals_extract),
		cmocka_unit_test(test_head_in_masked),
		cmocka_unit_test(test_llc_snap),
		cmocka_unit_test(test_match_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
