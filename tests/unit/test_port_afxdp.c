/* test_port_afxdp.c - unit tests of the AF_XDP port against a real veth pair in a network namespace of its own. */

/*
 * The test process moves itself into a fresh network namespace
 * (unshare(CLONE_NEWNET), so it needs root, as CI has) and makes veth
 * pairs there: vsw-ut0/vsw-ut1 with 4 queues, vsw-us0/vsw-us1 with 1.
 *
 *   AF_PACKET socket --> vsw-ut1 ==veth==> vsw-ut0 --XDP--> afxdp port --rx_burst--> test
 *   AF_PACKET socket <-- vsw-ut1 <==veth== vsw-ut0 <--sendto-- afxdp port <--tx_burst-- test
 *
 * A veth delivers a frame on the rx queue whose index is the tx queue the
 * peer sent it on.  To land a frame on a chosen queue, the test sends it
 * from a second afxdp port on the peer (vsw-ut1): an AF_XDP socket
 * transmits on the tx queue it is bound to, and the port sends through
 * socket ctx->io.worker_id % queues.  (An AF_PACKET socket's frames go
 * wherever the flow hash puts them; this kernel has no tc skbedit.)
 *
 *   peer port, worker_id q --> vsw-ut1 tx queue q ==veth==> vsw-ut0 rx queue q --> port rx queue q
 *
 * In native XDP mode, rx queue q is exactly that; in skb (generic) mode
 * the kernel reads a veth frame's tx queue q as rx queue q - 1 (queue 0
 * for q = 0): so skb-mode tests only check that every frame arrives.
 *
 * The port is driven the way a worker drives it (rx_burst, rx_done,
 * tx_burst, rx_arm).  When the namespace or a pair cannot be made, every
 * test fails with the reason.  Each test registers the ports and sockets
 * it makes; the teardown releases whatever a failing test left, so the
 * next test starts clean.  The namespace, the pairs and the XDP programs
 * vanish with the process.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "dp/dp.h"
#include "port/port_afxdp.h"
#include "../lib/veth_ns.h"
#include "../lib/zalloc.h"

#define IF_PORT "vsw-ut0"	/* the port attaches here: 4 queues */
#define IF_PEER "vsw-ut1"	/* the test sends and receives here */
#define IF_PORT1 "vsw-us0"	/* a pair with a single queue */
#define IF_PEER1 "vsw-us1"
#define QUEUES 4		/* of IF_PORT and IF_PEER */
#define ETH_RX_TEST 0x88b5	/* local experimental ethertypes: nothing else sends them */
#define ETH_TX_TEST 0x88b6
#define LIVE_MAX 8		/* ports and sockets one test holds at once */

static bool net_ready;
static char net_why[256];

/* What the running test holds; teardown() releases what a failed test left. */
static struct port *live_port[LIVE_MAX];
static int live_fd[LIVE_MAX];
static struct dp_ctx *ctx;

/* ---- helpers ---- */

static int group_setup(void **state)
{
	for (int i = 0; i < LIVE_MAX; i++)
		live_fd[i] = -1;
	ctx = zalloc64(sizeof(*ctx));
	net_ready = veth_ns_up(IF_PORT, IF_PEER, QUEUES, net_why, sizeof(net_why)) &&
		    veth_ns_pair(IF_PORT1, IF_PEER1, 1, net_why, sizeof(net_why));
	return ctx ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(ctx);
	return 0;
}

/* Every test: fail with the reason when the namespace or the pairs could not be made. */
static int setup(void **state)
{
	memset(ctx, 0, sizeof(*ctx));
	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	return 0;
}

/* Destroy the ports and close the sockets a test did not (it failed half way). */
static int teardown(void **state)
{
	for (int i = 0; i < LIVE_MAX; i++) {
		if (live_port[i])
			live_port[i]->ops->destroy(live_port[i]);
		live_port[i] = NULL;
		if (live_fd[i] >= 0)
			close(live_fd[i]);
		live_fd[i] = -1;
	}
	return 0;
}

static void port_del(struct port *p)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live_port[i] == p)
			live_port[i] = NULL;
	p->ops->destroy(p);
}

static int fd_track(int fd)
{
	for (int i = 0; i < LIVE_MAX && fd >= 0; i++)
		if (live_fd[i] < 0) {
			live_fd[i] = fd;
			return fd;
		}
	fail_msg("more than %d sockets in one test", LIVE_MAX);
	return -1;
}

static void fd_close(int fd)
{
	for (int i = 0; i < LIVE_MAX; i++)
		if (live_fd[i] == fd)
			live_fd[i] = -1;
	close(fd);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* The id of the XDP program attached to @ifname, 0 for none. */
static unsigned xdp_prog_id(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query((int)if_nametoindex(ifname), 0, &q) < 0)
		return 0;
	return q.prog_id;
}

