/* cycles.c - the cycle counter's rate, measured against the monotonic clock. */
#include "lib/cycles.h"

#include <errno.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

	t0 = mono_ns();
	c0 = cycles_now();
	while (nanosleep(&req, &req) < 0 && errno == EINTR)
		;
	c1 = cycles_now();
	t1 = mono_ns();
	if (t1 <= t0 || c1 <= c0)
		return 1000000000u; /* a counter that did not move: treat it as nanoseconds */
	hz = (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / (t1 - t0));
	return hz ? hz : 1;
}
