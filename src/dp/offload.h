/* offload.h - the tx stage's software fallback: the segments and checksums a destination did not accept, done just before its tx_burst. */
#ifndef VSW_DP_OFFLOAD_H
#define VSW_DP_OFFLOAD_H

/*
 * A frame with an offload request (packet/gso.h) goes to each destination
 * as it is when the destination takes the request whole (port.tx_offload),
 * and otherwise as finished frames made for that destination alone:
 *
 *   group for port B:  [ a | b: 64 KiB TSO | c ]     B takes no TSO
 *   to B's tx_burst:   [ a | b0 | b1 | ... | b45 | c ]   (in bursts of DP_OFFLOAD_SEGS)
 *                             ^ segments: private heads in the worker's
 *                               dp_offload.seg[], views into b's source
 *
 * b's own head, shared by all its destinations, is never written, so port
 * C of the same flood gets b whole if it takes TSO.  Frames from a port
 * that never makes requests (rx_offload false) are not even looked at:
 * the fallback is chosen once per destination and batch, not per byte.
 * The requests were checked at the source's rx (port_offload_rx_ok()).
 */

#include "port/capture.h"
#include "port/port.h"

#define DP_OFFLOAD_SEGS 64	/* finished frames per tx_burst of the fallback */

/* A worker's room for the fallback (in its dp_ctx): nothing is allocated on the data path. */
struct dp_offload {
	struct pkt seg[DP_OFFLOAD_SEGS];	/* segments and completed clones, reused per tx_burst */
	struct pkt *out[DP_OFFLOAD_SEGS];	/* the tx_burst's list: frames as they are and seg[] */
};

/* True when one of @pkts needs of @out more than it takes (caller: only for a source with rx_offload). */
static inline bool dp_offload_needed(const struct port *out, struct pkt *const *pkts, unsigned n)
{
	unsigned takes = atomic_load_explicit(&out->tx_offload, memory_order_relaxed);

	for (unsigned i = 0; i < n; i++)
		if (gso_needs(pkts[i]) & ~takes)
			return true;
	return false;
}

/* @pkts to @out with what it does not take done first (in bursts): the capture hook and tx_burst per burst. */
void dp_offload_send(struct dp_offload *o, struct port *in, struct port *out, struct port_io *io,
		     struct pkt *const *pkts, unsigned n);

/* The tx stage's send of @n frames from @in to @out: the capture hook and one tx_burst, or the fallback. */
static inline void dp_offload_tx(struct dp_offload *o, struct port *in, struct port *out, struct port_io *io,
				 struct pkt *const *pkts, unsigned n)
{
	if (in->rx_offload && dp_offload_needed(out, pkts, n)) {
		dp_offload_send(o, in, out, io, pkts, n);
		return;
	}
	capture_port_tx(out, pkts, n);
	out->ops->tx_burst(out, io, pkts, n);
}

#endif
