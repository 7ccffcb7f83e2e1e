/* test_virtq_fastpath.c - vq_pop()/vq_push() with their inline fast paths against vq_pop_slow()/vq_push_slow() alone, on twin guest memories. */

/*
 * The inline paths of vsw/virtq_inline.h must give exactly what the
 * out-of-line code gives: the same return codes, elements, iovecs and
 * avail-side state after every pop, and after every vq_flush() the same
 * queue state, guest memory (used ring / descriptors) and dirty log.
 * Queue A goes through vq_pop()/vq_push(), queue B through the slow
 * functions only, over two copies of one guest memory that a random,
 * more or less hostile driver writes between device rounds (raw_ring.h).
 * A queue broken mid-batch is compared on its avail side only: A has
 * then written (unpublished) used entries that B only staged.
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

#include "vsw/virtq.h"

#include "../lib/raw_ring.h"

static unsigned long long rs = 88172645463325252ull;
static unsigned rnd(unsigned n) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return n ? (unsigned)(rs % n) : 0; }

static struct rr_mem A, B;
static struct rr_ring RA, RB;
static struct vq QA, QB;
static struct vq_log LA, LB;
static uint8_t bitsA[4096], bitsB[4096];
static unsigned long long iter;

#define DIE(...) do { print_error("op %llu: ", iter); fail_msg(__VA_ARGS__); } while (0)

static long off_of(const struct rr_mem *m, const void *p)
{
	const uint8_t *q = p;
	if (q >= m->map && q < m->map + m->map_len) return q - m->map;
	return -1;
}

static unsigned hostile; /* 1 in hostile choices is a wild one; 0: always */
static unsigned long long n_burst, n_lone, n_pop, n_push, n_push_n, n_flush_ok;
static uint64_t rand_addr(void)
{
	if (hostile && rnd(hostile))
		return rnd(4) ? RR_BUF_GPA(rnd(200)) + rnd(64) : RR_R1_GPA + rnd(0x8000);
	switch (rnd(20)) {
	case 0: return RR_R1_GPA + rnd(0x8000);
	case 1: return RR_R1_GPA - rnd(64);		/* straddle */
	case 2: return RR_HOLE_GPA - rnd(64);		/* runs past R1 */
	case 3: return RR_HOLE_GPA + rnd(0x1000);	/* hole */
	case 4: return RR_R0_GPA - rnd(64);
	case 5: return rnd(2) ? 0 : ~0ull - rnd(64);
	default: return RR_BUF_GPA(rnd(200)) + rnd(64);
	}
}

static uint32_t rand_len(void)
{
	if (hostile && rnd(hostile))
		return 1 + rnd(2048);
	switch (rnd(16)) {
	case 0: return 0;
	case 1: return 0xffffffffu - rnd(4);
	case 2: return 0x100000;
	default: return 1 + rnd(2048);
	}
}

static uint16_t rand_flags(void)
{
	uint16_t f = rnd(2) ? VIRTQ_DESC_F_WRITE : 0;
	if (hostile && rnd(hostile))
		return rnd(40) ? f : (uint16_t)(f | VIRTQ_DESC_F_NEXT);
	switch (rnd(12)) {
	case 0: f |= VIRTQ_DESC_F_NEXT; break;
	case 1: f |= VIRTQ_DESC_F_INDIRECT; break;
	case 2: f |= VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT; break;
	}
	return f;
}

/* Driver phase: random but mostly plausible writes on A's rings; then B := A. */
static uint16_t drv_pos; static bool drv_wrap; static uint16_t drv_id;

