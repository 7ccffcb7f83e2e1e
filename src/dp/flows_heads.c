/* flows_heads.c - a batch of many megaflows of one mask answered from the head cache: one replay per megaflow, no key made (flows_heads.h). */
#include "dp/flows_heads.h"

#include "switch/switch.h"

/* True when memos @a and @b replay alike: the same rules, misses, outputs and counts (their unused slots aside). */
static bool memo_same(const struct flow_memo *a, const struct flow_memo *b)
{
	if (a->n_rules != b->n_rules || a->n_out != b->n_out || a->miss_drops != b->miss_drops ||
	    a->flags != b->flags || a->n_missed != b->n_missed || a->n_rules > FLOW_MEMO_RULES ||
	    a->n_out > FLOW_MEMO_OUTS || a->n_missed > FLOW_MEMO_MISSES)
		return false;
	for (unsigned k = 0; k < a->n_missed; k++)
		if (a->missed[k] != b->missed[k])
			return false;
	for (unsigned k = 0; k < a->n_out; k++)
		if (a->out[k].kind != b->out[k].kind || a->out[k].snap != b->out[k].snap ||
		    a->out[k].port != b->out[k].port || a->out[k].in_port != b->out[k].in_port)
			return false;
	for (unsigned k = 0; k < a->n_rules; k++)
		if (a->rules[k] != b->rules[k])
			return false;
	return true;
}

/*
 * A batch in several megaflows of one mask, whole: each frame of @b, none
 * from a tunnel, found in the head cache under the mask of the port's
 * last megaflow (its head, the port, the shape: hc_place(); its lengths:
 * flow_head_tot(), as flow_key_head_in() checks them), each megaflow
 * still the one the cache saw, of this version, with a memo that answers
 * a batch whole and no `normal` output.  Then each frame's answer is its
 * megaflow's memo, as the per-frame way below would find it (any
 * megaflow a key falls in stands for the same run: lookup_table0()), and
 * each memo is replayed once for its frames, with the counts the
 * per-frame way would take.  @hdr0: frame 0's head, whose key
 * (f->keys[0]) the short way made.  False, with nothing changed or
 * counted, when any frame is not so found: the per-frame way takes the
 * batch (and fills the cache).
 */
bool dp_flow_heads_in_megaflows(struct vswitch *sw, struct dp_flow *f, struct pkt_batch *b,
				const struct flow_tables *t, const uint8_t *hdr0)
{
	uint64_t tag = t->gen + 1, bytes[PKT_BURST], now_ms;
	const struct dp_flow_mf *e = f->mf_last[b->in->id % DP_FLOW_LAST], *grp_mf[PKT_BURST];
	uint64_t mw[6];
	uint16_t in_port = (uint16_t)b->in->id, grp_dest[PKT_BURST];
	uint32_t len0[PKT_BURST];
	unsigned n = b->n, ngrp = 0, frames[PKT_BURST], probes = 0;
	uint8_t grp[PKT_BURST], memo_of[PKT_BURST];
	bool tcp = hdr0[23] == 6;
	uint32_t mark;

	/*
	 * The mask: that of the port's last megaflow, if it is of this version.
	 * Only the mask: whether frame 0's key falls in that megaflow does not
	 * matter, the cache finds frame 0's own as every other frame's.
	 */
	if (f->mf_gen != tag || f->mf_tables != t || !e || e->gen != tag || e->tables != t ||
	    e->mask >= f->n_mf_masks)
		return false;
	memcpy(mw, hc_head_mask(f, t, tag, e->mask, tcp)->m, sizeof(mw));
	mark = ++f->hc_mark;
	for (unsigned i = 0; i < n; i++) {
		const struct pkt *p = &b->pkts[i];
		const uint8_t *hdr = pkt_head(p);
		size_t end = p->head_len < p->len ? p->head_len : p->len;
		struct dp_flow_hc *x;
		const struct dp_flow_mf *m;
		uint64_t w[6];

		if ((p->flags & PKT_F_TUNNEL) || p->head_len > FLOW_HDR_MAX)
			return false;
		x = hc_find(f, t, tag, hc_place(w, hdr, mw, e->mask, tcp, in_port), w, e->mask, tcp, in_port);
		probes++;
		if (!x || !flow_head_tot(hdr, end, p->len))
			return false;
		m = x->mf;
		if (m->gen != tag || m->tables != t || m->mask != e->mask ||
		    atomic_load_explicit(&m->seq, memory_order_relaxed) != x->mf_seq)
			return false;	/* rewritten since: the per-frame way finds its megaflow again */
		/* A new group: its mark is another batch's (the count wraps: its group must be this batch's too). */
		if (x->mark != mark || x->grp >= ngrp || grp_mf[x->grp] != m) {
			if (!dp_flow_memo_whole(&m->memo) || (m->memo.n_out == 1 && m->memo.out[0].kind == FLOW_OUT_NORMAL))
				return false;
			x->mark = mark;
			x->grp = (uint8_t)ngrp;
			grp_mf[ngrp] = m;
			frames[ngrp] = 0;
			bytes[ngrp] = 0;
			len0[ngrp] = p->len;
			ngrp++;
		}
		grp[i] = x->grp;
		frames[x->grp]++;
		bytes[x->grp] += p->len;
	}
	/*
	 * Every frame found: the counts and verdicts, as one_megaflow() gives
	 * them per megaflow.  Megaflows of one memo (the same rules and
	 * outputs: a prefix each) are replayed once, for all their frames.
	 */
	for (unsigned g = 0; g < ngrp; g++) {
		struct dp_flow_mf *m = (struct dp_flow_mf *)grp_mf[g];
		unsigned hits = m->hits + frames[g];

		m->hits = (uint8_t)(hits < DP_FLOW_HITS_MAX ? hits : DP_FLOW_HITS_MAX);
		memo_of[g] = (uint8_t)g;
		for (unsigned h = 0; h < g; h++)
			if (memo_of[h] == h && memo_same(&grp_mf[h]->memo, &m->memo)) {
				memo_of[g] = (uint8_t)h;
				frames[h] += frames[g];
				bytes[h] += bytes[g];
				break;
			}
	}
	now_ms = sw->clock_ns() / 1000000;
	for (unsigned g = 0; g < ngrp; g++) {
		const struct flow_memo *mm = &grp_mf[g]->memo;

		if (memo_of[g] != g) {
			grp_dest[g] = grp_dest[memo_of[g]];	/* an earlier group's: replayed there */
			continue;
		}
		dp_flow_memo_replay(f, t, mm, now_ms, frames[g], len0[g], bytes[g]);
		grp_dest[g] = dp_flow_memo_dest(sw, f, mm);
	}
	b->vlan = false;
	b->n_out = b->n_flood = b->n_drop = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t dest = grp_dest[grp[i]];

		b->dest[i] = dest;
		b->n_out += dest < PKT_DEST_FLOOD;
		b->n_flood += dest == PKT_DEST_FLOOD;
		b->n_drop += pkt_dest_is_drop(dest);
	}
	dp_flow_stat_add(&f->stats.emc_hits, n);
	dp_flow_stat_add(&f->stats.mf_hits, n);
	dp_flow_stat_add(&f->stats.mf_probes, probes);
	dp_flow_stat_add(&f->stats.head_batches, 1);
	return true;
}
