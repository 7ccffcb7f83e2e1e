/* egress.h - the actions stage and the tx stage: verdicts into per-destination batches, one tx_burst each. */
#ifndef VSW_DP_EGRESS_H
#define VSW_DP_EGRESS_H

/*
 * After the lookup stage every frame of the batch has a verdict
 * (batch.h).  The actions carry them out without sending:
 *
 *   dp_act_drop()    count the dropped frames on the ingress port, by reason
 *   dp_act_gather()  in batch order, append each unicast frame to its
 *                    destination's group (ctx->grp, at most one group per
 *                    frame); put each flood frame the round's budget allows
 *                    on the flood list (ctx->flood) and merge it into every
 *                    group, in batch order
 *
 * then the tx stage hands each destination its frames (VALE: gather, then
 * one reserve/copy/commit per destination ring):
 *
 *   dp_egress_send()        one group: the capture hook, one tx_burst
 *   dp_egress_flood_next()  the flood list to the next port that had no
 *                           group: every published port but the ingress one
 *
 * On a switch with VLAN ports (b->vlan), each destination's frames are
 * first those of the VLANs it carries, with the tag in its form
 * (switch/switch_vlan.h: filtered and pushed/popped in the heads just
 * before that destination's burst, so the capture sees what it sends).
 *   dp_egress_done()        forget the groups
 *
 * Nothing here is sized or looped by the number of ports on the switch,
 * but the flood pass, which is the flood itself:
 *
 *   slot -> group    ctx->grp_of[slot], one byte per slot, cleared group by group
 *   flood targets    the switch's flood list (switch_port_set): the ports
 *                    that exist, not the slots that could
 *
 * Groups are served in the order their first frame came in, then the
 * flood-only ports in slot order; a destination's frames keep their batch
 * order.
 *
 * The flood budget (sw->flood_budget copies; the buckets and their
 * refills: dp.h): a flood frame costs one copy per destination port (its
 * fan-out: the ports of its VLAN, switch_portlist's counts) in the
 * worker's bucket (ctx->flood_debt: what it lacks), and, when the poller
 * holds the queue to its share (ctx->flood_queue_debt, while another
 * queue sends unicast), as much plus DP_FLOOD_VISIT_COPIES per port for
 * the batch's first flood frame of its VLAN (each port's burst) and, for
 * the batch's first, a copy per DP_FLOOD_SKIPS_PER_COPY ports of other
 * VLANs the flood pass walks past (once for the batch, each port passed on
 * its two bytes in the list), in the queue's own.  It passes when each of those buckets holds its cost or
 * is full (a cost bigger than the budget: it goes, and the bucket owes
 * it); else it is a `flood_budget` drop on the ingress port and the rest
 * of the batch goes on.  So a round makes at most max(budget, one
 * fan-out) flood copies, and beside unicast a queue's floods cost about
 * DP_FLOOD_QUEUE_SHARE a poll, a unicast batch's work, however many ports
 * they reach and however many queues are hot.  Unicast frames of the
 * same batch and of every other queue of the round are served as usual,
 * and the worker starts its next round at the first queue whose every
 * flood frame was refused (poll.c), so that flooding ports take turns.
 */

#include "dp/dp.h"

struct vswitch;

/* Count @b's drop verdicts on its ingress port, by reason. */
void dp_act_drop(const struct pkt_batch *b);

/*
 * Group @b's unicast frames by destination and put its flood frames,
 * within the round's budget, on the flood list and into every group
 * (frames in batch order).  Counts `no_destination` (a flood that would
 * reach nobody) and `flood_budget` drops on the ingress port.
 */
void dp_act_gather(struct vswitch *sw, struct dp_ctx *ctx, const struct pkt_batch *b);

/*
 * Send the @t-th group (0 <= @t < ctx->ngrp): capture hook, tx_burst.
 * Returns the port, or NULL when it went away meanwhile (the frames are
 * then nobody's: the port was deleted).  *@n: the frames sent (with
 * VLANs, those of the port's VLANs; none: no tx_burst).
 */
struct port *dp_egress_send(struct vswitch *sw, struct dp_ctx *ctx, unsigned t, unsigned *n);

/*
 * Send the flood list to the next port of the flood pass, from *@cursor
 * (0 to start; the call moves it on): capture hook, tx_burst of the
 * ctx->nflood frames (with VLANs, those of the port's VLANs; a port that
 * carries none of them is passed over).  Returns that port, or NULL when
 * none is left.
 */
struct port *dp_egress_flood_next(struct vswitch *sw, struct dp_ctx *ctx, unsigned *cursor);

/* Every group sent: empty them for the next batch. */
void dp_egress_done(struct dp_ctx *ctx);

#endif
