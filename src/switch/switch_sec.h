/* switch_sec.h - port security inside the switch: the check of a secured port's frames. */
#ifndef VSW_SWITCH_SWITCH_SEC_H
#define VSW_SWITCH_SWITCH_SEC_H

#include "switch/switch.h"

/*
 * Keep the frames of @pkts[0..n) that a secured port may send (its mac=
 * and ip= lists), moved to the front in order; count the others by reason
 * on @in.  Each kept frame now starts with a private copy of its first
 * PKT_HDR_COPY bytes (in @ctx), the bytes that were checked.  Returns the
 * number kept.
 */
unsigned switch_sec_filter(const struct switch_port *sp, struct dp_ctx *ctx, struct port *in, struct pkt *pkts,
			   unsigned n);

#endif