static void driver_phase(void)
{
	unsigned num = RA.num, k = rnd(num + 1);

	for (unsigned t = 0; t < 4; t++) { /* a few indirect tables */
		uint64_t tg = RR_TABLE_GPA(t);
		for (unsigned i = 0; i < 4; i++) {
			if (RA.packed)
				rr_packed_table(&A, tg, i, rand_addr(), rand_len(), rand_flags() & ~VIRTQ_DESC_F_NEXT);
			else
				rr_split_table(&A, tg, i, rand_addr(), rand_len(), rand_flags() & ~VIRTQ_DESC_F_INDIRECT, (uint16_t)rnd(5));
		}
	}
	if (!RA.packed) {
		for (unsigned i = 0; i < k; i++) {
			unsigned d = rnd(num);
			uint16_t fl = rand_flags();
			uint64_t a = rand_addr();
			uint32_t l = rand_len();
			if (fl & VIRTQ_DESC_F_INDIRECT) { a = RR_TABLE_GPA(rnd(4)); l = 16 * (1 + rnd(4)); }
			rr_split_desc(&RA, d, a, l, fl, (uint16_t)(rnd(8) ? rnd(num) : rnd(65536)));
		}
		for (unsigned i = 0; i < k; i++)
			rr_split_set_slot(&RA, (RA.avail_idx + i) & (num - 1), (uint16_t)(rnd(hostile ? 16 * hostile : 16) ? rnd(num) : rnd(65536)));
		RA.avail_idx = (uint16_t)(RA.avail_idx + k);
		if (!rnd(hostile ? 50 * hostile : 50)) RA.avail_idx = (uint16_t)(RA.avail_idx + num + 1 + rnd(100));
		rr_split_set_idx(&RA, RA.avail_idx);
	} else {
		for (unsigned i = 0; i < k; i++) {
			uint16_t fl = rand_flags();
			uint64_t a = rand_addr();
			uint32_t l = rand_len();
			bool w = drv_wrap;
			if (fl & VIRTQ_DESC_F_INDIRECT) { a = RR_TABLE_GPA(rnd(4)); l = 16 * (1 + rnd(4)); }
			if (!rnd(hostile ? 20 * hostile : 20)) w = !w;
			if (!rnd(hostile ? 30 * hostile : 30))
				rr_packed_desc_raw(&RA, drv_pos, a, l, drv_id++, (uint16_t)rnd(65536));
			else
				rr_packed_desc(&RA, drv_pos, a, l, drv_id++, fl, w);
			if (++drv_pos == num) { drv_pos = 0; drv_wrap = !drv_wrap; }
		}
		if (!rnd(hostile ? 10 * hostile : 10)) { drv_pos = (uint16_t)rnd(num); }
	}
	memcpy(B.r0, A.r0, RR_R0_SIZE);
	memcpy(B.r1, A.r1, RR_R1_SIZE);
}

static void cmp_avail_side(const char *what)
{
	if (QA.last_avail != QB.last_avail || QA.avail_wrap != QB.avail_wrap ||
	    QA.avail_idx_cache != QB.avail_idx_cache || QA.popped_since_hint != QB.popped_since_hint ||
	    QA.mem_hint != QB.mem_hint || QA.broken != QB.broken || QA.error != QB.error)
		DIE("%s: avail side differs: last_avail %u/%u wrap %d/%d cache %u/%u hint %u/%u psh %u/%u broken %d/%d (%s / %s)",
		    what, QA.last_avail, QB.last_avail, QA.avail_wrap, QB.avail_wrap, QA.avail_idx_cache, QB.avail_idx_cache,
		    QA.mem_hint, QB.mem_hint, QA.popped_since_hint, QB.popped_since_hint, QA.broken, QB.broken,
		    QA.error ? QA.error : "-", QB.error ? QB.error : "-");
}

static void cmp_all(const char *what)
{
	cmp_avail_side(what);
	if (QA.broken)
		return; /* broken mid-batch: A wrote (unpublished) entries B only staged; nothing published by either */
	if (QA.used_idx != QB.used_idx || QA.used_wrap != QB.used_wrap || QA.staged != QB.staged ||
	    QA.batch_head.pending != QB.batch_head.pending ||
	    (QA.batch_head.pending && (QA.batch_head.pos != QB.batch_head.pos || QA.batch_head.flags != QB.batch_head.flags)) ||
	    QA.run.count != QB.run.count || QA.run.ndesc != QB.run.ndesc ||
	    (QA.run.count && (QA.run.id != QB.run.id || QA.run.len != QB.run.len)) ||
	    QA.npending != QB.npending || QA.used_since_signal != QB.used_since_signal ||
	    QA.signalled_used != QB.signalled_used || QA.signalled_wrap != QB.signalled_wrap ||
	    QA.signalled_valid != QB.signalled_valid)
		DIE("%s: used side differs (broken %d %s): used_idx %u/%u wrap %d/%d staged %u/%u run %u/%u npending %u/%u",
		    what, QA.broken, QA.error ? QA.error : "-", QA.used_idx, QB.used_idx, QA.used_wrap, QB.used_wrap, QA.staged, QB.staged,
		    QA.run.count, QB.run.count, QA.npending, QB.npending);
	if (memcmp(A.r0, B.r0, RR_R0_SIZE) || memcmp(A.r1, B.r1, RR_R1_SIZE)) {
		size_t i = 0;
		while (A.r0[i] == B.r0[i]) i++;
		DIE("%s: guest memory differs (first at R0+0x%zx: %02x/%02x)", what, i, A.r0[i], B.r0[i]);
	}
	if (memcmp(bitsA, bitsB, sizeof(bitsA)) || LA.missed != LB.missed)
		DIE("%s: dirty log differs", what);
}

