/* test_pkt.c - unit tests of packet/pkt: the parse of good and malformed frames, the head copy, the copies out (head, then view). */

/*
 * pkt_parse() reads a frame a guest or the wire sent: every malformed
 * layer (a runt, a cut tag, an IPv4/IPv6 header cut short or with lengths
 * that disagree with the frame, a TCP header cut short or with a data
 * offset below its size) must end the parse at the layer before, with the
 * flags saying how far it got and no offset past the head.  pkt_load()
 * copies min(len, PKT_HEAD_COPY) bytes whatever the view's cuts;
 * pkt_to_buf(), pkt_copy() and pkt_segs() give back the frame, head from
 * the private copy and the rest from the view, also after a push.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/rng.h"
#include "packet/pkt.h"

#define FRAME_MAX 2048

/* A small deterministic generator (xorshift), so a failure repeats. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	return test_rnd(&rng_state);
}

/* A frame under construction: bytes and length. */
struct fb {
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet header with @type (and a tag first when @tci >= 0). */
static void fb_eth(struct fb *f, unsigned type, int tci)
{
	memset(f->b, 0, sizeof(f->b));
	memcpy(f->b, (const uint8_t[12]){ 0x02, 0, 0, 0, 0, 0xb, 0x02, 0, 0, 0, 0, 0xa }, 12);
	f->len = 12;
	if (tci >= 0) {
		put16(f->b + 12, 0x8100);
		put16(f->b + 14, (unsigned)tci);
		f->len = 16;
	}
	put16(f->b + f->len, type);
	f->len += 2;
}

/* IPv4 header of @ihl_bytes with @proto and a total length of the header plus @payload. */
static void fb_ipv4(struct fb *f, unsigned ihl_bytes, unsigned proto, unsigned payload)
{
	uint8_t *h = f->b + f->len;

	h[0] = (uint8_t)(0x40 | ihl_bytes / 4);
	put16(h + 2, ihl_bytes + payload);
	h[8] = 64;
	h[9] = (uint8_t)proto;
	memcpy(h + 12, (const uint8_t[8]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	f->len += ihl_bytes;
}

/* IPv6 header with next header @next and @payload bytes after it. */
static void fb_ipv6(struct fb *f, unsigned next, unsigned payload)
{
	uint8_t *h = f->b + f->len;

	h[0] = 0x60;
	put16(h + 4, payload);
	h[6] = (uint8_t)next;
	h[7] = 64;
	h[8] = 0xfd;
	h[23] = 1;
	h[24] = 0xfd;
	h[39] = 2;
	f->len += 40;
}

/* TCP header of @bytes (data offset @bytes / 4). */
static void fb_tcp(struct fb *f, unsigned bytes)
{
	uint8_t *h = f->b + f->len;

	put16(h, 1234);
	put16(h + 2, 80);
	h[12] = (uint8_t)(bytes / 4 << 4);
	for (unsigned i = 20; i < bytes; i++)
		h[i] = 1; /* NOP options */
	f->len += bytes;
}

/* @n more bytes (payload, padding). */
static void fb_pad(struct fb *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		f->b[f->len + i] = (uint8_t)(0xa0 + i);
	f->len += n;
}

/* The packet of frame @f (its first @len bytes) in one view, loaded and parsed as the parse stage would. */
static void load(struct pkt *p, struct iovec *iov, const struct fb *f, uint32_t len)
{
	*iov = (struct iovec){ .iov_base = (void *)f->b, .iov_len = len };
	pkt_rx_init(p, iov, 1, len, 3);
	pkt_load(p);
}

static void assert_parsed(const struct pkt *p, unsigned flags, unsigned type, unsigned l3, unsigned l4, unsigned proto)
{
	assert_int_equal(p->flags, flags);
	assert_int_equal(p->ethertype, type);
	assert_int_equal(p->l3_off, l3);
	assert_int_equal(p->l4_off, l4);
	assert_int_equal(p->ip_proto, proto);
}

/*
 * The parse stage's burst load copies the heads and leaves the parse to
 * the first reader of an offset (pkt_parsed()), once; a new frame in the
 * same packet is not taken for parsed.
 */
static void test_burst_load_parses_on_demand(void **state)
{
	struct fb f;
	struct pkt p[2];
	struct iovec iov[2];

	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 6, 32);
	fb_tcp(&f, 32);
	for (unsigned i = 0; i < 2; i++) {
		iov[i] = (struct iovec){ .iov_base = (void *)f.b, .iov_len = f.len };
		pkt_rx_init(&p[i], &iov[i], 1, f.len, 0);
	}
	pkt_load_burst(p, 2);
	assert_false(p[0].parsed);
	assert_memory_equal(pkt_head(&p[0]), f.b, f.len);
	assert_int_equal(pkt_parsed(&p[0]), PKT_F_IPV4 | PKT_F_L4);
	assert_true(p[0].parsed);
	assert_parsed(&p[0], PKT_F_IPV4 | PKT_F_L4, 0x0800, 14, 34, 6);
	p[0].flags = PKT_F_VLAN;	/* a stage's own change is not parsed over */
	assert_int_equal(pkt_parsed(&p[0]), PKT_F_VLAN);
	pkt_rx_init(&p[0], &iov[0], 1, f.len, 0);
	pkt_load_burst(p, 1);
	assert_false(p[0].parsed);
	assert_int_equal(pkt_parsed(&p[0]), PKT_F_IPV4 | PKT_F_L4);
}

/* Ethernet + IPv4 + TCP with options: every layer found. */
static void test_parse_ipv4_tcp(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 6, 32 + 100);
	fb_tcp(&f, 32);
	fb_pad(&f, 100);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV4 | PKT_F_L4, 0x0800, 14, 34, 6);
	assert_int_equal(p.vlan_tci, 0);
	assert_int_equal(p.head_len, PKT_HEAD_COPY);
	assert_int_equal(p.view_off, PKT_HEAD_COPY);

