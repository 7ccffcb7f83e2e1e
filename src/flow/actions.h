/* actions.h - compiled flow actions and their execution over a header buffer: rewrites, VLAN tags, TTL, registers, resubmit, outputs. */
#ifndef VSW_FLOW_ACTIONS_H
#define VSW_FLOW_ACTIONS_H

/*
 * A rule's actions are a flat array of struct flow_act compiled once by
 * the parser (control thread).  flow_exec_run() runs them on one packet:
 *
 *   headroom       head                            head + len          cap
 *   |..............|<- frame's first bytes (copy) ->|.................|
 *        >= 4 for a push_vlan         rest of the frame: elsewhere, never touched
 *
 * Header rewrites change the copy and the key together (later lookups
 * after resubmit see the new values, as in Open vSwitch) and patch the
 * IPv4, TCP, UDP and ICMP checksums incrementally (RFC 1624).  A VLAN push
 * moves the MAC addresses 4 bytes into the headroom; a pop moves them
 * back.  Nothing is transmitted: every output (a port, in_port, normal,
 * flood, all) is appended to the executor's output list, which the caller
 * turns into tx.  When a header changes after an output already took the
 * packet, the bytes that output saw are first copied into a snapshot
 * (copy on write), so each output refers either to the final state of
 * the buffer (FLOW_SNAP_LIVE) or to one of FLOW_SNAP_MAX snapshots.
 *
 * Control flow follows ovs-actions(7): resubmit looks a table up and runs
 * the rule found (a miss does nothing), then continues; goto_table is a
 * resubmit that ends the list and honours the table's miss behaviour;
 * clone() runs its actions on a copy of the packet state and restores it;
 * dec_ttl on a TTL of 0 or 1 stops the current action list (outer lists
 * continue after their resubmit) and counts FLOW_CNT_TTL; exit stops every
 * list; push and pop use a stack per packet (FLOW_STACK_MAX entries: past
 * it, or popping an empty one, processing ends, FLOW_CNT_STACK).  Limits: 64
 * nested lists (a resubmit or goto_table that ends its list replaces its
 * frame instead of nesting, so forward pipelines of any length fit: Open
 * vSwitch instead exempts resubmits to a later table), 4096 resubmits per
 * packet, FLOW_CLONE_MAX nested clones; past a limit the packet's
 * processing ends, outputs made so far stay.
 *
 * The data path part (flow_exec_*) allocates nothing, takes no lock and
 * calls only libc.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/key.h"

#define FLOW_N_TABLES 254		/* tables 0 .. 253 */
#define FLOW_TABLE_ANY 0xff		/* "every table" (del, dump) / "the current table" (resubmit) */
#define FLOW_PORT_NONE 0xffff		/* resubmit without a port; out_port filter off */

enum flow_act_type {
	FA_OUTPUT,		/* .port */
	FA_OUTPUT_FIELD,	/* the port in bits .start/.n_bits of .field */
	FA_IN_PORT,		/* back out of the input port */
	FA_NORMAL,
	FA_FLOOD,
	FA_ALL,
	FA_SET,			/* key bytes of .field: (old & ~mask) | val (set_field, load, mod_*, set_tunnel, write_metadata) */
	FA_MOVE,		/* .n_bits from .src_field bit .src_start to .field bit .start */
	FA_PUSH_VLAN,		/* TPID in .port */
	FA_POP_VLAN,
	FA_SET_VLAN_VID,	/* VID in .port; pushes a tag when there is none (mod_vlan_vid) */
	FA_SET_VLAN_PCP,	/* PCP in .port; likewise (mod_vlan_pcp) */
	FA_DEC_TTL,
	FA_RESUBMIT,		/* .table (FLOW_TABLE_ANY: the rule's own), .port (FLOW_PORT_NONE: the packet's) */
	FA_GOTO_TABLE,		/* .table; always the last action */
	FA_CLONE,		/* the next .n actions are the body */
	FA_NOTE,		/* .n bytes at .note_ofs of the note area; does nothing */
	FA_LEARN,		/* learn(): the next .n actions are its specs (FA_LEARN_SPEC), see flow/learn.h */
	FA_LEARN_SPEC,		/* one spec of the FA_LEARN before it; never run */
	FA_PUSH,		/* push: bits .start/.n_bits of .field onto the packet's stack */
	FA_POP,			/* pop: the stack's top into bits .start/.n_bits of .field */
	FA_EXIT,		/* exit: no more actions, in any list */
	FA_CHECK_PKT_LARGER,	/* bit .start of .field: 1 when the frame (without VLAN tags) has more than .port bytes */
};