/* Create a port from "key=value" pairs (values that are all digits become integers, as vswctl does). */
static struct port *port_new(char *err, size_t errlen, ...)
{
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	struct port *p;
	const char *kv;
	va_list ap;

	va_start(ap, errlen);
	while ((kv = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(kv, '=');
		char key[32];
		char *end;
		long v;

		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		v = strtol(eq + 1, &end, 10);
		if (*end == '\0' && end != eq + 1)
			json_object_object_add(o, key, json_object_new_int64(v));
		else
			json_object_object_add(o, key, json_object_new_string(eq + 1));
	}
	va_end(ap);
	err[0] = '\0';
	p = port_afxdp_create("t0", o, &env, err, errlen);
	json_object_put(o);
	if (!p)
		return NULL;
	p->id = 3;
	for (int i = 0; i < LIVE_MAX; i++)
		if (!live_port[i]) {
			live_port[i] = p;
			return p;
		}
	p->ops->destroy(p);
	fail_msg("more than %d ports in one test", LIVE_MAX);
	return NULL;
}

/* An AF_PACKET socket on @ifname for @ethertype, receiving with a 1 s timeout. */
/* The next frame that arrived on @rfd (not one the interface sent: AF_PACKET sees both), its length or -1. */
static ssize_t recv_arrived(int rfd, uint8_t *got, size_t len, int flags)
{
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	do
		n = recvfrom(rfd, got, len, flags, (struct sockaddr *)&from, &fl);
	while (n > 0 && from.sll_pkttype == PACKET_OUTGOING);
	return n;
}

static int packet_socket(const char *ifname, uint16_t ethertype)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ethertype) };
	struct timeval tv = { .tv_sec = 1 };
	int fd = fd_track(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ethertype)));

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void peer_send(int fd, const char *ifname, const void *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };

	assert_int_equal(sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)), (ssize_t)len);
}

static size_t make_frame(uint8_t *f, uint16_t ethertype, size_t len, uint8_t seed)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x01 }, src[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint16_t t = htons(ethertype);

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	memcpy(f + 12, &t, 2);
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
	return len;
}

/* The checks every received frame passes (its head loaded, as the parse stage would); true when it is of @ethertype. */
static bool pkt_check(struct pkt *pk, uint16_t ethertype)
{
	uint16_t t;

	assert_int_equal(pk->in_port, 3);
	assert_int_equal(pk->niov, 1);
	assert_int_equal(pk->iov[0].iov_len, pk->len);
	pkt_load(pk);
	assert_memory_equal(pkt_head(pk), pk->iov[0].iov_base, pk->head_len);
	memcpy(&t, pkt_head(pk) + 12, 2);
	return ntohs(t) == ethertype;
}

/* Poll the fds of every rx queue of @p for up to @ms. */
static void port_wait(struct port *p, int ms)
{
	struct pollfd pfd[PORT_QUEUES_MAX];
	unsigned nq = p->ops->rx_queues(p);

	assert_true(nq >= 1 && nq <= PORT_QUEUES_MAX);
	for (unsigned q = 0; q < nq; q++)
		pfd[q] = (struct pollfd){ .fd = p->ops->rx_fd(p, q), .events = POLLIN };
	poll(pfd, nq, ms);
}

/*
 * Wait for a frame of @ethertype on any rx queue of the port; copy it to
 * @out and its queue to *@queue (when not NULL).  Returns its length, 0 on
 * timeout (1 s).
 */
static size_t port_receive(struct port *p, uint16_t ethertype, uint8_t *out, size_t cap, unsigned *queue)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned moved = 0;
		size_t got = 0;

		for (unsigned q = 0; q < p->ops->rx_queues(p); q++) {
			unsigned n = p->ops->rx_burst(p, q, &ctx->io, ctx->pkts, PKT_BURST);

			for (unsigned i = 0; i < n; i++)
				if (pkt_check(&ctx->pkts[i], ethertype) && !got && ctx->pkts[i].len <= cap) {
					memcpy(out, ctx->pkts[i].iov[0].iov_base, ctx->pkts[i].len);
					got = ctx->pkts[i].len;
					if (queue)
						*queue = q;
				}
			p->ops->rx_done(p, q, &ctx->io);
			moved += n;
		}
		if (got)
			return got;
		if (!moved)
			port_wait(p, 10);
	}
	return 0;
}

/*
 * Every frame of @ethertype the port receives within @ms: the rx queue of
 * the frame tagged t (byte 14) goes to @queue_of[t] (which starts at -1; a
 * second frame with one tag fails the test).  Returns how many arrived;
 * stops early once @want did.
 */
