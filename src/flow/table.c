/* table.c - the control side of the flow tables: rules by (table, priority, match) and by mask, commits, retirement, reclaim. */
#include "flow/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* The rules of one table with one mask: what one subtable is built from. */
struct flow_mask_group {
	struct flow_key mask;
	struct flow_rule **rules;
	unsigned n, cap;
	bool dirty;				/* rules changed since the last commit */
	struct flow_subtable *st;		/* published, NULL when it had no rule */
	struct flow_subtable *next_st;		/* built by a commit in progress */
};

struct db_table {
	struct flow_mask_group **groups;
	unsigned n_groups, cap_groups;
	unsigned n_rules;
	bool dirty;
	uint8_t miss;
	struct flow_cls *cls;			/* published */
	struct flow_cls *next_cls;
};

enum retired_kind { RET_TABLES, RET_CLS, RET_SUBTABLE, RET_RULE };

struct retired {
	uint64_t gen;
	enum retired_kind kind;
	void *p;
};

struct flow_db {
	_Atomic(struct flow_tables *) cur;
	struct db_table t[FLOW_N_TABLES];
	bool miss_dirty;

	struct flow_rule **map;			/* (table, priority, match) -> rule, chained through hnext */
	size_t map_size, map_n;
	size_t n_learning;			/* rules of the map whose actions learn (flow_db_learning()) */
	size_t n_learned;			/* rules of the map a learn added (flow_db_learned()) ... */
	size_t learned_max;			/* ... at most (flow_db_set_learned_max()) */

	uint64_t seed;
	uint64_t gen, seq;

	struct flow_rule **pend;		/* removed since the last commit */
	size_t n_pend, cap_pend;
	struct retired *ret;			/* by rising gen */
	size_t n_ret, cap_ret, ret_done;

	uint64_t (*now)(void *arg);
	void *now_arg;
	void (*sync)(void *arg);
	void *sync_arg;

	/* Per table: what its rules matched before they were deleted (at reclaim), for flow_db_table_stats(). */
	uint64_t gone_packets[FLOW_N_TABLES], gone_bytes[FLOW_N_TABLES];
};

static uint64_t clock_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	unsigned __int128 r = (unsigned __int128)(h ^ w) * 0x9e3779b97f4a7c15ull;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t rule_hash(const struct flow_db *db, unsigned table, unsigned priority, const struct flow_match *m)
{
	uint64_t h = mix(db->seed, (uint64_t)table << 16 | priority);

	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		h = mix(h, m->value.w[i]) ^ mix(h, m->mask.w[i] + i);
	return h;
}

/* Grow @*arr (elements of @size) to hold @need; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static int grow_u(void **arr, unsigned *cap, unsigned need, size_t size)
{
	size_t c = *cap;
	int rc = grow(arr, &c, need, size);

	if (!rc)
		*cap = (unsigned)c;
	return rc;
}

struct flow_db *flow_db_create(void)
{
	struct flow_db *db = calloc(1, sizeof(*db));
	struct flow_tables *t;

	if (!db)
		return NULL;
	db->learned_max = FLOW_DB_LEARNED_MAX;
	if (getrandom(&db->seed, sizeof(db->seed), 0) != sizeof(db->seed))
		db->seed = clock_ms(NULL) * 0x9e3779b97f4a7c15ull ^ (uintptr_t)db;
	db->now = clock_ms;
	db->map_size = 1024;
	db->map = calloc(db->map_size, sizeof(db->map[0]));
	t = calloc(1, sizeof(*t));
	if (!db->map || !t) {
		free(t);
		free(db->map);
		free(db);
		return NULL;
	}
	atomic_store_explicit(&db->cur, t, memory_order_release);
	return db;
}

static void rule_free(struct flow_rule *r)
{
	free((void *)r->actions);
	free(r);
}

static void retired_free(struct flow_db *db, struct retired *e, bool hand_over)
{
	switch (e->kind) {
	case RET_TABLES:
	case RET_CLS:
		free(e->p);
		break;
	case RET_SUBTABLE:
		flow_subtable_free(e->p);
		break;
	case RET_RULE: {
		struct flow_rule *r = e->p, *s = r->successor;

		/* No worker counts on @r any more: what it gathered since the modify goes to its successor. */
		if (hand_over && s) {
			uint64_t p = atomic_load_explicit(&r->n_packets, memory_order_relaxed) - r->handed_packets;
			uint64_t b = atomic_load_explicit(&r->n_bytes, memory_order_relaxed) - r->handed_bytes;

			atomic_fetch_add_explicit(&s->n_packets, p, memory_order_relaxed);
			atomic_fetch_add_explicit(&s->n_bytes, b, memory_order_relaxed);
			if (s->predecessor == r)
				s->predecessor = NULL;
		} else if (hand_over) {
			/* Deleted, not replaced: its table keeps what it matched. */
			db->gone_packets[r->table] += atomic_load_explicit(&r->n_packets, memory_order_relaxed);
			db->gone_bytes[r->table] += atomic_load_explicit(&r->n_bytes, memory_order_relaxed);
		}
		rule_free(r);
		break;
	}
	}
}

