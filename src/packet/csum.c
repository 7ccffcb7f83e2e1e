/* csum.c - the Internet checksum: partial sums in memory byte order, folding, completion of partial frames. */
#include "packet/csum.h"

#include <errno.h>
#include <string.h>

#include "packet/iov.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <x86intrin.h>
#endif

#if defined(__x86_64__)
/* Four bytes at @p as they lie in memory. */
static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* x86-64: @w added into *@a with carry @c in; the carry out.  One adc, the word read from memory by the adc itself. */
static inline unsigned char adc64(unsigned char c, uint64_t *a, uint64_t w)
{
	unsigned long long t;

	c = _addcarry_u64(c, *a, w, &t);
	*a = t;
	return c;
}

/* The eight 8-byte words at @p added into *@a with carry @c in (adc64()): the carry out.  Written out, inline. */
static inline __attribute__((always_inline)) unsigned char adc64x8(unsigned char c, uint64_t *a, const uint8_t *p)
{
	c = adc64(c, a, csum_load64(p));
	c = adc64(c, a, csum_load64(p + 8));
	c = adc64(c, a, csum_load64(p + 16));
	c = adc64(c, a, csum_load64(p + 24));
	c = adc64(c, a, csum_load64(p + 32));
	c = adc64(c, a, csum_load64(p + 40));
	c = adc64(c, a, csum_load64(p + 48));
	return adc64(c, a, csum_load64(p + 56));
}

/*
 * Sum of the 16-bit words at @p (the last one padded with a zero byte),
 * unfolded, in memory order.  One chain of add-with-carry over 8-byte
 * words, 128 bytes a round: an adc a word, where the portable loop below
 * takes three instructions (a 64-bit add and a carry into a 128-bit
 * sum); 2^16 = 1 (mod 2^16 - 1), so 64-bit words and the carries out of
 * them, added back in, fold to the same 16-bit sum as the 16-bit words
 * they hold.  The pieces of the tail (4, 2, 1 bytes) are added as they
 * lie in memory, as the portable loop does.
 */
static uint64_t sum_words_adc(uint64_t acc0, const uint8_t *p, size_t len)
{
	uint64_t a = acc0;
	unsigned char c = 0;

	/* Written out (adc64x8()): gcc leaves a loop over the sixteen in place, and its result in memory. */
	for (; len >= 128; p += 128, len -= 128) {
		c = adc64x8(c, &a, p);
		c = adc64x8(c, &a, p + 64);
	}
	if (len >= 64) {
		c = adc64x8(c, &a, p);
		p += 64;
		len -= 64;
	}
	if (len >= 32) {
		c = adc64(c, &a, csum_load64(p));
		c = adc64(c, &a, csum_load64(p + 8));
		c = adc64(c, &a, csum_load64(p + 16));
		c = adc64(c, &a, csum_load64(p + 24));
		p += 32;
		len -= 32;
	}
	if (len >= 16) {
		c = adc64(c, &a, csum_load64(p));
		c = adc64(c, &a, csum_load64(p + 8));
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		c = adc64(c, &a, csum_load64(p));
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		c = adc64(c, &a, ld32(p));
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		c = adc64(c, &a, (uint64_t)p[0] | (uint64_t)p[1] << 8); /* little-endian: as it lies in memory */
		p += 2;
		len -= 2;
	}
	if (len)
		c = adc64(c, &a, p[0]); /* the byte in the first half of its word, in memory order (little-endian) */
	/* the end-around carry: in once, and the carry out of that (a is 0 then) once more */
	c = adc64(c, &a, 0);
	return a + c;
}
/*
 * Where the CPU has AVX2 (csum_simd_init(), once), the bulk of a long
 * buffer is summed 64 bytes a round in vector registers: each 32-bit lane
 * adds the low and the high 16-bit word of its four bytes into two
 * accumulators apiece (an AND and a shift, no carries to chase), and the
 * lanes are added up once at the end.  The adc chain above moves ~12
 * bytes a cycle on a segment's 1,448 bytes and ~9 on 64 KiB; this one ~20
 * and ~36 (bench: the two on one buffer, best of 2,000; the machine of
 * docs/PERFORMANCE.md).  The lanes' total is the plain sum of the 16-bit
 * words, congruent to the chain's (mod 2^16 - 1), and the rounds keep
 * every offset even, so the tail goes on through the chain.
 */
