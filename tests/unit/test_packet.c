/* test_packet.c - unit tests of packet/csum (against a plain reference, odd iovec splits) and packet/vnet_hdr (round trips, rejections). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/csum_ref.h"
#include "../lib/gso_ref.h"
#include "../lib/rng.h"
#include "packet/csum.h"
#include "packet/vnet_hdr.h"

#define ROUNDS 2000
#define BUF_MAX 3000

/* A small deterministic generator (xorshift), so a failure repeats. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	return test_rnd(&rng_state);
}

static void fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/*
 * Split @buf (@len bytes) into at most @max iovecs at random points, empty
 * pieces and single odd bytes included.  Returns the count.
 */
static unsigned split(uint8_t *buf, size_t len, struct iovec *iov, unsigned max)
{
	unsigned n = 0;
	size_t at = 0;

	while (at < len && n < max - 1) {
		size_t take = rnd() % 4 == 0 ? rnd() % 3 : rnd() % (len - at + 1);

		if (take > len - at)
			take = len - at;

		iov[n++] = (struct iovec){ buf + at, take };
		at += take;
	}
	iov[n++] = (struct iovec){ buf + at, len - at };
	return n;
}

static void test_sum_flat(void **state)
{
	static uint8_t buf[BUF_MAX];

	for (int r = 0; r < ROUNDS; r++) {
		size_t len = rnd() % BUF_MAX, off = rnd() % 8;

		if (off > len)
			off = len;
		fill(buf, len);
		assert_int_equal(ref_of_mem(csum_fold(csum_add(0, buf + off, len - off))), ref_sum(buf + off, len - off));
	}
	/* All ones everywhere: the carries fold back in. */
	memset(buf, 0xff, BUF_MAX);
	assert_int_equal(ref_of_mem(csum_fold(csum_add(0, buf, BUF_MAX))), 0xffff);
	assert_int_equal(csum_fold(csum_add(0, buf, 0)), 0);
}

/*
 * csum_add64(): a 57- to 64-byte frame read as a whole 64-byte buffer, the
 * bytes past it garbage (masked off), sums as csum_add() (mod 2^16 - 1:
 * congruent, 0 and 0xffff alike), from any running sum.
 */
static void test_sum_small64(void **state)
{
	uint8_t buf[64];

	assert_false(csum_small64(56));
	assert_false(csum_small64(65));
	for (int r = 0; r < ROUNDS; r++) {
		size_t len = 57 + rnd() % 8;
		uint32_t s = r % 4 ? rnd() : 0xffffffffu;

		fill(buf, sizeof(buf));
		assert_true(csum_small64(len));
		assert_int_equal(ref_of_mem(csum_fold(csum_add64(s, buf, len))) % 0xffff,
				 ref_of_mem(csum_fold(csum_add(s, buf, len))) % 0xffff);
	}
	/* All ones, from the largest sum: every carry of the chain taken and folded back in. */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(ref_of_mem(csum_fold(csum_add64(0xffffffffu, buf, 64))) % 0xffff, 0);
	assert_int_equal(ref_of_mem(csum_fold(csum_add64(0xffffffffu, buf, 57))) % 0xffff,
			 ref_of_mem(csum_fold(csum_add(0xffffffffu, buf, 57))) % 0xffff);
}

/* A sum started at an odd offset, continued across pieces, equals the whole one. */
static void test_sum_chained_odd(void **state)
{
	static uint8_t buf[BUF_MAX];

	for (int r = 0; r < ROUNDS; r++) {
		size_t len = rnd() % BUF_MAX, pos = 0;
		uint32_t sum = 0;

		fill(buf, len);
		while (pos < len) {
			size_t take = 1 + rnd() % (len - pos);

			sum = csum_add_at(sum, buf + pos, take, pos);
			pos += take;
		}
		assert_int_equal(ref_of_mem(csum_fold(sum)), ref_sum(buf, len));
	}
}

