/* test_virtq_roundtrip.c - driver and device sides against each other in one thread: data, batching, notifications. */
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
 * Guest memory layout of the fixture (one region at GPA_BASE):
 *   0x0000 descriptors | 0x2000 driver area | 0x3000 device area |
 *   0x4000 indirect tables | 0x10000 buffers, BUF_SIZE each
 */
#define NUM 16
#define GPA_BASE 0x40000000ull
#define MEM_SIZE (1u << 20)
#define OFF_DESC 0x0
#define OFF_DRIVER 0x2000
#define OFF_DEVICE 0x3000
#define OFF_INDIRECT 0x4000
#define INDIRECT_MAX 4
#define OFF_BUF 0x10000
#define BUF_SIZE 256

struct fx {
	uint8_t *mem;
	struct gmem gm;
	struct vq q;
	struct vq_drv d;
	struct iovec iov[8];
	unsigned combo;
};

static bool combo_packed(unsigned c) { return c & 1; }
static bool combo_indirect(unsigned c) { return c & 2; }
static bool combo_event_idx(unsigned c) { return c & 4; }
static bool combo_in_order(unsigned c) { return c & 8; }

/* The device side's view of @f's rings in combination @combo. */
static struct vq_config fx_vq_config(struct fx *f, unsigned combo)
{
	return (struct vq_config){
		.num = NUM, .packed = combo_packed(combo), .indirect = combo_indirect(combo),
		.event_idx = combo_event_idx(combo), .in_order = combo_in_order(combo),
		.desc_gpa = GPA_BASE + OFF_DESC, .driver_gpa = GPA_BASE + OFF_DRIVER,
		.device_gpa = GPA_BASE + OFF_DEVICE, .mem = &f->gm,
	};
}

static void fx_setup(struct fx *f, unsigned combo)
{
	struct vq_config qc = fx_vq_config(f, combo);
	struct vq_drv_config dc = {
		.num = NUM, .packed = qc.packed, .indirect = qc.indirect, .event_idx = qc.event_idx,
		.in_order = qc.in_order,
	};

	f->combo = combo;
	f->mem = aligned_alloc(4096, MEM_SIZE);
	assert_non_null(f->mem);
	memset(f->mem, 0, MEM_SIZE);
	gmem_init(&f->gm);
	assert_int_equal(gmem_add(&f->gm, GPA_BASE, MEM_SIZE, f->mem), 0);
	dc.desc = f->mem + OFF_DESC;
	dc.driver_area = f->mem + OFF_DRIVER;
	dc.device_area = f->mem + OFF_DEVICE;
	dc.indirect_hva = f->mem + OFF_INDIRECT;
	dc.indirect_gpa = GPA_BASE + OFF_INDIRECT;
	dc.indirect_max = INDIRECT_MAX;
	assert_int_equal(vq_drv_init(&f->d, &dc), 0);
	assert_int_equal(vq_init(&f->q, &qc), 0);
}

static void fx_teardown(struct fx *f)
{
	vq_drv_fini(&f->d);
	free(f->mem);
}

static uint8_t *buf_hva(struct fx *f, unsigned slot) { return f->mem + OFF_BUF + slot * BUF_SIZE; }
static uint64_t buf_gpa(unsigned slot) { return GPA_BASE + OFF_BUF + slot * BUF_SIZE; }

/* Add a buffer of 2 readable segments (8 + 24 bytes) and one 64-byte writable one. */
static int add_buf(struct fx *f, unsigned slot, uint32_t seq)
{
	uint8_t *b = buf_hva(f, slot);
	struct vq_seg segs[3] = {
		{ buf_gpa(slot), 8 }, { buf_gpa(slot) + 8, 24 }, { buf_gpa(slot) + 64, 64 },
	};

	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(seq * 7 + i);
	memset(b + 64, 0, 64);
	return vq_drv_add(&f->d, segs, 2, 1, (void *)(uintptr_t)(slot + 1));
}

/* Device: pop one chain, check its content against @seq, write @wlen bytes back. */
static struct vq_elem dev_serve(struct fx *f, uint32_t seq, uint32_t wlen)
{
	struct vq_elem e;
	uint8_t flat[32];
	size_t got = 0;

