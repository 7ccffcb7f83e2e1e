/* test_guest_mem.c - unit tests of the guest memory map: add/remove, translation, iovecs across regions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vsw/guest_mem.h"

static uint8_t host_a[4096], host_b[4096];

/* Regions are kept sorted and overlapping or degenerate ones are refused. */
static void test_add_remove(void **state)
{
	struct gmem *m = malloc(sizeof(*m));

	gmem_init(m);
	assert_int_equal(gmem_add(m, 0x2000, 4096, host_b), 0);
	assert_int_equal(gmem_add(m, 0x1000, 4096, host_a), 0);
	assert_int_equal(m->nregions, 2);
	assert_true(m->regions[0].gpa == 0x1000 && m->regions[1].gpa == 0x2000);
	assert_int_equal(gmem_add(m, 0x1800, 16, host_a), -EEXIST);
	assert_int_equal(gmem_add(m, 0x0, 0x1001, host_a), -EEXIST);
	assert_int_equal(gmem_add(m, 0x5000, 0, host_a), -EINVAL);
	assert_int_equal(gmem_add(m, UINT64_MAX - 10, 4096, host_a), -EINVAL);
	assert_int_equal(gmem_remove(m, 0x1000, 100), -ENOENT);
	assert_int_equal(gmem_remove(m, 0x1000, 4096), 0);
	assert_int_equal(m->nregions, 1);
	assert_null(gmem_translate_whole(m, 0x1000, 1));
	free(m);
}

/* Translation returns the host byte and the contiguous length left in the region. */
static void test_translate(void **state)
{
	struct gmem *m = malloc(sizeof(*m));
	uint64_t avail = 0;

	gmem_init(m);
	assert_int_equal(gmem_add(m, 0x1000, 4096, host_a), 0);
	assert_int_equal(gmem_add(m, 0x2000, 4096, host_b), 0);
	assert_ptr_equal(gmem_translate(m, 0x1010, 100, &avail), host_a + 0x10);
	assert_int_equal(avail, 100);
	assert_ptr_equal(gmem_translate(m, 0x1ff0, 100, &avail), host_a + 0xff0);
	assert_int_equal(avail, 16);
	assert_null(gmem_translate(m, 0x0fff, 1, &avail));
	assert_null(gmem_translate(m, 0x3000, 1, &avail));
	assert_ptr_equal(gmem_translate_whole(m, 0x2000, 4096), host_b);
	assert_null(gmem_translate_whole(m, 0x2000, 4097));
	assert_null(gmem_translate_whole(m, 0x1ff0, 32)); /* straddles */
	assert_null(gmem_translate_whole(m, UINT64_MAX, 2)); /* wraps */
	free(m);
}

