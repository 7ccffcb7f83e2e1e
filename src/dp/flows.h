/* flows.h - the lookup stage when flow tables are published: keys, cache, classifier, actions, verdicts and frame copies. */
#ifndef VSW_DP_FLOWS_H
#define VSW_DP_FLOWS_H

/*
 * The switch publishes the flow tables by one pointer, sw->flows (NULL
 * while the db holds no rule: the lookup stage is then the learning
 * bridge alone, as before flows existed, for the cost of one load and
 * one branch per batch).  With tables, the lookup stage is dp_flow_lookup():
 *
 *   per frame   flow_key_extract() from the head (the private copy)
 *   per batch   the megaflows, then the exact-match cache for the frames
 *               they missed (every hash first, with a prefetch of both
 *               places, then the compares), both per worker and tagged
 *               with the version's generation, then
 *               flow_cls_lookup_batch_wc() of table 0 for the rest; a
 *               frame that falls in the megaflow of the frame before it
 *               (one masked compare with that frame's key, no hash) is a
 *               repeat of it (a run of one megaflow's frames, as a burst
 *               of a flow or of flows one megaflow covers makes)
 *   per frame   a repeat: its run's outputs and verdict as they are, its
 *               counts added once for the run (flow_exec_replay_more());
 *               of a run that rewrote: the run's actions replayed on it;
 *               a hit with a memo: flow_exec_replay() (the outputs and
 *               counts of the first frame's run, nothing run again), or
 *               for a run that rewrote, flow_exec_replay_acts(): its
 *               outputs and writes alone, no lookup, on a frame shaped
 *               as the first;
 *               otherwise flow_exec_run() on the head in place (it has
 *               PKT_HEADROOM for a push_vlan), and its memo, when the
 *               run qualifies, into a megaflow (every bit of the key
 *               its lookups and actions read, mapped back through its
 *               rewrites, when table 0 was looked up for it and the
 *               executor could say them all) or the exact-match entry;
 *               the outputs become verdicts:
 *
 *     output:P, in_port   the port's slot (a port that is not there: a
 *                         `no_destination` drop)
 *     flood, all          PKT_DEST_FLOOD (every port but the ingress one)
 *     normal              the learning bridge: switch_decide() on the
 *                         frames that went there (see below)
 *     nothing             `flow_miss` (the table drops misses) or
 *                         `flow_drop` (the actions output nothing)
 *
 * One frame, several outputs (mirror through clone(), output:1,output:2,
 * rewrites between outputs): the first output that sees the frame's final
 * headers takes the frame itself (b->dest[i]); every other one takes a
 * copy from the worker's pools, made at startup: the packet's first line
 * and its head, with the header version that output saw (the executor's
 * snapshot, or the final head), sharing the read-only view of the rest of
 * the frame, which stays valid until rx_done.  A copy is about 64 + the
 * head's bytes of memcpy; no output ever sees headers another output
 * changed after it.  Past a pool's DP_FLOW_COPIES copies in a batch, an
 * output is a `flow_copies` drop.
 *
 * A batch in one megaflow (dp/flows.c one_megaflow(): every frame falls
 * in frame 0's, no tunnel, no port check) whose memo writes nothing and
 * has at most one output with the final headers skips the per-frame
 * passes: one replay counted for every frame, one verdict for all.  A
 * batch of one flow is found before any key but frame 0's is made (each
 * later head compared with frame 0's, flow_key_head_same()).
 *
 * A version whose only rule is table 0's match-all `actions=normal`
 * (flow_tables.only_normal) is the learning bridge on the batch plus one
 * counter update per batch: no key, no lookup, no action runs.
 *
 * `normal` needs the learning bridge per frame (switch_decide(), which
 * also applies per-VLAN learning and port security) over a batch: when
 * every frame of a batch goes to `normal` alone (a `priority=0,
 * actions=normal` table, or one whose rules only rewrite), the bridge
 * decides for the batch itself and nothing is copied; otherwise the frames
 * for `normal` are copied into the normal pool and it decides for those.
 * The pipeline then sends the batch, then the normal pool, then the other
 * copies (dp_flow_batches()): three rounds of tx at most.
 *
 * A frame from a secured port (mac=, ip=) goes through the port's check
 * before the flow tables: a frame the port may not send is dropped for
 * that reason whatever the flows say.
 *
 * Rule counters (packets, bytes, used time) are gathered per batch and
 * added at its end (flow_exec_end()).  The version is read once per
 * batch: no frame is handled by a rule deleted before its batch began,
 * and the control thread frees an old version only after dp_sync().
 */

