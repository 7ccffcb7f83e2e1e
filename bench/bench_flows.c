/* bench_flows.c - cycles per frame of the lookup stage with flow tables (dp_flow_lookup), at 1 to 1M flows, on one thread. */

/*
 * What is measured
 *
 *   The rule set bench-switch loads for issue 14 (--flows, default
 *   scripts/bench-flows/pipeline.flows: ports p0 and p1 are 0 and 1), and
 *   the frames testpmd's flowgen sends through it: UDP/IPv4 10.254.0.0 ->
 *   10.253.0.0 + i, ports 1000 -> 1001, i running over N flows, 32 frames
 *   of consecutive i per batch; batches alternate between ports 0 and 1,
 *   as the generator's two ports feed the switch's two.  Each frame goes
 *   through table 0's ACL, resubmits to table 1 and is output to the other
 *   port; every verdict is checked.
 *
 *   The frames are written and loaded (the parse stage) between batches,
 *   outside the timed part; the time is the cycle counter read around
 *   dp_flow_lookup() alone, which is the pipeline's `lookup` point (vswctl
 *   perf show), and a sample's figure is its median batch's.  One thread, no port I/O: what the flow path costs per
 *   frame, without the rings and the other stages, and far less disturbed
 *   by a shared machine than a switch run (the median of --samples).
 *   One sample of the first flow count runs before any is kept: the first
 *   count measured came out slower than the others (1 flow: 201 cycles a
 *   frame against 122 at 1k, 2026-12-04) for the same instructions and
 *   cache misses under callgrind, the mark of a CPU not yet up to speed.
 */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet/batch.h"
#include "dp/dp.h"
#include "dp/flows.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "lib/cycles.h"
#include "switch/switch.h"

#define PORTS 2
#define FRAME_LEN 60
#define MAX_SAMPLES 31

struct bench {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct flow_db *db;
	const struct flow_tables *tables;
	struct port ports[PORTS];
	struct pkt pkts[PKT_BURST];
	uint8_t bufs[PKT_BURST][FRAME_LEN];
	struct iovec iov[PKT_BURST];
	uint32_t next[PORTS];	/* the flow each port's next frame has */
};

static void *zalloc64(size_t size)
{
	size_t rounded = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, rounded);

	if (!p) {
		fprintf(stderr, "bench_flows: out of memory\n");
		exit(1);
	}
	memset(p, 0, rounded);
	return p;
}

static void no_tx(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	(void)p, (void)io, (void)pkts, (void)n;
}

static unsigned no_rx(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	(void)p, (void)q, (void)io, (void)pkts, (void)max;
	return 0;
}

static void no_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	(void)p, (void)q, (void)io;
}

static const struct port_ops bench_ops = { .rx_burst = no_rx, .tx_burst = no_tx, .rx_done = no_rx_done };

static uint64_t bench_clock(void)
{
	return 5000000000ull;
}

static int port_by_name(void *arg, const char *name, uint16_t *port)
{
	(void)arg;
	if ((name[0] == 'p') && (name[1] == '0' || name[1] == '1') && !name[2]) {
		*port = (uint16_t)(name[1] - '0');
		return 0;
	}
	return -2;
}

static void load_rules(struct bench *b, const char *path)
{
	const struct flow_names names = { .port_by_name = port_by_name };
	char line[1024], err[FLOW_ERR_MAX];
	FILE *f = fopen(path, "r");
	unsigned n = 0;

	if (!f) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		struct flow_mod mod;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[strspn(line, " \t")] || line[strspn(line, " \t")] == '#')
			continue;
		if (flow_parse(line, FLOW_CMD_ADD, &names, &mod, err, sizeof(err)) || flow_db_add(b->db, &mod)) {
			fprintf(stderr, "bench_flows: %s: %s\n", line, err);
			exit(1);
		}
		n++;
	}
	fclose(f);
	if (!n || flow_db_commit(b->db) < 0) {
		fprintf(stderr, "bench_flows: %s: no rule loaded\n", path);
		exit(1);
	}
	b->tables = flow_db_tables(b->db);
}

