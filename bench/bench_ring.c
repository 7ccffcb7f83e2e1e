/* bench_ring.c - Mpps of 64-byte buffers through a virtqueue, driver and device on two CPUs. */

/*
 * What is measured
 *
 *   CPU 0: driver thread                      CPU 1: device thread
 *   ------------------------------------      ------------------------------------
 *   reap used buffers (vq_drv_get_used)       pop up to B chains (vq_pop)
 *   while >= B buffers are free:              copy each 64-byte payload into a
 *     copy a 64-byte payload with its           private buffer, check its sequence
 *     sequence number into B buffers            number
 *     vq_drv_add() x B                        vq_push(len 0) x B
 *     vq_drv_kick_prepare() (result ignored)  vq_flush(), vq_need_notify() (ignored)
 *
 *          shared memory area (mmap, registered at GPA_BASE in a struct gmem)
 *          +-------+--------+--------+----------+---------+--------------+
 *          | desc  | driver | device | indirect | buffers | reference    |
 *          | ring  | area   | area   | tables   | 256x64  | SPSC ring    |
 *          +-------+--------+--------+----------+---------+--------------+
 *
 * B is the batch: buffers the driver adds per publish, and the most chains
 * the device pops per flush.  Both sides busy-poll; there are no eventfds.
 * The driver has as many 64-byte buffers as the queue has entries, so it
 * keeps the ring full.  The rate is what the device consumed and checked.
 *
 * The reference ("ref-bB") is a plain single-producer single-consumer ring of
 * QUEUE_SIZE 64-byte slots in the same kind of memory: the producer copies 64
 * bytes in and publishes its head once per batch (release), the consumer
 * copies 64 bytes out, checks the sequence number and publishes its tail
 * once per batch.  It is roughly what two cores can move through shared
 * memory, so each virtio figure is also given as a fraction of it.
 *
 * Samples are taken round-robin over the configurations (sample 1 of each,
 * then sample 2 of each, ...) so that a burst of load from something else on
 * the machine spreads over all of them instead of spoiling one.  Each sample
 * starts fresh queues and threads, warms up for WARMUP_MS, then counts for
 * --seconds.  The median, min and max of the samples are printed.
 *
 * Both threads spin, so each should own its CPU.  A sample in which either
 * thread got less than DISTURBED_SHARE of the wall-clock time as CPU time
 * was disturbed by another task and is taken again, within a budget
 * (--retakes); a disturbed sample that had to be kept ends the run with a
 * warning.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vsw/guest_mem.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"
#include "vsw/virtq_driver.h"

#define QUEUE_SIZE 256u
#define BUF_BYTES 64u
#define MAX_BATCH 32u
#define INDIRECT_MAX 4u		/* descriptors per indirect table */
#define DEV_IOV_MAX 4u		/* iovecs per popped chain */
#define WARMUP_MS 200
#define DISTURBED_SHARE 0.95	/* a thread got less CPU than this: the sample was disturbed */

/* Layout of the shared area; every offset is page aligned. */
#define AREA_BYTES (4u << 20)
#define GPA_BASE 0x40000000ull	/* arbitrary, so a GPA is never mistaken for a pointer */
#define OFF_DESC 0x000000u
#define OFF_DRIVER 0x002000u
#define OFF_DEVICE 0x004000u
#define OFF_INDIRECT 0x010000u
#define OFF_BUFS 0x100000u
#define OFF_REF 0x200000u

_Static_assert(OFF_DESC + 16 * QUEUE_SIZE <= OFF_DRIVER, "descriptor ring fits");
_Static_assert(OFF_DRIVER + 6 + 2 * QUEUE_SIZE <= OFF_DEVICE, "available ring fits");
_Static_assert(OFF_DEVICE + 6 + 8 * QUEUE_SIZE <= OFF_INDIRECT, "used ring fits");
_Static_assert(OFF_INDIRECT + 16 * INDIRECT_MAX * QUEUE_SIZE <= OFF_BUFS, "tables fit");
_Static_assert(OFF_BUFS + BUF_BYTES * QUEUE_SIZE <= OFF_REF, "buffers fit");

