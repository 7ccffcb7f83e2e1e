/* bench_fdb.c - cycles per frame of the lookup stage (switch_decide) with one MAC and with a million, and the FDB's memory. */

/*
 * What is measured
 *
 *   one thread, two switches: a big one whose FDB is sized for --fdb-size
 *   MACs and learns --macs (1M), and a small one that learns --small
 *   (4096: its table stays in the cache).  Into each, even MACs are
 *   learned behind port 0 (the ingress port of every batch), odd ones
 *   behind ports 1..PORTS-1.  Then, per case and switch, batches of
 *   PKT_BURST frames into port 0:
 *
 *     1 MAC          every frame from one MAC to one MAC (the switching
 *                    benchmarks' case: a bucket or two, always in L1)
 *     1 src, spread  one source, each destination drawn at random from the
 *                    learned odd MACs (a host talking to many peers)
 *     spread         source and destination of each frame drawn at random
 *                    (sources from the even MACs, destinations from the odd)
 *
 *   Only MACs the table holds are drawn (a bucket overflows now and then,
 *   fdb.h: sizing), so every source is a known one and the table does not
 *   change while it is measured.  The frames' headers are written between
 *   batches, outside the timed part; the time is the cycle counter read
 *   around switch_decide() alone, which is the pipeline's `lookup` point.
 *
 * Samples are taken round-robin over the cases; each counts --batches
 * batches after a warm-up of a tenth of that.  The median of --samples is
 * printed, with min and max, then two kinds of ratio:
 *
 *   spread / 1 MAC       issue 13's figure (target: within 2): a million
 *                        MACs against one, where the burst cache saves
 *                        every lookup but the first; it counts the work of
 *                        a lookup per frame as much as the table's size
 *   big / small table    the same traffic over 1M MACs and over a table
 *                        in the cache: what the table's size alone costs,
 *                        which the batch prefetch is there to hide
 *
 * Then the big table's memory (mapped, resident at start and after
 * learning, in huge pages) and the control thread's walks at its size: one aging tick
 * (a slice, fdb.h: Aging), a whole aging pass (what each tick did before),
 * a flush of a port that owns entries (O(1): fdb.h, generations; three in a row, none walks), and the count of
 * fdb-show --limit 0 (which then skips that port's flushed entries).  Those run on
 * the control thread and block no worker; they are here to show a step's
 * length.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "packet/batch.h"
#include "dp/dp.h"
#include "lib/cycles.h"
#include "switch/switch.h"

#define PORTS 16
#define NOW_S 10
#define CASES 3

static const char *const case_names[CASES] = { "1 MAC", "1 src, spread", "spread" };

struct bench {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct port ports[PORTS];
	struct pkt pkts[PKT_BURST];
	uint32_t *src, *dst;	/* held MACs, by number: behind port 0, behind the others */
	unsigned n_src, n_dst;
	size_t init_rss, table_rss;	/* resident bytes the switch took at init, and once it learned */
	uint64_t rng;
};

static void mac_of(uint32_t i, uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x42;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static unsigned port_of(uint32_t i)
{
	return i % 2 ? 1 + (i / 2) % (PORTS - 1) : 0;
}

static uint32_t rnd(struct bench *b, uint32_t n)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return (uint32_t)((b->rng >> 32) * n >> 32);
}

/* The one place that writes a frame's addresses: straight into the head (the private copy the parse stage fills). */
static void frame_set(struct pkt *p, uint32_t dst, uint32_t src)
{
	p->head_off = PKT_HEADROOM;
	p->head_len = 60;
	mac_of(dst, pkt_head(p));
	mac_of(src, pkt_head(p) + 6);
}

static void batch_fill(struct bench *b, unsigned which)
{
	for (unsigned i = 0; i < PKT_BURST; i++) {
		struct pkt *p = &b->pkts[i];

		if (which == 0)
			frame_set(p, b->dst[0], b->src[0]);
		else if (which == 1)
			frame_set(p, b->dst[rnd(b, b->n_dst)], b->src[0]);
		else
			frame_set(p, b->dst[rnd(b, b->n_dst)], b->src[rnd(b, b->n_src)]);
	}
}

