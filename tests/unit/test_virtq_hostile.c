/* test_virtq_hostile.c - the device side of both ring layouts against a driver that lies. */

/*
 * Every test lays its rings out by hand (tests/lib/raw_ring.h), so it can
 * write what no honest driver would: loops, indices past the queue size,
 * nested indirect tables, lengths near 4 GiB, addresses in holes.  The
 * device side must answer each with an error, latch the queue broken (a
 * reason in vq_error(), -EIO from every later vq_pop()) and never hand out
 * an iovec outside guest memory.  A few valid chains sit among them so the
 * file fails against an implementation that rejects everything.
 *
 * Exact error codes are asserted where include/vsw/virtq.h promises them
 * (-EAGAIN, -EIO, -E2BIG, -EINVAL for a bad size); a violation must return
 * some other negative errno, whichever the implementation picks (not
 * -E2BIG either: every test chain fits IOV_CAP iovecs, so running out of
 * them means the walk did not stop where it should have).
 *
 * A driver rewriting a chain while it is read is test_virtq_race.c's.
 * Set VSW_TEST_VERBOSE=1 to print each vq_error().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vsw/guest_mem.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"

#include "virtq_hostile.h"

/* One descriptor as a test writes it; @next is ignored for packed layouts. */
struct dsc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* ---- helpers ---------------------------------------------------------- */

/* Lay out an empty ring of @num and vq_init() the device over it (must succeed). */
static void ring_up_num(struct fx *f, bool packed, bool indirect, unsigned num)
{
	struct vq_config cfg;

	rr_ring_init(&f->r, &f->mem, num, packed);
	cfg = rr_ring_config(&f->r, indirect);
	assert_int_equal(vq_init(&f->q, &cfg), 0);
	assert_false(vq_broken(&f->q));
}

/* Packed vq_set_base() value: avail and used sides both at @pos in round @wrap. */
static uint32_t packed_base(unsigned pos, bool wrap)
{
	uint32_t half = pos | (wrap ? 0x8000u : 0);

	return half | half << 16;
}

static void ring_up(struct fx *f, bool packed, bool indirect)
{
	ring_up_num(f, packed, indirect, NUM);
}

/*
 * Write @n descriptors as one chain and make it available.  Split: d[i] at
 * table index i, head 0.  Packed: d[i] at ring position i in driver round 1,
 * buffer @id in the last one, the head's flags written last.
 */
static void post(struct fx *f, const struct dsc *d, unsigned n, uint16_t id)
{
	unsigned i;

	if (!f->r.packed) {
		for (i = 0; i < n; i++)
			rr_split_desc(&f->r, i, d[i].addr, d[i].len, d[i].flags, d[i].next);
		rr_split_avail(&f->r, 0);
		return;
	}
	for (i = n; i-- > 0;)
		rr_packed_desc(&f->r, i, d[i].addr, d[i].len, i == n - 1 ? id : 0,
			       d[i].flags, true);
}

/*
 * Write @n entries of an indirect table at @gpa in the ring's layout.  For
 * packed, NEXT is dropped (entries are sequential there), so a test that
 * shares one table between layouts breaks the packed queue for its own
 * reason and not for a reserved flag.
 */
static void table(struct fx *f, uint64_t gpa, const struct dsc *d, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (f->r.packed)
			rr_packed_table(&f->mem, gpa, i, d[i].addr, d[i].len,
					(uint16_t)(d[i].flags & ~F_NEXT));
		else
			rr_split_table(&f->mem, gpa, i, d[i].addr, d[i].len, d[i].flags,
				       d[i].next);
	}
}

static void assert_elem_sane(struct fx *f, unsigned cap)
{
	const char *why = rr_elem_problem(&f->mem, &f->e, f->iov, cap);

	if (why)
		fail_msg("popped element: %s", why);
}

/* iov[@i] must be exactly guest [@gpa, @gpa + @len). */
static void assert_iov(struct fx *f, unsigned i, uint64_t gpa, uint64_t len)
{
	assert_ptr_equal(f->iov[i].iov_base, rr_hva_any(&f->mem, gpa));
	assert_int_equal(f->iov[i].iov_len, len);
}

static void assert_counts(struct fx *f, unsigned out_num, unsigned in_num,
			  uint32_t out_len, uint32_t in_len)
{
	assert_int_equal(f->e.out_num, out_num);
	assert_int_equal(f->e.in_num, in_num);
	assert_int_equal(f->e.out_len, out_len);
	assert_int_equal(f->e.in_len, in_len);
	assert_elem_sane(f, IOV_CAP);
}

/*
 * The next pop must be a fresh violation: a negative errno other than
 * -EAGAIN / -EIO, the queue broken with a reason, every later pop -EIO and
 * nothing available.  @what names the case in failure output.
 */
static void expect_violation(struct fx *f, const char *what)
{
	int rc = pop(f);

	/* IOV_CAP holds any valid chain here, so -E2BIG would hide the real fault. */
	if (rc >= 0 || rc == -EAGAIN || rc == -EIO || rc == -E2BIG)
		fail_msg("%s: vq_pop returned %d, want a fresh violation", what, rc);
	if (!vq_broken(&f->q))
		fail_msg("%s: vq_pop returned %d but the queue is not broken", what, rc);
	if (!vq_error(&f->q) || !vq_error(&f->q)[0])
		fail_msg("%s: broken without a reason", what);
	if (verbose)
		print_message("  %-44s %4d %s\n", what, rc, vq_error(&f->q));
	assert_int_equal(pop(f), -EIO);
	assert_int_equal(pop(f), -EIO);
	assert_false(vq_has_avail(&f->q));
	assert_true(vq_broken(&f->q));
}

/*
 * Split: write a valid descriptor at table index @i even past the queue
 * size (the memory after the table is mapped), so that an index check
 * missing in the device shows up as a successful pop, not a fault caught
 * by a later check.
 */
static void plant_split_desc(struct fx *f, unsigned i)
{
	const struct virtq_desc d = { .addr = BUF(9), .len = 16 };

	rr_write(&f->mem, f->r.desc_gpa + 16ull * i, &d, sizeof(d));
}

/* Fresh ring, post @n descriptors as one chain, expect a violation. */
static void chain_violation(struct fx *f, bool packed, bool indirect,
			    const struct dsc *d, unsigned n, const char *what)
{
	ring_up(f, packed, indirect);
	post(f, d, n, 1);
	expect_violation(f, what);
}

/* Fresh ring with indirect, table @t of @tn entries at TABLE(0), @d as the chain. */
static void table_violation(struct fx *f, bool packed, const struct dsc *t, unsigned tn,
			    const struct dsc *d, unsigned n, const char *what)
{
	ring_up(f, packed, true);
	table(f, RR_TABLE_GPA(0), t, tn);
	post(f, d, n, 1);
	expect_violation(f, what);
}

