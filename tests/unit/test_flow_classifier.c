/* test_flow_classifier.c - unit tests of flow/classifier and flow/table: against a linear scan, edits and commits, counters across modifies, timeouts, a reader during replaces. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/flow_ref.h"
#include "../lib/rng.h"
#include "flow/table.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	return test_rnd(&rng_state);
}

/* One output to @port: rules are told apart by it. */
static struct flow_actions *out_to(uint16_t port)
{
	struct flow_actions *a = calloc(1, sizeof(*a) + sizeof(a->a[0]));

	assert_non_null(a);
	a->n = 1;
	a->a[0].type = FA_OUTPUT;
	a->a[0].port = port;
	return a;
}

static struct flow_mod mod_of(const struct flow_match *m, unsigned table, uint16_t prio, uint16_t port)
{
	struct flow_mod mod = { .match = *m, .table = (uint8_t)table, .priority = prio, .out_port = FLOW_PORT_NONE,
				.actions = out_to(port) };

	return mod;
}

static void random_key(struct flow_key *k)
{
	for (unsigned i = 0; i < sizeof(k->b); i++)
		k->b[i] = ref_byte(rnd());
}

/* A random match; @catch_all: mask 0 may come out (a table with one matches everything). */
static void random_match(struct flow_match *m, bool catch_all)
{
	ref_mask(&m->mask, catch_all ? rnd() : 1 + rnd() % (REF_MASKS - 1));
	random_key(&m->value);
	flow_match_normalize(m);
}

static int64_t commit(struct flow_db *db)
{
	int64_t gen = flow_db_commit(db);

	assert_true(gen >= 0);
	return gen;
}

static const struct flow_rule *lookup(struct flow_db *db, unsigned table, const struct flow_key *k)
{
	return flow_tables_lookup(flow_db_tables(db), table, k);
}

static void test_random_vs_reference(void **state)
{
	static struct ref_rule ref[400];
	unsigned long hits = 0, misses = 0;

	for (int round = 0; round < 30; round++) {
		struct flow_db *db = flow_db_create();
		unsigned n = 0, n_rules = 1 + rnd() % 300;
		const struct flow_tables *t;

		assert_non_null(db);
		for (unsigned i = 0; i < n_rules; i++) {
			struct flow_match m;
			uint16_t prio = (uint16_t)(rnd() % (round & 1 ? 8 : 60000));
			uint8_t table = (uint8_t)(rnd() % 3);
			struct flow_mod mod;

			random_match(&m, round % 4 == 0);
			mod = mod_of(&m, table, prio, (uint16_t)i);
			assert_int_equal(flow_db_add(db, &mod), 0);
			ref_add(ref, &n, &m, prio, table);
			if (rnd() % 8 == 0) {	/* a strict delete of some earlier rule */
				unsigned j = rnd() % n;
				struct flow_mod del = { .match = ref[j].m, .table = ref[j].table,
							.priority = ref[j].priority, .out_port = FLOW_PORT_NONE };

				unsigned live = 0;

				for (unsigned x = 0; x < n; x++)	/* a dead slot's twin may have come back later */
					if (ref[x].live && ref[x].table == del.table && ref[x].priority == del.priority &&
					    flow_match_equal(&ref[x].m, &del.match)) {
						ref[x].live = false;
						live++;
					}
				assert_int_equal(flow_db_delete(db, &del, true), live);
			}
			if (rnd() % 50 == 0)
				commit(db);	/* some commits half way: later ones rebuild only what changed */
		}
		commit(db);
		flow_db_reclaim(db, UINT64_MAX);
		t = flow_db_tables(db);
		for (int q = 0; q < 300; q++) {
			const struct flow_key *keys[FLOW_BATCH_MAX + 6];
			const struct flow_rule *got[FLOW_BATCH_MAX + 6], *got_wc[FLOW_BATCH_MAX + 6];
			struct flow_key kb[FLOW_BATCH_MAX + 6], wcb[FLOW_BATCH_MAX + 6], *wcp[FLOW_BATCH_MAX + 6];
			unsigned nk = 1 + rnd() % (FLOW_BATCH_MAX + 6);
			unsigned table = rnd() % 3;

			for (unsigned i = 0; i < nk; i++) {
				random_key(&kb[i]);
				keys[i] = &kb[i];
				memset(&wcb[i], 0, sizeof(wcb[i]));
				wcp[i] = &wcb[i];
			}
			flow_cls_lookup_batch(t->cls[table], keys, nk, got);
			flow_cls_lookup_batch_wc(t->cls[table], keys, nk, got_wc, wcp);
			for (unsigned i = 0; i < nk; i++) {
				const struct flow_rule *one = flow_tables_lookup(t, table, &kb[i]);
				struct flow_key wc = { 0 }, k2;

				assert_true(ref_agrees(ref, n, table, &kb[i], one));
				assert_true(ref_agrees(ref, n, table, &kb[i], got[i]));
				/*
				 * The mask of what the answer depended on (single and batch
				 * lookups agree on it): any key equal on it has that answer too.
				 */
				assert_ptr_equal(flow_tables_lookup_wc(t, table, &kb[i], &wc), one);
				assert_ptr_equal(got_wc[i], got[i]);
				assert_memory_equal(&wc, &wcb[i], sizeof(wc));
				for (int v = 0; v < 3; v++) {
					random_key(&k2);
					for (unsigned w = 0; w < FLOW_KEY_WORDS; w++)
						k2.w[w] = (k2.w[w] & ~wc.w[w]) | (kb[i].w[w] & wc.w[w]);
					assert_true(ref_agrees(ref, n, table, &k2, one));
				}
				if (one)
					hits++;
				else
					misses++;
			}
		}
		flow_db_destroy(db);
	}
	/* Both answers must be common, or the comparison proves little. */
	print_message("lookups: %lu hits, %lu misses\n", hits, misses);
	assert_true(hits > (hits + misses) / 5);
	assert_true(misses > (hits + misses) / 20);
}

