/* fuzz_virtq_chain.c - libFuzzer target: a hostile driver against the device side of a virtqueue. */

/*
 * The fuzzer plays a hostile driver: it writes every byte of a small guest
 * memory (rings, indirect tables, buffers) and picks the negotiated
 * features, the queue size and where the rings sit.  The device side
 * (vq_init, vq_set_base, vq_prefetch, vq_pop, vq_unpop, vq_push, vq_flush,
 * vq_need_notify, vq_kick_disable/enable) must then never touch memory
 * outside the guest regions, never hand out an iovec outside them, never
 * write past the caller's iovec array, and latch the queue broken on every
 * violation.
 *
 * Input format (all multi-byte fields little-endian):
 *
 *   off  size  field
 *     0   u8   cfg      bit 0 packed, bit 1 EVENT_IDX, bit 2 INDIRECT_DESC,
 *                       bit 3 IN_ORDER, bits 4-5 memory mode, bits 6-7 gpa base
 *     1   u8   num      bit 7 clear: split 1 << (v % 6) = 1..32, packed 1 + v % 32;
 *                       bit 7 set: raw v & 0x7f (0..127; vq_init must refuse 0
 *                       and, for split, a size that is not a power of 2)
 *     2   u8   iov_max  0: 256; 255: 0; otherwise the value
 *     3   u8   ops      bits 0-1 flush after every 1/2/4/8 pushes;
 *                       bits 2-3 pushed len: in_len / 0 / in_len + 1 / 0xffffffff;
 *                       bits 4-5 chains held in flight before pushing: 1..4;
 *                       bit 6 vq_kick_disable() first; bit 7 vq_set_base(base)
 *     4   u32  base     for vq_set_base, passed unchanged (packed: bits 0-14
 *                       avail position, 15 its wrap, 16-30 used position, 31)
 *     8   u16  desc_off    image offset of the descriptor table / ring
 *    10   u16  driver_off  image offset of the avail ring / driver event area
 *    12   u16  device_off  image offset of the used ring / device event area
 *    14   u16  image_len   bytes of image that follow (clamped to 64 KiB and
 *                          to the input); the rest of the image is zero
 *    16   u32  fill     pattern the device writes into writable buffers
 *                       (byte i of an iovec gets byte i % 4 of fill), so a
 *                       buffer overlapping the rings can forge flags/indices
 *    20   u8   ops2     bit 0: after each pop, vq_unpop() it and pop again
 *                       (must give the same chain); bit 1: at the end of a
 *                       round give the chains still held back with vq_unpop()
 *                       (newest first) instead of pushing them; bit 2:
 *                       pop through vq_pop_burst() (one chain a call) first,
 *                       vq_pop() only for what it leaves; bits 3-4: the
 *                       direction it asks for (0 any, 1 read, 2 write, 3 any);
 *                       bit 5: a queue the device only reads (device_reads)
 *    21   u8[3] (reserved, 0)
 *    24   image_len bytes  copied to image offset 0
 *     ..  patches   { u16 off; u8 len; u8 bytes[len]; } ... each written into
 *                   the image after the previous device round, followed by
 *                   another round (at most MAX_ROUNDS): the driver adding
 *                   buffers, flipping flags, recycling used ones.
 *
 * The 64 KiB image is two 32 KiB halves, A = image[0, 32K) and
 * B = image[32K, 64K), each its own heap allocation (so ASan redzones sit
 * right at the region edges).  Memory modes:
 *
 *   0  one region: A and B one 64 KiB allocation, one gmem region
 *   1  two regions adjacent in guest physical space, not in ours
 *      (a buffer crossing base + 32K becomes two iovecs)
 *   2  two regions with a 4 KiB hole between them in guest physical space
 *   3  only A is mapped
 *
 * gpa base: 0x10000, 0x0, 0xffff8000 (A ends at the 4 GiB line),
 * 0xfffffffffffee000 (near the top of the 64-bit space).  Image offset o maps
 * to base + o in A, to base + 32K (+ 4K hole in mode 2) + (o - 32K) in B.
 *
 * A device round: pop chains (at most 2 * num + 4 per round), check each
 * (and maybe give it back and pop it again), read the readable iovecs and
 * write the writable ones, push them in order after holding a few in
 * flight, flush every few pushes, ask vq_need_notify; when the queue says
 * -EAGAIN push (or give back) the rest, flush, and vq_kick_enable().
 * After any other error the queue must be broken and the next vq_pop must
 * return -EIO.  Every check that fails calls abort().
 *
 * fuzz/make_corpus_virtq_chain.py writes the seed corpus in this format.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "vsw/guest_mem.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_BYTES 24
#define HALF_BYTES 0x8000u
#define IMAGE_BYTES (2 * HALF_BYTES)
#define HOLE_BYTES 0x1000u
#define IOV_CAP 256u
#define MAX_HELD 4
#define MAX_ROUNDS 32
#define TOUCH_BUDGET_BYTES (256u << 10)	/* bytes memset/read in full per input */

