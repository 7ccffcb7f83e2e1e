/* egress.c - the actions stage (drop counts, groups per destination, floods within budget) and the tx stage. */
#include "dp/egress.h"

#include "dp/offload.h"
#include "port/capture.h"
#include "switch/switch.h"
#include "switch/switch_vlan.h"

_Static_assert(PKT_BURST < 256, "a group's number fits grp_of[]'s byte");

void dp_act_drop(const struct pkt_batch *b)
{
	unsigned drops[DROP__COUNT] = { 0 };

	for (unsigned i = 0; i < b->n; i++)
		if (pkt_dest_is_drop(b->dest[i]))
			drops[pkt_dest_drop_why(b->dest[i])]++;
	port_count_drops(b->in, drops);
}

/* A new group for slot @d at the end of the batch's groups. */
static inline struct dp_group *group_new(struct dp_ctx *ctx, unsigned d)
{
	struct dp_group *grp = &ctx->grp[ctx->ngrp++];

	ctx->grp_of[d] = (uint8_t)ctx->ngrp;
	grp->port = (uint16_t)d;
	return grp;
}

/*
 * What a flood frame is keyed by: its VLAN ID (0-4095), or FLOOD_KEY_NONE
 * for a frame without a VLAN (pkt.vlan PKT_VLAN_NONE), which goes to
 * every port.  The batch's admitted keys are in ctx->flood_vids (and
 * flood_none); the flood pass tests each port against them once.
 */
#define FLOOD_KEY_NONE 0x1000u
#define FLOOD_KEY_UNSET 0x2000u	/* dp_act_gather(): no fan-out computed yet */

_Static_assert(DP_FLOOD_VID_WORDS * 64 == SWITCH_VLANS, "a bit per VLAN ID in ctx->flood_vids");

/* The key of flood frame @p of a batch whose VLAN flag is @vlans. */
static inline unsigned flood_key(const struct pkt *p, bool vlans)
{
	return vlans && p->vlan != PKT_VLAN_NONE ? SWITCH_VID(p->vlan) : FLOOD_KEY_NONE;
}

/* Has a flood frame of key @key been admitted in this batch? */
static inline bool flood_key_seen(const struct dp_ctx *ctx, unsigned key)
{
	return key == FLOOD_KEY_NONE ? ctx->flood_none : (ctx->flood_vids[key / 64] >> (key % 64) & 1);
}

static inline void flood_key_note(struct dp_ctx *ctx, unsigned key)
{
	if (key == FLOOD_KEY_NONE) {
		ctx->flood_none = true;
		return;
	}
	ctx->flood_vids[key / 64] |= 1ull << (key % 64);
	ctx->flood_vid_list[ctx->n_flood_vids++] = (uint16_t)key;
}

/*
 * Copies a flood frame of key @key from @in costs: every port on @l that
 * carries its VLAN but @in (which is on it while it is published); and in
 * *@skip the ports the flood pass walks past without sending.
 */
static unsigned fan_out(struct vswitch *sw, const struct switch_portlist *l, const struct port *in, unsigned key,
			unsigned *skip)
{
	bool listed = atomic_load_explicit(&sw->ports[in->id], memory_order_relaxed) == in;
	unsigned fan;

	if (key == FLOOD_KEY_NONE) {
		*skip = 0;
		return l->n - listed;
	}
	fan = switch_list_carrying(l, key) - (listed && switch_vlan_carries(&sw->sp[in->id], key));
	*skip = l->n - listed - fan;
	return fan;
}

/*
 * May one more flood frame of @fan copies go out?  When the worker's
 * bucket holds its copies or is full, and so does the polled queue's,
 * when it has one this batch (dp_queue_start), for the frame's cost: its
 * copies; for the batch's first frame of key @key the bursts to its @fan
 * ports (DP_FLOOD_VISIT_COPIES each, dp.h); for the batch's first flood
 * frame the flood pass's walk past @skip ports of other VLANs
 * (DP_FLOOD_SKIPS_PER_COPY to a copy).
 */
