/* csum_ref.h - the Internet checksum the plain way (RFC 1071, big-endian words, one byte at a time): what packet/csum.c is checked against. */
#ifndef VSW_TESTS_CSUM_REF_H
#define VSW_TESTS_CSUM_REF_H

#include <stddef.h>
#include <stdint.h>

/* Sum of the big-endian 16-bit words of @len bytes at @p (odd tail padded with zero), folded to 16 bits. */
static inline uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* One's-complement addition of two folded sums. */
static inline uint16_t ref_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;

	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* The two bytes a 16-bit value stored in network order occupies. */
static inline void ref_put(uint8_t out[2], uint16_t v)
{
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
}

/* What csum.h returns (memory byte order) as a big-endian value, to compare with ref_*. */
static inline uint16_t ref_of_mem(uint16_t mem)
{
	const uint8_t *b = (const uint8_t *)&mem;

	return (uint16_t)(b[0] << 8 | b[1]);
}

#endif
