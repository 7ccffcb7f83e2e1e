/* test_dp_workers.c - unit tests of the worker threads: kick fd registrations follow the ports, and a worker blocked in a port's syscall cannot hang grace periods. */

/*
 * One real worker (dp_start) polls fake ports whose queues never have
 * frames; what is measured is how often the worker wakes (its `rounds`
 * counter, which `vswctl stats` shows) and whether dp_sync() returns.
 *
 *   fake port: rx_fd() = an eventfd the "front end" also holds a copy of
 *   worker:    epoll_wait on it, one round per kick
 *
 * Kick fd replaced: the port swaps its fd and closes the old one before
 * dp_rebuild() (vu_dev.c does exactly that), while the front end keeps
 * its copy of the old one.  Kicks through that copy must no longer wake
 * the worker.
 *
 * Many idle ports (MANY of them, each with its own kick eventfd): once
 * they have been idle a while, a busy-polling worker's rounds poll none
 * of them (the old worker polled every queue every round), and in
 * event-driven mode a kick costs a poll or two of the kicked queue, not a
 * pass over all of them (the old worker armed, polled and disarmed every
 * queue per wake-up).  A kicked idle queue is polled again at once.
 *
 * Stalled worker: the port's rx_burst() write()s a blocking eventfd whose
 * counter is one below its maximum, which blocks; dp_sync() must still
 * return within DP_STALL_MS and a bit, tell the port that named itself in
 * io->blame (port_blame.stalled), and the worker must go on; dp_watchdog()
 * must do the same with no grace period pending.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/proc_counts.h"
#include "dp/dp.h"
#include "switch/switch.h"

#define FULL 0xfffffffffffffffeull

struct fake_port {
	struct port port;
	int fd;			/* what rx_fd() reports */
	int block_fd;		/* rx_burst() writes 1 here once when armed_block */
	atomic_bool armed_block;
	bool blames;		/* names itself in io->blame around that write, as port_vhost.c does */
	atomic_bool in_write, write_returned;
	struct port_blame blame;
	atomic_uint stalled_calls;
	unsigned stalled_worker, stalled_ms;
	atomic_uint frames_left;	/* rx_burst hands out one broadcast frame per call while this lasts */
	atomic_uint frames_left1;	/* queue 1 (with two queues): two frames per call */
	unsigned queues;		/* rx queues (0: one) */
	int fd1;			/* queue 1's rx_fd: a dup of fd, its own epoll registration */
};

static uint8_t bcast_frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x0a };
static struct iovec bcast_iov = { bcast_frame, sizeof(bcast_frame) };

/* port_blame.stalled: what port_vhost.c would turn into "broken: ..." */
static void fake_stalled(const struct port_blame *b, unsigned worker, unsigned ms)
{
	struct fake_port *f = (struct fake_port *)b->port;

	f->stalled_worker = worker;
	f->stalled_ms = ms;
	atomic_fetch_add(&f->stalled_calls, 1);
}

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct fake_port *f = (struct fake_port *)p;
	uint64_t one = 1;
	unsigned left = atomic_load(&f->frames_left);

	if (q == 1) {
		left = atomic_load(&f->frames_left1);
		if (!left)
			return 0;
		atomic_store(&f->frames_left1, left - 1);
		pkt_rx_init(&pkts[0], &bcast_iov, 1, sizeof(bcast_frame), p->id);
		pkt_rx_init(&pkts[1], &bcast_iov, 1, sizeof(bcast_frame), p->id);
		return 2;
	}
	if (left) {
		atomic_store(&f->frames_left, left - 1);
		pkt_rx_init(&pkts[0], &bcast_iov, 1, sizeof(bcast_frame), p->id);
		return 1;
	}
	if (atomic_exchange(&f->armed_block, false)) {
		atomic_store(&f->in_write, true);
		if (f->blames)
			atomic_store_explicit(&io->blame, &f->blame, memory_order_relaxed);
		if (write(f->block_fd, &one, sizeof(one)) < 0) {
			/* EINTR once the watchdog interrupted us */
		}
		atomic_store_explicit(&io->blame, NULL, memory_order_relaxed);
		atomic_store(&f->write_returned, true);
	}
	return 0;
}

