/* test_vhost_user_mem.c - unit tests of the vhost-user device's guest memory: regions added and removed, tables that move rings out, the dirty log. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost_user_fx.h"

/* ---- memory slots: ADD_MEM_REG, REM_MEM_REG ---- */

/* ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS): hot-plug around live rings, up to 32 slots. */
static void test_add_rem_mem_reg(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single one = { .region = { GPA + 0x100000, MEM_SIZE, UADDR + 0x100000, 0 } };
	struct vhost_user_mem_single ring_reg = { .region = { GPA, MEM_SIZE, UADDR, 0 } };
	int fd = new_memfd(MEM_SIZE), maps;

	session_live(f, full_features());
	maps = count_maps();
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, ACK, &one, sizeof(one), &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_ADD_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 2);
	assert_int_equal(count_maps(), maps + 1);
	assert_true(atomic_load(&f->d.vrings[0].live));
	/* REM_MEM_REG may carry an fd, which the device closes ("mmap offset is ignored"). */
	one.region.mmap_offset = 0x1234;
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &one, sizeof(one), &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 1);
	assert_int_equal(count_maps(), maps);
	assert_true(atomic_load(&f->d.vrings[0].live));

	/* Removing the rings' memory takes them off the data path; adding it back brings them back. */
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &ring_reg, sizeof(ring_reg), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 0);
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, ACK, &ring_reg, sizeof(ring_reg), &fd, 1), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_ADD_MEM_REG), 0);
	assert_true(atomic_load(&f->d.vrings[0].live) && atomic_load(&f->d.vrings[1].live));

	/* Fill every slot, then one more. */
	for (unsigned i = 1; i < VU_MAX_MEM_SLOTS; i++) {
		struct vhost_user_mem_single r = { .region = { GPA + i * 0x100000ull, 0x1000, UADDR + i * 0x100000ull,
							       0x1000 } };

		assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, V, &r, sizeof(r), &fd, 1), 0);
	}
	assert_int_equal(f->d.nregions, VU_MAX_MEM_SLOTS);
	one.region.gpa = 0x40000000;
	one.region.uaddr = 0x40000000;
	expect_broken(f, xfer(f, VHOST_USER_ADD_MEM_REG, V, &one, sizeof(one), &fd, 1), "slots");
	close(fd);
}

/* REM_MEM_REG of a region that is not mapped (same start, other size). */
static void test_rem_mem_reg_unknown(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single r = { .region = { GPA, MEM_SIZE - 0x1000, UADDR, 0 } };

	session_live(f, full_features());
	expect_broken(f, xfer(f, VHOST_USER_REM_MEM_REG, V, &r, sizeof(r), NULL, 0), "not mapped");
}

/* ADD_MEM_REG overlapping a mapped region in guest physical space; the old region stays. */
static void test_add_mem_reg_overlap(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single r = { .region = { GPA + MEM_SIZE - 0x1000, MEM_SIZE, UADDR + 0x100000, 0 } };
	int fd = new_memfd(MEM_SIZE);

	session_live(f, full_features());
	expect_broken(f, xfer(f, VHOST_USER_ADD_MEM_REG, V, &r, sizeof(r), &fd, 1), "overlap");
	assert_int_equal(f->d.nregions, 1);
	close(fd);
}

/*
 * QEMU 7.2 sends ADD_MEM_REG and REM_MEM_REG once per queue pair: the same
 * region added twice is mapped once and stays until the second removal.
 */
static void test_add_mem_reg_per_queue_pair(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single one = { .region = { GPA + 0x100000, MEM_SIZE, UADDR + 0x100000, 0 } };
	int fd = new_memfd(MEM_SIZE), maps;

	session_live(f, full_features());
	maps = count_maps();
	for (int pair = 0; pair < 2; pair++) {
		assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, ACK, &one, sizeof(one), &fd, 1), 0);
		assert_int_equal(expect_u64_reply(f, VHOST_USER_ADD_MEM_REG), 0);
		assert_int_equal(f->d.nregions, 2);
		assert_int_equal(count_maps(), maps + 1);
	}
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &one, sizeof(one), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 2);
	assert_int_equal(xfer(f, VHOST_USER_REM_MEM_REG, ACK, &one, sizeof(one), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_REM_MEM_REG), 0);
	assert_int_equal(f->d.nregions, 1);
	assert_int_equal(count_maps(), maps);
	assert_true(atomic_load(&f->d.vrings[0].live));
	/* The same addresses at another offset of the file are another region: an overlap. */
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, V, &one, sizeof(one), &fd, 1), 0);
	one.region.mmap_offset = 0x1000;
	expect_broken(f, xfer(f, VHOST_USER_ADD_MEM_REG, V, &one, sizeof(one), &fd, 1), "overlap");
	close(fd);
}