enum bench_kind { KIND_REF, KIND_VIRTIO };

/* One configuration to measure. */
struct bench_cfg {
	const char *name;
	enum bench_kind kind;
	bool packed, event_idx, indirect;
	unsigned batch;
	bool extra;		/* not in the default set; --all or --only */
};

static const struct bench_cfg cfgs[] = {
	{ "ref-b1", KIND_REF, false, false, false, 1, false },
	{ "split-b1", KIND_VIRTIO, false, false, false, 1, false },
	{ "packed-b1", KIND_VIRTIO, true, false, false, 1, false },
	{ "ref-b32", KIND_REF, false, false, false, 32, false },
	{ "split-b32", KIND_VIRTIO, false, false, false, 32, false },
	{ "packed-b32", KIND_VIRTIO, true, false, false, 32, false },
	{ "split-evidx-b1", KIND_VIRTIO, false, true, false, 1, true },
	{ "packed-evidx-b1", KIND_VIRTIO, true, true, false, 1, true },
	{ "split-evidx-b32", KIND_VIRTIO, false, true, false, 32, true },
	{ "packed-evidx-b32", KIND_VIRTIO, true, true, false, 32, true },
	{ "split-indirect-b32", KIND_VIRTIO, false, false, true, 32, true },
	{ "packed-indirect-b32", KIND_VIRTIO, true, false, true, 32, true },
};
#define NCFGS (sizeof(cfgs) / sizeof(cfgs[0]))

/* Reference ring in shared memory: indices on their own cache lines. */
struct ref_ring {
	alignas(64) _Atomic uint32_t head;	/* producer writes */
	alignas(64) _Atomic uint32_t tail;	/* consumer writes */
	alignas(64) uint8_t slot[QUEUE_SIZE][BUF_BYTES];
};
_Static_assert(OFF_REF + sizeof(struct ref_ring) <= AREA_BYTES, "reference ring fits");

/* State of one run of one configuration (two threads plus the sampler). */
struct run {
	const struct bench_cfg *cfg;
	uint8_t *area;			/* host view of the shared area */
	struct gmem mem;		/* the area, at GPA_BASE */
	struct vq_drv drv;
	struct vq dev;
	int cpu_driver, cpu_device;

	alignas(64) _Atomic bool stop;	/* sampler -> both threads */
	alignas(64) _Atomic uint64_t consumed;	/* device: buffers checked so far */
	alignas(64) _Atomic int failed;	/* first failure wins the message */
	char error[160];
};

static struct run run;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

/* Keep the compiler from eliding a copy whose destination is read only in part. */
static inline void sink(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Record the first failure of a thread and stop the run. */
static void run_fail(const char *who, const char *what, long long a, long long b)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&run.failed, &expected, 1))
		snprintf(run.error, sizeof(run.error), "%s: %s (%lld, %lld)", who, what, a, b);
	atomic_store(&run.stop, true);
}

static bool run_stopping(void)
{
	return atomic_load_explicit(&run.stop, memory_order_relaxed);
}