static void test_sum_iov(void **state)
{
	static uint8_t buf[BUF_MAX];
	struct iovec iov[16];

	for (int r = 0; r < ROUNDS; r++) {
		size_t len = rnd() % BUF_MAX, off = len ? rnd() % (len + 1) : 0, want_len = rnd() % (len - off + 2), done;
		unsigned n;
		uint32_t sum;

		fill(buf, len);
		n = split(buf, len, iov, 16);
		sum = csum_add_iov(0, iov, n, off, want_len, &done);
		/* Asking for one byte more than there is stops at the end. */
		assert_int_equal(done, want_len <= len - off ? want_len : len - off);
		assert_int_equal(ref_of_mem(csum_fold(sum)), ref_sum(buf + off, done));
	}
}

/*
 * A sum near 2^64 before the odd pieces are added in: 0xff bytes with one
 * zero, cut so a piece starts at an odd offset.  csum_add_iov() once added
 * the swapped odd sum without its carry (one too low: 0xfffe, not 0x00ff).
 */
static void test_sum_iov_carry(void **state)
{
	uint8_t buf[48];
	struct iovec iov[3];

	memset(buf, 0xff, sizeof(buf));
	buf[16] = 0;
	iov[0] = (struct iovec){ buf, 16 };
	iov[1] = (struct iovec){ buf + 16, 1 };
	iov[2] = (struct iovec){ buf + 17, 31 };
	assert_int_equal(ref_of_mem(csum_fold(csum_add_iov(0, iov, 3, 0, sizeof(buf), NULL))), ref_sum(buf, sizeof(buf)));
	iov[0] = (struct iovec){ buf, 17 };
	iov[1] = (struct iovec){ buf + 17, 31 };
	assert_int_equal(ref_of_mem(csum_fold(csum_add_iov(0, iov, 2, 0, sizeof(buf), NULL))), ref_sum(buf, sizeof(buf)));
}

/* RFC 1071's worked example and a textbook IPv4 header (checksum 0xb861). */
/*
 * csum_copy() against memcpy() and the plain sum, on random lengths and
 * source and destination alignments: the copy exact, not a byte written
 * before or after it, the sum the reference's; all-ones data for the
 * carries.
 */
static void test_copy_sum(void **state)
{
	static uint8_t src[BUF_MAX + 16], dst[BUF_MAX + 32], want[BUF_MAX + 32];

	(void)state;
	for (int r = 0; r < ROUNDS; r++) {
		size_t so = rnd() % 16, d_off = rnd() % 16, len = r % 3 ? rnd() % 160 : rnd() % (BUF_MAX + 1);

		if (r % 7 == 0)
			memset(src + so, 0xff, len);
		else
			fill(src + so, len);
		fill(dst, sizeof(dst));
		memcpy(want, dst, sizeof(want));
		memcpy(want + d_off, src + so, len);
		assert_int_equal(ref_of_mem(csum_fold(csum_copy(dst + d_off, src + so, len))), ref_sum(src + so, len));
		assert_memory_equal(dst, want, sizeof(dst));
	}
}

/*
 * Buffers past what one vector call takes (CSUM_AVX2_ROUNDS x 64 bytes, 1
 * MiB) and around it, all ones (every lane at its largest: the carries
 * and the lanes' bound) and random, at odd and even starts: csum_add()
 * and csum_copy() against the reference.
 */
static void test_sum_long(void **state)
{
	static const size_t lens[] = { 255, 256, 257, 1448, 65535, 65536, (1u << 20) - 1, 1u << 20,
				       (1u << 20) + 63, (2u << 20) + 129 };
	size_t max = (2u << 20) + 129 + 8;
	uint8_t *buf = malloc(max), *dst = malloc(max);

	(void)state;
	assert_non_null(buf);
	assert_non_null(dst);
	for (unsigned ones = 0; ones < 2; ones++) {
		if (ones)
			memset(buf, 0xff, max);
		else
			fill(buf, max);
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (size_t off = 0; off < 2; off++) {
				uint16_t want = ref_sum(buf + off, lens[i]);

				assert_int_equal(ref_of_mem(csum_fold(csum_add(0, buf + off, lens[i]))), want);
				assert_int_equal(ref_of_mem(csum_fold(csum_copy(dst + 1 - off, buf + off, lens[i]))), want);
				assert_memory_equal(dst + 1 - off, buf + off, lens[i]);
			}
		}
	}
	free(dst);
	free(buf);
}