static unsigned port_collect(struct port *p, uint16_t ethertype, int queue_of[256], unsigned want, int ms)
{
	unsigned seen = 0;

	for (int i = 0; i < 256; i++)
		queue_of[i] = -1;
	for (int waited = 0; waited < ms && seen < want;) {
		unsigned moved = 0;

		for (unsigned q = 0; q < p->ops->rx_queues(p); q++) {
			unsigned n = p->ops->rx_burst(p, q, &ctx->io, ctx->pkts, PKT_BURST);

			for (unsigned i = 0; i < n; i++) {
				const uint8_t *f = ctx->pkts[i].iov[0].iov_base;

				if (!pkt_check(&ctx->pkts[i], ethertype))
					continue;
				if (queue_of[f[14]] >= 0)
					fail_msg("frame %u arrived twice: rx queues %d and %u", f[14], queue_of[f[14]], q);
				queue_of[f[14]] = (int)q;
				seen++;
			}
			p->ops->rx_done(p, q, &ctx->io);
			moved += n;
		}
		if (!moved) {
			port_wait(p, 10);
			waited += 10;
		}
	}
	return seen;
}

/*
 * Send one ETH_RX_TEST frame tagged @tag through @peer as worker @worker:
 * out of the peer's socket @worker % its queues, so onto that tx queue of
 * the peer interface and that rx queue of the other end.
 */
static void queue_send(struct port *peer, unsigned worker, uint8_t tag)
{
	uint8_t f[60];
	struct iovec iov = { f, sizeof(f) };
	struct pkt pk, *list = &pk;
	uint64_t before = atomic_load(&peer->stats.tx_packets);

	make_frame(f, ETH_RX_TEST, sizeof(f), tag);
	f[14] = tag;
	pkt_rx_init(&pk, &iov, 1, sizeof(f), 0);
	pkt_load(&pk);
	ctx->io.worker_id = worker;
	peer->ops->tx_burst(peer, &ctx->io, &list, 1);
	ctx->io.worker_id = 0;
	assert_int_equal(atomic_load(&peer->stats.tx_packets), before + 1);
}

