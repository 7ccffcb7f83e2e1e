/* dp_fixture.h - a small data path for unit tests: a switch, a worker's dp_ctx and ports 0..N-1 of fake ops. */
#ifndef VSW_TESTS_DP_FIXTURE_H
#define VSW_TESTS_DP_FIXTURE_H

#include <stdatomic.h>
#include <stdint.h>

#include "port/port.h"
#include "switch/switch.h"

struct dp_ctx;

/*
 * The set-up the data path tests share (test_dp_*.c, test_pipeline*.c):
 *
 *     frame --> dp_forward(*sw, *ctx, &ports[i], ...) --> ops->tx_burst(&ports[j], ...)
 *
 * *sw is a switch of @mode (300 s aging, 4096 FDB entries) on the heap,
 * *ctx a zeroed dp_ctx aligned as packets are; ports[i] gets id i and
 * @ops and takes slot i of the switch.  The caller zeroes ports[] (they
 * are usually part of its zeroed fixture) and sets what else it needs
 * (offloads, limits, a clock) afterwards.  Returns 0, or -ENOMEM or
 * switch_init()'s error with nothing left allocated.
 */
int dp_fixture_init(struct vswitch **sw, struct dp_ctx **ctx, enum switch_mode mode,
		    struct port *ports, unsigned nports, const struct port_ops *ops);

/* Undoes dp_fixture_init(): the switch destroyed, both freed.  Ports are the caller's. */
void dp_fixture_destroy(struct vswitch *sw, struct dp_ctx *ctx);

/* @p's drop counter for @why. */
static inline uint64_t port_drops(struct port *p, enum port_drop why)
{
	return atomic_load(&p->stats.drops[why]);
}

#endif
