/* prefetch.h - cache line prefetches for the data path: to read, and to write. */
#ifndef VSW_LIB_PREFETCH_H
#define VSW_LIB_PREFETCH_H

/* Start loading the line holding @p, to read it. */
static inline void prefetch_r(const void *p)
{
	__builtin_prefetch(p, 0);
}

/*
 * Start loading the line holding @p in the exclusive state, to write it.
 * The line is usually one the other side of a ring last touched, from
 * another CPU: a read prefetch would fetch it shared and the store would
 * then wait for a second transaction to own it.  gcc and clang turn
 * __builtin_prefetch(p, 1) into a read prefetch unless told the CPU has
 * PREFETCHW (-mprfchw), so it is spelled out; CPUs without it execute it as
 * a no-op (older Intel CPUs treat its opcode as a NOP).
 */
static inline void prefetch_w(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

#endif
