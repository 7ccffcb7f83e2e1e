/* test_port_afxdp.c - unit tests of the AF_XDP port against a real veth pair in a network namespace of its own. */

/*
 * The test process moves itself into a fresh network namespace
 * (unshare(CLONE_NEWNET), so it needs root, as CI has) and makes a veth
 * pair there:
 *
 *   AF_PACKET socket --> vsw-ut1 ==veth==> vsw-ut0 --XDP--> afxdp port --rx_burst--> test
 *   AF_PACKET socket <-- vsw-ut1 <==veth== vsw-ut0 <--sendto-- afxdp port <--tx_burst-- test
 *
 * The port is driven the way a worker drives it (rx_burst, rx_done,
 * tx_burst, rx_arm).  When the namespace or the pair cannot be made, every
 * test is skipped with the reason; the namespace, the pair and the XDP
 * program vanish with the process.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_packet.h>
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
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "dp/dp.h"
#include "port/port_afxdp.h"
#include "../lib/veth_ns.h"

#define IF_PORT "vsw-ut0"	/* the port attaches here */
#define IF_PEER "vsw-ut1"	/* the test sends and receives here */
#define ETH_RX_TEST 0x88b5	/* local experimental ethertypes: nothing else sends them */
#define ETH_TX_TEST 0x88b6

static bool net_ready;
static char net_why[256];

/* ---- helpers ---- */

static int group_setup(void **state)
{
	net_ready = veth_ns_up(IF_PORT, IF_PEER, 2, net_why, sizeof(net_why));
	return 0;
}

#define NEED_NET()                                                        \
	do {                                                              \
		if (!net_ready) {                                         \
			print_message("skipped: %s\n", net_why);          \
			skip();                                           \
		}                                                         \
	} while (0)

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
	if (p)
		p->id = 3;
	return p;
}

static int packet_socket(uint16_t ethertype)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ethertype) };
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ethertype));

	assert_true(fd >= 0);
	sll.sll_ifindex = (int)if_nametoindex(IF_PEER);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void peer_send(int fd, const void *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(IF_PEER), .sll_halen = 6 };

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

/* Wait for a frame of @ethertype on the port; copy it to @out.  Returns its length, 0 on timeout. */
static size_t port_receive(struct port *p, struct dp_ctx *ctx, uint16_t ethertype, uint8_t *out, size_t cap)
{
	struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };

	for (int tries = 0; tries < 100; tries++) {
		unsigned n = p->ops->rx_burst(p, 0, ctx, ctx->pkts, PKT_BURST);
		size_t got = 0;

		for (unsigned i = 0; i < n && !got; i++) {
			struct pkt *pk = &ctx->pkts[i];
			uint16_t t;

			memcpy(&t, pk->eth + 12, 2);
			assert_int_equal(pk->in_port, 3);
			assert_int_equal(pk->niov, 1);
			assert_int_equal(pk->iov[0].iov_len, pk->len);
			assert_memory_equal(pk->eth, pk->iov[0].iov_base, 14);
			if (ntohs(t) == ethertype && pk->len <= cap) {
				memcpy(out, pk->iov[0].iov_base, pk->len);
				got = pk->len;
			}
		}
		p->ops->rx_done(p, 0, ctx);
		if (got)
			return got;
		if (!n)
			poll(&pfd, 1, 10);
	}
	return 0;
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

/* Create and destroy leave no fd and no XDP program behind; an immediate re-create waits for the queue. */
static void test_create_destroy(void **state)
{
	char err[256], desc[256];
	int fds;

	NEED_NET();
	fds = count_fds();
	for (int i = 0; i < 3; i++) {
		struct port *p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);

		assert_non_null(p);
		assert_string_equal(err, "");
		assert_int_equal(p->ops->rx_queues(p), 1);
		assert_true(p->ops->rx_fd(p, 0) >= 0);
		assert_int_not_equal(xdp_prog_id(IF_PORT), 0);
		p->ops->describe(p, desc, sizeof(desc));
		print_message("describe: %s\n", desc);
		assert_non_null(strstr(desc, IF_PORT " queue 0, XDP "));
		assert_true(strstr(desc, "copy mode") || strstr(desc, "zero-copy"));
		p->ops->destroy(p);
		assert_int_equal(xdp_prog_id(IF_PORT), 0);
	}
	assert_int_equal(count_fds(), fds);
}

