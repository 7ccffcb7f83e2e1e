/* egress.h - the actions stage and the tx stage: verdicts into per-destination batches, one tx_burst each. */
#ifndef VSW_DP_EGRESS_H
#define VSW_DP_EGRESS_H

/*
 * After the lookup stage every frame of the batch has a verdict
 * (batch.h).  The actions carry them out without sending:
 *
 *   dp_act_drop()    count the dropped frames on the ingress port, by reason
 *   dp_act_gather()  in batch order, append each frame to its destination's
 *                    list (ctx->out[port]); a flood frame to every port but
 *                    the ingress one, and one that reaches none is a
 *                    `no_destination` drop
 *
 * then the tx stage hands each destination its list (VALE: gather, then
 * one reserve/copy/commit per destination ring):
 *
 *   dp_egress_send() one destination: the capture hook, one tx_burst
 *   dp_egress_done() forget the lists
 *
 * Destinations are served in the order their first frame came in; a
 * destination's frames keep their batch order.
 */

#include "dp/dp.h"

struct vswitch;

/* Count @b's drop verdicts on its ingress port, by reason. */
void dp_act_drop(const struct dp_batch *b);

/* Append @b's output and flood frames to their destinations' lists in @ctx (frames in batch order). */
void dp_act_gather(struct vswitch *sw, struct dp_ctx *ctx, const struct dp_batch *b);

/*
 * Send the @t-th destination's list (0 <= @t < ctx->ntouched): capture
 * hook, tx_burst.  Returns the port, or NULL when it went away meanwhile
 * (the frames are then nobody's: the port was deleted).  *@n: the frames.
 */
struct port *dp_egress_send(struct vswitch *sw, struct dp_ctx *ctx, unsigned t, unsigned *n);

/* Every list sent: empty them for the next batch. */
void dp_egress_done(struct dp_ctx *ctx);

#endif
