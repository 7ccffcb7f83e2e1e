/* flows.c - the lookup stage with flow tables: keys, exact-match cache, classifier, actions, then verdicts and copies (flows.h). */
#include "dp/flows.h"

#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flow/key.h"
#include "switch/switch.h"
#include "switch/switch_sec.h"

_Static_assert((DP_FLOW_EMC_ENTRIES & (DP_FLOW_EMC_ENTRIES - 1)) == 0, "the cache is indexed by a mask");

struct dp_flow *dp_flow_ctx_new(void)
{
	size_t size = (sizeof(struct dp_flow) + 63) & ~(size_t)63;
	struct dp_flow *f = aligned_alloc(64, size);

	if (!f)
		return NULL;
	memset(f, 0, size);
	flow_exec_init(&f->x);
	return f;
}

/*
 * The cache's index for @k.  Unkeyed: frames crafted to share an index
 * only make each other miss the cache (the classifier still answers, and
 * is keyed), they cannot make it answer wrong.
 */
static inline unsigned emc_index(const struct flow_key *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		h = (h ^ k->w[i]) * 0xff51afd7ed558ccdull;
	return (unsigned)(h ^ h >> 29) & (DP_FLOW_EMC_ENTRIES - 1);
}

/*
 * Table 0's rule for each frame of @b that the check left (@live[i]):
 * from the cache when an entry of this very version (@t->gen) has the
 * same key, else from the classifier, in one batch, then cached.  An
 * entry of an older version never answers, so a commit invalidates the
 * whole cache at once, and a rule deleted before the batch began (absent
 * from @t) is never found.
 */
static void lookup_table0(struct dp_flow *f, const struct flow_tables *t, unsigned n, const bool *live)
{
	uint64_t tag = t->gen + 1; /* 0 is an empty entry */
	unsigned m = 0, hits = 0;

	for (unsigned i = 0; i < n; i++) {
		struct dp_flow_emc *e;

		if (!live[i])
			continue;
		e = &f->emc[emc_index(&f->keys[i])];
		if (e->gen == tag && e->tables == t && !memcmp(&e->key, &f->keys[i], sizeof(e->key))) {
			f->rules[i] = e->rule;
			hits++;
			continue;
		}
		f->kp[m] = &f->keys[i];
		f->miss_idx[m++] = i;
	}
	/* one writer: a relaxed load and store, no locked add */
	atomic_store_explicit(&f->stats.emc_misses, atomic_load_explicit(&f->stats.emc_misses, memory_order_relaxed) + m,
			      memory_order_relaxed);
	atomic_store_explicit(&f->stats.emc_hits,
			      atomic_load_explicit(&f->stats.emc_hits, memory_order_relaxed) + hits, memory_order_relaxed);
	if (!m)
		return;
	if (t->cls[0])
		flow_cls_lookup_batch(t->cls[0], f->kp, m, f->found);
	else
		memset(f->found, 0, m * sizeof(f->found[0]));
	for (unsigned j = 0; j < m; j++) {
		unsigned i = f->miss_idx[j];
		struct dp_flow_emc *e = &f->emc[emc_index(&f->keys[i])];

		f->rules[i] = f->found[j];
		e->gen = tag;
		e->tables = t;
		e->rule = f->found[j];
		e->key = f->keys[i];
	}
}

/* What output @o becomes: a port's slot (a drop when there is no such port), or a flood. */
static uint16_t out_verdict(struct vswitch *sw, const struct flow_out *o)
{
	if (o->kind == FLOW_OUT_FLOOD || o->kind == FLOW_OUT_ALL)
		return DP_DEST_FLOOD;
	if (o->port < PORT_MAX && atomic_load_explicit(&sw->ports[o->port], memory_order_relaxed))
		return o->port;
	return (uint16_t)DP_DEST_DROP_WHY(DROP_NO_DESTINATION);
}

/* @dst: @src's first line (and tunnel line when it has one) and its head as it is now. */
static void pkt_clone(struct pkt *dst, const struct pkt *src)
{
	memcpy(dst, src, offsetof(struct pkt, tun));
	if (src->flags & PKT_F_TUNNEL)
		dst->tun = src->tun;
	pkt_copy_small(pkt_head(dst), pkt_head(src), src->head_len);
}

/*
 * @dst: @src with the headers of snapshot @s instead of its own.  A
 * snapshot differs from the final head only in the head's bytes (the view
 * is never touched): its length and the frame's follow, and a partial
 * checksum's start moves with the bytes pushed or popped in front of it
 * (@len0, @csum_start0: the frame before the actions).
 */
