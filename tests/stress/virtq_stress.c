/* virtq_stress.c - transport stress: a driver and a device thread move verified buffers through every ring mode. */

/*
 * Objective
 *   Show that the driver side (vq_drv_*) and the device side (vq_*) of a
 *   virtqueue agree under load in all 16 combinations of
 *   {split, packed} x {direct, indirect} x {event_idx on, off} x
 *   {in_order on, off}: every buffer arrives once, in order, with its
 *   content intact in both directions; used lengths (including the ones an
 *   in-order device leaves implicit by batching, virtio 1.3 2.7.9 / 2.8.x)
 *   are reported right; and notification suppression never loses a kick or
 *   a call.
 *
 * Steps, per combination
 *   1. One memfd is mapped twice: a contiguous driver view, and a device
 *      view made of its two halves mapped separately, in reverse order,
 *      with PROT_NONE guards between them.  The device's struct gmem holds
 *      the halves as two regions adjacent in guest-physical space, the
 *      boundary at exactly 4 GiB:
 *
 *        memfd     0                    HALF                   MEM
 *                  +---------------------+---------------------+
 *        gpa       0xfff00000            0x1_0000_0000
 *                  | desc, used/dev evt  | avail/drv evt,       |
 *                  | areas 0..127        | indirect tables,     |
 *                  |           [crossing window]  areas 128..255|
 *                  +---------------------+---------------------+
 *        driver    [guard][ one mapping of the whole memfd ][guard]
 *        device    [guard][ HALF..MEM ][guard][ 0..HALF ][guard]
 *
 *   2. A driver thread on CPU 0 adds buffers (2 readable segments: a
 *      12-byte header and a 1..128-byte payload, both derived from the
 *      sequence number; 1 writable segment of 16..64 bytes, poisoned),
 *      kicks through an eventfd when vq_drv_kick_prepare() asks, reaps with
 *      vq_drv_get_used() and checks token, order, used length and written
 *      bytes, and sleeps on the call eventfd only after vq_drv_call_enable()
 *      says nothing is waiting.
 *   3. A device thread on CPU 1 pops batches of 1..64 chains, checks each
 *      chain's iovecs against where the driver placed the segments (so the
 *      translation through both regions is checked byte for byte), the
 *      order and the content, writes a pattern into the writable part (the
 *      whole of it, or a short length every SHORT_EVERY-th buffer), pushes,
 *      flushes, calls when vq_need_notify() says so, and sleeps on the kick
 *      eventfd only after vq_kick_enable() says nothing is available.
 *   4. One buffer at a time uses the "crossing window" at the region
 *      boundary, where one of its segments straddles the two regions (the
 *      device must see it as 2 iovecs) or ends / starts exactly on it.
 *   5. A sleeper that waits longer than the stall limit fails the
 *      combination as a lost notification; the main thread fails it when
 *      nothing moves at all (livelock) or the time limit passes.  A run
 *      never hangs: a thread that does not come back after an abort (stuck
 *      in the library) is left with its combination's memory, the next
 *      combination runs on fresh memory, and the process ends with _exit().
 *
 * Usage: virtq_stress [--count N] [--only PATTERN] [--timeout S] [--stall-ms MS] [--list]
 *   N defaults to $VSW_STRESS_COUNT or 10,000,000 buffers per combination;
 *   PATTERN is an fnmatch() pattern over the names --list prints.
 *   The last line is "stress: P passed, F failed" (combinations).
 */

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vsw/guest_mem.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"
#include "vsw/virtq_driver.h"

#define QUEUE_SIZE 256u
#define DEFAULT_COUNT 10000000ull
#define DEFAULT_STALL_MS 10000u

/* Shared memory: the memfd, its two halves (the two gmem regions). */
#define MEM_SIZE (2u << 20)
#define HALF (MEM_SIZE / 2)
#define GPA_BASE (0x100000000ull - HALF)	/* the region boundary sits at 4 GiB */
#define GUARD_SIZE (64u << 10)			/* PROT_NONE between and around mappings */

/* Ring placement (memfd offsets): split across both regions on purpose. */
#define OFF_DESC 0x0000u			/* region 0 */
#define OFF_DEVICE 0x2000u			/* region 0: used ring / device event */
#define OFF_DRIVER (HALF + 0x1000u)		/* region 1: avail ring / driver event */
#define OFF_INDIRECT (HALF + 0x4000u)		/* region 1: QUEUE_SIZE tables */
#define INDIRECT_MAX 4u

/*
 * Buffer areas: QUEUE_SIZE regular ones (half in each region), each with the
 * header at +0, the payload at +64 and the writable part at +256, plus the
 * crossing window around HALF used in NVARIANTS layouts (area ids
 * NAREAS .. NAREAS + NVARIANTS - 1).
 */
#define NAREAS QUEUE_SIZE
#define AREA_SIZE 512u
#define OFF_AREAS0 0x10000u
#define OFF_AREAS1 (HALF + 0x10000u)
#define NVARIANTS 4u
#define NBUFS (NAREAS + NVARIANTS)

#define HDR_LEN 12u
#define PAYLOAD_MAX 128u
#define WRITABLE_MIN 16u
#define WRITABLE_MAX 64u
#define GUARD_LEN 8u				/* poisoned bytes after the writable part */
#define POISON 0xeeu
#define SHORT_EVERY 7u				/* every 7th buffer gets a short used length */
#define IOV_CAP 8u
#define MIN_COVERAGE_COUNT 4096u		/* from here on, a run must have straddled */

