/* rng.h - the unit tests' random numbers: xorshift64 (Marsaglia, 2003), seeded per test file, so a failure repeats. */
#ifndef VSW_TESTS_RNG_H
#define VSW_TESTS_RNG_H

#include <stdint.h>

/* The next 32 bits from the generator whose state is *@state (any seed but 0). */
static inline uint32_t test_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)(*state >> 16);
}

#endif