/* How an FA_SET or FA_POP_VLAN was written, so the formatter prints it back the same way. */
enum flow_act_syntax {
	FAS_DEFAULT,
	FAS_SET_FIELD,
	FAS_LOAD,
	FAS_MOD_DL_SRC,
	FAS_MOD_DL_DST,
	FAS_MOD_NW_SRC,
	FAS_MOD_NW_DST,
	FAS_MOD_NW_TOS,
	FAS_MOD_NW_ECN,
	FAS_MOD_NW_TTL,
	FAS_MOD_TP_SRC,
	FAS_MOD_TP_DST,
	FAS_SET_TUNNEL,
	FAS_SET_TUNNEL64,
	FAS_WRITE_METADATA,
	FAS_STRIP_VLAN,
};

struct flow_act {
	uint8_t type;		/* enum flow_act_type */
	uint8_t syntax;		/* enum flow_act_syntax */
	uint8_t field;		/* enum flow_field_id: written (SET, MOVE) or read (OUTPUT_FIELD) */
	uint8_t src_field;	/* MOVE */
	uint8_t start;		/* first bit of .field used */
	uint8_t n_bits;		/* bits used (SET: of a load's subfield; MOVE; OUTPUT_FIELD) */
	uint8_t src_start;	/* MOVE */
	uint8_t table;
	uint16_t port;
	uint16_t n;
	uint32_t note_ofs;
	uint8_t val[16];	/* SET: the field's key bytes (big-endian, shifted in place) */
	uint8_t mask[16];
};

/* A compiled action list: @n actions, then @n_note bytes of notes. Immutable once published. */
struct flow_actions {
	uint32_t n;
	uint32_t n_note;
	struct flow_act a[];
};

static inline const uint8_t *flow_actions_notes(const struct flow_actions *acts)
{
	return (const uint8_t *)(acts->a + acts->n);
}

/*
 * @a as an FA_SET that writes @v into bits [@start, @start + @n) of field
 * @id under mask @m (field units; of a whole field, only its valid bits),
 * printed back in @syntax (enum flow_act_syntax): what set_field and load
 * compile to, and what pop, check_pkt_larger and a learned load write.
 */
void flow_act_set(struct flow_act *a, unsigned id, unsigned start, unsigned n, unsigned __int128 v,
		  unsigned __int128 m, unsigned syntax);

/* True when @a and @b are the same list (the parser's output compared, e.g. for round trips). */
bool flow_actions_equal(const struct flow_actions *a, const struct flow_actions *b);

/* ---- execution ---- */

#define FLOW_HDR_MAX 256		/* frame bytes (from head) an executor rewrites and snapshots */
#define FLOW_OUT_MAX 64			/* outputs per packet */
#define FLOW_SNAP_MAX 4			/* header versions per packet besides the live buffer */
#define FLOW_DEPTH_MAX 64		/* nested action lists (Open vSwitch's recursion limit) */
#define FLOW_RESUBMIT_MAX 4096		/* resubmits and goto_tables per packet (Open vSwitch's limit) */
#define FLOW_CLONE_MAX 4		/* nested clone() */
#define FLOW_STATS_SLOTS 16		/* rules whose counts an executor gathers before flushing */
#define FLOW_STACK_MAX 64		/* entries of push's stack, each a field of up to 128 bits (Open vSwitch's: 64 kB) */

