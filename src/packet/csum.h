/* csum.h - the Internet checksum (RFC 1071): partial sums over buffers and iovecs, completion, IPv4 and pseudo-headers. */
#ifndef VSW_PACKET_CSUM_H
#define VSW_PACKET_CSUM_H

/*
 * One checksum module for every path (ports, tools, tests).
 *
 * A partial sum is a uint32_t that callers only pass along: start from 0,
 * add buffers with csum_add(), fold at the end.  Sums are kept in memory
 * byte order (RFC 1071 section 2(B): the one's-complement sum does not
 * depend on byte order), so a folded value is stored into a frame with
 * memcpy() as is, and a 16-bit field read with memcpy() compares with it
 * directly; no ntohs anywhere.
 *
 * Checksummed data is a sequence of 16-bit words counted from its first
 * byte; a piece that starts at an odd offset of that sequence is added with
 * csum_add_at(), which is what lets one sum run across iovecs split anywhere:
 *
 *   frame:   | eth | ip | tcp hdr ... payload |
 *                       ^csum_start   ^ csum_start + csum_offset: the field
 *   iovecs:  [ 0      ][ 1   ][ 2        ]       (any split, odd ones too)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* @sum plus the @len bytes at @buf, which start at an even offset of the summed data. */
uint32_t csum_add(uint32_t sum, const void *buf, size_t len);

/*
 * Tests and benchmarks: sum long buffers with the CPU's vector unit (AVX2,
 * the default where it has it) when @on and the CPU has it, else with the
 * scalar chain alone; every csum_* function gives the same results either
 * way.  Returns whether the vector path was in use before the call (the
 * first call: whether start-up chose it).  Not for the data path: it is
 * read there without a lock.
 */
bool csum_simd_set(bool on);

/*
 * Copy the @len bytes at @src to @dst (not overlapping) and return their
 * partial sum, csum_add(0, @src, @len): one pass over the bytes where
 * memcpy() and csum_add() make two.  A piece at an odd offset of the
 * summed data is swapped by the caller (csum_add_at()'s rule).
 */
uint32_t csum_copy(void *dst, const void *src, size_t len);

/* @sum plus the @len bytes at @buf, which start at offset @pos of the summed data (odd or even). */
uint32_t csum_add_at(uint32_t sum, const void *buf, size_t len, size_t pos);

/*
 * @sum plus @len bytes of the @n iovecs starting @off bytes in (offset 0
 * of the summed data).  Stops early where the iovecs end; *@done, when not
 * NULL, gets the bytes summed.
 */
uint32_t csum_add_iov(uint32_t sum, const struct iovec *iov, unsigned n, size_t off, size_t len, size_t *done);

/*
 * csum_add_iov(0, ...) of the same bytes while they are copied to @dst
 * (back to back, not overlapping the iovecs): csum_copy() a piece.
 */
uint32_t csum_copy_iov(void *dst, const struct iovec *iov, unsigned n, size_t off, size_t len, size_t *done);

/*
 * The checksum field at @field after the @len bytes (even, at an even
 * offset of the summed data) @old became @new: HC' = ~(~HC + ~m + m')
 * (RFC 1624 eqn. 3), sums in memory byte order as csum.h keeps them.
 * @partial: the field holds an uncomplemented pseudo-header sum
 * (CHECKSUM_PARTIAL), updated without the complements.
 */
void csum_replace(uint8_t *field, const void *old, const void *new, size_t len, bool partial);

/* @sum folded to 16 bits, in memory byte order (not complemented); inline: a data path folds once a frame. */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * @whole less @part, two sums of the same data's bytes (@part those at its
 * start, an even number), folded: the sum of the rest, for a check that
 * knows the whole's sum already (RFC 1071: one's complement subtraction
 * is the addition of the complement).
 */
static inline uint32_t csum_sub(uint32_t whole, uint32_t part)
{
	return (uint32_t)csum_fold(whole) + (uint16_t)~csum_fold(part);
}

/* The checksum field's value for @sum: the folded sum complemented, in memory byte order. */
static inline uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* Where UDP's checksum field is in its header: the one whose computed zero is written as all ones. */
#define CSUM_UDP_OFFSET 6

/*
 * The value of the checksum field at @csum_offset of a TCP or UDP header
 * from @sum: csum_finish(), but UDP's (at CSUM_UDP_OFFSET) is written as
 * all ones when it computes to zero (RFC 768: a zero UDP checksum means
 * "none"; in one's complement the two are the same number).  Any other
 * (TCP's at 16) stays as computed: over bytes not all zero the sum is never
 * +0, so a computed field is never 0xffff (RFC 1624, section 3), and
 * readers that compare rather than add (tshark) call 0xffff wrong there.
 */
static inline uint16_t csum_finish_l4(uint32_t sum, size_t csum_offset)
{
	uint16_t c = csum_finish(sum);

	return c || csum_offset != CSUM_UDP_OFFSET ? c : 0xffff;
}

/* csum_finish_l4() of sums added in 64 bits without a fold between them. */
static inline uint16_t csum_finish_l4_64(uint64_t acc, size_t csum_offset)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return csum_finish_l4((uint32_t)((acc & 0xffffffffu) + (acc >> 32)), csum_offset);
}

/* Eight bytes at @b as they lie in memory (any alignment): one load. */
static inline uint64_t csum_load64(const uint8_t *b)
{
	uint64_t w;

	memcpy(&w, b, 8);
	return w;
}

/* A frame csum_add64() sums: 57 to 64 bytes (a minimum-size Ethernet frame is 60 without its FCS). */
static inline bool csum_small64(size_t len)
{
	return len > 56 && len <= 64;
}