	/* IPv4 options (IHL 15) and UDP; Ethernet padding after the datagram is allowed. */
	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 60, 17, 8);
	fb_pad(&f, 8 + 10);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV4 | PKT_F_L4, 0x0800, 14, 74, 17);

	/* A 64-byte frame: ICMP echo, padded. */
	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 1, 8);
	fb_pad(&f, 64 - 34);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV4 | PKT_F_L4, 0x0800, 14, 34, 1);
	assert_int_equal(p.head_len, 64);
	assert_memory_equal(pkt_head(&p), f.b, 64);
}

/* A VLAN tag, IPv6, TCP with the most options: 118 bytes, all in the head. */
static void test_parse_vlan_ipv6_tcp(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x86dd, 0x2005);
	fb_ipv6(&f, 6, 60 + 500);
	fb_tcp(&f, 60);
	fb_pad(&f, 500);
	load(&p, &iov, &f, f.len);
	assert_int_equal(f.len - 500, 118);
	assert_parsed(&p, PKT_F_VLAN | PKT_F_IPV6 | PKT_F_L4, 0x86dd, 18, 58, 6);
	assert_int_equal(p.vlan_tci, 0x2005);

	/* 802.1ad outer tag, then IPv4 */
	fb_eth(&f, 0x0800, 7);
	put16(f.b + 12, 0x88a8);
	fb_ipv4(&f, 20, 17, 8);
	fb_pad(&f, 8);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_VLAN | PKT_F_IPV4 | PKT_F_L4, 0x0800, 18, 38, 17);
	assert_int_equal(p.vlan_tci, 7);

	/* Two tags: the second is left unparsed */
	fb_eth(&f, 0x8100, 7);
	put16(f.b + 12, 0x88a8);
	fb_pad(&f, 60);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_VLAN, 0x8100, 18, 0, 0);

	/* ARP: the L3 offset, no IP flag */
	fb_eth(&f, 0x0806, -1);
	fb_pad(&f, 46);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, 0, 0x0806, 14, 0, 0);
}

