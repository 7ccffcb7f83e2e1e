/* batch.h - the batch that goes through the pipeline's stages (dp/pipeline.c), with one verdict per frame. */
#ifndef VSW_PACKET_BATCH_H
#define VSW_PACKET_BATCH_H

/*
 * The lookup stage (today the learning bridge, the `normal` action; later
 * a flow table) decides and does not send: it writes one verdict per
 * frame, and the datapath's actions carry them out (egress.c).  A verdict
 * is 16 bits, a port's slot below the special values:
 *
 *   0 .. PORT_MAX - 1                    one port, its slot number
 *   PKT_DEST_FLOOD   (0xfe00)             every port but the ingress one
 *   PKT_DEST_UNSET   (0xfe01)             no verdict yet (a secured port's frame that passed its check)
 *   PKT_DEST_COPIED  (0xfe02)             sent only as copies (flow outputs: dp/flows.h), not a drop
 *   PKT_DEST_DROP | why  (0xff00 + why)   nowhere, for reason why (enum port_drop)
 *
 * and counts them by kind, so the actions stage picks its passes once per
 * batch.
 *
 * Here, below the lookup stages that write verdicts (switch/, the flow
 * tables of dp/) and the stages that carry them out (dp/), so that neither
 * includes the other's folder; what a verdict names (a port's slot, a drop
 * reason of enum port_drop, port/port.h) is checked to fit where both are
 * known (dp/dp.h).
 */

#include <stdbool.h>
#include <stdint.h>

#include "packet/pkt.h"

struct port;

#define PKT_DEST_FLOOD 0xfe00u
#define PKT_DEST_UNSET 0xfe01u
#define PKT_DEST_COPIED 0xfe02u
#define PKT_DEST_DROP 0xff00u
#define PKT_DEST_DROP_WHY(why) (PKT_DEST_DROP | (unsigned)(why))

/* Is verdict @d a drop (its reason: pkt_dest_drop_why)? */
static inline bool pkt_dest_is_drop(unsigned d)
{
	return d >= PKT_DEST_DROP;
}

/* The reason of drop verdict @d: an enum port_drop. */
static inline unsigned pkt_dest_drop_why(unsigned d)
{
	return d & 0xff;
}

struct pkt_batch {
	struct port *in;		/* where every frame of the batch came from */
	struct pkt *pkts;
	unsigned n;
	unsigned n_out, n_flood, n_drop;	/* verdicts of each kind (lookup fills them) */
	bool vlan;			/* frames have pkt.vlan (the switch has VLAN ports): tx makes each port's form */
	uint16_t dest[PKT_BURST];
};

/*
 * An empty batch of frames from @in at @pkts: its header only.  dest[] is
 * left as it is (each frame's entry is written when the frame is put in),
 * where `(struct pkt_batch){ ... }` would zero all of it, a `rep stosq`
 * of ~170 bytes each time.
 */
static inline void pkt_batch_start(struct pkt_batch *b, struct port *in, struct pkt *pkts)
{
	b->in = in;
	b->pkts = pkts;
	b->n = 0;
	b->n_out = b->n_flood = b->n_drop = 0;
	b->vlan = false;
}

static inline void pkt_batch_output(struct pkt_batch *b, unsigned i, unsigned port)
{
	b->dest[i] = (uint16_t)port;
	b->n_out++;
}

static inline void pkt_batch_flood(struct pkt_batch *b, unsigned i)
{
	b->dest[i] = PKT_DEST_FLOOD;
	b->n_flood++;
}

/* Frame @i goes nowhere, for reason @why (an enum port_drop). */
static inline void pkt_batch_drop(struct pkt_batch *b, unsigned i, unsigned why)
{
	b->dest[i] = (uint16_t)PKT_DEST_DROP_WHY(why);
	b->n_drop++;
}

#endif