static void pkt_from_snap(struct pkt *dst, const struct pkt *src, const struct flow_snap *s, uint32_t len0,
			  uint16_t csum_start0)
{
	memcpy(dst, src, offsetof(struct pkt, tun));
	if (src->flags & PKT_F_TUNNEL)
		dst->tun = src->tun;
	dst->head_off = (uint16_t)(s->len <= PKT_HEAD_COPY ? PKT_HEADROOM : PKT_HEADROOM + PKT_HEAD_COPY - s->len);
	dst->head_len = s->len;
	dst->len = s->frame_len;
	dst->parsed = false;
	if (dst->csum == PKT_CSUM_PARTIAL)
		dst->csum_start = (uint16_t)(csum_start0 + (s->frame_len - len0));
	pkt_copy_small(pkt_head(dst), s->bytes, s->len);
}

/*
 * The tunnel key the frame leaves with: tun_id as its output saw it
 * (@tun_id, big-endian; set_tunnel, set_field->tun_id).  A frame from a
 * tunnel keeps its outer addresses; one from no tunnel gets the metadata
 * only when a key was set (a tunnel port with vni=flow sends key 0 for a
 * frame without, as Open vSwitch's options:key=flow does).  One test per
 * frame that ran flows; nothing on the bridge's path.
 */
static inline void tun_out(struct pkt *p, uint64_t tun_id)
{
	if (!(p->flags & PKT_F_TUNNEL)) {
		if (!tun_id)
			return;
		memset(&p->tun, 0, sizeof(p->tun));
		p->flags |= PKT_F_TUNNEL;
	}
	p->tun.id = be64toh(tun_id);
}

/* The key's tunnel fields from a frame that came in a tunnel (PKT_F_TUNNEL): ovs-fields(7) tun_id, tun_src, tun_dst. */
static inline void tun_in(struct flow_key *k, const struct pkt *p)
{
	k->tun_id = htobe64(p->tun.id);
	if (!p->tun.ipv6) {
		k->tun_src = p->tun.src.v4;
		k->tun_dst = p->tun.dst.v4;
	}
}

/* Verdict counts of @b, from its verdicts. */
static void batch_count(struct dp_batch *b)
{
	unsigned n_out = 0, n_flood = 0, n_drop = 0;

	for (unsigned i = 0; i < b->n; i++) {
		unsigned d = b->dest[i];

		n_out += d < DP_DEST_FLOOD;
		n_flood += d == DP_DEST_FLOOD;
		n_drop += dp_dest_is_drop(d);
	}
	b->n_out = n_out;
	b->n_flood = n_flood;
	b->n_drop = n_drop;
}

/* Frame @i of @b (now for `normal` only, final headers) into the normal pool. */
static void to_normal(struct dp_flow *f, struct dp_batch *b, unsigned i)
{
	if (f->normal.n == DP_FLOW_COPIES) {
		b->dest[i] = (uint16_t)DP_DEST_DROP_WHY(DROP_FLOW_COPIES);
		return;
	}
	pkt_clone(&f->normal.pkts[f->normal.n], &b->pkts[i]);
	f->normal.dest[f->normal.n++] = DP_DEST_UNSET;
	b->dest[i] = DP_DEST_COPIED;
}

/*
 * Frame @i's outputs (x->out) into verdicts: the first one that sees the
 * final headers and is not `normal` takes the frame, the others copies.
 */
static void outputs(struct vswitch *sw, struct dp_flow *f, struct dp_batch *b, unsigned i, uint32_t len0,
		    uint16_t csum_start0)
{
	const struct flow_exec *x = &f->x;
	struct pkt *p = &b->pkts[i];
	bool own = false;

	for (unsigned k = 0; k < x->n_out; k++) {
		const struct flow_out *o = &x->out[k];
		bool normal = o->kind == FLOW_OUT_NORMAL;
		struct dp_batch *pool = normal ? &f->normal : &f->extra;
		struct pkt *q;

		if (!own && !normal && o->snap == FLOW_SNAP_LIVE) {
			b->dest[i] = out_verdict(sw, o);
			tun_out(p, o->tun_id);
			own = true;
			continue;
		}
		if (pool->n == DP_FLOW_COPIES) {
			port_count_drop(b->in, DROP_FLOW_COPIES, 1);
			continue;
		}
		q = &pool->pkts[pool->n];
		if (o->snap == FLOW_SNAP_LIVE)
			pkt_clone(q, p);
		else
			pkt_from_snap(q, p, &x->snap[o->snap], len0, csum_start0);
		tun_out(q, o->tun_id);
		pool->dest[pool->n++] = normal ? DP_DEST_UNSET : out_verdict(sw, o);
	}
	if (!own)
		b->dest[i] = DP_DEST_COPIED;
}

