/* table.h - the flow tables on the control thread: add, modify, delete, expire, then publish a new version by pointer. */
#ifndef VSW_FLOW_TABLE_H
#define VSW_FLOW_TABLE_H

/*
 * The control thread edits a flow_db; the workers only ever read a
 * published struct flow_tables (classifier.h), through one pointer:
 *
 *   control thread                          workers
 *   flow_db_add/modify/delete/expire ...
 *   flow_db_commit()  --- new version --->  t = flow_db_tables(db) once per batch;
 *        | old version, replaced subtables,     lookups and actions use t only
 *        | deleted or modified rules: retired
 *   dp_sync() (a grace period: no worker still holds an old t)
 *   flow_db_reclaim(db, gen)  frees what commits up to gen retired
 *
 * Nothing an edit does is visible before the commit, and a commit swaps
 * everything at once: no packet sees half of an old set and half of a new
 * one (flow replace), and no packet is handled by a rule deleted before
 * its batch began.  A commit rebuilds only the subtables (masks) edits
 * touched: its cost grows with the rules of those masks.  With
 * flow_db_set_sync() the db waits for the grace period itself and frees at
 * once after each commit.
 *
 * Semantics are OpenFlow's as Open vSwitch implements them: an add of a
 * rule with the same table, priority and match as an existing one
 * replaces it and keeps its counters (OVS for OpenFlow 1.2+ without
 * reset_counts); a modify that finds no rule adds one (unless it has a
 * cookie mask); strict operations compare priority and match exactly, the
 * others take every rule whose match the given one covers.  Rules are
 * immutable once published: a modify makes a new rule, which takes the
 * old one's counts then and the rest when the old one is reclaimed.
 * Timeouts are in seconds against the clock of flow_db_set_clock()
 * (default CLOCK_MONOTONIC, milliseconds).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/actions.h"
#include "flow/classifier.h"
#include "flow/key.h"

/* An edit, as flow syntax describes it (parse.h fills one). */
struct flow_mod {
	struct flow_match match;
	uint8_t table;				/* FLOW_TABLE_ANY: 0 for add, every table for modify and delete */
	uint8_t set_cookie;			/* modify: also set the cookie to .cookie (add always sets it) */
	uint8_t reset_counts;			/* add over an identical rule: start its counters at zero */
	uint8_t pad;
	uint16_t priority;			/* FLOW_PRIORITY_DEFAULT unless given */
	uint16_t idle_timeout_s, hard_timeout_s;
	uint16_t out_port;			/* delete/modify/dump filter: only rules that output there; FLOW_PORT_NONE */
	uint64_t cookie;			/* add: the cookie; modify with set_cookie: the new one */
	uint64_t cookie_match, cookie_mask;	/* modify, delete, dump: cookie & mask == match */
	struct flow_actions *actions;		/* add, modify; the db takes it (NULL for delete) */
};

struct flow_db;

/* An empty db: every table empty, misses drop; its first version is published. NULL when out of memory. */
struct flow_db *flow_db_create(void);
/* Free everything (no worker may be reading any version). */
void flow_db_destroy(struct flow_db *db);

/* The current published version (workers: once per batch; acquire). */
const struct flow_tables *flow_db_tables(const struct flow_db *db);

/* Milliseconds for rule creation and timeouts (default: CLOCK_MONOTONIC). The data path's now_ms must agree. */
void flow_db_set_clock(struct flow_db *db, uint64_t (*now_ms)(void *arg), void *arg);
/* Wait for a grace period inside each commit, then reclaim (NULL: the caller reclaims). */
void flow_db_set_sync(struct flow_db *db, void (*sync)(void *arg), void *arg);

