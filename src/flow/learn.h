/* learn.h - the learn action: its compiled form, and the rule one run of it makes from the packet's key. */
#ifndef VSW_FLOW_LEARN_H
#define VSW_FLOW_LEARN_H

/*
 * learn(...) adds or modifies a rule, as `ovs-ofctl --strict mod-flows`
 * would (ovs-actions(7), "The learn action"): its arguments give the new
 * rule's table, priority, timeouts and cookie, and specs that say its
 * match and actions, from constants or from fields of the packet that
 * runs the action.  Compiled (parse_act.c) into an FA_LEARN action
 * followed by one FA_LEARN_SPEC per spec:
 *
 *   FA_LEARN       .table the new rule's table, .port its priority,
 *                  .n the specs after it; .val: cookie, idle and hard
 *                  timeouts (flow_learn_args())
 *   FA_LEARN_SPEC  .syntax (enum flow_learn_kind)
 *                    MATCH_FIELD  dst=src   .field/.start/.n_bits matched to
 *                                           .src_field/.src_start of the packet
 *                                           (dst alone: src is dst)
 *                    MATCH_IMM    dst=value .field/.start/.n_bits matched to .val
 *                    LOAD_FIELD   load:src->dst   the new rule loads the packet's src
 *                    LOAD_IMM     load:value->dst the new rule loads .val
 *                    OUTPUT       output:src      the new rule outputs to the port in
 *                                                 .src_field/.src_start/.n_bits
 *                  .val holds a constant as a flow_u128 (host order), its bits
 *                  [0, .n_bits)
 *
 * Running it (actions.c) hands the FA_LEARN and the key to the executor's
 * learn callback; on vswd's data path that queues both for the control
 * thread (dp/flows.c), which builds the rule with flow_learn_build() and
 * applies it with flow_db_learn() (table.h).  Not supported, refused by
 * name: fin_idle_timeout, fin_hard_timeout, delete_learned, limit,
 * result_dst (and send_flow_rem is taken and ignored: vsw has no
 * controller to tell).
 */

#include <stdint.h>
#include <string.h>

#include "flow/actions.h"
#include "flow/table.h"

#define FLOW_LEARN_SPECS_MAX 32		/* specs of one learn action */

enum flow_learn_kind {
	FLK_MATCH_FIELD,
	FLK_MATCH_IMM,
	FLK_LOAD_FIELD,
	FLK_LOAD_IMM,
	FLK_OUTPUT,
};

/* An FA_LEARN's arguments besides table and priority (kept in its .val). */
struct flow_learn_args {
	uint64_t cookie;
	uint16_t idle_timeout_s, hard_timeout_s;
	uint8_t send_flow_rem;
};

static inline struct flow_learn_args flow_learn_args(const struct flow_act *a)
{
	struct flow_learn_args g;

	_Static_assert(sizeof(g) <= sizeof(a->val), "learn's arguments fit an action's value");
	memcpy(&g, a->val, sizeof(g));
	return g;
}

/*
 * The edit learn action @a (an FA_LEARN, its specs right after it) makes
 * for a packet with key @k: table, priority, timeouts, cookie, the match
 * and the actions (allocated: @mod->actions, owned by the caller).  0, or
 * -ENOMEM.
 */
int flow_learn_build(const struct flow_act *a, const struct flow_key *k, struct flow_mod *mod);

/*
 * Hashes of what @a's rule for key @k depends on: the return value, of
 * its match (the action's address and every bit its match specs read
 * from @k); *@rest, of the rest (the bits its load and output specs
 * read).  Equal pairs make the same rule (barring collisions): the data
 * path sends one of them; the same match with another rest is a rule
 * that changes (a MAC that moved).
 */
uint64_t flow_learn_hash(const struct flow_act *a, const struct flow_key *k, uint64_t *rest);

#endif
