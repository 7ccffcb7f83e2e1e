/* perf.h - stage timing of the data path: per-worker cycle counts, per-stage histograms, frame latency. */
#ifndef VSW_DP_PERF_H
#define VSW_DP_PERF_H

/*
 * The dispatcher (pipeline.c), not the stages, reads the cycle counter:
 * once before a timed batch's rx_burst, then once after each stage of it
 * (a "mark"), and each mark charges the cycles since the previous one to
 * its point:
 *
 *   rx_burst   parse   lookup   actions      tx (per destination)       rx_done
 *   |---------|-------|--------|---------|-----------|-----------|----------|
 *   t0    mark rx  mark      mark     mark act   mark tx.<type> ...       mark rx_done
 *        (per source                  (drop pass,
 *         port type)                   then output or flood)
 *
 * So a timed batch costs about eight counter reads (one more per extra
 * destination), none per frame.  Four points lie inside a port and are
 * noted by it through ctx->io.perf (NULL-gated, nested in the tx, rx and
 * rx_done points they happen in): the used-ring publish and the call
 * eventfd write (two reads each), and a vxlan port's encap and decap (the
 * work around its sendmmsg / recvmmsg, the syscalls left out: two reads
 * per burst and two more per extra sendmmsg, never one per frame; their
 * packets are datagrams: a TSO frame sent as UDP GSO counts its segments).  A counter read costs ~25 cycles (CI machine), a
 * 64-byte frame ~200, so the worker times the stages of one batch poll in
 * dp->perf_every (16 by default; dp.c), drawn at random (dp.h, dp_perf_pick()):
 * the per-stage figures are a sample.  The round point is read twice per
 * round, every round, and covers whole rounds that moved frames: its
 * cycles are the worker's busy_cycles, exact.
 *
 * Each point counts cycles, frames and batches, and keeps a log2
 * histogram of cycles per frame (one sample per batch).  Latency is
 * sampled per frame: one frame of each timed batch that went somewhere
 * (its position rotates from batch to batch), from the read before its
 * rx_burst (the rx pop) to the mark after the tx_burst that published it
 * (a flood frame: its last destination's).  The sample stands for the batch's delivered frames, so
 * it is weighted by them and the percentiles are per frame, not per batch;
 * a log-linear histogram (8 sub-buckets per power of two) keeps them
 * within 12.5 %.  No counter read is added: those marks exist anyway.
 *
 * Every counter has one writer (its worker): a plain add, read whole by
 * the control thread.  Reset is the reader's: it keeps a snapshot and
 * shows the difference (dp.c), so a worker never loses an update.
 * Timing is on by default and switched at run time (dp_perf_set()); off,
 * ctx->io.perf is NULL and no counter is read.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

struct port;

enum dp_point {
	DP_PT_ROUND,		/* a whole worker round that moved frames */
	DP_PT_RX_VHOST,		/* rx pop, per source port type */
	DP_PT_RX_TAP,
	DP_PT_RX_AFXDP,
	DP_PT_RX_AFPACKET,
	DP_PT_RX_PCAP,
	DP_PT_RX_OTHER,
	DP_PT_PARSE,		/* rx capture hook, L2 keys */
	DP_PT_LOOKUP,		/* the `normal` action's decision: port security, learn, FDB lookup */
	DP_PT_ACT_OUTPUT,	/* gather of a batch of single-port verdicts */
	DP_PT_ACT_FLOOD,	/* gather of a batch with at least one flood verdict */
	DP_PT_ACT_DROP,		/* dropped frames counted by reason */
	DP_PT_TX_VHOST,		/* capture hook + tx_burst, per destination port type */
	DP_PT_TX_TAP,
	DP_PT_TX_AFXDP,
	DP_PT_TX_AFPACKET,
	DP_PT_TX_PCAP,
	DP_PT_TX_OTHER,
	DP_PT_PUBLISH,		/* used-ring publish (vq_flush), inside tx and rx_done */
	DP_PT_NOTIFY,		/* call eventfd write, inside tx and rx_done */
	DP_PT_ENCAP,		/* a vxlan port's outer headers and messages for a burst, inside tx, syscalls apart */
	DP_PT_DECAP,		/* a vxlan port's checks and split of received datagrams, inside rx, recvmmsg apart */
	DP_PT_RX_DONE,		/* source buffers back */
	DP_PT__COUNT
};
extern const char *const dp_point_names[DP_PT__COUNT];