static void test_priorities(void **state)
{
	struct flow_db *db = flow_db_create();
	struct flow_match m, wide;
	struct flow_mod mod;
	struct flow_key k;

	memset(&m, 0, sizeof(m));
	memset(&wide, 0, sizeof(wide));
	memset(&k, 0, sizeof(k));
	m.mask.dl_type = 0xffff;
	m.value.dl_type = htons(0x0800);
	k.dl_type = htons(0x0800);
	mod = mod_of(&m, 0, 10, 1);
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&m, 0, 20, 2);
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&wide, 0, 15, 3);	/* a catch-all between them */
	assert_int_equal(flow_db_add(db, &mod), 0);
	assert_null(lookup(db, 0, &k));		/* nothing before the commit */
	commit(db);
	assert_int_equal(lookup(db, 0, &k)->actions->a[0].port, 2);
	assert_int_equal(flow_db_count(db, 0), 3);

	mod = (struct flow_mod){ .match = m, .table = 0, .priority = 20, .out_port = FLOW_PORT_NONE };
	assert_int_equal(flow_db_delete(db, &mod, true), 1);
	assert_int_equal(lookup(db, 0, &k)->actions->a[0].port, 2);	/* still, until the commit */
	commit(db);
	assert_int_equal(lookup(db, 0, &k)->actions->a[0].port, 3);
	k.dl_type = htons(0x86dd);
	assert_int_equal(lookup(db, 0, &k)->actions->a[0].port, 3);
	assert_null(lookup(db, 1, &k));
	flow_db_destroy(db);
}