/* ---- memory tables against live rings ---- */

/* A refused table after a valid one: the old memory is gone too, nothing half-mapped stays. */
static void test_bad_table_replaces_good(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = {
		.nregions = 2,
		.regions = { REG(GPA, MEM_SIZE, UADDR, 0), REG(GPA + 0x100000, 4 * MEM_SIZE, UADDR + 0x100000, 0) },
	};
	int fds[2] = { new_memfd(MEM_SIZE), new_memfd(MEM_SIZE) };

	session_live(f, full_features());
	munmap(f->mem, MEM_SIZE);
	f->mem = NULL;
	expect_broken(f, xfer(f, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(2), fds, 2), "larger than its file");
	close_all(fds, 2);
	assert_int_equal(f->d.nregions, 0);
	assert_int_equal(f->d.mem->nregions, 0);
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
	assert_int_equal(count_maps(), f->base_maps);
}

/*
 * A new table that no longer holds the started rings (the old memory is
 * unmapped) breaks the session, and the rings must not be live in between:
 * the owner's rings_changed() and the workers would touch the old mapping.
 * The new region is larger so that it is not mapped where the old one was.
 */
static void test_table_moves_away_from_rings(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 1, .regions = { REG(GPA, 4 * MEM_SIZE, UADDR + 0x100000, 0) } };
	int fd = new_memfd(4 * MEM_SIZE);

	session_live(f, full_features());
	send_msg(f, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(1), &fd, 1);
	close(fd);
	expect_broken(f, pump(f), "outside guest memory");
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
}

/* Ring addresses the memory cannot hold: SET_VRING_KICK must fail and the ring never go live. */
static void test_ring_outside_memory(void **state)
{
	static const struct {
		const char *name;
		uint64_t desc, avail, used;
		unsigned num;
		const char *why;
	} cases[] = {
		{ "desc past the end", UADDR + MEM_SIZE, RING(0) + 0x1000, RING(0) + 0x2000, 256, "outside guest memory" },
		{ "avail below the start", RING(0), UADDR - 0x1000, RING(0) + 0x2000, 256, "outside guest memory" },
		{ "used at uaddr 0", RING(0), RING(0) + 0x1000, 0, 256, "outside guest memory" },
		{ "desc straddles the end", UADDR + MEM_SIZE - 0x800, RING(0) + 0x1000, RING(0) + 0x2000, 256,
		  "not inside guest memory" },
		{ "used straddles the end", RING(0), RING(0) + 0x1000, UADDR + MEM_SIZE - 0x400, 256,
		  "not inside guest memory" },
		{ "desc misaligned", RING(0) + 8, RING(0) + 0x1000, RING(0) + 0x2000, 256, "alignment" },
		{ "split size 100", RING(0), RING(0) + 0x1000, RING(0) + 0x2000, 100, "bad size" },
		{ "ring of 32768 in 64 KiB", RING(0), RING(0) + 0x1000, RING(0) + 0x2000, 32768, "not inside" },
	};
	struct fx *f = *state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		current_case = cases[k].name;
		fx_reconnect(f);
		negotiate(f, full_features(), PROTO_OFFERED);
		mem_table(f);
		munmap(f->mem, MEM_SIZE);
		f->mem = NULL;
		ok_state(f, VHOST_USER_SET_VRING_NUM, 0, cases[k].num);
		vring_addr(f, 0, cases[k].desc, cases[k].avail, cases[k].used, V);
		assert_string_equal(f->d.error, "");
		expect_broken(f, vring_fd(f, VHOST_USER_SET_VRING_KICK, 0, V), cases[k].why);
		assert_false(f->d.vrings[0].started);
		assert_false(atomic_load(&f->d.vrings[0].live));
	}
}

/*
 * A region whose mmap_offset is odd maps an aligned guest address to an
 * odd host address.  The rings are accessed through typed, atomic loads
 * and stores (2.7.1 alignment; an unaligned atomic faults on arm64): the
 * device must refuse the region or the ring, never run it misaligned.
 * (Found by fuzz_vhost_user_msg.)
 */
