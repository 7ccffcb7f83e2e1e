/* test_virtq_dirtylog.c - dirty page logging of the device side: each kind of write into guest memory marks its pages, and nothing is marked while logging is off. */
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
#include "vsw/virtq.h"
#include "vsw/virtq_driver.h"

/*
 * Guest memory of the fixture: one region at GPA_BASE, each ring area on a
 * page of its own so a set bit names the kind of write that set it:
 *
 *   page 0 descriptors | 2 driver area | 3 device area | 5 indirect tables |
 *   9 "log_guest_addr" stand-in | 16.. buffers, BUF_SIZE each, buffer 1
 *   straddling pages 16 and 17
 *
 * The log covers the region exactly, followed by a canary the device must
 * never touch.
 */
#define NUM 16
#define GPA_BASE 0x40000000ull
#define MEM_SIZE (1u << 20)
#define OFF_DESC 0x0
#define OFF_DRIVER 0x2000
#define OFF_DEVICE 0x3000
#define OFF_INDIRECT 0x5000
#define OFF_LOG_USED 0x9000
#define OFF_BUF 0x10000
#define BUF_SIZE 0xc00			/* buffer 1 runs from 0x10c00 to 0x11800: two pages */
#define LOG_BYTES ((GPA_BASE + MEM_SIZE) / 4096 / 8)
#define CANARY 0x5a

struct fx {
	uint8_t *mem;
	struct gmem gm;
	struct vq q;
	struct vq_drv d;
	struct iovec iov[8];
	uint8_t *bits;			/* LOG_BYTES + 64 canary bytes */
	struct vq_log log;
};

/* Where the fixture puts the descriptors and the device area (tests move them onto page boundaries). */
static uint64_t desc_off = OFF_DESC, device_off = OFF_DEVICE;

static uint64_t page_of(uint64_t off) { return (GPA_BASE + off) >> 12; }

static bool dirty(const struct fx *f, uint64_t off)
{
	uint64_t p = page_of(off);

	return f->bits[p / 8] >> (p % 8) & 1;
}

/* How many pages are marked in the whole log. */
static unsigned ndirty(const struct fx *f)
{
	unsigned n = 0;

	for (uint64_t i = 0; i < LOG_BYTES; i++)
		n += (unsigned)__builtin_popcount(f->bits[i]);
	return n;
}

static void clear_log(struct fx *f)
{
	memset(f->bits, 0, LOG_BYTES);
}

static void fx_setup(struct fx *f, bool packed, bool event_idx, bool logging, uint64_t log_used_off)
{
	struct vq_config qc = {
		.num = NUM, .packed = packed, .event_idx = event_idx,
		.desc_gpa = GPA_BASE + desc_off, .driver_gpa = GPA_BASE + OFF_DRIVER,
		.device_gpa = GPA_BASE + device_off, .mem = &f->gm,
		.log = logging ? &f->log : NULL, .log_used_gpa = GPA_BASE + log_used_off,
	};
	struct vq_drv_config dc = { .num = NUM, .packed = packed, .event_idx = event_idx };

	memset(f, 0, sizeof(*f));
	f->mem = aligned_alloc(4096, MEM_SIZE);
	f->bits = calloc(1, LOG_BYTES + 64);
	assert_non_null(f->mem);
	assert_non_null(f->bits);
	memset(f->mem, 0, MEM_SIZE);
	memset(f->bits + LOG_BYTES, CANARY, 64);
	f->log = (struct vq_log){ .bits = f->bits, .size_bytes = LOG_BYTES };
	gmem_init(&f->gm);
	assert_int_equal(gmem_add(&f->gm, GPA_BASE, MEM_SIZE, f->mem), 0);
	dc.desc = f->mem + desc_off;
	dc.driver_area = f->mem + OFF_DRIVER;
	dc.device_area = f->mem + device_off;
	dc.indirect_hva = f->mem + OFF_INDIRECT;
	dc.indirect_gpa = GPA_BASE + OFF_INDIRECT;
	dc.indirect_max = 4;
	assert_int_equal(vq_drv_init(&f->d, &dc), 0);
	assert_int_equal(vq_init(&f->q, &qc), 0);
}