/*
 * Start-up chose the vector path exactly where the CPU has AVX2 (the
 * first csum_simd_set() call says what it found; this test runs first),
 * so the sum tests below run it; on a CPU without it they run the chain
 * alone, and say so.
 */
static void test_simd_chosen(void **state)
{
	bool have = false;

	(void)state;
#if defined(__x86_64__)
	have = __builtin_cpu_supports("avx2");
#endif
	assert_int_equal(csum_simd_set(true), have);
	if (!have)
		print_message("test_packet: no AVX2 on this CPU: the vector sums are not tested here\n");
}

/* The sum tests again with the scalar chain alone (csum_simd_set(false)): both paths checked on a CPU with AVX2. */
static int scalar_only(void **state)
{
	(void)state;
	csum_simd_set(false);
	return 0;
}

static int simd_back(void **state)
{
	(void)state;
	csum_simd_set(true);
	return 0;
}

static void test_known_vectors(void **state)
{
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			   0x12, 0x34, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c;

	assert_int_equal(ref_of_mem(csum_fold(csum_add(0, rfc1071, sizeof(rfc1071)))), 0xddf2);
	c = csum_ipv4_hdr(ip, sizeof(ip)); /* the field (0x1234 here) counts as zero */
	assert_int_equal(ref_of_mem(c), 0xb861);
	memcpy(ip + 10, &c, 2);
	assert_int_equal(ref_sum(ip, sizeof(ip)), 0xffff);
}

/*
 * The L4 field's value: the one's complement of the folded sum; a zero
 * written as 0xffff in UDP's field (RFC 768), left zero in TCP's (RFC
 * 1624: a computed TCP checksum is never 0xffff); from a 64-bit sum of
 * 32-bit sums, the same as adding them one at a time with an end-around
 * carry.
 */
static void test_finish_l4(void **state)
{
	uint32_t seed = 0x12345678;

	(void)state;
	assert_int_equal(csum_finish_l4(0xffff, CSUM_UDP_OFFSET), 0xffff);	/* csum_finish() gives 0 */
	assert_int_equal(csum_finish_l4(0xfffe0001u, CSUM_UDP_OFFSET), 0xffff); /* folds to 0xffff too */
	assert_int_equal(csum_finish_l4(0, CSUM_UDP_OFFSET), 0xffff);		/* ~0: already all ones */
	assert_int_equal(csum_finish_l4(0x1234, CSUM_UDP_OFFSET), (uint16_t)~0x1234);
	assert_int_equal(csum_finish_l4(0xffff, 16), 0);			/* TCP: zero stays zero */
	assert_int_equal(csum_finish_l4(0xfffe0001u, 16), 0);
	assert_int_equal(csum_finish_l4(0, 16), 0xffff);			/* ~+0: only all-zero bytes sum to it */
	assert_int_equal(csum_finish_l4(0x1234, 16), (uint16_t)~0x1234);
	/* 0xffffffff + 0xffffffff + 1: one fold of the 64-bit sum would carry out of 32 bits */
	assert_int_equal(csum_finish_l4_64(0x1ffffffffull, CSUM_UDP_OFFSET), csum_finish_l4(1, CSUM_UDP_OFFSET));
	for (unsigned iter = 0; iter < 100000; iter++) {
		uint64_t acc = 0;
		uint32_t ref = 0;
		unsigned n = 1 + iter % 7;

		for (unsigned k = 0; k < n; k++) {
			uint32_t v;

			seed = seed * 1103515245u + 12345u;
			v = iter % 3 ? seed : 0xffffffffu - (seed & 0xff); /* near the top: carries */
			acc += v;
			ref += v;
			ref += ref < v;	/* end-around carry */
		}
		assert_int_equal(csum_finish_l4_64(acc, CSUM_UDP_OFFSET), csum_finish_l4(ref, CSUM_UDP_OFFSET));
		assert_int_not_equal(csum_finish_l4_64(acc, CSUM_UDP_OFFSET), 0);
		assert_int_equal(csum_finish_l4_64(acc, 16), csum_finish(ref));
	}
}