/* ---- valid chains ----------------------------------------------------- */

/* A valid split direct chain and a single-descriptor one pop, push and publish correctly. */
static void test_split_valid_direct(void **state)
{
	struct fx *f = *state;
	struct vq_elem e0, e1;

	ring_up(f, false, false);
	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));
	assert_false(vq_has_avail(&f->q));

	rr_split_desc(&f->r, 0, BUF(0), 64, F_NEXT, 5);
	rr_split_desc(&f->r, 5, BUF(1), 100, F_NEXT, 2);
	rr_split_desc(&f->r, 2, BUF(2), 200, F_WRITE, 0);
	rr_split_desc(&f->r, 7, BUF(3), 300, F_WRITE, 0);
	rr_split_avail(&f->r, 0);
	rr_split_avail(&f->r, 7);
	assert_true(vq_has_avail(&f->q));

	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 0);
	assert_counts(f, 2, 1, 164, 200);
	assert_iov(f, 0, BUF(0), 64);
	assert_iov(f, 1, BUF(1), 100);
	assert_iov(f, 2, BUF(2), 200);
	e0 = f->e;

	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 7);
	assert_counts(f, 0, 1, 0, 300);
	assert_iov(f, 0, BUF(3), 300);
	e1 = f->e;		/* a failed pop may scribble on f->e */

	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));

	vq_push(&f->q, &e0, 1000);	/* clamped to in_len */
	vq_push(&f->q, &e1, 7);
	assert_int_equal(__atomic_load_n(&f->r.used->idx, __ATOMIC_ACQUIRE), 0);
	vq_flush(&f->q);
	assert_int_equal(__atomic_load_n(&f->r.used->idx, __ATOMIC_ACQUIRE), 2);
	assert_int_equal(f->r.used->ring[0].id, 0);
	assert_int_equal(f->r.used->ring[0].len, 200);
	assert_int_equal(f->r.used->ring[1].id, 7);
	assert_int_equal(f->r.used->ring[1].len, 7);
}

/* A valid packed direct chain and a single one pop with the last descriptor's id and publish. */
static void test_packed_valid_direct(void **state)
{
	struct fx *f = *state;
	struct vq_elem e0, e1;

	ring_up(f, true, false);
	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));

	/* Buffer id lives in the last descriptor; the others carry junk ids. */
	rr_packed_desc(&f->r, 2, BUF(2), 200, 5, F_WRITE, true);
	rr_packed_desc(&f->r, 1, BUF(1), 100, 0x1234, F_NEXT, true);
	rr_packed_desc(&f->r, 0, BUF(0), 64, 0x4321, F_NEXT, true);
	rr_packed_desc(&f->r, 3, BUF(3), 300, 1, F_WRITE, true);
	assert_true(vq_has_avail(&f->q));

	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 5);
	assert_int_equal(f->e.ndesc, 3);
	assert_counts(f, 2, 1, 164, 200);
	assert_iov(f, 0, BUF(0), 64);
	assert_iov(f, 1, BUF(1), 100);
	assert_iov(f, 2, BUF(2), 200);
	e0 = f->e;

	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 1);
	assert_int_equal(f->e.ndesc, 1);
	assert_counts(f, 0, 1, 0, 300);
	e1 = f->e;

	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));

	vq_push(&f->q, &e0, 1000);
	vq_push(&f->q, &e1, 7);
	vq_flush(&f->q);
	/* Used descriptors go where the chains' heads were, with AVAIL = USED = wrap. */
	assert_int_equal(f->r.pdesc[0].id, 5);
	assert_int_equal(f->r.pdesc[0].len, 200);
	assert_int_equal(f->r.pdesc[0].flags & (F_AVAIL | F_USED), F_AVAIL | F_USED);
	assert_int_equal(f->r.pdesc[3].id, 1);
	assert_int_equal(f->r.pdesc[3].len, 7);
	assert_int_equal(f->r.pdesc[3].flags & (F_AVAIL | F_USED), F_AVAIL | F_USED);
}

/* A split indirect table chained by next, in any order, pops as one element. */
static void test_split_valid_indirect(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = {
		{ BUF(0), 64, F_NEXT, 2 },
		{ BUF(2), 256, F_WRITE, 0 },
		{ BUF(1), 128, F_NEXT | F_WRITE, 1 },
	};
	const struct dsc d[] = { { TBL(0), sizeof(t), F_INDIRECT, 0 } };

	ring_up(f, false, true);
	table(f, TBL(0), t, 3);
	post(f, d, 1, 0);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 0);
	assert_counts(f, 1, 2, 64, 384);
	assert_iov(f, 0, BUF(0), 64);
	assert_iov(f, 1, BUF(1), 128);
	assert_iov(f, 2, BUF(2), 256);
	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));
}

/* 2.7.5.3.2: the device MUST handle direct descriptors followed by one indirect one. */
static void test_split_direct_then_indirect(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = {
		{ BUF(2), 32, F_NEXT, 1 },
		{ BUF(3), 48, F_WRITE, 0 },
	};
	const struct dsc d[] = {
		{ BUF(0), 16, F_NEXT, 1 },
		{ BUF(1), 24, F_NEXT, 2 },
		{ TBL(0), sizeof(t), F_INDIRECT, 0 },
	};

	ring_up(f, false, true);
	table(f, TBL(0), t, 2);
	post(f, d, 3, 0);
	assert_int_equal(pop(f), 0);
	assert_counts(f, 3, 1, 72, 48);
	assert_iov(f, 0, BUF(0), 16);
	assert_iov(f, 1, BUF(1), 24);
	assert_iov(f, 2, BUF(2), 32);
	assert_iov(f, 3, BUF(3), 48);
}

/* 2.7.5.3.2: the WRITE flag on the descriptor naming an indirect table MUST be ignored. */
static void test_split_indirect_ignores_write_flag(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = {
		{ BUF(0), 32, F_NEXT, 1 },
		{ BUF(1), 48, F_WRITE, 0 },
	};
	const struct dsc d[] = { { TBL(0), sizeof(t), F_INDIRECT | F_WRITE, 0 } };

	ring_up(f, false, true);
	table(f, TBL(0), t, 2);
	post(f, d, 1, 0);
	assert_int_equal(pop(f), 0);
	assert_counts(f, 1, 1, 32, 48);
}

/* A packed indirect table is read sequentially; the buffer id comes from the ring descriptor. */
static void test_packed_valid_indirect(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = {
		{ BUF(0), 64, 0, 0 },
		{ BUF(1), 128, F_WRITE, 0 },
		{ BUF(2), 256, F_WRITE, 0 },
	};
	const struct dsc d[] = { { TBL(0), sizeof(t), F_INDIRECT, 0 } };

	ring_up(f, true, true);
	table(f, TBL(0), t, 3);
	post(f, d, 1, 9);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 9);
	assert_int_equal(f->e.ndesc, 1);
	assert_counts(f, 1, 2, 64, 384);
	assert_iov(f, 0, BUF(0), 64);
	assert_iov(f, 1, BUF(1), 128);
	assert_iov(f, 2, BUF(2), 256);
	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));
}