#include <stdatomic.h>
#include <stdint.h>

#include "dp/dp.h"
#include "flow/actions.h"
#include "flow/classifier.h"
#include "flow/learn.h"

#define DP_FLOW_COPIES PKT_BURST	/* frame copies per pool (normal, other outputs) per batch */
#define DP_FLOW_EMC_ENTRIES 2048	/* exact-match cache entries per worker (a power of two) */
#define DP_FLOW_LAST 8			/* ingress ports with a last megaflow of their own (mf_last) */
#define DP_FLOW_EMC_WORDS 10		/* key words a cache entry holds: those a frame can set (key.h) */
#define DP_FLOW_MF_ENTRIES 1024		/* megaflow entries per worker (a power of two) */
#define DP_FLOW_MF_NONE 0xffff		/* dp_flow.mfp[]: no megaflow */
#define DP_FLOW_MF_MASKS 8		/* distinct megaflow masks per worker and version */
#define DP_FLOW_HC_ENTRIES 1024		/* head cache entries per worker (a power of two, at most 65536) */
#define DP_FLOW_HITS_MAX 255		/* an entry's hit count saturates here: an ended flow's ages out in 8 refusals */
#define DP_FLOW_LEARN_QUEUE 64		/* learn requests a worker holds for the control thread (a power of two) */
#define DP_FLOW_LEARN_SEEN 512		/* learns a worker remembers sending (a power of two) */
#define DP_FLOW_LEARN_REFRESH_MS 1000	/* a learn sent again within this is a repeat: not sent */

struct vswitch;

/*
 * One exact-match cache entry: the key as table 0 saw it (its first
 * DP_FLOW_EMC_WORDS words: a key with any later word set is never
 * cached), table 0's rule (NULL: a miss) and, when the frame's whole run
 * qualified, its memo (memo.n_rules FLOW_MEMO_NONE otherwise).  A key has
 * two places (two bits of its hash), so two keys that share one can both
 * stay.  @hits counts the frames it answered (saturating), halved each
 * time a new key wanted its place and was refused it (flows.c,
 * CACHE_VICTIM): a one-frame flow never evicts an entry in use.
 */
struct dp_flow_emc {
	uint64_t gen;				/* the version it is from (generation + 1; 0: empty) ... */
	const struct flow_tables *tables;	/* ... and its address: a new db counts generations from the start again */
	uint64_t key[DP_FLOW_EMC_WORDS];
	const struct flow_rule *rule;
	struct flow_memo memo;
	uint16_t hits;				/* 0 .. DP_FLOW_HITS_MAX */
};

/*
 * One megaflow: every key equal to @key on the bits of the worker's mask
 * @mask (an index into dp_flow.mf_mask) has the run @memo on version
 * (@gen, @tables); @rule is table 0's rule.  Made from a run that
 * qualified for a memo, with the mask of every subtable its lookups
 * looked into (flow_cls_lookup_wc()), of every bit its actions tested,
 * both mapped back through its rewrites (flow_exec.wc), and in_port.
 */
struct dp_flow_mf {
	uint64_t gen;				/* as dp_flow_emc */
	const struct flow_tables *tables;
	uint64_t key[DP_FLOW_EMC_WORDS];	/* the key's cached words, masked (0 where the mask is) */
	uint16_t mask;
	uint8_t hits;				/* as dp_flow_emc's (the worker's alone: not under seq, never shown) */
	uint8_t first;				/* the batch's first frame it answered, if f->mfp[] says so (the worker's alone too) */
	/*
	 * Odd while the worker rewrites the entry (mf_insert()), even
	 * otherwise: the control thread copies an entry between two equal
	 * even readings (dp_flow_mf_read()), as a seqlock's reader.
	 */
	atomic_uint seq;
	const struct flow_rule *rule;
	struct flow_memo memo;
};

