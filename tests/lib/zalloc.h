/* zalloc.h - zeroed heap memory aligned for what the tests put there (packets want a cache line; calloc gives 16 bytes). */
#ifndef VSW_TESTS_ZALLOC_H
#define VSW_TESTS_ZALLOC_H

#include <stdlib.h>
#include <string.h>

/* @size zeroed bytes aligned to 64 (struct pkt's alignment, packet/pkt.h), or NULL; free() releases them. */
static inline void *zalloc64(size_t size)
{
	size_t rounded = (size + 63) & ~(size_t)63; /* aligned_alloc wants a multiple of the alignment */
	void *p = aligned_alloc(64, rounded);

	if (p)
		memset(p, 0, rounded);
	return p;
}

#endif