static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Frame @k of the batch: flow @i into port @in, as flowgen makes it. */
static void frame_make(struct bench *b, unsigned k, uint32_t i, unsigned in)
{
	uint8_t *f = b->bufs[k], *ip = f + 14, *udp = ip + 20;
	uint32_t dst = 0x0afd0000u + i;
	uint16_t c;

	memset(f, 0, FRAME_LEN);
	memcpy(f, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = FRAME_LEN - 14;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\xfe\x00\x00", 4);
	ip[16] = (uint8_t)(dst >> 24);
	ip[17] = (uint8_t)(dst >> 16);
	ip[18] = (uint8_t)(dst >> 8);
	ip[19] = (uint8_t)dst;
	c = csum16(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[0] = 1000 >> 8, udp[1] = 1000 & 0xff;
	udp[2] = 1001 >> 8, udp[3] = 1001 & 0xff;
	udp[5] = FRAME_LEN - 34;
	b->iov[k] = (struct iovec){ .iov_base = f, .iov_len = FRAME_LEN };
	pkt_rx_init(&b->pkts[k], &b->iov[k], 1, FRAME_LEN, in);
}

/*
 * The measured batches' lookup, a function of its own so that a profile
 * can count it alone, without the warm-up's misses and the frames' making:
 * valgrind --tool=callgrind --toggle-collect=bench_lookup.
 */
__attribute__((noinline)) static void bench_lookup(struct bench *b, struct pkt_batch *db)
{
	dp_flow_lookup(b->sw, b->ctx, db, b->tables);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Cycles per frame of dp_flow_lookup over @batches batches of @n_flows
 * flows (after a warm-up over every flow): the median batch's, so that a
 * batch the scheduler interrupted (a shared machine) does not count.
 * @keep false: the batches are warm-up too (not timed, not in a profile).
 */
static double run_case(struct bench *b, uint32_t n_flows, unsigned batches, uint64_t *t, bool keep)
{
	struct pkt_batch *db = &b->ctx->batch;
	unsigned warm = (unsigned)(2 * (n_flows + PKT_BURST - 1) / PKT_BURST);
	uint64_t out = 0;

	for (unsigned k = 0; k < warm + batches; k++) {
		unsigned in = k % PORTS;
		uint64_t t0;

		for (unsigned j = 0; j < PKT_BURST; j++) {
			frame_make(b, j, b->next[in], in);
			b->next[in] = b->next[in] + 1 < n_flows ? b->next[in] + 1 : 0;
		}
		pkt_load_burst(b->pkts, PKT_BURST);
		db->in = &b->ports[in];
		db->pkts = b->pkts;
		db->n = PKT_BURST;
		db->n_out = db->n_flood = db->n_drop = 0;
		if (k < warm || !keep) {
			dp_flow_lookup(b->sw, b->ctx, db, b->tables);
			continue;
		}
		t0 = cycles_now();
		bench_lookup(b, db);
		t[k - warm] = cycles_now() - t0;
		for (unsigned j = 0; j < PKT_BURST; j++)
			out += db->dest[j] == 1 - in;
	}
	if (!keep)
		return 0;
	if (out != (uint64_t)batches * PKT_BURST) {
		fprintf(stderr, "bench_flows: %u flows: %llu of %llu frames went to the other port\n", n_flows,
			(unsigned long long)out, (unsigned long long)batches * PKT_BURST);
		exit(1);
	}
	qsort(t, batches, sizeof(t[0]), cmp_u64);
	return (double)t[batches / 2] / PKT_BURST;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_flows [--flows FILE] [--samples N] [--batches N] [--min-flows N] [--max-flows N]\n"
		   "  cycles per frame of the lookup stage with flow tables at 1, 1k, 10k, 100k and 1M flows\n"
		   "  --flows FILE  rule set, ports p0 and p1 (default scripts/bench-flows/pipeline.flows)\n"
		   "  --samples N   samples per flow count, the median printed (default 7, at most 31)\n"
		   "  --batches N   batches of 32 frames per sample (default 20000)\n"
		   "  --min-flows N skip the flow counts below N (one count alone: a profile of it)\n"
		   "  --max-flows N skip the flow counts above N (a smoke run)\n");
}

int main(int argc, char **argv)
{
	static const uint32_t n_flows[] = { 1, 1000, 10000, 100000, 1000000 };
	static const struct option opts[] = {
		{ "flows", required_argument, NULL, 'f' },
		{ "samples", required_argument, NULL, 's' },
		{ "batches", required_argument, NULL, 'b' },
		{ "min-flows", required_argument, NULL, 'n' },
		{ "max-flows", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = "scripts/bench-flows/pipeline.flows";
	unsigned samples = 7, batches = 20000;
	unsigned long min_flows = 0, max_flows = 1000000;
	struct bench *b = zalloc64(sizeof(*b));
	uint64_t *t;
	double base = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 's':
			samples = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			batches = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			min_flows = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			max_flows = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!samples || samples > MAX_SAMPLES || !batches) {
		usage(stderr);
		return 2;
	}
	t = zalloc64(batches * sizeof(*t));
	b->sw = zalloc64(sizeof(*b->sw));
	b->ctx = zalloc64(sizeof(*b->ctx));
	b->ctx->flow = dp_flow_ctx_new();
	b->db = flow_db_create();
	if (!b->ctx->flow || !b->db || switch_init(b->sw, SWITCH_LEARNING, 300, 4096)) {
		fprintf(stderr, "bench_flows: setup failed\n");
		return 1;
	}
	b->sw->clock_ns = bench_clock;
	for (unsigned i = 0; i < PORTS; i++) {
		b->ports[i].id = i;
		b->ports[i].ops = &bench_ops;
		switch_port_set(b->sw, i, &b->ports[i]);
	}
	load_rules(b, path);

	printf("| flows | lookup cycles/frame, median (min-max) | / 1 flow | cache hits, megaflow hits |\n|---|---|---|---|\n");
	for (unsigned n = 0; n < sizeof(n_flows) / sizeof(n_flows[0]) && n_flows[n] <= max_flows; n++) {
		struct dp_flow_stats *st = &b->ctx->flow->stats;
		uint64_t h0 = atomic_load(&st->emc_hits), m0 = atomic_load(&st->emc_misses), f0 = atomic_load(&st->mf_hits);
		uint64_t hits, misses, mf;
		double v[MAX_SAMPLES];

		if (n_flows[n] < min_flows)
			continue;
		if (!base)
			run_case(b, n_flows[n], batches, t, false);	/* the CPU awake first */
		for (unsigned s = 0; s < samples; s++)
			v[s] = run_case(b, n_flows[n], batches, t, true);
		qsort(v, samples, sizeof(v[0]), cmp_double);
		if (!base)
			base = v[samples / 2];	/* the first count measured: 1 flow unless --min-flows */
		hits = atomic_load(&st->emc_hits) - h0;
		misses = atomic_load(&st->emc_misses) - m0;
		mf = atomic_load(&st->mf_hits) - f0;
		printf("| %u | %.1f (%.1f-%.1f) | %.2f | %.1f %%, %.1f %% |\n", n_flows[n], v[samples / 2], v[0],
		       v[samples - 1], v[samples / 2] / base, 100.0 * (double)hits / (double)(hits + misses + !(hits + misses)),
		       100.0 * (double)mf / (double)(hits + misses + !(hits + misses)));
		fflush(stdout);
	}
	flow_db_destroy(b->db);
	switch_destroy(b->sw);
	free(t);
	return 0;
}