void flow_db_destroy(struct flow_db *db)
{
	if (!db)
		return;
	for (size_t i = db->ret_done; i < db->n_ret; i++)
		retired_free(db, &db->ret[i], false);
	for (size_t i = 0; i < db->n_pend; i++)
		rule_free(db->pend[i]);
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		struct db_table *tb = &db->t[t];

		for (unsigned g = 0; g < tb->n_groups; g++) {
			struct flow_mask_group *grp = tb->groups[g];

			for (unsigned i = 0; i < grp->n; i++)
				rule_free(grp->rules[i]);
			flow_subtable_free(grp->st);
			free(grp->rules);
			free(grp);
		}
		free(tb->groups);
		free(tb->cls);
	}
	free(atomic_load_explicit(&db->cur, memory_order_relaxed));
	free(db->map);
	free(db->pend);
	free(db->ret);
	free(db);
}

const struct flow_tables *flow_db_tables(const struct flow_db *db)
{
	/* Pairs with the release store of a commit: the version's tables, subtables and rules are complete. */
	return atomic_load_explicit(&((struct flow_db *)db)->cur, memory_order_acquire);
}

void flow_db_set_clock(struct flow_db *db, uint64_t (*now_ms)(void *arg), void *arg)
{
	db->now = now_ms ? now_ms : clock_ms;
	db->now_arg = arg;
}

void flow_db_set_sync(struct flow_db *db, void (*sync)(void *arg), void *arg)
{
	db->sync = sync;
	db->sync_arg = arg;
}

/* ---- the rule map ---- */

/* True when @a has a learn action (in a clone or not). */
static bool actions_learn(const struct flow_actions *a)
{
	for (uint32_t i = 0; a && i < a->n; i++)
		if (a->a[i].type == FA_LEARN)
			return true;
	return false;
}

static struct flow_rule **map_slot(struct flow_db *db, unsigned table, unsigned priority, const struct flow_match *m)
{
	return &db->map[rule_hash(db, table, priority, m) & (db->map_size - 1)];
}

static struct flow_rule *map_find(struct flow_db *db, unsigned table, unsigned priority, const struct flow_match *m)
{
	for (struct flow_rule *r = *map_slot(db, table, priority, m); r; r = r->hnext)
		if (r->table == table && r->priority == priority && flow_match_equal(&r->match, m))
			return r;
	return NULL;
}

