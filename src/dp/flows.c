/* flows.c - the lookup stage with flow tables: keys, exact-match cache, classifier, actions, then verdicts and copies (flows.h). */
#include "dp/flows.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flow/key.h"
#include "lib/prefetch.h"
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
 * The cache's hash of @k, 0 when @k is not cached (a word past
 * DP_FLOW_EMC_WORDS is set: nothing the extraction sets today, but a
 * field a port may fill one day must not be left out of the compare).
 * One independent multiply per word (a header byte can sit anywhere in
 * its word, and a multiply carries it upwards only), then a fold that
 * brings every bit into the high half, which the places are cut from.
 * Unkeyed: frames crafted to share places only make each other miss the
 * cache (the classifier still answers, and is keyed), they cannot make it
 * answer wrong.
 */
static inline uint64_t emc_hash(const struct flow_key *k)
{
	static const uint64_t mul[DP_FLOW_EMC_WORDS] = {
		0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
		0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull, 0x94d049bb133111ebull, 0xbf58476d1ce4e5b9ull,
		0x85ebca77c2b2ae63ull, 0x27d4eb2f165667c5ull,
	};
	uint64_t h = 0, rest = 0;

	for (unsigned i = DP_FLOW_EMC_WORDS; i < FLOW_KEY_WORDS; i++)
		rest |= k->w[i];
	if (rest)
		return 0;
	for (unsigned i = 0; i < DP_FLOW_EMC_WORDS; i++)
		h += k->w[i] * mul[i];
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	return h | 1;	/* never 0 */
}

/* The two places of hash @h. */
static inline unsigned emc_at(uint64_t h, unsigned way)
{
	return (unsigned)(h >> (way ? 40 : 52)) & (DP_FLOW_EMC_ENTRIES - 1);
}

/* True when @e holds @k for version @t (@tag: its generation + 1). */
static inline bool emc_holds(const struct dp_flow_emc *e, const struct flow_tables *t, uint64_t tag,
			     const struct flow_key *k)
{
	uint64_t diff = (e->gen ^ tag) | (uint64_t)((uintptr_t)e->tables ^ (uintptr_t)t);

	for (unsigned i = 0; i < DP_FLOW_EMC_WORDS; i++)
		diff |= e->key[i] ^ k->w[i];
	return diff == 0;
}

/* The entry holding @k (hash @h) for version @t, or NULL. */
static inline struct dp_flow_emc *emc_find(struct dp_flow *f, const struct flow_tables *t, uint64_t tag,
					   const struct flow_key *k, uint64_t h)
{
	struct dp_flow_emc *e = &f->emc[emc_at(h, 0)];

	if (emc_holds(e, t, tag, k))
		return e;
	e = &f->emc[emc_at(h, 1)];
	return emc_holds(e, t, tag, k) ? e : NULL;
}

/* Where @k (hash @h) goes: a place of an older version first, else one of the two by a bit of the hash. */
static inline struct dp_flow_emc *emc_victim(struct dp_flow *f, const struct flow_tables *t, uint64_t tag, uint64_t h)
{
	struct dp_flow_emc *a = &f->emc[emc_at(h, 0)], *b = &f->emc[emc_at(h, 1)];

	if (a->gen != tag || a->tables != t)
		return a;
	if (b->gen != tag || b->tables != t)
		return b;
	return (h >> 8) & 1 ? a : b;
}

/*
 * Table 0's rule for each frame of @b that the check left (@live[i]), and
 * its memo when the cache has one (f->memo[i].n_rules, FLOW_MEMO_NONE
 * otherwise): from the cache when an entry of this very version (@t->gen)
 * has the same key, else from the classifier, in one batch, then cached.
 * An entry of an older version never answers, so a commit invalidates the
 * whole cache at once, and a rule deleted before the batch began (absent
 * from @t) is never found.
 */