/*
 * DPDK's virtio PMD transmits frames of one to seven segments through an
 * indirect table whose header entry it leaves marked device-writable
 * (vring_desc_init_indirect_packed() marks every entry so; the transmit
 * path writes the flags of the data entries only, and not of the one
 * whose table index equals the ring slot's).  On a queue the device
 * only reads (a transmitq) that is read as device-readable and said
 * (vq_writable_read()); on any other queue it still breaks the queue
 * (test_readable_after_writable), and so does a direct descriptor.
 */
static void test_packed_transmit_table_marked_writable(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = {
		{ BUF(0), 12, F_WRITE, 0 },	/* the virtio-net header */
		{ BUF(1), 1448, 0x80 | F_NEXT, 0 }, /* DPDK's data entries: the ring's AVAIL bit and NEXT, ignored */
		{ BUF(2), 600, F_WRITE, 0 },	/* the entry whose index is the ring slot's keeps its WRITE too */
	};
	const struct dsc d[] = { { TBL(0), sizeof(t), F_INDIRECT, 0 } };
	const struct dsc direct[] = {
		{ BUF(0), 12, F_NEXT | F_WRITE, 1 },
		{ BUF(1), 64, 0, 0 },
	};
	struct vq_config cfg;

	rr_ring_init(&f->r, &f->mem, NUM, true);
	cfg = rr_ring_config(&f->r, true);
	cfg.device_reads = true;
	assert_int_equal(vq_init(&f->q, &cfg), 0);
	assert_false(vq_writable_read(&f->q));
	rr_packed_table(&f->mem, TBL(0), 0, t[0].addr, t[0].len, t[0].flags);
	rr_packed_table(&f->mem, TBL(0), 1, t[1].addr, t[1].len, t[1].flags);
	rr_packed_table(&f->mem, TBL(0), 2, t[2].addr, t[2].len, t[2].flags);
	post(f, d, 1, 4);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 4);
	assert_counts(f, 3, 0, 12 + 1448 + 600, 0);
	assert_iov(f, 0, BUF(0), 12);
	assert_iov(f, 1, BUF(1), 1448);
	assert_iov(f, 2, BUF(2), 600);
	assert_true(vq_writable_read(&f->q));
	assert_false(vq_broken(&f->q));

	/* A direct chain so on the same kind of queue: broken, as before. */
	rr_ring_init(&f->r, &f->mem, NUM, true);
	cfg = rr_ring_config(&f->r, true);
	cfg.device_reads = true;
	assert_int_equal(vq_init(&f->q, &cfg), 0);
	post(f, direct, 2, 1);
	assert_int_equal(pop(f), -EINVAL);
	assert_true(vq_broken(&f->q));
	assert_false(vq_writable_read(&f->q));
}

/* In a packed indirect table NEXT is ignored: the table length alone gives the entries. */
static void test_packed_indirect_ignores_next(void **state)
{
	struct fx *f = *state;
	const struct dsc d[] = { { TBL(0), 48, F_INDIRECT, 0 } };

	ring_up(f, true, true);
	rr_packed_table(&f->mem, TBL(0), 0, BUF(0), 64, F_NEXT);
	rr_packed_table(&f->mem, TBL(0), 1, BUF(1), 128, F_NEXT | F_WRITE);
	rr_packed_table(&f->mem, TBL(0), 2, BUF(2), 256, F_WRITE);
	post(f, d, 1, 2);
	assert_int_equal(pop(f), 0);
	assert_counts(f, 1, 2, 64, 384);
}

/*
 * An indirect table needs no alignment and may straddle gpa-adjacent
 * regions like any buffer: both are read entry by entry, correctly.
 */
