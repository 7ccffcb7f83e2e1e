/* test_pipeline.c - unit tests of the datapath pipeline: decide-only switch, egress per destination, timing math. */

/*
 * The switch (switch_decide) only writes verdicts: no tx_burst, no drop
 * counted.  The datapath (dp_forward: actions and tx) turns a batch's
 * verdicts into one tx_burst per destination, destinations in the order
 * their first frame came, each destination's frames in batch order; drops
 * are counted on the ingress port by reason.  dp_process_batch runs the
 * stages between a fake port's rx_burst and rx_done and, with timing on,
 * charges each point.  The histogram helpers are checked against values
 * worked out by hand.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp/dp.h"
#include "dp/pipeline.h"
#include "dp/poll.h"
#include "switch/switch.h"
#include "../lib/dp_fixture.h"
#include "../lib/zalloc.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0xc };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define NPORTS 3
#define LOG_MAX 16

/* Every tx_burst call, in order: the port and the frames (as indexes into the batch). */
struct tx_call {
	unsigned port, n;
	int idx[PKT_BURST];
};

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct port ports[NPORTS];
	struct pkt pkts[PKT_BURST];	/* the batch under test */
	uint8_t bufs[PKT_BURST][60];
	struct iovec iov[PKT_BURST];
	struct tx_call log[LOG_MAX];
	unsigned nlog;
	unsigned rx_n, rx_done_calls;	/* what the fake rx_burst hands over */
	bool rx_per_port;		/* instead: port p hands over rx_cnt[p] frames from pkts[rx_from[p]] */
	unsigned rx_from[NPORTS], rx_cnt[NPORTS];
	unsigned slow_port;		/* this port's tx_burst spins slow_cycles (0: none) */
	uint64_t slow_cycles;
};

static struct fx *cur;

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct tx_call *c = &cur->log[cur->nlog++];

	assert_true(cur->nlog <= LOG_MAX);
	c->port = p->id;
	c->n = n;
	if (cur->slow_cycles && p->id == cur->slow_port) {
		uint64_t t0 = dp_tsc();

		while (dp_tsc() - t0 < cur->slow_cycles)
			;
	}
	for (unsigned i = 0; i < n; i++)
		c->idx[i] = (int)(pkts[i] - cur->pkts);
}

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	unsigned n = cur->rx_n < max ? cur->rx_n : max, from = 0;

	if (cur->rx_per_port) {
		n = cur->rx_cnt[p->id] < max ? cur->rx_cnt[p->id] : max;
		from = cur->rx_from[p->id];
	}
	memcpy(pkts, cur->pkts + from, n * sizeof(*pkts));
	return n;
}

static void fake_rx_done(struct port *p, unsigned q, struct port_io *io)
{
	cur->rx_done_calls++;
}

static void fake_rx_disarm(struct port *p, unsigned q)
{
}

static const struct port_ops fake_ops = {
	.type = "fake", .rx_burst = fake_rx_burst, .rx_done = fake_rx_done, .tx_burst = fake_tx_burst,
	.rx_disarm = fake_rx_disarm,
};

static int fx_setup_mode(void **state, enum switch_mode mode)
{
	struct fx *f = zalloc64(sizeof(*f)); /* holds packets: aligned as they are */

	assert_int_equal(dp_fixture_init(&f->sw, &f->ctx, mode, f->ports, NPORTS, &fake_ops), 0);
	cur = f;
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_mode(state, SWITCH_LEARNING);
}

static int fx_setup_hub(void **state)
{
	return fx_setup_mode(state, SWITCH_HUB);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dp_fixture_destroy(f->sw, f->ctx);
	free(f);
	return 0;
}

/* Frame @i of the batch: @dst <- @src. */
static void frame(struct fx *f, unsigned i, const uint8_t dst[6], const uint8_t src[6])
{
	memcpy(f->bufs[i], dst, 6);
	memcpy(f->bufs[i] + 6, src, 6);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = sizeof(f->bufs[i]) };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, sizeof(f->bufs[i]), 0);
}

