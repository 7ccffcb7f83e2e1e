/* bench_flow_storm.c - does a storm of new flows make a worker drop established flows' frames? In process, fake ports. */

/*
 * What is measured (issue 14, item 6: "a storm of 100k new flows/s does
 * not drop established flows")
 *
 *   One busy-polling worker (dp_start, CPU 0 unless --cpu) forwards by
 *   flow tables whose rules make every 5-tuple its own cache entry:
 *
 *     priority=300  udp,tp_src=P,tp_dst=Q  -> drop     (16 port pairs: every frame looks here,
 *                                                        so every megaflow holds both ports)
 *     priority=200  ip,nw_src=A/32         -> output:2 (one per established flow)
 *     priority=150  ip,nw_dst=192.168.N.0/24 -> drop   (16 of them)
 *     priority=100  ip,nw_src=11.0.0.0/8   -> output:3 (the storm's sources)
 *     priority=10   dl_src=02:77:..        -> drop     (16 of them)
 *     table miss: drop
 *
 *   Port 0 is the established traffic: --flows UDP flows (10.x.y.z, one
 *   source address each), picked at random, offered at --rate frames/s.
 *   Port 1 is the storm: --storm frames/s, each from a source address
 *   (and port) never seen before, so each misses both caches, takes the
 *   classifier inline in the worker (vsw has no upcall thread) and asks
 *   for an exact-match entry and a megaflow of its own (flows.c gives it
 *   a place only where the entry answered no frame, so the established
 *   flows keep theirs).  Port 2 counts established frames out, port 3
 *   storm frames out.
 *
 *   Each source port's input is a bounded ring of --ring frames, as a
 *   virtio ring or a NIC's: the source is paced by the cycle counter in
 *   the worker's own rx_burst and rx_done (the frames due since the last
 *   call go into the ring while it has room; a frame due when the ring is
 *   full is dropped and counted), so no second thread competes for the
 *   CPUs.  A frame is in the ring from its due time until the rx_done of
 *   the batch that took it, so a worker that falls behind fills the
 *   ring, and then drops, exactly as a guest's ring would.
 *
 *   Three phases: established only (--warmup s), established + storm
 *   (--seconds s), established only (--after s).  Per phase: frames
 *   offered, forwarded and dropped at the ring for each source, the
 *   ring's highest fill, the worker's busy share (cycles of rounds that
 *   moved frames over the phase's cycles) and frames per busy round, and
 *   its cache counters (dp_flow_stats; the established flows' misses are
 *   the worker's misses less the storm frames, each of which misses).
 *
 *   What it cannot show: the ports are in-process fakes (no guest, no
 *   NIC, no copy into guest memory), the established flows' frames are
 *   prebuilt, and the ring's room is settled at the worker's calls
 *   rather than frame by frame (a frame due while the worker is inside a
 *   batch sees the ring as it was at the batch's rx_burst, frames in
 *   flight included: no looser than a real ring).  Timing comes from the
 *   TSC; a shared machine steals the worker's CPU and shows drops a quiet
 *   one would not.  The figure is for a quiet machine.
 *
 * Exits 0 whatever the drops (a benchmark); 1 or 2 on a setup error.
 */

#include <dirent.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dp/dp.h"
#include "dp/flows.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "switch/switch.h"

#define FRAME_LEN 60
#define RING_MAX 65536u
#define FLOWS_MAX (1u << 22)
#define N_PORTS 4