#define FLOW_PKT_CSUM_PARTIAL 0x01	/* the L4 checksum field holds the pseudo-header sum (virtio NEEDS_CSUM) */

/* One packet as the actions see it. */
struct flow_pkt {
	uint8_t *buf;			/* headroom, then the frame's first bytes */
	uint16_t cap;			/* bytes at buf */
	uint16_t head;			/* the frame's first byte, buf + head (headroom before it) */
	uint16_t len;			/* frame bytes held from head on (<= FLOW_HDR_MAX) */
	uint16_t flags;			/* FLOW_PKT_* */
	uint32_t frame_len;		/* the whole frame: len bytes here, the rest wherever the caller keeps it */
	/*
	 * A segmentation request (TSO, USO): the bytes of its largest segment
	 * on the wire (headers + segment size) as it came in; 0 otherwise.
	 * check_pkt_larger measures that, as Open vSwitch does.
	 */
	uint32_t seg_len;
	struct flow_ofs ofs;		/* from flow_key_extract(), relative to head; kept in step by the actions */
};

enum flow_out_kind {
	FLOW_OUT_PORT,
	FLOW_OUT_NORMAL,		/* the learning bridge decides */
	FLOW_OUT_FLOOD,			/* every port but in_port (and those with flooding off) */
	FLOW_OUT_ALL,			/* every port but in_port */
};

#define FLOW_SNAP_LIVE 0xff

struct flow_out {
	uint8_t kind;			/* enum flow_out_kind */
	uint8_t snap;			/* FLOW_SNAP_LIVE: the packet as it is now; else an index into snap[] */
	uint16_t port;			/* FLOW_OUT_PORT: the destination */
	uint16_t in_port;		/* the in_port field then: normal, flood and all leave it out */
	uint8_t tun6;			/* the tun_ipv6_dst field then: 0 when zero, else flow_exec.tun6_dst[tun6 - 1] */
	uint8_t pad;
	uint32_t tun_dst;		/* the tun_dst field then (big-endian): where a tunnel port with remote=flow sends */
	uint64_t tun_id;		/* the tun_id field then (big-endian): the key a tunnel port with vni=flow sends */
};

/*
 * An IPv6 tun_dst (16 bytes) would make every output 40 bytes instead of
 * 24 for a field only IPv6 underlays use: an output holds a one-byte
 * index into its run's table of them instead (one entry per output at
 * most, so it never fills; consecutive outputs to one address share it).
 */
_Static_assert(sizeof(struct flow_out) == 24, "an output stays 24 bytes");

/* The headers an earlier output saw, before a later action changed them. */
struct flow_snap {
	uint16_t len;			/* bytes */
	uint16_t pad;
	uint32_t frame_len;
	struct flow_ofs ofs;
	uint8_t bytes[FLOW_HDR_MAX];
};

/* Events and drops of the executor, one counter each (flow_cnt_names). */
enum flow_cnt {
	FLOW_CNT_PACKETS,		/* packets run */
	FLOW_CNT_MISS_DROP,		/* table miss, the table drops */
	FLOW_CNT_NO_OUTPUT,		/* the actions sent the packet nowhere (drop, or no output action) */
	FLOW_CNT_TTL,			/* dec_ttl on a TTL of 0 or 1: the action list stopped */
	FLOW_CNT_DEPTH,			/* more than FLOW_DEPTH_MAX nested lists or FLOW_CLONE_MAX clones */
	FLOW_CNT_RESUBMITS,		/* more than FLOW_RESUBMIT_MAX resubmits */
	FLOW_CNT_HEADROOM,		/* push_vlan without 4 bytes of headroom or room past len */
	FLOW_CNT_OUT_FULL,		/* more than FLOW_OUT_MAX outputs: the rest dropped */
	FLOW_CNT_SNAP_FULL,		/* more than FLOW_SNAP_MAX header versions: processing ended */
	FLOW_CNT_HDR_TOO_BIG,		/* len > FLOW_HDR_MAX: not run */
	FLOW_CNT_CUT_SKIP,		/* a header write skipped: its bytes, or a checksum over them, are past the copy */
	FLOW_CNT_STACK,			/* push past FLOW_STACK_MAX entries, or pop of an empty stack: processing ended */
	FLOW_CNT__COUNT
};