/*
 * Counters of the caches, this worker's: it alone writes them (once per
 * batch), `vswctl stats` reads them.  Hits of either cache (of which
 * megaflow hits), and frames neither answered (looked up in table 0).
 */
struct dp_flow_stats {
	atomic_uint_least64_t emc_hits, emc_misses, mf_hits;
	atomic_uint_least64_t mf_probes;	/* megaflow places compared with a key (mf_lookup()) */
	atomic_uint_least64_t whole_batches;	/* batches in one megaflow answered at once (dp/flows.c one_megaflow()) */
	atomic_uint_least64_t head_batches;	/* batches in several megaflows answered at once (dp_flow_heads_in_megaflows()) */
};

#define DP_FLOW_KEY_OWN 0xff

/*
 * learn (flow/learn.h) on the data path: a worker cannot edit the flow
 * db, so each learn action it runs is queued for the control thread with
 * the action, its specs and the key as the action saw it (a copy: the
 * rule may be gone by the time it is read), and the control thread
 * builds and applies the rule (ctl_flows.c, a few milliseconds later).
 * Every frame of a learning flow runs its actions (no memo), but a learn
 * is queued only when its rule would differ from the one this worker
 * queued for the same match in the last DP_FLOW_LEARN_REFRESH_MS
 * (flow_learn_hash(): the match's hash picks two places in a small
 * table, one of which keeps the rest's; two matches that share both
 * places, or a third evicting one, only send one more): the same MAC
 * seen again refreshes its learned rule's hard timeout at most once a
 * second, a MAC that moves (and moves back) is learned at once.
 * An edit of the rules other than a learn's (a command, a timeout) makes
 * every worker forget what it sent (dp_flow_learn_forget()): a learned
 * rule deleted is learned again by the next frame, as in Open vSwitch.
 * A full queue drops the learn, counted (learn_full); the next
 * frame of that flow tries again.
 */
struct dp_flow_learn_req {
	struct flow_act a[1 + FLOW_LEARN_SPECS_MAX];	/* the FA_LEARN, then its a[0].n specs */
	struct flow_key key;
	uint64_t gen;		/* the version it ran on: a learn from before an edit is not applied after it */
};

struct dp_flow_learn_seen {
	uint64_t match, rest;	/* flow_learn_hash() of a learn queued ... */
	uint64_t ms;		/* ... at this batch time */
};

/*
 * One head cache entry: a frame of the short way's shape (flow/key.h,
 * flow_head_mask_of()) from port @in_port whose first 48 bytes are @head
 * under the head mask of megaflow mask @mask (TCP or not: @tcp) falls in
 * megaflow @mf, while that is still the megaflow it was (its seq @mf_seq)
 * of version (@gen, @tables).  Made from a frame whose key the short way
 * made and the megaflows found (dp/flows_heads.h, hc_insert()); read by
 * dp_flow_heads_in_megaflows() (dp/flows_heads.c), which answers a batch
 * of many megaflows of one mask (flows to many prefixes) without a key
 * made.
 */
struct dp_flow_hc {
	uint64_t head[6];
	uint64_t gen;
	const struct flow_tables *tables;
	const struct dp_flow_mf *mf;
	unsigned mf_seq;
	uint16_t mask, in_port;
	uint8_t tcp;
	uint8_t grp;				/* dp_flow_heads_in_megaflows(): the frames' group in this batch ... */
	uint32_t mark;				/* ... when this is dp_flow.hc_mark */
};