static bool flood_admit(struct vswitch *sw, struct dp_ctx *ctx, unsigned fan, unsigned skip, unsigned key)
{
	unsigned budget = sw->flood_budget, cost = fan, *qd = ctx->flood_queue_debt;
	bool seen = flood_key_seen(ctx, key);

	if (budget) {
		if (ctx->flood_debt && ctx->flood_debt + fan > budget)
			return false;
		if (qd) {
			if (!seen)
				cost += fan * DP_FLOOD_VISIT_COPIES + (ctx->nflood ? 0 : skip / DP_FLOOD_SKIPS_PER_COPY);
			if (*qd && *qd + cost > budget)
				return false;
			*qd += cost;
		}
		ctx->flood_debt += fan;
		ctx->flood_copies += fan;
	}
	if (!seen)
		flood_key_note(ctx, key);
	return true;
}

/*
 * Merge the flood frames @fl into group @g.  Both lists are in batch
 * order, which is the order of the frames' addresses in the batch's
 * array: merged from the back, in place (the group has room, since every
 * frame of the batch is in at most one of the two).
 */
static void merge_flood(struct dp_group *g, struct pkt *const *fl, unsigned nf)
{
	unsigned a = g->n, k = a + nf;

	g->n = (uint16_t)k;
	while (nf) {
		if (a && g->pkts[a - 1] > fl[nf - 1])
			g->pkts[--k] = g->pkts[--a];
		else
			g->pkts[--k] = fl[--nf];
	}
}

void dp_act_gather(struct vswitch *sw, struct dp_ctx *ctx, const struct pkt_batch *b)
{
	unsigned nowhere = 0, refused = 0, fan = 0, skip = 0, fan_key = FLOOD_KEY_UNSET, i = 0;

	/* The queue's own frames and the flows' copies of them, not the answers the tx stage makes (pmtu.h). */
	if (!ctx->pmtu.answering)
		ctx->unicast_out += b->n_out;
	if (b->n_flood) {
		ctx->flood_list = atomic_load_explicit(&sw->flood_list, memory_order_acquire);
		ctx->flood_in = b->in->id;
		for (unsigned k = 0; k < ctx->n_flood_vids; k++)
			ctx->flood_vids[ctx->flood_vid_list[k] / 64] = 0;
		ctx->n_flood_vids = 0;
		ctx->flood_none = false;
	}
	while (i < b->n) {
		unsigned d = b->dest[i], k;
		struct dp_group *g;
		struct pkt **o;

		if (d >= PKT_DEST_FLOOD) {
			if (d == PKT_DEST_FLOOD) {
				unsigned key = flood_key(&b->pkts[i], b->vlan);

				/* A batch's floods are mostly of one key: the fan-out once for each run of it. */
				if (key != fan_key) {
					fan = fan_out(sw, ctx->flood_list, b->in, key, &skip);
					fan_key = key;
				}
				if (!fan)
					nowhere++;
				else if (flood_admit(sw, ctx, fan, skip, key))
					ctx->flood[ctx->nflood++] = &b->pkts[i];
				else
					refused++;
			}
			i++;
			continue;
		}
		/*
		 * A run of frames to one port (a loaded switch's usual batch) with
		 * its count in a register: a count kept in memory would put a
		 * store-to-load forwarding delay on every frame (and a new group's
		 * count starts in one).
		 */
		if (ctx->grp_of[d]) {
			g = &ctx->grp[ctx->grp_of[d] - 1];
			k = g->n;
		} else {
			g = group_new(ctx, d);
			k = 0;
		}
		o = g->pkts;
		do
			o[k++] = &b->pkts[i++];
		while (i < b->n && b->dest[i] == d);
		g->n = (uint16_t)k;
	}
	/*
	 * A grouped port is a flood target too (it is published): its floods go
	 * in its group.  But the ingress port, which has a group only when a
	 * flow's in_port action sent a frame back (dp/flows.h).
	 */
	if (ctx->nflood)
		for (unsigned t = 0; t < ctx->ngrp; t++)
			if (ctx->grp[t].port != ctx->flood_in)
				merge_flood(&ctx->grp[t], ctx->flood, ctx->nflood);
	if (nowhere)
		port_count_drop(b->in, DROP_NO_DESTINATION, nowhere);
	if (refused) {
		port_count_drop(b->in, DROP_FLOOD_BUDGET, refused);
		/* None of its floods went out: its queue goes first next round (dp_poll_round). */
		if (!ctx->nflood)
			ctx->flood_starved = true;
	}
}

