/* flows.c - the lookup stage with flow tables: keys, exact-match cache, classifier, actions, then verdicts and copies (flows.h). */
#include "dp/flows.h"
#include "dp/flows_heads.h"

#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flow/key.h"
#include "lib/prefetch.h"
#include "packet/gso.h"
#include "switch/switch.h"
#include "switch/switch_sec.h"

_Static_assert((DP_FLOW_EMC_ENTRIES & (DP_FLOW_EMC_ENTRIES - 1)) == 0 && DP_FLOW_EMC_ENTRIES <= 4096,
	       "the cache is indexed by 12 bits at most of a hash");
_Static_assert((DP_FLOW_MF_ENTRIES & (DP_FLOW_MF_ENTRIES - 1)) == 0 && DP_FLOW_MF_ENTRIES <= 4096,
	       "the megaflows are indexed by 12 bits at most of a hash");
_Static_assert(PKT_BURST <= 256, "a frame's index fits dp_flow.run[]");
_Static_assert(PKT_BURST <= 64, "a frame's index is a bit of dp_flow.key_tail");

/* Did this worker queue (@h, @rest) from place @s less than DP_FLOW_LEARN_REFRESH_MS before @now? */
static bool learn_seen_fresh(const struct dp_flow_learn_seen *s, uint64_t h, uint64_t rest, uint64_t now)
{
	return s->match == h && s->rest == rest && now - s->ms < DP_FLOW_LEARN_REFRESH_MS;
}