#define SALT_OUT 0x3cu				/* driver -> device payload */
#define SALT_IN 0xa7u				/* device -> driver writable part */

/* The readable header, as the driver writes it at the start of a buffer. */
struct hdr {
	uint32_t seq;
	uint16_t payload_len;
	uint16_t writable_len;
	uint16_t area;
	uint16_t check;
};
_Static_assert(sizeof(struct hdr) == HDR_LEN, "header is 12 bytes");

/* One of the 16 combinations. */
struct combo {
	char name[48];
	bool packed, indirect, event_idx, in_order;
};

/* Driver-private record of a buffer area; its address is the token. */
struct buf {
	uint32_t seq;
	bool in_flight;
};

/* Where a buffer's three segments are (memfd offsets). */
struct placement {
	uint32_t off[3];	/* header, payload, writable */
	uint32_t len[3];
};

/* One combination's shared memory: the memfd seen by each side. */
struct shm {
	uint8_t *drv;		/* driver view, whole memfd */
	uint8_t *dev_lo;	/* device view of [0, HALF) */
	uint8_t *dev_hi;	/* device view of [HALF, MEM_SIZE) */
	uint8_t *drv_res, *dev_res;	/* the reservations holding them and their guards */
	struct gmem mem;	/* the device's map: two regions */
};

/* Everything one combination's threads share (allocated per combination). */
struct run {
	struct shm m;
	const struct combo *combo;
	uint64_t count;
	unsigned stall_ms;
	uint32_t seed;
	int kick_fd, call_fd;
	pthread_barrier_t start;

	struct vq_drv drv;	/* driver thread only */
	struct vq q;		/* device thread only */

	/* Driver thread only. */
	struct buf bufs[NBUFS];
	uint16_t free_ring[NAREAS];	/* FIFO of free regular areas */
	unsigned free_head, free_count;
	bool window_busy;
	uint64_t kicks, drv_sleeps, crossings;
	double seconds;

	/* Device thread only. */
	uint64_t calls, dev_sleeps, short_lens, split_iovs;

	/* Shared. */
	atomic_bool abort;
	atomic_flag failed;
	char why[512];
	_Atomic uint64_t dev_progress, drv_progress;
	atomic_bool drv_asleep, dev_asleep;	/* in wait_fd(): for the hang report */
	atomic_bool drv_done, dev_done;
};

static struct combo combos[16];

/* Nanoseconds on the monotonic clock. */
static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift32: cheap per-thread variation of batch sizes. */
static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Record the first failure of the run and ask both threads to stop. */
__attribute__((format(printf, 2, 3)))
static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (!atomic_flag_test_and_set(&r->failed)) {
		va_start(ap, fmt);
		vsnprintf(r->why, sizeof(r->why), fmt, ap);
		va_end(ap);
	}
	atomic_store(&r->abort, true);
}

static bool aborted(struct run *r)
{
	return atomic_load_explicit(&r->abort, memory_order_relaxed);
}

/* What each sequence number carries. */
static unsigned payload_len_of(uint32_t seq)
{
	return 1 + (seq * 37u + (seq >> 7)) % PAYLOAD_MAX;
}

static unsigned writable_len_of(uint32_t seq)
{
	return WRITABLE_MIN + (seq * 13u + (seq >> 5)) % (WRITABLE_MAX - WRITABLE_MIN + 1);
}

/* Bytes the device writes: all of the writable part, or a short 0..wlen-1. */
static uint32_t used_len_of(uint32_t seq)
{
	unsigned wlen = writable_len_of(seq);

	if (seq % SHORT_EVERY == SHORT_EVERY - 1)
		return (seq / SHORT_EVERY) % wlen;
	return wlen;
}

static uint16_t hdr_check(const struct hdr *h)
{
	uint32_t x = (h->seq * 0x9e3779b1u) ^ ((uint32_t)h->payload_len << 16) ^
		     ((uint32_t)h->writable_len << 8) ^ h->area;

	return (uint16_t)(x ^ (x >> 16) ^ 0x5a5a);
}

/* The pattern of @len bytes for @seq in one direction (@salt). */
static void fill_pattern(uint8_t *p, unsigned len, uint32_t seq, uint8_t salt)
{
	uint8_t a = (uint8_t)(seq ^ (seq >> 8) ^ (seq >> 16) ^ (seq >> 24) ^ salt);
	uint8_t b = (uint8_t)((seq >> 2) | 1);

	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(a + i * b);
}

/* Where area @area puts a buffer with these lengths. */
static void place(unsigned area, unsigned plen, unsigned wlen, struct placement *p)
{
	p->len[0] = HDR_LEN;
	p->len[1] = plen;
	p->len[2] = wlen;
	if (area < NAREAS) {
		uint32_t base = area < NAREAS / 2 ? OFF_AREAS0 + area * AREA_SIZE
						  : OFF_AREAS1 + (area - NAREAS / 2) * AREA_SIZE;

		p->off[0] = base;
		p->off[1] = base + 64;
		p->off[2] = base + 256;
		return;
	}
	switch (area - NAREAS) {
	case 0:		/* header ends and payload starts exactly at the boundary */
		p->off[0] = HALF - HDR_LEN;
		p->off[1] = HALF;
		p->off[2] = HALF + 256;
		break;
	case 1:		/* header straddles */
		p->off[0] = HALF - 5;
		p->off[1] = HALF + 64;
		p->off[2] = HALF + 256;
		break;
	case 2:		/* payload straddles (unless it is 1 byte long) */
		p->off[0] = HALF - 256;
		p->off[1] = HALF - plen / 2;
		p->off[2] = HALF + 256;
		break;
	default:	/* writable part straddles */
		p->off[0] = HALF - 256;
		p->off[1] = HALF - 200;
		p->off[2] = HALF - wlen / 2;
		break;
	}
}