#define CSUM_SIMD_MIN 256		/* below it the chain is as fast: the lanes' reduction costs ~20 cycles */
#define CSUM_AVX2_ROUNDS 16384u		/* a lane holds 4 x 16384 x 0xffff < 2^32: 1 MiB a call */

static bool csum_avx2;

__attribute__((constructor)) static void csum_simd_init(void)
{
	__builtin_cpu_init();
	csum_avx2 = __builtin_cpu_supports("avx2");
}

bool csum_simd_set(bool on)
{
	bool was = csum_avx2;

	csum_avx2 = on && __builtin_cpu_supports("avx2");
	return was;
}

/* Four accumulators of 32-bit lanes: each 32-byte vector's low 16-bit words into one, its high ones into the next. */
struct csum_lanes {
	__m256i a[4];
};

/* The 64 bytes @v0, @v1 added into @l. */
__attribute__((target("avx2"))) static inline void lanes_add(struct csum_lanes *l, __m256i v0, __m256i v1)
{
	const __m256i lo16 = _mm256_set1_epi32(0xffff);

	l->a[0] = _mm256_add_epi32(l->a[0], _mm256_and_si256(v0, lo16));
	l->a[1] = _mm256_add_epi32(l->a[1], _mm256_srli_epi32(v0, 16));
	l->a[2] = _mm256_add_epi32(l->a[2], _mm256_and_si256(v1, lo16));
	l->a[3] = _mm256_add_epi32(l->a[3], _mm256_srli_epi32(v1, 16));
}

/* Every lane of @l added up: eight 32-bit lanes into four 64-bit ones, then two, then one. */
__attribute__((target("avx2"))) static inline uint64_t lanes_total(const struct csum_lanes *l)
{
	__m256i t = _mm256_add_epi32(_mm256_add_epi32(l->a[0], l->a[1]), _mm256_add_epi32(l->a[2], l->a[3]));
	__m128i h;

	t = _mm256_add_epi64(_mm256_and_si256(t, _mm256_set1_epi64x(0xffffffff)), _mm256_srli_epi64(t, 32));
	h = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
	return (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1);
}

/* The sum of the 16-bit words of @rounds x 64 bytes at @p (at most CSUM_AVX2_ROUNDS), unfolded. */
__attribute__((target("avx2"))) static uint64_t sum64_avx2(const uint8_t *p, size_t rounds)
{
	struct csum_lanes l = { { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
				  _mm256_setzero_si256() } };

	for (; rounds; rounds--, p += 64)
		lanes_add(&l, _mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 32)));
	return lanes_total(&l);
}

/* sum64_avx2() of @rounds x 64 bytes at @s while they are copied to @d. */
__attribute__((target("avx2"))) static uint64_t copy_sum64_avx2(uint8_t *d, const uint8_t *s, size_t rounds)
{
	struct csum_lanes l = { { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
				  _mm256_setzero_si256() } };

	for (; rounds; rounds--, s += 64, d += 64) {
		__m256i v0 = _mm256_loadu_si256((const __m256i *)s), v1 = _mm256_loadu_si256((const __m256i *)(s + 32));

		_mm256_storeu_si256((__m256i *)d, v0);
		_mm256_storeu_si256((__m256i *)(d + 32), v1);
		lanes_add(&l, v0, v1);
	}
	return lanes_total(&l);
}

/* @v added into @a, the end-around carry in. */
static inline uint64_t add_end_around(uint64_t a, uint64_t v)
{
	unsigned long long t;

	/* a carry out leaves t under both: adding it back cannot carry again */
	return _addcarry_u64(0, a, v, &t) ? t + 1 : t;
}

