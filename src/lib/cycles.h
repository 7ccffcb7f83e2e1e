/* cycles.h - a cheap cycle counter for timing the data path (rdtsc), and its conversion to nanoseconds. */
#ifndef VSW_LIB_CYCLES_H
#define VSW_LIB_CYCLES_H

/*
 * The general counter of the tree: stage timing reads cycles_now() between
 * stages (one read per stage per batch) and converts sums to time only when
 * someone asks, with the rate cycles_calibrate() measured once.
 *
 * On x86-64 the counter is the TSC, which on every CPU this runs on is
 * invariant (constant rate, not stopped in idle states) and synchronised
 * across cores.  rdtsc is not serialising: it may be read a few
 * instructions early or late, which is noise next to a batch of frames.
 * Elsewhere the counter is CLOCK_MONOTONIC in nanoseconds (1 GHz).
 */

#include <stdint.h>
#include <time.h>

/* The cycle counter now. */
static inline uint64_t cycles_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/*
 * Measure the counter's rate against CLOCK_MONOTONIC over about
 * @sample_ms milliseconds (1..1000; 10 is plenty for a per-mille result)
 * and return it in Hz; never 0.  Call once, from the control thread: it sleeps.
 */
uint64_t cycles_calibrate(unsigned sample_ms);

/* @cycles at @hz (from cycles_calibrate()) in nanoseconds, without overflow for any 64-bit count. */
static inline uint64_t cycles_to_ns(uint64_t cycles, uint64_t hz)
{
	if (hz == 0)
		return 0;
	return (uint64_t)((unsigned __int128)cycles * 1000000000u / hz);
}

#endif
