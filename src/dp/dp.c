/* dp.c - worker threads: poll their queues with a budget, forward, and sleep on notifications when idle. */
#include "dp/dp.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "dp/flows.h"
#include "dp/poll.h"
#include "switch/switch.h"

#define DP_SYNC_SPIN_NS 20000	/* dp_sync() spins this long for a worker, then naps */
#define DP_SYNC_NAP_NS 20000

/* A counter only this worker writes: a plain add, no locked instruction; readers see it whole. */
static inline void worker_count(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/*
 * One pass over the worker's hot queues, one batch each (pipeline.c), and
 * the cold ones' check when due; returns the frames it moved.  With timing
 * on, the round is timed as a whole (from @now, read by the caller: no
 * second read) and the stages of one batch poll in perf_every
 * (dp_perf_pick() before each, drawn at random: pipeline.c reads the
 * counter only when ctx.io.perf is set), a sample independent of what the
 * batch holds and of which queue it came from, so the per-stage figures
 * are unbiased estimates.
 */
static unsigned worker_round(struct dp_worker *w, uint64_t now)
{
	struct vswitch *sw = w->dp->sw;
	struct dp_perf *pf = atomic_load_explicit(&w->dp->perf_on, memory_order_relaxed) ? &w->perf : NULL;
	unsigned moved;

	w->ctx.perf_round = pf;
	w->ctx.perf_mask = atomic_load_explicit(&w->dp->perf_every, memory_order_relaxed) - 1;
	dp_round_start(&w->ctx, w->poll.nhot - w->poll.nkept);
	moved = dp_poll_round(&w->poll, sw, &w->ctx, now);
	if (now >= w->poll.next_check)
		moved += dp_poll_check(&w->poll, sw, &w->ctx, w->epfd, now);
	w->ctx.io.perf = NULL;
	if (pf && moved) {
		/* The round as a whole: only rounds that moved frames (the worker's busy cycles). */
		dp_perf_add(pf, DP_PT_ROUND, dp_tsc() - now, moved);
		worker_count(&w->busy_frames, moved);
	}
	return moved;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Does nothing: its delivery is what ends a stuck worker's syscall with EINTR. */
static void worker_unstick_handler(int sig)
{
}

static void *worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	struct dp_poll *ps = &w->poll;
	bool armed = false;
	unsigned seen = ~0u;
	sigset_t unstick;

	sigemptyset(&unstick);
	sigaddset(&unstick, DP_UNSTICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &unstick, NULL);
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		const struct dp_rxq_list *l;
		struct epoll_event ev[DP_WAKE_EVENTS];
		uint64_t now;
		unsigned moved;
		int n;

		/*
		 * Quiescent point: nothing from earlier rounds is held past here.
		 * Announced only when a new grace period started (the acquire
		 * pairs with dp_sync()'s increment, so the lists published before
		 * it are the ones loaded below); the release store keeps every
		 * access of the earlier rounds before the announcement.
		 */
		unsigned gen = atomic_load_explicit(&dp->gen, memory_order_acquire);

		if (gen != seen) {
			atomic_store_explicit(&w->seen_gen, gen, memory_order_release);
			seen = gen;
		}
		l = atomic_load_explicit(&w->list, memory_order_acquire);
		now = dp_tsc();
		if (l != ps->list || l->seq != ps->seq) {
			/* A new list: every queue hot, notifications off; what woke us is about the old one. */
			dp_poll_reset(ps, l, now);
			armed = false;
		} else {
			if (armed) {
				dp_poll_disarm(ps);
				armed = false;
			}
			dp_poll_warm_woken(ps, now);
		}
		worker_count(&w->rounds, 1);
		moved = worker_round(w, now);
		if (moved) {
			worker_count(&w->frames, moved);
			continue;
		}
		if (dp->busy_poll) {
			/*
			 * No PAUSE here: a busy-polling worker owns its core, and a
			 * frame arriving during one waits it out (about 11 ns on
			 * the CI machine, half of an idle round).  DPDK's and OVS's
			 * poll loops do not pause either.  Its cold queues' kicks
			 * are read now and then while it is idle, not only at its
			 * checks: a request on a port idle for a millisecond would
			 * otherwise wait up to DP_COLD_CHECK_US in each direction.
			 */
			dp_poll_kicks(&w->poll, w->epfd, now);
			continue;
		}
		armed = true;
		if (dp_poll_arm(ps))
			continue;
		/*
		 * Go offline for the grace period logic, then sleep.  The fds are
		 * edge-triggered eventfds: each kick is one event, and nothing is
		 * read from them, so a stale list cannot make us touch an fd.
		 */
		atomic_store(&w->offline, true);
		worker_count(&w->sleeps, 1);
		n = epoll_wait(w->epfd, ev, DP_WAKE_EVENTS, 1000);
		atomic_store(&w->offline, false);
		/* Pairs with dp_sync(): what it unpublished before seeing us offline is visible now. */
		atomic_thread_fence(memory_order_seq_cst);
		dp_poll_woken(ps, ev, n);
	}
	return NULL;
}