/* Build with -DFUZZ_VIRTQ_TRACE to see what each seed does (one line per call). */
#ifdef FUZZ_VIRTQ_TRACE
#define trace(...) fprintf(stderr, __VA_ARGS__)
#else
#define trace(...) do { } while (0)
#endif

enum mem_mode { MEM_ONE = 0, MEM_TWO_ADJACENT = 1, MEM_TWO_HOLE = 2, MEM_A_ONLY = 3 };

static const uint64_t gpa_bases[4] = {
	0x10000ull, 0x0ull, 0xffff8000ull, 0xfffffffffffee000ull,
};

/* The state of one run; one static instance, reset per input (no per-input big allocations). */
struct harness {
	/* Zeroed at the start of every input (everything before mem). */
	uint8_t *half[2];		/* host memory of A and B */
	uint8_t *one;			/* MEM_ONE: the single allocation */
	uint64_t gpa[2];		/* guest physical address of A and B */
	bool mapped[2];
	struct iovec *iov;		/* iov_max + 1 entries, the last a sentinel */
	unsigned iov_max;
	unsigned flush_every, hold, len_mode;
	bool unpop_each, unpop_held, burst;
	enum vq_dir dir;
	struct vq_elem held[MAX_HELD];
	unsigned nheld, unflushed;
	uint32_t touch_left;
	volatile uint8_t sink;

	/* Set up in full by each input. */
	struct gmem mem;
	struct vq q;
	struct vq_config cfg;

	/* Kept across inputs: the fill pattern depends only on its 4 bytes. */
	bool pattern_valid;
	uint8_t pattern_fill[4];
	uint8_t pattern[IMAGE_BYTES];	/* the fill bytes, repeated */
};

/*
 * Guest memory, allocated once (heap, so ASan redzones border each region)
 * and zeroed per input: one 64 KiB block for MEM_ONE, two 32 KiB blocks
 * otherwise.
 */
static uint8_t *mem_one, *mem_half[2];

__attribute__((noreturn)) static void fail(const char *what)
{
	fprintf(stderr, "fuzz_virtq_chain: %s\n", what);
	abort();
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Host byte of image offset @off (< IMAGE_BYTES). */
static uint8_t *image_byte(struct harness *h, unsigned off)
{
	return &h->half[off / HALF_BYTES][off % HALF_BYTES];
}

/* Guest physical address of image offset @off (< IMAGE_BYTES). */
static uint64_t image_gpa(const struct harness *h, unsigned off)
{
	return h->gpa[off / HALF_BYTES] + off % HALF_BYTES;
}

/* Copy @len bytes to image offset @off, across the halves; what passes the image end is dropped. */
static void image_write(struct harness *h, unsigned off, const uint8_t *src, size_t len)
{
	while (len > 0 && off < IMAGE_BYTES) {
		size_t n = HALF_BYTES - off % HALF_BYTES;

		if (n > len)
			n = len;
		memcpy(image_byte(h, off), src, n);
		off += (unsigned)n;
		src += n;
		len -= n;
	}
}

/* Is [@p, @p + @len) inside one mapped region's host memory? */
static bool host_range_mapped(const struct harness *h, const uint8_t *p, size_t len)
{
	for (unsigned i = 0; i < 2; i++) {
		uintptr_t lo = (uintptr_t)h->half[i], x = (uintptr_t)p;

		if (!h->mapped[i])
			continue;
		if (h->one && i == 0) {
			/* MEM_ONE: one region covers both halves. */
			if (x >= lo && x - lo <= IMAGE_BYTES && len <= IMAGE_BYTES - (x - lo))
				return true;
			continue;
		}
		if (x >= lo && x - lo <= HALF_BYTES && len <= HALF_BYTES - (x - lo))
			return true;
	}
	return false;
}

/* Is guest [@gpa, @gpa + @len) inside one mapped region? */
static bool gpa_range_mapped(const struct harness *h, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < 2; i++) {
		uint64_t size = h->one ? IMAGE_BYTES : HALF_BYTES;

		if (!h->mapped[i])
			continue;
		if (gpa >= h->gpa[i] && gpa - h->gpa[i] <= size && len <= size - (gpa - h->gpa[i]))
			return true;
	}
	return false;
}

