/* test_flows_workers.c - flow commits under load: a real worker forwards while the control thread swaps rule sets, publishes, syncs and reclaims. */

/*
 * One busy-polling worker (dp_start) reads an endless stream of frames
 * from fake port 1; the rules send them to port 2 (set A) or port 3 (set
 * B).  (Ports are numbered from 1, as vswd numbers them: OpenFlow port 0
 * is reserved, and the flow parser refuses it.)  The control thread swaps the sets hundreds of times, each time as
 * vswd does (ctl_flows.c): edit, commit, publish sw->flows, dp_sync(),
 * reclaim.  Once dp_sync() returned, no frame may still go where the
 * deleted rule said: the count on the old port must not move any more
 * (the worker's exact-match cache included), and each new set must carry
 * frames.  Under ASan this also checks that no worker touches a rule
 * after reclaim freed it.
 */

#include <errno.h>
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

#include "dp/dp.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "switch/switch.h"

#define SWAPS 300
#define BURST 16

struct fake_port {
	struct port port;
	int fd;
	atomic_uint_least64_t tx;
};

static uint8_t frame[60] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00 };
static struct iovec frame_iov = { frame, sizeof(frame) };

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	if (p->id != 1)
		return 0;
	for (unsigned i = 0; i < BURST; i++)
		pkt_rx_init(&pkts[i], &frame_iov, 1, sizeof(frame), p->id);
	return BURST;
}

static void fake_rx_done(struct port *p, unsigned q, struct port_io *io) {}

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	atomic_fetch_add(&((struct fake_port *)p)->tx, n);
}

static unsigned fake_rx_queues(struct port *p) { return 1; }
static int fake_rx_fd(struct port *p, unsigned q) { return ((struct fake_port *)p)->fd; }
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
	struct flow_db *db;
	struct fake_port ports[4];		/* [0] unused: port numbers start at 1 */
};

/* What vswd does after every command (ctl_flows.c: flows_commit). */
static void commit(struct fx *f)
{
	int64_t gen = flow_db_commit(f->db);

	assert_true(gen >= 0);
	atomic_store_explicit(&f->sw.flows, flow_db_count(f->db, FLOW_TABLE_ANY) ? flow_db_tables(f->db) : NULL,
			      memory_order_release);
	dp_sync(&f->dp);
	flow_db_reclaim(f->db, (uint64_t)gen);
}

/* Every rule replaced by "in_port=1 -> output:@port" (and a few others, so that more than one subtable is there). */
static void set_rules(struct fx *f, unsigned port)
{
	static const char *const others[] = { "priority=5,in_port=2,actions=drop", "priority=7,ip,nw_dst=10.0.0.9,actions=drop",
					       "priority=9,dl_src=02:00:00:00:00:09,actions=normal" };
	struct flow_mod mod;
	char text[96], err[FLOW_ERR_MAX];

	flow_db_clear(f->db);
	snprintf(text, sizeof(text), "priority=100,in_port=1,actions=output:%u", port);
	assert_int_equal(flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)), 0);
	assert_int_equal(flow_db_add(f->db, &mod), 0);
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(flow_parse(others[i], FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)), 0);
		assert_int_equal(flow_db_add(f->db, &mod), 0);
	}
	commit(f);
}

static uint64_t tx(struct fx *f, unsigned port)
{
	return atomic_load(&f->ports[port].tx);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void test_swaps_under_load(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	unsigned carried = 0;

	assert_non_null(f);
	assert_int_equal(switch_init(&f->sw, SWITCH_LEARNING, 300, 4096), 0);
	f->db = flow_db_create();
	assert_non_null(f->db);
	for (unsigned i = 1; i < 4; i++) {
		snprintf(f->ports[i].port.name, sizeof(f->ports[i].port.name), "p%u", i);
		f->ports[i].port.ops = &fake_ops;
		f->ports[i].port.id = i;
		f->ports[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(f->ports[i].fd >= 0);
		switch_port_set(&f->sw, i, &f->ports[i].port);
	}
	assert_int_equal(dp_start(&f->dp, &f->sw, 1, NULL, true), 0);
	dp_rebuild(&f->dp);

	for (unsigned s = 0; s < SWAPS; s++) {
		unsigned to = 2 + s % 2, old = 5 - to;
		uint64_t old_tx, new_tx;

		set_rules(f, to);
		/* dp_sync() returned inside set_rules: no batch of the old set is left running */
		old_tx = tx(f, old);
		new_tx = tx(f, to);
		/* until the new set carried a frame, 20 ms at most */
		for (unsigned w = 0; w < 200 && tx(f, to) == new_tx; w++)
			sleep_us(100);
		if (tx(f, old) != old_tx)
			fail_msg("swap %u: %llu frames went to port %u after its rule was deleted and dp_sync() returned", s,
				 (unsigned long long)(tx(f, old) - old_tx), old);
		carried += tx(f, to) != new_tx;
	}
	/* the worker forwarded under (almost) every set; a loaded CI machine may starve it now and then */
	print_message("%u of %u rule sets carried frames within 20 ms\n", carried, SWAPS);
	assert_true(carried >= SWAPS / 2);

	flow_db_clear(f->db);
	commit(f);
	assert_null(atomic_load(&f->sw.flows));
	for (unsigned i = 1; i < 4; i++) {
		switch_port_set(&f->sw, i, NULL);
		dp_sync(&f->dp); /* the flood list it replaced may still be read until then */
	}
	dp_rebuild(&f->dp);
	dp_stop(&f->dp);
	for (unsigned i = 1; i < 4; i++)
		close(f->ports[i].fd);
	flow_db_destroy(f->db);
	switch_destroy(&f->sw);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swaps_under_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