/* Port types with their own rx and tx points; the rest are "other". */
enum dp_port_kind { DP_KIND_VHOST, DP_KIND_TAP, DP_KIND_AFXDP, DP_KIND_AFPACKET, DP_KIND_PCAP, DP_KIND_OTHER };

#define DP_HIST_LOG2 32		/* bucket b: cycles per frame in [2^(b-1), 2^b); the last one open */
#define DP_LAT_SUB 8		/* sub-buckets per power of two */
#define DP_LAT_BUCKETS (16 + 60 * DP_LAT_SUB)	/* values 0..15 exact, then 2^4 .. 2^63 */

struct dp_point_stats {
	atomic_uint_least64_t cycles, pkts, batches;
	atomic_uint_least64_t hist[DP_HIST_LOG2];
};

/* One worker's timing: written only by that worker. */
struct dp_perf {
	uint64_t last;				/* the counter at the previous mark */
	uint64_t rx_t0;				/* the mark before the current batch's rx pop (dp_process_batch) */
	unsigned sample_next;			/* batch position of the next latency sample (rotates) */
	struct dp_point_stats pt[DP_PT__COUNT];
	atomic_uint_least64_t lat[DP_LAT_BUCKETS];	/* sampled frame latency in cycles, weighted by frames */
};

/* The cycle counter: the TSC on x86 (invariant on every CPU vsw runs on), CLOCK_MONOTONIC ns elsewhere. */
static inline uint64_t dp_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}
/* Its rate in Hz, measured once against CLOCK_MONOTONIC (the first call sleeps ~20 ms). */
uint64_t dp_tsc_hz(void);

/* The log2 bucket of @v (0 for 0, DP_HIST_LOG2 - 1 for anything large). */
unsigned dp_hist_log2_index(uint64_t v);
/* The largest value bucket @b of the log2 histogram holds. */
uint64_t dp_hist_log2_upper(unsigned b);
/* The log-linear bucket of @v. */
unsigned dp_lat_index(uint64_t v);
/* The largest value log-linear bucket @b holds. */
uint64_t dp_lat_upper(unsigned b);
/*
 * The @permille-th (0..1000) percentile of a histogram of @n buckets, as
 * the upper bound of its bucket (@upper), or 0 for an empty histogram.
 */
uint64_t dp_hist_percentile(const uint64_t *h, unsigned n, unsigned permille, uint64_t (*upper)(unsigned));

/* The rx/tx point group of a port's type. */
enum dp_port_kind dp_port_kind_of(const struct port *p);

/* A counter only this worker writes: a plain add, no locked instruction. */
static inline void dp_perf_count(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Charge @cycles for @pkts frames (one batch) to point @pt. */
void dp_perf_add(struct dp_perf *pf, enum dp_point pt, uint64_t cycles, unsigned pkts);
/* A sampled frame took @cycles from rx pop to tx publish; it stands for @pkts frames. */
void dp_perf_latency(struct dp_perf *pf, uint64_t cycles, unsigned pkts);

/* Dispatcher: a round (or a stretch timed as a whole) starts now. */
static inline void dp_perf_start(struct dp_perf *pf)
{
	if (pf)
		pf->last = dp_tsc();
}

/* Dispatcher: charge the cycles since the previous mark to @pt, for @pkts frames. */
static inline void dp_perf_mark(struct dp_perf *pf, enum dp_point pt, unsigned pkts)
{
	uint64_t now;

	if (!pf)
		return;
	now = dp_tsc();
	dp_perf_add(pf, pt, now - pf->last, pkts);
	pf->last = now;
}

/* A port, around a port-internal point: the counter now, or 0 when timing is off. */
static inline uint64_t dp_perf_note_start(struct dp_perf *pf)
{
	return pf ? dp_tsc() : 0;
}

/* A port: the point @pt that began at @t0 (dp_perf_note_start) ends now; nested, the marks are not moved. */
static inline void dp_perf_note(struct dp_perf *pf, enum dp_point pt, uint64_t t0, unsigned pkts)
{
	if (pf)
		dp_perf_add(pf, pt, dp_tsc() - t0, pkts);
}

#endif
