/* offload.c - the tx stage's software fallback: a destination's frames with the segmentation and checksums it did not accept done (packet/gso.c). */
#include "dp/offload.h"

/* The burst so far to @out: capture hook, tx_burst (which copies every frame before it returns). */
static void flush(struct dp_offload *o, struct port *out, struct port_io *io, unsigned *k, unsigned *used)
{
	if (*k) {
		capture_port_tx(out, o->out, *k);
		out->ops->tx_burst(out, io, o->out, *k);
	}
	*k = 0;
	*used = 0;
}

void dp_offload_send(struct dp_offload *o, struct port *in, struct port *out, struct port_io *io,
		     struct pkt *const *pkts, unsigned n)
{
	unsigned takes = atomic_load_explicit(&out->tx_offload, memory_order_relaxed), k = 0, used = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = pkts[i];

		if (!(gso_needs(p) & ~takes)) {
			if (k == DP_OFFLOAD_SEGS)
				flush(o, out, io, &k, &used);
			o->out[k++] = p;
			continue;
		}
		for (unsigned first = 0;;) {
			int m;

			/* used <= k: the list holds every segment made so far. */
			if (k == DP_OFFLOAD_SEGS)
				flush(o, out, io, &k, &used);
			/* A destination that takes partial checksums gets the segments' so: nobody sums the payload here. */
			m = takes & GSO_TX_CSUM ? gso_segment_partial(p, first, &o->seg[used], DP_OFFLOAD_SEGS - k)
						: gso_segment(p, first, &o->seg[used], DP_OFFLOAD_SEGS - k);
			if (m < 0) {
				/* Checked at rx: only a view shorter than its frame gets here; the source's fault. */
				atomic_fetch_add_explicit(&in->stats.offload_bad[GSO_BAD_VIEW], 1, memory_order_relaxed);
				port_count_drop(in, DROP_BAD_OFFLOAD, 1);
				break;
			}
			if (m == 0)
				break;
			for (int j = 0; j < m; j++)
				o->out[k++] = &o->seg[used++];
			first += (unsigned)m;
		}
	}
	flush(o, out, io, &k, &used);
}