/* Pin the calling thread to @cpu; 0 or -errno. */
static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Driver thread: keep the ring full of 64-byte readable buffers, reap used ones. */
static void *virtio_driver_main(void *arg)
{
	const unsigned batch = run.cfg->batch;
	alignas(64) uint8_t payload[BUF_BYTES];
	uint16_t free_buf[QUEUE_SIZE];
	unsigned nfree = 0, i;
	uint64_t seq = 0;

	(void)arg;
	for (i = 0; i < QUEUE_SIZE; i++)
		free_buf[nfree++] = (uint16_t)i;
	memset(payload, 0xa5, sizeof(payload));

	while (!run_stopping()) {
		void *token;
		uint32_t len;
		int r;

		while ((r = vq_drv_get_used(&run.drv, &token, &len)) == 0) {
			uintptr_t b = (uintptr_t)token - 1;

			if (b >= QUEUE_SIZE || len != 0) {
				run_fail("driver", "bad used buffer (buffer, len)", (long long)b, len);
				return NULL;
			}
			free_buf[nfree++] = (uint16_t)b;
		}
		if (r != -EAGAIN) {
			run_fail("driver", "vq_drv_get_used failed", r, 0);
			return NULL;
		}
		if (nfree < batch) {
			cpu_relax();
			continue;
		}
		while (nfree >= batch) {
			for (i = 0; i < batch; i++) {
				uint16_t b = free_buf[--nfree];
				uint8_t *buf = run.area + OFF_BUFS + (size_t)b * BUF_BYTES;
				uint64_t gpa = GPA_BASE + OFF_BUFS + (uint64_t)b * BUF_BYTES;
				struct vq_seg seg[2];
				unsigned nseg;

				memcpy(payload, &seq, sizeof(seq));
				memcpy(buf, payload, BUF_BYTES);
				seq++;
				if (run.cfg->indirect) {
					/* Two segments, so the chain goes through an indirect table. */
					seg[0] = (struct vq_seg){ gpa, BUF_BYTES / 2 };
					seg[1] = (struct vq_seg){ gpa + BUF_BYTES / 2, BUF_BYTES / 2 };
					nseg = 2;
				} else {
					seg[0] = (struct vq_seg){ gpa, BUF_BYTES };
					nseg = 1;
				}
				r = vq_drv_add(&run.drv, seg, nseg, 0, (void *)(uintptr_t)(b + 1));
				if (r < 0) {
					run_fail("driver", "vq_drv_add failed (ret, in flight)", r,
						 vq_drv_in_flight(&run.drv));
					return NULL;
				}
			}
			(void)vq_drv_kick_prepare(&run.drv);
		}
	}
	return NULL;
}

/* Device thread: pop up to a batch, copy and check each payload, push, flush once. */
static void *virtio_device_main(void *arg)
{
	const unsigned batch = run.cfg->batch;
	struct vq_elem elem[MAX_BATCH];
	struct iovec iov[MAX_BATCH][DEV_IOV_MAX];
	alignas(64) uint8_t priv[BUF_BYTES];
	uint64_t expect = 0;

	(void)arg;
	while (!run_stopping()) {
		unsigned n = 0, i;

		while (n < batch) {
			int r = vq_pop(&run.dev, &elem[n], iov[n], DEV_IOV_MAX);

			if (r == -EAGAIN)
				break;
			if (r < 0) {
				run_fail("device", vq_error(&run.dev) ? vq_error(&run.dev) : "vq_pop failed",
					 r, (long long)expect);
				return NULL;
			}
			n++;
		}
		if (n == 0) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < n; i++) {
			const struct vq_elem *e = &elem[i];
			uint64_t seq;

			if (e->out_len != BUF_BYTES || e->in_num != 0) {
				run_fail("device", "unexpected chain (out_len, in_num)", e->out_len,
					 e->in_num);
				return NULL;
			}
			if (e->out_num == 1) {
				memcpy(priv, iov[i][0].iov_base, BUF_BYTES);
			} else {
				size_t off = 0;
				unsigned k;

				for (k = 0; k < e->out_num; k++) {
					memcpy(priv + off, iov[i][k].iov_base, iov[i][k].iov_len);
					off += iov[i][k].iov_len;
				}
			}
			sink(priv);
			memcpy(&seq, priv, sizeof(seq));
			if (seq != expect) {
				run_fail("device", "sequence number (got, expected)", (long long)seq,
					 (long long)expect);
				return NULL;
			}
			expect++;
			vq_push(&run.dev, e, 0);
		}
		vq_flush(&run.dev);
		(void)vq_need_notify(&run.dev);
		atomic_store_explicit(&run.consumed, expect, memory_order_relaxed);
	}
	return NULL;
}