/* The sum of the words at @p: the bulk through AVX2 where the CPU has it and the buffer is long, the rest by the chain. */
static uint64_t sum_words(uint64_t acc0, const uint8_t *p, size_t len)
{
	uint64_t a = acc0;

	if (len >= CSUM_SIMD_MIN && csum_avx2) {
		while (len >= 64) {
			size_t rounds = len / 64 < CSUM_AVX2_ROUNDS ? len / 64 : CSUM_AVX2_ROUNDS;

			a = add_end_around(a, sum64_avx2(p, rounds));
			p += rounds * 64;
			len -= rounds * 64;
		}
	}
	return sum_words_adc(a, p, len);
}
#else
/*
 * Sum of the 16-bit words at @p (the last one padded with a zero byte),
 * unfolded, in memory order.  Eight bytes a word into a 128-bit sum (an
 * add and an add-with-carry each), two of them in turn, then the 64-bit
 * one's-complement sum of the words: 2^16 = 1 (mod 2^16 - 1), so 32- and
 * 64-bit words, and the carries out of them added back in, fold to the same
 * 16-bit sum as the 16-bit words they hold.
 */
static uint64_t sum_words(uint64_t acc0, const uint8_t *p, size_t len)
{
	unsigned __int128 acc = acc0, acc2 = 0;
	uint64_t w0, w1, lo, hi;
	uint32_t w;
	uint16_t h;

	for (; len >= 16; p += 16, len -= 16) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		acc += w0;
		acc2 += w1;
	}
	acc += acc2;
	if (len >= 8) {
		memcpy(&w0, p, 8);
		acc += w0;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		memcpy(&h, p, 1); /* the byte in the first half of its word, in memory order */
		acc += h;
	}
	lo = (uint64_t)acc;
	hi = (uint64_t)(acc >> 64);
	lo += hi;
	return lo + (lo < hi); /* the end-around carry */
}
#endif

#if defined(__x86_64__)
/*
 * sum_words() of the @len bytes at @s while they are copied to @d: the
 * same add-with-carry chain, 64 bytes a round, each word stored as it is
 * read, so a segment's payload is read once for its copy and its
 * checksum (gso.c) instead of once for each.  A round copies its 128
 * bytes (16-byte moves) and adds them from the source, where the copy
 * just read them, in one asm block of adds (the end-around carry twice
 * at its end: the first can carry out once more, as sum_words() says):
 * with the intrinsic, gcc keeps each step's result in memory
 * in a loop that also stores through a byte pointer (the store may alias
 * it), twice the instructions.
 */
/* The asm text of 64 bytes at offset @o (a string literal) added with carry into %[a]. */
#define CSUM_ADC64(o)                                                                                      \
	"adcq " #o "+0(%[s]), %[a]\n\tadcq " #o "+8(%[s]), %[a]\n\tadcq " #o "+16(%[s]), %[a]\n\t"        \
	"adcq " #o "+24(%[s]), %[a]\n\tadcq " #o "+32(%[s]), %[a]\n\tadcq " #o "+40(%[s]), %[a]\n\t"     \
	"adcq " #o "+48(%[s]), %[a]\n\tadcq " #o "+56(%[s]), %[a]\n\t"

static uint64_t copy_sum_words_adc(uint8_t *d, const uint8_t *s, size_t len)
{
	uint64_t a = 0;

	/* 128 bytes a round: the loop's own steps and the carry's fold once for sixteen words, not eight. */
	for (; len >= 128; s += 128, d += 128, len -= 128) {
		memcpy(d, s, 128);
		__asm__("clc\n\t" CSUM_ADC64(0) CSUM_ADC64(64) "adcq $0, %[a]\n\tadcq $0, %[a]"
			: [a] "+r"(a)
			: [s] "r"(s), "m"(*(const uint8_t(*)[128])s)
			: "cc");
	}
	if (len >= 64) {
		memcpy(d, s, 64);
		__asm__("clc\n\t" CSUM_ADC64(0) "adcq $0, %[a]\n\tadcq $0, %[a]"
			: [a] "+r"(a)
			: [s] "r"(s), "m"(*(const uint8_t(*)[64])s)
			: "cc");
		s += 64;
		d += 64;
		len -= 64;
	}
	/* The rest (under 64 bytes): copied, and summed from the source by sum_words() (its tail steps, unrolled). */
	if (!len)
		return a;
	memcpy(d, s, len);
	return sum_words_adc(a, s, len);
}