int dp_start(struct dp *dp, struct vswitch *sw, unsigned nworkers, const int *cpus, bool busy_poll)
{
	/* No SA_RESTART: the syscall the signal interrupts must return, not start over. */
	struct sigaction sa = { .sa_handler = worker_unstick_handler };

	if (nworkers == 0 || nworkers > DP_WORKERS_MAX)
		return -EINVAL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(DP_UNSTICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	dp->sw = sw;
	dp->busy_poll = busy_poll;
	dp->nworkers = nworkers;
	atomic_init(&dp->gen, 0);
	atomic_init(&dp->perf_on, DP_PERF_DEFAULT);
	atomic_init(&dp->perf_every, DP_PERF_EVERY_DEFAULT);
	dp->tsc_hz = dp_tsc_hz();
	/* Aligned as its packets are (a cache line); zeroed as calloc would. */
	dp->workers = aligned_alloc(_Alignof(struct dp_worker), nworkers * sizeof(*dp->workers));
	if (dp->workers)
		memset(dp->workers, 0, nworkers * sizeof(*dp->workers));
	dp->perf_base = calloc(nworkers, sizeof(*dp->perf_base));
	if (!dp->workers || !dp->perf_base)
		return -ENOMEM;
	for (unsigned i = 0; i < nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

		w->dp = dp;
		w->id = i;
		w->ctx.io.worker_id = i;
		w->ctx.io.too_big = dp_pmtu_port_too_big;
		w->ctx.perf_rng = 0x9e3779b9u + i; /* any nonzero seed */
		w->ctx.flow = dp_flow_ctx_new();
		if (!w->ctx.flow)
			return -ENOMEM;
		w->cpu = cpus ? cpus[i] : -1;
		w->wd_since_ms = now_ms();
		memset(w->lists[0].first, 0xff, sizeof(w->lists[0].first));
		memset(w->lists[1].first, 0xff, sizeof(w->lists[1].first));
		atomic_init(&w->list, &w->lists[0]);
		w->poll.cold_after = dp->tsc_hz / 1000000 * DP_COLD_AFTER_US;
		w->poll.check_every = dp->tsc_hz / 1000000 * DP_COLD_CHECK_US;
		w->poll.kicks_idle = dp->tsc_hz / 1000000 * DP_KICKS_IDLE_US;
		w->poll.keep_cheap = busy_poll;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ev.data.u64 = DP_POLL_KEY_WAKE;
		if (w->epfd < 0 || w->wakefd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0)
			return -errno;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			return -EAGAIN;
	}
	return 0;
}

static void worker_wake(struct dp_worker *w)
{
	uint64_t one = 1;

	if (write(w->wakefd, &one, sizeof(one)) < 0) {
		/* Counter saturated: the worker is awake anyway. */
	}
}

/* Close our dups of a list's wake-up fds, taking them out of the worker's epoll first. */
static void rxq_list_release(struct dp_worker *w, struct dp_rxq_list *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		if (l->rxq[i].fd < 0)
			continue;
		/*
		 * An epoll registration belongs to the open file, not to the fd
		 * number: closing a number first would leave it live for as long
		 * as anyone (the front end) holds the file, and every kick on it
		 * would still wake this worker.
		 */
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, l->rxq[i].fd, NULL);
		close(l->rxq[i].fd);
		l->rxq[i].fd = -1;
	}
	l->n = 0;
}

void dp_stop(struct dp *dp)
{
	for (unsigned i = 0; i < dp->nworkers; i++) {
		atomic_store(&dp->workers[i].stop, true);
		worker_wake(&dp->workers[i]);
	}
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];

		pthread_join(w->thread, NULL);
		rxq_list_release(w, &w->lists[0]);
		rxq_list_release(w, &w->lists[1]);
		close(w->epfd);
		close(w->wakefd);
		free(w->ctx.flow);
	}
	free(dp->workers);
	dp->workers = NULL;
	free(dp->perf_base);
	dp->perf_base = NULL;
	dp->nworkers = 0;
}

