/* flows_heads.h - the lookup stage's shared pieces (flows.c) and its head cache, which flows_heads.c answers whole batches from. */
#ifndef VSW_DP_FLOWS_HEADS_H
#define VSW_DP_FLOWS_HEADS_H

/*
 * Private to the lookup stage with flow tables: flows.c (keys, caches,
 * classifier, actions, verdicts) and flows_heads.c (a batch of many
 * megaflows of one mask, found by its frames' heads).  What both use is
 * here: the caches' hash multipliers, the per-worker counters, which
 * memos can answer a batch whole, and the head cache itself, whose
 * entries flows.c fills (hc_insert()) and flows_heads.c reads.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dp/flows.h"
#include "flow/key.h"
#include "packet/pkt.h"

/* One multiplier per key word of a cache's hash. */
static const uint64_t dp_flow_hash_mul[DP_FLOW_EMC_WORDS] = {
	0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
	0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull, 0x94d049bb133111ebull, 0xbf58476d1ce4e5b9ull,
	0x85ebca77c2b2ae63ull, 0x27d4eb2f165667c5ull,
};

/* Add @n to a counter only this worker writes: a relaxed load and store, no locked add. */
static inline void dp_flow_stat_add(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* May memo @m answer a batch whole (one_megaflow())?  A run that writes nothing, with at most one output, of the live frame. */
static inline bool dp_flow_memo_whole(const struct flow_memo *m)
{
	return m->n_rules != FLOW_MEMO_NONE && !(m->flags & FLOW_MEMO_F_WRITES) && m->n_out <= 1 &&
	       (m->n_out == 0 || m->out[0].snap == FLOW_SNAP_LIVE);
}

/*
 * ---- The head cache (struct dp_flow_hc) ----
 *
 * Flows to the addresses of many prefixes fall in many megaflows of one
 * mask (a megaflow a /16), and a batch of them in several: neither a
 * batch of one flow (flow_key_head_same()) nor of one megaflow
 * (heads_in_megaflow()), so each frame had its key made and looked up in
 * the megaflows, ~400 instructions a frame at a million flows against
 * ~70 at one.  The head cache maps a frame's head, under a mask's head
 * mask, to the megaflow its key falls in, so that such a batch costs a
 * hash and a compare of six words a frame and one replay per megaflow.
 */

/* The head mask of megaflow mask @mi for TCP (@tcp) or UDP frames, made once a version. */
static inline const struct flow_head_mask *hc_head_mask(struct dp_flow *f, const struct flow_tables *t, uint64_t tag,
						 unsigned mi, bool tcp)
{
	__typeof__(f->hc_hm[0][0]) *c = &f->hc_hm[mi][tcp];

	if (c->gen != tag || c->tables != t) {
		flow_head_mask_of(&c->hm, f->mf_mask[mi].w, tcp);
		c->gen = tag;
		c->tables = t;
	}
	return &c->hm;
}

/*
 * @hdr's first 48 bytes under the head mask whose words are @mw (a head
 * mask's bytes as six words, loaded once a batch) into @w; the hash of
 * (@w, mask @mi, @tcp, @in_port), whose two places hc_find() tries.
 */
static inline unsigned hc_place(uint64_t *w, const uint8_t *hdr, const uint64_t *mw, unsigned mi, bool tcp,
				uint16_t in_port)
{
	uint64_t h = ((uint64_t)mi << 17 | (uint64_t)tcp << 16 | in_port) * 0xd6e8feb86659fd93ull;

#pragma GCC unroll 6
	for (unsigned k = 0; k < 6; k++) {
		uint64_t a;

		memcpy(&a, hdr + 8 * k, 8);
		w[k] = a & mw[k];
		h += w[k] * dp_flow_hash_mul[k];
	}
	/*
	 * Heads of one mask differ in a few bytes (a /16's two), which the
	 * multiplies above carry only upwards: a full finaliser (MurmurHash3's
	 * fmix64) before the place is cut.
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (unsigned)h;
}

/* True when head cache entry @x holds the head words @w of (mask @mi, @tcp, @in_port) for version @t. */
static inline bool hc_holds(const struct dp_flow_hc *x, const struct flow_tables *t, uint64_t tag, const uint64_t *w,
			    unsigned mi, bool tcp, uint16_t in_port)
{
	/* One test of everything ORed together, as mf_find()'s: no branch a field. */
	uint64_t diff = (x->gen ^ tag) | (uint64_t)((uintptr_t)x->tables ^ (uintptr_t)t) |
			((uint64_t)(x->mask ^ mi) | (uint64_t)(x->in_port ^ in_port) | (uint64_t)(x->tcp ^ tcp)) |
			(w[0] ^ x->head[0]) | (w[1] ^ x->head[1]) | (w[2] ^ x->head[2]) | (w[3] ^ x->head[3]) |
			(w[4] ^ x->head[4]) | (w[5] ^ x->head[5]);

	return diff == 0;
}

/* Place @way (0 or 1) of hash @h in the head cache. */
static inline struct dp_flow_hc *hc_way(struct dp_flow *f, unsigned h, unsigned way)
{
	return &f->hc[(way ? h >> 16 : h) & (DP_FLOW_HC_ENTRIES - 1)];
}

/* The entry holding (@w, @mi, @tcp, @in_port) at either of the two places of hash @h, or NULL. */
static inline struct dp_flow_hc *hc_find(struct dp_flow *f, const struct flow_tables *t, uint64_t tag, unsigned h,
					 const uint64_t *w, unsigned mi, bool tcp, uint16_t in_port)
{
	struct dp_flow_hc *x = hc_way(f, h, 0);

	if (hc_holds(x, t, tag, w, mi, tcp, in_port))
		return x;
	x = hc_way(f, h, 1);
	return hc_holds(x, t, tag, w, mi, tcp, in_port) ? x : NULL;
}

/*
 * Megaflow @e answered frame @p (port @in_port), whose key the short way
 * made from its head: remember the head (under the mask's head mask) as
 * one of @e's, when @e's memo could answer a batch whole.
 */
static inline void hc_insert(struct dp_flow *f, const struct flow_tables *t, uint64_t tag, const struct pkt *p,
		      uint16_t in_port, const struct dp_flow_mf *e)
{
	const uint8_t *hdr = pkt_head(p);
	bool tcp = hdr[23] == 6;
	unsigned seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	uint64_t w[6], mw[6];
	struct dp_flow_hc *x;
	unsigned h;

	if (!dp_flow_memo_whole(&e->memo) || (p->flags & PKT_F_TUNNEL) || p->head_len > FLOW_HDR_MAX)
		return;
	memcpy(mw, hc_head_mask(f, t, tag, e->mask, tcp)->m, sizeof(mw));
	h = hc_place(w, hdr, mw, e->mask, tcp, in_port);
	x = hc_find(f, t, tag, h, w, e->mask, tcp, in_port);
	if (x && x->mf == e && x->mf_seq == seq)
		return;	/* there already: no store into a line other frames read */
	if (!x) {
		/* A place of another version (or empty) first, else the first: heads come and go with megaflows. */
		struct dp_flow_hc *a = hc_way(f, h, 0), *b = hc_way(f, h, 1);

		x = (a->gen == tag && a->tables == t) && !(b->gen == tag && b->tables == t) ? b : a;
	}
	memcpy(x->head, w, sizeof(w));
	x->gen = tag;
	x->tables = t;
	x->mf = e;
	x->mf_seq = seq;
	x->mask = e->mask;
	x->in_port = in_port;
	x->tcp = tcp;
}

/*
 * Memo @m (one that answers a batch whole: dp_flow_memo_whole()) replayed
 * once for @frames frames of @bytes bytes in all, the first of @len0 (flows.c).
 */
void dp_flow_memo_replay(struct dp_flow *f, const struct flow_tables *t, const struct flow_memo *m, uint64_t now_ms,
			 unsigned frames, uint32_t len0, uint64_t bytes);

/* The verdict of memo @m just replayed, but `normal` (flows.c). */
uint16_t dp_flow_memo_dest(struct vswitch *sw, const struct dp_flow *f, const struct flow_memo *m);

/* Batch @b answered whole from the head cache, its verdicts set; false with nothing changed (flows_heads.c). */
bool dp_flow_heads_in_megaflows(struct vswitch *sw, struct dp_flow *f, struct pkt_batch *b,
				const struct flow_tables *t, const uint8_t *hdr0);

#endif