static void fake_rx_done(struct port *p, unsigned q, struct port_io *io) {}
static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n) {}
static unsigned fake_rx_queues(struct port *p) { return ((struct fake_port *)p)->queues ? ((struct fake_port *)p)->queues : 1; }
static int fake_rx_fd(struct port *p, unsigned q) { return q ? ((struct fake_port *)p)->fd1 : ((struct fake_port *)p)->fd; }
static bool fake_rx_arm(struct port *p, unsigned q) { return false; }
static void fake_rx_disarm(struct port *p, unsigned q) {}

static const struct port_ops fake_ops = {
	.type = "fake",
	.rx_burst = fake_rx_burst,
	.rx_done = fake_rx_done,
	.tx_burst = fake_tx_burst,
	.rx_queues = fake_rx_queues,
	.rx_fd = fake_rx_fd,
	.rx_arm = fake_rx_arm,
	.rx_disarm = fake_rx_disarm,
};

struct fx {
	struct vswitch sw;
	struct dp dp;
	struct fake_port port;
	int base_fds;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base_fds = proc_count_fds();
	assert_int_equal(switch_init(&f->sw, SWITCH_LEARNING, 300, 4096), 0);
	snprintf(f->port.port.name, sizeof(f->port.port.name), "fake0");
	f->port.port.ops = &fake_ops;
	f->port.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->port.block_fd = -1;
	f->port.blame = (struct port_blame){ &f->port.port, fake_stalled };
	assert_true(f->port.fd >= 0);
	switch_port_set(&f->sw, 0, &f->port.port);
	assert_int_equal(dp_start(&f->dp, &f->sw, 1, NULL, false), 0);
	dp_rebuild(&f->dp);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int base = f->base_fds;

	switch_port_set(&f->sw, 0, NULL);
	dp_rebuild(&f->dp);
	dp_stop(&f->dp);
	close(f->port.fd);
	if (f->port.block_fd >= 0)
		close(f->port.block_fd);
	switch_destroy(&f->sw);
	free(f);
	assert_int_equal(proc_count_fds(), base);
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rounds(struct fx *f)
{
	return atomic_load(&f->dp.workers[0].rounds);
}

/*
 * Until the worker sleeps (epoll_wait) in a sleep it began after its
 * `sleeps` counter read @s (0: any sleep); up to 3 s, its timeout being 1 s.
 */
static void wait_asleep_after(struct dp_worker *w, uint64_t s)
{
	double end = now_s() + 3.0;

	while (!(atomic_load(&w->sleeps) > s && atomic_load(&w->offline))) {
		if (now_s() > end)
			fail_msg("the worker did not go to sleep within 3 s");
		sleep_ms(1);
	}
}

/* Rounds the worker made while @n kicks were written to @fd, 5 ms apart (kicks that must not wake it). */
static uint64_t rounds_during_kicks(struct fx *f, int fd, unsigned n)
{
	uint64_t r0, one = 1;

	sleep_ms(20); /* let the worker go back to sleep */
	wait_asleep_after(&f->dp.workers[0], 0);
	r0 = rounds(f);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
		sleep_ms(5);
	}
	return rounds(f) - r0;
}

/*
 * Of @n kicks written to @fd, how many woke the worker within 500 ms.
 * Each is written while the worker sleeps, in a sleep begun after the
 * last kick, so kicks never merge into one wake-up however late the
 * worker runs (5 ms apart they did on a loaded machine: 23 wake-ups of
 * 40); and each is written right as a sleep begins, so the worker's own
 * 1 s timeout does not pass for a wake-up (a deaf registration wakes it
 * for none of them).
 */
static unsigned kicks_that_wake(struct dp_worker *w, int fd, unsigned n)
{
	uint64_t s = 0, one = 1;
	unsigned woke = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t r0;
		double end;

		wait_asleep_after(w, s);
		s = atomic_load(&w->sleeps);
		r0 = atomic_load(&w->rounds);
		assert_int_equal(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
		end = now_s() + 0.5;
		while (atomic_load(&w->rounds) == r0 && now_s() < end)
			sleep_ms(1);
		woke += atomic_load(&w->rounds) != r0;
	}
	return woke;
}

/* ---- kick fd replaced ---- */