static void lookup_table0(struct dp_flow *f, const struct flow_tables *t, unsigned n, const bool *live)
{
	uint64_t tag = t->gen + 1; /* 0 is an empty entry */
	unsigned m = 0, hits = 0;

	/* Every hash and both places' first line in flight first: the compares then wait on no miss of their own. */
	for (unsigned i = 0; i < n; i++) {
		uint64_t h = live[i] ? emc_hash(&f->keys[i]) : 0;

		f->hash[i] = h;
		if (h) {
			prefetch_r(&f->emc[emc_at(h, 0)]);
			prefetch_r(&f->emc[emc_at(h, 1)]);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		const struct dp_flow_emc *e;

		if (!live[i])
			continue;
		f->memo[i].n_rules = FLOW_MEMO_NONE;
		e = f->hash[i] ? emc_find(f, t, tag, &f->keys[i], f->hash[i]) : NULL;
		if (e) {
			f->rules[i] = e->rule;
			if (e->memo.n_rules != FLOW_MEMO_NONE)
				f->memo[i] = e->memo;
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
		struct dp_flow_emc *e;

		f->rules[i] = f->found[j];
		if (!f->hash[i])
			continue;
		e = emc_find(f, t, tag, &f->keys[i], f->hash[i]);	/* a frame before it in the batch had its key */
		if (!e) {
			e = emc_victim(f, t, tag, f->hash[i]);
			e->gen = tag;
			e->tables = t;
			memcpy(e->key, f->keys[i].w, sizeof(e->key));
			e->memo.n_rules = FLOW_MEMO_NONE;
		}
		e->rule = f->found[j];
	}
}

/* The memo of frame @i's run (the executor's last) into its cache entry, if the entry still holds its key. */
static void emc_memo_store(struct dp_flow *f, const struct flow_tables *t, unsigned i)
{
	struct dp_flow_emc *e = emc_find(f, t, t->gen + 1, &f->keys[i], f->hash[i]);

	if (e && e->rule == f->rules[i] && !flow_exec_memo(&f->x, &e->memo))
		e->memo.n_rules = FLOW_MEMO_NONE;
}

/*
 * Frame @i's actions run on its head in place (@p: the frame, ready for
 * the verdicts after), and their memo into the cache when the run
 * qualifies.  Returns the outputs (f->x.out).
 */
static unsigned run_actions(struct dp_flow *f, const struct flow_tables *t, struct pkt *p, unsigned i)
{
	uint32_t len0 = p->len;
	struct flow_pkt fp = {
		.buf = p->buf,
		.cap = sizeof(p->buf),
		.head = p->head_off,
		.len = p->head_len,
		.flags = p->csum == PKT_CSUM_PARTIAL ? FLOW_PKT_CSUM_PARTIAL : 0,
		.frame_len = p->len,
		.ofs = f->ofs[i],
	};
	unsigned n = flow_exec_run(&f->x, &fp, &f->keys[i], 0, f->rules[i]);

	if (f->hash[i])
		emc_memo_store(f, t, i);
	/* The head as the actions left it; its offsets are parsed again by whoever needs them. */
	p->head_off = fp.head;
	p->head_len = fp.len;
	p->len = fp.frame_len;
	p->parsed = false;
	if (p->csum == PKT_CSUM_PARTIAL)
		p->csum_start = (uint16_t)(p->csum_start + (p->len - len0));
	return n;
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
	for (unsigned i = 0; i < b->n; i++)
		if (live[i])
			flow_key_extract(&f->keys[i], pkt_head(&b->pkts[i]), b->pkts[i].head_len, b->pkts[i].len,
					 (uint16_t)in->id, &f->ofs[i]);
	lookup_table0(f, t, b->n, live);

	flow_exec_begin(&f->x, t, sw->clock_ns() / 1000000);
	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *p = &b->pkts[i];
		uint64_t misses;
		uint32_t len0 = p->len;
		uint16_t csum_start0 = p->csum_start;
		unsigned n;

		if (!live[i])
			continue;
		misses = f->x.cnt[FLOW_CNT_MISS_DROP];
		if (f->memo[i].n_rules != FLOW_MEMO_NONE && p->head_len <= FLOW_HDR_MAX)
			n = flow_exec_replay(&f->x, &f->memo[i], p->len);	/* nothing in the frame changes */
		else
			n = run_actions(f, t, p, i);
		if (n == 1 && f->x.out[0].kind == FLOW_OUT_NORMAL && f->x.out[0].snap == FLOW_SNAP_LIVE) {
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