/* IPv6 extension headers: stepped over; a later fragment has no L4 header; one past the head ends the walk. */
static void test_parse_ipv6_ext(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;
	uint8_t *x;

	/* hop-by-hop (8), fragment (offset 0: the first), UDP */
	fb_eth(&f, 0x86dd, -1);
	fb_ipv6(&f, 0, 8 + 8 + 8);
	x = f.b + f.len;
	x[0] = 44; /* next: fragment */
	x[1] = 0;  /* 8 bytes */
	x[8] = 17; /* next: UDP */
	put16(x + 8 + 2, 0x0001); /* offset 0, more fragments */
	f.len += 16;
	fb_pad(&f, 8);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV6 | PKT_F_L4, 0x86dd, 14, 70, 17);

	/* the same fragment at offset 8: no L4 header */
	put16(x + 8 + 2, 8 << 3);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV6 | PKT_F_FRAG, 0x86dd, 14, 0, 17);

	/* destination options claiming 2 KiB: past the head, the walk stops at it */
	fb_eth(&f, 0x86dd, -1);
	fb_ipv6(&f, 60, 300);
	fb_pad(&f, 300);
	f.b[54] = 6;
	f.b[55] = 255;
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV6, 0x86dd, 14, 0, 60);

	/* destination options of 96 bytes: TCP starts past the head (l4_off says where), not whole in it */
	f.b[55] = 11;
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV6, 0x86dd, 14, 54 + 96, 6);

	/* an extension header cut by the end of the payload */
	fb_eth(&f, 0x86dd, -1);
	fb_ipv6(&f, 43, 4);
	fb_pad(&f, 4);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV6, 0x86dd, 14, 0, 43);
}

/* Runts and cut tags: nothing past what is there. */
static void test_parse_runts(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 6, 20);
	fb_tcp(&f, 20);
	for (uint32_t len = 0; len < PKT_ETH_HLEN; len++) {
		/* No port hands these over; the parse still reads nothing past them. */
		load(&p, &iov, &f, len ? len : 1);
		if (len == 0) {
			p.head_len = 0;
			pkt_parse(&p);
		}
		assert_parsed(&p, 0, 0, 0, 0, 0);
	}
	load(&p, &iov, &f, 14); /* an Ethernet header alone */
	assert_parsed(&p, 0, 0x0800, 14, 0, 0);

	/* a tag cut short: not a tag */
	fb_eth(&f, 0x0800, 5);
	load(&p, &iov, &f, 16);
	assert_parsed(&p, 0, 0x8100, 14, 0, 0);
	assert_int_equal(p.vlan_tci, 0);
	load(&p, &iov, &f, 18);
	assert_parsed(&p, PKT_F_VLAN, 0x0800, 18, 0, 0);
	assert_int_equal(p.vlan_tci, 5);
}

/* IPv4 headers that are cut short or disagree with the frame: no IPv4 flag. */
static void test_parse_bad_ipv4(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 6, 20);
	fb_tcp(&f, 20);
	for (uint32_t len = 14; len < 34; len++) { /* the header cut short */
		load(&p, &iov, &f, len);
		assert_parsed(&p, 0, 0x0800, 14, 0, 0);
	}
	load(&p, &iov, &f, 53); /* the datagram cut short: total length past the frame */
	assert_parsed(&p, 0, 0x0800, 14, 0, 0);
	load(&p, &iov, &f, 54);
	assert_parsed(&p, PKT_F_IPV4 | PKT_F_L4, 0x0800, 14, 34, 6);

	f.b[14] = 0x44; /* IHL 4 */
	load(&p, &iov, &f, 54);
	assert_parsed(&p, 0, 0x0800, 14, 0, 0);
	f.b[14] = 0x65; /* version 6 */
	load(&p, &iov, &f, 54);
	assert_parsed(&p, 0, 0x0800, 14, 0, 0);
	f.b[14] = 0x46; /* IHL 6: 24 bytes, more than ... */
	put16(f.b + 16, 20); /* ... the total length */
	load(&p, &iov, &f, 54);
	assert_parsed(&p, 0, 0x0800, 14, 0, 0);
	f.b[14] = 0x4f; /* IHL 15 (60 bytes), more than the total length again */
	put16(f.b + 16, 40);
	load(&p, &iov, &f, 54);
	assert_parsed(&p, 0, 0x0800, 14, 0, 0);

	/* a later fragment: the protocol, no L4 header */
	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 17, 100);
	put16(f.b + 20, 0x2000 | 185); /* more fragments, offset 185 * 8 */
	fb_pad(&f, 100);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV4 | PKT_F_FRAG, 0x0800, 14, 0, 17);
}

