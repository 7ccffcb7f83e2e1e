/* flow_ref.h - the flow classifier the plain way (a linear scan) and random rules and keys: what flow/classifier is checked against. */
#ifndef VSW_TESTS_FLOW_REF_H
#define VSW_TESTS_FLOW_REF_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "flow/classifier.h"
#include "flow/key.h"

struct ref_rule {
	struct flow_match m;
	uint16_t priority;
	uint8_t table;
	bool live;
};

/* The highest priority among the live rules of @table matching @k, or -1. */
static inline int ref_best(const struct ref_rule *r, unsigned n, unsigned table, const struct flow_key *k)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++)
		if (r[i].live && r[i].table == table && flow_match_hit(&r[i].m, k) && r[i].priority > best)
			best = r[i].priority;
	return best;
}

/* Add to the reference as the db does: an identical (table, priority, match) replaces. Returns the slot. */
static inline unsigned ref_add(struct ref_rule *r, unsigned *n, const struct flow_match *m, uint16_t prio,
			       uint8_t table)
{
	for (unsigned i = 0; i < *n; i++)
		if (r[i].live && r[i].table == table && r[i].priority == prio && flow_match_equal(&r[i].m, m))
			return i;
	r[*n] = (struct ref_rule){ *m, prio, table, true };
	return (*n)++;
}

/* A classifier answer is right: NULL exactly when nothing matches, else a matching rule of the best priority. */
static inline bool ref_agrees(const struct ref_rule *r, unsigned n, unsigned table, const struct flow_key *k,
			      const struct flow_rule *got)
{
	int best = ref_best(r, n, table, k);

	if (!got)
		return best < 0;
	return got->table == table && flow_match_hit(&got->match, k) && got->priority == best;
}

/*
 * Masks that make subtables of every kind: catch-all, one field, a
 * prefix, a few fields, bits of a register, the IPv6 tunnel addresses
 * (the key's last words).  Values are drawn from a small
 * alphabet so that rules and keys meet.
 */
#define REF_MASKS 14

static inline void ref_mask(struct flow_key *m, unsigned which)
{
	memset(m, 0, sizeof(*m));
	switch (which % REF_MASKS) {
	case 0:
		break;
	case 1:
		m->dl_type = 0xffff;
		break;
	case 2:
		m->dl_type = 0xffff;
		m->nw_proto = 0xff;
		m->tp_dst = 0xffff;
		break;
	case 3:
		m->in_port = 0xffff;
		break;
	case 4:
		memset(m->dl_dst, 0xff, 6);
		break;
	case 5:
		m->dl_type = 0xffff;
		memset(&m->nw_dst, 0xff, 1);	/* a /8 (big-endian: the first byte) */
		break;
	case 6:
		m->dl_type = 0xffff;
		memset(&m->nw_dst, 0xff, 3);	/* /24 */
		break;
	case 7:
		m->dl_type = 0xffff;
		memset(&m->nw_dst, 0xff, 4);
		memset(&m->nw_src, 0xff, 4);
		break;
	case 8:
		memset((uint8_t *)&m->regs[0] + 3, 0xff, 1);	/* reg0[0..7] */
		break;
	case 9:
		m->vlan_tci = 0xffff;
		break;
	case 10:
		m->in_port = 0xffff;
		m->metadata = ~0ull;
		break;
	case 11:
		memset(m->ipv6_dst, 0xff, 8);
		m->tp_src = 0xff00;
		break;
	case 12:
		memset(m->tun_ipv6_dst, 0xff, 8);	/* tun_ipv6_dst=.../64 */
		m->tun_ipv6_src[15] = 0xff;
		break;
	case 13:
		m->dl_type = 0xffff;
		m->nw_proto = 0xff;
		m->tcp_flags = htons(0x0012);	/* tcp_flags=+syn-ack and its kin */
		break;
	}
}

/* A byte from the small alphabet {0, 1, 2}, from @r. */
static inline uint8_t ref_byte(uint32_t r)
{
	return (uint8_t)(r % 3);
}

#endif