struct held { struct vq_elem ea, eb; };

static void one_config(void)
{
	bool packed = rnd(2), in_order = rnd(2), indirect = rnd(2), event_idx = rnd(2), log = rnd(3) == 0;
	unsigned num = packed ? 1 + rnd(64) : 1u << rnd(7);
	struct vq_config ca, cb;
	static const unsigned hs[] = { 0, 3, 20, 200 };
	hostile = hs[rnd(4)];
	static struct iovec iova[256], iovb[256];
	struct held h[600];
	unsigned nh = 0, first = 0;

	rr_mem_clear(&A); rr_mem_clear(&B);
	rr_ring_init(&RA, &A, num, packed);
	rr_ring_init(&RB, &B, num, packed);
	ca = rr_ring_config(&RA, indirect); cb = rr_ring_config(&RB, indirect);
	ca.in_order = cb.in_order = in_order;
	ca.event_idx = cb.event_idx = event_idx;
	memset(bitsA, 0, sizeof(bitsA)); memset(bitsB, 0, sizeof(bitsB));
	LA = (struct vq_log){ .bits = bitsA, .size_bytes = sizeof(bitsA) };
	LB = (struct vq_log){ .bits = bitsB, .size_bytes = sizeof(bitsB) };
	ca.log = log ? &LA : NULL; cb.log = log ? &LB : NULL;
	ca.log_used_gpa = ca.device_gpa; cb.log_used_gpa = cb.device_gpa;
	if (vq_init(&QA, &ca) || vq_init(&QB, &cb))
		DIE("vq_init");
	drv_pos = 0; drv_wrap = true; drv_id = 0;
	if (!packed)
		for (unsigned d = 0; d < num; d++)
			rr_split_desc(&RA, d, RR_BUF_GPA(d % 200), 1 + rnd(2048), rnd(2) ? VIRTQ_DESC_F_WRITE : 0, 0);
	if (!rnd(4)) {
		uint32_t base = packed ? (rnd(num) | rnd(2) << 15) : rnd(65536);
		if (packed) base |= base << 16;
		vq_set_base(&QA, base); vq_set_base(&QB, base);
		if (packed) { drv_pos = QA.last_avail; drv_wrap = QA.avail_wrap; }
		else RA.avail_idx = RB.avail_idx = (uint16_t)base;
	}
	for (unsigned phase = 0; phase < 40 && !QA.broken; phase++) {
		driver_phase();
		for (unsigned op = 0; op < 3 * num + 8; op++) {
			unsigned c = rnd(100);
			iter++;
			if (c < 22) {
				/* vq_pop_burst() on A against as many vq_pop_slow() on B, some given back, then A's vq_pop() for what it left */
				struct vq_elem ea[64], eb;
				unsigned max = rnd(65), k, back;
				enum vq_dir dir;
				if (nh - first + max >= 500) continue;
				memset(ea, 0x5a, sizeof(ea));
				dir = (enum vq_dir)rnd(3);
				k = vq_pop_burst(&QA, dir, ea, iova, max);
				if (k > max) DIE("burst popped %u of %u", k, max);
				for (unsigned j = 0; j < k; j++) {
					int rb;
					memset(&eb, 0x5a, sizeof(eb));
					rb = vq_pop_slow(&QB, &eb, iovb, 256);
					if (rb != 0) DIE("burst popped %u, slow pop %u gave %d", k, j, rb);
					if (memcmp(&ea[j], &eb, sizeof(eb))) DIE("burst elem %u differs", j);
					if (eb.ndesc != 1 || eb.out_num + eb.in_num != 1) DIE("burst popped a chain");
					if ((dir == VQ_DIR_READ && eb.in_num) || (dir == VQ_DIR_WRITE && eb.out_num))
						DIE("burst for %s buffers popped the other kind", dir == VQ_DIR_READ ? "read" : "written");
					if (off_of(&A, iova[j].iov_base) != off_of(&B, iovb[0].iov_base) || iova[j].iov_len != iovb[0].iov_len)
						DIE("burst iov %u differs", j);
					h[nh].ea = ea[j]; h[nh].eb = eb; nh++;
					n_burst++;
				}
				cmp_avail_side("burst");
				/* as vp_rx_burst() past its byte budget: the newest given back */
				back = k && rnd(4) == 0 ? 1 + rnd(k) : 0;
				for (unsigned j = 0; j < back; j++) {
					nh--;
					vq_unpop(&QA, &h[nh].ea); vq_unpop(&QB, &h[nh].eb);
				}
				if (back) { cmp_avail_side("unpop after burst"); continue; }

				if (k < max && !QA.broken) {
					/* It stopped where it had to: vq_pop()'s inline fast path would not take the next one either. */
					struct vq tmp = QA;
					struct vq_elem e1, e2;
					struct iovec it;
					int ra, rb;
					/* ... but for one of the other direction than asked for. */
					if ((QA.packed ? vq_pop_lone_packed(&tmp, &e1, &it) : vq_pop_lone_split(&tmp, &e1, &it)) &&
					    (dir == VQ_DIR_ANY || (dir == VQ_DIR_READ ? e1.out_num : e1.in_num)))
						DIE("burst stopped before a lone buffer in its region");
					ra = vq_pop(&QA, &e1, iova, 256);
					rb = vq_pop_slow(&QB, &e2, iovb, 256);
					if (ra != rb) DIE("after burst: pop rc %d / %d", ra, rb);
					cmp_avail_side("pop after burst");
					if (ra == 0) {
						if (memcmp(&e1, &e2, sizeof(e1))) DIE("after burst: elem differs");
						h[nh].ea = e1; h[nh].eb = e2; nh++;
					}
				}
			} else if (c < 55) {
				unsigned iov_max = rnd(hostile ? 10 * hostile : 10) ? 256 : rnd(4);
				struct vq_elem ea, eb;
				int ra, rb;
				memset(&ea, 0x5a, sizeof(ea)); memset(&eb, 0x5a, sizeof(eb));
				if (nh - first >= 500) continue;
				ra = vq_pop(&QA, &ea, iova, iov_max);
				rb = vq_pop_slow(&QB, &eb, iovb, iov_max);
				if (ra != rb) DIE("pop rc %d / %d (%s / %s)", ra, rb, QA.error ? QA.error : "-", QB.error ? QB.error : "-");
				cmp_avail_side("pop");
				if (ra == 0) {
					if (memcmp(&ea, &eb, sizeof(ea))) DIE("pop elem differs");
					for (unsigned i = 0; i < ea.out_num + ea.in_num; i++)
						if (off_of(&A, iova[i].iov_base) != off_of(&B, iovb[i].iov_base) || iova[i].iov_len != iovb[i].iov_len)
							DIE("pop iov %u differs", i);
					h[nh].ea = ea; h[nh].eb = eb; nh++;
					n_pop++;
					if (ea.ndesc == 1 && ea.out_num + ea.in_num == 1) n_lone++;
				}
			} else if (c < 85) {
				uint32_t len;
				if (first == nh) continue;
				switch (rnd(6)) {
				case 0: len = 0; break;
				case 1: case 2: len = h[first].ea.in_len; break;
				case 3: len = h[first].ea.in_len ? h[first].ea.in_len - 1 : 0; break;
				case 4: len = h[first].ea.in_len + 1; break;
				default: len = rnd(2) ? 0xffffffffu : rnd(4096);
				}
				if (rnd(3) == 0) {
					/* a run of pushes with one length: vq_push_n() against each alone */
					unsigned k = 1 + rnd(nh - first), j;
					struct vq_elem run[600];

					for (j = 0; j < k; j++)
						run[j] = h[first + j].ea;
					if (rnd(2)) {
						vq_push_n(&QA, run, k, len);
						for (j = 0; j < k; j++)
							vq_push_slow(&QB, &h[first + j].eb, len);
					} else {
						/* each its own length: all of it, a part, nothing, more than it has */
						static uint32_t lens[600];

						for (j = 0; j < k; j++)
							lens[j] = (uint32_t[]){ h[first + j].ea.in_len, rnd(64), 0, len }[rnd(4)];
						vq_push_lens(&QA, run, lens, k);
						for (j = 0; j < k; j++)
							vq_push_slow(&QB, &h[first + j].eb, lens[j]);
					}
					first += k; n_push += k; n_push_n++;
				} else {
					vq_push(&QA, &h[first].ea, len);
					vq_push_slow(&QB, &h[first].eb, len);
					first++; n_push++;
				}
				if (QA.run.count != QB.run.count || QA.run.ndesc != QB.run.ndesc ||
				    (QA.run.count && (QA.run.id != QB.run.id || QA.run.len != QB.run.len)))
					DIE("run differs after push");
			} else if (c < 90) {
				if (first == nh) continue;
				nh--;
				vq_unpop(&QA, &h[nh].ea); vq_unpop(&QB, &h[nh].eb);
				cmp_avail_side("unpop");
			} else if (c < 95) {
				vq_flush(&QA); vq_flush(&QB);
				if (vq_need_notify(&QA) != vq_need_notify(&QB)) DIE("need_notify differs");
				cmp_all("flush");
				if (!QA.broken) n_flush_ok++;
			} else {
				unsigned n = rnd(64);
				vq_prefetch(&QA, n); vq_prefetch(&QB, n);
				cmp_avail_side("prefetch");
			}
		}
		/* end of phase: push the rest (or give the newest back), flush */
		while (first < nh) {
			if (rnd(4) == 0) {
				nh--;
				vq_unpop(&QA, &h[nh].ea); vq_unpop(&QB, &h[nh].eb);
			} else {
				uint32_t len = rnd(2) ? h[first].ea.in_len : rnd(100);
				vq_push(&QA, &h[first].ea, len); vq_push_slow(&QB, &h[first].eb, len);
				first++;
			}
		}
		nh = first = 0;
		vq_flush(&QA); vq_flush(&QB);
		if (vq_need_notify(&QA) != vq_need_notify(&QB)) DIE("need_notify differs");
		iter++;
		cmp_all("end of phase");
		if (!QA.broken) n_flush_ok++;
		if (QA.broken) break;
		if (packed) { /* the driver may now recycle */ }
	}
}

