/* classifier.h - rules and the per-table priority classifier: one hash table per distinct mask, visited by falling highest priority. */
#ifndef VSW_FLOW_CLASSIFIER_H
#define VSW_FLOW_CLASSIFIER_H

/*
 * A published version of the flow tables, immutable, read by the workers
 * without locks (the control thread builds a new one and swaps a pointer,
 * table.h):
 *
 *   flow_tables --cls[t]--> flow_cls: subtables by falling max priority
 *                                 |
 *            +--------------------+--------------------+
 *            v                    v                    v
 *     subtable (mask A)    subtable (mask B)    subtable (mask C) ...
 *     max prio 300         max prio 200         max prio 10
 *     hash(key & A) -> the best rule with that masked value
 *
 * A lookup visits subtables in that order and stops at the first whose
 * max priority cannot beat the rule found so far (lib/classifier.c in
 * Open vSwitch explains the idea; this is the plain form of it, without
 * staged lookup or prefix tries).  Within a subtable only the highest
 * priority rule of each masked value can ever win, so only that one is
 * kept.  Two matching rules of equal priority: either may win (OpenFlow
 * leaves it undefined, and so does Open vSwitch).
 *
 * Hashes are keyed with a random seed per table set, so frames cannot be
 * crafted to collide.  Subtables hash only the key words their mask
 * touches.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow/actions.h"
#include "flow/key.h"

#define FLOW_BATCH_MAX 64		/* keys per flow_cls_lookup_batch() call */
#define FLOW_PRIORITY_DEFAULT 32768

/*
 * One rule.  Immutable once published except for the counters, which the
 * workers add to (relaxed atomics, once per batch: flow_exec_end()); a
 * modify makes a new rule and hands the old one's counts over at reclaim.
 */
struct flow_rule {
	struct flow_match match;
	const struct flow_actions *actions;
	uint16_t priority;
	uint8_t table;
	uint8_t pad;
	uint16_t idle_timeout_s, hard_timeout_s;	/* 0: none */
	uint64_t cookie;
	uint64_t created_ms;				/* for the duration */
	uint64_t modified_ms;				/* the hard timeout runs from here */

	/* Control thread only (table.c). */
	uint64_t seq;					/* order of insertion */
	struct flow_rule *hnext;			/* same bucket of the rule map */
	struct flow_mask_group *group;
	uint32_t group_idx;
	uint64_t handed_packets, handed_bytes;		/* this rule's counts when a modify replaced it */
	struct flow_rule *successor;			/* the rule that replaced it: gets the rest at reclaim */
	struct flow_rule *predecessor;			/* the rule it replaced, until that one is reclaimed */
	uint64_t refreshed_ms;				/* a learn found it as it says: the hard timeout runs from here if later */
	bool learned;					/* a learn added it (flow_db_learn()): counted, capped, not saved */

	/* Workers write these: their own cache line. */
	_Alignas(64) _Atomic uint64_t n_packets;
	_Atomic uint64_t n_bytes;
	_Atomic uint64_t used_ms;
};

enum flow_miss {
	FLOW_MISS_DROP,			/* OpenFlow 1.3+ default */
	FLOW_MISS_NEXT,			/* continue in the next table (OpenFlow 1.0 "continue") */
	FLOW_MISS_NORMAL,		/* the learning bridge (vsw extension) */
};

struct flow_subtable;

/* One table's classifier: subtables by falling max priority. */
struct flow_cls {
	unsigned n;
	unsigned n_rules;
	const struct flow_subtable *st[];
};

/* A published version of all tables. */
struct flow_tables {
	uint64_t gen;				/* commit that made it */
	const struct flow_cls *cls[FLOW_N_TABLES];	/* NULL: no rule */
	uint8_t miss[FLOW_N_TABLES];		/* enum flow_miss */
	/*
	 * The version's only rule when it is table 0's match-all
	 * `actions=normal` (what a bridge that should just learn gets, as Open
	 * vSwitch installs on a new bridge); NULL otherwise.  The data path
	 * then runs the learning bridge on the batch and counts the rule,
	 * without keys, lookups or actions.
	 */
	const struct flow_rule *only_normal;
};

/* The highest priority rule of @c matching @k, or NULL (@c may be NULL). */
const struct flow_rule *flow_cls_lookup(const struct flow_cls *c, const struct flow_key *k);

/*
 * flow_cls_lookup(), and what the answer depended on: the masks of the
 * subtables it looked into are ORed into @wc.  Every key equal to @k on
 * the bits of @wc gets the same answer from @c (the megaflow idea of Open
 * vSwitch: a subtable skipped because a rule of a higher priority was
 * found is skipped for all of them too).
 */
const struct flow_rule *flow_cls_lookup_wc(const struct flow_cls *c, const struct flow_key *k, struct flow_key *wc);

/* flow_cls_lookup() for @n keys (any n; FLOW_BATCH_MAX at a time), subtable by subtable. */
void flow_cls_lookup_batch(const struct flow_cls *c, const struct flow_key *const keys[], unsigned n,
			   const struct flow_rule *out[]);

/* flow_cls_lookup_batch() with flow_cls_lookup_wc()'s masks: into *@wc[i] for keys[i] (@wc may be NULL). */
void flow_cls_lookup_batch_wc(const struct flow_cls *c, const struct flow_key *const keys[], unsigned n,
			      const struct flow_rule *out[], struct flow_key *const wc[]);

static inline const struct flow_rule *flow_tables_lookup(const struct flow_tables *t, unsigned table,
							 const struct flow_key *k)
{
	return table < FLOW_N_TABLES ? flow_cls_lookup(t->cls[table], k) : NULL;
}

/* flow_tables_lookup() that ORs what the answer depended on into @wc (flow_cls_lookup_wc()); @wc may be NULL. */
static inline const struct flow_rule *flow_tables_lookup_wc(const struct flow_tables *t, unsigned table,
							    const struct flow_key *k, struct flow_key *wc)
{
	if (table >= FLOW_N_TABLES)
		return NULL;
	return wc ? flow_cls_lookup_wc(t->cls[table], k, wc) : flow_cls_lookup(t->cls[table], k);
}

/* Add @packets and @bytes to @r's counters and mark it used at @now_ms (any worker; relaxed). */
static inline void flow_rule_count(const struct flow_rule *r, uint64_t packets, uint64_t bytes, uint64_t now_ms)
{
	struct flow_rule *w = (struct flow_rule *)r;	/* the counters are the one mutable part */

	atomic_fetch_add_explicit(&w->n_packets, packets, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n_bytes, bytes, memory_order_relaxed);
	if (atomic_load_explicit(&w->used_ms, memory_order_relaxed) < now_ms)
		atomic_store_explicit(&w->used_ms, now_ms, memory_order_relaxed);
}

/* ---- building (control thread; these allocate) ---- */

/* A subtable of the @n rules at @rules, which all have mask @mask; NULL when out of memory. */
struct flow_subtable *flow_subtable_build(const struct flow_key *mask, struct flow_rule *const *rules, unsigned n,
					  uint64_t seed);
void flow_subtable_free(struct flow_subtable *st);

/* A classifier over @n subtables (sorted here); NULL when out of memory. */
struct flow_cls *flow_cls_build(const struct flow_subtable *const *st, unsigned n);

#endif
