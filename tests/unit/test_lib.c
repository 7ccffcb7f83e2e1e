/* test_lib.c - unit tests of the leaf helpers in src/lib: the cycle counter and its calibration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "lib/cycles.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The counter moves forward on one thread. */
static void test_cycles_monotonic(void **state)
{
	uint64_t prev = cycles_now();

	for (int i = 0; i < 100000; i++) {
		uint64_t now = cycles_now();

		assert_true(now >= prev);
		prev = now;
	}
}

/*
 * The calibrated rate is plausible (1 MHz to 10 GHz) and converts a
 * measured interval to within 20 % of the monotonic clock's (generous:
 * this machine is shared; a wrong unit is off by orders of magnitude).
 */
static void test_cycles_calibrate(void **state)
{
	uint64_t hz = cycles_calibrate(20), c0, t0, c1, t1, ns;
	struct timespec nap = { 0, 30 * 1000 * 1000 };

	bool close = false;

	assert_true(hz >= 1000000u && hz <= 10000000000u);
	/* Three tries: a preemption between a clock read and a counter read skews one (a wrong rate fails all). */
	for (int i = 0; i < 3 && !close; i++) {
		t0 = mono_ns();
		c0 = cycles_now();
		nanosleep(&nap, NULL);
		c1 = cycles_now();
		t1 = mono_ns();
		ns = cycles_to_ns(c1 - c0, hz);
		close = ns * 10 >= (t1 - t0) * 8 && ns * 10 <= (t1 - t0) * 12;
	}
	assert_true(close);
}

/* Conversion: exact on round numbers, no overflow for a 64-bit count, 0 for an unknown rate. */
static void test_cycles_to_ns(void **state)
{
	assert_int_equal(cycles_to_ns(3000000000u, 3000000000u), 1000000000u);
	assert_int_equal(cycles_to_ns(1, 1000000000u), 1);
	assert_int_equal(cycles_to_ns(UINT64_MAX, UINT64_MAX), 1000000000u);
	assert_int_equal(cycles_to_ns(UINT64_MAX / 2, 4000000000u), (uint64_t)((unsigned __int128)(UINT64_MAX / 2) * 1000000000u / 4000000000u));
	assert_int_equal(cycles_to_ns(12345, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cycles_monotonic),
		cmocka_unit_test(test_cycles_calibrate),
		cmocka_unit_test(test_cycles_to_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