/* IPv6 cut short or longer than the frame: no IPv6 flag. */
static void test_parse_bad_ipv6(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x86dd, -1);
	fb_ipv6(&f, 17, 8);
	fb_pad(&f, 8);
	for (uint32_t len = 14; len < 62; len++) {
		load(&p, &iov, &f, len);
		assert_parsed(&p, 0, 0x86dd, 14, 0, 0);
	}
	load(&p, &iov, &f, 62);
	assert_parsed(&p, PKT_F_IPV6 | PKT_F_L4, 0x86dd, 14, 54, 17);
	f.b[14] = 0x40; /* version 4 */
	load(&p, &iov, &f, 62);
	assert_parsed(&p, 0, 0x86dd, 14, 0, 0);
}

/* TCP cut short, a data offset below 20 or past the datagram, a header past the head: l4_off, no L4 flag. */
static void test_parse_bad_tcp(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 20, 6, 40);
	fb_tcp(&f, 40);
	for (uint32_t cut = 1; cut <= 40; cut++) { /* the datagram (and frame) cut inside the TCP header */
		put16(f.b + 16, 20 + 40 - cut);
		load(&p, &iov, &f, 74 - cut);
		assert_parsed(&p, PKT_F_IPV4, 0x0800, 14, 34, 6);
	}
	put16(f.b + 16, 60);
	load(&p, &iov, &f, 74);
	assert_parsed(&p, PKT_F_IPV4 | PKT_F_L4, 0x0800, 14, 34, 6);
	f.b[34 + 12] = 4 << 4; /* data offset 4 */
	load(&p, &iov, &f, 74);
	assert_parsed(&p, PKT_F_IPV4, 0x0800, 14, 34, 6);
	f.b[34 + 12] = 10 << 4;
	put16(f.b + 16, 20 + 30); /* 40 bytes of TCP header in a 30-byte payload, the frame padded */
	load(&p, &iov, &f, 74);
	assert_parsed(&p, PKT_F_IPV4, 0x0800, 14, 34, 6);

	/* IPv4 options and TCP options: 14 + 60 + 60 = 134 bytes, the TCP header past the head */
	fb_eth(&f, 0x0800, -1);
	fb_ipv4(&f, 60, 6, 60 + 200);
	fb_tcp(&f, 60);
	fb_pad(&f, 200);
	load(&p, &iov, &f, f.len);
	assert_parsed(&p, PKT_F_IPV4, 0x0800, 14, 74, 6);
}

/* The parse keeps PKT_F_TUNNEL (set by a decap before it) and nothing else of the old flags. */
static void test_parse_keeps_tunnel(void **state)
{
	struct fb f;
	struct pkt p;
	struct iovec iov;

	fb_eth(&f, 0x0806, 0);
	fb_pad(&f, 46);
	load(&p, &iov, &f, f.len);
	p.flags |= PKT_F_TUNNEL | PKT_F_L4 | PKT_F_IPV6;
	assert_int_equal(pkt_parse(&p), PKT_F_VLAN | PKT_F_TUNNEL);
	assert_int_equal(p.flags, PKT_F_VLAN | PKT_F_TUNNEL);
}

