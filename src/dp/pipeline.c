/* pipeline.c - the dispatcher: a batch through rx, parse, lookup, actions, tx and rx done, timed between stages. */
#include "dp/pipeline.h"

#include "dp/egress.h"
#include "dp/flows.h"
#include "port/capture.h"
#include "switch/switch.h"

/*
 * The stages are functions over a batch; none sends (but tx), none reads
 * the clock.  Only this file knows their order, and it marks the time
 * after each one (perf.h: one counter read per stage per batch, none when
 * ctx->io.perf is NULL).  With flow tables published (sw->flows), the
 * lookup is dp_flow_lookup() instead of the bridge alone: the same
 * verdicts, plus the copies a frame with several outputs needs, which go
 * out after the batch (flow_copies_tx); ports never see the difference.
 */

/*
 * Parse: each frame's first bytes copied once from the source into its
 * head (packet/pkt.h); every later stage reads the head, and the first
 * one that needs the offsets parses them there (pkt_parsed()).
 * The frames go to an rx capture as they came; the verdicts start empty.
 */
static void stage_parse(struct dp_ctx *ctx, struct pkt_batch *b)
{
	pkt_load_burst(b->pkts, b->n);
	capture_port_rx(b->in, b->pkts, b->n);
	b->n_out = b->n_flood = b->n_drop = 0;
}

/*
 * The frame of @b whose latency is sampled: the next position in rotation,
 * or the first delivered one after it (a dropped frame is never
 * published); -1 when nothing of the batch goes anywhere.
 */
static int latency_pick(struct dp_perf *pf, const struct pkt_batch *b)
{
	unsigned s = pf->sample_next < b->n ? pf->sample_next : 0;

	pf->sample_next = s + 1;
	if (!(b->n_out + b->n_flood))
		return -1;
	while (b->dest[s] > PKT_DEST_FLOOD)
		s = s + 1 < b->n ? s + 1 : 0;
	return (int)s;
}

/*
 * The actions and tx stages for a batch of copies the flow lookup made
 * (the frames for `normal`, then every other extra output): the same
 * passes as the batch's own, timed the same way, without latency sample.
 */
static void flow_copies_tx(struct vswitch *sw, struct dp_ctx *ctx, struct pkt_batch *c)
{
	struct dp_perf *pf = ctx->io.perf;
	unsigned sent = 0;

	/* The tx stage reads the batch's VLAN flag from ctx->batch (egress.c); the copies' is their own (the batch's tx is done). */
	ctx->batch.vlan = c->vlan;
	if (c->n_drop) {
		dp_act_drop(c);
		dp_perf_mark(pf, DP_PT_ACT_DROP, c->n_drop);
	}
	if (!(c->n_out + c->n_flood))
		return;
	dp_act_gather(sw, ctx, c);
	dp_perf_mark(pf, c->n_flood ? DP_PT_ACT_FLOOD : DP_PT_ACT_OUTPUT, c->n_out + c->n_flood);
	for (unsigned t = 0; t < ctx->ngrp; t++) {
		struct port *out = dp_egress_send(sw, ctx, t, &sent);

		if (pf && out)
			dp_perf_mark(pf, (enum dp_point)(DP_PT_TX_VHOST + dp_port_kind_of(out)), sent);
	}
	for (unsigned cursor = 0; ctx->nflood;) {
		struct port *out = dp_egress_flood_next(sw, ctx, &cursor);

		if (!out)
			break;
		if (pf)
			dp_perf_mark(pf, (enum dp_point)(DP_PT_TX_VHOST + dp_port_kind_of(out)), ctx->nflood);
	}
	dp_egress_done(ctx);
}

/*
 * The answers the tx stage made to frames too big for a tunnel (pmtu.h):
 * each a frame received on that tunnel's port, toward the sender, through
 * every stage like one (learning, flows, VLANs), after the batch that
 * caused it.  None is made meanwhile (pm->answering): their slots are the
 * frames going through.
 */