/* A source port: a bounded ring filled by the clock, and its counters (the worker writes them, main reads). */
struct src {
	uint64_t rate;				/* frames per second while on */
	atomic_bool on;
	atomic_uint_least64_t start_tsc;	/* when the current run began (main sets it before `on`) */
	/* worker only */
	uint64_t run_tsc;			/* the start_tsc its `due` counts from */
	uint64_t due_done;			/* frames offered since run_tsc */
	uint64_t head, tail;			/* ring: [tail, head) occupied; [tail, tail + taken) in a batch */
	unsigned taken;
	uint64_t rng;
	uint64_t next_new;			/* the storm's next new flow */
	struct iovec **ring;			/* the frame of each slot */
	struct iovec *slot_iov;			/* the storm's own frames, one per slot */
	uint8_t (*slot_buf)[64];
	uint64_t last_poll;			/* the counter at the previous rx_burst */
	/* counters, cumulative (fill_max, gap_max: since main last took them) */
	atomic_uint_least64_t offered, dropped, fill_max;
	atomic_uint_least64_t gap_max, stalls;	/* longest time between two polls; polls after a gap the ring cannot cover */
};

struct fake_port {
	struct port port;
	int fd;
	struct src *src;		/* NULL: an output port */
	atomic_uint_least64_t tx;
};

static unsigned ring_size = 1024;
static uint64_t tsc_hz;
static unsigned n_flows = 10000;
static struct iovec *flow_iov;		/* the established flows' frames, prebuilt */
static uint8_t (*flow_buf)[64];
static struct src est, storm;
static struct fake_port ports[N_PORTS];
static struct vswitch sw;
static struct dp dp;
static struct flow_db *db;

static const uint8_t tmpl[FRAME_LEN] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, /* ethernet */
	0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 1, 0, 1, /* ipv4, udp */
	0x27, 0x10, 0x13, 0x88, 0, 26, 0, 0, /* udp 10000 -> 5000 */
};

/* A frame of @tmpl from @saddr, source port @sport into @b. */
static void frame_make(uint8_t *b, uint32_t saddr, uint16_t sport)
{
	memcpy(b, tmpl, FRAME_LEN);
	b[26] = (uint8_t)(saddr >> 24);
	b[27] = (uint8_t)(saddr >> 16);
	b[28] = (uint8_t)(saddr >> 8);
	b[29] = (uint8_t)saddr;
	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
}

/* Established flow @i's source address: 10.0.0.1 upwards. */
static uint32_t est_addr(unsigned i) { return 0x0a000001u + i; }

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The frames of @s due by now into its ring while it has room, the rest dropped (worker). */
static void src_offer(struct src *s, uint64_t now)
{
	uint64_t start, due, n, room, fill;

	if (!atomic_load_explicit(&s->on, memory_order_acquire))
		return;
	start = atomic_load_explicit(&s->start_tsc, memory_order_relaxed);
	if (start != s->run_tsc) {
		s->run_tsc = start;
		s->due_done = 0;
	}
	if (now <= start)
		return;
	due = (uint64_t)((unsigned __int128)(now - start) * s->rate / tsc_hz);
	if (due <= s->due_done)
		return;
	n = due - s->due_done;
	s->due_done = due;
	room = ring_size - (s->head - s->tail);
	if (n > room) {
		atomic_store_explicit(&s->dropped, atomic_load_explicit(&s->dropped, memory_order_relaxed) + n - room,
				      memory_order_relaxed);
	}
	for (uint64_t k = 0; k < n && k < room; k++) {
		unsigned slot = (unsigned)(s->head++ % ring_size);

		if (s->slot_buf) {
			/* The storm: a source never seen before (11.0.0.0/8, then the source port moves on). */
			uint64_t f = s->next_new++;

			frame_make(s->slot_buf[slot], 0x0b000000u | (uint32_t)(f & 0xffffff),
				   (uint16_t)(20000 + ((f >> 24) & 0x3fff)));
			s->ring[slot] = &s->slot_iov[slot];
		} else {
			s->ring[slot] = &flow_iov[xorshift(&s->rng) % n_flows];
		}
	}
	atomic_store_explicit(&s->offered, atomic_load_explicit(&s->offered, memory_order_relaxed) + n,
			      memory_order_relaxed);
	fill = s->head - s->tail;
	if (fill > atomic_load_explicit(&s->fill_max, memory_order_relaxed))
		atomic_store_explicit(&s->fill_max, fill, memory_order_relaxed);
}

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct src *s = ((struct fake_port *)p)->src;
	uint64_t now, gap;
	unsigned n;

	if (!s)
		return 0;
	now = dp_tsc();
	/*
	 * Time since the last poll: a gap longer than the ring holds at the
	 * rate (a worker preempted, or one batch that took that long) drops
	 * frames whatever the average load; it tells the two causes apart.
	 */
	gap = s->last_poll ? now - s->last_poll : 0;
	s->last_poll = now;
	if (gap > atomic_load_explicit(&s->gap_max, memory_order_relaxed))
		atomic_store_explicit(&s->gap_max, gap, memory_order_relaxed);
	if (s->rate && gap > (uint64_t)((unsigned __int128)ring_size * tsc_hz / s->rate))
		atomic_store_explicit(&s->stalls, atomic_load_explicit(&s->stalls, memory_order_relaxed) + 1,
				      memory_order_relaxed);
	src_offer(s, now);
	n = (unsigned)(s->head - s->tail);
	if (n > max)
		n = max;
	for (unsigned i = 0; i < n; i++)
		pkt_rx_init(&pkts[i], s->ring[(s->tail + i) % ring_size], 1, FRAME_LEN, p->id);
	s->taken = n;
	return n;
}