	assert_int_equal(vq_pop(&f->q, &e, f->iov, 8), 0);
	assert_int_equal(e.out_len, 32);
	assert_int_equal(e.in_len, 64);
	for (unsigned i = 0; i < e.out_num; i++) {
		memcpy(flat + got, f->iov[i].iov_base, f->iov[i].iov_len);
		got += f->iov[i].iov_len;
	}
	for (int i = 0; i < 32; i++)
		assert_int_equal(flat[i], (uint8_t)(seq * 7 + i));
	assert_int_equal(e.in_num, 1);
	memset(f->iov[e.out_num].iov_base, (int)(seq & 0xff), wlen);
	return e;
}

/* The driver adds buffer @seq in @slot; the device serves it and pushes 64 bytes back, published when @flush. */
static void serve_one(struct fx *f, unsigned slot, uint32_t seq, bool flush)
{
	struct vq_elem e;

	assert_int_equal(add_buf(f, slot, seq), 0);
	vq_drv_kick_prepare(&f->d);
	e = dev_serve(f, seq, 64);
	vq_push(&f->q, &e, 64);
	if (flush)
		vq_flush(&f->q);
}

/* A new device queue over the same rings, resumed at @f's saved position (GET/SET_VRING_BASE), takes its place. */
static void fx_requeue(struct fx *f)
{
	struct vq_config qc = fx_vq_config(f, f->combo);
	struct vq q2;

	assert_int_equal(vq_init(&q2, &qc), 0);
	vq_set_base(&q2, vq_get_base(&f->q));
	assert_int_equal(vq_get_base(&q2), vq_get_base(&f->q));
	f->q = q2;
}

/* Every combination moves several laps of buffers in varying batches, content checked both ways. */
static void test_all_combinations(void **state)
{
	for (unsigned combo = 0; combo < 16; combo++) {
		struct fx f;
		uint32_t seq_add = 0, seq_dev = 0, seq_reap = 0;
		unsigned batch = 1;

		fx_setup(&f, combo);
		while (seq_reap < 10 * NUM) {
			/* driver fills up to @batch buffers */
			for (unsigned k = 0; k < batch && vq_drv_free_slots(&f.d) >= 3; k++) {
				assert_int_equal(add_buf(&f, seq_add % NUM, seq_add), 0);
				seq_add++;
			}
			vq_drv_kick_prepare(&f.d);
			/* device serves all; every 5th buffer written short */
			while (seq_dev < seq_add) {
				uint32_t wlen = seq_dev % 5 == 4 ? 10 : 64;
				struct vq_elem e = dev_serve(&f, seq_dev, wlen);

				vq_push(&f.q, &e, wlen);
				seq_dev++;
			}
			{
				struct vq_elem e;
				assert_int_equal(vq_pop(&f.q, &e, f.iov, 8), -EAGAIN);
			}
			vq_flush(&f.q);
			/* driver reaps and checks */
			for (;;) {
				void *tok;
				uint32_t len;
				int rc = vq_drv_get_used(&f.d, &tok, &len);

				if (rc == -EAGAIN)
					break;
				assert_int_equal(rc, 0);
				assert_int_equal((uintptr_t)tok, seq_reap % NUM + 1);
				assert_int_equal(len, seq_reap % 5 == 4 ? 10 : 64);
				assert_int_equal(buf_hva(&f, seq_reap % NUM)[64], (uint8_t)(seq_reap & 0xff));
				seq_reap++;
			}
			assert_int_equal(seq_reap, seq_add);
			batch = batch % 7 + 1;
		}
		assert_false(vq_broken(&f.q));
		assert_false(f.d.broken);
		fx_teardown(&f);
	}
}

/* Without EVENT_IDX, kick suppression is the flag: disabled means no kick, enabled means kick. */
static void test_kick_flags(void **state)
{
	for (unsigned combo = 0; combo < 2; combo++) {
		struct fx f;

		fx_setup(&f, combo);
		vq_kick_disable(&f.q);
		assert_int_equal(add_buf(&f, 0, 0), 0);
		assert_false(vq_drv_kick_prepare(&f.d));
		/* enable-then-recheck sees the buffer that came in while disabled */
		assert_true(vq_kick_enable(&f.q));
		assert_int_equal(add_buf(&f, 1, 1), 0);
		assert_true(vq_drv_kick_prepare(&f.d));
		fx_teardown(&f);
	}
}

