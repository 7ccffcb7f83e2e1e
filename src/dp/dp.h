/* dp.h - the data path: worker threads that poll port queues and hand frames to the switch. */
#ifndef VSW_DP_DP_H
#define VSW_DP_DP_H

/*
 * Each worker owns a list of (port, queue) pairs, each polled by exactly one
 * worker.  A round: for every queue, one batch through the pipeline
 * (pipeline.c: rx_burst of at most PKT_BURST frames or PKT_BURST_BYTES, the
 * budget that keeps one guest from starving the others; parse; lookup;
 * actions; tx; rx_done), timed between stages when timing is on (perf.h).  With nothing to do a worker either
 * spins (busy_poll) or arms every queue's notification (enable, then
 * re-check) and sleeps in epoll_wait on their fds: an idle switch uses no CPU.
 *
 * The control thread changes what workers see (port list, queue lists,
 * rings, guest memory) only between grace periods, quiescent-state based:
 * it unpublishes the thing, bumps `gen`, and waits until every worker has
 * either passed the top of its loop since (seen_gen == gen) or is asleep
 * (offline).  dp_sync() is that wait.
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

#include "dp/batch.h"
#include "lib/perf.h"
#include "port/port.h"

#define DP_WORKERS_MAX 16
#define DP_RXQ_MAX (PORT_MAX * 2)
#define DP_STALL_MS 1000	/* a worker stuck this long in one place is unstuck */
#define DP_UNSTICK_SIGNAL SIGURG /* ignored by default: harmless if one arrives from elsewhere */

struct vswitch;

struct dp_rxq {
	struct port *port;
	unsigned q;
	int fd;			/* our own dup of the port's wake-up fd, registered in the worker's epoll; or -1 */
};

struct dp_rxq_list {
	unsigned n;
	struct dp_rxq rxq[DP_RXQ_MAX];
};

/* Per-worker scratch for one forwarding round. */
struct dp_ctx {
	struct port_io io;			/* worker id, blame, timing (port.h): what port ops get */
	struct pkt pkts[PKT_BURST];		/* the batch: views, heads (packet/pkt.h); line-aligned */
	struct dp_batch batch;			/* the verdicts on pkts (batch.h) */
	struct pkt *out[PORT_MAX][PKT_BURST];	/* frames grouped by destination port */
	uint16_t out_n[PORT_MAX];
	uint8_t touched[PORT_MAX];		/* destinations with frames, in order */
	unsigned ntouched;
};

struct dp;

struct dp_worker {
	struct dp *dp;
	unsigned id;
	int cpu;			/* -1: not pinned */
	pthread_t thread;
	int epfd, wakefd;
	struct dp_rxq_list lists[2];	/* published one, and the one being built */
	_Atomic(struct dp_rxq_list *) list;
	atomic_uint seen_gen;
	atomic_bool offline;
	atomic_bool stop;
	atomic_uint_least64_t rounds, sleeps, frames;
	atomic_uint_least64_t busy_frames;	/* frames of the rounds timed (perf.h DP_PT_ROUND counts their cycles) */
	unsigned perf_tick;			/* batches polled: every perf_every-th one has its stages timed */
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
/* Recompute every worker's queue list from the switch's ports (control thread). */
void dp_rebuild(struct dp *dp);

#endif
