/* batch.h - the batch that goes through the pipeline's stages, with one verdict per frame. */
#ifndef VSW_DP_BATCH_H
#define VSW_DP_BATCH_H

/*
 * The lookup stage (today the learning bridge, the `normal` action; later
 * a flow table) decides and does not send: it writes one verdict per
 * frame, and the datapath's actions carry them out (egress.c).  A verdict
 * is 16 bits, a port's slot below the special values:
 *
 *   0 .. PORT_MAX - 1                    one port, its slot number
 *   DP_DEST_FLOOD   (0xfe00)             every port but the ingress one
 *   DP_DEST_UNSET   (0xfe01)             no verdict yet (a secured port's frame that passed its check)
 *   DP_DEST_COPIED  (0xfe02)             sent only as copies (flow outputs: dp/flows.h), not a drop
 *   DP_DEST_DROP | why  (0xff00 + why)   nowhere, for reason why (enum port_drop)
 *
 * and counts them by kind, so the actions stage picks its passes once per
 * batch.
 */

#include <stdbool.h>
#include <stdint.h>

#include "port/port.h"

#define DP_DEST_FLOOD 0xfe00u
#define DP_DEST_UNSET 0xfe01u
#define DP_DEST_COPIED 0xfe02u
#define DP_DEST_DROP 0xff00u
#define DP_DEST_DROP_WHY(why) (DP_DEST_DROP | (unsigned)(why))

_Static_assert(PORT_MAX <= DP_DEST_FLOOD, "a port's slot is a verdict below DP_DEST_FLOOD");
_Static_assert(DROP__COUNT <= 0xff, "a drop reason fits a verdict's low byte");

/* Is verdict @d a drop (its reason: dp_dest_drop_why)? */
static inline bool dp_dest_is_drop(unsigned d)
{
	return d >= DP_DEST_DROP;
}

static inline enum port_drop dp_dest_drop_why(unsigned d)
{
	return (enum port_drop)(d & 0xff);
}

struct dp_batch {
	struct port *in;		/* where every frame of the batch came from */
	struct pkt *pkts;
	unsigned n;
	unsigned n_out, n_flood, n_drop;	/* verdicts of each kind (lookup fills them) */
	bool vlan;			/* frames have pkt.vlan (the switch has VLAN ports): tx makes each port's form */
	uint16_t dest[PKT_BURST];
};

static inline void dp_batch_output(struct dp_batch *b, unsigned i, unsigned port)
{
	b->dest[i] = (uint16_t)port;
	b->n_out++;
}

static inline void dp_batch_flood(struct dp_batch *b, unsigned i)
{
	b->dest[i] = DP_DEST_FLOOD;
	b->n_flood++;
}

static inline void dp_batch_drop(struct dp_batch *b, unsigned i, enum port_drop why)
{
	b->dest[i] = (uint16_t)DP_DEST_DROP_WHY(why);
	b->n_drop++;
}

#endif