/* Add @mod's rule (its actions owned by the db from here, even on error). 0, -ENOMEM. */
int flow_db_add(struct flow_db *db, struct flow_mod *mod);
/* New actions (and cookie) for the rules @mod matches (@strict: same priority and match); adds when none. Count of rules, or -ENOMEM. */
int flow_db_modify(struct flow_db *db, struct flow_mod *mod, bool strict);
/*
 * What a learn action asks (flow/learn.h), as Open vSwitch applies it: a
 * strict modify that adds when no rule has @mod's table, priority and
 * match.  A rule that already is what @mod says (actions, cookie,
 * timeouts) only has its hard timeout started again (refreshed_ms, which
 * only the control thread reads: nothing to commit; its idle timeout
 * still counts only the packets it matched).  Another rule there gets
 * @mod's actions and cookie and keeps its timeouts, creation time and
 * counts (OVS's modify).  A new rule is marked learned: at most
 * FLOW_DB_LEARNED_MAX of them by default (-ENOSPC past it), and flow files leave them
 * out (they are learned again, as Open vSwitch's are after a restart).
 * 1: an edit to commit; 2: the same, of a rule not learned (saved); 0:
 * refreshed only; -ENOSPC, -ENOMEM, -EINVAL.
 * Takes @mod->actions in every case.
 */
int flow_db_learn(struct flow_db *db, struct flow_mod *mod);
#define FLOW_DB_LEARNED_MAX 65536
/* Rules a learn added, as of the edits. */
size_t flow_db_learned(const struct flow_db *db);
/* At most @max of them from now on (default FLOW_DB_LEARNED_MAX; those there stay). */
void flow_db_set_learned_max(struct flow_db *db, size_t max);
/* Rules whose actions learn, as of the edits. */
size_t flow_db_learning(const struct flow_db *db);
/* Remove the rules @mod matches; the count. */
int flow_db_delete(struct flow_db *db, const struct flow_mod *mod, bool strict);
/* Remove every rule of every table. */
void flow_db_clear(struct flow_db *db);
/* Table @table's miss behaviour. 0, -EINVAL. */
int flow_db_set_miss(struct flow_db *db, unsigned table, enum flow_miss miss);
/* Table @table's miss behaviour as of the edits (FLOW_MISS_DROP for a table past the last). */
enum flow_miss flow_db_get_miss(const struct flow_db *db, unsigned table);
/* Remove the rules whose idle or hard timeout passed at @now_ms; the count. */
int flow_db_expire(struct flow_db *db, uint64_t now_ms);

/* Publish the edits since the last commit as a new version; its generation (the old one when nothing changed), or -ENOMEM (nothing published). */
int64_t flow_db_commit(struct flow_db *db);
/* Free what commits up to @gen retired: call only after a grace period that began after that commit. */
void flow_db_reclaim(struct flow_db *db, uint64_t gen);

/* Rules in @table (FLOW_TABLE_ANY: all), as of the edits (not only the published ones). */
unsigned flow_db_count(const struct flow_db *db, unsigned table);
/*
 * Call @fn for the rules @filter matches (table, match covered, cookie,
 * out_port; NULL: all), by table then falling priority then insertion;
 * stops when @fn returns nonzero and returns that.
 */
int flow_db_foreach(const struct flow_db *db, const struct flow_mod *filter,
		    int (*fn)(void *arg, const struct flow_rule *r), void *arg);
/* @r's counters as a dump shows them (what a modify's predecessor still adds is included). */
void flow_db_rule_stats(const struct flow_rule *r, uint64_t *packets, uint64_t *bytes);
/*
 * What @table's rules matched (@table < FLOW_N_TABLES): its rules' counts
 * (flow_db_rule_stats()) and those of its rules deleted and reclaimed
 * since the db was made, so the sums only grow (as `ovs-ofctl
 * dump-tables` matched_count) except by an add with reset_counts.  A
 * rule deleted but not yet reclaimed counts nowhere: read after reclaim.
 */
void flow_db_table_stats(const struct flow_db *db, unsigned table, uint64_t *packets, uint64_t *bytes);

/* The edit that would add @r again (actions borrowed): for formatting. */
void flow_rule_to_mod(const struct flow_rule *r, struct flow_mod *mod);

#endif
