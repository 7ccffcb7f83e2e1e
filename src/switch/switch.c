/* switch.c - per-batch forwarding: learn, look up, group by destination, one tx_burst per destination. */
#include "switch/switch.h"

#include <string.h>

#include "dp/dp.h"
#include "port/capture.h"

void switch_init(struct vswitch *sw, enum switch_mode mode, unsigned aging_s)
{
	sw->mode = mode;
	for (unsigned i = 0; i < PORT_MAX; i++)
		atomic_init(&sw->ports[i], NULL);
	atomic_init(&sw->now_s, 0);
	memset(sw->sp, 0, sizeof(sw->sp));
	fdb_init(&sw->fdb, aging_s);
}

const char *const switch_counter_names[SWC__COUNT] = {
	[SWC_MAC_MOVES] = "mac_moves",
	[SWC_LEARN_LIMIT] = "learn_limit",
};

/* ---- stubs: the API of the security work, not implemented yet ---- */
void switch_port_cfg_default(struct switch_port_cfg *c)
{
	memset(c, 0, sizeof(*c));
}

int switch_port_attach(struct vswitch *sw, unsigned port, const struct switch_port_cfg *c, char *err,
		       size_t errlen)
{
	fdb_flush_port(&sw->fdb, port);
	sw->sp[port].cfg = *c;
	return 0;
}

void switch_port_detach(struct vswitch *sw, unsigned port)
{
	fdb_flush_port(&sw->fdb, port);
}

static void enqueue(struct dp_ctx *ctx, unsigned port, struct pkt *p)
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

void switch_forward(struct vswitch *sw, struct dp_ctx *ctx, struct port *in, struct pkt *pkts, unsigned n)
{
	uint32_t now = atomic_load_explicit(&sw->now_s, memory_order_relaxed);
	unsigned nowhere = 0;
	/* Frames of a burst mostly share addresses: remember the last source learned and destination looked up. */
	uint64_t learned = ~0ull, looked_up = ~0ull;
	int looked_up_out = -1;

	capture_port_rx(in, pkts, n); /* what the port handed us, before any decision */
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = &pkts[i];
		const uint8_t *dst = p->eth, *src = p->eth + 6;
		int out;

		if (sw->mode == SWITCH_HUB) {
			nowhere += flood(sw, ctx, in->id, p) == 0;
			continue;
		}
		/* A multicast source address is invalid: never learn it. */
		if (!(src[0] & 1) && fdb_mac(src) != learned) {
			fdb_learn(&sw->fdb, src, in->id, now);
			learned = fdb_mac(src);
			looked_up = ~0ull; /* what we just learned may be a destination */
		}
		if (dst[0] & 1) {
			out = -1;
		} else if (fdb_mac(dst) == looked_up) {
			out = looked_up_out;
		} else {
			out = fdb_lookup(&sw->fdb, dst, now);
			looked_up = fdb_mac(dst);
			looked_up_out = out;
		}
		if (out < 0 || !atomic_load_explicit(&sw->ports[out], memory_order_acquire))
			nowhere += flood(sw, ctx, in->id, p) == 0;
		else if ((unsigned)out == in->id)
			nowhere++; /* destination behind the port it came from: filtered */
		else
			enqueue(ctx, (unsigned)out, p);
	}
	if (nowhere)
		port_count_drop(in, DROP_NO_DESTINATION, nowhere);

	for (unsigned t = 0; t < ctx->ntouched; t++) {
		unsigned j = ctx->touched[t];
		struct port *out = atomic_load_explicit(&sw->ports[j], memory_order_acquire);

		if (out) {
			capture_port_tx(out, ctx->out[j], ctx->out_n[j]);
			out->ops->tx_burst(out, ctx, ctx->out[j], ctx->out_n[j]);
		}
		ctx->out_n[j] = 0;
	}
	ctx->ntouched = 0;
}