static int map_memory(struct harness *h, unsigned mode, uint64_t base)
{
	if (!mem_one || !mem_half[0] || !mem_half[1])
		return -1;
	gmem_init(&h->mem);
	h->gpa[0] = base;
	h->gpa[1] = base + HALF_BYTES + (mode == MEM_TWO_HOLE ? HOLE_BYTES : 0);
	h->mapped[0] = true;
	h->mapped[1] = mode != MEM_A_ONLY;
	if (mode == MEM_ONE) {
		h->one = mem_one;
		memset(h->one, 0, IMAGE_BYTES);
		h->half[0] = h->one;
		h->half[1] = h->one + HALF_BYTES;
		h->mapped[1] = false;	/* covered by region 0 */
		return gmem_add(&h->mem, base, IMAGE_BYTES, h->one);
	}
	h->half[0] = mem_half[0];
	h->half[1] = mem_half[1];
	memset(h->half[0], 0, HALF_BYTES);
	memset(h->half[1], 0, HALF_BYTES);
	if (gmem_add(&h->mem, h->gpa[0], HALF_BYTES, h->half[0]))
		return -1;
	if (h->mapped[1] && gmem_add(&h->mem, h->gpa[1], HALF_BYTES, h->half[1]))
		return -1;
	return 0;
}

/*
 * vq_init() said yes: check what it promised, that each ring area the
 * negotiated features use is aligned as 2.7 / 2.8 require and lies in one
 * region.
 */
static void check_accepted_config(const struct harness *h)
{
	const struct vq_config *c = &h->cfg;
	uint64_t desc_len = 16ull * c->num, drv_len, dev_len;
	unsigned drv_align, dev_align;

	if (c->num == 0 || c->num > VIRTQ_MAX_SIZE)
		fail("vq_init accepted a queue size out of range");
	if (c->packed) {
		drv_len = dev_len = 4;
		drv_align = dev_align = 4;
	} else {
		if (c->num & (c->num - 1))
			fail("vq_init accepted a split queue size that is not a power of 2");
		drv_len = 4 + 2ull * c->num + (c->event_idx ? 2 : 0);
		dev_len = 4 + 8ull * c->num + (c->event_idx ? 2 : 0);
		drv_align = 2;
		dev_align = 4;
	}
	if (c->desc_gpa % 16 || c->driver_gpa % drv_align || c->device_gpa % dev_align)
		fail("vq_init accepted a misaligned ring");
	if (!gpa_range_mapped(h, c->desc_gpa, desc_len) ||
	    !gpa_range_mapped(h, c->driver_gpa, drv_len) ||
	    !gpa_range_mapped(h, c->device_gpa, dev_len))
		fail("vq_init accepted a ring outside guest memory or straddling regions");
}

/*
 * Write the writable part and read the readable part, so ASan sees every
 * byte.  memcpy, not byte loops: ASan checks the whole range in its
 * interceptor, and the fuzzer's comparison hooks stay out of the hot path.
 */
static void touch_iov(struct harness *h, const struct iovec *iov, unsigned n, bool write)
{
	static uint8_t scratch[IMAGE_BYTES];

	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		if (len == 0)
			continue;
		if (len > h->touch_left) {
			/* Out of budget: the ends still catch a range that runs out. */
			if (write) {
				p[0] = h->pattern[0];
				p[len - 1] = h->pattern[(len - 1) % 4];
			} else {
				h->sink = p[0] ^ p[len - 1];
			}
			continue;
		}
		h->touch_left -= (uint32_t)len;
		if (write)
			memcpy(p, h->pattern, len);
		else
			memcpy(scratch, p, len);
	}
	h->sink = scratch[0];	/* scratch is read, so the copies stay */
}