/* Reference producer: copy 64 bytes per slot, publish the head once per batch. */
static void *ref_producer_main(void *arg)
{
	struct ref_ring *ring = (struct ref_ring *)(run.area + OFF_REF);
	const uint32_t batch = run.cfg->batch;
	alignas(64) uint8_t payload[BUF_BYTES];
	uint32_t head = 0, tail_seen = 0, i;
	uint64_t seq = 0;

	(void)arg;
	memset(payload, 0xa5, sizeof(payload));
	while (!run_stopping()) {
		if (head - tail_seen + batch > QUEUE_SIZE) {
			/* Acquire: the consumer's copies out of the slots it frees are done. */
			tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire);
			if (head - tail_seen + batch > QUEUE_SIZE) {
				cpu_relax();
				continue;
			}
		}
		for (i = 0; i < batch; i++) {
			memcpy(payload, &seq, sizeof(seq));
			memcpy(ring->slot[(head + i) % QUEUE_SIZE], payload, BUF_BYTES);
			seq++;
		}
		head += batch;
		/* Release: the slot copies above before the head that exposes them. */
		atomic_store_explicit(&ring->head, head, memory_order_release);
	}
	return NULL;
}

/* Reference consumer: copy up to a batch of slots out, check, publish the tail once. */
static void *ref_consumer_main(void *arg)
{
	struct ref_ring *ring = (struct ref_ring *)(run.area + OFF_REF);
	const uint32_t batch = run.cfg->batch;
	alignas(64) uint8_t priv[BUF_BYTES];
	uint32_t tail = 0, head_seen = 0, n, i;
	uint64_t expect = 0;

	(void)arg;
	while (!run_stopping()) {
		if (head_seen == tail) {
			/* Acquire: the producer's slot copies before we read them. */
			head_seen = atomic_load_explicit(&ring->head, memory_order_acquire);
			if (head_seen == tail) {
				cpu_relax();
				continue;
			}
		}
		n = head_seen - tail < batch ? head_seen - tail : batch;
		for (i = 0; i < n; i++) {
			uint64_t seq;

			memcpy(priv, ring->slot[(tail + i) % QUEUE_SIZE], BUF_BYTES);
			sink(priv);
			memcpy(&seq, priv, sizeof(seq));
			if (seq != expect) {
				run_fail("ref consumer", "sequence number (got, expected)",
					 (long long)seq, (long long)expect);
				return NULL;
			}
			expect++;
		}
		tail += n;
		/* Release: our copies out of the slots before the tail that frees them. */
		atomic_store_explicit(&ring->tail, tail, memory_order_release);
		atomic_store_explicit(&run.consumed, expect, memory_order_relaxed);
	}
	return NULL;
}

struct thread_start {
	void *(*fn)(void *);
	int cpu;
};

/* Pin, then run the role; a failed pin fails the run. */
static void *thread_trampoline(void *arg)
{
	const struct thread_start *ts = arg;
	int r = pin_self(ts->cpu);

	if (r < 0) {
		run_fail("pin", "pthread_setaffinity_np failed (cpu, -errno)", ts->cpu, r);
		return NULL;
	}
	return ts->fn(NULL);
}