/* The executor's learn callback on the data path: queue the learn for the control thread, unless a repeat (flows.h). */
static void learn_queue(void *arg, const struct flow_act *a, const struct flow_key *k)
{
	struct dp_flow *f = arg;
	uint64_t rest, h = flow_learn_hash(a, k, &rest), now = f->x.now_ms;
	/* Two places a match may have (low and high bits of its hash): two matches rarely share both. */
	struct dp_flow_learn_seen *s0 = &f->learn_seen[h & (DP_FLOW_LEARN_SEEN - 1)];
	struct dp_flow_learn_seen *s1 = &f->learn_seen[(h >> 32) & (DP_FLOW_LEARN_SEEN - 1)];
	struct dp_flow_learn_seen *seen;
	unsigned tail = atomic_load_explicit(&f->learn_tail, memory_order_relaxed);
	struct dp_flow_learn_req *q;

	if (atomic_load_explicit(&f->learn_forget, memory_order_relaxed)) {
		atomic_store_explicit(&f->learn_forget, false, memory_order_relaxed);
		memset(f->learn_seen, 0, sizeof(f->learn_seen));
	} else if (learn_seen_fresh(s0, h, rest, now) || learn_seen_fresh(s1, h, rest, now)) {
		return;
	}
	/* acquire: the control thread is done with the places it gave back */
	if (tail - atomic_load_explicit(&f->learn_head, memory_order_acquire) >= DP_FLOW_LEARN_QUEUE) {
		atomic_store_explicit(&f->learn_full, atomic_load_explicit(&f->learn_full, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return;
	}
	q = &f->learn_q[tail & (DP_FLOW_LEARN_QUEUE - 1)];
	memcpy(q->a, a, (1 + (size_t)a->n) * sizeof(*a));	/* a->n <= FLOW_LEARN_SPECS_MAX (parse_act.c) */
	q->key = *k;
	q->gen = f->x.tables->gen;
	atomic_store_explicit(&f->learn_tail, tail + 1, memory_order_release);
	atomic_store_explicit(&f->learn_sent, atomic_load_explicit(&f->learn_sent, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	/* The match's own place (a MAC that moved: its rest replaced), else the one written longer ago. */
	seen = s0->match == h ? s0 : s1->match == h ? s1 : s0->ms <= s1->ms ? s0 : s1;
	seen->match = h;
	seen->rest = rest;
	seen->ms = now;
}

struct dp_flow *dp_flow_ctx_new(void)
{
	size_t size = (sizeof(struct dp_flow) + 63) & ~(size_t)63;
	struct dp_flow *f = aligned_alloc(64, size);

	if (!f)
		return NULL;
	memset(f, 0, size);
	flow_exec_init(&f->x);
	f->x.learn = learn_queue;
	f->x.learn_arg = f;
	return f;
}

unsigned dp_flow_learn_drain(struct dp_flow *f, void (*fn)(void *arg, const struct dp_flow_learn_req *q), void *arg)
{
	unsigned head = atomic_load_explicit(&f->learn_head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&f->learn_tail, memory_order_acquire), n = 0;

	for (; head != tail; head++, n++) {
		fn(arg, &f->learn_q[head & (DP_FLOW_LEARN_QUEUE - 1)]);
	}
	atomic_store_explicit(&f->learn_head, head, memory_order_release);
	return n;
}

/* The end of a cache's hash: every bit of @h into the high half, which the places are cut from; never 0. */
static inline uint64_t hash_fold(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	return h | 1;
}

/*
 * The exact-match cache's hash of @k.  Only a key with no word past
 * DP_FLOW_EMC_WORDS set is cached (cacheable(): nothing the extraction
 * sets today, but a field a port may fill one day must not be left out of
 * the compare).  One independent multiply per word (a header byte can sit anywhere in
 * its word, and a multiply carries it upwards only), then the fold.
 * Unkeyed: frames crafted to share places only make each other miss the
 * cache (the classifier still answers, and is keyed), they cannot make it
 * answer wrong.
 */
static inline uint64_t emc_hash(const struct flow_key *k)
{
	uint64_t h = 0;

	for (unsigned i = 0; i < DP_FLOW_EMC_WORDS; i++)
		h += k->w[i] * dp_flow_hash_mul[i];
	return hash_fold(h);
}

/* Two key words, for the compares below written as five or six operations on pairs, not a loop of eleven. */
typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8)));

_Static_assert(DP_FLOW_EMC_WORDS == 10 && FLOW_KEY_WORDS == 21, "the cached words are five pairs, the rest 5 and one");

/* True when the caches may hold @k: no word past DP_FLOW_EMC_WORDS is set. */
static inline bool cacheable(const struct flow_key *k)
{
	const u64x2 *v = (const u64x2 *)&k->w[DP_FLOW_EMC_WORDS];
	u64x2 rest = v[0] | v[1] | v[2] | v[3] | v[4];

	return !(rest[0] | rest[1] | k->w[20]);
}

/* True when the cached words @a and @b (a key's, or a megaflow's) are equal on the bits of @mask. */
static inline bool words_same_masked(const uint64_t *a, const uint64_t *b, const uint64_t *mask)
{
	const u64x2 *va = (const u64x2 *)a, *vb = (const u64x2 *)b, *vm = (const u64x2 *)mask;
	u64x2 d = ((va[0] ^ vb[0]) & vm[0]) | ((va[1] ^ vb[1]) & vm[1]) | ((va[2] ^ vb[2]) & vm[2]) |
		  ((va[3] ^ vb[3]) & vm[3]) | ((va[4] ^ vb[4]) & vm[4]);

	return !(d[0] | d[1]);
}

/*
 * The megaflow hash of @k under mask @mi (@m): of its cached words ANDed
 * with the mask, every word whatever the mask (ten independent
 * multiplies, unrolled: no loop over the mask's words, no indexed load).
 */
static inline uint64_t mf_hash(const struct flow_key *k, const struct dp_flow_mf_mask *m, unsigned mi)
{
	uint64_t h = (uint64_t)mi * 0xd6e8feb86659fd93ull;

#pragma GCC unroll 10
	for (unsigned w = 0; w < DP_FLOW_EMC_WORDS; w++)
		h += (k->w[w] & m->w[w]) * dp_flow_hash_mul[w];
	return hash_fold(h);
}

/* Place @way (0 or 1) of hash @h in a cache of @entries (a power of two, at most 4096). */
static inline unsigned place(uint64_t h, unsigned way, unsigned entries)
{
	return (unsigned)(h >> (way ? 40 : 52)) & (entries - 1);
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
	struct dp_flow_emc *e = &f->emc[place(h, 0, DP_FLOW_EMC_ENTRIES)];

	if (emc_holds(e, t, tag, k))
		return e;
	e = &f->emc[place(h, 1, DP_FLOW_EMC_ENTRIES)];
	return emc_holds(e, t, tag, k) ? e : NULL;
}

/*
 * Where a key of hash @h goes in @base (@entries), or NULL: a place of
 * an older version (or empty) first; else, of the two entries of this
 * version, the one that answered fewer frames (a bit of the hash between
 * equals), if it answered none since it came or last aged.  One that did
 * is not replaced but aged (its count halved) and the key is not cached:
 * it was answered all the same.  So a storm of one-frame flows (a scan,
 * 100k new flows/s) cannot evict the entries of established flows, whose
 * hits keep their counts up (an entry replaced at random, as before,
 * cost an established flow one classifier lookup for about every new
 * flow: bench_flow_storm); an entry whose flow ended loses its count to
 * the keys that want its place, 8 refusals at most, and goes.
 */
#define CACHE_VICTIM(base, entries, t, tag, h)                                                                     \
	({                                                                                                         \
		__typeof__(&(base)[0]) a_ = &(base)[place(h, 0, entries)], b_ = &(base)[place(h, 1, entries)], v_; \
		if (a_->gen != (tag) || a_->tables != (t))                                                         \
			v_ = a_;                                                                                   \
		else if (b_->gen != (tag) || b_->tables != (t))                                                    \
			v_ = b_;                                                                                   \
		else                                                                                               \
			v_ = a_->hits < b_->hits || (a_->hits == b_->hits && ((h) >> 8) & 1) ? a_ : b_;            \
		if (v_->gen == (tag) && v_->tables == (t) && v_->hits) {                                           \
			v_->hits >>= 1;                                                                            \
			v_ = NULL;                                                                                 \
		}                                                                                                  \
		v_;                                                                                                \
	})

/*
 * An entry answered a frame: one more hit, up to DP_FLOW_HITS_MAX (a
 * store into a line the compare loaded).  No store once it is there: a
 * busy entry answers a whole batch, and a store per frame to one place
 * would chain each frame's load of the count to the last frame's store.
 */
#define CACHE_HIT(e)                                                   \
	do {                                                           \
		if ((e)->hits < DP_FLOW_HITS_MAX)                      \
			(e)->hits = (uint16_t)((e)->hits + 1);         \
	} while (0)

/* @k's bit in a megaflow mask's in_ports: its in_port (big-endian in the key) modulo 64. */
static inline uint64_t in_port_bit(const struct flow_key *k)
{
	return 1ull << (be16toh(k->in_port) & 63);
}

/* The megaflow of mask @mi (hash @h) that @k falls in, for version @t, or NULL. */
static inline struct dp_flow_mf *mf_find(struct dp_flow *f, const struct flow_tables *t, uint64_t tag,
					 const struct flow_key *k, unsigned mi, uint64_t h)
{
	const struct dp_flow_mf_mask *m = &f->mf_mask[mi];

	for (unsigned way = 0; way < 2; way++) {
		struct dp_flow_mf *e = &f->mf[place(h, way, DP_FLOW_MF_ENTRIES)];
		uint64_t diff = (e->gen ^ tag) | (uint64_t)((uintptr_t)e->tables ^ (uintptr_t)t) | (e->mask ^ mi);

		/* An empty place or another version's or mask's: no compare of the key. */
		if (!diff && words_same_masked(k->w, e->key, m->w))	/* e->key is stored masked */
			return e;
	}
	return NULL;
}

/* Frame @p (@i) as the executor sees it: its head, in place. */
static inline struct flow_pkt exec_pkt(const struct dp_flow *f, struct pkt *p, unsigned i)
{
	return (struct flow_pkt){
		.buf = p->buf,
		.cap = sizeof(p->buf),
		.head = p->head_off,
		.len = p->head_len,
		/*
		 * Partial only where the flows' L4 header has it: a sum that starts
		 * further on (a tunnel's inner one) leaves the outer L4 sum a
		 * complete one, made for the bytes as they will be.
		 */
		.flags = p->csum == PKT_CSUM_PARTIAL && p->csum_start == f->ofs[i].l4 ? FLOW_PKT_CSUM_PARTIAL : 0,
		.frame_len = p->len,
		.seg_len = p->gso_type ? gso_wire_len(p) : 0,
		.ofs = f->ofs[i],
	};
}

/* True when megaflow @e's memo may answer frame @p (@i): it has no actions to replay, or @p is shaped as its frame. */
static inline bool mf_fits(struct dp_flow *f, const struct dp_flow_mf *e, struct pkt *p, unsigned i)
{
	struct flow_pkt fp;

	if (!(e->memo.flags & FLOW_MEMO_F_WRITES))
		return true;
	fp = exec_pkt(f, p, i);
	return flow_memo_acts_fit(&f->mf_acts[e - f->mf], &fp);
}

/*
 * The megaflow @k (frame @p, @i) falls in, for version @t, trying every
 * mask of the version; NULL when none.  One whose actions do not fit the
 * frame's shape (a flow's SYN made it, a data frame asks) is passed
 * over: the frame goes on to the exact-match cache and the classifier,
 * and its run's memo to the exact-match entry (mf_insert() finds the
 * megaflow there), so both shapes are replayed.  Inlined in both of its
 * callers: a call of its own costs a frame some 30 instructions at 1M
 * flows (callgrind).
 */
static inline __attribute__((always_inline)) struct dp_flow_mf *
mf_lookup(struct dp_flow *f, const struct flow_tables *t, uint64_t tag, const struct flow_key *k, struct pkt *p,
	  unsigned i, unsigned *probes)
{
	uint64_t port = in_port_bit(k);

	for (unsigned mi = 0; mi < f->n_mf_masks; mi++) {
		struct dp_flow_mf *e;

		if (!(f->mf_mask[mi].in_ports & port))
			continue;	/* no megaflow of this mask is of the key's in_port */
		++*probes;
		e = mf_find(f, t, tag, k, mi, mf_hash(k, &f->mf_mask[mi], mi));
		if (e && mf_fits(f, e, p, i))
			return e;
	}
	return NULL;
}

/*
 * Frame @i's run (memo @m, with @ma when it wrote) as a megaflow: its key
 * as table 0 saw it (@k: a run that rewrites changed f->keys[i]) on the
 * bits its decisions depended on (f->wc[i]: its lookups', mapped back
 * through its rewrites, and its actions' own) and in_port (outputs
 * compare with it and record it).  The words past DP_FLOW_EMC_WORDS are
 * left out: they are zero in every key the caches see (cacheable()).
 * False when the version has DP_FLOW_MF_MASKS masks already and this one
 * is new, or when both of its places hold megaflows in use
 * (CACHE_VICTIM), or when a megaflow of this mask and key is there with
 * a memo for frames of another shape (the caller keeps this one in the
 * exact-match cache).
 */
static bool mf_insert(struct dp_flow *f, const struct flow_tables *t, unsigned i, const struct flow_key *k,
		      const struct flow_memo *m, const struct flow_memo_acts *ma)
{
	uint64_t tag = t->gen + 1, h;
	struct flow_key *wc = &f->wc[i];
	struct dp_flow_mf *e;
	unsigned mi, seq;

	wc->in_port = 0xffff;
	for (mi = 0; mi < f->n_mf_masks; mi++)
		if (!memcmp(f->mf_mask[mi].w, wc->w, sizeof(f->mf_mask[mi].w)))
			break;
	if (mi == f->n_mf_masks) {
		struct dp_flow_mf_mask *nm = &f->mf_mask[mi];

		if (mi == DP_FLOW_MF_MASKS)
			return false;
		memcpy(nm->w, wc->w, sizeof(nm->w));
		nm->in_ports = 0;
		f->n_mf_masks++;
		/* The mask's words before the count that lets the control thread read them. */
		atomic_store_explicit(&f->mf_masks_pub, f->n_mf_masks, memory_order_release);
	}
	/* Before the megaflow can answer: mf_lookup() probes the mask for keys of this in_port from now on. */
	f->mf_mask[mi].in_ports |= in_port_bit(k);
	h = mf_hash(k, &f->mf_mask[mi], mi);
	e = mf_find(f, t, tag, k, mi, h);
	if (e)	/* a frame before made it: this run's memo is for the same frames unless it replays for another shape */
		return e->memo.flags == m->flags &&
		       (!(m->flags & FLOW_MEMO_F_WRITES) || flow_memo_acts_same_shape(&f->mf_acts[e - f->mf], ma));
	e = CACHE_VICTIM(f->mf, DP_FLOW_MF_ENTRIES, t, tag, h);
	if (!e)
		return false;
	seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	atomic_store_explicit(&e->seq, seq + 1, memory_order_relaxed);
	/* The odd count before the entry's new bytes (as the kernel's write_seqcount_begin: a store-store barrier). */
	atomic_thread_fence(memory_order_release);
	e->gen = tag;
	e->tables = t;
	e->mask = (uint16_t)mi;
	e->hits = 0;
	for (unsigned w = 0; w < DP_FLOW_EMC_WORDS; w++)
		e->key[w] = k->w[w] & wc->w[w];
	e->rule = f->rules[i];
	e->memo = *m;
	if (m->flags & FLOW_MEMO_F_WRITES)
		f->mf_acts[e - f->mf] = *ma;	/* the worker's alone: the control thread shows the memo only */
	/* The entry's bytes before the even count. */
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
	return true;
}

unsigned dp_flow_mf_read(const struct dp_flow *f, const struct flow_tables *t, struct dp_flow_mf_view *out,
			 unsigned max)
{
	struct dp_flow_mf_mask masks[DP_FLOW_MF_MASKS];

	for (unsigned tries = 0; tries < 8; tries++) {
		uint64_t epoch = atomic_load_explicit(&f->mf_epoch, memory_order_acquire);
		unsigned n_masks = atomic_load_explicit(&f->mf_masks_pub, memory_order_acquire), n = 0;

		if (n_masks > DP_FLOW_MF_MASKS)
			n_masks = DP_FLOW_MF_MASKS;
		memcpy(masks, f->mf_mask, n_masks * sizeof(masks[0]));
		for (unsigned i = 0; i < DP_FLOW_MF_ENTRIES && n < max; i++) {
			const struct dp_flow_mf *e = &f->mf[i];
			struct dp_flow_mf c;
			unsigned s1 = atomic_load_explicit(&e->seq, memory_order_acquire);

			if (s1 & 1)
				continue;	/* being written: it is new, the next dump has it */
			memcpy(&c, e, sizeof(c));
			/* The copy's reads before the second reading of seq. */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1)
				continue;
			if (c.gen != t->gen + 1 || c.tables != t || c.mask >= n_masks)
				continue;	/* empty, of another version, or of a mask read before it was published */
			memset(&out[n], 0, sizeof(out[n]));
			for (unsigned w = 0; w < DP_FLOW_EMC_WORDS; w++)
				out[n].key.w[w] = c.key[w] & masks[c.mask].w[w];
			memcpy(out[n].mask.w, masks[c.mask].w, sizeof(masks[c.mask].w));
			out[n].memo = c.memo;
			n++;
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&f->mf_epoch, memory_order_relaxed) == epoch)
			return n;
	}
	return 0;
}