/* A buffer straddling two regions becomes two iovecs; holes and overflow fail. */
static void test_to_iov(void **state)
{
	struct gmem *m = malloc(sizeof(*m));
	struct iovec iov[4];
	unsigned n = 0;

	gmem_init(m);
	assert_int_equal(gmem_add(m, 0x1000, 4096, host_a), 0);
	assert_int_equal(gmem_add(m, 0x2000, 4096, host_b), 0);
	assert_int_equal(gmem_to_iov(m, 0x1ff0, 32, iov, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(iov[0].iov_base, host_a + 0xff0);
	assert_int_equal(iov[0].iov_len, 16);
	assert_ptr_equal(iov[1].iov_base, host_b);
	assert_int_equal(iov[1].iov_len, 16);

	n = 0;
	assert_int_equal(gmem_to_iov(m, 0x1ff0, 32, iov, 1, &n), -E2BIG);
	n = 0;
	assert_int_equal(gmem_to_iov(m, 0x2ff0, 32, iov, 4, &n), -EFAULT); /* runs into the hole */
	n = 0;
	assert_int_equal(gmem_to_iov(m, UINT64_MAX - 4, 16, iov, 4, &n), -EFAULT);
	free(m);
}

/* The hinted forms: any hint is safe, the answer is the unhinted one, the hint follows the lookups. */
static void test_to_iov_hinted(void **state)
{
	static const unsigned hints[] = { 0, 1, 2, GMEM_MAX_REGIONS, ~0u };
	static const struct { uint64_t gpa, len; int rc; unsigned n; } cases[] = {
		{ 0x1000, 4096, 0, 1 },		/* all of region a */
		{ 0x1fff, 1, 0, 1 },		/* its last byte */
		{ 0x1ff0, 32, 0, 2 },		/* across into region b */
		{ 0x2000, 4097, -EFAULT, 0 },	/* one byte past b, into the hole */
		{ 0x0fff, 2, -EFAULT, 0 },	/* starts below a */
		{ 0x3000, 1, -EFAULT, 0 },	/* in the hole */
		{ 0x1000, 0, 0, 0 },		/* nothing */
		{ UINT64_MAX - 4, 16, -EFAULT, 0 },
	};
	struct gmem *m = malloc(sizeof(*m));
	struct iovec iov[4], want[4];

	gmem_init(m);
	assert_int_equal(gmem_add(m, 0x1000, 4096, host_a), 0);
	assert_int_equal(gmem_add(m, 0x2000, 4096, host_b), 0);
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned wn = 0;

		assert_int_equal(gmem_to_iov(m, cases[c].gpa, cases[c].len, want, 4, &wn), cases[c].rc);
		for (unsigned h = 0; h < sizeof(hints) / sizeof(hints[0]); h++) {
			unsigned hint = hints[h], n = 0, n2 = 0, hint2 = hints[h];

			assert_int_equal(gmem_to_iov_fast(m, &hint, cases[c].gpa, cases[c].len, iov, 4, &n), cases[c].rc);
			assert_int_equal(gmem_to_iov_hinted(m, &hint2, cases[c].gpa, cases[c].len, iov, 4, &n2),
					 cases[c].rc);
			if (cases[c].rc)
				continue;
			assert_int_equal(n, cases[c].n);
			assert_int_equal(n2, cases[c].n);
			assert_memory_equal(iov, want, n * sizeof(iov[0]));
		}
	}
	/* iov_max is honoured on the fast path too. */
	{
		unsigned hint = 0, n = 1;

		assert_int_equal(gmem_to_iov_fast(m, &hint, 0x1000, 16, iov, 1, &n), -E2BIG);
	}
	/* After a lookup in b the hint names b. */
	{
		unsigned hint = 0, n = 0;

		assert_int_equal(gmem_to_iov_fast(m, &hint, 0x2010, 16, iov, 4, &n), 0);
		assert_int_equal(hint, 1);
	}
	free(m);
}

/* gmem_read copies across the region boundary. */
static void test_read(void **state)
{
	struct gmem *m = malloc(sizeof(*m));
	uint8_t out[8];

	gmem_init(m);
	memset(host_a, 0xaa, sizeof(host_a));
	memset(host_b, 0xbb, sizeof(host_b));
	assert_int_equal(gmem_add(m, 0x1000, 4096, host_a), 0);
	assert_int_equal(gmem_add(m, 0x2000, 4096, host_b), 0);
	assert_int_equal(gmem_read(m, 0x1ffc, out, 8), 0);
	assert_memory_equal(out, "\xaa\xaa\xaa\xaa\xbb\xbb\xbb\xbb", 8);
	assert_int_equal(gmem_read(m, 0x2ffc, out, 8), -EFAULT);
	free(m);
}

/* Many regions: binary search finds each. */
static void test_many_regions(void **state)
{
	struct gmem *m = malloc(sizeof(*m));
	static uint8_t backing[64][64];
	uint64_t avail;

	gmem_init(m);
	for (int i = 63; i >= 0; i--)
		assert_int_equal(gmem_add(m, (uint64_t)i * 0x10000, 64, backing[i]), 0);
	for (int i = 0; i < 64; i++) {
		assert_ptr_equal(gmem_translate(m, (uint64_t)i * 0x10000 + 5, 100, &avail), backing[i] + 5);
		assert_int_equal(avail, 59);
		assert_null(gmem_translate(m, (uint64_t)i * 0x10000 + 64, 1, &avail));
	}
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_remove),
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_to_iov),
		cmocka_unit_test(test_to_iov_hinted),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_many_regions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