/* With EVENT_IDX the driver kicks once when it passes avail_event, then not again. */
static void test_kick_event_idx(void **state)
{
	for (unsigned combo = 4; combo < 6; combo++) {
		struct fx f;

		fx_setup(&f, combo);
		assert_false(vq_kick_enable(&f.q)); /* empty: nothing to recheck */
		assert_int_equal(add_buf(&f, 0, 0), 0);
		assert_true(vq_drv_kick_prepare(&f.d));
		assert_int_equal(add_buf(&f, 1, 1), 0);
		assert_false(vq_drv_kick_prepare(&f.d)); /* device has not caught up: no second kick */
		{
			struct vq_elem e = dev_serve(&f, 0, 64);
			vq_push(&f.q, &e, 64);
			e = dev_serve(&f, 1, 64);
			vq_push(&f.q, &e, 64);
		}
		assert_false(vq_kick_enable(&f.q)); /* re-armed at the current position */
		assert_int_equal(add_buf(&f, 2, 2), 0);
		assert_true(vq_drv_kick_prepare(&f.d));
		fx_teardown(&f);
	}
}

/* Used-buffer notifications follow the driver's enable/disable in every layout and mode. */
static void test_call_suppression(void **state)
{
	for (unsigned combo = 0; combo < 16; combo++) {
		struct fx f;
		struct vq_elem e;
		void *tok;
		uint32_t len;

		fx_setup(&f, combo);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(add_buf(&f, i, i), 0);
		vq_drv_kick_prepare(&f.d);

		assert_false(vq_drv_call_enable(&f.d)); /* nothing used yet */
		e = dev_serve(&f, 0, 20);
		vq_push(&f.q, &e, 20);
		vq_flush(&f.q);
		assert_true(vq_need_notify(&f.q));
		assert_false(vq_need_notify(&f.q)); /* nothing new since */

		vq_drv_call_disable(&f.d);
		e = dev_serve(&f, 1, 20);
		vq_push(&f.q, &e, 20);
		vq_flush(&f.q);
		assert_false(vq_need_notify(&f.q));

		/* re-enable: the recheck reports what is already there */
		assert_true(vq_drv_call_enable(&f.d));
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), -EAGAIN);
		assert_false(vq_drv_call_enable(&f.d));
		e = dev_serve(&f, 2, 20);
		vq_push(&f.q, &e, 20);
		vq_flush(&f.q);
		assert_true(vq_need_notify(&f.q));
		fx_teardown(&f);
	}
}

/* The driver adds a read-only buffer (a transmit queue's: two readable descriptors) @seq in @slot. */
static int add_ro_buf(struct fx *f, unsigned slot, uint32_t seq)
{
	uint8_t *b = buf_hva(f, slot);
	struct vq_seg segs[2] = { { buf_gpa(slot), 8 }, { buf_gpa(slot) + 8, 24 } };

	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(seq * 7 + i);
	return vq_drv_add(&f->d, segs, 2, 0, (void *)(uintptr_t)(slot + 1));
}

/* Device: pop a read-only chain and push it used (length 0). */
static void dev_read(struct fx *f)
{
	struct vq_elem e;

	assert_int_equal(vq_pop(&f->q, &e, f->iov, 8), 0);
	assert_int_equal(e.out_len, 32);
	assert_int_equal(e.in_len, 0);
	vq_push(&f->q, &e, 0);
}

/*
 * IN_ORDER, split: buffers the device only read are written as one used
 * entry for the batch (2.7.9); buffers it wrote get an entry each with
 * their length, even filled completely (DPDK's in-order receive reads each
 * length from its own entry), in one push and through vq_push_lens().
 */
