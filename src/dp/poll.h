/* poll.h - which of its queues a worker polls: hot ones every round, cold ones when kicked (see dp.h). */
#ifndef VSW_DP_POLL_H
#define VSW_DP_POLL_H

/*
 * A worker's queues move between two sets (struct dp_poll, its own):
 *
 *          frames polled, or a kick (epoll event naming it)
 *        +--------------------------------------------------+
 *        v                                                  |
 *   [ hot: polled every round ] ---- no frame for -----> [ cold: armed, polled
 *     notifications off             DP_COLD_AFTER_US       only in turn, one per
 *                                   (and arming found      check, in case a kick
 *                                    nothing waiting)      went missing ]
 *
 * A round costs the hot queues; the cold ones cost one epoll_wait(0)
 * every DP_COLD_CHECK_US, however many there are (and every
 * DP_KICKS_IDLE_US of a busy-polling worker's idle time, which is
 * spent spinning anyway: dp_poll_kicks()).  A queue turns cold
 * only when arming it says nothing is waiting: one that must be polled
 * (no wake-up fd, frames still to give: rx_arm() true) stays hot.  A new
 * list (ports added, deleted, rings changed) starts every queue hot,
 * notifications off.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "dp/dp.h"

struct vswitch;

/* Key of a queue in the worker's epoll set: what a kick names. */
static inline uint64_t dp_poll_key(unsigned slot, unsigned q)
{
	return (uint64_t)slot << 32 | q;
}
#define DP_POLL_KEY_WAKE UINT64_MAX	/* the worker's own wake-up eventfd */

/* Start over on list @l: every queue hot and disarmed, as of counter @now. */
void dp_poll_reset(struct dp_poll *ps, const struct dp_rxq_list *l, uint64_t now);

/* One batch from every hot queue, from hot[start] on; returns the frames moved. */
unsigned dp_poll_round(struct dp_poll *ps, struct vswitch *sw, struct dp_ctx *ctx, uint64_t now);

/*
 * Every DP_COLD_CHECK_US (ps->next_check): idle hot queues turn cold,
 * kicked cold ones (epoll_wait on @epfd, not waiting) turn hot, and one
 * cold queue is polled.  Returns the frames that moved.
 */
unsigned dp_poll_check(struct dp_poll *ps, struct vswitch *sw, struct dp_ctx *ctx, int epfd, uint64_t now);

/*
 * An idle round of a busy-polling worker (counted: one without any until
 * the next check keeps no idle queue hot): every DP_KICKS_IDLE_US
 * (ps->next_kicks), the cold queues that were kicked turn hot (one
 * epoll_wait on @epfd, not waiting; nothing polled, nothing cooled).
 */
void dp_poll_kicks(struct dp_poll *ps, int epfd, uint64_t now);

/* Before sleeping: notifications on for the hot queues too; true when one has frames already. */
bool dp_poll_arm(struct dp_poll *ps);
/* After sleeping (or an arm that found frames): the hot queues' notifications off again. */
void dp_poll_disarm(struct dp_poll *ps);

/* What epoll_wait returned while sleeping: kept, and warmed at the next round (the list may change first). */
void dp_poll_woken(struct dp_poll *ps, const struct epoll_event *ev, int n);
/* The queues kept by dp_poll_woken() turn hot (same list as then). */
void dp_poll_warm_woken(struct dp_poll *ps, uint64_t now);

#endif