/* The old version stays whole until reclaimed (ASan would see a use after free). */
static void test_versions(void **state)
{
	struct flow_db *db = flow_db_create();
	const struct flow_tables *v1, *v2;
	struct flow_match m;
	struct flow_mod mod;
	struct flow_key k;
	int64_t g1, g2;

	memset(&m, 0, sizeof(m));
	memset(&k, 0, sizeof(k));
	mod = mod_of(&m, 5, 1, 7);
	assert_int_equal(flow_db_add(db, &mod), 0);
	g1 = commit(db);
	v1 = flow_db_tables(db);
	assert_int_equal(v1->gen, (uint64_t)g1);
	assert_int_equal(commit(db), g1);	/* nothing changed: no new version */
	flow_db_clear(db);
	g2 = commit(db);
	assert_true(g2 > g1);
	v2 = flow_db_tables(db);
	assert_ptr_not_equal(v1, v2);
	assert_null(flow_tables_lookup(v2, 5, &k));
	assert_int_equal(flow_tables_lookup(v1, 5, &k)->actions->a[0].port, 7);	/* a worker still on v1 */
	flow_db_reclaim(db, (uint64_t)g2);
	assert_null(flow_tables_lookup(flow_db_tables(db), 5, &k));

	assert_int_equal(flow_db_set_miss(db, 3, FLOW_MISS_NEXT), 0);
	assert_int_equal(flow_db_set_miss(db, FLOW_N_TABLES, FLOW_MISS_NEXT), -EINVAL);
	assert_int_equal(flow_db_set_miss(db, 3, (enum flow_miss)7), -EINVAL);
	assert_int_equal(flow_db_tables(db)->miss[3], FLOW_MISS_DROP);
	commit(db);
	assert_int_equal(flow_db_tables(db)->miss[3], FLOW_MISS_NEXT);
	flow_db_destroy(db);
}

static void test_counters_across_modify(void **state)
{
	struct flow_db *db = flow_db_create();
	const struct flow_rule *r1, *r2;
	struct flow_match m;
	struct flow_mod mod;
	struct flow_key k;
	uint64_t p, b;
	int64_t g;

	memset(&m, 0, sizeof(m));
	memset(&k, 0, sizeof(k));
	mod = mod_of(&m, 0, 5, 1);
	mod.cookie = 0x77;
	assert_int_equal(flow_db_add(db, &mod), 0);
	commit(db);
	r1 = lookup(db, 0, &k);
	flow_rule_count(r1, 3, 300, 1000);

	/* mod-flows: a new rule object, the counts go with it. */
	mod = mod_of(&m, FLOW_TABLE_ANY, 0, 2);
	assert_int_equal(flow_db_modify(db, &mod, false), 1);
	g = commit(db);
	r2 = lookup(db, 0, &k);
	assert_ptr_not_equal(r1, r2);
	assert_int_equal(r2->actions->a[0].port, 2);
	assert_int_equal(r2->cookie, 0x77);	/* no cookie given: kept */
	assert_int_equal(r2->priority, 5);	/* non-strict modify keeps the priority */
	flow_db_rule_stats(r2, &p, &b);
	assert_int_equal(p, 3);
	assert_int_equal(b, 300);
	flow_rule_count(r1, 2, 200, 2000);	/* a worker still on the old version */
	flow_rule_count(r2, 1, 100, 2000);
	flow_db_rule_stats(r2, &p, &b);
	assert_int_equal(p, 6);
	assert_int_equal(b, 600);
	flow_db_reclaim(db, (uint64_t)g);	/* r1 freed: its late counts moved into r2 */
	flow_db_rule_stats(r2, &p, &b);
	assert_int_equal(p, 6);
	assert_int_equal(b, 600);
	assert_int_equal(atomic_load(&((struct flow_rule *)r2)->n_packets), 6);

	/* add-flow over the same rule: replaced, counts kept; with reset_counts: zero. */
	mod = mod_of(&m, 0, 5, 3);
	assert_int_equal(flow_db_add(db, &mod), 0);
	g = commit(db);
	flow_db_reclaim(db, (uint64_t)g);
	flow_db_rule_stats(lookup(db, 0, &k), &p, &b);
	assert_int_equal(p, 6);
	assert_int_equal(lookup(db, 0, &k)->cookie, 0);
	mod = mod_of(&m, 0, 5, 4);
	mod.reset_counts = 1;
	assert_int_equal(flow_db_add(db, &mod), 0);
	g = commit(db);
	flow_db_reclaim(db, (uint64_t)g);
	flow_db_rule_stats(lookup(db, 0, &k), &p, &b);
	assert_int_equal(p, 0);
	assert_int_equal(flow_db_count(db, FLOW_TABLE_ANY), 1);
	flow_db_destroy(db);
}