static void map_insert(struct flow_db *db, struct flow_rule *r)
{
	struct flow_rule **slot;

	if (db->map_n >= db->map_size) {
		size_t size = db->map_size * 2;
		struct flow_rule **map = calloc(size, sizeof(*map));

		if (map) {	/* out of memory: longer chains, still correct */
			struct flow_rule **old = db->map;
			size_t old_size = db->map_size;

			db->map = map;
			db->map_size = size;
			for (size_t i = 0; i < old_size; i++) {
				while (old[i]) {
					struct flow_rule *x = old[i];

					old[i] = x->hnext;
					slot = map_slot(db, x->table, x->priority, &x->match);
					x->hnext = *slot;
					*slot = x;
				}
			}
			free(old);
		}
	}
	slot = map_slot(db, r->table, r->priority, &r->match);
	r->hnext = *slot;
	*slot = r;
	db->map_n++;
	db->n_learning += actions_learn(r->actions);
	db->n_learned += r->learned;
}

static void map_remove(struct flow_db *db, struct flow_rule *r)
{
	for (struct flow_rule **p = map_slot(db, r->table, r->priority, &r->match); *p; p = &(*p)->hnext)
		if (*p == r) {
			*p = r->hnext;
			db->map_n--;
			db->n_learning -= actions_learn(r->actions);
			db->n_learned -= r->learned;
			return;
		}
}

/* ---- mask groups ---- */

static struct flow_mask_group *group_get(struct flow_db *db, unsigned table, const struct flow_key *mask)
{
	struct db_table *tb = &db->t[table];
	struct flow_mask_group *g;

	for (unsigned i = 0; i < tb->n_groups; i++)
		if (memcmp(&tb->groups[i]->mask, mask, sizeof(*mask)) == 0)
			return tb->groups[i];
	if (grow_u((void **)&tb->groups, &tb->cap_groups, tb->n_groups + 1, sizeof(tb->groups[0])))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->mask = *mask;
	tb->groups[tb->n_groups++] = g;
	return g;
}

/* Put @r (not yet anywhere) into the map, its group and its table. 0, -ENOMEM. */
static int rule_insert(struct flow_db *db, struct flow_rule *r)
{
	struct flow_mask_group *g = group_get(db, r->table, &r->match.mask);

	if (!g || grow_u((void **)&g->rules, &g->cap, g->n + 1, sizeof(g->rules[0])))
		return -ENOMEM;
	r->group = g;
	r->group_idx = g->n;
	g->rules[g->n++] = r;
	g->dirty = true;
	db->t[r->table].dirty = true;
	db->t[r->table].n_rules++;
	map_insert(db, r);
	return 0;
}

/* Take @r out of the map, its group and its table; it waits on the pending list for the next commit. */
static void rule_remove(struct flow_db *db, struct flow_rule *r)
{
	struct flow_mask_group *g = r->group;

	map_remove(db, r);
	g->rules[r->group_idx] = g->rules[--g->n];
	g->rules[r->group_idx]->group_idx = r->group_idx;
	g->dirty = true;
	db->t[r->table].dirty = true;
	db->t[r->table].n_rules--;
	r->group = NULL;
	/* The pending list has room: every insert reserved it (rule_reserve). */
	db->pend[db->n_pend++] = r;
}

/* Room on the pending list for one more removal, so rule_remove() cannot fail. */
static int pend_reserve(struct flow_db *db, size_t more)
{
	return grow((void **)&db->pend, &db->cap_pend, db->n_pend + more, sizeof(db->pend[0]));
}

static struct flow_rule *rule_alloc(void)
{
	size_t size = (sizeof(struct flow_rule) + 63) & ~(size_t)63;
	struct flow_rule *r = aligned_alloc(64, size);

	if (r)
		memset(r, 0, size);
	return r;
}

static struct flow_actions *actions_dup(const struct flow_actions *a)
{
	size_t size = sizeof(*a) + a->n * sizeof(a->a[0]) + a->n_note;
	struct flow_actions *c = malloc(size);

	if (c)
		memcpy(c, a, size);
	return c;
}

