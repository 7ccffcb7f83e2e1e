/* fuzz_flow_classifier.c - libFuzzer target: flow/classifier and flow/table against a linear scan, on edit sequences the input spells. */

/*
 * The input is a program of edits, commits and lookups on a flow db; a
 * plain array of rules (tests/lib/flow_ref.h) follows the same edits.
 * Every lookup, single or in a batch, must give a rule of the highest
 * priority among the matching rules of the last committed set (or none
 * when none matches), and rule counts must agree.  Edits not yet
 * committed must not show.  ASan checks that commits and reclaims free
 * nothing still reachable.
 *
 * Input format:
 *
 *   byte 0: tables used (1 + b % 3); bit 2: priorities from 0-3 (ties
 *           everywhere), else spread over 0-65535
 *   then ops, one opcode byte each (% 8) and its argument bytes:
 *     0-2 add       mask, priority, table, seed(2)   (a rule from REF_MASKS masks, values from seed)
 *     3   delete    index                             (strict, an earlier rule's table/priority/match)
 *     4   delete    mask, table, seed(2)              (non-strict, every rule the match covers; table 3: all)
 *     5   commit                                      (then reclaim: no reader is left)
 *     6   lookup    table, seed(2), index             (a key from the seed, half the time a rule's value)
 *     7   modify    index, port                       (strict: new actions, same match)
 *   and after the last op: a commit and a batch of 64 lookups.
 *
 * fuzz/make_corpus_flow_classifier.py writes the seed corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/lib/flow_ref.h"
#include "flow/table.h"

#define RULES_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ref_rule pending[RULES_MAX], committed[RULES_MAX];
static unsigned n_pending, n_committed;

static void check(int cond)
{
	if (!cond)
		abort();
}

struct cursor {
	const uint8_t *p;
	size_t left;
};

static uint8_t next(struct cursor *c)
{
	if (!c->left)
		return 0;
	c->left--;
	return *c->p++;
}

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void seeded_key(struct flow_key *k, uint32_t seed)
{
	uint32_t s = seed * 2654435761u + 1;

	for (unsigned i = 0; i < sizeof(k->b); i++)
		k->b[i] = ref_byte(xs(&s) >> 8);
}

static struct flow_actions *out_to(uint16_t port)
{
	struct flow_actions *a = calloc(1, sizeof(*a) + sizeof(a->a[0]));

	check(a != NULL);
	a->n = 1;
	a->a[0].type = FA_OUTPUT;
	a->a[0].port = port;
	return a;
}

static unsigned live_count(const struct ref_rule *r, unsigned n)
{
	unsigned c = 0;

	for (unsigned i = 0; i < n; i++)
		c += r[i].live;
	return c;
}

static void do_lookup(struct flow_db *db, unsigned table, const struct flow_key *k)
{
	const struct flow_tables *t = flow_db_tables(db);

	check(ref_agrees(committed, n_committed, table, k, flow_tables_lookup(t, table, k)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	struct flow_db *db;
	unsigned n_tables;
	bool ties;

	if (size < 1)
		return 0;
	n_tables = 1 + next(&c) % 3;
	ties = data[0] & 4;
	n_pending = n_committed = 0;
	db = flow_db_create();
	check(db != NULL);

	while (c.left) {
		uint8_t op = next(&c) % 8;

		switch (op) {
		case 0:
		case 1:
		case 2: {
			struct flow_mod mod = { .out_port = FLOW_PORT_NONE };
			uint8_t mask = next(&c), prio = next(&c), table = next(&c);
			uint32_t seed = (uint32_t)next(&c) << 8 | next(&c);

			if (n_pending == RULES_MAX)
				break;
			ref_mask(&mod.match.mask, mask);
			seeded_key(&mod.match.value, seed);
			flow_match_normalize(&mod.match);
			mod.priority = ties ? prio % 4 : (uint16_t)(prio * 257);
			mod.table = (uint8_t)(table % n_tables);
			ref_add(pending, &n_pending, &mod.match, mod.priority, mod.table);
			mod.actions = out_to((uint16_t)n_pending);
			check(flow_db_add(db, &mod) == 0);
			break;
		}
		case 3: {
			unsigned i = next(&c), dead = 0;
			struct flow_mod del = { .out_port = FLOW_PORT_NONE };

			if (!n_pending)
				break;
			i %= n_pending;
			del.match = pending[i].m;
			del.table = pending[i].table;
			del.priority = pending[i].priority;
			for (unsigned j = 0; j < n_pending; j++)
				if (pending[j].live && pending[j].table == del.table && pending[j].priority == del.priority &&
				    flow_match_equal(&pending[j].m, &del.match)) {
					pending[j].live = false;
					dead++;
				}
			check(flow_db_delete(db, &del, true) == (int)dead);
			break;
		}
		case 4: {
			struct flow_mod del = { .out_port = FLOW_PORT_NONE };
			uint8_t mask = next(&c), table = next(&c);
			uint32_t seed = (uint32_t)next(&c) << 8 | next(&c);
			unsigned dead = 0;

			ref_mask(&del.match.mask, mask);
			seeded_key(&del.match.value, seed);
			flow_match_normalize(&del.match);
			del.table = table % 4 == 3 ? FLOW_TABLE_ANY : (uint8_t)(table % 4);
			for (unsigned j = 0; j < n_pending; j++)
				if (pending[j].live && (del.table == FLOW_TABLE_ANY || pending[j].table == del.table) &&
				    flow_match_covers(&del.match, &pending[j].m)) {
					pending[j].live = false;
					dead++;
				}
			check(flow_db_delete(db, &del, false) == (int)dead);
			break;
		}
		case 5: {
			int64_t gen = flow_db_commit(db);

			check(gen >= 0);
			check(flow_db_tables(db)->gen == (uint64_t)gen);
			flow_db_reclaim(db, (uint64_t)gen);
			memcpy(committed, pending, sizeof(pending[0]) * n_pending);
			n_committed = n_pending;
			break;
		}
		case 6: {
			uint8_t table = next(&c), pick = next(&c);
			uint32_t seed = (uint32_t)next(&c) << 8 | next(&c);
			struct flow_key k;

			seeded_key(&k, seed);
			if ((pick & 1) && n_committed) {
				/* A key some rule matches, unless a later edit removed it: the masked bits from the rule. */
				const struct ref_rule *r = &committed[(pick >> 1) % n_committed];

				for (unsigned w = 0; w < FLOW_KEY_WORDS; w++)
					k.w[w] = (k.w[w] & ~r->m.mask.w[w]) | r->m.value.w[w];
			}
			do_lookup(db, table % n_tables, &k);
			break;
		}
		case 7: {
			unsigned i = next(&c);
			uint8_t port = next(&c);
			struct flow_mod mod = { .out_port = FLOW_PORT_NONE };
			int rc;

			if (!n_pending)
				break;
			i %= n_pending;
			mod.match = pending[i].m;
			mod.table = pending[i].table;
			mod.priority = pending[i].priority;
			mod.actions = out_to(port);
			rc = flow_db_modify(db, &mod, true);
			check(rc == 1);
			if (!pending[i].live) {
				/* Nothing matched: the modify added the rule (OpenFlow 1.0, OVS). */
				unsigned j = ref_add(pending, &n_pending, &mod.match, mod.priority, mod.table);

				pending[j].live = true;
			}
			break;
		}
		}
		check(flow_db_count(db, FLOW_TABLE_ANY) == live_count(pending, n_pending));
	}

	/* The end: everything committed, 64 keys at once and one by one. */
	{
		const struct flow_key *keys[FLOW_BATCH_MAX];
		const struct flow_rule *got[FLOW_BATCH_MAX];
		static struct flow_key kb[FLOW_BATCH_MAX];
		const struct flow_tables *t;
		int64_t gen = flow_db_commit(db);

		check(gen >= 0);
		memcpy(committed, pending, sizeof(pending[0]) * n_pending);
		n_committed = n_pending;
		t = flow_db_tables(db);
		for (unsigned table = 0; table < n_tables; table++) {
			for (unsigned i = 0; i < FLOW_BATCH_MAX; i++) {
				seeded_key(&kb[i], (uint32_t)(i * 7919 + table + size));
				if (n_committed && (i & 1)) {
					const struct ref_rule *r = &committed[(i * 31) % n_committed];

					for (unsigned w = 0; w < FLOW_KEY_WORDS; w++)
						kb[i].w[w] = (kb[i].w[w] & ~r->m.mask.w[w]) | r->m.value.w[w];
				}
				keys[i] = &kb[i];
			}
			flow_cls_lookup_batch(t->cls[table], keys, FLOW_BATCH_MAX, got);
			for (unsigned i = 0; i < FLOW_BATCH_MAX; i++) {
				check(ref_agrees(committed, n_committed, table, &kb[i], got[i]));
				check(ref_agrees(committed, n_committed, table, &kb[i], flow_tables_lookup(t, table, &kb[i])));
			}
		}
	}
	flow_db_destroy(db);
	return 0;
}