/*
 * A table's matched counts (dump-tables' matched_count): its rules' counts,
 * a modified rule's late counts, and a deleted rule's once reclaimed; other
 * tables keep their own.
 */
static void test_table_stats(void **state)
{
	struct flow_db *db = flow_db_create();
	const struct flow_rule *r;
	struct flow_match m;
	struct flow_mod mod;
	struct flow_key k;
	uint64_t p, b;
	int64_t g;

	memset(&m, 0, sizeof(m));
	memset(&k, 0, sizeof(k));
	mod = mod_of(&m, 0, 5, 1);
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&m, 2, 5, 1);
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&m, 2, 7, 2);
	assert_int_equal(flow_db_add(db, &mod), 0);
	commit(db);
	flow_rule_count(lookup(db, 0, &k), 1, 10, 1000);
	r = lookup(db, 2, &k);
	assert_int_equal(r->priority, 7);
	flow_rule_count(r, 3, 300, 1000);
	flow_db_table_stats(db, 2, &p, &b);
	assert_int_equal(p, 3);
	assert_int_equal(b, 300);

	/* Delete table 2's rules: once reclaimed, what they matched stays with the table. */
	mod = (struct flow_mod){ .match = m, .table = 2, .out_port = FLOW_PORT_NONE };
	assert_int_equal(flow_db_delete(db, &mod, false), 2);
	g = commit(db);
	flow_rule_count(r, 1, 100, 2000);	/* a worker still on the old version */
	flow_db_reclaim(db, (uint64_t)g);
	assert_int_equal(flow_db_count(db, 2), 0);
	flow_db_table_stats(db, 2, &p, &b);
	assert_int_equal(p, 4);
	assert_int_equal(b, 400);
	flow_db_table_stats(db, 0, &p, &b);
	assert_int_equal(p, 1);
	assert_int_equal(b, 10);
	flow_db_table_stats(db, 1, &p, &b);
	assert_int_equal(p, 0);
	flow_db_destroy(db);
}