/* Teach the switch that @mac is behind @port (one broadcast from it), and forget the tx it caused. */
static void teach(struct fx *f, const uint8_t mac[6], unsigned port)
{
	frame(f, 0, BCAST, mac);
	dp_forward(f->sw, f->ctx, &f->ports[port], f->pkts, 1);
	f->nlog = 0;
}

static uint64_t all_drops(struct fx *f, unsigned port)
{
	uint64_t n = 0;

	for (unsigned r = 0; r < DROP__COUNT; r++)
		n += port_drops(&f->ports[port], (enum port_drop)r);
	return n;
}

/* switch_decide fills one verdict per frame and counts them by kind; it sends and counts nothing. */
static void test_decide_only(void **state)
{
	struct fx *f = *state;
	struct pkt_batch *b = &f->ctx->batch;

	teach(f, MAC_B, 1);
	teach(f, MAC_C, 2);
	frame(f, 0, MAC_B, MAC_A);
	frame(f, 1, MAC_C, MAC_A);
	frame(f, 2, BCAST, MAC_A);
	frame(f, 3, MAC_A, MAC_A);		/* back to its own port */
	frame(f, 4, MAC_B, MAC_A);
	*b = (struct pkt_batch){ .in = &f->ports[0], .pkts = f->pkts, .n = 5 };
	pkt_load_burst(f->pkts, 5); /* the parse stage's part: the heads the switch reads */
	switch_decide(f->sw, b);

	assert_int_equal(b->dest[0], 1);
	assert_int_equal(b->dest[1], 2);
	assert_int_equal(b->dest[2], PKT_DEST_FLOOD);
	assert_int_equal(b->dest[3], PKT_DEST_DROP_WHY(DROP_NO_DESTINATION));
	assert_int_equal(b->dest[4], 1);
	assert_int_equal(b->n_out, 3);
	assert_int_equal(b->n_flood, 1);
	assert_int_equal(b->n_drop, 1);
	assert_int_equal(f->nlog, 0);			/* no tx_burst */
	assert_int_equal(all_drops(f, 0), 0);		/* the datapath counts drops, not the switch */
	assert_int_equal(f->ctx->ngrp + f->ctx->nflood, 0);	/* nor gathers */
}

/* One tx_burst per destination, destinations in first-frame order, frames in batch order. */
static void test_egress_grouping(void **state)
{
	struct fx *f = *state;

	teach(f, MAC_B, 1);
	teach(f, MAC_C, 2);
	frame(f, 0, MAC_C, MAC_A);
	frame(f, 1, MAC_B, MAC_A);
	frame(f, 2, MAC_C, MAC_A);
	frame(f, 3, BCAST, MAC_A);
	frame(f, 4, MAC_B, MAC_A);
	frame(f, 5, MAC_C, MAC_A);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 6);

	assert_int_equal(f->nlog, 2);
	assert_int_equal(f->log[0].port, 2);
	assert_int_equal(f->log[0].n, 4);
	assert_int_equal(f->log[0].idx[0], 0);
	assert_int_equal(f->log[0].idx[1], 2);
	assert_int_equal(f->log[0].idx[2], 3);
	assert_int_equal(f->log[0].idx[3], 5);
	assert_int_equal(f->log[1].port, 1);
	assert_int_equal(f->log[1].n, 3);
	assert_int_equal(f->log[1].idx[0], 1);
	assert_int_equal(f->log[1].idx[1], 3);
	assert_int_equal(f->log[1].idx[2], 4);
	assert_int_equal(f->ctx->ngrp + f->ctx->nflood, 0);	/* the groups are empty again */
	for (unsigned j = 0; j < PORT_MAX; j++)
		assert_int_equal(f->ctx->grp_of[j], 0);
	assert_int_equal(all_drops(f, 0), 0);

	/* The next batch starts from empty lists. */
	f->nlog = 0;
	frame(f, 0, MAC_B, MAC_A);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 1);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].port, 1);
	assert_int_equal(f->log[0].n, 1);
}