static void indirect_table_odd_places(struct fx *f, bool packed)
{
	static const uint64_t where[] = { RR_TABLE_GPA(0) + 4, RR_R1_GPA - 24 };
	const struct dsc t[] = {
		{ BUF(0), 64, F_NEXT, 1 },
		{ BUF(1), 128, F_NEXT | F_WRITE, 2 },
		{ BUF(2), 256, F_WRITE, 0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		const struct dsc d[] = { { where[i], sizeof(t), F_INDIRECT, 0 } };

		ring_up(f, packed, true);
		table(f, where[i], t, 3);
		post(f, d, 1, 6);
		assert_int_equal(pop(f), 0);
		assert_counts(f, 1, 2, 64, 384);
		assert_iov(f, 0, BUF(0), 64);
		assert_iov(f, 1, BUF(1), 128);
		assert_iov(f, 2, BUF(2), 256);
	}
}

/* Split: an indirect table at a 4-byte aligned address or across R0/R1 is read correctly. */
static void test_split_indirect_table_unaligned_or_straddling(void **state)
{
	indirect_table_odd_places(*state, false);
}

/* Packed: an indirect table at a 4-byte aligned address or across R0/R1 is read correctly. */
static void test_packed_indirect_table_unaligned_or_straddling(void **state)
{
	indirect_table_odd_places(*state, true);
}

/* A buffer straddling two gpa-adjacent regions (host non-adjacent) pops as 2 iovecs. */
static void straddle_regions(struct fx *f, bool packed)
{
	const struct dsc d[] = {
		{ RR_R1_GPA - 0x800, 0x1000, F_NEXT, 1 },
		{ RR_R1_GPA - 0x10, 0x20, F_WRITE, 0 },
	};

	ring_up(f, packed, false);
	post(f, d, 2, 0);
	assert_int_equal(pop(f), 0);
	assert_counts(f, 2, 2, 0x1000, 0x20);
	assert_ptr_equal(f->iov[0].iov_base, f->mem.r0 + RR_R0_SIZE - 0x800);
	assert_int_equal(f->iov[0].iov_len, 0x800);
	assert_ptr_equal(f->iov[1].iov_base, f->mem.r1);
	assert_int_equal(f->iov[1].iov_len, 0x800);
	assert_ptr_equal(f->iov[2].iov_base, f->mem.r0 + RR_R0_SIZE - 0x10);
	assert_int_equal(f->iov[2].iov_len, 0x10);
	assert_ptr_equal(f->iov[3].iov_base, f->mem.r1);
	assert_int_equal(f->iov[3].iov_len, 0x10);
}

/* Split: a buffer across two gpa-adjacent regions is valid and needs 2 iovecs. */
static void test_split_straddle_adjacent_regions(void **state)
{
	straddle_regions(*state, false);
}

/* Packed: a buffer across two gpa-adjacent regions is valid and needs 2 iovecs. */
static void test_packed_straddle_adjacent_regions(void **state)
{
	straddle_regions(*state, true);
}

/*
 * Lone descriptors, each its own chain, all made available before the
 * first pop: every pop but the split ring's first (which reads avail->idx)
 * goes through vq_pop()'s inline path first (vsw/virtq_inline.h), which
 * takes a lone buffer in the region of the last translation and leaves
 * everything else to the slow path.  In turn: a buffer in R0 (taken
 * inline after the first), one in R1 (the inline path's region is R0:
 * left to the slow path, which moves the hint), R1 again (inline), one
 * across R0/R1 (two iovecs, slow path), one in R0, then one of length 0
 * in R0, which must break the queue although its region is the last
 * one's (the inline path must leave it to the slow one).
 */
static void lone_descriptors(struct fx *f, bool packed)
{
	const struct dsc d[] = {
		{ BUF(0), 64, 0, 0 },
		{ BUF(1), 96, F_WRITE, 0 },
		{ RR_R1_GPA + 0x100, 128, F_WRITE, 0 },
		{ RR_R1_GPA + 0x400, 32, 0, 0 },
		{ RR_R1_GPA - 0x10, 0x20, F_WRITE, 0 },
		{ BUF(3), 16, 0, 0 },
		{ BUF(2), 0, F_WRITE, 0 },
	};
	const unsigned n = sizeof(d) / sizeof(d[0]);

	ring_up(f, packed, false);
	for (unsigned i = 0; i < n; i++) {
		if (packed) {
			rr_packed_desc(&f->r, i, d[i].addr, d[i].len, (uint16_t)(100 + i), d[i].flags, true);
		} else {
			rr_split_desc(&f->r, i, d[i].addr, d[i].len, d[i].flags, 0);
			rr_split_avail(&f->r, (uint16_t)i);
		}
	}
	for (unsigned i = 0; i + 1 < n; i++) {
		bool w = d[i].flags & F_WRITE;

		assert_int_equal(pop(f), 0);
		assert_int_equal(f->e.id, packed ? 100 + i : i);
		assert_int_equal(f->e.ndesc, 1);
		if (d[i].addr == RR_R1_GPA - 0x10) {
			assert_counts(f, 0, 2, 0, 0x20);
			assert_ptr_equal(f->iov[0].iov_base, f->mem.r0 + RR_R0_SIZE - 0x10);
			assert_int_equal(f->iov[0].iov_len, 0x10);
			assert_ptr_equal(f->iov[1].iov_base, f->mem.r1);
			assert_int_equal(f->iov[1].iov_len, 0x10);
			continue;
		}
		assert_counts(f, !w, w, w ? 0 : d[i].len, w ? d[i].len : 0);
		assert_iov(f, 0, d[i].addr, d[i].len);
	}
	expect_violation(f, "lone zero-length descriptor after lone ones");
}

/* Split: lone descriptors in one region, another, across both, and of length 0 pop as the chain walk would. */
static void test_split_lone_descriptors(void **state)
{
	lone_descriptors(*state, false);
}

/* Packed: the same. */
static void test_packed_lone_descriptors(void **state)
{
	lone_descriptors(*state, true);
}

/* A single descriptor of 0xFFFFFFFF bytes inside memory is valid (the u32 maximum). */
static void max_len_inside(struct fx *f, bool packed)
{
	const struct dsc d[] = { { RR_HUGE_GPA + 0x1000, 0xFFFFFFFFu, F_WRITE, 0 } };

	assert_non_null(f->mem.huge);	/* rr_mem_init(.., true) fails when it cannot be had */
	ring_up(f, packed, false);
	post(f, d, 1, 0);
	assert_int_equal(pop(f), 0);
	assert_counts(f, 0, 1, 0, 0xFFFFFFFFu);
	assert_iov(f, 0, RR_HUGE_GPA + 0x1000, 0xFFFFFFFFu);
}

/* Split: one 4 GiB - 1 descriptor inside a region pops. */
static void test_split_max_len_inside_memory(void **state)
{
	max_len_inside(*state, false);
}

/* Packed: one 4 GiB - 1 descriptor inside a region pops. */
static void test_packed_max_len_inside_memory(void **state)
{
	max_len_inside(*state, true);
}

/* Split: avail->idx exactly num ahead is legal, and ring slots wrap with a 16-bit index. */
static void test_split_avail_full_and_wrap(void **state)
{
	struct fx *f = *state;
	unsigned i;

	ring_up(f, false, false);
	for (i = 0; i < NUM; i++) {
		rr_split_desc(&f->r, i, BUF(i), 16 + i, 0, 0);
		rr_split_avail(&f->r, (uint16_t)(NUM - 1 - i));
	}
	for (i = 0; i < NUM; i++) {
		assert_int_equal(pop(f), 0);
		assert_int_equal(f->e.id, NUM - 1 - i);
		assert_counts(f, 1, 0, 16 + NUM - 1 - i, 0);
	}
	assert_int_equal(pop(f), -EAGAIN);

	/* Resume just below the 16-bit wrap: slots 7 and 0 hold the next heads. */
	ring_up(f, false, false);
	vq_set_base(&f->q, 0xFFFF);
	assert_int_equal(vq_get_base(&f->q), 0xFFFF);
	rr_split_desc(&f->r, 3, BUF(3), 33, 0, 0);
	rr_split_desc(&f->r, 4, BUF(4), 44, F_WRITE, 0);
	rr_split_set_slot(&f->r, 0xFFFF % NUM, 3);
	rr_split_set_slot(&f->r, 0, 4);
	rr_split_set_idx(&f->r, 1);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 3);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 4);
	assert_int_equal(pop(f), -EAGAIN);
	assert_int_equal(vq_get_base(&f->q), 1);
	assert_false(vq_broken(&f->q));
}

/* Packed: a chain that runs past the ring end continues in the next driver round. */
static void test_packed_chain_across_ring_end(void **state)
{
	struct fx *f = *state;

	ring_up(f, true, false);
	vq_set_base(&f->q, packed_base(6, true));
	rr_packed_desc(&f->r, 0, BUF(2), 30, 3, F_WRITE, false);
	rr_packed_desc(&f->r, 7, BUF(1), 20, 0, F_NEXT, true);
	rr_packed_desc(&f->r, 6, BUF(0), 10, 0, F_NEXT, true);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->e.id, 3);
	assert_int_equal(f->e.ndesc, 3);
	assert_counts(f, 2, 1, 30, 30);
	assert_iov(f, 2, BUF(2), 30);
	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));
}

/* ---- loops and indices ------------------------------------------------ */