static void test_modify_delete_selection(void **state)
{
	struct flow_db *db = flow_db_create();
	struct flow_match ip, ip10, any;
	struct flow_mod mod;
	struct flow_key k;

	memset(&any, 0, sizeof(any));
	memset(&ip, 0, sizeof(ip));
	ip.mask.dl_type = 0xffff;
	ip.value.dl_type = htons(0x0800);
	ip10 = ip;
	ip10.mask.nw_dst = htonl(0xff000000);
	ip10.value.nw_dst = htonl(0x0a000000);
	mod = mod_of(&ip, 0, 100, 1);
	mod.cookie = 0x10;
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&ip10, 0, 200, 2);
	mod.cookie = 0x11;
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&ip10, 1, 200, 3);
	mod.cookie = 0x20;
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&any, 1, 1, 4);
	assert_int_equal(flow_db_add(db, &mod), 0);

	/* Non-strict: every rule the match covers, in every table; strict: that priority and match only. */
	mod = (struct flow_mod){ .match = ip, .table = FLOW_TABLE_ANY, .out_port = FLOW_PORT_NONE };
	assert_int_equal(flow_db_delete(db, &mod, true), 0);	/* priority 0: no such rule */
	mod.cookie_match = 0x10;
	mod.cookie_mask = 0xf0;
	mod.out_port = 3;
	assert_int_equal(flow_db_delete(db, &mod, false), 0);	/* cookie 0x1?, output to 3: none */
	mod.out_port = 2;
	assert_int_equal(flow_db_delete(db, &mod, false), 1);	/* the 10/8 rule of table 0 */
	assert_int_equal(flow_db_count(db, 0), 1);

	/* Modify: the any-match selects all; with a table only that table. */
	mod = (struct flow_mod){ .match = any, .table = 1, .out_port = FLOW_PORT_NONE, .actions = out_to(9),
				 .set_cookie = 1, .cookie = 0x99 };
	assert_int_equal(flow_db_modify(db, &mod, false), 2);
	assert_null(mod.actions);
	commit(db);
	memset(&k, 0, sizeof(k));
	k.dl_type = htons(0x0800);
	k.nw_dst = htonl(0x0a000001);
	assert_int_equal(lookup(db, 1, &k)->actions->a[0].port, 9);
	assert_int_equal(lookup(db, 1, &k)->cookie, 0x99);
	assert_int_equal(lookup(db, 1, &k)->priority, 200);
	assert_int_equal(lookup(db, 0, &k)->actions->a[0].port, 1);

	/* A modify that finds nothing adds (no cookie mask), or does nothing (a cookie mask). */
	mod = (struct flow_mod){ .match = ip10, .table = 2, .priority = 7, .out_port = FLOW_PORT_NONE,
				 .actions = out_to(5), .cookie_match = 1, .cookie_mask = 1 };
	assert_int_equal(flow_db_modify(db, &mod, true), 0);
	assert_int_equal(flow_db_count(db, 2), 0);
	mod = (struct flow_mod){ .match = ip10, .table = 2, .priority = 7, .out_port = FLOW_PORT_NONE,
				 .actions = out_to(5) };
	assert_int_equal(flow_db_modify(db, &mod, true), 1);
	assert_int_equal(flow_db_count(db, 2), 1);
	commit(db);
	assert_int_equal(lookup(db, 2, &k)->priority, 7);

	/* Delete everything covered by "ip" in table 1: the 10/8 rule, not the catch-all. */
	mod = (struct flow_mod){ .match = ip, .table = 1, .out_port = FLOW_PORT_NONE };
	assert_int_equal(flow_db_delete(db, &mod, false), 1);
	assert_int_equal(flow_db_count(db, 1), 1);
	commit(db);
	assert_int_equal(lookup(db, 1, &k)->priority, 1);
	flow_db_destroy(db);
}

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void test_timeouts(void **state)
{
	struct flow_db *db = flow_db_create();
	struct flow_match a, b;
	struct flow_mod mod;
	struct flow_key k;

	fake_now = 100000;
	flow_db_set_clock(db, fake_clock, NULL);
	memset(&a, 0, sizeof(a));
	b = a;
	b.mask.in_port = 0xffff;
	b.value.in_port = htons(1);
	mod = mod_of(&a, 0, 1, 1);
	mod.idle_timeout_s = 2;
	assert_int_equal(flow_db_add(db, &mod), 0);
	mod = mod_of(&b, 0, 2, 2);
	mod.hard_timeout_s = 5;
	mod.idle_timeout_s = 1;
	assert_int_equal(flow_db_add(db, &mod), 0);
	commit(db);
	memset(&k, 0, sizeof(k));

	flow_rule_count(lookup(db, 0, &k), 1, 64, 101500);	/* the idle one is used once */
	k.in_port = htons(1);
	for (uint64_t t = 100500; t <= 104500; t += 500)
		flow_rule_count(lookup(db, 0, &k), 1, 64, t);	/* busy: only the hard timeout ends it */
	assert_int_equal(flow_db_expire(db, 101999), 0);
	assert_int_equal(flow_db_expire(db, 103499), 0);
	assert_int_equal(flow_db_expire(db, 103500), 1);	/* idle 2 s after its use at 101.5 s */
	assert_int_equal(flow_db_count(db, 0), 1);
	assert_int_equal(flow_db_expire(db, 104999), 0);
	assert_int_equal(flow_db_expire(db, 105000), 1);	/* hard, 5 s after it was added */
	assert_int_equal(flow_db_count(db, 0), 0);
	commit(db);
	assert_null(lookup(db, 0, &k));
	flow_db_destroy(db);
}

static int collect_ports(void *arg, const struct flow_rule *r)
{
	unsigned *n = arg;

	n[1 + n[0]++] = r->actions->a[0].port;
	return n[0] == 4 ? 42 : 0;
}