/* Hub: every frame to every other port, one burst each, known destinations or not. */
static void test_hub(void **state)
{
	struct fx *f = *state;
	struct pkt_batch *b = &f->ctx->batch;

	frame(f, 0, MAC_B, MAC_A);
	frame(f, 1, BCAST, MAC_A);
	frame(f, 2, MAC_A, MAC_C);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 3);
	assert_int_equal(b->n_flood, 3);
	assert_int_equal(f->nlog, 2);
	for (unsigned c = 0; c < 2; c++) {
		assert_int_equal(f->log[c].port, c + 1);
		assert_int_equal(f->log[c].n, 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(f->log[c].idx[i], i);
	}
	assert_int_equal(all_drops(f, 0), 0);
}

/* Each drop counted once, on the ingress port, under its reason. */
static void test_drops_by_reason(void **state)
{
	struct fx *f = *state;
	struct switch_port_cfg cfg;
	char err[128];

	/* MAC_C locked to port 2: port 0 may not use it as a source. */
	switch_port_cfg_default(&cfg);
	cfg.n_macs = 1;
	memcpy(cfg.macs[0], MAC_C, 6);
	assert_int_equal(switch_port_attach(f->sw, 2, &cfg, err, sizeof(err)), 0);
	/* Port 0 floods at most 64 frames at once (flood_rate 10: the bucket's depth is one burst). */
	switch_port_cfg_default(&cfg);
	cfg.flood_rate_pps = 10;
	assert_int_equal(switch_port_attach(f->sw, 0, &cfg, err, sizeof(err)), 0);

	teach(f, MAC_B, 1);
	frame(f, 0, MAC_B, MAC_C);		/* locked source */
	frame(f, 1, MAC_A, MAC_A);		/* back to its own port (learned by this very frame) */
	frame(f, 2, MAC_B, MAC_A);		/* to port 1 */
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 3);
	assert_int_equal(port_drops(&f->ports[0], DROP_MAC_LOCKED), 1);
	assert_int_equal(port_drops(&f->ports[0], DROP_NO_DESTINATION), 1);
	assert_int_equal(all_drops(f, 0), 2);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].port, 1);
	assert_int_equal(f->log[0].n, 1);
	assert_int_equal(f->log[0].idx[0], 2);

	/* 2 x 64 broadcasts: the first burst fills the bucket, the second is over the rate. */
	for (unsigned r = 0; r < 2; r++) {
		for (unsigned i = 0; i < PKT_BURST; i++)
			frame(f, i, BCAST, MAC_A);
		dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, PKT_BURST);
	}
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOOD_RATE), PKT_BURST);

	/* Alone on the switch, a flood reaches nobody: `no_destination`, counted by the datapath. */
	switch_port_set(f->sw, 0, NULL);
	switch_port_set(f->sw, 2, NULL);
	frame(f, 0, BCAST, MAC_B);
	dp_forward(f->sw, f->ctx, &f->ports[1], f->pkts, 1);
	assert_int_equal(port_drops(&f->ports[1], DROP_NO_DESTINATION), 1);
	assert_int_equal(all_drops(f, 1), 1);
}

/* A secured port's bad frames get drop verdicts in place; the good ones still go out, in order. */
static void test_secured_port(void **state)
{
	struct fx *f = *state;
	struct switch_port_cfg cfg;
	char err[128];

	switch_port_cfg_default(&cfg);
	cfg.n_macs = 1;
	memcpy(cfg.macs[0], MAC_A, 6);
	assert_int_equal(switch_port_attach(f->sw, 0, &cfg, err, sizeof(err)), 0);
	f->ports[0].ops = &fake_ops;
	frame(f, 0, BCAST, MAC_A);
	frame(f, 1, BCAST, MAC_B);		/* not its MAC */
	frame(f, 2, BCAST, MAC_A);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 3);
	assert_int_equal(port_drops(&f->ports[0], DROP_SRC_MAC), 1);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(f->log[0].n, 2);
	assert_int_equal(f->log[0].idx[0], 0);
	assert_int_equal(f->log[0].idx[1], 2);
}

/*
 * Floods mixed with unicast in one batch: each grouped port gets its
 * frames and the floods merged in batch order, in one burst; the other
 * ports get the floods, in slot order, after the groups.
 */