/* The contract of a successful vq_pop(). */
static void check_elem(struct harness *h, const struct vq_elem *e)
{
	const struct iovec *iov = h->iov;
	unsigned n = (unsigned)e->out_num + e->in_num;
	uint64_t out = 0, in = 0;

	if (n > h->iov_max)
		fail("vq_pop returned more iovecs than iov_max");
	if (h->iov[h->iov_max].iov_base != (void *)&h->sink || h->iov[h->iov_max].iov_len != 0x5a5a)
		fail("vq_pop wrote past iov[iov_max - 1]");
	if (!h->cfg.packed && e->id >= h->cfg.num)
		fail("vq_pop returned a split head id >= num");
	if (h->cfg.packed && (e->ndesc == 0 || e->ndesc > h->cfg.num))
		fail("vq_pop returned a packed chain of 0 or more than num descriptors");
	for (unsigned i = 0; i < n; i++) {
		if (!iov[i].iov_base && iov[i].iov_len)
			fail("vq_pop returned a NULL iovec");
		if (iov[i].iov_len && !host_range_mapped(h, iov[i].iov_base, iov[i].iov_len))
			fail("vq_pop returned an iovec outside guest memory");
		if (i < e->out_num)
			out += iov[i].iov_len;
		else
			in += iov[i].iov_len;
	}
	if (out != e->out_len || in != e->in_len)
		fail("vq_pop: out_len/in_len differ from the sum of the iovecs");
}

/* Pop into @e, the iovec sentinel armed; trace the result. */
static int pop(struct harness *h, struct vq_elem *e)
{
	int rc;

	h->iov[h->iov_max].iov_base = (void *)&h->sink;
	h->iov[h->iov_max].iov_len = 0x5a5a;
	vq_prefetch(&h->q, 32); /* the data path's hint before each burst: reads the rings too */
	/* A lone descriptor through vq_pop_burst() (one iovec: needs iov_max >= 1), else vq_pop(). */
	if (h->burst && h->iov_max && vq_pop_burst(&h->q, h->dir, e, h->iov, 1) == 1) {
		/* A burst for one direction takes none of the other (vq_pop() below does). */
		if ((h->dir == VQ_DIR_READ && e->in_num) || (h->dir == VQ_DIR_WRITE && e->out_num))
			abort();
		rc = 0;
	}
	else
		rc = vq_pop(&h->q, e, h->iov, h->iov_max);
	trace("pop %d id %u ndesc %u out %u/%u in %u/%u%s%s\n", rc, e->id, e->ndesc,
	      e->out_num, e->out_len, e->in_num, e->in_len,
	      rc && rc != -EAGAIN ? " error: " : "",
	      rc && rc != -EAGAIN && vq_error(&h->q) ? vq_error(&h->q) : "");
	return rc;
}

/*
 * Give @e back and pop again: memory has not changed in between, so the
 * same chain must come back, described by the same iovecs.
 */
static void unpop_repop(struct harness *h, const struct vq_elem *e)
{
	static struct iovec saved[IOV_CAP];
	unsigned n = (unsigned)e->out_num + e->in_num;
	struct vq_elem again;

	memcpy(saved, h->iov, n * sizeof(saved[0]));
	vq_unpop(&h->q, e);
	if (!vq_has_avail(&h->q))
		fail("no buffer available after vq_unpop");
	if (pop(h, &again))
		fail("vq_pop after vq_unpop failed");
	if (again.id != e->id || again.ndesc != e->ndesc || again.out_num != e->out_num ||
	    again.in_num != e->in_num || again.out_len != e->out_len || again.in_len != e->in_len)
		fail("vq_pop after vq_unpop returned another chain");
	check_elem(h, &again);
	if (memcmp(saved, h->iov, n * sizeof(saved[0])))
		fail("vq_pop after vq_unpop returned other iovecs");
}