/* Ones'-complement sum of @len bytes, big-endian words, written plainly (not the port's code). */
static uint32_t be_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t be_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* An IPv4/TCP frame of 14 + 20 + 20 + @payload bytes: correct IP header checksum, TCP checksum field @check. */
static size_t make_tcp(uint8_t *f, size_t payload, uint16_t check)
{
	uint8_t *ip = f + 14, *tcp = f + 34;
	uint16_t tot = (uint16_t)(40 + payload), c;

	make_frame(f, 0x0800, 54 + payload, 7);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, (const uint8_t[]){ 10, 99, 0, 1, 10, 99, 0, 2 }, 8);
	c = (uint16_t)~be_fold(be_sum(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memset(tcp, 0, 20);
	tcp[1] = 80;
	tcp[3] = 99;
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;
	tcp[14] = 0x10;
	tcp[16] = (uint8_t)(check >> 8);
	tcp[17] = (uint8_t)check;
	return 54 + payload;
}

/* The TCP pseudo-header sum of a make_tcp() frame, folded: what CHECKSUM_PARTIAL leaves in the field. */
static uint16_t tcp_pseudo(const uint8_t *f)
{
	uint16_t l4 = (uint16_t)((f[16] << 8 | f[17]) - 20);
	uint8_t ph[12];

	memcpy(ph, f + 26, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(l4 >> 8);
	ph[11] = (uint8_t)l4;
	return be_fold(be_sum(0, ph, sizeof(ph)));
}

static bool tcp_checksum_ok(const uint8_t *f, size_t len)
{
	return be_fold(be_sum(tcp_pseudo(f), f + 34, len - 34)) == 0xffff;
}

/* ---- tests ---- */

/*
 * Create and destroy leave no fd and no XDP program behind; an immediate
 * re-create waits for the queues.  A port serves every rx queue of its
 * interface, or the one queue= names, and says which.
 */
static void test_create_destroy(void **state)
{
	char err[256], desc[256];
	struct port *p;
	int fds;

	fds = count_fds();
	for (int i = 0; i < 3; i++) {
		p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
		assert_non_null(p);
		assert_string_equal(err, "");
		assert_int_equal(p->ops->rx_queues(p), QUEUES);
		for (unsigned q = 0; q < QUEUES; q++) {
			assert_true(p->ops->rx_fd(p, q) >= 0);
			if (q)
				assert_int_not_equal(p->ops->rx_fd(p, q), p->ops->rx_fd(p, q - 1));
		}
		assert_int_not_equal(xdp_prog_id(IF_PORT), 0);
		p->ops->describe(p, desc, sizeof(desc));
		print_message("describe: %s\n", desc);
		assert_non_null(strstr(desc, IF_PORT " queues 0-3, XDP "));
		assert_true(strstr(desc, "copy mode") || strstr(desc, "zero-copy"));
		port_del(p);
		assert_int_equal(xdp_prog_id(IF_PORT), 0);
	}

	p = port_new(err, sizeof(err), "ifname=" IF_PORT1, NULL);
	assert_non_null(p);
	assert_int_equal(p->ops->rx_queues(p), 1);
	p->ops->describe(p, desc, sizeof(desc));
	print_message("describe: %s\n", desc);
	assert_non_null(strstr(desc, IF_PORT1 " queue 0, XDP "));
	port_del(p);

	p = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=2", NULL);
	assert_non_null(p);
	assert_int_equal(p->ops->rx_queues(p), 1);
	p->ops->describe(p, desc, sizeof(desc));
	print_message("describe: %s\n", desc);
	assert_non_null(strstr(desc, IF_PORT " queue 2, XDP "));
	port_del(p);
	assert_int_equal(xdp_prog_id(IF_PORT), 0);
	assert_int_equal(count_fds(), fds);
}

/* Every refusal is one line naming the interface, and leaks nothing. */
static void test_errors(void **state)
{
	char err[256];
	struct port *p;
	int fds;

	if (!veth_ns_pair("vsw-uw0", "vsw-uw1", PORT_QUEUES_MAX + 1, err, sizeof(err)))
		fail_msg("%s", err);
	fds = count_fds();
	assert_null(port_new(err, sizeof(err), "queue=0", NULL));
	assert_non_null(strstr(err, "ifname"));
	assert_null(port_new(err, sizeof(err), "ifname=vsw-nosuch0", NULL));
	assert_string_equal(err, "afxdp vsw-nosuch0: no such interface");
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "mode=fast", NULL));
	assert_non_null(strstr(err, "mode must be"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=7", NULL));
	print_message("queue=7: %s\n", err);
	assert_non_null(strstr(err, "queue 7"));
	assert_non_null(strstr(err, "it has 4 rx queues"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=256", NULL));
	assert_non_null(strstr(err, "queue"));
	/* rx_frames: a power of two from 256 to 65536. */
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "rx_frames=1000", NULL));
	assert_string_equal(err, "afxdp: rx_frames must be a power of two (256 to 65536), not 1000");
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "rx_frames=128", NULL));
	print_message("rx_frames=128: %s\n", err);
	assert_non_null(strstr(err, "rx_frames"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "rx_frames=131072", NULL));
	assert_non_null(strstr(err, "rx_frames"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "rx_frames=0", NULL));
	assert_non_null(strstr(err, "rx_frames"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "rx_frames=many", NULL));
	assert_non_null(strstr(err, "rx_frames"));
	/* More queues than a port serves: refused, not served in part. */
	assert_null(port_new(err, sizeof(err), "ifname=vsw-uw0", NULL));
	print_message("9 queues: %s\n", err);
	assert_non_null(strstr(err, "afxdp vsw-uw0: it has 9 rx queues, more than the 8"));
	p = port_new(err, sizeof(err), "ifname=vsw-uw0", "queue=8", NULL);
	assert_non_null(p);
	port_del(p);
	assert_null(port_new(err, sizeof(err), "ifname=lo", "mode=native", NULL));
	assert_non_null(strstr(err, "afxdp lo: XDP native mode not supported"));
	assert_non_null(strstr(err, "try mode=skb"));
	/* veth has no zero-copy support; a driver that had it would simply give us a port. */
	p = port_new(err, sizeof(err), "ifname=" IF_PORT, "zerocopy=on", NULL);
	if (p)
		port_del(p);
	else
		assert_non_null(strstr(err, "zero-copy not supported"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(xdp_prog_id(IF_PORT), 0);
	assert_int_equal(xdp_prog_id("vsw-uw0"), 0);
	assert_int_equal(xdp_prog_id("lo"), 0);
	assert_int_equal(count_fds(), fds);
}

/*
 * Ports on queues of one interface share its program; the last one out
 * detaches it.  A port for every queue cannot have one another port holds,
 * and gives back the ones it took.
 */
static void test_queue_ports(void **state)
{
	char err[256];
	struct port *p0, *p1;
	int fds;

	p0 = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=0", "mode=native", NULL);
	assert_non_null(p0);
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=0", NULL));
	assert_non_null(strstr(err, "queue 0 is already bound"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=1", "mode=skb", NULL));
	assert_non_null(strstr(err, "already runs in native mode"));
	p1 = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=2", NULL);
	assert_non_null(p1);
	port_del(p0);
	assert_int_not_equal(xdp_prog_id(IF_PORT), 0);
	/* Queues 0 and 1 are free, 2 is not: the all-queues port fails at 2 and lets 0 and 1 go. */
	fds = count_fds();
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, NULL));
	assert_non_null(strstr(err, "queue 2 is already bound"));
	assert_int_equal(count_fds(), fds);
	p0 = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=0", NULL);
	assert_non_null(p0);
	port_del(p0);
	port_del(p1);
	assert_int_equal(xdp_prog_id(IF_PORT), 0);
}

/* A frame the peer sends comes out of rx_burst intact, with the fd and rx_arm telling when. */
static void test_rx(void **state)
{
	uint8_t frame[1500], got[1500];
	char err[256];
	struct port *p;
	int sfd;

	for (int mode = 0; mode < 2; mode++) {
		p = port_new(err, sizeof(err), "ifname=" IF_PORT, mode ? "mode=skb" : "mode=native", NULL);
		assert_non_null(p);
		sfd = packet_socket(IF_PEER, ETH_RX_TEST);
		/* Nothing waiting: arming reports nothing. */
		for (unsigned q = 0; q < QUEUES; q++) {
			while (p->ops->rx_burst(p, q, &ctx->io, ctx->pkts, PKT_BURST))
				p->ops->rx_done(p, q, &ctx->io);
			p->ops->rx_done(p, q, &ctx->io);
			assert_false(p->ops->rx_arm(p, q));
		}
		for (size_t len = 60; len <= 1500; len += 720) {
			struct pollfd pfd[QUEUES];
			unsigned ready = 0, q_got = QUEUES;

			for (unsigned q = 0; q < QUEUES; q++)
				pfd[q] = (struct pollfd){ .fd = p->ops->rx_fd(p, q), .events = POLLIN };
			peer_send(sfd, IF_PEER, frame, make_frame(frame, ETH_RX_TEST, len, (uint8_t)len));
			assert_int_equal(poll(pfd, QUEUES, 1000), 1);
			while (!pfd[ready].revents)
				ready++;
			assert_true(p->ops->rx_arm(p, ready));
			memset(got, 0, sizeof(got));
			assert_int_equal(port_receive(p, ETH_RX_TEST, got, sizeof(got), &q_got), len);
			assert_memory_equal(got, frame, len);
			assert_int_equal(q_got, ready);
		}
		assert_true(atomic_load(&p->stats.rx_packets) >= 3);
		fd_close(sfd);
		port_del(p);
	}
}

/*
 * Frames steered to each rx queue of the interface all reach the port, on
 * that queue (native mode; skb mode's veth numbering is off by one, see
 * the top); on a single-queue interface, on its one queue.  The peer sends
 * as workers 0 .. 2 * QUEUES - 1: worker w through tx queue w % QUEUES.
 */
static void test_rx_every_queue(void **state)
{
	static const char *const modes[] = { "mode=native", "mode=skb" };
	struct port_queue_stats qs[PORT_QUEUES_MAX], peer_qs[PORT_QUEUES_MAX];
	int queue_of[256];
	char err[256], desc[256];
	struct port *p, *peer;

	for (int m = 0; m < 2; m++) {
		p = port_new(err, sizeof(err), "ifname=" IF_PORT, modes[m], NULL);
		assert_non_null(p);
		peer = port_new(err, sizeof(err), "ifname=" IF_PEER, "mode=skb", NULL);
		assert_non_null(peer);
		assert_int_equal(peer->ops->rx_queues(peer), QUEUES);
		p->ops->describe(p, desc, sizeof(desc));
		print_message("%s: %s\n", modes[m], desc);
		for (unsigned w = 0; w < 2 * QUEUES; w++)
			queue_send(peer, w, (uint8_t)w);
		assert_int_equal(port_collect(p, ETH_RX_TEST, queue_of, 2 * QUEUES, 2000), 2 * QUEUES);
		for (unsigned w = 0; w < 2 * QUEUES; w++) {
			print_message("%s: frame sent on tx queue %u arrived on rx queue %d\n", modes[m], w % QUEUES,
				      queue_of[w]);
			if (m == 0)
				assert_int_equal(queue_of[w], w % QUEUES);
		}
		assert_int_equal(atomic_load(&p->stats.rx_packets), 2 * QUEUES);
		/* Per queue (stats --json "queues"): rx where each frame arrived, tx by the sender's worker. */
		assert_int_equal(p->ops->queue_stats(p, qs, PORT_QUEUES_MAX), QUEUES);
		assert_int_equal(peer->ops->queue_stats(peer, peer_qs, PORT_QUEUES_MAX), QUEUES);
		for (unsigned q = 0; q < QUEUES; q++) {
			unsigned arrived = 0;

			for (unsigned w = 0; w < 2 * QUEUES; w++)
				arrived += queue_of[w] == (int)q;
			assert_int_equal(qs[q].rx_packets, arrived);
			assert_int_equal(qs[q].tx_packets, 0);
			assert_int_equal(peer_qs[q].tx_packets, 2);
			assert_true(peer_qs[q].tx_bytes >= 2 * 60);
		}
		port_del(peer);
		port_del(p);
	}

	p = port_new(err, sizeof(err), "ifname=" IF_PORT1, NULL);
	assert_non_null(p);
	peer = port_new(err, sizeof(err), "ifname=" IF_PEER1, "mode=skb", NULL);
	assert_non_null(peer);
	assert_int_equal(p->ops->rx_queues(p), 1);
	assert_int_equal(peer->ops->rx_queues(peer), 1);
	for (unsigned w = 0; w < 3; w++)
		queue_send(peer, w, (uint8_t)w);
	assert_int_equal(port_collect(p, ETH_RX_TEST, queue_of, 3, 2000), 3);
	for (unsigned w = 0; w < 3; w++)
		assert_int_equal(queue_of[w], 0);
	port_del(peer);
	port_del(p);
}

/*
 * queue=2 receives what arrives on queue 2 and nothing else: the frames of
 * the other queues pass to the kernel's stack (an AF_PACKET socket on the
 * interface sees them, so they were sent).
 */
static void test_queue_restricts(void **state)
{
	int queue_of[256];
	uint8_t got[128];
	bool stack_saw[QUEUES] = { false };
	char err[256], desc[256];
	struct port *p, *peer;
	int wfd;

	p = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=2", "mode=native", NULL);
	assert_non_null(p);
	assert_int_equal(p->ops->rx_queues(p), 1);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, IF_PORT " queue 2, XDP native"));
	peer = port_new(err, sizeof(err), "ifname=" IF_PEER, "mode=skb", NULL);
	assert_non_null(peer);
	wfd = packet_socket(IF_PORT, ETH_RX_TEST);
	for (unsigned q = 0; q < QUEUES; q++)
		queue_send(peer, q, (uint8_t)q);
	assert_int_equal(port_collect(p, ETH_RX_TEST, queue_of, QUEUES, 500), 1);
	assert_int_equal(queue_of[2], 0);
	for (unsigned q = 0; q < QUEUES - 1; q++) {
		ssize_t n = recv(wfd, got, sizeof(got), 0);

		if (n < 15)
			fail_msg("the stack saw %u of the %u frames of the other queues (recv %zd)", q, QUEUES - 1, n);
		assert_true(got[14] < QUEUES);
		stack_saw[got[14]] = true;
	}
	assert_true(stack_saw[0] && stack_saw[1] && !stack_saw[2] && stack_saw[3]);
	fd_close(wfd);
	port_del(peer);
	port_del(p);
}