static bool straddles(uint32_t off, uint32_t len)
{
	return off < HALF && off + len > HALF;
}

/* Device host address of memfd offset @off. */
static uint8_t *dev_hva(const struct shm *m, uint32_t off)
{
	return off < HALF ? m->dev_lo + off : m->dev_hi + (off - HALF);
}

/* Does [@p, @p + @len) lie inside one of the device's two mappings? */
static bool in_dev_view(const struct shm *m, const void *p, size_t len)
{
	const uint8_t *b = p;

	return (b >= m->dev_lo && len <= HALF && b - m->dev_lo <= (ptrdiff_t)(HALF - len)) ||
	       (b >= m->dev_hi && len <= HALF && b - m->dev_hi <= (ptrdiff_t)(HALF - len));
}

/* The iovecs the device must see for one segment; returns how many (1 or 2). */
static unsigned expect_iov(const struct shm *m, uint32_t off, uint32_t len, struct iovec *out)
{
	if (straddles(off, len)) {
		out[0] = (struct iovec){ dev_hva(m, off), HALF - off };
		out[1] = (struct iovec){ dev_hva(m, HALF), off + len - HALF };
		return 2;
	}
	out[0] = (struct iovec){ dev_hva(m, off), len };
	return 1;
}

/* ---- driver thread ---- */

/*
 * A free area: the crossing window whenever it is free, its layouts taken
 * in turn (so every one comes up whatever the timing), else the oldest free
 * regular area; -1 when none is free.
 */
static int area_get(struct run *r)
{
	int area;

	if (!r->window_busy) {
		r->window_busy = true;
		return (int)(NAREAS + r->crossings % NVARIANTS);
	}
	if (r->free_count == 0)
		return -1;
	area = r->free_ring[r->free_head];
	r->free_head = (r->free_head + 1) % NAREAS;
	r->free_count--;
	return area;
}

/* Give back an area; @front for one just taken and not used. */
static void area_put(struct run *r, unsigned area, bool front)
{
	if (area >= NAREAS) {
		r->window_busy = false;
		return;
	}
	if (front) {
		r->free_head = (r->free_head + NAREAS - 1) % NAREAS;
		r->free_ring[r->free_head] = (uint16_t)area;
	} else {
		r->free_ring[(r->free_head + r->free_count) % NAREAS] = (uint16_t)area;
	}
	r->free_count++;
}

/* Write buffer @seq into @area and add it; vq_drv_add()'s result. */
static int drv_add(struct run *r, unsigned area, uint32_t seq)
{
	struct hdr h = {
		.seq = seq,
		.payload_len = (uint16_t)payload_len_of(seq),
		.writable_len = (uint16_t)writable_len_of(seq),
		.area = (uint16_t)area,
	};
	struct placement p;
	struct vq_seg segs[3];
	int err;

	h.check = hdr_check(&h);
	place(area, h.payload_len, h.writable_len, &p);
	memcpy(r->m.drv + p.off[0], &h, sizeof(h));
	fill_pattern(r->m.drv + p.off[1], p.len[1], seq, SALT_OUT);
	memset(r->m.drv + p.off[2], POISON, p.len[2] + GUARD_LEN);
	for (unsigned i = 0; i < 3; i++)
		segs[i] = (struct vq_seg){ GPA_BASE + p.off[i], p.len[i] };
	err = vq_drv_add(&r->drv, segs, 2, 1, &r->bufs[area]);
	if (err == 0) {
		r->bufs[area].seq = seq;
		r->bufs[area].in_flight = true;
		if (area >= NAREAS)
			r->crossings++;
	}
	return err;
}

/* Check one reaped buffer, expected to be @want; false after fail(). */
static bool drv_check(struct run *r, void *token, uint32_t len, uint64_t want)
{
	struct buf *b = token;
	uint8_t expect[WRITABLE_MAX];
	struct placement p;
	unsigned area, wlen;
	uint32_t want_len;
	const uint8_t *w;

	if (b < r->bufs || b >= r->bufs + NBUFS) {
		fail(r, "driver: reaped token %p is not one of ours (reap #%" PRIu64 ")", token, want);
		return false;
	}
	area = (unsigned)(b - r->bufs);
	if (!b->in_flight) {
		fail(r, "driver: reaped token of area %u which is not in flight (reap #%" PRIu64 ")",
		     area, want);
		return false;
	}
	if (b->seq != want) {
		fail(r, "driver: completion order: reaped seq %" PRIu32 ", expected %" PRIu64,
		     b->seq, want);
		return false;
	}
	wlen = writable_len_of(b->seq);
	want_len = used_len_of(b->seq);
	if (len != want_len) {
		fail(r, "driver: seq %" PRIu32 ": used len %" PRIu32 ", expected %" PRIu32
		     " (writable %u, %s)", b->seq, len, want_len, wlen,
		     want_len == wlen ? "full" : "short");
		return false;
	}
	place(area, payload_len_of(b->seq), wlen, &p);
	w = r->m.drv + p.off[2];
	fill_pattern(expect, len, b->seq, SALT_IN);
	if (memcmp(w, expect, len) != 0) {
		fail(r, "driver: seq %" PRIu32 ": written bytes differ from the pattern", b->seq);
		return false;
	}
	for (unsigned i = len; i < wlen + GUARD_LEN; i++) {
		if (w[i] != POISON) {
			fail(r, "driver: seq %" PRIu32 ": byte %u of the writable part (len %" PRIu32
			     ", writable %u) was overwritten", b->seq, i, len, wlen);
			return false;
		}
	}
	b->in_flight = false;
	area_put(r, area, false);
	return true;
}