/* copy_sum_words_adc(), the bulk through AVX2 as sum_words() does. */
static uint64_t copy_sum_words(uint8_t *d, const uint8_t *s, size_t len)
{
	uint64_t a = 0;

	if (len < CSUM_SIMD_MIN || !csum_avx2)
		return copy_sum_words_adc(d, s, len);
	while (len >= 64) {
		size_t rounds = len / 64 < CSUM_AVX2_ROUNDS ? len / 64 : CSUM_AVX2_ROUNDS;

		a = add_end_around(a, copy_sum64_avx2(d, s, rounds));
		s += rounds * 64;
		d += rounds * 64;
		len -= rounds * 64;
	}
	return len ? add_end_around(a, copy_sum_words_adc(d, s, len)) : a;
}
#else
bool csum_simd_set(bool on)
{
	(void)on;
	return false;
}

/* Portable: the copy, then sum_words() over the copy (still in cache). */
static uint64_t copy_sum_words(uint8_t *d, const uint8_t *s, size_t len)
{
	memcpy(d, s, len);
	return sum_words(0, d, len);
}
#endif

static uint32_t fold64(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	return fold64(sum_words(sum, buf, len));
}

uint32_t csum_copy(void *dst, const void *src, size_t len)
{
	return fold64(copy_sum_words(dst, src, len));
}

uint32_t csum_add_at(uint32_t sum, const void *buf, size_t len, size_t pos)
{
	uint16_t s;

	if (!(pos & 1))
		return csum_add(sum, buf, len);
	/* Shifted by one byte: every word's halves are swapped, and so is their one's-complement sum. */
	s = csum_fold(fold64(sum_words(0, buf, len)));
	s = (uint16_t)(s << 8 | s >> 8);
	return fold64((uint64_t)sum + s);
}

uint32_t csum_add_iov(uint32_t sum, const struct iovec *iov, unsigned n, size_t off, size_t len, size_t *done)
{
	uint64_t acc = sum, odd = 0;
	size_t pos = 0;

	/*
	 * Segments that start at an odd offset of the range are summed apart
	 * and byte-swapped once at the end: the swap of a one's-complement sum
	 * is the sum of the swapped words (csum_add_at()), so one swap serves
	 * them all, and nothing is folded per segment.
	 */
	for (unsigned i = 0; i < n && pos < len; i++) {
		const uint8_t *b;
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		b = (const uint8_t *)iov[i].iov_base + off;
		take = iov[i].iov_len - off;
		if (take > len - pos)
			take = len - pos;
		if (pos & 1)
			odd = sum_words(odd, b, take);
		else
			acc = sum_words(acc, b, take);
		pos += take;
		off = 0;
	}
	if (done)
		*done = pos;
	if (odd) {
		uint16_t s = csum_fold(fold64(odd));

		/* folded first: acc may be any 64-bit value, and a carry out of it would be lost */
		return fold64((uint64_t)fold64(acc) + (uint16_t)(s << 8 | s >> 8));
	}
	return fold64(acc);
}