static void test_ipv4_hdr_random(void **state)
{
	uint8_t h[60];

	for (int r = 0; r < ROUNDS; r++) {
		size_t len = 20 + 4 * (rnd() % 11);
		uint16_t c;

		fill(h, len);
		c = csum_ipv4_hdr(h, len);
		memcpy(h + 10, &c, 2);
		assert_int_equal(ref_sum(h, len), 0xffff);
	}
}

static void test_pseudo(void **state)
{
	for (int r = 0; r < ROUNDS; r++) {
		uint8_t a[32], ph[40] = { 0 };
		uint8_t proto = (uint8_t)rnd();
		uint32_t l4 = rnd() % 70000;

		fill(a, sizeof(a));
		memcpy(ph, a, 8);
		ph[9] = proto;
		ref_put(ph + 10, (uint16_t)l4); /* RFC 768/793: 16 bits; IPv4 payloads are shorter than 64 KiB */
		if (l4 < 65536)
			assert_int_equal(ref_of_mem(csum_fold(csum_pseudo_ipv4(a, a + 4, proto, l4))), ref_sum(ph, 12));
		memset(ph, 0, sizeof(ph));
		memcpy(ph, a, 32);
		ph[32] = (uint8_t)(l4 >> 24);
		ph[33] = (uint8_t)(l4 >> 16);
		ph[34] = (uint8_t)(l4 >> 8);
		ph[35] = (uint8_t)l4;
		ph[39] = proto;
		assert_int_equal(ref_of_mem(csum_fold(csum_pseudo_ipv6(a, a + 16, proto, l4))), ref_sum(ph, 40));
	}
}

/*
 * A CHECKSUM_PARTIAL frame split anywhere (the field straddling two
 * iovecs too): the result equals the reference, and the receiver's check
 * (the region's sum plus the pseudo-header sum the field held) gives all ones.
 */
static void test_complete_partial(void **state)
{
	static uint8_t buf[BUF_MAX], want[BUF_MAX];
	struct iovec iov[16];

	for (int r = 0; r < ROUNDS; r++) {
		size_t len = 2 + rnd() % (BUF_MAX - 2), start = rnd() % (len - 1), offset = rnd() % (len - start - 1);
		uint16_t pseudo, c;
		unsigned n;

		fill(buf, len);
		pseudo = (uint16_t)rnd();
		ref_put(buf + start + offset, pseudo);
		memcpy(want, buf, len);
		c = (uint16_t)~ref_sum(want + start, len - start);
		ref_put(want + start + offset, c ? c : 0xffff);
		n = split(buf, len, iov, 16);
		assert_int_equal(csum_complete(iov, n, len, start, offset), 0);
		assert_memory_equal(buf, want, len);
		if (!(offset & 1)) /* a field at an odd offset is no protocol's: only the bytes are compared */
			assert_int_equal(ref_add(ref_sum(buf + start, len - start), pseudo), 0xffff);
	}
}