/* Set up both sides of a virtqueue over the shared area; 0 or -errno. */
static int virtio_setup(const struct bench_cfg *c)
{
	struct vq_drv_config dc = {
		.num = QUEUE_SIZE,
		.packed = c->packed,
		.event_idx = c->event_idx,
		.indirect = c->indirect,
		.desc = run.area + OFF_DESC,
		.driver_area = run.area + OFF_DRIVER,
		.device_area = run.area + OFF_DEVICE,
		.indirect_hva = c->indirect ? run.area + OFF_INDIRECT : NULL,
		.indirect_gpa = c->indirect ? GPA_BASE + OFF_INDIRECT : 0,
		.indirect_max = c->indirect ? INDIRECT_MAX : 0,
	};
	struct vq_config vc = {
		.num = QUEUE_SIZE,
		.packed = c->packed,
		.event_idx = c->event_idx,
		.indirect = c->indirect,
		.desc_gpa = GPA_BASE + OFF_DESC,
		.driver_gpa = GPA_BASE + OFF_DRIVER,
		.device_gpa = GPA_BASE + OFF_DEVICE,
		.mem = &run.mem,
	};
	int r;

	r = vq_drv_init(&run.drv, &dc);
	if (r < 0) {
		fprintf(stderr, "bench_ring: %s: vq_drv_init: %s\n", c->name, strerror(-r));
		return r;
	}
	r = vq_init(&run.dev, &vc);
	if (r < 0) {
		fprintf(stderr, "bench_ring: %s: vq_init: %s\n", c->name, strerror(-r));
		vq_drv_fini(&run.drv);
		return r;
	}
	/* Both sides poll: ask each other not to notify. */
	vq_drv_call_disable(&run.drv);
	vq_kick_disable(&run.dev);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* CPU time @clock has consumed, in seconds (0 when it cannot be read). */
static double cpu_time_s(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		return 0;
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * One sample of @c: fresh queues and threads, warm-up, then @seconds of
 * counting.  Stores the rate in *@mpps and in *@cpu_share the CPU time the
 * less lucky of the two threads got, as a fraction of the wall-clock time:
 * both spin, so anything clearly below 1 means another task took their CPU.
 * Returns 0, or -1 after printing why.
 */
static int run_sample(const struct bench_cfg *c, double seconds, int cpu_driver,
		      int cpu_device, double *mpps, double *cpu_share)
{
	struct thread_start producer, consumer;
	clockid_t clock_p, clock_c;
	double t0, t1, p0 = 0, p1 = 0, c0 = 0, c1 = 0;
	bool have_clocks;
	pthread_t tp, tc;
	uint64_t n0, n1;
	int r;

	memset(run.area, 0, AREA_BYTES);
	run.cfg = c;
	atomic_store(&run.stop, false);
	atomic_store(&run.consumed, 0);
	atomic_store(&run.failed, 0);
	run.error[0] = '\0';

	if (c->kind == KIND_VIRTIO) {
		if (virtio_setup(c) < 0)
			return -1;
		producer = (struct thread_start){ virtio_driver_main, cpu_driver };
		consumer = (struct thread_start){ virtio_device_main, cpu_device };
	} else {
		producer = (struct thread_start){ ref_producer_main, cpu_driver };
		consumer = (struct thread_start){ ref_consumer_main, cpu_device };
	}

	r = pthread_create(&tc, NULL, thread_trampoline, &consumer);
	if (r == 0) {
		r = pthread_create(&tp, NULL, thread_trampoline, &producer);
		if (r != 0) {
			atomic_store(&run.stop, true);
			pthread_join(tc, NULL);
		}
	}
	if (r != 0) {
		fprintf(stderr, "bench_ring: pthread_create: %s\n", strerror(r));
		if (c->kind == KIND_VIRTIO)
			vq_drv_fini(&run.drv);
		return -1;
	}

	have_clocks = pthread_getcpuclockid(tp, &clock_p) == 0 &&
		      pthread_getcpuclockid(tc, &clock_c) == 0;

	sleep_s(WARMUP_MS / 1000.0);
	n0 = atomic_load_explicit(&run.consumed, memory_order_relaxed);
	t0 = now_s();
	if (have_clocks) {
		p0 = cpu_time_s(clock_p);
		c0 = cpu_time_s(clock_c);
	}
	sleep_s(seconds);
	n1 = atomic_load_explicit(&run.consumed, memory_order_relaxed);
	t1 = now_s();
	if (have_clocks) {
		p1 = cpu_time_s(clock_p);
		c1 = cpu_time_s(clock_c);
	}
	atomic_store(&run.stop, true);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	if (c->kind == KIND_VIRTIO)
		vq_drv_fini(&run.drv);

	if (atomic_load(&run.failed)) {
		fprintf(stderr, "bench_ring: %s: %s\n", c->name, run.error);
		return -1;
	}
	if (n1 == n0) {
		fprintf(stderr, "bench_ring: %s: no buffer moved in %.1f s\n", c->name, seconds);
		return -1;
	}
	*mpps = (double)(n1 - n0) / (t1 - t0) / 1e6;
	/* Without the thread clocks the share is unknown: take the sample as it is. */
	*cpu_share = have_clocks ? (p1 - p0 < c1 - c0 ? p1 - p0 : c1 - c0) / (t1 - t0) : 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @n sorted values. */
static double median_sorted(const double *v, unsigned n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The 1-minute load average, or -1 when it cannot be read. */
static double read_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double load = -1;

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = -1;
		fclose(f);
	}
	return load;
}

static void usage(FILE *out)
{
	unsigned i;

	fprintf(out,
		"usage: bench_ring [--seconds S] [--samples N] [--only NAME[,NAME...]] [--all]\n"
		"                  [--cpus DRIVER,DEVICE] [--retakes N] [--json] [--list]\n"
		"  Mpps of %u-byte buffers driver -> device over a %u-entry virtqueue,\n"
		"  driver and device busy-polling on two CPUs, against a plain SPSC ring.\n"
		"  --seconds S   length of one sample (default 2)\n"
		"  --samples N   samples per configuration (default 7)\n"
		"  --only LIST   run only these configurations (the ratio needs ref-bB too)\n"
		"  --all         also run the extra configurations\n"
		"  --cpus A,B    driver on CPU A, device on CPU B (default 0,1)\n"
		"  --retakes N   retake at most N disturbed samples in all (a thread got\n"
		"                < 95%% of its CPU); default half the number of samples\n"
		"  --json        print the results as one JSON object\n"
		"configurations (* = extra):\n",
		BUF_BYTES, QUEUE_SIZE);
	for (i = 0; i < NCFGS; i++)
		fprintf(out, "  %s%s\n", cfgs[i].name, cfgs[i].extra ? " *" : "");
}

/* Mark the configurations named in the comma-separated @list; 0 or -1. */
static int select_only(const char *list, bool *sel)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 0; i < NCFGS && strcmp(cfgs[i].name, tok) != 0; i++)
			;
		if (i == NCFGS) {
			fprintf(stderr, "bench_ring: unknown configuration '%s' (see --list)\n", tok);
			ret = -1;
			break;
		}
		sel[i] = true;
	}
	free(copy);
	return ret;
}