/* Random queues (split/packed, IN_ORDER, indirect, EVENT_IDX, dirty log, a base) from a few seeds. */
static void test_fast_equals_slow(void **state)
{
	static const unsigned long long seeds[] = { 1, 2, 3, 0x9e3779b97f4a7c15ull };

	assert_int_equal(rr_mem_init(&A, false), 0);
	assert_int_equal(rr_mem_init(&B, false), 0);
	for (unsigned s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		rs = seeds[s];
		for (unsigned i = 0; i < 300; i++)
			one_config();
	}
	print_message("%llu burst pops, ", n_burst);
	print_message("%llu ops: %llu pops (%llu lone), %llu pushes (%llu runs by vq_push_n), %llu flushes compared on live queues\n",
		      iter, n_pop, n_lone, n_push, n_push_n, n_flush_ok);
	/* The fast paths were exercised, not only the errors. */
	assert_true(n_burst > 10000 && n_lone > 10000 && n_push > 10000 && n_push_n > 5000 && n_flush_ok > 5000);
	rr_mem_fini(&A);
	rr_mem_fini(&B);
}

/* QA on a fresh ring of @num in A (split or @packed), no indirect descriptors. */
static void qa_start(unsigned num, bool packed)
{
	struct vq_config cfg;

	rr_mem_clear(&A);
	rr_ring_init(&RA, &A, num, packed);
	cfg = rr_ring_config(&RA, false);
	assert_int_equal(vq_init(&QA, &cfg), 0);
}