/* The batch's slots free again: after the frames due meanwhile were offered to the ring as it was. */
static void fake_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	struct src *s = ((struct fake_port *)p)->src;

	if (!s)
		return;
	src_offer(s, dp_tsc());
	s->tail += s->taken;
	s->taken = 0;
}

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct fake_port *fp = (struct fake_port *)p;

	atomic_store_explicit(&fp->tx, atomic_load_explicit(&fp->tx, memory_order_relaxed) + n, memory_order_relaxed);
}

static unsigned fake_rx_queues(struct port *p) { return 1; }
static int fake_rx_fd(struct port *p, unsigned q) { return ((struct fake_port *)p)->fd; }

/* No kick ever comes: a source that is on stays hot (true: "poll me"); an off one may turn cold. */
static bool fake_rx_arm(struct port *p, unsigned q)
{
	struct src *s = ((struct fake_port *)p)->src;

	return s && atomic_load_explicit(&s->on, memory_order_relaxed);
}

static void fake_rx_disarm(struct port *p, unsigned q) {}

static const struct port_ops fake_ops = {
	.type = "fake",
	.rx_burst = fake_rx_burst,
	.rx_done = fake_rx_done,
	.tx_burst = fake_tx_burst,
	.rx_queues = fake_rx_queues,
	.rx_fd = fake_rx_fd,
	.rx_arm = fake_rx_arm,
	.rx_disarm = fake_rx_disarm,
};

static void add(const char *text)
{
	struct flow_mod mod;
	char err[FLOW_ERR_MAX] = "";

	if (flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)) < 0 || flow_db_add(db, &mod) < 0) {
		fprintf(stderr, "bench_flow_storm: %s: %s\n", text, err[0] ? err : "refused");
		exit(1);
	}
}

/* The rule set above, committed and published as vswd does (ctl_flows.c). */
static void load_rules(void)
{
	char text[160];
	int64_t gen;

	for (unsigned i = 0; i < 16; i++) {
		snprintf(text, sizeof(text), "priority=300,udp,tp_src=%u,tp_dst=%u,actions=drop", 7 + i, 7 + i);
		add(text);
		snprintf(text, sizeof(text), "priority=150,ip,nw_dst=192.168.%u.0/24,actions=drop", i);
		add(text);
		snprintf(text, sizeof(text), "priority=10,dl_src=02:77:00:00:00:%02x,actions=drop", i);
		add(text);
	}
	for (unsigned i = 0; i < n_flows; i++) {
		uint32_t a = est_addr(i);

		snprintf(text, sizeof(text), "priority=200,ip,nw_src=%u.%u.%u.%u,actions=output:2", a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255);
		add(text);
	}
	add("priority=100,ip,nw_src=11.0.0.0/8,actions=output:3");
	gen = flow_db_commit(db);
	if (gen < 0) {
		fprintf(stderr, "bench_flow_storm: commit failed\n");
		exit(1);
	}
	atomic_store_explicit(&sw.flows, flow_db_tables(db), memory_order_release);
	dp_sync(&dp);
	flow_db_reclaim(db, (uint64_t)gen);
}

