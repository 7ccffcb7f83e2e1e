/* learn.c - the rule a learn action makes from a packet's key (see learn.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow/field.h"
#include "flow/learn.h"

/* What spec @s gives: the packet's source bits, or its constant. */
static flow_u128 spec_value(const struct flow_act *s, const struct flow_key *k)
{
	flow_u128 v;

	if (s->syntax == FLK_MATCH_IMM || s->syntax == FLK_LOAD_IMM) {
		memcpy(&v, s->val, sizeof(v));
		return v & flow_ones(s->n_bits);
	}
	return flow_field_get128(&flow_fields[s->src_field], k, s->src_start, s->n_bits);
}

/* The action output:@port makes in the new rule (ovs learn_execute(): a port, in_port, flood, all); false: none. */
static bool output_act(struct flow_act *a, uint64_t port)
{
	memset(a, 0, sizeof(*a));
	a->table = FLOW_TABLE_ANY;
	a->port = FLOW_PORT_NONE;
	if (port >= 1 && port < 0xff00) {
		a->type = FA_OUTPUT;
		a->port = (uint16_t)port;
	} else if (port == 0xfff8) {
		a->type = FA_IN_PORT;
	} else if (port == 0xfffb) {
		a->type = FA_FLOOD;
	} else if (port == 0xfffc) {
		a->type = FA_ALL;
	} else {
		return false;	/* 0, LOCAL, CONTROLLER, NORMAL, NONE ...: Open vSwitch adds nothing either */
	}
	return true;
}

int flow_learn_build(const struct flow_act *a, const struct flow_key *k, struct flow_mod *mod)
{
	struct flow_learn_args g = flow_learn_args(a);
	const struct flow_act *spec = a + 1;
	struct flow_actions *acts;
	unsigned n_acts = 0;

	memset(mod, 0, sizeof(*mod));
	mod->table = a->table;
	mod->priority = a->port;
	mod->idle_timeout_s = g.idle_timeout_s;
	mod->hard_timeout_s = g.hard_timeout_s;
	mod->cookie = g.cookie;
	mod->out_port = FLOW_PORT_NONE;
	acts = calloc(1, sizeof(*acts) + a->n * sizeof(acts->a[0]));
	if (!acts)
		return -ENOMEM;
	for (unsigned i = 0; i < a->n; i++) {
		const struct flow_act *s = &spec[i];
		const struct flow_field *f = &flow_fields[s->field];
		flow_u128 v = spec_value(s, k);

		switch ((enum flow_learn_kind)s->syntax) {
		case FLK_MATCH_FIELD:
		case FLK_MATCH_IMM: {
			/* Only the bits the field has (tcp_flags' 12 of 16): a mask flow syntax can say. */
			flow_u128 m = flow_ones(s->n_bits) & (flow_field_valid(f) >> s->start);

			/* A later spec of the same bits wins, as Open vSwitch writes them in order. */
			flow_field_set128(f, &mod->match.value, s->start, s->n_bits, v & m);
			flow_field_set128(f, &mod->match.mask, s->start, s->n_bits, m);
			if (f->flags & FF_SETS_TAG) {
				/* dl_vlan, dl_vlan_pcp: a tag must be there, as their matches say in flow syntax */
				mod->match.value.vlan_tci |= htons(FLOW_TCI_PRESENT);
				mod->match.mask.vlan_tci |= htons(FLOW_TCI_PRESENT);
			}
			break;
		}
		case FLK_LOAD_FIELD:
		case FLK_LOAD_IMM:
			flow_act_set(&acts->a[n_acts++], s->field, s->start, s->n_bits, v, ~(flow_u128)0, FAS_LOAD);
			break;
		case FLK_OUTPUT:
			n_acts += output_act(&acts->a[n_acts], (uint64_t)v);
			break;
		}
	}
	acts->n = n_acts;
	flow_match_normalize(&mod->match);
	mod->actions = acts;
	return 0;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

uint64_t flow_learn_hash(const struct flow_act *a, const struct flow_key *k, uint64_t *rest)
{
	uint64_t h = mix(0x6c6561726eull, (uint64_t)(uintptr_t)a), r = h;

	for (unsigned i = 1; i <= a->n; i++) {
		const struct flow_act *s = &a[i];
		flow_u128 v;

		if (s->syntax == FLK_MATCH_IMM || s->syntax == FLK_LOAD_IMM)
			continue;
		v = flow_field_get128(&flow_fields[s->src_field], k, s->src_start, s->n_bits);
		if (s->syntax == FLK_MATCH_FIELD)
			h = mix(mix(h, (uint64_t)v), (uint64_t)(v >> 64));
		else
			r = mix(mix(r, (uint64_t)v), (uint64_t)(v >> 64));
	}
	*rest = r;
	return h;
}