/* Set @ifname's rx and tx channels to @n (as ethtool -L IF rx N tx N does).  0 or -errno. */
static int set_channels(const char *ifname, unsigned n)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_SCHANNELS, .rx_count = n, .tx_count = n };
	struct ifreq ifr = { 0 };
	int fd = fd_track(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)), rc;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	rc = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
	fd_close(fd);
	return rc;
}

/*
 * The port serves the queues the interface has when it is added; when the
 * interface gets more later, describe() says so after the next tick (the
 * port must be added again).
 */
static void test_queues_change(void **state)
{
	char err[256], desc[300];
	struct port *p;
	int rc;

	if (!veth_ns_pair("vsw-uc0", "vsw-uc1", 8, err, sizeof(err)))
		fail_msg("%s", err);
	rc = set_channels("vsw-uc0", 2);
	if (rc == 0)
		rc = set_channels("vsw-uc1", 2);
	if (rc < 0)
		fail_msg("ETHTOOL_SCHANNELS on a veth: %s", strerror(-rc));
	p = port_new(err, sizeof(err), "ifname=vsw-uc0", NULL);
	assert_non_null(p);
	assert_int_equal(p->ops->rx_queues(p), 2);
	p->ops->tick(p);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "vsw-uc0 queues 0-1, XDP "));
	assert_null(strstr(desc, "now has"));
	/* The port's end first: veth refuses more tx queues than an XDP peer has rx queues. */
	assert_int_equal(set_channels("vsw-uc0", 4), 0);
	assert_int_equal(set_channels("vsw-uc1", 4), 0);
	p->ops->tick(p);
	p->ops->describe(p, desc, sizeof(desc));
	print_message("describe: %s\n", desc);
	assert_non_null(strstr(desc, "vsw-uc0 queues 0-1, XDP "));
	assert_non_null(strstr(desc, "; the interface now has 4 rx queues: add the port again"));
	port_del(p);
	p = port_new(err, sizeof(err), "ifname=vsw-uc0", NULL);
	assert_non_null(p);
	assert_int_equal(p->ops->rx_queues(p), 4);
	port_del(p);
}