static void test_in_order_batches_split(void **state)
{
	struct fx f;
	struct virtq_used *used;
	void *tok;
	uint32_t len;

	fx_setup(&f, 8); /* split, in-order */
	used = (struct virtq_used *)(f.mem + OFF_DEVICE);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(add_ro_buf(&f, i, i), 0);
	vq_drv_kick_prepare(&f.d);
	for (unsigned i = 0; i < 5; i++)
		dev_read(&f);
	vq_flush(&f.q);
	/* one entry, at the slot of the first buffer, naming the last one; idx moved by 5 */
	assert_int_equal(used->idx, 5);
	assert_int_equal(used->ring[0].id, 4 * 2); /* heads are 0, 2, 4, 6, 8: 2 descriptors each */
	assert_int_equal(used->ring[0].len, 0);
	assert_int_equal(used->ring[1].id, 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
		assert_int_equal((uintptr_t)tok, i + 1);
		assert_int_equal(len, 0);
	}
	assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), -EAGAIN);

	/* Written buffers: 64 bytes each (all of their writable part) but the last, 7. */
	for (unsigned round = 0; round < 2; round++) {
		struct vq_elem e[5];
		uint32_t lens[5];
		uint16_t at = used->idx;

		for (unsigned i = 0; i < 5; i++)
			assert_int_equal(add_buf(&f, i, 10 + i), 0);
		vq_drv_kick_prepare(&f.d);
		for (unsigned i = 0; i < 5; i++) {
			lens[i] = i == 4 ? 7 : 64;
			e[i] = dev_serve(&f, 10 + i, lens[i]);
			if (round == 0)
				vq_push(&f.q, &e[i], lens[i]);
		}
		if (round == 1)
			vq_push_lens(&f.q, e, lens, 5);
		vq_flush(&f.q);
		assert_int_equal((uint16_t)(used->idx - at), 5);
		for (unsigned i = 0; i < 5; i++) {
			assert_int_equal(used->ring[(at + i) % 16].id, e[i].id);
			assert_int_equal(used->ring[(at + i) % 16].len, lens[i]);
		}
		for (unsigned i = 0; i < 5; i++) {
			assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
			assert_int_equal((uintptr_t)tok, i + 1);
			assert_int_equal(len, lens[i]);
		}
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), -EAGAIN);
	}
	fx_teardown(&f);
}

/* IN_ORDER packed: one used descriptor for a batch of read-only buffers, the rest skipped (2.8.11); written ones each their own. */
static void test_in_order_batches_packed(void **state)
{
	struct fx f;
	struct pvirtq_desc *ring;
	void *tok;
	uint32_t len;

	fx_setup(&f, 9); /* packed, in-order */
	ring = (struct pvirtq_desc *)(f.mem + OFF_DESC);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(add_ro_buf(&f, i, i), 0);
	vq_drv_kick_prepare(&f.d);
	for (unsigned i = 0; i < 4; i++)
		dev_read(&f);
	vq_flush(&f.q);
	/* used descriptor at position 0 with the last buffer's id; position 2 (the second buffer's) untouched */
	assert_true((ring[0].flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) ==
		    (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED));
	assert_int_equal(ring[0].len, 0);
	assert_int_equal(ring[0].flags & VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(ring[2].flags & VIRTQ_DESC_F_USED, 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
		assert_int_equal((uintptr_t)tok, i + 1);
		assert_int_equal(len, 0);
	}
	assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), -EAGAIN);

	/*
	 * Written buffers (3 descriptors each, from position 8), filled
	 * completely: a used descriptor each, at each head, with its lap's
	 * wrap bit in AVAIL and USED (2.8.1).  Three rounds of three: heads
	 * 8 11 14, 1 4 7 (the second lap), 10 13 0 (the third: the wrap inside
	 * vq_push_many()'s loop); the first round by vq_push, the others by
	 * vq_push_lens.
	 */
	for (unsigned round = 0, abs = 8; round < 3; round++) {
		struct vq_elem e[3];
		uint32_t lens[3] = { 64, 64, 64 };

		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(add_buf(&f, i, 20 + i), 0);
		vq_drv_kick_prepare(&f.d);
		for (unsigned i = 0; i < 3; i++) {
			e[i] = dev_serve(&f, 20 + i, 64);
			if (round == 0)
				vq_push(&f.q, &e[i], 64);
		}
		if (round > 0)
			vq_push_lens(&f.q, e, lens, 3);
		vq_flush(&f.q);
		for (unsigned i = 0; i < 3; i++, abs += 3) {
			struct pvirtq_desc *u = &ring[abs % 16];
			uint16_t lap_bits = (abs / 16) % 2 == 0 ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;

			/* a skipped one would still be the driver's 8-byte readable head */
			assert_int_equal(u->flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED), lap_bits);
			assert_true(u->flags & VIRTQ_DESC_F_WRITE);
			assert_int_equal(u->id, e[i].id);
			assert_int_equal(u->len, 64);
		}
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
			assert_int_equal((uintptr_t)tok, i + 1);
			assert_int_equal(len, 64);
		}
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), -EAGAIN);
	}
	fx_teardown(&f);
}