static void test_flood_merged_in_order(void **state)
{
	struct fx *f = *state;

	teach(f, MAC_C, 2);
	frame(f, 0, MAC_C, MAC_A);
	frame(f, 1, BCAST, MAC_A);
	frame(f, 2, MAC_C, MAC_A);
	frame(f, 3, BCAST, MAC_A);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 4);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(f->log[0].port, 2);
	assert_int_equal(f->log[0].n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(f->log[0].idx[i], i);
	assert_int_equal(f->log[1].port, 1);
	assert_int_equal(f->log[1].n, 2);
	assert_int_equal(f->log[1].idx[0], 1);
	assert_int_equal(f->log[1].idx[1], 3);
}

/*
 * Two ports flooding, a budget of one broadcast per round: they take
 * turns, since a queue whose floods were all refused goes first in the
 * next round (poll.c).  Taken in list order every round, port 1 would
 * never get a broadcast through.
 */
static void test_flood_budget_turns(void **state)
{
	struct fx *f = *state;
	static struct dp_rxq_list l;
	static struct dp_poll ps;

	f->sw->flood_budget = NPORTS - 1; /* the copies of one broadcast */
	for (unsigned i = 0; i < 4; i++)
		frame(f, i, BCAST, MAC_A);
	f->rx_n = 4;
	l.n = 2;
	l.seq = 1;
	for (unsigned i = 0; i < 2; i++)
		l.rxq[i] = (struct dp_rxq){ .port = &f->ports[i], .q = 0, .slot = (uint16_t)i, .fd = -1 };
	dp_poll_reset(&ps, &l, 0);
	for (unsigned r = 0; r < 10; r++) {
		f->nlog = 0;
		dp_round_start(f->ctx, 1);
		assert_int_equal(dp_poll_round(&ps, f->sw, f->ctx, 0), 8);
		assert_int_equal(f->nlog, 2); /* one broadcast, to the two other ports */
	}
	/* 40 broadcasts from each, 10 of the 80 admitted: 5 from each. */
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOOD_BUDGET), 35);
	assert_int_equal(port_drops(&f->ports[1], DROP_FLOOD_BUDGET), 35);
}

/*
 * Through the poller: port 0 floods 48 frames a poll (to the two other
 * ports: 96 copies, and 2 x 2 for the bursts, against a queue's share of
 * 66), first alone, then while port 1 sends unicast.  Alone, only the
 * worker's bucket holds it (2 x 128 copies a round for two hot queues):
 * nothing refused.  Beside unicast, its queue's bucket holds it to about
 * its share a poll: some refused, the unicast all through.
 */
static void test_flood_queue_share_polled(void **state)
{
	enum { FLOODS = 48, UNI = 4, ROUNDS = 200 };
	struct fx *f = *state;
	static struct dp_rxq_list l;
	static struct dp_poll ps;
	uint64_t refused, to_b = 0;

	f->sw->flood_budget = 256;
	teach(f, MAC_B, 2);
	for (unsigned i = 0; i < FLOODS; i++)
		frame(f, i, BCAST, MAC_A);
	for (unsigned i = FLOODS; i < FLOODS + UNI; i++)
		frame(f, i, MAC_B, MAC_C);
	f->rx_per_port = true;
	f->rx_from[0] = 0;
	f->rx_cnt[0] = FLOODS;
	f->rx_from[1] = FLOODS;
	f->rx_cnt[1] = 0;
	l.n = 2;
	l.seq = 1;
	for (unsigned i = 0; i < 2; i++)
		l.rxq[i] = (struct dp_rxq){ .port = &f->ports[i], .q = 0, .slot = (uint16_t)i, .fd = -1 };
	dp_poll_reset(&ps, &l, 0);
	for (unsigned r = 0; r < ROUNDS; r++) {
		f->nlog = 0;
		dp_round_start(f->ctx, ps.nhot);
		assert_int_equal(dp_poll_round(&ps, f->sw, f->ctx, 0), FLOODS);
	}
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOOD_BUDGET), 0);
	assert_int_equal(ps.unicast_queues, 0);

	f->rx_cnt[1] = UNI;
	for (unsigned r = 0; r < ROUNDS; r++) {
		f->nlog = 0;
		dp_round_start(f->ctx, ps.nhot);
		assert_int_equal(dp_poll_round(&ps, f->sw, f->ctx, 0), FLOODS + UNI);
		/* Port 1 gets the floods only, port 2 the floods and the unicast. */
		for (unsigned c = 0; c < f->nlog; c++)
			to_b += f->log[c].port == 2 ? f->log[c].n : -(uint64_t)f->log[c].n;
	}
	assert_int_equal(ps.unicast_queues, 1);
	assert_int_equal(to_b, ROUNDS * UNI);
	refused = port_drops(&f->ports[0], DROP_FLOOD_BUDGET);
	/* Admitted: at most the bucket and a share a poll, at 2 copies a frame and 4 a batch for the bursts. */
	assert_true(ROUNDS * FLOODS - refused <= (256 + ROUNDS * (DP_FLOOD_QUEUE_SHARE - 4)) / 2 + 1);
	assert_true(refused > 0);
	f->rx_per_port = false;
}

