/* test_virtq_race.c - the device side of both ring layouts while a second thread rewrites the chain it reads. */

/*
 * A driver may change descriptors, indirect tables and the available ring
 * at any moment, also while the device is walking them.  Every field is
 * read once (virtq_internal.h), so each pop must still either fail cleanly
 * (an error, the queue broken with a reason) or hand out an element whose
 * iovecs all lie in guest memory.  A flipper thread stores hostile values
 * and mostly puts the old ones back, the device re-initialises and pops,
 * over and over.
 *
 * Set VSW_HOSTILE_ITERS to change the iterations (default 200000) and
 * VSW_TEST_VERBOSE=1 to print the counts.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"

#include "virtq_hostile.h"

struct flipper {
	struct rr_mem *mem;
	int stop;			/* atomic */
	unsigned long flips;
};

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint64_t pick_addr(uint64_t r)
{
	static const uint64_t v[] = {
		RR_BUF_GPA(0), RR_BUF_GPA(5), RR_R1_GPA - 8, RR_HOLE_GPA - 8, RR_HOLE_GPA,
		0, RR_HUGE_GPA, RR_HUGE_GPA + RR_HUGE_SIZE - 16, RR_TABLE_GPA(0),
		RR_DESC_GPA, ~0ull - 7, RR_R0_GPA + RR_R0_SIZE - 1, RR_TABLE_GPA(0) + 8,
	};

	return (r >> 8) % 8 == 0 ? r : v[(r >> 16) % (sizeof(v) / sizeof(v[0]))];
}

static uint32_t pick_len(uint64_t r)
{
	static const uint32_t v[] = {
		0, 1, 15, 16, 24, 32, 48, 64, 4096, 0x10000, 0x7FFFFFFF, 0x80000000u,
		0xFFFFFFF0u, 0xFFFFFFFFu,
	};

	return (r >> 8) % 8 == 0 ? (uint32_t)r : v[(r >> 16) % (sizeof(v) / sizeof(v[0]))];
}

static uint16_t pick_u16(uint64_t r)
{
	static const uint16_t v[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 9, 0xFFFF, 0x8000,
		F_NEXT | F_INDIRECT, F_NEXT | F_WRITE, F_INDIRECT | F_WRITE,
		F_AVAIL, F_AVAIL | F_NEXT, F_AVAIL | F_INDIRECT, F_AVAIL | F_USED, F_USED,
		F_AVAIL | F_WRITE | F_NEXT, F_AVAIL | F_NEXT | F_INDIRECT,
	};

	return (r >> 8) % 8 == 0 ? (uint16_t)r : v[(r >> 16) % (sizeof(v) / sizeof(v[0]))];
}

/*
 * Hostile driver thread: pick a field of ring descriptor 0-3, indirect
 * table entry 0-2 or (split) the available ring, store a hostile value,
 * spin briefly, then usually put the old value back.
 */
static void *flip_thread(void *arg)
{
	struct flipper *fl = arg;
	uint64_t s = 0x9E3779B97F4A7C15ull;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_RELAXED)) {
		uint64_t r = xorshift(&s);
		unsigned target = (unsigned)(r % 9), field = (unsigned)((r >> 4) % 4), spin;
		uint64_t gpa;
		uint8_t *p;

		if (target < 4)
			gpa = RR_DESC_GPA + 16ull * target;
		else if (target < 7)
			gpa = RR_TABLE_GPA(0) + 16ull * (target - 4);
		else
			gpa = RR_DRIVER_GPA;	/* packed: driver event suppression */
		p = rr_hva(fl->mem, gpa);
		r = xorshift(&s);
		if (target >= 7) {
			/* avail->idx (+2) or ring[0] (+4); flags/off_wrap for packed. */
			uint16_t *f16 = (uint16_t *)(p + (target == 7 ? 2 : 4));
			uint16_t old = __atomic_load_n(f16, __ATOMIC_RELAXED);

			__atomic_store_n(f16, pick_u16(r), __ATOMIC_RELAXED);
			for (spin = (unsigned)(r >> 40) % 64; spin; spin--)
				__asm__ volatile("" ::: "memory");
			if ((r >> 48) % 4)
				__atomic_store_n(f16, old, __ATOMIC_RELAXED);
		} else if (field == 0) {
			uint64_t *f64 = (uint64_t *)p, old = __atomic_load_n(f64, __ATOMIC_RELAXED);

			__atomic_store_n(f64, pick_addr(r), __ATOMIC_RELAXED);
			for (spin = (unsigned)(r >> 40) % 64; spin; spin--)
				__asm__ volatile("" ::: "memory");
			if ((r >> 48) % 4)
				__atomic_store_n(f64, old, __ATOMIC_RELAXED);
		} else if (field == 1) {
			uint32_t *f32 = (uint32_t *)(p + 8), old = __atomic_load_n(f32, __ATOMIC_RELAXED);

			__atomic_store_n(f32, pick_len(r), __ATOMIC_RELAXED);
			for (spin = (unsigned)(r >> 40) % 64; spin; spin--)
				__asm__ volatile("" ::: "memory");
			if ((r >> 48) % 4)
				__atomic_store_n(f32, old, __ATOMIC_RELAXED);
		} else {
			/* split: flags (+12) / next (+14); packed: id (+12) / flags (+14) */
			uint16_t *f16 = (uint16_t *)(p + (field == 2 ? 12 : 14));
			uint16_t old = __atomic_load_n(f16, __ATOMIC_RELAXED);

			__atomic_store_n(f16, pick_u16(r), __ATOMIC_RELAXED);
			for (spin = (unsigned)(r >> 40) % 64; spin; spin--)
				__asm__ volatile("" ::: "memory");
			if ((r >> 48) % 4)
				__atomic_store_n(f16, old, __ATOMIC_RELAXED);
		}
		fl->flips++;
	}
	return NULL;
}