/*
 * csum_add(@sum, @buf, @len) for csum_small64(@len), where @buf may be
 * read for 64 bytes whatever @len (a pkt's head: PKT_HEAD_COPY bytes):
 * eight 64-bit words, the bytes of the last past @len masked off, added
 * in one add-with-carry chain on x86-64 (in 128 bits elsewhere), folded
 * once.  No loop, no call: csum_add() of a 60-byte frame was ~75
 * instructions.
 * The result is congruent to csum_add()'s (mod 2^16 - 1), not equal.
 */
static inline uint32_t csum_add64(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint64_t w[8], lo;

	/*
	 * Word by word, each straight into a register: one memcpy() of the 64
	 * bytes (or a loop of eight, which gcc fuses into one) is compiled by
	 * gcc 12 -O2 to a `rep movsl` into the stack and loads back from it,
	 * over a third of the encap point's cycles on 64-byte frames (perf
	 * annotate of bench_vxlan -c on -f 1024).
	 */
	w[0] = csum_load64(b);
	w[1] = csum_load64(b + 8);
	w[2] = csum_load64(b + 16);
	w[3] = csum_load64(b + 24);
	w[4] = csum_load64(b + 32);
	w[5] = csum_load64(b + 40);
	w[6] = csum_load64(b + 48);
	w[7] = csum_load64(b + 56);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w[7] &= ~0ull >> (8 * (64 - len)); /* the first len - 56 bytes: the low ones */
#else
	w[7] &= ~0ull << (8 * (64 - len));
#endif
#if defined(__x86_64__)
	{
		/* one chain of add-with-carry (csum.c's sum_words() says why 64-bit words fold right) */
		unsigned long long a = sum;
		unsigned char c;

		c = _addcarry_u64(0, a, w[0], &a);
		c = _addcarry_u64(c, a, w[1], &a);
		c = _addcarry_u64(c, a, w[2], &a);
		c = _addcarry_u64(c, a, w[3], &a);
		c = _addcarry_u64(c, a, w[4], &a);
		c = _addcarry_u64(c, a, w[5], &a);
		c = _addcarry_u64(c, a, w[6], &a);
		c = _addcarry_u64(c, a, w[7], &a);
		c = _addcarry_u64(c, a, 0, &a);
		lo = a + c;	/* a carry out of that last adc leaves a at 0: this add carries no more */
	}
#else
	{
		unsigned __int128 acc = sum;
		uint64_t hi;

		for (unsigned k = 0; k < 8; k++)
			acc += w[k];
		lo = (uint64_t)acc;
		hi = (uint64_t)(acc >> 64);
		lo += hi;
		lo += lo < hi;	/* the end-around carry: 2^64 = 1 (mod 2^16 - 1) */
	}
#endif
	lo = (lo & 0xffffffffu) + (lo >> 32);
	return (uint32_t)((lo & 0xffffffffu) + (lo >> 32));
}

/* The checksum of the IPv4 header at @hdr (@len bytes: 4 * IHL), its checksum field counted as zero. */
uint16_t csum_ipv4_hdr(const void *hdr, size_t len);

/* The TCP/UDP pseudo-header sums (RFC 793, RFC 768; RFC 8200 section 8.1), addresses as in the frame. */
static inline uint32_t csum_pseudo_ipv4(const void *saddr, const void *daddr, uint8_t proto, uint32_t l4_len)
{
	const uint8_t tail[4] = { 0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };
	uint32_t s, d, t;
	uint64_t acc;

	/* Three 32-bit words of the pseudo header, in memory order (2^16 = 1 mod 2^16 - 1: they fold as its 16-bit words). */
	memcpy(&s, saddr, 4);
	memcpy(&d, daddr, 4);
	memcpy(&t, tail, 4);
	acc = (uint64_t)s + d + t;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)((acc & 0xffffffffu) + (acc >> 32));
}
uint32_t csum_pseudo_ipv6(const void *saddr, const void *daddr, uint8_t proto, uint32_t l4_len);

/*
 * Complete a CHECKSUM_PARTIAL frame (virtio 1.3 section 5.1.6.2: "the
 * checksum on the packet is incomplete"): the field at @csum_start +
 * @csum_offset holds the pseudo-header sum; the complemented sum of the
 * bytes from @csum_start to the frame's end (@len bytes in @n iovecs),
 * that field included, replaces it.  A result of zero is stored as 0xffff
 * when the field is UDP's (@csum_offset 6: zero would mean "no checksum"),
 * as zero otherwise (csum_finish_l4()).
 * 0, or -EINVAL when the field is not inside the frame or the iovecs hold
 * less than @len bytes (nothing is written then).
 */
int csum_complete(const struct iovec *iov, unsigned n, size_t len, size_t csum_start, size_t csum_offset);

/* csum_complete() on the flat @len bytes at @frame. */
int csum_complete_buf(void *frame, size_t len, size_t csum_start, size_t csum_offset);

/*
 * A frame that arrived without its CHECKSUM_PARTIAL mark (AF_XDP): if
 * @frame (@len bytes: Ethernet, one optional VLAN tag, IPv4 or IPv6
 * without extension headers, TCP or UDP) has a checksum field equal to its
 * pseudo-header sum, complete it; the same for the inner frame of a UDP
 * tunnel it carries (VXLAN, Geneve: one level), whose transport checksum
 * a container's vxlan device leaves partial.  A field that held a full checksum equal
 * to that sum by coincidence gets the same value again, so a correct frame
 * is never changed.  Every offset is checked against @len; true when the
 * field was rewritten.
 */
bool csum_complete_guess(uint8_t *frame, size_t len);

#endif