/*
 * Worker @w has been stuck for @ms: break the port it blames (once per
 * stall, with a log line naming it), and interrupt its syscall.  A stuck
 * worker that blames nobody is only logged (once) and signalled: what it
 * holds cannot be taken from it safely.
 */
static void worker_unstick(struct dp_worker *w, unsigned ms)
{
	const struct port_blame *b = atomic_load_explicit(&w->ctx.io.blame, memory_order_acquire);

	if (b && b != w->wd_blamed) {
		log_warn("worker %u: blocked %u ms in a syscall of port %s: marking the port broken", w->id, ms,
			 b->port->name);
		b->stalled(b, w->id, ms);
		w->wd_blamed = b;
	} else if (!b && !w->wd_logged) {
		log_warn("worker %u: no progress for %u ms, and in no port's syscall", w->id, ms);
		w->wd_logged = true;
	}
	pthread_kill(w->thread, DP_UNSTICK_SIGNAL);
}

/* The worker made progress: a later stall is a new one. */
static void worker_unstuck(struct dp_worker *w)
{
	w->wd_blamed = NULL;
	w->wd_logged = false;
}

void dp_sync(struct dp *dp)
{
	unsigned gen = atomic_fetch_add(&dp->gen, 1) + 1;

	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];
		uint64_t t0 = 0, next = 0, spin_end = 0;
		bool stalled = false;

		while (!atomic_load(&w->offline) && atomic_load(&w->seen_gen) != gen) {
			struct timespec nap = { 0, DP_SYNC_NAP_NS };
			uint64_t now = now_ns();

			/*
			 * A worker on a core of its own passes the top of its loop
			 * within microseconds: spin that long.  One that shares our
			 * core (a small machine, vswd pinned to one CPU) runs only
			 * while we do not: then sleep a little, and waking we take
			 * the core back.  (sched_yield() would hand a busy-polling
			 * worker its whole time slice, milliseconds, every time.)
			 */
			if (!spin_end)
				spin_end = now + DP_SYNC_SPIN_NS;
			if (now < spin_end)
				continue;
			nanosleep(&nap, NULL);
			now /= 1000000;
			if (!t0) {
				t0 = now;
				next = now + DP_STALL_MS;
			} else if (now >= next) {
				worker_unstick(w, (unsigned)(now - t0));
				stalled = true;
				next = now + 100; /* again, in case the signal came just before the syscall */
			}
		}
		if (stalled)
			worker_unstuck(w);
	}
}

void dp_watchdog(struct dp *dp)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];
		uint64_t r = atomic_load_explicit(&w->rounds, memory_order_relaxed);

		if (r != w->wd_rounds || atomic_load(&w->offline)) {
			w->wd_rounds = r;
			w->wd_since_ms = now;
			worker_unstuck(w);
		} else if (now - w->wd_since_ms >= DP_STALL_MS) {
			worker_unstick(w, (unsigned)(now - w->wd_since_ms));
		}
	}
}

/* Our own dup of a port's wake-up fd (see rxq_list_release); -1 for none. */
static int rxq_fd(struct port *p, unsigned q)
{
	int fd = p->ops->rx_fd(p, q), dup_fd;

	if (fd < 0)
		return -1;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		log_warn("port %s: queue %u polled without wake-ups: cannot dup its fd: %s", p->name, q, strerror(errno));
	return dup_fd;
}

/* Append @p's queues that worker @wi polls to @l, each with its own dup of the port's wake-up fd. */
static void list_add_port(struct dp *dp, unsigned wi, struct dp_rxq_list *l, struct port *p)
{
	unsigned nq = p->ops->rx_queues(p);

	for (unsigned q = 0; q < nq && q < PORT_QUEUES_MAX; q++) {
		int fd;

		if ((p->id + q) % dp->nworkers != wi)
			continue;
		if (l->n == DP_RXQ_MAX) {
			log_warn("worker %u polls %u queues already: port %s queue %u is not polled", wi, DP_RXQ_MAX,
				 p->name, q);
			continue;
		}
		fd = rxq_fd(p, q);
		if (l->first[p->id] == DP_RXQ_NONE)
			l->first[p->id] = (uint16_t)l->n;
		l->rxq[l->n++] = (struct dp_rxq){
			.port = p, .q = (uint8_t)q, .slot = (uint16_t)p->id, .fd = fd,
		};
	}
}

/*
 * Worker @wi's next list.  @p NULL: every published port, fds anew.
 * Otherwise the current list's queues but @p's (they move over with their
 * fds, which stay registered), then @p's anew if it is published: a
 * port's queues stay adjacent either way (first[]).
 */