struct port *dp_egress_send(struct vswitch *sw, struct dp_ctx *ctx, unsigned t, unsigned *n)
{
	struct dp_group *g = &ctx->grp[t];
	struct port *out = atomic_load_explicit(&sw->ports[g->port], memory_order_acquire);
	struct pkt *const *pkts = g->pkts;

	*n = g->n;
	if (out) {
		/* VLANs: the group's frames the port carries, in its form (switch_vlan.h), in place. */
		if (ctx->batch.vlan)
			*n = switch_vlan_egress(sw, out, g->pkts, g->n, g->pkts);
		if (!*n)
			return out;
		pkts = dp_pmtu_fit(&ctx->pmtu, out, pkts, n);
		if (*n)
			dp_offload_tx(&ctx->offload, ctx->batch.in, out, &ctx->io, pkts, *n);
	}
	return out;
}

struct port *dp_egress_flood_next(struct vswitch *sw, struct dp_ctx *ctx, unsigned *cursor)
{
	const struct switch_portlist *l = ctx->flood_list;
	struct pkt *vlan_sel[PKT_BURST], *const *fl = ctx->flood;
	/* Floods in VLANs only: one (vid), or several (their bits); a port of none of them is passed. */
	unsigned n = ctx->nflood, vid = !ctx->flood_none && ctx->n_flood_vids == 1 ? ctx->flood_vid_list[0] : SWITCH_VLANS;
	bool several = !ctx->flood_none && ctx->n_flood_vids > 1;

	if (!ctx->nflood)
		return NULL;
	while (*cursor < l->n) {
		unsigned at = (*cursor)++, s = l->slot[at], nsend;
		struct pkt *const *send;
		struct port *out;

		if (s == ctx->flood_in || ctx->grp_of[s])
			continue;
		/* On its two bytes in the list (a trunks= or native port of several VLANs: its options, per frame below). */
		if (vid < SWITCH_VLANS) {
			unsigned c = l->vlan_of[at];

			if (c != vid && c != SWITCH_LIST_VLAN_ALL &&
			    (c != SWITCH_LIST_VLAN_SOME || !switch_vlan_carries(&sw->sp[s], vid)))
				continue;
		} else if (several && l->vlan_of[at] < SWITCH_VLANS &&
			   !(ctx->flood_vids[l->vlan_of[at] / 64] >> (l->vlan_of[at] % 64) & 1)) {
			continue;
		}
		/* NULL: on its way out (unpublished before the list that drops it). */
		out = atomic_load_explicit(&sw->ports[s], memory_order_acquire);
		if (!out)
			continue;
		/* VLANs: the flood stays in its VLANs, in each port's form (switch_vlan.h). */
		if (ctx->batch.vlan) {
			n = switch_vlan_egress(sw, out, ctx->flood, ctx->nflood, vlan_sel);
			fl = vlan_sel;
			if (!n)
				continue;
		}
		nsend = n;
		/* The flood list itself stays whole for the next port: what fits this one is a list of its own. */
		send = dp_pmtu_fit(&ctx->pmtu, out, fl, &nsend);
		if (nsend)
			dp_offload_tx(&ctx->offload, ctx->batch.in, out, &ctx->io, send, nsend);
		return out;
	}
	return NULL;
}

void dp_egress_done(struct dp_ctx *ctx)
{
	for (unsigned t = 0; t < ctx->ngrp; t++)
		ctx->grp_of[ctx->grp[t].port] = 0;
	ctx->ngrp = 0;
	ctx->nflood = 0;
}