/* Split: a chain looping 0 -> 1 -> 0 (and 0 -> 0) breaks the queue. */
static void test_split_loop(void **state)
{
	struct fx *f = *state;
	const struct dsc two[] = { { BUF(0), 16, F_NEXT, 1 }, { BUF(1), 16, F_NEXT, 0 } };
	const struct dsc self[] = { { BUF(0), 16, F_NEXT, 0 } };
	const struct dsc tail[] = {	/* a loop entered after two good hops */
		{ BUF(0), 16, F_NEXT, 1 }, { BUF(1), 16, F_NEXT, 2 },
		{ BUF(2), 16, F_NEXT | F_WRITE, 3 }, { BUF(3), 16, F_NEXT | F_WRITE, 2 },
	};

	chain_violation(f, false, false, two, 2, "split loop 0->1->0");
	chain_violation(f, false, false, self, 1, "split loop 0->0");
	chain_violation(f, false, false, tail, 4, "split loop 2->3->2");
}

/* Packed: NEXT on every descriptor of the ring is a chain longer than the queue. */
static void test_packed_chain_longer_than_ring(void **state)
{
	struct fx *f = *state;
	struct dsc d[NUM];
	unsigned i;

	for (i = 0; i < NUM; i++)
		d[i] = (struct dsc){ BUF(i), 16, F_NEXT, 0 };
	chain_violation(f, true, false, d, NUM, "packed NEXT on every descriptor");
}

/* Split: next >= num breaks the queue. */
static void test_split_next_out_of_range(void **state)
{
	struct fx *f = *state;
	const struct dsc a[] = { { BUF(0), 16, F_NEXT, NUM } };
	const struct dsc b[] = { { BUF(0), 16, F_NEXT, 1 }, { BUF(1), 16, F_NEXT, 0xFFFF } };

	ring_up(f, false, false);
	plant_split_desc(f, NUM);
	post(f, a, 1, 0);
	expect_violation(f, "split next == num");

	ring_up(f, false, false);
	plant_split_desc(f, 0xFFFF);
	post(f, b, 2, 0);
	expect_violation(f, "split next == 0xffff");
}

/* Split: a loop or an out-of-range next inside an indirect table breaks the queue. */
static void test_split_indirect_loop_and_next(void **state)
{
	struct fx *f = *state;
	const struct dsc loop[] = { { BUF(0), 16, F_NEXT, 1 }, { BUF(1), 16, F_NEXT, 0 } };
	const struct dsc oob[] = { { BUF(0), 16, F_NEXT, 1 }, { BUF(1), 16, F_NEXT, 2 } };
	const struct dsc d[] = { { TBL(0), 32, F_INDIRECT, 0 } };

	table_violation(f, false, loop, 2, d, 1, "split indirect loop");

	/* A valid entry 2 right after the 2-entry table: only the bound stops the walk. */
	ring_up(f, false, true);
	table(f, TBL(0), oob, 2);
	rr_split_table(&f->mem, TBL(0), 2, BUF(9), 16, 0, 0);
	post(f, d, 1, 0);
	expect_violation(f, "split indirect next == entries");
}

/* Split: avail->idx more than num ahead of the last popped (or behind it) breaks the queue. */
static void test_split_avail_idx_jump(void **state)
{
	struct fx *f = *state;
	unsigned i;

	ring_up(f, false, false);
	for (i = 0; i < NUM; i++)
		rr_split_desc(&f->r, i, BUF(i), 16, 0, 0);
	rr_split_avail(&f->r, 0);
	assert_int_equal(pop(f), 0);		/* one honest buffer first */
	for (i = 0; i < NUM; i++)
		rr_split_set_slot(&f->r, i, (uint16_t)i);
	rr_split_set_idx(&f->r, (uint16_t)(1 + NUM + 1));
	expect_violation(f, "split avail idx num+1 ahead");

	ring_up(f, false, false);
	for (i = 0; i < NUM; i++) {
		rr_split_desc(&f->r, i, BUF(i), 16, 0, 0);
		rr_split_set_slot(&f->r, i, (uint16_t)i);
	}
	vq_set_base(&f->q, 0xFFF0);
	rr_split_set_idx(&f->r, (uint16_t)(0xFFF0 + NUM + 1));
	expect_violation(f, "split avail idx num+1 ahead across wrap");

	ring_up(f, false, false);
	for (i = 0; i < NUM; i++) {
		rr_split_desc(&f->r, i, BUF(i), 16, 0, 0);
		rr_split_set_slot(&f->r, i, (uint16_t)i);
	}
	vq_set_base(&f->q, 5);
	rr_split_set_idx(&f->r, 3);
	expect_violation(f, "split avail idx moved backwards");
}

/* Split: a head index >= num in the available ring breaks the queue. */
static void test_split_head_out_of_range(void **state)
{
	struct fx *f = *state;
	static const uint16_t heads[] = { NUM, NUM + 1, 0xFFFF };
	unsigned i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		ring_up(f, false, false);
		rr_split_desc(&f->r, 0, BUF(0), 16, 0, 0);
		plant_split_desc(f, heads[i]);
		rr_split_avail(&f->r, heads[i]);
		expect_violation(f, "split head >= num");
	}
}

/*
 * vq_prefetch() reads the rings but acts on nothing it reads: a bad index or
 * head leaves the queue working until vq_pop() refuses it, and on an honest
 * ring the hint (asking for more than is there) changes nothing popped.
 */
static void test_prefetch_is_only_a_hint(void **state)
{
	struct fx *f = *state;
	unsigned i;

	ring_up(f, false, false);
	rr_split_desc(&f->r, 0, BUF(0), 16, 0, 0);
	plant_split_desc(f, 0xFFFF);
	rr_split_avail(&f->r, 0xFFFF);
	vq_prefetch(&f->q, 32);
	assert_false(vq_broken(&f->q));
	expect_violation(f, "split head >= num after a prefetch");

	ring_up(f, false, false);
	for (i = 0; i < NUM; i++) {
		rr_split_desc(&f->r, i, BUF(i), 16, 0, 0);
		rr_split_set_slot(&f->r, i, (uint16_t)i);
	}
	rr_split_set_idx(&f->r, (uint16_t)(NUM + 1));
	vq_prefetch(&f->q, 32);
	assert_false(vq_broken(&f->q));
	expect_violation(f, "split avail idx num+1 ahead after a prefetch");

	ring_up(f, false, false);
	for (i = 0; i < 4; i++) {
		rr_split_desc(&f->r, i, BUF(i), 16, 0, 0);
		rr_split_avail(&f->r, (uint16_t)i);
	}
	vq_prefetch(&f->q, 32);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pop(f), 0);
		assert_int_equal(f->e.id, i);
	}
	assert_int_equal(pop(f), -EAGAIN);

	/* An index moved back after it was read: the hint keeps what was seen, the pops then refuse it. */
	ring_up(f, false, false);
	for (i = 0; i < 4; i++) {
		rr_split_desc(&f->r, i, BUF(i), 16, 0, 0);
		rr_split_avail(&f->r, (uint16_t)i);
	}
	assert_int_equal(pop(f), 0);
	rr_split_set_idx(&f->r, 1);
	vq_prefetch(&f->q, 32);
	for (i = 1; i < 4; i++) {
		assert_int_equal(pop(f), 0);
		assert_int_equal(f->e.id, i);
	}
	expect_violation(f, "split avail idx moved back after a prefetch");

	ring_up(f, true, false);
	vq_prefetch(&f->q, 4 * NUM);	/* more than the ring: wraps, reads nothing outside it */
	assert_int_equal(pop(f), -EAGAIN);
	assert_false(vq_broken(&f->q));
}