/* @next replaces @old in a commit to come: the counts @old has now go with it; the rest at reclaim. */
static void hand_over(struct flow_rule *old, struct flow_rule *next)
{
	old->handed_packets = atomic_load_explicit(&old->n_packets, memory_order_relaxed);
	old->handed_bytes = atomic_load_explicit(&old->n_bytes, memory_order_relaxed);
	atomic_store_explicit(&next->n_packets, old->handed_packets, memory_order_relaxed);
	atomic_store_explicit(&next->n_bytes, old->handed_bytes, memory_order_relaxed);
	atomic_store_explicit(&next->used_ms, atomic_load_explicit(&old->used_ms, memory_order_relaxed),
			      memory_order_relaxed);
	old->successor = next;
	next->predecessor = old;
}

/* Replace @old by @next (same table, priority and match) in every index. 0, -ENOMEM (nothing changed). */
static int rule_replace(struct flow_db *db, struct flow_rule *old, struct flow_rule *next, bool keep_counts)
{
	struct flow_mask_group *g = old->group;

	if (pend_reserve(db, 1))
		return -ENOMEM;
	if (keep_counts)
		hand_over(old, next);
	map_remove(db, old);
	map_insert(db, next);
	next->group = g;
	next->group_idx = old->group_idx;
	g->rules[old->group_idx] = next;
	g->dirty = true;
	db->t[old->table].dirty = true;
	old->group = NULL;
	db->pend[db->n_pend++] = old;
	return 0;
}

/* flow_db_add(), the rule marked @learned (a learn's: counted in n_learned, which map_insert() adds to). */
static int add_rule(struct flow_db *db, struct flow_mod *mod, bool learned)
{
	unsigned table = mod->table == FLOW_TABLE_ANY ? 0 : mod->table;
	struct flow_rule *r, *old;
	uint64_t now;

	if (table >= FLOW_N_TABLES || !mod->actions) {
		free(mod->actions);
		mod->actions = NULL;
		return -EINVAL;
	}
	r = rule_alloc();
	if (!r || pend_reserve(db, 1)) {
		free(r);
		free(mod->actions);
		mod->actions = NULL;
		return -ENOMEM;
	}
	now = db->now(db->now_arg);
	r->match = mod->match;
	flow_match_normalize(&r->match);
	r->actions = mod->actions;
	mod->actions = NULL;
	r->priority = mod->priority;
	r->table = (uint8_t)table;
	r->cookie = mod->cookie;
	r->idle_timeout_s = mod->idle_timeout_s;
	r->hard_timeout_s = mod->hard_timeout_s;
	r->created_ms = r->modified_ms = now;
	r->seq = ++db->seq;
	r->learned = learned;

	old = map_find(db, table, r->priority, &r->match);
	if (old) {
		/* OpenFlow: an identical rule is replaced; OVS keeps its counters (no reset_counts). */
		if (rule_replace(db, old, r, !mod->reset_counts) == 0)
			return 0;
	} else if (rule_insert(db, r) == 0) {
		return 0;
	}
	rule_free(r);
	return -ENOMEM;
}

int flow_db_add(struct flow_db *db, struct flow_mod *mod)
{
	return add_rule(db, mod, false);
}

/* True when @r is one @f selects: table, cookie, out_port; the match covered (@strict: equal, with the priority). */
static bool selects(const struct flow_mod *f, const struct flow_rule *r, bool strict)
{
	if (f->table != FLOW_TABLE_ANY && f->table != r->table)
		return false;
	if ((r->cookie & f->cookie_mask) != (f->cookie_match & f->cookie_mask))
		return false;
	if (strict ? r->priority != f->priority || !flow_match_equal(&f->match, &r->match)
		   : !flow_match_covers(&f->match, &r->match))
		return false;
	if (f->out_port != FLOW_PORT_NONE) {
		for (uint32_t i = 0; i < r->actions->n; i++)
			if (r->actions->a[i].type == FA_OUTPUT && r->actions->a[i].port == f->out_port)
				return true;
		return false;
	}
	return true;
}