/* Random bytes, random lengths, random ethertypes: offsets never point past the head. */
static void test_parse_garbage(void **state)
{
	static const unsigned types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x1234 };
	struct fb f;
	struct pkt p;
	struct iovec iov;

	for (unsigned r = 0; r < 200000; r++) {
		uint32_t len = PKT_ETH_HLEN + rnd() % 200;

		for (uint32_t i = 0; i < len; i++)
			f.b[i] = (uint8_t)rnd();
		put16(f.b + 12, types[rnd() % 6]);
		if (rnd() % 2)
			put16(f.b + 16, types[rnd() % 2]);
		if (rnd() % 2)
			f.b[14 + 4 * (rnd() % 2)] = (uint8_t)(rnd() % 2 ? 0x45 : 0x60);
		load(&p, &iov, &f, len);
		assert_true(p.l3_off <= p.head_len);
		assert_true(p.l4_off <= len);
		if (p.flags & PKT_F_L4)
			assert_true(p.l4_off + 8u <= p.head_len);
		if (p.flags & (PKT_F_IPV4 | PKT_F_IPV6))
			assert_true(p.l3_off + 20u <= p.head_len);
		assert_false((p.flags & PKT_F_IPV4) && (p.flags & PKT_F_IPV6));
		assert_false((p.flags & PKT_F_L4) && (p.flags & PKT_F_FRAG));
	}
}

/* Fixed-size moves: exactly @n bytes for every n up to a whole buffer, nothing around them. */
static void test_copy_small(void **state)
{
	uint8_t src[PKT_HEADROOM + PKT_HEAD_COPY], dst[PKT_HEADROOM + PKT_HEAD_COPY + 32];

	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i + 1);
	for (uint32_t n = 0; n <= sizeof(src); n++) {
		memset(dst, 0xee, sizeof(dst));
		pkt_copy_small(dst + 16, src, n);
		assert_memory_equal(dst + 16, src, n);
		for (unsigned i = 0; i < 16; i++)
			assert_int_equal(dst[i], 0xee);
		for (unsigned i = 16 + n; i < sizeof(dst); i++)
			assert_int_equal(dst[i], 0xee);
	}
}

/* Split @len bytes of @buf into at most @max iovecs at random points, empty pieces included. */
static unsigned split(uint8_t *buf, size_t len, struct iovec *iov, unsigned max)
{
	unsigned n = 0;
	size_t at = 0;

	while (at < len && n < max - 1) {
		size_t take = rnd() % 4 == 0 ? rnd() % 3 : rnd() % (len - at + 1);

		iov[n++] = (struct iovec){ buf + at, take };
		at += take;
	}
	iov[n++] = (struct iovec){ buf + at, len - at };
	return n;
}

/*
 * Whatever the view's cuts: the head holds min(len, PKT_HEAD_COPY) bytes;
 * pkt_to_buf(), pkt_copy() (any range, into cut buffers) and pkt_segs()
 * give back the frame; a source rewritten after the load changes the
 * head's bytes in none of them.
 */
static void test_load_and_copy_out(void **state)
{
	static uint8_t frame[FRAME_MAX], orig[FRAME_MAX], out[FRAME_MAX + 8], dbuf[FRAME_MAX + 16];
	struct iovec iov[32], dst[16], segs[40];
	struct pkt p;

	for (unsigned r = 0; r < 3000; r++) {
		uint32_t len = PKT_ETH_HLEN + rnd() % (r % 3 ? 300 : FRAME_MAX - PKT_ETH_HLEN);
		unsigned n = r % 4 ? split(frame, len, iov, 32) : 1, nd, nseg;
		size_t off, take, got = 0;
		int ns;

		for (uint32_t i = 0; i < len; i++)
			frame[i] = (uint8_t)rnd();
		if (n == 1)
			iov[0] = (struct iovec){ frame, len };
		memcpy(orig, frame, len);
		pkt_rx_init(&p, iov, n, len, 1);
		pkt_load(&p);
		assert_int_equal(p.head_len, len < PKT_HEAD_COPY ? len : PKT_HEAD_COPY);
		assert_int_equal(p.view_off, p.head_len);
		assert_int_equal(p.head_off, PKT_HEADROOM);
		assert_memory_equal(pkt_head(&p), orig, p.head_len);

		/* The guest rewrites its buffer's first bytes after the lookup: the head does not follow. */
		memset(frame, 0x5a, p.head_len);

		memset(out, 0xee, sizeof(out));
		assert_int_equal(pkt_to_buf(&p, out, len + 8), len);
		assert_memory_equal(out, orig, len);
		assert_int_equal(out[len], 0xee);
		take = rnd() % (len + 1);
		assert_int_equal(pkt_to_buf(&p, out, take), take); /* a capture's snap length */
		assert_memory_equal(out, orig, take);

		off = rnd() % (len + 1);
		take = rnd() % (len - off + 10);
		nd = split(dbuf, sizeof(dbuf), dst, 16);
		got = pkt_copy(&p, off, dst, nd, 3, take);
		assert_int_equal(got, take < len - off ? take : len - off);
		assert_memory_equal(dbuf + 3, orig + off, got);

		ns = pkt_segs(&p, segs, 40);
		assert_true(ns >= 1);
		nseg = (unsigned)ns;
		assert_ptr_equal(segs[0].iov_base, pkt_head(&p));
		assert_int_equal(iov_size(segs, nseg), len);
		assert_int_equal(iov_to_buf(segs, nseg, 0, out, len), len);
		assert_memory_equal(out, orig, len);
		if (nseg > 1)
			assert_int_equal(pkt_segs(&p, segs, nseg - 1), -1);
	}
}