/* Publish what was pushed and ask whether the driver wants to hear of it. */
static void flush(struct harness *h)
{
	vq_flush(&h->q);
	(void)vq_need_notify(&h->q);
	h->unflushed = 0;
}

/* Push every held element, in pop order. */
static void push_held(struct harness *h)
{
	for (unsigned i = 0; i < h->nheld; i++) {
		const struct vq_elem *e = &h->held[i];
		uint32_t len;

		switch (h->len_mode) {
		case 0: len = e->in_len; break;
		case 1: len = 0; break;
		case 2: len = e->in_len + 1; break;
		default: len = UINT32_MAX; break;
		}
		vq_push(&h->q, e, len);
		if (++h->unflushed >= h->flush_every)
			flush(h);
	}
	h->nheld = 0;
}

/* Give every held chain back, newest first; the next round pops them again. */
static void unpop_held(struct harness *h)
{
	while (h->nheld > 0)
		vq_unpop(&h->q, &h->held[--h->nheld]);
}

/* The queue just returned @rc, an error: it must stay broken. */
static void check_broken(struct harness *h, int rc)
{
	struct vq_elem e;

	if (rc >= 0)
		fail("vq_pop returned a positive value");
	if (!vq_broken(&h->q))
		fail("vq_pop failed but the queue is not broken");
	if (!vq_error(&h->q))
		fail("broken queue without a reason");
	if (vq_pop(&h->q, &e, h->iov, h->iov_max) != -EIO)
		fail("vq_pop on a broken queue did not return -EIO");
	if (vq_has_avail(&h->q))
		fail("a broken queue has buffers available");
	/* The rest must be harmless no-ops now. */
	vq_flush(&h->q);
	(void)vq_need_notify(&h->q);
	(void)vq_kick_enable(&h->q);
	vq_kick_disable(&h->q);
	if (vq_pop(&h->q, &e, h->iov, h->iov_max) != -EIO)
		fail("vq_pop on a broken queue did not return -EIO");
}

/* One device round; false once the queue is broken. */
static bool device_round(struct harness *h)
{
	unsigned budget = 2 * h->cfg.num + 4;
	bool again = true;

	while (again) {
		again = false;
		while (budget > 0) {
			struct vq_elem *e = &h->held[h->nheld];
			bool avail = vq_has_avail(&h->q);
			int rc;

			budget--;
			rc = pop(h, e);
			if (rc == -EAGAIN) {
				if (avail)
					fail("vq_has_avail said yes, vq_pop said -EAGAIN");
				break;
			}
			if (rc) {
				check_broken(h, rc);
				return false;
			}
			check_elem(h, e);
			if (h->unpop_each)
				unpop_repop(h, e);
			touch_iov(h, h->iov, e->out_num, false);
			touch_iov(h, h->iov + e->out_num, e->in_num, true);
			if (++h->nheld == h->hold)
				push_held(h);
		}
		if (h->unpop_held)
			unpop_held(h);
		push_held(h);
		flush(h);
		again = vq_kick_enable(&h->q) && budget > 0;
	}
	return true;
}

/* Header bytes 0-3, 8-15 and 20: the queue configuration and the harness knobs. */
static void parse_config(struct harness *h, const uint8_t *data)
{
	uint8_t cfgb = data[0], numb = data[1], iovb = data[2], ops = data[3];

	h->cfg.packed = cfgb & 1;
	h->cfg.event_idx = cfgb & 2;
	h->cfg.indirect = cfgb & 4;
	h->cfg.in_order = cfgb & 8;
	if (numb & 0x80)
		h->cfg.num = numb & 0x7f;
	else if (h->cfg.packed)
		h->cfg.num = 1 + numb % 32;
	else
		h->cfg.num = 1u << (numb % 6);
	h->cfg.desc_gpa = image_gpa(h, get_le16(data + 8));
	h->cfg.driver_gpa = image_gpa(h, get_le16(data + 10));
	h->cfg.device_gpa = image_gpa(h, get_le16(data + 12));
	h->cfg.mem = &h->mem;

	h->iov_max = iovb == 0 ? IOV_CAP : iovb == 255 ? 0 : iovb;
	h->flush_every = 1u << (ops & 3);
	h->len_mode = (ops >> 2) & 3;
	h->hold = 1 + ((ops >> 4) & 3);
	h->touch_left = TOUCH_BUDGET_BYTES;
	h->unpop_each = data[20] & 1;
	h->unpop_held = data[20] & 2;
	h->burst = data[20] & 4;
	h->dir = (const enum vq_dir[4]){ VQ_DIR_ANY, VQ_DIR_READ, VQ_DIR_WRITE, VQ_DIR_ANY }[data[20] >> 3 & 3];
	h->cfg.device_reads = data[20] & 0x20; /* a transmitq: packed indirect tables' writable entries are read */
}