/* The rules @f selects, into a new array (*@out, count returned); -ENOMEM. */
static long collect(const struct flow_db *db, const struct flow_mod *f, bool strict, struct flow_rule ***out)
{
	struct flow_rule **v = NULL;
	size_t n = 0, cap = 0;
	struct flow_match m = f->match;

	flow_match_normalize(&m);
	struct flow_mod norm = *f;
	norm.match = m;
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		const struct db_table *tb = &db->t[t];

		if (f->table != FLOW_TABLE_ANY && f->table != t)
			continue;
		for (unsigned g = 0; g < tb->n_groups; g++)
			for (unsigned i = 0; i < tb->groups[g]->n; i++) {
				struct flow_rule *r = tb->groups[g]->rules[i];

				if (!selects(&norm, r, strict))
					continue;
				if (grow((void **)&v, &cap, n + 1, sizeof(*v))) {
					free(v);
					return -ENOMEM;
				}
				v[n++] = r;
			}
	}
	*out = v;
	return (long)n;
}

int flow_db_learn(struct flow_db *db, struct flow_mod *mod)
{
	struct flow_rule *old;
	int rc;

	if (mod->table >= FLOW_N_TABLES || !mod->actions) {
		free(mod->actions);
		mod->actions = NULL;
		return -EINVAL;
	}
	flow_match_normalize(&mod->match);
	old = map_find(db, mod->table, mod->priority, &mod->match);
	if (old && old->cookie == mod->cookie && old->idle_timeout_s == mod->idle_timeout_s &&
	    old->hard_timeout_s == mod->hard_timeout_s && flow_actions_equal(old->actions, mod->actions)) {
		/* Open vSwitch's learn refresh: the hard timeout starts again (its rule->modified), nothing else. */
		old->refreshed_ms = db->now(db->now_arg);
		free(mod->actions);
		mod->actions = NULL;
		return 0;
	}
	if (old) {
		bool saved = !old->learned;

		/*
		 * OFPFC_MODIFY_STRICT, as Open vSwitch's learn: new actions and
		 * cookie; the timeouts, creation time and counters stay the rule's.
		 */
		mod->set_cookie = 1;
		mod->cookie_mask = 0;
		mod->out_port = FLOW_PORT_NONE;
		rc = flow_db_modify(db, mod, true);
		return rc < 0 ? rc : saved ? 2 : 1;
	}
	if (db->n_learned >= db->learned_max) {
		free(mod->actions);
		mod->actions = NULL;
		return -ENOSPC;
	}
	return add_rule(db, mod, true) < 0 ? -ENOMEM : 1;
}

size_t flow_db_learned(const struct flow_db *db)
{
	return db->n_learned;
}

void flow_db_set_learned_max(struct flow_db *db, size_t max)
{
	db->learned_max = max;
}

size_t flow_db_learning(const struct flow_db *db)
{
	return db->n_learning;
}

int flow_db_modify(struct flow_db *db, struct flow_mod *mod, bool strict)
{
	struct flow_rule **v = NULL;
	long n = collect(db, mod, strict, &v);
	uint64_t now = db->now(db->now_arg);
	int done = 0;

	if (n < 0) {
		free(mod->actions);
		mod->actions = NULL;
		return -ENOMEM;
	}
	if (n == 0) {
		free(v);
		if (mod->cookie_mask) {
			free(mod->actions);
			mod->actions = NULL;
			return 0;
		}
		/* Nothing to modify: OpenFlow 1.0's modify adds, and so does Open vSwitch without a cookie mask. */
		if (!mod->set_cookie)
			mod->cookie = 0;
		return flow_db_add(db, mod) == 0 ? 1 : -ENOMEM;
	}
	for (long i = 0; i < n; i++) {
		struct flow_rule *old = v[i], *r = rule_alloc();
		const struct flow_actions *acts = i + 1 == n ? mod->actions : actions_dup(mod->actions);

		if (!r || !acts) {
			free(r);
			if (acts != mod->actions)
				free((void *)acts);
			break;
		}
		if (i + 1 == n)
			mod->actions = NULL;
		memcpy(r, old, offsetof(struct flow_rule, seq));
		r->actions = acts;
		if (mod->set_cookie)
			r->cookie = mod->cookie;
		r->modified_ms = now;
		r->seq = old->seq;
		r->learned = old->learned;
		if (rule_replace(db, old, r, true)) {
			rule_free(r);
			break;
		}
		done++;
	}
	free(mod->actions);
	mod->actions = NULL;
	free(v);
	return done == n ? done : -ENOMEM;
}