/*
 * Table 0's rule for each frame of @b that the check left (@live[i]), and
 * its memo when a cache has one (f->memo[f->run[i]].n_rules: the frame's
 * own, or its run's first frame's; FLOW_MEMO_NONE otherwise), with its
 * actions (f->acts[] likewise): from a megaflow of this very version (@t->gen), else from
 * the exact-match cache's entry of this version with the same key, else
 * from the classifier, in one batch (each frame's f->wc[i] then says what
 * its answer depended on), and then cached.  An entry of an older version
 * never answers, so a commit invalidates both caches at once, and a rule
 * deleted before the batch began (absent from @t) is never found.
 */
static void lookup_table0(struct dp_flow *f, const struct flow_tables *t, struct pkt_batch *b, const bool *live)
{
	unsigned n = b->n;
	uint64_t tag = t->gen + 1; /* 0 is an empty entry */
	unsigned m = 0, hits = 0, mf_hits = 0, probes = 0;
	bool done[PKT_BURST];

	if (f->mf_gen != tag || f->mf_tables != t) {
		/* A new version: its megaflows start from nothing (the old ones no longer answer). */
		f->mf_gen = tag;
		f->mf_tables = t;
		f->n_mf_masks = 0;
		/* No mask for the reader, then the reset said (release: after the count), before any mask is rewritten. */
		atomic_store_explicit(&f->mf_masks_pub, 0, memory_order_relaxed);
		atomic_store_explicit(&f->mf_epoch, atomic_load_explicit(&f->mf_epoch, memory_order_relaxed) + 1,
				      memory_order_release);
		/* And the masks rewritten below after it: a release store orders what came before it only. */
		atomic_thread_fence(memory_order_release);
	}
	/*
	 * Megaflows first (a few, hot); then every other hash's two places in
	 * flight before the compares.  A frame that falls in the megaflow of
	 * the frame before it (@prev, found for frame @prev_i) and fits its
	 * memo (mf_fits(): a memo that writes wants a frame of its shape) is a
	 * repeat of that frame's (f->run[i]: no hash, and the memo and its
	 * actions are @prev_i's, not copied again): equal to @prev_i's key on
	 * the bits of the megaflow's mask, one compare of the cached words.  Any
	 * megaflow a key falls in stands for the same run, the one its masks'
	 * lookup would find included, and no entry changes before the batch's
	 * lookups are done.  A frame from a tunnel is never a repeat (its
	 * outputs change its tunnel metadata: tun_out()), nor one whose head
	 * the executor would not take (FLOW_HDR_MAX).  @rest counts the frames
	 * left for the exact-match cache.
	 */
	struct dp_flow_mf *prev = NULL;
	unsigned prev_i = 0, rest = 0;
	uint8_t prev_src = 0;	/* f->run[prev_i] */
	uint16_t prev_mfi = 0;	/* f->mfp[prev_i] */

	for (unsigned i = 0; i < n; i++) {
		const struct pkt *p = &b->pkts[i];
		struct dp_flow_mf *e;
		uint64_t h;

		f->hash[i] = 0;
		f->looked_up[i] = false;
		f->run[i] = (uint8_t)i;
		done[i] = false;
		if (!live[i]) {
			f->memo[i].n_rules = FLOW_MEMO_NONE;
			f->mfp[i] = DP_FLOW_MF_NONE;
			continue;
		}
		if (prev && !(p->flags & PKT_F_TUNNEL) && p->head_len <= FLOW_HDR_MAX &&
		    ((f->same_key[i] != DP_FLOW_KEY_OWN && f->same_key[i] == f->same_key[prev_i]) ||
		     words_same_masked(f->keys[i].w, f->keys[prev_i].w, f->mf_mask[prev->mask].w)) &&
		    mf_fits(f, prev, &b->pkts[i], i)) {
			CACHE_HIT(prev);
			f->rules[i] = prev->rule;
			f->run[i] = prev_src;
			f->mfp[i] = prev_mfi;
			done[i] = true;
			mf_hits++;
			continue;
		}
		prev = NULL;
		f->mfp[i] = DP_FLOW_MF_NONE;
		/* Only tun_in() sets a word past the cached ones: a frame from no tunnel has them zero (key.h). */
		if ((p->flags & PKT_F_TUNNEL) && !cacheable(&f->keys[i])) {
			f->memo[i].n_rules = FLOW_MEMO_NONE;
			rest++;
			continue;
		}
		e = f->n_mf_masks ? mf_lookup(f, t, tag, &f->keys[i], &b->pkts[i], i, &probes) : NULL;
		if (e) {
			unsigned j = e->first;
			uint16_t mfi = (uint16_t)(e - f->mf);

			CACHE_HIT(e);
			f->mf_last[b->in->id % DP_FLOW_LAST] = e;
			if (f->short_keys >> i & 1)
				hc_insert(f, t, tag, p, (uint16_t)b->in->id, e);
			f->rules[i] = e->rule;
			if (j < i && f->mfp[j] == mfi && !(p->flags & PKT_F_TUNNEL) && p->head_len <= FLOW_HDR_MAX) {
				/* frame j had it this batch: its run's memo is this megaflow's, and fits this frame (mf_lookup()) */
				f->run[i] = f->run[j];
			} else {
				f->memo[i] = e->memo;
				if (e->memo.flags & FLOW_MEMO_F_WRITES)
					f->acts[i] = f->mf_acts[mfi];
				e->first = (uint8_t)i;
			}
			f->mfp[i] = prev_mfi = mfi;
			prev = e;
			prev_i = i;
			prev_src = f->run[i];
			done[i] = true;
			mf_hits++;
			continue;
		}
		f->memo[i].n_rules = FLOW_MEMO_NONE;
		f->hash[i] = h = emc_hash(&f->keys[i]);
		prefetch_r(&f->emc[place(h, 0, DP_FLOW_EMC_ENTRIES)]);
		prefetch_r(&f->emc[place(h, 1, DP_FLOW_EMC_ENTRIES)]);
		rest++;
	}
	for (unsigned i = 0; rest && i < n; i++) {	/* no pass when every frame is answered */
		struct dp_flow_emc *e;

		if (!live[i] || done[i])
			continue;
		e = f->hash[i] ? emc_find(f, t, tag, &f->keys[i], f->hash[i]) : NULL;
		if (e) {
			CACHE_HIT(e);
			f->rules[i] = e->rule;
			if (e->memo.n_rules != FLOW_MEMO_NONE) {
				f->memo[i] = e->memo;
				if (e->memo.flags & FLOW_MEMO_F_WRITES)
					f->acts[i] = f->emc_acts[e - f->emc];
			}
			hits++;
			continue;
		}
		f->looked_up[i] = true;
		memset(&f->wc[i], 0, sizeof(f->wc[i]));
		f->wcp[m] = &f->wc[i];
		f->kp[m] = &f->keys[i];
		f->miss_idx[m++] = i;
	}
	dp_flow_stat_add(&f->stats.emc_misses, m);
	dp_flow_stat_add(&f->stats.emc_hits, hits + mf_hits);
	dp_flow_stat_add(&f->stats.mf_hits, mf_hits);
	dp_flow_stat_add(&f->stats.mf_probes, probes);
	if (!m)
		return;
	if (t->cls[0])
		flow_cls_lookup_batch_wc(t->cls[0], f->kp, m, f->found, f->wcp);
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
			e = CACHE_VICTIM(f->emc, DP_FLOW_EMC_ENTRIES, t, tag, f->hash[i]);
			if (!e)
				continue;	/* both places in use: answered, not cached */
			e->hits = 0;
			e->gen = tag;
			e->tables = t;
			memcpy(e->key, f->keys[i].w, sizeof(e->key));
			e->memo.n_rules = FLOW_MEMO_NONE;
		}
		e->rule = f->found[j];
	}
}

