/* cycles.c - the cycle counter's rate, measured against the monotonic clock. */
#include "lib/cycles.h"

#include <errno.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The clock and the counter read at one instant: the counter between two
 * clock reads, the clock taken as their middle, the tightest of a few
 * tries (a preemption or an interrupt between a clock read and the counter
 * read would skew the rate by its length over the sample's).
 */
static void clock_and_counter(uint64_t *ns, uint64_t *cyc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t a = mono_ns(), c = cycles_now(), b = mono_ns();

		if (b - a < best) {
			best = b - a;
			*ns = a + (b - a) / 2;
			*cyc = c;
		}
	}
}

uint64_t cycles_calibrate(unsigned sample_ms)
{
	struct timespec req;
	uint64_t t0, c0, t1, c1, hz;

	if (sample_ms < 1)
		sample_ms = 1;
	if (sample_ms > 1000)
		sample_ms = 1000;
	req.tv_sec = sample_ms / 1000;
	req.tv_nsec = (long)(sample_ms % 1000) * 1000000L;

	clock_and_counter(&t0, &c0);
	while (nanosleep(&req, &req) < 0 && errno == EINTR)
		;
	clock_and_counter(&t1, &c1);
	if (t1 <= t0 || c1 <= c0)
		return 1000000000u; /* a counter that did not move: treat it as nanoseconds */
	hz = (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / (t1 - t0));
	return hz ? hz : 1;
}