/* ---- timing ---- */

static void test_hist_log2(void **state)
{
	assert_int_equal(dp_hist_log2_index(0), 0);
	assert_int_equal(dp_hist_log2_index(1), 1);
	assert_int_equal(dp_hist_log2_index(2), 2);
	assert_int_equal(dp_hist_log2_index(3), 2);
	assert_int_equal(dp_hist_log2_index(4), 3);
	assert_int_equal(dp_hist_log2_index(100), 7);	/* 64..127 */
	assert_int_equal(dp_hist_log2_index(UINT64_MAX), DP_HIST_LOG2 - 1);
	for (uint64_t v = 0; v < (1u << 20); v = v * 3 + 1) {
		unsigned b = dp_hist_log2_index(v);

		assert_true(v <= dp_hist_log2_upper(b));
		assert_true(b == 0 || v > dp_hist_log2_upper(b - 1));
	}
}

static void test_hist_loglinear(void **state)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(dp_lat_index(i), i);
	assert_int_equal(dp_lat_index(16), 16);
	assert_int_equal(dp_lat_index(17), 16);		/* 16..17 */
	assert_int_equal(dp_lat_index(18), 17);
	assert_int_equal(dp_lat_index(31), 23);
	assert_int_equal(dp_lat_index(32), 24);
	assert_int_equal(dp_lat_index(UINT64_MAX), DP_LAT_BUCKETS - 1);
	assert_true(dp_lat_upper(DP_LAT_BUCKETS - 1) == UINT64_MAX);
	/* Every value lies in its bucket, buckets are in order, and one is at most 12.5 % wide. */
	for (unsigned k = 0; k < 2000; k++) {
		unsigned b;

		v = v * 5 / 4 + 1 + k;
		b = dp_lat_index(v);
		assert_true(b < DP_LAT_BUCKETS);
		assert_true(v <= dp_lat_upper(b));
		assert_true(b == 0 || v > dp_lat_upper(b - 1));
		if (b >= 16)
			assert_true((dp_lat_upper(b) - dp_lat_upper(b - 1)) * 8 <= dp_lat_upper(b - 1) + 1);
		if (v > UINT64_MAX / 2)
			break;
	}
}

static void test_percentiles(void **state)
{
	uint64_t h[DP_LAT_BUCKETS] = { 0 };

	assert_int_equal(dp_hist_percentile(h, DP_LAT_BUCKETS, 500, dp_lat_upper), 0);
	/* 1000 samples: 989 at 10, 10 at 1000, 1 at 100000. */
	h[dp_lat_index(10)] = 989;
	h[dp_lat_index(1000)] = 10;
	h[dp_lat_index(100000)] = 1;
	assert_int_equal(dp_hist_percentile(h, DP_LAT_BUCKETS, 500, dp_lat_upper), 10);
	assert_int_equal(dp_hist_percentile(h, DP_LAT_BUCKETS, 990, dp_lat_upper), dp_lat_upper(dp_lat_index(1000)));
	assert_int_equal(dp_hist_percentile(h, DP_LAT_BUCKETS, 999, dp_lat_upper), dp_lat_upper(dp_lat_index(1000)));
	assert_int_equal(dp_hist_percentile(h, DP_LAT_BUCKETS, 1000, dp_lat_upper),
			 dp_lat_upper(dp_lat_index(100000)));
	assert_true(dp_lat_upper(dp_lat_index(1000)) - 1000 < 1000 / 8);
}