/* A worker's flow state: made once at startup (dp_flow_ctx_new), never allocated on the data path. */
struct dp_flow {
	struct flow_exec x;
	struct flow_key keys[PKT_BURST];
	/*
	 * Bit i: keys[i]'s words from FLOW_KEY_FRAME_WORDS on (tunnel fields,
	 * metadata, registers) may not be zero (a frame from a tunnel, or one
	 * whose actions ran on its key, left them); the next frame in slot i
	 * then has its key zeroed whole, any other only its frame's words
	 * (flow_key_extract_frame()).  0 at dp_flow_ctx_new(): keys all zero.
	 */
	uint64_t key_tail;
	uint64_t short_keys;			/* bit i: keys[i] made the short way, from frame i's head (this batch) */
	struct flow_ofs ofs[PKT_BURST];
	const struct flow_key *kp[PKT_BURST];
	const struct flow_rule *rules[PKT_BURST];
	const struct flow_rule *found[PKT_BURST];
	unsigned miss_idx[PKT_BURST];
	uint64_t hash[PKT_BURST];		/* the exact-match hash of each key looked for there; 0: not */
	struct flow_memo memo[PKT_BURST];	/* the hits' memos, copied: an entry may change within the batch */
	/*
	 * A frame the megaflow of the frame before it answered too (a run of
	 * one megaflow's frames): that frame's index, whose memo[] and acts[]
	 * it shares (its own are not written); i itself for any other frame.
	 */
	uint8_t run[PKT_BURST];
	/*
	 * Frames whose keys are equal word for word share a number: the
	 * index of the first of them, whose key the others' were copied from
	 * (flow_key_extract_same()); DP_FLOW_KEY_OWN for a frame whose key
	 * no other frame's is known to equal.  lookup_table0() then takes a
	 * repeat of the frame before without comparing keys.
	 */
	uint8_t same_key[PKT_BURST];
	/*
	 * The megaflow that answered each frame of the batch (its index in
	 * mf[]; DP_FLOW_MF_NONE: none).
	 * A frame a megaflow answered after an earlier frame of the batch
	 * (dp_flow_mf.first, checked here) shares that frame's run[] as a
	 * repeat does, though frames of other megaflows came between (Open
	 * vSwitch's batches per flow): its memo is not copied, its counts are
	 * added with the others' after the batch, and a verdict of a port or
	 * a drop is taken as it is.
	 */
	uint16_t mfp[PKT_BURST];
	struct flow_memo_acts acts[PKT_BURST];	/* ... and their actions when they have FLOW_MEMO_F_WRITES */
	bool looked_up[PKT_BURST];		/* the frame missed both caches: table 0 was looked up, into wc[] */
	struct flow_key wc[PKT_BURST];		/* what each such frame's lookups depended on */
	struct flow_key *wcp[PKT_BURST];
	/* The megaflow masks of version (mf_gen, mf_tables): made as megaflows are, forgotten with the version. */
	uint64_t mf_gen;
	const struct flow_tables *mf_tables;
	unsigned n_mf_masks;
	/*
	 * Per ingress port (its slot % DP_FLOW_LAST): the megaflow the last
	 * masks' lookup of its frames found (or its last batch answered
	 * whole, dp/flows.c one_megaflow()): the first one tried for a batch
	 * of it in one megaflow.  Per port, as a worker polling two ports in
	 * turn (each direction of a stream) would otherwise find the other
	 * port's there every batch.  Possibly of an older version or
	 * rewritten since: it answers only when it is of the version in
	 * force and the key falls in it.
	 */
	struct dp_flow_mf *mf_last[DP_FLOW_LAST];
	/*
	 * For the control thread's reader (dp_flow_mf_read()): mf_epoch
	 * counts the masks' resets (a new version), mf_masks_pub the masks
	 * whose words are written (stored after them, release).
	 */
	atomic_uint_least64_t mf_epoch;
	atomic_uint mf_masks_pub;
	struct dp_flow_mf_mask {
		uint64_t w[DP_FLOW_EMC_WORDS];	/* the mask, every word */
		/*
		 * Bit in_port % 64 for each in_port a megaflow of the mask was
		 * made for: a key of an in_port whose bit is clear has no
		 * megaflow of the mask, so its places are not probed (Open
		 * vSwitch's datapath keeps a classifier per in_port for this).
		 */
		uint64_t in_ports;
	} mf_mask[DP_FLOW_MF_MASKS];
	struct dp_flow_stats stats;
	/* The head cache (struct dp_flow_hc), and each mask's head masks (TCP or not) of the version it was made in. */
	uint32_t hc_mark;
	struct dp_flow_hc hc[DP_FLOW_HC_ENTRIES];
	struct {
		struct flow_head_mask hm;
		uint64_t gen;
		const struct flow_tables *tables;
	} hc_hm[DP_FLOW_MF_MASKS][2];
	/* The copies of this batch: frames for `normal`, then for every other output. */
	struct pkt_batch normal, extra;
	_Alignas(64) struct pkt normal_pkts[DP_FLOW_COPIES];
	struct pkt extra_pkts[DP_FLOW_COPIES];
	_Alignas(64) struct dp_flow_mf mf[DP_FLOW_MF_ENTRIES];
	/* mf[i]'s memo's actions when it has FLOW_MEMO_F_WRITES (as emc_acts). */
	struct flow_memo_acts mf_acts[DP_FLOW_MF_ENTRIES];
	struct dp_flow_emc emc[DP_FLOW_EMC_ENTRIES];
	/* emc[i]'s memo's actions when it has FLOW_MEMO_F_WRITES: apart, so the other entries stay as small. */
	struct flow_memo_acts emc_acts[DP_FLOW_EMC_ENTRIES];
	/* learn: the worker writes at learn_tail, the control thread reads at learn_head (dp_flow_learn_drain()). */
	_Alignas(64) atomic_uint learn_tail;
	atomic_uint_least64_t learn_sent;	/* learns queued (the worker's counters) ... */
	atomic_uint_least64_t learn_full;	/* ... and dropped for a full queue: not learned */
	_Alignas(64) atomic_uint learn_head;
	atomic_bool learn_forget;		/* set by the control thread after an edit: learn_seen[] is forgotten */
	struct dp_flow_learn_seen learn_seen[DP_FLOW_LEARN_SEEN];
	struct dp_flow_learn_req learn_q[DP_FLOW_LEARN_QUEUE];
};

