/* test_port_afpacket.c - the AF_PACKET port against a real veth pair in a network namespace of its own. */

/*
 *   AF_PACKET socket --> vsw-up1 ==veth==> vsw-up0 --TPACKET_V2 ring--> afpacket port (not polled)
 *
 * Frames the kernel drops because the port's ring is full never reach the
 * switch; they must still be visible (vswctl show: describe()).  A TSO
 * frame with a partial checksum, as a container's stack sends it, comes in
 * whole with its request and goes out whole with it.  Needs root for the
 * namespace; fails with the reason otherwise.
 */

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <json-c/json.h>

#include "../lib/gso_ref.h"
#include "../lib/veth_ns.h"
#include "../lib/zalloc.h"
#include "packet/vnet_hdr.h"
#include "port/port.h"
#include "port/port_afpacket.h"

#define IF_PORT "vsw-up0"
#define IF_PEER "vsw-up1"
#define ETH_TEST 0x88b5		/* local experimental ethertype */
#define FLOOD 8000		/* 1514-byte frames: more than the 8 x 1 MiB ring holds */

static bool net_ready;
static char net_why[256];

static int group_setup(void **state)
{
	net_ready = veth_ns_up(IF_PORT, IF_PEER, 1, net_why, sizeof(net_why));
	return 0;
}

/* Frames the kernel could not put in the ring are counted and shown; none before. */
static void test_kernel_drops_shown(void **state)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	unsigned long long dropped = 0, total = 0;
	uint8_t frame[1514] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, ETH_TEST >> 8, ETH_TEST & 0xff };
	char err[256], state_line[300];
	const char *k;
	struct port *p;
	int fd;

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	json_object_object_add(o, "ifname", json_object_new_string(IF_PORT));
	p = port_afpacket_create("k0", o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("port_afpacket_create: %s", err);
	p->ops->tick(p);
	p->ops->describe(p, state_line, sizeof(state_line));
	assert_null(strstr(state_line, "kernel:"));

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));
	assert_true(fd >= 0);
	sll.sll_ifindex = (int)if_nametoindex(IF_PEER);
	for (int i = 0; i < FLOOD; i++)
		assert_int_equal(sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)),
				 (ssize_t)sizeof(frame));
	close(fd);

	p->ops->tick(p);
	p->ops->describe(p, state_line, sizeof(state_line));
	k = strstr(state_line, "kernel: ring full, ");
	if (!k || sscanf(k, "kernel: ring full, %llu of %llu frames dropped", &dropped, &total) != 2)
		fail_msg("no kernel drops in \"%s\"", state_line);
	print_message("%s\n", state_line);
	/*
	 * Each frame that reached the socket was put in the ring or dropped
	 * (veth may itself drop a few under the flood, before the socket).
	 */
	assert_true(total >= FLOOD / 2 && total <= FLOOD);
	assert_true(dropped > 0 && dropped < total);
	p->ops->destroy(p);
}

/*
 * Tagged frame @frame (@len bytes, TCI @tci at bytes 14-15) sent from the
 * peer reaches port @name's switch side whole, with its tag; @p's describe
 * line into @line (@linelen) before the port goes.
 */
static void tag_kept(const char *name, const uint8_t *frame, size_t len, uint16_t tci, char *line, size_t linelen)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	struct port_io io = { 0 };
	uint8_t *got = malloc(len + 8);
	struct pkt *pkts = zalloc64(PKT_BURST * sizeof(*pkts));
	unsigned n = 0;
	char err[256];
	struct port *p;
	int fd;

	assert_non_null(got);
	json_object_object_add(o, "ifname", json_object_new_string(IF_PORT));
	p = port_afpacket_create(name, o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("port_afpacket_create: %s", err);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sll.sll_ifindex = (int)if_nametoindex(IF_PEER);
	assert_int_equal(sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)), (ssize_t)len);
	close(fd);
	/* The ring hands a frame over at once; 2 s at most. */
	for (int tries = 0; tries < 2000 && !n; tries++) {
		n = p->ops->rx_burst(p, 0, &io, pkts, PKT_BURST);
		if (!n) {
			p->ops->rx_done(p, 0, &io);
			usleep(1000);
		}
	}
	assert_int_equal(n, 1);
	pkt_load(&pkts[0]);
	assert_int_equal(pkts[0].len, len);
	assert_int_equal(pkt_to_buf(&pkts[0], got, len + 8), len);
	assert_memory_equal(got, frame, len);
	assert_true(pkts[0].flags & PKT_F_VLAN);
	assert_int_equal(pkts[0].vlan_tci, tci);
	p->ops->rx_done(p, 0, &io);
	p->ops->describe(p, line, linelen);
	p->ops->destroy(p);
	free(pkts);
	free(got);
}

