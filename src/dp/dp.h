/* dp.h - the data path: worker threads that poll port queues and hand frames to the switch. */
#ifndef VSW_DP_DP_H
#define VSW_DP_DP_H

/*
 * Each worker owns a list of (port, queue) pairs, each polled by exactly one
 * worker.  A round: for every hot queue, one batch through the pipeline
 * (pipeline.c: rx_burst of at most PKT_BURST frames or PKT_BURST_BYTES, the
 * budget that keeps one guest from starving the others; parse; lookup;
 * actions; tx; rx_done), timed between stages when timing is on (perf.h).
 *
 * Hot and cold queues (poll.c), so that idle ports cost a round nothing:
 *
 *   hot   polled every round; one with no frame for DP_COLD_AFTER_US turns
 *         cold: its notifications are enabled (enable, then re-check)
 *   cold  not polled; its driver kicks on its next frame.  Every
 *         DP_COLD_CHECK_US a worker reads its epoll set without waiting
 *         (one syscall for all its cold queues) and a queue that was
 *         kicked turns hot again; one cold queue is polled as well, in
 *         turn, in case a kick went missing.  A busy-polling worker
 *         with nothing to do also reads the kicks every DP_KICKS_IDLE_US:
 *         the first frame on an idle port waits that long at most, not
 *         DP_COLD_CHECK_US.  And unless it was busy for a whole check
 *         (no round without frames: every poll of an idle queue would
 *         cost the busy ones), it keeps idle queues whose poll is a read
 *         of a shared ring (rx_poll_cheap: vhost-user queues the front
 *         end started, afpacket, afxdp) hot while at most DP_HOT_KEEP
 *         queues, busy ones included, are: no kick, no wait at all
 *
 * With nothing to do a worker either spins (busy_poll) or arms its hot
 * queues too and sleeps in epoll_wait on their fds: an idle switch uses no
 * CPU.  Every epoll registration names its queue (slot and queue number),
 * so a kick wakes that queue, not a pass over all of them.
 *
 * The control thread changes what workers see (port list, queue lists,
 * rings, guest memory) only between grace periods, quiescent-state based:
 * it unpublishes the thing, bumps `gen`, and waits until every worker has
 * either passed the top of its loop since (seen_gen == gen) or is asleep
 * (offline).  dp_sync() is that wait.  A port added, deleted or whose
 * rings changed costs a copy of each worker's list and syscalls for that
 * port's queues only (dp_rebuild_port): the other queues keep their fds
 * and their epoll registrations.
 *
 * A worker must never block, yet a notification is a write() on an fd the
 * peer controls (a vhost-user call eventfd), and the peer can make that
 * fd blocking behind our back (the file description is shared).  So a
 * port names itself in ctx->io.blame around such a syscall, and a watchdog
 * checks that every online worker makes progress: dp_sync() while it
 * waits, dp_watchdog() from the control thread's tick.  A worker stuck
 * for DP_STALL_MS gets its port marked broken (port_blame.stalled, port.h) and a
 * signal that ends the syscall with EINTR; the grace period then passes.
 */

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp/offload.h"
#include "dp/pmtu.h"
#include "lib/perf.h"
#include "packet/batch.h"
#include "port/port.h"

_Static_assert(PORT_MAX <= PKT_DEST_FLOOD, "a port's slot is a verdict below PKT_DEST_FLOOD (packet/batch.h)");
_Static_assert(DROP__COUNT <= 0xff, "a drop reason fits a verdict's low byte (packet/batch.h)");

#define DP_WORKERS_MAX 16
#define DP_RXQ_MAX (PORT_MAX * 2)	/* queues one worker polls */
#define DP_RXQ_NONE 0xffffu
#define DP_COLD_AFTER_US 1000	/* a queue without frames for this long is polled only when kicked */
#define DP_COLD_CHECK_US 100	/* how often a busy worker looks for kicks on its cold queues */
#define DP_KICKS_IDLE_US 5	/* and a busy-polling one whose last round moved nothing */
#define DP_HOT_KEEP 8		/* hot queues up to which a busy-polling worker keeps idle rx_poll_cheap ones hot */
#define DP_WAKE_EVENTS 64	/* epoll events taken at once */
#define DP_STALL_MS 1000	/* a worker stuck this long in one place is unstuck */
#define DP_UNSTICK_SIGNAL SIGURG /* ignored by default: harmless if one arrives from elsewhere */

struct vswitch;