/*
 * The memo @m of frame @i's run (key @k0, as table 0 saw it): a megaflow
 * when table 0 was looked up for it (so its masks are known) and its
 * mask could say every bit the run read (a run that wrote:
 * flow_exec_wc_exact()), else (or when the version has all the masks it
 * may) into its exact-match entry, if that still holds its key; with @ma
 * for a run that wrote.
 */
static void memo_store(struct dp_flow *f, const struct flow_tables *t, unsigned i, const struct flow_key *k0,
		       const struct flow_memo *m, const struct flow_memo_acts *ma)
{
	struct dp_flow_emc *e;

	if (f->looked_up[i] && (!(m->flags & FLOW_MEMO_F_WRITES) || flow_exec_wc_exact(&f->x)) &&
	    mf_insert(f, t, i, k0, m, ma))
		return;
	e = emc_find(f, t, t->gen + 1, k0, f->hash[i]);
	if (e && e->rule == f->rules[i]) {
		e->memo = *m;
		if (m->flags & FLOW_MEMO_F_WRITES)
			f->emc_acts[e - f->emc] = *ma;
	}
}

/* @p as the actions left it (@fp; @len0: its length before); its offsets are parsed again by whoever needs them. */
static inline void exec_done(struct pkt *p, const struct flow_pkt *fp, uint32_t len0)
{
	p->head_off = fp->head;
	p->head_len = fp->len;
	p->len = fp->frame_len;
	p->parsed = false;
	if (p->csum == PKT_CSUM_PARTIAL)
		p->csum_start = (uint16_t)(p->csum_start + (p->len - len0));
}