static void test_complete_rejects(void **state)
{
	uint8_t buf[64], copy[64];
	struct iovec iov[2] = { { buf, 20 }, { buf + 20, 20 } };

	fill(buf, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	assert_int_equal(csum_complete_buf(buf, 40, 41, 0), -EINVAL);	/* start past the end */
	assert_int_equal(csum_complete_buf(buf, 40, 38, 1), -EINVAL);	/* field one byte out */
	assert_int_equal(csum_complete_buf(buf, 40, 10, 29), -EINVAL);
	assert_int_equal(csum_complete_buf(buf, 40, 0, (size_t)-1), -EINVAL); /* offset wrapping around */
	assert_int_equal(csum_complete_buf(buf, 1, 0, 0), -EINVAL);
	assert_int_equal(csum_complete(iov, 2, 41, 0, 6), -EINVAL);	/* the iovecs hold less than len */
	assert_memory_equal(buf, copy, sizeof(buf));
	assert_int_equal(csum_complete_buf(buf, 40, 38, 0), 0);		/* the last two bytes: fine */
}

/* An Ethernet + IPv4 (@v6 false) or IPv6 + TCP/UDP frame with a correct checksum; returns its length. */
static size_t make_l4_frame(uint8_t *f, bool v6, bool udp, size_t payload, size_t *check_at)
{
	size_t l3 = 14, l4 = v6 ? 54 : 34, l4_len = (udp ? 8 : 20) + payload;
	uint16_t ps, c;

	fill(f, l4 + l4_len);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		ref_put(f + l3 + 4, (uint16_t)l4_len);
		f[l3 + 6] = udp ? 17 : 6;
	} else {
		f[l3] = 0x45;
		ref_put(f + l3 + 2, (uint16_t)(20 + l4_len));
		f[l3 + 6] = 0x40; /* DF, offset 0 */
		f[l3 + 7] = 0;
		f[l3 + 9] = udp ? 17 : 6;
	}
	*check_at = l4 + (udp ? 6 : 16);
	ps = ref_of_mem(csum_fold(v6 ? csum_pseudo_ipv6(f + l3 + 8, f + l3 + 24, udp ? 17 : 6, (uint32_t)l4_len)
				     : csum_pseudo_ipv4(f + l3 + 12, f + l3 + 16, udp ? 17 : 6, (uint32_t)l4_len)));
	ref_put(f + *check_at, 0);
	c = (uint16_t)~ref_add(ref_sum(f + l4, l4_len), ps);
	ref_put(f + *check_at, c ? c : 0xffff);
	return l4 + l4_len;
}

static void test_complete_guess(void **state)
{
	static uint8_t f[1600], good[1600];

	for (int r = 0; r < 400; r++) {
		bool v6 = r & 1, udp = r & 2;
		size_t at, len = make_l4_frame(f, v6, udp, rnd() % 1400, &at), l3 = 14;
		uint16_t ps;

		memcpy(good, f, len);
		/* A correct frame is left alone (unless its field equals the pseudo-header sum by chance). */
		csum_complete_guess(f, len);
		assert_memory_equal(f, good, len);
		/* Partial: the field holds the pseudo-header sum; completed back to the good frame. */
		ps = csum_fold(v6 ? csum_pseudo_ipv6(f + l3 + 8, f + l3 + 24, udp ? 17 : 6, (uint32_t)(len - 54))
				  : csum_pseudo_ipv4(f + l3 + 12, f + l3 + 16, udp ? 17 : 6, (uint32_t)(len - 34)));
		memcpy(f + at, &ps, 2);
		if (ps == 0)
			continue; /* a zero field is never taken for partial */
		assert_true(csum_complete_guess(f, len));
		assert_memory_equal(f, good, len);
		/* Truncated: the IP length says more than there is: untouched. */
		memcpy(f + at, &ps, 2);
		assert_false(csum_complete_guess(f, len - 1));
	}
	assert_false(csum_complete_guess(f, 13));
}

/*
 * A UDP tunnel's frame from a container's vxlan device through AF_XDP: the
 * inner TCP/UDP checksum left partial, the outer UDP sum (if any) made for
 * the completed inner bytes.  The guess completes the inner one (VXLAN on
 * 4789 and 8472, Geneve on 6081 with options) and the frame is the
 * sender's finished one; on another port, or under a VXLAN header
 * without its I flag, the inner frame is left alone.
 */