static void test_replaced_kick_fd_no_longer_wakes(void **state)
{
	struct fx *f = *state;
	int front_copy = dup(f->port.fd), fresh = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t woke;

	assert_true(front_copy >= 0 && fresh >= 0);
	/* The registration works: each kick is a round (plus the odd 1 s timeout). */
	woke = kicks_that_wake(&f->dp.workers[0], front_copy, 40);
	if (woke < 30)
		fail_msg("40 kicks on the port's fd woke the worker %llu times: the test cannot see wake-ups",
			 (unsigned long long)woke);

	/* The port gets a new kick fd and closes its old one first, then the worker lists are rebuilt. */
	close(f->port.fd);
	f->port.fd = fresh;
	dp_rebuild(&f->dp);

	woke = rounds_during_kicks(f, front_copy, 40);
	if (woke > 5)
		fail_msg("40 kicks on the replaced (closed) kick fd still woke the worker %llu times: "
			 "its epoll registration outlived the rebuild", (unsigned long long)woke);
	woke = kicks_that_wake(&f->dp.workers[0], fresh, 40);
	if (woke < 30)
		fail_msg("40 kicks on the new kick fd woke the worker only %llu times", (unsigned long long)woke);
	close(front_copy);
}

/* The same when the old fd's number is reused at once for something else (the usual case in vswd). */
static void test_replaced_kick_fd_number_reused(void **state)
{
	struct fx *f = *state;
	int front_copy = dup(f->port.fd), fresh, reuse;
	uint64_t woke;

	assert_true(front_copy >= 0);
	close(f->port.fd);
	fresh = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); /* takes the old number */
	assert_true(fresh >= 0);
	reuse = fresh;
	f->port.fd = fresh;
	dp_rebuild(&f->dp);
	woke = rounds_during_kicks(f, front_copy, 40);
	if (woke > 5)
		fail_msg("40 kicks on the replaced kick fd (its number reused by the new one, %d) woke the worker "
			 "%llu times", reuse, (unsigned long long)woke);
	woke = kicks_that_wake(&f->dp.workers[0], fresh, 40);
	if (woke < 30)
		fail_msg("40 kicks on the new kick fd woke the worker only %llu times", (unsigned long long)woke);
	close(front_copy);
}

/* ---- many idle ports ---- */

#define MANY 400	/* x 2 fds (the port's, the worker's dup): below the usual soft limit of 1024 */

struct many_port {
	struct port port;
	int fd;
	atomic_uint polls, arms;
	atomic_uint_least64_t first_poll_ns;	/* set by the first poll after the test zeroed it */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static atomic_bool many_busy;	/* port 0 hands a frame to every poll: the worker never has an idle round */

static unsigned many_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	struct many_port *mp = (struct many_port *)p;
	uint64_t zero = 0;

	if (p->id == 0 && atomic_load(&many_busy)) {
		pkt_rx_init(&pkts[0], &bcast_iov, 1, sizeof(bcast_frame), p->id);
		return 1;
	}
	atomic_fetch_add(&mp->polls, 1);
	if (!atomic_load(&mp->first_poll_ns))
		atomic_compare_exchange_strong(&mp->first_poll_ns, &zero, now_ns());
	return 0;
}

static unsigned many_rx_queues(struct port *p) { return 1; }
static int many_rx_fd(struct port *p, unsigned q) { return ((struct many_port *)p)->fd; }

static bool many_rx_arm(struct port *p, unsigned q)
{
	atomic_fetch_add(&((struct many_port *)p)->arms, 1);
	return false;
}

#define MANY_OPS							\
	.rx_burst = many_rx_burst, .rx_done = fake_rx_done, .tx_burst = fake_tx_burst,	\
	.rx_queues = many_rx_queues, .rx_fd = many_rx_fd, .rx_arm = many_rx_arm,	\
	.rx_disarm = fake_rx_disarm

static const struct port_ops many_ops = { .type = "many", MANY_OPS };

/* The same, polled by reading a ring (vhost-user, afpacket, afxdp): a busy-polling worker keeps some hot. */
static const struct port_ops cheap_ops = { .type = "cheap", MANY_OPS, .rx_poll_cheap = port_rx_poll_cheap_always };

struct many {
	struct vswitch *sw;
	struct dp dp;
	struct many_port ports[MANY];
	unsigned n;
	int base_fds;
};

