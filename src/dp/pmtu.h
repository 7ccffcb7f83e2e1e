/* pmtu.h - the tx stage's size check for a destination with a frame limit (a tunnel): too-big frames dropped and answered with ICMP for path MTU discovery. */
#ifndef VSW_DP_PMTU_H
#define VSW_DP_PMTU_H

/*
 * A port whose medium cannot carry a frame past some size and must not
 * fragment it (a VXLAN tunnel: RFC 7348 4.3) says so in port.tx_frame_max.
 * Just before its burst, the tx stage takes the frames that do not fit out
 * of the list, counts them as its too_big drops, and answers their senders
 * the way a router on the path would (packet/icmp_pmtu.h), so that TCP's
 * path MTU discovery works through the tunnel:
 *
 *   batch from A:  [ a | b: 1514 B, DF | c ]  --> tunnel T (tx_frame_max 1464)
 *   to T:          [ a | c ]                      b: T's too_big drop
 *   answers:       [ ICMP 3/4, MTU 1450: from b's destination to b's source ]
 *                    queued in the worker's dp_pmtu, then through the
 *                    pipeline as a batch received on T (pipeline.c):
 *                    learned, looked up, VLANs, flows, like any frame
 *                    from the tunnel, and delivered to A's sender.
 *
 * A segmentation request (TSO/USO) is checked by the size of the segments
 * it makes: headers + gso_size (the fallback cuts the frame just after).
 * The MTU answered is the limit less the frame's own link header (an
 * untagged IPv4 frame over an IPv4 underlay of 1500: 1500 - 50 = 1450).
 *
 * A port that picks each frame's destination itself, each with a limit
 * of its own (a vxlan port's remotes behind routes of different MTUs),
 * checks there instead (its tx_frame_max 0 while its limits differ) and
 * hands the too-big frames back through port_io.too_big
 * (dp_pmtu_port_too_big(), below): the same answer, with the limit of the
 * destination the frame was to take.
 *
 * Cost: ports without a limit pay one relaxed load per burst; a port with
 * one, a compare per frame; only too-big frames do more.  Answers are
 * rate-limited per worker (DP_PMTU_RATE per second, DP_PMTU_MAX per batch;
 * the rest are plain drops: TCP retransmits and gets its answer then), and
 * never made while answers go through (an answer is an ICMP error, which
 * is never answered anyway).
 */

#include <stdbool.h>
#include <stdint.h>

#include "packet/icmp_pmtu.h"
#include "port/port.h"

#define DP_PMTU_MAX 8		/* answers queued per batch */
#define DP_PMTU_RATE 1000u	/* answers per second per worker, in a bucket of DP_PMTU_MAX */

/* A worker's answers to too-big frames (in its dp_ctx); nothing allocated on the data path. */
struct dp_pmtu {
	unsigned n;			/* answers queued: pkts[0..n) */
	bool answering;			/* the answers are going through: make none */
	unsigned tokens;		/* the rate limit's bucket */
	uint64_t refill_ms;		/* when it last gained tokens (CLOCK_MONOTONIC_COARSE) */
	struct pkt *keep[PKT_BURST];	/* the burst that fits */
	struct pkt pkts[DP_PMTU_MAX];	/* answers, as received frames (in_port: the tunnel's slot) */
	struct iovec iov[DP_PMTU_MAX];
	uint8_t buf[DP_PMTU_MAX][ICMP_PMTU_FRAME_MAX];
};

/*
 * The tx stage, for @n frames @pkts to @out whose tx_frame_max is @max
 * (not 0): the ones that fit into pm->keep (returned: how many), the rest
 * counted too_big on @out and, within the rate, answered into pm.
 */
unsigned dp_pmtu_filter(struct dp_pmtu *pm, struct port *out, unsigned max, struct pkt *const *pkts, unsigned n);

/*
 * port_io.too_big of a worker (its dp_ctx's io; dp.c sets it): @pk, which
 * @out's tx_burst found too big for the destination it picked (limit
 * @frame_max: a tunnel's remote behind a narrower path than the port's
 * other remotes, port_tx_too_big()), answered as dp_pmtu_filter() answers,
 * within the same rate.  The drop is the port's to count.
 */
void dp_pmtu_port_too_big(struct port_io *io, struct port *out, struct pkt *pk, unsigned frame_max);

/* The list of @n frames to send to @out: @pkts as it is when @out has no frame limit, else the ones that fit. */
static inline struct pkt *const *dp_pmtu_fit(struct dp_pmtu *pm, struct port *out, struct pkt *const *pkts,
					     unsigned *n)
{
	unsigned max = atomic_load_explicit(&out->tx_frame_max, memory_order_relaxed);

	if (!max)
		return pkts;
	*n = dp_pmtu_filter(pm, out, max, pkts, *n);
	return pm->keep;
}

#endif