static void test_complete_guess_tunnel(void **state)
{
	static uint8_t f[1800], good[1800], inner[1600];

	for (int r = 0; r < 400; r++) {
		bool ov6 = r & 1, v6 = r & 2, udp = r & 4, geneve = r % 5 == 0, ocsum = rnd() & 1;
		size_t iat, ilen = make_l4_frame(inner, v6, udp, rnd() % 1200, &iat), l3 = 14, l4 = ov6 ? 54 : 34;
		size_t th = geneve ? 16 : 8, o = l4 + 8 + th, len = o + ilen, ulen = len - l4;
		unsigned port = geneve ? 6081 : (r & 8) ? 8472 : 4789;
		uint16_t ps, c;

		memset(f, 0, o);
		fill(f + 6, 6);
		f[12] = ov6 ? 0x86 : 0x08;
		f[13] = ov6 ? 0xdd : 0x00;
		if (ov6) {
			f[l3] = 0x60;
			ref_put(f + l3 + 4, (uint16_t)ulen);
			f[l3 + 6] = 17;
			fill(f + l3 + 8, 32);
		} else {
			f[l3] = 0x45;
			ref_put(f + l3 + 2, (uint16_t)(len - l3));
			f[l3 + 6] = 0x40;
			f[l3 + 9] = 17;
			fill(f + l3 + 12, 8);
		}
		ref_put(f + l4, 50000);
		ref_put(f + l4 + 2, (uint16_t)port);
		ref_put(f + l4 + 4, (uint16_t)ulen);
		if (geneve) {
			f[l4 + 8] = 2;	/* two words of options */
			ref_put(f + l4 + 10, 0x6558);
		} else {
			f[l4 + 8] = 0x08;
		}
		memcpy(f + o, inner, ilen);
		if (ocsum) {
			struct ref_geom og = { .l3 = l3, .l4 = l4, .v6 = ov6, .udp = true };

			c = (uint16_t)~ref_add(ref_sum(f + l4, ulen), ref_pseudo(f, &og, (unsigned)ulen));
			ref_put(f + l4 + 6, c ? c : 0xffff);
		}
		memcpy(good, f, len);
		csum_complete_guess(f, len);
		assert_memory_equal(f, good, len);
		/* The inner field partial: completed, and the outer sum holds again. */
		ps = csum_fold(v6 ? csum_pseudo_ipv6(f + o + 22, f + o + 38, udp ? 17 : 6, (uint32_t)(ilen - 54))
				  : csum_pseudo_ipv4(f + o + 26, f + o + 30, udp ? 17 : 6, (uint32_t)(ilen - 34)));
		if (ps == 0)
			continue;
		memcpy(f + o + iat, &ps, 2);
		assert_true(csum_complete_guess(f, len));
		assert_memory_equal(f, good, len);
		/* Not a tunnel's port, or VXLAN without its I flag: the inner frame is not looked into. */
		memcpy(f + o + iat, &ps, 2);
		ref_put(f + l4 + 2, 4000);
		if (ocsum)
			ref_put(f + l4 + 6, 0); /* no outer sum: nothing else for the guess to see */
		assert_false(csum_complete_guess(f, len));
		assert_memory_equal(f + o + iat, &ps, 2);
		if (!geneve) {
			ref_put(f + l4 + 2, (uint16_t)port);
			f[l4 + 8] = 0;
			assert_false(csum_complete_guess(f, len));
		}
	}
}

/* ---- virtio-net header ---- */

#define ACCEPT_ALL (VNET_ACCEPT_CSUM | VNET_ACCEPT_DATA_VALID | VNET_ACCEPT_TSO4 | VNET_ACCEPT_TSO6 | \
		    VNET_ACCEPT_ECN | VNET_ACCEPT_UFO | VNET_ACCEPT_USO)

