/* dp.c - worker threads: poll their queues with a budget, forward, and sleep on notifications when idle. */
#include "dp/dp.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "switch/switch.h"

/* One pass over the worker's queues; returns the frames it moved. */
static unsigned worker_round(struct dp_worker *w, const struct dp_rxq_list *l)
{
	struct vswitch *sw = w->dp->sw;
	unsigned moved = 0;

	for (unsigned i = 0; i < l->n; i++) {
		const struct dp_rxq *r = &l->rxq[i];
		unsigned n = r->port->ops->rx_burst(r->port, r->q, &w->ctx, w->ctx.pkts, PKT_BURST);

		if (n)
			switch_forward(sw, &w->ctx, r->port, w->ctx.pkts, n);
		r->port->ops->rx_done(r->port, r->q, &w->ctx);
		moved += n;
	}
	return moved;
}

/* Enable every queue's notification, re-checking each; true when one already has work. */
static bool worker_arm(const struct dp_rxq_list *l)
{
	bool pending = false;

	for (unsigned i = 0; i < l->n; i++)
		pending |= l->rxq[i].port->ops->rx_arm(l->rxq[i].port, l->rxq[i].q);
	return pending;
}

static void worker_disarm(const struct dp_rxq_list *l)
{
	for (unsigned i = 0; i < l->n; i++)
		l->rxq[i].port->ops->rx_disarm(l->rxq[i].port, l->rxq[i].q);
}

/* A counter only this worker writes: a plain add, no locked instruction; readers see it whole. */
static inline void worker_count(atomic_uint_least64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	bool armed = false;
	unsigned seen = ~0u, disarmed_gen = ~0u;

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		const struct dp_rxq_list *l;
		struct epoll_event ev[16];
		unsigned moved;

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
		if (armed) {
			worker_disarm(l);
			armed = false;
		}
		worker_count(&w->rounds, 1);
		moved = worker_round(w, l);
		if (moved) {
			worker_count(&w->frames, moved);
			continue;
		}
		if (dp->busy_poll) {
			/* Polling: ask every (new) queue's driver not to kick us, once per change. */
			if (disarmed_gen != seen) {
				worker_disarm(l);
				disarmed_gen = seen;
			}
			/*
			 * No PAUSE here: a busy-polling worker owns its core, and a
			 * frame arriving during one waits it out (about 11 ns on
			 * the CI machine, half of an idle round).  DPDK's and OVS's
			 * poll loops do not pause either.
			 */
			continue;
		}
		armed = true;
		if (worker_arm(l))
			continue;
		/*
		 * Go offline for the grace period logic, then sleep.  The fds are
		 * edge-triggered eventfds: each kick is one event, and nothing is
		 * read from them, so a stale list cannot make us touch an fd.
		 */
		atomic_store(&w->offline, true);
		worker_count(&w->sleeps, 1);
		epoll_wait(w->epfd, ev, 16, 1000);
		atomic_store(&w->offline, false);
		/* Pairs with dp_sync(): what it unpublished before seeing us offline is visible now. */
		atomic_thread_fence(memory_order_seq_cst);
	}
	return NULL;
}

int dp_start(struct dp *dp, struct vswitch *sw, unsigned nworkers, const int *cpus, bool busy_poll)
{
	if (nworkers == 0 || nworkers > DP_WORKERS_MAX)
		return -EINVAL;
	dp->sw = sw;
	dp->busy_poll = busy_poll;
	dp->nworkers = nworkers;
	atomic_init(&dp->gen, 0);
	dp->workers = calloc(nworkers, sizeof(*dp->workers));
	if (!dp->workers)
		return -ENOMEM;
	for (unsigned i = 0; i < nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

		w->dp = dp;
		w->id = i;
		w->ctx.worker_id = i;
		w->cpu = cpus ? cpus[i] : -1;
		atomic_init(&w->list, &w->lists[0]);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
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

void dp_stop(struct dp *dp)
{
	for (unsigned i = 0; i < dp->nworkers; i++) {
		atomic_store(&dp->workers[i].stop, true);
		worker_wake(&dp->workers[i]);
	}
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];

		pthread_join(w->thread, NULL);
		close(w->epfd);
		close(w->wakefd);
	}
	free(dp->workers);
	dp->workers = NULL;
	dp->nworkers = 0;
}

void dp_sync(struct dp *dp)
{
	unsigned gen = atomic_fetch_add(&dp->gen, 1) + 1;

	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];

		while (!atomic_load(&w->offline) && atomic_load(&w->seen_gen) != gen)
			sched_yield();
	}
}

void dp_rebuild(struct dp *dp)
{
	struct vswitch *sw = dp->sw;

	for (unsigned wi = 0; wi < dp->nworkers; wi++) {
		struct dp_worker *w = &dp->workers[wi];
		struct dp_rxq_list *cur = atomic_load(&w->list);
		struct dp_rxq_list *next = cur == &w->lists[0] ? &w->lists[1] : &w->lists[0];

		next->n = 0;
		for (unsigned j = 0; j < PORT_MAX; j++) {
			struct port *p = atomic_load(&sw->ports[j]);

			if (!p)
				continue;
			for (unsigned q = 0; q < p->ops->rx_queues(p) && next->n < DP_RXQ_MAX; q++) {
				if ((j + q) % dp->nworkers != wi)
					continue;
				next->rxq[next->n++] = (struct dp_rxq){ .port = p, .q = q, .fd = p->ops->rx_fd(p, q) };
			}
		}
		atomic_store_explicit(&w->list, next, memory_order_release);
	}
	dp_sync(dp);
	/* No worker holds the old lists now: move the epoll registrations over. */
	for (unsigned wi = 0; wi < dp->nworkers; wi++) {
		struct dp_worker *w = &dp->workers[wi];
		struct dp_rxq_list *cur = atomic_load(&w->list);
		struct dp_rxq_list *old = cur == &w->lists[0] ? &w->lists[1] : &w->lists[0];

		for (unsigned i = 0; i < old->n; i++)
			if (old->rxq[i].fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, old->rxq[i].fd, NULL);
		for (unsigned i = 0; i < cur->n; i++) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

			if (cur->rxq[i].fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_ADD, cur->rxq[i].fd, &ev);
		}
		old->n = 0;
		worker_wake(w);
	}
}
