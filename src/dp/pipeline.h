/* pipeline.h - the order of a worker's stages over one batch, in one place. */
#ifndef VSW_DP_PIPELINE_H
#define VSW_DP_PIPELINE_H

#include "dp/dp.h"

struct vswitch;

/*
 * One batch from queue @q of @in through every stage:
 *
 *   rx burst (port) -> parse -> lookup (`normal`: the learning bridge)
 *     -> actions (drop counts; gather per destination)
 *     -> tx (one tx_burst per destination) -> rx done (source buffers back)
 *
 * with a timing mark after each stage when ctx->io.perf is set (perf.h).
 * Returns the frames the port handed over.
 */
unsigned dp_process_batch(struct vswitch *sw, struct dp_ctx *ctx, struct port *in, unsigned q);

/*
 * The stages after rx, for @n frames that entered through @in (@pkts
 * stays the caller's): parse, lookup, actions, tx.  What
 * dp_process_batch() runs between rx_burst and rx_done; tests and
 * benchmarks call it directly.
 */
void dp_forward(struct vswitch *sw, struct dp_ctx *ctx, struct port *in, struct pkt *pkts, unsigned n);

#endif