/* Everything a phase reports, read at its ends. */
struct snap {
	uint64_t tsc;
	uint64_t est_offered, est_dropped, est_fwd;
	uint64_t storm_offered, storm_dropped, storm_fwd;
	uint64_t emc_hits, emc_misses, mf_hits;
	uint64_t busy_cycles, busy_rounds, busy_frames, rounds;
	uint64_t est_stalls, preempted;
	/* Since the previous snapshot: */
	uint64_t est_fill, storm_fill, est_gap;
};

/* Involuntary context switches of every thread of the process (the worker's, in practice: main sleeps). */
static uint64_t preemptions(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	uint64_t sum = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], line[128];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "nonvoluntary_ctxt_switches:", 27))
				sum += strtoull(line + 27, NULL, 10);
		fclose(f);
	}
	closedir(d);
	return sum;
}

static void snap_take(struct snap *s)
{
	const struct dp_flow_stats *fs = &dp.workers[0].ctx.flow->stats;
	struct dp_perf pf;

	dp_perf_read(&dp, 0, &pf);
	s->tsc = dp_tsc();
	s->est_offered = atomic_load(&est.offered);
	s->est_dropped = atomic_load(&est.dropped);
	s->est_fwd = atomic_load(&ports[2].tx);
	s->storm_offered = atomic_load(&storm.offered);
	s->storm_dropped = atomic_load(&storm.dropped);
	s->storm_fwd = atomic_load(&ports[3].tx);
	s->emc_hits = atomic_load(&fs->emc_hits);
	s->emc_misses = atomic_load(&fs->emc_misses);
	s->mf_hits = atomic_load(&fs->mf_hits);
	s->busy_cycles = atomic_load(&pf.pt[DP_PT_ROUND].cycles);
	s->busy_rounds = atomic_load(&pf.pt[DP_PT_ROUND].batches);
	s->busy_frames = atomic_load(&pf.pt[DP_PT_ROUND].pkts);
	s->rounds = atomic_load(&dp.workers[0].rounds);
	s->est_stalls = atomic_load(&est.stalls);
	s->preempted = preemptions();
	s->est_fill = atomic_exchange(&est.fill_max, 0);
	s->storm_fill = atomic_exchange(&storm.fill_max, 0);
	s->est_gap = atomic_exchange(&est.gap_max, 0);
}