struct dp_rxq {
	struct port *port;
	uint8_t q;
	uint16_t slot;		/* the port's */
	int fd;			/* our own dup of that fd (control thread only: moves to the next list); or -1 */
};
_Static_assert(PORT_QUEUES_MAX <= 256, "a queue number fits dp_rxq.q");

/* A worker's queues; the control thread builds the next one while the worker reads this one. */
struct dp_rxq_list {
	unsigned n;
	unsigned seq;			/* one more with every build: a worker's poll state is about one list */
	unsigned fresh;			/* rxq[fresh..n) got new fds in this build (control thread only) */
	uint16_t first[PORT_MAX];	/* slot -> index of its first queue here (a port's are adjacent), or DP_RXQ_NONE */
	struct dp_rxq rxq[DP_RXQ_MAX];
};

/* The frames of a batch for one destination port. */
struct dp_group {
	uint16_t port;
	uint16_t n;
	struct pkt *pkts[PKT_BURST];
};

struct switch_portlist;
struct dp_flow;

#define DP_FLOOD_VID_WORDS 64	/* a bit per VLAN ID (SWITCH_VLANS, asserted in egress.c) */

/* Per-worker scratch for one forwarding round. */
struct dp_ctx {
	struct port_io io;			/* worker id, blame, timing (port.h): what port ops get */
	struct pkt pkts[PKT_BURST];		/* the batch: views, heads (packet/pkt.h); line-aligned */
	struct pkt_batch batch;			/* the verdicts on pkts (packet/batch.h) */
	/*
	 * Egress grouping (egress.c), sized by the batch, not by the switch:
	 * a batch has at most PKT_BURST unicast destinations.
	 */
	struct dp_group grp[PKT_BURST];		/* unicast destinations, in first-frame order (flood frames merged in) */
	unsigned ngrp;
	uint8_t grp_of[PORT_MAX];		/* slot -> 1 + its index in grp[]; 0: no group this batch */
	struct pkt *flood[PKT_BURST];		/* the batch's flood frames within the budget, in batch order */
	unsigned nflood;
	const struct switch_portlist *flood_list; /* the ports they go to (but the ingress and grouped ones) */
	unsigned flood_in;			/* the ingress port's slot */
	unsigned flood_copies;			/* flood copies made this round (dp_round_start zeroes) */
	unsigned flood_debt;			/* what the worker's flood bucket lacks (egress.h): 0 full, paid back each round */
	unsigned *flood_queue_debt;		/* the polled queue's own bucket (dp_queue_start); NULL: none */
	/* The VLANs of the batch's admitted floods (egress.c): a bit each, listed to clear them; or none. */
	uint64_t flood_vids[DP_FLOOD_VID_WORDS];
	uint16_t flood_vid_list[PKT_BURST];
	unsigned n_flood_vids;
	bool flood_none;			/* a flood frame without a VLAN (pkt.vlan PKT_VLAN_NONE): to every port */
	unsigned unicast_out;			/* frames of the polled queue grouped to one port (egress.c; poll.c zeroes) */
	bool flood_starved;			/* a batch had every flood frame refused for the budget this round */
	struct dp_flow *flow;			/* the flow tables' scratch and copies (flows.h), made at dp_start */
	struct dp_offload offload;		/* the tx stage's segments for a destination without offloads (offload.h) */
	struct dp_pmtu pmtu;			/* the tx stage's answers to frames too big for a tunnel (pmtu.h) */
	/* Stage timing (perf.h): the worker's counters this round (NULL: off), sampled by dp_perf_pick(). */
	struct dp_perf *perf_round;
	unsigned perf_mask;			/* dp->perf_every - 1 */
	uint32_t perf_rng;			/* xorshift32 state (never 0): which batch polls have their stages timed */
};

/*
 * Before each batch poll: time its stages (ctx->io.perf set) with
 * probability 1 / perf_every, drawn, not counted: with a count, a period
 * that the round's number of queues divides would time the same queue
 * every time (two ports, one in 16: always the second one's polls).
 */
static inline void dp_perf_pick(struct dp_ctx *ctx)
{
	uint32_t x = ctx->perf_rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	ctx->perf_rng = x;
	ctx->io.perf = ctx->perf_round && !(x & ctx->perf_mask) ? ctx->perf_round : NULL;
}

struct dp;

/*
 * Which of its queues a worker polls (poll.c): its own, no other thread's.
 * hot[] and cold[] hold indexes into the list; at[] says where each one is.
 */