/*
 * Frame @i's actions run on its head in place (@p: the frame, ready for
 * the verdicts after), and their memo into the cache when the run
 * qualifies.  Returns the outputs (f->x.out).
 */
static unsigned run_actions(struct dp_flow *f, const struct flow_tables *t, struct pkt *p, unsigned i)
{
	uint32_t len0 = p->len;
	struct flow_pkt fp = exec_pkt(f, p, i);
	struct flow_memo m;
	struct flow_memo_acts ma;
	struct flow_key k0;
	unsigned n;

	if (f->hash[i])
		k0 = f->keys[i];	/* the key the entry holds: a rewrite changes f->keys[i] */
	f->key_tail |= 1ull << i;	/* the run may set metadata, registers, tunnel fields */
	f->x.wc = f->looked_up[i] ? &f->wc[i] : NULL;
	n = flow_exec_run(&f->x, &fp, &f->keys[i], 0, f->rules[i]);
	f->x.wc = NULL;
	if (f->hash[i] && flow_exec_memo(&f->x, &m, &ma))
		memo_store(f, t, i, &k0, &m, &ma);
	exec_done(p, &fp, len0);
	return n;
}

/*
 * Frame @i's run from the memo's actions (FLOW_MEMO_F_WRITES) of frame
 * @src (@i, or the first of its run), or run when the frame is not shaped
 * as the memo's.
 */
static unsigned replay_actions(struct dp_flow *f, const struct flow_tables *t, struct pkt *p, unsigned i, unsigned src)
{
	uint32_t len0 = p->len;
	struct flow_pkt fp = exec_pkt(f, p, i);
	unsigned n;

	if (!flow_memo_acts_fit(&f->acts[src], &fp))
		return run_actions(f, t, p, i);
	f->key_tail |= 1ull << i;	/* as run_actions() */
	n = flow_exec_replay_acts(&f->x, &f->memo[src], &f->acts[src], &fp, &f->keys[i]);
	exec_done(p, &fp, len0);
	return n;
}