/* Up to PKT_BURST 60-byte test frames (frame i's payload byte i), as packets ready for tx_burst in list[]. */
struct burst60 {
	uint8_t frames[PKT_BURST][64];
	struct iovec iov[PKT_BURST];
	struct pkt pkts[PKT_BURST];
	struct pkt *list[PKT_BURST];
};

static void burst60_init(struct burst60 *bu, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		make_frame(bu->frames[i], ETH_TX_TEST, 60, (uint8_t)i);
		bu->iov[i] = (struct iovec){ bu->frames[i], 60 };
		pkt_rx_init(&bu->pkts[i], &bu->iov[i], 1, 60, 0);
		pkt_load(&bu->pkts[i]);
		bu->list[i] = &bu->pkts[i];
	}
}

/*
 * Frames the device drops on transmit (a veth whose peer is down answers
 * NET_XMIT_DROP, which the kernel's AF_XDP copy mode reports as EBUSY, one
 * frame at a time) are counted as drops (no_rx_buffer), not as sent; with
 * the peer up again the same burst leaves whole.
 */
static void test_tx_device_drops(void **state)
{
	static struct burst60 bu;
	struct pkt **list = bu.list;
	char err[256];
	struct port *p;
	unsigned seen = 0;
	int rfd;

	p = port_new(err, sizeof(err), "ifname=" IF_PORT1, NULL);
	assert_non_null(p);
	burst60_init(&bu, 8);
	assert_int_equal(veth_ns_run("ip link set " IF_PEER1 " down"), 0);
	p->ops->tx_burst(p, &ctx->io, list, 8);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), 8);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 0);

	assert_int_equal(veth_ns_run("ip link set " IF_PEER1 " up"), 0);
	rfd = packet_socket(IF_PEER1, ETH_TX_TEST);
	/* The carrier comes back within a few milliseconds: a bounded wait for the first frame through. */
	for (int tries = 0; tries < 200 && !seen; tries++) {
		uint8_t got[128];

		p->ops->tx_burst(p, &ctx->io, list, 1);
		if (recv_arrived(rfd, got, sizeof(got), MSG_DONTWAIT) == 60)
			seen = 1;
		else
			usleep(10000);
	}
	assert_int_equal(seen, 1);
	{
		uint64_t drops = atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), sent = atomic_load(&p->stats.tx_packets);

		p->ops->tx_burst(p, &ctx->io, list, 8);
		for (unsigned i = 0; i < 8; i++) {
			uint8_t got[128];
			ssize_t n = recv_arrived(rfd, got, sizeof(got), 0);

			if (n != 60)
				fail_msg("frame %u of 8 never left with the peer up (recvfrom %zd)", i, n);
		}
		assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), drops);
		assert_int_equal(atomic_load(&p->stats.tx_packets), sent + 8);
	}
	fd_close(rfd);
	port_del(p);
}