/* A device naming a buffer that is not in flight breaks the driver side. */
static void test_driver_rejects_bad_used_id(void **state)
{
	struct fx f;
	struct virtq_used *used;
	void *tok;
	uint32_t len;

	fx_setup(&f, 0);
	used = (struct virtq_used *)(f.mem + OFF_DEVICE);
	assert_int_equal(add_buf(&f, 0, 0), 0);
	vq_drv_kick_prepare(&f.d);
	used->ring[0].id = 5; /* never added */
	used->ring[0].len = 1;
	used->idx = 1;
	assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), -EIO);
	assert_true(f.d.broken);
	assert_int_equal(vq_drv_add(&f.d, &(struct vq_seg){ buf_gpa(1), 8 }, 1, 0, &f), -EIO);
	fx_teardown(&f);
}

/*
 * vq_drv_add_burst() and vq_drv_get_used_burst(), in every combination:
 * bursts of one-segment buffers, writable (rx) and readable (tx) in turn,
 * with a three-segment chain among them now and then (the burst reap hands
 * it to the per-buffer path); reaped in bursts of varying size, tokens in
 * order, lengths and content checked.
 */
static void test_bursts_all_combinations(void **state)
{
	for (unsigned combo = 0; combo < 16; combo++) {
		struct fx f;
		uint32_t seq_add = 0, seq_reap = 0;
		unsigned batch = 1, most = 1, served = 0;
		bool chain[NUM];	/* by slot: added by vq_drv_add() as a three-segment chain */

		fx_setup(&f, combo);
		while (seq_reap < 12 * NUM) {
			bool writable = (seq_add / 5) & 1;
			struct vq_seg segs[NUM];
			void *toks[NUM];
			unsigned k = 0;
			int rc;

			if (seq_add % 11 == 3 && vq_drv_free_slots(&f.d) >= 3) {
				assert_int_equal(add_buf(&f, seq_add % NUM, seq_add), 0);
				chain[seq_add % NUM] = true;
				seq_add++;
			}
			for (; k < batch && seq_add + k - seq_reap < NUM; k++) {
				unsigned slot = (seq_add + k) % NUM;

				segs[k] = (struct vq_seg){ buf_gpa(slot), writable ? 64 : 32 };
				toks[k] = (void *)(uintptr_t)(slot + 1);
				memset(buf_hva(&f, slot), writable ? 0 : (int)((seq_add + k) & 0xff), 64);
			}
			rc = vq_drv_add_burst(&f.d, segs, toks, k, writable);
			assert_true(rc >= 0 && (unsigned)rc <= k);
			for (unsigned i = 0; i < (unsigned)rc; i++)
				chain[(seq_add + i) % NUM] = false;
			seq_add += (unsigned)rc;
			vq_drv_kick_prepare(&f.d);
			/* The device serves all: readable ones checked, writable ones filled (every 3rd short). */
			for (;;) {
				struct vq_elem e;
				uint32_t wlen = 0;
				int prc = vq_pop(&f.q, &e, f.iov, 8);

				if (prc == -EAGAIN)
					break;
				assert_int_equal(prc, 0);
				if (e.in_num) {
					wlen = e.out_num == 0 && served++ % 3 == 2 ? 20 : 64;
					memset(f.iov[e.out_num].iov_base, 0xab, wlen);
				}
				vq_push(&f.q, &e, wlen);
			}
			vq_flush(&f.q);
			for (;;) {
				void *got[NUM];
				uint32_t lens[NUM];

				rc = vq_drv_get_used_burst(&f.d, got, lens, most);
				assert_true(rc >= 0 && (unsigned)rc <= most);
				if (rc == 0)
					break;
				for (int i = 0; i < rc; i++, seq_reap++) {
					unsigned slot = seq_reap % NUM;

					assert_int_equal((uintptr_t)got[i], slot + 1);
					if (chain[slot] || !lens[i])
						continue;	/* a chain (add_buf's own checks are test_all_combinations') or readable */
					/* a writable one-segment buffer: the device's bytes are there */
					assert_true(lens[i] == 20 || lens[i] == 64);
					assert_int_equal(buf_hva(&f, slot)[0], 0xab);
					assert_int_equal(buf_hva(&f, slot)[lens[i] - 1], 0xab);
				}
				most = most % 9 + 1;
			}
			assert_int_equal(seq_reap, seq_add);
			batch = batch % 7 + 1;
		}
		assert_false(vq_broken(&f.q));
		assert_false(f.d.broken);
		assert_int_equal(vq_drv_in_flight(&f.d), 0);
		fx_teardown(&f);
	}
}