static void test_odd_mmap_offset(void **state)
{
	struct fx *f = *state;
	struct vhost_user_memory mt = { .nregions = 1, .regions = { REG(GPA, 0x8000, UADDR, 2) } };
	int fd = new_memfd(MEM_SIZE), rc;

	negotiate(f, full_features(), PROTO_OFFERED);
	rc = xfer(f, VHOST_USER_SET_MEM_TABLE, V, &mt, MT_SIZE(1), &fd, 1);
	close(fd);
	if (rc < 0)
		return; /* refused: fine */
	ok_state(f, VHOST_USER_SET_VRING_NUM, 0, RING_NUM);
	vring_addr(f, 0, RING(0), RING(0) + 0x1000, RING(0) + 0x2000, V);
	if (vring_fd(f, VHOST_USER_SET_VRING_KICK, 0, V) < 0)
		return; /* refused: fine */
	assert_true(((uintptr_t)f->d.vrings[0].vq.ring.split.desc & 15) == 0);
	assert_true(((uintptr_t)f->d.vrings[0].vq.ring.split.avail & 1) == 0);
	assert_true(((uintptr_t)f->d.vrings[0].vq.ring.split.used & 3) == 0);
}

/*
 * SET_VRING_ADDR moving a started ring out of memory, or to an address
 * vq_init() refuses, breaks the session at once, and the ring must not be
 * live in between (the owner's rings_changed and the workers touch live
 * rings before the caller gets to detach).
 */