/* One phase's line from its two ends; returns the established frames dropped in it. */
static uint64_t phase_print(const char *name, const struct snap *a, const struct snap *b)
{
	double secs = (double)(b->tsc - a->tsc) / (double)tsc_hz;
	uint64_t est_drop = b->est_dropped - a->est_dropped, storm_in = b->storm_offered - a->storm_offered;
	uint64_t misses = b->emc_misses - a->emc_misses, busy_rounds = b->busy_rounds - a->busy_rounds;
	uint64_t est_misses = misses > storm_in ? misses - storm_in : 0;

	printf("bench_flow_storm: %-12s %6.2f s  established: offered %llu forwarded %llu dropped %llu (ring max %llu/%u)"
	       "  storm: offered %llu forwarded %llu dropped %llu (ring max %llu)\n",
	       name, secs, (unsigned long long)(b->est_offered - a->est_offered),
	       (unsigned long long)(b->est_fwd - a->est_fwd), (unsigned long long)est_drop,
	       (unsigned long long)b->est_fill, ring_size, (unsigned long long)storm_in,
	       (unsigned long long)(b->storm_fwd - a->storm_fwd),
	       (unsigned long long)(b->storm_dropped - a->storm_dropped), (unsigned long long)b->storm_fill);
	printf("bench_flow_storm: %-12s          worker: busy %.1f %% of cycles, %.1f frames per busy round, "
	       "%llu idle rounds; caches: hits %llu (megaflow %llu), misses %llu (established ~%llu, %.2f Mmiss/s)\n",
	       name, b->tsc > a->tsc ? 100.0 * (double)(b->busy_cycles - a->busy_cycles) / (double)(b->tsc - a->tsc) : 0.0,
	       busy_rounds ? (double)(b->busy_frames - a->busy_frames) / (double)busy_rounds : 0.0,
	       (unsigned long long)(b->rounds - a->rounds - busy_rounds),
	       (unsigned long long)(b->emc_hits - a->emc_hits), (unsigned long long)(b->mf_hits - a->mf_hits),
	       (unsigned long long)misses, (unsigned long long)est_misses, secs > 0 ? (double)misses / secs / 1e6 : 0.0);
	printf("bench_flow_storm: %-12s          stalls: longest gap between two polls of the established ring %.0f us "
	       "(the ring holds %.0f us), %llu gaps longer; worker preempted %llu times\n",
	       name, (double)b->est_gap * 1e6 / (double)tsc_hz, (double)ring_size * 1e6 / (double)est.rate,
	       (unsigned long long)(b->est_stalls - a->est_stalls), (unsigned long long)(b->preempted - a->preempted));
	return est_drop;
}

/* @secs of sleep (nanosleep: the main thread takes no CPU from the worker). */
static void nap(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* A rate: a number with an optional k or M. */
static uint64_t parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end == 'k' || *end == 'K')
		v *= 1e3;
	else if (*end == 'M' || *end == 'm')
		v *= 1e6;
	return v < 0 ? 0 : (uint64_t)v;
}