/* dp_perf_add: cycles, packets and batches summed; the histogram takes cycles per packet. */
static void test_perf_add(void **state)
{
	struct dp_perf *pf = calloc(1, sizeof(*pf));

	dp_perf_add(pf, DP_PT_LOOKUP, 640, 64);	/* 10 per packet: bucket 4 */
	dp_perf_add(pf, DP_PT_LOOKUP, 90, 3);	/* 30: bucket 5 */
	dp_perf_add(pf, DP_PT_LOOKUP, 7, 0);	/* no packets (a notification): the cycles themselves */
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].cycles), 737);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].pkts), 67);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].batches), 3);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].hist[4]), 1);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].hist[5]), 1);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].hist[3]), 1);
	dp_perf_latency(pf, 1000, 64);
	assert_int_equal(atomic_load(&pf->lat[dp_lat_index(1000)]), 64);
	free(pf);
}

/* Reset keeps a snapshot: what is read afterwards is only what came after. */
static void test_perf_reset(void **state)
{
	struct dp dp = { .nworkers = 1 };
	struct dp_perf *out = calloc(1, sizeof(*out));

	dp.workers = zalloc64(sizeof(*dp.workers));
	dp.perf_base = calloc(1, sizeof(*dp.perf_base));
	dp_perf_add(&dp.workers[0].perf, DP_PT_PARSE, 100, 10);
	dp_perf_reset(&dp);
	dp_perf_add(&dp.workers[0].perf, DP_PT_PARSE, 50, 5);
	dp_perf_latency(&dp.workers[0].perf, 77, 5);
	dp_perf_read(&dp, 0, out);
	assert_int_equal(atomic_load(&out->pt[DP_PT_PARSE].cycles), 50);
	assert_int_equal(atomic_load(&out->pt[DP_PT_PARSE].pkts), 5);
	assert_int_equal(atomic_load(&out->pt[DP_PT_PARSE].batches), 1);
	assert_int_equal(atomic_load(&out->lat[dp_lat_index(77)]), 5);
	free(dp.workers);
	free(dp.perf_base);
	free(out);
}

/* A batch through every stage with timing on: each stage's point is charged, rx done once. */
static void test_process_batch_timed(void **state)
{
	struct fx *f = *state;
	struct dp_perf *pf = calloc(1, sizeof(*pf));
	uint64_t lat = 0;

	teach(f, MAC_B, 1);
	for (unsigned i = 0; i < 8; i++)
		frame(f, i, MAC_B, MAC_A);
	frame(f, 8, MAC_C, MAC_A);	/* unknown: flooded */
	f->rx_n = 9;
	f->ctx->io.perf = pf;
	dp_perf_start(pf);
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 9);
	assert_int_equal(f->rx_done_calls, 1);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_RX_OTHER].pkts), 9);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_PARSE].pkts), 9);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].pkts), 9);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_ACT_FLOOD].pkts), 9);	/* any flood: the batch is a flood's */
	assert_int_equal(atomic_load(&pf->pt[DP_PT_ACT_OUTPUT].batches), 0);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_ACT_DROP].batches), 0);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_TX_OTHER].batches), 2);	/* one per destination */
	assert_int_equal(atomic_load(&pf->pt[DP_PT_TX_OTHER].pkts), 10);	/* 9 to port 1, the flood to port 2 */
	assert_int_equal(atomic_load(&pf->pt[DP_PT_RX_DONE].pkts), 9);
	for (unsigned b = 0; b < DP_LAT_BUCKETS; b++)
		lat += atomic_load(&pf->lat[b]);
	assert_int_equal(lat, 9);
	assert_true(atomic_load(&pf->pt[DP_PT_LOOKUP].cycles) > 0);

	/* Unicast only: the gather is an output's; an empty poll charges nothing. */
	f->nlog = 0;
	f->rx_n = 8;
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 8);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_ACT_OUTPUT].pkts), 8);
	f->rx_n = 0;
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 0);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_RX_OTHER].batches), 2);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_RX_DONE].batches), 2);
	assert_int_equal(f->rx_done_calls, 3);

	/* A batch that is all drops has no latency: nothing of it was published. */
	lat = 0;
	frame(f, 0, MAC_A, MAC_A); /* A is behind port 0 now: back to its own port */
	f->rx_n = 1;
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 1);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_ACT_DROP].pkts), 1);
	for (unsigned b = 0; b < DP_LAT_BUCKETS; b++)
		lat += atomic_load(&pf->lat[b]);
	assert_int_equal(lat, 9 + 8);

	/* Timing off: nothing charged, frames still go. */
	f->ctx->io.perf = NULL;
	f->rx_n = 8;
	f->nlog = 0;
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 8);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(atomic_load(&pf->pt[DP_PT_LOOKUP].batches), 3);
	free(pf);
}