/* A push grows the head into the headroom; the copies out give the pushed bytes, then the frame. */
static void test_push(void **state)
{
	static uint8_t frame[600], out[700];
	static const uint8_t tag[4] = { 0x81, 0x00, 0x00, 0x05 };
	struct iovec iov[2] = { { frame, 100 }, { frame + 100, 500 } };
	struct pkt p;
	uint8_t *h;
	int ns;
	struct iovec segs[4];

	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 3);
	pkt_rx_init(&p, iov, 2, sizeof(frame), 0);
	pkt_load(&p);
	/* A VLAN tag after the MACs: 12 bytes forward, the tag behind them. */
	h = pkt_push(&p, 4);
	assert_non_null(h);
	if (!h)
		return;
	memmove(h, h + 4, 12);
	memcpy(h + 12, tag, 4);
	assert_int_equal(p.len, 604);
	assert_int_equal(p.head_len, PKT_HEAD_COPY + 4);
	assert_int_equal(p.view_off, PKT_HEAD_COPY);
	assert_int_equal(pkt_to_buf(&p, out, sizeof(out)), 604);
	assert_memory_equal(out, frame, 12);
	assert_memory_equal(out + 12, tag, 4);
	assert_memory_equal(out + 16, frame + 12, 588);
	memset(out, 0, sizeof(out));
	assert_int_equal(pkt_copy(&p, 10, &(struct iovec){ out, sizeof(out) }, 1, 0, 600), 594);
	assert_memory_equal(out, frame + 10, 2);
	assert_memory_equal(out + 2, tag, 4);
	assert_memory_equal(out + 6, frame + 12, 588);
	ns = pkt_segs(&p, segs, 4);
	assert_int_equal(ns, 2); /* the head, the second piece past what the head holds */
	assert_int_equal(segs[0].iov_len, PKT_HEAD_COPY + 4);
	assert_ptr_equal(segs[1].iov_base, frame + PKT_HEAD_COPY);
	assert_int_equal(segs[1].iov_len, 600 - PKT_HEAD_COPY);

	/* An outer header on top: the headroom holds a tag and VXLAN over IPv6; no more. */
	assert_non_null(pkt_push(&p, PKT_VXLAN6_HLEN + 4));
	assert_int_equal(p.len, 604 + PKT_VXLAN6_HLEN + 4);
	assert_null(pkt_push(&p, PKT_HEADROOM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_tcp),
		cmocka_unit_test(test_parse_vlan_ipv6_tcp),
		cmocka_unit_test(test_parse_ipv6_ext),
		cmocka_unit_test(test_parse_runts),
		cmocka_unit_test(test_parse_bad_ipv4),
		cmocka_unit_test(test_parse_bad_ipv6),
		cmocka_unit_test(test_parse_bad_tcp),
		cmocka_unit_test(test_parse_keeps_tunnel),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_copy_small),
		cmocka_unit_test(test_load_and_copy_out),
		cmocka_unit_test(test_burst_load_parses_on_demand),
		cmocka_unit_test(test_push),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