/* A tagged frame reaches the switch with its tag, which the kernel gives a packet socket apart (tp_vlan_tci). */
static void test_vlan_tag_kept(void **state)
{
	uint8_t frame[100] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x81, 0x00, 0xa0, 0x0a,
			       ETH_TEST >> 8, ETH_TEST & 0xff };
	char line[300];

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	for (size_t i = 18; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	tag_kept("v0", frame, sizeof(frame), 0xa00a, line, sizeof(line));
}

/*
 * A tagged frame longer than a ring slot (a jumbo frame: it comes whole
 * through recvmsg(), its tag in PACKET_AUXDATA) reaches the switch whole,
 * with its tag, and the port says it took that path.
 */
static void test_vlan_tag_kept_long(void **state)
{
	static uint8_t frame[6000] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x81, 0x00, 0x20, 0x07,
				       ETH_TEST >> 8, ETH_TEST & 0xff };
	char line[300];

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	assert_int_equal(veth_ns_run("ip link set " IF_PORT " mtu 9000 && ip link set " IF_PEER " mtu 9000"), 0);
	for (size_t i = 18; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	tag_kept("j0", frame, sizeof(frame), 0x2007, line, sizeof(line));
	assert_non_null(strstr(line, "; 1 longer frames by recvmsg)"));
	assert_int_equal(veth_ns_run("ip link set " IF_PORT " mtu 1500 && ip link set " IF_PEER " mtu 1500"), 0);
}

/*
 * A lone small frame reaches the switch at once, not when a ring block
 * fills or times out (TPACKET_V3 held each for up to 1 ms, so a TCP ACK
 * or a ping waited that long each way): each of ten frames sent one at a
 * time is there within PROMPT_US.
 */
#define PROMPT_US 300
static void test_lone_frame_prompt(void **state)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	struct port_io io = { 0 };
	uint8_t frame[64] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, ETH_TEST >> 8, ETH_TEST & 0xff };
	struct pkt *pkts = zalloc64(PKT_BURST * sizeof(*pkts));
	unsigned late = 0;
	char err[256];
	struct port *p;
	int fd;

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	json_object_object_add(o, "ifname", json_object_new_string(IF_PORT));
	p = port_afpacket_create("l0", o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("port_afpacket_create: %s", err);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sll.sll_ifindex = (int)if_nametoindex(IF_PEER);
	for (int i = 0; i < 10; i++) {
		struct timespec t0, t;
		unsigned n = 0;
		long us = 0;

		usleep(2000); /* apart from the previous frame by more than a block's timer */
		frame[20] = (uint8_t)i;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)),
				 (ssize_t)sizeof(frame));
		while (!n && us < 100000) {
			n = p->ops->rx_burst(p, 0, &io, pkts, PKT_BURST);
			if (!n)
				p->ops->rx_done(p, 0, &io);
			clock_gettime(CLOCK_MONOTONIC, &t);
			us = (t.tv_sec - t0.tv_sec) * 1000000 + (t.tv_nsec - t0.tv_nsec) / 1000;
		}
		assert_int_equal(n, 1);
		pkt_load(&pkts[0]);
		assert_int_equal(pkt_head(&pkts[0])[20], i);
		p->ops->rx_done(p, 0, &io);
		late += us > PROMPT_US;
	}
	close(fd);
	/* One late frame is a busy machine's; a ring that batches is late every time. */
	assert_true(late <= 1);
	p->ops->destroy(p);
	free(pkts);
}