extern const char *const flow_cnt_names[FLOW_CNT__COUNT];

struct flow_rule;
struct flow_tables;

/*
 * What one run did, when that depended on nothing but the key and the
 * version of the tables (flow_exec_memo()): the rules it entered, its
 * outputs and its drop counts.  The lookup stage keeps one with each
 * cache entry and replays it (flow_exec_replay()) for the next frames of
 * that key instead of running the actions again.  Runs whose actions
 * are outputs, normal, flood, all, in_port, resubmit, goto_table, note or
 * none qualify for any cache: they neither change the frame nor read it
 * beyond the key, so every frame with the key does exactly the same.
 * Runs that also rewrite qualify with their actions (struct
 * flow_memo_acts), for an exact key or, when the run's wc could say every
 * bit its decisions read, a megaflow; clone() and output:FIELD never.
 *
 * A memo's outputs (struct flow_memo_out) leave out the tunnel metadata
 * of struct flow_out (tun_id, tun_dst, tun6): a run that does not write
 * keeps its key's, and the caches only hold keys whose tunnel fields are
 * zero (dp/flows.c cacheable(): tun_ipv6_src/dst are words 17-20, past
 * the cached ones), so a replay gives every output zero; a run whose
 * outputs carry any other is refused a memo without actions.  So a memo
 * stays one cache line whatever struct flow_out carries.
 */
#define FLOW_MEMO_RULES 3		/* rules a memorable run enters (table 0, and two resubmits or goto_tables) */
#define FLOW_MEMO_OUTS 2		/* outputs a memorable run makes */
#define FLOW_MEMO_MISSES 3		/* table lookups that found no rule in a memorable run */

/*
 * A table's lookups are the rules of it a run entered (each lookup that
 * finds a rule enters it, and the rule counts the packet) plus the
 * lookups that found none: so a memo records only its run's misses, by
 * table (n_missed, missed[], in what was padding before out[]: a memo is
 * still one cache line), and a replay counts them as the run did.
 */
struct flow_memo_out {
	uint8_t kind, snap;		/* as struct flow_out's (snap: always FLOW_SNAP_LIVE) */
	uint16_t port, in_port;
	uint16_t pad;
};

struct flow_memo {
	uint8_t n_rules;		/* FLOW_MEMO_NONE: no memo */
	uint8_t n_out;			/* (FLOW_MEMO_F_WRITES: 0, the actions make the outputs) */
	uint8_t miss_drops;		/* FLOW_CNT_MISS_DROP the run counted */
	uint8_t flags;			/* FLOW_MEMO_F_* */
	uint8_t n_missed;		/* 0 .. FLOW_MEMO_MISSES */
	uint8_t missed[FLOW_MEMO_MISSES];	/* the table of each lookup that found no rule, in order */
	struct flow_memo_out out[FLOW_MEMO_OUTS];
	const struct flow_rule *rules[FLOW_MEMO_RULES];
};

#define FLOW_MEMO_NONE 0xff
#define FLOW_MEMO_F_NO_OUTPUT 0x01	/* the run counted FLOW_CNT_NO_OUTPUT */
#define FLOW_MEMO_F_WRITES 0x02		/* the run changed the frame: replay its actions (struct flow_memo_acts) */