/* Cycles per frame of switch_decide over @batches batches of case @which. */
static double run_case(struct bench *b, unsigned which, unsigned batches)
{
	struct pkt_batch *db = &b->ctx->batch;
	uint64_t sum = 0, out = 0;

	for (unsigned k = 0; k < batches / 10 + batches; k++) {
		uint64_t t0;

		batch_fill(b, which);
		db->in = &b->ports[0];
		db->pkts = b->pkts;
		db->n = PKT_BURST;
		db->n_out = db->n_flood = db->n_drop = 0;
		t0 = cycles_now();
		switch_decide(b->sw, db);
		if (k >= batches / 10) {
			sum += cycles_now() - t0;
			out += db->n_out;
		}
	}
	if (out != (uint64_t)batches * PKT_BURST) {
		fprintf(stderr, "bench_fdb: %s: %llu of %llu frames found their port\n", case_names[which],
			(unsigned long long)out, (unsigned long long)batches * PKT_BURST);
		exit(1);
	}
	return (double)sum / ((double)batches * PKT_BURST);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Resident bytes of this process (statm). */
static size_t resident_bytes(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* Kilobytes of anonymous huge pages of this process (smaps_rollup), 0 when none or unknown. */
static unsigned long huge_kib(void)
{
	unsigned long kib = 0;
	char line[256];
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Microseconds of @fn's best of @n runs. */
#define TIME_BEST_US(n, hz, stmt)                                                                                  \
	({                                                                                                         \
		uint64_t best_ = UINT64_MAX;                                                                       \
		for (unsigned r_ = 0; r_ < (n); r_++) {                                                            \
			uint64_t t_ = cycles_now();                                                                \
			stmt;                                                                                      \
			t_ = cycles_now() - t_;                                                                    \
			if (t_ < best_)                                                                            \
				best_ = t_;                                                                        \
		}                                                                                                  \
		(double)cycles_to_ns(best_, (hz)) / 1000.0;                                                        \
	})

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_fdb [--macs N] [--fdb-size N] [--small N] [--batches N] [--samples N]\n"
		   "  --macs N      MACs learned by the big switch (default 1000000)\n"
		   "  --fdb-size N  MACs its FDB is sized for (default: --macs)\n"
		   "  --small N     MACs learned by the small switch, whose FDB is sized for them (default 4096)\n"
		   "  --batches N   batches of %d frames per sample, case and switch (default 20000)\n"
		   "  --samples N   samples of each, the median is shown (default 5)\n",
		PKT_BURST);
}

/* A switch with an FDB for @fdb_size MACs that learned @macs, and the held ones drawn in two lists. */
static int bench_init(struct bench *b, unsigned macs, unsigned fdb_size, unsigned *held)
{
	size_t rss0 = resident_bytes();

	b->rng = 0x9e3779b97f4a7c15ull;
	b->sw = calloc(1, sizeof(*b->sw));
	b->ctx = calloc(1, sizeof(*b->ctx));
	b->src = malloc(macs * sizeof(*b->src));
	b->dst = malloc(macs * sizeof(*b->dst));
	if (!b->sw || !b->ctx || !b->src || !b->dst) {
		fprintf(stderr, "bench_fdb: out of memory\n");
		return -1;
	}
	if (switch_init(b->sw, SWITCH_LEARNING, 300, fdb_size) < 0) {
		fprintf(stderr, "bench_fdb: no memory for an FDB of %u MACs\n", fdb_size);
		return -1;
	}
	for (unsigned i = 0; i < PORTS; i++) {
		b->ports[i].id = i;
		atomic_store(&b->sw->ports[i], &b->ports[i]);
	}
	atomic_store(&b->sw->now_s, NOW_S);
	b->init_rss = resident_bytes() - rss0;
	for (uint32_t i = 0; i < macs; i++) {
		uint8_t m[6];

		mac_of(i, m);
		fdb_learn(&b->sw->fdb, m, port_of(i), NOW_S);
	}
	b->table_rss = resident_bytes() - rss0;
	*held = 0;
	for (uint32_t i = 0; i < macs; i++) {
		uint8_t m[6];

		mac_of(i, m);
		if (fdb_lookup(&b->sw->fdb, m, NOW_S) != (int)port_of(i))
			continue; /* its bucket overflowed */
		(*held)++;
		if (port_of(i))
			b->dst[b->n_dst++] = i;
		else
			b->src[b->n_src++] = i;
	}
	if (!b->n_src || !b->n_dst) {
		fprintf(stderr, "bench_fdb: no MAC held behind %s\n", b->n_src ? "the other ports" : "port 0");
		return -1;
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	switch_destroy(b->sw);
	free(b->sw);
	free(b->ctx);
	free(b->src);
	free(b->dst);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "macs", required_argument, NULL, 'm' },	{ "fdb-size", required_argument, NULL, 'f' },
		{ "small", required_argument, NULL, 'S' },	{ "batches", required_argument, NULL, 'b' },
		{ "samples", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned macs = 1000000, fdb_size = 0, small = 4096, batches = 20000, samples = 5, held = 0, small_held = 0;
	unsigned live = 0;
	double cpf[2][CASES][64], med[2][CASES];
	struct bench big = { 0 }, little = { 0 }, *sw[2] = { &big, &little };
	struct fdb_entry one;
	uint64_t hz;
	int opt;

	while ((opt = getopt_long(argc, argv, "m:f:S:b:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			macs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			fdb_size = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			small = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			batches = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			samples = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!fdb_size)
		fdb_size = macs;
	if (macs < 2 || small < FDB_SIZE_MIN || small > FDB_SIZE_MAX || batches < 10 || samples < 1 || samples > 64 ||
	    fdb_size < FDB_SIZE_MIN || fdb_size > FDB_SIZE_MAX) {
		usage(stderr);
		return 2;
	}
	hz = cycles_calibrate(20);
	if (bench_init(&big, macs, fdb_size, &held) < 0)
		return 1;
	printf("big FDB sized for %u MACs: %u buckets x %d ways (%u entries), %zu KiB mapped; %u MACs learned, %u "
	       "held (%.2f %% lost to full buckets); resident: %zu KiB at start, %zu KiB after learning, %lu KiB in huge "
	       "pages\n",
	       fdb_size, big.sw->fdb.n_buckets, FDB_WAYS, big.sw->fdb.n_buckets * FDB_WAYS, big.sw->fdb.map_bytes >> 10,
	       macs, held, 100.0 * (macs - held) / macs, big.init_rss >> 10, big.table_rss >> 10, huge_kib());
	if (bench_init(&little, small, small, &small_held) < 0)
		return 1;
	printf("small FDB: %u MACs, %zu KiB\n", small, little.sw->fdb.map_bytes >> 10);

	for (unsigned s = 0; s < samples; s++)
		for (unsigned c = 0; c < CASES; c++)
			for (unsigned t = 0; t < 2; t++)
				cpf[t][c][s] = run_case(sw[t], c, batches);
	printf("switch_decide, cycles per frame, %d-frame batches, %u samples of %u batches: median (min-max)\n",
	       PKT_BURST, samples, batches);
	printf("%-16s %28s %28s\n", "CASE", "big table", "small table");
	for (unsigned c = 0; c < CASES; c++) {
		printf("%-16s", case_names[c]);
		for (unsigned t = 0; t < 2; t++) {
			char col[64];

			qsort(cpf[t][c], samples, sizeof(double), cmp_double);
			med[t][c] = cpf[t][c][samples / 2];
			snprintf(col, sizeof(col), "%.1f (%.1f-%.1f)", med[t][c], cpf[t][c][0], cpf[t][c][samples - 1]);
			printf(" %28s", col);
		}
		printf("\n");
	}
	printf("big table: spread / 1 MAC %.2f, 1 src, spread / 1 MAC %.2f (issue 13: within 2)\n", med[0][2] / med[0][0],
	       med[0][1] / med[0][0]);
	printf("big / small table: spread %.2f, 1 src, spread %.2f, 1 MAC %.2f  (counter %.3f GHz)\n",
	       med[0][2] / med[1][2], med[0][1] / med[1][1], med[0][0] / med[1][0], (double)hz / 1e9);

	/* The control thread's walks at this size: one tick's slice, a whole pass, a flush, a count. */
	{
		struct fdb *f = &big.sw->fdb;
		uint32_t now = NOW_S;
		double tick_us = TIME_BEST_US(8, hz, fdb_age_tick(f, ++now));
		double pass_us = TIME_BEST_US(3, hz, fdb_age(f, now));
		unsigned owned = fdb_port_entries(f, 1);
		double flush_us = TIME_BEST_US(3, hz, fdb_flush_port(f, 1));
		double count_us = TIME_BEST_US(3, hz, fdb_dump(f, &one, 0, now, &live));

		printf("control thread, big table: aging tick %.1f us (1/%u of a pass), whole pass %.1f us, "
		       "flush of a port of %u entries %.2f us (%u walked the table), fdb-show count %.1f us (%u live "
		       "after the flush)\n",
		       tick_us, f->aging_s / FDB_AGE_PASSES ? f->aging_s / FDB_AGE_PASSES : 1, pass_us, owned, flush_us,
		       f->flush_walks, count_us, live);
	}
	bench_free(&big);
	bench_free(&little);
	return 0;
}