/* Every refusal is one line naming the interface, and leaks nothing. */
static void test_errors(void **state)
{
	char err[256];
	struct port *p;
	int fds;

	NEED_NET();
	fds = count_fds();
	assert_null(port_new(err, sizeof(err), "queue=0", NULL));
	assert_non_null(strstr(err, "ifname"));
	assert_null(port_new(err, sizeof(err), "ifname=vsw-nosuch0", NULL));
	assert_string_equal(err, "afxdp vsw-nosuch0: no such interface");
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "mode=fast", NULL));
	assert_non_null(strstr(err, "mode must be"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=7", NULL));
	assert_non_null(strstr(err, "queue 7"));
	assert_null(port_new(err, sizeof(err), "ifname=lo", "mode=native", NULL));
	assert_non_null(strstr(err, "afxdp lo: XDP native mode not supported"));
	assert_non_null(strstr(err, "try mode=skb"));
	/* veth has no zero-copy support; a driver that had it would simply give us a port. */
	p = port_new(err, sizeof(err), "ifname=" IF_PORT, "zerocopy=on", NULL);
	if (p)
		p->ops->destroy(p);
	else
		assert_non_null(strstr(err, "zero-copy not supported"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(xdp_prog_id(IF_PORT), 0);
	assert_int_equal(xdp_prog_id("lo"), 0);
	assert_int_equal(count_fds(), fds);
}

/* Ports on two queues of one interface share its program; the last one out detaches it. */
static void test_two_queues(void **state)
{
	char err[256];
	struct port *p0, *p1;

	NEED_NET();
	p0 = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=0", "mode=native", NULL);
	assert_non_null(p0);
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=0", NULL));
	assert_non_null(strstr(err, "queue 0 is already bound"));
	assert_null(port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=1", "mode=skb", NULL));
	assert_non_null(strstr(err, "already runs in native mode"));
	p1 = port_new(err, sizeof(err), "ifname=" IF_PORT, "queue=1", NULL);
	assert_non_null(p1);
	p0->ops->destroy(p0);
	assert_int_not_equal(xdp_prog_id(IF_PORT), 0);
	p1->ops->destroy(p1);
	assert_int_equal(xdp_prog_id(IF_PORT), 0);
}

/* A frame the peer sends comes out of rx_burst intact, with the fd and rx_arm telling when. */
static void test_rx(void **state)
{
	uint8_t frame[1500], got[1500];
	struct dp_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[256];
	struct port *p;
	int sfd;

	NEED_NET();
	for (int mode = 0; mode < 2; mode++) {
		p = port_new(err, sizeof(err), "ifname=" IF_PORT, mode ? "mode=skb" : "mode=native", NULL);
		assert_non_null(p);
		sfd = packet_socket(ETH_RX_TEST);
		/* Nothing waiting: arming reports nothing. */
		while (p->ops->rx_burst(p, 0, ctx, ctx->pkts, PKT_BURST))
			p->ops->rx_done(p, 0, ctx);
		p->ops->rx_done(p, 0, ctx);
		assert_false(p->ops->rx_arm(p, 0));
		for (size_t len = 60; len <= 1500; len += 720) {
			struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };

			peer_send(sfd, frame, make_frame(frame, ETH_RX_TEST, len, (uint8_t)len));
			assert_int_equal(poll(&pfd, 1, 1000), 1);
			assert_true(p->ops->rx_arm(p, 0));
			memset(got, 0, sizeof(got));
			assert_int_equal(port_receive(p, ctx, ETH_RX_TEST, got, sizeof(got)), len);
			assert_memory_equal(got, frame, len);
		}
		assert_true(atomic_load(&p->stats.rx_packets) >= 3);
		close(sfd);
		p->ops->destroy(p);
	}
	free(ctx);
}

/* tx_burst puts frames on the wire once each; too big ones are counted, not sent. */
static void test_tx(void **state)
{
	uint8_t frames[3][2000], got[2100];
	struct iovec iov[3][2];
	struct pkt pkts[3];
	struct pkt *list[3] = { &pkts[0], &pkts[1], &pkts[2] };
	struct dp_ctx *ctx = calloc(1, sizeof(*ctx));
	size_t lens[3] = { 60, 1514, 1600 }; /* the last is larger than MTU 1500 + 18 */
	char err[256];
	struct port *p;
	int rfd;

	NEED_NET();
	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	rfd = packet_socket(ETH_TX_TEST);
	for (int i = 0; i < 3; i++) {
		make_frame(frames[i], ETH_TX_TEST, lens[i], (uint8_t)(i * 40));
		/* Two iovecs per frame: the port must gather them. */
		iov[i][0] = (struct iovec){ frames[i], 20 };
		iov[i][1] = (struct iovec){ frames[i] + 20, lens[i] - 20 };
		pkts[i] = (struct pkt){ .iov = iov[i], .niov = 2, .len = (uint32_t)lens[i] };
		memcpy(pkts[i].eth, frames[i], 14);
	}
	p->ops->tx_burst(p, ctx, list, 3);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		do
			n = recvfrom(rfd, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
		while (n > 0 && from.sll_pkttype == PACKET_OUTGOING);
		assert_int_equal(n, lens[i]);
		assert_memory_equal(got, frames[i], lens[i]);
	}
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	assert_int_equal(atomic_load(&p->stats.tx_bytes), 60 + 1514);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_TOO_BIG]), 1);
	/* Many bursts: the transmit frames come back through the completion ring. */
	for (int b = 0; b < 200; b++)
		p->ops->tx_burst(p, ctx, list, 2);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), 0);
	close(rfd);
	p->ops->destroy(p);
	free(ctx);
}