/* tx_burst puts frames on the wire once each; too big ones are counted, not sent. */
static void test_tx(void **state)
{
	uint8_t frames[3][2000], got[2100];
	struct iovec iov[3][2];
	struct pkt pkts[3];
	struct pkt *list[3] = { &pkts[0], &pkts[1], &pkts[2] };
	size_t lens[3] = { 60, 1514, 1600 }; /* the last is larger than MTU 1500 + 18 */
	char err[256];
	struct port *p;
	int rfd;

	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	rfd = packet_socket(IF_PEER, ETH_TX_TEST);
	for (int i = 0; i < 3; i++) {
		make_frame(frames[i], ETH_TX_TEST, lens[i], (uint8_t)(i * 40));
		/* Two iovecs per frame: the port must gather them. */
		iov[i][0] = (struct iovec){ frames[i], 20 };
		iov[i][1] = (struct iovec){ frames[i] + 20, lens[i] - 20 };
		pkt_rx_init(&pkts[i], iov[i], 2, (uint32_t)lens[i], 0);
		pkt_load(&pkts[i]);
	}
	p->ops->tx_burst(p, &ctx->io, list, 3);
	for (int i = 0; i < 2; i++) {
		ssize_t n = recv_arrived(rfd, got, sizeof(got), 0);

		assert_int_equal(n, lens[i]);
		assert_memory_equal(got, frames[i], lens[i]);
	}
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	assert_int_equal(atomic_load(&p->stats.tx_bytes), 60 + 1514);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_TOO_BIG]), 1);
	/*
	 * Many bursts, from every worker (worker w through socket w % 4): each
	 * leaves, and its frames come back through that socket's completion ring.
	 */
	for (int b = 0; b < 200; b++) {
		ctx->io.worker_id = (unsigned)b % (QUEUES + 1);
		p->ops->tx_burst(p, &ctx->io, list, 2);
		for (int i = 0; i < 2; i++) {
			ssize_t n = recv_arrived(rfd, got, sizeof(got), 0);

			if (n != (ssize_t)lens[i])
				fail_msg("burst %d from worker %u: frame %d: recvfrom %zd", b, ctx->io.worker_id, i, n);
		}
	}
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2 + 400);
	fd_close(rfd);
	port_del(p);
}

/*
 * A whole burst leaves in the tx_burst that placed it: copy mode's sendto()
 * sends at most 32 frames per call, and nothing else (no tick here) would
 * kick the rest out.
 */
static void test_tx_full_burst(void **state)
{
	static struct burst60 bu;
	struct pkt **list = bu.list;
	char err[256];
	struct port *p;
	unsigned seen = 0;
	int rfd;

	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	rfd = packet_socket(IF_PEER, ETH_TX_TEST);
	burst60_init(&bu, PKT_BURST);
	for (int round = 0; round < 3; round++) {
		p->ops->tx_burst(p, &ctx->io, list, PKT_BURST);
		for (unsigned i = 0; i < PKT_BURST; i++) {
			uint8_t got[128];
			ssize_t n = recv_arrived(rfd, got, sizeof(got), 0);

			if (n != 60)
				fail_msg("round %d: frame %u of %u never left (recvfrom %zd)", round, i, PKT_BURST, n);
			seen++;
		}
	}
	assert_int_equal(seen, 3 * PKT_BURST);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 3 * PKT_BURST);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), 0);
	fd_close(rfd);
	port_del(p);
}