/* Wait for @fd to be readable and drain it: 0, -ETIMEDOUT, -ECANCELED (abort) or -errno. */
static int wait_fd(struct run *r, int fd)
{
	int64_t deadline = now_ns() + (int64_t)r->stall_ms * 1000000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t v;

	for (;;) {
		int n;

		if (aborted(r))
			return -ECANCELED;
		n = poll(&pfd, 1, 100);
		if (n > 0) {
			if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			return 0;
		}
		if (n < 0 && errno != EINTR)
			return -errno;
		if (now_ns() > deadline)
			return -ETIMEDOUT;
	}
}

/* Empty a non-blocking eventfd so a later wake-up means a new notification. */
static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("virtq_stress: read eventfd");
}

static void notify_fd(struct run *r, int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		fail(r, "write eventfd: %s", strerror(errno));
}

static void pin_cpu(unsigned cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(ncpu > 0 ? cpu % (unsigned)ncpu : 0, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "virtq_stress: cannot pin to CPU %u (continuing)\n", cpu);
}

/* How many buffers to add / reap in one go: mostly "all", sometimes few. */
static unsigned pick_batch(uint32_t *s)
{
	static const unsigned sizes[] = { 1, 2, 3, 5, 8, 16, 32, 64, QUEUE_SIZE, QUEUE_SIZE };

	return sizes[rnd(s) % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void *driver_main(void *arg)
{
	struct run *r = arg;
	struct vq_drv *d = &r->drv;
	uint64_t submitted = 0, reaped = 0;
	uint32_t rng = (r->seed ^ 0x1234567u) | 1;	/* xorshift must not start at 0 */
	int64_t t0;
	void *token;
	uint32_t len;
	int err;

	pin_cpu(0);
	pthread_barrier_wait(&r->start);
	t0 = now_ns();
	vq_drv_call_disable(d);
	while (reaped < r->count) {
		unsigned add_budget = pick_batch(&rng), reap_budget = pick_batch(&rng);
		unsigned added = 0, reaped_now = 0;

		if (aborted(r))
			goto out;
		while (submitted < r->count && added < add_budget) {
			int area = area_get(r);

			if (area < 0)
				break;
			err = drv_add(r, (unsigned)area, (uint32_t)submitted);
			if (err == -ENOSPC) {
				area_put(r, (unsigned)area, true);
				break;
			}
			if (err) {
				fail(r, "driver: vq_drv_add(seq %" PRIu64 "): %s (%s)", submitted,
				     strerror(-err), d->error ? d->error : "-");
				goto out;
			}
			added++;
			submitted++;
		}
		if (added && vq_drv_kick_prepare(d)) {
			notify_fd(r, r->kick_fd);
			r->kicks++;
		}
		while (reaped_now < reap_budget) {
			err = vq_drv_get_used(d, &token, &len);
			if (err == -EAGAIN)
				break;
			if (err) {
				fail(r, "driver: vq_drv_get_used after %" PRIu64 " reaped: %s (%s)",
				     reaped, strerror(-err), d->error ? d->error : "-");
				goto out;
			}
			if (!drv_check(r, token, len, reaped))
				goto out;
			reaped++;
			reaped_now++;
		}
		atomic_store_explicit(&r->drv_progress, reaped, memory_order_relaxed);
		if (added || reaped_now)
			continue;
		/* Nothing to reap and nothing more fits: arm the call, then sleep. */
		drain_fd(r->call_fd);
		if (vq_drv_call_enable(d)) {
			vq_drv_call_disable(d);
			continue;
		}
		r->drv_sleeps++;
		atomic_store(&r->drv_asleep, true);
		err = wait_fd(r, r->call_fd);
		atomic_store(&r->drv_asleep, false);
		if (err == -ECANCELED)
			goto out;
		if (err) {
			fail(r, "driver: %s waiting for a used-buffer notification (%" PRIu64
			     " submitted, %" PRIu64 " reaped, %u in flight; device %s): lost %s?",
			     err == -ETIMEDOUT ? "timed out" : strerror(-err), submitted, reaped,
			     vq_drv_in_flight(d),
			     atomic_load(&r->dev_asleep) ? "asleep waiting for a kick" : "awake",
			     atomic_load(&r->dev_asleep) ? "kick or call" : "call, or is the device stuck");
			goto out;
		}
		vq_drv_call_disable(d);
	}
	r->seconds = (double)(now_ns() - t0) / 1e9;
	if (vq_drv_in_flight(d) != 0)
		fail(r, "driver: %u buffers still in flight after the last one", vq_drv_in_flight(d));
	else if ((err = vq_drv_get_used(d, &token, &len)) != -EAGAIN)
		fail(r, "driver: vq_drv_get_used after the last buffer returned %d", err);
	else if (d->broken)
		fail(r, "driver: queue broken at the end: %s", d->error ? d->error : "-");
out:
	atomic_store(&r->drv_done, true);
	return NULL;
}

/* ---- device thread ---- */

/* Check one popped chain, expected to be buffer @want, and fill its writable part. */
static bool dev_process(struct run *r, const struct vq_elem *e, const struct iovec *iov,
			uint64_t want, uint32_t *written)
{
	uint8_t data[HDR_LEN + PAYLOAD_MAX], expect[PAYLOAD_MAX > WRITABLE_MAX ? PAYLOAD_MAX : WRITABLE_MAX];
	struct iovec exp_iov[6];
	unsigned nout, nin, copied = 0, todo;
	struct placement p;
	uint32_t out_len = 0, in_len = 0, len;
	struct hdr h;

	if (e->out_num + e->in_num > IOV_CAP || e->out_num == 0 || e->in_num == 0) {
		fail(r, "device: buffer %" PRIu64 " (id %u): %u readable + %u writable iovecs",
		     want, e->id, e->out_num, e->in_num);
		return false;
	}
	for (unsigned i = 0; i < e->out_num + e->in_num; i++) {
		/* Checked before any access: a bad translation fails, it does not crash. */
		if (!in_dev_view(&r->m, iov[i].iov_base, iov[i].iov_len)) {
			fail(r, "device: buffer %" PRIu64 ": iovec %u {%p, %zu} is not inside guest memory",
			     want, i, iov[i].iov_base, iov[i].iov_len);
			return false;
		}
		if (i < e->out_num)
			out_len += (uint32_t)iov[i].iov_len;
		else
			in_len += (uint32_t)iov[i].iov_len;
	}
	if (out_len != e->out_len || in_len != e->in_len) {
		fail(r, "device: buffer %" PRIu64 ": iovecs hold %u+%u bytes, elem says %u+%u",
		     want, out_len, in_len, e->out_len, e->in_len);
		return false;
	}
	if (out_len < HDR_LEN || out_len > sizeof(data)) {
		fail(r, "device: buffer %" PRIu64 ": %u readable bytes", want, out_len);
		return false;
	}
	for (unsigned i = 0; i < e->out_num; i++) {
		memcpy(data + copied, iov[i].iov_base, iov[i].iov_len);
		copied += (unsigned)iov[i].iov_len;
	}
	memcpy(&h, data, sizeof(h));
	if (h.seq != want) {
		fail(r, "device: order: popped seq %" PRIu32 ", expected %" PRIu64, h.seq, want);
		return false;
	}
	if (h.check != hdr_check(&h) || h.area >= NBUFS ||
	    h.payload_len != payload_len_of(h.seq) || h.writable_len != writable_len_of(h.seq)) {
		fail(r, "device: seq %" PRIu32 ": bad header (area %u, payload %u, writable %u)",
		     h.seq, h.area, h.payload_len, h.writable_len);
		return false;
	}
	if (out_len != HDR_LEN + h.payload_len || in_len != h.writable_len) {
		fail(r, "device: seq %" PRIu32 ": %u readable / %u writable bytes, expected %u / %u",
		     h.seq, out_len, in_len, HDR_LEN + h.payload_len, h.writable_len);
		return false;
	}
	/* Translation: each segment lands where the driver put it, split at HALF. */
	place(h.area, h.payload_len, h.writable_len, &p);
	nout = expect_iov(&r->m, p.off[0], p.len[0], exp_iov);
	nout += expect_iov(&r->m, p.off[1], p.len[1], exp_iov + nout);
	nin = expect_iov(&r->m, p.off[2], p.len[2], exp_iov + nout);
	if (e->out_num != nout || e->in_num != nin) {
		fail(r, "device: seq %" PRIu32 " (area %u): %u+%u iovecs, expected %u+%u",
		     h.seq, h.area, e->out_num, e->in_num, nout, nin);
		return false;
	}
	for (unsigned i = 0; i < nout + nin; i++) {
		if (iov[i].iov_base != exp_iov[i].iov_base || iov[i].iov_len != exp_iov[i].iov_len) {
			fail(r, "device: seq %" PRIu32 " (area %u): iovec %u is {%p, %zu}, expected {%p, %zu}",
			     h.seq, h.area, i, iov[i].iov_base, iov[i].iov_len,
			     exp_iov[i].iov_base, exp_iov[i].iov_len);
			return false;
		}
	}
	if (nout + nin > 3)
		r->split_iovs++;
	fill_pattern(expect, h.payload_len, h.seq, SALT_OUT);
	if (memcmp(data + HDR_LEN, expect, h.payload_len) != 0) {
		fail(r, "device: seq %" PRIu32 ": payload differs from the pattern", h.seq);
		return false;
	}
	/* Fill the writable part: all of it, or a short length now and then. */
	len = used_len_of(h.seq);
	if (len != h.writable_len)
		r->short_lens++;
	fill_pattern(expect, len, h.seq, SALT_IN);
	copied = 0;
	for (unsigned i = e->out_num; i < e->out_num + e->in_num && copied < len; i++) {
		todo = len - copied < iov[i].iov_len ? len - copied : (unsigned)iov[i].iov_len;
		memcpy(iov[i].iov_base, expect + copied, todo);
		copied += todo;
	}
	*written = len;
	return true;
}

static void *device_main(void *arg)
{
	struct run *r = arg;
	struct vq *q = &r->q;
	uint64_t next = 0;
	uint32_t rng = (r->seed ^ 0x89abcdefu) | 1;
	struct iovec iov[IOV_CAP];
	struct vq_elem e;
	uint32_t len;
	int err;

	pin_cpu(1);
	pthread_barrier_wait(&r->start);
	vq_kick_disable(q);
	while (next < r->count) {
		unsigned budget = 1 + rnd(&rng) % 64, n = 0;

		if (aborted(r))
			goto out;
		while (n < budget) {
			err = vq_pop(q, &e, iov, IOV_CAP);
			if (err == -EAGAIN)
				break;
			if (err) {
				fail(r, "device: vq_pop after %" PRIu64 " buffers: %s (%s)", next,
				     strerror(-err), vq_error(q) ? vq_error(q) : "-");
				goto out;
			}
			if (!dev_process(r, &e, iov, next, &len))
				goto out;
			vq_push(q, &e, len);
			next++;
			n++;
		}
		if (n) {
			vq_flush(q);
			atomic_store_explicit(&r->dev_progress, next, memory_order_relaxed);
			if (vq_need_notify(q)) {
				notify_fd(r, r->call_fd);
				r->calls++;
			}
			continue;
		}
		/* Nothing available: arm the kick, look again, then sleep. */
		drain_fd(r->kick_fd);
		if (vq_kick_enable(q)) {
			vq_kick_disable(q);
			continue;
		}
		r->dev_sleeps++;
		atomic_store(&r->dev_asleep, true);
		err = wait_fd(r, r->kick_fd);
		atomic_store(&r->dev_asleep, false);
		if (err == -ECANCELED)
			goto out;
		if (err) {
			fail(r, "device: %s waiting for a kick after %" PRIu64 " buffers (driver %s): lost %s?",
			     err == -ETIMEDOUT ? "timed out" : strerror(-err), next,
			     atomic_load(&r->drv_asleep) ? "asleep waiting for a call" : "awake",
			     atomic_load(&r->drv_asleep) ? "kick or call" : "kick, or is the driver stuck");
			goto out;
		}
		vq_kick_disable(q);
	}
	if (vq_broken(q))
		fail(r, "device: queue broken at the end: %s", vq_error(q) ? vq_error(q) : "-");
out:
	atomic_store(&r->dev_done, true);
	return NULL;
}

/* ---- setup and the main loop ---- */

/* Unmap what shm_setup() mapped (the reservations cover the mappings inside them). */
static void shm_teardown(struct shm *m)
{
	munmap(m->drv_res, MEM_SIZE + 2 * GUARD_SIZE);
	munmap(m->dev_res, MEM_SIZE + 3 * GUARD_SIZE);
}

/* Map a new memfd as one driver view and two separate device views; 0 or -1. */
static int shm_setup(struct shm *m)
{
	int fd, err;

	fd = memfd_create("vsw-virtq-stress", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, MEM_SIZE) < 0) {
		perror("virtq_stress: memfd");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Driver view: [guard][memfd][guard]. */
	m->drv_res = mmap(NULL, MEM_SIZE + 2 * GUARD_SIZE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	/* Device view: [guard][second half][guard][first half][guard]. */
	m->dev_res = mmap(NULL, MEM_SIZE + 3 * GUARD_SIZE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->drv_res == MAP_FAILED || m->dev_res == MAP_FAILED)
		goto out_unmap;
	m->drv = mmap(m->drv_res + GUARD_SIZE, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_FIXED, fd, 0);
	m->dev_hi = mmap(m->dev_res + GUARD_SIZE, HALF, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, HALF);
	m->dev_lo = mmap(m->dev_res + 2 * GUARD_SIZE + HALF, HALF, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0);
	if (m->drv == MAP_FAILED || m->dev_hi == MAP_FAILED || m->dev_lo == MAP_FAILED)
		goto out_unmap;
	close(fd);	/* the mappings keep the memory */
	gmem_init(&m->mem);
	err = gmem_add(&m->mem, GPA_BASE, HALF, m->dev_lo);
	if (!err)
		err = gmem_add(&m->mem, GPA_BASE + HALF, HALF, m->dev_hi);
	if (err) {
		fprintf(stderr, "virtq_stress: gmem_add: %s\n", strerror(-err));
		shm_teardown(m);
		return -1;
	}
	return 0;
out_unmap:
	perror("virtq_stress: mmap");
	if (m->drv_res != MAP_FAILED)
		munmap(m->drv_res, MEM_SIZE + 2 * GUARD_SIZE);
	if (m->dev_res != MAP_FAILED)
		munmap(m->dev_res, MEM_SIZE + 3 * GUARD_SIZE);
	close(fd);
	return -1;
}

static void combos_init(void)
{
	for (unsigned i = 0; i < 16; i++) {
		struct combo *c = &combos[i];

		c->packed = i & 8;
		c->indirect = i & 4;
		c->event_idx = !(i & 2);
		c->in_order = !(i & 1);
		snprintf(c->name, sizeof(c->name), "%s-%s-%s-%s", c->packed ? "packed" : "split",
			 c->indirect ? "indirect" : "direct", c->event_idx ? "evidx" : "noevidx",
			 c->in_order ? "inorder" : "noinorder");
	}
}

/* Zero the memory and set both queue ends up for @c; 0 or -1 with r->why set. */
static int run_setup(struct run *r, const struct combo *c)
{
	struct vq_drv_config dc = {
		.num = QUEUE_SIZE,
		.packed = c->packed, .event_idx = c->event_idx,
		.indirect = c->indirect, .in_order = c->in_order,
		.desc = r->m.drv + OFF_DESC,
		.driver_area = r->m.drv + OFF_DRIVER,
		.device_area = r->m.drv + OFF_DEVICE,
	};
	struct vq_config qc = {
		.num = QUEUE_SIZE,
		.packed = c->packed, .event_idx = c->event_idx,
		.indirect = c->indirect, .in_order = c->in_order,
		.desc_gpa = GPA_BASE + OFF_DESC,
		.driver_gpa = GPA_BASE + OFF_DRIVER,
		.device_gpa = GPA_BASE + OFF_DEVICE,
		.mem = &r->m.mem,
	};
	int err;

	if (c->indirect) {
		dc.indirect_hva = r->m.drv + OFF_INDIRECT;
		dc.indirect_gpa = GPA_BASE + OFF_INDIRECT;
		dc.indirect_max = INDIRECT_MAX;
	}
	memset(r->m.drv, 0xd5, MEM_SIZE);	/* garbage everywhere the rings do not zero */
	err = vq_drv_init(&r->drv, &dc);
	if (err) {
		snprintf(r->why, sizeof(r->why), "vq_drv_init: %s", strerror(-err));
		return -1;
	}
	err = vq_init(&r->q, &qc);
	if (err) {
		snprintf(r->why, sizeof(r->why), "vq_init: %s", strerror(-err));
		vq_drv_fini(&r->drv);
		return -1;
	}
	for (unsigned i = 0; i < NAREAS; i++)
		r->free_ring[i] = (uint16_t)i;
	r->free_head = 0;
	r->free_count = NAREAS;
	return 0;
}

/*
 * Watch a running combination until both threads are done: fail it when
 * nothing moves for twice the stall limit or its time limit passes.
 * Returns false when a thread did not stop within 10 s of the abort.
 */
static bool run_watch(struct run *r, unsigned timeout_s)
{
	int64_t start = now_ns(), last_move = start, abort_at = 0;
	int64_t deadline = start + (int64_t)timeout_s * 1000000000;
	uint64_t last_progress = 0;

	while (!(atomic_load(&r->drv_done) && atomic_load(&r->dev_done))) {
		struct timespec ts = { 0, 20 * 1000000 };
		uint64_t dev_at, drv_at;
		int64_t t;

		nanosleep(&ts, NULL);
		t = now_ns();
		dev_at = atomic_load_explicit(&r->dev_progress, memory_order_relaxed);
		drv_at = atomic_load_explicit(&r->drv_progress, memory_order_relaxed);
		if (dev_at + drv_at != last_progress) {
			last_progress = dev_at + drv_at;
			last_move = t;
		}
		if (abort_at == 0 && t > deadline)
			fail(r, "time limit of %u s passed (device at %" PRIu64 ", driver at %" PRIu64 ")",
			     timeout_s, dev_at, drv_at);
		else if (abort_at == 0 && t - last_move > 2 * (int64_t)r->stall_ms * 1000000)
			fail(r, "no progress for %u ms (livelock, or stuck in the library?): device at %"
			     PRIu64 ", driver at %" PRIu64, 2 * r->stall_ms, dev_at, drv_at);
		if (abort_at == 0 && atomic_load(&r->abort))
			abort_at = t;
		if (abort_at && t - abort_at > 10 * (int64_t)1000000000) {
			printf("FAIL: %s; the%s%s thread did not stop within 10 s of the abort"
			       " (left behind)\n", r->why,
			       atomic_load(&r->drv_done) ? "" : " driver",
			       atomic_load(&r->dev_done) ? "" : " device");
			return false;
		}
	}
	return true;
}

/*
 * Run one combination on fresh memory; returns true when it passed.  Sets
 * *@stuck when its threads did not come back after an abort: their memory
 * is then left to them and the next combination gets its own.
 */
static bool run_combo(const struct combo *c, uint64_t count, unsigned stall_ms,
		      unsigned timeout_s, uint32_t seed, bool *stuck)
{
	struct run *r;
	pthread_t drv_thread, dev_thread;
	bool ok = false;

	printf("%-34s", c->name);
	fflush(stdout);
	r = calloc(1, sizeof(*r));
	if (!r) {
		printf("FAIL: out of memory\n");
		return false;
	}
	atomic_flag_clear(&r->failed);
	r->combo = c;
	r->count = count;
	r->stall_ms = stall_ms;
	r->seed = seed;
	r->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->kick_fd < 0 || r->call_fd < 0) {
		printf("FAIL: eventfd: %s\n", strerror(errno));
		goto out_close;
	}
	if (shm_setup(&r->m) < 0) {
		printf("FAIL: cannot set up shared memory\n");
		goto out_close;
	}
	if (run_setup(r, c) < 0) {
		printf("FAIL: %s\n", r->why);
		goto out_unmap;
	}
	pthread_barrier_init(&r->start, NULL, 2);
	if (pthread_create(&drv_thread, NULL, driver_main, r) != 0) {
		printf("FAIL: pthread_create\n");
		goto out_fini;
	}
	if (pthread_create(&dev_thread, NULL, device_main, r) != 0) {
		printf("FAIL: pthread_create\n");
		*stuck = true;	/* the driver waits at the barrier for good */
		return false;
	}
	if (!run_watch(r, timeout_s)) {
		*stuck = true;
		return false;
	}
	pthread_join(drv_thread, NULL);
	pthread_join(dev_thread, NULL);

	/* Both threads are gone: the device must see nothing left over. */
	if (!atomic_load(&r->abort)) {
		struct iovec iov[IOV_CAP];
		struct vq_elem e;
		int err = vq_pop(&r->q, &e, iov, IOV_CAP);

		if (err != -EAGAIN)
			fail(r, "device: vq_pop after the last buffer returned %d (%s)", err,
			     vq_error(&r->q) ? vq_error(&r->q) : "-");
		else if (count >= MIN_COVERAGE_COUNT &&
			 (r->crossings < NVARIANTS || r->split_iovs == 0 || r->short_lens == 0))
			fail(r, "coverage: %" PRIu64 " window buffers, %" PRIu64
			     " straddling, %" PRIu64 " short lengths", r->crossings,
			     r->split_iovs, r->short_lens);
	}
	ok = !atomic_load(&r->abort);
	if (ok)
		printf("%9" PRIu64 " buffers %8.3f s %6.2f Mpps  kicks %8" PRIu64 "  calls %8" PRIu64
		       "  (sleeps drv %" PRIu64 " dev %" PRIu64 ", straddling %" PRIu64 ")  ok\n",
		       count, r->seconds, r->seconds > 0 ? (double)count / r->seconds / 1e6 : 0.0,
		       r->kicks, r->calls, r->drv_sleeps, r->dev_sleeps, r->split_iovs);
	else
		printf("FAIL: %s\n", r->why);
out_fini:
	pthread_barrier_destroy(&r->start);
	vq_drv_fini(&r->drv);
out_unmap:
	shm_teardown(&r->m);
out_close:
	if (r->kick_fd >= 0)
		close(r->kick_fd);
	if (r->call_fd >= 0)
		close(r->call_fd);
	free(r);
	return ok;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: virtq_stress [--count N] [--only PATTERN] [--timeout S] [--stall-ms MS]"
		   " [--seed N] [--list]\n"
		   "  --count N     buffers per combination (default $VSW_STRESS_COUNT or %llu)\n"
		   "  --only PAT    run the combinations whose name matches the fnmatch() pattern\n"
		   "  --timeout S   time limit per combination (default 60 + 20 us per buffer)\n"
		   "  --stall-ms MS fail a sleep longer than this as a lost notification (default %u)\n"
		   "  --seed N      vary the batch sizes differently\n"
		   "  --list        print the combination names\n",
		   DEFAULT_COUNT, DEFAULT_STALL_MS);
}

/* Parse a decimal option value in [lo, hi]; exits on a bad one. */
static uint64_t parse_num(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "virtq_stress: bad %s '%s' (want %" PRIu64 "..%" PRIu64 ")\n",
			opt, s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t count = DEFAULT_COUNT;
	unsigned stall_ms = DEFAULT_STALL_MS, timeout_s = 0, passed = 0, failed = 0, selected = 0;
	const char *only = NULL, *env = getenv("VSW_STRESS_COUNT");
	uint32_t seed = 1;
	bool stuck = false;

	combos_init();
	if (env && *env)
		count = parse_num("VSW_STRESS_COUNT", env, 1, UINT32_MAX);
	for (int i = 1; i < argc; i += 2) {	/* every option but --list / --help takes a value */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--list")) {
			for (unsigned k = 0; k < 16; k++)
				printf("%s\n", combos[k].name);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!v) {
			usage(stderr);
			return 2;
		} else if (!strcmp(a, "--count")) {
			count = parse_num(a, v, 1, UINT32_MAX);
		} else if (!strcmp(a, "--only")) {
			only = v;
		} else if (!strcmp(a, "--timeout")) {
			timeout_s = (unsigned)parse_num(a, v, 1, 86400);
		} else if (!strcmp(a, "--stall-ms")) {
			stall_ms = (unsigned)parse_num(a, v, 10, 3600000);
		} else if (!strcmp(a, "--seed")) {
			seed = (uint32_t)parse_num(a, v, 0, UINT32_MAX);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (timeout_s == 0)
		timeout_s = (unsigned)(60 + count / 50000);
	for (unsigned k = 0; k < 16; k++)
		selected += !only || fnmatch(only, combos[k].name, 0) == 0;
	if (selected == 0) {
		fprintf(stderr, "virtq_stress: --only '%s' matches no combination (see --list)\n", only);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("virtq_stress: %" PRIu64 " buffers per combination, queue size %u, limit %u s, stall %u ms\n",
	       count, QUEUE_SIZE, timeout_s, stall_ms);

	for (unsigned k = 0; k < 16; k++) {
		if (only && fnmatch(only, combos[k].name, 0) != 0)
			continue;
		if (run_combo(&combos[k], count, stall_ms, timeout_s,
			      seed * 0x9e3779b9u + k * 0x85ebca6bu + 1, &stuck))
			passed++;
		else
			failed++;
	}
	printf("stress: %u passed, %u failed\n", passed, failed);
	fflush(stdout);
	if (stuck)
		_exit(1);	/* threads still hold the queues: do not run atexit handlers */
	return failed ? 1 : 0;
}