/* @n ports of @ops on a switch, one worker. */
static struct many *many_start_ops(bool busy_poll, unsigned n, const struct port_ops *ops)
{
	struct many *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->base_fds = proc_count_fds();
	m->sw = malloc(sizeof(*m->sw));
	assert_non_null(m->sw);
	assert_int_equal(switch_init(m->sw, SWITCH_LEARNING, 300, 4096), 0);
	m->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct many_port *mp = &m->ports[i];

		snprintf(mp->port.name, sizeof(mp->port.name), "idle%u", i);
		mp->port.id = i;
		mp->port.ops = ops;
		mp->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(mp->fd >= 0);
		switch_port_set(m->sw, i, &mp->port);
	}
	assert_int_equal(dp_start(&m->dp, m->sw, 1, NULL, busy_poll), 0);
	dp_rebuild(&m->dp);
	return m;
}

static struct many *many_start(bool busy_poll)
{
	return many_start_ops(busy_poll, MANY, &many_ops);
}

static void many_stop(struct many *m)
{
	int base = m->base_fds;

	dp_stop(&m->dp);
	for (unsigned i = 0; i < m->n; i++)
		close(m->ports[i].fd);
	switch_destroy(m->sw);
	free(m->sw);
	free(m);
	assert_int_equal(proc_count_fds(), base);
}

static uint64_t many_sum(struct many *m, bool arms)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < MANY; i++)
		n += atomic_load(arms ? &m->ports[i].arms : &m->ports[i].polls);
	return n;
}

static uint64_t many_rounds(struct many *m)
{
	return atomic_load(&m->dp.workers[0].rounds);
}