/* Packed: a chain whose next descriptor is not marked available breaks the queue. */
static void test_packed_next_not_available(void **state)
{
	struct fx *f = *state;
	static const uint16_t bad_bits[] = { 0, F_AVAIL | F_USED, F_USED };
	unsigned i;

	for (i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++) {
		ring_up(f, true, false);
		rr_packed_desc_raw(&f->r, 1, BUF(1), 16, 1, (uint16_t)(F_WRITE | bad_bits[i]));
		rr_packed_desc(&f->r, 0, BUF(0), 16, 0, F_NEXT, true);
		expect_violation(f, "packed second descriptor not available");
	}

	/* Across the ring end the next round's bits are needed, not this round's. */
	ring_up(f, true, false);
	vq_set_base(&f->q, packed_base(7, true));
	rr_packed_desc(&f->r, 0, BUF(1), 16, 1, F_WRITE, true);
	rr_packed_desc(&f->r, 7, BUF(0), 16, 0, F_NEXT, true);
	expect_violation(f, "packed chain across ring end, old round bits");
}

/* ---- indirect --------------------------------------------------------- */

/* An INDIRECT descriptor inside an indirect table breaks the queue (split and packed). */
static void test_nested_indirect(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = {
		{ BUF(0), 16, F_NEXT, 1 },
		{ TBL(1), 32, F_INDIRECT, 0 },
	};
	const struct dsc inner[] = { { BUF(1), 16, 0, 0 }, { BUF(2), 16, F_WRITE, 0 } };
	const struct dsc d[] = { { TBL(0), 32, F_INDIRECT, 0 } };
	bool packed;

	for (packed = false; ; packed = true) {
		ring_up(f, packed, true);
		table(f, TBL(1), inner, 2);
		table(f, TBL(0), t, 2);
		post(f, d, 1, 1);
		expect_violation(f, packed ? "packed nested indirect" : "split nested indirect");
		if (packed)
			break;
	}
}

/* INDIRECT and NEXT on the same descriptor break the queue (split and packed). */
static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = { { BUF(0), 16, 0, 0 } };
	const struct dsc d[] = {
		{ TBL(0), 16, F_INDIRECT | F_NEXT, 1 },
		{ BUF(1), 16, F_WRITE, 0 },
	};

	table_violation(f, false, t, 1, d, 2, "split INDIRECT|NEXT");
	table_violation(f, true, t, 1, d, 2, "packed INDIRECT|NEXT");
}

/* INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated breaks the queue. */
static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	const struct dsc t[] = { { BUF(0), 16, 0, 0 } };
	const struct dsc d[] = { { TBL(0), 16, F_INDIRECT, 0 } };
	bool packed;

	for (packed = false; ; packed = true) {
		ring_up(f, packed, false);
		table(f, TBL(0), t, 1);
		post(f, d, 1, 1);
		expect_violation(f, packed ? "packed indirect not negotiated"
				 : "split indirect not negotiated");
		if (packed)
			break;
	}
}

/* An indirect table of length 0, not a multiple of 16, or over num entries breaks the queue. */
static void test_indirect_bad_table_len(void **state)
{
	struct fx *f = *state;
	static const uint32_t lens[] = { 0, 8, 24, 16 * (NUM + 1), 0xFFFFFFF0u };
	struct dsc t[NUM + 1];
	unsigned i, j;
	bool packed;

	for (j = 0; j <= NUM; j++)
		t[j] = (struct dsc){ BUF(j), 16, j < NUM ? F_NEXT : 0, (uint16_t)(j + 1) };
	for (packed = false; ; packed = true) {
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			const struct dsc d[] = { { TBL(0), lens[i], F_INDIRECT, 0 } };
			char what[64];

			snprintf(what, sizeof(what), "%s indirect table len %u",
				 packed ? "packed" : "split", lens[i]);
			table_violation(f, packed, t, NUM + 1, d, 1, what);
		}
		if (packed)
			break;
	}
}

/*
 * An indirect descriptor whose table lies outside guest memory or runs into
 * a hole (its first entry mapped, the second not; the chain ends at the
 * first) breaks the queue: the table is the descriptor's buffer, and QEMU
 * too refuses one it cannot map whole ("Cannot map indirect buffer").
 */
static void indirect_table_outside(struct fx *f, bool packed)
{
	static const uint64_t where[] = { 0x1000, RR_HOLE_GPA + 0x1000, RR_HOLE_GPA - 16 };
	static const char *const what[] = {
		"indirect table below R0", "indirect table in the hole",
		"indirect table running into the hole",
	};
	const struct dsc one[] = { { BUF(0), 16, 0, 0 } };
	unsigned i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		const struct dsc d[] = { { where[i], 32, F_INDIRECT, 0 } };

		ring_up(f, packed, true);
		if (where[i] == RR_HOLE_GPA - 16)
			table(f, where[i], one, 1);
		post(f, d, 1, 1);
		expect_violation(f, what[i]);
	}
}

/* Split: an indirect table outside memory or running into a hole breaks the queue. */
static void test_split_indirect_table_outside_memory(void **state)
{
	indirect_table_outside(*state, false);
}

/* Packed: an indirect table outside memory or running into a hole breaks the queue. */
static void test_packed_indirect_table_outside_memory(void **state)
{
	indirect_table_outside(*state, true);
}

/* ---- descriptor contents ---------------------------------------------- */

/* A readable descriptor after a writable one breaks the queue, direct or indirect. */
static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;
	const struct dsc direct[] = {
		{ BUF(0), 16, F_NEXT, 1 },
		{ BUF(1), 16, F_NEXT | F_WRITE, 2 },
		{ BUF(2), 16, 0, 0 },
	};
	const struct dsc in_table[] = {
		{ BUF(0), 16, F_NEXT | F_WRITE, 1 },
		{ BUF(1), 16, F_NEXT, 2 },
		{ BUF(2), 16, F_WRITE, 0 },
	};
	const struct dsc ind[] = { { TBL(0), sizeof(in_table), F_INDIRECT, 0 } };
	const struct dsc w_then_table[] = {
		{ BUF(3), 16, F_NEXT | F_WRITE, 1 },
		{ TBL(0), 16, F_INDIRECT, 0 },
	};
	const struct dsc readable[] = { { BUF(0), 16, 0, 0 } };
	bool packed;

	for (packed = false; ; packed = true) {
		chain_violation(f, packed, false, direct, 3, "readable after writable");
		table_violation(f, packed, in_table, 3, ind, 1,
				"readable after writable in indirect table");
		if (packed)
			break;
	}
	table_violation(f, false, readable, 1, w_then_table, 2,
			"split writable direct then readable indirect");
}

