/* batch.h - the batch that goes through the pipeline's stages, with one verdict per frame. */
#ifndef VSW_DP_BATCH_H
#define VSW_DP_BATCH_H

/*
 * The lookup stage (today the learning bridge, the `normal` action; later
 * a flow table) decides and does not send: it writes one verdict per
 * frame, and the datapath's actions carry them out (egress.c):
 *
 *   dest[i] <  DP_DEST_FLOOD      one port, its slot number
 *   dest[i] == DP_DEST_FLOOD      every port but the ingress one
 *   dest[i] &  DP_DEST_DROP       nowhere, for reason dest[i] & 0xff (enum port_drop)
 *
 * and counts them by kind, so the actions stage picks its passes once per
 * batch.
 */

#include <stdint.h>

#include "port/port.h"

#define DP_DEST_FLOOD 0x100u
#define DP_DEST_DROP 0x200u
#define DP_DEST_UNSET 0x400u	/* no verdict yet (a secured port's frame that passed its check) */
#define DP_DEST_DROP_WHY(why) (DP_DEST_DROP | (unsigned)(why))

_Static_assert(PORT_MAX <= DP_DEST_FLOOD, "a port's slot is a verdict below DP_DEST_FLOOD");
_Static_assert(DROP__COUNT <= 0xff, "a drop reason fits a verdict's low byte");

struct dp_batch {
	struct port *in;		/* where every frame of the batch came from */
	struct pkt *pkts;
	unsigned n;
	unsigned n_out, n_flood, n_drop;	/* verdicts of each kind (lookup fills them) */
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