struct dp_poll {
	const struct dp_rxq_list *list;	/* the list this state is about, and its seq */
	unsigned seq;
	unsigned nhot, ncold;
	unsigned start;			/* the round begins at hot[start]: the queue last refused every flood */
	unsigned sweep;			/* next cold queue polled in case its kick went missing */
	uint64_t next_check;		/* cycle counter: cool idle queues, look for kicks */
	uint64_t next_kicks;		/* cycle counter: an idle busy-polling worker looks for kicks (dp_poll_kicks) */
	bool keep_cheap;		/* busy polling: idle rx_poll_cheap queues may stay hot (DP_HOT_KEEP) */
	unsigned idle_rounds;		/* busy polling: rounds that moved nothing since the last check */
	unsigned nkept;			/* of the hot queues, idle ones kept hot at the last check (cool()) */
	uint64_t cold_after, check_every, kicks_idle;	/* DP_COLD_AFTER_US, DP_COLD_CHECK_US, DP_KICKS_IDLE_US in counter ticks */
	unsigned nwake;			/* queues woken in epoll_wait, seen at the next round */
	uint64_t wake[DP_WAKE_EVENTS];
	uint16_t hot[DP_RXQ_MAX], cold[DP_RXQ_MAX];
	uint16_t at[DP_RXQ_MAX];	/* index in hot[], or DP_POLL_COLD | index in cold[] */
	uint64_t last[DP_RXQ_MAX];	/* counter at a hot queue's last frame (or since it is hot) */
	unsigned flood_debt[DP_RXQ_MAX];	/* each queue's own flood bucket (dp_queue_start); 0 when it turns cold */
	uint8_t unicast[DP_RXQ_MAX];	/* 1: the hot queue's last batch of frames sent unicast */
	unsigned unicast_queues;	/* how many hot queues have unicast[] set */
};
#define DP_POLL_COLD 0x8000u
_Static_assert(DP_RXQ_MAX <= DP_POLL_COLD, "a queue's index leaves the cold bit free");

struct dp_worker {
	struct dp *dp;
	unsigned id;
	int cpu;			/* -1: not pinned */
	pthread_t thread;
	int epfd, wakefd;
	struct dp_rxq_list lists[2];	/* published one, and the one being built */
	_Atomic(struct dp_rxq_list *) list;
	struct dp_poll poll;		/* the worker's own */
	atomic_uint seen_gen;
	atomic_bool offline;
	atomic_bool stop;
	atomic_uint_least64_t rounds, sleeps, frames;
	atomic_uint_least64_t busy_frames;	/* frames of the rounds timed (perf.h DP_PT_ROUND counts their cycles) */
	struct dp_ctx ctx;
	struct dp_perf perf;
	/* the watchdog's (control thread only) */
	uint64_t wd_rounds, wd_since_ms;	/* rounds last seen, and since when unchanged */
	const struct port_blame *wd_blamed;	/* already told, this stall */
	bool wd_logged;
};

struct dp {
	struct vswitch *sw;
	bool busy_poll;
	unsigned nworkers;
	struct dp_worker *workers;
	atomic_uint gen;
	atomic_bool perf_on;		/* stage timing (perf.h); workers look once per round */
	atomic_uint perf_every;		/* stages timed in one batch of this many (a power of two) */
	uint64_t tsc_hz;		/* the cycle counter's rate */
	struct dp_perf *perf_base;	/* control thread: each worker's counters at the last dp_perf_reset() */
};

/* Start @nworkers threads (pinned to @cpus[i] when >= 0).  0 or -errno. */
int dp_start(struct dp *dp, struct vswitch *sw, unsigned nworkers, const int *cpus, bool busy_poll);
/* Stage timing on or off from the start (default on); before dp_start, or dp_perf_set() after. */
#define DP_PERF_DEFAULT true
/*
 * Stages timed in one batch poll of this many (dp_perf_every()).  Rounds
 * are always timed (busy cycles are exact); a timed batch costs about
 * fourteen counter reads (25 cycles each on the CI machine) plus the
 * counter updates, so timing every batch would cost 3-10 % of a 64-byte
 * frame's ~200 cycles; one in 16 keeps it well under 1 %.
 */
#define DP_PERF_EVERY_DEFAULT 16u
#define DP_PERF_EVERY_MAX 65536u
/* Stop and join the workers. */
void dp_stop(struct dp *dp);
/*
 * Grace period: return once no worker can still use anything unpublished
 * before the call.  A worker stuck for DP_STALL_MS is unstuck (see above).
 */