int flow_db_delete(struct flow_db *db, const struct flow_mod *mod, bool strict)
{
	struct flow_rule **v = NULL;
	long n = collect(db, mod, strict, &v);

	if (n < 0)
		return -ENOMEM;
	if (pend_reserve(db, (size_t)n)) {
		free(v);
		return -ENOMEM;
	}
	for (long i = 0; i < n; i++)
		rule_remove(db, v[i]);
	free(v);
	return (int)n;
}

void flow_db_clear(struct flow_db *db)
{
	struct flow_mod all = { .table = FLOW_TABLE_ANY, .out_port = FLOW_PORT_NONE };

	while (flow_db_delete(db, &all, false) < 0) {
		/* Out of memory for the list: delete table by table (a smaller list each time). */
		for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
			all.table = (uint8_t)t;
			flow_db_delete(db, &all, false);
		}
		all.table = FLOW_TABLE_ANY;
	}
}

int flow_db_set_miss(struct flow_db *db, unsigned table, enum flow_miss miss)
{
	if (table >= FLOW_N_TABLES || (miss != FLOW_MISS_DROP && miss != FLOW_MISS_NEXT && miss != FLOW_MISS_NORMAL))
		return -EINVAL;
	if (db->t[table].miss != miss) {
		db->t[table].miss = (uint8_t)miss;
		db->miss_dirty = true;
	}
	return 0;
}

enum flow_miss flow_db_get_miss(const struct flow_db *db, unsigned table)
{
	return table < FLOW_N_TABLES ? (enum flow_miss)db->t[table].miss : FLOW_MISS_DROP;
}

int flow_db_expire(struct flow_db *db, uint64_t now_ms)
{
	int n = 0;

	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		struct db_table *tb = &db->t[t];

		for (unsigned g = 0; g < tb->n_groups; g++) {
			struct flow_mask_group *grp = tb->groups[g];

			for (unsigned i = 0; i < grp->n;) {
				struct flow_rule *r = grp->rules[i];
				uint64_t used = atomic_load_explicit(&r->used_ms, memory_order_relaxed);
				bool hard, idle;

				if (used < r->modified_ms)
					used = r->modified_ms;
				hard = r->hard_timeout_s &&
				       now_ms >= (r->refreshed_ms > r->modified_ms ? r->refreshed_ms : r->modified_ms) +
						 r->hard_timeout_s * 1000ull;
				idle = r->idle_timeout_s && now_ms >= used + r->idle_timeout_s * 1000ull;
				if ((hard || idle) && pend_reserve(db, 1) == 0) {
					rule_remove(db, r);	/* the last rule moved into slot i */
					n++;
				} else {
					i++;
				}
			}
		}
	}
	return n;
}

/* ---- commit and reclaim ---- */

static int retire(struct flow_db *db, enum retired_kind kind, void *p)
{
	if (!p)
		return 0;
	if (grow((void **)&db->ret, &db->cap_ret, db->n_ret + 1, sizeof(db->ret[0])))
		return -ENOMEM;
	db->ret[db->n_ret++] = (struct retired){ db->gen, kind, p };
	return 0;
}

/* Drop every subtable and classifier built by a commit that could not finish. */
static void commit_undo(struct flow_db *db)
{
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		struct db_table *tb = &db->t[t];

		for (unsigned g = 0; g < tb->n_groups; g++) {
			flow_subtable_free(tb->groups[g]->next_st);
			tb->groups[g]->next_st = NULL;
		}
		free(tb->next_cls);
		tb->next_cls = NULL;
	}
}