/* Write the valid layout the flipper attacks; @variant picks among a few. */
static void race_layout(struct fx *f, bool packed, unsigned variant)
{
	if (!packed) {
		rr_split_desc(&f->r, 0, BUF(0), 64, F_NEXT, 1);
		rr_split_desc(&f->r, 1, BUF(1), 128, F_NEXT | F_WRITE, 2);
		rr_split_desc(&f->r, 2, TBL(0), 32, F_INDIRECT, 0);
		rr_split_desc(&f->r, 3, RR_R1_GPA - 32, 64, F_WRITE, 0);
		rr_split_table(&f->mem, TBL(0), 0, BUF(2), 256, F_WRITE | F_NEXT, 1);
		rr_split_table(&f->mem, TBL(0), 1, BUF(3), 512, F_WRITE, 0);
		rr_split_table(&f->mem, TBL(0), 2, BUF(4), 16, F_WRITE, 0);
		rr_split_set_slot(&f->r, 0, variant % 2 ? 3 : 0);
		rr_split_set_idx(&f->r, 1);
		return;
	}
	rr_packed_table(&f->mem, TBL(0), 0, BUF(2), 64, 0);
	rr_packed_table(&f->mem, TBL(0), 1, BUF(3), 128, F_WRITE);
	rr_packed_table(&f->mem, TBL(0), 2, RR_R1_GPA - 16, 256, F_WRITE);
	rr_packed_desc(&f->r, 3, BUF(4), 16, 0, 0, false);	/* not available */
	if (variant % 2) {
		rr_packed_desc(&f->r, 2, BUF(5), 16, 0, 0, false);
		rr_packed_desc(&f->r, 1, BUF(6), 16, 0, 0, false);
		rr_packed_desc(&f->r, 0, TBL(0), 48, 7, F_INDIRECT, true);
	} else {
		rr_packed_desc(&f->r, 2, BUF(2), 256, 2, F_WRITE, true);
		rr_packed_desc(&f->r, 1, BUF(1), 128, 0, F_NEXT | F_WRITE, true);
		rr_packed_desc(&f->r, 0, BUF(0), 64, 0, F_NEXT, true);
	}
}

/*
 * Re-initialise and pop @iters times while the flipper rewrites the chain.
 * Every pop must either fail cleanly or give a sane element.
 */
static void race(struct fx *f, bool packed)
{
	const char *env = getenv("VSW_HOSTILE_ITERS");
	unsigned long iters = env ? strtoul(env, NULL, 0) : 200000;
	unsigned long i, ok = 0, again = 0, bad = 0;
	struct flipper fl = { .mem = &f->mem };
	const char *problem = NULL;
	struct vq_config cfg;
	pthread_t th;
	int rc = 0;

	rr_ring_init(&f->r, &f->mem, NUM, packed);
	cfg = rr_ring_config(&f->r, true);
	race_layout(f, packed, 0);
	assert_int_equal(pthread_create(&th, NULL, flip_thread, &fl), 0);
	for (i = 0; i < iters && !problem; i++) {
		race_layout(f, packed, (unsigned)i);
		rc = vq_init(&f->q, &cfg);
		if (rc) {
			problem = "vq_init failed";
			break;
		}
		memset(f->iov, 0, sizeof(f->iov[0]) * 8);
		rc = pop(f);
		if (rc == 0) {
			ok++;
			problem = rr_elem_problem(&f->mem, &f->e, f->iov, IOV_CAP);
			if (!problem && !packed && f->e.id >= NUM)
				problem = "split head id >= num";
		} else if (rc == -EAGAIN) {
			again++;
			if (vq_broken(&f->q))
				problem = "-EAGAIN from a broken queue";
		} else {
			bad++;
			if (rc > 0 || rc == -EIO)
				problem = "unexpected return from vq_pop";
			else if (!vq_broken(&f->q) || !vq_error(&f->q))
				problem = "violation without a broken queue and a reason";
			else if (pop(f) != -EIO)
				problem = "pop after a violation is not -EIO";
		}
	}
	__atomic_store_n(&fl.stop, 1, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (verbose || problem)
		print_message("  %s race: %lu iterations, %lu ok, %lu empty, %lu violations, "
			      "%lu flips\n", packed ? "packed" : "split", i, ok, again, bad,
			      fl.flips);
	if (problem) {
		unsigned j, n = (unsigned)f->e.out_num + f->e.in_num;

		print_message("  iteration %lu: rc %d, %s\n", i, rc, problem);
		if (rc == 0)
			for (j = 0; j < n && j < 8; j++)
				print_message("    iov[%u] = %p + 0x%zx\n", j, f->iov[j].iov_base,
					      f->iov[j].iov_len);
		fail_msg("%s race: %s", packed ? "packed" : "split", problem);
	}
	assert_true(ok > 0);	/* the valid layout was seen at least once */
}

/* Split: a second thread rewriting descriptors during pops yields no bad iovec and no crash. */
static void test_split_descriptor_rewritten_while_read(void **state)
{
	race(*state, false);
}

/* Packed: a second thread rewriting descriptors during pops yields no bad iovec and no crash. */
static void test_packed_descriptor_rewritten_while_read(void **state)
{
	race(*state, true);
}

#define T(fn) cmocka_unit_test_setup(fn, test_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_split_descriptor_rewritten_while_read),
		T(test_packed_descriptor_rewritten_while_read),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