uint32_t csum_copy_iov(void *dst, const struct iovec *iov, unsigned n, size_t off, size_t len, size_t *done)
{
	uint8_t *d = dst;
	uint64_t acc = 0, odd = 0;
	size_t pos = 0;

	/* csum_add_iov()'s walk, each piece copied and summed in one pass; its odd pieces apart, swapped once. */
	for (unsigned i = 0; i < n && pos < len; i++) {
		const uint8_t *b;
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		b = (const uint8_t *)iov[i].iov_base + off;
		take = iov[i].iov_len - off;
		if (take > len - pos)
			take = len - pos;
		if (pos & 1)
			odd += fold64(copy_sum_words(d + pos, b, take));
		else
			acc += fold64(copy_sum_words(d + pos, b, take));
		pos += take;
		off = 0;
	}
	if (done)
		*done = pos;
	if (odd) {
		uint16_t s = csum_fold(fold64(odd));

		return fold64((uint64_t)fold64(acc) + (uint16_t)(s << 8 | s >> 8));
	}
	return fold64(acc);
}

uint16_t csum_ipv4_hdr(const void *hdr, size_t len)
{
	const uint8_t *h = hdr;
	uint32_t sum, w;
	uint16_t half;
	uint64_t acc;

	if (len >= 12 && !(len & 3)) {
		/*
		 * A header of 4 * IHL bytes, as every caller has: its 32-bit words
		 * added in 64 bits (they fold as the 16-bit words they hold), the
		 * third one's first half alone (its second is the checksum field).
		 * A few loads and adds, where two csum_add() calls cost ~60
		 * instructions: this is paid per segment that gso.c cuts.
		 */
		memcpy(&w, h, 4);
		acc = w;
		memcpy(&w, h + 4, 4);
		acc += w;
		memcpy(&half, h + 8, 2);
		acc += half;
		for (size_t i = 12; i < len; i += 4) {
			memcpy(&w, h + i, 4);
			acc += w;
		}
		return csum_finish(fold64(acc));
	}
	if (len < 12)
		return csum_finish(csum_add(0, h, len));
	sum = csum_add(0, h, 10);			/* up to the checksum field, */
	sum = csum_add(sum, h + 12, len - 12);		/* and after it */
	return csum_finish(sum);
}

uint32_t csum_pseudo_ipv6(const void *saddr, const void *daddr, uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[40];

	memcpy(ph, saddr, 16);
	memcpy(ph + 16, daddr, 16);
	ph[32] = (uint8_t)(l4_len >> 24);
	ph[33] = (uint8_t)(l4_len >> 16);
	ph[34] = (uint8_t)(l4_len >> 8);
	ph[35] = (uint8_t)l4_len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = proto;
	return csum_add(0, ph, sizeof(ph));
}

int csum_complete(const struct iovec *iov, unsigned n, size_t len, size_t csum_start, size_t csum_offset)
{
	size_t got;
	uint32_t sum;
	uint16_t c;

	if (csum_start > len || csum_offset > len - csum_start || len - csum_start - csum_offset < 2)
		return -EINVAL;
	sum = csum_add_iov(0, iov, n, csum_start, len - csum_start, &got);
	if (got != len - csum_start)
		return -EINVAL;
	c = csum_finish_l4(sum, csum_offset);
	/* The field may straddle two iovecs: one bounded copy writes it either way. */
	iov_from_buf(iov, n, csum_start + csum_offset, &c, 2);
	return 0;
}

int csum_complete_buf(void *frame, size_t len, size_t csum_start, size_t csum_offset)
{
	struct iovec v = { frame, len };

	return csum_complete(&v, 1, len, csum_start, csum_offset);
}

/* A big-endian 16-bit field. */
static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * csum_complete_guess() of the one Ethernet frame @f (@len bytes), or with
 * @look only a look; *@tun: where the inner Ethernet frame of a UDP tunnel
 * it carries starts (VXLAN on Linux's ports 4789 and 8472 with its I
 * flag, Geneve on 6081 carrying Ethernet), or 0.
 */