static void test_vnet_round_trip(void **state)
{
	static const enum vnet_gso gsos[] = { VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_UDP,
					      VNET_GSO_UDP_L4 };

	for (int r = 0; r < ROUNDS; r++) {
		struct vnet_info in = { 0 }, out;
		uint8_t h[VNET_HDR_LEN], h2[VNET_HDR_LEN];
		size_t frame = 100 + rnd() % 65000;

		in.gso = gsos[rnd() % 5];
		in.flags = (rnd() & 1 ? VNET_DATA_VALID : 0) | (in.gso != VNET_GSO_NONE || rnd() & 1 ? VNET_NEEDS_CSUM : 0);
		in.gso_ecn = in.gso != VNET_GSO_NONE && (rnd() & 1);
		in.gso_size = in.gso != VNET_GSO_NONE ? (uint16_t)(1 + rnd() % 9000) : (uint16_t)rnd();
		in.hdr_len = (uint16_t)(rnd() % (frame + 1));
		in.csum_start = (uint16_t)(rnd() % (frame - 2));
		in.csum_offset = (uint16_t)(rnd() % (frame - 2 - in.csum_start + 1));
		if (!in.flags && in.gso == VNET_GSO_NONE)
			in = (struct vnet_info){ 0 }; /* nothing asked: the other fields mean nothing and parse as zero */
		vnet_hdr_build(h, &in);
		assert_int_equal(vnet_hdr_parse(h, frame, ACCEPT_ALL, &out), VNET_OK);
		assert_int_equal(out.flags, in.flags);
		assert_int_equal(out.gso, in.gso);
		assert_int_equal(out.gso_ecn, in.gso_ecn);
		assert_int_equal(out.gso_size, in.gso_size);
		assert_int_equal(out.hdr_len, in.hdr_len);
		assert_int_equal(out.csum_start, in.csum_start);
		assert_int_equal(out.csum_offset, in.csum_offset);
		vnet_hdr_build(h2, &out);
		assert_memory_equal(h, h2, sizeof(h));
	}
	/* Little-endian on the wire (virtio 1.x). */
	{
		struct vnet_info in = { .flags = VNET_NEEDS_CSUM, .csum_start = 0x0122, .csum_offset = 0x0010,
					.hdr_len = 0x0436, .gso = VNET_GSO_TCPV4, .gso_size = 0x05a8 };
		uint8_t h[VNET_HDR_LEN];
		static const uint8_t want[VNET_HDR_LEN] = { 1, 1, 0x36, 0x04, 0xa8, 0x05, 0x22, 0x01, 0x10, 0x00 };

		vnet_hdr_build(h, &in);
		assert_memory_equal(h, want, sizeof(want));
	}
}