/* Header bytes 16-19: what the device writes into writable buffers. */
static void set_pattern(struct harness *h, const uint8_t fill[4])
{
	if (h->pattern_valid && !memcmp(h->pattern_fill, fill, 4))
		return;
	memcpy(h->pattern_fill, fill, 4);
	memcpy(h->pattern, fill, 4);
	for (size_t n = 4; n < IMAGE_BYTES; n *= 2)
		memcpy(h->pattern + n, h->pattern, n);
	h->pattern_valid = true;
}

/* Resume from a saved position; get must give back what set was given. */
static void set_base(struct harness *h, uint32_t base)
{
	vq_set_base(&h->q, base);
	if (!h->cfg.packed && vq_get_base(&h->q) != (uint16_t)base)
		fail("split: vq_get_base after vq_set_base differs");
	/* Packed without a used half (DPDK virtio-user): used starts where available starts. */
	if (h->cfg.packed && (base & 0x7fff) < h->cfg.num && (base >> 16 & 0x7fff) < h->cfg.num &&
	    vq_get_base(&h->q) != ((base >> 16) ? base : (base & 0xffff) | (base & 0xffff) << 16))
		fail("packed: vq_get_base after vq_set_base differs");
}

/* One input: map and fill guest memory, set the queue up, then the device rounds. */
static void run(struct harness *h, const uint8_t *data, size_t size)
{
	uint8_t ops = data[3];
	uint32_t base = get_le16(data + 4) | (uint32_t)get_le16(data + 6) << 16;
	size_t image_len = get_le16(data + 14);
	const uint8_t *p = data + HDR_BYTES, *end = data + size;
	unsigned rounds = 0;
	int rc;

	if (map_memory(h, (data[0] >> 4) & 3, gpa_bases[data[0] >> 6]))
		fail("harness: cannot map guest memory");
	if (image_len > (size_t)(end - p))
		image_len = (size_t)(end - p);
	image_write(h, 0, p, image_len);
	p += image_len;

	parse_config(h, data);
	set_pattern(h, data + 16);
	/* Exactly iov_max + 1 entries: ASan catches a write past the sentinel. */
	h->iov = calloc(h->iov_max + 1, sizeof(*h->iov));
	if (!h->iov)
		fail("harness: out of memory");

	rc = vq_init(&h->q, &h->cfg);
	trace("init %s num %u: %d\n", h->cfg.packed ? "packed" : "split", h->cfg.num, rc);
	if (rc) {
		if (rc > 0)
			fail("vq_init returned a positive value");
		return;
	}
	check_accepted_config(h);
	if (vq_broken(&h->q))
		fail("a fresh queue is broken");
	if (ops & 0x80)
		set_base(h, base);
	if (ops & 0x40)
		vq_kick_disable(&h->q);

	if (!device_round(h))
		return;
	/* Patches: the driver changes memory, then the device looks again. */
	while (end - p >= 3 && rounds++ < MAX_ROUNDS) {
		unsigned off = get_le16(p);
		size_t len = p[2];

		p += 3;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		image_write(h, off, p, len);
		trace("patch %#x len %zu\n", off, len);
		p += len;
		if (!device_round(h))
			return;
	}
}

/* Allocate guest memory before the first input, so no run looks like a leak. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mem_one = malloc(IMAGE_BYTES);
	mem_half[0] = malloc(HALF_BYTES);
	mem_half[1] = malloc(HALF_BYTES);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness harness;
	struct harness *h = &harness;

	if (size < HDR_BYTES)
		return 0;
	memset(h, 0, offsetof(struct harness, mem));
	run(h, data, size);
	free(h->iov);
	return 0;
}