/* A PACKET_VNET_HDR socket on the peer end, bound to it, not seeing its own frames. */
static int vnet_socket(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(0x0800) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x0800)), one = 1;

	assert_true(fd >= 0);
	sll.sll_ifindex = (int)if_nametoindex(IF_PEER);
	assert_int_equal(setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	assert_int_equal(setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* A 20 KB TSO frame in and out whole: the request is the packet's, then the header's again. */
static void test_gso_whole_both_ways(void **state)
{
	static uint8_t frame[20000], back[VNET_HDR_LEN + 65536];
	struct json_object *o = json_object_new_object();
	struct pkt *pkts = zalloc64(sizeof(struct pkt) * PKT_BURST);
	struct port_env env = { 0 };
	struct port_io io = { 0 };
	struct vnet_info vi = { .flags = VNET_NEEDS_CSUM, .gso = VNET_GSO_TCPV4, .gso_size = 1000 }, got;
	struct ref_geom g;
	size_t len = ref_frame(frame, &g, false, false, false, 0, 12, 0x18, 20000 - 66, 11);
	uint8_t hdr[VNET_HDR_LEN];
	struct iovec out[2] = { { hdr, sizeof(hdr) }, { frame, len } };
	struct pkt *pp;
	unsigned n = 0;
	char err[256];
	struct port *p;
	ssize_t r;
	int fd;

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	json_object_object_add(o, "ifname", json_object_new_string(IF_PORT));
	p = port_afpacket_create("g0", o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("port_afpacket_create: %s", err);
	assert_int_equal(atomic_load(&p->tx_offload), GSO_TX_ALL);
	fd = vnet_socket();
	vi.hdr_len = (uint16_t)g.hdr;
	vi.csum_start = (uint16_t)g.l4;
	vi.csum_offset = 16;
	vnet_hdr_build(hdr, &vi);
	assert_int_equal(writev(fd, out, 2), (ssize_t)(sizeof(hdr) + len));
	for (int t = 0; t < 1000 && !n; t++) {
		n = p->ops->rx_burst(p, 0, &io, pkts, PKT_BURST);
		if (!n)
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	assert_int_equal(n, 1);
	assert_int_equal(pkts[0].len, len);
	assert_int_equal(pkts[0].gso_type, VNET_GSO_TCPV4);
	assert_int_equal(pkts[0].gso_size, 1000);
	assert_int_equal(pkts[0].csum, PKT_CSUM_PARTIAL);
	assert_int_equal(pkts[0].csum_start, g.l4);
	assert_int_equal(pkts[0].csum_offset, 16);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_BAD_HEADER]), 0);

	/* Out again, as the switch hands it over (its head loaded by the parse stage). */
	pkt_load(&pkts[0]);
	pp = &pkts[0];
	p->ops->tx_burst(p, &io, &pp, 1);
	p->ops->rx_done(p, 0, &io);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 1);
	assert_true(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 1000) == 1);
	r = recv(fd, back, sizeof(back), 0);
	assert_int_equal(r, (ssize_t)(VNET_HDR_LEN + len));
	assert_int_equal(vnet_hdr_parse(back, len, VNET_ACCEPT_CSUM | VNET_ACCEPT_DATA_VALID | VNET_ACCEPT_TSO4, &got),
			 VNET_OK);
	assert_int_equal(got.gso, VNET_GSO_TCPV4);
	assert_int_equal(got.gso_size, 1000);
	assert_true(got.flags & VNET_NEEDS_CSUM);
	assert_int_equal(got.csum_start, g.l4);
	/* The bytes as sent but the checksum field, which the kernel may have left as it was or completed. */
	memcpy(back + VNET_HDR_LEN + g.l4 + 16, frame + g.l4 + 16, 2);
	assert_memory_equal(back + VNET_HDR_LEN, frame, len);
	close(fd);
	p->ops->destroy(p);
	free(pkts);
}

/*
 * A burst the peer has not consumed yet is sent whole, not cut short.  A
 * frame we send stays charged to the port's socket until the kernel is
 * done with it: here a slow qdisc (tbf, 1 Mbit/s) on the port's interface
 * holds them, as a busy CPU's backlog holds them on their way into a
 * container.  With the default send buffer (208 KiB) sendmmsg() refused
 * the rest of a burst of 9000-byte frames and the port dropped them
 * (no_rx_buffer): a container's TCP segments lost by the switch.
 */
#define HELD_LEN 9000
static void test_tx_burst_held_by_peer(void **state)
{
	static uint8_t frames[PKT_BURST][HELD_LEN];
	struct json_object *o = json_object_new_object();
	struct pkt *pkts = zalloc64(PKT_BURST * sizeof(*pkts));
	struct pkt *pp[PKT_BURST];
	struct iovec iov[PKT_BURST];
	struct port_env env = { 0 };
	struct port_io io = { 0 };
	char err[256];
	struct port *p;

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	assert_int_equal(veth_ns_run("ip link set " IF_PORT " mtu 9000 && ip link set " IF_PEER " mtu 9000 && "
				     "tc qdisc replace dev " IF_PORT " root tbf rate 1mbit burst 10k limit 10000000"), 0);
	json_object_object_add(o, "ifname", json_object_new_string(IF_PORT));
	p = port_afpacket_create("h0", o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("port_afpacket_create: %s", err);
	for (unsigned i = 0; i < PKT_BURST; i++) {
		static const uint8_t eth[14] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01,
						 ETH_TEST >> 8, ETH_TEST & 0xff };

		memcpy(frames[i], eth, sizeof(eth));
		memset(frames[i] + sizeof(eth), (int)i, HELD_LEN - sizeof(eth));
		iov[i] = (struct iovec){ frames[i], HELD_LEN };
		pkt_rx_init(&pkts[i], &iov[i], 1, HELD_LEN, 1);
		pkt_load(&pkts[i]);
		pp[i] = &pkts[i];
	}
	/* 64 x 9000 bytes: about 600 KiB of frames the qdisc holds for seconds. */
	p->ops->tx_burst(p, &io, pp, PKT_BURST);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_RX_BUFFER]), 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), PKT_BURST);
	p->ops->destroy(p);
	assert_int_equal(veth_ns_run("tc qdisc del dev " IF_PORT " root && ip link set " IF_PORT " mtu 1500 && "
				     "ip link set " IF_PEER " mtu 1500"), 0);
	free(pkts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_drops_shown),
		cmocka_unit_test(test_vlan_tag_kept),
		cmocka_unit_test(test_vlan_tag_kept_long),
		cmocka_unit_test(test_lone_frame_prompt),
		cmocka_unit_test(test_gso_whole_both_ways),
		cmocka_unit_test(test_tx_burst_held_by_peer),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