/* A used id never added, or a length beyond the buffer, breaks the ring in the burst reap too. */
static void test_burst_rejects_bad_used(void **state)
{
	for (unsigned bad_len = 0; bad_len < 2; bad_len++) {
		struct fx f;
		struct virtq_used *used;
		void *toks[4] = { (void *)1, (void *)2, (void *)3, (void *)4 }, *got[4];
		struct vq_seg segs[4];
		uint32_t lens[4];

		fx_setup(&f, 0);
		for (unsigned i = 0; i < 4; i++)
			segs[i] = (struct vq_seg){ buf_gpa(i), 64 };
		assert_int_equal(vq_drv_add_burst(&f.d, segs, toks, 4, true), 4);
		vq_drv_kick_prepare(&f.d);
		used = (struct virtq_used *)(f.mem + OFF_DEVICE);
		used->ring[0].id = 0;
		used->ring[0].len = 64;
		used->ring[1].id = bad_len ? 1 : 9;	/* 9: never added */
		used->ring[1].len = bad_len ? 65 : 1;
		used->idx = 2;
		/* The good one before it is lost with the ring, as documented. */
		assert_int_equal(vq_drv_get_used_burst(&f.d, got, lens, 4), -EIO);
		assert_true(f.d.broken);
		assert_int_equal(vq_drv_add_burst(&f.d, segs, toks, 1, true), -EIO);
		fx_teardown(&f);
	}
}

/* The saved position round-trips, and a queue resumed there continues with the driver. */
static void test_base_roundtrip(void **state)
{
	for (unsigned combo = 0; combo < 2; combo++) {
		struct fx f;
		void *tok;
		uint32_t len;

		fx_setup(&f, combo);
		for (uint32_t i = 0; i < NUM + 3; i++) { /* past one lap */
			serve_one(&f, i % NUM, i, true);
			assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
		}
		fx_requeue(&f);
		serve_one(&f, 0, 99, true);
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
		assert_int_equal(len, 64);
		fx_teardown(&f);
	}
}

/* A packed base with no used half (DPDK virtio-user sends 0x8000) starts used where available starts. */
static void test_packed_base_without_used_half(void **state)
{
	struct fx f;
	void *tok;
	uint32_t len;

	fx_setup(&f, 1); /* packed */
	vq_set_base(&f.q, 0x8000);
	assert_int_equal(vq_get_base(&f.q), 0x8000u | 0x80000000u);
	serve_one(&f, 0, 0, true);
	/* the driver (wrap counter 1) recognises the used descriptor */
	assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
	assert_int_equal(len, 64);
	fx_teardown(&f);
}

/*
 * Packed: used entries written but not published (a burst pushed, then
 * the queue broke or stopped before vq_flush()) are not in the base.  The
 * queue rebuilt from vq_get_base() (vhost-user GET/SET_VRING_BASE, or a
 * remap when migration starts logging) writes its next used descriptor
 * where the driver looks, the unpublished batch's head: the driver gets
 * it.  With the pushed position in the base, the driver would wait at a
 * head whose flags never come.
 */
static void test_packed_base_skips_unpublished_used(void **state)
{
	struct fx f;
	void *tok;
	uint32_t len, base;

	fx_setup(&f, 1); /* packed */
	for (uint32_t i = 0; i < NUM - 1; i++) { /* the next batch wraps the ring */
		serve_one(&f, i % NUM, i, true);
		assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
	}
	base = vq_get_base(&f.q);
	for (uint32_t i = 0; i < 2; i++)
		serve_one(&f, i, 100 + i, false);
	/* No vq_flush(): the used side the driver saw is where it was. */
	assert_int_equal(vq_get_base(&f.q) >> 16, base >> 16);
	fx_requeue(&f);
	serve_one(&f, 2, 102, true);
	assert_int_equal(vq_drv_get_used(&f.d, &tok, &len), 0);
	assert_int_equal(len, 64);
	fx_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_combinations),
		cmocka_unit_test(test_kick_flags),
		cmocka_unit_test(test_kick_event_idx),
		cmocka_unit_test(test_call_suppression),
		cmocka_unit_test(test_in_order_batches_split),
		cmocka_unit_test(test_in_order_batches_packed),
		cmocka_unit_test(test_driver_rejects_bad_used_id),
		cmocka_unit_test(test_bursts_all_combinations),
		cmocka_unit_test(test_burst_rejects_bad_used),
		cmocka_unit_test(test_base_roundtrip),
		cmocka_unit_test(test_packed_base_without_used_half),
		cmocka_unit_test(test_packed_base_skips_unpublished_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