/*
 * The rest of the memo of a run that changed the frame or its key
 * (rewrites, VLAN actions, dec_ttl, registers): the actions that ran,
 * in order, outputs and writes (resubmit and goto_table are gone: their
 * lookups depended on the key alone, which is what the memo stands for),
 * and where each rule was entered among them (its byte count is the
 * frame's length then).  flow_exec_replay_acts() runs just these on the
 * next frame with the same key: the same writes, checksums patched by
 * the same code from that frame's own bytes, the same outputs and
 * snapshots, the same counts, without a lookup.  Only for a frame
 * shaped as the first was where the actions could tell a difference:
 * the same bytes held, headroom, checksum mode, and a whole copy of its
 * headers (head_len, head, pkt_flags; not truncated) and its layers at
 * the same offsets (an IPv4 header's options move L4; a TCP header with
 * a bad data offset has none), which decide whether a write finds its
 * bytes.  The key is the whole key (an exact-match entry), or the key
 * on the bits of a megaflow's mask when the run's wc covered every bit
 * its decisions read (flow_exec_wc_exact()).
 */
#define FLOW_MEMO_ACTS 6

struct flow_memo_acts {
	uint8_t n;				/* actions */
	uint8_t rule_at[FLOW_MEMO_RULES];	/* rule k of the memo was entered before action rule_at[k] */
	uint16_t head_len, head, pkt_flags;	/* the first frame's flow_pkt len, head, flags */
	uint16_t l3, l4;			/* ... and where its layers start (ofs.l3, ofs.l4) */
	const struct flow_act *a[FLOW_MEMO_ACTS];
};

_Static_assert(sizeof(struct flow_memo_acts) <= 64, "a memo's actions are one cache line");


/*
 * One table's lookups that found no rule, counted by one executor (its
 * worker's): every lookup of a run (the first table's, resubmit,
 * goto_table, a miss that continues in the next table), and the same for
 * a replayed run.  Only the worker writes them (a relaxed load and
 * store); the control thread sums them over the workers.  A table's
 * lookups are these plus the packets its rules matched (every lookup
 * that finds a rule counts on that rule): `flow dump-tables` lookup, as
 * OpenFlow's lookup_count = matched_count + the misses.
 */
struct flow_table_counts {
	atomic_uint_least64_t misses;
};

/* What one executor gathered for one rule since the last flush. */
struct flow_stats_slot {
	const struct flow_rule *rule;
	uint64_t packets, bytes;
};

struct flow_exec_frame {
	const struct flow_act *a;	/* the list */
	uint16_t n, i;			/* its length, the next action */
	uint8_t table;			/* the table its rule is in (resubmit's default) */
	uint8_t clone;			/* 1: a clone body, whose end restores saves[n_clone - 1] */
};

/* What a clone() restores: the key, the packet's state and its header bytes as they were. */
struct flow_exec_save {
	struct flow_key key;
	struct flow_pkt pkt;
	uint8_t bytes[FLOW_HDR_MAX];		/* buf[head .. head + len) when the clone began */
	unsigned n_stack;			/* and push's stack (ovs-actions(7): clone restores it too) */
	unsigned __int128 stack[FLOW_STACK_MAX];
};

/*
 * One per worker, preallocated; flow_exec_begin() once per batch,
 * flow_exec_run() per packet (its outputs are valid until the next run),
 * flow_exec_end() after the batch to publish rule counters.
 */
struct flow_exec {
	const struct flow_tables *tables;	/* the version this batch looks rules up in */
	uint64_t now_ms;			/* the batch's time: rules used now */
	uint64_t cnt[FLOW_CNT__COUNT];		/* cumulative, this worker's */

	unsigned n_out;
	struct flow_out out[FLOW_OUT_MAX];
	unsigned n_tun6;
	uint8_t tun6_dst[FLOW_OUT_MAX][16];	/* the tun_ipv6_dst of outputs (flow_out.tun6) */
	unsigned n_snap;
	struct flow_snap snap[FLOW_SNAP_MAX];

	/*
	 * Tracing (vswctl trace; NULL on the data path): called at each table
	 * a packet enters, with the rule found there (NULL: a miss).
	 */
	void (*trace)(void *arg, unsigned table, const struct flow_rule *rule, const struct flow_key *k);
	void *trace_arg;