static int src_init(struct src *s, bool own_frames, uint64_t seed)
{
	s->ring = calloc(ring_size, sizeof(*s->ring));
	s->rng = seed;
	if (!s->ring)
		return -1;
	if (own_frames) {
		s->slot_iov = calloc(ring_size, sizeof(*s->slot_iov));
		s->slot_buf = aligned_alloc(64, ring_size * sizeof(*s->slot_buf));
		if (!s->slot_iov || !s->slot_buf)
			return -1;
		for (unsigned i = 0; i < ring_size; i++)
			s->slot_iov[i] = (struct iovec){ s->slot_buf[i], FRAME_LEN };
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "flows", required_argument, NULL, 'E' },  { "rate", required_argument, NULL, 'R' },
		{ "storm", required_argument, NULL, 'S' },  { "seconds", required_argument, NULL, 'T' },
		{ "warmup", required_argument, NULL, 'W' }, { "after", required_argument, NULL, 'A' },
		{ "ring", required_argument, NULL, 'r' },   { "cpu", required_argument, NULL, 'C' },
		{ "smoke", no_argument, NULL, 's' },	    { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t rate = 2000000, storm_rate = 100000, drops;
	double seconds = 5, warmup = 2, after = 2;
	int cpu = 0, c;
	struct snap s[4];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'E':
			n_flows = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'R':
			rate = parse_rate(optarg);
			break;
		case 'S':
			storm_rate = parse_rate(optarg);
			break;
		case 'T':
			seconds = atof(optarg);
			break;
		case 'W':
			warmup = atof(optarg);
			break;
		case 'A':
			after = atof(optarg);
			break;
		case 'r':
			ring_size = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'C':
			cpu = atoi(optarg);
			break;
		case 's':
			n_flows = 1000;
			rate = 200000;
			storm_rate = 10000;
			warmup = 0.25;
			seconds = 0.5;
			after = 0.25;
			break;
		default:
			printf("usage: bench_flow_storm [--flows E] [--rate PPS] [--storm NEW_FLOWS_PER_S] [--seconds T]\n"
			       "                        [--warmup S] [--after S] [--ring FRAMES] [--cpu WORKER_CPU] [--smoke]\n"
			       "  rates take k or M (2M = 2,000,000 frames/s); --cpu -1: the worker not pinned\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!n_flows || n_flows > FLOWS_MAX || !rate || ring_size < 64 || ring_size > RING_MAX || seconds <= 0 ||
	    warmup < 0 || after < 0 || seconds > 3600 || warmup > 3600 || after > 3600) {
		fprintf(stderr, "bench_flow_storm: --flows 1..%u, --rate > 0, --ring 64..%u, --seconds > 0\n", FLOWS_MAX,
			RING_MAX);
		return 2;
	}
	tsc_hz = dp_tsc_hz();
	est.rate = rate;
	storm.rate = storm_rate;
	flow_iov = calloc(n_flows, sizeof(*flow_iov));
	flow_buf = aligned_alloc(64, (size_t)n_flows * sizeof(*flow_buf));
	db = flow_db_create();
	if (!tsc_hz || !flow_iov || !flow_buf || !db || src_init(&est, false, 0x9e3779b97f4a7c15ull) < 0 ||
	    src_init(&storm, true, 1) < 0 || switch_init(&sw, SWITCH_LEARNING, 300, 4096) < 0) {
		fprintf(stderr, "bench_flow_storm: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < n_flows; i++) {
		frame_make(flow_buf[i], est_addr(i), (uint16_t)(10000 + (i & 0x3fff)));
		flow_iov[i] = (struct iovec){ flow_buf[i], FRAME_LEN };
	}
	for (unsigned i = 0; i < N_PORTS; i++) {
		snprintf(ports[i].port.name, sizeof(ports[i].port.name), "p%u", i);
		ports[i].port.ops = &fake_ops;
		ports[i].port.id = i;
		ports[i].src = i == 0 ? &est : i == 1 ? &storm : NULL;
		ports[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ports[i].fd < 0) {
			perror("bench_flow_storm: eventfd");
			return 1;
		}
		switch_port_set(&sw, i, &ports[i].port);
	}
	load_rules();
	if (dp_start(&dp, &sw, 1, &cpu, true) < 0) {
		fprintf(stderr, "bench_flow_storm: dp_start failed\n");
		return 1;
	}
	dp_rebuild(&dp);
	printf("bench_flow_storm: %u established flows at %.3f Mpps, a storm of %.1f k new flows/s for %.2f s, "
	       "rings of %u frames, worker on CPU %d; %u rules, caches per worker: %u exact-match, %u megaflows\n",
	       n_flows, (double)rate / 1e6, (double)storm_rate / 1e3, seconds, ring_size, cpu, n_flows + 49,
	       DP_FLOW_EMC_ENTRIES, DP_FLOW_MF_ENTRIES);

	/* Established only: the caches warm, then the phases. */
	atomic_store(&est.start_tsc, dp_tsc());
	atomic_store_explicit(&est.on, true, memory_order_release);
	nap(0.05);
	snap_take(&s[0]);
	nap(warmup);
	atomic_store(&storm.start_tsc, dp_tsc());
	atomic_store_explicit(&storm.on, storm_rate > 0, memory_order_release);
	snap_take(&s[1]);
	nap(seconds);
	atomic_store_explicit(&storm.on, false, memory_order_release);
	snap_take(&s[2]);
	nap(after);
	snap_take(&s[3]);
	atomic_store_explicit(&est.on, false, memory_order_release);

	phase_print("before storm", &s[0], &s[1]);
	drops = phase_print("storm", &s[1], &s[2]);
	phase_print("after storm", &s[2], &s[3]);
	printf("bench_flow_storm: established drops during the storm: %llu (target 0)\n", (unsigned long long)drops);

	for (unsigned i = 0; i < N_PORTS; i++)
		switch_port_set(&sw, i, NULL);
	dp_sync(&dp);
	dp_rebuild(&dp);
	dp_stop(&dp);
	flow_db_destroy(db);
	switch_destroy(&sw);
	return 0;
}