static void test_started_ring_moved_out(void **state)
{
	static const struct {
		const char *name;
		uint64_t desc;
		const char *why;
	} cases[] = {
		{ "desc outside memory", UADDR + 2 * MEM_SIZE, "outside guest memory" },
		{ "desc misaligned", RING(1) + 8, "alignment" },
		{ "desc straddles the end", UADDR + MEM_SIZE - 0x800, "not inside guest memory" },
	};
	struct fx *f = *state;
	int bad = 0;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct vhost_user_vring_addr a = { .index = 1, .desc_uaddr = cases[k].desc,
						   .avail_uaddr = RING(1) + 0x1000, .used_uaddr = RING(1) + 0x2000 };

		current_case = cases[k].name;
		fx_reconnect(f);
		if (f->mem)
			munmap(f->mem, MEM_SIZE);
		f->mem = NULL;
		session_live(f, full_features());
		expect_broken(f, xfer(f, VHOST_USER_SET_VRING_ADDR, V, &a, sizeof(a), NULL, 0), cases[k].why);
		if (atomic_load(&f->d.vrings[1].live)) {
			print_error("started ring: %s: vring 1 still live after the session broke\n", cases[k].name);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* REM_MEM_REG of the region holding live rings while another region stays: the rings must go off. */
static void test_rem_ring_region_keeps_other(void **state)
{
	struct fx *f = *state;
	struct vhost_user_mem_single other = { .region = { GPA + 0x100000, MEM_SIZE, UADDR + 0x100000, 0 } };
	struct vhost_user_mem_single ring_reg = { .region = { GPA, MEM_SIZE, UADDR, 0 } };
	int fd = new_memfd(MEM_SIZE), rc;

	session_live(f, full_features());
	assert_int_equal(xfer(f, VHOST_USER_ADD_MEM_REG, V, &other, sizeof(other), &fd, 1), 0);
	close(fd);
	rc = xfer(f, VHOST_USER_REM_MEM_REG, V, &ring_reg, sizeof(ring_reg), NULL, 0);
	/* Either refused, or accepted with the rings off the data path; never live on unmapped memory. */
	assert_true(rc == 0 || rc == -EPROTO);
	assert_false(atomic_load(&f->d.vrings[0].live) || atomic_load(&f->d.vrings[1].live));
}

/* ---- the dirty log: SET_LOG_BASE, LOG_ALL ---- */

/* SET_LOG_BASE (mmap size and offset, memfd): mapped, replied 0; the log length is checked against memory. */
static int log_base(struct fx *f, uint64_t size, uint64_t offset, uint64_t file_size)
{
	struct vhost_user_log l = { .mmap_size = size, .mmap_offset = offset };
	int fd = new_memfd(file_size), rc;

	rc = xfer(f, VHOST_USER_SET_LOG_BASE, V, &l, sizeof(l), &fd, 1);
	close(fd);
	return rc;
}

/* Is guest physical @gpa's page marked in the log the device maps (the test reads it through the device)? */
static bool log_dirty(const struct fx *f, uint64_t gpa)
{
	uint64_t p = gpa >> 12;

	return f->d.log.bits[p / 8] >> (p % 8) & 1;
}

/*
 * QEMU's migration sequence (vhost_dev_set_log): SET_LOG_BASE, SET_FEATURES
 * with LOG_ALL, SET_VRING_ADDR with VHOST_VRING_F_LOG; and back.  Writes
 * are logged only in between; the used ring's at log_guest_addr.
 */
static void test_dirty_log_session(void **state)
{
	struct fx *f = *state;
	struct vhost_user_vring_addr a = {
		.index = 0, .flags = 1u << VHOST_VRING_F_LOG, .desc_uaddr = RING(0), .avail_uaddr = RING(0) + 0x1000,
		.used_uaddr = RING(0) + 0x2000, .log_gaddr = GPA + 0xe000, /* a page no ring uses */
	};
	uint64_t used_gpa = GPA + 0x2000;
	int maps;

	session_live(f, full_features());
	maps = count_maps();
	/* A log too small for guest memory is fine until logging starts. */
	assert_int_equal(log_base(f, 1, 0, 4096), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_LOG_BASE), 0);
	/* 34 bytes cover 0x110000 bytes of guest physical space; QEMU's log sits at offset 0, ours at 64. */
	assert_int_equal(log_base(f, 34, 64, 4096), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_LOG_BASE), 0);
	assert_int_equal(count_maps(), maps + 1); /* the first log was unmapped */
	assert_int_equal(f->d.log.size_bytes, 34);

	/* Mapped but LOG_ALL not negotiated: nothing is logged. */
	assert_null(vq_logging(&f->d.vrings[0].vq));
	assert_false(vq_kick_enable(&f->d.vrings[0].vq)); /* writes avail_event into the used ring */
	for (unsigned i = 0; i < 34; i++)
		assert_int_equal(f->d.log.bits[i], 0);

	ok_u64(f, VHOST_USER_SET_FEATURES, full_features() | F_LOG_ALL);
	assert_true(vu_dev_logging(&f->d));
	assert_non_null(vq_logging(&f->d.vrings[0].vq));
	assert_false(vq_kick_enable(&f->d.vrings[0].vq));
	assert_true(log_dirty(f, used_gpa)); /* no VHOST_VRING_F_LOG yet: the used ring's own address */
	memset(f->d.log.bits, 0, 34);
	assert_int_equal(xfer(f, VHOST_USER_SET_VRING_ADDR, ACK, &a, sizeof(a), NULL, 0), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_VRING_ADDR), 0);
	assert_true(atomic_load(&f->d.vrings[0].live));
	assert_false(vq_kick_enable(&f->d.vrings[0].vq));
	assert_true(log_dirty(f, GPA + 0xe000));
	assert_false(log_dirty(f, used_gpa));

	/* While logging, a log that no longer covers memory is refused. */
	assert_int_equal(log_base(f, 1, 0, 4096), -EPROTO);
	assert_non_null(strstr(f->d.error, "guest memory needs 34"));
	expect_no_reply(f);
	f->d.error[0] = '\0';

	/* Migration over (or cancelled): LOG_ALL cleared, nothing logged any more. */
	ok_u64(f, VHOST_USER_SET_FEATURES, full_features());
	assert_null(vq_logging(&f->d.vrings[0].vq));
	memset(f->d.log.bits, 0, 34);
	assert_false(vq_kick_enable(&f->d.vrings[0].vq));
	for (unsigned i = 0; i < 34; i++)
		assert_int_equal(f->d.log.bits[i], 0);
	/* The teardown checks the log's mapping goes with the session. */
}

/* LOG_ALL with a log that does not reach the end of guest memory is refused (pages would go uncopied). */
static void test_log_all_log_too_small(void **state)
{
	struct fx *f = *state;
	uint64_t feat = full_features() | F_LOG_ALL;

	session_live(f, full_features());
	assert_int_equal(log_base(f, 33, 0, 4096), 0);
	assert_int_equal(expect_u64_reply(f, VHOST_USER_SET_LOG_BASE), 0);
	expect_broken(f, xfer(f, VHOST_USER_SET_FEATURES, V, &feat, sizeof(feat), NULL, 0), "guest memory needs 34");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_add_rem_mem_reg),
		T(test_rem_mem_reg_unknown),
		T(test_add_mem_reg_overlap),
		T(test_add_mem_reg_per_queue_pair),
		T(test_bad_table_replaces_good),
		T(test_table_moves_away_from_rings),
		T(test_ring_outside_memory),
		T(test_started_ring_moved_out),
		T(test_rem_ring_region_keeps_other),
		T(test_odd_mmap_offset),
		T(test_dirty_log_session),
		T(test_log_all_log_too_small),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