	/*
	 * learn(): called for each learn action a run reaches, with the
	 * action (its specs follow it) and the key as the action sees it;
	 * flow_learn_build() (flow/learn.h) makes the rule of the two.  NULL:
	 * learn does nothing.  A run that learns is never a memo: every frame
	 * runs its actions, so every frame learns (the callee sorts repeats out).
	 */
	void (*learn)(void *arg, const struct flow_act *a, const struct flow_key *k);
	void *learn_arg;

	/*
	 * When not NULL, every decision of a run ORs the bits of the run's
	 * input key it depended on into *wc: each lookup (resubmit,
	 * goto_table, a miss that goes on to the next table) what its answer
	 * depended on (flow_cls_lookup_wc()), each action what it tested
	 * (a write's prerequisites, dec_ttl's TTL, a VLAN action's tag),
	 * with the first table's, what a memo of the run stands for.  After
	 * a rewrite a lookup reads the rewritten key: its bits are mapped
	 * back to the input's through dep (below).  The caller sets and
	 * clears it.
	 */
	struct flow_key *wc;

	/*
	 * Where the key's bits come from, while wc is set and an action has
	 * changed the key (dep_on): a bit of dep_orig still holds the input
	 * key's bit at the same place (nothing wrote it), a bit of dep_moved
	 * the input's bit dep_from[] (a move copied it, maybe through other
	 * fields), any other bit a value the run gave it whatever the input
	 * (set_field, load, mod_*, the TTL dec_ttl left after it read the
	 * whole TTL): a lookup that reads it depends on nothing.  Bits are
	 * numbered byte * 8 + bit, as in flow_key.b.  dep_lost: the key was
	 * parsed again from the frame (a VLAN action exposed or hid a second
	 * tag: no memo at all, see key_reparse()) or a clone began (no memo
	 * either), which no mask of the input can stand for: the run gets no
	 * megaflow (flow_exec_wc_exact()), whatever a later change allows.
	 */
	bool dep_on, dep_lost;
	struct flow_key dep_orig, dep_moved;
	uint16_t dep_from[FLOW_KEY_WORDS * 64];

	/* Internal. */
	bool live_taken;			/* an output refers to the live buffer as it is */
	bool stop;				/* processing of this packet ended (a limit) */
	bool counted;				/* this packet's fate is counted already (no FLOW_CNT_NO_OUTPUT) */
	unsigned resubmits;
	unsigned n_frames, n_clone;
	unsigned n_stack;			/* push and pop: the packet's stack */
	unsigned __int128 stack[FLOW_STACK_MAX];
	struct flow_exec_frame frames[FLOW_DEPTH_MAX];
	struct flow_exec_save saves[FLOW_CLONE_MAX];
	unsigned n_stats;
	struct flow_stats_slot stats[FLOW_STATS_SLOTS];
	/* What this run did, for flow_exec_memo(). */
	bool memo_ok;				/* only the actions a memo may stand for ran so far */
	uint8_t n_entered, miss_drops;
	uint8_t n_missed;			/* as flow_memo.n_missed, missed[] */
	uint8_t missed[FLOW_MEMO_MISSES];
	bool wrote;				/* an action that changes the frame or key ran: a memo needs acts */
	bool acts_full;				/* more than FLOW_MEMO_ACTS actions ran */
	uint8_t n_acts;
	uint8_t entered_at[FLOW_MEMO_RULES];
	uint16_t len0, head0, flags0, l3_0, l4_0;	/* the packet as the run began */
	bool trunc0;
	const struct flow_act *acts[FLOW_MEMO_ACTS];
	const struct flow_rule *entered[FLOW_MEMO_RULES];

	/* Per table, this executor's misses, cumulative (struct flow_table_counts). */
	struct flow_table_counts tables_cnt[FLOW_N_TABLES];
};

/* Zero @x (its counters too). */
void flow_exec_init(struct flow_exec *x);