static void fx_teardown(struct fx *f)
{
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(f->bits[LOG_BYTES + i], CANARY);
	vq_drv_fini(&f->d);
	free(f->mem);
	free(f->bits);
}

/* The driver offers buffer @slot as one writable descriptor and kicks. */
static void offer(struct fx *f, unsigned slot)
{
	struct vq_seg seg = { GPA_BASE + OFF_BUF + slot * BUF_SIZE, BUF_SIZE };

	assert_int_equal(vq_drv_add(&f->d, &seg, 0, 1, (void *)(uintptr_t)(slot + 1)), 0);
	vq_drv_kick_prepare(&f->d);
}

/* The device pops one chain and writes @len bytes into it, as port_vhost.c does, logging them. */
static struct vq_elem fill(struct fx *f, uint32_t len)
{
	struct vq_elem e;

	assert_int_equal(vq_pop(&f->q, &e, f->iov, 8), 0);
	assert_int_equal(e.in_num, 1);
	memset(f->iov[0].iov_base, 0xab, len);
	vq_log_iov(&f->q, f->iov, e.in_num, len);
	return e;
}

/* Split: used entries and used idx (at log_guest_addr), used flags and avail_event, buffer bytes. */
static void test_split_each_write_kind(void **state)
{
	struct fx f;
	struct vq_elem e;

	/* log_guest_addr differs from the used ring's address: marks must follow log_guest_addr. */
	fx_setup(&f, false, false, true, OFF_LOG_USED);
	offer(&f, 0);
	assert_int_equal(ndirty(&f), 0); /* popping and validating writes nothing */

	vq_kick_disable(&f.q); /* used->flags */
	assert_true(dirty(&f, OFF_LOG_USED));
	assert_int_equal(ndirty(&f), 1);
	clear_log(&f);

	e = fill(&f, 100); /* the buffer: header and payload */
	assert_true(dirty(&f, OFF_BUF));
	assert_int_equal(ndirty(&f), 1);
	clear_log(&f);

	vq_push(&f.q, &e, 100);
	assert_int_equal(ndirty(&f), 0); /* staged only: nothing in guest memory yet */
	vq_flush(&f.q); /* used element and used idx */
	assert_true(dirty(&f, OFF_LOG_USED));
	assert_false(dirty(&f, OFF_DEVICE));
	assert_int_equal(ndirty(&f), 1);
	clear_log(&f);

	assert_false(vq_kick_enable(&f.q)); /* used->flags = 0 */
	assert_true(dirty(&f, OFF_LOG_USED));
	assert_int_equal(ndirty(&f), 1);
	fx_teardown(&f);

	/* EVENT_IDX: kick_enable writes avail_event at the end of the used ring. */
	fx_setup(&f, false, true, true, OFF_DEVICE);
	assert_false(vq_kick_enable(&f.q));
	assert_true(dirty(&f, OFF_DEVICE));
	assert_int_equal(ndirty(&f), 1);
	fx_teardown(&f);
}

/* A buffer across a page boundary marks both pages; a short write only the pages it touched. */
static void test_buffer_pages(void **state)
{
	struct fx f;
	struct vq_elem e;

	fx_setup(&f, false, false, true, OFF_DEVICE);
	offer(&f, 0);
	offer(&f, 1);
	e = fill(&f, 1);
	vq_push(&f.q, &e, 1);
	clear_log(&f);
	e = fill(&f, BUF_SIZE); /* buffer 1: 0x10c00 .. 0x117ff */
	assert_true(dirty(&f, OFF_BUF + BUF_SIZE));
	assert_true(dirty(&f, OFF_BUF + 2 * BUF_SIZE - 1));
	assert_int_equal(ndirty(&f), 2);
	vq_unpop(&f.q, &e);
	clear_log(&f);
	e = fill(&f, 0x100); /* the same buffer, written short: first page only */
	assert_true(dirty(&f, OFF_BUF + BUF_SIZE));
	assert_int_equal(ndirty(&f), 1);
	fx_teardown(&f);
}

