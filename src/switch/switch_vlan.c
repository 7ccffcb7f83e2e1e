/* switch_vlan.c - 802.1Q VLANs on ports: a batch's frames into VLANs on ingress, each egress port's frames and tags. */
#include "switch/switch_vlan.h"

#define TCI_PRIO 0xf000u	/* PCP and DEI: kept when a priority-tagged frame joins the port's VLAN */

/* The frame's VLAN TCI on ingress through @sp, or PKT_VLAN_NONE with the drop reason in *@why. */
static unsigned classify(const struct switch_port *sp, const struct pkt *p, enum port_drop *why)
{
	const struct switch_port_cfg *c = &sp->cfg;
	const uint8_t *h = pkt_head(p);
	unsigned tci = 0, vid = 0;

	if (pkt_vlan_tagged(p)) {
		tci = (unsigned)h[14] << 8 | h[15];
		vid = SWITCH_VID(tci);
	}
	if (vid == 0xfff) {
		*why = DROP_VLAN_DENIED; /* reserved by 802.1Q; and tci 0xffff is PKT_VLAN_NONE */
		return PKT_VLAN_NONE;
	}
	if (vid == 0) {
		/* Untagged or priority-tagged: the port's VLAN (a trunk's is 0), with the priority it came with. */
		if (c->vlan_mode != SWITCH_VLAN_TRUNK)
			vid = c->tag;
		tci = (tci & TCI_PRIO) | vid;
	} else if (c->vlan_mode == SWITCH_VLAN_ACCESS) {
		/* ovs-vswitchd.conf.db(5): dropped "regardless of whether the VLAN ID in the header is the access port's". */
		*why = DROP_VLAN_TAGGED;
		return PKT_VLAN_NONE;
	}
	if (!switch_vlan_carries(sp, vid)) {
		*why = DROP_VLAN_DENIED;
		return PKT_VLAN_NONE;
	}
	return tci;
}

void switch_vlan_list_count(struct switch_portlist *l, const struct switch_port_cfg *c, bool add)
{
	const uint16_t d = add ? 1 : (uint16_t)-1; /* modulo 2^16: a count never goes below 0 */

	if (c->vlan_mode == SWITCH_VLAN_ACCESS) {
		l->vlan_only[c->tag] += d;
		return;
	}
	if (!c->trunks_only) {
		l->all_vlans += add ? 1 : -1u;
		return;
	}
	for (unsigned w = 0; w < SWITCH_VLANS / 64; w++)
		for (uint64_t bits = c->trunks[w]; bits; bits &= bits - 1)
			l->vlan_only[w * 64 + (unsigned)__builtin_ctzll(bits)] += d;
	/* A native-* port's own VLAN, when trunks= does not list it. */
	if (c->vlan_mode != SWITCH_VLAN_TRUNK && !(c->trunks[c->tag / 64] >> (c->tag % 64) & 1))
		l->vlan_only[c->tag] += d;
}

bool switch_vlan_ingress(const struct switch_port *sp, struct pkt *p, enum port_drop *why)
{
	unsigned tci = classify(sp, p, why);

	if (tci == PKT_VLAN_NONE)
		return false;
	p->vlan = (uint16_t)tci;
	p->vlan_head = pkt_vlan_tagged(p);
	return true;
}

/* Is VLAN @vid sent tagged by @c? */
static bool sends_tagged(const struct switch_port_cfg *c, unsigned vid)
{
	switch (c->vlan_mode) {
	case SWITCH_VLAN_ACCESS:
		return false;
	case SWITCH_VLAN_NATIVE_UNTAGGED:
		return vid != 0 && vid != c->tag;
	default:
		return vid != 0;
	}
}

unsigned switch_vlan_egress(const struct vswitch *sw, const struct port *out, struct pkt *const *in, unsigned n,
			    struct pkt **sel)
{
	const struct switch_port *sp = &sw->sp[out->id];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = in[i];
		unsigned vid = SWITCH_VID(p->vlan);

		if (p->vlan == PKT_VLAN_NONE) {
			sel[k++] = p;
			continue;
		}
		if (!switch_vlan_carries(sp, vid))
			continue;
		if (sends_tagged(&sp->cfg, vid)) {
			if (p->vlan_head) {
				uint8_t *h = pkt_head(p);

				/* A frame that came priority-tagged has VID 0 there: its VLAN's ID goes in. */
				h[14] = (uint8_t)(p->vlan >> 8);
				h[15] = (uint8_t)p->vlan;
			} else if (pkt_vlan_push(p, p->vlan) == 0) {
				p->vlan_head = true;
			} else {
				continue; /* no headroom: only a bug of ours (one tag at most is pushed) */
			}
		} else if (p->vlan_head) {
			pkt_vlan_pop(p);
			p->vlan_head = false;
		}
		sel[k++] = p;
	}
	return k;
}