/*
 * Start a batch on the published version @tables (read once by the
 * caller: every packet of the batch sees it) at time @now_ms (the clock
 * of flow_db_set_clock()).
 */
void flow_exec_begin(struct flow_exec *x, const struct flow_tables *tables, uint64_t now_ms);

/*
 * Run one packet: @rule is what the lookup of @key in @table found (NULL:
 * a miss, handled by the table's miss behaviour).  @pkt and @key change
 * as the actions say; returns the outputs in x->out[0 .. x->n_out).
 */
unsigned flow_exec_run(struct flow_exec *x, struct flow_pkt *pkt, struct flow_key *key, uint8_t table,
		       const struct flow_rule *rule);

/*
 * After flow_exec_run(): the memo of that run into @m, when the run
 * qualifies (see struct flow_memo); false when it does not (@m is then
 * unchanged).  A run that changed the frame or key qualifies only with
 * @ma (its actions go there, FLOW_MEMO_F_WRITES in @m), and only for
 * an exact-match cache: NULL refuses it.
 */
bool flow_exec_memo(const struct flow_exec *x, struct flow_memo *m, struct flow_memo_acts *ma);

/*
 * After flow_exec_run() with x->wc set: true when *wc stands for the
 * whole run (every key equal to its input on wc's bits, in a frame shaped
 * as its frame, runs the same rules, actions and lookups), false when a
 * decision read the key in a way no mask of the input can say (see
 * flow_exec.dep_lost): then the run's memo is for its exact key only.
 */
static inline bool flow_exec_wc_exact(const struct flow_exec *x)
{
	return !x->dep_lost;
}

/* True when flow_exec_replay_acts() may replay @ma on @pkt: shaped as the frame it was made from. */
static inline bool flow_memo_acts_fit(const struct flow_memo_acts *ma, const struct flow_pkt *pkt)
{
	return pkt->len == ma->head_len && pkt->head == ma->head && pkt->flags == ma->pkt_flags &&
	       pkt->ofs.l3 == ma->l3 && pkt->ofs.l4 == ma->l4 && !pkt->ofs.truncated;
}

/* True when @a and @b were made from frames of one shape: the fields flow_memo_acts_fit() compares. */
static inline bool flow_memo_acts_same_shape(const struct flow_memo_acts *a, const struct flow_memo_acts *b)
{
	return a->head_len == b->head_len && a->head == b->head && a->pkt_flags == b->pkt_flags && a->l3 == b->l3 &&
	       a->l4 == b->l4;
}

/*
 * flow_exec_run() for a packet whose key is the one the memo @m, @ma
 * (FLOW_MEMO_F_WRITES) was made from, on the version it was made on,
 * shaped as its frame (flow_memo_acts_fit()): the actions of @ma run on
 * @pkt and @key, the outputs and counts are the run's.  Returns the
 * outputs.
 */
unsigned flow_exec_replay_acts(struct flow_exec *x, const struct flow_memo *m, const struct flow_memo_acts *ma,
			       struct flow_pkt *pkt, struct flow_key *key);

/*
 * flow_exec_run() for a frame of @frame_len bytes whose key is the one
 * @m was made from, on the version it was made on: the same outputs in
 * x->out, the same executor counters and rule counts, without running the
 * actions.  Returns the outputs.
 */
unsigned flow_exec_replay(struct flow_exec *x, const struct flow_memo *m, uint32_t frame_len);

/*
 * flow_exec_replay() of @m for @n_frames more frames of @bytes in all,
 * right after a flow_exec_replay() of @m (so x->out already holds its
 * outputs): the executor counters and rule counts of those frames, added
 * once for them all, as @n_frames calls would have added them.  For a
 * run of frames one cache entry answers (dp/flows.c).
 */
void flow_exec_replay_more(struct flow_exec *x, const struct flow_memo *m, unsigned n_frames, uint64_t bytes);

/* After a batch: add the gathered packet and byte counts to their rules, and mark them used. */
void flow_exec_end(struct flow_exec *x);

#endif