/* Packed: used descriptors (the head's flags last), device event suppression both ways. */
static void test_packed_each_write_kind(void **state)
{
	for (int ev = 0; ev < 2; ev++) {
		struct fx f;
		struct vq_elem e[3];

		fx_setup(&f, true, ev, true, OFF_LOG_USED);
		vq_kick_disable(&f.q);
		assert_true(dirty(&f, OFF_DEVICE));
		assert_int_equal(ndirty(&f), 1);
		clear_log(&f);
		for (unsigned i = 0; i < 3; i++)
			offer(&f, i);
		for (unsigned i = 0; i < 3; i++)
			e[i] = fill(&f, 8);
		clear_log(&f);
		for (unsigned i = 0; i < 3; i++)
			vq_push(&f.q, &e[i], 8);
		vq_flush(&f.q);
		/* Used descriptors live in the descriptor ring; log_guest_addr is not where they go. */
		assert_true(dirty(&f, OFF_DESC));
		assert_false(dirty(&f, OFF_LOG_USED));
		assert_int_equal(ndirty(&f), 1);
		clear_log(&f);
		assert_false(vq_kick_enable(&f.q));
		assert_true(dirty(&f, OFF_DEVICE));
		assert_int_equal(ndirty(&f), 1);
		fx_teardown(&f);
	}
}

/* Laps of the ring in batches: every batch marks the used area, wrapping included. */
static void test_wrap_batches(void **state)
{
	for (int packed = 0; packed < 2; packed++) {
		struct fx f;
		unsigned served = 0;

		fx_setup(&f, packed, false, true, OFF_DEVICE);
		for (unsigned round = 0; round < 9; round++) {
			struct vq_elem e[5];
			void *tok;
			uint32_t len;

			for (unsigned i = 0; i < 5; i++)
				offer(&f, i);
			for (unsigned i = 0; i < 5; i++)
				e[i] = fill(&f, 4);
			clear_log(&f);
			for (unsigned i = 0; i < 5; i++)
				vq_push(&f.q, &e[i], 4);
			vq_flush(&f.q);
			assert_true(dirty(&f, packed ? OFF_DESC : OFF_DEVICE));
			assert_int_equal(ndirty(&f), 1);
			for (unsigned i = 0; i < 5; i++)
				assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
			served += 5;
		}
		assert_true(served > 2 * NUM);
		fx_teardown(&f);
	}
}

/*
 * The used entries themselves, apart from what else the publish writes:
 * a split used ring whose idx ends one page and whose entries start across
 * the boundary (log_guest_addr placed the same way), and a packed ring
 * whose first descriptor (the batch head, written last) ends a page.
 */
static void test_used_entries_across_pages(void **state)
{
	struct fx f;
	struct vq_elem e[3];

	device_off = 0x3ff8; /* flags, idx: page 3; ring[0] straddles pages 3 and 4 */
	fx_setup(&f, false, false, true, 0x9ff8);
	for (unsigned i = 0; i < 3; i++)
		offer(&f, i);
	for (unsigned i = 0; i < 3; i++)
		e[i] = fill(&f, 8);
	clear_log(&f);
	for (unsigned i = 0; i < 3; i++)
		vq_push(&f.q, &e[i], 8);
	vq_flush(&f.q);
	assert_true(dirty(&f, 0x9ff8));
	assert_true(dirty(&f, 0xa000));
	assert_int_equal(ndirty(&f), 2);
	/* One more: its entry (slot 3) lies wholly on the second page, the idx on the first. */
	offer(&f, 3);
	e[0] = fill(&f, 8);
	clear_log(&f);
	vq_push(&f.q, &e[0], 8);
	vq_flush(&f.q);
	assert_true(dirty(&f, 0x9ff8));
	assert_true(dirty(&f, 0xa000));
	assert_int_equal(ndirty(&f), 2);
	fx_teardown(&f);
	device_off = OFF_DEVICE;

	desc_off = 0xff0; /* descriptor 0 ends page 0, 1 and 2 are on page 1 */
	fx_setup(&f, true, false, true, OFF_DEVICE);
	for (unsigned i = 0; i < 3; i++)
		offer(&f, i);
	for (unsigned i = 0; i < 3; i++)
		e[i] = fill(&f, 8);
	clear_log(&f);
	for (unsigned i = 0; i < 3; i++)
		vq_push(&f.q, &e[i], 8);
	vq_flush(&f.q);
	assert_true(dirty(&f, 0xff0));
	assert_true(dirty(&f, 0x1000));
	assert_int_equal(ndirty(&f), 2);
	fx_teardown(&f);
	desc_off = OFF_DESC;
}