/*
 * vq_pop_burst() at the edges of the region of the last translation (R1):
 * a buffer ending on its last byte is taken; one a byte longer, or
 * starting a byte below it, is not (the slow path refuses the first, the
 * hole follows R1, and splits the second across R0 and R1).
 */
static void test_burst_region_edges(void **state)
{
	assert_int_equal(rr_mem_init(&A, false), 0);
	for (unsigned packed = 0; packed < 2; packed++) {
		static const struct { uint64_t addr; uint32_t len; unsigned taken; } cases[] = {
			{ RR_HOLE_GPA - 100, 100, 1 },	/* to the last byte */
			{ RR_HOLE_GPA - 100, 101, 0 },	/* one past */
			{ RR_R1_GPA - 1, 64, 0 },	/* one below (in R0, then R1) */
			{ RR_R1_GPA, 0, 0 },		/* empty */
		};

		for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct vq_elem e[4];
			struct iovec iov[4];

			qa_start(8, packed);
			/* A buffer in R1 first, popped alone: R1 becomes the region of the last translation. */
			if (packed) {
				rr_packed_desc(&RA, 0, RR_R1_GPA, 64, 0, VIRTQ_DESC_F_WRITE, true);
				rr_packed_desc(&RA, 1, cases[c].addr, cases[c].len, 1, VIRTQ_DESC_F_WRITE, true);
			} else {
				rr_split_desc(&RA, 0, RR_R1_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
				rr_split_desc(&RA, 1, cases[c].addr, cases[c].len, VIRTQ_DESC_F_WRITE, 0);
				rr_split_avail(&RA, 0);
				rr_split_avail(&RA, 1);
			}
			assert_int_equal(vq_pop_slow(&QA, &e[0], iov, 4), 0);
			/* Writable buffers: taken the same by a burst for any direction and for written ones; not for read ones. */
			{
				struct vq save = QA;

				assert_int_equal(vq_pop_burst(&QA, VQ_DIR_READ, e, iov, 4), 0);
				assert_memory_equal(&save, &QA, sizeof(save));
				assert_int_equal(vq_pop_burst(&QA, VQ_DIR_ANY, e, iov, 4), cases[c].taken);
				QA = save;
			}
			assert_int_equal(vq_pop_burst(&QA, VQ_DIR_WRITE, e, iov, 4), cases[c].taken);
			if (cases[c].taken) {
				assert_ptr_equal(iov[0].iov_base, rr_hva(&A, cases[c].addr));
				assert_int_equal(iov[0].iov_len, cases[c].len);
				assert_int_equal(e[0].in_len, cases[c].len);
				assert_int_equal(e[0].id, 1);
			}
			assert_false(QA.broken);
		}
	}
	rr_mem_fini(&A);
}

