/* egress.c - the actions stage (drop counts, gather per destination) and the tx stage (one tx_burst each). */
#include "dp/egress.h"

#include "port/capture.h"
#include "switch/switch.h"

void dp_act_drop(const struct dp_batch *b)
{
	unsigned drops[DROP__COUNT] = { 0 };

	for (unsigned i = 0; i < b->n; i++)
		if (b->dest[i] & DP_DEST_DROP)
			drops[b->dest[i] & 0xff]++;
	port_count_drops(b->in, drops);
}

static inline void enqueue(struct dp_ctx *ctx, unsigned port, struct pkt *p)
{
	if (ctx->out_n[port] == 0)
		ctx->touched[ctx->ntouched++] = (uint8_t)port;
	ctx->out[port][ctx->out_n[port]++] = p;
}

/* Every port but the ingress one; returns how many got the frame. */
static unsigned flood(struct vswitch *sw, struct dp_ctx *ctx, unsigned in, struct pkt *p)
{
	unsigned n = 0;

	for (unsigned j = 0; j < PORT_MAX; j++) {
		if (j == in || !atomic_load_explicit(&sw->ports[j], memory_order_acquire))
			continue;
		enqueue(ctx, j, p);
		n++;
	}
	return n;
}

void dp_act_gather(struct vswitch *sw, struct dp_ctx *ctx, const struct dp_batch *b)
{
	unsigned nowhere = 0, in = b->in->id, i = 0;

	while (i < b->n) {
		unsigned d = b->dest[i], k;
		struct pkt **o;

		if (d >= DP_DEST_FLOOD) {
			if (d == DP_DEST_FLOOD)
				nowhere += flood(sw, ctx, in, &b->pkts[i]) == 0;
			i++;
			continue;
		}
		/*
		 * A run of frames to one port (a loaded switch's usual batch) with
		 * its count in a register: a count kept in memory would put a
		 * store-to-load forwarding delay on every frame.
		 */
		k = ctx->out_n[d];
		if (k == 0)
			ctx->touched[ctx->ntouched++] = (uint8_t)d;
		o = ctx->out[d];
		do
			o[k++] = &b->pkts[i++];
		while (i < b->n && b->dest[i] == d);
		ctx->out_n[d] = (uint16_t)k;
	}
	if (nowhere)
		port_count_drop(b->in, DROP_NO_DESTINATION, nowhere);
}

struct port *dp_egress_send(struct vswitch *sw, struct dp_ctx *ctx, unsigned t, unsigned *n)
{
	unsigned j = ctx->touched[t];
	struct port *out = atomic_load_explicit(&sw->ports[j], memory_order_acquire);

	*n = ctx->out_n[j];
	if (out) {
		capture_port_tx(out, ctx->out[j], ctx->out_n[j]);
		out->ops->tx_burst(out, &ctx->io, ctx->out[j], ctx->out_n[j]);
	}
	ctx->out_n[j] = 0;
	return out;
}

void dp_egress_done(struct dp_ctx *ctx)
{
	ctx->ntouched = 0;
}