/* Phase one: every new subtable and classifier, nothing published or freed. 0, -ENOMEM. */
static int commit_build(struct flow_db *db, size_t *n_retire)
{
	const struct flow_subtable **sts = NULL;
	size_t cap = 0;

	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		struct db_table *tb = &db->t[t];
		unsigned n = 0;

		if (!tb->dirty)
			continue;
		if (grow((void **)&sts, &cap, tb->n_groups + 1, sizeof(*sts)))
			goto out_undo;
		for (unsigned g = 0; g < tb->n_groups; g++) {
			struct flow_mask_group *grp = tb->groups[g];
			const struct flow_subtable *st = grp->st;

			if (grp->dirty) {
				st = NULL;
				if (grp->n) {
					grp->next_st = flow_subtable_build(&grp->mask, grp->rules, grp->n, db->seed);
					if (!grp->next_st)
						goto out_undo;
					st = grp->next_st;
				}
				*n_retire += 1;
			}
			if (st)
				sts[n++] = st;
		}
		if (n) {
			tb->next_cls = flow_cls_build(sts, n);
			if (!tb->next_cls)
				goto out_undo;
		}
		*n_retire += 1;
	}
	free(sts);
	return 0;

out_undo:
	free(sts);
	commit_undo(db);
	return -ENOMEM;
}

int64_t flow_db_commit(struct flow_db *db)
{
	struct flow_tables *old = atomic_load_explicit(&db->cur, memory_order_relaxed), *nt;
	size_t n_retire = 2 + db->n_pend;
	bool dirty = db->miss_dirty || db->n_pend;

	for (unsigned t = 0; t < FLOW_N_TABLES && !dirty; t++)
		dirty = db->t[t].dirty;
	if (!dirty)
		return (int64_t)db->gen;
	nt = malloc(sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	if (commit_build(db, &n_retire))
		goto out_free;
	/* Room for everything phase two retires, so that it cannot fail half way. */
	if (grow((void **)&db->ret, &db->cap_ret, db->n_ret + n_retire, sizeof(db->ret[0]))) {
		commit_undo(db);
		goto out_free;
	}

	/* Phase two: swap in, retire the replaced, publish. */
	db->gen++;
	*nt = *old;
	nt->gen = db->gen;
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		struct db_table *tb = &db->t[t];

		nt->miss[t] = tb->miss;
		if (!tb->dirty)
			continue;
		for (unsigned g = 0; g < tb->n_groups;) {
			struct flow_mask_group *grp = tb->groups[g];

			if (grp->dirty) {
				retire(db, RET_SUBTABLE, grp->st);
				grp->st = grp->next_st;
				grp->next_st = NULL;
				grp->dirty = false;
			}
			if (!grp->n) {
				free(grp->rules);
				free(grp);
				tb->groups[g] = tb->groups[--tb->n_groups];
				continue;
			}
			g++;
		}
		retire(db, RET_CLS, tb->cls);
		tb->cls = tb->next_cls;
		tb->next_cls = NULL;
		tb->dirty = false;
		nt->cls[t] = tb->cls;
	}
	db->miss_dirty = false;
	nt->only_normal = NULL;
	if (flow_db_count(db, FLOW_TABLE_ANY) == 1 && db->t[0].n_groups == 1 && db->t[0].groups[0]->n == 1) {
		const struct flow_rule *r = db->t[0].groups[0]->rules[0];
		static const struct flow_key any;

		if (!memcmp(&r->match.mask, &any, sizeof(any)) && r->actions->n == 1 &&
		    r->actions->a[0].type == FA_NORMAL)
			nt->only_normal = r;
	}
	/* Release: a worker that reads the new pointer sees every structure it leads to complete. */
	atomic_store_explicit(&db->cur, nt, memory_order_release);
	retire(db, RET_TABLES, old);
	for (size_t i = 0; i < db->n_pend; i++)
		retire(db, RET_RULE, db->pend[i]);
	db->n_pend = 0;

	if (db->sync) {
		db->sync(db->sync_arg);
		flow_db_reclaim(db, db->gen);
	}
	return (int64_t)db->gen;

out_free:
	free(nt);
	return -ENOMEM;
}

