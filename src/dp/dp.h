/* dp.h - the data path: worker threads that poll port queues and hand frames to the switch. */
#ifndef VSW_DP_DP_H
#define VSW_DP_DP_H

/*
 * Each worker owns a list of (port, queue) pairs, each polled by exactly one
 * worker.  A round: for every queue, rx_burst (at most PKT_BURST frames or
 * PKT_BURST_BYTES, the budget that keeps one guest from starving the
 * others), switch_forward, rx_done.  With nothing to do a worker either
 * spins (busy_poll) or arms every queue's notification (enable, then
 * re-check) and sleeps in epoll_wait on their fds: an idle switch uses no CPU.
 *
 * The control thread changes what workers see (port list, queue lists,
 * rings, guest memory) only between grace periods, quiescent-state based:
 * it unpublishes the thing, bumps `gen`, and waits until every worker has
 * either passed the top of its loop since (seen_gen == gen) or is asleep
 * (offline).  dp_sync() is that wait.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "port/port.h"

#define DP_WORKERS_MAX 16
#define DP_RXQ_MAX (PORT_MAX * 2)
#define PKT_HDR_COPY 64		/* bytes of a secured port's frame the switch checks and copies */
#define PKT_HDR_IOV 32		/* pieces such a frame may come in (more: a `scattered` drop) */

struct vswitch;

struct dp_rxq {
	struct port *port;
	unsigned q;
	int fd;			/* registered in the worker's epoll, or -1 */
};

struct dp_rxq_list {
	unsigned n;
	struct dp_rxq rxq[DP_RXQ_MAX];
};

/* Per-worker scratch for one forwarding round. */
struct dp_ctx {
	unsigned worker_id;
	struct pkt pkts[PKT_BURST];
	struct pkt *out[PORT_MAX][PKT_BURST];	/* frames grouped by destination port */
	uint16_t out_n[PORT_MAX];
	uint8_t touched[PORT_MAX];		/* destinations with frames, in order */
	unsigned ntouched;
	/* Secured ports (switch.h): each checked frame's first bytes, and its view starting with them. */
	uint8_t hdr_copy[PKT_BURST][PKT_HDR_COPY];
	struct iovec hdr_iov[PKT_BURST][PKT_HDR_IOV];
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
	struct dp_ctx ctx;
};

struct dp {
	struct vswitch *sw;
	bool busy_poll;
	unsigned nworkers;
	struct dp_worker *workers;
	atomic_uint gen;
};

/* Start @nworkers threads (pinned to @cpus[i] when >= 0).  0 or -errno. */
int dp_start(struct dp *dp, struct vswitch *sw, unsigned nworkers, const int *cpus, bool busy_poll);
/* Stop and join the workers. */
void dp_stop(struct dp *dp);
/* Grace period: return once no worker can still use anything unpublished before the call. */
void dp_sync(struct dp *dp);
/* Recompute every worker's queue list from the switch's ports (control thread). */
void dp_rebuild(struct dp *dp);

#endif
