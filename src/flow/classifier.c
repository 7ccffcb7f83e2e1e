/* classifier.c - subtables (open-addressing hash per mask), their ordering by priority, single and batch lookups. */
#include "flow/classifier.h"

#include <stdlib.h>
#include <string.h>

#include "lib/prefetch.h"

/* One slot: the hash of the masked value (compared before the rule is touched) and the rule; empty when rule is NULL. */
struct flow_slot {
	uint64_t hash;
	const struct flow_rule *rule;
};

struct flow_subtable {
	uint16_t max_priority;
	uint8_t n_words;			/* key words the mask touches */
	uint8_t words[FLOW_KEY_WORDS];
	uint32_t slot_mask;			/* slots - 1 (a power of two, at most half full) */
	uint32_t n_rules;			/* distinct masked values */
	uint64_t seed;
	struct flow_key mask;
	struct flow_slot slots[];
};

/* One step of the hash: a folded 64 x 64 -> 128-bit multiply (wyhash's mixing step). */
static inline uint64_t mix(uint64_t h, uint64_t w)
{
	unsigned __int128 r = (unsigned __int128)(h ^ w) * 0x9e3779b97f4a7c15ull;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t st_hash(const struct flow_subtable *st, const struct flow_key *k)
{
	uint64_t h = st->seed;

	for (unsigned j = 0; j < st->n_words; j++) {
		unsigned w = st->words[j];

		h = mix(h, k->w[w] & st->mask.w[w]) + w;
	}
	return h;
}

/* True when @k & mask equals the rule's value on every word the mask touches. */
static inline bool st_equal(const struct flow_subtable *st, const struct flow_key *k, const struct flow_rule *r)
{
	uint64_t diff = 0;

	for (unsigned j = 0; j < st->n_words; j++) {
		unsigned w = st->words[j];

		diff |= (k->w[w] & st->mask.w[w]) ^ r->match.value.w[w];
	}
	return diff == 0;
}

static inline const struct flow_rule *st_find(const struct flow_subtable *st, const struct flow_key *k, uint64_t h)
{
	/* At most half the slots are taken, so an empty one ends every probe. */
	for (uint32_t i = (uint32_t)h & st->slot_mask;; i = (i + 1) & st->slot_mask) {
		const struct flow_slot *s = &st->slots[i];

		if (!s->rule)
			return NULL;
		if (s->hash == h && st_equal(st, k, s->rule))
			return s->rule;
	}
}

struct flow_subtable *flow_subtable_build(const struct flow_key *mask, struct flow_rule *const *rules, unsigned n,
					  uint64_t seed)
{
	struct flow_subtable *st;
	size_t slots = 8;

	while (slots < 2 * (size_t)n)
		slots *= 2;
	if (slots > UINT32_MAX)
		return NULL;
	st = calloc(1, sizeof(*st) + slots * sizeof(st->slots[0]));
	if (!st)
		return NULL;
	st->mask = *mask;
	st->seed = seed;
	st->slot_mask = (uint32_t)(slots - 1);
	for (unsigned w = 0; w < FLOW_KEY_WORDS; w++)
		if (mask->w[w])
			st->words[st->n_words++] = (uint8_t)w;

	for (unsigned i = 0; i < n; i++) {
		const struct flow_rule *r = rules[i];
		uint64_t h = st_hash(st, &r->match.value);
		uint32_t j;

		for (j = (uint32_t)h & st->slot_mask; st->slots[j].rule; j = (j + 1) & st->slot_mask) {
			const struct flow_rule *o = st->slots[j].rule;

			if (st->slots[j].hash == h && st_equal(st, &r->match.value, o))
				break;
		}
		if (!st->slots[j].rule) {
			st->slots[j] = (struct flow_slot){ h, r };
			st->n_rules++;
		} else if (r->priority > st->slots[j].rule->priority ||
			   (r->priority == st->slots[j].rule->priority && r->seq < st->slots[j].rule->seq)) {
			st->slots[j].rule = r;	/* the same packets, a higher priority: the other can never win */
		}
		if (r->priority > st->max_priority)
			st->max_priority = r->priority;
	}
	return st;
}

void flow_subtable_free(struct flow_subtable *st)
{
	free(st);
}

static int by_max_priority(const void *a, const void *b)
{
	const struct flow_subtable *x = *(const struct flow_subtable *const *)a;
	const struct flow_subtable *y = *(const struct flow_subtable *const *)b;

	return (int)y->max_priority - (int)x->max_priority;
}

struct flow_cls *flow_cls_build(const struct flow_subtable *const *st, unsigned n)
{
	struct flow_cls *c = malloc(sizeof(*c) + n * sizeof(c->st[0]));

	if (!c)
		return NULL;
	c->n = n;
	c->n_rules = 0;
	for (unsigned i = 0; i < n; i++) {
		c->st[i] = st[i];
		c->n_rules += st[i]->n_rules;
	}
	qsort(c->st, n, sizeof(c->st[0]), by_max_priority);
	return c;
}

/* @wc |= @st's mask, on the words it touches. */
static inline void st_widen(const struct flow_subtable *st, struct flow_key *wc)
{
	for (unsigned j = 0; j < st->n_words; j++)
		wc->w[st->words[j]] |= st->mask.w[st->words[j]];
}

/* flow_cls_lookup(), and the mask of every subtable it looked into added to @wc (when not NULL). */
static inline const struct flow_rule *cls_lookup(const struct flow_cls *c, const struct flow_key *k, struct flow_key *wc)
{
	const struct flow_rule *best = NULL;
	int best_pri = -1;

	if (!c)
		return NULL;
	for (unsigned i = 0; i < c->n; i++) {
		const struct flow_subtable *st = c->st[i];
		const struct flow_rule *r;

		if ((int)st->max_priority <= best_pri)
			break;	/* this one and every later one cannot beat what was found */
		if (wc)
			st_widen(st, wc);
		r = st_find(st, k, st_hash(st, k));
		if (r && (int)r->priority > best_pri) {
			best = r;
			best_pri = r->priority;
		}
	}
	return best;
}

const struct flow_rule *flow_cls_lookup(const struct flow_cls *c, const struct flow_key *k)
{
	return cls_lookup(c, k, NULL);
}

const struct flow_rule *flow_cls_lookup_wc(const struct flow_cls *c, const struct flow_key *k, struct flow_key *wc)
{
	return cls_lookup(c, k, wc);
}

/*
 * Up to FLOW_BATCH_MAX keys: per subtable, the hashes of the keys still in
 * the running, prefetch, then probes; each key's @wc (when @wc is not
 * NULL) gets the masks of the subtables it was looked up in.
 */
static void lookup_chunk(const struct flow_cls *c, const struct flow_key *const keys[], unsigned n,
			 const struct flow_rule *out[], struct flow_key *const wc[])
{
	int best[FLOW_BATCH_MAX];
	uint64_t hash[FLOW_BATCH_MAX];
	uint8_t todo[FLOW_BATCH_MAX];

	for (unsigned i = 0; i < n; i++) {
		out[i] = NULL;
		best[i] = -1;
	}
	for (unsigned s = 0; s < c->n; s++) {
		const struct flow_subtable *st = c->st[s];
		unsigned m = 0;

		for (unsigned i = 0; i < n; i++)
			if (best[i] < (int)st->max_priority)
				todo[m++] = (uint8_t)i;
		if (!m)
			break;	/* every key already has a rule no later subtable can beat */
		for (unsigned j = 0; j < m; j++) {
			hash[j] = st_hash(st, keys[todo[j]]);
			prefetch_r(&st->slots[(uint32_t)hash[j] & st->slot_mask]);
		}
		for (unsigned j = 0; j < m; j++) {
			unsigned i = todo[j];
			const struct flow_rule *r = st_find(st, keys[i], hash[j]);

			if (wc)
				st_widen(st, wc[i]);
			if (r && (int)r->priority > best[i]) {
				out[i] = r;
				best[i] = r->priority;
			}
		}
	}
}

void flow_cls_lookup_batch(const struct flow_cls *c, const struct flow_key *const keys[], unsigned n,
			   const struct flow_rule *out[])
{
	flow_cls_lookup_batch_wc(c, keys, n, out, NULL);
}

void flow_cls_lookup_batch_wc(const struct flow_cls *c, const struct flow_key *const keys[], unsigned n,
			      const struct flow_rule *out[], struct flow_key *const wc[])
{
	if (!c) {
		for (unsigned i = 0; i < n; i++)
			out[i] = NULL;
		return;
	}
	for (unsigned at = 0; at < n; at += FLOW_BATCH_MAX)
		lookup_chunk(c, keys + at, n - at < FLOW_BATCH_MAX ? n - at : FLOW_BATCH_MAX, out + at,
			     wc ? wc + at : NULL);
}