/* Logging off (no log given): the same operations mark nothing. */
static void test_off_marks_nothing(void **state)
{
	for (int packed = 0; packed < 2; packed++) {
		for (int ev = 0; ev < 2; ev++) {
			struct fx f;
			struct vq_elem e;

			fx_setup(&f, packed, ev, false, OFF_DEVICE);
			assert_null(vq_logging(&f.q));
			vq_kick_disable(&f.q);
			offer(&f, 0);
			e = fill(&f, BUF_SIZE);
			vq_push(&f.q, &e, BUF_SIZE);
			vq_flush(&f.q);
			(void)vq_need_notify(&f.q);
			(void)vq_kick_enable(&f.q);
			assert_int_equal(ndirty(&f), 0);
			fx_teardown(&f);
		}
	}
}

/* A write beyond what the log covers is counted, never stored past the bitmap. */
static void test_log_too_small(void **state)
{
	struct fx f;
	struct vq_elem e;

	fx_setup(&f, false, false, true, OFF_DEVICE);
	/* The log now ends below the buffers' pages. */
	f.log.size_bytes = page_of(OFF_BUF + BUF_SIZE) / 8;
	memset(f.bits + f.log.size_bytes, CANARY, LOG_BYTES - f.log.size_bytes);
	offer(&f, 0);
	offer(&f, 1);
	e = fill(&f, 1);
	vq_push(&f.q, &e, 1);
	e = fill(&f, BUF_SIZE);
	vq_push(&f.q, &e, BUF_SIZE);
	assert_int_equal(f.log.missed, 3); /* buffer 0's page and buffer 1's two */
	for (uint64_t i = f.log.size_bytes; i < LOG_BYTES; i++)
		assert_int_equal(f.bits[i], CANARY);
	memset(f.bits + f.log.size_bytes, 0, LOG_BYTES - f.log.size_bytes);
	fx_teardown(&f);
}

/* vq_log_mark() at the top of the address space: no wrap, no mark past the log. */
static void test_mark_edges(void **state)
{
	uint8_t bits[2] = { 0, 0 };
	struct vq_log log = { .bits = bits, .size_bytes = 1 };

	vq_log_mark(&log, 0, 0);
	assert_int_equal(bits[0], 0);
	vq_log_mark(&log, 4095, 2); /* pages 0 and 1 */
	assert_int_equal(bits[0], 3);
	vq_log_mark(&log, 7 * 4096, 4097); /* page 7, then 8 is beyond */
	assert_int_equal(bits[0], 0x83);
	assert_int_equal(bits[1], 0);
	assert_int_equal(log.missed, 1);
	vq_log_mark(&log, UINT64_MAX - 4095, 4096);
	assert_int_equal(bits[1], 0);
	assert_int_equal(log.missed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_each_write_kind),
		cmocka_unit_test(test_buffer_pages),
		cmocka_unit_test(test_packed_each_write_kind),
		cmocka_unit_test(test_wrap_batches),
		cmocka_unit_test(test_used_entries_across_pages),
		cmocka_unit_test(test_off_marks_nothing),
		cmocka_unit_test(test_log_too_small),
		cmocka_unit_test(test_mark_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