/* A zero-length descriptor breaks the queue (QEMU rejects these too). */
static void test_zero_length(void **state)
{
	struct fx *f = *state;
	const struct dsc first[] = { { BUF(0), 0, F_NEXT, 1 }, { BUF(1), 16, F_WRITE, 0 } };
	const struct dsc last[] = { { BUF(0), 16, F_NEXT, 1 }, { BUF(1), 0, F_WRITE, 0 } };
	const struct dsc t[] = { { BUF(0), 16, F_NEXT, 1 }, { BUF(1), 0, F_WRITE, 0 } };
	const struct dsc ind[] = { { TBL(0), sizeof(t), F_INDIRECT, 0 } };
	bool packed;

	for (packed = false; ; packed = true) {
		chain_violation(f, packed, false, first, 2, "zero length first");
		chain_violation(f, packed, false, last, 2, "zero length last");
		table_violation(f, packed, t, 2, ind, 1, "zero length in indirect table");
		if (packed)
			break;
	}
}

/* A descriptor of 0xFFFFFFFF bytes running out of memory, or wrapping 2^64, breaks the queue. */
static void test_len_runs_outside_memory(void **state)
{
	struct fx *f = *state;
	const struct dsc big[] = { { BUF(0), 0xFFFFFFFFu, 0, 0 } };
	const struct dsc wraps[] = { { 0xFFFFFFFFFFFFF000ull, 0x2000, F_WRITE, 0 } };
	const struct dsc top[] = { { 0xFFFFFFFFFFFFFFFFull, 1, 0, 0 } };
	bool packed;

	for (packed = false; ; packed = true) {
		chain_violation(f, packed, false, big, 1, "len 0xffffffff out of memory");
		chain_violation(f, packed, false, wraps, 1, "range wrapping 2^64");
		chain_violation(f, packed, false, top, 1, "last byte of the address space");
		if (packed)
			break;
	}
}

/* Chain lengths summing past UINT32_MAX break the queue (direct and indirect). */
static void test_len_sum_overflows_u32(void **state)
{
	struct fx *f = *state;
	const uint64_t h = RR_HUGE_GPA;
	const struct dsc out2[] = {
		{ h, 0x80000000u, F_NEXT, 1 }, { h + 0x80000000ull, 0x80000000u, 0, 0 },
	};
	const struct dsc in2[] = {
		{ h, 0x80000000u, F_NEXT | F_WRITE, 1 },
		{ h + 0x80000000ull, 0x80000000u, F_WRITE, 0 },
	};
	const struct dsc max_plus_one[] = {
		{ BUF(0), 1, F_NEXT | F_WRITE, 1 }, { h, 0xFFFFFFFFu, F_WRITE, 0 },
	};
	const struct dsc ind[] = { { TBL(0), sizeof(out2), F_INDIRECT, 0 } };
	bool packed;

	assert_non_null(f->mem.huge);	/* rr_mem_init(.., true) fails when it cannot be had */
	for (packed = false; ; packed = true) {
		chain_violation(f, packed, false, out2, 2, "readable 2 x 2 GiB");
		chain_violation(f, packed, false, in2, 2, "writable 2 x 2 GiB");
		chain_violation(f, packed, false, max_plus_one, 2, "writable 1 + 4 GiB - 1");
		table_violation(f, packed, out2, 2, ind, 1, "indirect readable 2 x 2 GiB");
		if (packed)
			break;
	}
}

/* Addresses in no region, or running from a region into a hole, break the queue. */
static void test_addr_outside_memory(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t addr;
		uint32_t len;
		const char *what;
	} bad[] = {
		{ 0, 16, "gpa 0" },
		{ RR_R0_GPA - 16, 16, "just below R0" },
		{ RR_R0_GPA - 8, 16, "from below R0 into it" },
		{ RR_HOLE_GPA, 16, "first byte of the hole" },
		{ RR_HOLE_GPA - 0x800, 0x1000, "end of R1 into the hole" },
		{ RR_HOLE_GPA - 1, 2, "last byte of R1 plus one" },
		{ RR_R1_GPA - 0x800, 0x10000 + 0x800 + 1, "R0 through R1 into the hole" },
		{ RR_HUGE_GPA - 16, 32, "hole into HUGE" },
		{ 0x8000000000000000ull, 16, "far away" },
	};
	unsigned i;
	bool packed;

	for (packed = false; ; packed = true) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			/* As the second descriptor so the first one's iovec is already out. */
			const struct dsc d[] = {
				{ BUF(0), 16, F_NEXT, 1 },
				{ bad[i].addr, bad[i].len, F_WRITE, 0 },
			};

			chain_violation(f, packed, false, d, 2, bad[i].what);
		}
		if (packed)
			break;
	}
}

/* ---- caller limits and setup ------------------------------------------ */

/* An iov_max too small for a valid chain returns -E2BIG; the chain is not silently lost. */
static void too_few_iovecs(struct fx *f, bool packed)
{
	const struct dsc three[] = {
		{ BUF(0), 16, F_NEXT, 1 }, { BUF(1), 16, F_NEXT, 2 }, { BUF(2), 16, F_WRITE, 0 },
	};
	const struct dsc straddle[] = { { RR_R1_GPA - 8, 16, 0, 0 } };
	int rc;

	ring_up(f, packed, false);
	post(f, three, 3, 4);
	assert_int_equal(pop_n(f, 2), -E2BIG);
	rc = pop_n(f, 3);		/* retried with room: the chain, or broken */
	if (rc == 0) {
		assert_counts(f, 2, 1, 32, 16);
		if (packed)
			assert_int_equal(f->e.id, 4);
	} else {
		assert_int_equal(rc, -EIO);
		assert_true(vq_broken(&f->q));
	}

	ring_up(f, packed, false);
	post(f, straddle, 1, 4);
	assert_int_equal(pop_n(f, 1), -E2BIG);
	rc = pop_n(f, 2);
	if (rc == 0)
		assert_counts(f, 2, 0, 16, 0);
	else
		assert_int_equal(rc, -EIO);
}

/* Split: iov_max below the chain's iovec count gives -E2BIG. */
static void test_split_iov_max_too_small(void **state)
{
	too_few_iovecs(*state, false);
}

/* Packed: iov_max below the chain's iovec count gives -E2BIG. */
static void test_packed_iov_max_too_small(void **state)
{
	too_few_iovecs(*state, true);
}

