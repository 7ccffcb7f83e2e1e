/* switch_sec.h - port security inside the switch: the check of a secured port's frames. */
#ifndef VSW_SWITCH_SWITCH_SEC_H
#define VSW_SWITCH_SWITCH_SEC_H

#include "switch/switch.h"

/*
 * Check the frames of @b, from a secured port, against its mac= and ip=
 * lists, on their heads (the private copies the parse stage made, which
 * are also what is delivered): a frame it may not send gets a drop verdict
 * with the reason (packet/batch.h), the others PKT_DEST_UNSET.
 */
void switch_sec_check(const struct switch_port *sp, struct pkt_batch *b);

#endif