/* What output @o becomes: a port's slot (a drop when there is no such port), or a flood. */
static uint16_t out_verdict(struct vswitch *sw, const struct flow_out *o)
{
	if (o->kind == FLOW_OUT_FLOOD || o->kind == FLOW_OUT_ALL)
		return PKT_DEST_FLOOD;
	if (o->port < PORT_MAX && atomic_load_explicit(&sw->ports[o->port], memory_order_relaxed))
		return o->port;
	return (uint16_t)PKT_DEST_DROP_WHY(DROP_NO_DESTINATION);
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
 * The tunnel metadata the frame leaves with, as output @o of @x saw it:
 * tun_id (big-endian; set_tunnel, set_field->tun_id) and the destination
 * a tunnel port with remote=flow sends it to: tun_dst (IPv4,
 * set_field->tun_dst) when set, else tun_ipv6_dst (@o->tun6, an index
 * into x->tun6_dst), as Open vSwitch's flow_tnl_dst() prefers the IPv4
 * one.  A frame from a tunnel keeps its outer source (of its own family);
 * one from no tunnel gets the metadata only when a key or a destination
 * was set (a tunnel port with vni=flow sends key 0 for a frame without,
 * one with remote=flow drops it, as Open vSwitch's options:key=flow and
 * remote_ip=flow do).  One test per frame that ran flows; nothing on the
 * bridge's path.
 */
static inline void tun_out(struct pkt *p, const struct flow_exec *x, const struct flow_out *o)
{
	bool v6 = !o->tun_dst && o->tun6;

	if (!(p->flags & PKT_F_TUNNEL)) {
		if (!o->tun_id && !o->tun_dst && !o->tun6)
			return;
		memset(&p->tun, 0, sizeof(p->tun));
		p->flags |= PKT_F_TUNNEL;
	} else if (p->tun.ipv6 != v6) {
		/* the other family's addresses: neither is the frame's any more */
		memset(&p->tun.src, 0, sizeof(p->tun.src));
		memset(&p->tun.dst, 0, sizeof(p->tun.dst));
	}
	p->tun.id = be64toh(o->tun_id);
	p->tun.ipv6 = v6;
	if (v6)
		memcpy(p->tun.dst.v6, x->tun6_dst[o->tun6 - 1], 16);
	else
		p->tun.dst.v4 = o->tun_dst;
}

/*
 * The key's tunnel fields from a frame that came in a tunnel
 * (PKT_F_TUNNEL): ovs-fields(7) tun_id, and tun_src, tun_dst (IPv4
 * underlay) or tun_ipv6_src, tun_ipv6_dst (IPv6); the other pair stays 0.
 */
static inline void tun_in(struct flow_key *k, const struct pkt *p)
{
	k->tun_id = htobe64(p->tun.id);
	if (!p->tun.ipv6) {
		k->tun_src = p->tun.src.v4;
		k->tun_dst = p->tun.dst.v4;
	} else {
		memcpy(k->tun_ipv6_src, p->tun.src.v6, 16);
		memcpy(k->tun_ipv6_dst, p->tun.dst.v6, 16);
	}
}

/* Verdict counts of @b, from its verdicts. */
static void batch_count(struct pkt_batch *b)
{
	unsigned n_out = 0, n_flood = 0, n_drop = 0;

	for (unsigned i = 0; i < b->n; i++) {
		unsigned d = b->dest[i];

		n_out += d < PKT_DEST_FLOOD;
		n_flood += d == PKT_DEST_FLOOD;
		n_drop += pkt_dest_is_drop(d);
	}
	b->n_out = n_out;
	b->n_flood = n_flood;
	b->n_drop = n_drop;
}

/* Frame @i of @b (now for `normal` only, final headers) into the normal pool. */
static void to_normal(struct dp_flow *f, struct pkt_batch *b, unsigned i)
{
	if (f->normal.n == DP_FLOW_COPIES) {
		b->dest[i] = (uint16_t)PKT_DEST_DROP_WHY(DROP_FLOW_COPIES);
		return;
	}
	pkt_clone(&f->normal.pkts[f->normal.n], &b->pkts[i]);
	f->normal.dest[f->normal.n++] = PKT_DEST_UNSET;
	b->dest[i] = PKT_DEST_COPIED;
}

/*
 * Frame @i's outputs (x->out) into verdicts: the first one that sees the
 * final headers and is not `normal` takes the frame, the others copies.
 */
static void outputs(struct vswitch *sw, struct dp_flow *f, struct pkt_batch *b, unsigned i, uint32_t len0,
		    uint16_t csum_start0)
{
	const struct flow_exec *x = &f->x;
	struct pkt *p = &b->pkts[i];
	bool own = false;

	for (unsigned k = 0; k < x->n_out; k++) {
		const struct flow_out *o = &x->out[k];
		bool normal = o->kind == FLOW_OUT_NORMAL;
		struct pkt_batch *pool = normal ? &f->normal : &f->extra;
		struct pkt *q;

		if (!own && !normal && o->snap == FLOW_SNAP_LIVE) {
			b->dest[i] = out_verdict(sw, o);
			tun_out(p, x, o);
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
		tun_out(q, x, o);
		pool->dest[pool->n++] = normal ? PKT_DEST_UNSET : out_verdict(sw, o);
	}
	if (!own)
		b->dest[i] = PKT_DEST_COPIED;
}

/* Is @e (NULL: none) a megaflow of this version (@tag) of @t, frame 0's key in it? */
static inline bool key0_in(const struct dp_flow *f, const struct flow_tables *t, uint64_t tag, const struct dp_flow_mf *e)
{
	return e && e->gen == tag && e->tables == t && e->mask < f->n_mf_masks &&
	       words_same_masked(f->keys[0].w, e->key, f->mf_mask[e->mask].w);
}

/*
 * Memo @m (one that answers a batch whole: dp_flow_memo_whole()) replayed once
 * for @frames frames of @bytes bytes in all, the first of @len0: the
 * rules', tables' and executor's counts of every frame, its outputs in
 * f->x.out.
 */
void dp_flow_memo_replay(struct dp_flow *f, const struct flow_tables *t, const struct flow_memo *m, uint64_t now_ms,
			 unsigned frames, uint32_t len0, uint64_t bytes)
{
	flow_exec_begin(&f->x, t, now_ms);
	flow_exec_replay(&f->x, m, len0);
	if (frames > 1)
		flow_exec_replay_more(&f->x, m, frames - 1, bytes - len0);
	flow_exec_end(&f->x);
}

/*
 * The verdict of memo @m just replayed (dp_flow_memo_replay()), but `normal`: a
 * drop for its reason when it has no output, else its output's.  A
 * memo's outputs carry no tunnel metadata (setting it is a write), so
 * tun_out() has nothing to do.
 */
uint16_t dp_flow_memo_dest(struct vswitch *sw, const struct dp_flow *f, const struct flow_memo *m)
{
	if (!m->n_out)
		return (uint16_t)PKT_DEST_DROP_WHY(m->miss_drops ? DROP_FLOW_MISS : DROP_FLOW_DROP);
	return out_verdict(sw, &f->x.out[0]);
}

/*
 * Frames @from to the end of @b, none from a tunnel, all in frame 0's
 * megaflow, the last of @b's port (f->mf_last: of this version, frame
 * 0's key in it, its memo one that answers a batch whole), which
 * frame 0's head @hdr0 made the short way?  Each frame's head compared
 * with @hdr0 under the megaflow's mask (flow_key_head_in()), no key made:
 * a batch of many flows that one megaflow covers (flows to the addresses
 * of one prefix) cost an extraction and a masked compare of keys a frame
 * (one_megaflow() with @keys_made), ~100 instructions, where this is ~20.
 * True: one_megaflow() may take the batch as frames of frame 0's key.
 */
static bool heads_in_megaflow(const struct dp_flow *f, const struct pkt_batch *b, const struct flow_tables *t,
			      const uint8_t *hdr0, unsigned from)
{
	uint64_t tag = t->gen + 1;
	const struct dp_flow_mf *e = f->mf_last[b->in->id % DP_FLOW_LAST];
	struct flow_head_mask hm;

	/* No lookup of its own: where the frames are in several megaflows it would be wasted (one_megaflow()). */
	if (f->mf_gen != tag || f->mf_tables != t || !key0_in(f, t, tag, e) || !dp_flow_memo_whole(&e->memo))
		return false;
	flow_head_mask_of(&hm, f->mf_mask[e->mask].w, hdr0[23] == 6);
	for (unsigned i = from; i < b->n; i++) {
		const struct pkt *p = &b->pkts[i];

		if ((p->flags & PKT_F_TUNNEL) || !flow_key_head_in(pkt_head(p), hdr0, p->head_len, p->len, &hm))
			return false;
	}
	return true;
}

/*
 * A batch in one megaflow, whole: every frame of @b falls in the megaflow
 * frame 0 falls in, none came from a tunnel, the port has no check.
 * Either the frames are known to have frame 0's key (@keys_made false:
 * the short way made frame 0's, f->keys[0], and each later frame's head
 * agreed with it, flow_key_head_same(), or agreed with it under the
 * megaflow's mask, heads_in_megaflow(); their keys are not made), or
 * each frame's key is made (@keys_made) and compared with the megaflow
 * on its mask.  When that megaflow is of this version and its memo
 * writes nothing and gives at most one output, and that with the frame's
 * final headers, each frame's answer is that memo's, as the per-frame
 * way below would find it (frames 1.. as repeats of frame 0's:
 * lookup_table0()) and replay it (frames 1.. as the run's repeats), with
 * the same counts: the memo is replayed once for the batch, its counts
 * taken for every frame, and each frame's verdict is the one verdict.
 * The caches' counts are the per-frame way's (a megaflow hit for each
 * frame) but for the probes, which count the places compared: one when
 * the port's f->mf_last answers.  False for any other batch, with nothing
 * counted (f->mf_last may be the megaflow the masks' lookup found): the
 * per-frame way takes it.
 */
static bool one_megaflow(struct vswitch *sw, struct dp_flow *f, struct pkt_batch *b, const struct flow_tables *t,
			 bool keys_made)
{
	uint64_t tag = t->gen + 1, bytes = 0;
	const struct flow_memo *m;
	struct dp_flow_mf *e, **last = &f->mf_last[b->in->id % DP_FLOW_LAST];
	unsigned probes = 0, n = b->n, hits;
	uint16_t dest;

	if (f->mf_gen != tag || f->mf_tables != t || !f->n_mf_masks)
		return false;	/* a new version, or no megaflow yet: lookup_table0() */
	/*
	 * Frame 0's megaflow: the port's f->mf_last when it is of this version and frame
	 * 0's key falls in it (any megaflow a key falls in stands for the same
	 * run: lookup_table0()); else, for a batch of one flow, the masks'
	 * lookup.  A batch of several keys tries no lookup of its own: where
	 * neighbours fall in different megaflows (many flows) it would fail
	 * at frame 1 every time, and lookup_table0() would make it again.
	 */
	e = *last;
	if (key0_in(f, t, tag, e)) {
		probes = 1;
	} else {
		if (keys_made)
			return false;
		e = mf_lookup(f, t, tag, &f->keys[0], &b->pkts[0], 0, &probes);
		if (!e)
			return false;
		*last = e;
	}
	m = &e->memo;
	if (!dp_flow_memo_whole(m))
		return false;
	for (unsigned i = 1; keys_made && i < n; i++)
		if (!words_same_masked(f->keys[i].w, e->key, f->mf_mask[e->mask].w))	/* e->key is stored masked */
			return false;
	for (unsigned i = 0; i < n; i++) {
		if (b->pkts[i].head_len > FLOW_HDR_MAX)
			return false;	/* the executor's own way (run_actions()) */
		bytes += b->pkts[i].len;
	}
	/* As lookup_table0() counts n megaflow hits: frame 0's and its n - 1 repeats'. */
	hits = e->hits + n;
	e->hits = (uint8_t)(hits < DP_FLOW_HITS_MAX ? hits : DP_FLOW_HITS_MAX);
	dp_flow_stat_add(&f->stats.emc_hits, n);
	dp_flow_stat_add(&f->stats.mf_hits, n);
	dp_flow_stat_add(&f->stats.mf_probes, probes);
	dp_flow_stat_add(&f->stats.whole_batches, 1);

	dp_flow_memo_replay(f, t, m, sw->clock_ns() / 1000000, n, b->pkts[0].len, bytes);
	if (m->n_out == 1 && f->x.out[0].kind == FLOW_OUT_NORMAL) {
		/* `normal` alone with the final headers: the learning bridge decides for the batch */
		switch_decide(sw, b);
		return true;
	}
	dest = dp_flow_memo_dest(sw, f, m);
	for (unsigned i = 0; i < n; i++)
		b->dest[i] = dest;
	b->vlan = false;
	b->n_out = dest < PKT_DEST_FLOOD ? n : 0;
	b->n_flood = dest == PKT_DEST_FLOOD ? n : 0;
	b->n_drop = pkt_dest_is_drop(dest) ? n : 0;
	return true;
}

void dp_flow_lookup(struct vswitch *sw, struct dp_ctx *ctx, struct pkt_batch *b, const struct flow_tables *t)
{
	struct dp_flow *f = ctx->flow;
	struct port *in = b->in;
	const struct switch_port *sp = &sw->sp[in->id];
	bool live[PKT_BURST];
	/* Every frame so far goes to `normal` alone with its final headers: their verdicts wait (UNSET). */
	bool all_normal = true;

	pkt_batch_start(&f->normal, in, f->normal_pkts);
	pkt_batch_start(&f->extra, in, f->extra_pkts);
	if (t->only_normal && !sp->secured) {
		/* `priority=0,actions=normal` alone: the bridge, and the rule's counts (a secured port takes the long way: its check's drops run no rule) */
		uint64_t bytes = 0;

		for (unsigned i = 0; i < b->n; i++)
			bytes += b->pkts[i].len;
		switch_decide(sw, b);
		flow_rule_count(t->only_normal, b->n, bytes, sw->clock_ns() / 1000000);
		return;
	}
	if (sp->secured) {
		switch_sec_check(sp, b);
		for (unsigned i = 0; i < b->n; i++)
			live[i] = b->dest[i] == PKT_DEST_UNSET;
	} else {
		memset(live, 1, b->n * sizeof(live[0]));
	}
	/*
	 * @short_i: the last frame whose key the short way made (its head
	 * @short_hdr), whose key a frame of the same flow right after it
	 * copies (flow_key_extract_same(): a compare of the heads instead of
	 * an extraction); NULL after any other kind of frame.  Frames from a
	 * tunnel take the whole way (tun_in()).
	 */
	const uint8_t *short_hdr = NULL;
	unsigned short_i = 0, start = 0;
	bool tunnel = false;	/* a frame from a tunnel: no batch in one megaflow (tun_out() has work) */
	/*
	 * flow_key_extract_same() reads 42 bytes of a head whatever its length
	 * (flow_key_head_in(): 48):
	 * a frame here has its head at PKT_HEADROOM or before (a port's load,
	 * or a tag pushed in front; nothing pops before the lookup), so the
	 * buffer holds them.
	 */
	_Static_assert(PKT_HEADROOM + 48 <= sizeof(((struct pkt *)0)->buf), "a head's 48 bytes lie in the buffer");

	f->short_keys = 0;	/* a bit for each key the short way makes below */
	/*
	 * A batch that may be one flow (frame 0's key made the short way, from
	 * no tunnel, into a slot whose tail is zero; no check on the port):
	 * each later frame's head is compared with frame 0's first, no key
	 * made.  When every frame agrees and one_megaflow() answers the batch, no
	 * key but frame 0's is made at all.  Otherwise the frames that agreed
	 * take frame 0's key, as flow_key_extract_same() gives it, and the
	 * loop below goes on from the first frame that did not (its key made
	 * whole: it is not frame 0's flow).
	 */
	if (!sp->secured && b->n && !(b->pkts[0].flags & PKT_F_TUNNEL) && !(f->key_tail & 1)) {
		const struct pkt *p0 = &b->pkts[0];
		const uint8_t *hdr0 = pkt_head(p0);
		uint16_t tot[PKT_BURST];
		unsigned i = 1;

		f->same_key[0] = DP_FLOW_KEY_OWN;
		if (flow_key_extract_frame(&f->keys[0], hdr0, p0->head_len, p0->len, (uint16_t)in->id, &f->ofs[0])) {
			for (; i < b->n; i++) {
				const struct pkt *p = &b->pkts[i];

				if ((p->flags & PKT_F_TUNNEL) || (f->key_tail >> i & 1) ||
				    !(tot[i] = (uint16_t)flow_key_head_same(pkt_head(p), hdr0, p->head_len, p->len)))
					break;
			}
			if (i == b->n && one_megaflow(sw, f, b, t, false))
				return;
			/* Many flows, one megaflow: each head against frame 0's under its mask, no key made. */
			if (i < b->n && heads_in_megaflow(f, b, t, hdr0, i) && one_megaflow(sw, f, b, t, false))
				return;
			/* Many flows in many megaflows of one mask: each head in the head cache. */
			if (i < b->n && dp_flow_heads_in_megaflows(sw, f, b, t, hdr0))
				return;
			f->short_keys = 1;
			for (unsigned j = 1; j < i; j++) {
				flow_key_same_fill(&f->keys[j], &f->keys[0], tot[j], &f->ofs[j]);
				f->same_key[j] = 0;
			}
			if (i > 1)
				f->same_key[0] = 0;
			/* short_hdr stays NULL: frame i, where the loop below starts, just failed this very compare */
		}
		start = i;
	}
	for (unsigned i = start; i < b->n; i++) {
		struct pkt *p = &b->pkts[i];
		const uint8_t *hdr = pkt_head(p);
		uint64_t bit = 1ull << i;

		f->same_key[i] = DP_FLOW_KEY_OWN;
		if (!live[i])
			continue;
		if (short_hdr && !(p->flags & PKT_F_TUNNEL) && !(f->key_tail & bit) &&
		    flow_key_extract_same(&f->keys[i], &f->keys[short_i], hdr, short_hdr, p->head_len, p->len, &f->ofs[i])) {
			f->same_key[i] = f->same_key[short_i] = (uint8_t)short_i;
			continue;
		}
		if (f->key_tail & bit) {
			flow_key_extract(&f->keys[i], hdr, p->head_len, p->len, (uint16_t)in->id, &f->ofs[i]);
			f->key_tail &= ~bit;
			short_hdr = NULL;
		} else if (flow_key_extract_frame(&f->keys[i], hdr, p->head_len, p->len, (uint16_t)in->id, &f->ofs[i])) {
			short_hdr = hdr;
			short_i = i;
			f->short_keys |= bit;
		} else {
			short_hdr = NULL;
		}
		if (p->flags & PKT_F_TUNNEL) {
			tun_in(&f->keys[i], p);
			f->key_tail |= bit;
			short_hdr = NULL;
			tunnel = true;
		}
	}
	/* Frames of several flows (or of shapes the short way does not take) may still share one megaflow. */
	if (!sp->secured && !tunnel && start < b->n && b->n > 1 && one_megaflow(sw, f, b, t, true))
		return;
	lookup_table0(f, t, b, live);

	/*
	 * @replayed: the frame whose memo's replay x->out holds, while the
	 * frames since were its repeats (lookup_table0(): f->run[]); each
	 * repeat takes those outputs as they are, and its counts wait in
	 * @run_frames, @run_bytes until the run ends (flow_exec_replay_more()).
	 * @run_dest: the verdict of @replayed when it was the frame's own
	 * and nothing else (one output, not `normal`, no copy; or a drop),
	 * which a repeat takes as it is; -1 otherwise.
	 */
	int replayed = -1, run_dest = -1;
	unsigned run_frames = 0;
	uint64_t run_bytes = 0;
	/*
	 * Per frame whose memo others share (f->run[]) though not next to it
	 * (lookup_table0(): a megaflow's frames with others between): its
	 * verdict when a repeat may take it as it is (as @run_dest: a port's
	 * or a drop; a `normal` verdict never gets there), -1 otherwise; and
	 * the frames and bytes of those repeats, counted after the batch.
	 * Set for such a frame (f->run[i] == i) when it comes: a frame's run
	 * is never after it.
	 */
	int grp_dest[PKT_BURST];
	unsigned grp_frames[PKT_BURST];
	uint64_t grp_bytes[PKT_BURST];
	uint64_t grouped = 0;	/* bit i: grp_frames[i] is not 0 */

	flow_exec_begin(&f->x, t, sw->clock_ns() / 1000000);
	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *p = &b->pkts[i];
		int src = f->run[i];	/* the frame whose memo is this one's: i, or its run's first */
		const struct flow_memo *m;
		uint32_t len0;
		uint16_t csum_start0;
		bool miss;
		unsigned n;

		if (!live[i])
			continue;
		if (src == replayed) {	/* a repeat (never from a tunnel: tun_out() has nothing to do) */
			run_frames++;
			run_bytes += p->len;
			if (run_dest >= 0) {
				b->dest[i] = (uint16_t)run_dest;
				continue;
			}
			len0 = p->len;
			csum_start0 = p->csum_start;
			n = f->x.n_out;
			miss = f->memo[src].miss_drops != 0;
			goto verdict;
		}
		if (src != (int)i) {
			if (grp_dest[src] >= 0) {	/* a repeat of an earlier run, not the last */
				b->dest[i] = (uint16_t)grp_dest[src];
				grp_frames[src]++;
				grp_bytes[src] += p->len;
				grouped |= 1ull << src;
				continue;
			}
		} else {
			grp_dest[i] = -1;	/* a frame whose memo is its own: the first of its run */
			grp_frames[i] = 0;
			grp_bytes[i] = 0;
		}
		if (run_frames) {
			flow_exec_replay_more(&f->x, &f->memo[replayed], run_frames, run_bytes);
			run_frames = 0;
			run_bytes = 0;
		}
		replayed = run_dest = -1;
		len0 = p->len;
		csum_start0 = p->csum_start;
		m = &f->memo[src];
		if (m->n_rules == FLOW_MEMO_NONE || p->head_len > FLOW_HDR_MAX) {
			uint64_t misses = f->x.cnt[FLOW_CNT_MISS_DROP];

			n = run_actions(f, t, p, i);
			miss = f->x.cnt[FLOW_CNT_MISS_DROP] != misses;
		} else if (!(m->flags & FLOW_MEMO_F_WRITES)) {
			n = flow_exec_replay(&f->x, m, p->len);	/* nothing in the frame changes */
			miss = m->miss_drops != 0;
			replayed = src;
		} else {
			uint64_t misses = f->x.cnt[FLOW_CNT_MISS_DROP];

			n = replay_actions(f, t, p, i, (unsigned)src);
			miss = f->x.cnt[FLOW_CNT_MISS_DROP] != misses;
		}
verdict:
		if (n == 1 && f->x.out[0].kind == FLOW_OUT_NORMAL && f->x.out[0].snap == FLOW_SNAP_LIVE) {
			tun_out(p, &f->x, &f->x.out[0]);
			if (all_normal)
				b->dest[i] = PKT_DEST_UNSET;
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
			b->dest[i] = (uint16_t)PKT_DEST_DROP_WHY(miss ? DROP_FLOW_MISS : DROP_FLOW_DROP);
		else
			outputs(sw, f, b, i, len0, csum_start0);
		if (replayed == src && n <= 1 && b->dest[i] != PKT_DEST_COPIED)
			run_dest = grp_dest[src] = b->dest[i];
	}
	if (run_frames)
		flow_exec_replay_more(&f->x, &f->memo[replayed], run_frames, run_bytes);
	for (; grouped; grouped &= grouped - 1) {
		unsigned i = (unsigned)__builtin_ctzll(grouped);

		flow_exec_replay_more(&f->x, &f->memo[i], grp_frames[i], grp_bytes[i]);
	}
	flow_exec_end(&f->x);

	if (all_normal) {
		/* The learning bridge decides for the batch itself (the check again included): nothing copied. */
		switch_decide(sw, b);
		return;
	}
	/* Explicit outputs send frames as the flows left them: no VLAN of the bridge's (pkt.vlan) to apply. */
	b->vlan = false;
	batch_count(b);
	if (f->normal.n)
		switch_decide(sw, &f->normal);
	batch_count(&f->extra);
}