struct init_case {
	const char *what;
	bool packed;
	unsigned num;
	uint64_t desc, driver, device;
	int want;		/* 0, -EINVAL, or 1 for "-EINVAL or -EFAULT" */
};

/* vq_init refuses bad sizes and misaligned or unmapped ring areas, and takes good ones. */
static void test_vq_init_bad_rings(void **state)
{
	struct fx *f = *state;
	const uint64_t D = RR_DESC_GPA, A = RR_DRIVER_GPA, U = RR_DEVICE_GPA;
	const struct init_case cases[] = {
		{ "split ok", false, NUM, D, A, U, 0 },
		{ "split num 1", false, 1, D, A, U, 0 },
		{ "split num 32768", false, 32768, RR_R0_GPA, RR_R0_GPA + 0x80000,
		  RR_R0_GPA + 0x90000, 0 },
		{ "split num 0", false, 0, D, A, U, -EINVAL },
		{ "split num 3", false, 3, D, A, U, -EINVAL },
		{ "split num 32769", false, 32769, D, A, U, -EINVAL },
		{ "split num 65536", false, 65536, D, A, U, -EINVAL },
		{ "split desc unmapped", false, NUM, 0x1000, A, U, 1 },
		{ "split avail in hole", false, NUM, D, RR_HOLE_GPA + 0x100, U, 1 },
		{ "split used at gpa 0", false, NUM, D, A, 0, 1 },
		{ "split desc misaligned", false, NUM, D + 8, A, U, 1 },
		{ "split avail misaligned", false, NUM, D, A + 1, U, 1 },
		{ "split used misaligned", false, NUM, D, A, U + 2, 1 },
		{ "split desc across R0/R1", false, NUM, RR_R1_GPA - 64, A, U, 1 },
		{ "split avail across R0/R1", false, NUM, D, RR_R1_GPA - 10, U, 1 },
		{ "split used into hole", false, NUM, D, A, RR_HOLE_GPA - 68, 1 },
		{ "split desc wraps 2^64", false, NUM, 0xFFFFFFFFFFFFFFC0ull, A, U, 1 },
		{ "split used wraps 2^64", false, NUM, D, A, 0xFFFFFFFFFFFFFFF0ull, 1 },
		{ "packed ok", true, NUM, D, A, U, 0 },
		{ "packed num 3", true, 3, D, A, U, 0 },
		{ "packed num 32768", true, 32768, RR_R0_GPA, RR_R0_GPA + 0x80000,
		  RR_R0_GPA + 0x80004, 0 },
		{ "packed num 0", true, 0, D, A, U, -EINVAL },
		{ "packed num 32769", true, 32769, D, A, U, -EINVAL },
		{ "packed desc unmapped", true, NUM, 0x1000, A, U, 1 },
		{ "packed desc misaligned", true, NUM, D + 4, A, U, 1 },
		{ "packed desc across R0/R1", true, NUM, RR_R1_GPA - 64, A, U, 1 },
		{ "packed desc into hole", true, NUM, RR_HOLE_GPA - 64, A, U, 1 },
		{ "packed desc wraps 2^64", true, NUM, 0xFFFFFFFFFFFFFFC0ull, A, U, 1 },
		{ "packed driver event misaligned", true, NUM, D, A + 2, U, 1 },
		{ "packed device event misaligned", true, NUM, D, A, U + 2, 1 },
		{ "packed driver event unmapped", true, NUM, D, RR_HOLE_GPA, U, 1 },
		{ "packed device event unmapped", true, NUM, D, A, 0xFFFFFFFFFFFFFFFCull, 1 },
	};
	unsigned i, failures = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct init_case *c = &cases[i];
		struct vq_config cfg = {
			.num = c->num, .packed = c->packed, .indirect = true,
			.desc_gpa = c->desc, .driver_gpa = c->driver, .device_gpa = c->device,
			.mem = &f->mem.gmem,
		};
		int rc;
		bool ok;

		memset(&f->q, 0xA5, sizeof(f->q));
		rc = vq_init(&f->q, &cfg);
		if (c->want == 1)
			ok = rc == -EINVAL || rc == -EFAULT;
		else
			ok = rc == c->want;
		if (!ok) {
			print_message("vq_init %s: got %d, want %s\n", c->what, rc,
				      c->want == 1 ? "-EINVAL or -EFAULT" :
				      c->want ? "-EINVAL" : "0");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* vq_init after a violation gives a working queue again. */
static void test_reinit_after_break(void **state)
{
	struct fx *f = *state;
	const struct dsc loop[] = { { BUF(0), 16, F_NEXT, 0 } };
	const struct dsc good[] = { { BUF(0), 16, 0, 0 } };
	bool packed;

	for (packed = false; ; packed = true) {
		chain_violation(f, packed, false, loop, 1, "loop before reinit");
		ring_up(f, packed, false);
		post(f, good, 1, 2);
		assert_int_equal(pop(f), 0);
		assert_counts(f, 1, 0, 16, 0);
		if (packed)
			break;
	}
}

#define T(fn) cmocka_unit_test_setup(fn, test_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_split_valid_direct),
		T(test_packed_valid_direct),
		T(test_split_valid_indirect),
		T(test_split_direct_then_indirect),
		T(test_split_indirect_ignores_write_flag),
		T(test_packed_valid_indirect),
		T(test_packed_indirect_ignores_next),
		T(test_split_indirect_table_unaligned_or_straddling),
		T(test_packed_indirect_table_unaligned_or_straddling),
		T(test_split_straddle_adjacent_regions),
		T(test_packed_straddle_adjacent_regions),
		T(test_split_lone_descriptors),
		T(test_packed_lone_descriptors),
		T(test_split_max_len_inside_memory),
		T(test_packed_max_len_inside_memory),
		T(test_split_avail_full_and_wrap),
		T(test_packed_chain_across_ring_end),
		T(test_split_loop),
		T(test_packed_chain_longer_than_ring),
		T(test_split_next_out_of_range),
		T(test_split_indirect_loop_and_next),
		T(test_split_avail_idx_jump),
		T(test_split_head_out_of_range),
		T(test_prefetch_is_only_a_hint),
		T(test_packed_next_not_available),
		T(test_nested_indirect),
		T(test_indirect_with_next),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_table_len),
		T(test_split_indirect_table_outside_memory),
		T(test_packed_indirect_table_outside_memory),
		T(test_readable_after_writable),
		T(test_packed_transmit_table_marked_writable),
		T(test_zero_length),
		T(test_len_runs_outside_memory),
		T(test_len_sum_overflows_u32),
		T(test_addr_outside_memory),
		T(test_split_iov_max_too_small),
		T(test_packed_iov_max_too_small),
		T(test_vq_init_bad_rings),
		T(test_reinit_after_break),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