/* A TCP checksum the sender left partial is completed; a full one is left alone. */
static void test_rx_checksum(void **state)
{
	uint8_t frame[200], got[200];
	char err[256];
	struct port *p;
	size_t len;
	int sfd;

	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	sfd = packet_socket(IF_PEER, 0x0800);

	len = make_tcp(frame, 33, 0);
	frame[50] = tcp_pseudo(frame) >> 8;
	frame[51] = (uint8_t)tcp_pseudo(frame);
	assert_false(tcp_checksum_ok(frame, len));
	peer_send(sfd, IF_PEER, frame, len);
	assert_int_equal(port_receive(p, 0x0800, got, sizeof(got), NULL), len);
	assert_true(tcp_checksum_ok(got, len));
	assert_memory_equal(got, frame, 50); /* only the checksum field changed */
	assert_memory_equal(got + 52, frame + 52, len - 52);

	len = make_tcp(frame, 40, 0);
	{
		uint16_t c = (uint16_t)~be_fold(be_sum(tcp_pseudo(frame), frame + 34, len - 34));

		frame[50] = (uint8_t)(c >> 8);
		frame[51] = (uint8_t)c;
	}
	assert_true(tcp_checksum_ok(frame, len));
	peer_send(sfd, IF_PEER, frame, len);
	assert_int_equal(port_receive(p, 0x0800, got, sizeof(got), NULL), len);
	assert_memory_equal(got, frame, len);

	fd_close(sfd);
	port_del(p);
}

/*
 * Send @n frames of ETH_RX_TEST from the peer of the single-queue pair
 * while nobody reads the port (a worker busy elsewhere), then drain it:
 * how many arrived.  What does not fit in the receive side the kernel
 * drops (fill ring empty).
 */
static unsigned backlog_send_drain(struct port *p, unsigned n)
{
	uint8_t frame[60];
	unsigned seen = 0;
	int sfd = packet_socket(IF_PEER1, ETH_RX_TEST);

	make_frame(frame, ETH_RX_TEST, sizeof(frame), 1);
	for (unsigned i = 0; i < n; i++)
		peer_send(sfd, IF_PEER1, frame, sizeof(frame));
	for (int idle = 0; idle < 20;) {
		unsigned got = p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST);

		for (unsigned i = 0; i < got; i++)
			seen += pkt_check(&ctx->pkts[i], ETH_RX_TEST);
		p->ops->rx_done(p, 0, &ctx->io);
		if (!got) {
			port_wait(p, 10);
			idle++;
		}
	}
	fd_close(sfd);
	return seen;
}

/*
 * The receive side holds what arrives while the worker does not read:
 * by default 8192 frames on a single-queue interface (more than a
 * container's TCP window of MSS-sized frames: the fill ring must not run
 * dry under it), rx_frames=N of them when given; the kernel drops the
 * rest and describe() says so.  The default splits between the queues.
 */
static void test_rx_frames(void **state)
{
	char err[256], desc[512];
	struct port *p;
	unsigned got;

	p = port_new(err, sizeof(err), "ifname=" IF_PORT1, NULL);
	assert_non_null(p);
	p->ops->describe(p, desc, sizeof(desc));
	print_message("describe: %s\n", desc);
	assert_non_null(strstr(desc, ", 8192 rx frames, "));
	got = backlog_send_drain(p, 6000);
	p->ops->describe(p, desc, sizeof(desc));
	print_message("6000 sent unread, %u received: %s\n", got, desc);
	assert_int_equal(got, 6000);
	assert_null(strstr(desc, "fill_empty"));
	port_del(p);

	p = port_new(err, sizeof(err), "ifname=" IF_PORT1, "rx_frames=1024", NULL);
	assert_non_null(p);
	got = backlog_send_drain(p, 1500);
	p->ops->describe(p, desc, sizeof(desc));
	print_message("rx_frames=1024, 1500 sent unread, %u received: %s\n", got, desc);
	assert_int_equal(got, 1024);
	assert_non_null(strstr(desc, ", 1024 rx frames, "));
	assert_non_null(strstr(desc, "; kernel: rx_dropped 476, rx_ring_full 0, fill_empty 476"));
	/* Drained, it takes frames again. */
	assert_int_equal(backlog_send_drain(p, 1000), 1000);
	port_del(p);

	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, ", 2048 rx frames per queue, "));
	port_del(p);
	p = port_new(err, sizeof(err), "ifname=" IF_PORT, "rx_frames=256", NULL);
	assert_non_null(p);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, ", 256 rx frames per queue, "));
	port_del(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_every_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_restricts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queues_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_full_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_device_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_frames, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