/* Index of the reference of @batch among the selected configurations, or -1. */
static int ref_index(const bool *sel, unsigned batch)
{
	unsigned i;

	for (i = 0; i < NCFGS; i++)
		if (sel[i] && cfgs[i].kind == KIND_REF && cfgs[i].batch == batch)
			return (int)i;
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "retakes", required_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 2.0, *samples, *shares, *sorted;
	double med[NCFGS], lo[NCFGS], hi[NCFGS], share_min[NCFGS];
	unsigned nsamples = 7, i, k, nsel = 0, disturbed = 0, retakes = 0, max_retakes = ~0u;
	int cpu_driver = 0, cpu_device = 1, opt;
	bool sel[NCFGS] = { false }, only = false, all = false, json = false;
	bool progress = isatty(STDERR_FILENO);
	double load_before, load_after;
	char *end;
	time_t started;

	while ((opt = getopt_long(argc, argv, "s:n:o:ac:r:jlh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seconds = strtod(optarg, &end);
			if (*end || !(seconds >= 0.01 && seconds <= 3600)) {
				fprintf(stderr, "bench_ring: --seconds wants 0.01..3600\n");
				return 2;
			}
			break;
		case 'n':
			nsamples = (unsigned)strtoul(optarg, &end, 10);
			if (*end || nsamples < 1 || nsamples > 1000) {
				fprintf(stderr, "bench_ring: --samples wants 1..1000\n");
				return 2;
			}
			break;
		case 'o':
			if (select_only(optarg, sel) < 0)
				return 2;
			only = true;
			break;
		case 'a':
			all = true;
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cpu_driver, &cpu_device) != 2 ||
			    cpu_driver < 0 || cpu_device < 0 || cpu_driver >= CPU_SETSIZE ||
			    cpu_device >= CPU_SETSIZE) {
				fprintf(stderr, "bench_ring: --cpus wants DRIVER,DEVICE\n");
				return 2;
			}
			break;
		case 'r':
			max_retakes = (unsigned)strtoul(optarg, &end, 10);
			if (*end || max_retakes > 100000) {
				fprintf(stderr, "bench_ring: --retakes wants 0..100000\n");
				return 2;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			for (i = 0; i < NCFGS; i++)
				printf("%s%s\n", cfgs[i].name, cfgs[i].extra ? " (extra)" : "");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!only)
		for (i = 0; i < NCFGS; i++)
			sel[i] = all || !cfgs[i].extra;
	for (i = 0; i < NCFGS; i++)
		nsel += sel[i];
	if (max_retakes == ~0u)
		max_retakes = nsamples * nsel / 2;
	if (cpu_driver == cpu_device)
		fprintf(stderr, "bench_ring: warning: driver and device share CPU %d\n", cpu_driver);

	run.area = mmap(NULL, AREA_BYTES, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (run.area == MAP_FAILED) {
		perror("bench_ring: mmap");
		return 1;
	}
	gmem_init(&run.mem);
	if (gmem_add(&run.mem, GPA_BASE, AREA_BYTES, run.area) < 0) {
		fprintf(stderr, "bench_ring: gmem_add failed\n");
		return 1;
	}
	samples = calloc((size_t)NCFGS * nsamples, sizeof(*samples));
	shares = calloc((size_t)NCFGS * nsamples, sizeof(*shares));
	sorted = calloc(nsamples, sizeof(*sorted));
	if (!samples || !shares || !sorted) {
		perror("bench_ring: calloc");
		return 1;
	}

	started = time(NULL);
	load_before = read_loadavg();
	for (k = 0; k < nsamples; k++) {
		for (i = 0; i < NCFGS; i++) {
			if (!sel[i])
				continue;
			double *mpps = &samples[i * nsamples + k], *share = &shares[i * nsamples + k];

			for (;;) {
				if (run_sample(&cfgs[i], seconds, cpu_driver, cpu_device, mpps,
					       share) < 0)
					return 1;
				if (*share >= DISTURBED_SHARE || retakes == max_retakes)
					break;
				retakes++;	/* something else ran on our CPUs: take it again */
			}
			if (*share < DISTURBED_SHARE)
				disturbed++;
			if (progress)
				fprintf(stderr, "\rbench_ring: sample %u/%u %-20s %7.2f Mpps ", k + 1,
					nsamples, cfgs[i].name, samples[i * nsamples + k]);
		}
	}
	if (progress)
		fprintf(stderr, "\r%70s\r", "");
	load_after = read_loadavg();

	for (i = 0; i < NCFGS; i++) {
		if (!sel[i])
			continue;
		memcpy(sorted, &samples[i * nsamples], nsamples * sizeof(*sorted));
		qsort(sorted, nsamples, sizeof(*sorted), cmp_double);
		med[i] = median_sorted(sorted, nsamples);
		lo[i] = sorted[0];
		hi[i] = sorted[nsamples - 1];
		share_min[i] = 1;
		for (k = 0; k < nsamples; k++)
			if (shares[i * nsamples + k] < share_min[i])
				share_min[i] = shares[i * nsamples + k];
	}

	if (json) {
		bool first = true;
		char date[32];

		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&started));
		printf("{\"bench\": \"ring\", \"date\": \"%s\", \"queue_size\": %u, "
		       "\"buf_bytes\": %u, \"seconds\": %g, \"samples\": %u, "
		       "\"cpu_driver\": %d, \"cpu_device\": %d, \"online_cpus\": %ld, "
		       "\"loadavg_before\": %.2f, \"loadavg_after\": %.2f, \"results\": [",
		       date, QUEUE_SIZE, BUF_BYTES, seconds, nsamples, cpu_driver, cpu_device,
		       sysconf(_SC_NPROCESSORS_ONLN), load_before, load_after);
		for (i = 0; i < NCFGS; i++) {
			const double *v = &samples[i * nsamples], *sh = &shares[i * nsamples];
			int ref = ref_index(sel, cfgs[i].batch);

			if (!sel[i])
				continue;
			printf("%s\n  {\"name\": \"%s\", \"kind\": \"%s\", \"layout\": \"%s\", "
			       "\"event_idx\": %s, \"indirect\": %s, \"batch\": %u, "
			       "\"median_mpps\": %.3f, \"min_mpps\": %.3f, \"max_mpps\": %.3f, ",
			       first ? "" : ",", cfgs[i].name,
			       cfgs[i].kind == KIND_REF ? "reference" : "virtio",
			       cfgs[i].kind == KIND_REF ? "spsc" : cfgs[i].packed ? "packed" : "split",
			       cfgs[i].event_idx ? "true" : "false",
			       cfgs[i].indirect ? "true" : "false", cfgs[i].batch, med[i], lo[i],
			       hi[i]);
			if (ref >= 0)
				printf("\"ratio_to_ref\": %.3f, ", med[i] / med[ref]);
			else
				printf("\"ratio_to_ref\": null, ");
			printf("\"cpu_share_min\": %.3f, \"samples_mpps\": [", share_min[i]);
			for (k = 0; k < nsamples; k++)
				printf("%s%.3f", k ? ", " : "", v[k]);
			printf("], \"samples_cpu_share\": [");
			for (k = 0; k < nsamples; k++)
				printf("%s%.3f", k ? ", " : "", sh[k]);
			printf("]}");
			first = false;
		}
		printf("\n], \"retaken_samples\": %u, \"disturbed_samples\": %u}\n", retakes,
		       disturbed);
	} else {
		printf("bench_ring: %u-byte buffers, queue %u, driver on CPU %d, device on CPU %d "
		       "(%ld online), %u samples x %g s, load %.2f -> %.2f\n",
		       BUF_BYTES, QUEUE_SIZE, cpu_driver, cpu_device,
		       sysconf(_SC_NPROCESSORS_ONLN), nsamples, seconds, load_before, load_after);
		printf("%-20s %5s %12s %9s %9s %8s %6s\n", "config", "batch", "median Mpps", "min",
		       "max", "vs ref", "cpu");
		for (i = 0; i < NCFGS; i++) {
			int ref = ref_index(sel, cfgs[i].batch);
			char ratio[16];

			if (!sel[i])
				continue;
			if (ref >= 0)
				snprintf(ratio, sizeof(ratio), "%.2f", med[i] / med[ref]);
			else
				snprintf(ratio, sizeof(ratio), "-");
			printf("%-20s %5u %12.2f %9.2f %9.2f %8s %5.0f%%\n", cfgs[i].name,
			       cfgs[i].batch, med[i], lo[i], hi[i], ratio, share_min[i] * 100);
		}
		if (retakes)
			printf("note: %u disturbed samples were taken again\n", retakes);
		if (disturbed)
			printf("warning: in %u of %u samples a thread got less than %.0f%% of its CPU: "
			       "other load on the machine; run again when it is quiet\n",
			       disturbed, nsamples * nsel, DISTURBED_SHARE * 100);
	}
	free(sorted);
	free(shares);
	free(samples);
	munmap(run.area, AREA_BYTES);
	return 0;
}