/*
 * A whole burst leaves in the tx_burst that placed it: copy mode's sendto()
 * sends at most 32 frames per call, and nothing else (no tick here) would
 * kick the rest out.
 */
static void test_tx_full_burst(void **state)
{
	static uint8_t frames[PKT_BURST][64];
	static struct iovec iov[PKT_BURST];
	static struct pkt pkts[PKT_BURST];
	struct pkt *list[PKT_BURST];
	struct dp_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[256];
	struct port *p;
	unsigned seen = 0;
	int rfd;

	NEED_NET();
	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	rfd = packet_socket(ETH_TX_TEST);
	for (unsigned i = 0; i < PKT_BURST; i++) {
		make_frame(frames[i], ETH_TX_TEST, 60, (uint8_t)i);
		iov[i] = (struct iovec){ frames[i], 60 };
		pkts[i] = (struct pkt){ .iov = &iov[i], .niov = 1, .len = 60 };
		memcpy(pkts[i].eth, frames[i], 14);
		list[i] = &pkts[i];
	}
	for (int round = 0; round < 3; round++) {
		p->ops->tx_burst(p, ctx, list, PKT_BURST);
		for (unsigned i = 0; i < PKT_BURST; i++) {
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);
			uint8_t got[128];
			ssize_t n;

			do
				n = recvfrom(rfd, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
			while (n > 0 && from.sll_pkttype == PACKET_OUTGOING);
			if (n != 60)
				fail_msg("round %d: frame %u of %u never left (recvfrom %zd)", round, i, PKT_BURST, n);
			seen++;
		}
	}
	assert_int_equal(seen, 3 * PKT_BURST);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 3 * PKT_BURST);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), 0);
	close(rfd);
	p->ops->destroy(p);
	free(ctx);
}

/* A TCP checksum the sender left partial is completed; a full one is left alone. */
static void test_rx_checksum(void **state)
{
	uint8_t frame[200], got[200];
	struct dp_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[256];
	struct port *p;
	size_t len;
	int sfd;

	NEED_NET();
	p = port_new(err, sizeof(err), "ifname=" IF_PORT, NULL);
	assert_non_null(p);
	sfd = packet_socket(0x0800);

	len = make_tcp(frame, 33, 0);
	frame[50] = tcp_pseudo(frame) >> 8;
	frame[51] = (uint8_t)tcp_pseudo(frame);
	assert_false(tcp_checksum_ok(frame, len));
	peer_send(sfd, frame, len);
	assert_int_equal(port_receive(p, ctx, 0x0800, got, sizeof(got)), len);
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
	peer_send(sfd, frame, len);
	assert_int_equal(port_receive(p, ctx, 0x0800, got, sizeof(got)), len);
	assert_memory_equal(got, frame, len);

	close(sfd);
	p->ops->destroy(p);
	free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_two_queues),     cmocka_unit_test(test_rx),
		cmocka_unit_test(test_tx),	       cmocka_unit_test(test_tx_full_burst),
		cmocka_unit_test(test_rx_checksum),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