/* A worker's flow state, zeroed, cache-line aligned; NULL when out of memory.  Free with free(). */
struct dp_flow *dp_flow_ctx_new(void);

/*
 * Control thread: call @fn for each learn worker state @f queued since
 * the last call, in order, then give their places back.  Returns how
 * many.
 */
/* Control thread, after an edit of the rules: worker state @f sends its next learns whatever it sent before. */
static inline void dp_flow_learn_forget(struct dp_flow *f)
{
	atomic_store_explicit(&f->learn_forget, true, memory_order_relaxed);
}

unsigned dp_flow_learn_drain(struct dp_flow *f, void (*fn)(void *arg, const struct dp_flow_learn_req *q), void *arg);

/* One megaflow as the control thread sees it: a copy, consistent, of the version it asked for. */
struct dp_flow_mf_view {
	struct flow_key key, mask;		/* the key on the mask's bits; the mask (in_port always) */
	struct flow_memo memo;			/* its run: outputs, counts (rule pointers: not to be followed) */
};

/*
 * Control thread: the megaflows of worker state @f for version @t (the
 * published one) into @out (at most @max), without stopping the worker:
 * each entry is copied between two equal even readings of its seq, the
 * masks between two equal readings of mf_epoch (a few tries, then what
 * is consistent).  Returns the count; 0 when the worker has none of @t.
 */
unsigned dp_flow_mf_read(const struct dp_flow *f, const struct flow_tables *t, struct dp_flow_mf_view *out,
			 unsigned max);

/*
 * The lookup stage with tables @t (sw->flows, read once by the caller):
 * fills @b's verdicts and ctx->flow's pools as described above.
 */
void dp_flow_lookup(struct vswitch *sw, struct dp_ctx *ctx, struct pkt_batch *b, const struct flow_tables *t);

#endif