static void pmtu_answers(struct vswitch *sw, struct dp_ctx *ctx)
{
	struct dp_pmtu *pm = &ctx->pmtu;
	unsigned n = pm->n;

	pm->answering = true;
	for (unsigned i = 0, k; i < n; i = k) {
		unsigned from = pm->pkts[i].in_port;
		struct port *t = atomic_load_explicit(&sw->ports[from], memory_order_acquire);

		for (k = i + 1; k < n && pm->pkts[k].in_port == from; k++)
			;
		if (t)
			dp_forward(sw, ctx, t, &pm->pkts[i], k - i);
	}
	pm->n = 0;
	pm->answering = false;
}

void dp_forward(struct vswitch *sw, struct dp_ctx *ctx, struct port *in, struct pkt *pkts, unsigned n)
{
	/* Read once: the whole batch, copies included, sees one version of the flow tables. */
	const struct flow_tables *flows = atomic_load_explicit(&sw->flows, memory_order_acquire);
	struct dp_perf *pf = ctx->io.perf;
	struct pkt_batch *b = &ctx->batch;
	unsigned sent = 0, sample_dest = 0;
	int sample = -1;

	b->in = in;
	b->pkts = pkts;
	b->n = n;
	stage_parse(ctx, b);
	dp_perf_mark(pf, DP_PT_PARSE, n);

	if (!flows)
		switch_decide(sw, b);
	else
		dp_flow_lookup(sw, ctx, b, flows);
	dp_perf_mark(pf, DP_PT_LOOKUP, n);
	if (pf && (sample = latency_pick(pf, b)) >= 0)
		sample_dest = b->dest[sample];

	if (b->n_drop) {
		dp_act_drop(b);
		dp_perf_mark(pf, DP_PT_ACT_DROP, b->n_drop);
	}
	if (b->n_out + b->n_flood) {
		dp_act_gather(sw, ctx, b);
		/* A batch with any flood frame is timed as a flood: it costs a pass over the flood list. */
		dp_perf_mark(pf, b->n_flood ? DP_PT_ACT_FLOOD : DP_PT_ACT_OUTPUT, b->n_out + b->n_flood);
	}

	for (unsigned t = 0; t < ctx->ngrp; t++) {
		struct port *out = dp_egress_send(sw, ctx, t, &sent);

		if (!pf || !out)
			continue;
		dp_perf_mark(pf, (enum dp_point)(DP_PT_TX_VHOST + dp_port_kind_of(out)), sent);
		/* The sampled frame is published with its destination's burst. */
		if (sample >= 0 && sample_dest == out->id) {
			dp_perf_latency(pf, pf->last - pf->rx_t0, b->n_out + b->n_flood);
			sample = -1;
		}
	}
	for (unsigned cursor = 0; ctx->nflood;) {
		struct port *out = dp_egress_flood_next(sw, ctx, &cursor);

		if (!out)
			break;
		if (pf)
			dp_perf_mark(pf, (enum dp_point)(DP_PT_TX_VHOST + dp_port_kind_of(out)), ctx->nflood);
	}
	/* A flood frame is published with its last copy: at the end of the tx stage. */
	if (sample >= 0 && sample_dest == PKT_DEST_FLOOD)
		dp_perf_latency(pf, pf->last - pf->rx_t0, b->n_out + b->n_flood);
	dp_egress_done(ctx);
	if (flows) {
		if (ctx->flow->normal.n)
			flow_copies_tx(sw, ctx, &ctx->flow->normal);
		if (ctx->flow->extra.n)
			flow_copies_tx(sw, ctx, &ctx->flow->extra);
	}
	if (ctx->pmtu.n && !ctx->pmtu.answering)
		pmtu_answers(sw, ctx);
}

unsigned dp_process_batch(struct vswitch *sw, struct dp_ctx *ctx, struct port *in, unsigned q)
{
	struct dp_perf *pf = ctx->io.perf;
	unsigned n;

	if (pf) {
		dp_perf_start(pf);
		pf->rx_t0 = pf->last;
	}
	n = in->ops->rx_burst(in, q, &ctx->io, ctx->pkts, PKT_BURST);

	if (n) {
		if (pf)
			dp_perf_mark(pf, (enum dp_point)(DP_PT_RX_VHOST + dp_port_kind_of(in)), n);
		dp_forward(sw, ctx, in, ctx->pkts, n);
	}
	in->ops->rx_done(in, q, &ctx->io);
	if (n)
		dp_perf_mark(pf, DP_PT_RX_DONE, n);
	return n;
}