void dp_sync(struct dp *dp);
/* Control thread, about once a second: unstick a worker that made no round for DP_STALL_MS. */
void dp_watchdog(struct dp *dp);
/* Switch stage timing on or off (any thread); workers follow from their next round. */
void dp_perf_set(struct dp *dp, bool on);
/* Time the stages of one batch poll in @every (a power of two, 1..DP_PERF_EVERY_MAX); false if it is not one. */
bool dp_perf_every(struct dp *dp, unsigned every);
/* Control thread: start the shown counters from zero (keeps a snapshot; the workers' own counters go on). */
void dp_perf_reset(struct dp *dp);
/*
 * Control thread: worker @w's counters since the last reset into @out
 * (a consistent-enough copy: each counter is read whole).
 */
void dp_perf_read(struct dp *dp, unsigned w, struct dp_perf *out);
/* Recompute every worker's queue list from the switch's ports, every fd anew (control thread). */
void dp_rebuild(struct dp *dp);
/*
 * The same after port @p was published, unpublished or changed its queues
 * or their fds: only @p's queues are looked at again, the others keep
 * their fds (control thread).  O(ports) work, syscalls for @p's queues.
 */
void dp_rebuild_port(struct dp *dp, struct port *p);

/*
 * The flood budget's unit is a copy: a flood frame costs one per
 * destination port, a port that carries its VLAN (switch_vlan.h).  What a
 * queue's own bucket is charged adds, for the batch's first flood frame
 * of each VLAN, DP_FLOOD_VISIT_COPIES per destination port: every port
 * its floods reach is a burst of its own (ring indexes, a notification
 * check, its counters), paid once for the batch's floods however many;
 * and, for the batch's first flood frame, one copy per
 * DP_FLOOD_SKIPS_PER_COPY ports of other VLANs the flood pass walks past
 * (a pass for the batch, each port passed on its two bytes in the list).  Measured
 * (docs/PERFORMANCE.md, "Scale: reading the figures"): a copy of a
 * broadcast to 1,000 idle vhost-user ports costs 1.8 to 3.9 unicast
 * frames' work.
 */
#define DP_FLOOD_VISIT_COPIES 2
#define DP_FLOOD_SKIPS_PER_COPY 64

/*
 * Two buckets of sw->flood_budget copies pay for a flood frame (egress.h):
 *
 * - the worker's, charged the frame's copies and filled by
 *   DP_FLOOD_QUEUE_COPIES for each hot queue a round, idle ones kept hot
 *   (poll.c) left out (dp_round_start): it
 *   bounds the floods of a round, whoever sends them, and refuses only a
 *   storm (two or three ports flooding full batches to each other stay
 *   under it);
 * - the polled queue's own, charged copies and bursts and filled by
 *   DP_FLOOD_QUEUE_SHARE each time the queue is polled (dp_queue_start),
 *   which holds the queue's floods only while another hot queue of the
 *   worker sends unicast (its last batch of frames sent some to one port,
 *   ctx->unicast_out; the mark stays until its next batch of frames or
 *   until it turns cold; a hub, which floods everything, holds none):
 *   then a flooding queue gets about one unicast batch's work a poll,
 *   like the queue it competes with, however many queues are hot and
 *   whatever the fan-out.  A full batch of floods to one port fits it.
 *
 * With the worker's bucket alone, one port broadcasting to 1,000 took the
 * refill of every hot queue, and left unicast beside it 8 % of its rate.
 */
#define DP_FLOOD_QUEUE_COPIES (2 * PKT_BURST)
#define DP_FLOOD_QUEUE_SHARE (PKT_BURST + DP_FLOOD_VISIT_COPIES)

/*
 * A worker round over @queues hot queues begins: the worker's bucket
 * fills up by DP_FLOOD_QUEUE_COPIES for each (at least one: dp.c; tests
 * that call dp_forward() directly pass 1).
 */
static inline void dp_round_start(struct dp_ctx *ctx, unsigned queues)
{
	unsigned refill = DP_FLOOD_QUEUE_COPIES * (queues ? queues : 1);

	ctx->flood_debt = ctx->flood_debt > refill ? ctx->flood_debt - refill : 0;
	ctx->flood_copies = 0;
	ctx->flood_starved = false;
}

/*
 * A queue is polled (poll.c): its own bucket @debt fills up by
 * DP_FLOOD_QUEUE_SHARE and, when @held (another queue sends unicast),
 * holds the floods of the batch that follows; else that batch's floods
 * pay the worker's bucket only.
 */
static inline void dp_queue_start(struct dp_ctx *ctx, unsigned *debt, bool held)
{
	if (*debt)
		*debt = *debt > DP_FLOOD_QUEUE_SHARE ? *debt - DP_FLOOD_QUEUE_SHARE : 0;
	ctx->flood_queue_debt = held ? debt : NULL;
}

#endif
