/* switch.h - the learning bridge (or hub) between ports. */
#ifndef VSW_SWITCH_SWITCH_H
#define VSW_SWITCH_SWITCH_H

#include <stdatomic.h>

#include "port/port.h"
#include "switch/fdb.h"

struct dp_ctx;

enum switch_mode {
	SWITCH_LEARNING,	/* MAC learning; flood broadcast, multicast and unknown unicast */
	SWITCH_HUB,		/* QEMU's hub: every frame to every other port */
};

struct vswitch {
	enum switch_mode mode;
	_Atomic(struct port *) ports[PORT_MAX];	/* published by the control thread, read by workers */
	atomic_uint now_s;			/* coarse clock for aging, ticked by the control thread */
	struct fdb fdb;
};

void switch_init(struct vswitch *sw, enum switch_mode mode, unsigned aging_s);

/*
 * Forward @n frames that entered through @in: learn their sources, find
 * their destinations (never @in itself), and hand each destination its
 * frames in one tx_burst.  Every frame that goes nowhere is counted.
 */
void switch_forward(struct vswitch *sw, struct dp_ctx *ctx, struct port *in, struct pkt *pkts, unsigned n);

#endif