static struct dp_rxq_list *list_build(struct dp *dp, unsigned wi, struct port *p)
{
	struct dp_worker *w = &dp->workers[wi];
	struct dp_rxq_list *cur = atomic_load(&w->list);
	struct dp_rxq_list *next = cur == &w->lists[0] ? &w->lists[1] : &w->lists[0];
	struct vswitch *sw = dp->sw;

	next->n = 0;
	memset(next->first, 0xff, sizeof(next->first));
	if (p) {
		for (unsigned i = 0; i < cur->n; i++) {
			struct dp_rxq *e = &cur->rxq[i];

			/* @p's are done anew below; a port no longer published (nobody told us) goes with its fds. */
			if (e->port == p || atomic_load(&sw->ports[e->slot]) != e->port)
				continue;
			if (next->first[e->slot] == DP_RXQ_NONE)
				next->first[e->slot] = (uint16_t)next->n;
			next->rxq[next->n++] = *e;
			/* The fd is the next list's now: releasing the old one must not close it (workers never read it). */
			e->fd = -1;
		}
		next->fresh = next->n;
		if (atomic_load(&sw->ports[p->id]) == p)
			list_add_port(dp, wi, next, p);
	} else {
		next->fresh = 0;
		for (unsigned j = 0; j < PORT_MAX; j++) {
			struct port *q = atomic_load(&sw->ports[j]);

			if (q)
				list_add_port(dp, wi, next, q);
		}
	}
	next->seq = cur->seq + 1;
	return next;
}

/* Publish every worker's next list, wait until none holds the old one, then move the epoll registrations. */
static void rebuild(struct dp *dp, struct port *p)
{
	for (unsigned wi = 0; wi < dp->nworkers; wi++) {
		struct dp_worker *w = &dp->workers[wi];

		atomic_store_explicit(&w->list, list_build(dp, wi, p), memory_order_release);
	}
	dp_sync(dp);
	for (unsigned wi = 0; wi < dp->nworkers; wi++) {
		struct dp_worker *w = &dp->workers[wi];
		struct dp_rxq_list *cur = atomic_load(&w->list);
		struct dp_rxq_list *old = cur == &w->lists[0] ? &w->lists[1] : &w->lists[0];

		rxq_list_release(w, old);
		for (unsigned i = cur->fresh; i < cur->n; i++) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
						  .data.u64 = dp_poll_key(cur->rxq[i].slot, cur->rxq[i].q) };

			if (cur->rxq[i].fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_ADD, cur->rxq[i].fd, &ev);
		}
		worker_wake(w);
	}
}

void dp_rebuild(struct dp *dp)
{
	rebuild(dp, NULL);
}

void dp_rebuild_port(struct dp *dp, struct port *p)
{
	rebuild(dp, p);
}

void dp_perf_set(struct dp *dp, bool on)
{
	atomic_store_explicit(&dp->perf_on, on, memory_order_relaxed);
}

bool dp_perf_every(struct dp *dp, unsigned every)
{
	if (!every || every > DP_PERF_EVERY_MAX || (every & (every - 1)))
		return false;
	atomic_store_explicit(&dp->perf_every, every, memory_order_relaxed);
	return true;
}

/* @dst = @a - @b, counter by counter (@b may be NULL: a plain copy). */
static void perf_diff(struct dp_perf *dst, const struct dp_perf *a, const struct dp_perf *b)
{
#define PERF_SUB(f) \
	atomic_init(&dst->f, atomic_load_explicit(&a->f, memory_order_relaxed) - \
				     (b ? atomic_load_explicit(&b->f, memory_order_relaxed) : 0))
	for (unsigned p = 0; p < DP_PT__COUNT; p++) {
		PERF_SUB(pt[p].cycles);
		PERF_SUB(pt[p].pkts);
		PERF_SUB(pt[p].batches);
		for (unsigned h = 0; h < DP_HIST_LOG2; h++)
			PERF_SUB(pt[p].hist[h]);
	}
	for (unsigned h = 0; h < DP_LAT_BUCKETS; h++)
		PERF_SUB(lat[h]);
#undef PERF_SUB
}

void dp_perf_reset(struct dp *dp)
{
	for (unsigned i = 0; i < dp->nworkers; i++)
		perf_diff(&dp->perf_base[i], &dp->workers[i].perf, NULL);
}

void dp_perf_read(struct dp *dp, unsigned w, struct dp_perf *out)
{
	perf_diff(out, &dp->workers[w].perf, &dp->perf_base[w]);
}
