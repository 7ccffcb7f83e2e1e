/* bench_flow_commit.c - how long a flow change takes to be in force for every packet, with a worker forwarding flat out. */

/*
 * What is measured (issue 14, item 5: "a rule change is in force for
 * every packet within 10 ms (p99) under load")
 *
 *   One busy-polling worker (dp_start, CPU 0 unless --cpu) reads an
 *   endless stream of 60-byte frames from fake port 1 (bursts of 32, no
 *   I/O) and forwards them by the flow tables to port 2 or port 3 (ports
 *   are numbered from 1, as vswd numbers them).  The tables hold --rules
 *   rules besides the one that matters (priority=100, in_port=1,
 *   actions=output:2 or :3, rewritten each change; the others
 *   spread over several masks so the classifier has subtables to rebuild).
 *   Each change is what vswd does for `vswctl flow add` (ctl_flows.c):
 *   edit the db, commit a new version, publish it (sw->flows), dp_sync()
 *   (every worker passed a quiescent point: no batch of the old version is
 *   running), reclaim.  The time of a change runs from the edit to
 *   dp_sync()'s return, which is when the old rule answers no packet any
 *   more; after it, the frames on the old port are checked not to grow.
 *   Printed: p50, p99 and the largest of --changes changes, in µs.
 *
 *   The control thread runs on another CPU (the CLI's `taskset -c 1`
 *   pins the whole process; the worker pins itself).  Timing comes from
 *   CLOCK_MONOTONIC.  A shared machine stretches the tail; the figure is
 *   for a quiet one.
 */

#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dp/dp.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "switch/switch.h"

#define BURST 32
#define MAX_CHANGES 100000

struct fake_port {
	struct port port;
	int fd;
	atomic_uint_least64_t tx;
};

static uint8_t frame[60] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, 0x45, 0, 0, 46,
			     0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
static struct iovec frame_iov = { frame, sizeof(frame) };

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	if (p->id != 1)
		return 0;
	for (unsigned i = 0; i < BURST && i < max; i++)
		pkt_rx_init(&pkts[i], &frame_iov, 1, sizeof(frame), p->id);
	return BURST < max ? BURST : max;
}

static void fake_rx_done(struct port *p, unsigned q, struct port_io *io) {}

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	atomic_fetch_add_explicit(&((struct fake_port *)p)->tx, n, memory_order_relaxed);
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

static struct vswitch sw;
static struct dp dp;
static struct flow_db *db;
static struct fake_port ports[4];	/* [0] unused: port numbers start at 1 */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void add(const char *text)
{
	struct flow_mod mod;
	char err[FLOW_ERR_MAX];

	if (flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)) < 0 || flow_db_add(db, &mod) < 0) {
		fprintf(stderr, "bench_flow_commit: %s: %s\n", text, err);
		exit(1);
	}
}

/* vswd's commit (ctl_flows.c): a new version, published, every worker past it, the old one reclaimed. */
static void commit(void)
{
	int64_t gen = flow_db_commit(db);

	if (gen < 0) {
		fprintf(stderr, "bench_flow_commit: commit failed\n");
		exit(1);
	}
	atomic_store_explicit(&sw.flows, flow_db_tables(db), memory_order_release);
	dp_sync(&dp);
	flow_db_reclaim(db, (uint64_t)gen);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' }, { "changes", required_argument, NULL, 'c' },
		{ "cpu", required_argument, NULL, 'C' },   { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned rules = 1000, changes = 1000, stale = 0;
	int cpu = 0, c;
	uint64_t *t;
	char text[160];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			changes = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'C':
			cpu = atoi(optarg);
			break;
		default:
			printf("usage: bench_flow_commit [--rules N] [--changes N] [--cpu WORKER_CPU]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!changes || changes > MAX_CHANGES || rules > 1000000) {
		fprintf(stderr, "bench_flow_commit: --changes 1..%u, --rules 0..1000000\n", MAX_CHANGES);
		return 2;
	}
	t = calloc(changes, sizeof(*t));
	db = flow_db_create();
	if (!t || !db || switch_init(&sw, SWITCH_LEARNING, 300, 4096) < 0) {
		fprintf(stderr, "bench_flow_commit: out of memory\n");
		return 1;
	}
	for (unsigned i = 1; i < 4; i++) {
		snprintf(ports[i].port.name, sizeof(ports[i].port.name), "p%u", i);
		ports[i].port.ops = &fake_ops;
		ports[i].port.id = i;
		ports[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		switch_port_set(&sw, i, &ports[i].port);
	}
	/* The other rules: none matches the stream; four masks (exact /32, /24, a UDP port, a MAC). */
	for (unsigned i = 0; i < rules; i++) {
		switch (i % 4) {
		case 0:
			snprintf(text, sizeof(text), "priority=50,ip,nw_dst=172.%u.%u.%u,actions=drop", (i >> 16) & 255,
				 (i >> 8) & 255, i & 255);
			break;
		case 1:
			snprintf(text, sizeof(text), "priority=40,ip,nw_src=192.%u.%u.0/24,actions=drop", (i >> 8) & 255,
				 i & 255);
			break;
		case 2:
			snprintf(text, sizeof(text), "priority=30,udp,tp_dst=%u,actions=drop", 10000 + i % 50000);
			break;
		default:
			snprintf(text, sizeof(text), "priority=20,dl_src=02:77:%02x:%02x:%02x:%02x,actions=drop",
				 (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255);
		}
		add(text);
	}
	add("priority=100,in_port=1,actions=output:2");
	commit();
	if (dp_start(&dp, &sw, 1, &cpu, true) < 0) {
		fprintf(stderr, "bench_flow_commit: dp_start failed\n");
		return 1;
	}
	dp_rebuild(&dp);
	usleep(100000);
	for (unsigned s = 0; s < changes; s++) {
		unsigned to = 3 - s % 2, old = 5 - to;
		uint64_t t0, old_tx;

		snprintf(text, sizeof(text), "priority=100,in_port=1,actions=output:%u", to);
		t0 = now_ns();
		add(text); /* the same match and priority: the rule's actions replaced, as ovs-ofctl add-flow does */
		commit();
		t[s] = now_ns() - t0;
		old_tx = atomic_load(&ports[old].tx);
		usleep(200);
		stale += atomic_load(&ports[old].tx) != old_tx;
	}
	qsort(t, changes, sizeof(*t), cmp_u64);
	printf("bench_flow_commit: %u rules besides the changed one, %u changes under a busy worker: "
	       "in force for every packet after p50 %.1f us, p99 %.1f us, max %.1f us; frames by a replaced rule "
	       "after its change: %u (must be 0); forwarded %llu\n",
	       rules, changes, t[changes / 2] / 1e3, t[changes * 99 / 100] / 1e3, t[changes - 1] / 1e3, stale,
	       (unsigned long long)(atomic_load(&ports[2].tx) + atomic_load(&ports[3].tx)));
	for (unsigned i = 1; i < 4; i++)
		switch_port_set(&sw, i, NULL);
	dp_sync(&dp);
	dp_rebuild(&dp);
	dp_stop(&dp);
	flow_db_destroy(db);
	switch_destroy(&sw);
	free(t);
	return stale ? 1 : 0;
}
