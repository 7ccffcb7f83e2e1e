/* perf.c - stage timing: counter calibration, histogram buckets and percentiles, point names (see perf.h). */
#include "lib/perf.h"

#include <pthread.h>
#include <string.h>

#include "port/port.h"

const char *const dp_point_names[DP_PT__COUNT] = {
	[DP_PT_ROUND] = "round",
	[DP_PT_RX_VHOST] = "rx.vhost-user",
	[DP_PT_RX_TAP] = "rx.tap",
	[DP_PT_RX_AFXDP] = "rx.afxdp",
	[DP_PT_RX_AFPACKET] = "rx.afpacket",
	[DP_PT_RX_PCAP] = "rx.pcap",
	[DP_PT_RX_OTHER] = "rx.other",
	[DP_PT_PARSE] = "parse",
	[DP_PT_LOOKUP] = "lookup",
	[DP_PT_ACT_OUTPUT] = "action.output",
	[DP_PT_ACT_FLOOD] = "action.flood",
	[DP_PT_ACT_DROP] = "action.drop",
	[DP_PT_TX_VHOST] = "tx.vhost-user",
	[DP_PT_TX_TAP] = "tx.tap",
	[DP_PT_TX_AFXDP] = "tx.afxdp",
	[DP_PT_TX_AFPACKET] = "tx.afpacket",
	[DP_PT_TX_PCAP] = "tx.pcap",
	[DP_PT_TX_OTHER] = "tx.other",
	[DP_PT_PUBLISH] = "used_publish",
	[DP_PT_NOTIFY] = "notify",
	[DP_PT_ENCAP] = "encap",
	[DP_PT_DECAP] = "decap",
	[DP_PT_RX_DONE] = "rx_done",
};

static uint64_t tsc_hz;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counter ticks over ~20 ms of CLOCK_MONOTONIC; the sleep's own jitter is well under a per-mille. */
static void tsc_calibrate(void)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	uint64_t n0 = mono_ns(), c0 = dp_tsc(), n1, c1;

	nanosleep(&nap, NULL);
	n1 = mono_ns();
	c1 = dp_tsc();
	tsc_hz = n1 > n0 ? (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / (n1 - n0)) : 0;
	if (!tsc_hz)
		tsc_hz = 1000000000u;
}

uint64_t dp_tsc_hz(void)
{
	pthread_once(&tsc_once, tsc_calibrate);
	return tsc_hz;
}

unsigned dp_hist_log2_index(uint64_t v)
{
	unsigned b = v ? 64 - (unsigned)__builtin_clzll(v) : 0;

	return b < DP_HIST_LOG2 ? b : DP_HIST_LOG2 - 1;
}

uint64_t dp_hist_log2_upper(unsigned b)
{
	if (b >= DP_HIST_LOG2 - 1)
		return UINT64_MAX;
	return b ? (1ull << b) - 1 : 0;
}

unsigned dp_lat_index(uint64_t v)
{
	unsigned e;

	if (v < 16)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v); /* 4..63 */
	return 16 + (e - 4) * DP_LAT_SUB + (unsigned)((v >> (e - 3)) & (DP_LAT_SUB - 1));
}

uint64_t dp_lat_upper(unsigned b)
{
	unsigned e, sub;

	if (b < 16)
		return b;
	e = 4 + (b - 16) / DP_LAT_SUB;
	sub = (b - 16) % DP_LAT_SUB;
	/* [2^e + sub * 2^(e-3), 2^e + (sub + 1) * 2^(e-3)) */
	if (e == 63 && sub == DP_LAT_SUB - 1)
		return UINT64_MAX;
	return (1ull << e) + ((uint64_t)(sub + 1) << (e - 3)) - 1;
}

uint64_t dp_hist_percentile(const uint64_t *h, unsigned n, unsigned permille, uint64_t (*upper)(unsigned))
{
	uint64_t total = 0, want, seen = 0;

	for (unsigned b = 0; b < n; b++)
		total += h[b];
	if (!total)
		return 0;
	/* The smallest bucket with at least ceil(total * permille / 1000) samples at or below it. */
	want = (uint64_t)(((unsigned __int128)total * permille + 999) / 1000);
	if (!want)
		want = 1;
	for (unsigned b = 0; b < n; b++) {
		seen += h[b];
		if (seen >= want)
			return upper(b);
	}
	return upper(n - 1);
}

enum dp_port_kind dp_port_kind_of(const struct port *p)
{
	const char *t = p->ops->type;

	switch (t[0]) {
	case 'v':
		return strcmp(t, "vhost-user") == 0 ? DP_KIND_VHOST : DP_KIND_OTHER;
	case 't':
		return strcmp(t, "tap") == 0 ? DP_KIND_TAP : DP_KIND_OTHER;
	case 'a':
		if (strcmp(t, "afxdp") == 0)
			return DP_KIND_AFXDP;
		return strcmp(t, "afpacket") == 0 ? DP_KIND_AFPACKET : DP_KIND_OTHER;
	case 'p':
		return strcmp(t, "pcap") == 0 ? DP_KIND_PCAP : DP_KIND_OTHER;
	}
	return DP_KIND_OTHER;
}

/* @cycles / @pkts; a shift for the full bursts of a loaded switch (a divide costs 20-40 cycles). */
static inline uint64_t per_pkt(uint64_t cycles, unsigned pkts)
{
	if (pkts <= 1)
		return cycles;
	if (!(pkts & (pkts - 1)))
		return cycles >> __builtin_ctz(pkts);
	return cycles / pkts;
}

void dp_perf_add(struct dp_perf *pf, enum dp_point pt, uint64_t cycles, unsigned pkts)
{
	struct dp_point_stats *s = &pf->pt[pt];

	dp_perf_count(&s->cycles, cycles);
	dp_perf_count(&s->pkts, pkts);
	dp_perf_count(&s->batches, 1);
	dp_perf_count(&s->hist[dp_hist_log2_index(per_pkt(cycles, pkts))], 1);
}

void dp_perf_latency(struct dp_perf *pf, uint64_t cycles, unsigned pkts)
{
	dp_perf_count(&pf->lat[dp_lat_index(cycles)], pkts);
}