static unsigned syncs;

static void count_sync(void *arg)
{
	(void)arg;
	syncs++;
}

static void test_foreach_and_sync(void **state)
{
	struct flow_db *db = flow_db_create();
	struct flow_match m;
	struct flow_mod mod;
	unsigned seen[8] = { 0 };
	static const uint8_t tables[] = { 2, 0, 0, 1, 0 };
	static const uint16_t prios[] = { 9, 1, 50, 3, 50 };

	for (unsigned i = 0; i < 5; i++) {
		memset(&m, 0, sizeof(m));
		m.mask.regs[1] = 0xffffffff;
		m.value.regs[1] = i;
		mod = mod_of(&m, tables[i], prios[i], (uint16_t)i);
		assert_int_equal(flow_db_add(db, &mod), 0);
	}
	/* Table, then falling priority, then insertion; a nonzero return stops the walk. */
	assert_int_equal(flow_db_foreach(db, NULL, collect_ports, seen), 42);
	assert_int_equal(seen[0], 4);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[2], 4);
	assert_int_equal(seen[3], 1);
	assert_int_equal(seen[4], 3);

	flow_db_set_sync(db, count_sync, NULL);
	commit(db);
	assert_int_equal(syncs, 1);
	commit(db);
	assert_int_equal(syncs, 1);	/* nothing new: no wait */
	flow_db_destroy(db);
}

/*
 * A reader that looks rules up while the writer replaces the whole set
 * again and again: every rule a batch finds belongs to the version the
 * batch read (cookie = generation), and no freed memory is touched (ASan
 * build).  The grace period: the reader counts its batches; the writer's
 * sync waits for two more.
 */
struct race {
	struct flow_db *db;
	_Atomic unsigned long batches;
	_Atomic bool done;
	_Atomic unsigned long mixed;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	while (!atomic_load(&r->done)) {
		const struct flow_tables *t = flow_db_tables(r->db);

		for (unsigned i = 0; i < 16; i++) {
			const struct flow_rule *rule;

			k.regs[0] = htonl(i);
			rule = flow_tables_lookup(t, 0, &k);
			if (rule && rule->cookie != t->gen)
				atomic_fetch_add(&r->mixed, 1);
			/* version 0, the empty one, is what the reader sees until the writer's first commit */
			if (i < 8 && !rule && t->gen)
				atomic_fetch_add(&r->mixed, 1);
		}
		atomic_fetch_add_explicit(&r->batches, 1, memory_order_release);
	}
	return NULL;
}

static void wait_two_batches(void *arg)
{
	struct race *r = arg;
	unsigned long start = atomic_load_explicit(&r->batches, memory_order_acquire);

	while (atomic_load_explicit(&r->batches, memory_order_acquire) < start + 2)
		sched_yield();
}

static void test_reader_during_replace(void **state)
{
	struct race r = { .db = flow_db_create() };
	pthread_t th;

	assert_non_null(r.db);
	flow_db_set_sync(r.db, wait_two_batches, &r);
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	for (uint64_t gen = 1; gen <= 300; gen++) {
		flow_db_clear(r.db);
		for (unsigned i = 0; i < 8 + gen % 8; i++) {
			struct flow_match m;
			struct flow_mod mod;

			memset(&m, 0, sizeof(m));
			m.mask.regs[0] = 0xffffffff;
			m.value.regs[0] = htonl(i);
			mod = mod_of(&m, 0, (uint16_t)(gen % 5), (uint16_t)i);
			mod.cookie = gen;
			assert_int_equal(flow_db_add(r.db, &mod), 0);
		}
		assert_int_equal(flow_db_commit(r.db), (int64_t)gen);
	}
	atomic_store(&r.done, true);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&r.mixed), 0);
	assert_true(atomic_load(&r.batches) >= 600);
	flow_db_destroy(r.db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_counters_across_modify),
		cmocka_unit_test(test_table_stats),
		cmocka_unit_test(test_modify_delete_selection),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_foreach_and_sync),
		cmocka_unit_test(test_reader_during_replace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