/* The sum of the latency histogram's buckets [@from, @to). */
static uint64_t lat_count(const struct dp_perf *pf, unsigned from, unsigned to)
{
	uint64_t n = 0;

	for (unsigned b = from; b < to; b++)
		n += atomic_load(&pf->lat[b]);
	return n;
}

/*
 * Latency is a frame's, not its batch's: the sampled frame's time ends
 * when its own destination's burst is published.  Port 2's tx_burst is
 * slow; a frame to port 1, served first, is published before it.  The
 * sample rotates over the batch, skips dropped frames, and stands for
 * every delivered frame of its batch.
 */
static void test_latency_per_frame(void **state)
{
	struct fx *f = *state;
	struct dp_perf *pf = calloc(1, sizeof(*pf));
	const uint64_t slow = dp_tsc_hz() / 200; /* 5 ms */
	const unsigned slow_b = dp_lat_index(slow);

	teach(f, MAC_B, 1);
	teach(f, MAC_C, 2);
	f->slow_port = 2;
	f->slow_cycles = slow;
	f->ctx->io.perf = pf;
	frame(f, 0, MAC_B, MAC_A);
	frame(f, 1, MAC_C, MAC_A);
	f->rx_n = 2;
	dp_perf_start(pf);
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 2);
	assert_int_equal(lat_count(pf, 0, slow_b), 2);	/* frame 0, published before port 2's burst */
	assert_int_equal(lat_count(pf, slow_b, DP_LAT_BUCKETS), 0);
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 2);
	assert_int_equal(lat_count(pf, slow_b, DP_LAT_BUCKETS), 2);	/* frame 1: after it */

	/* Position 0 again, but a drop (back to its own port): the sample moves on to frame 1. */
	frame(f, 0, MAC_A, MAC_A);
	assert_int_equal(dp_process_batch(f->sw, f->ctx, &f->ports[0], 0), 2);
	assert_int_equal(lat_count(pf, 0, slow_b), 2);
	assert_int_equal(lat_count(pf, slow_b, DP_LAT_BUCKETS), 3);	/* weighted by the one delivered frame */
	free(pf);
}

static void test_port_kind(void **state)
{
	static const struct port_ops ops[] = { { .type = "vhost-user" }, { .type = "tap" }, { .type = "afxdp" },
					       { .type = "afpacket" },	 { .type = "pcap" }, { .type = "tapx" },
					       { .type = "v" } };
	static const enum dp_port_kind want[] = { DP_KIND_VHOST, DP_KIND_TAP,	DP_KIND_AFXDP, DP_KIND_AFPACKET,
						  DP_KIND_PCAP,	 DP_KIND_OTHER, DP_KIND_OTHER };
	struct port p = { 0 };

	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		p.ops = &ops[i];
		assert_int_equal(dp_port_kind_of(&p), want[i]);
	}
	assert_true(dp_tsc_hz() >= 100000000u); /* calibrated: at least 100 MHz */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decide_only, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_egress_grouping, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hub, fx_setup_hub, fx_teardown),
		cmocka_unit_test_setup_teardown(test_drops_by_reason, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_secured_port, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flood_merged_in_order, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flood_budget_turns, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flood_queue_share_polled, fx_setup, fx_teardown),
		cmocka_unit_test(test_hist_log2),
		cmocka_unit_test(test_hist_loglinear),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_perf_add),
		cmocka_unit_test(test_perf_reset),
		cmocka_unit_test_setup_teardown(test_process_batch_timed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_latency_per_frame, fx_setup, fx_teardown),
		cmocka_unit_test(test_port_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