/* Each rule of vnet_hdr_parse(), with the reason it gives. */
static void test_vnet_rejects(void **state)
{
	static const struct {
		uint8_t h[VNET_HDR_LEN];
		size_t frame;
		unsigned accept;
		enum vnet_bad want;
	} cases[] = {
		{ { 0 }, 60, 0, VNET_OK },
		{ { 4 }, 60, ACCEPT_ALL, VNET_BAD_FLAGS },			/* RSC_INFO: device to driver only */
		/* 5.1.6.2.2: "The device MUST ignore flag bits that it does not recognize." */
		{ { 8 }, 60, ACCEPT_ALL, VNET_OK },				/* undefined: ignored */
		{ { 0x80 }, 60, ACCEPT_ALL, VNET_OK },
		{ { 0xf8 | 1, 0, 0, 0, 0, 0, 34, 0, 16, 0 }, 60, VNET_ACCEPT_CSUM, VNET_OK },	/* NEEDS_CSUM kept */
		{ { 0xf8 | 1, 0, 0, 0, 0, 0, 34, 0, 16, 0 }, 60, 0, VNET_BAD_CSUM },
		{ { 0xf8 | 4 }, 60, ACCEPT_ALL, VNET_BAD_FLAGS },
		{ { 2 }, 60, VNET_ACCEPT_CSUM, VNET_BAD_FLAGS },		/* DATA_VALID from a driver */
		{ { 2 }, 60, VNET_ACCEPT_DATA_VALID, VNET_OK },
		{ { 1, 0, 0, 0, 0, 0, 34, 0, 16, 0 }, 60, 0, VNET_BAD_CSUM },	/* not negotiated */
		{ { 1, 0, 0, 0, 0, 0, 34, 0, 16, 0 }, 60, VNET_ACCEPT_CSUM, VNET_OK },
		{ { 1, 0, 0, 0, 0, 0, 34, 0, 24, 0 }, 60, VNET_ACCEPT_CSUM, VNET_OK },	/* ends exactly at the end */
		{ { 1, 0, 0, 0, 0, 0, 34, 0, 25, 0 }, 60, VNET_ACCEPT_CSUM, VNET_BAD_CSUM_RANGE },
		{ { 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff }, 60, VNET_ACCEPT_CSUM, VNET_BAD_CSUM_RANGE },
		{ { 1, 1, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, VNET_ACCEPT_CSUM, VNET_BAD_GSO_TYPE }, /* TSO4 not negotiated */
		{ { 1, 1, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_OK },
		{ { 1, 2, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_BAD_GSO_TYPE },	/* 2: undefined */
		{ { 1, 6, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_BAD_GSO_TYPE },
		{ { 1, 0x7f, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_BAD_GSO_TYPE },
		{ { 1, 0x81, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_OK },		/* TSO4 + ECN */
		{ { 1, 0x81, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL & ~VNET_ACCEPT_ECN, VNET_BAD_GSO_TYPE },
		{ { 1, 0x80, 54, 0, 0xa8, 5, 34, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_BAD_GSO },		/* ECN alone */
		{ { 0, 1, 54, 0, 0xa8, 5, 0, 0, 0, 0 }, 9000, ACCEPT_ALL, VNET_BAD_GSO },		/* GSO without NEEDS_CSUM */
		{ { 1, 4, 74, 0, 0, 0, 54, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_BAD_GSO },		/* gso_size 0 */
		{ { 1, 4, 0x29, 0x23, 0xa8, 5, 54, 0, 16, 0 }, 9000, ACCEPT_ALL, VNET_BAD_HDR_LEN },	/* hdr_len 9001 */
		{ { 1, 3, 42, 0, 0xa8, 5, 34, 0, 6, 0 }, 9000, ACCEPT_ALL & ~VNET_ACCEPT_UFO, VNET_BAD_GSO_TYPE },
		{ { 1, 5, 42, 0, 0xa8, 5, 34, 0, 6, 0 }, 9000, ACCEPT_ALL & ~VNET_ACCEPT_USO, VNET_BAD_GSO_TYPE },
		{ { 1, 5, 42, 0, 0xa8, 5, 34, 0, 6, 0 }, 9000, ACCEPT_ALL, VNET_OK },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vnet_info vi;
		enum vnet_bad got = vnet_hdr_parse(cases[i].h, cases[i].frame, cases[i].accept, &vi);

		if (got != cases[i].want)
			fail_msg("case %zu: %s, want %s", i, vnet_bad_names[got], vnet_bad_names[cases[i].want]);
	}
	for (unsigned r = 0; r < VNET_BAD__COUNT; r++)
		assert_non_null(vnet_bad_names[r]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simd_chosen),	/* first: it reads what start-up chose */
		cmocka_unit_test(test_sum_flat),
		cmocka_unit_test(test_sum_small64),
		cmocka_unit_test(test_sum_chained_odd),
		cmocka_unit_test(test_sum_iov),
		cmocka_unit_test(test_sum_iov_carry),
		cmocka_unit_test(test_copy_sum),
		cmocka_unit_test(test_sum_long),
		cmocka_unit_test_setup_teardown(test_sum_flat, scalar_only, simd_back),
		cmocka_unit_test_setup_teardown(test_sum_chained_odd, scalar_only, simd_back),
		cmocka_unit_test_setup_teardown(test_sum_iov, scalar_only, simd_back),
		cmocka_unit_test_setup_teardown(test_copy_sum, scalar_only, simd_back),
		cmocka_unit_test_setup_teardown(test_sum_long, scalar_only, simd_back),
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_finish_l4),
		cmocka_unit_test(test_ipv4_hdr_random),
		cmocka_unit_test(test_pseudo),
		cmocka_unit_test(test_complete_partial),
		cmocka_unit_test(test_complete_rejects),
		cmocka_unit_test(test_complete_guess),
		cmocka_unit_test(test_complete_guess_tunnel),
		cmocka_unit_test(test_vnet_round_trip),
		cmocka_unit_test(test_vnet_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