void flow_db_reclaim(struct flow_db *db, uint64_t gen)
{
	size_t i = db->ret_done;

	/* In retirement order: a modified rule hands its counts to its successor before that one can go. */
	for (; i < db->n_ret && db->ret[i].gen <= gen; i++)
		retired_free(db, &db->ret[i], true);
	db->ret_done = i;
	if (db->ret_done == db->n_ret) {
		db->n_ret = 0;
		db->ret_done = 0;
	}
}

/* ---- reading ---- */

unsigned flow_db_count(const struct flow_db *db, unsigned table)
{
	unsigned n = 0;

	for (unsigned t = 0; t < FLOW_N_TABLES; t++)
		if (table == FLOW_TABLE_ANY || table == t)
			n += db->t[t].n_rules;
	return n;
}

static int dump_order(const void *a, const void *b)
{
	const struct flow_rule *x = *(const struct flow_rule *const *)a, *y = *(const struct flow_rule *const *)b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int flow_db_foreach(const struct flow_db *db, const struct flow_mod *filter,
		    int (*fn)(void *arg, const struct flow_rule *r), void *arg)
{
	struct flow_mod all = { .table = FLOW_TABLE_ANY, .out_port = FLOW_PORT_NONE };
	struct flow_rule **v = NULL;
	long n = collect(db, filter ? filter : &all, false, &v);
	int rc = 0;

	if (n < 0)
		return -ENOMEM;
	if (n > 1) /* qsort wants a non-NULL array even for none */
		qsort(v, (size_t)n, sizeof(*v), dump_order);
	for (long i = 0; i < n && !rc; i++)
		rc = fn(arg, v[i]);
	free(v);
	return rc;
}

void flow_db_rule_stats(const struct flow_rule *r, uint64_t *packets, uint64_t *bytes)
{
	*packets = atomic_load_explicit(&((struct flow_rule *)r)->n_packets, memory_order_relaxed);
	*bytes = atomic_load_explicit(&((struct flow_rule *)r)->n_bytes, memory_order_relaxed);
	/* Predecessors not yet reclaimed still gather what workers on an older version count. */
	for (const struct flow_rule *p = r->predecessor; p; p = p->predecessor) {
		*packets += atomic_load_explicit(&((struct flow_rule *)p)->n_packets, memory_order_relaxed) -
			    p->handed_packets;
		*bytes += atomic_load_explicit(&((struct flow_rule *)p)->n_bytes, memory_order_relaxed) -
			  p->handed_bytes;
	}
}

void flow_db_table_stats(const struct flow_db *db, unsigned table, uint64_t *packets, uint64_t *bytes)
{
	const struct db_table *tb = &db->t[table];

	*packets = db->gone_packets[table];
	*bytes = db->gone_bytes[table];
	for (unsigned g = 0; g < tb->n_groups; g++)
		for (unsigned i = 0; i < tb->groups[g]->n; i++) {
			uint64_t p, b;

			flow_db_rule_stats(tb->groups[g]->rules[i], &p, &b);
			*packets += p;
			*bytes += b;
		}
}

void flow_rule_to_mod(const struct flow_rule *r, struct flow_mod *mod)
{
	*mod = (struct flow_mod){
		.match = r->match,
		.table = r->table,
		.priority = r->priority,
		.idle_timeout_s = r->idle_timeout_s,
		.hard_timeout_s = r->hard_timeout_s,
		.out_port = FLOW_PORT_NONE,
		.cookie = r->cookie,
		.actions = (struct flow_actions *)r->actions,
	};
}
