/* switch_vlan.h - 802.1Q VLANs on ports for the `normal` action: classify on ingress, filter and tag per egress port. */
#ifndef VSW_SWITCH_SWITCH_VLAN_H
#define VSW_SWITCH_SWITCH_VLAN_H

/*
 * The semantics are Open vSwitch's (ovs-vswitchd.conf.db(5), Port table,
 * "VLAN Configuration"): a frame's VLAN is decided when it enters, and
 * each port it leaves by gets the form that port's mode says:
 *
 *   mode             ingress: untagged (or VID 0)   ingress: tagged VID v       egress of VLAN v
 *   trunk            VLAN 0                         VLAN v                      tagged, but VLAN 0
 *   access tag=N     VLAN N                         drop `vlan_tagged`          untagged
 *   native-tagged    VLAN N                         VLAN v                      tagged
 *   native-untagged  VLAN N                         VLAN v                      untagged if v = N
 *
 * A trunk with trunks= takes and sends only those VLANs (a native-* port
 * its native one too); other ingress is a `vlan_denied` drop, other egress
 * is not sent there (the flood stays in its VLAN).  A frame with VID 0 and
 * a priority is in the port's VLAN and keeps the priority; VLAN 0 leaves
 * untagged (OVS's default, without other_config:priority-tags).  Only TPID
 * 0x8100 is a VLAN tag: an 802.1ad frame is an untagged frame to the switch.
 *
 * Where the work happens, and why there:
 *
 *   ingress  switch_vlan_ingress(), one pass over the batch chosen once
 *            per batch, only while a port of the switch has VLAN options
 *            (sw->vlan_ports): the VLAN goes into pkt.vlan (its TCI); the
 *            head is left as it came.  The FDB learns and looks up
 *            (VLAN, MAC) (fdb.h); a unicast whose port does not carry the
 *            VLAN floods within it.
 *   egress   switch_vlan_egress(), before each destination's capture hook
 *            and tx_burst (dp/egress.c): drops from the destination's list
 *            the frames of VLANs it does not carry, and pushes, rewrites
 *            or pops the tag in each remaining frame's head (pkt.h: the
 *            private copy, with 128 bytes of headroom; the view is never
 *            written).  Every tx path and the capture then copy the frame
 *            as it stands (pkt_copy / pkt_segs / pkt_to_buf), so the tag is
 *            on the wire and in the capture exactly as the port sends it.
 *
 * Rather than teach the copy walk a per-destination tag (a parameter to
 * every port's tx_burst), the head is put in the destination's form just
 * before that destination's burst: the destinations of a batch are served
 * one after the other by the worker that owns the heads, a flood frame
 * changes form only between ports of different forms (a 12-byte move in a
 * line already in cache), and the ports, the capture and the offload code
 * that reads the head see one frame, not a frame and a pending tag.  A
 * switch without VLAN options pays one load and a test per batch.
 */

#include <stdbool.h>

#include "switch/switch.h"

/* VLAN ID of a TCI. */
#define SWITCH_VID(tci) ((unsigned)(tci) & 0xfffu)

/* Does @sp carry VLAN @vid (take it in and send it out)? */
static inline bool switch_vlan_carries(const struct switch_port *sp, unsigned vid)
{
	const struct switch_port_cfg *c = &sp->cfg;

	if (c->vlan_mode == SWITCH_VLAN_ACCESS)
		return vid == c->tag;
	if (!c->trunks_only || (c->trunks[vid / 64] >> (vid % 64) & 1))
		return true;
	return c->vlan_mode != SWITCH_VLAN_TRUNK && vid == c->tag;
}

/*
 * Does @c describe VLAN options (anything but a trunk of every VLAN)?
 * Such a port turns VLANs on for the whole switch (sw->vlan_ports).
 */
static inline bool switch_vlan_cfg_on(const struct switch_port_cfg *c)
{
	return c->vlan_mode != SWITCH_VLAN_TRUNK || c->trunks_only;
}

/* A port's entry in switch_portlist.vlan_of[]: its access tag, or SWITCH_LIST_VLAN_ALL / _SOME. */
static inline uint16_t switch_vlan_class(const struct switch_port_cfg *c)
{
	if (c->vlan_mode == SWITCH_VLAN_ACCESS)
		return c->tag;
	return c->trunks_only ? SWITCH_LIST_VLAN_SOME : SWITCH_LIST_VLAN_ALL;
}

/*
 * Add port @c to the counts of flood list @l of the VLANs it carries
 * (switch_vlan_carries(), VLAN by VLAN), or take it out of them (@add
 * false).  O(the VLANs its trunks= lists).
 */
void switch_vlan_list_count(struct switch_portlist *l, const struct switch_port_cfg *c, bool add);

/*
 * Ingress of frame @p through port @sp (switch.c runs it over a batch):
 * its VLAN into pkt.vlan (and pkt.vlan_head), true; or false with the drop
 * reason (`vlan_tagged`, `vlan_denied`) in *@why.
 */
bool switch_vlan_ingress(const struct switch_port *sp, struct pkt *p, enum port_drop *why);

/*
 * Egress to port @out: of the @n frames @in, those @out carries, each in
 * @out's form (tag pushed, rewritten or popped in the head), into @sel
 * (may be @in); returns their count.  A frame without a VLAN (pkt.vlan
 * PKT_VLAN_NONE: not the `normal` action's) passes as it is.
 */
unsigned switch_vlan_egress(const struct vswitch *sw, const struct port *out, struct pkt *const *in, unsigned n,
			    struct pkt **sel);

#endif