/*
 * vq_avail_seen_empty() after a burst: true when the burst took all there
 * was (split: as far as the available index it last read goes; packed: the
 * next descriptor not available), false with a chain waiting for vq_pop(),
 * true for a broken queue.
 */
static void test_burst_seen_empty(void **state)
{
	assert_int_equal(rr_mem_init(&A, false), 0);
	for (unsigned packed = 0; packed < 2; packed++) {
		struct vq_elem e[8];
		struct iovec iov[8];

		qa_start(8, packed);
		/* Three lone buffers, all taken. */
		for (unsigned i = 0; i < 3; i++) {
			if (packed) {
				rr_packed_desc(&RA, i, RR_BUF_GPA(i), 64, (uint16_t)i, VIRTQ_DESC_F_WRITE, true);
			} else {
				rr_split_desc(&RA, i, RR_BUF_GPA(i), 64, VIRTQ_DESC_F_WRITE, 0);
				rr_split_avail(&RA, (uint16_t)i);
			}
		}
		vq_prefetch(&QA, 8);	/* split: reads the available index */
		assert_int_equal(vq_pop_burst(&QA, VQ_DIR_WRITE, e, iov, 8), 3);
		assert_true(vq_avail_seen_empty(&QA));
		/* One lone buffer, then a chain of two: the burst stops before the chain, which waits. */
		if (packed) {
			rr_packed_desc(&RA, 3, RR_BUF_GPA(3), 64, 3, VIRTQ_DESC_F_WRITE, true);
			rr_packed_desc(&RA, 4, RR_BUF_GPA(4), 64, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, true);
			rr_packed_desc(&RA, 5, RR_BUF_GPA(5), 64, 4, VIRTQ_DESC_F_WRITE, true);
		} else {
			rr_split_desc(&RA, 3, RR_BUF_GPA(3), 64, VIRTQ_DESC_F_WRITE, 0);
			rr_split_desc(&RA, 4, RR_BUF_GPA(4), 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
			rr_split_desc(&RA, 5, RR_BUF_GPA(5), 64, VIRTQ_DESC_F_WRITE, 0);
			rr_split_avail(&RA, 3);
			rr_split_avail(&RA, 4);
		}
		vq_prefetch(&QA, 8);
		assert_int_equal(vq_pop_burst(&QA, VQ_DIR_WRITE, e, iov, 8), 1);
		assert_false(vq_avail_seen_empty(&QA));
		assert_int_equal(vq_pop_slow(&QA, &e[0], iov, 8), 0);
		assert_int_equal(e[0].in_len, 128);	/* both descriptors */
		assert_true(vq_avail_seen_empty(&QA));
		/* A buffer made available now: packed sees its flags; split does not read the index again. */
		if (packed) {
			rr_packed_desc(&RA, 6, RR_BUF_GPA(6), 64, 5, VIRTQ_DESC_F_WRITE, true);
			assert_false(vq_avail_seen_empty(&QA));
		} else {
			rr_split_desc(&RA, 6, RR_BUF_GPA(6), 64, VIRTQ_DESC_F_WRITE, 0);
			rr_split_avail(&RA, 6);
			assert_true(vq_avail_seen_empty(&QA));
			vq_prefetch(&QA, 8);
			assert_false(vq_avail_seen_empty(&QA));
		}
		QA.broken = true;
		assert_true(vq_avail_seen_empty(&QA));
	}
	rr_mem_fini(&A);
}

/*
 * vq_avail_maybe(), the poll of an idle queue: false on an empty ring and
 * once a burst took everything; true as soon as the driver makes a buffer
 * available (split: its index; packed: the next descriptor's flags), also
 * past the packed ring's wrap; false for a broken queue, as vq_has_avail().
 */
static void test_avail_maybe(void **state)
{
	assert_int_equal(rr_mem_init(&A, false), 0);
	for (unsigned packed = 0; packed < 2; packed++) {
		struct vq_elem e[8];
		struct iovec iov[8];

		qa_start(4, packed);
		assert_false(vq_avail_maybe(&QA));
		for (unsigned round = 0; round < 3; round++) {	/* 12 buffers through a ring of 4: it wraps twice */
			for (unsigned i = 0; i < 4; i++) {
				unsigned id = round * 4 + i;

				if (packed) {
					rr_packed_desc(&RA, (uint16_t)(id % 4), RR_BUF_GPA(i), 64, (uint16_t)i,
						       VIRTQ_DESC_F_WRITE, round % 2 == 0);
				} else {
					rr_split_desc(&RA, (uint16_t)i, RR_BUF_GPA(i), 64, VIRTQ_DESC_F_WRITE, 0);
					rr_split_avail(&RA, (uint16_t)i);
				}
				assert_true(vq_avail_maybe(&QA));
			}
			vq_prefetch(&QA, 8);
			assert_int_equal(vq_pop_burst(&QA, VQ_DIR_WRITE, e, iov, 8), 4);
			assert_false(vq_avail_maybe(&QA));
			vq_push_n(&QA, e, 4, 64);
			vq_flush(&QA);
			assert_false(vq_avail_maybe(&QA));
		}
		/* Broken: nothing to give, however the ring looks. */
		if (packed)	/* three wraps: the driver's counter is false again */
			rr_packed_desc(&RA, 0, RR_BUF_GPA(0), 64, 0, VIRTQ_DESC_F_WRITE, false);
		else
			rr_split_avail(&RA, 0);
		assert_true(vq_avail_maybe(&QA));
		QA.broken = true;
		assert_false(vq_avail_maybe(&QA));
	}
	rr_mem_fini(&A);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_equals_slow),
		cmocka_unit_test(test_burst_region_edges),
		cmocka_unit_test(test_burst_seen_empty),
		cmocka_unit_test(test_avail_maybe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