void dp_flow_lookup(struct vswitch *sw, struct dp_ctx *ctx, struct dp_batch *b, const struct flow_tables *t)
{
	struct dp_flow *f = ctx->flow;
	struct port *in = b->in;
	const struct switch_port *sp = &sw->sp[in->id];
	bool live[PKT_BURST];
	/* Every frame so far goes to `normal` alone with its final headers: their verdicts wait (UNSET). */
	bool all_normal = true;

	f->normal = (struct dp_batch){ .in = in, .pkts = f->normal_pkts };
	f->extra = (struct dp_batch){ .in = in, .pkts = f->extra_pkts };
	if (t->only_normal && !sp->secured) {
		/* `priority=0,actions=normal` alone: the bridge, and the rule's counts (a secured port takes the long way: its check's drops run no rule) */
		uint64_t bytes = 0;

		for (unsigned i = 0; i < b->n; i++)
			bytes += b->pkts[i].len;
		switch_decide(sw, ctx, b);
		flow_rule_count(t->only_normal, b->n, bytes, sw->clock_ns() / 1000000);
		return;
	}
	if (sp->secured) {
		switch_sec_check(sp, b);
		for (unsigned i = 0; i < b->n; i++)
			live[i] = b->dest[i] == DP_DEST_UNSET;
	} else {
		memset(live, 1, b->n * sizeof(live[0]));
	}
	for (unsigned i = 0; i < b->n; i++) {
		if (!live[i])
			continue;
		flow_key_extract(&f->keys[i], pkt_head(&b->pkts[i]), b->pkts[i].head_len, b->pkts[i].len,
				 (uint16_t)in->id, &f->ofs[i]);
		if (b->pkts[i].flags & PKT_F_TUNNEL)
			tun_in(&f->keys[i], &b->pkts[i]);
	}
	lookup_table0(f, t, b->n, live);

	flow_exec_begin(&f->x, t, sw->clock_ns() / 1000000);
	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *p = &b->pkts[i];
		struct flow_pkt fp;
		uint64_t misses;
		uint32_t len0 = p->len;
		uint16_t csum_start0 = p->csum_start;
		unsigned n;

		if (!live[i])
			continue;
		fp = (struct flow_pkt){
			.buf = p->buf,
			.cap = sizeof(p->buf),
			.head = p->head_off,
			.len = p->head_len,
			.flags = p->csum == PKT_CSUM_PARTIAL ? FLOW_PKT_CSUM_PARTIAL : 0,
			.frame_len = p->len,
			.ofs = f->ofs[i],
		};
		misses = f->x.cnt[FLOW_CNT_MISS_DROP];
		n = flow_exec_run(&f->x, &fp, &f->keys[i], 0, f->rules[i]);
		/* The head as the actions left it; its offsets are parsed again by whoever needs them. */
		p->head_off = fp.head;
		p->head_len = fp.len;
		p->len = fp.frame_len;
		p->parsed = false;
		if (p->csum == PKT_CSUM_PARTIAL)
			p->csum_start = (uint16_t)(csum_start0 + (p->len - len0));

		if (n == 1 && f->x.out[0].kind == FLOW_OUT_NORMAL && f->x.out[0].snap == FLOW_SNAP_LIVE) {
			tun_out(p, f->x.out[0].tun_id);
			if (all_normal)
				b->dest[i] = DP_DEST_UNSET;
			else
				to_normal(f, b, i);
			continue;
		}
		if (all_normal) {
			/* The batch is mixed after all: the frames that waited go to the normal pool. */
			all_normal = false;
			for (unsigned j = 0; j < i; j++)
				if (live[j])
					to_normal(f, b, j);
		}
		if (!n)
			b->dest[i] = (uint16_t)DP_DEST_DROP_WHY(f->x.cnt[FLOW_CNT_MISS_DROP] != misses ? DROP_FLOW_MISS
												: DROP_FLOW_DROP);
		else
			outputs(sw, f, b, i, len0, csum_start0);
	}
	flow_exec_end(&f->x);

	if (all_normal) {
		/* The learning bridge decides for the batch itself (the check again included): nothing copied. */
		switch_decide(sw, ctx, b);
		return;
	}
	/* Explicit outputs send frames as the flows left them: no VLAN of the bridge's (pkt.vlan) to apply. */
	b->vlan = false;
	batch_count(b);
	if (f->normal.n)
		switch_decide(sw, ctx, &f->normal);
	batch_count(&f->extra);
}