/* Busy polling: idle queues turn cold (armed once) and rounds stop polling them; a kick warms one at once. */
static void test_idle_ports_cost_busy_rounds_nothing(void **state)
{
	struct many *m = many_start(true);
	uint64_t r0, p0, rounds, polls, one = 1;
	unsigned kicked = MANY / 3, before, cold = 0;
	double t0, secs, end;

	/* Every queue cold (armed once, a kick is how it comes back): 1 ms idle, up to 5 s for a loaded machine. */
	for (end = now_s() + 5.0; cold < MANY && now_s() < end; sleep_ms(1))
		for (cold = 0; cold < MANY && atomic_load(&m->ports[cold].arms) >= 1; cold++)
			;
	if (cold < MANY)
		fail_msg("idle queue %u of %d not cold (armed) after 5 s", cold, MANY);
	t0 = now_s();
	r0 = many_rounds(m);
	p0 = many_sum(m, false);
	sleep_ms(100);
	rounds = many_rounds(m) - r0;
	polls = many_sum(m, false) - p0;
	secs = now_s() - t0;	/* 100 ms or more: a check is every DP_COLD_CHECK_US of the clock */
	print_message("%d idle ports, %.0f ms: %llu rounds, %llu polls of idle queues\n", MANY, secs * 1e3,
		      (unsigned long long)rounds, (unsigned long long)polls);
	if (rounds < 1000)
		fail_msg("the busy-polling worker made only %llu rounds in %.0f ms: cannot tell", (unsigned long long)rounds,
			 secs * 1e3);
	/* One cold queue per check (every DP_COLD_CHECK_US): about 1,000 in 100 ms; polling every queue would be rounds x MANY. */
	if (polls > rounds / 4 || polls > secs * 1e6 / DP_COLD_CHECK_US * 3)
		fail_msg("%llu polls of idle queues in %llu rounds: idle ports still cost every round",
			 (unsigned long long)polls, (unsigned long long)rounds);

	/*
	 * A kicked cold queue is polled every round again from the next check
	 * (DP_COLD_CHECK_US, about 1,700 rounds here): 10 polls within 100,000
	 * of the worker's rounds, counted in rounds, not time, so a worker the
	 * loaded machine keeps off its CPU is not failed.  Left cold it would
	 * be polled by the checks alone, one queue of MANY each: once at most.
	 */
	before = atomic_load(&m->ports[kicked].polls);
	r0 = many_rounds(m);
	assert_int_equal(write(m->ports[kicked].fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	for (end = now_s() + 5.0; atomic_load(&m->ports[kicked].polls) < before + 10 &&
				  many_rounds(m) - r0 < 100000 && now_s() < end;)
		sleep_ms(1);
	if (atomic_load(&m->ports[kicked].polls) < before + 10)
		fail_msg("a kicked cold queue was polled %u times in the worker's next %llu rounds",
			 atomic_load(&m->ports[kicked].polls) - before, (unsigned long long)(many_rounds(m) - r0));
	many_stop(m);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Busy polling with nothing to do: a kick on a cold queue is seen within
 * DP_KICKS_IDLE_US, not at the next check (DP_COLD_CHECK_US): the first
 * frame of a request on a port idle for a millisecond is not held up to
 * 100 us in each direction.  The median of 21 kicks, each on a queue of
 * its own that is cold, from the kick's write to the queue's first poll,
 * must be under half of DP_COLD_CHECK_US (10 DP_KICKS_IDLE_US, room for a
 * loaded machine): with the checks alone each kick here lands just after
 * one (the last poll was a check's) and waits nearly all of the next.
 */
static void test_idle_busy_worker_sees_kicks_soon(void **state)
{
	enum { KICKS = 21 };
	struct many *m = many_start(true);
	uint64_t lat[KICKS], one = 1;
	unsigned cold = 0;
	double end;

	for (end = now_s() + 5.0; cold < MANY && now_s() < end; sleep_ms(1))
		for (cold = 0; cold < MANY && atomic_load(&m->ports[cold].arms) >= 1; cold++)
			;
	if (cold < MANY)
		fail_msg("idle queue %u of %d not cold (armed) after 5 s", cold, MANY);
	for (unsigned k = 0; k < KICKS; k++) {
		struct many_port *mp = &m->ports[7 + k * 13];
		uint64_t t0;

		atomic_store(&mp->first_poll_ns, 0);
		t0 = now_ns();
		assert_int_equal(write(mp->fd, &one, sizeof(one)), (ssize_t)sizeof(one));
		for (end = now_s() + 5.0; !atomic_load(&mp->first_poll_ns) && now_s() < end;)
			sched_yield();
		if (!atomic_load(&mp->first_poll_ns))
			fail_msg("kicked cold queue %s not polled within 5 s", mp->port.name);
		lat[k] = atomic_load(&mp->first_poll_ns) - t0;
		if (lat[k] > ((uint64_t)1 << 63))
			lat[k] = 0;	/* polled by a check's sweep between the zeroing and the kick */
	}
	qsort(lat, KICKS, sizeof(lat[0]), cmp_u64);
	print_message("kick to poll on an idle busy-polling worker: median %.1f us, min %.1f, max %.1f\n",
		      lat[KICKS / 2] / 1e3, lat[0] / 1e3, lat[KICKS - 1] / 1e3);
	if (lat[KICKS / 2] > DP_COLD_CHECK_US * 1000u / 2)
		fail_msg("median %.1f us from a kick to its cold queue's poll on an idle busy-polling worker "
			 "(checks every %d us)", lat[KICKS / 2] / 1e3, DP_COLD_CHECK_US);
	many_stop(m);
}

/*
 * Busy polling: idle queues of ports whose poll reads a ring stay hot, up
 * to DP_HOT_KEEP of them (never armed, polled every round: a frame there
 * is seen at once, and the peer is not asked to kick); past that many,
 * the rest turn cold as any idle queue does.  (Event-driven, keeping them
 * would change nothing: an idle worker sleeps with every queue armed.)
 */
static void test_busy_worker_keeps_cheap_queues_hot(void **state)
{
	const unsigned n = DP_HOT_KEEP + 4;
	struct many *m = many_start_ops(true, n, &cheap_ops);
	unsigned armed = 0, hot = 0, cold_polls = 0;
	double end;

	/* Cold is armed once: wait until 4 are (1 ms idle; up to 5 s for a loaded machine), then 20 ms more. */
	for (end = now_s() + 5.0; now_s() < end; sleep_ms(1)) {
		armed = 0;
		for (unsigned i = 0; i < n; i++)
			armed += atomic_load(&m->ports[i].arms) > 0;
		if (armed >= n - DP_HOT_KEEP)
			break;
	}
	sleep_ms(20);
	{
		unsigned before[DP_HOT_KEEP + 4];
		uint64_t r0 = many_rounds(m);

		for (unsigned i = 0; i < n; i++)
			before[i] = atomic_load(&m->ports[i].polls);
		sleep_ms(20);
		armed = 0;
		for (unsigned i = 0; i < n; i++) {
			unsigned polls = atomic_load(&m->ports[i].polls) - before[i];

			if (atomic_load(&m->ports[i].arms)) {
				armed++;
				cold_polls += polls;
			} else if (polls > 100) {
				hot++;
			}
		}
		print_message("%u idle ring ports, busy polling: %u hot (polled > 100 times in 20 ms, %llu rounds), "
			      "%u armed (cold, %u polls)\n", n, hot, (unsigned long long)(many_rounds(m) - r0), armed,
			      cold_polls);
	}
	many_stop(m);
	if (armed != n - DP_HOT_KEEP || hot != DP_HOT_KEEP)
		fail_msg("%u of %u idle ring ports hot and %u armed; expected %u hot (DP_HOT_KEEP) and the rest cold", hot,
			 n, armed, DP_HOT_KEEP);
}

/*
 * A busy-polling worker with no idle round (one queue always has a frame)
 * keeps no idle queue hot, however few: each poll of one would cost the
 * busy queue's frames, and no idle round means no request is waiting on
 * the worker to be seen.
 */
static void test_saturated_worker_cools_cheap_queues(void **state)
{
	const unsigned n = DP_HOT_KEEP / 2 + 1;
	struct many *m;
	unsigned armed = 0;
	double end;

	m = many_start_ops(true, n, &cheap_ops);
	atomic_store(&many_busy, true);
	for (end = now_s() + 5.0; now_s() < end; sleep_ms(1)) {
		armed = 0;
		for (unsigned i = 1; i < n; i++)
			armed += atomic_load(&m->ports[i].arms) > 0;
		if (armed == n - 1)
			break;
	}
	print_message("%u idle ring ports next to one that always has a frame: %u turned cold\n", n - 1, armed);
	atomic_store(&many_busy, false);
	many_stop(m);
	if (armed != n - 1)
		fail_msg("a worker without idle rounds kept %u of %u idle ring queues hot", n - 1 - armed, n - 1);
}

/* Event-driven: a kick on one of many idle queues costs a poll or two of that queue, not a pass over all. */
static void test_kick_wakes_only_its_queue(void **state)
{
	struct many *m = many_start(false);
	uint64_t r0, p0, a0;
	unsigned k = MANY - 5, woke;

	/*
	 * The first wake-up after the list was built finds every queue idle for
	 * long: they turn cold.  Twice, each kick awaited: the first may be the
	 * one that picks the new list up (every queue hot again).
	 */
	for (unsigned i = 0; i < 2; i++) {
		sleep_ms(20);
		assert_int_equal(kicks_that_wake(&m->dp.workers[0], m->ports[0].fd, 1), 1);
	}
	wait_asleep_after(&m->dp.workers[0], 0);
	r0 = many_rounds(m);
	p0 = many_sum(m, false);
	a0 = many_sum(m, true);
	woke = kicks_that_wake(&m->dp.workers[0], m->ports[k].fd, 20);
	print_message("20 kicks among %d idle queues: %u woke the worker; %llu rounds, %llu polls, %llu arms\n", MANY,
		      woke, (unsigned long long)(many_rounds(m) - r0), (unsigned long long)(many_sum(m, false) - p0),
		      (unsigned long long)(many_sum(m, true) - a0));
	if (woke < 15)
		fail_msg("20 kicks woke the worker %u times", woke);
	if (many_sum(m, false) - p0 > 20 * 10 || many_sum(m, true) - a0 > 20 * 10)
		fail_msg("20 kicks cost %llu polls and %llu arms among %d queues: each wake-up is a pass over all",
			 (unsigned long long)(many_sum(m, false) - p0), (unsigned long long)(many_sum(m, true) - a0), MANY);
	assert_true(atomic_load(&m->ports[k].polls) >= 15);
	many_stop(m);
}

/* ---- a worker blocked in a port's syscall ---- */

struct sync_call {
	struct dp *dp;
	atomic_bool done;
};

static void *sync_thread(void *arg)
{
	struct sync_call *c = arg;

	dp_sync(c->dp);
	atomic_store(&c->done, true);
	return NULL;
}

/* Make the worker block in the fake port's write() of a full blocking eventfd. */
static void block_worker(struct fx *f, bool blames)
{
	uint64_t one = 1;

	f->port.block_fd = eventfd(0, EFD_CLOEXEC); /* blocking, like a hostile front end's call fd */
	assert_true(f->port.block_fd >= 0);
	assert_int_equal(eventfd_write(f->port.block_fd, FULL), 0);
	f->port.blames = blames;
	atomic_store(&f->port.armed_block, true);
	assert_int_equal(write(f->port.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	for (int i = 0; i < 200 && !atomic_load(&f->port.in_write); i++)
		sleep_ms(5);
	assert_true(atomic_load(&f->port.in_write));
	sleep_ms(50);
	assert_false(atomic_load(&f->port.write_returned)); /* it really blocks */
}

/* dp_sync() on a thread of its own; how long it took, or fail (after unblocking the worker) past 5 s. */
static double timed_dp_sync(struct fx *f)
{
	struct sync_call c = { .dp = &f->dp };
	double t0 = now_s(), waited;
	pthread_t t;
	uint64_t v;

	assert_int_equal(pthread_create(&t, NULL, sync_thread, &c), 0);
	while (!atomic_load(&c.done) && now_s() - t0 < 5)
		sleep_ms(10);
	waited = now_s() - t0;
	if (!atomic_load(&c.done)) {
		/* Unblock the worker ourselves so that the test can end, then fail. */
		assert_int_equal(eventfd_read(f->port.block_fd, &v), 0);
		pthread_join(t, NULL);
		fail_msg("dp_sync() still waiting after %.1f s for a worker blocked in a port's write()", waited);
	}
	pthread_join(t, NULL);
	return waited;
}

/* Blocked in a syscall nobody is blamed for: dp_sync() still returns, within DP_STALL_MS and a bit. */
static void test_blocked_worker_does_not_hang_dp_sync(void **state)
{
	struct fx *f = *state;
	double waited;

	block_worker(f, false);
	waited = timed_dp_sync(f);
	print_message("dp_sync() returned after %.2f s\n", waited);
	assert_true(waited < 2.5);
	assert_true(atomic_load(&f->port.write_returned));
	assert_int_equal(atomic_load(&f->port.stalled_calls), 0);
}

/* Blocked in a syscall the port named itself for: that port is told, once, with the worker and how long. */
static void test_blocked_worker_blames_its_port(void **state)
{
	struct fx *f = *state;
	double waited;

	block_worker(f, true);
	waited = timed_dp_sync(f);
	print_message("dp_sync() returned after %.2f s, port told after %u ms\n", waited, f->port.stalled_ms);
	assert_true(waited < 2.5);
	assert_true(atomic_load(&f->port.write_returned));
	assert_int_equal(atomic_load(&f->port.stalled_calls), 1);
	assert_int_equal(f->port.stalled_worker, 0);
	assert_true(f->port.stalled_ms >= DP_STALL_MS && f->port.stalled_ms < 2500);
	/* The worker goes on: kicks wake it again. */
	assert_true(kicks_that_wake(&f->dp.workers[0], f->port.fd, 10) >= 8);
}

/* With no grace period pending, dp_watchdog() (the daemon's tick) finds the stuck worker all the same. */
static void test_watchdog_unsticks_without_dp_sync(void **state)
{
	struct fx *f = *state;
	double t0;

	block_worker(f, true);
	t0 = now_s();
	while (!atomic_load(&f->port.write_returned) && now_s() - t0 < 5) {
		dp_watchdog(&f->dp);
		sleep_ms(100);
	}
	if (!atomic_load(&f->port.write_returned)) {
		uint64_t v;

		assert_int_equal(eventfd_read(f->port.block_fd, &v), 0);
		fail_msg("dp_watchdog() left the worker blocked for %.1f s", now_s() - t0);
	}
	print_message("unblocked after %.2f s\n", now_s() - t0);
	assert_true(now_s() - t0 < 2.5);
	assert_int_equal(atomic_load(&f->port.stalled_calls), 1);
	/* A worker that sleeps or makes rounds is never touched. */
	for (int i = 0; i < 15; i++) {
		dp_watchdog(&f->dp);
		sleep_ms(100);
	}
	assert_int_equal(atomic_load(&f->port.stalled_calls), 1);
}

/* ---- stage timing sampled at random ---- */

/*
 * @n batch polls of queue 0 with one frame each and, with two queues, @n
 * of queue 1 with two frames each (each frame a flood to nobody), both
 * queues kept busy together.  Rounds are all timed (busy cycles); the
 * stages of about one poll in perf_every, from either queue alike.
 */
static void run_polls(struct fx *f, unsigned every, unsigned n, uint64_t *parse, uint64_t *round)
{
	struct dp_perf *pf = &f->dp.workers[0].perf;
	uint64_t p0 = atomic_load(&pf->pt[DP_PT_PARSE].pkts), r0 = atomic_load(&pf->pt[DP_PT_ROUND].pkts);
	uint64_t one = 1;

	assert_true(dp_perf_every(&f->dp, every));
	sleep_ms(20);
	atomic_store(&f->port.frames_left1, f->port.queues == 2 ? n : 0);
	atomic_store(&f->port.frames_left, n);
	assert_int_equal(write(f->port.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	if (f->port.queues == 2)
		assert_int_equal(write(f->port.fd1, &one, sizeof(one)), (ssize_t)sizeof(one));
	for (unsigned i = 0; i < 400 && (atomic_load(&f->port.frames_left) || atomic_load(&f->port.frames_left1)); i++)
		sleep_ms(5);
	sleep_ms(20);
	assert_int_equal(atomic_load(&f->port.frames_left), 0);
	assert_int_equal(atomic_load(&f->port.frames_left1), 0);
	*parse = atomic_load(&pf->pt[DP_PT_PARSE].pkts) - p0;
	*round = atomic_load(&pf->pt[DP_PT_ROUND].pkts) - r0;
}

static void test_stage_timing_sampled(void **state)
{
	struct fx *f = *state;
	uint64_t parse, round;

	assert_false(dp_perf_every(&f->dp, 0));
	assert_false(dp_perf_every(&f->dp, 6));
	assert_false(dp_perf_every(&f->dp, DP_PERF_EVERY_MAX * 2));
	/* 4096 polls, one in 4: 1024 expected, standard deviation 28. */
	run_polls(f, 4, 4096, &parse, &round);
	assert_int_equal(round, 4096);
	assert_in_range(parse, 1024 - 200, 1024 + 200);
	run_polls(f, 1, 64, &parse, &round);
	assert_int_equal(round, 64);
	assert_int_equal(parse, 64);
	dp_perf_set(&f->dp, false);
	run_polls(f, 1, 64, &parse, &round);
	assert_int_equal(round, 0);
	assert_int_equal(parse, 0);
}

/*
 * Two busy queues, one in two polls timed: a count would time the same
 * queue every time (frames parsed: 2048 x 1 or 2048 x 2); a draw times
 * half of each, 1024 x 1 + 1024 x 2 = 3072 frames.
 */
static void test_stage_timing_no_aliasing(void **state)
{
	struct fx *f = *state;
	uint64_t parse, round;

	f->port.fd1 = dup(f->port.fd);
	assert_true(f->port.fd1 >= 0);
	f->port.queues = 2;
	dp_rebuild(&f->dp);
	run_polls(f, 2, 2048, &parse, &round);
	assert_int_equal(round, 3 * 2048);
	assert_in_range(parse, 3072 - 400, 3072 + 400);
	f->port.queues = 1;
	dp_rebuild(&f->dp);
	close(f->port.fd1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replaced_kick_fd_no_longer_wakes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replaced_kick_fd_number_reused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_blocked_worker_does_not_hang_dp_sync, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_blocked_worker_blames_its_port, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_unsticks_without_dp_sync, fx_setup, fx_teardown),
		cmocka_unit_test(test_idle_ports_cost_busy_rounds_nothing),
		cmocka_unit_test(test_idle_busy_worker_sees_kicks_soon),
		cmocka_unit_test(test_busy_worker_keeps_cheap_queues_hot),
		cmocka_unit_test(test_saturated_worker_cools_cheap_queues),
		cmocka_unit_test(test_kick_wakes_only_its_queue),
		cmocka_unit_test_setup_teardown(test_stage_timing_sampled, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stage_timing_no_aliasing, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