static bool guess_one(uint8_t *f, size_t len, bool look, size_t *tun)
{
	size_t l3 = 14, l4, l4_len, check_off;
	uint16_t type, have, want, c;
	uint32_t pseudo;
	uint8_t proto;

	*tun = 0;
	if (len < 14)
		return false;
	type = be16_at(f + 12);
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		type = be16_at(f + 16);
		l3 = 18;
	}
	if (type == 0x0800 && len >= l3 + 20 && (f[l3] >> 4) == 4) {
		size_t ihl = (size_t)(f[l3] & 0xf) * 4, tot = be16_at(f + l3 + 2);

		if (ihl < 20 || tot < ihl || l3 + tot > len || (be16_at(f + l3 + 6) & 0x3fff))
			return false; /* malformed, or a fragment: never partial */
		proto = f[l3 + 9];
		l4 = l3 + ihl;
		l4_len = tot - ihl;
		pseudo = csum_pseudo_ipv4(f + l3 + 12, f + l3 + 16, proto, (uint32_t)l4_len);
	} else if (type == 0x86dd && len >= l3 + 40 && (f[l3] >> 4) == 6) {
		size_t plen = be16_at(f + l3 + 4);

		if (l3 + 40 + plen > len)
			return false;
		proto = f[l3 + 6]; /* extension headers: not followed, left alone */
		l4 = l3 + 40;
		l4_len = plen;
		pseudo = csum_pseudo_ipv6(f + l3 + 8, f + l3 + 24, proto, (uint32_t)l4_len);
	} else {
		return false;
	}
	if (proto == 6 && l4_len >= 20) {
		check_off = 16;
	} else if (proto == 17 && l4_len >= 8) {
		unsigned dport = be16_at(f + l4 + 2);

		check_off = 6;
		if (l4_len >= 16 + 14 && (dport == 4789 || dport == 8472) && (f[l4 + 8] & 0x08))
			*tun = l4 + 16;
		else if (l4_len >= 16 + 14 && dport == 6081 && be16_at(f + l4 + 10) == 0x6558 &&
			 16 + (size_t)(f[l4 + 8] & 0x3f) * 4 + 14 <= l4_len)
			*tun = l4 + 16 + (size_t)(f[l4 + 8] & 0x3f) * 4;
	} else {
		return false;
	}
	if (look)
		return false;
	memcpy(&have, f + l4 + check_off, 2);
	want = csum_fold(pseudo);
	if (have != want || have == 0)
		return false;
	c = csum_finish_l4(csum_add(0, f + l4, l4_len), check_off);
	memcpy(f + l4 + check_off, &c, 2);
	return true;
}

bool csum_complete_guess(uint8_t *f, size_t len)
{
	size_t tun, inner;
	bool done = false;

	/*
	 * A tunnel's packet whose inner checksum was left partial (Linux's
	 * vxlan over a device with checksum offload): its outer UDP sum, if
	 * any, was made for the completed inner bytes (local checksum
	 * offload), and holds once they are.  The inner one first, so that an
	 * outer sum done here covers the bytes as they end.
	 */
	guess_one(f, len, true, &tun);
	if (tun)
		done = guess_one(f + tun, len - tun, false, &inner);
	return guess_one(f, len, false, &tun) || done;
}

/*
 * The checksum field at @field after the @len bytes (even, at an even
 * offset of the summed data) @old became @new: HC' = ~(~HC + ~m + m')
 * (RFC 1624 eqn. 3), sums in memory byte order as csum.h keeps them.
 * @partial: the field holds an uncomplemented pseudo-header sum
 * (CHECKSUM_PARTIAL), updated without the complements.
 */
void csum_replace(uint8_t *field, const void *old, const void *new, size_t len, bool partial)
{
	uint16_t hc, so = csum_fold(csum_add(0, old, len)), r;
	uint32_t sum;

	memcpy(&hc, field, 2);
	sum = partial ? hc : (uint16_t)~hc;
	sum += (uint16_t)~so;
	sum = csum_add(sum, new, len);
	r = partial ? csum_fold(sum) : (uint16_t)~csum_fold(sum);
	memcpy(field, &r, 2);
}
